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

Reading the answer out of a completion and judging it live in `solvers.points.answer`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from math import gcd

from solvers.points.forms import PRODUCT, SUM, Form, combine, leaf, text

MAX_CHARS = 512  # a 5-card answer needs ~30; room for spaces and redundant parentheses
MAX_DEPTH = 32  # parenthesis nesting
MAX_NUMBERS = 32  # integer literals in one formula
MAX_DIGITS = 18  # digits of one literal

_ALIASES = {"×": "*", "÷": "/", "−": "-"}  # the Unicode minus is deliberate
# One token per match: an ASCII integer, an operator (or alias), whitespace (skipped), or any
# other character (an error). MAX_CHARS bounds the scan.
_TOKEN = re.compile(r"([0-9]+)|([-+*/()=×÷−])|\s+|(.)", re.DOTALL)


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
    for number, op, other in _TOKEN.findall(source):
        if number:
            if len(number) > MAX_DIGITS:
                raise FormulaError(
                    f"number at {source.find(number)} has more than {MAX_DIGITS} digits"
                )
            numbers += 1
            if numbers > MAX_NUMBERS:
                raise FormulaError(f"more than {MAX_NUMBERS} numbers")
            out.append(int(number))
        elif op:
            op = _ALIASES.get(op, op)
            depth += (op == "(") - (op == ")")
            if depth > MAX_DEPTH:
                raise FormulaError(f"parentheses nested deeper than {MAX_DEPTH}")
            out.append(op)
        elif other:
            raise FormulaError(f"unexpected character {other!r} at {source.find(other)}")
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


def _evaluate(tree: Tree) -> tuple[int, int]:
    """The exact value as a reduced (numerator, denominator > 0) pair: Fraction's arithmetic,
    several times faster on these few small numbers."""
    if isinstance(tree, int):
        return tree, 1
    op, left, right = tree
    (an, ad), (bn, bd) = _evaluate(left), _evaluate(right)
    if op == "+":
        n, d = an * bd + bn * ad, ad * bd
    elif op == "-":
        n, d = an * bd - bn * ad, ad * bd
    elif op == "*":
        n, d = an * bn, ad * bd
    elif not bn:
        raise FormulaError("division by zero")
    else:
        n, d = an * bd, ad * bn
    if d < 0:
        n, d = -n, -d
    g = gcd(n, d)
    return n // g, d // g


def _numbers(tree: Tree) -> list[int]:
    return [tree] if isinstance(tree, int) else _numbers(tree[1]) + _numbers(tree[2])


def read_formula(text_: str) -> Formula:
    """Parse and evaluate a formula exactly; raises FormulaError on anything not legal."""
    tree, stated = parse(text_)
    return Formula(Fraction(*_evaluate(tree)), tuple(sorted(_numbers(tree))), stated)


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
