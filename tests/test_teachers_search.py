"""Tests of teachers.search_teacher: traces written from the exact solvers' search."""

from __future__ import annotations

import re
from fractions import Fraction
from random import Random

import pytest

from datagen.tasks import get_task
from teachers import SampleRequest, SamplingConfig, TeacherConfig, make_teacher, rejection_sample


def sokoban_rows(diverse: bool) -> list[dict]:
    from datagen.templates.sokoban import draw_diverse_template, make_template
    from solvers.sokoban import generate_level

    task = get_task("sokoban")
    rng = Random(5)
    rows = []
    for seed, boxes in ((0, 1), (1, 1), (2, 2)):
        level = generate_level(seed, boxes=boxes, min_moves=4)
        rows += task.trajectory_rows(
            level,
            seed,
            lambda i: draw_diverse_template(rng, think=True) if diverse else make_template(),
        )
    return rows


def points_rows() -> list[dict]:
    from datagen.templates.points import draw_diverse_template
    from solvers.points import FACE_RULES, TRAIN_FACE_RULES

    task = get_task("points")
    rules = {name: FACE_RULES[name] for name in TRAIN_FACE_RULES}
    rng = Random(3)
    hands = [
        ["2", "7", "Q", "2"],
        ["3", "3", "8", "8"],
        ["A", "5", "5", "5"],
        ["K", "J", "4", "A", "9"],
        ["15", "3", "2", "5"],
    ]
    rows = []
    for i, cards in enumerate(hands):
        row = task.make_row("train", cards, 24, draw_diverse_template(rng, rules, think=True), i)
        if row is not None:
            rows.append(row)
    return rows


def _generate(rows, seed=0):
    teacher = make_teacher(TeacherConfig(backend="search"))
    requests = [SampleRequest(r["id"], 0, r["prompt"], seed, r) for r in rows]
    return teacher.generate(requests, SamplingConfig())


@pytest.mark.parametrize("diverse", [False, True])
def test_sokoban_traces_are_correct_and_name_the_prompts_word(diverse):
    task = get_task("sokoban")
    rows = sokoban_rows(diverse)
    for row, sample in zip(rows, _generate(rows), strict=True):
        assert task.score(row, sample.completion()).correct
        action = row["solution"]["moves"][0].lower()
        word = row["template"]["vocabulary"]["udlr".index(action)]
        assert sample.thinking.endswith(f"which this prompt calls {word}.")
        moves = re.search(r"takes (\d+) moves?", sample.thinking)
        assert int(moves.group(1)) == row["solution"]["length"]
        assert sample.finish_reason == "stop" and sample.tokens > 20


def test_points_traces_search_with_real_dead_ends_and_end_at_the_answer():
    from solvers.points import is_solvable

    task = get_task("points")
    rows = points_rows()
    assert len(rows) >= 4
    for row, sample in zip(rows, _generate(rows), strict=True):
        assert task.score(row, sample.completion()).correct
        assert sample.thinking.splitlines()[-1] == f"Formula: {row['solution']['formulas'][0]}"
        assert f"{24},{24} equal: Goal Reached" in sample.thinking
        dead = re.findall(r"No way to reach 24 from \[([^\]]*)\]", sample.thinking)
        assert dead, "a stream of search shows dead ends"
        for numbers in dead:
            values = [Fraction(v) for v in numbers.split(", ")]
            if all(v.denominator == 1 for v in values):
                assert not is_solvable([int(v) for v in values], 24)


def test_deterministic_per_seed_and_varied_across_seeds():
    rows = points_rows()
    assert _generate(rows, seed=1) == _generate(rows, seed=1)
    assert [s.thinking for s in _generate(rows, 1)] != [s.thinking for s in _generate(rows, 2)]


def test_rejection_sampling_with_search_accepts_every_prompt_in_one_sample(tmp_path):
    teacher = make_teacher(TeacherConfig(backend="search"))
    for name, rows in (("sokoban", sokoban_rows(True)), ("points", points_rows())):
        task = get_task(name)
        result = rejection_sample(rows, task, teacher, SamplingConfig(), tmp_path / name)
        assert len(result.accepted) == len(rows)
        assert result.stats["samples"] == len(rows)
        assert result.stats["acceptance_rate"] == 1.0
        assert result.accepted[0]["meta"]["teacher"]["backend"] == "search"


def test_requests_without_rows_are_refused():
    teacher = make_teacher(TeacherConfig(backend="search"))
    with pytest.raises(ValueError, match="row"):
        teacher.generate([SampleRequest("x", 0, [], 0)], SamplingConfig())
