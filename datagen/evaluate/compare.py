"""Several evaluation results side by side: one Table-1 layout with a column per run.

    datagen report runs/ao/eval runs/diverse/eval --out report/   # report.md, .json, .png

Each input is a `results.json` written by `datagen eval --out` (or the folder holding it). Rows
are the variants in the study's order, grouped as in its Table 1; each cell holds success and
instruction validity (percent). Runs are named after their folders unless `names` says otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datagen.figures.style import grouped


class ReportError(ValueError):
    """An input that is not an evaluation result (the message says which and why)."""


def load_results(path: Path) -> dict[str, Any]:
    """The `metrics` of one results.json (a file, or a folder holding one)."""
    file = path / "results.json" if path.is_dir() else path
    try:
        results = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(
            f"{path}: no results.json (write one with `datagen eval --out`)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportError(f"{file}: not a readable results.json ({error})") from None
    metrics = results.get("metrics") if isinstance(results, dict) else None
    if not isinstance(metrics, dict) or not all(isinstance(v, dict) for v in metrics.values()):
        raise ReportError(f"{file}: no `metrics` of `datagen eval` in it")
    return metrics


def run_names(paths: list[Path], names: list[str] | None = None) -> list[str]:
    """Given names, or each run's folder name (made unique with its parent when they clash)."""
    if names:
        if len(names) != len(paths):
            raise ReportError(f"{len(names)} names for {len(paths)} results")
        return list(names)
    folders = [(p.parent if p.is_file() else p).resolve() for p in paths]
    plain = [f.name for f in folders]
    return [f"{f.parent.name}/{f.name}" if plain.count(f.name) > 1 else f.name for f in folders]


def compare(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """{"runs": [...], "tasks": {task: {variant: {run: {"success", "validity"}}}}}."""
    from datagen.evaluate.report import _suite_order

    tasks: dict[str, dict[str, dict[str, dict]]] = {}
    for task in sorted({t for metrics in runs.values() for t in metrics}):
        rank = {name: i for i, name in enumerate(_suite_order(task))}
        variants = sorted(
            {v for metrics in runs.values() for v in metrics.get(task, {})},
            key=lambda v: (rank.get(v, len(rank)), v),
        )
        tasks[task] = {
            variant: {
                run: {k: metrics[task][variant][k] for k in ("success", "validity")}
                for run, metrics in runs.items()
                if variant in metrics.get(task, {})
            }
            for variant in [v for _, members in grouped(variants) for v in members]
        }
    return {"runs": list(runs), "tasks": tasks}


def markdown(table: dict[str, Any]) -> str:
    """Per task: rows = variants (grouped), columns = runs, cells `success / validity` in %."""
    runs = table["runs"]
    lines = ["Cells: success % / instruction validity %.", ""]
    for task, variants in table["tasks"].items():
        lines += [f"### {task}", "", "| Group | Variant | " + " | ".join(runs) + " |"]
        lines.append("|---|---|" + "---:|" * len(runs))
        groups = dict(grouped(list(variants)))
        for group, members in groups.items():
            for variant in members:
                cells = []
                for run in runs:
                    m = variants[variant].get(run)
                    cells.append(
                        "—"
                        if m is None
                        else f"{100 * m['success']:.1f} / {100 * m['validity']:.1f}"
                    )
                lines.append(f"| {group} | {variant} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
