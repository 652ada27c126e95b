"""`datagen grpo` end to end on the tiny model: TRL's GRPOTrainer, our rewards, the RUN folder.

Generation on CPU is slow, so every run is a few steps of a few prompts with short completions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("trl")

from datagen.cli import main
from datagen.finetune import load_rows
from datagen.grpo.rewards import study_score
from datagen.rewards import correctness_reward, validity_reward

pytestmark = pytest.mark.slow
SMALL = [
    "--prompts-per-step", "4", "--num-generations", "4", "--per-device-batch", "16",
    "--max-completion-length", "24", "--limit", "8", "--vllm", "off",
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny() -> str:
    from datagen.tiny_model import tiny_model_path

    return str(tiny_model_path())


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datagen.build import BuildConfig, build

    out = tmp_path_factory.mktemp("grpo") / "build"
    build([BuildConfig(task="sokoban", diverse=True, train_size=32, eval_size=1, workers=1)], out)
    return out


@pytest.fixture(scope="module")
def sft(tiny: str, build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model after SFT on diverse answer-only rows: it writes <answer> tags often."""
    out = tmp_path_factory.mktemp("grpo") / "sft"
    args = ["finetune", "--model", tiny, "--data", str(build_dir), "--out", str(out)]
    args += ["--config", "diverse-answer-only", "--epochs", "20", "--global-batch", "8"]
    args += ["--lr", "1e-2", "--max-len", "512", "--no-progress"]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    return out


def _grpo(model: str, data: Path, out: Path, *extra: str):
    args = ["grpo", "--model", model, "--data", str(data), "--out", str(out), *SMALL, *extra]
    return CliRunner().invoke(main, args)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _recompute(rows: dict, logged: list[dict]) -> tuple[list[float], list[float]]:
    picked = [rows[e["id"]] for e in logged]
    columns = {k: [r[k] for r in picked] for k in ("task", "instance", "template", "solution")}
    texts = [e["text"] for e in logged]
    return correctness_reward(None, texts, **columns), validity_reward(None, texts, **columns)


def test_warm_grpo_logs_rewards_that_datagen_rewards_reproduce(
    sft: Path, build_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "rl"
    got = _grpo(str(sft), build_dir, run, "--max-steps", "2", "--valid-weight", "0.5")
    assert got.exit_code == 0, got.output
    summary = json.loads(got.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 2
    assert (run / "command.txt").read_text().startswith("datagen grpo --model")
    record = json.loads((run / "grpo.json").read_text())
    assert record["datagen"]["prompt_format"] == "chat"  # inherited from the SFT run
    assert record["reward_functions"] == ["correct", "valid"]
    assert record["reward_weights"] == [1.0, 0.5]
    assert record["trl"]["num_generations"] == 4 and record["trl"]["beta"] == 0.0
    steps = _lines(run / "train_log.jsonl")
    assert [s["step"] for s in steps] == [1, 2]
    logged = _lines(run / "completions.jsonl")
    assert len(logged) == 2 * 4 * 4
    rows = {r["id"]: r for r in load_rows(build_dir / "sokoban", "diverse-rl", "train")}
    any_valid = 0.0
    for step in steps:
        mine = [e for e in logged if e["step"] == step["step"]]
        correct, valid = _recompute(rows, mine)
        assert [e["rewards"] for e in mine] == [
            {"correct": c, "valid": v} for c, v in zip(correct, valid, strict=True)
        ]
        assert step["rewards/correct/mean"] == pytest.approx(sum(correct) / len(correct))
        assert step["rewards/valid/mean"] == pytest.approx(sum(valid) / len(valid))
        assert step["reward"] == pytest.approx((sum(correct) + 0.5 * sum(valid)) / len(mine))
        any_valid += sum(valid)
    assert any_valid > 0  # the SFT model answers in the vocabulary now and then: not all zeros

    # The final model is a Hugging Face folder that reloads and that `datagen eval` runs on.
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(run).num_parameters() > 0
    args = ["eval", "--model", str(run), "--data", str(build_dir), "--variants", "simple"]
    args += ["--limit", "1", "--max-turns", "2", "--max-new-tokens", "8", "--temperature", "0"]
    evaluated = CliRunner().invoke(main, [*args, "--json", "--no-progress"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["metrics"]["sokoban"]["simple"]["episodes"] == 1


def test_study_format_and_study_reward_score_prefill_plus_completion(
    tiny: str, build_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "rl"
    args = ("--max-steps", "1", "--prompt-format", "study", "--reward", "study")
    got = _grpo(tiny, build_dir, run, *args)
    assert got.exit_code == 0, got.output
    logged = _lines(run / "completions.jsonl")
    assert len(logged) == 16 and all(e["text"].startswith("<think>") for e in logged)
    rows = {r["id"]: r for r in load_rows(build_dir / "sokoban", "diverse-rl", "train")}
    assert [e["rewards"]["study"] for e in logged] == [
        study_score(rows[e["id"]], e["text"]) for e in logged
    ]
    (step,) = _lines(run / "train_log.jsonl")
    mean = sum(e["rewards"]["study"] for e in logged) / 16
    assert step["rewards/study/mean"] == pytest.approx(mean)


def test_bad_input_is_one_line_before_any_model_work(tiny: str, build_dir: Path, tmp_path: Path):
    got = _grpo(tiny, build_dir, tmp_path / "a", "--config", "diverse-answer-only")
    assert got.exit_code == 2 and "rl or diverse-rl" in got.output
    got = _grpo("/nonexistent/model", build_dir, tmp_path / "b", "--config", "rl")
    assert got.exit_code == 1 and "no rl/train split" in got.output  # data checked first
    assert not (tmp_path / "b").exists()
    # A model without a chat template under --prompt-format chat.
    bare = tmp_path / "bare"
    shutil.copytree(tiny, bare)
    (bare / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((bare / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(config))
    got = _grpo(str(bare), build_dir, tmp_path / "c")
    assert got.exit_code == 1 and "no chat template" in got.output
    assert len(got.output.strip().splitlines()) == 1 and "Traceback" not in got.output
    assert not (tmp_path / "c").exists()


def test_rows_without_ground_truth_are_refused(tiny: str, build_dir: Path, tmp_path: Path):
    import pyarrow.parquet as pq

    data = tmp_path / "sokoban"
    shutil.copytree(build_dir / "sokoban", data)
    for file in (data / "data" / "diverse-rl").glob("*.parquet"):
        pq.write_table(pq.read_table(file).drop_columns(["solution"]), file)
    got = _grpo(tiny, data, tmp_path / "run")
    assert (
        got.exit_code == 1 and "has no solution: GRPO needs prompts with ground truth" in got.output
    )
    assert not (tmp_path / "run").exists()
