"""The slim trainer against TRL's `SFTTrainer`: same model, same rows, same settings.

Run alone with `python benchmarks/run.py trainer` (CPU: about 1.5 minutes). Each trainer runs in
its own subprocess (`python benchmarks/bench_trainer.py --worker ours|trl ...`), so imports and
allocator state do not leak from one into the other; each reports training tokens per second
(every token of every row, over the training loop only: no model loading, no tokenization) and
peak memory (CPU: the peak resident set of the whole worker process, imports, model and data
included; GPU: `torch.cuda.max_memory_allocated`).

Both use the study's optimizer settings, loss on completion tokens only, padding-free packing
of the rows into sequences of `MAX_LEN` tokens (TRL: `packing=True`, `packing_strategy="bfd"`),
one packed sequence per forward pass, no gradient checkpointing, fp32 on CPU and bf16 on GPU.
TRL is in the dev extra only.

Scale-out (issue 13): N=1 against N=2 processes, and a ~0.5B-parameter model's memory per rank
(CPU) or tokens/s and MFU (GPU), in bench_trainer_scale.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = 384  # answer-only Sokoban rows (one epoch)
ROUNDS = 2  # runs of each trainer, interleaved; the best counts
MAX_LEN = 1024
GLOBAL_BATCH = 128
TARGET = 1.2  # our tokens/s over TRL's


def peak_memory_mb(cuda: bool) -> float:
    """GPU: peak allocated by torch; CPU: peak resident set of the whole worker process."""
    import resource

    import torch

    if cuda:
        return torch.cuda.max_memory_allocated() / 2**20
    # Linux keeps ru_maxrss across fork+exec, so a worker would report its parent's peak when the
    # parent is bigger; VmHWM belongs to the worker's own address space.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rows(data: Path) -> list[dict]:
    from datagen.finetune import load_rows

    return load_rows(data / "sokoban", "answer-only", "train")[:ROWS]


def worker_ours(
    model: str,
    data: Path,
    out: Path,
    rows: int = ROWS,
    global_batch: int = GLOBAL_BATCH,
    max_steps: int | None = None,
) -> dict:
    """One trainer run (one rank of it under torchrun); the rank's own figures."""
    import torch

    from datagen.finetune import FinetuneConfig, train

    cuda = torch.cuda.is_available()
    cfg = FinetuneConfig(
        model=model,
        data=str(data),
        task="sokoban",
        out=str(out),
        epochs=1,
        limit=rows,
        global_batch=global_batch,
        max_steps=max_steps,
        max_len=MAX_LEN,
        save=False,
        progress=False,
        dtype="bf16" if cuda else "fp32",
    )
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    steps: list[dict] = []
    summary = train(cfg, log=lambda _message: None, on_step=steps.append)
    # Steady state: without the first step (allocator and kernel warm-up), when there are more.
    later = steps[1:] or steps
    steady = sum(e["tokens"] for e in later) / sum(e["tokens"] / e["tokens_per_s"] for e in later)
    return {
        "rows": summary["rows"],
        "steady_tokens_per_s": steady,
        "tokens": summary["tokens"],
        "seconds": summary["seconds"],
        "tokens_per_s": summary["tokens"] / summary["seconds"],
        "final_loss": summary["final_loss"],
        "steps": summary["steps"],
        "loss_share": summary["loss_tokens"] / summary["tokens"],
        "peak_mem_mb": peak_memory_mb(cuda),
        "rank": int(os.environ.get("RANK", "0")),
        "world_size": summary["world_size"],
        "parallelism": summary["parallelism"],
        "step_seconds": [round(e["tokens"] / e["tokens_per_s"], 3) for e in steps],
    }


def worker_trl(model: str, data: Path, out: Path) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from datagen.finetune import load_tokenizer, pack

    cuda = torch.cuda.is_available()
    rows = _rows(data)
    dataset = Dataset.from_list(
        [{"prompt": r["prompt"], "completion": r["completion"]} for r in rows]
    )
    # As many packed sequences per optimizer step as ours needs for 128 rows, on average.
    tokenizer = load_tokenizer(model)
    from datagen.finetune import encode_row

    lengths = [len(encode_row(tokenizer, r, MAX_LEN)[0]) for r in rows]
    packs = sum(
        len(pack(lengths[i : i + GLOBAL_BATCH], MAX_LEN)) for i in range(0, len(rows), GLOBAL_BATCH)
    )
    steps = -(-len(rows) // GLOBAL_BATCH)
    args = SFTConfig(
        output_dir=str(out),
        num_train_epochs=1,
        per_device_train_batch_size=1,
        gradient_accumulation_steps=max(1, round(packs / steps)),
        learning_rate=1e-5,
        adam_beta1=0.9,
        adam_beta2=0.95,
        weight_decay=0.01,
        lr_scheduler_type="cosine",
        warmup_steps=0.1,
        max_grad_norm=1.0,
        max_length=MAX_LEN,
        packing=True,
        packing_strategy="bfd",
        completion_only_loss=True,
        gradient_checkpointing=False,
        bf16=cuda,
        use_cpu=not cuda,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        dataloader_num_workers=0,
        seed=0,
        disable_tqdm=True,
    )
    net = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    trainer = SFTTrainer(
        model=net,
        args=args,
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(model),
    )
    tokens = sum(len(x["input_ids"]) for x in trainer.train_dataset)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    result = trainer.train()
    seconds = result.metrics["train_runtime"]
    return {
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / seconds,
        "final_loss": trainer.state.log_history[-2].get("loss"),
        "steps": trainer.state.global_step,
        "peak_mem_mb": peak_memory_mb(cuda),
    }


def _run_worker(
    kind: str, model: str, data: Path, out: Path, rows: int = ROWS, nproc: int = 1, *extra: str
) -> dict:
    """A worker in its own process(es); under torchrun, rank 0's figures plus every rank's peak
    memory (`peak_mem_mb_per_rank`)."""
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    launcher = [sys.executable]
    if nproc > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc)]
    command = [*launcher, __file__, "--worker", kind, "--model", model, "--data", str(data)]
    command += ["--out", str(out), "--rows", str(rows), *extra]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{done.stderr[-3000:]}")
    # One file per rank: the ranks' lines on a shared stdout can interleave.
    results = [json.loads(f.read_text()) for f in sorted(out.glob("result-rank*.json"))]
    first = results[0]
    first["peak_mem_mb_per_rank"] = [r["peak_mem_mb"] for r in results]
    return first


def main() -> str:
    import torch
    from bench_trainer_scale import gpu_report, half_billion_report, scaling_report

    from datagen.build import BuildConfig, build
    from datagen.tiny_model import tiny_model_path

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build([BuildConfig(task="sokoban", train_size=ROWS, eval_size=1, workers=1)], data)
        model = str(tiny_model_path())
        # Interleaved rounds, best of each: the machine may be shared, and load comes and goes.
        runs: dict[str, list[dict]] = {"trl": [], "ours": [], "ours-n2": []}
        for _ in range(ROUNDS):
            for kind in runs:
                worker, nproc = ("ours", 2) if kind == "ours-n2" else (kind, 1)
                runs[kind].append(_run_worker(worker, model, data, Path(tmp) / kind, ROWS, nproc))
        best = {kind: max(rs, key=lambda r: r["tokens_per_s"]) for kind, rs in runs.items()}
        n2 = best.pop("ours-n2")
        results = best
        device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
        ratio = results["ours"]["tokens_per_s"] / results["trl"]["tokens_per_s"]
        lines = [
            f"## Trainer: ours vs TRL `SFTTrainer` (tiny Qwen3, {ROWS} answer-only Sokoban rows, "
            f"1 epoch, {device}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')}, "
            f"best of {ROUNDS} interleaved runs)\n",
            "| trainer | tokens | steps | seconds | tokens/s | peak memory (MB) | final loss |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for kind, r in results.items():
            lines.append(
                f"| {kind} | {r['tokens']:,} | {r['steps']} | {r['seconds']:.2f} | "
                f"{r['tokens_per_s']:,.0f} | {r['peak_mem_mb']:,.1f} | {r['final_loss']:.4f} |"
            )
        lines += [
            "",
            f"Throughput ratio ours/TRL: **{ratio:.2f}x** (target >= {TARGET}x: "
            f"{'met' if ratio >= TARGET else 'NOT met'}).",
        ]
        lines += scaling_report(results["ours"], n2, model)
        if torch.cuda.is_available():
            lines += gpu_report(model, Path(tmp))
        else:
            lines += half_billion_report(model, data, Path(tmp))
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=["ours", "trl"])
    parser.add_argument("--model")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--global-batch", type=int, default=GLOBAL_BATCH)
    parser.add_argument("--max-steps", type=int, default=None)
    options = parser.parse_args()
    if options.worker == "ours":
        result = worker_ours(
            options.model,
            options.data,
            options.out,
            options.rows,
            options.global_batch,
            options.max_steps,
        )
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / f"result-rank{result['rank']:03d}.json").write_text(json.dumps(result))
    elif options.worker == "trl":
        result = {**worker_trl(options.model, options.data, options.out), "rank": 0}
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / "result-rank000.json").write_text(json.dumps(result))
    else:
        print(main())
