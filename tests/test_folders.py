"""Output folders (datagen.folders): what may be replaced, staging, install, failed renames."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from datagen import folders


def _task(root: Path, name: str, rows: str = "rows") -> Path:
    task = root / name
    (task / "data").mkdir(parents=True)
    (task / "build.json").write_text("{}")
    (task / "data" / "x.parquet").write_text(rows)
    return task


def test_check_output_refuses_anything_but_our_task_folders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    folders.check_output(out, overwrite=False)  # absent: fine
    out.mkdir()
    (out / f"{folders.OWN_PREFIX}work").mkdir()  # a killed run's cache: still "empty"
    folders.check_output(out, overwrite=False)
    _task(out, "points")
    with pytest.raises(folders.FolderError, match="--overwrite"):
        folders.check_output(out, overwrite=False)
    folders.check_output(out, overwrite=True)
    (out / "points" / "notes.txt").write_text("mine")
    with pytest.raises(folders.FolderError, match=r"points/notes\.txt"):
        folders.check_output(out, overwrite=True)
    (out / "points" / "notes.txt").unlink()
    (out / "thesis.tex").write_text("mine")
    with pytest.raises(folders.FolderError, match="only a folder written by `datagen build`"):
        folders.check_output(out, overwrite=True)
    with pytest.raises(folders.FolderError, match="one task's folder"):
        folders.check_output(out / "points", overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(folders.FolderError, match="is a file"):
        folders.check_output(tmp_path / "file", overwrite=True)


def test_install_into_an_absent_an_empty_and_an_earlier_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    staging = folders.staging_dir(out)
    assert staging.parent == tmp_path  # beside an absent out
    _task(staging, "points", "first")
    folders.install(staging, out)
    assert (out / "points" / "data" / "x.parquet").read_text() == "first"
    assert not staging.exists()

    staging = folders.staging_dir(out)
    assert staging.parent == out  # inside an existing out: one file system
    _task(staging, "sokoban", "second")
    (out / f"{folders.OWN_PREFIX}work").mkdir()
    folders.install(staging, out)
    assert sorted(p.name for p in out.iterdir()) == [f"{folders.OWN_PREFIX}work", "sokoban"]
    assert (out / "sokoban" / "data" / "x.parquet").read_text() == "second"


@pytest.mark.parametrize("code", [errno.EBUSY, errno.EXDEV])
def test_a_failed_install_keeps_the_finished_work_and_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    # Test double: a real mount point needs a namespace (see test_build's bind-mount test);
    # here the rename into `out` fails the way it does on one.
    out = tmp_path / "out"
    _task(out, "points", "old")
    staging = folders.staging_dir(out)
    _task(staging, "points", "new")
    real = os.rename

    def rename(source, target):
        if Path(target).parent == out and Path(source).parent == staging:
            raise OSError(code, os.strerror(code))
        return real(source, target)

    monkeypatch.setattr(folders.os, "rename", rename)
    with pytest.raises(folders.FolderError, match=f"complete in {staging}"):
        folders.install(staging, out)
    assert (staging / "points" / "data" / "x.parquet").read_text() == "new"
    assert (out / "points" / "data" / "x.parquet").read_text() == "old"

    absent = tmp_path / "absent"
    beside = folders.staging_dir(absent)
    _task(beside, "points", "new")
    monkeypatch.setattr(
        folders.os, "rename", lambda s, t: (_ for _ in ()).throw(OSError(code, "x"))
    )
    with pytest.raises(folders.FolderError, match=f"complete in {beside}"):
        folders.install(beside, absent)
    assert (beside / "points" / "data" / "x.parquet").read_text() == "new"


def test_staging_in_a_place_that_cannot_be_written_is_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(folders.FolderError, match=r"cannot write to .*Read-only file system"):
        folders.staging_dir(tmp_path / "out")


def test_an_interrupted_install_is_not_cleaned_away(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _task(out / folders.OLD_NAME, "points", "earlier")  # a kill between the two moves
    staging = folders.staging_dir(out)
    _task(staging, "points", "new")
    with pytest.raises(folders.FolderError, match="interrupted install"):
        folders.install(staging, out)
    with pytest.raises(folders.FolderError, match="interrupted install"):
        folders.check_output(out, overwrite=True)  # refused before any work, too
    assert (out / folders.OLD_NAME / "points" / "data" / "x.parquet").read_text() == "earlier"
    assert (staging / "points" / "data" / "x.parquet").read_text() == "new"
