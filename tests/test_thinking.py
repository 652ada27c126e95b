"""The one rule for where answers are read (solvers.thinking.final_text), on both tasks."""

import pytest

from datagen.tasks import final_text, get_task
from datagen.templates.points import make_template as points_template
from datagen.templates.sokoban import make_template
from solvers.sokoban import Level
from solvers.thinking import final_text as solvers_final_text

# One level whose only optimal first move is Right, one hand whose only solution is 8/(3-8/3).
SOKOBAN = get_task("sokoban").start_row(
    "simple", Level.parse("#####\n#@$.#\n#####"), 0, make_template()
)
POINTS = get_task("points").make_row(
    "id", ["3", "3", "8", "8"], 24, points_template(rule="all_10", faces=(10, 10, 10)), 0
)
RIGHT, FORMULA = "<answer>Right</answer>", '{"formula": "8/(3-8/3)"}'


def test_one_function_for_both_tasks():
    assert final_text is solvers_final_text


@pytest.mark.parametrize(
    ("template", "readable"),
    [
        ("{a}", True),  # no think tags: all answer
        ("<think>x</think>{a}", True),
        ("<think>x {a}</think>", False),  # only thought of, never answered
        ("<think>x {a}", False),  # thinking never closes
        ("<think>a</think><think>{a}", False),  # the input: opened again, never closed
        ("<think>a</think><think>b</think>{a}", True),  # after the LAST </think>
        ("{a}<think>b</think>", False),  # an answer before thinking is not the answer
        ("</think>{a}", True),  # Qwen3 pre-fills <think> in the prompt
        ("<think>a</think>{a}<think>", False),
    ],
)
def test_sokoban_and_points_agree(template, readable):
    sokoban, points = get_task("sokoban"), get_task("points")
    soko = sokoban.score(SOKOBAN, template.format(a=RIGHT))
    pts = points.score(POINTS, template.format(a=FORMULA))
    assert soko.correct is pts.correct is readable
    if not readable:
        assert soko.verdict == pts.verdict == "no_answer"


def test_final_text_of_non_text_is_none():
    for value in (None, 3, b"<answer>Up</answer>", ["x"]):
        assert final_text(value) is None
    assert final_text("") == ""
