"""`datagen grpo` against a TRL GRPOTrainer configured by hand on the same rows.

Run alone with `python benchmarks/run.py grpo` (CPU: about 4 minutes). Both sides train the tiny
model on the same `diverse-rl` prompts (the same rendered text), with the same GRPO settings and
rewards (`datagen.rewards.correctness_reward` / `validity_reward`); ours goes through
`datagen.grpo` (JSON columns, the prefill, the recorder, the RUN-log callback), the hand-made one
passes the dict columns and the reward functions to TRL directly. Each run is its own subprocess
(`python benchmarks/bench_grpo.py --worker ours|trl DATA MODEL OUT`), the two interleaved, best
of ROUNDS; the clock runs from the end of the first step to the end of the last (the same
callback on both sides: no model loading, no warm-up step). Reported: seconds per GRPO step
(generation, scoring, the update, logging) and generated completions per second; target: our
overhead <= 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3
STEPS = 6  # the first one (warm-up: allocator, first generation) is not timed
PROMPTS = 4  # per step
GENERATIONS = 4
MAX_COMPLETION = 32
ROWS = 12
TARGET = 1.05  # our seconds per step over TRL's, at most


def settings(out: str) -> dict:
    return dict(
        prompts_per_step=PROMPTS,
        num_generations=GENERATIONS,
        per_device_batch=PROMPTS * GENERATIONS,
        max_completion_length=MAX_COMPLETION,
        max_steps=STEPS,
        vllm="off",
        out=out,
    )


def _timer() -> tuple:
    from transformers import TrainerCallback

    ends: list[float] = []

    class Timer(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            ends.append(time.perf_counter())

    return Timer(), ends


def _timed(trainer) -> dict:
    timer, ends = _timer()
    trainer.add_callback(timer)
    trainer.train()
    lengths = [e["completions/mean_length"] for e in trainer.state.log_history[1:-1]]
    return {"seconds": ends[-1] - ends[0], "steps": len(ends) - 1, "tokens": sum(lengths)}


def worker_ours(data: str, model: str, out: str) -> dict:
    from datagen.grpo import GrpoConfig
    from datagen.grpo.trainer import build_trainer

    cfg = GrpoConfig(model=model, data=data, limit=ROWS, **settings(out))
    trainer, _, _ = build_trainer(cfg, ["bench"])
    return _timed(trainer)


def worker_trl(data: str, model: str, out: str) -> dict:
    """TRL by hand: the rows' prompts rendered once, the reward functions passed as they are."""
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    from datagen.finetune import load_rows
    from datagen.prompts import prompt_text
    from datagen.rewards import correctness_reward, validity_reward

    tokenizer = AutoTokenizer.from_pretrained(model)
    rows = load_rows(Path(data) / "sokoban", "diverse-rl", "train")[:ROWS]
    keep = ("task", "instance", "template", "solution")
    records = [
        {
            "prompt": prompt_text(tokenizer, r["prompt"], r["template"], "chat"),
            **{k: r[k] for k in keep},
        }
        for r in rows
    ]
    args = GRPOConfig(  # the study's settings, as datagen.grpo.config maps them, by hand
        output_dir=out,
        learning_rate=1e-6,
        lr_scheduler_type="constant",
        weight_decay=0.01,
        max_grad_norm=1.0,
        per_device_train_batch_size=PROMPTS * GENERATIONS,
        gradient_accumulation_steps=1,
        num_generations=GENERATIONS,
        max_completion_length=MAX_COMPLETION,
        temperature=1.0,
        beta=0.0,
        epsilon=0.2,
        loss_type="dapo",
        max_steps=STEPS,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        remove_unused_columns=False,
        reward_weights=[1.0, 0.0],
        bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),  # TRL's default: True
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[correctness_reward, validity_reward],
        args=args,
        train_dataset=Dataset.from_list(records),
        processing_class=tokenizer,
    )
    trainer.remove_callback(PrinterCallback)
    return _timed(trainer)


def _run(kind: str, data: Path, model: str, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, __file__, "--worker", kind, str(data), model, str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> str:
    sys.path.insert(0, str(ROOT))
    from datagen.build import BuildConfig, build
    from datagen.tiny_model import tiny_model_path

    model = str(tiny_model_path())
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "build"
        build([BuildConfig(task="sokoban", diverse=True, train_size=ROWS, eval_size=0)], data)
        best: dict[str, float] = {}
        tokens: dict[str, float] = {}
        for round_ in range(ROUNDS):
            for kind in ("ours", "trl"):
                got = _run(kind, data, model, Path(tmp) / f"{kind}{round_}")
                per_step = got["seconds"] / got["steps"]
                best[kind] = min(best.get(kind, float("inf")), per_step)
                tokens[kind] = got["tokens"] / got["steps"]  # the same in every round (seeded)
    ratio = best["ours"] / best["trl"]
    completions = PROMPTS * GENERATIONS
    lines = [
        "## grpo: `datagen grpo` against TRL's GRPOTrainer by hand",
        "",
        f"Tiny model, {STEPS - 1} timed steps (after one warm-up step) of {PROMPTS} prompts x "
        f"{GENERATIONS} completions, {MAX_COMPLETION} new tokens, transformers generation; "
        f"best of {ROUNDS}, interleaved.",
        "",
        "| | s / step | completions / s | mean completion tokens |",
        "|---|---:|---:|---:|",
        f"| datagen grpo | {best['ours']:.3f} | {completions / best['ours']:.1f} | "
        f"{tokens['ours']:.1f} |",
        f"| TRL by hand | {best['trl']:.3f} | {completions / best['trl']:.1f} | "
        f"{tokens['trl']:.1f} |",
        "",
        f"Overhead of our wiring: {100 * (ratio - 1):+.1f}% (target <= {100 * (TARGET - 1):.0f}%: "
        f"{'met' if ratio <= TARGET else 'NOT met'}).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=("ours", "trl"))
    parser.add_argument("rest", nargs="*")
    ns = parser.parse_args()
    if ns.worker:
        fn = worker_ours if ns.worker == "ours" else worker_trl
        print(json.dumps(fn(*ns.rest)))
    else:
        print(main())
