"""A* over pushes: the solver for levels too large for a move-level BFS (Boxoban and up).

A search node is the state right after a push (player on the cell the box left, boxes as a
bitmask); between pushes the player walks, by a flood fill over the free cells. Edge cost:
walk + 1 for `metric="moves"` (the node keeps the exact player cell, so the cost is exact and
the solution is move-optimal), 1 for `metric="pushes"` (the player's cell is normalised to the
top-left-most cell it can reach, so positions that differ only by walking merge).

Lower bound: the minimum-cost matching of boxes to goals on precomputed push distances (each
push moves one box one cell, so it changes the bound by at most one: consistent for both
metrics). Pruning: dead squares (no goal reachable) and freeze deadlocks after each push; both
only cut states that cannot be solved. `fast=True` weights the bound (f = g + 3h): much faster,
no longer optimal. `max_nodes` caps expanded nodes; `time_limit` caps seconds.

    python -c "from solvers.sokoban import *; print(solve(generate_level(3, 10, 10, 2)))"
"""

from __future__ import annotations

import heapq
import time

from solvers.sokoban.board import INF, OPPOSITE, Board, board_of, frozen_deadlock
from solvers.sokoban.level import ACTIONS, Level
from solvers.sokoban.solution import Solution

FAST_WEIGHT = 3.0
METRICS = ("moves", "pushes")


def solve(
    level: Level,
    metric: str = "moves",
    fast: bool = False,
    max_nodes: int = 2_000_000,
    time_limit: float | None = None,
) -> Solution:
    """Solve a level by A* over pushes; optimal for `metric` unless `fast`."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be >= 1, got {max_nodes}")
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    board = board_of(level)
    player, mask = board.state(level)
    pushes, expanded, reason = _search(
        board, player, mask, metric == "moves", FAST_WEIGHT if fast else 1.0, max_nodes, deadline
    )
    moves = "" if pushes is None else _lurd(board, player, mask, pushes)
    return Solution(
        solved=reason is None,
        moves=moves,
        length=len(moves),
        pushes=sum(ch.isupper() for ch in moves),
        expanded=expanded,
        seconds=time.perf_counter() - start,
        reason=reason,
    )


class _Bound:
    """Matching lower bound per box mask, cached (many nodes share their boxes)."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.cache: dict[int, int] = {}

    def __call__(self, mask: int) -> int:
        value = self.cache.get(mask)
        if value is None:
            value = self.cache[mask] = self._compute(mask)
        return value

    def _compute(self, mask: int) -> int:
        push_dist = self.board.push_dist
        rows = []
        while mask:
            low = mask & -mask
            i = low.bit_length() - 1
            mask ^= low
            row = [d[i] for d in push_dist]
            if min(row) >= INF:
                return INF
            rows.append(row)
        return min_cost_matching(rows)


def min_cost_matching(cost: list[list[int]]) -> int:
    """Minimum total cost of a perfect matching of rows to columns (square matrix).

    The Hungarian algorithm with potentials, O(n^3); INF entries are forbidden pairs and a
    result >= INF means no perfect matching avoids them.
    """
    n = len(cost)
    if n == 0:
        return 0
    if n == 1:
        return cost[0][0]
    u = [0] * (n + 1)
    v = [0] * (n + 1)
    match = [0] * (n + 1)  # match[j]: the row assigned to column j (1-based, 0 = none)
    way = [0] * (n + 1)
    for i in range(1, n + 1):
        match[0] = i
        j0 = 0
        minv = [INF * 4] * (n + 1)
        used = [False] * (n + 1)
        while True:
            used[j0] = True
            i0 = match[j0]
            row = cost[i0 - 1]
            delta = INF * 4
            j1 = 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = row[j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(n + 1):
                if used[j]:
                    u[match[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    total = sum(cost[match[j] - 1][j - 1] for j in range(1, n + 1))
    return min(total, INF)


def _search(
    board: Board,
    player: int,
    mask: int,
    by_moves: bool,
    weight: float,
    max_nodes: int,
    deadline: float | None,
) -> tuple[list[tuple[int, int]] | None, int, str | None]:
    """A*; returns (pushes as (box cell, action index), expanded, reason)."""
    goal = board.goal_mask
    if mask == goal:
        return [], 0, None
    bound = _Bound(board)
    h0 = bound(mask)
    if h0 >= INF:
        return None, 0, "unsolvable"
    pb = board.pbits
    nbrs = board.nbr
    dead = board.dead
    n = board.height * board.width
    start_key = mask << pb | player
    best_g = {start_key: 0}
    parent: dict[int, tuple[int, int, int]] = {}  # child key -> (parent key, box cell, action)
    closed: set[int] = set()
    # Heap entries: (f, -g, tie, key); deeper nodes first among equal f.
    heap = [(h0 * weight, 0, 0, start_key)]
    tie = 0
    expanded = 0
    pmask = (1 << pb) - 1
    while heap:
        _, neg_g, _, key = heapq.heappop(heap)
        g = -neg_g
        if g > best_g[key]:
            continue
        p = key & pmask
        m = key >> pb
        if m == goal:
            return _unwind(parent, key, start_key), expanded, None
        # Walking distances from the player (boxes block).
        dist = [-1] * n
        dist[p] = 0
        frontier = [p]
        top_left = p
        for c in frontier:
            dc = dist[c] + 1
            for nb in nbrs:
                j = nb[c]
                if j >= 0 and dist[j] < 0 and not m >> j & 1:
                    dist[j] = dc
                    frontier.append(j)
                    if j < top_left:
                        top_left = j
        closed_key = key if by_moves else (m << pb | top_left)
        if closed_key in closed:
            continue
        closed.add(closed_key)
        expanded += 1
        if expanded > max_nodes:
            return None, expanded, "node limit"
        if deadline is not None and not expanded & 255 and time.perf_counter() > deadline:
            return None, expanded, "time limit"
        boxes = m
        while boxes:
            low = boxes & -boxes
            b = low.bit_length() - 1
            boxes ^= low
            for a in range(4):
                stand = nbrs[OPPOSITE[a]][b]
                if stand < 0 or dist[stand] < 0:
                    continue
                t = nbrs[a][b]
                if t < 0 or dead[t] or m >> t & 1:
                    continue
                m2 = m ^ low ^ (1 << t)
                if frozen_deadlock(board, m2, t):
                    continue
                h2 = bound(m2)
                if h2 >= INF:
                    continue
                g2 = g + (dist[stand] + 1 if by_moves else 1)
                k2 = m2 << pb | b
                old = best_g.get(k2)
                if old is not None and old <= g2:
                    continue
                best_g[k2] = g2
                parent[k2] = (key, b, a)
                tie += 1
                heapq.heappush(heap, (g2 + weight * h2, -g2, tie, k2))
    return None, expanded, "unsolvable"


def _unwind(
    parent: dict[int, tuple[int, int, int]], key: int, start_key: int
) -> list[tuple[int, int]]:
    pushes = []
    while key != start_key:
        key, box, action = parent[key]
        pushes.append((box, action))
    pushes.reverse()
    return pushes


def _lurd(board: Board, player: int, mask: int, pushes: list[tuple[int, int]]) -> str:
    """Spell out a push sequence: the shortest walk to each push (udlr order), then the push."""
    nbrs = board.nbr
    out: list[str] = []
    for box, a in pushes:
        stand = nbrs[OPPOSITE[a]][box]
        out.append(_walk(board, player, stand, mask))
        out.append(ACTIONS[a].upper())
        mask ^= (1 << box) | (1 << nbrs[a][box])
        player = box
    return "".join(out)


def _walk(board: Board, src: int, dst: int, mask: int) -> str:
    if src == dst:
        return ""
    came: dict[int, tuple[int, int]] = {src: (-1, -1)}
    frontier = [src]
    for c in frontier:
        for a, nb in enumerate(board.nbr):
            j = nb[c]
            if j >= 0 and j not in came and not mask >> j & 1:
                came[j] = (c, a)
                if j == dst:
                    steps = []
                    while j != src:
                        j, step = came[j]
                        steps.append(ACTIONS[step])
                    return "".join(reversed(steps))
                frontier.append(j)
    raise AssertionError("the search pushed from a cell the player cannot reach")
