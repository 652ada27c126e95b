"""Sokoban engine: level model, XSB/LURD I/O, rules, seeded generator, BFS and A* solvers.

Pure Python, no ML imports and no numpy. The public API:

    from solvers.sokoban import (Level, LevelError, ACTIONS, generate_level, solve, bfs_solve,
                                 optimal_actions, optimal_trajectory, optimal_length, Solution)

    level = generate_level(seed=0, height=6, width=6, boxes=1)
    level.xsb()                       # canonical XSB text
    solve(level)                      # A* over pushes, move-optimal (metric="pushes", fast=True)
    bfs_solve(level)                  # move-level BFS, move-optimal (small levels)
    optimal_actions(level)            # every first action of some optimal solution, e.g. ('u', 'l')
    optimal_trajectory(level)         # [(state, optimal actions), ...] along one optimal solution
    optimal_path(level)               # (that trajectory, the LURD solution it follows)
    optimal_length(level)             # move-optimal length (0 solved, None unsolvable)

Modules: `level` (model and rules), `board` (compiled tables, dead squares, freeze deadlocks),
`tables` (side-aware push distances), `matching` (the bound's assignment), `limits` (budgets and
size limits), `bfs` (BFS and labels), `labels` (the A* labeller), `astar` (A*), `collection`
(XSB/Boxoban level collections), `generator` (the study's seeded levels), `reverse_play` (its
depth-first reverse play), `solution` (result type).
"""

from solvers.sokoban.astar import solve
from solvers.sokoban.bfs import (
    LabelError,
    bfs_solve,
    optimal_actions,
    optimal_length,
    optimal_path,
    optimal_trajectory,
)
from solvers.sokoban.generator import generate_level
from solvers.sokoban.level import (
    ACTIONS,
    STUDY_CELL,
    STUDY_SYMBOLS,
    Level,
    LevelError,
    split_levels,
)
from solvers.sokoban.limits import LevelTooLarge
from solvers.sokoban.solution import Solution

__all__ = [
    "ACTIONS",
    "STUDY_CELL",
    "STUDY_SYMBOLS",
    "LabelError",
    "Level",
    "LevelError",
    "LevelTooLarge",
    "Solution",
    "bfs_solve",
    "generate_level",
    "optimal_actions",
    "optimal_length",
    "optimal_path",
    "optimal_trajectory",
    "solve",
    "split_levels",
]
