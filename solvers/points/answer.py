"""Reading the study's JSON answer out of a completion, and the verdict on it.

    read_answer('<think>…</think>{"cards": ["3"], "number": [3], "formula": "8/(3-8/3)"}')
    judge(completion, scored_values=[3, 3, 8, 8], target=24)   # Verdict.CORRECT

How the answer is read (one rule, used by the scorer, the rewards, the harness and rejection
sampling, all through `datagen.tasks.points.score` -> `read_answer`):

1. Only the text after the thinking counts (`solvers.thinking.final_text`: after the last
   `</think>`; nothing when a `<think>` is left open).
2. The answer is the LAST `"formula":` field of that text (the key spelled literally, in double
   or single quotes). When it lies inside a complete JSON object with a top-level `formula`
   key, that object's `formula` is the answer: the last complete answer object counts. Single
   quotes, code fences and trailing commas are tolerated. Objects are found by a string-aware
   bracket scan (a `{` inside a JSON string is text) and read as JSON only when nested at most
   `MAX_JSON_DEPTH` deep, in a text of at most `MAX_BRACKETS` brackets.
3. Otherwise that last field stands outside any answer object (prose, an unfinished or malformed
   object, a nested key). It is the answer only when it is the text's only `"formula"` field
   (`"formula": "4*6"` in prose is read). After an earlier field it makes the answer AMBIGUOUS,
   which is never correct: in `{"formula": "8/(3-8/3)"} final: "formula": "3+3+8+8"` the
   model's last word is not an answer object, so neither formula is its answer.

Every scan is linear in the text: `rfind`s and regular expressions without backtracking (one
left-to-right token pass for the brackets), and at most one candidate is handed to `json.loads`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from solvers.points.formula import FormulaError, read_formula
from solvers.thinking import final_text

MAX_JSON_DEPTH = 32  # an answer object nests 2 deep; json.loads recurses on deeper input
MAX_BRACKETS = 1024  # `{}[]` in the answer part; the study's answer has 6

# Inside an object, one token is either a run of brackets or everything up to the next bracket
# outside a string. Strings are JSON's double-quoted ones (an apostrophe in prose or in a
# single-quoted dict is text: brackets inside single quotes are rare, apostrophes are not). A
# string ends at its closing quote or, left open, at the end of its line, so an unclosed quote
# costs one pass; the body is matched as runs between escapes, and possessive quantifiers never
# backtrack.
_STRING = r'"[^"\\\n]*+(?:\\[\s\S]?[^"\\\n]*+)*+"?'
_CONTENT = rf"""(?:[^{{}}\[\]"]++|{_STRING})++"""
_TOKEN = re.compile(rf"{_CONTENT}|[{{}}\[\]]++")
_FIELD = re.compile(r"""["']formula["']\s*+:""")
_LAST_FIELD = re.compile(r"""(?s:.*)(["']formula["']\s*+:)""")  # one backward pass from the end
_VALUE = re.compile(r"""\s*+(?:"([^"\n]*+)"|'([^'\n]*+)')""")
_TRAILING_COMMA = re.compile(r",\s*+([}\]])")


@dataclass(frozen=True)
class Answer:
    """What a completion answers: the formula text (None when none can be read) and whether the
    answer is ambiguous (a `"formula"` field after the last answer object)."""

    formula: str | None
    ambiguous: bool = False


def objects(text: str) -> list[tuple[int, int, int]]:
    """The complete top-level `{...}` spans of a text as (start, end, deepest nesting), brackets
    inside strings ignored. An object still open at the end of the text is not one; a text with
    more than MAX_BRACKETS brackets has none (so the scan stays linear whatever the input)."""
    if sum(map(text.count, "{}[]")) > MAX_BRACKETS:
        return []
    spans: list[tuple[int, int, int]] = []
    depth = deepest = start = 0
    i, n = 0, len(text)
    while i < n:
        if depth == 0:
            i = text.find("{", i)
            if i < 0:
                break
        match = _TOKEN.match(text, i)
        token = match.group()  # never empty: every character starts one alternative
        if token[0] in "{}[]":  # at most MAX_BRACKETS characters in all come here
            for k, ch in enumerate(token):
                if ch == "{" or (ch == "[" and depth):
                    if depth == 0:
                        start, deepest = i + k, 0
                    depth += 1
                    deepest = max(deepest, depth)
                elif depth and ch in "}]":
                    depth -= 1
                    if depth == 0:
                        spans.append((start, i + k + 1, deepest))
        i = match.end()
    return spans


def _loads(candidate: str) -> object:
    candidate = candidate.strip()
    for attempt in (
        candidate,
        _TRAILING_COMMA.sub(r"\1", candidate),
        _TRAILING_COMMA.sub(r"\1", candidate.replace("'", '"')),
    ):
        try:
            return json.loads(attempt)
        except (ValueError, RecursionError):
            continue
    return None


def _formula_of(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _last_field(text: str) -> re.Match | None:
    """The last `"formula":` field: a few `rfind`s in the usual case, else one regex pass."""
    end = len(text)
    for _ in range(8):
        at = text.rfind("formula", 0, end)
        if at < 1:
            return None
        field = _FIELD.match(text, at - 1)
        if field is not None:
            return field
        end = at
    field = _LAST_FIELD.match(text, 0, end + len("formula") + 1)
    return _FIELD.match(text, field.start(1)) if field is not None else None


def _whole_object(tail: str) -> dict | None:
    """The text as one JSON object with a `formula` key, when it is exactly that (else None).

    Then the bracket scan would find that one object around the last field and read it the same
    way; this skips the scan. Few brackets means it is nested at most MAX_JSON_DEPTH deep.
    """
    text = tail.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) and "formula" in data else None


def read_answer(response: object) -> Answer:
    """The answer of a whole completion (thinking included) under the module's rule."""
    tail = final_text(response)
    if tail is None:
        return Answer(None)
    field = _last_field(tail)
    if field is None:
        return Answer(None)
    whole = _whole_object(tail)
    if whole is not None:  # the usual answer: the text is one JSON object, which holds the field
        return Answer(_formula_of(whole["formula"]))
    last = field.start()
    for start, end, deepest in objects(tail):
        if start < last < end:
            data = _loads(tail[start:end]) if deepest <= MAX_JSON_DEPTH else None
            if isinstance(data, dict) and "formula" in data:
                return Answer(_formula_of(data["formula"]))
            break
    if _FIELD.search(tail, 0, last) is not None:  # an earlier field: which one is meant?
        return Answer(None, ambiguous=True)
    value = _VALUE.match(tail, field.end())
    return Answer(_formula_of(value[1] if value[1] is not None else value[2]) if value else None)


def extract_formula(response: object) -> str | None:
    """The formula a completion answers (see the module docstring); None when there is none or
    the answer is ambiguous."""
    return read_answer(response).formula


class Verdict(str, Enum):
    """How an answer fares: right, a legal formula with the right or wrong numbers, no formula."""

    CORRECT = "correct"
    WRONG_VALUE = "wrong_value"  # legal, exactly the scored values, wrong result
    WRONG_NUMBERS = "wrong_numbers"  # legal, but not exactly the scored values
    ILLEGAL = "illegal"  # not a formula (or division by zero)
    AMBIGUOUS = "ambiguous"  # another "formula" field after the last answer object
    NO_ANSWER = "no_answer"  # no formula found after the thinking

    @property
    def valid(self) -> bool:
        """Instruction validity of the study: a legal formula with exactly the scored values."""
        return self in (Verdict.CORRECT, Verdict.WRONG_VALUE)


def judge_formula(formula: str | None, scored_values: Sequence[int], target: int = 24) -> Verdict:
    """The verdict on an already extracted formula."""
    if formula is None:
        return Verdict.NO_ANSWER
    try:
        read = read_formula(formula)
    except FormulaError:
        return Verdict.ILLEGAL
    if read.numbers != tuple(sorted(scored_values)):
        return Verdict.WRONG_NUMBERS
    if read.value != target or (read.stated is not None and read.stated != read.value):
        return Verdict.WRONG_VALUE
    return Verdict.CORRECT


def judge_answer(answer: Answer, scored_values: Sequence[int], target: int = 24) -> Verdict:
    """The verdict on a read answer."""
    if answer.ambiguous:
        return Verdict.AMBIGUOUS
    return judge_formula(answer.formula, scored_values, target)


def judge(response: object, scored_values: Sequence[int], target: int = 24) -> Verdict:
    """The verdict on a whole completion (thinking included) for the scored card values."""
    return judge_answer(read_answer(response), scored_values, target)
