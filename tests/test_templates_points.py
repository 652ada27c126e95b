"""The General Points templater: the study's prompt and answer byte for byte, face messages."""

from random import Random

from datagen.templates.points import (
    WORDINGS,
    draw_diverse_template,
    face_message,
    make_template,
    render_answer_text,
    render_prompt_text,
)

STUDY_PROMPT = """[Task Description]
You are an expert 24 points card game player. You will receive a set of 4 cards.
Note that 'J', 'Q', and 'K' all count as '10', and each card must be used once.
Your goal is to output a formula that evaluates to 24 using numbers from the cards and operators such as '+', '-', '*', '/', '(', ')', and '='.

[Input]
Cards: ['2', '7', 'Q', '2']

[Output]
{
  "cards": [x, y, z, w], where 'J', 'Q', and 'K' all count as '10',
  "number": [a, b, c, d], where a, b, c, and d are the numbers on the cards,
  "formula": 'an equation that equals 24',
}"""

STUDY_ANSWER = """{
"cards": ["2", "7", "Q", "2"],
 "number": [2, 7, 10, 2],
 "formula": "(10/2+7)*2"
}"""


def test_paper_prompt_is_byte_exact():
    template = make_template(rule="all_10", faces=(10, 10, 10))
    assert render_prompt_text(["2", "7", "Q", "2"], 24, template) == STUDY_PROMPT


def test_answer_only_target_is_byte_exact():
    assert render_answer_text(["2", "7", "Q", "2"], [2, 7, 10, 2], "(10/2+7)*2") == STUDY_ANSWER


def test_face_messages():
    assert face_message((11, 11, 11)) == "'J', 'Q', and 'K' all count as '11'"
    assert (
        face_message((9, 10, 11)) == "'J' counts as '9', 'Q' counts as '10', and 'K' counts as '11'"
    )


def test_diverse_rules_are_drawn_from_the_given_rules_only():
    rules = {"all_8": (8, 8, 8), "skip_6_8_10": (6, 8, 10)}
    drawn = {draw_diverse_template(Random(s), rules, think=True)["rule"] for s in range(100)}
    assert drawn == set(rules)


def test_other_wordings_state_the_rule_cards_and_target():
    template = make_template(rule="all_5", faces=(5, 5, 5), wording="brief")
    for wording in WORDINGS:
        text = render_prompt_text(["K", "3", "A", "9"], 36, {**template, "wording": wording})
        assert "'K', '3', 'A', '9'" in text and "36" in text and "count as '5'" in text
