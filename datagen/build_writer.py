"""Writing one built task folder: its Parquet files, build.json, run.json, figures and card.

    info = write_task(build_task(config), Path("out/sokoban"))   # build.json's content

`write_parquet` also writes the rows of `datagen import`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from datagen import __version__

if TYPE_CHECKING:
    from datagen.build import TaskBuild

# Figures of one run, not of the data (a resumed build reuses samples, timings vary): they go to
# run.json so that build.json, like the parquet files, is byte-identical for the same options.
# The teacher's server URLs (redacted) and per-server counts say where it ran: run.json too.
VOLATILE = frozenset({"wall_seconds", "generated", "reused", "base_urls", "servers"})


def write_parquet(rows: list[dict], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path, compression="zstd", row_group_size=2048)


def _split_volatile(stats: dict) -> tuple[dict, dict]:
    """(stats without the VOLATILE figures, those figures), at any depth."""
    stable, volatile = {}, {}
    for key, value in stats.items():
        if key in VOLATILE:
            volatile[key] = value
        elif isinstance(value, dict):
            stable[key], inner = _split_volatile(value)
            if inner:
                volatile[key] = inner
        else:
            stable[key] = value
    return stable, volatile


def write_task(result: TaskBuild, task_dir: Path) -> dict:
    """Parquet files, build.json and the card of one task; returns build.json's content."""
    from datagen.cards import write_card
    from datagen.figures.cards import write_card_figures
    from datagen.stats import split_stats
    from datagen.versioning import dataset_version, file_digests, fingerprint

    config = result.config
    # An empty split has no schema to write (e.g. a teacher whose traces were all rejected).
    result.configs = {
        name: kept
        for name, splits in result.configs.items()
        if (kept := {split: rows for split, rows in splits.items() if rows})
    }
    for name, splits in result.configs.items():
        for split, rows in splits.items():
            write_parquet(rows, task_dir / "data" / name / f"{split}-00000-of-00001.parquet")
    if result.rejected:
        from teachers import write_jsonl

        write_jsonl(task_dir / "rejected.jsonl", result.rejected)
    options = config.data_options()
    # The fingerprint names the content: the options and the bytes of every data file.
    files = file_digests(
        task_dir, [p.relative_to(task_dir).as_posix() for p in task_dir.glob("data/*/*.parquet")]
    )
    digest = fingerprint(options, files)
    info = {
        "task": config.task,
        "version": __version__,
        "fingerprint": digest,
        "dataset_version": dataset_version(__version__, digest),
        "options": options,
        "seeds": {
            "seed": config.seed,
            "streams": "derive_seed(seed, task, 'train'|'eval'|'template', ...) via SHA-256",
        },
        "configs": {
            name: {split: len(rows) for split, rows in splits.items()}
            for name, splits in result.configs.items()
        },
        "stats": {
            name: {split: split_stats(config.task, rows) for split, rows in splits.items()}
            for name, splits in result.configs.items()
        },
        "leakage": result.leakage,
        "files": files,
        "created_by": f"datagen {__version__}",
    }
    if result.levels:
        info["levels"] = result.levels
    run = {"build_seconds": round(result.seconds, 3)}
    if result.teacher is not None:
        info["teacher"], run["teacher"] = _split_volatile(result.teacher)
    (task_dir / "build.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    (task_dir / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    write_card_figures(task_dir)  # before the card, which links to them
    write_card(task_dir)
    return info
