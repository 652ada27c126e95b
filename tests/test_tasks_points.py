"""The General Points task: rows hold solvable hands; scoring under the row's scored rule."""

from random import Random

import pytest

from datagen.tasks import get_task
from datagen.templates.points import make_template

points = get_task("points")
TEN = make_template(rule="all_10", faces=(10, 10, 10))
FAKE = make_template(rule="mixed_11_12_13", faces=(11, 12, 13), scored_faces=(10, 10, 10))


def test_answer_only_target_scores_correct():
    row = points.make_row("id", ["2", "7", "Q", "2"], 24, TEN, seed=0)
    assert row["solution"]["values"] == [2, 7, 10, 2]
    answer = points.render_answer(row)
    assert answer.startswith('{\n"cards": ["2", "7", "Q", "2"],\n "number": [2, 7, 10, 2],')
    assert points.score(row, answer).correct
    assert points.score(row, "<think>x</think>" + answer).correct


def test_unsolvable_hand_gives_no_row():
    assert points.make_row("id", ["A", "A", "A", "A"], 24, TEN, seed=0) is None


def test_fake_rule_scores_ten_not_the_announced_values():
    row = points.make_row("fake", ["Q", "2", "A", "A"], 24, FAKE, seed=0)
    assert row is not None and "'Q' counts as '12'" in row["prompt"][0]["content"]
    assert points.score(row, '{"formula": "10*2+1*1"}').verdict == "wrong_value"
    assert points.score(row, '{"formula": "12*2*1*1"}').verdict == "wrong_numbers"
    assert points.score(row, '{"formula": "(10+2)*(1+1)"}').correct


def test_leakage_keys_ignore_rules_for_hands_without_faces():
    plain = points.leakage_keys(["2", "3", "4", "5"], TEN, 24)
    diverse = make_template(rule="all_8", faces=(8, 8, 8))
    assert plain == points.leakage_keys(["5", "4", "3", "2"], diverse, 24)
    assert points.leakage_keys(["J", "3", "4", "5"], TEN, 24) != points.leakage_keys(
        ["J", "3", "4", "5"], diverse, 24
    )
    assert len(points.leakage_keys(["J", "3", "4", "5"], FAKE, 24)) == 2


def test_draws_force_a_face_card_or_a_large_one_as_the_study_did():
    hands = {d: [points.draw_hand(Random(s), 4, d) for s in range(3000)] for d in points.DRAWS}
    # "face": three uniform from 1..13 and one from 11..13, shuffled.
    assert all(any(c in points.FACES for c in h) for h in hands["face"])
    share = sum(c in points.FACES for h in hands["face"] for c in h) / 12_000
    assert 0.39 <= share <= 0.46  # (3 x 3/13 + 1) / 4 = 0.42
    single = [h for h in hands["face"] if sum(c in points.FACES for c in h) == 1]
    positions = [next(i for i, c in enumerate(h) if c in points.FACES) for h in single]
    assert all(positions.count(i) > len(single) / 6 for i in range(4))  # shuffled
    # "large": three uniform from 1..19 and one from 14..19; J/Q/K still possible.
    assert all(any(c in points.LARGE for c in h) for h in hands["large"])
    assert any(sum(c in points.LARGE for c in h) >= 2 for h in hands["large"])
    assert any(any(c in points.FACES for c in h) for h in hands["large"])
    allowed = {points.card_name(v) for v in range(1, 20)}
    assert all(set(h) <= allowed for hs in hands.values() for h in hs)
    # "uniform" (training, five-cards): no forced card; P(no face in 4) = (10/13)^4 = 0.35.
    no_face = sum(not any(c in points.FACES for c in h) for h in hands["uniform"]) / 3000
    assert 0.31 <= no_face <= 0.39
    assert len(points.draw_hand(Random(0), 5, "face")) == 5


def test_card_names_and_unknown_draw():
    names = [points.card_name(v) for v in (1, 10, 11, 12, 13, 14)]
    assert names == ["A", "10", "J", "Q", "K", "14"]
    with pytest.raises(ValueError, match="unknown draw"):
        points.draw_hand(Random(0), 4, "faces")


def test_any_completion_gets_a_verdict():
    row = points.make_row("id", ["3", "3", "8", "8"], 24, TEN, seed=0)
    for text in (None, 24, b'{"formula": "8/(3-8/3)"}', ['{"formula": "8/(3-8/3)"}'], ""):
        score = points.score(row, text)
        assert (score.verdict, score.correct, score.valid, score.answer) == (
            "no_answer",
            False,
            False,
            None,
        )


def test_score_follows_the_one_answer_rule():
    row = points.make_row("id", ["3", "3", "8", "8"], 24, TEN, seed=0)
    ambiguous = '{"formula": "8/(3-8/3)"} final: "formula": "3+3+8+8"'
    assert points.score(row, ambiguous).verdict == "ambiguous"
    assert not points.score(row, ambiguous).valid
    later = '{"formula": "8/(3-8/3)"} {"formula": "3+3+8+8", "note": "{"}'
    assert points.score(row, later).verdict == "wrong_value"
    assert points.score(row, later).answer == "3+3+8+8"
    nested = '<think>x</think>{"formula": ' + "[" * 1000  # RecursionError before issue #11
    assert points.score(row, nested).verdict == "no_answer"
