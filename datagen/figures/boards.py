"""Rows drawn as pictures: Sokoban boards (walls, targets, boxes, player) and playing cards.

    boards_figure(rows, Path("look.png"))   # rows of one task, as `datagen show --png` draws them

Boards are drawn from the row's XSB grid with shapes, not text, so they read the same whatever
legend or vocabulary the prompt used; a hand is drawn as cards with the rule and target below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from datagen.figures.style import canvas, save, set_margins

WALL, FLOOR, TARGET, BOX, BOX_DONE, PLAYER = (
    "#5b4a3f",
    "#f4efe6",
    "#d62728",
    "#c9a227",
    "#2ca02c",
    "#1f77b4",
)
PANEL = 2.2  # inches per drawn row


def draw_board(ax: Any, grid: str, caption: str = "") -> None:
    """One Sokoban state from its XSB text (# wall, . target, $ box, * box on target, @ / +)."""
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Circle, Rectangle

    lines = grid.split("\n")
    height, width = len(lines), max(len(line) for line in lines)
    cells = [line.ljust(width) for line in lines]
    wall, floor = to_rgb(WALL), to_rgb(FLOOR)
    # Walls and floor as one image (a patch per cell would cost most of the drawing time).
    image = [[wall if cell == "#" else floor for cell in line] for line in cells]
    ax.imshow(image, extent=(0, width, 0, height), interpolation="nearest")
    for y, line in enumerate(cells):
        top = height - 1 - y
        for x, cell in enumerate(line):
            if cell in ".*+":
                ax.add_patch(Rectangle((x + 0.3, top + 0.3), 0.4, 0.4, color=TARGET))
            if cell in "$*":
                colour = BOX_DONE if cell == "*" else BOX
                ax.add_patch(Rectangle((x + 0.12, top + 0.12), 0.76, 0.76, color=colour, ec="k"))
            if cell in "@+":
                ax.add_patch(Circle((x + 0.5, top + 0.5), 0.32, color=PLAYER))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if caption:
        ax.set_title(caption, fontsize=8)


def draw_hand(ax: Any, cards: Sequence[str], caption: str = "") -> None:
    """A General Points hand as playing cards, the rank on each."""
    from matplotlib.patches import FancyBboxPatch

    for i, card in enumerate(cards):
        ax.add_patch(
            FancyBboxPatch(
                (i * 1.2 + 0.05, 0.05),
                1.0,
                1.4,
                boxstyle="round,pad=0.02,rounding_size=0.12",
                fc="white",
                ec="#333333",
            )
        )
        colour = "#b22222" if card in ("J", "Q", "K") else "#222222"
        ax.text(i * 1.2 + 0.55, 0.75, card, ha="center", va="center", fontsize=14, color=colour)
    ax.set_xlim(-0.1, max(4, len(cards)) * 1.2)
    ax.set_ylim(-0.1, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    if caption:
        ax.set_title(caption, fontsize=8)


def caption(row: Mapping[str, Any]) -> str:
    """What a drawn row is: its variant and difficulty (Sokoban) or rule and target (points)."""
    meta, instance = row.get("meta") or {}, row.get("instance") or {}
    if row.get("task") == "sokoban":
        return f"{row.get('variant', '')}: {meta.get('optimal_length', '?')} moves"
    template = row.get("template") or {}
    faces = template.get("faces")
    rule = "J/Q/K = " + "/".join(map(str, faces)) if faces else template.get("rule", "")
    return f"{row.get('variant', '')}\ntarget {instance.get('target', '?')}, {rule}"


def boards_figure(rows: Sequence[Mapping[str, Any]], path: Path, columns: int = 4) -> Path:
    """Rows of one task drawn in a grid of panels: boards for Sokoban, cards for points."""
    if not rows:
        raise ValueError("no rows to draw")
    columns = max(1, min(columns, len(rows)))
    lines = -(-len(rows) // columns)
    points = rows[0].get("task") == "points"
    if points:  # a row of cards, two caption lines above it
        cards = max(len((row.get("instance") or {}).get("cards", [])) for row in rows)
        width, height, top = max(PANEL, 0.55 * cards + 0.4), 1.5, 0.45
    else:
        width, height, top = PANEL, PANEL, 0.25
    with canvas(width * columns, height * lines + top - 0.05, constrained=False) as figure:
        axes = figure.subplots(lines, columns, squeeze=False).ravel()
        set_margins(figure, lines, 0.05, 0.05, 0.05, top, gap=top)
        figure.subplots_adjust(wspace=0.08)
        for ax, row in zip(axes, rows, strict=False):
            instance = row.get("instance") or {}
            if points:
                draw_hand(ax, [str(c) for c in instance.get("cards", [])], caption(row))
            else:
                draw_board(ax, str(instance.get("grid", "")), caption(row))
        for ax in axes[len(rows) :]:
            ax.axis("off")
        return save(figure, path)
