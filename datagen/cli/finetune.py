"""`datagen finetune` (and `make finetune`): the slim SFT trainer of datagen.finetune."""

from __future__ import annotations

import click

from datagen.cli.options import (
    chat_template_kwargs_option,
    comma_separated,
    prompt_format_option,
)
from datagen.finetune import DEFAULT_MODEL


@click.command("finetune")
@click.option(
    "--model",
    default=DEFAULT_MODEL,
    show_default=True,
    help="Base model: a local folder (works offline) or a Hub id; needs a chat template.",
)
@click.option("--data", required=True, help="Build folder (DIR or DIR/<task>) or OWNER/NAME[@rev].")
@click.option(
    "--config",
    "config_name",
    default="answer-only",
    show_default=True,
    help="SFT config: answer-only, diverse-answer-only, cot, diverse-cot.",
)
@click.option(
    "--task",
    type=click.Choice(["sokoban", "points"]),
    default=None,
    help="Task to train on when DATA holds several.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--epochs", default=5, show_default=True, type=int)
@click.option("--lr", default=1e-5, show_default=True, type=float)
@click.option("--weight-decay", default=0.01, show_default=True, type=float)
@click.option(
    "--warmup",
    default=0.1,
    show_default=True,
    type=float,
    help="Share of the steps with linear warm-up before the cosine decay.",
)
@click.option("--grad-clip", default=1.0, show_default=True, type=float, help="0 disables.")
@click.option(
    "--global-batch", default=128, show_default=True, type=int, help="Rows per optimizer step."
)
@click.option(
    "--max-len",
    default=4096,
    show_default=True,
    type=int,
    help="Tokens per packed sequence; a longer row is an error.",
)
@click.option(
    "--dtype",
    type=click.Choice(["auto", "bf16", "fp32"]),
    default="auto",
    show_default=True,
    help="Autocast dtype (auto: bf16 on a bf16 GPU, else fp32).",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N, mps.")
@click.option(
    "--gradient-checkpointing/--no-gradient-checkpointing", default=False, show_default=True
)
@click.option(
    "--attn-implementation", default=None, help="sdpa (default), eager, flash_attention_2, ..."
)
@chat_template_kwargs_option
@prompt_format_option
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--limit", default=None, type=int, help="Train on the first N rows only.")
@click.option("--max-steps", default=None, type=int, help="Stop after N optimizer steps.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue from the latest OUT/checkpoint-epoch-N (at any number of processes).",
)
@click.option(
    "--eval-every",
    default=0,
    type=click.IntRange(0),
    help="Evaluate the model every K steps (greedy, on DATA's eval config) and log success and "
    "validity per variant to train_log.jsonl (the study's Figure 2; `datagen plot OUT`).",
)
@click.option(
    "--eval-variants",
    multiple=True,
    callback=comma_separated(),
    help="Comma-separated variants for --eval-every (default: all), e.g. simple,numerical.",
)
@click.option("--eval-limit", default=20, show_default=True, type=int, help="Episodes per variant.")
@click.option(
    "--eval-max-new-tokens",
    default=64,
    show_default=True,
    type=int,
    help="Per turn, for --eval-every (raise it for CoT configs).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--cpu-offload",
    is_flag=True,
    help="FSDP2: keep parameters, gradients and optimizer state on the CPU (CUDA runs).",
)
@click.option(
    "--lora",
    default=None,
    type=click.IntRange(min=1),
    metavar="R",
    help="Train LoRA adapters of rank R (peft) instead of every weight.",
)
@click.option("--lora-alpha", default=None, type=float, help="LoRA scale numerator [2 x R].")
@click.option(
    "--lora-targets",
    default=None,
    callback=comma_separated(),
    help="Comma-separated linear layer names, e.g. q_proj,v_proj [every one but the LM head].",
)
@click.option(
    "--save-adapter",
    is_flag=True,
    help="LoRA: save the adapter alone, not the model with the adapter merged in.",
)
def finetune(**options: object) -> None:
    """Fine-tune a chat model on an SFT config of a build (loss on completion tokens only).

    Writes the final model to OUT, a checkpoint per epoch to OUT/checkpoint-epoch-N, the
    resolved settings to OUT/finetune.json and a JSONL log to OUT/train_log.jsonl; prints a
    JSON summary on stdout. Under `torchrun --nproc-per-node N -m datagen.cli finetune ...`
    the model is sharded with FSDP2 and rank 0 writes, logs and prints.
    """
    import json

    from datagen.finetune import FinetuneConfig, FinetuneError, train

    options["config"] = options.pop("config_name")
    options["progress"] = not options.pop("no_progress")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # ours is the one progress bar; load/save bars are noise
    try:
        cfg = FinetuneConfig(**options)  # type: ignore[arg-type]
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    from datagen.finetune_dist import world_from_env

    main = world_from_env()[0] == 0
    try:
        summary = train(cfg, log=lambda message: click.echo(message, err=True))
    except (FinetuneError, OSError) as error:
        if not main:  # every rank meets the same bad input: rank 0 says it once
            raise SystemExit(1) from error
        raise click.ClickException(str(error).splitlines()[0]) from error
    if main:
        click.echo(json.dumps(summary))
