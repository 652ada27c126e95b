"""TRL's GRPOTrainer wired to our data, prompts and rewards, with the RUN folder's records.

    summary = run(GrpoConfig(model=..., data=..., out="runs/rl"), argv=sys.argv)

RUN holds `command.txt` (the command line), `grpo.json` (the resolved settings and TRL's
arguments), `train_log.jsonl` (one line per optimizer step: TRL's logged metrics, the mean of
each reward function as `rewards/<name>/mean`, and step seconds), `completions.jsonl` (every
scored completion: step, row id, prefill + completion, each function's reward; main process
only) and the final model as a Hugging Face folder. Everything that can be wrong with the input is
found before the model is loaded.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from datagen.grpo.config import GrpoConfig
from datagen.grpo.data import GrpoError, load_prompt_rows, render_dataset, task_of
from datagen.grpo.rewards import Recorder, reward_functions
from datagen.prompts import PromptFormatError, check_tokenizer


def sft_settings(model: str) -> dict:
    """The prompt settings of a `datagen finetune` run (its finetune.json), else {}."""
    record = Path(model) / "finetune.json"
    if not record.is_file():
        return {}
    try:
        saved = json.loads(record.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    keys = ("prompt_format", "chat_template_kwargs")
    return {k: saved[k] for k in keys if k in saved}


def resolve(cfg: GrpoConfig, given: set[str]) -> GrpoConfig:
    """RL (warm): an SFT run's prompt format and template variables, unless given explicitly."""
    inherited = {k: v for k, v in sft_settings(cfg.model).items() if k not in given}
    return replace(cfg, **inherited) if inherited else cfg


def load_tokenizer(model: str, fmt: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as error:
        raise GrpoError(
            f"{model}: cannot load its tokenizer ({str(error).splitlines()[0]})"
        ) from None
    try:
        check_tokenizer(tokenizer, fmt)
    except PromptFormatError as error:
        raise GrpoError(f"{model}: {error}") from None
    return tokenizer


def vllm_mode(cfg: GrpoConfig) -> str | None:
    """TRL's vllm_mode, or None to generate with transformers."""
    import importlib.util

    import torch

    if cfg.vllm == "off":
        return None
    if cfg.vllm == "auto":
        ok = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
        return "colocate" if ok else None
    if importlib.util.find_spec("vllm") is None:
        raise GrpoError(f"--vllm {cfg.vllm}: vLLM is not installed (pip install vllm)")
    return cfg.vllm


def use_bf16(dtype: str) -> bool:
    import torch

    if dtype == "auto":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return dtype == "bf16"


def make_callback(out: Path, recorder: Recorder, main_process: bool) -> Any:
    from transformers import TrainerCallback

    class RunLog(TrainerCallback):
        """train_log.jsonl and completions.jsonl, one flush per logged optimizer step."""

        def __init__(self) -> None:
            self.t_step = time.perf_counter()
            self.entries: list[dict] = []

        def on_train_begin(self, args, state, control, **kwargs):
            self.t_step = time.perf_counter()  # a step's seconds: since the previous log

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or not any(k.startswith("rewards/") for k in logs):
                return  # the end-of-training summary, not a step
            now = time.perf_counter()
            entry = {"step": state.global_step, **logs, "step_s": round(now - self.t_step, 4)}
            self.t_step = now
            self.entries.append(entry)
            scored = recorder.flush()
            if not main_process:
                return
            means = ", ".join(
                f"{k.split('/')[1]} {v:.3f}"
                for k, v in logs.items()
                if k.startswith("rewards/") and k.endswith("/mean") and isinstance(v, float)
            )
            print(
                f"grpo step {state.global_step}: {means} ({entry['step_s']:.1f}s)", file=sys.stderr
            )
            with (out / "train_log.jsonl").open("a") as f:
                f.write(json.dumps(entry) + "\n")
            with (out / "completions.jsonl").open("a") as f:
                for item in scored:
                    f.write(json.dumps({"step": state.global_step, **item}) + "\n")

    return RunLog()


def build_trainer(cfg: GrpoConfig, argv: list[str] | None = None) -> tuple[Any, Any, Any]:
    """(trainer, run-log callback, tokenizer): every check done, RUN's records written."""
    try:
        from trl import GRPOConfig, GRPOTrainer
    except ImportError:
        raise GrpoError("datagen grpo needs TRL: pip install 'sft-myth-datagen[rl]'") from None

    out = Path(cfg.out)
    rows, task_dir = load_prompt_rows(cfg.data, cfg.config, cfg.task, cfg.limit)
    task = task_of(rows, task_dir)
    tokenizer = load_tokenizer(cfg.model, cfg.prompt_format)
    dataset = render_dataset(rows, tokenizer, cfg.prompt_format, cfg.chat_template_kwargs)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    try:
        kwargs = cfg.trl_kwargs(task, world_size, vllm_mode(cfg), use_bf16(cfg.dtype))
    except ValueError as error:
        raise GrpoError(str(error)) from None
    recorder = Recorder()
    funcs, weights = reward_functions(
        cfg.reward, cfg.prompt_format, recorder, cfg.correct_weight, cfg.valid_weight
    )
    args = GRPOConfig(**kwargs, reward_weights=weights)
    main_process = int(os.environ.get("RANK", "0")) == 0
    if main_process:
        out.mkdir(parents=True, exist_ok=True)
        for name in ("train_log.jsonl", "completions.jsonl"):
            (out / name).unlink(missing_ok=True)  # a rerun into RUN starts its curve afresh
        (out / "command.txt").write_text(" ".join(argv or sys.argv) + "\n")
        record = {
            "datagen": asdict(cfg),
            "task": task,
            "task_dir": str(task_dir),
            "rows": len(rows),
            "reward_functions": [f.__name__ for f in funcs],
            "reward_weights": weights,
            "trl": kwargs,
        }
        (out / "grpo.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    callback = make_callback(out, recorder, main_process)
    trainer = GRPOTrainer(
        model=cfg.model,
        reward_funcs=funcs,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[callback],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints every log dict on stdout
    return trainer, callback, tokenizer


def run(cfg: GrpoConfig, argv: list[str] | None = None) -> dict:
    """Train; the final model and records land in cfg.out. Returns a summary dict."""
    trainer, callback, tokenizer = build_trainer(cfg, argv)
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    trainer.save_model(cfg.out)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(cfg.out)
    steps = callback.entries
    last = steps[-1] if steps else {}
    completions = len(steps) * cfg.prompts_per_step * cfg.num_generations
    return {
        "steps": len(steps),
        "rewards": {k: v for k, v in last.items() if k.startswith("rewards/")},
        "seconds": round(seconds, 3),
        "completions_per_s": round(completions / seconds, 3) if seconds > 0 else None,
        "out": cfg.out,
    }
