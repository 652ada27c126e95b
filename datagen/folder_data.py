"""Reading a build folder's data files safely: parquet footers, rows, recorded digests.

    from datagen.folder_data import parquet_info, read_rows, check_digests
    parquet_info(path)    # {"num_examples", "num_bytes", "file_bytes"} from the footer
    read_rows(path, 3)    # the first rows as dicts

A truncated or foreign file, a file whose bytes differ from the sha256 that build.json recorded
(`build.json["files"]`), a missing or an extra data file: each is a `CardError` with one line that
names the file and says what to do, never a pyarrow traceback. `dataset_info_header` turns the
footers into the `dataset_info` entry of a card's YAML header, as Hub cards carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


class CardError(ValueError):
    """The folder cannot be described: no build.json, or build.json and data/ disagree."""


def _unreadable(path: Path, error: BaseException) -> CardError:
    reason = " ".join(str(error).split())[:200]
    return CardError(
        f"{path} is not a readable parquet file ({reason}); rebuild the folder (or pull it again)"
    )


def read_rows(path: Path, limit: int | None = None) -> list[dict]:
    """The rows of one parquet file (the first `limit`); CardError (one line) when the file is
    not readable parquet (truncated, not parquet)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, ValueError, pa.ArrowException) as error:
        raise _unreadable(path, error) from None
    return (table if limit is None else table.slice(0, limit)).to_pylist()


def parquet_info(path: Path) -> dict[str, int]:
    """{"num_examples", "num_bytes" (uncompressed), "file_bytes"} from a parquet footer;
    CardError (one line) for a file that is not readable parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except (OSError, ValueError, pa.ArrowException) as error:
        raise _unreadable(path, error) from None
    return {
        "num_examples": meta.num_rows,
        "num_bytes": sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)),
        "file_bytes": Path(path).stat().st_size,
    }


def check_digests(
    task_dir: Path, build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]
) -> None:
    """With `build.json["files"]` recorded: every file there, byte for byte, and no other."""
    recorded = build.get("files")
    if not isinstance(recorded, Mapping):
        return  # a hand-made folder or an older build: row counts are all there is to check
    from datagen.versioning import file_digest

    task_dir = Path(task_dir)
    present = {rel for splits in files.values() for paths in splits.values() for rel in paths}
    for rel, digest in recorded.items():
        if rel not in present:
            raise CardError(f"{task_dir}/{rel} is missing; rebuild the folder (or pull it again)")
        if file_digest(task_dir / rel) != digest:
            raise CardError(
                f"{task_dir}/{rel} is not the file this build wrote (its sha256 differs): "
                "rebuild the folder (or pull it again)"
            )
    extra = sorted(present - set(recorded))
    if extra:
        raise CardError(f"{task_dir}/{extra[0]} is not part of this build (build.json)")


def dataset_info_header(task_dir: Path, files: Mapping[str, Mapping[str, list[str]]]) -> list:
    """The `dataset_info` entry of the YAML header, as Hub cards carry it: per config (in the
    order of `files`) its splits (rows, uncompressed bytes), download and dataset size, read
    from the parquet footers. `datasets` checks the row counts on load and hashes them into
    its cache key."""
    infos = []
    for config, splits in files.items():
        entries, download = [], 0
        for split in splits:
            parts = [parquet_info(Path(task_dir) / rel) for rel in splits[split]]
            download += sum(p["file_bytes"] for p in parts)
            entries.append(
                {
                    "name": split,
                    "num_bytes": sum(p["num_bytes"] for p in parts),
                    "num_examples": sum(p["num_examples"] for p in parts),
                }
            )
        infos.append(
            {
                "config_name": config,
                "splits": entries,
                "download_size": download,
                "dataset_size": sum(e["num_bytes"] for e in entries),
            }
        )
    return infos
