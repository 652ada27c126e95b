"""The move-optimal A* of astar.py compiled with numba, for levels of at most 64 floor cells.

All of Boxoban (10x10 with a wall border: 64 inner cells) fits, so a state is one int64 of box
bits and a player cell. It is the same search node for node: the same priorities (f, then
deeper first, then insertion order), the same bound (side-table matching, freeze deadlocks),
the same children in the same order, so it returns the pushes and expansion count the Python
search returns (tests/test_sokoban_jit.py compares both on Boxoban and generated levels). It runs
in chunks of CHUNK expansions, between which Python checks the deadline. The kernels:
astar_kernels.py (the search) and bound_kernels.py (the lower bound and deadlocks).

`astar._search` takes this path for the move metric when numba is installed (a dependency of
`make install`; set SOKOBAN_JIT=0 to turn it off) and the level fits; every other case, and a
machine without numba, runs the pure-Python search. The first call in a fresh checkout compiles
the kernels (about 20 s, `make install` does it); numba caches them on disk next to this file.

    python -m solvers.sokoban.astar_jit     # compile (or load) the kernels, say which path runs
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from typing import Any

from solvers.sokoban.board import INF, OPPOSITE, Board
from solvers.sokoban.tables import SideTables

MAX_FLOOR = 64  # box bits of a state: one int64
CHUNK = 8192  # expansions between deadline checks (a few ms compiled)
# Priority key of an open entry: f << 48 | (G_TOP - g) << 34 | its insertion number, so that
# one int64 orders as the Python search's (f, -g) buckets, oldest first. Deeper: Python.
G_TOP = (1 << 14) - 1
F_LIMIT = 1 << 14
TIE_MASK = (1 << 34) - 1
# Kernel statuses.
FOUND, EMPTY, NODE_LIMIT, MEMORY_LIMIT, OVER_CUTOFF, PAUSED, TOO_DEEP = range(7)
# Five boxes, so that the bound's matching also runs the Hungarian algorithm (tests use it).
WARM_UP_LEVEL = """\
#########
#.  $  .#
# $ # $ #
#. .@$  #
# $.#   #
#########"""
_REASONS = {
    EMPTY: "unsolvable",
    NODE_LIMIT: "node limit",
    MEMORY_LIMIT: "memory limit",
    OVER_CUTOFF: "over cutoff",
}


def available() -> bool:
    """Whether the compiled search can run (numba importable and not turned off)."""
    return os.environ.get("SOKOBAN_JIT", "1") != "0" and _kernels() is not None


@lru_cache(maxsize=1)
def _kernels() -> Any:
    try:
        from solvers.sokoban import astar_kernels
    except ImportError:  # numba is not installed: the Python search serves
        return None
    return astar_kernels


def search(
    board: Board,
    tables: SideTables,
    player: int,
    mask: int,
    h0: int,
    caps: tuple[int, int],
    deadline: float | None,
    cutoff: int | None,
) -> tuple[list[tuple[int, int]] | None, int, str | None] | None:
    """`astar._search`'s result for the move metric, or None where this path does not apply."""
    if not available():
        return None
    static = _static(board, tables)
    if static is None:
        return None
    kernels = _kernels()
    cells, index = static[0], static[1]
    start_mask = 0
    rest = mask
    while rest:
        low = rest & -rest
        rest ^= low
        start_mask |= 1 << index[low.bit_length() - 1]
    start_mask = _int64(start_mask)
    max_nodes, max_states = caps
    state = kernels.new_state(start_mask, index[player], h0)
    while True:
        if deadline is not None and time.perf_counter() > deadline:
            return None, int(state[-1][3]), "time limit"
        status, *state = kernels.run(
            *static[2:],
            *state,
            max_nodes,
            max_states,
            -1 if cutoff is None else cutoff,
            state[-1][3] + CHUNK,
        )
        if status != PAUSED:
            break
    nodes, ctr = state[1], state[-1]
    expanded = int(ctr[3])
    if status == TOO_DEEP:
        return None  # beyond the key's bits: the Python search takes the level
    if status != FOUND:
        return None, expanded, _REASONS[status]
    pushes = []
    node = int(ctr[5])
    while nodes[node, 3] >= 0:
        pushes.append((cells[nodes[node, 4]], int(nodes[node, 5])))
        node = int(nodes[node, 3])
    pushes.reverse()
    return pushes, expanded, None


def _int64(bits: int) -> int:
    """64 box bits as the kernel's signed int64 (bit 63 is the sign)."""
    return bits - (1 << 64) if bits >= 1 << 63 else bits


_STATIC: dict[Board, tuple | None] = {}


def _static(board: Board, tables: SideTables) -> tuple | None:
    """The board as the kernel's arrays, over floor cells only (cached per board)."""
    if board in _STATIC:
        return _STATIC[board]
    import numpy as np

    cells = [i for i, floor in enumerate(board.floor) if floor]
    if len(cells) > MAX_FLOOR or not board.goal_cells:
        _STATIC[board] = None
        return None
    index = {c: i for i, c in enumerate(cells)}
    count = len(cells)
    nbr = np.full((4, count), -1, dtype=np.int64)
    for a in range(4):
        for i, c in enumerate(cells):
            j = board.nbr[a][c]
            nbr[a, i] = index[j] if j >= 0 else -1
    dead = np.array([board.dead[c] for c in cells], dtype=np.bool_)
    goals = np.array([index[g] for g in board.goal_cells], dtype=np.int64)
    goal_mask = 0
    for g in goals:
        goal_mask |= 1 << int(g)
    goal_mask = _int64(goal_mask)
    around = np.array(tables.around, dtype=np.int64).reshape(-1, 4)[cells]
    per_goal = np.stack(
        [
            np.frombuffer(d, dtype=np.int32).reshape(-1, 4)[cells].reshape(-1)
            for d in tables.per_goal
        ]
    ).astype(np.int64)
    pushes = np.full((count, 4, 3), -1, dtype=np.int64)
    counts = np.zeros(count, dtype=np.int64)
    for i in range(count):
        for a in range(4):
            stand, target = nbr[OPPOSITE[a], i], nbr[a, i]
            if stand >= 0 and target >= 0 and not dead[target]:
                pushes[i, counts[i]] = (a, stand, target)
                counts[i] += 1
    from solvers.sokoban.bound_kernels import pieces as piece_table

    pieces = piece_table(nbr, around)
    static = (cells, index, nbr, dead, goal_mask, goals, pieces, per_goal, pushes, counts, INF)
    if len(_STATIC) >= 32:
        _STATIC.pop(next(iter(_STATIC)))
    _STATIC[board] = static
    return static


def compile_kernels() -> bool:
    """Compile (or load from numba's cache) every kernel by solving a small level; whether the
    compiled path is available."""
    if not available():
        return False
    from solvers.sokoban.astar import solve
    from solvers.sokoban.level import Level

    return solve(Level.parse(WARM_UP_LEVEL), time_limit=None).solved


if __name__ == "__main__":
    start = time.perf_counter()
    if compile_kernels():
        print(f"compiled Sokoban A* ready ({time.perf_counter() - start:.1f} s)")
    else:
        print("numba not available (or SOKOBAN_JIT=0): the pure-Python Sokoban A* runs")
