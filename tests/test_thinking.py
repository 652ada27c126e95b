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


AMBIGUOUS = '{"formula": "8/(3-8/3)"} final: "formula": "3+3+8+8"'
REOPENED = "<think>a</think><think><answer>Right</answer>"


def test_the_harness_reads_answers_by_the_same_rules():
    from datagen.evaluate.rollouts import start, step

    sokoban, points = get_task("sokoban"), get_task("points")
    soko, pts = start([SOKOBAN, POINTS])
    step(pts, points, AMBIGUOUS, max_turns=1)
    assert pts.done and not pts.success and pts.turns[0]["verdict"] == "ambiguous"
    step(soko, sokoban, REOPENED, max_turns=5)
    assert soko.turns[0]["verdict"] == "no_answer" and not soko.turns[0]["valid"]
    assert soko.instance["grid"] == SOKOBAN["instance"]["grid"]  # the answer was not played
    step(soko, sokoban, "<think>a</think>" + RIGHT, max_turns=5)
    assert soko.success


class _Fixed:
    """A teacher that gives one crafted answer to every request."""

    backend = model = "fixed"

    def __init__(self, text: str):
        from teachers import Sample

        self.sample = Sample(text, "some thinking", "stop", 10)

    def info(self) -> dict:
        return {"backend": self.backend, "model": self.model}

    def generate(self, requests, sampling, on_sample=None):
        return [self.sample for _ in requests]


@pytest.mark.parametrize(
    ("task", "text", "reason"),
    [
        ("points", AMBIGUOUS, "ambiguous"),
        ("points", '{"formula": ' + "[" * 1000, "no_answer"),
        ("points", '<think>{"formula": "8/(3-8/3)"}', "no_answer"),
        ("sokoban", "<think>" + RIGHT, "no_answer"),
    ],
)
def test_rejection_sampling_reads_answers_by_the_same_rules(tmp_path, task, text, reason):
    from teachers import SamplingConfig, rejection_sample

    row = POINTS if task == "points" else SOKOBAN
    result = rejection_sample(
        [row], get_task(task), _Fixed(text), SamplingConfig(), tmp_path, max_samples=2
    )
    assert result.accepted == []
    assert [r["reason"] for r in result.rejected] == [reason, reason]
