"""Level collections: XSB / Boxoban files (or a folder of them) read into numbered levels.

A collection file holds levels separated by blank lines; `;` lines are comments, and the one
right before a level is its title (Boxoban's `; 17`). `Key: value` lines (the SOK format's
Title:, Author:) are metadata and also separate levels. A folder is read recursively, files
ending in .txt, .xsb or .sok in sorted path order. Nothing is dropped silently: a level that does
not parse or is over the solvers' size limits becomes a one-line error naming the file, the
level's 0-based number in it and its title, and the other levels are still used; a file that is
not UTF-8 text is one error too. An empty result raises `CollectionError`.

    collection = read_collection(Path("../shared/data/boxoban/medium"))
    collection.entries[0].level, collection.errors, collection.sha256
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from solvers.sokoban.level import Level, LevelError
from solvers.sokoban.limits import MAX_SIDE, check_size

SUFFIXES = (".txt", ".xsb", ".sok")
_METADATA = re.compile(r"[A-Za-z][A-Za-z ]{0,30}:")
MAX_FILE_BYTES = 256 * 2**20  # one Boxoban file is ~120 kB; refuse anything absurd up front


class CollectionError(ValueError):
    """Nothing usable in a collection (the message is one line)."""


@dataclass(frozen=True)
class Entry:
    """One level of a collection: where it came from and the parsed level."""

    source: str  # file path relative to the collection root ("" for a single file: its name)
    number: int  # 0-based position among the file's levels
    title: str | None
    level: Level

    @property
    def where(self) -> str:
        title = f" (; {self.title})" if self.title else ""
        return f"{self.source} level {self.number}{title}"


@dataclass(frozen=True)
class Collection:
    root: str
    files: tuple[str, ...]
    entries: tuple[Entry, ...]
    errors: tuple[str, ...]  # one line each: which level and what is wrong
    sha256: str  # of the files' names and bytes, in order: what the levels were


def read_collection(path: Path) -> Collection:
    """Every level of a file or folder; raises CollectionError when none is usable."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        names = [p.relative_to(path).as_posix() for p in files]
        if not files:
            raise CollectionError(f"{path}: no level files ({', '.join(SUFFIXES)}) in the folder")
    elif path.is_file():
        files, names = [path], [path.name]
    else:
        raise CollectionError(f"{path}: no such file or folder")
    digest = hashlib.sha256()
    entries: list[Entry] = []
    errors: list[str] = []
    for file, name in zip(files, names, strict=True):
        if file.stat().st_size > MAX_FILE_BYTES:
            errors.append(f"{name}: larger than {MAX_FILE_BYTES >> 20} MB, not read")
            continue
        data = file.read_bytes()
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            errors.append(f"{name}: not UTF-8 text (byte {exc.start})")
            continue
        file_entries, file_errors = parse_collection(text, name)
        entries.extend(file_entries)
        errors.extend(file_errors)
    if not entries:
        why = f"; {len(errors)} error(s), the first: {errors[0]}" if errors else ""
        raise CollectionError(f"{path}: no usable level{why}")
    return Collection(str(path), tuple(names), tuple(entries), tuple(errors), digest.hexdigest())


def parse_collection(text: str, source: str) -> tuple[list[Entry], list[str]]:
    """(levels, one-line errors) of one collection text."""
    entries: list[Entry] = []
    errors: list[str] = []
    for number, (title, block) in enumerate(_blocks(text)):
        where = f"{source} level {number}" + (f" (; {title})" if title else "")
        rows = block.split("\n")
        width = max(len(row.rstrip()) for row in rows)
        if len(rows) > MAX_SIDE or width > MAX_SIDE:  # refused before parsing
            errors.append(f"{where}: level too large: {len(rows)}x{width} (at most {MAX_SIDE})")
            continue
        try:
            level = Level.parse(block)
            check_size(level)
        except LevelError as exc:
            errors.append(f"{where}: {exc}")
            continue
        entries.append(Entry(source, number, title, level))
    return entries, errors


def _blocks(text: str) -> list[tuple[str | None, str]]:
    """(title, grid text) per level: grid lines between separators."""
    blocks: list[tuple[str | None, str]] = []
    current: list[str] = []
    title: str | None = None
    pending: str | None = None
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        stripped = line.strip()
        separator = not stripped or stripped.startswith(";") or _METADATA.match(stripped)
        if separator:
            if current:
                blocks.append((title, "\n".join(current)))
                current = []
            if stripped.startswith(";"):
                pending = stripped[1:].strip()[:80] or None
            continue
        if not current:
            title, pending = pending, None
        current.append(line)
    if current:
        blocks.append((title, "\n".join(current)))
    return blocks
