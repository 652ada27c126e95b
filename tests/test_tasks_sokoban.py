"""The Sokoban task: answer parsing after the thinking, scoring under the row's own template."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datagen.tasks import final_text, get_task, row_id
from datagen.templates.sokoban import make_template
from solvers.sokoban import LabelError, Level, generate_level

sokoban = get_task("sokoban")


def _row(template=None, level=None):
    level = level or generate_level(3, 6, 6, 1)
    return sokoban.start_row("simple", level, 3, template or make_template())


def test_final_text_reads_only_after_the_thinking():
    assert final_text("<think>maybe <answer> Up </answer></think> <answer> Down </answer>") == (
        " <answer> Down </answer>"
    )
    assert final_text("<think> never closed <answer> Up </answer>") is None
    assert final_text("<answer> Up </answer>") == "<answer> Up </answer>"


def test_oracle_answer_scores_correct_and_others_not():
    row = _row()
    words = dict(zip("udlr", row["template"]["scored_vocabulary"], strict=True))
    for action in "udlr":
        score = sokoban.score(row, f"<think>plan</think> <answer> {words[action]} </answer>")
        assert score.valid and score.answer == action
        assert score.correct == (action in row["solution"]["actions"])
    assert sokoban.score(row, "<answer> sideways </answer>").verdict == "not_in_vocabulary"
    assert sokoban.score(row, "Up").verdict == "no_answer"
    assert sokoban.score(row, "<think>Up <answer> Up </answer>").verdict == "no_answer"


def test_answers_are_case_and_emoji_variation_insensitive():
    row = _row(make_template(vocabulary="emoji", scored_vocabulary="emoji"))
    action = row["solution"]["actions"][0]
    arrow = {"u": "⬆", "d": "⬇", "l": "⬅", "r": "➡"}[action]  # without U+FE0F
    assert sokoban.score(row, f"<answer>{arrow}</answer>").correct
    base = _row()
    word = base["template"]["scored_vocabulary"]["udlr".index(action)].upper()
    assert sokoban.score(base, f"<answer>{word}</answer>").correct


def test_fake_template_accepts_only_the_base_vocabulary():
    row = _row(make_template(vocabulary="cardinal", scored_vocabulary="base"))
    action = row["solution"]["actions"][0]
    cardinal = {"u": "North", "d": "South", "l": "West", "r": "East"}[action]
    base = {"u": "Up", "d": "Down", "l": "Left", "r": "Right"}[action]
    content = row["prompt"][0]["content"]
    assert "<answer> North </answer>" in content and "North is Up" not in content  # as the study
    assert not sokoban.score(row, f"<answer> {cardinal} </answer>").valid
    assert sokoban.score(row, f"<answer> {base} </answer>").correct


def test_trajectory_rows_replay_to_the_goal_and_label_optimal_actions():
    level = generate_level(11, 6, 6, 1)
    rows = sokoban.trajectory_rows(level, 11, lambda step: make_template(think=False))
    assert [row["meta"]["step"] for row in rows] == list(range(len(rows)))
    assert rows[0]["solution"]["length"] == len(rows)
    for row in rows:
        state = Level.parse(row["instance"]["grid"])
        assert state.replay(row["solution"]["moves"]).solved
        assert row["solution"]["moves"][0].lower() in row["solution"]["actions"]
        assert row["meta"]["pushes"] == sum(c.isupper() for c in row["solution"]["moves"])
        assert sokoban.score(row, sokoban.render_answer(row)).correct


def test_row_ids_are_content_derived():
    a, b = _row(), _row()
    assert a["id"] == b["id"] == row_id("sokoban", a["instance"], a["template"])
    other = _row(make_template(vocabulary="numerical", scored_vocabulary="numerical"))
    assert other["id"] != a["id"]


def test_unsolvable_start_is_refused():
    with pytest.raises(LabelError, match="not solvable"):
        sokoban.start_row("simple", Level.parse("#####\n#$ .#\n# @ #\n#####"), 0, make_template())


def test_answer_tags_are_read_in_one_pass():
    # Item 10 of issue #11: 64 KB of <answer> took 1.9 s with a lazy regex (timing lives in
    # benchmarks/bench_hostile.py); the result must be the regex's, a floods' answer included.
    row = _row(level=Level.parse("#####\n#@$.#\n#####"))
    assert sokoban.score(row, "<answer>" * 8192).verdict == "no_answer"
    assert sokoban.score(row, "</answer>" * 8192 + "<answer>").verdict == "no_answer"
    assert sokoban.answer_of("<answer>" * 1000 + "Right</answer>") == "<answer>" * 999 + "Right"
    assert sokoban.score(row, "x</answer><answer> Right </answer><answer>Up</answer>").correct
    assert sokoban.answer_of("<answer></answer>") == ""


def test_text_and_emoji_selectors_and_invisible_characters_match():
    row = _row(make_template(vocabulary="emoji", scored_vocabulary="emoji"))
    action = row["solution"]["actions"][0]
    arrow = {"u": "⬆", "d": "⬇", "l": "⬅", "r": "➡"}[action]
    for spelled in (
        arrow + "\ufe0e",
        arrow + "\ufe0f",
        "\u200b" + arrow,
        "\ufeff" + arrow + "\u200e",
    ):
        assert sokoban.score(row, f"<answer>{spelled}</answer>").correct, repr(spelled)
    base = _row()
    word = base["template"]["scored_vocabulary"]["udlr".index(action)]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in word)  # Ｒｉｇｈｔ
    assert sokoban.score(base, f"<answer>{full_width}</answer>").correct
    assert sokoban.score(base, f"<answer>{word[0]}\u200b{word[1:]}</answer>").correct
    padded = word + "\u200b" * 300  # more than MAX_ANSWER_CHARS: never one word
    assert sokoban.score(base, f"<answer>{padded}</answer>").verdict == "not_in_vocabulary"


def test_every_vocabulary_word_is_its_own_answer_key():
    from datagen.templates.sokoban import TRAIN_POOL, VOCABULARIES, normalize_word

    for words in VOCABULARIES.values():
        assert len({sokoban.answer_key(w) for w in words}) == 4
    for word in [*TRAIN_POOL, *(w for ws in VOCABULARIES.values() for w in ws)]:
        assert sokoban.answer_key(word) == normalize_word(word)


@pytest.mark.parametrize("text", [None, 3, b"<answer>Up</answer>", ["<answer>Up</answer>"], ""])
def test_any_completion_gets_a_verdict(text):
    row = _row()
    assert sokoban.score(row, text).verdict == "no_answer"
    assert sokoban.parse_action(text, row["template"]) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<answer>", "</answer>", "Up", " ", "<", ">", "/", "a"])))
def test_linear_reader_reads_what_the_lazy_regex_read(parts):
    import re

    text = "".join(parts)
    match = re.search(r"<answer>(.*?)</answer>", text, re.DOTALL)  # the reader before issue #11
    assert sokoban.answer_of(text) == (match.group(1).strip() if match else None)
