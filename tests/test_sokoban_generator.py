"""The study's generator: determinism across processes, its reverse play, nudge and filters."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from datagen.seeding import derive_seed
from solvers.sokoban import Level, bfs_solve, generate_level, optimal_length
from solvers.sokoban.generator import (
    LONGEST,
    STUDY_MAX_MOVES,
    attempt_seed,
    carve,
    longest_level,
    nudge,
)
from solvers.sokoban.reverse_play import DEEPEST, reverse_play

REPO = Path(__file__).resolve().parents[1]
SIZES = [(6, 6, 1), (6, 6, 2), (10, 10, 1), (10, 10, 2), (7, 9, 3)]

_SCRIPT = """
import json
from solvers.sokoban import generate_level
sizes = json.loads(__import__("sys").argv[1])
print(json.dumps([generate_level(s, h, w, b).xsb() for h, w, b in sizes for s in range(15)]))
"""


def _levels_in_subprocess(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(SIZES[:4])],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_same_seed_same_level_in_any_process() -> None:
    first = _levels_in_subprocess("1")
    second = _levels_in_subprocess("4242")
    assert first == second
    here = [generate_level(s, h, w, b).xsb() for h, w, b in SIZES[:4] for s in range(15)]
    assert here == first
    assert len(set(first)) > 50  # different seeds give different levels


def test_attempt_seeds_are_the_projects_sha256_derivation() -> None:
    for seed, attempt in ((0, 0), (7, 3), (2**40, 999)):
        assert attempt_seed(seed, 6, 6, 2, attempt) == derive_seed(
            "sokoban-level", seed, 6, 6, 2, attempt
        )


def test_generator_leaves_global_random_state_alone() -> None:
    random.seed(123)
    before = random.getstate()
    generate_level(5)
    assert random.getstate() == before


@pytest.mark.parametrize(("height", "width", "boxes"), SIZES)
def test_generated_levels_are_valid_solvable_unsolved_with_no_box_on_a_target(
    height: int, width: int, boxes: int
) -> None:
    for seed in range(25):
        level = generate_level(seed, height, width, boxes)
        assert (level.height, level.width) == (height, width)
        assert len(level.boxes) == len(level.goals) == boxes
        assert not level.boxes & level.goals  # the study's score needs every target free
        border = {(r, c) for r in range(height) for c in range(width)} - {
            (r, c) for r in range(1, height - 1) for c in range(1, width - 1)
        }
        assert border <= level.walls
        assert Level.parse(level.xsb()) == level  # valid: parse re-checks everything
        solution = bfs_solve(level)
        assert solution.solved and 1 <= solution.length <= LONGEST
        assert level.replay(solution.moves).solved


def test_levels_look_like_the_studys() -> None:
    # The study's generator on fresh seeds: 6x6/1 mean ~4.0 moves with ~8.5% one-move levels,
    # 6x6/2 mean ~7.8 and none. Loose bounds: 300 and 150 levels.
    one_box = [optimal_length(generate_level(s, 6, 6, 1)) for s in range(300)]
    assert 3.6 <= statistics.mean(one_box) <= 4.5
    assert 0.04 <= sum(n == 1 for n in one_box) / len(one_box) <= 0.14
    two_boxes = [optimal_length(generate_level(s, 6, 6, 2)) for s in range(150)]
    assert 7.0 <= statistics.mean(two_boxes) <= 8.7
    assert min(two_boxes) >= 2  # both boxes start off their targets


def test_reverse_play_goes_exactly_the_studys_depth() -> None:
    # A corridor: the box starts on the target at the left end, the player right of it. Every
    # step right pulls the box one cell further, so the best state is as deep as the search.
    width = 45
    floor = bytearray(3 * width)
    for c in range(1, width - 1):
        floor[width + c] = 1
    found = reverse_play(bytes(floor), width, (width + 1,), width + 2)
    assert found is not None
    assert found.displacement == DEEPEST == 28 and found.score == 28
    assert found.boxes == (width + 1 + DEEPEST,) and found.player == width + 2 + DEEPEST
    assert reverse_play(bytes(floor), width, (width + 1,), width + 2, depth=10).displacement == 8
    assert reverse_play(bytes(floor), width, (width + 1,), width + 2, max_states=5).states == 5


def test_reverse_play_scores_only_rooms_with_every_target_free() -> None:
    rng = random.Random(3)
    for _ in range(100):
        floor = carve(rng, 7, 7)
        cells = [i for i, f in enumerate(floor) if f]
        if len(cells) < 4:
            continue
        player, *targets = rng.sample(cells, 3)
        found = reverse_play(bytes(floor), 7, tuple(targets), player)
        if found is None:
            continue
        assert not set(found.boxes) & set(targets) and found.player not in targets
        moved = sum(
            abs(b // 7 - t // 7) + abs(b % 7 - t % 7)
            for b, t in zip(found.boxes, targets, strict=True)
        )
        assert found.displacement == moved and found.score % moved == 0


def test_nudge_walks_one_to_three_new_cells_with_the_studys_probabilities() -> None:
    width = 7
    floor = bytearray(width * width)
    for r in range(1, 6):
        for c in range(1, 6):
            floor[r * width + c] = 1
    box_mask = 1 << (3 * width + 3)
    rng = random.Random(0)
    moved = {1: 0, 2: 0}
    for trial in range(4000):
        displacement = 1 + trial % 2
        path = nudge(rng, floor, width, box_mask, 2 * width + 3, displacement)
        assert path[0] == 2 * width + 3 and 1 <= len(path) <= 4
        assert len(set(path)) == len(path)  # never revisits
        for a, b in pairwise(path):
            assert abs(a - b) in (1, width) and floor[b] and not (box_mask >> b) & 1
        moved[displacement] += len(path) > 1
    assert 0.75 <= moved[1] / 2000 <= 0.85  # p 0.8 after a one-cell displacement
    assert 0.45 <= moved[2] / 2000 <= 0.55  # else 0.5


def test_nudge_stops_in_a_dead_end() -> None:
    width = 5
    floor = bytearray(15)
    floor[6] = floor[7] = 1  # two floor cells: one step at most
    for seed in range(50):
        path = nudge(random.Random(seed), floor, width, 0, 6, 2)
        assert path in ([6], [6, 7])


def test_move_filters_and_the_studys_label_cap() -> None:
    lengths = [
        optimal_length(generate_level(s, 6, 6, 1, min_moves=6, max_moves=9)) for s in range(20)
    ]
    assert all(6 <= n <= 9 for n in lengths)
    hard = generate_level(3, 10, 10, 2, min_moves=20)
    assert optimal_length(hard) >= 20
    # A filter never changes which attempts are drawn: an unfiltered level that already fits
    # is the one the filtered call returns; one that does not is replaced by a later attempt.
    plain = generate_level(11)
    n = optimal_length(plain)
    assert generate_level(11, min_moves=n, max_moves=n) == plain
    capped = generate_level(11, max_moves=n - 1) if n > 1 else plain
    assert optimal_length(capped) <= max(n - 1, 1)
    assert STUDY_MAX_MOVES == 30
    assert all(
        optimal_length(generate_level(s, 10, 10, 2, max_moves=STUDY_MAX_MOVES)) <= 30
        for s in range(10)
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"height": 2},
        {"boxes": 0},
        {"min_moves": 0},
        {"min_moves": 5, "max_moves": 4},
        {"height": 3, "width": 3, "boxes": 1},
        {"min_moves": LONGEST + 1},
        {"height": 4, "width": 4, "min_moves": 12},  # 4 cells x 3 box cells: 12 states
    ],
)
def test_impossible_arguments_raise_before_any_attempt(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_level(0, **kwargs)


def test_longest_level_bound() -> None:
    assert longest_level(6, 6, 1) == LONGEST == 31
    assert longest_level(4, 4, 1) == 11


def test_unreachable_filter_raises_after_bounded_attempts() -> None:
    with pytest.raises(ValueError, match="after 1000 attempts"):
        generate_level(0, 4, 4, 1, min_moves=11)
