"""The slim SFT trainer behind `make finetune` and `datagen finetune`.

One loop that reads top to bottom, in the spirit of nanochat's `chat_sft.py`, on plain
transformers + torch (no framework trainer):

- rows are rendered with the tokenizer's own chat template; the rendered prompt (with the
  generation prompt) must be a prefix of the rendered conversation, and only the completion
  tokens carry loss (`prompt_format="study"`: the study's raw string and prefill instead,
  datagen.prompts);
- rows are packed best-fit into sequences of `max_len` tokens with `position_ids` that restart at
  0 for each row and no attention mask: transformers (>= 5) then builds a block-diagonal causal
  mask for sdpa/eager and uses varlen kernels for flash attention, so no row attends to another;
- one optimizer step per `global_batch` rows (the study's 128), as many packed sequences as the
  rows need accumulated into it, and the loss is the mean over the completion tokens of the whole
  global batch; logits are computed only where a token carries loss (answer-only rows: a few
  tokens out of hundreds), so the projection on the vocabulary costs next to nothing;
- the study's defaults: lr 1e-5, AdamW (0.9, 0.95), weight decay 0.01, cosine schedule with 10%
  linear warm-up, gradient clipping at 1.0, 5 epochs; bf16 autocast on GPU and optional
  gradient checkpointing;
- a Hugging Face checkpoint after every epoch (`OUT/checkpoint-epoch-N`, the optimizer state in
  the latest one only), `--resume` from the latest, the final model in OUT itself, a JSONL log
  (`OUT/train_log.jsonl`) of loss, lr, grad norm and tokens/s, and a progress bar on stderr.

Run:  datagen finetune --model Qwen/Qwen2.5-1.5B-Instruct --data out --config answer-only \
          --task sokoban --out runs/sokoban-ao
or from Python: `train(FinetuneConfig(model=..., data=..., out=...))`.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagen.prompts import FORMATS, PromptFormatError, check_tokenizer, render_row

if TYPE_CHECKING:
    import torch

DEFAULT_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"
SFT_CONFIGS = ("answer-only", "diverse-answer-only", "cot", "diverse-cot")
JSON_COLUMNS = ("prompt", "completion", "instance", "template", "solution", "meta")
IGNORE = -100  # label of a position that carries no loss


class FinetuneError(ValueError):
    """Bad input found before training starts (the message says what and where)."""


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
    gradient_checkpointing: bool = False
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
    # In-loop evaluation (the study's Figure 2): every `eval_every` steps, greedy rollouts on
    # the `eval` config of DATA, success and validity per variant logged in train_log.jsonl.
    eval_every: int = 0  # 0: off
    eval_variants: tuple[str, ...] = ()  # empty: every variant
    eval_limit: int | None = 20  # episodes per variant
    eval_max_new_tokens: int = 64  # per turn: enough for answer-only; raise it for CoT models

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)  # type: ignore[assignment]
        self.eval_variants = tuple(self.eval_variants)
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
            (self.prompt_format in FORMATS, f"prompt_format: chat|study, not {self.prompt_format}"),
            (self.eval_every >= 0, f"eval_every must be >= 0, got {self.eval_every}"),
            (self.eval_limit is None or self.eval_limit >= 1, "eval_limit must be >= 1"),
            (self.eval_max_new_tokens >= 1, "eval_max_new_tokens must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


# ---------------------------------------------------------------------------------------------
# Data: find the rows of a config, render them, pack them


def resolve_task_dir(data: str | Path, task: str | None = None) -> Path:
    """The folder of one task (`DIR/<task>` with `data/` inside) for a build, pull or Hub id."""
    path = Path(data).expanduser()
    if not path.exists():  # a Hub id OWNER/NAME[@rev]: downloaded (or found in the HF cache)
        from datagen.hub import resolve_data

        try:
            return Path(resolve_data(str(data), task=task))
        except Exception as error:  # HubError: one line that says what to do
            raise FinetuneError(str(error)) from error
    if (path / "data").is_dir():
        if task is not None and path.name != task and (path.parent / task / "data").is_dir():
            return path.parent / task
        return path
    tasks = sorted(p.name for p in path.iterdir() if (p / "data").is_dir()) if path.is_dir() else []
    if task is not None:
        if task not in tasks:
            raise FinetuneError(
                f"{path}: no task {task!r} here (found: {', '.join(tasks) or 'none'})"
            )
        return path / task
    if len(tasks) == 1:
        return path / tasks[0]
    if not tasks:
        raise FinetuneError(f"{path}: not a build folder (no <task>/data/ inside)")
    raise FinetuneError(f"{path} holds several tasks ({', '.join(tasks)}): choose one with --task")


def available(task_dir: Path) -> dict[str, list[str]]:
    """{config: [split, ...]} of a task folder, read from the parquet layout."""
    out: dict[str, list[str]] = {}
    for config_dir in sorted(p for p in (task_dir / "data").iterdir() if p.is_dir()):
        splits = sorted({f.name.split("-")[0] for f in config_dir.glob("*.parquet")})
        if splits:
            out[config_dir.name] = splits
    return out


def load_rows(task_dir: Path, config: str, split: str = "train") -> list[dict]:
    """The rows of one split as dicts (parquet read directly: no cache, no network)."""
    import pyarrow.parquet as pq

    files = sorted((task_dir / "data" / config).glob(f"{split}-*.parquet"))
    if not files:
        configs = available(task_dir) if (task_dir / "data").is_dir() else {}
        have = ", ".join(f"{c}[{'/'.join(s)}]" for c, s in configs.items()) or "none"
        raise FinetuneError(f"{task_dir}: no {config}/{split} split (available: {have})")
    rows: list[dict] = []
    for file in files:
        rows.extend(pq.read_table(file).to_pylist())
    for row in rows:  # a build may store nested columns as JSON text; rows are dicts here
        for key in JSON_COLUMNS:
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    return rows


def encode_row(
    tokenizer: Any,
    row: dict,
    max_len: int,
    template_kwargs: dict | None = None,
    prompt_format: str = "chat",
) -> tuple[list[int], list[int]]:
    """Token ids and loss mask (1 on completion tokens) of one row, in the given prompt format.

    The prompt is tokenized as the model will see it when it generates (datagen.prompts), the
    completion separately, so the model is trained on exactly that prefix.
    """
    where = f"row {row.get('id', '?')}"
    if not row.get("completion"):
        raise FinetuneError(f"{where}: no completion (train on an SFT config: {SFT_CONFIGS})")
    try:
        prompt_text, completion_text = render_row(tokenizer, row, prompt_format, template_kwargs)
    except PromptFormatError as error:
        raise FinetuneError(f"{where}: {error}") from error
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion_text, add_special_tokens=False)["input_ids"]
    ids = list(prompt_ids) + list(completion_ids)
    if not completion_ids:
        raise FinetuneError(f"{where}: empty completion after rendering")
    if len(ids) > max_len:
        raise FinetuneError(
            f"{where}: {len(ids)} tokens, longer than max_len={max_len} (raise --max-len)"
        )
    return ids, [0] * len(prompt_ids) + [1] * len(completion_ids)


def pack(lengths: list[int], capacity: int) -> list[list[int]]:
    """Best-fit decreasing: bins of row indices whose lengths sum to at most `capacity`.

    Deterministic (ties broken by index); every row lands in exactly one bin; no row is cut.
    """
    bins: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        best = -1
        for b, free in enumerate(room):
            if lengths[i] <= free and (best < 0 or free < room[best]):
                best = b
        if best < 0:
            bins.append([i])
            room.append(capacity - lengths[i])
        else:
            bins[best].append(i)
            room[best] -= lengths[i]
    return bins


def collate(encoded: list[tuple[list[int], list[int]]], device: Any = "cpu") -> dict:
    """One packed sequence (batch dimension 1) from several encoded rows.

    `targets[t]` is the token at t+1 when that token carries loss, else IGNORE; the last token of
    each row never predicts the first token of the next row.
    """
    import torch

    ids: list[int] = []
    positions: list[int] = []
    targets: list[int] = []
    for row_ids, mask in encoded:
        ids += row_ids
        positions += range(len(row_ids))
        targets += [row_ids[t + 1] if mask[t + 1] else IGNORE for t in range(len(row_ids) - 1)]
        targets.append(IGNORE)
    as_tensor = lambda xs: torch.tensor([xs], dtype=torch.long, device=device)  # noqa: E731
    starts = [0]
    for row_ids, _ in encoded:
        starts.append(starts[-1] + len(row_ids))
    return {
        "input_ids": as_tensor(ids),
        "position_ids": as_tensor(positions),
        "targets": as_tensor(targets),
        # Row boundaries for flash attention's varlen kernels, computed here on the host: from
        # position_ids alone it would sync with the device in every layer.
        "cu_seq_lens": torch.tensor(starts, dtype=torch.int32, device=device),
        "max_length": max(len(row_ids) for row_ids, _ in encoded),
    }


def loss_sum(model: Any, batch: dict) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy over the completion tokens of a packed batch, and their count.

    Logits are projected only at the positions that carry loss (a boolean `logits_to_keep`),
    then upcast to fp32 for the cross-entropy.
    """
    import torch.nn.functional as F

    keep = batch["targets"] != IGNORE
    varlen = {}
    if "flash" in str(getattr(model.config, "_attn_implementation", "")):
        varlen = {
            "cu_seq_lens_q": batch["cu_seq_lens"],
            "cu_seq_lens_k": batch["cu_seq_lens"],
            "max_length_q": batch["max_length"],
            "max_length_k": batch["max_length"],
        }
    out = model(
        input_ids=batch["input_ids"],
        position_ids=batch["position_ids"],
        use_cache=False,
        logits_to_keep=keep,
        **varlen,
    )
    logits = out.logits.reshape(-1, out.logits.shape[-1]).float()
    labels = batch["targets"][keep]
    return F.cross_entropy(logits, labels, reduction="sum"), int(labels.numel())


def lr_multiplier(step: int, total: int, warmup: float, min_ratio: float = 0.0) -> float:
    """Linear warm-up over the first `warmup` share of the steps, then cosine decay.

    `step` counts from 0; the first step already has a non-zero rate.
    """
    warm = math.ceil(warmup * total)
    if step < warm:
        return (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


# ---------------------------------------------------------------------------------------------
# Model, device, checkpoints


def pick_device(name: str) -> str:
    import torch

    if name != "auto":
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise FinetuneError(f"device {name!r} asked for but CUDA is not available")
        return name
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def autocast_dtype(name: str, device: str) -> torch.dtype | None:
    """The autocast dtype: None means plain fp32. bf16 works on CPU too (slowly)."""
    import torch

    if name == "fp32":
        return None
    if name == "auto":
        ok = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if ok else None
    if device.startswith("cuda") and not torch.cuda.is_bf16_supported():
        raise FinetuneError("dtype bf16 asked for but this GPU does not support bf16")
    return torch.bfloat16


def load_tokenizer(model: str, prompt_format: str = "chat") -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    try:
        check_tokenizer(tokenizer, prompt_format)
    except PromptFormatError as error:
        raise FinetuneError(f"{model}: {error}") from error
    return tokenizer


def load_model(model: str, device: str, cfg: FinetuneConfig) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch.float32}  # fp32 master weights; autocast computes
    if cfg.attn_implementation:
        kwargs["attn_implementation"] = cfg.attn_implementation
    net = AutoModelForCausalLM.from_pretrained(model, **kwargs).to(device)
    if cfg.gradient_checkpointing:
        kwargs = {"use_reentrant": False}
        if hasattr(net, "activation_checkpointing_enable"):  # transformers >= 5.x's name
            net.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            net.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    net.config.use_cache = False
    return net


def latest_checkpoint(out: Path) -> Path | None:
    found = []
    for path in out.glob("checkpoint-epoch-*"):
        if (path / "trainer_state.pt").is_file() and path.name.rsplit("-", 1)[1].isdigit():
            found.append((int(path.name.rsplit("-", 1)[1]), path))
    return max(found)[1] if found else None


def save_checkpoint(
    out: Path, epoch: int, step: int, net: Any, tokenizer: Any, optimizer: Any, fingerprint: str
) -> Path:
    import torch

    path = out / f"checkpoint-epoch-{epoch}"
    tmp = out / f".tmp-{path.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    net.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    state = {"epoch": epoch, "step": step, "optimizer": optimizer.state_dict()}
    state["fingerprint"] = fingerprint
    torch.save(state, tmp / "trainer_state.pt")
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)  # a killed save never leaves a half-written checkpoint behind
    # The optimizer state is twice the model in fp32: keep it in the latest checkpoint only.
    for older in out.glob("checkpoint-epoch-*"):
        if older != path and (older / "trainer_state.pt").is_file():
            slim = torch.load(older / "trainer_state.pt", weights_only=False)
            slim.pop("optimizer", None)
            torch.save(slim, older / "trainer_state.pt")
    return path


# ---------------------------------------------------------------------------------------------
# The loop


def optimizer_step(
    net: Any,
    optimizer: Any,
    sequences: list[list[tuple[list[int], list[int]]]],
    n_target: int,
    grad_clip: float,
    device: str,
    compute_dtype: Any,
) -> tuple[float, float]:
    """One optimizer step over a global batch given as packed sequences; (loss, grad norm).

    Gradients accumulate over the sequences; each one's summed loss is divided by the loss
    tokens of the whole batch, so the step minimises the mean over all of them.
    """
    import torch

    total = torch.zeros((), device=device)
    for members in sequences:
        batch = collate(members, device)
        with torch.autocast(
            device.split(":")[0],
            dtype=compute_dtype or torch.float32,
            enabled=compute_dtype is not None,
        ):
            summed, _ = loss_sum(net, batch)
        loss = summed / n_target
        loss.backward()
        total += loss.detach()  # no host sync per sequence
    params = [p for group in optimizer.param_groups for p in group["params"]]
    # With clipping off the norm is still measured (max_norm=inf), for the log.
    grad_norm = torch.nn.utils.clip_grad_norm_(params, grad_clip if grad_clip > 0 else math.inf)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total.item(), grad_norm.item()


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

    `log(message)` receives progress messages (default: stderr); `on_step(entry)` receives each
    step's log entry (the lines of train_log.jsonl), e.g. for a tracker or a benchmark.
    """
    import torch

    out = Path(cfg.out)
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    tokenizer = load_tokenizer(cfg.model, cfg.prompt_format)
    encoded, task_dir = prepare(cfg, tokenizer)
    fingerprint = fingerprint_of(cfg, encoded)
    device = pick_device(cfg.device)
    compute_dtype = autocast_dtype(cfg.dtype, device)

    start_epoch, step, state = 0, 0, None
    source = cfg.model
    if cfg.resume and (checkpoint := latest_checkpoint(out)) is not None:
        state = torch.load(checkpoint / "trainer_state.pt", weights_only=False)
        if state.get("fingerprint") != fingerprint:
            raise FinetuneError(f"{checkpoint}: made with other data or settings; cannot resume")
        if "optimizer" not in state:
            raise FinetuneError(f"{checkpoint}: no optimizer state to resume from")
        start_epoch, step, source = state["epoch"], state["step"], str(checkpoint)
        say(f"resuming from {checkpoint} (epoch {start_epoch}, step {step})")
    elif cfg.resume:
        say(f"no checkpoint in {out} to resume from: starting from {cfg.model}")
    evaluator = None
    if cfg.eval_every:
        evaluator = in_loop_evaluator(cfg, task_dir)  # bad variants fail before any model work
    torch.manual_seed(cfg.seed)
    net = load_model(source, device, cfg)
    net.train()

    # Weight decay on matrices only, as usual: norms and biases keep theirs.
    params = [p for p in net.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    fused = device.startswith("cuda")
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, fused=fused)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])

    steps_per_epoch = math.ceil(len(encoded) / cfg.global_batch)
    total_steps = steps_per_epoch * cfg.epochs
    # Stopping early (a benchmark, a time-limited job) keeps the schedule of the whole run, so a
    # later --resume continues exactly where an uninterrupted run would be.
    stop_at = min(total_steps, cfg.max_steps or total_steps)
    n_params = sum(p.numel() for p in params)
    say(
        f"{len(encoded)} rows from {task_dir} [{cfg.config}], {n_params / 1e6:.1f}M parameters, "
        f"{device} {compute_dtype or torch.float32}, {total_steps} steps of {cfg.global_batch} rows"
    )
    if cfg.save:
        out.mkdir(parents=True, exist_ok=True)
        record = {**asdict(cfg), "fingerprint": fingerprint, "rows": len(encoded)}
        (out / "finetune.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    log_file = (out / "train_log.jsonl").open("a") if cfg.save else None

    from tqdm.auto import tqdm

    bar = tqdm(
        total=stop_at, initial=step, desc="finetune", disable=not cfg.progress, file=sys.stderr
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
            bins = pack([len(ids) for ids, _ in rows], cfg.max_len)
            n_target = sum(sum(mask[1:]) for _, mask in rows)  # tokens that carry loss
            n_tokens = sum(len(ids) for ids, _ in rows)
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * lr_multiplier(
                    step, total_steps, cfg.warmup, cfg.min_lr_ratio
                )
            t_step = time.perf_counter()
            step_loss, grad_norm = optimizer_step(
                net,
                optimizer,
                [[rows[i] for i in members] for members in bins],
                n_target,
                cfg.grad_clip,
                device,
                compute_dtype,
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
                "sequences": len(bins),
                "tokens_per_s": round(n_tokens / seconds, 1),
                "elapsed_s": round(time.perf_counter() - t0, 3),
            }
            if device.startswith("cuda"):
                entry["peak_mem_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
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
            save_checkpoint(out, epoch + 1, step, net, tokenizer, optimizer, fingerprint)
    bar.close()
    if log_file:
        log_file.close()
    elapsed = time.perf_counter() - t0
    if cfg.save:
        net.config.use_cache = True  # the saved model is for generation
        net.save_pretrained(out)
        tokenizer.save_pretrained(out)
    summary = {
        "steps": step,
        "rows": len(encoded),
        "final_loss": last_loss,
        "tokens": tokens_seen,
        "loss_tokens": loss_tokens_seen,
        "seconds": round(elapsed, 3),  # the whole loop, checkpoints included
        "train_seconds": round(train_seconds, 3),  # optimizer steps only
        "tokens_per_s": round(tokens_seen / train_seconds, 1) if train_seconds > 0 else None,
        "out": str(out) if cfg.save else None,
    }
    return summary
