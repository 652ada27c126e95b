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
