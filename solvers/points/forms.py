"""Canonical forms of arithmetic formulas over cards, up to commutativity and associativity.

A formula is a leaf (a card value), a sum or a product. Sums and products are flattened into two
sorted multisets of operands, the added and the subtracted terms (or the multiplied and the
divided factors): `a-(b-c)`, `a+c-b` and `c-b+a` all become `S[a,c|b]`, `a/(b/c)` becomes
`P[a,c|b]`. Leaves are labelled by their value, so cards of equal value are interchangeable.
Distributivity is not used: `a*(b+c)` and `a*b+a*c` stay different solutions.

This is the form the solver deduplicates with. `sympy_form` turns a form into a sympy expression
with every card a distinct symbol, an independent canonical form: sympy flattens and sorts
`Add`/`Mul` the same way and, with distinct symbols, has nothing else to combine, so it merges
no two forms with different keys. The tests check that on every four-card hand of the deck.

`text` writes a form with the fewest parentheses: only a sum that is a factor of a product needs
them. Inside a sum or product, compound operands come first, then the cards from high to low,
the study's own style: `(10/2+7)*2`, `8/(3-8/3)`.
"""

from __future__ import annotations

from typing import Any

LEAF, SUM, PRODUCT = "n", "S", "P"


class Form:
    """One canonical formula. `key` identifies it: two formulas are the same solution exactly
    when their keys are equal."""

    __slots__ = ("key", "kind", "neg", "pos", "value")

    def __init__(
        self,
        kind: str,
        key: str,
        pos: tuple[Form, ...] = (),
        neg: tuple[Form, ...] = (),
        value: int = 0,
    ) -> None:
        self.kind, self.key, self.pos, self.neg, self.value = kind, key, pos, neg, value

    def __repr__(self) -> str:
        return f"Form({text(self)!r})"


_LEAVES: dict[int, Form] = {}


def leaf(value: int) -> Form:
    form = _LEAVES.get(value)
    if form is None:
        form = _LEAVES[value] = Form(LEAF, str(value), value=value)
    return form


def _key(form: Form) -> str:
    return form.key


def combine(kind: str, left: Form, right: Form, inverse: bool) -> Form:
    """`left + right` (kind SUM) or `left * right` (PRODUCT); `inverse` makes it `-` or `/`."""
    lp, ln = (left.pos, left.neg) if left.kind == kind else ((left,), ())
    rp, rn = (right.pos, right.neg) if right.kind == kind else ((right,), ())
    if inverse:  # a - (b - c) = a + c - b and a / (b / c) = a * c / b
        pos, neg = sorted(lp + rn, key=_key), sorted(ln + rp, key=_key)
    else:
        pos, neg = sorted(lp + rp, key=_key), sorted(ln + rn, key=_key)
    key = f"{kind}[{','.join(t.key for t in pos)}|{','.join(t.key for t in neg)}]"
    return Form(kind, key, tuple(pos), tuple(neg))


def _display(terms: tuple[Form, ...]) -> list[Form]:
    compound = [t for t in terms if t.kind != LEAF]  # already sorted by key
    return compound + sorted((t for t in terms if t.kind == LEAF), key=lambda t: -t.value)


def text(form: Form) -> str:
    """The formula with the fewest parentheses, no spaces, e.g. `8/(3-8/3)`."""
    if form.kind == LEAF:
        return str(form.value)
    if form.kind == SUM:
        return "+".join(map(text, _display(form.pos))) + "".join(
            "-" + text(t) for t in _display(form.neg)
        )
    return "*".join(map(_factor, _display(form.pos))) + "".join(
        "/" + _factor(t) for t in _display(form.neg)
    )


def _factor(form: Form) -> str:
    return f"({text(form)})" if form.kind == SUM else text(form)


def leaves(form: Form) -> list[int]:
    """The card values of a form, in the order `text` writes them."""
    if form.kind == LEAF:
        return [form.value]
    return [v for t in (*_display(form.pos), *_display(form.neg)) for v in leaves(t)]


def sympy_form(form: Form) -> Any:
    """The form as a sympy expression with each card a distinct symbol (`c8_0`, `c8_1`, ... for
    two 8s, numbered in the order `text` writes them, so the labelling is itself canonical)."""
    import sympy

    seen: dict[int, int] = {}

    def build(f: Form) -> Any:
        if f.kind == LEAF:
            k = seen[f.value] = seen.get(f.value, -1) + 1
            return sympy.Symbol(f"c{f.value}_{k}")
        pos = [build(t) for t in _display(f.pos)]
        neg = [build(t) for t in _display(f.neg)]
        if f.kind == SUM:
            return sympy.Add(*pos) - sympy.Add(*neg)
        return sympy.Mul(*pos) / sympy.Mul(*neg)

    return build(form)
