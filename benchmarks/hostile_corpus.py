"""A corpus of hostile model output and hostile levels, and every parser and scorer it goes into.

    from hostile_corpus import corpus, targets
    for case in corpus():                       # a few hundred Case(name, kind, payload)
        for target in targets(case.kind):       # Target(name, call)
            target.call(case.payload)           # a verdict; never raises

Completions: the inputs of issue #11 (an answer after the last answer, a string holding `{`,
1,000 nested `[`, an unclosed `<think>` after the thinking, `<answer>` floods) and their
siblings: floods of every character the readers look at, at 1 kB, 10 kB, 100 kB and 1 MB, bare
or after `</think>`, inside a JSON answer or an `<answer>` tag; long digit strings, lone
surrogates, NULs, byte-order marks, invisible and full-width characters, random bytes; odd
message shapes (None, numbers, bytes, messages without content). Levels: the same floods as
XSB, binary garbage, BOMs, empty text, a 1 MB row. Used by benchmarks/bench_hostile.py (times,
memory) and tests/test_hostile_corpus.py (no exception, a verdict for every input).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

SIZES = (1_000, 10_000, 100_000, 1_000_000)

# What the readers look at, and their neighbours.
FLOOD_UNITS = (
    "{", "}", "[", "]", "{}", "[]", "[{", '"', "'", "\\", '\\"', '{"', '"formula":',
    "'formula': \"", '{"formula": 1}', '{"formula": x}', '{"a": [[1]], "formula": "1"}',
    "<answer>", "</answer>", "<answer>Up</answer>", "<think>", "</think>", "<think></think>",
    "9", "(", ")", "1+", "=", "(1", "\n", " ", "'\n", '"a\n', "\\\n", "\ufeff", "\u200b",
    "\ufe0e", "\ufe0f", "⬆️", "\x00", "\ud800", "\udfff", "\u0301", "\u202e", "Ｕｐ", "２",
)  # fmt: skip
WRAPS = (
    ("bare", "{}"),
    ("after_think", "<think>x</think>{}"),
    ("in_json", '</think>{{"cards": ["3"], "formula": "{}"}}'),
    ("in_answer", "</think><answer>{}</answer>"),
)
ISSUE_COMPLETIONS = {
    "later_bare_formula": '{"formula": "8/(3-8/3)"} final: "formula": "3+3+8+8"',
    "brace_in_string": '{"formula": "3+3+8+8", "note": "{"}',
    "answer_then_brace_in_string": '{"formula": "8/(3-8/3)"} {"formula": "3+3+8+8", "note": "{"}',
    "nested_1000": '</think>{"formula": ' + "[" * 1000 + "]" * 1000 + "}",
    "nested_1000_open": "[" * 1000 + '{"formula": "8/(3-8/3)"}',
    "think_reopened_sokoban": "<think>a</think><think><answer>Right</answer>",
    "think_reopened_points": '<think>a</think><think>{"formula": "8/(3-8/3)"}',
    "answer_tags_64k": "<answer>" * 8_192,
    "answer_tags_1m": "<answer>" * 131_072,
    "up_text_selector": "<answer>⬆\ufe0e</answer>",
    "digits_1m_in_formula": '{"formula": "' + "9" * 1_000_000 + '"}',
    "digits_5000_json_int": '{"formula": ' + "9" * 5_000 + "}",
    "nan_formula": '{"formula": NaN}',
    "huge_exponent": '{"formula": 1e999999}',
}
ODD_SHAPES: dict[str, Any] = {
    "none": None,
    "int": 24,
    "float": 2.4,
    "bytes": b'{"formula": "8/(3-8/3)"}',
    "empty_list": [],
    "empty_message": [{}],
    "no_content": [{"role": "assistant"}],
    "content_none": [{"role": "assistant", "content": None}],
    "content_int": [{"role": "assistant", "content": 5}],
    "content_parts": [{"role": "assistant", "content": [{"type": "text", "text": "<answer>Up"}]}],
    "content_parts_odd": [{"content": [None, 3, {"type": "image"}, {"text": None}, "x"]}],
    "bare_message": {"role": "assistant", "content": "<answer>Up</answer>"},
    "list_of_str": ["<answer>", "Up</answer>"],
    "list_of_none": [None, None],
    "user_only": [{"role": "user", "content": "<answer>Up</answer>"}],
    "nested_lists": [[[[]]]],
    "dict_of_junk": {"x": object()},
}
LEVEL_UNITS = ("#", "@", "$", ".", " ", "\n", "\ufeff", "\x00", "\r", "\t", "-", "\ud800", "#\n")
GOOD_LEVEL = "#####\n#@$.#\n#####"


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "completion" (model output, any shape) or "level" (XSB text or bytes)
    payload: Any

    @property
    def size(self) -> int:
        """Characters (or bytes) of the payload; 0 for shapes that are not text."""
        return len(self.payload) if isinstance(self.payload, (str, bytes)) else 0


def _flood(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def corpus(seed: int = 0, max_size: int | None = None) -> list[Case]:
    """Every case (only those up to `max_size` characters when given), in a fixed order,
    deterministic for a seed."""
    cases = [*_completions(seed), *_levels(seed)]
    return [c for c in cases if max_size is None or c.size <= max_size]


def _completions(seed: int) -> Iterator[Case]:
    rng = random.Random(seed)
    for name, text in ISSUE_COMPLETIONS.items():
        yield Case(f"issue/{name}", "completion", text)
    for name, shape in ODD_SHAPES.items():
        yield Case(f"shape/{name}", "completion", shape)
    for i, unit in enumerate(FLOOD_UNITS):
        for size in SIZES:
            # Every unit at every size bare; every wrapper at 10 kB; one wrapper each at 1 MB.
            if size == 10_000:
                wraps = WRAPS
            elif size == 1_000_000:
                wraps = (WRAPS[i % len(WRAPS)],)
            else:
                wraps = WRAPS[:1]
            flood = _flood(unit, size)
            for wrap, pattern in wraps:
                yield Case(f"flood/{unit!r}/{size}/{wrap}", "completion", pattern.format(flood))
    for size in SIZES[:3]:
        data = bytes(rng.randrange(256) for _ in range(size))
        yield Case(f"random_bytes/{size}", "completion", data.decode("latin-1"))
        text = "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(size))
        yield Case(f"random_unicode/{size}", "completion", text)
        mix = "".join(rng.choice(FLOOD_UNITS) for _ in range(size // 4))
        yield Case(f"random_units/{size}", "completion", mix)
        yield Case(f"random_units_answer/{size}", "completion", "</think>" + mix + "</answer>")


def _levels(seed: int) -> Iterator[Case]:
    rng = random.Random(seed + 1)
    yield Case("level/good", "level", GOOD_LEVEL)
    yield Case("level/bom", "level", "\ufeff" + GOOD_LEVEL)
    yield Case("level/crlf", "level", GOOD_LEVEL.replace("\n", "\r\n"))
    yield Case("level/empty", "level", "")
    yield Case("level/blank", "level", "\n \n\t\n")
    yield Case("level/two_players", "level", "######\n#@@$.#\n######")
    yield Case("level/bytes", "level", GOOD_LEVEL.encode())
    yield Case("level/none", "level", None)
    for unit in LEVEL_UNITS:
        for size in SIZES[:3]:
            yield Case(f"level/flood/{unit!r}/{size}", "level", _flood(unit, size))
    yield Case("level/row_1m", "level", "#" * 1_000_000)
    yield Case("level/column_100k", "level", "#\n" * 50_000)
    for size in SIZES[:3]:
        data = bytes(rng.randrange(256) for _ in range(size))
        yield Case(f"level/random_bytes/{size}", "level", data.decode("latin-1"))
        text = "".join(rng.choice("#@$. \n") for _ in range(size))
        yield Case(f"level/random_xsb/{size}", "level", text)


@dataclass(frozen=True)
class Target:
    name: str
    call: Callable[[Any], Any]


def _rows() -> dict[str, dict]:
    from datagen.tasks import get_task
    from datagen.templates.points import make_template as points_template
    from datagen.templates.sokoban import make_template
    from solvers.sokoban import Level

    level = Level.parse("######\n#@$ .#\n#  $ #\n#.   #\n######")
    emoji = make_template(vocabulary="emoji", scored_vocabulary="emoji")
    rules = points_template(rule="all_10", faces=(10, 10, 10))
    return {
        "sokoban": get_task("sokoban").start_row("emoji", level, 0, emoji),
        "points": get_task("points").make_row("id", ["3", "3", "8", "8"], 24, rules, 0),
    }


def targets(kind: str) -> list[Target]:
    """Every parser and scorer an input of this kind reaches; each returns a verdict."""
    if kind == "level":
        return _level_targets()
    from datagen import rewards
    from datagen.tasks import final_text, get_task
    from solvers.points import FormulaError, canonical, read_answer, read_formula

    rows = _rows()
    sokoban, points = get_task("sokoban"), get_task("points")

    def formula(text: Any) -> str:
        try:
            read_formula(text)
            return canonical(text)
        except FormulaError as exc:  # the reader's verdict on text that is not a formula
            return f"illegal: {exc}"

    def text_of(payload: Any) -> str | None:
        return rewards.completion_text(payload)

    return [
        Target("final_text", lambda p: final_text(text_of(p))),
        Target("points.read_answer", lambda p: read_answer(text_of(p))),
        Target("points.score", lambda p: points.score(rows["points"], text_of(p)).verdict),
        Target(
            "points.correctness_reward",
            lambda p: _reward(rewards.correctness_reward, p, rows, "points"),
        ),
        Target(
            "points.validity_reward", lambda p: _reward(rewards.validity_reward, p, rows, "points")
        ),
        Target("points.verl", lambda p: rewards.compute_score("points", p, rows["points"])),
        Target("formula.read", lambda p: formula(text_of(p))),
        Target("sokoban.score", lambda p: sokoban.score(rows["sokoban"], text_of(p)).verdict),
        Target(
            "sokoban.parse_action",
            lambda p: str(sokoban.parse_action(text_of(p), rows["sokoban"]["template"])),
        ),
        Target(
            "sokoban.correctness_reward",
            lambda p: _reward(rewards.correctness_reward, p, rows, "sokoban"),
        ),
        Target(
            "sokoban.validity_reward",
            lambda p: _reward(rewards.validity_reward, p, rows, "sokoban"),
        ),
        Target("sokoban.verl", lambda p: rewards.compute_score("sokoban", p, rows["sokoban"])),
    ]


def _reward(function: Callable, payload: Any, rows: dict[str, dict], task: str) -> float:
    """One completion through a TRL reward function, with its row's columns."""
    cols = {k: [rows[task][k]] for k in ("task", "instance", "template", "solution")}
    return function(None, [payload], **cols)[0]


def _level_targets() -> list[Target]:
    from datagen.cli.solve_sokoban import read_levels_text
    from solvers.sokoban import Level, LevelError, split_levels

    def parse(payload: Any) -> str:
        try:
            return Level.parse(payload).xsb()
        except LevelError as exc:  # the parser's verdict on text that is not a level
            return f"error: {exc}"

    def read(payload: Any) -> str:
        import click

        data = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
        if not isinstance(data, bytes):
            return "not bytes"
        try:
            return f"{len(split_levels(read_levels_text(data, 'input')))} levels"
        except click.ClickException as exc:  # the command's one-line error
            return f"error: {exc.message}"

    return [
        Target("level.parse", parse),
        Target("level.split", lambda p: len(split_levels(p)) if isinstance(p, str) else None),
        Target("cli.read_levels", read),
    ]
