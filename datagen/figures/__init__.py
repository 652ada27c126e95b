"""Figures: PNGs for evaluation results, run comparisons, training curves and dataset cards.

Every figure is drawn on matplotlib's Agg canvas (headless) under matplotlib's default style,
whatever the user's matplotlibrc says, with the bundled DejaVu Sans font, a fixed size and dpi,
and no timestamp or software version in the PNG's metadata: the same data gives the same bytes.

    from datagen.figures import results_figure, runs_heatmap, training_curves
    results_figure(metrics, Path("results.png"))        # metrics as in results.json

Modules: `style` (canvas, PNG writer, variant groups), `results` (eval results, run heatmaps,
training curves), `cards` (the figures of a dataset card, from a task folder), `boards` (Sokoban
boards and General Points hands).
"""

from datagen.figures.boards import boards_figure
from datagen.figures.cards import write_card_figures
from datagen.figures.results import results_figure, runs_heatmap, training_curves

__all__ = [
    "boards_figure",
    "results_figure",
    "runs_heatmap",
    "training_curves",
    "write_card_figures",
]
