"""Click callbacks and options shared by the commands: lists, JSON objects, prompt options."""

from __future__ import annotations

import json
from collections.abc import Callable

import click


def comma_separated(kind: type = str) -> Callable:
    """`--x a,b --x c` (or a single `--x a,b`) -> (a, b, c), each converted by `kind`."""

    def convert(_ctx: click.Context, _param: click.Parameter, value: object) -> tuple | None:
        if value is None:
            return None
        items = value if isinstance(value, tuple) else (value,)
        try:
            return tuple(kind(v.strip()) for item in items for v in item.split(",") if v.strip())
        except ValueError:
            raise click.BadParameter(f"expected a comma-separated list, got {value!r}") from None

    return convert


def json_object(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dict | None:
    """--chat-template-kwargs '{"enable_thinking": false}' -> a dict."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise click.BadParameter("a JSON object is expected")
    return parsed


# How a model sees its prompts: `datagen finetune` and `datagen eval` take the same two options,
# and a model is evaluated under the ones it was trained with.
chat_template_kwargs_option = click.option(
    "--chat-template-kwargs",
    default=None,
    callback=json_object,
    help="Extra chat-template variables as JSON, e.g. '{\"enable_thinking\": false}' (Qwen3).",
)
prompt_format_option = click.option(
    "--prompt-format",
    type=click.Choice(["chat", "study"]),
    default="chat",
    show_default=True,
    help="chat: the tokenizer's chat template; study: the study's raw string with its "
    "<think>/<answer> prefill (needs <|im_start|>/<|im_end|> tokens), which the answer parser "
    "reads with the continuation. Give finetune and eval the same.",
)


def vllm_parallel_options(engine: str) -> Callable:
    """`--tensor-parallel-size` and `--data-parallel-size` of a vLLM engine (`engine` says which,
    for the help), the same for the in-process teacher of `build` and the backend of `eval`."""

    def decorate(command: Callable) -> Callable:
        data = click.option(
            "--data-parallel-size",
            type=click.IntRange(1),
            default=1,
            show_default=True,
            help=f"Engine replicas ({engine}; vLLM's in-process engine runs 1: above it, use "
            "vllm serve, see the README).",
        )
        tensor = click.option(
            "--tensor-parallel-size",
            type=click.IntRange(1),
            default=1,
            show_default=True,
            help=f"GPUs per engine ({engine}).",
        )
        return tensor(data(command))

    return decorate
