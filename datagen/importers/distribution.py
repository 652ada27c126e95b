"""The distribution figures of a split that `build.json` has, computed from any rows (imported
ones included, unsolvable rows and rows without our `meta` fields too): the audit's `stats`.

    distribution("sokoban", rows) -> {"rows": 10000, "optimal_length": {...}, ...}

`datagen.stats.split_stats` computes the same figures for our own builds from their `meta`;
this one reads only what every imported row holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any


def _summary(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "min": None, "max": None, "histogram": {}}
    counts = Counter(values)
    return {
        "mean": round(sum(values) / len(values), 4),
        "min": min(values),
        "max": max(values),
        "histogram": {str(k): counts[k] for k in sorted(counts)},
    }


def _histogram(values: Iterable[Any]) -> dict[str, int]:
    counts = Counter(values)

    def order(key: Any) -> tuple[int, float, str]:
        try:
            return 0, float(key), ""
        except (TypeError, ValueError):
            return 1, 0.0, str(key)

    return {str(k): counts[k] for k in sorted(counts, key=order)}


def distribution(task: str, rows: list[dict]) -> dict[str, Any]:
    """The figures build.json has for a split, computed from the rows (unsolvable ones too)."""
    stats: dict[str, Any] = {"rows": len(rows)}
    if not rows:
        return stats
    metas = [row.get("meta") or {} for row in rows]
    if task == "sokoban":
        lengths = [row["solution"].get("length") for row in rows]
        stats["optimal_length"] = _summary([n for n in lengths if n is not None])
        stats["unsolvable"] = sum(n is None for n in lengths)
        stats["pushes"] = _summary(
            [sum(c.isupper() for c in row["solution"].get("moves") or "") for row in rows]
        )
        stats["boxes"] = _histogram(row["instance"]["boxes"] for row in rows)
        stats["grid"] = _histogram(
            f"{row['instance']['height']}x{row['instance']['width']}" for row in rows
        )
        stats["labelled_action"] = _histogram(
            str(m.get("label"))
            if "label" in m
            else (row["solution"].get("moves") or "-")[0].lower()
            for m, row in zip(metas, rows, strict=True)
        )
        stats["distinct_vocabularies"] = len(
            {" ".join(row["template"]["vocabulary"]) for row in rows}
        )
    else:
        stats["solutions"] = _summary([len(row["solution"]["formulas"]) for row in rows])
        stats["faces_in_hand"] = _histogram(
            sum(c in ("J", "Q", "K") for c in row["instance"]["cards"]) for row in rows
        )
        stats["cards"] = _histogram(c for row in rows for c in row["instance"]["cards"])
        stats["rule"] = _histogram(row["template"]["rule"] for row in rows)
        stats["target"] = _histogram(row["instance"]["target"] for row in rows)
    if any("paper_prompt" in m for m in metas):
        stats["paper_prompt"] = sum(bool(m.get("paper_prompt")) for m in metas)
    return stats
