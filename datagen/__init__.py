"""datagen: turns Sokoban and General Points puzzles into versioned Hugging Face datasets."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sft-myth-datagen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
