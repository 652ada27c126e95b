"""Figures of model results: one evaluation, several runs side by side, and training curves.

- `results_figure`: per task, success and instruction validity per variant as bars, the
  variants grouped as in the study's Table 1, the fake variants on a shaded background;
- `runs_heatmap`: per task, a variant x run heatmap of success and one of validity;
- `training_curves`: loss, and in-loop success / validity per variant, against the step
  (the study's Figure 2: validity decaying during answer-only SFT).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datagen.figures.style import COLOURS, FAKE_SHADE, canvas, grouped, save, set_margins

Metrics = Mapping[str, Mapping[str, Mapping[str, Any]]]  # {task: {variant: {metric: value}}}


def _bar_panel(ax: Any, variants: Mapping[str, Mapping[str, Any]], task: str) -> None:
    order = grouped(list(variants))
    names = [v for _, members in order for v in members]
    x = list(range(len(names)))
    width = 0.38
    for offset, key, label in (
        (-width / 2, "success", "success (% of episodes)"),
        (width / 2, "validity", "instruction validity (% of turns)"),
    ):
        heights = [100 * float(variants[v].get(key, 0.0)) for v in names]
        ax.bar([i + offset for i in x], heights, width, label=label, color=COLOURS[key])
    start = 0
    for group, members in order:
        end = start + len(members)
        if group == "fake":
            ax.axvspan(start - 0.5, end - 0.5, color=FAKE_SHADE, zorder=0)
        if start:
            ax.axvline(start - 0.5, color="#999999", linewidth=0.8)
        label = "ID" if group == "in distribution" else group
        ax.text((start + end - 1) / 2, 103, label, ha="center", va="bottom", fontsize=8)
        start = end
    ax.set_xticks(x, names, rotation=35, ha="right")
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylim(0, 112)
    ax.set_ylabel("%")
    ax.set_title(task, loc="left", fontweight="bold")


def results_figure(metrics: Metrics, path: Path, title: str | None = None) -> Path:
    """Success and validity per variant, one panel per task (results.json's `metrics`)."""
    tasks = [t for t in metrics if metrics[t]]
    width = max(6.0, 0.55 * max((len(metrics[t]) for t in tasks), default=1) + 2)
    rows = max(1, len(tasks))
    with canvas(width, 3.4 * rows + (0.3 if title else 0), constrained=False) as figure:
        axes = figure.subplots(rows, 1, squeeze=False)[:, 0]
        # Room for the rotated variant names below each panel and the legend at the bottom.
        set_margins(figure, rows, 0.6, 0.15, 1.15, 0.35 + (0.3 if title else 0), gap=1.05)
        for ax, task in zip(axes, tasks, strict=False):
            _bar_panel(ax, metrics[task], task)
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="lower center", ncols=2, fontsize=8)
        if title:
            figure.suptitle(title, fontsize=9)
        return save(figure, path)


def runs_heatmap(runs: Mapping[str, Metrics], path: Path) -> Path:
    """Per task, heatmaps of success and validity: rows = variants, columns = runs."""
    names = list(runs)
    tasks = sorted({t for metrics in runs.values() for t in metrics})
    panels = []
    for task in tasks:
        seen: dict[str, None] = {}
        for metrics in runs.values():
            seen.update(dict.fromkeys(metrics.get(task, {})))
        variants = [v for _, members in grouped(list(seen)) for v in members]
        panels.append((task, variants))
    rows = max((len(v) for _, v in panels), default=1)
    width = 2 * (1.6 + 0.9 * len(names)) + 0.8
    with canvas(width, (0.32 * rows + 1.4) * max(1, len(panels))) as figure:
        axes = figure.subplots(max(1, len(panels)), 2, squeeze=False)
        for (task, variants), pair in zip(panels, axes, strict=False):
            for ax, key in zip(pair, ("success", "validity"), strict=True):
                _heatmap(ax, runs, names, task, variants, key)
        return save(figure, path)


def _heatmap(ax: Any, runs: Mapping[str, Metrics], names: list[str], task: str, variants, key):
    values = [[runs[run].get(task, {}).get(v, {}).get(key) for run in names] for v in variants]
    grid = [[float("nan") if x is None else 100 * float(x) for x in row] for row in values]
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="#dddddd")  # grey: the run has no such variant
    image = ax.imshow(grid, cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            text = "—" if value != value else f"{value:.0f}"
            colour = "white" if value == value and value < 60 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(variants)), variants)
    ax.set_title(f"{task}: {key} %", loc="left", fontweight="bold")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)


def training_curves(entries: list[Mapping[str, Any]], path: Path, title: str | None = None) -> Path:
    """Loss against the step, and in-loop eval success / validity per variant if logged.

    `entries` are the lines of train_log.jsonl; evaluation figures are the keys
    `eval/<task>/<variant>/success` and `.../validity` of the entries that carry them.
    """
    steps = [e["step"] for e in entries if "loss" in e]
    losses = [e["loss"] for e in entries if "loss" in e]
    series: dict[str, dict[str, list[tuple[int, float]]]] = {"success": {}, "validity": {}}
    for entry in entries:
        for key, value in entry.items():
            parts = key.split("/")
            if len(parts) == 4 and parts[0] == "eval" and parts[3] in series:
                label = f"{parts[1]}/{parts[2]}"
                series[parts[3]].setdefault(label, []).append((entry["step"], 100 * value))
    panels = 1 + sum(bool(s) for s in series.values())
    with canvas(4.2 * panels, 3.4) as figure:
        axes = figure.subplots(1, panels, squeeze=False)[0]
        axes[0].plot(steps, losses, color=COLOURS["loss"], linewidth=1)
        axes[0].set_xlabel("optimizer step")
        axes[0].set_ylabel("loss (mean over completion tokens)")
        axes[0].set_title("training loss", loc="left", fontweight="bold")
        for ax in axes:
            ax.xaxis.get_major_locator().set_params(integer=True)
        i = 1
        for metric, lines in series.items():
            if not lines:
                continue
            ax = axes[i]
            for label in sorted(lines):
                xs, ys = zip(*lines[label], strict=True)
                ax.plot(xs, ys, marker="o", markersize=3, linewidth=1, label=label)
            ax.set_ylim(-3, 103)
            ax.set_xlabel("optimizer step")
            ax.set_ylabel(f"{metric} %")
            ax.set_title(f"in-loop eval: {metric}", loc="left", fontweight="bold")
            ax.legend(fontsize=7)
            i += 1
        if title:
            figure.suptitle(title, fontsize=9)
        return save(figure, path)
