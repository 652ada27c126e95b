"""`datagen plot RUN`: training curves of a fine-tuning run (the study's Figure 2).

Reads RUN/train_log.jsonl (loss per step, and in-loop eval figures when the run was started
with `--eval-every`) and RUN/checkpoint-eval/checkpoint_eval.jsonl (what `datagen eval
--checkpoints` measured), and draws loss, success and instruction validity against the
optimizer step into RUN/curves.png.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

LOGS = ("train_log.jsonl", "checkpoint-eval/checkpoint_eval.jsonl")


def read_log(path: Path) -> list[dict]:
    """JSON lines of a log; a torn last line (a killed run) is skipped, other damage is an error."""
    entries = []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise click.ClickException(f"{path}:{number}: not a JSON line") from None
        if isinstance(entry, dict) and isinstance(entry.get("step"), int):
            entries.append(entry)
    return entries


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="PNG to write [default: RUN/curves.png].",
)
def plot(run: Path, out: Path | None) -> None:
    """Draw loss, success and validity against the step for the run folder RUN."""
    from datagen.figures import training_curves

    found = [run / name for name in LOGS if (run / name).is_file()]
    if not found:
        raise click.ClickException(f"{run}: no {' or '.join(LOGS)} (a `datagen finetune` folder?)")
    entries = sorted((e for path in found for e in read_log(path)), key=lambda e: e["step"])
    if not entries:
        raise click.ClickException(f"{run}: the logs hold no step")
    out = out or run / "curves.png"
    try:
        training_curves(entries, out, title=str(run))
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
    click.echo(f"wrote {out}", err=True)
