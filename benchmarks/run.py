"""`make bench`: runs every benchmark of benchmarks/ in one process, one after the other.

Each benchmark module has a `main() -> str` that measures and returns a Markdown report; this
script prints them all and writes benchmarks/RESULTS.md. Run one alone with
`python benchmarks/run.py sokoban`.
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALL = (
    "sokoban",
    "points",
    "build",
    "figures",
    "rejection",
    "trainer",
    "fidelity",
    "hostile",
    "import",
)


def main(names: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    reports = [
        f"# Benchmarks\n\nMachine: {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}\n"
    ]
    for name in names or ALL:
        start = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        report = importlib.import_module(f"bench_{name}").main()
        reports.append(f"{report.rstrip()}\n\n_({time.perf_counter() - start:.0f} s)_\n")
        print(report, flush=True)
    if not names:
        (HERE / "RESULTS.md").write_text("\n".join(reports))


if __name__ == "__main__":
    main(sys.argv[1:])
