"""Reading and judging a model's General Points answer, safely and exactly.

`read_formula` is a whitelisted recursive-descent parser: non-negative integer literals,
`+ - * /`, parentheses, whitespace, `×`/`÷` (and the Unicode minus `−`) as aliases, and an
optional trailing `= <integer>`. Arithmetic is exact (`Fraction`); nothing is ever passed to
`eval` or to sympy's string parser. Limits (`MAX_CHARS`, `MAX_DEPTH`, `MAX_NUMBERS`,
`MAX_DIGITS`) are checked before any arithmetic, so hostile text is rejected in microseconds.

Decisions (the study's grammar does not need more):
- Unary minus or plus (`-3+27`, `2*-3`) is illegal: every card is a non-negative number.
- Division by zero is illegal.
- `expr = n` states a result; when `n` differs from the value of `expr` the answer is a false
  equation and `judge` calls it `wrong_value` (even if `expr` itself makes the target).
- Decimals, powers (`**`, `^`), names, calls and attribute access are illegal.

`extract_formula` reads the study's JSON answer (`cards`, `number`, `formula`) only from the text
after the last `</think>`; `judge` turns a whole completion into a `Verdict`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from solvers.points.forms import PRODUCT, SUM, Form, combine, leaf, text

MAX_CHARS = 512  # a 5-card answer needs ~30; room for spaces and redundant parentheses
MAX_DEPTH = 32  # parenthesis nesting
MAX_NUMBERS = 32  # integer literals in one formula
MAX_DIGITS = 18  # digits of one literal

_ALIASES = {"×": "*", "÷": "/", "−": "-"}  # the Unicode minus is deliberate
_OPERATORS = frozenset("+-*/()=")


class FormulaError(ValueError):
    """Text that is not a legal formula; the message says what and where."""


@dataclass(frozen=True)
class Formula:
    """A legal formula: its exact value, its integer literals (sorted) and the `= n` it states."""

    value: Fraction
    numbers: tuple[int, ...]
    stated: int | None = None


# A parsed tree: an int literal, or (operator, left, right).
Tree = int | tuple[str, "Tree", "Tree"]


def _tokens(source: str) -> list[str | int]:
    if not isinstance(source, str):
        raise FormulaError(f"a formula is a string, not {type(source).__name__}")
    if len(source) > MAX_CHARS:
        raise FormulaError(f"formula longer than {MAX_CHARS} characters")
    out: list[str | int] = []
    depth = numbers = 0
    i, n = 0, len(source)
    while i < n:
        ch = _ALIASES.get(source[i], source[i])
        if "0" <= ch <= "9":
            j = i
            while j < n and "0" <= source[j] <= "9":
                j += 1
            if j - i > MAX_DIGITS:
                raise FormulaError(f"number at {i} has more than {MAX_DIGITS} digits")
            numbers += 1
            if numbers > MAX_NUMBERS:
                raise FormulaError(f"more than {MAX_NUMBERS} numbers")
            out.append(int(source[i:j]))
            i = j
            continue
        if ch in _OPERATORS:
            depth += (ch == "(") - (ch == ")")
            if depth > MAX_DEPTH:
                raise FormulaError(f"parentheses nested deeper than {MAX_DEPTH}")
            out.append(ch)
        elif not ch.isspace():
            raise FormulaError(f"unexpected character {ch!r} at {i}")
        i += 1
    return out


class _Parser:
    """expr := term (('+'|'-') term)*; term := factor (('*'|'/') factor)*;
    factor := INT | '(' expr ')'. Recursion depth is bounded by MAX_DEPTH."""

    def __init__(self, tokens: list[str | int]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | int | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str | int | None:
        token = self.peek()
        self.i += 1
        return token

    def expr(self) -> Tree:
        tree = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            tree = (op, tree, self.term())  # type: ignore[assignment]
        return tree

    def term(self) -> Tree:
        tree = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()
            tree = (op, tree, self.factor())  # type: ignore[assignment]
        return tree

    def factor(self) -> Tree:
        token = self.take()
        if isinstance(token, int):
            return token
        if token == "(":
            tree = self.expr()
            if self.take() != ")":
                raise FormulaError("unbalanced parenthesis")
            return tree
        if token is None:
            raise FormulaError("formula ends where a number was expected")
        raise FormulaError(f"{token!r} where a number or '(' was expected")


def parse(source: str) -> tuple[Tree, int | None]:
    """The tree of a formula and the integer it states after `=` (None without `=`)."""
    tokens = _tokens(source)
    stated = None
    if "=" in tokens:
        at = tokens.index("=")
        rest = tokens[at + 1 :]
        if rest[:1] == ["-"] and len(rest) == 2 and isinstance(rest[1], int):
            stated = -rest[1]
        elif len(rest) == 1 and isinstance(rest[0], int):
            stated = rest[0]
        else:
            raise FormulaError("'=' must be followed by one integer and nothing else")
        tokens = tokens[:at]
    if not tokens:
        raise FormulaError("empty formula")
    parser = _Parser(tokens)
    tree = parser.expr()
    if parser.i != len(tokens):
        raise FormulaError(f"unexpected {tokens[parser.i]!r} after a complete formula")
    return tree, stated


def _evaluate(tree: Tree) -> Fraction:
    if isinstance(tree, int):
        return Fraction(tree)
    op, left, right = tree
    a, b = _evaluate(left), _evaluate(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if not b:
        raise FormulaError("division by zero")
    return a / b


def _numbers(tree: Tree) -> list[int]:
    return [tree] if isinstance(tree, int) else _numbers(tree[1]) + _numbers(tree[2])


def read_formula(text_: str) -> Formula:
    """Parse and evaluate a formula exactly; raises FormulaError on anything not legal."""
    tree, stated = parse(text_)
    return Formula(_evaluate(tree), tuple(sorted(_numbers(tree))), stated)


def to_form(tree: Tree) -> Form:
    if isinstance(tree, int):
        return leaf(tree)
    op, left, right = tree
    kind = SUM if op in "+-" else PRODUCT
    return combine(kind, to_form(left), to_form(right), op in "-/")


def canonical(formula: str) -> str:
    """The canonical spelling of a formula (what `solve` returns for the same solution):
    `canonical("3*(8)") == canonical("8*3") == "8*3"`. Raises FormulaError."""
    tree, _ = parse(formula)
    return text(to_form(tree))


# --- the study's JSON answer ------------------------------------------------------------------

# No backtick inside a fence body: each match attempt stops at the next backtick, so many
# unclosed fences cannot make the search quadratic.
_FENCE = re.compile(r"```[a-zA-Z]*[ \t]*\n?([^`]*)```")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_FORMULA_FIELD = re.compile(r"""["']formula["']\s*:\s*(?:"([^"\n]*)"|'([^'\n]*)')""")
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def answer_text(response: str) -> str | None:
    """The part of a completion after the thinking: after the last `</think>`, the whole text
    when there is no think block, None when a `<think>` never closes (also one opened again
    after the last `</think>`: the answer could be inside it)."""
    end = response.rfind(THINK_CLOSE)
    tail = response[end + len(THINK_CLOSE) :] if end >= 0 else response
    return None if THINK_OPEN in tail else tail


def _objects(text_: str) -> list[str]:
    """Candidate JSON objects, in order: fenced blocks, then balanced {...} spans."""
    spans = [m[1] for m in _FENCE.finditer(text_)]
    depth, start = 0, -1
    for i, ch in enumerate(text_):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                spans.append(text_[start : i + 1])
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
        except ValueError:
            continue
    return None


def extract_formula(response: str) -> str | None:
    """The "formula" of the study's JSON answer, read only after the thinking. Tolerates single
    quotes, code fences and trailing commas; falls back to a `"formula": "..."` pattern. When
    several answers follow the thinking, the last one counts. None when there is none."""
    if not isinstance(response, str):
        return None
    tail = answer_text(response)
    if tail is None:
        return None
    for candidate in reversed(_objects(tail)):
        data = _loads(candidate)
        if isinstance(data, dict) and "formula" in data:
            value = data["formula"]
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str) and value.strip():
                return value.strip()
    matches = [(m[1] if m[1] is not None else m[2]) for m in _FORMULA_FIELD.finditer(tail)]
    matches = [m.strip() for m in matches if m.strip()]
    return matches[-1] if matches else None


class Verdict(str, Enum):
    """How an answer fares: right, a legal formula with the right or wrong numbers, no formula."""

    CORRECT = "correct"
    WRONG_VALUE = "wrong_value"  # legal, exactly the scored values, wrong result
    WRONG_NUMBERS = "wrong_numbers"  # legal, but not exactly the scored values
    ILLEGAL = "illegal"  # not a formula (or division by zero)
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


def judge(response: str, scored_values: Sequence[int], target: int = 24) -> Verdict:
    """The verdict on a whole completion (thinking included) for the scored card values."""
    return judge_formula(extract_formula(response), scored_values, target)
