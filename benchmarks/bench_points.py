"""Benchmark of the General Points engine (`python benchmarks/run.py points`).

Side by side, in one process:
- this solver (solvers.points): all distinct solutions and "solvable?" per hand, cold (every
  cache cleared before the hand), streaming (thousands of hands in a row, caches kept, as when a
  dataset is sampled) and from cache;
- a brute-force baseline of the study's kind, written here: every distinct permutation of the
  cards x every operator sequence x every bracket shape, evaluated with Fraction (the study used
  float `eval`, which gets `8/(3-8/3)` wrong);
- reasoning-gym's puzzle24 generator (one left-deep solution per item, values 1..10, sympy);
- the safe formula reader on typical and hostile input;
- the fraction of solvable hands over every ordered draw from 13 ranks, per face-card rule.

`main()` returns the Markdown report. Hands are drawn from a fixed seed, so figures vary only
with the machine.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import cache

from solvers.points import (
    FACE_RULES,
    RANKS,
    FormulaError,
    clear_caches,
    hand_values,
    is_solvable,
    judge,
    read_formula,
    solve,
)

DECK = RANKS[:13]  # A, 2..10, J, Q, K: the study's deck


def _hands(n: int, count: int, seed: int, faces=(10, 10, 10)) -> list[tuple[int, ...]]:
    rng = random.Random(seed)
    return [hand_values([rng.choice(DECK) for _ in range(n)], faces) for _ in range(count)]


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _row(name: str, times: Sequence[float], note: str = "") -> str:
    return (
        f"| {name} | {len(times)} | {_fmt(statistics.median(times))} | {_fmt(max(times))} "
        f"| {note} |"
    )


# --- the brute-force baseline ------------------------------------------------------------------


@cache
def _shapes(n: int) -> tuple[object, ...]:
    """Every full binary bracket shape over n leaves (Catalan(n-1) of them); a leaf is None."""
    if n == 1:
        return (None,)
    return tuple(
        (left, right) for k in range(1, n) for left in _shapes(k) for right in _shapes(n - k)
    )


def _evaluate(shape, values: list[Fraction], ops: list[str]) -> tuple[Fraction, str] | None:
    """Evaluate a shape, consuming values and operators from the left; None on division by 0."""
    if shape is None:
        v = values.pop()
        return v, str(v)
    left = _evaluate(shape[0], values, ops)
    right = _evaluate(shape[1], values, ops)
    if left is None or right is None:
        return None
    op = ops.pop()
    (a, sa), (b, sb) = left, right
    if op == "/" and not b:
        return None
    value = a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
    return value, f"({sa}{op}{sb})"


def brute_force(values: Sequence[int], target: int = 24, first: bool = False) -> list[str]:
    """The study's kind of solver: permutations x operators x bracket shapes, every formula
    (not deduplicated) that makes the target; with `first`, stop at the first one."""
    found = []
    goal = Fraction(target)
    n = len(values)
    for perm in sorted(set(itertools.permutations(values))):
        for ops in itertools.product("+-*/", repeat=n - 1):
            for shape in _shapes(n):
                result = _evaluate(shape, [Fraction(v) for v in reversed(perm)], list(ops))
                if result is not None and result[0] == goal:
                    found.append(result[1])
                    if first:
                        return found
    return found


# --- sections ----------------------------------------------------------------------------------


def _ours() -> list[str]:
    solve([1, 2, 3, 4])  # the first call pays the imports, not a timed hand
    lines = [
        "| this solver | hands | median | max | note |",
        "|---|---|---|---|---|",
    ]
    for n, count in ((4, 300), (5, 60)):
        hands = _hands(n, count, seed=n)
        cold_all, cold_ok, cached_ok, counts = [], [], [], []
        for hand in hands:
            clear_caches()
            seconds, solutions = _timed(lambda h=hand: solve(h))
            cold_all.append(seconds)
            counts.append(len(solutions))  # type: ignore[arg-type]
            clear_caches()
            cold_ok.append(_timed(lambda h=hand: is_solvable(h))[0])
            cached_ok.append(_timed(lambda h=hand: is_solvable(h))[0])
        note = f"solutions per solvable hand: median {statistics.median([c for c in counts if c])}"
        note += f", max {max(counts)}"
        lines.append(_row(f"{n} cards, all solutions, cold caches", cold_all, note))
        lines.append(_row(f"{n} cards, solvable?, cold caches", cold_ok))
        lines.append(_row(f"{n} cards, solvable?, from cache", cached_ok))
        clear_caches()
        stream = _hands(n, 3000 if n == 4 else 200, seed=10 + n)
        per_all = [_timed(lambda h=hand: solve(h))[0] for hand in stream]
        total = sum(per_all)
        lines.append(
            _row(
                f"{n} cards, all solutions, streaming",
                per_all,
                f"{len(stream)} hands in a row, caches kept (a repeated multiset is a cache hit): "
                f"{_fmt(total)} in all",
            )
        )
        clear_caches()
        per_ok = [_timed(lambda h=hand: is_solvable(h))[0] for hand in stream]
        lines.append(
            _row(f"{n} cards, solvable?, streaming", per_ok, f"{_fmt(sum(per_ok))} in all")
        )
    return lines


def _baseline() -> list[str]:
    lines = [
        "| brute-force baseline (perms x ops x shapes, Fraction) | hands | median | max | note |",
        "|---|---|---|---|---|",
    ]
    for n, count in ((4, 40), (5, 3)):
        hands = _hands(n, count, seed=n)  # the first hands of the solver's own sample
        all_times, ok_times, raw, agree = [], [], [], 0
        for hand in hands:
            seconds, found = _timed(lambda h=hand: brute_force(h))
            all_times.append(seconds)
            raw.append(len(found))  # type: ignore[arg-type]
            seconds, first = _timed(lambda h=hand: brute_force(h, first=True))
            ok_times.append(seconds)
            agree += bool(first) == is_solvable(hand)
        note = f"raw formulas per hand: median {statistics.median(raw)}, max {max(raw)}"
        lines.append(_row(f"{n} cards, all solutions", all_times, note))
        lines.append(
            _row(f"{n} cards, solvable? (stops at first)", ok_times, f"agrees {agree}/{count}")
        )
    return lines


def _reasoning_gym() -> list[str]:
    try:
        from reasoning_gym.games.puzzle24 import Puzzle24Config, Puzzle24Dataset
    except ImportError:  # a dev extra; the report says so instead of failing
        return ["reasoning-gym is not installed (`pip install -e '.[dev]'`)."]
    data = Puzzle24Dataset(Puzzle24Config(seed=1, size=60))
    data[0]  # first-use imports
    times, verdicts = [], {}
    for idx in range(60):
        seconds, item = _timed(lambda i=idx: data[i])
        times.append(seconds)
        answer = item["answer"]  # type: ignore[index]
        verdict = judge(f'{{"formula": "{answer}"}}', item["metadata"]["numbers"]).value  # type: ignore[index]
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    rng = random.Random(7)
    clear_caches()
    ours = []
    for _ in range(60):  # the same task with this solver: values 1..10, rejection, all solutions
        start = time.perf_counter()
        while True:
            values = [rng.randint(1, 10) for _ in range(4)]
            if is_solvable(values):
                break
        solve(values)
        ours.append(time.perf_counter() - start)
    return [
        "| generator of solvable 4-card puzzles (values 1..10) | items | median | max | note |",
        "|---|---|---|---|---|",
        _row(
            "reasoning-gym puzzle24 `dataset[i]`",
            times,
            "one left-deep solution per item; its answers judged by ours: "
            + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())),
        ),
        _row("this solver: draw until solvable, then all solutions", ours, "caches kept"),
    ]


def _reader() -> list[str]:
    typical = ["8/(3-8/3)", "(10/2+7)*2 = 24", "8 × 3 ÷ (4 - 3)", "10/5+19+17-14"]
    hostile = [
        "(" * 10_000,
        "9**9**9**9" * 1_100,
        "__import__('os').system('x')" * 400,
        "1" * 10_001,
        "(" * 20 + "1" + ")" * 20 + "+1" * 5_000,
    ]
    completion = "<think>" + "Let me try 8*3 and 10-7... " * 80 + "</think>\n"
    completion += (
        '```json\n{"cards": ["3","3","8","8"], "number": [3,3,8,8], "formula": "8/(3-8/3)"}\n```'
    )

    def per_call(fn: Callable[[], object], repeat: int = 2000) -> float:
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        return (time.perf_counter() - start) / repeat

    def rejected(text: str) -> None:
        try:
            read_formula(text)
        except FormulaError:
            return
        raise AssertionError(f"accepted hostile input {text[:40]!r}")

    typical_t = [per_call(lambda t=t: read_formula(t)) for t in typical]
    hostile_t = [per_call(lambda t=t: rejected(t)) for t in hostile]
    longest = "*".join(["999999999999999999"] * 26)  # 494 characters, 26 numbers: still legal
    longest_t = per_call(lambda: read_formula(longest))
    judge_t = per_call(lambda: judge(completion, [3, 3, 8, 8]), repeat=500)
    return [
        "| formula reader | inputs | median | max | note |",
        "|---|---|---|---|---|",
        _row("read_formula, typical answers", typical_t),
        _row("read_formula, hostile inputs over 10 kB", hostile_t, "all rejected"),
        _row("read_formula, longest legal product (26 x 18 digits)", [longest_t], "accepted"),
        _row(f"judge, a {len(completion)}-character completion", [judge_t], "correct"),
    ]


def _fractions() -> list[str]:
    lines = [
        "| face-card rule (J, Q, K) | 4 cards solvable | note |",
        "|---|---|---|",
    ]
    clear_caches()
    start = time.perf_counter()
    for name, faces in FACE_RULES.items():
        ranks = [*range(1, 11), *faces]
        solvable = sum(is_solvable(h) for h in itertools.product(ranks, repeat=4))
        note = {"all_10": "study: 73.1%", "mixed_11_12_13": "study: 79.2%"}.get(name, "")
        lines.append(f"| {name} {faces} | {100 * solvable / 13**4:.1f}% | {note} |")
    seconds = time.perf_counter() - start
    ranks = [*range(1, 11), 10, 10, 10]
    start = time.perf_counter()
    five = sum(is_solvable(h) for h in itertools.product(ranks, repeat=5))
    lines.append(f"| 5 cards, all_10 | {100 * five / 13**5:.1f}% | 13^5 ordered hands |")
    lines.append("")
    lines.append(
        f"Counted over all 13^4 = {13**4} ordered draws of 4 cards (13^5 for 5) from the 13 ranks "
        f"with replacement; solvability is computed once per multiset (cache). "
        f"23 rules in {_fmt(seconds)}, the 5-card row in {_fmt(time.perf_counter() - start)}."
    )
    return lines


def main() -> str:
    sections = [
        "## General Points (solvers.points)",
        "",
        "Hands: uniform draws of the 13 ranks with J/Q/K = 10, fixed seeds. *Cold*: every cache "
        "cleared before the hand (imports already paid). *Streaming*: hands in a row with the "
        "caches kept, as when a dataset is sampled. Targets of issue #3: all solutions of a "
        "4-card hand <= 5 ms median, 5-card <= 100 ms median, solvability from cache in "
        "microseconds.",
        "",
        *_ours(),
        "",
        *_baseline(),
        "",
        *_reasoning_gym(),
        "",
        *_reader(),
        "",
        *_fractions(),
    ]
    return "\n".join(sections) + "\n"


if __name__ == "__main__":
    print(main())
