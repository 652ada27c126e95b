"""The figures of a dataset card, drawn from a task folder (its build.json and parquet files).

    write_card_figures(Path("out/sokoban"))  # -> [("optimal_length.png", "caption"), ...]

Sokoban: optimal solution lengths per split, and one example level per geometry drawn as a
board. General Points: solutions per hand, the face-card rules, the card ranks. The PNGs go to
`<task>/figures/`, which the card links to with relative paths; `load_dataset` reads only the
data files the card's header lists, so the figures never become rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datagen.figures.style import COLOURS, canvas, save, set_margins

FOLDER = "figures"
# Every figure a card may show, in the card's order, with its caption.
CAPTIONS = {
    "optimal_length.png": "Optimal solution length of the rows: training, and one evaluation "
    "split per geometry (vocabulary variants share the simple levels)",
    "examples.png": "One evaluation level per geometry (red squares: targets, yellow: boxes, "
    "green: box on a target, blue: the player)",
    "solutions.png": "Distinct solutions per hand (exact solver): training and evaluation",
    "rules.png": "Face-card rules (J, Q, K values) of the training rows",
    "cards.png": "Card ranks drawn in the training rows",
}


_RANKS = {"A": 1, "J": 11, "Q": 12, "K": 13}


def _order(label: str) -> tuple[float, str]:
    """Numbers in numeric order; card ranks A/J/Q/K at 1/11/12/13; bins "5-8" at 5."""
    head = label.split("-")[0]
    try:
        return float(_RANKS.get(head, head)), label
    except ValueError:
        return float("inf"), label


def _distributions(
    path: Path, series: list[tuple[str, Mapping[str, Any]]], xlabel: str, ylabel: str
) -> Path:
    """One axes: each (label, {value: count}) as its share of rows per value, on one scale."""
    with canvas(6.4, 3.2, constrained=False) as figure:
        ax = figure.subplots()
        set_margins(figure, 1, 0.65, 0.15, 0.5, 0.3)
        labels = sorted({str(k) for _, h in series for k in h}, key=_order)
        numeric = all(label.isdigit() for label in labels)
        # Numbers keep their spacing; card ranks and bins get one slot each, shared by all series.
        position = {x: float(x) if numeric else float(i) for i, x in enumerate(labels)}
        for label, histogram in series:
            keys = sorted((str(k) for k in histogram), key=_order)
            total = sum(float(v) for v in histogram.values()) or 1.0
            xs = [position[k] for k in keys]
            ys = [100 * float(histogram[k]) / total for k in keys]
            if len(series) == 1:
                ax.bar(xs, ys, color=COLOURS["success"])
            else:
                ax.plot(xs, ys, marker="o", markersize=3, linewidth=1, label=label)
        if numeric:
            ax.xaxis.get_major_locator().set_params(integer=True)
        else:
            ax.set_xticks([position[x] for x in labels], labels)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if len(series) > 1:
            ax.legend(fontsize=7)
        else:
            ax.set_title(series[0][0], fontsize=8, loc="left")
        return save(figure, path)


def _log2_bins(histogram: Mapping[str, Any]) -> dict[str, float]:
    """Counts of hands per number of solutions, in buckets 1, 2, 3-4, 5-8, ... (long tails)."""
    bins: dict[int, float] = {}
    for key, count in histogram.items():
        n = max(1, int(key))
        bins[(n - 1).bit_length()] = bins.get((n - 1).bit_length(), 0.0) + float(count)
    out = {}
    for b in sorted(bins):
        low, high = (1 << (b - 1)) + 1 if b else 1, 1 << b
        out[f"{low}-{high}" if high > low else str(low)] = bins[b]
    return out


def _train_split(stats: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The statistics of the training rows (every train config poses the same instances)."""
    for config, splits in stats.items():
        if config != "eval" and "train" in splits:
            return config, splits["train"]
    return None


def _one_per_geometry(eval_stats: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The first evaluation split of each distinct geometry (vocabulary variants share levels)."""
    chosen: dict[str, Any] = {}
    seen: set[str] = set()
    for split, figures in eval_stats.items():
        geometry = json.dumps([figures.get(k) for k in keys], sort_keys=True)
        if geometry not in seen:
            seen.add(geometry)
            chosen[split] = figures
    return chosen


def _panels(train: tuple[str, Mapping] | None, evals: Mapping[str, Any], figure: str) -> list:
    """(title, {value: count}) of one figure for the training rows and the given eval splits."""
    named = ([(f"{train[0]} / train", train[1])] if train else []) + [
        (f"eval / {split}", figures) for split, figures in evals.items()
    ]
    return [
        (title, figures[figure].get("histogram", figures[figure]))
        for title, figures in named
        if figure in figures
    ]


def _example_rows(task_dir: Path, splits: list[str]) -> list[dict]:
    import pyarrow.parquet as pq

    rows = []
    for split in splits:
        files = sorted((task_dir / "data" / "eval").glob(f"{split}-*.parquet"))
        if not files:
            continue
        table = pq.ParquetFile(files[0]).read_row_group(0).slice(0, 1)
        if table.num_rows:
            rows.append(table.to_pylist()[0])
    return rows


def write_card_figures(task_dir: Path) -> list[tuple[str, str]]:
    """Draw the card's figures into `task_dir/figures/`; returns (file name, caption) pairs."""
    from datagen.figures.boards import boards_figure

    build = json.loads((task_dir / "build.json").read_text())
    stats = build.get("stats", {})
    folder = task_dir / FOLDER
    written: list[tuple[str, str]] = []

    def add(name: str, draw: Any) -> None:
        draw(folder / name)
        written.append((name, CAPTIONS[name]))

    train, evals = _train_split(stats), stats.get("eval", {})
    if build.get("task") == "sokoban":
        geometries = _one_per_geometry(evals, ("grid", "boxes"))
        if panels := _panels(train, geometries, "optimal_length"):
            add(
                "optimal_length.png",
                lambda p: _distributions(p, panels, "optimal moves", "% of rows"),
            )
        if rows := _example_rows(task_dir, list(geometries)):
            add("examples.png", lambda p: boards_figure(rows, p, columns=len(rows)))
        return written
    # General Points: the difficulty splits differ in their hands; the rule variants do not.
    hands = {k: v for k, v in evals.items() if k in ("id", "five_cards", "large")}
    if panels := [(t, _log2_bins(h)) for t, h in _panels(train, hands, "solutions")]:
        add(
            "solutions.png", lambda p: _distributions(p, panels, "distinct solutions", "% of hands")
        )
    if train and "rule" in train[1]:
        add("rules.png", lambda p: _rules(p, train[1]["rule"]))
    if cards := _panels(train, {}, "cards"):
        add("cards.png", lambda p: _distributions(p, cards, "card rank", "% of cards"))
    return written


def _rules(path: Path, histogram: Mapping[str, Any]) -> Path:
    items = sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))
    with canvas(5.0, 0.3 * len(items) + 1.0, constrained=False) as figure:
        ax = figure.subplots()
        set_margins(figure, 1, 1.35, 0.15, 0.5, 0.3)
        ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color=COLOURS["success"])
        ax.set_xlabel("training rows")
        ax.set_title("face-card rule (J, Q, K values)", fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        return save(figure, path)
