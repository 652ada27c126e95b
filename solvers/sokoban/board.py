"""Compiled boards: the fixed part of a level (walls, goals) as flat tables for the searches.

Cells are numbered `i = row * width + col`. A state is the player's cell and a bitmask of box
cells (bit i set = a box on cell i); `key = mask << pbits | player` is its compact hashable form.
`nbr[a][i]` is the neighbour of cell i in direction `ACTIONS[a]`, or -1 for a wall or the edge.
A board also holds the dead squares (cells from which no box can ever reach a goal) and the push
distances from every cell to every goal, ignoring the other boxes. Boards are cached per
(size, walls, goals), so the many states of one level share one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from solvers.sokoban.level import ACTIONS, DELTAS, Cell, Level

INF = 1 << 30
OPPOSITE = (1, 0, 3, 2)  # u<->d, l<->r, in ACTIONS order


@dataclass(frozen=True, eq=False)
class Board:
    height: int
    width: int
    walls: frozenset[Cell]
    goals: frozenset[Cell]
    pbits: int  # bits reserved for the player's cell in a state key
    floor: tuple[bool, ...]
    nbr: tuple[tuple[int, ...], ...]  # nbr[a][i], -1 where blocked
    goal_mask: int
    goal_cells: tuple[int, ...]
    dead: tuple[bool, ...]  # floor cells that are not goals and from which no goal is reachable
    push_dist: tuple[tuple[int, ...], ...]  # push_dist[g][i]: pushes from cell i to goal_cells[g]
    to_goals: tuple[tuple[int, ...], ...]  # to_goals[i][g] == push_dist[g][i]
    nearest: tuple[int, ...]  # nearest[i]: min over goals of push_dist[g][i] (INF: dead)
    nearest_goal: tuple[int, ...]  # nearest[i] is reached for goal index nearest_goal[i]

    def index(self, cell: Cell) -> int:
        return cell[0] * self.width + cell[1]

    def cell(self, i: int) -> Cell:
        return divmod(i, self.width)

    def state(self, level: Level) -> tuple[int, int]:
        """(player cell, box mask) of a level on this board."""
        mask = 0
        for box in level.boxes:
            mask |= 1 << self.index(box)
        return self.index(level.player), mask

    def level(self, player: int, mask: int) -> Level:
        """The Level of a state on this board."""
        boxes = []
        while mask:
            low = mask & -mask
            boxes.append(divmod(low.bit_length() - 1, self.width))
            mask ^= low
        return Level._trusted(
            self.height, self.width, self.walls, self.goals, frozenset(boxes), self.cell(player)
        )


def board_of(level: Level) -> Board:
    return _compile(level.height, level.width, level.walls, level.goals)


@lru_cache(maxsize=256)
def _compile(height: int, width: int, walls: frozenset[Cell], goals: frozenset[Cell]) -> Board:
    n = height * width
    floor = [True] * n
    for r, c in walls:
        floor[r * width + c] = False
    nbr = [
        tuple(j if j >= 0 and floor[j] else -1 for j in grid)
        for grid in _grid_neighbours(height, width)
    ]
    goal_cells = tuple(sorted(r * width + c for r, c in goals))
    goal_mask = 0
    for g in goal_cells:
        goal_mask |= 1 << g
    push_dist = tuple(_pull_distances(g, n, nbr) for g in goal_cells)
    if push_dist:
        to_goals = tuple(zip(*push_dist, strict=True))
        nearest = tuple(map(min, to_goals))
        nearest_goal = tuple(row.index(low) for row, low in zip(to_goals, nearest, strict=True))
    else:  # no goals: every floor cell is dead
        to_goals, nearest, nearest_goal = ((),) * n, (INF,) * n, (-1,) * n
    dead = tuple(
        f and low >= INF and not goal_mask >> i & 1
        for i, (f, low) in enumerate(zip(floor, nearest, strict=True))
    )
    return Board(
        height=height,
        width=width,
        walls=walls,
        goals=goals,
        pbits=max(1, (n - 1).bit_length()),
        floor=tuple(floor),
        nbr=tuple(nbr),
        goal_mask=goal_mask,
        goal_cells=goal_cells,
        dead=dead,
        push_dist=push_dist,
        to_goals=to_goals,
        nearest=nearest,
        nearest_goal=nearest_goal,
    )


@lru_cache(maxsize=64)
def _grid_neighbours(height: int, width: int) -> tuple[tuple[int, ...], ...]:
    """Per action, each cell's neighbour on an open grid of this size (-1 off the edge)."""
    out = []
    for a in ACTIONS:
        dr, dc = DELTAS[a]
        row = []
        for i in range(height * width):
            r, c = divmod(i, width)
            rr, cc = r + dr, c + dc
            row.append(rr * width + cc if 0 <= rr < height and 0 <= cc < width else -1)
        out.append(tuple(row))
    return tuple(out)


def _pull_distances(goal: int, n: int, nbr: list[tuple[int, ...]]) -> tuple[int, ...]:
    # Reverse play from the goal: a box on y can be pulled to y1 when the player stands on y1 and
    # can step back to y2; forward, that is one push from y1 to y.
    dist = [INF] * n
    dist[goal] = 0
    queue = deque([goal])
    while queue:
        y = queue.popleft()
        for a in range(4):
            y1 = nbr[a][y]
            if y1 < 0 or dist[y1] < INF:
                continue
            if nbr[a][y1] >= 0:
                dist[y1] = dist[y] + 1
                queue.append(y1)
    return tuple(dist)


def frozen_deadlock(board: Board, mask: int, cell: int) -> bool:
    """True when the box just pushed onto `cell`, or a box beside it, is frozen off a goal.

    A box is frozen when it can move along neither axis: along an axis it is blocked by a wall,
    by dead squares on both sides, or by a neighbouring box that is itself frozen while this one
    counts as a wall (the standard freeze test). Frozen off a goal means unsolvable.
    """
    goal_mask = board.goal_mask
    if not goal_mask >> cell & 1 and _frozen(board, mask, cell, 0):
        return True
    for a in range(4):
        j = board.nbr[a][cell]
        if j >= 0 and mask >> j & 1 and not goal_mask >> j & 1 and _frozen(board, mask, j, 0):
            return True
    return False


def _frozen(board: Board, mask: int, cell: int, as_wall: int) -> bool:
    return _blocked(board, mask, cell, 0, as_wall) and _blocked(board, mask, cell, 2, as_wall)


def _blocked(board: Board, mask: int, cell: int, axis: int, as_wall: int) -> bool:
    # axis 0: up/down, axis 2: left/right (indices into nbr).
    x = board.nbr[axis][cell]
    y = board.nbr[axis + 1][cell]
    if x < 0 or y < 0 or as_wall >> x & 1 or as_wall >> y & 1:
        return True
    dead = board.dead
    if dead[x] and dead[y]:
        return True
    as_wall |= 1 << cell
    if mask >> x & 1 and _frozen(board, mask, x, as_wall):
        return True
    return bool(mask >> y & 1 and _frozen(board, mask, y, as_wall))
