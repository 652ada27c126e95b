"""Tests of datagen.tiny_model: the offline tiny Qwen3 model every model-using test relies on."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from datagen.tiny_model import (
    IM_END,
    TinyModelConfig,
    build_tiny_model,
    tiny_model_path,
)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m", seed=0)


def test_same_seed_same_bytes_other_seed_other_weights(model_dir, tmp_path):
    again = build_tiny_model(tmp_path / "again", seed=0)
    assert _digest(again) == _digest(model_dir)
    other = build_tiny_model(tmp_path / "other", seed=1)
    assert _digest(other)["model.safetensors"] != _digest(model_dir)["model.safetensors"]
    assert _digest(other)["tokenizer.json"] == _digest(model_dir)["tokenizer.json"]


def test_loads_as_qwen3_with_vllm_friendly_shapes(model_dir):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(model_dir)
    assert config.model_type == "qwen3"
    assert config.head_dim == 32
    assert config.tie_word_embeddings
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    assert type(model).__name__ == "Qwen3ForCausalLM"
    assert config.vocab_size == len(tok)
    assert tok.eos_token == IM_END and tok.pad_token == "<|endoftext|>"
    assert model.generation_config.eos_token_id[0] == tok.eos_token_id
    assert model.generation_config.temperature == 0.6
    assert model.generation_config.top_k == 20


def test_tokenizer_round_trips_prompts_and_keeps_think_tokens(model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    text = " # \t P \t √ \t S \t\nCards: ['2', '7', 'Q', '2'] ⬆️ 8/(3-8/3)"
    assert tok.decode(tok(text)["input_ids"]) == text
    ids = tok("<think>\nplan\n</think>\n\n<answer> Up </answer>")["input_ids"]
    assert tok.convert_tokens_to_ids("<think>") in ids
    # Qwen3 keeps <think> when special tokens are skipped; the chat specials go.
    assert tok.decode(ids, skip_special_tokens=True).startswith("<think>")
    assert tok.decode(tok("<|im_end|>")["input_ids"], skip_special_tokens=True) == ""


def test_chat_template_is_qwen3_style(model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    user = [{"role": "user", "content": "hi"}]
    prompt = tok.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    assert prompt == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    no_think = tok.apply_chat_template(
        user, tokenize=False, add_generation_prompt=True, enable_thinking=False
    )
    assert no_think.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    turn = [*user, {"role": "assistant", "content": "<think>\nx\n</think>\n\nUp"}]
    full = tok.apply_chat_template(turn, tokenize=False)
    assert full.endswith("<|im_start|>assistant\n<think>\nx\n</think>\n\nUp<|im_end|>\n")
    # Thinking of turns before the last user message is dropped, as in Qwen3.
    history = [*turn, {"role": "user", "content": "again"}]
    assert "<think>" not in tok.apply_chat_template(history, tokenize=False)


def test_generates_deterministically_with_a_seed(model_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )["input_ids"]
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        outs.append(model.generate(ids, max_new_tokens=8, do_sample=True)[0].tolist())
    assert outs[0] == outs[1] and len(outs[0]) > ids.shape[1]


def test_config_validation():
    with pytest.raises(ValueError, match="head_dim"):
        TinyModelConfig(head_dim=48)
    with pytest.raises(ValueError, match="multiple"):
        TinyModelConfig(num_attention_heads=3, num_key_value_heads=2)
    with pytest.raises(ValueError, match="vocab_size"):
        TinyModelConfig(vocab_size=100)


def test_cached_path_is_reused(tmp_path):
    first = tiny_model_path(seed=0, cache_root=tmp_path)
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert tiny_model_path(seed=0, cache_root=tmp_path) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build-")]


def test_cli_writes_a_model(tmp_path):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "datagen.tiny_model", str(tmp_path / "cli")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == str(tmp_path / "cli")
    assert json.loads((tmp_path / "cli" / "tiny_model.json").read_text())["head_dim"] == 32
