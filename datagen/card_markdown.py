"""Markdown pieces of the dataset cards: table cells, tables, histograms, fences, clipped text.

from datagen.card_markdown import table
table(["config", "rows"], [["answer-only", 10000]])
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

CELL_CHARS = 120
SAMPLE_CHARS = 1500
_SUMMARY_KEYS = frozenset({"mean", "min", "max", "median", "std", "sum", "count"})


def cell(value: Any, limit: int = CELL_CHARS) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    else:
        text = str(value)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(head: list[str], rows: list[list[Any]], limit: int = CELL_CHARS) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(value, limit) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts as dotted keys; lists and scalars as leaves."""
    if isinstance(data, Mapping) and data:
        out: list[tuple[str, Any]] = []
        for key, value in data.items():
            out += flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    return [(prefix or "value", data)]


def is_histogram(value: Any) -> bool:
    """A dict from value to count (what datagen.stats writes for distributions)."""
    return (
        isinstance(value, Mapping)
        and bool(value)
        and not set(value) <= _SUMMARY_KEYS
        and all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in value.values())
    )


def histogram(value: Mapping[str, Any]) -> str:
    # Numeric values in numeric order (stats keys are strings: "10" would sort before "2").
    def key(item: tuple[str, Any]) -> tuple[int, float, int]:
        try:
            return 0, float(item[0]), 0
        except ValueError:
            return 1, 0.0, order[item[0]]

    order = {k: i for i, k in enumerate(value)}
    return " · ".join(f"{k}: {cell(n)}" for k, n in sorted(value.items(), key=key)) or "—"


def figure(name: str, value: Any) -> tuple[Any | None, list[tuple[str, Mapping]]]:
    """Split a stats figure into a table cell (or None) and its distributions.

    Figures are scalars, histograms ({value: count}), or summaries such as
    {"mean": 3.1, "min": 1, "max": 9, "histogram": {...}}.
    """
    if is_histogram(value):
        return None, [(name, value)]
    if not isinstance(value, Mapping):
        return value, []
    scalars = {k: v for k, v in value.items() if not isinstance(v, Mapping)}
    nested = [
        (name if k == "histogram" else f"{name}.{k}", v)
        for k, v in value.items()
        if isinstance(v, Mapping)
    ]
    if {"mean", "min", "max"} <= set(scalars):
        shown = f"{cell(scalars['mean'])} ({cell(scalars['min'])}–{cell(scalars['max'])})"
    else:
        shown = " · ".join(f"{k} {cell(v)}" for k, v in scalars.items()) or None
    return shown, nested


def fence(text: str, language: str = "") -> str:
    """A code block whose fence cannot be closed by backticks inside `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def clip(text: str, limit: int = SAMPLE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters)"
