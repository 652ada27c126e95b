"""Push distances that know which side of a box the player is on: the A* lower bound's tables.

With a lone box on cell x, the rest of the floor falls into at most four pieces around x (one
per neighbour, merged where the neighbours connect without crossing x). `SideTables.row(x, s)`
is the number of pushes that bring a lone box from x to each goal when the player starts in
piece s (INF: never); other boxes only get in the way, so these are lower bounds, tighter than
`Board.push_dist`: a box whose reachable side points the wrong way costs more, or INF.

Cost is linear in the cells (the old tables were cells²: 13 s and 814 MB on an empty 100x100
room before the search started). The pieces around every cell's neighbours come from one pass
of Tarjan's biconnected components (two neighbours of x connect without x exactly when their
edges to x lie in one block); the per-goal distances are flat int arrays of 4 x cells; the piece
of an arbitrary player cell is a flood fill per box cell, built lazily and cached.

    tables = side_tables(board_of(level)); tables.piece(x, player); tables.row(x, s)
"""

from __future__ import annotations

import time
from array import array
from collections import deque

from solvers.sokoban.board import INF, OPPOSITE, Board


class TableTimeout(RuntimeError):
    """The tables were still being built at the deadline."""


class SideTables:
    def __init__(self, board: Board, deadline: float | None = None) -> None:
        self.board = board
        n = board.height * board.width
        self.n = n
        # around[x * 4 + a]: the piece (0-3) of x's neighbour in direction a, -1 for none.
        self.around = _pieces_around(board)
        # pieces[x][c]: piece + 1 of cell c around a lone box on x (0: none), built per x.
        self.pieces: dict[int, bytearray] = {}
        self._rows: dict[int, tuple[int, ...]] = {}
        # per_goal[g][x << 2 | s]: pushes from (box x, player in piece s) to goal g (INF: never).
        self.per_goal: list[array] = []
        for g in board.goal_cells:
            if deadline is not None and time.perf_counter() > deadline:
                raise TableTimeout
            self.per_goal.append(self._from_goal(g))

    def piece(self, x: int, c: int) -> int:
        """The piece of the floor around a lone box on x that holds cell c (-1: none)."""
        around = self.around
        for a, nb in enumerate(self.board.nbr):
            if nb[x] == c:
                return around[x * 4 + a]
        return self.pieces_of(x)[c] - 1

    def pieces_of(self, x: int) -> bytearray:
        pieces = self.pieces.get(x)
        if pieces is None:
            pieces = self.pieces[x] = self._flood(x)
        return pieces

    def row(self, x: int, s: int) -> tuple[int, ...]:
        key = x << 2 | s
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = tuple(d[key] for d in self.per_goal)
        return row

    def _flood(self, x: int) -> bytearray:
        # Stored as piece + 1 so that 0 means "not reachable around x".
        nbrs = self.board.nbr
        pieces = bytearray(self.n)
        for a, nb in enumerate(nbrs):
            s = nb[x]
            if s < 0 or pieces[s]:
                continue
            label = self.around[x * 4 + a] + 1
            pieces[s] = label
            stack = [s]
            while stack:
                c = stack.pop()
                for nb2 in nbrs:
                    j = nb2[c]
                    if j >= 0 and j != x and not pieces[j]:
                        pieces[j] = label
                        stack.append(j)
        return pieces

    def _from_goal(self, g: int) -> array:
        """Reverse play from goal g over (box cell, player piece) states, as 4 x cells ints."""
        nbrs = self.board.nbr
        around = self.around
        dist = array("i", [INF]) * (4 * self.n)
        queue: deque[int] = deque()
        for a in range(4):
            s = around[g * 4 + a]
            if s >= 0 and dist[g << 2 | s] == INF:
                dist[g << 2 | s] = 0
                queue.append(g << 2 | s)
        while queue:
            key = queue.popleft()
            y, piece_y = key >> 2, key & 3
            d = dist[key] + 1
            for a in range(4):
                o = OPPOSITE[a]
                x = nbrs[o][y]  # the box came from x, pushed in direction a
                if x < 0:
                    continue
                # After the push the player stands on x, in piece piece_y of the floor around y.
                if nbrs[o][x] < 0 or around[y * 4 + o] != piece_y:
                    continue
                prev = x << 2 | around[x * 4 + o]
                if dist[prev] == INF:
                    dist[prev] = d
                    queue.append(prev)
        return dist


def _pieces_around(board: Board) -> array:
    """Piece labels of every cell's neighbours, from the blocks of the floor graph."""
    n = board.height * board.width
    nbrs = board.nbr
    floor = board.floor
    disc = array("i", [-1]) * n
    low = array("i", [0]) * n
    block: dict[int, int] = {}  # edge (v * n + w, both orders) -> block id
    timer = 0
    blocks = 0
    for root in range(n):
        if not floor[root] or disc[root] >= 0:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack = [(root, -1, 0)]
        edges: list[tuple[int, int]] = []
        while stack:
            v, parent, a = stack[-1]
            if a < 4:
                stack[-1] = (v, parent, a + 1)
                w = nbrs[a][v]
                if w < 0 or w == parent:
                    continue
                if disc[w] < 0:
                    edges.append((v, w))
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append((w, v, 0))
                elif disc[w] < disc[v]:
                    edges.append((v, w))
                    low[v] = min(low[v], disc[w])
                continue
            stack.pop()
            if not stack:
                continue
            u = stack[-1][0]
            low[u] = min(low[u], low[v])
            if low[v] >= disc[u]:
                while True:
                    e0, e1 = edges.pop()
                    block[e0 * n + e1] = block[e1 * n + e0] = blocks
                    if (e0, e1) == (u, v):
                        break
                blocks += 1
    around = array("b", [-1]) * (4 * n)
    for x in range(n):
        if not floor[x]:
            continue
        labels: dict[int, int] = {}
        for a in range(4):
            w = nbrs[a][x]
            if w >= 0:
                around[x * 4 + a] = labels.setdefault(block[x * n + w], len(labels))
    return around


_CACHE: dict[Board, SideTables] = {}
_CACHE_SIZE = 32


def side_tables(board: Board, deadline: float | None = None) -> SideTables:
    """The tables of a board, cached (the states of one level share them)."""
    tables = _CACHE.get(board)
    if tables is None:
        tables = SideTables(board, deadline)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[board] = tables
    return tables
