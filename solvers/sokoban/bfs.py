"""Move-optimal breadth-first search: the reference solver and the source of training labels.

One search answers three questions about a level at once. A forward BFS over (player, boxes)
states runs layer by layer until the first layer that holds a solved state (depth D). Marking
backwards from those solved states, through predecessors one layer shallower, finds exactly the
states that lie on some optimal solution (distance from the start + distance to a solution = D).
From there:

- `bfs_solve(level)`: one move-optimal LURD solution (the first optimal action in 'udlr' order
  at every step);
- `optimal_actions(level)`: every first action that starts some optimal solution;
- `optimal_trajectory(level)`: each state along that solution with all its optimal actions, which
  is what a dataset row needs (any optimal action is a correct label);
- `optimal_path(level)`: that trajectory and the LURD solution it follows, from the same search.

States are compact ints (`board.py`); pushes onto dead squares are pruned, which never removes a
state that can still be solved. Label results are cached per level, so labelling a freshly
generated level costs no second search. Past LABEL_MAX_NODES states (Boxoban-sized levels) the
label functions switch to the A* labeller (`labels.py`), which is exact too. Labels are bounded by
states and memory only, never by the clock, so that a slow or busy machine labels the same levels
the same way (a dataset build is byte-identical anywhere).

    python -c "from solvers.sokoban import *; print(optimal_actions(generate_level(0)))"
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from solvers.sokoban.astar import solve
from solvers.sokoban.board import OPPOSITE, Board, board_of
from solvers.sokoban.labels import astar_actions, astar_trajectory
from solvers.sokoban.level import ACTIONS, Level
from solvers.sokoban.limits import DEFAULT_MAX_NODES, check_size
from solvers.sokoban.solution import Solution

# States the label functions let the BFS store before they switch to A* (memory stays ~100 MB).
LABEL_MAX_NODES = 500_000


@dataclass(frozen=True)
class _Analysis:
    # (player, box mask, optimal actions) for each non-terminal state of the chosen solution.
    path: tuple[tuple[int, int, str], ...]
    moves: str  # LURD of the chosen solution; "" when already solved or not solved
    expanded: int
    reason: str | None  # None when solved (or already solved)


def bfs_solve(
    level: Level, max_nodes: int = DEFAULT_MAX_NODES, time_limit: float | None = None
) -> Solution:
    """A move-optimal solution by breadth-first search (practical for small levels only).

    `max_nodes` caps the stored states, `time_limit` (seconds) the wall time; either gives
    `solved=False` with the reason "node limit" or "time limit". A level over the size limits
    raises `LevelTooLarge` before any work.
    """
    start = time.perf_counter()
    check_size(level)
    analysis = _analysis(level, max_nodes, time_limit)
    moves = analysis.moves
    return Solution(
        solved=analysis.reason is None,
        moves=moves,
        length=len(moves),
        pushes=sum(ch.isupper() for ch in moves),
        expanded=analysis.expanded,
        seconds=time.perf_counter() - start,
        reason=analysis.reason,
    )


def optimal_actions(level: Level) -> tuple[str, ...]:
    """Every first action (in 'udlr' order) that starts a move-optimal solution.

    () for a solved or unsolvable level. Levels whose state space is too large for the BFS
    (more than LABEL_MAX_NODES states) are labelled with A* instead: slower, same answer.
    """
    analysis = _cached_analysis(level, LABEL_MAX_NODES)
    if analysis.reason == "node limit":
        actions, _, reason = astar_actions(level, time_limit=None)
        _check_labelled(reason)
        return actions
    return tuple(analysis.path[0][2]) if analysis.path else ()


def optimal_trajectory(level: Level) -> list[tuple[Level, tuple[str, ...]]]:
    """The states along one move-optimal solution, each with all its optimal next actions.

    The solution takes the first optimal action in 'udlr' order at every step; the solved final
    state is not included. [] when the level is unsolvable or already solved. It is the
    solution `bfs_solve(level)` spells out, so `bfs_solve(level).moves[i:]` is an optimal LURD
    solution from the i-th state.
    """
    return optimal_path(level)[0]


def optimal_path(level: Level) -> tuple[list[tuple[Level, tuple[str, ...]]], str]:
    """(optimal_trajectory(level), the LURD solution it follows) from one search."""
    analysis = _cached_analysis(level, LABEL_MAX_NODES)
    if analysis.reason == "node limit":
        trajectory, reason = astar_trajectory(level, time_limit=None)
        _check_labelled(reason)
        return trajectory, _spell(trajectory)
    board = board_of(level)
    trajectory = [(board.level(p, m), tuple(actions)) for p, m, actions in analysis.path]
    return trajectory, analysis.moves


def _spell(trajectory: list[tuple[Level, tuple[str, ...]]]) -> str:
    """The LURD of a trajectory: the first optimal action of each state, upper case on a push."""
    moves = []
    for state, actions in trajectory:
        after = state.step(actions[0])
        moves.append(actions[0].upper() if after.boxes != state.boxes else actions[0])
    return "".join(moves)


def optimal_length(level: Level) -> int | None:
    """The move-optimal solution length (0 when solved), None when unsolvable."""
    analysis = _cached_analysis(level, LABEL_MAX_NODES)
    if analysis.reason == "node limit":
        return _astar_length(level)
    return None if analysis.reason else len(analysis.moves)


def _astar_length(level: Level) -> int | None:
    result = solve(level, time_limit=None)
    if result.reason == "unsolvable":
        return None
    _check_labelled(result.reason)
    return result.length


class LabelError(RuntimeError):
    """A level the exact labellers cannot label within their state and memory budgets."""


def _check_labelled(reason: str | None) -> None:
    if reason not in (None, "unsolvable"):
        raise LabelError(f"cannot label this level: A* stopped ({reason})")


def _analysis(level: Level, max_nodes: int, time_limit: float | None) -> _Analysis:
    if time_limit is None:
        return _cached_analysis(level, max_nodes)
    board = board_of(level)
    player, mask = board.state(level)
    return analyse(board, player, mask, max_nodes, time.perf_counter() + time_limit)


@lru_cache(maxsize=4096)
def _cached_analysis(level: Level, max_nodes: int) -> _Analysis:
    check_size(level)
    board = board_of(level)
    player, mask = board.state(level)
    return analyse(board, player, mask, max_nodes, None)


def analyse(
    board: Board, player: int, mask: int, max_nodes: int, deadline: float | None
) -> _Analysis:
    """Layered BFS from (player, mask), then the backward marking of optimal states."""
    goal = board.goal_mask
    if mask == goal:
        return _Analysis((), "", 0, None)
    pb = board.pbits
    nbrs = board.nbr
    dead = board.dead
    dist = {mask << pb | player: 0}
    frontier = [(player, mask)]
    solved_keys: list[int] = []
    depth = 0
    expanded = 0
    while frontier and not solved_keys:
        depth += 1
        nxt = []
        for p, m in frontier:
            expanded += 1
            if deadline is not None and not expanded & 1023 and time.perf_counter() > deadline:
                return _Analysis((), "", expanded, "time limit")
            for nb in nbrs:
                q = nb[p]
                if q < 0:
                    continue
                bq = 1 << q
                if m & bq:
                    t = nb[q]
                    if t < 0 or dead[t] or m >> t & 1:
                        continue
                    m2 = m ^ bq ^ (1 << t)
                    key = m2 << pb | q
                    if key in dist:
                        continue
                    dist[key] = depth
                    if m2 == goal:
                        solved_keys.append(key)
                    else:
                        nxt.append((q, m2))
                else:
                    key = m << pb | q
                    if key in dist:
                        continue
                    dist[key] = depth
                    nxt.append((q, m))
        if len(dist) > max_nodes:
            return _Analysis((), "", expanded, "node limit")
        frontier = nxt
    if not solved_keys:
        return _Analysis((), "", expanded, "unsolvable")

    # Backward marking: a state one layer up is on an optimal path when it leads here in one
    # step. Predecessors of (p, m) by action a: the player stood on r = p - delta(a); either it
    # walked (same boxes) or it pushed the box now on t = p + delta(a) from p.
    good = set(solved_keys)
    layer = solved_keys
    pmask = (1 << pb) - 1
    for k in range(depth - 1, -1, -1):
        prev = []
        for key in layer:
            p = key & pmask
            m = key >> pb
            for a in range(4):
                r = nbrs[OPPOSITE[a]][p]
                if r < 0 or m >> r & 1:
                    continue
                k1 = m << pb | r
                if k1 not in good and dist.get(k1) == k:
                    good.add(k1)
                    prev.append(k1)
                t = nbrs[a][p]
                if t >= 0 and m >> t & 1:
                    k2 = (m ^ (1 << t) ^ (1 << p)) << pb | r
                    if k2 not in good and dist.get(k2) == k:
                        good.add(k2)
                        prev.append(k2)
        layer = prev

    # Forward walk along good states, one layer deeper each step.
    path = []
    moves = []
    p, m = player, mask
    for k in range(1, depth + 1):
        actions = []
        chosen = None
        for a in range(4):
            nb = nbrs[a]
            q = nb[p]
            if q < 0:
                continue
            m2 = m
            if m >> q & 1:
                t = nb[q]
                if t < 0 or m >> t & 1:
                    continue
                m2 = m ^ (1 << q) ^ (1 << t)
            key = m2 << pb | q
            if key in good and dist[key] == k:
                actions.append(ACTIONS[a])
                if chosen is None:
                    chosen = (q, m2, ACTIONS[a].upper() if m2 != m else ACTIONS[a])
        assert chosen is not None, "backward marking left an optimal state without a successor"
        path.append((p, m, "".join(actions)))
        p, m, letter = chosen
        moves.append(letter)
    return _Analysis(tuple(path), "".join(moves), expanded, None)
