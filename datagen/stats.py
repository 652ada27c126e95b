"""Figures of a split for build.json and the dataset card, computed with polars.

    split_stats("sokoban", rows) -> {"rows": 1200, "optimal_length": {...}, ...}

Histograms are dicts from value to count with keys in ascending order; means are rounded so
that build.json is byte-stable.
"""

from __future__ import annotations

from typing import Any


def _histogram(series: Any) -> dict[str, int]:
    counts = series.value_counts().sort(series.name)
    return {str(value): int(count) for value, count in counts.iter_rows()}


def _summary(series: Any) -> dict[str, Any]:
    return {
        "mean": round(float(series.mean()), 4),
        "min": int(series.min()),
        "max": int(series.max()),
        "histogram": _histogram(series),
    }


def split_stats(task: str, rows: list[dict]) -> dict[str, Any]:
    import polars as pl

    if not rows:
        return {"rows": 0}
    if "chosen" in rows[0]:  # preference pairs: what the rejected side got wrong
        reasons = pl.Series("reason", [row["meta"]["rejected_reason"] for row in rows])
        return {"rows": len(rows), "rejected_reason": _histogram(reasons)}
    meta = pl.DataFrame([row["meta"] for row in rows])
    stats: dict[str, Any] = {"rows": len(rows)}
    if task == "sokoban":
        stats["optimal_length"] = _summary(meta["optimal_length"])
        stats["pushes"] = _summary(meta["pushes"])
        stats["boxes"] = _histogram(meta["boxes"])
        size = pl.Series("grid", [f"{r['meta']['height']}x{r['meta']['width']}" for r in rows])
        stats["grid"] = _histogram(size)
        first = pl.Series("action", [row["solution"]["moves"][0].lower() for row in rows])
        stats["labelled_action"] = _histogram(first)
        vocab = pl.Series("v", [" ".join(row["template"]["vocabulary"]) for row in rows])
        stats["distinct_vocabularies"] = vocab.n_unique()
    else:
        stats["solutions"] = _summary(meta["solutions"])
        stats["faces_in_hand"] = _histogram(meta["faces_in_hand"])
        cards = pl.Series("card", [c for row in rows for c in row["instance"]["cards"]])
        stats["cards"] = _histogram(cards)
        stats["rule"] = _histogram(pl.Series("rule", [row["template"]["rule"] for row in rows]))
        target = pl.Series("target", [row["instance"]["target"] for row in rows])
        stats["target"] = _histogram(target)
    wording = pl.Series("wording", [row["template"]["wording"] for row in rows])
    stats["wording"] = _histogram(wording)
    return stats
