"""Reward functions with TRL's calling convention, on real rows."""

from datagen.rewards import completion_text, compute_score, correctness_reward, validity_reward
from datagen.tasks import get_task
from datagen.templates.points import make_template as points_template
from datagen.templates.sokoban import make_template
from solvers.sokoban import generate_level


def _columns(rows):
    return {k: [r[k] for r in rows] for k in ("task", "instance", "template", "solution")}


def test_rewards_score_each_row_under_its_own_template():
    sokoban, points = get_task("sokoban"), get_task("points")
    a = sokoban.start_row(
        "cardinal",
        generate_level(5),
        5,
        make_template(vocabulary="cardinal", scored_vocabulary="cardinal"),
    )
    b = points.make_row(
        "id", ["3", "3", "8", "8"], 24, points_template(rule="all_10", faces=(10, 10, 10)), 0
    )
    good_a = sokoban.render_answer(a)
    completions = [
        [{"role": "assistant", "content": good_a}],
        [{"role": "assistant", "content": good_a.replace(good_a.split()[1], "Up")}],
        '<think>t</think>{"formula": "8/(3-8/3)"}',
        '{"formula": "8*3"}',
    ]
    rows = [a, a, b, b]
    cols = _columns(rows)
    assert correctness_reward(None, completions, **cols) == [1.0, 0.0, 1.0, 0.0]
    assert validity_reward(None, completions, **cols) == [1.0, 0.0, 1.0, 0.0]
    assert compute_score("points", completions[2], b) == 1.0
    assert completion_text(completions[0]) == good_a


def _rows():
    sokoban, points = get_task("sokoban"), get_task("points")
    a = sokoban.start_row("simple", generate_level(5), 5, make_template())
    b = points.make_row(
        "id", ["3", "3", "8", "8"], 24, points_template(rule="all_10", faces=(10, 10, 10)), 0
    )
    return a, b


def test_odd_message_shapes_score_no_answer_and_never_raise():
    a, b = _rows()
    odd = [
        [{"role": "assistant"}],
        [{"role": "assistant", "content": None}],
        [{"role": "assistant", "content": 5}],
        [{"role": "user", "content": '{"formula": "8/(3-8/3)"}'}],
        [],
        [None, 3, "x"],
        None,
        42,
        b'{"formula": "8/(3-8/3)"}',
    ]
    for row in (a, b):
        cols = _columns([row] * len(odd))
        assert correctness_reward(None, odd, **cols) == [0.0] * len(odd)
        assert validity_reward(None, odd, **cols) == [0.0] * len(odd)
        assert compute_score(row["task"], None, row) == 0.0
    for shape in odd[:7]:
        assert completion_text(shape) is None


def test_message_contents_in_any_text_form_are_read():
    _, b = _rows()
    good = '{"formula": "8/(3-8/3)"}'
    shapes = [
        [{"content": good}],  # no role: the assistant's
        {"role": "assistant", "content": good},  # a bare message
        [{"role": "assistant", "content": [{"type": "text", "text": good}]}],
        [{"role": "assistant", "content": [{"type": "text", "text": good[:9]}, good[9:]]}],
        [{"role": "assistant", "content": None}, {"role": "assistant", "content": good}],
    ]
    assert correctness_reward(None, shapes, **_columns([b] * len(shapes))) == [1.0] * len(shapes)
    assert compute_score("points", shapes[2], b) == 1.0
    assert completion_text(shapes[3]) == good


def test_rewards_follow_the_one_answer_rule():
    _, b = _rows()
    texts = [
        '{"formula": "8/(3-8/3)"} final: "formula": "3+3+8+8"',  # ambiguous
        '{"formula": "8/(3-8/3)"} {"formula": "3+3+8+8", "note": "{"}',  # the last one counts
        '<think>a</think><think>{"formula": "8/(3-8/3)"}',  # an open think block
        '{"formula": ' + "[" * 1000,  # RecursionError before issue #11
    ]
    cols = _columns([b] * len(texts))
    assert correctness_reward(None, texts, **cols) == [0.0, 0.0, 0.0, 0.0]
    assert validity_reward(None, texts, **cols) == [0.0, 1.0, 0.0, 0.0]
