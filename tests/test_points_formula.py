"""The safe formula reader, answer extraction and verdicts (solvers.points.formula)."""

from __future__ import annotations

import contextlib
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.points import (
    Formula,
    FormulaError,
    Verdict,
    canonical,
    extract_formula,
    judge,
    read_formula,
    solve,
)
from solvers.points.formula import MAX_CHARS

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- reader -------------------------------------------------------------------------------------


def test_exact_values_where_float_fails():
    assert read_formula("8/(3-8/3)") == Formula(Fraction(24), (3, 3, 8, 8))
    assert read_formula("1/3 + 1/3 + 1/3").value == 1
    assert read_formula(" ( 10 / 2 + 7 ) * 2 = 24 ") == Formula(Fraction(24), (2, 2, 7, 10), 24)
    assert read_formula("6 × 4 ÷ 1").value == 24
    assert read_formula("9 − 3").value == 6  # the Unicode minus is an alias
    assert read_formula("3-8=-5").stated == -5
    assert read_formula("007").numbers == (7,)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "= 24",
        "-3+27",  # unary minus is not part of the grammar
        "3*-8",
        "+3",
        "2**3",
        "2^3",
        "9**9**9**9",
        "1.5*16",
        "1e9",
        "(3+5",
        "3+5)",
        "()",
        "3 4",
        "3+",
        "8/(4-4)",  # division by zero
        "3*8 = 24 = 24",
        "3*8 = 4*6",
        "3*8 = x",
        "__import__('os').system('echo hi')",
        "().__class__.__bases__",
        "(1).real",
        "lambda: 1",
        "abs(24)",
        "24;",
        "x*2",
        "２4",  # a full-width digit is not an ASCII digit
        "2\u00b2",  # superscript two: isdigit() would accept it
        "(" * 40 + "1" + ")" * 40,
        "1" * 19,
        "+".join(["1"] * 33),
        "1" + " " * MAX_CHARS,
    ],
)
def test_illegal_formulas_are_rejected(text):
    with pytest.raises(FormulaError):
        read_formula(text)


def test_non_strings_are_rejected():
    with pytest.raises(FormulaError):
        read_formula(24)  # type: ignore[arg-type]


def _render(tree) -> str:
    if isinstance(tree, int):
        return str(tree)
    op, left, right = tree
    return f"({_render(left)}{op}{_render(right)})"


def _value(tree) -> Fraction:
    if isinstance(tree, int):
        return Fraction(tree)
    op, left, right = tree
    a, b = _value(left), _value(right)
    return {"+": a + b, "-": a - b, "*": a * b}[op] if op != "/" else a / b


def _count(tree) -> int:
    return 1 if isinstance(tree, int) else _count(tree[1]) + _count(tree[2])


trees = st.recursive(
    st.integers(0, 30),
    lambda sub: st.tuples(st.sampled_from("+-*/"), sub, sub),
    max_leaves=8,
)


@FAST
@given(trees)
def test_reader_matches_exact_evaluation_and_canonical_keeps_it(tree):
    text = _render(tree)
    try:
        expected = _value(tree)
    except ZeroDivisionError:
        with pytest.raises(FormulaError, match="division by zero"):
            read_formula(text)
        return
    read = read_formula(text)
    assert read.value == expected and len(read.numbers) == _count(tree)
    again = read_formula(canonical(text))
    assert again.value == expected and again.numbers == read.numbers
    assert canonical(canonical(text)) == canonical(text)


formula_chars = st.text(alphabet="0123456789+-*/()= ×÷.^_xa'\"\n", max_size=80)


@FAST
@given(st.one_of(st.text(max_size=200), formula_chars))
def test_no_exception_but_formula_error_escapes(text):
    try:
        read = read_formula(text)
    except FormulaError:
        return
    assert isinstance(read.value, Fraction)
    assert all(isinstance(n, int) and n >= 0 for n in read.numbers)


hostile_chunks = st.sampled_from(
    [
        "(",
        ")",
        "9" * 18,
        "*",
        "/",
        "+",
        "-",
        "**",
        "9**9**9",
        "__import__('os')",
        ".real",
        " ",
        "1/3",
        "=",
        "×",
        "((((((((",
        "\x00",
        "é",
    ]
)


@FAST
@given(st.lists(hostile_chunks, min_size=1, max_size=30))
def test_big_hostile_input_is_rejected(chunks):
    # How fast: benchmarks/bench_points.py and bench_hostile.py (no timing in unit tests).
    piece = "".join(chunks)
    text = piece * (10_001 // len(piece) + 1)  # over 10 kB
    with pytest.raises(FormulaError):
        read_formula(text)
    assert judge(f'</think>{{"formula": "{text}"}}', [1, 2, 3, 4]) is not Verdict.CORRECT


@FAST
@given(st.lists(hostile_chunks, min_size=1, max_size=60).map("".join))
def test_short_hostile_input_reads_or_raises_formula_error(text):
    with contextlib.suppress(FormulaError):
        read_formula(text[:MAX_CHARS])


def test_largest_legal_formula_is_read():
    text = "/".join(["999999999999999999"] * 16) + "*" + "*".join(["999999999999999999"] * 16)
    assert read_formula(text[:MAX_CHARS]).value > 0


# --- extraction ---------------------------------------------------------------------------------

ANSWER = '{\n"cards": ["2", "7", "Q", "2"],\n "number": [2, 7, 10, 2],\n "formula": "(10/2+7)*2"\n}'


def test_extract_the_study_answer():
    assert extract_formula(ANSWER) == "(10/2+7)*2"
    assert extract_formula("<think>try 2*12</think>\n" + ANSWER) == "(10/2+7)*2"
    single = "{'cards': ['3'], 'number': [3], 'formula': '8/(3-8/3)',}"
    assert extract_formula(single) == "8/(3-8/3)"
    fenced = '</think>\n```json\n{"cards": [], "number": [], "formula": "6*4",}\n```'
    assert extract_formula(fenced) == "6*4"
    assert extract_formula('</think> sure: "formula": "4*6" and more') == "4*6"
    assert extract_formula('{"formula": 24}') == "24"
    assert extract_formula("```json\n" * 3 + "```json\n{'formula': '3*8'}\n```") == "3*8"
    assert extract_formula('</think>{"formula": "1+1"} then {"formula": "2*12"}') == "2*12"


def test_extract_ignores_the_thinking():
    inside = '<think>{"formula": "4*6"}</think> I give up.'
    assert extract_formula(inside) is None
    assert extract_formula('<think>{"formula": "4*6"} and never closed') is None
    assert (
        extract_formula('{"formula": "1+1"}<think>x</think><think>{"formula": "4*6"}</think>')
        is None
    )
    assert extract_formula('<think>a</think>{"formula": "4*6"}<think>{"formula": "1"}') is None
    assert extract_formula("no json at all") is None
    assert extract_formula('{"formula": ""}') is None
    assert extract_formula(None) is None  # type: ignore[arg-type]


@FAST
@given(st.text(max_size=300))
def test_extract_and_judge_never_raise(text):
    found = extract_formula(text)
    assert found is None or isinstance(found, str)
    assert isinstance(judge(text, [3, 3, 8, 8]), Verdict)


# --- verdicts -----------------------------------------------------------------------------------


def _answer(formula: str) -> str:
    return f'<think>some reasoning</think>{{"cards": [], "number": [], "formula": "{formula}"}}'


def test_verdicts():
    hand = [3, 3, 8, 8]
    assert judge(_answer("8/(3-8/3)"), hand) is Verdict.CORRECT  # float eval gets this wrong
    assert judge(_answer("8 / (3 - 8 / 3) = 24"), hand) is Verdict.CORRECT
    assert judge(_answer("8*3*1*1"), hand) is Verdict.WRONG_NUMBERS
    assert judge(_answer("8*3"), hand) is Verdict.WRONG_NUMBERS
    assert judge(_answer("8+8+3+3"), hand) is Verdict.WRONG_VALUE
    assert judge(_answer("8/(3-8/3) = 25"), hand) is Verdict.WRONG_VALUE  # a false equation
    assert judge(_answer("8+8+3+3 = 24"), hand) is Verdict.WRONG_VALUE
    assert judge(_answer("8/(3-3)+8"), hand) is Verdict.ILLEGAL
    assert judge(_answer("8**3"), hand) is Verdict.ILLEGAL
    assert judge('<think>{"formula": "8/(3-8/3)"}', hand) is Verdict.NO_ANSWER
    assert judge("", hand) is Verdict.NO_ANSWER
    assert judge(_answer("6*4"), [6, 4], target=24) is Verdict.CORRECT
    assert judge(_answer("3-8"), [3, 8], target=-5) is Verdict.CORRECT


def test_validity_and_values():
    assert Verdict.CORRECT.valid and Verdict.WRONG_VALUE.valid
    assert not any(v.valid for v in (Verdict.WRONG_NUMBERS, Verdict.ILLEGAL, Verdict.NO_ANSWER))
    assert Verdict("wrong_numbers") is Verdict.WRONG_NUMBERS and Verdict.CORRECT == "correct"


def test_every_solver_solution_is_judged_correct():
    for hand in ([3, 3, 8, 8], [4, 7, 8, 8], [1, 5, 5, 5], [2, 3, 5, 12, 13]):
        for formula in solve(hand):
            assert judge(_answer(formula), list(reversed(hand))) is Verdict.CORRECT


def test_reader_recursion_is_bounded_by_its_limits():
    # The deepest and the longest legal formulas parse with little stack, so no model text can
    # reach Python's recursion limit (item 9 of issue #11).
    import inspect
    import sys

    from solvers.points.formula import MAX_DEPTH, MAX_NUMBERS

    deepest = "(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH
    chain = "-".join(["1"] * MAX_NUMBERS)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 4 * MAX_DEPTH + 40)
    try:
        assert read_formula(deepest).value == 1
        assert read_formula(chain).value == 2 - MAX_NUMBERS
        assert canonical(chain) == "1-" + "-".join(["1"] * (MAX_NUMBERS - 1))
    finally:
        sys.setrecursionlimit(limit)


def test_invisible_and_compatibility_characters():
    # No NFKC for formulas: it would turn the superscript in 2² into a digit (22).
    assert read_formula("3\u00a0*\u20038").value == 24  # Unicode spaces are spaces
    for text in ("3\u200b*8", "3*8\ufeff", "３*8", "3＊8"):
        with pytest.raises(FormulaError):
            read_formula(text)
