"""What the figures cost: seconds added to `datagen build` (card figures of both tasks) and to
`datagen eval --out` (results.png), each in a fresh process so matplotlib's import is counted.
CPU seconds of that process (one thread), so other load on the machine does not inflate them.

Run alone with `python benchmarks/run.py figures`. Targets: <= 2 s for the build, <= 1 s for eval.
The build here is smaller than the default one (the figures read build.json's histograms and one
row per geometry, so their cost does not grow with the row count).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# Each prints the CPU seconds of the matplotlib import, then of the drawing itself.
IMPORT = """
import sys, time
t = time.process_time()
import matplotlib.backends.backend_agg, matplotlib.figure
print(time.process_time() - t)
t = time.process_time()
from pathlib import Path
"""
CARD = (
    IMPORT
    + """
from datagen.figures.cards import write_card_figures
for task in ("sokoban", "points"):
    write_card_figures(Path(sys.argv[1]) / task)
print(time.process_time() - t)
"""
)
RESULTS = (
    IMPORT
    + """
import json
from datagen.figures import results_figure
results_figure(json.loads(Path(sys.argv[1]).read_text())["metrics"], Path(sys.argv[2]), "bench")
print(time.process_time() - t)
"""
)


def _seconds(code: str, *args: str, repeats: int = 3) -> tuple[float, float]:
    """Median CPU seconds of (matplotlib's import, the drawing) over fresh processes."""
    runs = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
        )
        runs.append([float(x) for x in done.stdout.split()[-2:]])
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        cli = [sys.executable, "-m", "datagen.cli"]
        build = ["build", "--task", "all", "--diverse", "--train-size", "2000", "--out", str(out)]
        subprocess.run([*cli, *build], check=True, capture_output=True)
        evaluate = ["eval", "--data", str(out), "--backend", "frozen", "--limit", "20"]
        subprocess.run([*cli, *evaluate, "--out", f"{tmp}/eval"], check=True, capture_output=True)
        card = _seconds(CARD, str(out))
        results = _seconds(RESULTS, f"{tmp}/eval/results.json", f"{tmp}/r.png")
        sizes = {p.name: p.stat().st_size for p in (out / "sokoban" / "figures").iterdir()}
        variants = sum(
            len(v)
            for v in json.loads(Path(f"{tmp}/eval/results.json").read_text())["metrics"].values()
        )
    rows = [
        ("card figures of both tasks (5 PNGs), in `datagen build`", card, 2),
        (f"results.png of {variants} variants, in `datagen eval --out`", results, 1),
    ]
    lines = [
        "## Figures (CPU s of a fresh process, median of 3)\n",
        "| what | matplotlib import | drawing | added (drawing) | target |",
        "|---|---:|---:|---:|---|",
    ]
    for what, (load, draw), target in rows:
        lines.append(f"| {what} | {load:.2f} | {draw:.2f} | {draw:.2f} | <= {target} |")
    sizes = ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in sorted(sizes.items()))
    return "\n".join(
        [
            *lines,
            "",
            "The import runs in a background thread from the start of a build or an evaluation "
            "(`datagen.figures.style.preload`), beside the worker processes or the model, so "
            "only the drawing lands on the critical path.",
            f"Sokoban figure sizes: {sizes}.",
        ]
    )
