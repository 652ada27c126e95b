"""Which text is a General Points answer (solvers.points.answer): the rule, on hostile text."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.points import Answer, Verdict, extract_formula, judge, read_answer
from solvers.points.answer import MAX_BRACKETS, MAX_JSON_DEPTH, objects

HAND = [3, 3, 8, 8]
RIGHT, WRONG = "8/(3-8/3)", "3+3+8+8"  # 24 and 22


@pytest.mark.parametrize(
    ("text", "verdict", "formula"),
    [
        # The inputs: a later bare field makes the answer ambiguous ...
        (f'{{"formula": "{RIGHT}"}} final: "formula": "{WRONG}"', "ambiguous", None),
        # ... and a `{` inside a string does not hide the object that holds it.
        (f'{{"formula": "{WRONG}", "note": "{{"}}', "wrong_value", WRONG),
        (f'{{"formula": "{RIGHT}"}} {{"formula": "{WRONG}", "note": "{{"}}', "wrong_value", WRONG),
        # The last complete answer object counts; earlier drafts do not.
        (f'{{"formula": "{WRONG}"}} then {{"formula": "{RIGHT}"}}', "correct", RIGHT),
        (f'"formula": "{WRONG}" in prose, then {{"formula": "{RIGHT}"}}', "correct", RIGHT),
        # A later object that is not an answer (malformed, nested, unfinished) is ambiguous.
        (f'{{"formula": "{RIGHT}"}} {{"formula": "{WRONG}" oops}}', "ambiguous", None),
        (f'{{"formula": "{RIGHT}"}} {{"check": {{"formula": "{WRONG}"}}}}', "ambiguous", None),
        (f'{{"formula": "{RIGHT}"}} {{"formula": "{WRONG}"', "ambiguous", None),
        # One field alone is read wherever it stands.
        (f'sure: "formula": "{RIGHT}".', "correct", RIGHT),
        (f'{{"answer": {{"formula": "{RIGHT}"}}}}', "correct", RIGHT),
        (f"{{'cards': ['3'], 'formula': '{RIGHT}',}}", "correct", RIGHT),
        (f'```json\n{{"formula": "{RIGHT}",}}\n```', "correct", RIGHT),
        # Nested keys inside the answer object are the object's business.
        (f'{{"formula": "{RIGHT}", "alt": {{"formula": "{WRONG}"}}}}', "correct", RIGHT),
        (f'{{"formula": "{RIGHT}", "note": "formula: {WRONG}"}}', "correct", RIGHT),
        ('{"formula": ""}', "no_answer", None),
        ('{"formula": null}', "no_answer", None),
        ('{"formula": 24}', "wrong_numbers", "24"),
        ("no formula here {} [] {{", "no_answer", None),
    ],
)
def test_the_answer_rule(text, verdict, formula):
    for completion in (text, f"<think>{{'formula': '1+1'}}</think>{text}"):
        assert judge(completion, HAND).value == verdict
        assert extract_formula(completion) == formula


def test_ambiguity_is_never_correct_nor_valid():
    answer = read_answer(f'{{"formula": "{RIGHT}"}} "formula": "{RIGHT}"')
    assert answer == Answer(None, ambiguous=True)
    assert judge(f'{{"formula": "{RIGHT}"}} "formula": "{RIGHT}"', HAND) is Verdict.AMBIGUOUS
    assert not Verdict.AMBIGUOUS.valid


def test_deep_nesting_never_reaches_json():
    # The input: 1,000 nested `[` raised RecursionError inside json.loads.
    for text in (
        '{"formula": ' + "[" * 1000,
        "[" * 1000,
        '{"x": ' + "[" * 1000 + "]" * 1000 + "}",
        '{"formula": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ):
        assert judge(text, HAND) is Verdict.NO_ANSWER
    # Too deep to read as JSON: the lone field is still read, as in prose.
    deep = f'{{"formula": "{RIGHT}", "x": ' + "[" * 40 + "]" * 40 + "}"
    assert judge(deep, HAND) is Verdict.CORRECT
    shallow = f'{{"formula": "{RIGHT}", "x": ' + "[" * 30 + "]" * 30 + "}"
    assert objects(shallow)[0][2] == 31 <= MAX_JSON_DEPTH
    assert judge(shallow, HAND) is Verdict.CORRECT


def test_objects_are_string_aware_and_top_level():
    text = 'a {"b": "}{", "c": [1, {"d": 2}]} e } ] {"f": "\\"}"} {open'
    spans = [(text[s:e], d) for s, e, d in objects(text)]
    assert spans == [('{"b": "}{", "c": [1, {"d": 2}]}', 3), ('{"f": "\\"}"}', 1)]
    assert json.loads(spans[0][0])["b"] == "}{"
    assert objects("[" + "{}" * 3) == [(1, 3, 1), (3, 5, 1), (5, 7, 1)]
    assert objects("{" * (MAX_BRACKETS + 1)) == []
    # A quote left open ends at the end of its line, not of the text.
    assert objects('{"a\n}') == [(0, 5, 1)]


def test_many_brackets_leave_only_the_lone_field_rule():
    flood = "[]" * MAX_BRACKETS
    assert judge(f'{flood} {{"formula": "{RIGHT}"}}', HAND) is Verdict.CORRECT
    assert judge(f'{flood} {{"formula": "1"}} {{"formula": "{RIGHT}"}}', HAND).value == "ambiguous"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="{}[]\"\\\n :,formula'x<>/think", max_size=200))
def test_bracket_soup_always_gets_a_verdict(text):
    assert isinstance(judge(text, HAND), Verdict)
    for start, end, depth in objects(text):
        assert text[start] == "{" and text[end - 1] in "}]" and depth >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.integers() | st.text(alphabet="formula{}[]\"' 8/3-", max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["formula", "cards", "x"]), inner, max_size=3)
        ),
        max_leaves=12,
    ),
    st.sampled_from(["", " ", "\n"]),
)
def test_a_lone_json_object_reads_as_the_bracket_scan_reads_it(value, pad):
    # read_answer skips the bracket scan when the text is one JSON object: same answer either way.
    from unittest import mock

    import solvers.points.answer as answer

    for text in (pad + json.dumps(value) + pad, pad + json.dumps({"formula": value}) + pad):
        fast = read_answer(text)
        with mock.patch.object(answer, "_whole_object", lambda tail: None):
            assert read_answer(text) == fast, text
