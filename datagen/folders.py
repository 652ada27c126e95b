"""Output folders written safely: what may be replaced, where to stage, how to install.

`datagen build --out` and `datagen pull --out` stage the new content in a folder of their own
and install it at the end, so that a killed command never leaves a folder that looks complete:

    staging = staging_dir(out)        # beside `out`, or inside it when `out` already exists
    ... write into staging ...
    install(staging, out)             # one rename, or entry by entry inside `out`

Staging inside an existing `out` keeps every rename on one file system: an empty mount point (a
Docker volume) cannot be renamed onto or away (EBUSY), and a sibling folder may sit on another
device (EXDEV). A failed install puts the old entries back, keeps the finished content where it
is and raises `FolderError` naming that place: finished work is never deleted.

Names that start with `.datagen-` inside an output folder are this tool's own (staging, the
entries being replaced, a work cache); `install` leaves them alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

OWN_PREFIX = ".datagen-"
STAGING_NAME = OWN_PREFIX + "partial"
OLD_NAME = OWN_PREFIX + "old"
# What `datagen build` and `datagen pull` put in a task folder: `--overwrite` replaces nothing else.
TASK_ENTRIES = frozenset(
    {
        "README.md",
        "build.json",
        "run.json",
        "rejected.jsonl",
        "audit.json",
        "data",
        "figures",
        ".cache",
    }
)


class FolderError(RuntimeError):
    """An output folder that cannot be written or replaced (one line that says what to do)."""


def own_entry(path: Path) -> bool:
    """True for the hidden entries this tool creates inside an output folder."""
    return path.name.startswith(OWN_PREFIX)


def foreign_entries(out: Path, ours: Callable[[Path], bool]) -> list[str]:
    """Names of the entries of `out` that are neither `ours` nor this tool's hidden ones."""
    return sorted(p.name for p in out.iterdir() if not own_entry(p) and not ours(p))


def is_empty(out: Path) -> bool:
    """An existing folder that holds nothing but this tool's hidden entries (a killed run's)."""
    return out.is_dir() and not foreign_entries(out, lambda _: False)


def check_output(out: Path, overwrite: bool) -> None:
    """Refuse an `--out` that holds anything but earlier task folders (those without overwrite).

    A task folder is a folder with `build.json` that holds only TASK_ENTRIES; anything else (a
    user's files) is named in the error, so that `--overwrite` never deletes it.
    """
    out = Path(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise FolderError(f"{out} is a file: --out takes a folder")
    check_not_interrupted(out)
    if is_empty(out):
        return
    if not overwrite:
        raise FolderError(f"{out} exists and is not empty; pass --overwrite to replace it")
    if (out / "build.json").is_file():
        raise FolderError(
            f"{out} is one task's folder (it holds build.json): give --out its parent folder"
        )
    foreign = []
    for entry in sorted(out.iterdir()):
        if own_entry(entry):
            continue
        if not (entry.is_dir() and (entry / "build.json").is_file()):
            foreign.append(entry.name)
            continue
        foreign += [f"{entry.name}/{p.name}" for p in entry.iterdir() if p.name not in TASK_ENTRIES]
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        raise FolderError(
            f"--overwrite replaces only a folder written by `datagen build`, and {out} also "
            f"holds {', '.join(sorted(foreign)[:5])}{more}: choose another --out or move those away"
        )


def check_not_interrupted(out: Path) -> None:
    """Refuse, before any work, a folder whose last install was killed halfway: its earlier
    content waits in `out/.datagen-old` and must not be deleted."""
    old = Path(out) / OLD_NAME
    if old.is_dir() and any(old.iterdir()):
        raise FolderError(
            f"{old} holds the content of an interrupted install: move it back into {out} or "
            "delete it, then run again"
        )


def work_dir(out: Path) -> Path:
    """The CoT cache of a build into `out`: `.<name>.work` beside it (it survives --overwrite),
    or `out/.datagen-work` where the parent cannot be written (a mount point's parent)."""
    out = Path(out)
    sibling = out.parent / f".{out.name}.work"
    if sibling.is_dir() or os.access(out.parent, os.W_OK):
        return sibling
    return out / f"{OWN_PREFIX}work"


def staging_dir(out: Path, sibling_name: str | None = None) -> Path:
    """A fresh, empty staging folder on the file system of `out`.

    Inside `out` when it exists (`out/.datagen-partial`), else beside it
    (`sibling_name`, default `.<name>.partial`). A stale one of a killed run is removed first.
    Raises FolderError when the place cannot be written (read-only, no permission).
    """
    out = Path(out)
    if out.is_dir():
        staging = out / STAGING_NAME
    else:
        staging = out.parent / (sibling_name or f".{out.name}.partial")
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    except OSError as error:
        raise FolderError(f"cannot write to {staging.parent}: {error.strerror or error}") from None
    return staging


def _move(source: Path, target: Path) -> None:
    os.rename(source, target)


def install(staging: Path, out: Path) -> None:
    """Make `out` hold what `staging` holds (its other entries are replaced), then drop staging.

    `out` absent: one rename. `out` present: its entries move to `out/.datagen-old`, the staged
    ones move in, the old ones are deleted. On failure everything moved is put back and
    FolderError says where the finished content is.
    """
    staging, out = Path(staging), Path(out)
    if not out.exists():
        try:
            _move(staging, out)
        except OSError as error:
            raise FolderError(_kept(staging, out, error)) from None
        return
    old = out / OLD_NAME
    if old.is_dir() and any(old.iterdir()):
        raise FolderError(
            f"{old} holds the content of an interrupted install: move it back into {out} or "
            f"delete it; the finished output is complete in {staging}"
        )
    shutil.rmtree(old, ignore_errors=True)
    moved_old: list[str] = []
    moved_new: list[str] = []
    try:
        old.mkdir()
        for entry in sorted(p for p in out.iterdir() if not own_entry(p)):
            _move(entry, old / entry.name)
            moved_old.append(entry.name)
        for entry in sorted(staging.iterdir()):
            _move(entry, out / entry.name)
            moved_new.append(entry.name)
    except OSError as error:
        for name in moved_new:  # best effort: the finished content back to staging ...
            with contextlib.suppress(OSError):
                _move(out / name, staging / name)
        for name in moved_old:  # ... and what was there back in place
            with contextlib.suppress(OSError):
                _move(old / name, out / name)
        message = _kept(staging, out, error)
        if old.is_dir() and any(old.iterdir()):
            message += f"; the earlier content is in {old}"
        else:
            shutil.rmtree(old, ignore_errors=True)
        raise FolderError(message) from None
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def _kept(staging: Path, out: Path, error: OSError) -> str:
    reason = error.strerror or str(error)
    return (
        f"could not move the finished output into {out} ({reason}); it is complete in "
        f"{staging}: move its contents there yourself"
    )
