"""GRPO settings: the study's defaults, their mapping onto TRL's arguments, validation."""

from __future__ import annotations

import pytest

from datagen.grpo.config import GrpoConfig


def _cfg(**kw) -> GrpoConfig:
    return GrpoConfig(**{"model": "m", "data": "d", "out": "o", **kw})


def test_study_defaults_map_onto_trl() -> None:
    args = _cfg().trl_kwargs("sokoban", world_size=1, vllm_mode=None, bf16=False)
    assert args["num_generations"] == 8 and args["learning_rate"] == 1e-6
    assert args["beta"] == 0.0 and args["epsilon"] == 0.2 and args["temperature"] == 1.0
    assert args["lr_scheduler_type"] == "constant" and args["weight_decay"] == 0.01
    assert args["max_completion_length"] == 1024 and args["loss_type"] == "dapo"
    # 256 prompts x 8 completions = 2048 completions, micro-batches of 8: one step per rollout.
    assert args["per_device_train_batch_size"] * args["gradient_accumulation_steps"] == 2048
    assert args["use_vllm"] is False and "vllm_mode" not in args
    assert args["remove_unused_columns"] is False and args["logging_steps"] == 1
    points = _cfg().trl_kwargs("points", 1, None, False)
    assert points["max_completion_length"] == 4096
    assert (
        _cfg(max_completion_length=16).trl_kwargs("points", 1, None, False)["max_completion_length"]
        == 16
    )


def test_processes_share_the_batch_and_vllm_options_pass_through() -> None:
    cfg = _cfg(vllm="server", vllm_server_url="http://h:8000", generation_kwargs={"min_p": 0.1})
    args = cfg.trl_kwargs("sokoban", world_size=4, vllm_mode="server", bf16=True)
    assert args["gradient_accumulation_steps"] == 2048 // (8 * 4)
    assert args["vllm_mode"] == "server" and args["vllm_server_base_url"] == "http://h:8000"
    assert args["generation_kwargs"] == {"min_p": 0.1} and args["bf16"] is True


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"config": "answer-only"}, "rl or diverse-rl"),
        ({"num_generations": 1}, "num_generations must be >= 2"),
        ({"reward": "mine"}, "reward: one of ours, study"),
        ({"correct_weight": 0.0, "valid_weight": 0.0}, "at least one reward weight"),
        ({"vllm": "server"}, "vllm server needs its URL"),
        ({"top_p": 0.0}, "top_p in (0, 1]"),
    ],
)
def test_bad_settings_are_refused(kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _cfg(**kw)


def test_a_batch_that_does_not_split_into_micro_batches_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a multiple of per_device_batch"):
        _cfg(prompts_per_step=3, num_generations=2, per_device_batch=4).accumulation(1)


def test_a_warm_start_inherits_the_sft_runs_prompt_format_unless_given(tmp_path) -> None:
    import json

    from datagen.grpo.trainer import resolve

    record = {"prompt_format": "study", "chat_template_kwargs": {"enable_thinking": False}}
    (tmp_path / "finetune.json").write_text(json.dumps(record))
    cfg = _cfg(model=str(tmp_path))
    inherited = resolve(cfg, given=set())
    assert inherited.prompt_format == "study"
    assert inherited.chat_template_kwargs == {"enable_thinking": False}
    assert resolve(cfg, given={"prompt_format"}).prompt_format == "chat"
    assert resolve(_cfg(model=str(tmp_path / "base")), set()).prompt_format == "chat"
