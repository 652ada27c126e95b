"""The exact General Points solver (solvers.points.search), checked against brute force."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from fractions import Fraction
from functools import cache

import pytest

from solvers.points import (
    CardError,
    canonical,
    clear_caches,
    hand_values,
    is_solvable,
    read_formula,
    solve,
)
from solvers.points.forms import sympy_form
from solvers.points.search import _forms


def _pairings(values: tuple[Fraction, ...]):
    for i, j in itertools.combinations(range(len(values)), 2):
        a, b = values[i], values[j]
        rest = [v for k, v in enumerate(values) if k not in (i, j)]
        results = {a + b, a - b, b - a, a * b}
        results |= {a / b} if b else set()
        results |= {b / a} if a else set()
        for r in results:
            yield tuple(sorted([*rest, r]))


@cache
def _brute_values(values: tuple[Fraction, ...]) -> frozenset[Fraction]:
    """Independent brute force: combine any two numbers in every way, recurse on the rest."""
    if len(values) == 1:
        return frozenset(values)
    return frozenset().union(*map(_brute_values, _pairings(values)))


def _brute_solvable(values, target=24) -> bool:
    def reach(state: tuple[Fraction, ...]) -> bool:
        if len(state) <= 3:  # small states: the full value set, shared across hands
            return Fraction(target) in _brute_values(state)
        return any(reach(s) for s in set(_pairings(state)))

    return reach(tuple(sorted(map(Fraction, values))))


def _brute_formulas(items: list[tuple[Fraction, str]], target: Fraction) -> set[str]:
    """Every fully parenthesised formula making `target` (pairwise reduction, all orders)."""
    if len(items) == 1:
        return {items[0][1]} if items[0][0] == target else set()
    found: set[str] = set()
    for i, j in itertools.combinations(range(len(items)), 2):
        (a, sa), (b, sb) = items[i], items[j]
        rest = [x for k, x in enumerate(items) if k not in (i, j)]
        options = [(a + b, f"({sa}+{sb})"), (a - b, f"({sa}-{sb})"), (b - a, f"({sb}-{sa})")]
        options.append((a * b, f"({sa}*{sb})"))
        if b:
            options.append((a / b, f"({sa}/{sb})"))
        if a:
            options.append((b / a, f"({sb}/{sa})"))
        for option in options:
            found |= _brute_formulas([*rest, option], target)
    return found


def _hands(n: int, count: int, seed: int, high: int = 13) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randint(1, high) for _ in range(n)] for _ in range(count)]


def test_known_hands():
    assert solve([3, 3, 8, 8]) == ("8/(3-8/3)",)
    assert solve(hand_values(["2", "7", "Q", "2"])) == ("(10/2+7)*2",)
    assert set(solve([4, 7, 8, 8])) == {"8*7-8*4", "(7+4-8)*8", "(7-8/8)*4"}
    assert solve([1, 1, 1, 1]) == () and not is_solvable([1, 1, 1, 1])
    assert is_solvable([1, 5, 5, 5]) and solve([5, 5, 5, 1]) == ("(5-1/5)*5",)


def test_every_solution_verifies_and_is_canonical():
    for hand in _hands(4, 60, seed=1) + _hands(5, 8, seed=2):
        solutions = solve(hand)
        assert list(solutions) == sorted(solutions, key=lambda s: (len(s), s))
        for formula in solutions:
            read = read_formula(formula)
            assert read.value == 24 and read.numbers == tuple(sorted(hand)), (hand, formula)
            assert canonical(formula) == formula


def test_solvability_agrees_with_brute_force_including_five_cards():
    hands = _hands(4, 250, seed=3) + _hands(5, 60, seed=4) + _hands(4, 50, seed=5, high=19)
    disagreements = [h for h in hands if is_solvable(h) != _brute_solvable(h)]
    assert not disagreements
    assert _brute_solvable([10] * 6) is False
    assert any(is_solvable(h) for h in hands) and not all(is_solvable(h) for h in hands)
    assert all(bool(solve(h)) == is_solvable(h) for h in hands[:100])


def test_all_solutions_match_brute_force_up_to_canonical_form():
    # The brute force writes every formula (all orders, all bracketings); mapping each to its
    # canonical spelling must give exactly the solver's list: nothing missed, nothing doubled,
    # and sympy's canonical form (distinct symbols) merges nothing the structural form keeps.
    hands = [*_hands(4, 25, seed=6), [3, 3, 8, 8], [1, 2, 3, 4], [6, 6, 6, 6], [2, 2, 2, 3]]
    for hand in hands:
        brute = _brute_formulas([(Fraction(v), str(v)) for v in hand], Fraction(24))
        assert {canonical(f) for f in brute} == set(solve(hand)), hand


def test_sympy_merges_no_two_solutions_of_any_hand():
    # The solver's forms are its notion of "the same solution"; sympy's canonical form (cards as
    # distinct symbols) is the independent one. On every four-card hand of the deck, and some
    # five-card and other-target hands, it keeps each solution apart and merges none.
    hands = [(h, 24) for h in itertools.combinations_with_replacement(range(1, 14), 4)]
    hands += [(tuple(h), 24) for h in _hands(5, 30, seed=11)] + [((2, 3, 5, 7), 17), ((1, 4, 6), 0)]
    checked = 0
    for hand, target in hands:
        forms = list(_forms(tuple(sorted(hand)), (target, 1), {}).values())
        assert len({sympy_form(f) for f in forms}) == len(forms) == len(solve(hand, target)), hand
        checked += len(forms)
    assert checked > 4000


def test_commutative_and_associative_variants_merge():
    # 1 2 3 4: (1+2+3)*4, 4*(3+2+1), (2+1+3)*4 ... are one solution.
    solutions = solve([4, 3, 2, 1])
    assert sum(read_formula(s).value == 24 for s in solutions) == len(solutions)
    assert "(3+2+1)*4" in solutions
    assert canonical("4*(1+(2+3))") == canonical("(3+2+1)*4") == "(3+2+1)*4"
    assert canonical("8-(3-1)") == canonical("8+1-3") == "8+1-3"
    assert canonical("8/(4/2)") == "8*2/4"
    assert canonical("2*(3+4)") != canonical("2*3+2*4")  # distributivity is not merged


def test_other_targets_sizes_and_zero():
    assert solve([5, 5], 10) == ("5+5",) and solve([6, 4], 24) == ("6*4",)
    assert solve([24], 24) == ("24",) and solve([23], 24) == ()
    assert "3-8" in solve([3, 8], -5)
    assert set(solve([2, 2], 0)) == {"2-2"}
    assert solve([0, 5], 0) == ("0/5", "5*0")
    assert is_solvable([1, 2, 3, 4, 5, 6]) and not is_solvable([10] * 6)  # 6 cards
    assert is_solvable([1, 2, 3], 6) and solve([2, 3, 1], 6) == ("3*2*1", "3*2/1", "3+2+1")
    for formula in solve([7, 7, 7, 7, 7], 24):
        assert read_formula(formula).value == 24


def test_cache_is_per_multiset_and_clearable():
    assert solve([8, 3, 8, 3]) is solve([3, 3, 8, 8])  # one cached tuple for the multiset
    clear_caches()
    assert solve((8, 8, 3, 3)) == ("8/(3-8/3)",)


@pytest.mark.parametrize("values", [[], "2738", [2, -1, 3], [2, 1.5], [True, 3], None])
def test_bad_values(values):
    with pytest.raises(CardError):
        solve(values)  # type: ignore[arg-type]
    with pytest.raises(CardError):
        is_solvable(values)  # type: ignore[arg-type]


def test_bad_target():
    with pytest.raises(CardError, match="target"):
        solve([1, 2], "24")  # type: ignore[arg-type]


def test_study_fraction_of_solvable_hands():
    # Ordered draws of 4 cards from 13 ranks (13**4 hands), counted by multiset with weights:
    # the study reports 73.1% solvable with J/Q/K=10 and 79.2% with 11/12/13.
    def fraction(faces: tuple[int, int, int]) -> float:
        ranks = [*range(1, 11), *faces]
        solvable = sum(is_solvable(h) for h in itertools.product(ranks, repeat=4))
        return solvable / 13**4

    assert round(fraction((10, 10, 10)) * 100, 1) == 73.1
    assert round(fraction((11, 12, 13)) * 100, 1) == 79.2


def test_import_is_light():
    # solvers import nothing of ours and no ML library, and solving needs no sympy.
    code = (
        "import sys, solvers.points as p; p.solve([3, 3, 8, 8]); "
        "print(sorted({'sympy', 'torch', 'datagen'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
