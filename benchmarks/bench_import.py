"""Benchmark of `datagen import` (`python benchmarks/run.py import`): rows per second imported
and audited, one core, for 10,000-row fixtures in the study's layouts.

Fixtures are the tests' (tests/study_fixtures.py): Sokoban `diverse-rl` rows (states along
optimal trajectories of 6x6 one-box levels, a fresh vocabulary per row, as the study's
create_ultra_mixed_dataset.py writes them) and General Points `diverse-answer-only` rows (one of
six face rules per row, the study's create_training_dataset.py layout), written with `datasets`
as push_to_hub stores them. Timed: the whole `import_source` (read Parquet, convert, solve with
cold solver caches, audit, write Parquet, build.json, audit.json, card) and, separately,
`audit_folder` of the result (re-reads and re-solves everything), in CPU seconds of this process,
the best of RUNS runs, each with every cache cleared. Target: >= 5,000 rows/s.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = 10_000
TARGET = 5_000
RUNS = 3


def _fixtures(folder: Path) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    import study_fixtures as fx

    sokoban: list[dict] = []
    seed = 0
    while len(sokoban) < ROWS:
        sokoban += fx.sokoban_rows("diverse-rl", levels=200, seed=seed)
        seed += 200
    points = fx.points_rows("diverse-answer-only", n=ROWS, seed=0, distinct=False)
    return {
        "sokoban": fx.write_snapshot(folder / "sokoban-src", {"train": sokoban[:ROWS]}),
        "points": fx.write_snapshot(folder / "points-src", {"train": points}),
    }


def _truncate(path: Path, rows: int) -> None:
    import pyarrow.parquet as pq

    pq.write_table(pq.read_table(path).slice(0, rows), path)


def _cold() -> None:
    """Forget every memoised result an import uses, so that each timed run starts cold."""
    from datagen.importers import audit
    from solvers.points import clear_caches
    from solvers.sokoban import bfs, board

    clear_caches()
    bfs._cached_analysis.cache_clear()
    board._compile.cache_clear()
    audit._hand_keys.cache_clear()


def main() -> str:
    import os

    from datagen.importers import import_source
    from datagen.importers.audit import audit_folder

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    lines = [
        "## import: the study's layouts read, converted, solved and audited",
        "",
        f"{ROWS:,}-row fixtures, one process, CPU seconds (process time, so that other load on "
        "the machine does not count), every cache cleared before each run, imports warmed on "
        f"50 rows; the best of {RUNS} runs (the median in brackets: neighbours on a shared "
        f"machine only ever add time). Target >= {TARGET:,} rows/s with the audit included.",
        "",
        "| fixture | import + audit | rows/s | audit alone | rows/s | labels |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        sources = _fixtures(Path(tmp))
        for task, source in sources.items():
            # Warm the process (imports, sympy) on the first rows, then time with cold caches.
            small = Path(tmp) / f"{task}-warm"
            shutil.copytree(source, small)
            _truncate(small / "data" / "train-00000-of-00001.parquet", 50)
            import_source(str(small), Path(tmp) / f"{task}-warm-out")
            runs, audits = [], []
            for attempt in range(RUNS):
                out = Path(tmp) / f"{task}-out-{attempt}"
                _cold()
                start = time.process_time()
                task_dir = import_source(str(source), out)[task]
                runs.append(time.process_time() - start)
                _cold()
                start = time.process_time()
                report = audit_folder(task_dir)
                audits.append(time.process_time() - start)
                shutil.rmtree(out)
            seconds, audit_seconds = min(runs), min(audits)
            labels = ", ".join(f"{k} {v}" for k, v in report["labels"].items())
            lines.append(
                f"| {task} | {seconds:.2f} s | {ROWS / seconds:,.0f} "
                f"(median {ROWS / statistics.median(runs):,.0f}) | {audit_seconds:.2f} s | "
                f"{ROWS / audit_seconds:,.0f} | {labels} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
