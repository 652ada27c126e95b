"""Click callbacks shared by the commands: comma-separated lists and JSON objects."""

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
