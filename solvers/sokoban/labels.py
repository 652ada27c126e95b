"""Move-optimal labels by A*: every optimal action at every state of an optimal solution.

For levels whose state space is too large for the move-level BFS (Boxoban and up). The
optimal cost from a state is min over pushes of (walk to its stand + 1 + optimal cost after
it). So at a state right after a push (a "push node", and the start) it is enough to know the
set P of optimal next pushes; every walking state on the way to one of them is labelled from
walking distances alone:

- a candidate push is tried only when walk + 1 + its child's lower bound fits the budget, and
  then by one A* with a cutoff ("is the optimum after it at most the rest?");
- walking from the push node p, the state at cell c (k steps from p) keeps the pushes of P
  whose stand s is still on a shortest path (d(c, s) == d(p, s) - k); a step to q is optimal
  when it gets one of them one step closer, a push when c is its stand. No push outside P can
  become optimal on the way (d(c, s) >= d(p, s) - k).

The trajectory takes the first optimal action in 'udlr' order at every step, the convention of
the BFS labels (`bfs.optimal_trajectory`), so both give the same rows where both finish.

    from solvers.sokoban.labels import astar_trajectory
    steps, reason = astar_trajectory(level, time_limit=60)   # [(Level, ('u', 'l')), ...]
"""

from __future__ import annotations

import time

from solvers.sokoban.astar import _Children, _lurd, _search
from solvers.sokoban.board import INF, OPPOSITE, Board, board_of
from solvers.sokoban.level import ACTIONS, Level
from solvers.sokoban.limits import (
    DEFAULT_MAX_NODES,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIME_LIMIT,
    check_size,
    state_cap,
)
from solvers.sokoban.tables import TableTimeout, side_tables


class _Limit(Exception):
    """A search stopped on a budget; the reason is the message."""


class _Labeller:
    def __init__(
        self, level: Level, time_limit: float | None, memory_mb: float, max_nodes: int
    ) -> None:
        check_size(level)
        self.nodes_left = max_nodes  # all searches of the level together
        self.moves = ""  # the LURD of the last full solution found
        self.deadline = None if time_limit is None else time.perf_counter() + time_limit
        self.board = board = board_of(level)
        try:
            self.tables = side_tables(board, self.deadline)
        except TableTimeout:
            raise _Limit("time limit") from None
        self.children = _Children(board, self.tables)
        self.states = state_cap(board.height * board.width, memory_mb)

    def optimum(self, player: int, mask: int, cutoff: int | None = None) -> int | None:
        """Optimal moves from (player, mask); None when unsolvable or over the cutoff."""
        if self.nodes_left <= 0:
            raise _Limit("node limit")
        pushes, expanded, reason = _search(
            self.board,
            self.tables,
            player,
            mask,
            True,
            1.0,
            (self.nodes_left, self.states),
            self.deadline,
            cutoff=cutoff,
            children=self.children,
        )
        self.nodes_left -= expanded
        if reason in ("unsolvable", "over cutoff"):
            return None
        if reason is not None:
            raise _Limit(reason)
        self.moves = _lurd(self.board, player, mask, pushes)
        return len(self.moves)

    def optimal_pushes(self, player: int, mask: int, length: int) -> dict[int, list[int]]:
        """Stand cell -> push directions of every push that starts an optimal solution."""
        board = self.board
        nbrs = board.nbr
        dist = _distances(board, player, mask)
        plan: dict[int, list[int]] = {}
        bx = mask
        while bx:
            low = bx & -bx
            bx ^= low
            b = low.bit_length() - 1
            for a in range(4):
                stand = nbrs[OPPOSITE[a]][b]
                t = nbrs[a][b]
                if stand < 0 or t < 0 or dist[stand] < 0 or mask >> t & 1 or board.dead[t]:
                    continue
                m2 = mask ^ low ^ (1 << t)
                rest = length - dist[stand] - 1
                if m2 == board.goal_mask:
                    ok = rest == 0
                else:
                    bound = self.children(m2, t, b)
                    ok = bound < INF and bound <= rest and self.optimum(b, m2, rest) == rest
                if ok:
                    plan.setdefault(stand, []).append(a)
        return plan


def astar_trajectory(
    level: Level,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    memory_mb: float = DEFAULT_MEMORY_MB,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> tuple[list[tuple[Level, tuple[str, ...]]], str | None]:
    """(steps, reason): the states of one optimal solution with all their optimal actions.

    reason is None when labelled ([] for a solved level), "unsolvable", or the budget that
    stopped it ("time limit", "node limit", "memory limit"); steps are then []. A level over the
    size limits raises `LevelTooLarge`. `max_nodes` caps the nodes of all its searches together
    (a budget that, unlike the time limit, gives the same answer on any machine).
    """
    steps, _, reason = _label(level, time_limit, memory_mb, max_nodes, first_only=False)
    return steps, reason


def astar_actions(
    level: Level,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    memory_mb: float = DEFAULT_MEMORY_MB,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> tuple[tuple[str, ...], str, str | None]:
    """(optimal first actions, one optimal LURD solution, reason) of one state."""
    steps, moves, reason = _label(level, time_limit, memory_mb, max_nodes, first_only=True)
    return (steps[0][1] if steps else ()), moves, reason


def _label(
    level: Level, time_limit: float | None, memory_mb: float, max_nodes: int, first_only: bool
) -> tuple[list, str, str | None]:
    try:
        labeller = _Labeller(level, time_limit, memory_mb, max_nodes)
        board = labeller.board
        player, mask = board.state(level)
        if mask == board.goal_mask:
            return [], "", None
        length = labeller.optimum(player, mask)
        if length is None:
            return [], "", "unsolvable"
        moves = labeller.moves
        return _walk_labels(labeller, player, mask, length, first_only), moves, None
    except _Limit as stop:
        return [], "", str(stop)


def _walk_labels(
    labeller: _Labeller, player: int, mask: int, length: int, first_only: bool = False
) -> list[tuple[Level, tuple[str, ...]]]:
    board = labeller.board
    nbrs = board.nbr
    steps = []
    while mask != board.goal_mask:
        plan = labeller.optimal_pushes(player, mask, length)
        # Distances from each optimal stand: d(c, s) for every cell c of the player's region.
        from_stand = {s: _distances(board, s, mask) for s in plan}
        start_dist = {s: d[player] for s, d in from_stand.items()}
        k = 0
        c = player
        while True:
            live = [s for s, d in from_stand.items() if d[c] == start_dist[s] - k]
            actions = []
            for a in range(4):
                q = nbrs[a][c]
                if q < 0:
                    continue
                if mask >> q & 1:
                    if c in live and a in plan[c]:
                        actions.append(a)
                elif any(from_stand[s][q] == from_stand[s][c] - 1 for s in live):
                    actions.append(a)
            assert actions, "an optimal state without an optimal action"
            steps.append((board.level(c, mask), tuple(ACTIONS[a] for a in actions)))
            if first_only:
                return steps
            first = actions[0]
            b = nbrs[first][c]
            if mask >> b & 1:
                mask ^= (1 << b) | (1 << nbrs[first][b])
                player = b
                length -= k + 1
                break
            c = b
            k += 1
    return steps


def _distances(board: Board, src: int, mask: int) -> list[int]:
    """Walking distances from src around the boxes (-1: unreachable)."""
    nbrs = board.nbr
    dist = [-1] * (board.height * board.width)
    dist[src] = 0
    frontier = [src]
    for c in frontier:
        d = dist[c] + 1
        for nb in nbrs:
            j = nb[c]
            if j >= 0 and dist[j] < 0 and not mask >> j & 1:
                dist[j] = d
                frontier.append(j)
    return dist
