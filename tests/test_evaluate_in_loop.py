"""In-loop evaluation and `eval --checkpoints`: the study's Figure 2 on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")

from datagen.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 2-epoch answer-only run with an evaluation every 2 steps."""
    from datagen.build import BuildConfig, build
    from datagen.tiny_model import tiny_model_path

    root = tmp_path_factory.mktemp("inloop")
    build([BuildConfig(task="sokoban", train_size=16, eval_size=2, workers=1)], root / "b")
    args = ["finetune", "--model", str(tiny_model_path()), "--data", str(root / "b")]
    args += ["--out", str(root / "run"), "--epochs", "2", "--global-batch", "4", "--lr", "3e-3"]
    args += ["--max-len", "512", "--no-progress", "--eval-every", "2"]
    args += ["--eval-variants", "simple,numerical", "--eval-limit", "2"]
    args += ["--eval-max-new-tokens", "8"]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    return root / "b", root / "run"


def test_train_log_carries_success_and_validity_every_k_steps(run) -> None:
    _, out = run
    entries = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    evaluated = [e["step"] for e in entries if "eval/sokoban/simple/validity" in e]
    assert evaluated == [s for s in range(1, len(entries) + 1) if s % 2 == 0]
    for entry in entries:
        for key in ("eval/sokoban/simple/success", "eval/sokoban/numerical/validity"):
            if entry["step"] in evaluated:
                assert 0.0 <= entry[key] <= 1.0
    got = CliRunner().invoke(main, ["plot", str(out)])
    assert got.exit_code == 0 and (out / "curves.png").is_file()


def test_the_evaluation_leaves_the_model_training_as_it_would_without(run, tmp_path) -> None:
    """Greedy rollouts under no_grad change no weight and no random draw of the loop."""
    from datagen.tiny_model import tiny_model_path

    build_dir, out = run
    args = ["finetune", "--model", str(tiny_model_path()), "--data", str(build_dir)]
    args += ["--out", str(tmp_path / "plain"), "--epochs", "2", "--global-batch", "4"]
    args += ["--lr", "3e-3", "--max-len", "512", "--no-progress"]
    assert CliRunner().invoke(main, args).exit_code == 0
    plain = [json.loads(x)["loss"] for x in (tmp_path / "plain/train_log.jsonl").open()]
    looped = [json.loads(x)["loss"] for x in (out / "train_log.jsonl").open()]
    assert plain == pytest.approx(looped, abs=1e-6)


def test_eval_checkpoints_measures_every_epoch(run) -> None:
    build_dir, out = run
    args = ["eval", "--model", str(out), "--checkpoints", "--data", str(build_dir)]
    args += ["--variants", "simple", "--limit", "2", "--max-new-tokens", "8", "--no-progress"]
    got = CliRunner().invoke(main, [*args, "--ending", "answer-only", "--temperature", "0"])
    assert got.exit_code == 0, got.output
    lines = (out / "checkpoint-eval" / "checkpoint_eval.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["checkpoint"] for e in entries] == ["checkpoint-epoch-1", "checkpoint-epoch-2"]
    assert [e["step"] for e in entries] == [4, 8]
    assert (out / "checkpoint-eval" / "checkpoint-epoch-1" / "results.json").is_file()
    assert (out / "checkpoint-eval" / "curves.png").is_file()


def test_bad_eval_variant_fails_before_training(tmp_path: Path, run) -> None:
    from datagen.tiny_model import tiny_model_path

    build_dir, _ = run
    args = ["finetune", "--model", str(tiny_model_path()), "--data", str(build_dir)]
    args += ["--out", str(tmp_path / "x"), "--eval-every", "1", "--eval-variants", "nope"]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 1
    assert "--eval-every" in got.output and "nope" in got.output
    assert not (tmp_path / "x" / "train_log.jsonl").exists()
