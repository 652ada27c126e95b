"""The `datagen` command group: one module per area registers its commands here.

Run `datagen --help`. Heavy libraries are imported inside each command, so `datagen solve`
starts in a fraction of a second.
"""

from __future__ import annotations

import click

from datagen import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="datagen")
def main() -> None:
    """Sokoban and General Points datasets for "Debunk the Myth of SFT Generalization"."""


def _register() -> None:
    from datagen.cli.build import build, show, stats
    from datagen.cli.evaluate import evaluate
    from datagen.cli.finetune import finetune
    from datagen.cli.hub import card, pull, push
    from datagen.cli.importer import audit, import_
    from datagen.cli.plot import plot
    from datagen.cli.report import report
    from datagen.cli.solve import solve

    commands = (solve, build, show, stats, card, push, pull, import_, audit)
    commands += (evaluate, finetune, report, plot)
    for command in commands:
        main.add_command(command)


_register()
