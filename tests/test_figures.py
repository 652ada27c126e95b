"""Figures (datagen.figures): valid PNGs of the expected size, deterministic, data-driven."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from datagen.figures import boards_figure, results_figure, runs_heatmap, training_curves
from datagen.figures.style import DPI, grouped, variant_group

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk; fails unless the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def metrics(success: float) -> dict:
    variants = ("simple", "cardinal", "fake-cardinal", "larger")
    return {
        "sokoban": {v: {"success": success, "validity": 1 - success} for v in variants},
        "points": {"id": {"success": 0.5, "validity": 0.9}, "fake": {"success": 0, "validity": 0}},
    }


def test_variants_are_grouped_as_in_table_1() -> None:
    assert variant_group("simple") == variant_group("id") == "in distribution"
    assert variant_group("fake_cardinal") == variant_group("all-5-fake") == "fake"
    assert variant_group("two_boxes") == variant_group("five-cards") == "difficulty"
    assert variant_group("numerical") == variant_group("all-7") == "instruction"
    order = grouped(["larger", "fake", "numerical", "id"])
    assert order == [
        ("in distribution", ["id"]),
        ("instruction", ["numerical"]),
        ("fake", ["fake"]),
        ("difficulty", ["larger"]),
    ]


def test_results_figure_is_a_png_of_its_size_and_the_same_bytes_for_the_same_data(
    tmp_path: Path,
) -> None:
    a = results_figure(metrics(0.25), tmp_path / "a.png", "run")
    b = results_figure(metrics(0.25), tmp_path / "b.png", "run")
    c = results_figure(metrics(0.75), tmp_path / "c.png", "run")
    width, height = png_size(a)
    # Two task panels of 3.4 inches, plus the title strip, at the fixed dpi.
    assert (width, height) == (600, round((2 * 3.4 + 0.3) * DPI))
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_png_bytes_do_not_depend_on_the_process_or_the_users_rc(tmp_path: Path) -> None:
    here = results_figure(metrics(0.5), tmp_path / "here.png")
    rc = tmp_path / "matplotlibrc"
    rc.write_text("font.size: 20\naxes.facecolor: black\nsavefig.dpi: 300\n")
    code = (
        "import json, sys; from pathlib import Path; from datagen.figures import results_figure;"
        "results_figure(json.loads(sys.argv[1]), Path(sys.argv[2]))"
    )
    env = {"MATPLOTLIBRC": str(rc), "PYTHONHASHSEED": "7", "PATH": "/usr/bin:/bin"}
    import os

    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    other = tmp_path / "other.png"
    subprocess.run(
        [sys.executable, "-c", code, json.dumps(metrics(0.5)), str(other)], env=env, check=True
    )
    assert here.read_bytes() == other.read_bytes()


def test_runs_heatmap_and_training_curves(tmp_path: Path) -> None:
    heat = runs_heatmap({"ao": metrics(0.1), "diverse": metrics(0.9)}, tmp_path / "h.png")
    assert png_size(heat)[0] > 0
    entries = [{"step": s, "loss": 1 / s} for s in range(1, 6)]
    entries[2]["eval/sokoban/simple/success"] = 0.5
    entries[2]["eval/sokoban/simple/validity"] = 0.7
    curves = training_curves(entries, tmp_path / "c.png")
    loss_only = training_curves([{"step": 1, "loss": 2.0}], tmp_path / "l.png")
    # Loss, success and validity panels side by side; only loss without in-loop figures.
    assert png_size(curves)[0] == 3 * png_size(loss_only)[0]


def test_boards_and_hands_are_drawn_and_change_with_the_rows(tmp_path: Path) -> None:
    row = {
        "task": "sokoban",
        "variant": "simple",
        "instance": {"grid": "#####\n#@$.#\n#####"},
        "meta": {"optimal_length": 1},
    }
    moved = {**row, "instance": {"grid": "#####\n# @*#\n#####"}}
    a = boards_figure([row, row], tmp_path / "a.png")
    b = boards_figure([row, moved], tmp_path / "b.png")
    assert png_size(a) == png_size(b) == (440, 240)  # two 2.2-inch panels + caption strip
    assert a.read_bytes() != b.read_bytes()
    hand = {"task": "points", "variant": "id", "instance": {"cards": ["A", "J", "7", "2"]}}
    # A hand of four cards: 0.55 inch a card and 0.4 of border, one panel.
    assert png_size(boards_figure([hand], tmp_path / "h.png")) == (260, 190)
    with pytest.raises(ValueError):
        boards_figure([], tmp_path / "none.png")
