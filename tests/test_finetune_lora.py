"""LoRA on the tiny model: targets checked, loss falls, the merged folder loads and evaluates, the
adapter alone gives the same model, and two torchrun ranks give one process's losses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import QUICK_EVAL

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from datagen.finetune import FinetuneConfig, FinetuneError, train  # noqa: E402
from datagen.finetune_lora import linear_names, lora_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny() -> str:
    from datagen.tiny_model import tiny_model_path

    return str(tiny_model_path())


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datagen.build import BuildConfig, build

    out = tmp_path_factory.mktemp("lora") / "build"
    build([BuildConfig(task="sokoban", train_size=24, eval_size=1, workers=1)], out)
    return out


def _config(tiny: str, build_dir: Path, out: Path, **kw) -> FinetuneConfig:
    base = dict(
        model=tiny,
        data=str(build_dir),
        out=str(out),
        epochs=3,
        global_batch=8,
        lr=1e-2,
        max_len=512,
        progress=False,
        lora=8,
    )
    return FinetuneConfig(**{**base, **kw})


def test_targets_are_checked_against_the_model(tiny):
    from transformers import AutoModelForCausalLM

    net = AutoModelForCausalLM.from_pretrained(tiny)
    assert {"q_proj", "v_proj", "down_proj", "lm_head"} <= linear_names(net)
    config = lora_config(net, 4, None, ("q_proj", "v_proj"))
    assert (
        config.r == 4
        and config.lora_alpha == 8
        and set(config.target_modules)
        == {
            "q_proj",
            "v_proj",
        }
    )
    assert lora_config(net, 4, 1.0, None).target_modules == "all-linear"
    with pytest.raises(FinetuneError, match="no linear layer named qkv, nope"):
        lora_config(net, 4, None, ("q_proj", "qkv", "nope"))


def test_lora_options_are_validated():
    with pytest.raises(ValueError, match="save_adapter needs lora"):
        FinetuneConfig(model="m", data="d", out="o", save_adapter=True)
    with pytest.raises(ValueError, match="lora_alpha and lora_targets need lora"):
        FinetuneConfig(model="m", data="d", out="o", lora_targets=("q_proj",))
    with pytest.raises(ValueError, match="rank"):
        FinetuneConfig(model="m", data="d", out="o", lora=0)


@pytest.mark.slow
def test_cli_unknown_target_is_one_line_before_any_step(tiny, build_dir, tmp_path):
    from click.testing import CliRunner

    from datagen.cli.finetune import finetune

    out = tmp_path / "bad"
    args = ["--model", tiny, "--data", str(build_dir), "--out", str(out), "--no-progress"]
    result = CliRunner().invoke(finetune, [*args, "--lora", "4", "--lora-targets", "q_proj,qkv"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith(
            "Error: --lora-targets: no linear layer named qkv in this model (it has: down_proj,"
        )
    )
    assert not (out / "train_log.jsonl").exists()
    usage = CliRunner().invoke(finetune, [*args, "--save-adapter"])
    assert usage.exit_code == 2 and "save_adapter needs lora" in usage.output


@pytest.mark.slow
def test_lora_trains_merges_and_evaluates(tiny, build_dir, tmp_path):
    from click.testing import CliRunner
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from datagen.cli.evaluate import evaluate

    out = tmp_path / "merged"
    summary = train(_config(tiny, build_dir, out))
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert summary["steps"] == len(log) == 9
    assert log[-1]["loss"] < 0.9 * log[0]["loss"]
    assert json.loads((out / "finetune.json").read_text())["parallelism"]["lora"] == {
        "r": 8,
        "alpha": 16,
    }

    merged = load_file(out / "model.safetensors")
    base = load_file(Path(tiny) / "model.safetensors")
    assert merged.keys() == base.keys()  # a plain HF folder: no adapter keys left
    assert not (out / "adapter_config.json").exists()
    moved = [k for k in base if not torch.equal(merged[k], base[k])]
    assert moved and all(k.endswith("proj.weight") for k in moved)  # only the adapted layers
    assert torch.equal(merged["model.embed_tokens.weight"], base["model.embed_tokens.weight"])
    assert AutoModelForCausalLM.from_pretrained(out / "checkpoint-epoch-3") is not None

    result = CliRunner().invoke(
        evaluate,
        [
            "--model",
            str(out),
            "--data",
            str(build_dir),
            "--backend",
            "transformers",
            "--variants",
            "simple",
            *QUICK_EVAL,
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["metrics"]["sokoban"]["simple"]["episodes"] == 1

    # The adapter alone, on top of the base model, is the same model as the merged folder.
    adapter = tmp_path / "adapter"
    train(_config(tiny, build_dir, adapter, save_adapter=True))
    assert (adapter / "adapter_config.json").is_file()
    assert not (adapter / "model.safetensors").exists()
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad():
        a = AutoModelForCausalLM.from_pretrained(out)(ids).logits
        b = AutoModelForCausalLM.from_pretrained(adapter)(ids).logits
    assert torch.allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_lora_under_torchrun_matches_one_process(tiny, build_dir, tmp_path):
    from safetensors.torch import load_file

    single = tmp_path / "single"
    train(_config(tiny, build_dir, single, epochs=1))
    two = tmp_path / "two"
    args = ["finetune", "--model", tiny, "--data", str(build_dir), "--out", str(two)]
    args += ["--epochs", "1", "--global-batch", "8", "--lr", "1e-2", "--max-len", "512"]
    args += ["--lora", "8", "--no-progress"]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    done = subprocess.run(
        [*launcher, "--nproc-per-node", "2", "-m", "datagen.cli", *args],
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    read = lambda out: [  # noqa: E731
        json.loads(line)["loss"] for line in (out / "train_log.jsonl").read_text().splitlines()
    ]
    assert read(two) == pytest.approx(read(single), abs=1e-5)
    a, b = load_file(single / "model.safetensors"), load_file(two / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key
