"""The slim SFT trainer behind `make finetune` and `datagen finetune`.

One loop that reads top to bottom, in the spirit of nanochat's `chat_sft.py`, on plain
transformers + torch (no framework trainer):

- rows are rendered with the tokenizer's own chat template (`prompt_format="study"`: the study's
  raw string and prefill instead, datagen.prompts) and packed best-fit without cross-row
  attention (`datagen.finetune_data`); only the completion tokens carry loss;
- one optimizer step per `global_batch` rows (the study's 128), as many packed sequences as the
  rows need accumulated into it, and the loss is the mean over the completion tokens of the whole
  global batch; logits are computed only where a token carries loss (answer-only rows: a few
  tokens out of hundreds), so the projection on the vocabulary costs next to nothing;
- the study's defaults: lr 1e-5, AdamW (0.9, 0.95), weight decay 0.01, cosine schedule with 10%
  linear warm-up, gradient clipping at 1.0, 5 epochs; bf16 on GPU and optional activation
  checkpointing;
- one process, or N under torchrun with FSDP2 (`datagen.finetune_dist`): each step's rows are
  split evenly across the ranks and the numbers are those of one process (same rows in the same
  steps, loss normalised by the whole batch's token count, gradients summed, same schedule);
- `--lora R` trains peft adapters instead of every weight (`datagen.finetune_lora`);
- a checkpoint after every epoch (`OUT/checkpoint-epoch-N`: a HF folder, and a distributed
  checkpoint of the trained parameters and the optimizer in the latest one), `--resume` from the
  latest at any world size, the final model in OUT itself, a JSONL log (`OUT/train_log.jsonl`) of
  loss, lr, grad norm and tokens/s, and a progress bar on stderr (rank 0 only).

Run:  datagen finetune --model Qwen/Qwen2.5-1.5B-Instruct --data out --config answer-only \
          --task sokoban --out runs/sokoban-ao
      torchrun --nproc-per-node 8 -m datagen.cli finetune ...     (or make finetune NPROC=8)
or from Python: `train(FinetuneConfig(model=..., data=..., out=...))`.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from datagen import finetune_dist
from datagen.finetune_data import (  # noqa: F401  (re-exported: the trainer's public names)
    IGNORE,
    JSON_COLUMNS,
    SFT_CONFIGS,
    FinetuneError,
    available,
    collate,
    encode_row,
    load_rows,
    pack,
    resolve_task_dir,
    split_step,
)
from datagen.finetune_dist import Dist, latest_checkpoint, pick_device  # noqa: F401
from datagen.finetune_model import (  # noqa: F401
    autocast_dtype,
    exporter,
    load_model,
    load_tokenizer,
    loss_sum,
    lr_multiplier,
    make_optimizer,
    optimizer_step,
)
from datagen.prompts import FORMATS

DEFAULT_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"


@dataclass
class FinetuneConfig:
    model: str  # local model directory or Hub id (needs a chat template)
    data: str  # build folder (DIR or DIR/<task>), pulled folder, or Hub id OWNER/NAME[@rev]
    out: str  # output folder: final model, checkpoints, log
    config: str = "answer-only"  # dataset config to train on (split `train`)
    task: str | None = None  # sokoban|points; needed only when DATA holds several tasks
    epochs: int = 5
    lr: float = 1e-5
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.01
    warmup: float = 0.1  # share of the steps with linear warm-up, then cosine to min_lr_ratio
    min_lr_ratio: float = 0.0
    grad_clip: float = 1.0  # 0 disables clipping
    global_batch: int = 128  # rows per optimizer step (the study's global batch)
    max_len: int = 4096  # tokens per packed sequence; a longer row is an error
    dtype: str = "auto"  # auto (bf16 on a bf16 GPU, else fp32) | bf16 | fp32: autocast dtype
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    gradient_checkpointing: bool = False  # activation checkpointing (recompute in backward)
    cpu_offload: bool = False  # FSDP2 keeps parameters, gradients, optimizer state on the CPU
    attn_implementation: str | None = None  # None: the model's default (sdpa)
    # Extra chat-template variables, e.g. {"enable_thinking": False} for Qwen3; give the same
    # to `datagen eval` so that the model is evaluated on the prompts it was trained on.
    chat_template_kwargs: dict | None = None
    # chat: the tokenizer's chat template; study: the study's raw string and prefill
    # (datagen.prompts). Give the same to `datagen eval`.
    prompt_format: str = "chat"
    seed: int = 0
    limit: int | None = None  # train on the first N rows only (smoke tests)
    max_steps: int | None = None  # stop after N steps; the schedule still spans every epoch
    resume: bool = False  # continue from the latest OUT/checkpoint-epoch-N
    save: bool = True  # write checkpoints and the final model
    progress: bool = True  # progress bar on stderr
    lora: int | None = None  # LoRA rank: train adapters instead of every weight
    lora_alpha: float | None = None  # None: 2 x rank
    lora_targets: tuple[str, ...] | None = None  # linear layer names; None: all but the LM head
    save_adapter: bool = False  # LoRA: save the adapter alone instead of the merged model
    # In-loop evaluation (the study's Figure 2): every `eval_every` steps, greedy rollouts on
    # the `eval` config of DATA, success and validity per variant logged in train_log.jsonl.
    eval_every: int = 0  # 0: off
    eval_variants: tuple[str, ...] = ()  # empty: every variant
    eval_limit: int | None = 20  # episodes per variant
    eval_max_new_tokens: int = 64  # per turn: enough for answer-only; raise it for CoT models

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)  # type: ignore[assignment]
        self.eval_variants = tuple(self.eval_variants)
        if self.lora_targets is not None:
            self.lora_targets = tuple(self.lora_targets)
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas), "betas: two in [0, 1)"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (0 <= self.warmup < 1, f"warmup is a share of the steps in [0, 1), got {self.warmup}"),
            (0 <= self.min_lr_ratio <= 1, "min_lr_ratio must be in [0, 1]"),
            (self.grad_clip >= 0, "grad_clip must be >= 0"),
            (self.global_batch >= 1, f"global_batch must be >= 1, got {self.global_batch}"),
            (self.max_len >= 8, f"max_len must be >= 8, got {self.max_len}"),
            (self.dtype in ("auto", "bf16", "fp32"), f"dtype: auto|bf16|fp32, got {self.dtype!r}"),
            (self.limit is None or self.limit >= 1, "limit must be >= 1"),
            (self.max_steps is None or self.max_steps >= 1, "max_steps must be >= 1"),
            (self.lora is None or self.lora >= 1, f"lora (the rank) must be >= 1, got {self.lora}"),
            (self.lora_alpha is None or self.lora_alpha > 0, "lora_alpha must be > 0"),
            (self.lora is not None or not self.save_adapter, "save_adapter needs lora"),
            (
                self.lora is not None or (self.lora_alpha, self.lora_targets) == (None, None),
                "lora_alpha and lora_targets need lora (the rank)",
            ),
            (self.lora_targets != (), "lora_targets: give at least one module name"),
            (self.prompt_format in FORMATS, f"prompt_format: chat|study, not {self.prompt_format}"),
            (self.eval_every >= 0, f"eval_every must be >= 0, got {self.eval_every}"),
            (self.eval_limit is None or self.eval_limit >= 1, "eval_limit must be >= 1"),
            (self.eval_max_new_tokens >= 1, "eval_max_new_tokens must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


# ---------------------------------------------------------------------------------------------
# The loop


def prepare(cfg: FinetuneConfig, tokenizer: Any) -> tuple[list[tuple[list[int], list[int]]], Path]:
    """Load and encode every row, failing on bad input before any model work."""
    task_dir = resolve_task_dir(cfg.data, cfg.task)
    rows = load_rows(task_dir, cfg.config, "train")
    if cfg.limit is not None:
        rows = rows[: cfg.limit]
    if not rows:
        raise FinetuneError(f"{task_dir}: {cfg.config}/train has no rows")
    if "completion" not in rows[0]:
        raise FinetuneError(
            f"{task_dir}: config {cfg.config!r} has no completions; train on one of {SFT_CONFIGS}"
        )
    kwargs, fmt = cfg.chat_template_kwargs, cfg.prompt_format
    return [encode_row(tokenizer, row, cfg.max_len, kwargs, fmt) for row in rows], task_dir


def fingerprint_of(cfg: FinetuneConfig, encoded: list) -> str:
    """What must not change between a run and its resume: the data and the step schedule."""
    import hashlib

    digest = hashlib.sha256()
    for ids, mask in encoded:
        digest.update(json.dumps([ids, mask]).encode())
    keys = ("config", "task", "epochs", "lr", "warmup", "global_batch", "max_len", "seed")
    keys += ("chat_template_kwargs",)
    if cfg.prompt_format != "chat":  # (chat runs keep the fingerprints they had before)
        keys += ("prompt_format",)
    if cfg.lora is not None:  # (full fine-tunes keep the fingerprints they had before)
        keys += ("lora", "lora_alpha", "lora_targets")
    digest.update(json.dumps({k: getattr(cfg, k) for k in keys}, default=str).encode())
    return digest.hexdigest()[:16]


def in_loop_evaluator(cfg: FinetuneConfig, task_dir: Path) -> Any:
    """The harness on the eval config of the training data, under the training prompt's ending."""
    from datagen.evaluate import EvalError
    from datagen.evaluate.in_loop import InLoopEval

    # The ending the rows were trained under (Sokoban's diverse answer-only rows keep the
    # study's think instruction).
    first = load_rows(task_dir, cfg.config, "train")[0]
    ending = "think" if first["template"].get("think", True) else "answer-only"
    try:
        return InLoopEval.create(
            str(task_dir),
            cfg.eval_variants,
            cfg.eval_limit,
            ending,
            cfg.model,
            max_new_tokens=cfg.eval_max_new_tokens,
            chat_template_kwargs=cfg.chat_template_kwargs,
            prompt_format=cfg.prompt_format,
        )
    except EvalError as error:
        raise FinetuneError(f"--eval-every: {error}") from None


def train(cfg: FinetuneConfig, log: Any = None, on_step: Any = None) -> dict:
    """Fine-tune `cfg.model` on the `train` split of `cfg.config`; returns a summary dict.

    Under torchrun every rank calls this. `log(message)` receives progress messages on rank 0
    (default: stderr); `on_step(entry)` receives each step's log entry (the lines of
    train_log.jsonl, the same on every rank), e.g. for a tracker or a benchmark.
    """
    dist = finetune_dist.setup(cfg.device, cfg.global_batch, cfg.cpu_offload)
    try:
        summary = _train(cfg, dist, log, on_step)
    except BaseException:
        finetune_dist.teardown(dist, clean=False)
        raise
    finetune_dist.teardown(dist)
    return summary


def _train(cfg: FinetuneConfig, dist: Dist, log: Any, on_step: Any) -> dict:
    import torch

    out = Path(cfg.out)
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    if not dist.main:
        say = lambda _message: None  # noqa: E731  (rank 0 speaks for all)
    tokenizer = load_tokenizer(cfg.model, cfg.prompt_format)
    encoded, task_dir = prepare(cfg, tokenizer)
    if cfg.save and not cfg.resume and (out / "finetune.json").is_file():
        # A fresh run would append to its log and replace its checkpoints.
        raise FinetuneError(
            f"{out} holds a finetune run: pass --resume to continue it, or choose another --out"
        )
    fingerprint = fingerprint_of(cfg, encoded)
    device = dist.device
    compute_dtype = autocast_dtype(cfg.dtype, device)

    start_epoch, step, checkpoint = 0, 0, None
    if cfg.resume and (checkpoint := latest_checkpoint(out)) is not None:
        state = finetune_dist.read_checkpoint(checkpoint)
        if state.get("fingerprint") != fingerprint:
            raise FinetuneError(f"{checkpoint}: made with other data or settings; cannot resume")
        start_epoch, step = state["epoch"], state["step"]
        say(f"resuming from {checkpoint} (epoch {start_epoch}, step {step})")
    elif cfg.resume:
        say(f"no checkpoint in {out} to resume from: starting from {cfg.model}")
    evaluator = None
    if cfg.eval_every and dist.world_size > 1:
        # Generation on a sharded model needs every rank in lockstep through each decoding step;
        # until that is built and tested, the in-loop harness runs in one process.
        raise FinetuneError(
            "--eval-every runs in one process only: under torchrun, evaluate the per-epoch "
            "checkpoints afterwards (datagen eval --checkpoints OUT)"
        )
    if cfg.eval_every:
        evaluator = in_loop_evaluator(cfg, task_dir)  # bad variants fail before any model work
    torch.manual_seed(cfg.seed)  # the same initial weights (LoRA adapters) on every rank
    net, lora = load_model(cfg, dist, compute_dtype)
    net.train()
    params, optimizer = make_optimizer(net, cfg, device)
    if checkpoint is not None:
        finetune_dist.load_checkpoint(checkpoint, net, optimizer, full_model=lora is None)
    export = exporter(cfg, net, tokenizer, dist, lora)
    # Under FSDP2 the dtype is FSDP's mixed-precision policy, not autocast.
    autocast = None if dist.sharded else compute_dtype

    steps_per_epoch = math.ceil(len(encoded) / cfg.global_batch)
    total_steps = steps_per_epoch * cfg.epochs
    # Stopping early (a benchmark, a time-limited job) keeps the schedule of the whole run, so a
    # later --resume continues exactly where an uninterrupted run would be.
    stop_at = min(total_steps, cfg.max_steps or total_steps)
    n_params = sum(p.numel() for p in params)
    parallelism = {
        "kind": dist.parallelism,
        "world_size": dist.world_size,
        "backend": dist.backend,
        "rows_per_rank": cfg.global_batch // dist.world_size,
        "mixed_precision": str(compute_dtype or torch.float32).removeprefix("torch."),
        "cpu_offload": cfg.cpu_offload,
        "activation_checkpointing": cfg.gradient_checkpointing,
        "lora": {"r": lora.r, "alpha": lora.lora_alpha} if lora is not None else None,
    }
    say(
        f"{len(encoded)} rows from {task_dir} [{cfg.config}], {n_params:,} trained parameters"
        f", {device} {compute_dtype or torch.float32}, {dist.parallelism} x "
        f"{dist.world_size}, {total_steps} steps of {cfg.global_batch} rows"
    )
    if cfg.save and dist.main:
        out.mkdir(parents=True, exist_ok=True)
        record = {**asdict(cfg), "fingerprint": fingerprint, "rows": len(encoded)}
        record |= {"world_size": dist.world_size, "parallelism": parallelism}
        (out / "finetune.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    log_file = (out / "train_log.jsonl").open("a") if cfg.save and dist.main else None

    from tqdm.auto import tqdm

    bar = tqdm(
        total=stop_at,
        initial=step,
        desc="finetune",
        disable=not (cfg.progress and dist.main),
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    tokens_seen, loss_tokens_seen, last_loss, train_seconds = 0, 0, float("nan"), 0.0
    for epoch in range(start_epoch, cfg.epochs):
        # A fresh, seeded order per epoch: a resumed run sees the same batches.
        order = list(range(len(encoded)))
        random.Random(cfg.seed * 1_000_003 + epoch).shuffle(order)
        for first in range(0, len(order), cfg.global_batch):
            if step >= stop_at:
                break
            rows = [encoded[i] for i in order[first : first + cfg.global_batch]]
            per_rank = split_step(rows, dist.world_size, cfg.max_len)
            n_target = sum(sum(mask[1:]) for _, mask in rows)  # loss tokens of the whole batch
            n_tokens = sum(len(ids) for ids, _ in rows)
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * lr_multiplier(
                    step, total_steps, cfg.warmup, cfg.min_lr_ratio
                )
            t_step = time.perf_counter()
            step_loss, grad_norm = optimizer_step(
                net,
                optimizer,
                per_rank[dist.rank],
                n_target,
                cfg.grad_clip,
                device,
                autocast,
                dist=dist,
                micro_steps=max(len(sequences) for sequences in per_rank),
                filler=[min(rows, key=lambda row: len(row[0]))],
            )
            seconds = time.perf_counter() - t_step
            train_seconds += seconds
            step += 1
            tokens_seen += n_tokens
            loss_tokens_seen += n_target
            last_loss = step_loss
            entry = {
                "step": step,
                "epoch": epoch + (first + len(rows)) / len(order),
                "loss": round(step_loss, 6),
                "lr": optimizer.param_groups[0]["lr"],
                "grad_norm": round(grad_norm, 6),
                "tokens": n_tokens,
                "loss_tokens": n_target,
                "sequences": sum(len(sequences) for sequences in per_rank),
                "tokens_per_s": round(n_tokens / seconds, 1),
                "elapsed_s": round(time.perf_counter() - t0, 3),
            }
            if device.startswith("cuda"):
                entry["peak_mem_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
            # Evaluation hooks that add to `entry` go here. Under FSDP2 they would have to run on
            # EVERY rank in lockstep (each forward gathers the layers' shards) and write on rank
            # 0 only, or on rank 0 on the weights `finetune_dist.gather_state_dict` gathers.
            if evaluator is not None and (step % cfg.eval_every == 0 or step == stop_at):
                entry.update(evaluator(net, step))
            if log_file:
                log_file.write(json.dumps(entry) + "\n")
                log_file.flush()
            if on_step is not None:
                on_step(entry)
            bar.set_postfix(loss=f"{step_loss:.4f}", tok_s=f"{entry['tokens_per_s']:.0f}")
            bar.update(1)
        if step < (epoch + 1) * steps_per_epoch:
            break  # stopped inside this epoch: no checkpoint for a partial epoch
        if cfg.save:
            finetune_dist.save_checkpoint(
                out, epoch + 1, step, net, optimizer, fingerprint, dist, export, lora is None
            )
    bar.close()
    if log_file:
        log_file.close()
    elapsed = time.perf_counter() - t0
    if cfg.save:
        export(out)
    return {
        "steps": step,
        "rows": len(encoded),
        "final_loss": last_loss,
        "tokens": tokens_seen,
        "loss_tokens": loss_tokens_seen,
        "seconds": round(elapsed, 3),  # the whole loop, checkpoints included
        "train_seconds": round(train_seconds, 3),  # optimizer steps only
        "tokens_per_s": round(tokens_seen / train_seconds, 1) if train_seconds > 0 else None,
        "world_size": dist.world_size,
        "parallelism": dist.parallelism,
        "out": str(out) if cfg.save else None,
    }
