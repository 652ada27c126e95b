"""`datagen import` and `datagen audit`: the study's published datasets in our schema, audited.

    datagen import Xiaofeng77/diverse-answer-only-sokoban --out imported
    datagen import path/to/snapshot --out imported --against out     # leaks vs our eval suite
    datagen import train-00000-of-00001.parquet --out imported
    datagen audit imported/sokoban                                   # any task folder

`import` prints {task: folder} as JSON on stdout and what it found on stderr; `audit` prints the
audit report as JSON. Bad input ends with a one-line `Error: ...`, exit status 1, and nothing
written at --out. See datagen/importers/.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

_AGAINST = click.Path(exists=True, file_okay=False, path_type=Path)


@click.command("import")
@click.argument("source", metavar="SOURCE")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="New folder."
)
@click.option("--revision", default=None, help="Tag, branch or commit of a Hub SOURCE.")
@click.option(
    "--against",
    multiple=True,
    type=_AGAINST,
    help="A build folder whose eval config training rows must not leak into (repeatable).",
)
def import_(source: str, out: Path, revision: str | None, against: tuple[Path, ...]) -> None:
    """Import SOURCE (OWNER/NAME[@REV], a snapshot folder, or a Parquet file) into OUT/<task>."""
    from datagen.importers import import_source

    folders = import_source(source, out, revision=revision, against=against)
    click.echo(json.dumps({task: str(path) for task, path in folders.items()}))


@click.command("audit")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--against", multiple=True, type=_AGAINST, help="Build folder(s) to check leaks against."
)
def audit(directory: Path, against: tuple[Path, ...]) -> None:
    """Print the label / duplicate / leakage audit of a task folder (ours or imported)."""
    from datagen.cards import task_dirs
    from datagen.importers.audit import audit_folder, report_json

    found = task_dirs(directory)
    if not found:
        raise click.ClickException(f"{directory} holds no build.json: give a task folder")
    reports = {}
    for task_dir in found:
        try:
            reports[task_dir.name] = audit_folder(task_dir, against)
        except ValueError as error:  # CardError: a folder whose build.json is broken
            raise click.ClickException(" ".join(str(error).split())) from None
    report = reports if len(reports) > 1 else next(iter(reports.values()))
    click.echo(report_json(report))
