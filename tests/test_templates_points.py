"""The General Points templater: the study's prompt and answer byte for byte, face messages."""

from random import Random

import pytest

from datagen.templates.points import (
    WORDINGS,
    draw_diverse_template,
    face_message,
    make_template,
    render_answer_text,
    render_prompt_text,
)

# debunk_sft/utils/dataset/gp_l/create_training_dataset.py:16-31 (TASK_TEMPLATE, formatted at
# :186-191 with the mapping's message from :43-50 and `cards` as a Python list): a newline before
# the body and one after. Its test sets (create_test_dataset.py:22-38) end with one more newline;
# we use the training bytes on both sides.
STUDY_PROMPT = """
[Task Description]
You are an expert {target} points card game player. You will receive a set of {n} cards.
Note that {face_msg}, and each card must be used once.
Your goal is to output a formula that evaluates to {target} using numbers from the cards and operators such as '+', '-', '*', '/', '(', ')', and '='.

[Input]
Cards: {cards}

[Output]
{{
  "cards": [x, y, z, w], where {face_msg},
  "number": [a, b, c, d], where a, b, c, and d are the numbers on the cards,
  "formula": 'an equation that equals {target}',
}}
"""

# create_training_dataset.py:184 / create_test_dataset.py:153: json.dumps(cards) and the values'
# Python list, no trailing newline.
STUDY_ANSWER = """{
"cards": ["2", "7", "Q", "2"],
 "number": [2, 7, 10, 2],
 "formula": "(10/2+7)*2"
}"""

# create_training_dataset.py:45-50 / create_test_dataset.py:214-219, per mapping of
# face_card_configs.py:8-41 that the evaluation sets and diverse training use.
FACE_MESSAGES = {
    (10, 10, 10): "'J', 'Q', and 'K' all count as '10'",
    (12, 12, 12): "'J', 'Q', and 'K' all count as '12'",
    (7, 7, 7): "'J', 'Q', and 'K' all count as '7'",
    (5, 5, 5): "'J', 'Q', and 'K' all count as '5'",
    (11, 12, 13): "'J' counts as '11', 'Q' counts as '12', and 'K' counts as '13'",
    (8, 9, 10): "'J' counts as '8', 'Q' counts as '9', and 'K' counts as '10'",
    (7, 8, 9): "'J' counts as '7', 'Q' counts as '8', and 'K' counts as '9'",
    (5, 7, 9): "'J' counts as '5', 'Q' counts as '7', and 'K' counts as '9'",
    (6, 8, 10): "'J' counts as '6', 'Q' counts as '8', and 'K' counts as '10'",
}


def test_paper_prompt_is_byte_exact():
    template = make_template(rule="all_10", faces=(10, 10, 10))
    expected = STUDY_PROMPT.format(
        target=24, n=4, face_msg=FACE_MESSAGES[(10, 10, 10)], cards="['2', '7', 'Q', '2']"
    )
    assert render_prompt_text(["2", "7", "Q", "2"], 24, template) == expected


@pytest.mark.parametrize("faces", sorted(FACE_MESSAGES))
def test_every_rule_five_cards_and_large_values(faces):
    template = make_template(rule="r", faces=faces)
    for cards in (["K", "3", "A", "9"], ["J", "Q", "2", "10", "A"], ["15", "A", "K", "3"]):
        expected = STUDY_PROMPT.format(
            target=24, n=len(cards), face_msg=FACE_MESSAGES[faces], cards=repr(cards)
        )
        assert render_prompt_text(cards, 24, template) == expected


def test_answer_only_target_is_byte_exact():
    assert render_answer_text(["2", "7", "Q", "2"], [2, 7, 10, 2], "(10/2+7)*2") == STUDY_ANSWER


def test_face_messages():
    for faces, message in FACE_MESSAGES.items():
        assert face_message(faces) == message


def test_diverse_rules_are_drawn_from_the_given_rules_only():
    rules = {"all_8": (8, 8, 8), "skip_6_8_10": (6, 8, 10)}
    drawn = {draw_diverse_template(Random(s), rules, think=True)["rule"] for s in range(100)}
    assert drawn == set(rules)


def test_other_wordings_state_the_rule_cards_and_target():
    template = make_template(rule="all_5", faces=(5, 5, 5), wording="brief")
    for wording in WORDINGS:
        text = render_prompt_text(["K", "3", "A", "9"], 36, {**template, "wording": wording})
        assert "'K', '3', 'A', '9'" in text and "36" in text and "count as '5'" in text
