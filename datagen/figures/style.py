"""Shared look of every figure: the Agg canvas, deterministic PNGs, Table-1 variant groups."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DPI = 100

# The study's Table 1 groups the variants by what they test; the figures keep that grouping.
GROUP_ORDER = ("in distribution", "instruction", "fake", "difficulty")
_ID = {"simple", "id"}
_DIFFICULTY = {"larger", "two-boxes", "complex", "five-cards", "large", "boxoban"}

COLOURS = {"success": "#1f77b4", "validity": "#ff7f0e", "loss": "#444444"}
FAKE_SHADE = "#f2e6e6"  # background behind the fake variants, so they stand apart


def variant_group(variant: str) -> str:
    """The Table-1 group of a variant: in distribution, instruction, fake or difficulty."""
    name = variant.replace("_", "-")
    if name in _ID:
        return "in distribution"
    if "fake" in name:
        return "fake"
    if name in _DIFFICULTY:
        return "difficulty"
    return "instruction"


def grouped(variants: list[str]) -> list[tuple[str, list[str]]]:
    """Variants in Table-1 group order, keeping their given order inside each group."""
    groups = [(g, [v for v in variants if variant_group(v) == g]) for g in GROUP_ORDER]
    return [(g, members) for g, members in groups if members]


def preload() -> None:
    """Import matplotlib in a background thread, so that a figure drawn later does not wait.

    A build or an evaluation calls this when it starts; its own work (worker processes, model
    generation) runs meanwhile, and Python's import lock makes a later import wait for this one.
    """
    import threading

    def load() -> None:
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401

    threading.Thread(target=load, name="matplotlib-preload", daemon=True).start()


@contextmanager
def canvas(width: float, height: float, constrained: bool = True) -> Iterator[Any]:
    """A Figure on the Agg canvas under matplotlib's defaults (the user's rc file ignored).

    `constrained=False` leaves the layout to `set_margins`, which is much cheaper than
    matplotlib's constrained layout (most of a figure's cost is measuring text for it).
    """
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9})
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        layout = "constrained" if constrained else None
        figure = Figure(figsize=(width, height), dpi=DPI, layout=layout)
        FigureCanvasAgg(figure)
        yield figure


def set_margins(
    figure: Any, rows: int, left: float, right: float, bottom: float, top: float, gap: float = 0
) -> None:
    """Fixed margins in inches around `rows` rows of axes, `gap` inches between the rows."""
    width, height = figure.get_size_inches()
    row_height = (height - bottom - top - gap * (rows - 1)) / rows
    figure.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        hspace=gap / row_height if rows > 1 else 0,
    )


def save(figure: Any, path: Path) -> Path:
    """Write `figure` as a PNG with no volatile metadata, atomically (a temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    tmp.replace(path)
    return path
