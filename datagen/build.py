"""The pipeline behind `datagen build`: puzzles -> rows -> a Hub-ready folder per task.

    from datagen.build import BuildConfig, build
    build(BuildConfig(task="points", diverse=True, train_size=1000), out=Path("out"))

Order of work, per task: the evaluation variants first, then training instances drawn from
their own seed stream while skipping anything an evaluation variant poses (leakage), then the
configs (answer-only, rl, and with a teacher cot), their parquet files, `build.json` and the
dataset card. Rows are produced in chunks of indices by worker processes; each chunk depends
only on the options and its indices, so 1 or 2 workers give byte-identical files. The options
are `datagen.build_config.BuildConfig`; the worker jobs that draw and label instances are in
`datagen.build_rows`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

from datagen.build_config import BuildConfig, BuildError
from datagen.build_rows import (
    CHUNK,
    MAX_DRAWS_PER_ROW,
    points_eval_rows,
    points_train_chunk,
    sokoban_eval_levels,
    sokoban_eval_rows,
    sokoban_train_chunk,
)
from datagen.build_workers import Workers
from datagen.build_writer import write_task
from datagen.suites import POINTS_EVAL, SOKOBAN_EVAL, split_name


@dataclass
class TaskBuild:
    """Everything a finished task build produced, before it is written."""

    config: BuildConfig
    configs: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    leakage: dict[str, Any] = field(default_factory=dict)
    teacher: dict[str, Any] | None = None
    rejected: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    levels: dict[str, dict] = field(default_factory=dict)  # per collection split: what it gave


# ---------------------------------------------------------------------------------------------
# Orchestration


def _fill_train(
    chunk_fn: Callable,
    config: BuildConfig,
    exclude: frozenset,
    workers: Workers,
    progress: Callable[[int], None],
) -> tuple[list[dict], dict[str, int]]:
    """Chunks in index order until `train_size` distinct rows; the same rows for any workers."""
    rows: dict[str, dict] = {}
    skipped = duplicates = 0
    max_chunks = max(1, config.train_size * MAX_DRAWS_PER_ROW // CHUNK)
    start = 0
    while len(rows) < config.train_size:
        if start // CHUNK >= max_chunks:
            raise BuildError(
                f"{config.task}: only {len(rows)} distinct training rows after "
                f"{start} draws; ask for fewer (--train-size) or add diversity"
            )
        wave = [(config, start + k * CHUNK, exclude) for k in range(config.workers * 4)]
        start += len(wave) * CHUNK
        for chunk_rows, chunk_skipped in workers.map(chunk_fn, wave):
            skipped += chunk_skipped
            for row in chunk_rows:
                if len(rows) == config.train_size:
                    break
                if row["id"] in rows:
                    duplicates += 1
                    continue
                rows[row["id"]] = row
            progress(len(rows))
            if len(rows) == config.train_size:
                break
    return list(rows.values()), {"skipped_for_leakage": skipped, "duplicates_dropped": duplicates}


def _fill_points_diverse(
    chunk_fn: Callable,
    config: BuildConfig,
    exclude: frozenset,
    workers: Workers,
    progress: Callable[[int], None],
) -> tuple[list[dict], dict[str, int]]:
    """The study's diverse General Points set: one equal block per training rule, in its order.

    The study drew 8 x 1,250 = 10,000 rows; for other sizes the first train_size % 8 rules
    get one row more.
    """
    from solvers.points import TRAIN_FACE_RULES

    rows: list[dict] = []
    counts: dict[str, int] = {}
    base, extra = divmod(config.train_size, len(TRAIN_FACE_RULES))
    for k, rule in enumerate(TRAIN_FACE_RULES):
        size = base + (k < extra)
        if size == 0:
            continue
        done = len(rows)
        block, block_counts = _fill_train(
            partial(chunk_fn, rule=rule),
            replace(config, train_size=size),
            exclude,
            workers,
            lambda n, done=done: progress(done + n),
        )
        rows += block
        for key, value in block_counts.items():
            counts[key] = counts.get(key, 0) + value
    return rows, counts


def eval_rows(config: BuildConfig, workers: Workers) -> dict[str, list[dict]]:
    """The `eval` config: variant name -> rows."""
    if config.task == "sokoban":
        variants = [v for v in SOKOBAN_EVAL if not config.variants or v.name in config.variants]
        sizes: dict[str, int] = {}
        for v in variants:
            sizes[v.geometry] = max(sizes.get(v.geometry, 0), config.eval_size_of(v))
        # Variants of one geometry share their levels: generate each geometry once.
        by_geometry = {v.geometry: v for v in variants}
        jobs = [(config.seed, v, sizes[g]) for g, v in by_geometry.items()]
        levels = dict(zip(by_geometry, workers.map(sokoban_eval_levels, jobs), strict=True))
        results = workers.map(
            sokoban_eval_rows,
            [(v, levels[v.geometry][: config.eval_size_of(v)]) for v in variants],
        )
    else:
        variants = [v for v in POINTS_EVAL if not config.variants or v.name in config.variants]
        jobs = [(config.seed, v, config.eval_size_of(v)) for v in variants]
        results = workers.map(points_eval_rows, jobs)
    return {v.name: rows for v, rows in zip(variants, results, strict=True)}


def _leakage_keys(task: str, rows: Iterable[dict], holdout: str = "hands") -> set:
    """What the rows pose (datagen.leakage.row_keys): every state's puzzle, or the hand."""
    from datagen.leakage import row_keys

    return row_keys(task, rows, holdout)


def with_think(row: dict, think: bool) -> dict:
    """The row re-rendered with the think or the answer-only ending (new id)."""
    from datagen.tasks import get_task, row_id

    task = get_task(row["task"])
    template = {**row["template"], "think": think}
    return {
        **row,
        "id": row_id(row["task"], row["instance"], template),
        "prompt": task.render_prompt(row["instance"], template),
        "template": template,
    }


def sft_row(row: dict, completion: str) -> dict:
    """Schema order: id, task, variant, prompt, completion, instance, template, solution, meta."""
    out = {key: row[key] for key in ("id", "task", "variant", "prompt")}
    out["completion"] = [{"role": "assistant", "content": completion}]
    out.update({key: row[key] for key in ("instance", "template", "solution", "meta")})
    return out


def build_task(config: BuildConfig, work_dir: Path | None = None, console: Any = None) -> TaskBuild:
    """All rows of one task, checked for leakage (nothing written yet)."""
    from datagen.leakage import leakage_record
    from datagen.tasks import get_task

    start = time.perf_counter()
    task = get_task(config.task)
    with _progress(console) as progress, Workers(config.workers) as workers:
        step = progress.add_task(f"{config.task}: evaluation variants", total=None)
        evaluation = eval_rows(config, workers)
        from datagen.levels import collection_eval, collection_train

        from_levels, levels_report = collection_eval(config, workers)
        evaluation.update(from_levels)
        progress.update(step, total=1, completed=1)
        exclude = frozenset(_leakage_keys(config.task, chain(*evaluation.values()), config.holdout))

        step = progress.add_task(f"{config.task}: training rows", total=config.train_size)
        chunk_fn = sokoban_train_chunk if config.task == "sokoban" else points_train_chunk
        collected = collection_train(
            config, lambda rows: not _leakage_keys(config.task, rows) & exclude, workers
        )
        if collected is not None:
            train, counts, train_report = collected
            levels_report.update(train_report)
        else:
            diverse_points = config.task == "points" and config.diverse
            fill = _fill_points_diverse if diverse_points else _fill_train
            train, counts = fill(
                chunk_fn, config, exclude, workers, lambda n: progress.update(step, completed=n)
            )

    overlaps = len(_leakage_keys(config.task, train, config.holdout) & exclude)
    if overlaps:  # the filter above makes this impossible; the check proves it on every build
        raise BuildError(f"{config.task}: {overlaps} evaluation instances leaked into training")
    from datagen.levels import warn

    warn(console, levels_report)
    result = TaskBuild(config, levels=levels_report)
    result.leakage = leakage_record(config, evaluation, train, overlaps, len(exclude), counts)
    # The study's Sokoban diverse answer-only rows kept the think instruction, with an empty
    # thought as the target (`</think> <answer> w </answer>` after the `<think>` prefill:
    # create_ultra_mixed_dataset.py); every other answer-only set has the answer-only ending.
    keep_think = config.task == "sokoban" and config.diverse
    answer_only = train if keep_think else [with_think(row, False) for row in train]
    result.configs[f"{config.prefix}answer-only"] = {
        "train": [sft_row(row, task.render_answer(row)) for row in answer_only]
    }
    result.configs[f"{config.prefix}rl"] = {"train": train}
    if config.cot is not None:
        from datagen.cot import cot_rows

        accepted, rejected, pairs, stats = cot_rows(config, task, train, work_dir, console)
        result.configs[f"{config.prefix}cot"] = {"train": accepted}
        if config.cot.get("preference"):
            result.configs[f"{config.prefix}cot-preference"] = {"train": pairs}
        if not accepted:  # a CoT build without a single trace is a failed build
            from teachers import write_jsonl

            where = write_jsonl(
                (work_dir or Path(".datagen-work") / config.task) / "rejected.jsonl", rejected
            )
            reasons = ", ".join(f"{k} {v}" for k, v in stats["rejections"].items())
            raise BuildError(
                f"{config.task}: the teacher had no accepted trace in {stats['samples']} samples "
                f"({reasons or 'none drawn'}); check --model and the sampling options, the "
                f"rejected samples are in {where}"
            )
        result.rejected = rejected
        result.teacher = stats
    result.configs["eval"] = {split_name(name): rows for name, rows in evaluation.items()}
    result.seconds = time.perf_counter() - start
    return result


def _progress(console: Any) -> Any:
    """A rich progress bar on stderr; disabled (renders nothing) when no console is given."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
    )


def build(
    configs: list[BuildConfig], out: Path, overwrite: bool = False, console: Any = None
) -> dict[str, dict]:
    """Build every task into `out`; a killed build leaves no folder that looks done.

    Rows are written to a staging folder (`datagen.folders`: beside `out`, or inside an
    existing `out`, e.g. an empty mount point) that is installed at the very end; a failed
    install keeps the finished build and says where it is. `--overwrite` replaces only an
    earlier build. The CoT cache lives in `.<name>.work/` beside `out` (inside it when the
    parent is read-only), which survives a kill so that the same command resumes.
    """
    from datagen.figures.style import preload
    from datagen.folders import FolderError, check_output, install, staging_dir, work_dir

    preload()  # matplotlib loads while the workers generate; the card figures need it at the end
    out = out.resolve()
    try:
        check_output(out, overwrite)
        staging = staging_dir(out)
    except FolderError as error:
        raise BuildError(str(error)) from None
    work = work_dir(out)
    infos = {}
    try:
        for config in configs:
            result = build_task(config, work / config.task, console)
            try:
                infos[config.task] = write_task(result, staging / config.task)
            except OSError as error:
                raise BuildError(
                    f"cannot write {staging / config.task}: {error.strerror or error}"
                ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        install(staging, out)
    except FolderError as error:
        raise BuildError(str(error)) from None
    return infos
