"""General Points instructions: face-card rules, wordings, targets.

The "paper" wording renders the study's prompt byte for byte: its training bytes
(`debunk_sft/utils/dataset/gp_l/create_training_dataset.py:16-31`, a newline before and after the
body) on both sides, since its test sets add one more newline (`create_test_dataset.py:22-38`), a
train/evaluation mismatch we do not repeat. A template records the rule the
prompt states (`faces`) and the rule the answer is scored under (`scored_faces`); they differ
only in the fake evaluation variants:

    {"family": "paper" | "diverse", "wording": "paper", "rule": "all_10",
     "faces": [10, 10, 10], "scored_faces": [10, 10, 10], "think": True}
"""

from __future__ import annotations

from random import Random
from string import Template

# Opt-in axis of ours: targets other than 24 for training rows (`datagen build --targets`).
VARIED_TARGETS = (24, 12, 18, 30, 36, 48)

WORDINGS: dict[str, Template] = {
    "paper": Template(
        "\n[Task Description]\n"
        "You are an expert $target points card game player. You will receive a set of $n cards.\n"
        "Note that $face_msg, and each card must be used once.\n"
        "Your goal is to output a formula that evaluates to $target using numbers from the cards "
        "and operators such as '+', '-', '*', '/', '(', ')', and '='.\n\n"
        "[Input]\n"
        "Cards: $cards\n\n"
        "[Output]\n"
        "{\n"
        '  "cards": [x, y, z, w], where $face_msg,\n'
        '  "number": [a, b, c, d], where a, b, c, and d are the numbers on the cards,\n'
        "  \"formula\": 'an equation that equals $target',\n"
        "}\n"
    ),
    "brief": Template(
        "Make $target from these $n cards: $cards.\n"
        "Card values: A is 1, number cards count their number, and $face_msg. Use every card "
        "exactly once with + - * / and parentheses.\n\n"
        "Answer with JSON:\n"
        '{"cards": [...], "number": [...the card values...], "formula": "an equation that '
        'equals $target"}'
    ),
    "tutor": Template(
        "Let's play the $target game with playing cards.\n"
        "Your hand: $cards ($n cards).\n"
        "Remember: $face_msg; an ace is 1.\n"
        "Combine all the card values, each exactly once, with addition, subtraction, "
        "multiplication, division and brackets so that the result is $target.\n\n"
        "Reply in this JSON format:\n"
        "{\n"
        '  "cards": the cards as given,\n'
        '  "number": their values,\n'
        '  "formula": a formula equal to $target\n'
        "}"
    ),
}


def face_message(faces: tuple[int, int, int] | list[int]) -> str:
    """The study's sentence for a J/Q/K rule."""
    j, q, k = faces
    if j == q == k:
        return f"'J', 'Q', and 'K' all count as '{j}'"
    return f"'J' counts as '{j}', 'Q' counts as '{q}', and 'K' counts as '{k}'"


def make_template(
    *,
    rule: str,
    faces: tuple[int, int, int],
    scored_faces: tuple[int, int, int] | None = None,
    think: bool = True,
    wording: str = "paper",
    family: str = "paper",
) -> dict:
    if wording not in WORDINGS:
        raise ValueError(f"unknown wording {wording!r}; choose from {sorted(WORDINGS)}")
    return {
        "family": family,
        "wording": wording,
        "rule": rule,
        "faces": list(faces),
        "scored_faces": list(scored_faces if scored_faces is not None else faces),
        "think": think,
    }


def draw_diverse_template(
    rng: Random,
    rules: dict[str, tuple[int, int, int]],
    *,
    think: bool,
    wordings: tuple[str, ...] = ("paper",),
) -> dict:
    """The study's diversity: one of the training face-card rules per row."""
    rule = rng.choice(sorted(rules))
    return make_template(
        rule=rule, faces=rules[rule], think=think, wording=rng.choice(wordings), family="diverse"
    )


def render_prompt_text(cards: list[str], target: int, template: dict) -> str:
    return WORDINGS[template["wording"]].substitute(
        target=target,
        n=len(cards),
        face_msg=face_message(template["faces"]),
        cards=repr([str(c) for c in cards]),
    )


def render_answer_text(cards: list[str], numbers: list[int], formula: str) -> str:
    """The study's answer-only target (its odd spacing included)."""
    shown = ", ".join(f'"{c}"' for c in cards)
    values = ", ".join(str(v) for v in numbers)
    return f'{{\n"cards": [{shown}],\n "number": [{values}],\n "formula": "{formula}"\n}}'
