"""Adaptive against fixed-n rejection sampling, and the openai client's overhead.

Run alone with `python benchmarks/run.py rejection`.

1. A teacher of known accuracy (teachers.scripted.AccuracyTeacher: each sample correct with
   probability 0.1, 0.3 or 0.7, drawn from its seed) on real Sokoban training rows. Fixed-n is
   the study's scheme: 16 samples for every prompt, keep the first correct one. Adaptive is our
   default: 2 samples, then 2 more per round only for prompts still without a trace, up to 16.
   Samples of the same index have the same seed in both, so adaptive draws a prefix of what
   fixed-n draws and the yield (prompts with a trace) is exactly equal. Target: >= 3x fewer
   samples per accepted trace at accuracy 0.3.
2. The `openai` teacher against `transformers serve` with the tiny model: requests in flight
   (max and time-averaged) and the client's own CPU time per sample.
3. The fleet (`--base-url` twice): samples/s against one and against two `transformers serve`
   instances, the same requests and concurrency, and how the fleet split them.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

ACCURACIES = (0.1, 0.3, 0.7)
N_LEVELS = 40  # about 300 training rows (states along optimal trajectories)


def _rows() -> list[dict]:
    from datagen.tasks import get_task
    from datagen.templates.sokoban import make_template
    from solvers.sokoban import generate_level

    task = get_task("sokoban")
    rows = []
    for seed in range(N_LEVELS):
        rows += task.trajectory_rows(generate_level(seed), seed, lambda i: make_template())
    return rows


def expected_samples(accuracy: float, max_samples: int = 16, initial_samples: int = 2) -> float:
    """Expected samples per prompt of the adaptive schedule (keep=1) for a teacher whose samples
    are correct independently with probability `accuracy` (for the benchmark's sanity check)."""
    total, drawn, miss = 0.0, 0, 1.0
    while drawn < max_samples:
        step = min(initial_samples, max_samples - drawn)
        total += miss * step
        miss *= (1 - accuracy) ** step
        drawn += step
    return total


def _compare(rows: list[dict]) -> list[str]:
    from datagen.tasks import get_task
    from teachers import SamplingConfig, rejection_sample
    from teachers.scripted import AccuracyTeacher

    task = get_task("sokoban")
    lines = [
        f"### Adaptive vs fixed-n ({len(rows)} Sokoban prompts, max 16 samples, keep 1)\n",
        "| accuracy | scheme | samples | yield | samples / accepted | tokens / accepted "
        "| rounds | samples saved |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for accuracy in ACCURACIES:
        figures = {}
        for scheme, initial in (("fixed-16", 16), ("adaptive", 2)):
            with tempfile.TemporaryDirectory() as tmp:
                teacher = AccuracyTeacher(task, accuracy, tokens=600)
                result = rejection_sample(
                    rows,
                    task,
                    teacher,
                    SamplingConfig(),
                    Path(tmp),
                    max_samples=16,
                    initial_samples=initial,
                )
            figures[scheme] = result.stats
        fixed, adaptive = figures["fixed-16"], figures["adaptive"]
        assert fixed["yield"] == adaptive["yield"], "adaptive draws a prefix of fixed-n"
        for scheme in ("fixed-16", "adaptive"):
            s = figures[scheme]
            saved = fixed["samples"] / s["samples"]
            lines.append(
                f"| {accuracy} | {scheme} | {s['samples']} | {s['yield']:.3f} | "
                f"{s['samples_per_accepted']:.2f} | {s['tokens_per_accepted']:.0f} | "
                f"{s['rounds']} | {saved:.2f}x |"
            )
        lines.append(
            f"| {accuracy} | (expected adaptive) | "
            f"{expected_samples(accuracy) * len(rows):.0f} | | | | | "
            f"{16 / expected_samples(accuracy):.2f}x |"
        )
    return lines


def _client_overhead() -> list[str]:
    from datagen.local_server import serve
    from datagen.tiny_model import tiny_model_path
    from teachers import SampleRequest, SamplingConfig, TeacherConfig, make_teacher, sample_seed

    model = tiny_model_path()
    n, max_tokens = 24, 16
    messages = [{"role": "user", "content": "Decide the next action:"}]
    requests = [SampleRequest("bench", i, messages, sample_seed(0, "bench", i)) for i in range(n)]
    lines = [
        f"\n### `openai` client against `transformers serve` (tiny model, CPU, {n} samples of "
        f"{max_tokens} tokens)\n",
        "| concurrency | wall s | samples / s | max in flight | mean in flight "
        "| client CPU ms / sample | retries |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with serve(model) as url:
        teacher = make_teacher(TeacherConfig(backend="openai", model=str(model), base_url=url))
        teacher.generate(requests[:1], SamplingConfig(max_tokens=2))  # warm up, learn top_k
        for concurrency in (1, 8):
            teacher = make_teacher(
                TeacherConfig(
                    backend="openai", model=str(model), base_url=url, concurrency=concurrency
                )
            )
            teacher.ignored.add("top_k")  # transformers serve refuses it (learned above)
            start = time.perf_counter()
            teacher.generate(requests, SamplingConfig(max_tokens=max_tokens, top_k=-1))
            wall = time.perf_counter() - start
            c = teacher.counters
            lines.append(
                f"| {concurrency} | {wall:.2f} | {n / wall:.1f} | {c['max_in_flight']} | "
                f"{c['in_flight_area'] / c['wall_seconds']:.2f} | "
                f"{1000 * c['client_cpu_seconds'] / n:.1f} | {c['retries']} |"
            )
    lines.append(
        "\nHere throughput does not grow with concurrency: `transformers serve` (without "
        "`--continuous-batching`, on 2 CPU cores) is the bottleneck, not the client, whose own "
        "cost per sample is the CPU column; the client keeps `concurrency` requests in flight "
        "for a server that batches them (`vllm serve`)."
    )
    return lines


def _fleet() -> list[str]:
    import contextlib
    import os

    from datagen.local_server import serve
    from datagen.tiny_model import tiny_model_path
    from teachers import SampleRequest, SamplingConfig, TeacherConfig, make_teacher, sample_seed

    model = tiny_model_path()
    n, max_tokens, concurrency = 24, 16, 4
    messages = [{"role": "user", "content": "Decide the next action:"}]
    requests = [SampleRequest("fleet", i, messages, sample_seed(0, "fleet", i)) for i in range(n)]
    sampling = SamplingConfig(max_tokens=max_tokens, top_k=-1)
    lines = [
        f"\n### Teacher fleet: 1 and 2 `transformers serve` instances (tiny model, CPU, {n} "
        f"samples of {max_tokens} tokens, {concurrency} in flight)\n",
        "| servers | wall s | samples / s | samples per server | retries |",
        "|---:|---:|---:|---|---:|",
    ]
    rates: list[float] = []
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(serve(model)) for _ in range(2)]
        for count in (1, 2):
            config = TeacherConfig(
                backend="openai", model=str(model), base_url=tuple(urls[:count]),
                concurrency=concurrency,
            )  # fmt: skip
            teacher = make_teacher(config)
            teacher.ignored.add("top_k")  # transformers serve refuses it
            teacher.generate(requests[:count], SamplingConfig(max_tokens=2, top_k=-1))  # warm up
            before = [s.succeeded for s in teacher.fleet.servers]
            start = time.perf_counter()
            teacher.generate(requests, sampling)
            wall = time.perf_counter() - start
            rates.append(n / wall)
            split = [s.succeeded - b for s, b in zip(teacher.fleet.servers, before, strict=True)]
            lines.append(
                f"| {count} | {wall:.2f} | {n / wall:.1f} | {' + '.join(map(str, split))} | "
                f"{teacher.counters['retries']} |"
            )
    lines.append(
        f"\nSpeed-up with the second server: {rates[1] / rates[0]:.2f}x. Each `transformers "
        "serve` here answers one request at a time on one thread (OMP_NUM_THREADS=1), so what "
        f"limits the rate is server compute: with {os.cpu_count()} CPU cores, shared with the "
        "client and any other job, a second server can use a second core and no more; more "
        "servers than free cores would only compete for them. With `vllm serve` on separate "
        "GPUs each server's batched throughput adds up, and the client's cost per sample (the "
        "table above) is far below a server's."
    )
    return lines


def main() -> str:
    rows = _rows()
    lines = ["## Rejection sampling (`teachers.rejection`)\n"]
    lines += _compare(rows)
    lines += _client_overhead()
    lines += _fleet()
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
