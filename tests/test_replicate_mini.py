"""`make replicate-mini` end to end at CI size: real builds, real from-scratch models trained
one step with `datagen finetune`, evaluated with `datagen eval`, every output file written.

The numbers mean nothing at this size; the test checks the pipeline, the shape of results.json,
that a second invocation skips what is complete, and that other settings on the same OUT are
refused.
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import replicate_mini
from replicate_mini import Settings, run

from datagen.tiny_model import MINI_CONFIG, TinyModelConfig

TINY = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "vocab_size": 600,
}
SMOKE = dict(
    seeds=(1,),
    train_size=8,
    eval_size=2,
    points_limit=2,
    sokoban_limit=1,
    max_turns=2,
    epochs=1,
    global_batch=4,
    max_steps=1,
    points_max_new_tokens=8,
    sokoban_max_new_tokens=6,
    model=TINY,
    pretrain_steps=2,
)


def test_mini_config_is_in_the_issue_range():
    assert 4 <= MINI_CONFIG.num_hidden_layers <= 6
    assert 256 <= MINI_CONFIG.hidden_size <= 384
    assert MINI_CONFIG.head_dim == 32
    TinyModelConfig(**{**MINI_CONFIG.__dict__})  # valid


def test_extra_corpus_gives_eval_words_their_own_tokens():
    from datagen.tiny_model import build_tokenizer

    words = ["answer: Zorblax ⬆️ Quuxtor " * 20]
    plain, extended = build_tokenizer(600), build_tokenizer(600, words)
    assert len(plain.tokenize(" Zorblax")) > 1
    assert extended.tokenize(" Zorblax") == ["ĠZorblax"]
    assert len(extended.tokenize(" ⬆️")) == 1
    assert plain.tokenize(" Up") == extended.tokenize(" Up")  # the project's words stay


def test_pretraining_sequences_repeat_ordinary_tokens():
    import torch
    from replicate_mini_pretrain import PretrainConfig, sequences, token_pool

    from datagen.tiny_model import build_tokenizer

    tokenizer = build_tokenizer(600)
    pool = token_pool(tokenizer)
    assert tokenizer.convert_tokens_to_ids("<|im_start|>") not in pool
    assert tokenizer.convert_tokens_to_ids("<think>") not in pool
    assert len(pool) > 500
    cfg = PretrainConfig(batch=3, segment=5)
    ids = sequences(pool, cfg, torch.Generator().manual_seed(0))
    assert ids.shape == (3, 10)
    assert torch.equal(ids[:, :5], ids[:, 5:])
    assert set(ids.flatten().tolist()) <= set(pool)
    again = sequences(pool, cfg, torch.Generator().manual_seed(0))
    assert torch.equal(ids, again)  # the seed decides the sequences
    with pytest.raises(ValueError, match="positive"):
        PretrainConfig(steps=0)


def test_settings_are_validated():
    with pytest.raises(ValueError, match="seeds"):
        Settings(seeds=(1, 1))
    with pytest.raises(ValueError, match="train_size"):
        Settings(train_size=0)
    with pytest.raises(ValueError, match="pretrain_steps"):
        Settings(pretrain_steps=-1)


@pytest.mark.slow
def test_pipeline_end_to_end(tmp_path, monkeypatch):
    out = tmp_path / "mini"
    settings = Settings(out=str(out), **SMOKE)
    run(settings)

    for name in ("results.json", "results.md", "results.png", "seeds.png", "replication.json"):
        assert (out / name).stat().st_size > 0, name
    for task in ("points", "sokoban"):
        for config in ("answer-only", "diverse-answer-only"):
            name = f"{task}-{config}-seed1"
            assert (out / "runs" / name / "model.safetensors").exists()
            assert (out / "evals" / name / "episodes.jsonl").exists()
            assert (out / "curves" / f"{name}.png").exists()
    base = json.loads((out / "models" / "base-seed1" / "tiny_model.json").read_text())
    assert base["hidden_size"] == 64 and base["extra_corpus_texts"] > 0
    # Every fine-tuning starts from the seed's pre-trained base.
    pretrained = out / "models" / "pretrained-seed1"
    assert json.loads((pretrained / "pretrain.json").read_text())["config"]["steps"] == 2
    finetune = json.loads((out / "runs" / "points-answer-only-seed1" / "finetune.json").read_text())
    assert Path(finetune["model"]) == pretrained

    table = json.loads((out / "results.json").read_text())
    assert set(table) == {"points", "sokoban"}
    assert {"id", "fake", "all_5", "face_regular"} <= set(table["points"])
    assert {"simple", "two_boxes", "fake_cardinal", "numerical"} <= set(table["sokoban"])
    for variants in table.values():
        for cells in variants.values():
            assert set(cells) == {"answer-only", "diverse-answer-only"}
            for cell in cells.values():
                assert set(cell) == {"success", "validity", "seeds"}
                assert [x["seed"] for x in cell["seeds"]] == [1]
                assert cell["validity"] == cell["seeds"][0]["validity"]
                assert 0 <= cell["success"] <= 1 and 0 <= cell["validity"] <= 1
    # Each model is evaluated with the ending of its training prompts: the study's diverse
    # answer-only Sokoban rows keep the think instruction.
    endings = json.loads((out / "replication.json").read_text())["endings"]
    assert endings == {
        "points/answer-only": "answer-only",
        "points/diverse-answer-only": "answer-only",
        "sokoban/answer-only": "answer-only",
        "sokoban/diverse-answer-only": "think",
    }
    report = (out / "results.md").read_text()
    assert "sokoban/diverse-answer-only: think" in report
    assert "## sokoban" in report and "| two_boxes | difficulty |" in report
    assert "What appears" in report
    assert "pre-trained 2 steps" in report
    # No training row of either config shows the cardinal words; the answer-only rows show the
    # base words as targets, the diverse rows only in their prompts.
    coverage = json.loads((out / "coverage.json").read_text())
    assert coverage["cardinal"]["words"] == ["North", "South", "West", "East"]
    for config in ("answer-only", "diverse-answer-only"):
        assert coverage["cardinal"][config] == {"targets": 0, "prompts": 0}
    assert coverage["simple"]["answer-only"]["targets"] == 4
    assert coverage["simple"]["diverse-answer-only"] == {"targets": 0, "prompts": 4}
    assert "| cardinal | North South West East | 0/4 · 0/4 | 0/4 · 0/4 |" in report
    # Prompt lengths as the models read them: `simple` under the answer-only ending reads like the
    # answer-only training rows; under the think ending (the diverse models') it is longer.
    lengths = json.loads((out / "prompt_tokens.json").read_text())
    assert set(lengths) == {"points", "sokoban"}
    sokoban = lengths["sokoban"]
    simple = sokoban["eval"]["simple"]
    assert set(simple["answer-only"]) <= set(sokoban["train"]["answer-only"])
    assert min(simple["diverse-answer-only"]) > max(simple["answer-only"])
    assert "## Prompt length and the answer format" in report
    assert "| simple | " in report.split("### sokoban: training prompts")[1]

    # A second invocation finds everything complete: no CLI call at all.
    calls = []
    monkeypatch.setattr(replicate_mini, "cli", lambda *a, **k: calls.append(a) or 0.0)
    run(settings)
    assert calls == []
    # Other decisive settings on the same OUT are refused, with the reason.
    with pytest.raises(RuntimeError, match="other settings"):
        run(Settings(out=str(out), **{**SMOKE, "lr": 0.5}))
