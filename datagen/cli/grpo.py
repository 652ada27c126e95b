"""`datagen grpo` (and `make grpo`): the RL baseline, TRL's GRPOTrainer with our rewards."""

from __future__ import annotations

import json
import shlex

import click

from datagen.cli.options import json_object
from datagen.finetune import DEFAULT_MODEL


def command_line(ctx: click.Context) -> list[str]:
    """`datagen grpo` and the options given on the command line (however it was invoked)."""
    from click.core import ParameterSource

    words = ["datagen", "grpo"]
    for param in ctx.command.params:
        if ctx.get_parameter_source(param.name) != ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[param.name]
        flag = param.opts[0] if not isinstance(value, bool) or value else param.secondary_opts[0]
        if isinstance(value, bool):
            words.append(flag)
        else:
            text = json.dumps(value) if isinstance(value, dict) else str(value)
            words += [flag, shlex.quote(text)]
    return words


@click.command("grpo")
@click.option(
    "--model",
    default=DEFAULT_MODEL,
    show_default=True,
    help="Base model, or an SFT run of `datagen finetune` (RL warm-started; its prompt format "
    "is inherited unless --prompt-format is given).",
)
@click.option("--data", required=True, help="Build folder (DIR or DIR/<task>) or OWNER/NAME[@rev].")
@click.option(
    "--config", "config_name", default="diverse-rl", show_default=True, help="rl or diverse-rl."
)
@click.option("--task", type=click.Choice(["sokoban", "points"]), default=None)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="RUN folder.")
@click.option("--prompt-format", type=click.Choice(["chat", "study"]), default=None)
@click.option("--chat-template-kwargs", default=None, callback=json_object, help="JSON object.")
@click.option(
    "--reward",
    type=click.Choice(["ours", "study"]),
    default="ours",
    show_default=True,
    help="ours: correct and valid (weighted); study: the study's reward shapes.",
)
@click.option("--correct-weight", default=1.0, show_default=True, type=float)
@click.option("--valid-weight", default=0.0, show_default=True, type=float)
@click.option("--prompts-per-step", default=256, show_default=True, type=int)
@click.option("--num-generations", default=8, show_default=True, type=int, help="Group size.")
@click.option(
    "--per-device-batch",
    default=8,
    show_default=True,
    type=int,
    help="Completions per micro-batch (memory only: one optimizer step per rollout).",
)
@click.option("--lr", default=1e-6, show_default=True, type=float)
@click.option("--weight-decay", default=0.01, show_default=True, type=float)
@click.option("--grad-clip", default=1.0, show_default=True, type=float)
@click.option("--beta", default=0.0, show_default=True, type=float, help="KL coefficient.")
@click.option("--epsilon", default=0.2, show_default=True, type=float, help="Clip ratio.")
@click.option("--temperature", default=1.0, show_default=True, type=float)
@click.option("--top-p", default=1.0, show_default=True, type=float)
@click.option(
    "--max-completion-length",
    default=None,
    type=int,
    help="Tokens per completion (default: the study's, Sokoban 1024, General Points 4096).",
)
@click.option(
    "--generation-kwargs",
    default=None,
    callback=json_object,
    help="More sampling options as JSON (TRL's generation_kwargs), e.g. '{\"min_p\": 0.05}'.",
)
@click.option("--loss-type", default="dapo", show_default=True, help="TRL's loss_type.")
@click.option("--epochs", default=1.0, show_default=True, type=float)
@click.option("--max-steps", default=None, type=int, help="Stop after N optimizer steps.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--limit", default=None, type=int, help="Train on the first N rows only.")
@click.option(
    "--vllm",
    type=click.Choice(["auto", "off", "colocate", "server"]),
    default="auto",
    show_default=True,
    help="auto: colocated vLLM when installed and on CUDA, else transformers generation.",
)
@click.option("--vllm-server-url", default=None, help="For --vllm server (`trl vllm-serve`).")
@click.option("--vllm-gpu-memory-utilization", default=0.3, show_default=True, type=float)
@click.option("--dtype", type=click.Choice(["auto", "bf16", "fp32"]), default="auto")
@click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=False)
@click.option("--save-steps", default=0, show_default=True, type=int, help="0: final model only.")
@click.option("--report-to", default="none", show_default=True, help="none, wandb, trackio, ...")
def grpo(**options: object) -> None:
    """GRPO on the prompts of an rl/diverse-rl build, scored under each row's own template.

    Writes RUN/command.txt, RUN/grpo.json, RUN/train_log.jsonl (one line per step with the
    mean of each reward function), RUN/completions.jsonl and the final model to RUN; prints a
    JSON summary on stdout. Several GPUs: `accelerate launch -m datagen.cli grpo ...`.
    """
    import json

    from datagen.grpo import GrpoConfig, GrpoError, run
    from datagen.grpo.trainer import resolve

    argv = command_line(click.get_current_context())
    options["config"] = options.pop("config_name")
    given = {k for k, v in options.items() if v is not None}
    options = {k: v for k, v in options.items() if v is not None}
    options.setdefault("prompt_format", "chat")
    try:
        cfg = resolve(GrpoConfig(**options), given)  # type: ignore[arg-type]
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        summary = run(cfg, argv=argv)
    except (GrpoError, OSError) as error:
        raise click.ClickException(str(error).splitlines()[0]) from error
    click.echo(json.dumps(summary))
