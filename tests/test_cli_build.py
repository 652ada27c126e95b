"""The build/show/stats commands as a user runs them: usage errors, output, exit codes."""

import json

from click.testing import CliRunner

from datagen.cli import main


def test_build_show_stats(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        [
            "build",
            "--task",
            "sokoban",
            "--train-size",
            "20",
            "--eval-size",
            "3",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"sokoban": str(out / "sokoban")}
    shown = runner.invoke(
        main, ["show", str(out), "--config", "eval", "--split", "fake_numerical", "--n", "1"]
    )
    assert shown.exit_code == 0
    assert "where 1 is Up, 2 is Down" in shown.output and "sokoban/fake-numerical" in shown.output
    stats = runner.invoke(main, ["stats", str(out / "sokoban"), "--json"])
    assert json.loads(stats.output)["answer-only"]["train"]["rows"] == 20


def test_bad_options_are_usage_errors(tmp_path):
    runner = CliRunner()
    for args in (
        ["--task", "chess"],
        ["--train-size", "-1"],
        ["--wordings", "nope"],
        ["--targets", "x,y"],
    ):
        result = runner.invoke(main, ["build", *args, "--out", str(tmp_path / "o")])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = runner.invoke(main, ["build", "--task", "points", "--out", str(tmp_path / "full")])
    assert result.exit_code == 1 and "--overwrite" in result.output


def test_show_rejects_unknown_config(tmp_path):
    runner = CliRunner()
    runner.invoke(
        main,
        [
            "build",
            "--task",
            "points",
            "--train-size",
            "5",
            "--eval-size",
            "2",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
        ],
    )
    result = runner.invoke(main, ["show", str(tmp_path / "points"), "--config", "cot"])
    assert result.exit_code == 2 and "no config 'cot'" in result.output
