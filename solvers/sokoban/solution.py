"""The result type shared by the Sokoban solvers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Solution:
    """What a solver found: a LURD solution (moves lower case, pushes upper case) and its cost.

    `expanded` counts the states the search expanded; `reason` says why there is no solution
    ("unsolvable", "node limit", "time limit", "memory limit").
    """

    solved: bool
    moves: str
    length: int
    pushes: int
    expanded: int
    seconds: float
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.solved != (self.reason is None):
            raise ValueError("a Solution has a reason exactly when it is not solved")
        if self.length != len(self.moves):
            raise ValueError(f"length {self.length} != len(moves) {len(self.moves)}")
