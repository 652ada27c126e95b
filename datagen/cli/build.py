"""`datagen build`, `datagen show`, `datagen stats`: make a dataset folder and look into it.

datagen build --task all --diverse --out out/            # answer-only + rl + eval configs
datagen build --task sokoban --diverse --cot --teacher search --out out/
datagen show out/sokoban --config eval --split fake_cardinal --n 2
datagen stats out/points
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from datagen.cli.options import comma_separated, vllm_parallel_options
from teachers.base import backends


@click.command()
@click.option(
    "--task", type=click.Choice(["sokoban", "points", "all"]), default="all", show_default=True
)
@click.option("--diverse", is_flag=True, help="Study's diversity: a fresh vocabulary/rule per row.")
@click.option("--cot", is_flag=True, help="Add a CoT config written by a teacher, verified.")
@click.option(
    "--teacher",
    type=click.Choice(backends()),
    default="vllm",
    show_default=True,
    help="CoT source (with --cot).",
)
@click.option("--model", default="Qwen/Qwen3-8B", show_default=True, help="Teacher model.")
@click.option(
    "--base-url",
    multiple=True,
    default=("http://127.0.0.1:8000/v1",),
    show_default=True,
    help="OpenAI-compatible server (--teacher openai); repeat for a fleet of servers.",
)
@vllm_parallel_options("--teacher vllm")
@click.option("--api-key", envvar="OPENAI_API_KEY", default="EMPTY", show_default=False)
@click.option(
    "--max-retries",
    type=click.IntRange(0),
    default=6,
    show_default=True,
    help="Tries per teacher request after the first (--teacher openai).",
)
@click.option("--temperature", type=click.FloatRange(0), default=0.6, show_default=True)
@click.option(
    "--top-p", type=click.FloatRange(0, 1, min_open=True), default=0.95, show_default=True
)
@click.option("--top-k", type=int, default=20, show_default=True, help="-1 for none.")
@click.option("--max-tokens", type=click.IntRange(1), default=4096, show_default=True)
@click.option(
    "--max-samples",
    type=click.IntRange(1),
    default=16,
    show_default=True,
    help="Most teacher samples per prompt.",
)
@click.option(
    "--initial-samples",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Samples per prompt in the first round.",
)
@click.option(
    "--keep",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Accepted traces kept per prompt.",
)
@click.option("--preference", is_flag=True, help="Also write chosen/rejected pairs.")
@click.option("--train-size", type=click.IntRange(0), default=10_000, show_default=True)
@click.option(
    "--eval-size",
    type=click.IntRange(0),
    default=None,
    help="Rows per evaluation variant [default: the study's, 100 / 500].",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--wordings",
    callback=comma_separated(),
    default=None,
    help="Opt-in: training wordings, e.g. paper,brief,tutor.",
)
@click.option(
    "--legends",
    callback=comma_separated(),
    default=None,
    help="Opt-in (Sokoban): grid symbol legends, e.g. paper,xsb,letters.",
)
@click.option(
    "--targets",
    callback=comma_separated(int),
    default=None,
    help="Opt-in (points): training targets, e.g. 24,12,36.",
)
@click.option(
    "--min-moves",
    type=int,
    default=1,
    show_default=True,
    help="Sokoban training levels: the shortest optimal solution kept.",
)
@click.option(
    "--max-moves",
    type=int,
    default=30,
    show_default=True,
    help="Sokoban training levels: the longest optimal solution kept (the study's cap).",
)
@click.option(
    "--holdout",
    type=click.Choice(["hands", "values"]),
    default="hands",
    show_default=True,
    help="Points: 'values' also keeps every evaluation value multiset (+ target) out of training.",
)
@click.option(
    "--levels",
    "level_paths",
    multiple=True,
    type=click.Path(path_type=str),
    help="Sokoban: an XSB/Boxoban file or folder of levels instead of the generator "
    "(repeatable; see --levels-split).",
)
@click.option(
    "--levels-split",
    "level_splits",
    multiple=True,
    help="What each --levels becomes: 'train', or an evaluation variant name [default: boxoban].",
)
@click.option("--workers", type=click.IntRange(1), default=2, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--overwrite", is_flag=True, help="Replace an earlier build in --out (only that).")
def build(task: str, cot: bool, out: Path, overwrite: bool, **options: object) -> None:
    """Generate, label and write the datasets (one folder per task under OUT)."""
    from rich.console import Console

    from datagen.build import BuildConfig, BuildError
    from datagen.build import build as run_build

    console = Console(stderr=True)
    cot_options = {
        key: options.pop(key)
        for key in (
            "teacher",
            "model",
            "base_url",
            "api_key",
            "max_retries",
            "tensor_parallel_size",
            "data_parallel_size",
            "temperature",
            "top_p",
            "top_k",
            "max_tokens",
            "max_samples",
            "initial_samples",
            "keep",
            "preference",
        )
    }
    tasks = ["sokoban", "points"] if task == "all" else [task]
    for option, only in (("legends", "sokoban"), ("targets", "points")):
        if options[option] is not None and only not in tasks:
            raise click.UsageError(f"--{option} applies to {only} only; this build is {task}")
    if options["holdout"] != "hands" and "points" not in tasks:
        raise click.UsageError("--holdout values applies to points only; this build is sokoban")
    level_paths, level_splits = options.pop("level_paths"), options.pop("level_splits")
    if level_splits and len(level_splits) != len(level_paths):
        raise click.UsageError("give one --levels-split per --levels (or none: all 'boxoban')")
    try:
        from datagen.levels import LevelSource

        sources = tuple(
            LevelSource(path, split)
            for path, split in zip(
                level_paths, level_splits or ("boxoban",) * len(level_paths), strict=True
            )
        )
        configs = [
            BuildConfig(
                task=name,
                diverse=bool(options["diverse"]),
                train_size=int(options["train_size"]),
                eval_size=options["eval_size"],
                seed=int(options["seed"]),
                wordings=options["wordings"] or ("paper",),
                legends=(options["legends"] or ("paper",)) if name == "sokoban" else ("paper",),
                targets=(options["targets"] or (24,)) if name == "points" else (24,),
                workers=int(options["workers"]),
                min_moves=int(options["min_moves"]),
                max_moves=int(options["max_moves"]),
                cot=cot_options if cot else None,
                # --task all: the collections feed Sokoban; --task points refuses them.
                levels=sources if name == "sokoban" or task != "all" else (),
                holdout=str(options["holdout"]) if name == "points" else "hands",
            )
            for name in tasks
        ]
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if cot:
        from datagen.cot import check_teacher

        try:
            check_teacher(cot_options)
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        except RuntimeError as error:
            raise click.ClickException(str(error)) from None
    from solvers.sokoban import LabelError
    from teachers import TeacherError

    try:
        infos = run_build(configs, out, overwrite=overwrite, console=console)
    except (BuildError, TeacherError, LabelError) as error:
        raise click.ClickException(str(error)) from None
    for name, info in infos.items():
        counts = ", ".join(
            f"{config} {sum(splits.values())}" for config, splits in info["configs"].items()
        )
        console.print(f"[bold]{name}[/] v{info['dataset_version']}: {counts} -> {out / name}")
    click.echo(json.dumps({name: str(out / name) for name in infos}))


def _task_dir(spec: str, task: str | None = None) -> Path:
    """A local task folder, a build folder holding one task, or a Hub id OWNER/NAME[@rev]."""
    from datagen.hub import resolve_data

    return resolve_data(spec, task=task)


@click.command()
@click.argument("path")
@click.option(
    "--task",
    type=click.Choice(["sokoban", "points"]),
    default=None,
    help="Task, when PATH holds several.",
)
@click.option("--config", "config_name", default=None, help="Config [default: the first].")
@click.option("--split", default=None, help="Split [default: the first].")
@click.option("--n", "count", type=click.IntRange(1), default=3, show_default=True)
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw the rows into this PNG (Sokoban boards, General Points cards).",
)
def show(
    path: str,
    task: str | None,
    config_name: str | None,
    split: str | None,
    count: int,
    png: Path | None,
) -> None:
    """Print rendered rows of a built or pulled task folder (or a Hub id OWNER/NAME[@rev])."""
    from datagen.cards import CardError, parquet_files, read_rows

    task_dir = _task_dir(path, task)
    try:
        configs = parquet_files(task_dir)  # {config: {split: [files]}}
    except CardError as error:
        raise click.ClickException(str(error)) from None
    if not configs:
        raise click.ClickException(f"{task_dir}/data holds no parquet files")
    config_name = config_name or sorted(configs)[0]
    if config_name not in configs:
        raise click.BadParameter(
            f"no config {config_name!r}; have {', '.join(sorted(configs))}", param_hint="--config"
        )
    splits = sorted(configs[config_name])
    split = split or splits[0]
    if split not in splits:
        raise click.BadParameter(
            f"no split {split!r}; have {', '.join(splits)}", param_hint="--split"
        )
    try:
        rows = read_rows(task_dir / configs[config_name][split][0], limit=count)
    except CardError as error:
        raise click.ClickException(str(error)) from None
    for index, row in enumerate(rows):
        try:
            head = f"=== {row['id']}  {row['task']}/{row['variant']}  ({config_name}/{split})"
            messages = [
                (m["role"], m["content"]) for m in row["prompt"] + (row.get("completion") or [])
            ]
            solution = json.dumps(row["solution"], ensure_ascii=False, default=str)
        except (KeyError, TypeError) as error:
            raise click.ClickException(
                f"{config_name}/{split} row {index} lacks the row schema ({error!r}): is this "
                "a folder written by `datagen build`?"
            ) from None
        click.echo(head)
        for role, content in messages:
            click.echo(f"--- {role}\n{content}")
        click.echo(f"--- solution {solution}\n")
    if png is not None:
        from datagen.figures import boards_figure

        try:
            boards_figure(rows, png)
        except OSError as error:
            raise click.ClickException(f"cannot write {png}: {error.strerror or error}") from None
        click.echo(f"drew {len(rows)} rows into {png}", err=True)


@click.command()
@click.argument("path")
@click.option(
    "--task",
    type=click.Choice(["sokoban", "points"]),
    default=None,
    help="Task, when PATH holds several.",
)
@click.option("--json", "as_json", is_flag=True, help="Print build.json's stats as JSON.")
def stats(path: str, task: str | None, as_json: bool) -> None:
    """Print the stats tables of a built task folder (or a Hub id OWNER/NAME[@rev])."""
    from rich.console import Console
    from rich.table import Table

    from datagen.cards import CardError, check_files, load_build, parquet_files

    task_dir = _task_dir(path, task)
    try:
        # The figures describe the files build.json names: refuse them when the files are gone
        # or are not the ones the build wrote.
        info = load_build(task_dir)
        check_files(task_dir, info, parquet_files(task_dir))
    except CardError as error:
        raise click.ClickException(" ".join(str(error).split())) from None
    stats = info.get("stats")
    if not isinstance(stats, dict):
        raise click.ClickException(f"{task_dir}/build.json records no stats")
    if as_json:
        click.echo(json.dumps(stats, indent=2, ensure_ascii=False))
        return
    console = Console(file=sys.stdout)
    leakage = info.get("leakage") or {}
    console.print(
        f"[bold]{info['task']}[/] {info['dataset_version']}  leakage: "
        f"{leakage.get('overlaps')} overlaps"
    )
    for config, splits in stats.items():
        if not splits:
            continue
        table = Table(title=config, title_justify="left")
        figures = [k for k in next(iter(splits.values())) if k != "rows"]
        table.add_column("split")
        table.add_column("rows", justify="right")
        for figure in figures:
            table.add_column(figure)
        for split, figures_of_split in splits.items():
            cells = []
            for figure in figures:
                value = figures_of_split.get(figure, "")
                if isinstance(value, dict) and "mean" in value:
                    value = f"{value['mean']:.2f} [{value['min']}-{value['max']}]"
                elif isinstance(value, dict):
                    value = " ".join(f"{k}:{v}" for k, v in list(value.items())[:8])
                cells.append(str(value))
            table.add_row(split, str(figures_of_split["rows"]), *cells)
        console.print(table)
