"""The `search` teacher: chain-of-thought written from the exact solvers' own search (no GPU).

    datagen build --cot --teacher search ...

Sokoban: a short spatial analysis of the state (player, boxes, targets, which box goes where),
the move-optimal plan found by the solver with its walks and pushes, the other optimal first
moves if any, and the action the plan starts with, named in the prompt's own vocabulary.
General Points: a stream-of-search trace in the style of Gandhi et al. (2024), "Stream of
Search": states as `24:[numbers]`, operations explored one by one, dead ends shown (each one
checked exhaustively with exact fractions) and backtracked from, until the operations of the
row's solution reach the target; then the formula.

Deterministic (the sample's seed only picks which dead ends are shown, so samples of one prompt
differ) and correct by construction — and verified by the rejection sampler like every other
teacher. The answer is rendered by the task itself (`datagen.tasks`, imported lazily: teachers
do not depend on datagen at import time).
"""

from __future__ import annotations

import ast
import random
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

from teachers.base import Sample, SampleRequest, SamplingConfig, TeacherConfig, register_backend

DIRECTION = {"u": "up", "d": "down", "l": "left", "r": "right"}
BASE_WORDS = {"u": "Up", "d": "Down", "l": "Left", "r": "Right"}
DELTA = {"u": (-1, 0), "d": (1, 0), "l": (0, -1), "r": (0, 1)}


@register_backend("search")
class SearchTeacher:
    backend = "search"
    first_round = 1  # correct by construction: one sample per prompt is enough

    def __init__(self, config: TeacherConfig | None = None):
        self.config = config or TeacherConfig(backend="search")
        self.model = self.config.model_name

    def info(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model,
            "method": "sokoban: solver plan; points: stream of search (Gandhi et al. 2024)",
        }

    def generate(
        self, requests: list[SampleRequest], sampling: SamplingConfig, on_sample=None
    ) -> list[Sample]:
        from datagen.tasks import get_task

        out = []
        for i, req in enumerate(requests):
            if req.row is None:
                raise ValueError("the search teacher needs the row of each request")
            task = get_task(req.row["task"])
            rng = random.Random(req.seed)
            if req.row["task"] == "sokoban":
                thinking = sokoban_thinking(req.row)
            else:
                thinking = points_thinking(req.row, rng)
            text = task.render_answer(req.row)
            sample = Sample(
                text=text,
                thinking=thinking,
                finish_reason="stop",
                tokens=count_tokens(thinking) + count_tokens(text),
            )
            out.append(sample)
            if on_sample is not None:
                on_sample(i, sample)
        return out


def count_tokens(text: str) -> int:
    """An approximate token count (words and punctuation marks), for the acceptance stats."""
    return len(re.findall(r"\w+|[^\w\s]", text))


# ---------------------------------------------------------------- Sokoban


def _n(count: int, noun: str) -> str:
    return (
        f"{count} {noun}" if count == 1 else f"{count} {noun}{'es' if noun.endswith('sh') else 's'}"
    )


def _where(cell: tuple[int, int]) -> str:
    return f"row {cell[0] + 1}, column {cell[1] + 1}"


def _segments(moves: str) -> list[str]:
    """LURD as walk/push segments: 'llUU' -> ['walk left 2', 'push up 2']."""
    out: list[str] = []
    run = ""
    for ch in moves:
        if run and ch != run[-1]:
            out.append(_segment(run))
            run = ""
        run += ch
    if run:
        out.append(_segment(run))
    return out


def _segment(run: str) -> str:
    verb = "push" if run[0].isupper() else "walk"
    return f"{verb} {DIRECTION[run[0].lower()]} {len(run)}"


def sokoban_thinking(row: dict) -> str:
    from solvers.sokoban import Level, solve

    level = Level.parse(row["instance"]["grid"])
    solution = row.get("solution") or {}
    moves = solution.get("moves")
    result = solve(level)
    if not moves:
        moves = result.moves
    first = moves[0].lower()
    template = row.get("template") or {}
    shown = template.get("vocabulary") or [BASE_WORDS[a] for a in "udlr"]
    lines = [
        f"The grid is {level.height} rows by {level.width} columns; I count rows and columns "
        f"from the top left.",
        f"I am at {_where(level.player)}.",
    ]
    boxes = sorted(level.boxes)
    goals = sorted(level.goals)
    for box in boxes:
        state = "already on a target" if box in level.goals else "not on a target yet"
        lines.append(f"A box is at {_where(box)}, {state}.")
    free_goals = [g for g in goals if g not in level.boxes]
    if free_goals:
        lines.append("Free targets: " + "; ".join(_where(g) for g in free_goals) + ".")
    for box in (b for b in boxes if b not in level.goals):
        goal = min(free_goals, key=lambda g: (abs(g[0] - box[0]) + abs(g[1] - box[1]), g))
        dr, dc = goal[0] - box[0], goal[1] - box[1]
        parts = [f"{abs(dr)} {'down' if dr > 0 else 'up'}"] if dr else []
        parts += [f"{abs(dc)} {'right' if dc > 0 else 'left'}"] if dc else []
        lines.append(
            f"The box at {_where(box)} is {' and '.join(parts) or '0'} away from the "
            f"nearest free target at {_where(goal)}."
        )
    pushes = sum(ch.isupper() for ch in moves)
    lines.append(
        f"Searching for the shortest solution ({_n(result.expanded, 'state')} examined), the "
        f"best plan takes {_n(len(moves), 'move')} with {_n(pushes, 'push')}: "
        f"{', '.join(_segments(moves))}."
    )
    if moves[0].isupper():
        box = (level.player[0] + DELTA[first][0], level.player[1] + DELTA[first][1])
        lines.append(f"The first move pushes the box at {_where(box)} {DIRECTION[first]}.")
    else:
        lines.append(
            f"The first move walks {DIRECTION[first]}, toward the square from which "
            f"the first push can be made."
        )
    others = [a for a in solution.get("actions", []) if a != first]
    if others:
        lines.append(
            "Starting " + " or ".join(DIRECTION[a] for a in others) + " would be just as short."
        )
    word = shown["udlr".index(first)]
    lines.append(f"So the next action is {DIRECTION[first]}, which this prompt calls {word}.")
    return "\n".join(lines)


# ---------------------------------------------------------------- General Points


def _fmt(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _state(target: int, values: list[Fraction]) -> str:
    return f"{target}:[{', '.join(_fmt(v) for v in values)}]"


@lru_cache(maxsize=200_000)
def _reachable(values: tuple[Fraction, ...], target: Fraction) -> bool:
    """Exhaustive search with exact fractions: can `values` make `target`?"""
    if len(values) == 1:
        return values[0] == target
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            rest = values[:i] + values[i + 1 : j] + values[j + 1 :]
            for result in _combine(values[i], values[j]):
                if _reachable(tuple(sorted((*rest, result[1]))), target):
                    return True
    return False


def _combine(a: Fraction, b: Fraction) -> list[tuple[str, Fraction]]:
    """Every result of one operation on a and b, as (text, value), larger operand first."""
    hi, lo = (a, b) if a >= b else (b, a)
    out = [
        (f"{_fmt(hi)}+{_fmt(lo)}", hi + lo),
        (f"{_fmt(hi)}*{_fmt(lo)}", hi * lo),
        (f"{_fmt(hi)}-{_fmt(lo)}", hi - lo),
    ]
    if lo != 0:
        out.append((f"{_fmt(hi)}/{_fmt(lo)}", hi / lo))
    if hi != 0 and hi != lo:
        out.append((f"{_fmt(lo)}/{_fmt(hi)}", lo / hi))
    return out


_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def _steps(formula: str) -> list[tuple[Fraction, str, Fraction, Fraction]] | None:
    """The formula's operations in evaluation order: (left, op, right, result); None if it is
    not a plain arithmetic formula (then the teacher searches on its own)."""
    try:
        tree = ast.parse(formula.split("=")[0], mode="eval").body
    except SyntaxError:
        return None
    steps: list[tuple[Fraction, str, Fraction, Fraction]] = []

    def walk(node) -> Fraction | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            op = _OPS[type(node.op)]
            if op == "/" and right == 0:
                return None
            value = {
                "+": left + right,
                "-": left - right,
                "*": left * right,
                "/": left / right if right else None,
            }[op]
            steps.append((left, op, right, value))
            return value
        return None

    return steps if walk(tree) is not None else None


def points_thinking(row: dict, rng: random.Random, dead_ends: int = 2) -> str:
    """A stream-of-search trace that ends with the operations of the row's first formula."""
    cards = row["instance"]["cards"]
    target = int(row["instance"]["target"])
    numbers = [Fraction(v) for v in row["solution"]["values"]]
    formula = row["solution"]["formulas"][0]
    steps = _steps(formula)
    if steps is None or sorted(_leaves(formula) or []) != sorted(numbers):
        # Not a plain formula on these numbers (never seen from the solver): say so plainly.
        return (
            f"Cards {', '.join(cards)} give the numbers "
            f"{', '.join(_fmt(v) for v in numbers)}. The formula {formula} uses each once "
            f"and equals {target}."
        )
    lines = [
        f"Cards {', '.join(cards)} give the numbers {', '.join(_fmt(v) for v in numbers)}. "
        f"I search for operations that reach {target}, using every number once.",
    ]
    values = list(numbers)
    ops: list[str] = []
    for depth, (left, op, right, result) in enumerate(steps):
        lines.append(f"Current State: {_state(target, values)}, Operations: {ops}")
        good = f"{_fmt(left)}{op}{_fmt(right)}={_fmt(result)}"
        # Dead ends: other operations from this state that cannot reach the target.
        options = []
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                rest = values[:i] + values[i + 1 : j] + values[j + 1 :]
                for text, value in _combine(values[i], values[j]):
                    child = sorted((*rest, value))
                    if not _reachable(tuple(child), Fraction(target)):
                        options.append((f"{text}={_fmt(value)}", child))
        rng.shuffle(options)
        for text, child in options[: dead_ends if depth == 0 else max(dead_ends - 1, 0)]:
            lines.append(
                f"Exploring Operation: {text}, Resulting Numbers: "
                f"[{', '.join(_fmt(v) for v in child)}]"
            )
            if len(child) == 1:
                lines.append(f"{_fmt(child[0])},{target} unequal: No Solution")
            else:
                lines.append(
                    f"No way to reach {target} from "
                    f"[{', '.join(_fmt(v) for v in child)}]: dead end, backtrack."
                )
        values = [*_remove(values, left, right), result]
        ops = [*ops, good]
        lines.append(
            f"Exploring Operation: {good}, Resulting Numbers: "
            f"[{', '.join(_fmt(v) for v in values)}]"
        )
        if len(values) > 1:
            lines.append(f"Generated Node #{depth + 1}: {_state(target, values)} Operations: {ops}")
            lines.append(f"Moving to Node #{depth + 1}")
    lines.append(f"{_fmt(values[0])},{target} equal: Goal Reached")
    lines.append(f"Formula: {formula}")
    return "\n".join(lines)


def _leaves(formula: str) -> list[Fraction] | None:
    try:
        tree = ast.parse(formula.split("=")[0], mode="eval")
    except SyntaxError:
        return None
    return [
        Fraction(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, int)
    ]


def _remove(values: list[Fraction], a: Fraction, b: Fraction) -> list[Fraction]:
    out = list(values)
    out.remove(a)
    out.remove(b)
    return out
