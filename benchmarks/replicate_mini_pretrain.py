"""A task-agnostic pre-training for the miniature replication's from-scratch base models.

The study fine-tunes pre-trained models, which know every token of their vocabulary and can copy
a word they read in the prompt. A model built from scratch knows neither: the `eval` variants'
words (`North`, `A`, `⬆️`) occur in no training row (replicate_mini_coverage.py). This stage
gives the base model that general skill without showing it any game: it trains on sequences of
random tokens, drawn uniformly from the whole vocabulary, each segment written twice, with loss
on the second copy (the induction task in which transformers learn to copy in context). Every
model of a seed, answer-only and diverse alike, then starts from the same pre-trained base.

    python benchmarks/replicate_mini_pretrain.py BASE OUT --steps 600 [--seed 1]

OUT gets the model (a plain Hugging Face folder, BASE's tokenizer) and pretrain.json: the
settings, the loss curve, and the share of second-copy tokens it predicts on fresh sequences.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class PretrainConfig:
    steps: int = 600
    seed: int = 1
    batch: int = 32  # sequences per step
    segment: int = 16  # random tokens, then the same tokens again
    lr: float = 1e-3
    warmup: float = 0.05

    def __post_init__(self) -> None:
        if min(self.steps, self.batch, self.segment) < 1 or self.lr <= 0:
            raise ValueError("steps, batch, segment and lr must be positive")


def token_pool(tokenizer) -> list[int]:
    """Every ordinary token id: special and added tokens (chat markup, `<think>`) excluded."""
    special = set(tokenizer.all_special_ids) | set(tokenizer.added_tokens_decoder)
    return [i for i in range(len(tokenizer)) if i not in special]


def sequences(pool, cfg: PretrainConfig, generator):
    """A batch of random segments, each written twice: (batch, 2 * segment) token ids."""
    import torch

    pool = torch.as_tensor(pool)
    first = pool[torch.randint(len(pool), (cfg.batch, cfg.segment), generator=generator)]
    return torch.cat([first, first], dim=1)


def copy_loss(model, ids):
    """Mean cross-entropy of the second copy's tokens (the first of them is not predictable)."""
    import torch.nn.functional as F

    half = ids.shape[1] // 2
    logits = model(input_ids=ids, use_cache=False).logits[:, half:-1]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, half + 1 :].reshape(-1))


def copy_accuracy(model, pool, cfg: PretrainConfig, seed: int) -> float:
    """Share of second-copy tokens predicted greedily, on fresh sequences."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    ids = sequences(pool, cfg, generator)
    half = ids.shape[1] // 2
    with torch.no_grad():
        guess = model(input_ids=ids, use_cache=False).logits[:, half:-1].argmax(-1)
    return float((guess == ids[:, half + 1 :]).float().mean())


def pretrain(base: Path, out: Path, cfg: PretrainConfig) -> dict:
    """Pre-train BASE into OUT (written in place of OUT by a rename); return pretrain.json."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from datagen.finetune_model import lr_multiplier

    torch.manual_seed(cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    pool = token_pool(tokenizer)
    generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_multiplier(step, cfg.steps, cfg.warmup)
    )
    log, start = [], time.perf_counter()
    model.train()
    for step in range(1, cfg.steps + 1):
        loss = copy_loss(model, sequences(pool, cfg, generator))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % 10 == 0 or step == cfg.steps:
            log.append({"step": step, "loss": round(loss.item(), 4)})
    model.eval()
    record = {
        "config": asdict(cfg),
        "base": str(base),
        "seconds": round(time.perf_counter() - start, 1),
        "copy_accuracy": round(copy_accuracy(model, pool, cfg, seed=cfg.seed + 10_000), 4),
        "chance": round(1 / len(pool), 6),
        "log": log,
    }
    scratch = out.with_name(out.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    model.save_pretrained(scratch)
    tokenizer.save_pretrained(scratch)
    for extra in ("tiny_model.json", "generation_config.json"):
        if (base / extra).exists():
            shutil.copy(base / extra, scratch / extra)
    (scratch / "pretrain.json").write_text(json.dumps(record, indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    scratch.rename(out)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("out", type=Path)
    defaults = PretrainConfig()
    for name in ("steps", "seed", "batch", "segment"):
        parser.add_argument("--" + name, type=int, default=getattr(defaults, name))
    parser.add_argument("--lr", type=float, default=defaults.lr)
    args = vars(parser.parse_args(argv))
    base, out = args.pop("base"), args.pop("out")
    try:
        record = pretrain(base, out, PretrainConfig(**args))
    except (ValueError, OSError) as error:
        print(f"replicate-mini pretrain: {error}", file=sys.stderr)
        return 1
    print(f"pretrained {out}: copy accuracy {record['copy_accuracy']:.3f} in {record['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
