"""The pipeline behind `datagen build`: puzzles -> rows -> a Hub-ready folder per task.

    from datagen.build import BuildConfig, build
    build(BuildConfig(task="points", diverse=True, train_size=1000), out=Path("out"))

Order of work, per task: the evaluation variants first, then training instances drawn from
their own seed stream while skipping anything an evaluation variant poses (leakage), then the
configs (answer-only, rl, and with a teacher cot), their parquet files, `build.json` and the
dataset card. Rows are produced in chunks of indices by worker processes; each chunk depends
only on the options and its indices, so 1 or 2 workers give byte-identical files.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

from datagen import __version__
from datagen.seeding import derive_rng, derive_seed
from datagen.suites import POINTS_EVAL, SOKOBAN_EVAL, PointsVariant, SokobanVariant, split_name

# Figures of one run, not of the data (a resumed build reuses samples, timings vary): they go to
# run.json so that build.json, like the parquet files, is byte-identical for the same options.
# The teacher's server URLs (redacted) and per-server counts say where it ran: run.json too.
VOLATILE = frozenset({"wall_seconds", "generated", "reused", "base_urls", "servers"})

CHUNK = 64  # instances per worker job: small enough to stop soon after the target is reached
MAX_DRAWS_PER_ROW = 50  # a train split that needs more draws than this per row cannot be filled


class BuildError(RuntimeError):
    """A build that cannot produce what was asked (the message says why)."""


@dataclass(frozen=True)
class BuildConfig:
    task: str  # "sokoban" | "points"
    diverse: bool = False  # a fresh vocabulary / face-card rule per training row
    train_size: int = 10_000  # training rows (CoT: prompts sent to the teacher)
    eval_size: int | None = None  # rows per evaluation variant; None = the study's sizes
    seed: int = 0
    wordings: tuple[str, ...] = ("paper",)  # opt-in: paraphrased instructions for training rows
    legends: tuple[str, ...] = ("paper",)  # opt-in (Sokoban): grid symbol legends
    targets: tuple[int, ...] = (24,)  # opt-in (points): training targets
    variants: tuple[str, ...] | None = None  # evaluation variants to build; None = all
    min_moves: int = 1  # Sokoban training levels: the shortest optimal length kept
    max_moves: int = 30  # Sokoban training levels: the longest (the study's label cap)
    workers: int = 2
    cot: dict | None = None  # teacher, sampling and rejection options (see datagen.cli.build)
    holdout: str = "hands"  # points: "values" also keeps every eval value multiset out of training
    levels: tuple = ()  # Sokoban: datagen.levels.LevelSource collections (train / eval variants)

    def __post_init__(self) -> None:
        from datagen.templates import points as points_templates
        from datagen.templates import sokoban as sokoban_templates

        if self.task not in ("sokoban", "points"):
            raise ValueError(f"unknown task {self.task!r}")
        if self.train_size < 0 or (self.eval_size is not None and self.eval_size < 0):
            raise ValueError("sizes must be >= 0")
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        wordings = (
            sokoban_templates.WORDINGS if self.task == "sokoban" else points_templates.WORDINGS
        )
        for wording in self.wordings:
            if wording not in wordings:
                other = "points" if self.task == "sokoban" else "sokoban"
                theirs = points_templates if other == "points" else sokoban_templates
                raise ValueError(
                    f"unknown {self.task} wording {wording!r}; {self.task} has "
                    f"{', '.join(wordings)} ({other}: {', '.join(theirs.WORDINGS)})"
                )
        self._check_plan()
        for legend in self.legends:
            if legend not in sokoban_templates.SYMBOL_LEGENDS:
                raise ValueError(
                    f"unknown symbol legend {legend!r}; choose from "
                    f"{', '.join(sokoban_templates.SYMBOL_LEGENDS)}"
                )
        if self.task == "points" and any(t < 1 for t in self.targets):
            raise ValueError("targets must be positive integers")
        if self.task == "sokoban":
            _check_moves(self.min_moves, self.max_moves)
        from datagen.levels import check_sources

        check_sources(self.levels, self.task)
        known = {v.name for v in (SOKOBAN_EVAL if self.task == "sokoban" else POINTS_EVAL)}
        for variant in self.variants or ():
            if variant not in known:
                raise ValueError(
                    f"unknown {self.task} variant {variant!r}; choose from "
                    f"{', '.join(sorted(known))}"
                )

    def _check_plan(self) -> None:
        """Options that contradict each other or ask for nothing: refused before any work."""
        from datagen.leakage import HOLDOUTS

        if self.train_size == 0 and self.eval_size == 0:
            raise ValueError("nothing to build: --train-size and --eval-size are both 0")
        if self.task == "points" and tuple(self.legends) != ("paper",):
            raise ValueError("--legends applies to Sokoban only (the grid symbols)")
        if self.task == "sokoban" and tuple(self.targets) != (24,):
            raise ValueError("--targets applies to General Points only")
        if self.holdout not in HOLDOUTS:
            raise ValueError(f"holdout: one of {', '.join(HOLDOUTS)}, got {self.holdout!r}")
        if self.task == "sokoban" and self.holdout != "hands":
            raise ValueError("--holdout values applies to General Points only")
        if self.cot is not None:
            most = self.cot.get("max_samples", 1)
            if self.cot.get("initial_samples", 1) > most:
                raise ValueError(
                    f"--initial-samples {self.cot['initial_samples']} exceeds --max-samples {most}"
                )
            if self.cot.get("keep", 1) > most:
                raise ValueError(
                    f"--keep {self.cot['keep']} accepted traces can never come from at most "
                    f"--max-samples {most} samples per prompt"
                )

    @property
    def prefix(self) -> str:
        return "diverse-" if self.diverse else ""

    def eval_size_of(self, variant: SokobanVariant | PointsVariant) -> int:
        return variant.size if self.eval_size is None else self.eval_size

    def data_options(self) -> dict:
        """The options that decide the rows (the fingerprint's input)."""
        options = asdict(self)
        options.pop("workers")
        if self.cot is not None:
            # Never record a secret; keep only the settings the chosen teacher uses. Server URLs
            # (which may hold credentials) and engine parallelism say where and how fast the
            # teacher ran, not what it wrote: out of the fingerprint (build.json["teacher"] and
            # run.json record them, redacted).
            skip = ("api_key", "base_url", "max_retries", "tensor_parallel_size")
            cot = {k: v for k, v in self.cot.items() if k not in {*skip, "data_parallel_size"}}
            if cot["teacher"] == "search":
                cot.pop("model", None)
            options["cot"] = cot
        if self.levels:  # the collections' content, not where they lie
            options["levels"] = [source.describe() for source in self.levels]
        else:
            options.pop("levels")
        if self.task == "points":
            options.pop("legends")
            options.pop("min_moves")
            options.pop("max_moves")
        else:
            options.pop("targets")
            options.pop("holdout")
        return options


def _check_moves(min_moves: int, max_moves: int) -> None:
    """Refuse move filters that no training level (6x6, one box) can meet, before any work."""
    from solvers.sokoban.generator import longest_level

    longest = longest_level(6, 6, 1)
    if min_moves < 1:
        raise ValueError(f"--min-moves must be >= 1, got {min_moves}")
    if max_moves < min_moves:
        raise ValueError(f"--max-moves {max_moves} is below --min-moves {min_moves}")
    if min_moves > longest:
        raise ValueError(
            f"--min-moves {min_moves}: no generated 6x6 one-box level is longer than "
            f"{longest} moves"
        )


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
# Sokoban


def _sokoban_eval_levels(job: tuple[int, SokobanVariant, int]) -> list[tuple[int, str]]:
    """`size` distinct start grids of a geometry, as (seed, xsb)."""
    from solvers.sokoban import generate_level

    seed, variant, size = job
    levels: dict[str, int] = {}
    for i in range(size * MAX_DRAWS_PER_ROW):
        if len(levels) == size:
            break
        level_seed = derive_seed(seed, "sokoban", "eval", variant.geometry, i)
        level = generate_level(level_seed, variant.height, variant.width, variant.boxes)
        levels.setdefault(level.xsb(), level_seed)
    return [(s, grid) for grid, s in levels.items()]


def _sokoban_eval_rows(job: tuple[SokobanVariant, list[tuple[int, str]]]) -> list[dict]:
    from datagen.tasks import sokoban
    from datagen.templates.sokoban import make_template
    from solvers.sokoban import Level

    variant, levels = job
    template = make_template(
        vocabulary=variant.vocabulary,
        scored_vocabulary=variant.scored,
        show_answers=variant.show_answers,
        think=True,
    )
    return [
        sokoban.start_row(variant.name, Level.parse(grid), level_seed, template)
        for level_seed, grid in levels
    ]


def _sokoban_train_chunk(job: tuple[BuildConfig, int, frozenset[tuple]]) -> tuple[list[dict], int]:
    """Rows of the levels start..start+CHUNK; returns (rows, levels skipped for leakage)."""
    from datagen.leakage import sokoban_key
    from datagen.tasks import sokoban
    from datagen.templates.sokoban import draw_diverse_template, make_template
    from solvers.sokoban import generate_level

    config, start, eval_grids = job
    rows, skipped = [], 0
    for i in range(start, start + CHUNK):
        level_seed = derive_seed(config.seed, "sokoban", "train", i)
        level = generate_level(level_seed, 6, 6, 1, config.min_moves, config.max_moves)

        def template_for(step: int, i: int = i) -> dict:
            rng = derive_rng(config.seed, "sokoban", "template", i, step)
            if config.diverse:
                return draw_diverse_template(
                    rng, think=True, wordings=config.wordings, legends=config.legends
                )
            return make_template(
                think=True, wording=rng.choice(config.wordings), symbols=rng.choice(config.legends)
            )

        level_rows = sokoban.trajectory_rows(level, level_seed, template_for)
        if any(sokoban_key(row["instance"]["grid"]) in eval_grids for row in level_rows):
            skipped += 1
            continue
        rows.extend(level_rows)
    return rows, skipped


# ---------------------------------------------------------------------------------------------
# General Points


def _points_eval_rows(job: tuple[int, PointsVariant, int]) -> list[dict]:
    """`size` rows of hands distinct (as multisets) within the variant, each solvable."""
    from datagen.tasks import points
    from datagen.templates.points import make_template
    from solvers.points import FACE_RULES

    seed, variant, size = job
    template = make_template(
        rule=variant.rule,
        faces=FACE_RULES[variant.rule],
        scored_faces=FACE_RULES[variant.scored_rule],
        think=True,
    )
    rows, seen = [], set()
    if size == 0:  # --eval-size 0: no eval config, as for Sokoban
        return rows
    for i in range(size * MAX_DRAWS_PER_ROW):
        if len(rows) == size:
            return rows
        hand_seed = derive_seed(seed, "points", "eval", variant.name, i)
        cards = points.draw_hand(derive_rng(hand_seed), variant.cards, variant.draw)
        key = tuple(sorted(cards))
        if key in seen:
            continue
        row = points.make_row(variant.name, cards, 24, template, hand_seed)
        if row is not None:
            seen.add(key)
            rows.append(row)
    raise BuildError(f"points variant {variant.name}: found only {len(rows)} of {size} hands")


def _points_train_chunk(
    job: tuple[BuildConfig, int, frozenset[tuple]], rule: str | None = None
) -> tuple[list[dict], int]:
    """Training hands drawn uniformly (the study's training draw); diverse: under `rule`."""
    from datagen.leakage import points_keys
    from datagen.tasks import points
    from datagen.templates.points import draw_diverse_template, make_template
    from solvers.points import FACE_RULES

    config, start, eval_keys = job
    rows, skipped = [], 0
    for i in range(start, start + CHUNK):
        stream = ("points", "train", i) if rule is None else ("points", "train", rule, i)
        hand_seed = derive_seed(config.seed, *stream)
        rng = derive_rng(hand_seed)
        cards = points.draw_hand(rng, 4, "uniform")
        target = rng.choice(config.targets)
        if rule is not None:
            template = draw_diverse_template(
                rng, {rule: FACE_RULES[rule]}, think=True, wordings=config.wordings
            )
        else:
            template = make_template(
                rule="all_10", faces=FACE_RULES["all_10"], wording=rng.choice(config.wordings)
            )
        if points_keys(cards, template, target, config.holdout) & eval_keys:
            skipped += 1
            continue
        row = points.make_row("train", cards, target, template, hand_seed)
        if row is not None:
            rows.append(row)
    return rows, skipped


# ---------------------------------------------------------------------------------------------
# Orchestration


class Workers:
    """One process pool for a whole build, so that solver caches stay warm in the workers."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        if self.count > 1:
            self.pool = ProcessPoolExecutor(max_workers=self.count)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def map(self, fn: Callable, jobs: list) -> Iterator:
        """Results of fn over jobs, in order."""
        if self.pool is None or len(jobs) <= 1:
            return map(fn, jobs)
        return self.pool.map(fn, jobs)


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
        levels = dict(zip(by_geometry, workers.map(_sokoban_eval_levels, jobs), strict=True))
        results = workers.map(
            _sokoban_eval_rows,
            [(v, levels[v.geometry][: config.eval_size_of(v)]) for v in variants],
        )
    else:
        variants = [v for v in POINTS_EVAL if not config.variants or v.name in config.variants]
        jobs = [(config.seed, v, config.eval_size_of(v)) for v in variants]
        results = workers.map(_points_eval_rows, jobs)
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
        chunk_fn = _sokoban_train_chunk if config.task == "sokoban" else _points_train_chunk
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


# ---------------------------------------------------------------------------------------------
# Writing


def write_parquet(rows: list[dict], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path, compression="zstd", row_group_size=2048)


def _split_volatile(stats: dict) -> tuple[dict, dict]:
    """(stats without the VOLATILE figures, those figures), at any depth."""
    stable, volatile = {}, {}
    for key, value in stats.items():
        if key in VOLATILE:
            volatile[key] = value
        elif isinstance(value, dict):
            stable[key], inner = _split_volatile(value)
            if inner:
                volatile[key] = inner
        else:
            stable[key] = value
    return stable, volatile


def write_task(result: TaskBuild, task_dir: Path) -> dict:
    """Parquet files, build.json and the card of one task; returns build.json's content."""
    from datagen.cards import write_card
    from datagen.figures.cards import write_card_figures
    from datagen.stats import split_stats
    from datagen.versioning import dataset_version, file_digests, fingerprint

    config = result.config
    # An empty split has no schema to write (e.g. a teacher whose traces were all rejected).
    result.configs = {
        name: kept
        for name, splits in result.configs.items()
        if (kept := {split: rows for split, rows in splits.items() if rows})
    }
    for name, splits in result.configs.items():
        for split, rows in splits.items():
            write_parquet(rows, task_dir / "data" / name / f"{split}-00000-of-00001.parquet")
    if result.rejected:
        from teachers import write_jsonl

        write_jsonl(task_dir / "rejected.jsonl", result.rejected)
    options = config.data_options()
    # The fingerprint names the content: the options and the bytes of every data file.
    files = file_digests(
        task_dir, [p.relative_to(task_dir).as_posix() for p in task_dir.glob("data/*/*.parquet")]
    )
    digest = fingerprint(options, files)
    info = {
        "task": config.task,
        "version": __version__,
        "fingerprint": digest,
        "dataset_version": dataset_version(__version__, digest),
        "options": options,
        "seeds": {
            "seed": config.seed,
            "streams": "derive_seed(seed, task, 'train'|'eval'|'template', ...) via SHA-256",
        },
        "configs": {
            name: {split: len(rows) for split, rows in splits.items()}
            for name, splits in result.configs.items()
        },
        "stats": {
            name: {split: split_stats(config.task, rows) for split, rows in splits.items()}
            for name, splits in result.configs.items()
        },
        "leakage": result.leakage,
        "files": files,
        "created_by": f"datagen {__version__}",
    }
    if result.levels:
        info["levels"] = result.levels
    run = {"build_seconds": round(result.seconds, 3)}
    if result.teacher is not None:
        info["teacher"], run["teacher"] = _split_volatile(result.teacher)
    (task_dir / "build.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    (task_dir / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    write_card_figures(task_dir)  # before the card, which links to them
    write_card(task_dir)
    return info


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
