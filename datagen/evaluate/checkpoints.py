"""Every checkpoint of a fine-tuning run through the harness: training curves after the fact.

    datagen eval --model runs/ao --checkpoints --data out/sokoban --variants simple,numerical

Evaluates `RUN/checkpoint-epoch-N` for every N and the final model in RUN, writes each one's
results to `OUT/<checkpoint>/` (OUT defaults to `RUN/checkpoint-eval`), one JSON line per
checkpoint to `OUT/checkpoint_eval.jsonl` (its optimizer step and success / validity per variant,
the keys in-loop evaluation logs), and draws `OUT/curves.png` with the run's loss beside them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

LOG = "checkpoint_eval.jsonl"
DEFAULT_OUT = "checkpoint-eval"


def checkpoints(run: Path) -> list[tuple[int, Path]]:
    """(optimizer step, folder) of each epoch checkpoint, by step, and of the final model when
    it is newer than the last checkpoint (a run stopped inside an epoch by --max-steps)."""
    found = []
    for path in run.glob("checkpoint-epoch-*"):
        if path.name.rsplit("-", 1)[1].isdigit() and (path / "config.json").is_file():
            found.append((_step(path), path))
    found.sort(key=lambda item: item[0])
    last = _last_step(run)
    if (run / "config.json").is_file() and (not found or last > found[-1][0]):
        found.append((last, run))
    return found


def _step(checkpoint: Path) -> int:
    record = checkpoint / "trainer_state.json"  # the trainer's checkpoints since FSDP2/DCP
    if record.is_file():
        return int(json.loads(record.read_text())["step"])
    state = checkpoint / "trainer_state.pt"  # older runs
    if state.is_file():
        import torch

        return int(torch.load(state, weights_only=False, map_location="cpu")["step"])
    return int(checkpoint.name.rsplit("-", 1)[1])  # no state: the epoch stands in for the step


def _last_step(run: Path) -> int:
    log = run / "train_log.jsonl"
    steps = [0]
    if log.is_file():
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                steps.append(int(json.loads(line)["step"]))
            except (ValueError, KeyError, TypeError):
                continue
    return max(steps)


def evaluate_checkpoints(cfg: Any) -> list[dict]:
    """Run `datagen eval` on every checkpoint of the run `cfg.model`; returns the log entries."""
    from datagen.evaluate import EvalError, check_out, evaluate
    from datagen.figures import training_curves

    run = Path(cfg.model)
    found = checkpoints(run)
    if not found:
        raise EvalError(f"{run}: no checkpoint-epoch-N folder or final model to evaluate")
    out = Path(cfg.out) if cfg.out else run / DEFAULT_OUT
    check_out(out, cfg.overwrite, LOG)
    entries = []
    for step, path in found:
        name = "final" if path == run else path.name
        # One log for the whole sweep: with it refused above, its parts are ours to replace.
        results = evaluate(replace(cfg, model=str(path), out=str(out / name), overwrite=True))
        entry: dict[str, Any] = {"step": step, "checkpoint": name}
        for task, variants in results["metrics"].items():
            for variant, metrics in variants.items():
                for key in ("success", "validity"):
                    entry[f"eval/{task}/{variant}/{key}"] = round(metrics[key], 6)
        entries.append(entry)
    with (out / LOG).open("w") as f:
        f.writelines(json.dumps(entry) + "\n" for entry in entries)
    losses = []
    if (run / "train_log.jsonl").is_file():
        from datagen.cli.plot import read_log

        losses = [{"step": e["step"], "loss": e["loss"]} for e in read_log(run / "train_log.jsonl")]
    training_curves(sorted(losses + entries, key=lambda e: e["step"]), out / "curves.png", str(run))
    return entries
