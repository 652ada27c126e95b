"""`make bench`: runs every benchmark of benchmarks/ in one process, one after the other.

Each benchmark module has a `main() -> str` that measures and returns a Markdown report; this
script prints them all and writes benchmarks/RESULTS.md. Run some alone with
`python benchmarks/run.py sokoban import` (printed only), or with `--update` to replace just
their sections of RESULTS.md (each section is marked with its benchmark's name and date; the
sections of the other benchmarks stay as they were measured).
"""

from __future__ import annotations

import importlib
import platform
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
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
    "grpo",
)
_MARK = re.compile(r"^<!-- bench: (\w+) -->$", re.MULTILINE)


def _header() -> str:
    return (
        "# Benchmarks\n\nWritten by `make bench` (`benchmarks/run.py`); a section re-run alone "
        "(`python benchmarks/run.py NAME --update`) carries its own date.\n"
    )


def _sections(text: str) -> dict[str, str]:
    """The marked sections of a RESULTS.md, by benchmark name (an unmarked file has none)."""
    marks = list(_MARK.finditer(text))
    return {
        m.group(1): text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        for i, m in enumerate(marks)
    }


def main(argv: list[str]) -> None:
    update = "--update" in argv
    names = [a for a in argv if a != "--update"]
    unknown = [n for n in names if n not in ALL]
    if unknown:
        sys.exit(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    sys.path.insert(0, str(HERE))
    machine = f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    sections = _sections(RESULTS.read_text()) if update and RESULTS.is_file() else {}
    for name in names or ALL:
        start = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        report = importlib.import_module(f"bench_{name}").main()
        took = time.perf_counter() - start
        sections[name] = (
            f"\n_{machine}, {time.strftime('%Y-%m-%d')}, {took:.0f} s_\n\n{report.rstrip()}\n\n"
        )
        print(report, flush=True)
    if update or not names:
        body = "".join(f"<!-- bench: {n} -->{sections[n]}" for n in ALL if n in sections)
        RESULTS.write_text(_header() + "\n" + body)


if __name__ == "__main__":
    main(sys.argv[1:])
