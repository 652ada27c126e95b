"""Seeds derived from names, the same in every process and on every machine.

`derive_seed(1234, "sokoban", "train", 17)` hashes its parts with SHA-256, so no two streams
share a seed by accident and nothing depends on `PYTHONHASHSEED` (the study's `hash(str(seed))`
retries differed per process).
"""

from __future__ import annotations

import hashlib
from random import Random


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any sequence of ints and strings."""
    text = "\x1f".join(f"{type(p).__name__}:{p}" for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def derive_rng(*parts: object) -> Random:
    return Random(derive_seed(*parts))
