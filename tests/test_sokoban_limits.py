"""Budgets hold from the first instruction: oversized levels are refused before any work, the
time limit covers the tables, the memory budget stops a search that would grow too large."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from solvers.sokoban import Level, LevelTooLarge, bfs_solve, solve, split_levels
from solvers.sokoban.labels import astar_trajectory
from solvers.sokoban.limits import MAX_BOXES, MAX_CELLS, check_size, state_cap

BOXOBAN = Path(__file__).resolve().parent / "data" / "boxoban"


def _room(height: int, width: int, boxes: int = 1) -> Level:
    rows = [["#"] * width] + [["#"] + [" "] * (width - 2) + ["#"] for _ in range(height - 2)]
    rows.append(["#"] * width)
    rows[height // 2][width // 2] = "@"
    for i in range(boxes):
        rows[2 + i // (width - 6)][2 + i % (width - 6)] = "$"
        rows[height - 3 - i // (width - 6)][2 + i % (width - 6)] = "."
    return Level.parse("\n".join("".join(r) for r in rows))


def test_oversized_levels_are_refused_at_once() -> None:
    huge = _room(100, 100)  # the room: 13 s and 814 MB of tables before any search
    start = time.perf_counter()
    for call in (lambda: solve(huge, time_limit=1, max_nodes=10), lambda: bfs_solve(huge)):
        with pytest.raises(LevelTooLarge, match="level too large: 100x100") as info:
            call()
        assert "\n" not in str(info.value)
    with pytest.raises(LevelTooLarge):
        astar_trajectory(huge)
    assert time.perf_counter() - start < 1.0
    with pytest.raises(LevelTooLarge, match=f"at most {MAX_BOXES}"):
        check_size(_room(20, 40, boxes=MAX_BOXES + 1))
    assert MAX_CELLS >= 50 * 50
    check_size(_room(50, 50))  # the largest square accepted


def test_time_limit_includes_the_tables() -> None:
    level = _room(50, 50, boxes=12)
    start = time.perf_counter()
    result = solve(level, time_limit=0.05)
    assert not result.solved and result.reason == "time limit"
    # The wall clock is shared with other processes: allow generous slack, not seconds.
    assert time.perf_counter() - start < 1.5


def test_memory_budget_stops_the_search() -> None:
    level = Level.parse(split_levels((BOXOBAN / "unfiltered.txt").read_text())[7])
    result = solve(level, memory_mb=0.5)
    assert not result.solved and result.reason == "memory limit"
    assert solve(level).solved  # the default budget is ample for Boxoban
    steps, reason = astar_trajectory(level, memory_mb=0.5)
    assert steps == [] and reason == "memory limit"
    assert state_cap(100, 1024) > 1_000_000
    with pytest.raises(ValueError, match="memory_mb"):
        state_cap(100, 0)


def test_many_boxes_in_a_large_room_stop_within_the_default_budgets() -> None:
    # The 12-box 16x16 level grew past 3 GB in 60 s; a 1 MB budget stops it early.
    import tracemalloc

    level = _room(16, 16, boxes=12)
    tracemalloc.start()
    try:
        result = solve(level, time_limit=120, memory_mb=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not result.solved and result.reason == "memory limit" and result.expanded > 0
    assert peak < 8 * 2**20  # the cap counts states; tables and caches add a few MB


def test_bad_limits_are_rejected() -> None:
    level = _room(6, 8)
    with pytest.raises(ValueError, match="time_limit"):
        solve(level, time_limit=0)
    with pytest.raises(ValueError, match="max_nodes"):
        solve(level, max_nodes=0)
