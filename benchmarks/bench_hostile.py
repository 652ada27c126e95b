"""Benchmark of every reader of hostile text (`python benchmarks/run.py hostile`).

The corpus of benchmarks/hostile_corpus.py (a few hundred completions and levels: the inputs of
issue #11 and their siblings, up to 1 MB) goes through every parser and scorer it can reach:
General Points answer reading, scoring, both TRL rewards and verl's `compute_score`, the formula
reader; Sokoban scoring, `parse_action` and both rewards; the level parser, the level splitter
and the input decoding of `datagen solve sokoban`. Measured: exceptions (target 0), the worst
time per call normalised per 10 kB of input (target <= 1 ms per 10 kB; inputs under 10 kB count
as 10 kB; CPU time of the process, best of a few runs, so that other work on a shared machine
is not the figure), and the peak memory
a call allocates on the 1 MB inputs (tracemalloc, a separate pass: it slows every call down).
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections import defaultdict

from hostile_corpus import Case, Target, corpus, targets

TARGET_MS_PER_10KB = 1.0


def _per_10kb(seconds: float, case: Case) -> float:
    return seconds * 1000 / max(1.0, case.size / 10_000)


def _time(target: Target, case: Case) -> float:
    best = float("inf")
    for _ in range(2 if case.size >= 1_000_000 else 3):
        start = time.process_time()
        target.call(case.payload)
        best = min(best, time.process_time() - start)
    return best


def measure() -> dict:
    """Times, exceptions and peak memory over the whole corpus."""
    cases = corpus()
    by_kind = {kind: targets(kind) for kind in {c.kind for c in cases}}
    exceptions: list[str] = []
    worst: dict[str, tuple[float, float, str]] = {}  # target -> (ms/10kB, seconds, case)
    normalised: list[float] = []
    calls = 0
    for case in cases:
        for target in by_kind[case.kind]:
            calls += 1
            try:
                seconds = _time(target, case)
            except Exception as exc:  # counting them is the point
                exceptions.append(f"{case.name} -> {target.name}: {type(exc).__name__}")
                continue
            score = _per_10kb(seconds, case)
            normalised.append(score)
            if score > worst.get(target.name, (-1.0,))[0]:
                worst[target.name] = (score, seconds, case.name)
    peaks: dict[str, tuple[int, str]] = defaultdict(lambda: (0, ""))
    tracemalloc.start()
    for case in (c for c in cases if c.size >= 1_000_000):
        for target in by_kind[case.kind]:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            try:
                target.call(case.payload)
            except Exception:  # already counted above
                continue
            peak = tracemalloc.get_traced_memory()[1] - base
            if peak > peaks[target.name][0]:
                peaks[target.name] = (peak, case.name)
    tracemalloc.stop()
    return {
        "cases": len(cases),
        "levels": sum(c.kind == "level" for c in cases),
        "calls": calls,
        "exceptions": exceptions,
        "worst": worst,
        "median": statistics.median(normalised) if normalised else 0.0,
        "peaks": dict(peaks),
    }


def main() -> str:
    start = time.perf_counter()
    m = measure()
    seconds = time.perf_counter() - start
    worst_all = max(w[0] for w in m["worst"].values())
    lines = [
        "## Hostile input (every reader of model text and level text)",
        "",
        f"{m['cases']} inputs ({m['cases'] - m['levels']} completions, {m['levels']} levels; up "
        f"to 1 MB) x every parser and scorer they reach = {m['calls']} calls, in "
        f"{seconds:.0f} s. Targets of issue #11: no exception, <= {TARGET_MS_PER_10KB:g} ms per "
        "10 kB of input (inputs under 10 kB count as 10 kB; CPU time, best of 2-3 runs).",
        "",
        f"- exceptions: **{len(m['exceptions'])}**"
        + (f" ({'; '.join(m['exceptions'][:5])})" if m["exceptions"] else ""),
        f"- worst time per call: **{worst_all:.3f} ms per 10 kB** "
        f"({'within' if worst_all <= TARGET_MS_PER_10KB else 'OVER'} the target); median "
        f"{m['median']:.4f} ms per 10 kB",
        "",
        "| reader | worst ms per 10 kB | its time | on input | peak memory on 1 MB inputs |",
        "|---|---|---|---|---|",
    ]
    for name, (score, secs, case) in sorted(m["worst"].items(), key=lambda kv: -kv[1][0]):
        peak, peak_case = m["peaks"].get(name, (0, ""))
        memory = f"{peak / 2**20:.1f} MiB ({peak_case})" if peak_case else "-"
        row = f"| {name} | {score:.3f} | {secs * 1000:.2f} ms | `{case}` | {memory} |"
        lines.append(row)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
