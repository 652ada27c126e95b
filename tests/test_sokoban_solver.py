"""Solvers: BFS and A* agree on optimal lengths, optimal_actions matches BFS distances, the
deadlock tests never cut a solvable state, the push metric is push-optimal, limits work."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from pathlib import Path

import pytest

import solvers.sokoban.bfs as bfs
from solvers.sokoban import (
    ACTIONS,
    Level,
    bfs_solve,
    generate_level,
    optimal_actions,
    optimal_length,
    optimal_trajectory,
    solve,
    split_levels,
)
from solvers.sokoban.astar import min_cost_matching
from solvers.sokoban.board import board_of, frozen_deadlock

# The first 12 levels of three Boxoban files (tests/data/boxoban/NOTICE).
BOXOBAN = Path(__file__).resolve().parent / "data" / "boxoban"
SMALL = [(6, 6, 1, range(150)), (6, 6, 2, range(100)), (10, 10, 1, range(40)), (8, 8, 2, range(30))]


def _small_levels() -> list[Level]:
    return [generate_level(s, h, w, b) for h, w, b, seeds in SMALL for s in seeds]


def _plain_distances(level: Level) -> tuple[dict[Level, list[Level]], dict[Level, int]]:
    """Every reachable state (plain move-level BFS with Level.step, no pruning) and each
    state's distance to a solved state (backwards over the reversed edges)."""
    succ: dict[Level, list[Level]] = {}
    queue = deque([level])
    succ[level] = []
    while queue:
        state = queue.popleft()
        for action in ACTIONS:
            nxt = state.step(action)
            if nxt is None:
                continue
            succ[state].append(nxt)
            if nxt not in succ:
                succ[nxt] = []
                queue.append(nxt)
    preds: dict[Level, list[Level]] = {s: [] for s in succ}
    for state, nexts in succ.items():
        for nxt in nexts:
            preds[nxt].append(state)
    to_goal = {s: 0 for s in succ if s.solved}
    queue = deque(to_goal)
    while queue:
        state = queue.popleft()
        for prev in preds[state]:
            if prev not in to_goal:
                to_goal[prev] = to_goal[state] + 1
                queue.append(prev)
    return succ, to_goal


def test_astar_length_equals_bfs_length_on_generated_levels() -> None:
    levels = _small_levels()
    assert len(levels) == 320
    for level in levels:
        reference = bfs_solve(level)
        found = solve(level)
        assert reference.solved and found.solved
        assert found.length == reference.length, level.xsb()
        assert level.replay(found.moves).solved
        assert level.replay(reference.moves).solved
        assert found.pushes == sum(ch.isupper() for ch in found.moves)


def test_bfs_and_labels_match_a_plain_unpruned_search() -> None:
    for seed in range(12):
        level = generate_level(seed, 6, 6, 2)
        _, to_goal = _plain_distances(level)
        assert bfs_solve(level).length == to_goal[level]
        for state, actions in optimal_trajectory(level):
            expected = []
            for action in ACTIONS:
                nxt = state.step(action)
                if nxt is not None and to_goal.get(nxt) == to_goal[state] - 1:
                    expected.append(action)
            assert actions == tuple(expected) == optimal_actions(state)


def test_optimal_actions_agree_with_bfs_distances() -> None:
    for seed in range(60):
        level = generate_level(seed, 6, 6, 1 + seed % 2)
        best = bfs_solve(level).length
        expected = []
        for action in ACTIONS:
            nxt = level.step(action)
            if nxt is None:
                continue
            rest = bfs_solve(nxt)
            if rest.solved and rest.length == best - 1:
                expected.append(action)
        assert optimal_actions(level) == tuple(expected)
        assert expected and bfs_solve(level).moves[0].lower() == expected[0]


def test_trajectory_follows_the_first_optimal_action() -> None:
    for seed in range(40):
        level = generate_level(seed, 6, 6, 1)
        solution = bfs_solve(level)
        trajectory = optimal_trajectory(level)
        assert len(trajectory) == solution.length
        state = level
        for (listed, actions), move in zip(trajectory, solution.moves, strict=True):
            assert listed == state and not listed.solved
            assert actions and set(actions) <= set(ACTIONS)
            assert actions[0] == move.lower()
            step = state.step(actions[0])
            assert step is not None
            state = step
        assert state.solved
        for i, (state, _) in enumerate(trajectory):
            assert bfs_solve(state).moves == solution.moves[i:]


def test_solved_and_unsolvable_levels() -> None:
    partial = Level.parse("#####\n#@*.#\n#  $#\n#####")
    assert not partial.solved  # one box still off its goal
    done = Level.parse("####\n#@*#\n####")
    for result in (solve(done), bfs_solve(done), solve(done, metric="pushes")):
        assert result.solved and result.moves == "" and result.length == 0
    assert optimal_actions(done) == () and optimal_trajectory(done) == []
    stuck = Level.parse("######\n#@$ .#\n#$ . #\n######")  # a box in the corner
    for result in (solve(stuck), bfs_solve(stuck), solve(stuck, fast=True)):
        assert not result.solved and result.reason == "unsolvable" and result.moves == ""
    assert optimal_actions(stuck) == () and optimal_trajectory(stuck) == []
    # Unsolvable without any dead square: two boxes frozen side by side against a wall.
    frozen = Level.parse("#######\n#.$$  #\n#.   @#\n#######")
    assert not solve(frozen).solved and not bfs_solve(frozen).solved


def test_deadlock_tests_never_flag_a_solvable_state() -> None:
    flagged_dead = 0
    for h, w, b, seeds in [(6, 6, 2, range(25)), (7, 7, 2, range(10)), (6, 6, 3, range(8))]:
        for seed in seeds:
            level = generate_level(seed, h, w, b)
            board = board_of(level)
            succ, to_goal = _plain_distances(level)
            for state in succ:
                _, mask = board.state(state)
                solvable = state in to_goal
                on_dead = any(board.dead[board.index(box)] for box in state.boxes)
                frozen = any(frozen_deadlock(board, mask, board.index(bx)) for bx in state.boxes)
                if solvable:
                    assert not on_dead and not frozen, state.xsb()
                flagged_dead += on_dead or frozen
    assert flagged_dead > 0  # the tests do prune something


def test_frozen_deadlock_examples() -> None:
    level = Level.parse("#######\n#.$$  #\n#. @  #\n#######")
    board = board_of(level)
    _, mask = board.state(level)
    assert frozen_deadlock(board, mask, board.index((1, 2)))  # pair against the top wall
    free = Level.parse("#######\n#.    #\n#.$$@ #\n#     #\n#######")
    board = board_of(free)
    _, mask = board.state(free)
    assert not frozen_deadlock(board, mask, board.index((2, 2)))
    on_goals = Level.parse("######\n#**  #\n#  @ #\n######")
    board = board_of(on_goals)
    _, mask = board.state(on_goals)
    assert not frozen_deadlock(board, mask, board.index((1, 1)))


def _min_pushes(level: Level) -> int:
    """Push-optimal length by 0-1 BFS over move-level states (walks cost 0, pushes 1)."""
    best = {level: 0}
    heap = [(0, 0, level)]
    tie = itertools.count(1)
    while heap:
        cost, _, state = heapq.heappop(heap)
        if cost > best[state]:
            continue
        if state.solved:
            return cost
        for action in ACTIONS:
            nxt = state.step(action)
            if nxt is None:
                continue
            c2 = cost + (nxt.boxes != state.boxes)
            if c2 < best.get(nxt, 1 << 30):
                best[nxt] = c2
                heapq.heappush(heap, (c2, next(tie), nxt))
    raise AssertionError("unsolvable")


def test_push_metric_is_push_optimal() -> None:
    for seed in range(30):
        level = generate_level(seed, 6, 6, 2)
        by_pushes = solve(level, metric="pushes")
        by_moves = solve(level)
        assert level.replay(by_pushes.moves).solved
        assert by_pushes.pushes == _min_pushes(level) <= by_moves.pushes
        assert by_moves.length <= by_pushes.length


def test_fast_mode_gives_valid_solutions() -> None:
    for seed in range(30):
        level = generate_level(seed, 10, 10, 2)
        fast = solve(level, fast=True)
        assert fast.solved and level.replay(fast.moves).solved
        assert fast.length >= solve(level).length


def _boxoban(name: str) -> list[Level]:
    return [Level.parse(t) for t in split_levels((BOXOBAN / f"{name}.txt").read_text())]


def test_astar_equals_bfs_on_boxoban_levels() -> None:
    # Move-optimality on the real target: every level where the BFS finishes (most of these).
    compared = 0
    for name in ("unfiltered", "medium", "hard"):
        for level in _boxoban(name)[:8]:
            found = solve(level)
            assert found.solved and level.replay(found.moves).solved
            reference = bfs_solve(level, max_nodes=1_500_000)
            if reference.solved:
                assert found.length == reference.length, level.xsb()
                compared += 1
    assert compared >= 18


def test_boxoban_levels_are_solved_and_replayed() -> None:
    texts = split_levels((BOXOBAN / "medium.txt").read_text())
    for text in texts[1:4]:
        level = Level.parse(text)
        found = solve(level)
        assert found.solved and level.replay(found.moves).solved
        pushes = solve(level, metric="pushes")
        assert pushes.solved and pushes.pushes <= found.pushes


def test_limits_stop_the_search() -> None:
    level = generate_level(3, 10, 10, 2, min_moves=15)
    capped = solve(level, max_nodes=1)
    assert not capped.solved and capped.reason == "node limit" and capped.moves == ""
    bfs_capped = bfs_solve(level, max_nodes=10)
    assert not bfs_capped.solved and bfs_capped.reason == "node limit"
    assert solve(level, max_nodes=1_000_000).solved
    with pytest.raises(ValueError, match="metric"):
        solve(level, metric="steps")


def test_min_cost_matching_against_brute_force() -> None:
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 7)
        cost = [[rng.randint(0, 20) for _ in range(n)] for _ in range(n)]
        brute = min(sum(cost[i][p[i]] for i in range(n)) for p in itertools.permutations(range(n)))
        assert min_cost_matching(cost) == brute
    assert min_cost_matching([]) == 0


def test_labels_fall_back_to_astar_on_large_state_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    levels = [generate_level(seed, 8, 8, 2, min_moves=8) for seed in range(4)]
    expected = [(optimal_trajectory(lv), optimal_actions(lv), optimal_length(lv)) for lv in levels]
    monkeypatch.setattr(bfs, "LABEL_MAX_NODES", 20)
    bfs._cached_analysis.cache_clear()
    for level, (trajectory, actions, length) in zip(levels, expected, strict=True):
        assert optimal_trajectory(level) == trajectory
        assert optimal_actions(level) == actions
        assert optimal_length(level) == length == len(trajectory)
    bfs._cached_analysis.cache_clear()


def test_optimal_length() -> None:
    assert optimal_length(Level.parse("####\n#@*#\n####")) == 0
    assert optimal_length(Level.parse("######\n#@$ .#\n#$ . #\n######")) is None
    level = generate_level(9, 6, 6, 2)
    assert optimal_length(level) == bfs_solve(level).length


def test_player_on_the_wrong_side_is_seen_at_once() -> None:
    # Plain push distances say 2; the player can never get behind the box: no search needed.
    level = Level.parse("########\n#   $@.#\n########")
    result = solve(level)
    assert not result.solved and result.reason == "unsolvable" and result.expanded == 0
    assert not bfs_solve(level).solved
