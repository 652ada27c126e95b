"""Cards and face-card rules of General Points (solvers.points.cards)."""

from __future__ import annotations

import pytest

from solvers.points import (
    FACE_RULES,
    RANKS,
    TRAIN_FACE_RULES,
    CardError,
    card_value,
    hand_values,
    parse_faces,
)


def test_the_study_names_23_rules_and_trains_on_8_of_them():
    assert len(FACE_RULES) == 23
    assert FACE_RULES["all_10"] == (10, 10, 10)
    assert FACE_RULES["all_5"] == (5, 5, 5)
    assert FACE_RULES["mixed_9_10_11"] == (9, 10, 11)
    assert FACE_RULES["skip_6_8_10"] == (6, 8, 10)
    assert FACE_RULES["low_range_5_7_9"] == (5, 7, 9)
    assert FACE_RULES["mid_range_8_10_12"] == (8, 10, 12)
    assert len(TRAIN_FACE_RULES) == 8 and set(TRAIN_FACE_RULES) <= set(FACE_RULES)
    assert all(len(v) == 3 and all(isinstance(x, int) for x in v) for v in FACE_RULES.values())


def test_card_values_under_rules():
    assert [card_value(r) for r in ("A", "2", "10", "J", "Q", "K", "14", "19")] == [
        1,
        2,
        10,
        10,
        10,
        10,
        14,
        19,
    ]
    assert hand_values(["J", "Q", "K", "a"], FACE_RULES["mixed_11_12_13"]) == (11, 12, 13, 1)
    assert hand_values(["2", "7", "Q", "2"], (9, 10, 11)) == (2, 7, 10, 2)
    assert hand_values([" q "], (3, 4, 5)) == (4,)
    assert len(RANKS) == 19


@pytest.mark.parametrize("card", ["1", "11", "13", "20", "0", "JQ", "", "B", "10.0"])
def test_cards_that_do_not_exist(card):
    with pytest.raises(CardError, match="not a card"):
        card_value(card)


def test_bad_hands_and_faces():
    with pytest.raises(CardError):
        hand_values("2 7 Q 2")
    with pytest.raises(CardError):
        card_value(7)  # type: ignore[arg-type]
    for faces in [(10, 10), (0, 10, 10), (10, 10, True), (10, 10, 1.5)]:
        with pytest.raises(CardError, match="three positive integers"):
            card_value("J", faces)  # type: ignore[arg-type]


def test_parse_faces_accepts_names_assignments_and_triples():
    assert parse_faces("mixed_9_10_11") == (9, 10, 11)
    assert parse_faces("J=9,Q=10,K=11") == (9, 10, 11)
    assert parse_faces(" k = 13 , j=11 ") == (11, 10, 13)  # unnamed Q keeps 10
    assert parse_faces("5,7,9") == (5, 7, 9)
    assert parse_faces([8, 9, 10]) == (8, 9, 10)
    for bad in ["bogus", "J=9,J=10", "J=0", "1,2", "X=3", "J=-1"]:
        with pytest.raises(CardError):
            parse_faces(bad)
