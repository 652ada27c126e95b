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

import itertools
import re
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
_PLAYERS = re.compile("[@+]")
_FILLED = re.compile(r"\S")
_LAST_FILLED = re.compile(r"(?s:.*)(\S)")
# Comment lines (`;`), then runs of blank lines: what separates levels in a collection. Single
# character-class loops only (a repeated group costs the regex engine much more per line).
_COMMENT = re.compile(r"^[^\S\n]*+;[^\n]*+", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n\s*\n")
_UNKNOWN = re.compile(f"[^{re.escape(_KNOWN_CHARS)}\n]")

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
        """Read one level in XSB; raises `LevelError` naming the problem and its row/col.

        Byte-order marks (U+FEFF, where files were concatenated) are dropped: never XSB."""
        if not isinstance(xsb, str):
            raise LevelError(f"a level is XSB text, not {type(xsb).__name__}")
        # Floor spellings to spaces, BOMs out; trailing floor (and \r) lies outside the room:
        # drop it so that xsb() round-trips. Whole-text str methods, no per-character work.
        xsb = xsb.replace("-", " ").replace("_", " ").replace("\ufeff", "")
        filled = _FILLED.search(xsb)
        if filled is None:
            raise LevelError("empty level: no rows")
        end = _LAST_FILLED.match(xsb).end(1)  # blank lines around the level are not rows
        start = xsb.rfind("\n", 0, filled.start()) + 1
        lines = [line.rstrip() for line in xsb[start:end].split("\n")]
        _check_characters(lines)  # whole-text checks first: cheap, and before any set is built
        walls: set[Cell] = set()
        goals: set[Cell] = set()
        boxes: set[Cell] = set()
        players: list[Cell] = []
        for r, line in enumerate(lines):
            for c, ch in enumerate(line):
                if ch == "#":
                    walls.add((r, c))
                elif ch != " ":
                    if ch in ".+*":
                        goals.add((r, c))
                    if ch in "$*":
                        boxes.add((r, c))
                    if ch in "@+":
                        players.append((r, c))
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


def _check_characters(lines: list[str]) -> None:
    """Unknown characters and the player count, found with string methods (no per-cell work)."""
    text = "\n".join(lines)
    stray = _UNKNOWN.search(text)
    if stray:
        at = stray.start()
        raise LevelError(f"unknown character {text[at]!r} at {_row_col(text, at)}")
    players = text.count("@") + text.count("+")
    if not players:
        raise LevelError("no player ('@' or '+')")
    if players > 1:  # name a few: a flood of players must not make a huge message
        where = [_row_col(text, m.start()) for m in itertools.islice(_PLAYERS.finditer(text), 3)]
        more = ", ..." if players > 3 else ""
        raise LevelError(f"{players} players at {', '.join(where)}{more}")


def _row_col(text: str, at: int) -> str:
    return f"row {text.count(chr(10), 0, at)}, col {at - (text.rfind(chr(10), 0, at) + 1)}"


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
    text = _COMMENT.sub("", text.replace("\ufeff", "").replace("\r\n", "\n"))
    return [block.strip("\n") for block in _BLANK_LINES.split(f"\n{text}\n") if block.strip()]
