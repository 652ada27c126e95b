"""`datagen report`: evaluation results of several runs in one Table-1 layout, and a heatmap."""

from __future__ import annotations

from pathlib import Path

import click

from datagen.cli.options import comma_separated


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--names",
    multiple=True,
    callback=comma_separated(),
    help="Comma-separated column names, one per result (default: the folders' names).",
)
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.md, report.json and report.png (variant x run heatmaps) here.",
)
def report(results: tuple[Path, ...], names: tuple[str, ...], out: Path | None) -> None:
    """Compare `datagen eval` results (results.json files or their folders) side by side."""
    import json

    from datagen.evaluate.compare import ReportError, compare, load_results, markdown, run_names

    try:
        labels = run_names(list(results), list(names) or None)
        runs = dict(zip(labels, (load_results(p) for p in results), strict=True))
    except ReportError as error:
        raise click.ClickException(str(error)) from None
    if len(runs) < len(labels):
        raise click.ClickException(f"two results share a name: {', '.join(labels)}; pass --names")
    table = compare(runs)
    text = markdown(table)
    click.echo(text)
    if out is not None:
        from datagen.figures import runs_heatmap

        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.md").write_text(text + "\n", encoding="utf-8")
            (out / "report.json").write_text(json.dumps(table, indent=2) + "\n")
            runs_heatmap(runs, out / "report.png")
        except OSError as error:
            raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
        click.echo(f"wrote {out}/report.md, report.json, report.png", err=True)
