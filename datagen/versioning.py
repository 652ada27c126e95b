"""Version and fingerprint rules of the published datasets.

A dataset's version is the package's semantic version plus the fingerprint of the build:
``dataset_version("0.1.0", "3f2a9c0d1e2b4a56") == "0.1.0+3f2a9c0d1e2b4a56"`` (semver build
metadata). The fingerprint is the first 16 hex digits of the sha256 of the canonical JSON of the
resolved build options and of the sha256 of every data file (`file_digests`): it names the
content, so two builds with other rows (a sampling teacher, an edited file) never share it, and a
byte-identical rebuild gets the same one. Without files (hand-made folders) it covers the
options alone. A Hub release is the git tag ``v<X.Y.Z>``: by default the package version, or a
new version given to ``datagen push --version``.

Rules the rest of the package relies on:
- options are canonicalised before hashing: keys sorted, tuples as lists, paths as POSIX
  strings, sets sorted, dataclasses as dicts, enums by value; anything else that JSON cannot
  represent exactly (NaN, arbitrary objects) is an error rather than a silent ``str()``;
- keys in ``NON_DATA_OPTIONS`` (where the output goes, secrets, parallelism) are dropped at any
  depth, because they cannot change the rows and must not change the fingerprint;
- versions are plain ``X.Y.Z`` (no pre-release): they become tags that users type.

Run ``python -m datagen.versioning OPTIONS.json`` to print the fingerprint of an options file.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from typing import Any

FINGERPRINT_LENGTH = 16

# Options that say where and how fast a build runs, never what it contains. `api_key` is here
# so that a secret never influences (or leaks through) a published fingerprint.
NON_DATA_OPTIONS: frozenset[str] = frozenset(
    {"out", "overwrite", "cache_dir", "workers", "progress", "api_key", "verbose", "quiet"}
)

_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
_FINGERPRINT = re.compile(rf"[0-9a-f]{{{FINGERPRINT_LENGTH}}}")


def canonical(value: Any) -> Any:
    """Return `value` as plain JSON data (dict/list/str/int/float/bool/None), keys as strings.

    Raises TypeError for values with no exact JSON form and ValueError for NaN or infinity.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot fingerprint the non-finite number {value!r}")
        return value
    if isinstance(value, PurePath):
        return value.as_posix()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return canonical(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"option keys must be strings, got {key!r}")
            if str(key) in NON_DATA_OPTIONS:
                continue
            out[str(key)] = canonical(item)
        return out
    if isinstance(value, (set, frozenset)):
        items = [canonical(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    raise TypeError(f"cannot fingerprint a value of type {type(value).__name__}: {value!r}")


def canonical_json(options: Mapping[str, Any]) -> str:
    """The exact text that is hashed: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(
        canonical(options),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def fingerprint(options: Mapping[str, Any], files: Mapping[str, str] | None = None) -> str:
    """First 16 hex digits of the sha256 of the canonical JSON of the resolved build options,
    or, given the data files' digests ({relative path: sha256}), of {"options", "files"}."""
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a mapping, got {type(options).__name__}")
    if files is not None:
        if not isinstance(files, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise TypeError("files must map relative paths to sha256 hex digests")
        # NON_DATA_OPTIONS filtering must not touch file names: hash the options' canonical
        # form next to the files, not a merged mapping.
        text = json.dumps(
            {"files": dict(sorted(files.items())), "options": canonical(options)},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
    else:
        text = canonical_json(options)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def file_digest(path: Path) -> str:
    """sha256 hex digest of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(root: Path, paths: Iterable[str]) -> dict[str, str]:
    """{path relative to root (POSIX): sha256} for the given relative paths, sorted."""
    return {rel: file_digest(Path(root) / rel) for rel in sorted(paths)}


def is_fingerprint(text: str) -> bool:
    return isinstance(text, str) and _FINGERPRINT.fullmatch(text) is not None


def check_version(version: str) -> str:
    """Return `version` if it is a plain semantic version X.Y.Z, else raise ValueError."""
    if not isinstance(version, str) or _SEMVER.fullmatch(version) is None:
        raise ValueError(f"version must look like 1.2.3 (X.Y.Z, no leading zeros), got {version!r}")
    return version


def version_key(version: str) -> tuple[int, int, int]:
    """Sort key of an X.Y.Z version (numeric, so 0.10.0 > 0.9.0)."""
    major, minor, patch = check_version(version).split(".")
    return int(major), int(minor), int(patch)


def dataset_version(package_version: str, fingerprint: str) -> str:
    """``"X.Y.Z+<fingerprint>"``: the package version with the fingerprint as build metadata."""
    check_version(package_version)
    if not is_fingerprint(fingerprint):
        raise ValueError(
            f"fingerprint must be {FINGERPRINT_LENGTH} lowercase hex digits, got {fingerprint!r}"
        )
    return f"{package_version}+{fingerprint}"


def parse_dataset_version(text: str) -> tuple[str, str]:
    """Split ``"X.Y.Z+<fingerprint>"`` into (version, fingerprint); ValueError if malformed."""
    version, plus, fp = str(text).partition("+")
    if not plus:
        raise ValueError(f"dataset version must be X.Y.Z+<fingerprint>, got {text!r}")
    dataset_version(version, fp)  # validates both halves
    return version, fp


def tag_for(version: str) -> str:
    """The Hub tag of a release: ``"v" + X.Y.Z``."""
    return "v" + check_version(version)


def version_of_tag(tag: str) -> str | None:
    """X.Y.Z of a release tag ``vX.Y.Z``; None for any other ref name."""
    if tag.startswith("v") and _SEMVER.fullmatch(tag[1:]):
        return tag[1:]
    return None


def next_version(version: str, taken: Iterable[str] = ()) -> str:
    """The smallest patch release above `version` and above every X.Y.Z in `taken`.

    Used to suggest a version when a tag already exists with other content.
    """
    versions = [check_version(version), *(v for v in taken if _SEMVER.fullmatch(v))]
    major, minor, patch = max(versions, key=version_key).split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m datagen.versioning OPTIONS.json", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as handle:
        print(fingerprint(json.load(handle)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
