"""`datagen solve`: the exact solvers on the command line (one subcommand per puzzle)."""

from __future__ import annotations

import click

from datagen.cli.solve_points import points
from datagen.cli.solve_sokoban import sokoban


@click.group()
def solve() -> None:
    """Solve puzzles exactly and print JSON."""


solve.add_command(sokoban)
solve.add_command(points)
