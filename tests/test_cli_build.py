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


def test_a_level_beyond_the_label_budgets_is_a_one_line_error(tmp_path, monkeypatch):
    import types

    from datagen.tasks import sokoban

    def stopped(level, **limits):
        return types.SimpleNamespace(solved=False, reason="node limit")

    monkeypatch.setattr(sokoban, "solve", stopped)
    out = tmp_path / "out"
    args = ["build", "--task", "sokoban", "--train-size", "4", "--eval-size", "1"]
    result = CliRunner().invoke(main, [*args, "--workers", "1", "--out", str(out)])
    assert result.exit_code == 1
    assert "evaluation level is not solvable: node limit" in result.output
    assert "Traceback" not in result.output
    assert not (out / "sokoban").exists()


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


def test_impossible_move_filters_fail_before_any_work(tmp_path):
    runner = CliRunner()
    out = tmp_path / "o"
    for args, message in (
        (["--min-moves", "40", "--max-moves", "50"], "no generated 6x6 one-box level is longer"),
        (["--min-moves", "31"], "--max-moves 30 is below --min-moves 31"),
        (["--min-moves", "8", "--max-moves", "5"], "--max-moves 5 is below --min-moves 8"),
        (["--min-moves", "0"], "--min-moves must be >= 1"),
    ):
        result = runner.invoke(main, ["build", "--task", "all", *args, "--out", str(out)])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert not out.exists()  # nothing was started


def test_move_filters_shape_training_levels_and_are_recorded(tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--task",
            "sokoban",
            "--train-size",
            "30",
            "--eval-size",
            "2",
            "--min-moves",
            "6",
            "--max-moves",
            "8",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    info = json.loads((out / "sokoban" / "build.json").read_text())
    assert (info["options"]["min_moves"], info["options"]["max_moves"]) == (6, 8)
    rows = pq.read_table(out / "sokoban" / "data" / "rl" / "train-00000-of-00001.parquet")
    starts = [m["start_length"] for m in rows.column("meta").to_pylist()]
    assert starts and all(6 <= n <= 8 for n in starts)


COT = ["--task", "points", "--cot", "--teacher", "search"]


def _build(runner, out, *args):
    base = ["build", "--train-size", "12", "--eval-size", "2", "--workers", "1"]
    return runner.invoke(main, [*base, *args, "--out", str(out)])


def _one_error_line(result, code, *needles):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_contradicting_build_options_are_refused_before_any_work(tmp_path):
    runner = CliRunner()
    out = tmp_path / "o"
    cases = [
        (["--task", "all", "--train-size", "0", "--eval-size", "0"], "nothing to build"),
        (["--task", "points", "--legends", "xsb"], "--legends applies to sokoban only"),
        (["--task", "sokoban", "--targets", "12"], "--targets applies to points only"),
        (["--task", "sokoban", "--holdout", "values"], "--holdout values applies to points"),
        (["--task", "points", "--wordings", "paper,brief,tutor,terse"], "points has paper"),
        ([*COT, "--initial-samples", "5", "--max-samples", "2"], "--initial-samples 5 exceeds"),
        ([*COT, "--keep", "3", "--max-samples", "2"], "--keep 3"),
    ]
    for args, needle in cases:
        result = runner.invoke(main, ["build", *args, "--workers", "1", "--out", str(out)])
        _one_error_line(result, 2, needle)
        assert not out.exists() and not (tmp_path / ".o.partial").exists(), args
    # The README's example works for Sokoban, and points accepts --eval-size 0 as Sokoban does.
    assert (
        _build(runner, out, "--task", "sokoban", "--wordings", "paper,brief,tutor,terse").exit_code
        == 0
    )
    result = _build(runner, tmp_path / "p", "--task", "points", "--eval-size", "0")
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "p" / "points" / "build.json").read_text())
    assert "eval" not in info["configs"] and info["configs"]["answer-only"]["train"] == 12


def test_overwrite_refuses_a_folder_with_the_users_files(tmp_path):
    runner = CliRunner()
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    result = _build(runner, out, "--task", "points", "--overwrite")
    _one_error_line(result, 1, "only a folder written by `datagen build`", "thesis.tex")
    assert (out / "thesis.tex").read_text() == "years of work"


def test_show_and_stats_on_corrupted_folders_fail_in_one_line(tmp_path):
    runner = CliRunner()
    assert _build(runner, tmp_path, "--task", "points").exit_code == 0
    task_dir = tmp_path / "points"
    simple = task_dir / "data" / "eval" / "id-00000-of-00001.parquet"
    good = simple.read_bytes()
    simple.write_bytes(good[:200])  # truncated: no parquet footer
    for command in (
        ["show", str(task_dir), "--config", "eval", "--split", "id"],
        ["stats", str(task_dir)],
    ):
        _one_error_line(
            runner.invoke(main, command), 1, "id-00000-of-00001.parquet", "not a readable parquet"
        )
    simple.unlink()  # missing: stats must not print figures of files that are gone
    _one_error_line(runner.invoke(main, ["stats", str(task_dir)]), 1, "eval/id")
    simple.write_bytes(good)
    assert runner.invoke(main, ["stats", str(task_dir)]).exit_code == 0
    (task_dir / "build.json").write_text('{"task": "points",')
    _one_error_line(
        runner.invoke(main, ["stats", str(task_dir)]), 1, "build.json is not valid JSON"
    )
