"""Exact General Points solver: is a hand solvable, and all its distinct solutions.

Method. Every formula splits at its last operation into two sub-formulas over complementary
sub-multisets of the hand. `_values(ms)` is the set of exact rational values (reduced integer
pairs) that the sub-multiset `ms` can make, memoised per sorted multiset so that hands sharing
cards share work.
Solvability needs only the values of proper sub-multisets: for each split and each value `p` of
one side, the value the other side would need (`target - p`, `target / p`, ...) is one set
lookup. Enumerating solutions walks down the same way, asking each side only for the values that
can still reach the target, and builds canonical forms (`forms.py`) on the way up, so equivalent
formulas collapse as early as possible. Two formulas are one solution exactly when their forms
are equal; sympy's canonical form with the cards as distinct symbols (`forms.sympy_form`) is the
independent check of that, which the tests apply to every hand of the deck: it merges nothing
more, so the solver does not pay ~1 ms per solution to ask sympy.

Run `datagen solve points 4 7 8 8 --all` for the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from math import gcd

from solvers.points.cards import CardError
from solvers.points.forms import PRODUCT, SUM, Form, combine, leaf, text

Multiset = tuple[int, ...]


def _multiset(values: Sequence[int]) -> Multiset:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise CardError(f"card values must be a sequence of integers, not {values!r}")
    ms = tuple(sorted(values)) if all(_is_int(v) for v in values) else None
    if not ms or ms[0] < 0:
        raise CardError(f"card values must be one or more non-negative integers, not {values!r}")
    return ms


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _target(target: int) -> int:
    if not _is_int(target):
        raise CardError(f"the target must be an integer, not {target!r}")
    return target


@lru_cache(maxsize=8192)
def _splits(ms: Multiset) -> tuple[tuple[Multiset, Multiset], ...]:
    """Every way to cut `ms` into two non-empty sub-multisets, each unordered pair once."""
    n, seen = len(ms), set()
    out = []
    for mask in range(1, (1 << n) - 1, 2):  # odd masks: card 0 always on the left
        a = tuple(ms[i] for i in range(n) if mask >> i & 1)
        b = tuple(ms[i] for i in range(n) if not mask >> i & 1)
        if (a, b) not in seen and (b, a) not in seen:
            seen.add((a, b))
            out.append((a, b))
    return tuple(out)


# Exact rationals as reduced (numerator, denominator) pairs, denominator > 0: the same numbers as
# Fraction, but tuples of ints hash and compare several times faster, and this loop is the cost.
Q = tuple[int, int]


def _q(n: int, d: int) -> Q:
    if d < 0:
        n, d = -n, -d
    g = gcd(n, d)
    return (n // g, d // g)


def _add(a: Q, b: Q) -> Q:
    return _q(a[0] * b[1] + b[0] * a[1], a[1] * b[1])


def _sub(a: Q, b: Q) -> Q:
    return _q(a[0] * b[1] - b[0] * a[1], a[1] * b[1])


def _mul(a: Q, b: Q) -> Q:
    return _q(a[0] * b[0], a[1] * b[1])


def _div(a: Q, b: Q) -> Q:
    return _q(a[0] * b[1], a[1] * b[0])


# A 4-card value set holds ~1,000 rationals (~0.1 MB): the bound keeps 5-card sampling under
# ~100 MB, while the 559 sub-multisets of 1 to 3 cards of a 13-rank deck fit with room to spare.
@lru_cache(maxsize=1024)
def _values(ms: Multiset) -> frozenset[Q]:
    if len(ms) == 1:
        return frozenset(((ms[0], 1),))
    out: set[Q] = set()
    add = out.add
    for a_ms, b_ms in _splits(ms):
        vb = _values(b_ms)
        for an, ad in _values(a_ms):
            for bn, bd in vb:
                if ad == 1 and bd == 1:  # integers: most values of small multisets
                    add((an + bn, 1))
                    add((an - bn, 1))
                    add((bn - an, 1))
                    add((an * bn, 1))
                    if bn:
                        add(_q(an, bn))
                    if an:
                        add(_q(bn, an))
                else:
                    n1, n2, d = an * bd, bn * ad, ad * bd
                    add(_q(n1 + n2, d))
                    add(_q(n1 - n2, d))
                    add(_q(n2 - n1, d))
                    add(_q(an * bn, d))
                    if bn:
                        add(_q(n1, ad * bn))
                    if an:
                        add(_q(n2, bd * an))
    return frozenset(out)


Build = Callable[[Form, Form], Form]


def _sum(p: Form, q: Form) -> Form:
    return combine(SUM, p, q, False)


def _product(p: Form, q: Form) -> Form:
    return combine(PRODUCT, p, q, False)


def _p_minus_q(p: Form, q: Form) -> Form:
    return combine(SUM, p, q, True)


def _q_minus_p(p: Form, q: Form) -> Form:
    return combine(SUM, q, p, True)


def _p_over_q(p: Form, q: Form) -> Form:
    return combine(PRODUCT, p, q, True)


def _q_over_p(p: Form, q: Form) -> Form:
    return combine(PRODUCT, q, p, True)


def _partners(p: Q, v: Q, qs: frozenset[Q]) -> list[tuple[Q, Build]]:
    """Each (q, op) with q in `qs` and `op(p, q) == v`, over the six operations (both orders of
    `-` and `/`). Division by zero is never formed."""
    out: list[tuple[Q, Build]] = []
    for q, build in ((_sub(v, p), _sum), (_sub(p, v), _p_minus_q), (_add(v, p), _q_minus_p)):
        if q in qs:
            out.append((q, build))
    if p[0]:
        for q, build in ((_div(v, p), _product), (_mul(v, p), _q_over_p)):
            if q in qs:
                out.append((q, build))
        if v[0] and _div(p, v) in qs:
            out.append((_div(p, v), _p_over_q))
    elif not v[0]:  # 0 * q == 0 and 0 / q == 0 for every q (q != 0 for the division)
        out.extend((q, _product) for q in qs)
        out.extend((q, _p_over_q) for q in qs if q[0])
    return out


def _reaches(ms: Multiset, v: Q) -> bool:
    if len(ms) == 1:
        return (ms[0], 1) == v
    for a_ms, b_ms in _splits(ms):
        ps, qs = _values(a_ms), _values(b_ms)
        if len(ps) > len(qs):  # the six operations are symmetric: scan the smaller side
            ps, qs = qs, ps
        if any(_partners(p, v, qs) for p in ps):
            return True
    return False


def _forms(ms: Multiset, v: Q, memo: dict) -> dict[str, Form]:
    """All canonical forms over exactly the cards `ms` whose value is `v`, by key."""
    found = memo.get((ms, v))
    if found is not None:
        return found
    out: dict[str, Form] = {}
    if len(ms) == 1:
        if (ms[0], 1) == v:
            out[str(ms[0])] = leaf(ms[0])
    else:
        for a_ms, b_ms in _splits(ms):
            ps, qs = _values(a_ms), _values(b_ms)
            if len(ps) > len(qs):
                a_ms, b_ms, ps, qs = b_ms, a_ms, qs, ps
            for p in ps:
                for q, build in _partners(p, v, qs):
                    right = _forms(b_ms, q, memo).values()
                    for left in _forms(a_ms, p, memo).values():
                        for r in right:
                            form = build(left, r)
                            out.setdefault(form.key, form)
    memo[(ms, v)] = out
    return out


def _order(formula: str) -> tuple[int, str]:
    return len(formula), formula


@lru_cache(maxsize=1 << 14)  # 5-card results are a few kB each
def _solve(ms: Multiset, target: int) -> tuple[str, ...]:
    forms = _forms(ms, (target, 1), {})
    return tuple(sorted(map(text, forms.values()), key=_order))


@lru_cache(maxsize=1 << 18)
def _solvable(ms: Multiset, target: int) -> bool:
    return _reaches(ms, (target, 1))


def solve(values: Sequence[int], target: int = 24) -> tuple[str, ...]:
    """All distinct solutions of a hand: one formula per canonical form (commutativity and
    associativity, cards of equal value interchangeable), each with the fewest parentheses,
    shortest first then alphabetical. Empty when the hand is not solvable. Cached per sorted
    multiset and target. Raises CardError on values that are not non-negative integers."""
    return _solve(_multiset(values), _target(target))


def is_solvable(values: Sequence[int], target: int = 24) -> bool:
    """Whether some formula using every value once makes `target`. Cached per multiset."""
    return _solvable(_multiset(values), _target(target))


def clear_caches() -> None:
    """Forget every memoised value set and result (for cold-start measurements)."""
    for cached in (_splits, _values, _solve, _solvable):
        cached.cache_clear()
