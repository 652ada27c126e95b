"""Adaptive rejection sampling of verified chain-of-thought traces, with a resume cache.

    result = rejection_sample(rows, task, teacher, SamplingConfig(), cache_dir=Path("work/cot"))
    result.accepted   # CoT rows: completion = "<think>…</think>" + answer, input order
    result.rejected   # one record per rejected sample: id, sample, reason, raw text
    result.pairs      # chosen/rejected preference pairs (with preference=True)
    result.stats      # for build.json: overall and per variant

Each prompt first gets `initial_samples` samples; only prompts that still lack `keep` accepted
traces are sampled again, `initial_samples` more per missing trace and round, up to
`max_samples` (the study paid a fixed 16 for every prompt). A teacher may cap the first round
with a `first_round` attribute (the search teacher, correct by construction, sets 1). A sample
is accepted only when it finished (not truncated), has non-empty thinking and the task's
verifier, under the row's own template, finds its final answer correct.

Nothing is lost: every raw sample is appended to `cache_dir/samples-<key>.jsonl` as soon as it
arrives (flushed at once, fsynced after each batch), keyed by model and sampling settings (the
file's key) and by prompt id, prompt digest and sample index (each line). Each sample's seed is
derived from the base seed, the prompt id and the index, and the schedule of a prompt depends
only on its own samples, so a build killed at any moment and started again with the same
command reads back what it had, draws only what is missing, and ends with the same rows.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teachers.base import (
    Sample,
    SampleRequest,
    SamplingConfig,
    Teacher,
    messages_digest,
    sample_seed,
)
from teachers.cache import SampleCache, cache_key


@dataclass
class RejectionResult:
    accepted: list[dict]
    rejected: list[dict]
    stats: dict[str, Any]
    pairs: list[dict] = field(default_factory=list)


@dataclass
class _Prompt:
    row: dict
    digest: str
    drawn: int = 0  # samples scheduled so far (indices 0..drawn-1)
    accepted: list[tuple[int, Sample, str]] = field(default_factory=list)  # (index, sample, text)
    rejected: list[tuple[int, Sample, str, Any]] = field(default_factory=list)


def _judge(task, row: dict, sample: Sample) -> tuple[str | None, Any]:
    """(None, score) when accepted, else (reason, score or None)."""
    if sample.finish_reason == "length":
        return "truncated", None
    score = task.score(row, sample.completion())
    if not sample.thinking.strip():
        return "empty_thinking", score
    if not score.correct:
        return score.verdict or "wrong", score
    return None, score


def _canonical_completion(task, row: dict, sample: Sample, score) -> str:
    """`<think>…</think>` then the answer in the task's own format.

    The teacher's answer (action or formula) is written out by the task (`answer_text`), so no
    stray text surrounds it; the result is verified again, and where that fails the teacher's
    own answer text is kept as it was.
    """
    answer = task.answer_text(row, score.answer)
    text = f"<think>\n{sample.thinking.strip()}\n</think>\n\n{answer}"
    check = task.score(row, text)
    if check.correct and check.answer == score.answer:
        return text
    return sample.completion()


def _figures(prompts: list[_Prompt], keep: int) -> dict[str, Any]:
    samples = sum(p.drawn for p in prompts)
    accepted_samples = sum(len(p.accepted) for p in prompts)
    kept = sum(min(len(p.accepted), keep) for p in prompts)
    tokens = sum(s.tokens for p in prompts for _, s, _ in p.accepted) + sum(
        s.tokens for p in prompts for _, s, _, _ in p.rejected
    )
    reasons = Counter(reason for p in prompts for _, _, reason, _ in p.rejected)
    return {
        "prompts": len(prompts),
        "prompts_with_trace": sum(bool(p.accepted) for p in prompts),
        "samples": samples,
        "accepted_samples": accepted_samples,
        "accepted": kept,
        "acceptance_rate": round(accepted_samples / samples, 4) if samples else 0.0,
        "yield": round(sum(bool(p.accepted) for p in prompts) / len(prompts), 4)
        if prompts
        else 0.0,
        "samples_per_prompt": round(samples / len(prompts), 3) if prompts else 0.0,
        "teacher_tokens": tokens,
        "tokens_per_accepted": round(tokens / kept, 1) if kept else None,
        "samples_per_accepted": round(samples / kept, 3) if kept else None,
        "rejections": dict(sorted(reasons.items())),
    }


def rejection_sample(
    rows: list[dict],
    task,
    teacher: Teacher,
    sampling: SamplingConfig,
    cache_dir: Path | str,
    keep: int = 1,
    max_samples: int = 16,
    initial_samples: int = 2,
    preference: bool = False,
    batch_size: int = 512,
    progress: Callable[[dict], None] | None = None,
    rejected_path: Path | str | None = None,
    console: Any = None,
) -> RejectionResult:
    """Verified CoT rows for `rows` (see the module docstring).

    rows: rows of the DESIGN.md schema with `id`, `prompt`, `template`, `solution` (the
    answer-only rows of a variant). task: `datagen.tasks.get_task(name)` (anything with
    `score(row, text)` and `answer_text(row, answer)`). Prompts with no accepted trace after
    `max_samples` are dropped (and counted). Each accepted row gets `completion` and
    `meta["teacher"]` (backend, model, sampling settings, sample index and seed, tokens,
    samples drawn for its prompt); the k-th extra trace of a prompt (keep > 1) gets id `<id>-k`.
    `progress(stats)` is called after each batch; with a `console` (anything with `print`, e.g.
    a rich Console on stderr), a one-line status is printed there too. With `rejected_path`, the
    rejected samples (and, with `preference`, the pairs, beside it as `<stem>.pairs.jsonl`) are
    written there as JSON lines.
    """
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    if initial_samples < 1:
        raise ValueError(f"initial_samples must be >= 1, got {initial_samples}")
    if max_samples < initial_samples:
        raise ValueError(
            f"max_samples ({max_samples}) must be >= initial_samples ({initial_samples})"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    start = time.perf_counter()
    key = cache_key(teacher, sampling)
    cache_dir = Path(cache_dir)
    cache = SampleCache(cache_dir / f"samples-{key}.jsonl")
    _write_index(cache_dir, key, teacher, sampling)
    # Rows with the same id and prompt (the same state reached twice) share their samples.
    unique: dict[tuple[str, str], _Prompt] = {}
    entries: list[tuple[dict, _Prompt]] = []
    for row in rows:
        digest = messages_digest(row["prompt"])
        p = unique.setdefault((row["id"], digest), _Prompt(row=row, digest=digest))
        entries.append((row, p))
    prompts = list(unique.values())
    # A teacher that is correct by construction (search) caps the first round.
    first = min(initial_samples, getattr(teacher, "first_round", initial_samples))
    generated = reused = rounds = 0
    try:
        while True:
            plan: list[tuple[_Prompt, int]] = []
            for p in prompts:
                missing = keep - len(p.accepted)
                if missing <= 0 or p.drawn >= max_samples:
                    continue
                want = first if p.drawn == 0 else initial_samples * missing
                upto = min(max_samples, p.drawn + want)
                plan.extend((p, i) for i in range(p.drawn, upto))
                p.drawn = upto
            if not plan:
                break
            rounds += 1
            for lo in range(0, len(plan), batch_size):
                chunk = plan[lo : lo + batch_size]
                results: dict[int, Sample] = {}
                todo: list[tuple[int, SampleRequest]] = []
                for j, (p, index) in enumerate(chunk):
                    hit = cache.get(p.row["id"], p.digest, index)
                    if hit is not None:
                        results[j] = hit
                        reused += 1
                    else:
                        seed = sample_seed(sampling.seed, p.row["id"], index)
                        todo.append(
                            (j, SampleRequest(p.row["id"], index, p.row["prompt"], seed, p.row))
                        )
                if todo:
                    requests = [req for _, req in todo]

                    def on_sample(i: int, sample: Sample, requests=requests) -> None:
                        req = requests[i]
                        cache.append(
                            req.prompt_id,
                            messages_digest(req.messages),
                            req.index,
                            req.seed,
                            sample,
                        )

                    samples = teacher.generate(requests, sampling, on_sample=on_sample)
                    if len(samples) != len(requests):
                        raise RuntimeError(
                            f"teacher returned {len(samples)} samples for {len(requests)} requests"
                        )
                    for (j, req), sample in zip(todo, samples, strict=True):
                        # Teachers that do not call on_sample are cached here.
                        if cache.get(req.prompt_id, chunk[j][0].digest, req.index) is None:
                            cache.append(
                                req.prompt_id, chunk[j][0].digest, req.index, req.seed, sample
                            )
                        results[j] = sample
                    generated += len(todo)
                    cache.sync()
                for j, (p, index) in enumerate(chunk):
                    sample = results[j]
                    reason, score = _judge(task, p.row, sample)
                    if reason is None:
                        text = _canonical_completion(task, p.row, sample, score)
                        p.accepted.append((index, sample, text))
                    else:
                        p.rejected.append((index, sample, reason, score))
                if console is not None:
                    f = _figures(prompts, keep)
                    console.print(
                        f"cot round {rounds}: {f['samples']} samples ({reused} from cache), "
                        f"{f['prompts_with_trace']}/{f['prompts']} prompts with a trace, "
                        f"acceptance {f['acceptance_rate']:.2f}"
                    )
                if progress is not None:
                    progress(
                        {
                            **_figures(prompts, keep),
                            "round": rounds,
                            "generated": generated,
                            "reused": reused,
                        }
                    )
    finally:
        cache.close()
    result = _result(
        entries,
        prompts,
        teacher,
        sampling,
        keep,
        max_samples,
        initial_samples,
        preference,
        {
            "rounds": rounds,
            "generated": generated,
            "reused": reused,
            "wall_seconds": round(time.perf_counter() - start, 3),
            "cache_key": key,
        },
    )
    if rejected_path is not None:
        rejected_path = Path(rejected_path)
        write_jsonl(rejected_path, result.rejected)
        if preference:
            write_jsonl(rejected_path.with_name(rejected_path.stem + ".pairs.jsonl"), result.pairs)
    return result


def _result(
    entries, prompts, teacher, sampling, keep, max_samples, initial_samples, preference, run: dict
) -> RejectionResult:
    settings = sampling.to_dict()
    accepted, rejected, pairs = [], [], []
    for p in prompts:
        p.accepted.sort(key=lambda t: t[0])
        p.rejected.sort(key=lambda t: t[0])
    seen: set[int] = set()
    for source, p in entries:
        first = id(p) not in seen
        seen.add(id(p))
        row_id = p.row["id"]
        for k, (index, sample, text) in enumerate(p.accepted[:keep]):
            meta = dict(source.get("meta") or {})
            meta["teacher"] = {
                "backend": teacher.backend,
                "model": teacher.model,
                **settings,
                "sample_index": index,
                "sample_seed": sample_seed(sampling.seed, row_id, index),
                "tokens": sample.tokens,
                "samples_drawn": p.drawn,
            }
            # Schema order: id, task, variant, prompt, completion, then the rest.
            row: dict[str, Any] = {}
            for key, value in source.items():
                if key == "completion":
                    continue
                row[key] = value
                if key == "prompt":
                    row["completion"] = [{"role": "assistant", "content": text}]
            row["id"] = row_id if k == 0 else f"{row_id}-{k}"
            row.setdefault("completion", [{"role": "assistant", "content": text}])
            row["meta"] = meta
            accepted.append(row)
        if not first:
            continue  # a repeated row: its samples are reported once
        for index, sample, reason, score in p.rejected:
            rejected.append(
                {
                    "id": row_id,
                    "variant": p.row.get("variant"),
                    "sample": index,
                    "seed": sample_seed(sampling.seed, row_id, index),
                    "reason": reason,
                    "answer": getattr(score, "answer", None),
                    "finish_reason": sample.finish_reason,
                    "tokens": sample.tokens,
                    "text": sample.completion() if sample.thinking else sample.text,
                }
            )
        if preference and p.accepted:
            losers = [r for r in p.rejected if r[2] not in ("truncated", "empty_thinking")]
            for (ci, _, chosen), (ri, loser, reason, _) in zip(p.accepted, losers, strict=False):
                pairs.append(
                    {
                        "id": f"{row_id}-{ci}-{ri}",
                        "task": p.row.get("task"),
                        "variant": p.row.get("variant"),
                        "prompt": p.row["prompt"],
                        "chosen": [{"role": "assistant", "content": chosen}],
                        "rejected": [{"role": "assistant", "content": loser.completion()}],
                        "meta": {
                            "chosen_sample": ci,
                            "rejected_sample": ri,
                            "rejected_reason": reason,
                        },
                    }
                )
    by_variant: dict[str, list[_Prompt]] = defaultdict(list)
    for p in prompts:
        by_variant[str(p.row.get("variant"))].append(p)
    stats = {
        "teacher": teacher.info(),
        "sampling": settings,
        "schedule": {
            "keep": keep,
            "max_samples": max_samples,
            "initial_samples": initial_samples,
            "adaptive": True,
        },
        **_figures(prompts, keep),
        **run,
        "variants": {v: _figures(ps, keep) for v, ps in sorted(by_variant.items())},
    }
    wall = run["wall_seconds"]
    for figures in stats["variants"].values():
        # Wall time is shared by the variants of one call; split by samples drawn.
        share = figures["samples"] / stats["samples"] if stats["samples"] else 0.0
        figures["wall_seconds"] = round(wall * share, 3)
    return RejectionResult(accepted=accepted, rejected=rejected, stats=stats, pairs=pairs)


def _write_index(cache_dir: Path, key: str, teacher: Teacher, sampling: SamplingConfig) -> None:
    """cache_dir/index.json: which model and settings each samples-<key>.jsonl holds."""
    path = cache_dir / "index.json"
    try:
        index = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        index = {}
    if not isinstance(index, dict):
        index = {}
    if key in index:
        return
    index[key] = {
        "backend": teacher.backend,
        "model": teacher.model,
        "sampling": sampling.to_dict(),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def write_jsonl(path: Path | str, records: list[dict]) -> Path:
    """Write records as JSON lines atomically (for the rejected-samples side file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
