"""Sokoban rows from a level collection: `datagen build --task sokoban --levels FILE_OR_DIR`.

A `LevelSource` names a collection (an XSB/Boxoban file or folder, `solvers.sokoban.collection`)
and what it becomes: `train` (training rows instead of the generator's) or an evaluation
variant (default `boxoban`; any other lower-case name works too). Every state is labelled
move-optimally with all its optimal next actions by the A* labeller (`solvers.sokoban.labels`),
under a per-level node budget (deterministic: the same levels are skipped on any machine) and a
time limit (a safety net). Levels over the budget, malformed or over the size limit are counted,
listed in build.json["levels"] and skipped, never dropped silently. Levels are visited in a
seeded order, so evaluation variants are samples of the collection.

    from datagen.levels import LevelSource, collection_eval_rows, collection_train_rows
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from datagen.seeding import derive_rng
from datagen.suites import collection_variant

DEFAULT_SPLIT = "boxoban"
LEVEL_MAX_NODES = 300_000  # expanded nodes per level, all its searches together
LEVEL_TIME_LIMIT = 300.0  # seconds per level: only a safety net, the node budget decides
LEVELS_PER_JOB = 8
MAX_WARNINGS = 20
_SPLIT = re.compile(r"[a-z][a-z0-9-]{0,39}")


@dataclass(frozen=True)
class LevelSource:
    path: str
    split: str = DEFAULT_SPLIT  # "train" or the name of an evaluation variant

    def __post_init__(self) -> None:
        from datagen.suites import SOKOBAN_EVAL

        if not _SPLIT.fullmatch(self.split):
            raise ValueError(
                f"--levels-split {self.split!r}: 'train' or a variant name of lower-case letters, "
                "digits and '-'"
            )
        if self.split in {v.name for v in SOKOBAN_EVAL}:
            raise ValueError(f"--levels-split {self.split!r} is a generated variant; pick another")

    def collection(self) -> Any:
        """The parsed collection (read once per file state); raises ValueError, one line."""
        path = Path(self.path).resolve()
        try:
            stat = path.stat()
        except OSError:
            stat = None
        return _read(str(path), None if stat is None else (stat.st_mtime_ns, stat.st_size))

    def describe(self) -> dict:
        """What the fingerprint sees: the split and the content, not where it lies."""
        c = self.collection()
        return {"split": self.split, "sha256": c.sha256, "files": len(c.files)}


@lru_cache(maxsize=16)
def _read(path: str, _stamp: object) -> Any:
    from solvers.sokoban.collection import read_collection

    return read_collection(Path(path))


def check_sources(sources: tuple[LevelSource, ...], task: str) -> None:
    """Option checks before any work: Sokoban only, one train source, distinct splits."""
    if not sources:
        return
    if task != "sokoban":
        raise ValueError("--levels is for --task sokoban")
    splits = [s.split for s in sources]
    if len(set(splits)) != len(splits):
        raise ValueError(f"--levels-split names repeat: {', '.join(splits)}")
    for source in sources:
        source.collection()  # a missing path or an empty collection fails here, one line


def _template_for(config: Any, index: int) -> Callable[[int], dict]:
    from datagen.templates.sokoban import draw_diverse_template, make_template

    def template_for(step: int) -> dict:
        rng = derive_rng(config.seed, "sokoban", "levels-template", index, step)
        if config.diverse:
            return draw_diverse_template(
                rng, think=True, wordings=config.wordings, legends=config.legends
            )
        return make_template(
            think=True, wording=rng.choice(config.wordings), symbols=rng.choice(config.legends)
        )

    return template_for


def _eval_template(split: str) -> dict:
    from datagen.templates.sokoban import make_template

    variant = collection_variant(split)
    return make_template(
        vocabulary=variant.vocabulary,
        scored_vocabulary=variant.scored,
        show_answers=variant.show_answers,
        think=True,
    )


def _meta(index: int, step: int, remaining: str, start_length: int, level: Any) -> dict:
    return {
        "seed": index,  # the level's position in the collection's seeded order
        "step": step,
        "optimal_length": len(remaining),
        "pushes": sum(c.isupper() for c in remaining),
        "start_length": start_length,
        "boxes": len(level.boxes),
        "height": level.height,
        "width": level.width,
    }


def _label_job(job: tuple[Any, str, list[tuple[int, Any]]]) -> list[tuple[int, Any, Any]]:
    """Rows of a few levels: (index, rows or None, the reason a level was skipped)."""
    from datagen.tasks import sokoban
    from solvers.sokoban.labels import astar_actions, astar_trajectory

    config, split, levels = job
    out = []
    for index, level in levels:
        if split != "train":
            actions, moves, reason = astar_actions(
                level, time_limit=LEVEL_TIME_LIMIT, max_nodes=LEVEL_MAX_NODES
            )
            if reason is None and not moves:
                reason = "already solved"
            if reason is not None:
                out.append((index, None, reason))
                continue
            solution = {"actions": list(actions), "moves": moves, "length": len(moves)}
            meta = _meta(index, 0, moves, len(moves), level)
            out.append(
                (
                    index,
                    [sokoban.make_row(split, level, _eval_template(split), solution, meta)],
                    None,
                )
            )
            continue
        steps, reason = astar_trajectory(
            level, time_limit=LEVEL_TIME_LIMIT, max_nodes=LEVEL_MAX_NODES
        )
        if reason is None and not steps:
            reason = "already solved"
        if reason is not None:
            out.append((index, None, reason))
            continue
        states = [state for state, _ in steps]
        moves = sokoban._lurd(states, [actions[0] for _, actions in steps])
        template_for = _template_for(config, index)
        rows = []
        for i, (state, actions) in enumerate(steps):
            remaining = moves[i:]
            solution = {"actions": list(actions), "moves": remaining, "length": len(remaining)}
            meta = _meta(index, i, remaining, len(moves), level)
            rows.append(sokoban.make_row("train", state, template_for(i), solution, meta))
        out.append((index, rows, None))
    return out


def _order(config: Any, source: LevelSource) -> list[tuple[int, Any]]:
    """The collection's levels in a seeded order: (position in that order, entry)."""
    entries = list(source.collection().entries)
    derive_rng(config.seed, "sokoban", "levels", source.split).shuffle(entries)
    return list(enumerate(entries))


def collect_rows(
    config: Any,
    source: LevelSource,
    wanted: int,
    accept: Callable[[list[dict]], bool],
    workers: Any,
) -> tuple[list[dict], dict]:
    """Rows of the collection's levels in seeded order until `wanted` rows (or levels run out).

    `accept(rows)` decides whether a labelled level's rows are kept (the leakage filter);
    returns (rows, the report for build.json).
    """
    collection = source.collection()
    order = _order(config, source)
    where = {index: entry.where for index, entry in order}
    rows: dict[str, dict] = {}
    skipped: list[dict] = []
    leaked = duplicates = labelled = 0
    position = 0
    while len(rows) < wanted and position < len(order):
        # Label about as many levels as the missing rows need (a training level gives ~20 rows
        # until measured); which levels are labelled never changes which rows are kept.
        per_level = 1 if source.split != "train" else (len(rows) // labelled if labelled else 20)
        levels_needed = -(-(wanted - len(rows)) // max(1, per_level))
        size = min(LEVELS_PER_JOB, levels_needed)
        wave = []
        for _ in range(min(max(1, config.workers) * 2, -(-levels_needed // size))):
            chunk = order[position : position + size]
            position += len(chunk)
            if chunk:
                wave.append((config, source.split, [(i, e.level) for i, e in chunk]))
        for results in workers.map(_label_job, wave):
            for index, level_rows, reason in results:
                if len(rows) >= wanted:
                    break
                if level_rows is None:
                    skipped.append({"level": where[index], "reason": reason})
                    continue
                labelled += 1
                if not accept(level_rows):
                    leaked += 1
                    continue
                for row in level_rows:
                    if len(rows) == wanted:
                        break
                    if row["id"] in rows:
                        duplicates += 1
                        continue
                    rows[row["id"]] = row
    report = {
        "source": Path(collection.root).name,
        "files": list(collection.files),
        "sha256": collection.sha256,
        "levels_read": len(collection.entries),
        "malformed_or_too_large": list(collection.errors),
        "labelled": labelled,
        "skipped_over_budget": skipped,
        "budget": {"nodes_per_level": LEVEL_MAX_NODES, "seconds_per_level": LEVEL_TIME_LIMIT},
        "skipped_for_leakage": leaked,
        "duplicates_dropped": duplicates,
        "rows": len(rows),
        "rows_asked": wanted,
    }
    return list(rows.values()), report


def collection_eval(config: Any, workers: Any) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Evaluation variants from the collections: ({variant: rows}, {variant: report})."""
    from datagen.build import BuildError

    variants: dict[str, list[dict]] = {}
    reports: dict[str, dict] = {}
    for source in config.levels:
        if source.split == "train":
            continue
        size = (
            collection_variant(source.split).size if config.eval_size is None else config.eval_size
        )
        rows, report = collect_rows(config, source, size, lambda rows: True, workers)
        if size and not rows:
            raise BuildError(
                f"--levels {source.path}: no level could be labelled ({report_line(report)})"
            )
        variants[source.split], reports[source.split] = rows, report
    return variants, reports


def collection_train(
    config: Any, accept: Callable[[list[dict]], bool], workers: Any
) -> tuple[list[dict], dict[str, int], dict[str, dict]] | None:
    """Training rows from the `train` collection, or None when there is none."""
    from datagen.build import BuildError

    source = next((s for s in config.levels if s.split == "train"), None)
    if source is None:
        return None
    rows, report = collect_rows(config, source, config.train_size, accept, workers)
    if config.train_size and not rows:
        raise BuildError(f"--levels {source.path}: no training rows ({report_line(report)})")
    counts = {k: report[k] for k in ("skipped_for_leakage", "duplicates_dropped")}
    return rows, counts, {"train": report}


def report_line(report: dict) -> str:
    """One line for the console: what a collection gave."""
    return (
        f"{report['levels_read']} levels read, {len(report['malformed_or_too_large'])} malformed "
        f"or too large, {len(report['skipped_over_budget'])} over the solver's budget, "
        f"{report['skipped_for_leakage']} leaking, {report['rows']} of {report['rows_asked']} rows"
    )


def warn(console: Any, reports: dict[str, dict]) -> None:
    """One line per malformed or skipped level (the first MAX_WARNINGS), one summary each."""
    if console is None:
        return
    from rich.markup import escape  # file names and level text are the user's, not markup

    for split, report in reports.items():
        lines = report["malformed_or_too_large"] + [
            f"{s['level']}: {s['reason']}" for s in report["skipped_over_budget"]
        ]
        for line in lines[:MAX_WARNINGS]:
            text = f"[yellow]levels {split}: skipped {escape(line)}[/]"
            console.print(text, soft_wrap=True, highlight=False)
        if len(lines) > MAX_WARNINGS:
            more = len(lines) - MAX_WARNINGS
            console.print(f"[yellow]levels {split}: ... {more} more in build.json[/]")
        summary = escape(f"levels {split}: {report_line(report)}")
        console.print(summary, soft_wrap=True, highlight=False)
