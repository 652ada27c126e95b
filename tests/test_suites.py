"""The evaluation suites: every variant of the study, fakes that score the training names."""

from datagen.suites import POINTS_EVAL, SOKOBAN_EVAL, split_name
from solvers.points import FACE_RULES, TRAIN_FACE_RULES


def test_all_study_variants_are_present():
    assert [v.name for v in SOKOBAN_EVAL] == [
        "simple",
        "larger",
        "two-boxes",
        "complex",
        "cardinal",
        "emoji",
        "numerical",
        "alphabetical",
        "random",
        "empty",
        "fake-cardinal",
        "fake-emoji",
        "fake-numerical",
    ]
    assert [v.name for v in POINTS_EVAL] == [
        "id",
        "five-cards",
        "large",
        "face-regular",
        "all-12",
        "all-7",
        "all-5",
        "fake",
        "all-5-fake",
    ]
    assert all(split_name(v.name).isidentifier() for v in SOKOBAN_EVAL + POINTS_EVAL)


def test_fake_variants_announce_one_thing_and_score_another():
    for v in SOKOBAN_EVAL:
        assert (v.vocabulary != v.scored) == v.name.startswith("fake")
        if v.name.startswith("fake"):
            assert v.scored == "base"
    for v in POINTS_EVAL:
        assert (v.rule != v.scored_rule) == ("fake" in v.name)
        if "fake" in v.name:
            assert FACE_RULES[v.scored_rule] == (10, 10, 10)


def test_no_evaluation_rule_is_a_training_rule():
    eval_rules = {FACE_RULES[v.rule] for v in POINTS_EVAL if v.rule != "all_10"}
    assert not eval_rules & {FACE_RULES[r] for r in TRAIN_FACE_RULES}
