"""The reward shapes `datagen grpo` hands to TRL, on hand-written completions."""

from __future__ import annotations

import json

import pytest

from datagen.grpo.rewards import Recorder, reward_functions, study_format_ok, study_score
from datagen.rewards import correctness_reward, validity_reward

# A Sokoban state where Up and Right are both optimal; the BFS label (moves[0]) is Right.
SOKOBAN = {
    "task": "sokoban",
    "instance": {"grid": "######\n#    #\n# $ .#\n#@   #\n######", "boxes": 1},
    "template": {
        "family": "diverse",
        "vocabulary": ["shark", "screen", "yellow", "fox"],
        "scored_vocabulary": ["shark", "screen", "yellow", "fox"],
        "think": True,
    },
    "solution": {"actions": ["u", "r"], "moves": "RuR", "length": 3},
}
POINTS = {
    "task": "points",
    "instance": {"cards": ["9", "K", "8", "3"], "target": 24},
    "template": {"rule": "all_10", "faces": [10, 10, 10], "scored_faces": [10, 10, 10]},
    "solution": {"values": [9, 10, 8, 3], "formulas": ["(10-8)*(9+3)"]},
}


def _answer(formula: str) -> str:
    return json.dumps({"cards": ["9", "K", "8", "3"], "number": [9, 10, 8, 3], "formula": formula})


@pytest.mark.parametrize(
    ("text", "reward"),
    [
        ("<think> push </think> <answer> fox </answer>", 1.0),  # the label (Right)
        ("<think> push </think> <answer> FOX </answer>", 1.0),  # case, as our parser reads it
        ("<think> up </think> <answer> shark </answer>", 0.0),  # optimal, but not the label
        ("<think> x </think> <answer> Right </answer>", 0.0),  # not this row's vocabulary
        ("<answer> fox </answer>", 0.0),  # format: no thinking
        ("<think> a </think> <answer> fox </answer> <answer> fox </answer>", 0.0),  # two answers
        ("<think> <answer> fox </answer> </think>", 0.0),  # tags out of order
        ("</think> <think> <answer> fox </answer>", 0.0),
        ("", 0.0),
        (None, 0.0),
    ],
)
def test_study_sokoban_rewards_the_format_and_the_single_label_only(text, reward) -> None:
    assert study_score(SOKOBAN, text) == reward


def test_study_sokoban_format_rule() -> None:
    assert study_format_ok("<think>a</think><answer>b</answer>")
    assert not study_format_ok("<think>a</think><answer>b")
    assert not study_format_ok("<answer>b</answer><think>a</think>")


@pytest.mark.parametrize(
    ("text", "reward"),
    [
        (_answer("(10-8)*(9+3)"), 5.0),
        ("<think> try </think>" + _answer("10+9+8-3"), 5.0),
        (_answer("10+9+8+3"), -1.0),  # legal, the right numbers, the wrong value
        (_answer("10+9+8"), -2.0),  # a number left out
        (_answer("13+9+8-3"), -2.0),  # K scored as 13: not this rule's values
        (_answer("10+9+8-3+"), -3.0),  # not a formula
        (_answer("__import__('os')"), -3.0),  # hostile text is never evaluated
        ("no answer at all", -3.0),
        (None, -3.0),
    ],
)
def test_study_points_rewards_are_5_minus1_minus2_minus3(text, reward) -> None:
    assert study_score(POINTS, text) == reward


def _columns(rows: list[dict]) -> dict:
    keys = ("task", "instance", "template", "solution")
    cols = {k: [json.dumps(r[k]) if k != "task" else r[k] for r in rows] for k in keys}
    return {**cols, "id": [f"row{i}" for i in range(len(rows))]}


def test_ours_are_datagen_rewards_on_prefill_plus_completion_and_recorded() -> None:
    recorder = Recorder()
    funcs, weights = reward_functions("ours", "study", recorder, 1.0, 0.5)
    assert [f.__name__ for f in funcs] == ["correct", "valid"] and weights == [1.0, 0.5]
    rows = [SOKOBAN, SOKOBAN, SOKOBAN, POINTS]
    # Under the study format the Sokoban prompt opened <think>: the completion continues it.
    completions = [
        " go up </think> <answer> shark </answer>",
        " hm </think> <answer> nope </answer>",
        "<answer> fox </answer>",  # after the <think> prefill: a thought left open, no answer
        _answer("(10-8)*(9+3)"),  # General Points under study: the chat template, no prefill
    ]
    correct = funcs[0](prompts=[""] * 4, completions=completions, **_columns(rows))
    valid = funcs[1](prompts=[""] * 4, completions=completions, **_columns(rows))
    assert correct == [1.0, 0.0, 0.0, 1.0] and valid == [1.0, 0.0, 0.0, 1.0]
    texts = ["<think>" + c for c in completions[:3]] + [completions[3]]
    plain = dict(
        task=[r["task"] for r in rows],
        instance=[r["instance"] for r in rows],
        template=[r["template"] for r in rows],
        solution=[r["solution"] for r in rows],
    )
    assert correct == correctness_reward(None, texts, **plain)
    assert valid == validity_reward(None, texts, **plain)
    logged = recorder.flush()
    assert [e["text"] for e in logged] == texts and recorder.flush() == []
    assert logged[0]["rewards"] == {"correct": 1.0, "valid": 1.0}


def test_chat_format_prefills_nothing_and_conversational_completions_read_as_text() -> None:
    funcs, _ = reward_functions("ours", "chat")
    completion = [{"role": "assistant", "content": "<think> r </think> <answer> fox </answer>"}]
    assert funcs[0](prompts=[""], completions=[completion], **_columns([SOKOBAN])) == [1.0]
    funcs, weights = reward_functions("study", "chat")
    assert [f.__name__ for f in funcs] == ["study"] and weights == [1.0]
    got = funcs[0](prompts=[""] * 2, completions=[completion, None], **_columns([SOKOBAN] * 2))
    assert got == [1.0, 0.0]


def test_unknown_shape_is_an_error() -> None:
    with pytest.raises(ValueError, match="ours or study"):
        reward_functions("mine", "chat")
