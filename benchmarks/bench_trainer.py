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

With a GPU, a third run trains a ~0.5B-parameter Qwen3 built from config (random weights, the
tiny tokenizer) with our trainer and reports tokens/s and MFU (model FLOPs actually needed per
token, against the GPU's dense bf16 peak).
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
GPU_ROWS = 2048  # rows for the 0.5B-parameter GPU run (16 steps of 128)
MAX_LEN = 1024
GLOBAL_BATCH = 128
TARGET = 1.2  # our tokens/s over TRL's
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0}


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


def worker_ours(model: str, data: Path, out: Path, rows: int = ROWS) -> dict:
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
        global_batch=GLOBAL_BATCH,
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


def build_half_billion(tokenizer_dir: str, out: Path) -> tuple[str, dict]:
    """A Qwen3-0.6B-shaped model from config (random weights) with the tiny tokenizer."""
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen3Config(
        vocab_size=151_936,
        hidden_size=1024,
        intermediate_size=3072,
        num_hidden_layers=28,
        num_attention_heads=16,
        num_key_value_heads=8,
        head_dim=128,
        tie_word_embeddings=True,
        max_position_embeddings=8192,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    Qwen3ForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out), config.to_dict()


def mfu(result: dict, config: dict, loss_share: float) -> float:
    """Model FLOPs utilisation: 6 x (non-embedding matmul parameters) per token, attention
    (12 x layers x hidden x mean context), and the LM head only where a token carries loss."""
    import torch

    d, layers, ff = config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]
    heads, kv, hd = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    per_layer = d * heads * hd * 2 + d * kv * hd * 2 + 3 * d * ff
    flops_per_token = 6 * layers * per_layer + 12 * layers * heads * hd * result["mean_context"]
    flops_per_token += 6 * d * config["vocab_size"] * loss_share
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    return flops_per_token * result["tokens_per_s"] / (peak * 1e12) if peak else float("nan")


def _run_worker(kind: str, model: str, data: Path, out: Path, rows: int = ROWS) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--model",
        model,
        "--data",
        str(data),
        "--out",
        str(out),
        "--rows",
        str(rows),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> str:
    import torch

    from datagen.build import BuildConfig, build
    from datagen.tiny_model import tiny_model_path

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build([BuildConfig(task="sokoban", train_size=ROWS, eval_size=1, workers=1)], data)
        model = str(tiny_model_path())
        # Interleaved rounds, best of each: the machine may be shared, and load comes and goes.
        runs: dict[str, list[dict]] = {"trl": [], "ours": []}
        for _ in range(ROUNDS):
            for kind in runs:
                runs[kind].append(_run_worker(kind, model, data, Path(tmp) / kind))
        results = {kind: max(rs, key=lambda r: r["tokens_per_s"]) for kind, rs in runs.items()}
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
        if torch.cuda.is_available():
            big, config = build_half_billion(model, Path(tmp) / "half-billion")
            gpu_data = Path(tmp) / "gpu-data"
            build([BuildConfig(task="sokoban", train_size=GPU_ROWS, eval_size=1)], gpu_data)
            r = _run_worker("ours", big, gpu_data, Path(tmp) / "big", rows=GPU_ROWS)
            r["mean_context"] = r["tokens"] / r["rows"] / 2  # half the mean row: causal attention
            r["tokens_per_s"] = r["steady_tokens_per_s"]
            utilisation = 100 * mfu(r, config, r["loss_share"])
            lines.append(
                f"\n0.5B-parameter Qwen3 (Qwen3-0.6B shape, random weights) from config, "
                f"{r['rows']} rows, global batch {GLOBAL_BATCH}, packs of {MAX_LEN} tokens, on "
                f"{device} (bf16 autocast, sdpa): **{r['tokens_per_s']:,.0f} tokens/s** (steady "
                f"state, first step excluded), MFU {utilisation:.1f}%, peak "
                f"{r['peak_mem_mb'] / 1024:.1f} GiB."
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=["ours", "trl"])
    parser.add_argument("--model")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rows", type=int, default=ROWS)
    options = parser.parse_args()
    if options.worker == "ours":
        print(json.dumps(worker_ours(options.model, options.data, options.out, options.rows)))
    elif options.worker == "trl":
        print(json.dumps(worker_trl(options.model, options.data, options.out)))
    else:
        print(main())
