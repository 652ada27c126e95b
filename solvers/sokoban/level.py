"""The Sokoban level model: walls, goals, boxes and player; XSB in and out; the rules.

A `Level` is an immutable, hashable state. Coordinates are `(row, col)`, counted from 0 at the
top-left corner; error messages use the same 0-based numbers. XSB is the standard text format:

    #  wall          @  player          $  box           .  goal
    +  player on goal  *  box on goal   space, '-' or '_'  floor

Actions are the study's vocabulary in its order, `ACTIONS = "udlr"`: push-or-move (move when the
cell ahead is free, push when a box is ahead and the cell behind it is free). LURD strings (lower
case for moves, upper case for pushes) replay a solution; case is not checked.

    >>> level = Level.parse("#####\\n#@$.#\\n#####")
    >>> level.replay("R").solved
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ACTIONS = "udlr"
DELTAS: dict[str, tuple[int, int]] = {"u": (-1, 0), "d": (1, 0), "l": (0, -1), "r": (0, 1)}

# The study's rendering: each cell is " " + symbol + " \t", rows joined by "\n" (study.md).
STUDY_SYMBOLS: dict[str, str] = {
    "#": "#",
    " ": "_",
    ".": "O",
    "*": "√",
    "$": "X",
    "@": "P",
    "+": "S",
}
STUDY_CELL = " {} \t"

_FLOOR_CHARS = " -_"
_KNOWN_CHARS = "#@+$*." + _FLOOR_CHARS
_TO_SPACE = str.maketrans("-_", "  ")

Cell = tuple[int, int]


class LevelError(ValueError):
    """A malformed level or an illegal move; the message says what is wrong and where."""


@dataclass(frozen=True)
class Level:
    """One Sokoban state. Build it with `Level.parse(xsb)` or directly (validated)."""

    height: int
    width: int
    walls: frozenset[Cell]
    goals: frozenset[Cell]
    boxes: frozenset[Cell]
    player: Cell

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def parse(cls, xsb: str) -> Level:
        """Read one level in XSB; raises `LevelError` naming the problem and its row/col."""
        lines = [line.rstrip("\r").translate(_TO_SPACE) for line in xsb.split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            raise LevelError("empty level: no rows")
        # Trailing floor lies outside the room: drop it so that xsb() round-trips.
        lines = [line.rstrip() for line in lines]
        walls: set[Cell] = set()
        goals: set[Cell] = set()
        boxes: set[Cell] = set()
        players: list[Cell] = []
        for r, line in enumerate(lines):
            for c, ch in enumerate(line):
                if ch not in _KNOWN_CHARS:
                    raise LevelError(f"unknown character {ch!r} at row {r}, col {c}")
                if ch == "#":
                    walls.add((r, c))
                if ch in ".+*":
                    goals.add((r, c))
                if ch in "$*":
                    boxes.add((r, c))
                if ch in "@+":
                    players.append((r, c))
        if not players:
            raise LevelError("no player ('@' or '+')")
        if len(players) > 1:
            where = ", ".join(f"row {r}, col {c}" for r, c in players)
            raise LevelError(f"{len(players)} players at {where}")
        return cls(
            height=len(lines),
            width=max(len(line) for line in lines),
            walls=frozenset(walls),
            goals=frozenset(goals),
            boxes=frozenset(boxes),
            player=players[0],
        )

    @classmethod
    def _trusted(
        cls,
        height: int,
        width: int,
        walls: frozenset[Cell],
        goals: frozenset[Cell],
        boxes: frozenset[Cell],
        player: Cell,
    ) -> Level:
        # Successor states of a valid level are valid: skip the flood fill of __post_init__.
        level = object.__new__(cls)
        for name, value in (
            ("height", height),
            ("width", width),
            ("walls", walls),
            ("goals", goals),
            ("boxes", boxes),
            ("player", player),
        ):
            object.__setattr__(level, name, value)
        return level

    def cells(self) -> list[list[str]]:
        """The XSB character of every cell, row by row ('#', ' ', '.', '$', '*', '@', '+')."""
        grid = [[" "] * self.width for _ in range(self.height)]
        for r, c in self.walls:
            grid[r][c] = "#"
        for r, c in self.goals:
            grid[r][c] = "."
        for r, c in self.boxes:
            grid[r][c] = "*" if (r, c) in self.goals else "$"
        r, c = self.player
        grid[r][c] = "+" if self.player in self.goals else "@"
        return grid

    def xsb(self) -> str:
        """Canonical XSB: rows joined by newlines, trailing blanks dropped, no final newline."""
        return "\n".join("".join(row).rstrip() for row in self.cells())

    def render(
        self, symbols: Mapping[str, str] | None = None, cell: str = "{}", row_sep: str = "\n"
    ) -> str:
        """Render through a symbol map keyed by XSB character (missing keys keep the XSB one).

        `cell` formats each symbol; the study's grid is
        `level.render(STUDY_SYMBOLS, STUDY_CELL)`.
        """
        symbols = symbols or {}
        return row_sep.join(
            "".join(cell.format(symbols.get(ch, ch)) for ch in row) for row in self.cells()
        )

    def step(self, action: str) -> Level | None:
        """The state after one action ('u', 'd', 'l', 'r', any case); None when blocked."""
        delta = DELTAS.get(action.lower())
        if delta is None:
            raise LevelError(f"unknown action {action!r}: expected one of {ACTIONS!r}")
        dr, dc = delta
        r, c = self.player
        ahead = (r + dr, c + dc)
        if not self._is_floor(ahead):
            return None
        boxes = self.boxes
        if ahead in boxes:
            beyond = (r + 2 * dr, c + 2 * dc)
            if not self._is_floor(beyond) or beyond in boxes:
                return None
            boxes = (boxes - {ahead}) | {beyond}
        return Level._trusted(self.height, self.width, self.walls, self.goals, boxes, ahead)

    def replay(self, lurd: str) -> Level:
        """Apply a LURD string; raises `LevelError` at the first illegal or unknown move."""
        level = self
        for i, ch in enumerate(lurd):
            if ch.lower() not in DELTAS:
                raise LevelError(f"unknown move {ch!r} at position {i} of the solution")
            nxt = level.step(ch)
            if nxt is None:
                r, c = level.player
                raise LevelError(
                    f"illegal move {ch!r} at position {i}: blocked (player at row {r}, col {c})"
                )
            level = nxt
        return level

    @property
    def solved(self) -> bool:
        """All boxes on goals."""
        return self.boxes == self.goals

    def _is_floor(self, cell: Cell) -> bool:
        r, c = cell
        return 0 <= r < self.height and 0 <= c < self.width and cell not in self.walls


def _validate(level: Level) -> None:
    h, w = level.height, level.width
    if h < 1 or w < 1:
        raise LevelError(f"bad size {h}x{w}")
    for name in ("walls", "goals", "boxes"):
        for r, c in getattr(level, name):
            if not (0 <= r < h and 0 <= c < w):
                raise LevelError(f"{name[:-1]} at row {r}, col {c} lies outside the {h}x{w} grid")
    pr, pc = level.player
    if not (0 <= pr < h and 0 <= pc < w):
        raise LevelError(f"player at row {pr}, col {pc} lies outside the {h}x{w} grid")
    for name in ("goals", "boxes"):
        clash = getattr(level, name) & level.walls
        if clash:
            r, c = min(clash)
            raise LevelError(f"{name[:-1]} on a wall at row {r}, col {c}")
    if level.player in level.walls:
        raise LevelError(f"player on a wall at row {pr}, col {pc}")
    if level.player in level.boxes:
        raise LevelError(f"player on a box at row {pr}, col {pc}")
    if len(level.boxes) != len(level.goals):
        nb, ng = len(level.boxes), len(level.goals)
        raise LevelError(f"{nb} box{'es' * (nb != 1)} but {ng} goal{'s' * (ng != 1)}")
    # The player (and so every box it can push) must stay inside walls: flood fill through
    # everything but walls, and fail on the first cell that touches the grid's edge.
    seen = {level.player}
    stack = [level.player]
    while stack:
        r, c = stack.pop()
        if r in (0, h - 1) or c in (0, w - 1):
            raise LevelError(f"open border: the player can walk off the board at row {r}, col {c}")
        for dr, dc in DELTAS.values():
            nxt = (r + dr, c + dc)
            if nxt not in seen and nxt not in level.walls:
                seen.add(nxt)
                stack.append(nxt)


def split_levels(text: str) -> list[str]:
    """Split a collection into level texts: blank lines and `;` lines separate levels."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line.rstrip("\r"))
    if current:
        blocks.append("\n".join(current))
    return blocks
