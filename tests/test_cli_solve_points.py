"""`datagen solve points` (datagen/cli/solve_points.py)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from datagen.cli import main
from datagen.cli.solve_points import points


def _run(*args: str):
    return CliRunner().invoke(points, list(args))


def test_prints_the_first_solution_and_the_count():
    result = _run("3", "3", "8", "8")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["solvable"] is True and out["solutions"] == ["8/(3-8/3)"] and out["count"] == 1
    assert out["values"] == [3, 3, 8, 8] and out["target"] == 24 and out["seconds"] >= 0


def test_all_solutions_faces_and_target():
    out = json.loads(_run("4", "7", "8", "8", "--all").stdout)
    assert sorted(out["solutions"]) == sorted(["8*7-8*4", "(7+4-8)*8", "(7-8/8)*4"])
    assert out["count"] == 3
    out = json.loads(_run("2", "7", "Q", "2", "--faces", "J=9,Q=11,K=13", "--all").stdout)
    assert out["values"] == [2, 7, 11, 2] and out["count"] == len(out["solutions"])
    out = json.loads(_run("A", "A", "A", "A", "--target", "4").stdout)
    assert out["solvable"] and out["solutions"] == ["1+1+1+1"]
    out = json.loads(_run("A", "A", "A", "A").stdout)
    assert out == {**out, "solvable": False, "solutions": [], "count": 0}
    out = json.loads(_run("K", "Q", "J", "A", "--faces", "mixed_11_12_13").stdout)
    assert out["values"] == [13, 12, 11, 1]


def test_bad_cards_and_rules_exit_2_with_one_line():
    for args in (["4", "7", "X", "8"], ["2", "7", "Q", "2", "--faces", "bogus"], ["13", "2"]):
        result = _run(*args)
        assert result.exit_code == 2
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("Error: ")
    assert _run().exit_code == 2  # no cards at all
    assert _run(*["A"] * 7).exit_code == 2


def test_registered_under_datagen_solve():
    result = CliRunner().invoke(main, ["solve", "points", "6", "4", "--all"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["solutions"] == ["6*4"]


def test_cards_from_one_argument_a_bom_and_garbage():
    out = json.loads(_run("\ufeff3 3\t8\n8").stdout)  # e.g. `$(cat hand.txt)` with a BOM
    assert out["cards"] == ["3", "3", "8", "8"] and out["solutions"] == ["8/(3-8/3)"]
    for args in ([""], ["\ufeff"], ["\udcff", "3"], ["\x00", "3"], ["x" * 100_000, "3"]):
        result = _run(*args)
        assert result.exit_code == 2 and result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1 and len(result.stderr) < 200
        assert result.stderr.startswith("Error: ")
    assert "no cards given" in _run("", " ").stderr
