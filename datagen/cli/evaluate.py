"""`datagen eval`: a model (or a scripted policy) on the `eval` config of a build."""

from __future__ import annotations

import click

from datagen.cli.options import (
    chat_template_kwargs_option,
    comma_separated,
    prompt_format_option,
    vllm_parallel_options,
)

BACKENDS = ("transformers", "vllm", "oracle", "frozen")


@click.command("eval")
@click.option(
    "--model", default=None, help="Model folder or Hub id (not needed for oracle/frozen)."
)
@click.option("--data", required=True, help="Build folder (DIR or DIR/<task>) or OWNER/NAME[@rev].")
@click.option(
    "--task",
    type=click.Choice(["sokoban", "points"]),
    default=None,
    help="Only this task (default: every task in DATA).",
)
@click.option(
    "--variants",
    multiple=True,
    callback=comma_separated(),
    help="Comma-separated variants (default: all), e.g. simple,fake-cardinal.",
)
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default="transformers",
    show_default=True,
    help="oracle/frozen: scripted policies that check the harness and the data.",
)
@click.option(
    "--ending",
    type=click.Choice(["think", "answer-only"]),
    default="think",
    show_default=True,
    help="Prompt ending: the study's think instruction, or the answer-only one (for models "
    "trained on an answer-only config, so they see the prompt they were trained on).",
)
@click.option("--limit", default=None, type=int, help="Episodes per variant.")
@click.option("--temperature", default=0.5, show_default=True, type=float, help="0 = greedy.")
@click.option("--max-turns", default=30, show_default=True, type=int, help="Sokoban turn limit.")
@click.option(
    "--max-new-tokens",
    default=None,
    type=int,
    help="Per turn [default: the study's budgets, 4096 for Sokoban, 8192 for General Points]; "
    "a cut-off thinking counts as a format failure.",
)
@click.option(
    "--batch-size",
    default=32,
    show_default=True,
    type=int,
    help="Prompts per generate call (transformers backend).",
)
@chat_template_kwargs_option
@prompt_format_option
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="auto", show_default=True)
@click.option(
    "--dtype", type=click.Choice(["auto", "bf16", "fp32"]), default="auto", show_default=True
)
@vllm_parallel_options("vllm backend")
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Write results.json, results.md, results.png and episodes.jsonl here.",
)
@click.option(
    "--overwrite", is_flag=True, help="Replace the results an earlier evaluation wrote to --out."
)
@click.option(
    "--checkpoints",
    is_flag=True,
    help="MODEL is a `datagen finetune` run: evaluate every checkpoint-epoch-N and the final "
    "model, write OUT/<checkpoint>/ and OUT/checkpoint_eval.jsonl (OUT default: "
    "MODEL/checkpoint-eval) and draw OUT/curves.png.",
)
@click.option("--json", "as_json", is_flag=True, help="Print results JSON instead of Markdown.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def evaluate(**options: object) -> None:
    """Evaluate on the `eval` config: success, instruction validity, mean turns, format failures.

    Sokoban episodes are multi-turn (one action per turn, the prompt re-rendered from the
    current state); General Points is one turn. Prints the Markdown table (rows = variants).
    """
    import json

    from datagen.evaluate import EvalConfig, EvalError, PolicyError
    from datagen.evaluate import evaluate as run_eval

    as_json = options.pop("as_json")
    every_checkpoint = options.pop("checkpoints")
    options["progress"] = not options.pop("no_progress")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # ours is the one progress bar; load/save bars are noise
    try:
        cfg = EvalConfig(**options)  # type: ignore[arg-type]
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    if every_checkpoint:
        from datagen.evaluate.checkpoints import evaluate_checkpoints

        if cfg.backend in ("oracle", "frozen"):
            raise click.UsageError("--checkpoints evaluates a model: not a scripted backend")
        try:
            entries = evaluate_checkpoints(cfg)
        except (EvalError, PolicyError, OSError) as error:
            raise click.ClickException(str(error).splitlines()[0]) from error
        click.echo("\n".join(json.dumps(entry) for entry in entries))
        return
    try:
        results = run_eval(cfg)
    except (EvalError, PolicyError, OSError) as error:
        raise click.ClickException(str(error).splitlines()[0]) from error
    if as_json:
        keys = ("config", "max_new_tokens", "metrics", "seconds")
        click.echo(json.dumps({k: results[k] for k in keys}))
    else:
        click.echo(results["markdown"])
