"""`datagen grpo` end to end on the tiny model: TRL's GRPOTrainer, our rewards, the RUN folder.

Generation on CPU is slow, so every run is a few steps of a few prompts with short completions.
"""

from __future__ import annotations

import itertools
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
    """An SFT run of `datagen finetune` under the study's prompt format (one short epoch)."""
    out = tmp_path_factory.mktemp("grpo") / "sft"
    args = ["finetune", "--model", tiny, "--data", str(build_dir), "--out", str(out)]
    args += ["--config", "diverse-answer-only", "--epochs", "1", "--global-batch", "16"]
    args += ["--max-len", "512", "--prompt-format", "study", "--no-progress"]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    return out


def answer_bias(model: str, rows: list[dict], head: str) -> str:
    """`--generation-kwargs` that steer sampling towards `head + <word> </answer>` for the words
    of these rows (transformers' sequence_bias: each token of such a text boosted after the one
    before it). The tiny model is random; this way it answers, right, wrong or invalid, so that
    the logged rewards are not all zeros."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    bias: dict[tuple[int, ...], float] = {}
    for row in rows:
        for word in row["template"]["scored_vocabulary"]:
            ids = tokenizer(f"{head}{word} </answer>", add_special_tokens=False)["input_ids"]
            ids = [*ids, end]
            bias[(ids[0],)] = 8.0
            bias.update({pair: 30.0 for pair in itertools.pairwise(ids)})
    return json.dumps({"sequence_bias": [[list(k), v] for k, v in bias.items()]})


def _grpo(model: str, data: Path, out: Path, *extra: str):
    args = ["grpo", "--model", model, "--data", str(data), "--out", str(out), *SMALL, *extra]
    return CliRunner().invoke(main, args)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _rows(build_dir: Path) -> list[dict]:
    return load_rows(build_dir / "sokoban", "diverse-rl", "train")


def _recompute(rows: dict, logged: list[dict]) -> tuple[list[float], list[float]]:
    picked = [rows[e["id"]] for e in logged]
    columns = {k: [r[k] for r in picked] for k in ("task", "instance", "template", "solution")}
    texts = [e["text"] for e in logged]
    return correctness_reward(None, texts, **columns), validity_reward(None, texts, **columns)


def test_warm_grpo_logs_rewards_that_datagen_rewards_reproduce(
    sft: Path, build_dir: Path, tmp_path: Path
) -> None:
    """RL (warm) from an SFT run: its study prompt format inherited, the <think> prefill scored."""
    run = tmp_path / "rl"
    bias = answer_bias(str(sft), _rows(build_dir)[:8], " x </think> <answer> ")
    args = ("--max-steps", "2", "--valid-weight", "0.5", "--generation-kwargs", bias)
    got = _grpo(str(sft), build_dir, run, *args)
    assert got.exit_code == 0, got.output
    summary = json.loads(got.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 2
    command = (run / "command.txt").read_text()
    assert command.startswith(f"datagen grpo --model {sft} --data {build_dir} --out {run} ")
    assert " --valid-weight 0.5 " in command and " --generation-kwargs '{" in command
    record = json.loads((run / "grpo.json").read_text())
    assert record["datagen"]["prompt_format"] == "study"  # inherited from the SFT run
    assert record["reward_functions"] == ["correct", "valid"]
    assert record["reward_weights"] == [1.0, 0.5]
    assert record["trl"]["num_generations"] == 4 and record["trl"]["beta"] == 0.0
    steps = _lines(run / "train_log.jsonl")
    assert [s["step"] for s in steps] == [1, 2]
    logged = _lines(run / "completions.jsonl")
    assert len(logged) == 2 * 4 * 4 and all(e["text"].startswith("<think>") for e in logged)
    rows = {r["id"]: r for r in _rows(build_dir)}
    totals = [0.0, 0.0]
    for step in steps:
        mine = [e for e in logged if e["step"] == step["step"]]
        correct, valid = _recompute(rows, mine)
        assert [e["rewards"] for e in mine] == [
            {"correct": c, "valid": v} for c, v in zip(correct, valid, strict=True)
        ]
        assert step["rewards/correct/mean"] == pytest.approx(sum(correct) / len(correct))
        assert step["rewards/valid/mean"] == pytest.approx(sum(valid) / len(valid))
        assert step["reward"] == pytest.approx((sum(correct) + 0.5 * sum(valid)) / len(mine))
        totals = [totals[0] + sum(correct), totals[1] + sum(valid)]
    assert 0 < totals[1] < len(logged) and totals[0] <= totals[1]  # not all zeros, not all ones

    # The final model is a Hugging Face folder that reloads and that `datagen eval` runs on.
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(run).num_parameters() > 0
    args = ["eval", "--model", str(run), "--data", str(build_dir), "--variants", "simple"]
    args += ["--limit", "1", "--max-turns", "2", "--max-new-tokens", "8", "--temperature", "0"]
    evaluated = CliRunner().invoke(main, [*args, "--json", "--no-progress"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["metrics"]["sokoban"]["simple"]["episodes"] == 1


def test_chat_format_and_study_reward_on_the_base_model(
    tiny: str, build_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "rl"
    bias = answer_bias(tiny, _rows(build_dir)[:8], "<think> x </think> <answer> ")
    args = ("--max-steps", "1", "--reward", "study", "--generation-kwargs", bias)
    got = _grpo(tiny, build_dir, run, *args)
    assert got.exit_code == 0, got.output
    assert json.loads((run / "grpo.json").read_text())["datagen"]["prompt_format"] == "chat"
    logged = _lines(run / "completions.jsonl")
    assert len(logged) == 16
    rows = {r["id"]: r for r in _rows(build_dir)}
    rewards = [e["rewards"]["study"] for e in logged]
    assert rewards == [study_score(rows[e["id"]], e["text"]) for e in logged]
    (step,) = _lines(run / "train_log.jsonl")
    assert step["rewards/study/mean"] == pytest.approx(sum(rewards) / 16)


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
