"""`datagen card`, `datagen push` and `datagen pull`: dataset cards and versioned Hub releases.

    datagen card out/points                       # re-render out/points/README.md
    datagen push out/points --repo me/points-sft  # one commit, tagged v<package version>
    datagen pull me/points-sft --revision v0.1.0 --out data/points

stdout gets one JSON object (push, pull) or the written card paths (card); progress goes to
stderr. Problems the user can fix (no token, offline, no network, a taken tag) end with a
one-line `Error: ...` and exit status 1, never a traceback. See datagen/hub.py for the rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("card")
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
def card(directory: Path) -> None:
    """Re-render README.md of a build folder (DIR/<task>, or every task of DIR) from build.json."""
    from datagen import cards

    found = cards.task_dirs(directory)
    if not found:
        raise click.ClickException(
            f"{directory} holds no build.json: give a folder written by `datagen build`"
        )
    for task_dir in found:
        try:
            path = cards.write_card(task_dir)
        except ValueError as error:  # CardError: build.json and data/ disagree
            raise click.ClickException(" ".join(str(error).split())) from None
        click.echo(str(path))


@click.command("push")
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
@click.option("--repo", "repo_id", required=True, metavar="OWNER/NAME", help="Dataset repo.")
@click.option("--private", is_flag=True, help="Create the repo private (if it does not exist).")
@click.option(
    "--version",
    "version",
    metavar="X.Y.Z",
    default=None,
    help="Release version, tagged vX.Y.Z [default: the package version of the build].",
)
@click.option("--task", default=None, help="The task folder to push when DIR holds several.")
def push(directory: Path, repo_id: str, private: bool, version: str | None, task: str | None):
    """Upload a build folder to the Hub in one commit and tag it vX.Y.Z.

    Pushing a build that the tag already holds changes nothing; a tag holding another build
    is refused unless a new --version is given. The token comes from HF_TOKEN or
    `hf auth login`.
    """
    from datagen import hub

    result = hub.push(directory, repo_id, version=version, private=private, task=task)
    click.echo(json.dumps(result.to_dict()))


@click.command("pull")
@click.argument("repo", metavar="OWNER/NAME[@REVISION]")
@click.option("--revision", default=None, metavar="vX.Y.Z", help="Tag, branch or commit.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to create (or an earlier pull to replace).",
)
def pull(repo: str, revision: str | None, out: Path) -> None:
    """Download a published dataset into a folder that works like a local build."""
    from datagen import cards, hub

    folder = hub.pull(repo, out, revision=revision)
    build = cards.load_build(folder)
    repo_id, at_revision = hub.parse_repo_spec(repo)
    record = {
        "repo_id": repo_id,
        "revision": revision or at_revision or "main",
        "path": str(folder),
        "task": build["task"],
        "dataset_version": build["dataset_version"],
        "fingerprint": build["fingerprint"],
    }
    click.echo(json.dumps(record))
