"""The model side of the SFT trainer: tokenizer, model, optimizer, loss, one optimizer step.

- `load_model`: fp32 master weights on the device, optional activation checkpointing, LoRA
  adapters (`datagen.finetune_lora`), FSDP2 sharding under torchrun (`datagen.finetune_dist`);
- `loss_sum`: the summed cross-entropy over the completion tokens of one packed sequence, with
  logits projected only where a token carries loss;
- `optimizer_step`: gradient accumulation over a rank's packed sequences, normalised by the
  loss tokens of the whole global batch, clipping, AdamW;
- `lr_multiplier`: linear warm-up, then cosine decay;
- `exporter`: the model as a plain Hugging Face folder (gathered on rank 0; LoRA merged).

Used by the loop in `datagen.finetune`, which re-exports these names.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagen import finetune_dist, finetune_lora
from datagen.finetune_data import IGNORE, FinetuneError, collate
from datagen.finetune_dist import Dist
from datagen.prompts import PromptFormatError, check_tokenizer

if TYPE_CHECKING:
    import torch

    from datagen.finetune import FinetuneConfig


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


def load_model(cfg: FinetuneConfig, dist: Dist, compute_dtype: Any) -> tuple[Any, Any]:
    """The model to train, on its device (sharded under torchrun), and its LoRA config or None.

    fp32 master weights; bf16 compute comes from autocast (one process) or FSDP2's mixed
    precision. A frozen LoRA base in one process is loaded in the compute dtype (an 8B model:
    16 GB rather than 32), its adapters stay fp32 (peft upcasts them).
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    frozen_bf16 = cfg.lora is not None and not dist.sharded and compute_dtype is not None
    kwargs: dict[str, Any] = {"dtype": compute_dtype if frozen_bf16 else torch.float32}
    if cfg.attn_implementation:
        kwargs["attn_implementation"] = cfg.attn_implementation
    # Sharded: only rank 0 reads the weights; the other ranks build the model on the meta device
    # (no memory) and receive their shards from rank 0 after sharding. (With CPU offload every
    # rank still loads them: the offloaded shards' placement is FSDP2's business.)
    from_rank0 = dist.sharded and dist.world_size > 1 and not cfg.cpu_offload
    if from_rank0 and not dist.main:
        config = AutoConfig.from_pretrained(cfg.model)
        with torch.device("meta"):
            net = AutoModelForCausalLM.from_config(config, **kwargs)
    else:
        net = AutoModelForCausalLM.from_pretrained(cfg.model, **kwargs)
    if not dist.sharded:
        net = net.to(dist.device)  # FSDP2 moves each rank's shard there itself
    if cfg.gradient_checkpointing:
        kwargs = {"use_reentrant": False}
        if hasattr(net, "activation_checkpointing_enable"):  # transformers >= 5.x's name
            net.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            net.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    net.config.use_cache = False
    lora = None
    if cfg.lora is not None:
        lora = finetune_lora.lora_config(net, cfg.lora, cfg.lora_alpha, cfg.lora_targets)
        net = finetune_lora.apply(net, lora)
    if dist.sharded:
        full = net.state_dict() if from_rank0 and dist.main else None
        net = finetune_dist.shard(net, dist, compute_dtype, cfg.cpu_offload)
        if from_rank0:
            finetune_dist.load_from_rank0(net, full, dist)
    return net, lora


def make_optimizer(net: Any, cfg: FinetuneConfig, device: str) -> tuple[list, Any]:
    """AdamW over the trained parameters; weight decay on matrices only (norms, biases: none)."""
    import torch

    params = [p for p in net.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    fused = device.startswith("cuda") and not cfg.cpu_offload
    return params, torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, fused=fused)


def exporter(cfg: FinetuneConfig, net: Any, tokenizer: Any, dist: Dist, lora: Any) -> Any:
    """`export(path)`: the model as a plain HF folder on rank 0 (a collective: all ranks call)."""

    def export(path: Path) -> None:
        if lora is None:
            finetune_dist.save_hf(net, tokenizer, path, dist)
            return
        full = finetune_dist.gather_state_dict(net, dist)
        if dist.main:
            merge = not cfg.save_adapter
            finetune_lora.save(full, cfg.model, lora, tokenizer, path, merge=merge)

    return export


def optimizer_step(
    net: Any,
    optimizer: Any,
    sequences: list[list[tuple[list[int], list[int]]]],
    n_target: int,
    grad_clip: float,
    device: str,
    compute_dtype: Any,
    dist: Dist | None = None,
    micro_steps: int | None = None,
    filler: list[tuple[list[int], list[int]]] | None = None,
) -> tuple[float, float]:
    """One optimizer step over this rank's packed sequences of a global batch; (loss, grad norm).

    Gradients accumulate over the sequences; each one's summed loss is divided by the loss
    tokens of the WHOLE global batch (all ranks), so the step minimises the mean over all of
    them. Under FSDP every rank must run the same number of forward/backward passes (each one
    gathers and reduces the layers' shards): a rank with fewer sequences than `micro_steps` runs
    `filler` with weight 0, which adds nothing to the gradient.
    """
    import torch

    passes = list(sequences) + [filler] * ((micro_steps or len(sequences)) - len(sequences))
    total = torch.zeros((), device=device)
    for k, members in enumerate(passes):
        batch = collate(members, device)
        with torch.autocast(
            device.split(":")[0],
            dtype=compute_dtype or torch.float32,
            enabled=compute_dtype is not None,
        ):
            summed, _ = loss_sum(net, batch)
        loss = summed * ((1.0 if k < len(sequences) else 0.0) / n_target)
        loss.backward()
        total += loss.detach()  # no host sync per sequence
    if dist is not None:
        finetune_dist.all_reduce_sum(dist, total)  # the loss of the whole global batch
    params = [p for group in optimizer.param_groups for p in group["params"]]
    # With clipping off the norm is still measured (max_norm=inf), for the log.
    grad_norm = torch.nn.utils.clip_grad_norm_(params, grad_clip if grad_clip > 0 else math.inf)
    if hasattr(grad_norm, "full_tensor"):  # FSDP2: a DTensor holding the rank's partial norm
        grad_norm = grad_norm.full_tensor()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total.item(), grad_norm.item()
