"""The slim trainer on the tiny offline model: packing, masks, schedule, errors, training, resume."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from datagen.finetune import (  # noqa: E402
    FinetuneConfig,
    FinetuneError,
    collate,
    encode_row,
    load_rows,
    load_tokenizer,
    loss_sum,
    lr_multiplier,
    pack,
    resolve_task_dir,
    train,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    from datagen.tiny_model import tiny_model_path

    return str(tiny_model_path())


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datagen.build import BuildConfig, build

    out = tmp_path_factory.mktemp("ft") / "build"
    configs = [BuildConfig(task="sokoban", train_size=24, eval_size=1, workers=1)]
    build(configs, out)
    return out


def _config(tiny: str, build_dir: Path, out: Path, **kw) -> FinetuneConfig:
    base = dict(
        model=tiny,
        data=str(build_dir),
        out=str(out),
        epochs=2,
        global_batch=8,
        lr=3e-3,
        max_len=512,
        progress=False,
    )
    return FinetuneConfig(**{**base, **kw})


def test_pack_best_fit_keeps_every_row_and_respects_capacity():
    lengths = [5, 9, 3, 7, 2, 8, 1, 4]
    bins = pack(lengths, 10)
    assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 10 for b in bins)
    assert len(bins) == math.ceil(sum(lengths) / 10)  # best-fit reaches the bound here
    assert bins == [[1, 6], [5, 4], [3, 2], [0, 7]]  # longest first, each into the fullest bin
    assert bins == pack(lengths, 10)  # deterministic


def test_collate_restarts_positions_and_never_predicts_across_rows():
    rows = [([5, 6, 7], [0, 1, 1]), ([8, 9], [0, 1])]
    batch = collate(rows)
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
    assert batch["targets"].tolist() == [[6, 7, -100, 9, -100]]
    assert batch["cu_seq_lens"].tolist() == [0, 3, 5] and batch["max_length"] == 3


def test_lr_schedule_warms_up_then_decays_to_the_floor():
    total = 100
    values = [lr_multiplier(s, total, 0.1) for s in range(total)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(values[9:]))
    assert values[-1] < 0.01
    assert lr_multiplier(total - 1, total, 0.1, min_ratio=0.1) >= 0.1


def test_config_validation():
    with pytest.raises(ValueError, match="warmup"):
        FinetuneConfig(model="m", data="d", out="o", warmup=1.5)
    with pytest.raises(ValueError, match="dtype"):
        FinetuneConfig(model="m", data="d", out="o", dtype="fp16")


def test_encode_row_masks_exactly_the_completion(tiny, build_dir):
    tokenizer = load_tokenizer(tiny)
    row = load_rows(resolve_task_dir(build_dir), "answer-only")[0]
    ids, mask = encode_row(tokenizer, row, 4096)
    prompt = tokenizer.apply_chat_template(
        row["prompt"], tokenize=False, add_generation_prompt=True
    )
    assert tokenizer.decode(ids[: mask.index(1)]) == prompt
    completion = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])
    assert row["completion"][0]["content"] in completion
    assert completion.endswith("<|im_end|>\n")  # the model learns to stop
    assert mask == sorted(mask)  # prompt zeros, then completion ones


def test_chat_template_kwargs_move_the_empty_think_block_into_the_prompt(tiny, build_dir):
    tokenizer = load_tokenizer(tiny)
    row = load_rows(resolve_task_dir(build_dir), "answer-only")[0]
    ids, mask = encode_row(tokenizer, row, 4096, {"enable_thinking": False})
    prompt = tokenizer.decode(ids[: mask.index(1)])
    completion = tokenizer.decode(ids[mask.index(1) :])
    assert prompt.endswith("<think>\n\n</think>\n\n") and "<think>" not in completion
    default_ids, default_mask = encode_row(tokenizer, row, 4096)
    assert default_ids == ids and sum(default_mask) > sum(mask)  # same text, more to learn


def test_bad_input_is_reported_before_training(tiny, build_dir, tmp_path):
    tokenizer = load_tokenizer(tiny)
    row = load_rows(resolve_task_dir(build_dir), "answer-only")[0]
    with pytest.raises(FinetuneError, match="longer than max_len=16"):
        encode_row(tokenizer, row, 16)
    with pytest.raises(FinetuneError, match="no completion"):
        train(_config(tiny, build_dir, tmp_path / "rl", config="rl"))
    with pytest.raises(FinetuneError, match="max_len=64"):
        train(_config(tiny, build_dir, tmp_path / "long", max_len=64))
    with pytest.raises(FinetuneError, match="no cot/train split"):
        train(_config(tiny, build_dir, tmp_path / "cot", config="cot"))
    assert not (tmp_path / "rl").exists() and not (tmp_path / "long").exists()
    broken = tmp_path / "broken"
    shutil.copytree(resolve_task_dir(build_dir), broken)
    data = broken / "data" / "answer-only" / "train-00000-of-00001.parquet"
    data.write_bytes(data.read_bytes()[:100])  # truncated: one line, not a pyarrow traceback
    with pytest.raises(FinetuneError, match="not a readable parquet file"):
        load_rows(broken, "answer-only")

    plain = tmp_path / "plain"
    shutil.copytree(tiny, plain)
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((plain / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (plain / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(FinetuneError, match="no chat template"):
        train(_config(str(plain), build_dir, tmp_path / "plain-out"))


def test_prompt_must_be_a_prefix_of_the_conversation(tiny):
    tokenizer = load_tokenizer(tiny)
    # A template that renders the user turn differently once an answer follows it.
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m.role }}{% if messages|length > 1 %}!{% endif %}: "
        "{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
    )
    row = {
        "id": "x",
        "prompt": [{"role": "user", "content": "hi"}],
        "completion": [{"role": "assistant", "content": "yo"}],
    }
    with pytest.raises(FinetuneError, match="not a prefix"):
        encode_row(tokenizer, row, 512)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_loss_equals_rows_one_by_one(tiny, build_dir, attn):
    """The proof that packed rows do not attend to each other."""
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(tiny)
    rows = load_rows(resolve_task_dir(build_dir), "answer-only")[:4]
    encoded = [encode_row(tokenizer, row, 4096) for row in rows]
    model = AutoModelForCausalLM.from_pretrained(tiny, attn_implementation=attn)
    with torch.no_grad():
        packed, n_packed = loss_sum(model, collate(encoded))
        single = [loss_sum(model, collate([e])) for e in encoded]
        # Control: the same tokens with positions running on (one long document) differ.
        leaky = collate(encoded)
        leaky["position_ids"] = torch.arange(leaky["input_ids"].shape[1])[None]
        leaked, _ = loss_sum(model, leaky)
    assert n_packed == sum(n for _, n in single) == sum(sum(m[1:]) for _, m in encoded)
    expected = sum(loss for loss, _ in single)
    assert packed.item() == pytest.approx(expected.item(), rel=1e-6)
    # A random tiny model attends almost uniformly, so a leak moves the loss a little, but two
    # orders of magnitude more than the tolerance above.
    assert abs(leaked.item() - expected.item()) > 1e-5 * abs(expected.item())


@pytest.mark.slow
def test_training_lowers_the_loss_and_checkpoints_reload(tiny, build_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    out = tmp_path / "run"
    summary = train(_config(tiny, build_dir, out, epochs=3))
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    rows = summary["rows"]
    assert summary["steps"] == len(log) == 3 * math.ceil(rows / 8)
    assert log[-1]["loss"] < 0.8 * log[0]["loss"]
    assert {"loss", "lr", "grad_norm", "tokens_per_s", "tokens", "loss_tokens"} <= set(log[0])
    assert max(e["lr"] for e in log) == pytest.approx(3e-3)
    assert sorted(p.name for p in out.glob("checkpoint-epoch-*")) == [
        "checkpoint-epoch-1",
        "checkpoint-epoch-2",
        "checkpoint-epoch-3",
    ]
    final = AutoModelForCausalLM.from_pretrained(out)
    last = AutoModelForCausalLM.from_pretrained(out / "checkpoint-epoch-3")
    base = AutoModelForCausalLM.from_pretrained(tiny)
    for (name, p), q in zip(final.named_parameters(), last.parameters(), strict=True):
        assert torch.equal(p, q), name
    changed = [
        not torch.equal(p, b) for p, b in zip(final.parameters(), base.parameters(), strict=True)
    ]
    assert any(changed)
    assert json.loads((out / "finetune.json").read_text())["fingerprint"]


@pytest.mark.slow
def test_resume_continues_exactly(tiny, build_dir, tmp_path):
    from safetensors.torch import load_file

    straight = tmp_path / "straight"
    train(_config(tiny, build_dir, straight))
    broken = tmp_path / "broken"
    first = train(_config(tiny, build_dir, broken, max_steps=3))  # stops after epoch 1
    assert first["steps"] == 3 and (broken / "checkpoint-epoch-1").is_dir()
    resumed = train(_config(tiny, build_dir, broken, resume=True))
    assert resumed["steps"] == 6
    a = load_file(straight / "model.safetensors")
    b = load_file(broken / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key
    with pytest.raises(FinetuneError, match="cannot resume"):
        train(_config(tiny, build_dir, broken, resume=True, lr=1e-3))
    # A fresh run into a run's folder would replace its checkpoints: refused, nothing touched.
    before = sorted(p.name for p in broken.iterdir())
    with pytest.raises(FinetuneError, match="holds a finetune run: pass --resume"):
        train(_config(tiny, build_dir, broken))
    assert sorted(p.name for p in broken.iterdir()) == before


@pytest.mark.slow
def test_bf16_autocast_and_gradient_checkpointing_run_on_cpu(tiny, build_dir, tmp_path):
    plain = train(_config(tiny, build_dir, tmp_path / "a", max_steps=1, save=False))
    bf16 = train(_config(tiny, build_dir, tmp_path / "b", max_steps=1, save=False, dtype="bf16"))
    ckpt = train(
        _config(
            tiny, build_dir, tmp_path / "c", max_steps=1, save=False, gradient_checkpointing=True
        )
    )
    assert math.isfinite(bf16["final_loss"])
    assert bf16["final_loss"] == pytest.approx(plain["final_loss"], rel=0.05)  # bf16 rounding
    assert ckpt["final_loss"] == pytest.approx(plain["final_loss"], rel=1e-5)
    assert not (tmp_path / "a").exists()


@pytest.mark.slow
def test_cli_finetune(tiny, build_dir, tmp_path):
    from click.testing import CliRunner

    from datagen.cli.finetune import finetune

    out = tmp_path / "cli"
    args = [
        "--model",
        tiny,
        "--data",
        str(build_dir),
        "--out",
        str(out),
        "--epochs",
        "1",
        "--global-batch",
        "16",
        "--max-len",
        "512",
        "--no-progress",
    ]
    result = CliRunner().invoke(finetune, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["steps"] == 2
    bad = CliRunner().invoke(finetune, [*args[:-1], "--config", "rl"])
    assert bad.exit_code == 1 and "no completion" in bad.output and "Traceback" not in bad.output
    usage = CliRunner().invoke(finetune, [*args, "--warmup", "2"])
    assert usage.exit_code == 2
    not_json = CliRunner().invoke(finetune, [*args, "--chat-template-kwargs", "{nope"])
    assert not_json.exit_code == 2 and "not JSON" in not_json.output


def test_data_that_is_neither_a_folder_nor_a_cached_hub_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(FinetuneError) as info:
        resolve_task_dir("nobody/no-such-dataset")
    assert "\n" not in str(info.value) and "no-such-dataset" in str(info.value)
    with pytest.raises(FinetuneError, match="not a build folder"):
        resolve_task_dir(tmp_path)
