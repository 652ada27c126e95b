"""`datagen eval` on the command line: scripted policies, errors, and a fine-tuned tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import QUICK_EVAL

from datagen.cli.evaluate import evaluate


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datagen.build import BuildConfig, build

    out = tmp_path_factory.mktemp("cli-eval") / "build"
    build([BuildConfig(task="sokoban", train_size=16, eval_size=2, workers=1)], out)
    return out


def test_oracle_table_on_stdout_and_files(build_dir, tmp_path):
    out = tmp_path / "res"
    args = ["--data", str(build_dir), "--backend", "oracle", "--variants", "simple,fake-emoji"]
    result = CliRunner().invoke(evaluate, [*args, "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "| simple | 2 | 100.0 | 100.0 |" in "\n".join(lines)
    assert any(line.startswith("| fake-emoji | 2 | 0.0 | 0.0 | 30.00 |") for line in lines)
    saved = json.loads((out / "results.json").read_text())
    assert saved["metrics"]["sokoban"]["simple"]["success"] == 1.0
    assert (out / "results.md").read_text().strip() == result.stdout.strip()
    episodes = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert [e["variant"] for e in episodes] == ["simple", "simple", "fake-emoji", "fake-emoji"]

    as_json = CliRunner().invoke(evaluate, [*args, "--json", "--no-progress"])
    assert json.loads(as_json.stdout)["metrics"]["sokoban"]["fake-emoji"]["success"] == 0.0


def test_earlier_results_are_kept_unless_overwrite(build_dir, tmp_path):
    out = tmp_path / "res"
    args = ["--data", str(build_dir), "--backend", "oracle", "--variants", "simple"]
    args += ["--out", str(out), "--no-progress"]
    assert CliRunner().invoke(evaluate, args).exit_code == 0
    (out / "results.json").write_text('{"earlier": true}')
    again = CliRunner().invoke(evaluate, args)
    assert again.exit_code == 1 and "--overwrite" in again.output
    assert len(again.output.strip().splitlines()) == 1 and "Traceback" not in again.output
    assert json.loads((out / "results.json").read_text()) == {"earlier": True}
    replaced = CliRunner().invoke(evaluate, [*args, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert "metrics" in json.loads((out / "results.json").read_text())


def test_errors_are_one_line(build_dir):
    bad = CliRunner().invoke(
        evaluate,
        ["--data", str(build_dir), "--backend", "oracle", "--variants", "nope", "--no-progress"],
    )
    assert bad.exit_code == 1 and "unknown variant(s) nope" in bad.output
    assert "Traceback" not in bad.output
    no_model = CliRunner().invoke(evaluate, ["--data", str(build_dir)])
    assert no_model.exit_code == 2 and "needs a model" in no_model.output
    missing = CliRunner().invoke(
        evaluate, ["--data", str(build_dir / "nowhere"), "--backend", "oracle"]
    )
    assert missing.exit_code == 1 and "nowhere" in missing.output


@pytest.mark.slow
def test_finetune_then_eval_end_to_end(build_dir, tmp_path):
    """The issue's loop: train the tiny model on a build, reload it, evaluate it."""
    pytest.importorskip("torch")
    from datagen.cli.finetune import finetune
    from datagen.tiny_model import tiny_model_path

    model = tmp_path / "model"
    trained = CliRunner().invoke(
        finetune,
        [
            "--model",
            str(tiny_model_path()),
            "--data",
            str(build_dir),
            "--out",
            str(model),
            "--epochs",
            "1",
            "--global-batch",
            "8",
            "--lr",
            "1e-3",
            "--max-len",
            "512",
            "--no-progress",
        ],
    )
    assert trained.exit_code == 0, trained.output
    result = CliRunner().invoke(
        evaluate,
        [
            "--model",
            str(model),
            "--data",
            str(build_dir),
            "--variants",
            "simple,cardinal",
            *QUICK_EVAL,
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]["sokoban"]
    assert set(metrics) == {"simple", "cardinal"}
    for m in metrics.values():
        assert m["episodes"] == 1 and 1 <= m["mean_turns"] <= 2
        assert 0.0 <= m["validity"] <= 1.0


def test_answer_only_ending_is_the_prompt_the_model_sees(build_dir):
    from datagen.evaluate import EvalConfig
    from datagen.evaluate import evaluate as run_eval
    from datagen.evaluate.policies import ScriptedPolicy

    class Recording(ScriptedPolicy):
        def __init__(self) -> None:
            super().__init__("oracle")
            self.prompts: list[str] = []

        def generate(self, prompts, contexts=None):
            self.prompts += [p[-1]["content"] for p in prompts]
            return super().generate(prompts, contexts)

    for ending in ("answer-only", "think"):
        policy = Recording()
        cfg = EvalConfig(
            data=str(build_dir),
            backend="oracle",
            variants=("simple",),
            ending=ending,
            progress=False,
        )
        assert run_eval(cfg, policy=policy)["metrics"]["sokoban"]["simple"]["success"] == 1.0
        expected = (
            "Always output: <answer>" if ending == "answer-only" else "Always output: <think>"
        )
        assert policy.prompts
        assert all(p.splitlines()[-1].startswith(expected) for p in policy.prompts)


def test_new_token_budgets_are_the_studys_per_task(tmp_path, monkeypatch):
    import datagen.evaluate as harness
    from datagen.build import BuildConfig, build

    out = tmp_path / "both"
    build(
        [
            BuildConfig(task="sokoban", train_size=2, eval_size=1, variants=("simple",), workers=1),
            BuildConfig(task="points", train_size=2, eval_size=1, variants=("id",), workers=1),
        ],
        out,
    )
    asked: list[int] = []
    real = harness.make_policy

    def recording(backend, model, temperature, max_new_tokens, *args):  # wraps the real one
        asked.append(max_new_tokens)
        return real(backend, model, temperature, max_new_tokens, *args)

    monkeypatch.setattr(harness, "make_policy", recording)
    result = CliRunner().invoke(
        evaluate, ["--data", str(out), "--backend", "oracle", "--json", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    # One policy (one model load), its budget set per task group.
    assert len(asked) == 1 and asked[0] in (4096, 8192)
    assert json.loads(result.stdout)["max_new_tokens"] == {"sokoban": 4096, "points": 8192}
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["sokoban"]["simple"]["success"] == metrics["points"]["id"]["success"] == 1.0
    asked.clear()
    given = ["--max-new-tokens", "64", "--json", "--no-progress"]
    result = CliRunner().invoke(evaluate, ["--data", str(out), "--backend", "oracle", *given])
    assert result.exit_code == 0 and asked == [64]  # one budget for both: one policy
    bad = CliRunner().invoke(
        evaluate, ["--data", str(out), "--backend", "oracle", "--max-new-tokens", "0"]
    )
    assert bad.exit_code == 2 and "max_new_tokens" in bad.output


def _copy(build_dir: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(build_dir, copy)
    return copy / "sokoban"


def _eval(data: Path):
    return CliRunner().invoke(
        evaluate, ["--data", str(data), "--backend", "oracle", "--no-progress"]
    )


def test_a_variant_the_build_lists_but_the_folder_lacks_is_an_error(build_dir, tmp_path):
    task_dir = _copy(build_dir, tmp_path)
    (task_dir / "data" / "eval" / "fake_emoji-00000-of-00001.parquet").unlink()
    for data in (task_dir, task_dir.parent):
        result = _eval(data)
        assert result.exit_code == 1 and "fake_emoji" in result.output, result.output
        assert "lists the eval variant(s) fake_emoji" in result.output
        assert "Traceback" not in result.output


def test_a_truncated_parquet_and_a_row_with_two_players_are_one_line_errors(build_dir, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    task_dir = _copy(build_dir, tmp_path)
    simple = task_dir / "data" / "eval" / "simple-00000-of-00001.parquet"
    good = simple.read_bytes()
    simple.write_bytes(good[: len(good) // 3])
    result = _eval(task_dir)
    assert result.exit_code == 1 and "not a readable parquet file" in result.output
    assert len([x for x in result.output.splitlines() if x.startswith("Error:")]) == 1

    simple.write_bytes(good)
    rows = pq.read_table(simple).to_pylist()
    grid = rows[1]["instance"]["grid"]
    floor = next(i for i, ch in enumerate(grid) if ch == " ")
    rows[1]["instance"]["grid"] = grid[:floor] + "@" + grid[floor + 1 :]  # a second player
    pq.write_table(pa.Table.from_pylist(rows), simple)
    result = _eval(task_dir)
    assert result.exit_code == 1, result.output
    assert f"eval/simple row 1 (id {rows[1]['id']})" in result.output
    assert "2 players" in result.output and "Traceback" not in result.output
