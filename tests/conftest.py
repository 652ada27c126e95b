"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Small KV cache and no torch.compile: the engine starts in about a minute on 2 cores.
VLLM_ENV = {"OMP_NUM_THREADS": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
# `datagen eval` of a tiny model in seconds: one greedy episode of two short turns, JSON out.
QUICK_EVAL = ("--limit", "1", "--max-turns", "2", "--max-new-tokens", "8", "--temperature", "0")
QUICK_EVAL += ("--json", "--no-progress")


def run_vllm_script(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess:
    """Run `source` as a fresh Python script (vLLM's engine spawns processes, so it needs a
    guarded `__main__`), with this repository importable and the CPU engine's settings."""
    script = tmp_path / "run_vllm.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, str(script), *args],
        env={**os.environ, **VLLM_ENV, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=580,
        cwd=tmp_path,
    )
