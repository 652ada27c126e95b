"""The default dataset build, timed: `datagen build --task all --diverse` (2 x 10,000 train rows
plus every evaluation variant at the study's sizes), on both cores.

Run alone with `python benchmarks/run.py build`. Target: under 60 s on a 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        command = [
            sys.executable,
            "-m",
            "datagen.cli",
            "build",
            "--task",
            "all",
            "--diverse",
            "--workers",
            "2",
            "--out",
            str(out),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        lines = [
            "## Dataset build (`datagen build --task all --diverse`, defaults, 2 workers)\n",
            "| task | config | rows |",
            "|---|---|---:|",
        ]
        total = 0
        for task in ("sokoban", "points"):
            info = json.loads((out / task / "build.json").read_text())
            for config, splits in info["configs"].items():
                rows = sum(splits.values())
                total += rows
                lines.append(f"| {task} | {config} | {rows:,} |")
    lines += [
        "",
        f"Whole build: **{seconds:.1f} s** for {total:,} rows ({total / seconds:,.0f} rows/s), "
        f"target < 60 s: {'met' if seconds < 60 else 'NOT met'}.",
    ]
    return "\n".join(lines)
