"""A* over pushes: the solver for levels too large for a move-level BFS (Boxoban and up).

A search node is the state right after a push (player on the cell the box left, boxes as a
bitmask); between pushes the player walks, by a flood fill over the free cells. Edge cost:
walk + 1 for `metric="moves"` (the node keeps the exact player cell, so the cost is exact and
the solution is move-optimal), 1 for `metric="pushes"` (the player's cell is normalised to the
top-left-most cell it can reach, so positions that differ only by walking merge).

Lower bound: the minimum-cost matching of boxes to goals on precomputed push distances of a
lone box that know which side of the box the player is on (`board.side_tables`). Walking never
changes that side for a box it does not push and each push moves one box one cell, so the bound
drops by at most one per edge: consistent for both metrics, and the first solution popped is
optimal. Pruning: dead squares (no goal reachable), freeze deadlocks after each push and
infinite bounds (a box that can never reach a goal); all only cut states that cannot be
solved. `fast=True` weights the bound (f = g + 3h): much faster,
no longer optimal. `max_nodes` caps expanded nodes; `time_limit` caps seconds. For the move
metric on levels of at most 64 floor cells the same search runs compiled (astar_jit.py) when
numba is installed.

    python -c "from solvers.sokoban import *; print(solve(generate_level(3, 10, 10, 2)))"
"""

from __future__ import annotations

import heapq
import time
from collections import deque

from solvers.sokoban.board import INF, OPPOSITE, Board, board_of, frozen_deadlock
from solvers.sokoban.level import ACTIONS, Level
from solvers.sokoban.limits import (
    DEFAULT_MAX_NODES,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIME_LIMIT,
    check_size,
    state_cap,
)
from solvers.sokoban.matching import min_cost_matching
from solvers.sokoban.solution import Solution
from solvers.sokoban.tables import SideTables, TableTimeout, side_tables

__all__ = ["METRICS", "min_cost_matching", "solve"]

FAST_WEIGHT = 3.0
CHECK_EVERY = 63  # a mask: limits are checked every 64 expanded nodes
METRICS = ("moves", "pushes")


def solve(
    level: Level,
    metric: str = "moves",
    fast: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    memory_mb: float = DEFAULT_MEMORY_MB,
) -> Solution:
    """Solve a level by A* over pushes; optimal for `metric` unless `fast`.

    The limits hold from the first instruction: `time_limit` seconds (None: no limit) include
    building the tables, `memory_mb` caps the stored states; a level beyond the size limits
    raises `LevelTooLarge` before any work.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be >= 1, got {max_nodes}")
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"time_limit must be > 0, got {time_limit}")
    start = time.perf_counter()
    check_size(level)
    deadline = None if time_limit is None else start + time_limit
    board = board_of(level)
    player, mask = board.state(level)
    cap = state_cap(board.height * board.width, memory_mb)
    try:
        tables = side_tables(board, deadline)
    except TableTimeout:
        pushes, expanded, reason = None, 0, "time limit"
    else:
        weight = FAST_WEIGHT if fast else 1.0
        pushes, expanded, reason = _search(
            board, tables, player, mask, metric == "moves", weight, (max_nodes, cap), deadline
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


class _Children:
    """The bound of a node after a push, or INF for a deadlock; cached.

    The freeze test depends on the boxes and the pushed box only; the matching bound on the
    boxes and, per box, the side of it the player is on, so many nodes share both.
    """

    def __init__(self, board: Board, tables: SideTables) -> None:
        self.board = board
        self.pieces = tables.pieces
        self.pieces_of = tables.pieces_of
        self.row = tables.row
        self.frozen: dict[int, bool] = {}
        self.bounds: dict[int, int] = {}

    def __call__(self, mask: int, pushed: int, player: int) -> int:
        """Bound after a push onto `pushed` from `player` (boxes `mask` after the push)."""
        key = mask << self.board.pbits | pushed
        frozen = self.frozen.get(key)
        if frozen is None:
            frozen = self.frozen[key] = frozen_deadlock(self.board, mask, pushed)
        if frozen:
            return INF
        # The bound's cache key: the boxes, then each box's piece around it (inlined: hot).
        pieces = self.pieces
        rows = []
        bound_key = mask
        rest = mask
        while rest:
            low = rest & -rest
            rest ^= low
            x = low.bit_length() - 1
            around = pieces.get(x)
            if around is None:
                around = self.pieces_of(x)
            s = around[player]
            bound_key = bound_key << 3 | s
            rows.append((x, s - 1))
        value = self.bounds.get(bound_key)
        if value is None:
            value = self.bounds[bound_key] = self._compute(rows)
        return value

    def bound(self, mask: int, player: int, cells: list[int]) -> int:
        pieces = self.pieces
        rows = []
        key = mask
        for x in cells:
            around = pieces.get(x)
            if around is None:
                around = self.pieces_of(x)
            s = around[player] - 1
            key = key << 3 | (s + 1)
            rows.append((x, s))
        value = self.bounds.get(key)
        if value is None:
            value = self.bounds[key] = self._compute(rows)
        return value

    def _compute(self, states: list[tuple[int, int]]) -> int:
        table = self.row
        goal_cells = self.board.goal_cells
        rows = []
        total = 0
        used = 0
        distinct = True
        for state in states:
            x, piece = state
            # piece < 0: the player cannot reach this box at all, so it stays where it is.
            row = table(x, piece) if piece >= 0 else tuple(0 if g == x else INF for g in goal_cells)
            low = min(row)
            if low >= INF:
                return INF
            total += low
            j = row.index(low)
            if used >> j & 1:
                distinct = False
            used |= 1 << j
            rows.append(row)
        # Every box's nearest goal differs: that assignment is the optimum.
        return total if distinct else min_cost_matching(rows)


def _search(
    board: Board,
    tables: SideTables,
    player: int,
    mask: int,
    by_moves: bool,
    weight: float,
    caps: tuple[int, int],
    deadline: float | None,
    cutoff: int | None = None,
    children: _Children | None = None,
) -> tuple[list[tuple[int, int]] | None, int, str | None]:
    """A*; returns (pushes as (box cell, action index), expanded, reason).

    `caps`: (expanded nodes, stored states); the deadline is checked every CHECK_EVERY
    expansions, often enough on the largest accepted level to stop within a fraction of a second.
    `cutoff`: give up ("over cutoff") once every open node costs more (the labeller's question
    "is the optimum at most this?"); `children`: a bound cache to share between searches.
    """
    goal = board.goal_mask
    if mask == goal:
        return [], 0, None
    max_nodes, max_states = caps
    if children is None:
        children = _Children(board, tables)
    h0 = children.bound(
        mask, player, [i for i in range(board.height * board.width) if mask >> i & 1]
    )
    if h0 >= INF:
        return None, 0, "unsolvable"
    if by_moves and weight == 1.0:
        from solvers.sokoban.astar_jit import search as compiled_search

        found = compiled_search(board, tables, player, mask, h0, caps, deadline, cutoff)
        if found is not None:
            return found
    pb = board.pbits
    nbrs = board.nbr
    # Per box cell, the pushes that can ever be legal: (direction, stand cell, target cell).
    pushes_from = [
        tuple(
            (a, nbrs[OPPOSITE[a]][b], nbrs[a][b])
            for a in range(4)
            if nbrs[OPPOSITE[a]][b] >= 0 and nbrs[a][b] >= 0 and not board.dead[nbrs[a][b]]
        )
        for b in range(board.height * board.width)
    ]
    # Walking distances start from this template: -1 free floor, -2 wall (boxes added per node).
    template = [-1 if f else -2 for f in board.floor]
    adjacent = [tuple(nb[c] for nb in nbrs if nb[c] >= 0) for c in range(len(template))]
    start_key = mask << pb | player
    # key -> (best g, parent key, box cell, action): one entry per stored state.
    seen: dict[int, tuple[int, int, int, int]] = {start_key: (0, -1, -1, -1)}
    closed: set[int] = set()
    # Open nodes: (key, h) under priority (f, -g); deeper nodes first among equal f. Children go in
    # with h = -1 and f from their parent's bound minus one (valid: the bound is consistent);
    # their own bound is computed only if they come up, which most never do.
    open_list = _OpenList((h0 * weight, 0), (start_key, h0))
    push = open_list.push
    expanded = 0
    pmask = (1 << pb) - 1
    while open_list:
        (f, neg_g), (key, h) = open_list.pop()
        if cutoff is not None and f > cutoff:
            return None, expanded, "over cutoff"
        g = -neg_g
        if g > seen[key][0]:
            continue
        p = key & pmask
        m = key >> pb
        if m == goal:
            return _unwind(seen, key, start_key), expanded, None
        if by_moves and key in closed:
            continue
        if h < 0:
            _, _, b, a = seen[key]
            h = children(m, nbrs[a][b], b)
            if h >= INF:
                continue
            if g + weight * h > f:
                push((g + weight * h, neg_g), (key, h))
                continue
        dist = template[:]
        box_cells = []
        rest = m
        while rest:
            low = rest & -rest
            b = low.bit_length() - 1
            rest ^= low
            box_cells.append(b)
            dist[b] = -2
        dist[p] = 0
        frontier = [p]
        for c in frontier:
            dc = dist[c] + 1
            for j in adjacent[c]:
                if dist[j] == -1:
                    dist[j] = dc
                    frontier.append(j)
        if by_moves:
            closed.add(key)
        else:
            # Push metric: states that differ only by walking are one node.
            closed_key = m << pb | min(frontier)
            if closed_key in closed:
                continue
            closed.add(closed_key)
        expanded += 1
        if expanded > max_nodes:
            return None, expanded, "node limit"
        if len(seen) > max_states:
            return None, expanded, "memory limit"
        if deadline is not None and not expanded & CHECK_EVERY and time.perf_counter() > deadline:
            return None, expanded, "time limit"
        for b in box_cells:
            without = m ^ (1 << b)
            for a, stand, t in pushes_from[b]:
                walk = dist[stand]
                # dist[t] == -2 on a floor cell means a box stands there.
                if walk < 0 or dist[t] == -2:
                    continue
                m2 = without | (1 << t)
                g2 = g + (walk + 1 if by_moves else 1)
                k2 = m2 << pb | b
                old = seen.get(k2)
                if old is not None and old[0] <= g2:
                    continue
                if m2 == goal and weight == 1.0 and g2 == f:
                    # A solution as cheap as the cheapest open node: nothing can beat it.
                    seen[k2] = (g2, key, b, a)
                    return _unwind(seen, k2, start_key), expanded, None
                seen[k2] = (g2, key, b, a)
                push((g2 + weight * (h - 1 if h else 0), -g2), (k2, -1))
    return None, expanded, "unsolvable"


class _OpenList:
    """A* open list as buckets: a heap of the distinct (f, -g) priorities, each with a queue of
    its nodes. A search has a few dozen priorities and thousands of nodes, so a push is an
    append and a pop a popleft (a heap of nodes spent a fifth of the search comparing tuples);
    among equal (f, g) the oldest node comes first, as with a heap's insertion counter."""

    def __init__(self, priority: tuple, item: tuple) -> None:
        self.priorities = [priority]
        self.buckets = {priority: deque([item])}

    def __bool__(self) -> bool:
        return bool(self.priorities)

    def push(self, priority: tuple, item: tuple) -> None:
        bucket = self.buckets.get(priority)
        if bucket is None:
            self.buckets[priority] = deque([item])
            heapq.heappush(self.priorities, priority)
        else:
            bucket.append(item)

    def pop(self) -> tuple[tuple, tuple]:
        priority = self.priorities[0]
        bucket = self.buckets[priority]
        item = bucket.popleft()
        if not bucket:
            del self.buckets[priority]
            heapq.heappop(self.priorities)
        return priority, item


def _unwind(
    seen: dict[int, tuple[int, int, int, int]], key: int, start_key: int
) -> list[tuple[int, int]]:
    pushes = []
    while key != start_key:
        _, key, box, action = seen[key]
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
