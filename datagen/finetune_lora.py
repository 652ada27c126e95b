"""LoRA for the SFT trainer (`datagen finetune --lora R`), on peft.

For one GPU and an 8B model: the base weights stay frozen and only low-rank adapters of rank R
(scaled by `alpha / R`) train, so gradients and optimizer state shrink to a few percent. Works in
one process and under torchrun (FSDP2 shards the frozen and the trained parameters alike).

The saved model is a plain Hugging Face folder with the adapters merged into the weights (any
`from_pretrained`, `datagen eval` or vLLM loads it), or, with `--save-adapter`, the adapter
alone (`adapter_config.json`, `adapter_model.safetensors`), which transformers loads on top of
the base model when peft is installed.

Defaults: every linear layer but the LM head (peft's `all-linear`), alpha = 2 R, no dropout (so
a run is deterministic and ranks stay identical).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from datagen.finetune_data import FinetuneError


@contextmanager
def _quiet() -> Iterator[None]:
    """peft asks transformers for a property it renamed (a FutureWarning per call): not ours."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*is deprecated")
        yield


def linear_names(net: Any) -> set[str]:
    """The last name component of every linear layer, e.g. {"q_proj", ..., "lm_head"}."""
    import torch

    return {n.rsplit(".", 1)[-1] for n, m in net.named_modules() if isinstance(m, torch.nn.Linear)}


def lora_config(net: Any, rank: int, alpha: float | None, targets: tuple[str, ...] | None) -> Any:
    """A peft LoraConfig, after checking that every target names a linear layer of `net`."""
    from peft import LoraConfig

    if targets:
        known = linear_names(net)
        unknown = [t for t in targets if t not in known]
        if unknown:
            raise FinetuneError(
                f"--lora-targets: no linear layer named {', '.join(unknown)} in this model "
                f"(it has: {', '.join(sorted(known))})"
            )
    return LoraConfig(
        r=rank,
        lora_alpha=alpha if alpha is not None else 2 * rank,
        target_modules=list(targets) if targets else "all-linear",
        lora_dropout=0.0,
        bias="none",
        task_type="CAUSAL_LM",
    )


def apply(net: Any, config: Any) -> Any:
    """`net` wrapped by peft with fresh adapters; only they require gradients."""
    from peft import get_peft_model

    with _quiet():
        return get_peft_model(net, config)


def save(
    full_state: dict,
    base_model: str,
    config: Any,
    tokenizer: Any,
    path: Path,
    merge: bool = True,
) -> None:
    """Save a gathered LoRA model (rank 0): merged into a plain HF folder, or the adapter only.

    The state dict is loaded into a fresh peft wrapper of the base model on the CPU, so this
    works the same whether the trained model was sharded or not, and the live model is not
    touched (per-epoch checkpoints keep training).
    """
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    dtypes = {v.dtype for k, v in full_state.items() if "lora_" not in k}
    dtype = dtypes.pop() if len(dtypes) == 1 else torch.float32
    base = AutoModelForCausalLM.from_pretrained(base_model, dtype=dtype)
    with _quiet():
        model = get_peft_model(base, config)
    missing, unexpected = model.load_state_dict(full_state, strict=False)
    if unexpected or [k for k in missing if "lora_" in k]:
        raise FinetuneError(f"LoRA state does not fit {base_model}: {(unexpected or missing)[:3]}")
    if merge:
        merged = model.merge_and_unload()
        merged.config.use_cache = True
        merged.save_pretrained(path)
    else:
        model.save_pretrained(path)
    tokenizer.save_pretrained(path)
