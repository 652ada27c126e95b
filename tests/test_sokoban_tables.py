"""Side tables: the linear-time block decomposition and lazy pieces equal a brute-force
flood fill per cell, and the per-goal distances equal a brute-force lone-box search."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from solvers.sokoban import Level, generate_level, split_levels
from solvers.sokoban.board import INF, OPPOSITE, Board, board_of
from solvers.sokoban.tables import SideTables, side_tables

BOXOBAN = Path(__file__).resolve().parent / "data" / "boxoban"


def _brute_pieces(board: Board, x: int) -> list[int]:
    """Flood fill of the floor without x, labelled by x's neighbours in udlr order."""
    n = board.height * board.width
    piece = [-1] * n
    label = 0
    for nb in board.nbr:
        s = nb[x]
        if s < 0 or piece[s] >= 0:
            continue
        piece[s] = label
        stack = [s]
        while stack:
            c = stack.pop()
            for nb2 in board.nbr:
                j = nb2[c]
                if j >= 0 and j != x and piece[j] < 0:
                    piece[j] = label
                    stack.append(j)
        label += 1
    return piece


def _brute_pushes(board: Board, x: int, player: int, goal: int) -> int:
    """Pushes that bring a lone box from x to goal, the player starting on `player`."""
    start = (x, player)
    seen = {start: 0}
    queue = deque([start])
    while queue:
        box, p = queue.popleft()
        if box == goal:
            return seen[(box, p)]
        for nb in board.nbr:
            q = nb[p]
            if q < 0:
                continue
            if q == box:
                t = nb[q]
                if t < 0:
                    continue
                state, cost = (t, q), seen[(box, p)] + 1
            else:
                state, cost = (box, q), seen[(box, p)]
            if state not in seen:
                seen[state] = cost
                # 0-1 BFS: walking costs nothing, a push costs one.
                (queue.appendleft if cost == seen[(box, p)] else queue.append)(state)
    return INF


def _levels() -> list[Level]:
    levels = [generate_level(seed, 8, 8, 2) for seed in range(6)]
    levels += [Level.parse(t) for t in split_levels((BOXOBAN / "hard.txt").read_text())[:2]]
    levels.append(Level.parse("#######\n#  #  #\n# $@. #\n#  #  #\n#######"))
    return levels


def test_pieces_match_a_flood_fill_per_cell() -> None:
    for level in _levels():
        board = board_of(level)
        tables = SideTables(board)
        for x in range(board.height * board.width):
            if not board.floor[x]:
                continue
            brute = _brute_pieces(board, x)
            for a, nb in enumerate(board.nbr):
                assert tables.around[x * 4 + a] == (brute[nb[x]] if nb[x] >= 0 else -1)
            for c in range(board.height * board.width):
                if c != x:
                    assert tables.piece(x, c) == brute[c], (level.xsb(), x, c)


def test_rows_are_lone_box_push_distances() -> None:
    for level in _levels()[:4] + _levels()[-1:]:
        board = board_of(level)
        tables = SideTables(board)
        player_cells = [c for c in range(board.height * board.width) if board.floor[c]]
        for x in player_cells:
            tried = set()
            for c in player_cells:
                s = tables.piece(x, c) if c != x else -1
                if s < 0 or s in tried:
                    continue
                tried.add(s)  # one player cell per piece: the row depends on the piece only
                row = tables.row(x, s)
                for g, goal in enumerate(board.goal_cells):
                    assert row[g] == _brute_pushes(board, x, c, goal), (level.xsb(), x, c, goal)


def test_tables_are_cached_per_board_and_opposite_is_an_involution() -> None:
    board = board_of(generate_level(0))
    assert side_tables(board) is side_tables(board)
    assert all(OPPOSITE[OPPOSITE[a]] == a for a in range(4))
