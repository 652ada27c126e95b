"""The compiled A* (astar_jit) is the Python A* node for node: the same moves, expansions and
stop reasons on Boxoban and generated levels, under every limit, and the same labels; a level
it cannot hold goes to the Python search. `make install` installs numba, so it must be there."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from solvers.sokoban import Level, astar_jit, generate_level, solve, split_levels
from solvers.sokoban.board import board_of
from solvers.sokoban.labels import astar_trajectory
from solvers.sokoban.tables import side_tables

BOXOBAN = Path(__file__).resolve().parent / "data" / "boxoban"
FIVE_BOXES = astar_jit.WARM_UP_LEVEL  # the Hungarian matching too, beyond 4 boxes


def _levels() -> list[Level]:
    texts = [t for name in ("unfiltered", "medium", "hard") for t in _boxoban(name)]
    generated = [generate_level(s, 10, 10, b) for b in (2, 3) for s in range(8)]
    return [Level.parse(t) for t in texts] + generated + [Level.parse(FIVE_BOXES)]


def _boxoban(name: str) -> list[str]:
    return split_levels((BOXOBAN / f"{name}.txt").read_text())


def _both(monkeypatch: pytest.MonkeyPatch, fn, *args, **kwargs):
    """fn(*args, **kwargs) by the compiled search, then by the Python one."""
    monkeypatch.setenv("SOKOBAN_JIT", "1")
    compiled = fn(*args, **kwargs)
    monkeypatch.setenv("SOKOBAN_JIT", "0")
    python = fn(*args, **kwargs)
    return compiled, python


def test_numba_is_installed_and_used() -> None:
    assert astar_jit.available()
    level = Level.parse(_boxoban("medium")[0])
    board = board_of(level)
    player, mask = board.state(level)
    assert astar_jit.search(board, side_tables(board), player, mask, 0, (10**6, 10**6), None, None)


def test_same_search_as_python(monkeypatch: pytest.MonkeyPatch) -> None:
    for level in _levels():
        compiled, python = _both(monkeypatch, solve, level, time_limit=None)
        assert (compiled.moves, compiled.expanded, compiled.reason) == (
            python.moves,
            python.expanded,
            python.reason,
        ), level.xsb()
        assert compiled.solved and level.replay(compiled.moves).solved


def test_same_stops_under_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    level = Level.parse(_boxoban("hard")[1])
    for limits in ({"max_nodes": 40}, {"memory_mb": 0.01}):
        compiled, python = _both(monkeypatch, solve, level, **limits)
        assert not compiled.solved and compiled.reason == python.reason
        assert compiled.expanded == python.expanded
    # Chunks of 16 expansions: the search pauses and resumes hundreds of times, to the same end,
    # and a deadline between two chunks stops it.
    monkeypatch.setattr(astar_jit, "CHUNK", 16)
    level = Level.parse(FIVE_BOXES)
    compiled, python = _both(monkeypatch, solve, level)
    assert compiled.expanded > 100 * 16
    assert compiled == dataclasses.replace(python, seconds=compiled.seconds)
    monkeypatch.setenv("SOKOBAN_JIT", "1")
    assert solve(level, time_limit=1e-4).reason == "time limit"


def test_same_labels_as_python(monkeypatch: pytest.MonkeyPatch) -> None:
    for text in _boxoban("unfiltered")[:4]:
        level = Level.parse(text)
        compiled, python = _both(monkeypatch, astar_trajectory, level, time_limit=None)
        assert compiled == python and compiled[1] is None


def test_levels_beyond_64_floor_cells_take_the_python_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = "\n".join(["#" * 11] + ["#" + " " * 9 + "#"] * 8 + ["#" * 11])
    lines = [list(row) for row in room.split("\n")]
    lines[2][2], lines[4][5], lines[7][8] = "@", "$", "."
    level = Level.parse("\n".join("".join(row) for row in lines))  # 72 floor cells
    board = board_of(level)
    player, mask = board.state(level)
    assert (
        astar_jit.search(board, side_tables(board), player, mask, 0, (10**6, 10**6), None, None)
        is None
    )
    compiled, python = _both(monkeypatch, solve, level)
    assert compiled.solved and compiled.moves == python.moves


def test_turned_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOKOBAN_JIT", "0")
    assert not astar_jit.available()
