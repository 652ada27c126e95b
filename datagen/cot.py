"""CoT rows for `datagen build --cot`: a teacher writes traces, the task's verifier keeps them.

The build hands over its training rows (think-ending prompts); `teachers.rejection_sample`
samples adaptively, appends every raw sample to a durable cache under the build's work folder
(so a killed build resumes), and returns the accepted rows with completions
`<think>...</think>` + the answer in the task's format; with `--preference` also
chosen/rejected pairs in TRL's conversational preference format (`prompt`, `chosen`, `rejected`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _teacher_config(options: dict) -> Any:
    from teachers import TeacherConfig

    search = options["teacher"] == "search"  # the solvers write its traces: no model involved
    return TeacherConfig(
        backend=options["teacher"],
        model=None if search else options["model"],
        base_url=options["base_url"] if options["teacher"] == "openai" else None,
        api_key=options["api_key"],
        max_retries=options.get("max_retries", 6),
        tensor_parallel_size=options.get("tensor_parallel_size", 1),
        data_parallel_size=options.get("data_parallel_size", 1),
    )


def _sampling_config(options: dict, seed: int) -> Any:
    from teachers import SamplingConfig

    return SamplingConfig(
        temperature=options["temperature"],
        top_p=options["top_p"],
        top_k=options["top_k"],
        max_tokens=options["max_tokens"],
        seed=seed,
    )


def check_teacher(options: dict) -> None:
    """Fail before any work when the teacher cannot run here (RuntimeError, one line)."""
    from teachers import check_backend

    check_backend(_teacher_config(options))


def cot_rows(
    config: Any, task: Any, rows: list[dict], work_dir: Path | None, console: Any = None
) -> tuple[list[dict], list[dict], list[dict], dict]:
    """(accepted SFT rows, rejected samples, chosen/rejected pairs, teacher stats)."""
    from teachers import make_teacher, rejection_sample

    options = config.cot
    teacher = make_teacher(_teacher_config(options))
    cache_dir = (work_dir or Path(".datagen-work") / config.task) / "cot-cache"
    result = rejection_sample(
        rows,
        task,
        teacher,
        _sampling_config(options, config.seed),
        cache_dir=cache_dir,
        keep=options["keep"],
        max_samples=options["max_samples"],
        initial_samples=options["initial_samples"],
        preference=options["preference"],
        console=console,
    )
    return result.accepted, result.rejected, result.pairs, result.stats
