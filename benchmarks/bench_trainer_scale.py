"""The trainer benchmark's scale-out sections (issue 13), run by bench_trainer.py's `main`.

- `scaling_report`: our trainer at N=1 and N=2 processes on CPU (`torchrun --standalone`, gloo,
  FSDP2; the same rows, the same steps): tokens/s and final loss.
- `half_billion_report` (CPU): a ~0.5B-parameter model built from a Qwen2.5-0.5B-shaped config
  (random weights, the tiny tokenizer): peak resident memory per rank without FSDP (one process:
  what every rank of plain data parallelism would hold) and with FSDP2 over 2 ranks. On 2 CPU
  cores a 0.5B step takes minutes, so it runs `HALF_STEPS` steps of `HALF_BATCH` short rows: it
  measures memory, not speed.
- `gpu_report` (GPU): the 0.5B model trains `GPU_ROWS` rows in one process (and under torchrun
  over every GPU when there are several): tokens/s and MFU (model FLOPs actually needed per
  token, against the GPU's dense bf16 peak).

Run with the rest of the trainer benchmark: `python benchmarks/run.py trainer`.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench_trainer import GLOBAL_BATCH, MAX_LEN, ROWS, _run_worker

GPU_ROWS = 2048  # rows for the 0.5B-parameter GPU run (16 steps of 128)
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0}
# The 0.5B memory runs on CPU: one step is enough, the AdamW state exists after it.
HALF_ROWS, HALF_BATCH, HALF_STEPS = 2, 2, 1


def build_half_billion(tokenizer_dir: str, out: Path) -> tuple[str, dict]:
    """A Qwen2.5-0.5B-shaped model from config (random weights, 494M parameters with the tied
    embeddings) with the tiny tokenizer; stored in bf16 (the trainer loads fp32 master weights)."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()  # "Writing model shards" would land in the report's log
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen2Config(
        vocab_size=151_936,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        tie_word_embeddings=True,
        max_position_embeddings=32_768,
        rope_theta=1_000_000.0,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    net = Qwen2ForCausalLM(config)
    n_params = sum(p.numel() for p in net.parameters())
    net.to(torch.bfloat16).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out), {**config.to_dict(), "n_params": n_params}


def mfu(result: dict, config: dict, loss_share: float) -> float:
    """Model FLOPs utilisation: 6 x (non-embedding matmul parameters) per token, attention
    (12 x layers x hidden x mean context), and the LM head only where a token carries loss."""
    import torch

    d, layers, ff = config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]
    heads, kv = config["num_attention_heads"], config["num_key_value_heads"]
    hd = config.get("head_dim") or d // heads
    per_layer = d * heads * hd * 2 + d * kv * hd * 2 + 3 * d * ff
    flops_per_token = 6 * layers * per_layer + 12 * layers * heads * hd * result["mean_context"]
    flops_per_token += 6 * d * config["vocab_size"] * loss_share
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    return flops_per_token * result["tokens_per_s"] / (peak * 1e12) if peak else float("nan")


def scaling_report(n1: dict, n2: dict, model: str) -> list[str]:
    """Tokens/s of the tiny model at N=1 and N=2 CPU processes (the same rows and steps)."""
    cores = os.cpu_count()
    speedup = n2["tokens_per_s"] / n1["tokens_per_s"]
    lines = [
        f"\n### Scale-out: N processes on CPU (tiny Qwen3, {ROWS} rows, global batch "
        f"{GLOBAL_BATCH}, {cores} cores, OMP_NUM_THREADS=1 per process)\n",
        "| N | parallelism | steps | tokens/s | speed-up | peak RSS per rank (MB) | final loss |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, r in ((1, n1), (2, n2)):
        ranks = " / ".join(f"{m:,.0f}" for m in r["peak_mem_mb_per_rank"])
        lines.append(
            f"| {n} | {r['parallelism']} | {r['steps']} | {r['tokens_per_s']:,.0f} | "
            f"{r['tokens_per_s'] / n1['tokens_per_s']:.2f}x | {ranks} | {r['final_loss']:.6f} |"
        )
    same = abs(n1["final_loss"] - n2["final_loss"]) <= 1e-5
    lines.append(
        f"\nN=2 runs {speedup:.2f}x the tokens/s of N=1; final losses "
        f"{'agree' if same else 'DIFFER'} within 1e-5. On a shared CPU machine FSDP2 on gloo "
        "mostly adds communication (every layer's weights are all-gathered and its gradients "
        "reduce-scattered through memory copies) to a model far too small to hide it: the "
        "figure is about correctness and overhead, not a speed-up claim; GPUs over NCCL are "
        "where sharding pays."
    )
    return lines


def half_billion_report(model: str, data: Path, tmp: Path) -> list[str]:
    """Peak memory per rank for the 0.5B model: one process vs FSDP2 over 2 ranks."""
    big, config = build_half_billion(model, tmp / "half-billion")
    extra = ("--global-batch", str(HALF_BATCH), "--max-steps", str(HALF_STEPS))
    one = _run_worker("ours", big, data, tmp / "half-1", HALF_ROWS, 1, *extra)
    two = _run_worker("ours", big, data, tmp / "half-2", HALF_ROWS, 2, *extra)
    params = round(config["n_params"] / 1e6)  # embeddings tied
    lines = [
        f"\n### Peak memory per rank, ~0.5B parameters (Qwen2.5-0.5B shape from config, {params}M "
        f"parameters, random weights, fp32 AdamW, CPU; {HALF_STEPS} steps of {HALF_BATCH} rows "
        "only: the figure is memory, not speed)\n",
        "| run | peak RSS per rank (GB) | seconds per step | final loss |",
        "|---|---:|---:|---:|",
    ]
    for name, r in (("1 process, no FSDP", one), ("2 ranks, FSDP2", two)):
        ranks = " / ".join(f"{m / 1024:.2f}" for m in r["peak_mem_mb_per_rank"])
        per_step = " / ".join(f"{t:.1f}" for t in r["step_seconds"])
        lines.append(f"| {name} | {ranks} | {per_step} | {r['final_loss']:.4f} |")
    ratio = max(two["peak_mem_mb_per_rank"]) / one["peak_mem_mb"]
    lines.append(
        f"\nFSDP2 over 2 ranks needs {ratio:.2f}x the memory of one unsharded process per rank "
        "(parameters, gradients and AdamW state are halved; rank 0 reads the whole checkpoint "
        "and hands the other ranks their shards, and the imports and the allocator's slack are "
        "not sharded)."
    )
    return lines


def gpu_report(model: str, tmp: Path) -> list[str]:
    """Tokens/s, MFU and peak memory of the 0.5B model on the GPU(s)."""
    import torch

    from datagen.build import BuildConfig, build

    device = torch.cuda.get_device_name()
    lines = []
    big, config = build_half_billion(model, tmp / "half-billion")
    gpu_data = tmp / "gpu-data"
    build([BuildConfig(task="sokoban", train_size=GPU_ROWS, eval_size=1)], gpu_data)
    r = _run_worker("ours", big, gpu_data, tmp / "big", rows=GPU_ROWS)
    r["mean_context"] = r["tokens"] / r["rows"] / 2  # half the mean row: causal attention
    r["tokens_per_s"] = r["steady_tokens_per_s"]
    utilisation = 100 * mfu(r, config, r["loss_share"])
    lines.append(
        f"\n0.5B-parameter model (Qwen2.5-0.5B shape, random weights) from config, "
        f"{r['rows']} rows, global batch {GLOBAL_BATCH}, packs of {MAX_LEN} tokens, on "
        f"{device} (bf16 autocast, sdpa): **{r['tokens_per_s']:,.0f} tokens/s** (steady "
        f"state, first step excluded), MFU {utilisation:.1f}%, peak "
        f"{r['peak_mem_mb'] / 1024:.1f} GiB."
    )
    gpus = torch.cuda.device_count()
    if gpus > 1:  # FSDP2 over every GPU: the same rows, tokens/s over all of them
        f = _run_worker("ours", big, gpu_data, tmp / "big-n", GPU_ROWS, gpus)
        f["mean_context"], f["tokens_per_s"] = r["mean_context"], f["steady_tokens_per_s"]
        lines.append(
            f"FSDP2 over {gpus} GPUs: **{f['tokens_per_s']:,.0f} tokens/s**, MFU "
            f"{100 * mfu(f, config, f['loss_share']) / gpus:.1f}% per GPU, peak "
            f"{max(f['peak_mem_mb_per_rank']) / 1024:.1f} GiB per rank."
        )
    return lines
