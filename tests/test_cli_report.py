"""`datagen report`, `datagen plot`, `datagen show --png` and eval's results.png, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from datagen.cli import main


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A small build and the oracle's and the frozen policy's results on it."""
    root = tmp_path_factory.mktemp("report")
    runner = CliRunner()
    args = ["build", "--task", "all", "--train-size", "8", "--eval-size", "2", "--out"]
    assert runner.invoke(main, [*args, str(root / "b"), "--workers", "1"]).exit_code == 0
    for backend in ("oracle", "frozen"):
        out = root / backend
        got = runner.invoke(
            main, ["eval", "--data", str(root / "b"), "--backend", backend, "--out", str(out)]
        )
        assert got.exit_code == 0, got.output
    return root / "b", root / "oracle", root / "frozen"


def test_eval_writes_results_png(results) -> None:
    _, oracle, _ = results
    assert (oracle / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_report_prints_a_column_per_run_and_writes_md_json_png(results, tmp_path: Path) -> None:
    _, oracle, frozen = results
    got = CliRunner().invoke(
        main, ["report", str(oracle), str(frozen / "results.json"), "--out", str(tmp_path)]
    )
    assert got.exit_code == 0, got.output
    assert "| Group | Variant | oracle | frozen |" in got.output
    # The oracle follows the prompt, the frozen policy its training vocabulary.
    assert "| instruction | cardinal | 100.0 / 100.0 | 0.0 / 0.0 |" in got.output
    assert "| fake | fake-cardinal | 0.0 / 0.0 | 100.0 / 100.0 |" in got.output
    table = json.loads((tmp_path / "report.json").read_text())
    assert table["runs"] == ["oracle", "frozen"]
    assert table["tasks"]["points"]["fake"]["frozen"] == {"success": 1.0, "validity": 1.0}
    assert (tmp_path / "report.md").read_text().startswith("Cells: success %")
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no results.json"),
        (lambda p: (p / "results.json").write_text("{not json"), "not a readable results.json"),
        (lambda p: (p / "results.json").write_text('{"a": 1}'), "no `metrics`"),
    ],
)
def test_report_of_something_else_is_one_line(tmp_path: Path, make, message: str) -> None:
    make(tmp_path)
    got = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert got.exit_code == 1
    assert message in got.output and len(got.output.strip().splitlines()) == 1


def test_report_names_must_match_the_results(results) -> None:
    _, oracle, frozen = results
    got = CliRunner().invoke(main, ["report", str(oracle), str(frozen), "--names", "a"])
    assert got.exit_code == 1 and "1 names for 2 results" in got.output


def test_show_png_draws_the_rows(results, tmp_path: Path) -> None:
    build, _, _ = results
    png = tmp_path / "look.png"
    args = ["show", str(build / "sokoban"), "--config", "eval", "--split", "two_boxes"]
    got = CliRunner().invoke(main, [*args, "--n", "2", "--png", str(png)])
    assert got.exit_code == 0, got.output
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_plot_draws_curves_and_refuses_a_folder_without_logs(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    got = CliRunner().invoke(main, ["plot", str(run)])
    assert got.exit_code == 1 and "no train_log.jsonl" in got.output
    lines = [json.dumps({"step": s, "loss": 3.0 / s}) for s in (1, 2, 3)]
    (run / "train_log.jsonl").write_text("\n".join(lines) + '\n{"step": 4, "lo')  # torn last line
    got = CliRunner().invoke(main, ["plot", str(run)])
    assert got.exit_code == 0, got.output
    assert (run / "curves.png").read_bytes()[:4] == b"\x89PNG"
