"""The budgets every Sokoban search runs under, and the size of level it accepts at all.

A search is bounded three ways from its first instruction: wall time (`time_limit`, default
DEFAULT_TIME_LIMIT seconds, including building the tables), expanded nodes (`max_nodes`) and
memory (`memory_mb`, default DEFAULT_MEMORY_MB, turned into a cap on stored states from the
level's size). Levels beyond MAX_SIDE x MAX_SIDE cells or MAX_BOXES boxes are refused up front
with `LevelTooLarge`, a `LevelError` whose message is one line.

    from solvers.sokoban.limits import check_size, state_cap
"""

from __future__ import annotations

from solvers.sokoban.level import Level, LevelError

MAX_SIDE = 64  # rows or columns; the largest classic collections stay under 40
MAX_CELLS = 2500  # height x width: the tables cost a few dozen bytes per cell and goal
MAX_BOXES = 50
DEFAULT_TIME_LIMIT = 60.0  # seconds per level
DEFAULT_MEMORY_MB = 1024
DEFAULT_MAX_NODES = 2_000_000
# Measured with tracemalloc on Boxoban (A* stores a key, g, a parent triple and a heap entry per
# state): about 330 bytes at 100 cells; the big-int keys grow with the cells.
_STATE_BYTES = 300
_STATE_BYTES_PER_CELL = 0.5


class LevelTooLarge(LevelError):
    """A level beyond the solvers' size limits."""


def check_size(level: Level) -> None:
    """Raise LevelTooLarge (one line) for a level the solvers refuse."""
    h, w = level.height, level.width
    if h > MAX_SIDE or w > MAX_SIDE or h * w > MAX_CELLS:
        raise LevelTooLarge(
            f"level too large: {h}x{w} = {h * w} cells (at most {MAX_SIDE} per side and "
            f"{MAX_CELLS} cells)"
        )
    if len(level.boxes) > MAX_BOXES:
        raise LevelTooLarge(f"level too large: {len(level.boxes)} boxes (at most {MAX_BOXES})")


def state_cap(cells: int, memory_mb: float) -> int:
    """How many search states fit in `memory_mb` on a level of `cells` cells."""
    if memory_mb <= 0:
        raise ValueError(f"memory_mb must be > 0, got {memory_mb}")
    per_state = _STATE_BYTES + _STATE_BYTES_PER_CELL * cells
    return max(1, int(memory_mb * 2**20 / per_state))
