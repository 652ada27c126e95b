"""The audit of any task folder, ours or imported: labels re-verified, duplicates, leaks, figures.

    from datagen.importers.audit import audit_folder
    report = audit_folder(Path("imported/sokoban"), against=[Path("out/sokoban")])

Command line: `datagen audit DIR [--against BUILD]` (prints the JSON below); `datagen import`
writes the same report to `DIR/<task>/audit.json`.

- labels: every row's label is checked by our exact solvers. Sokoban: `optimal` (one of the
  move-optimal next actions), `not_optimal` (legal, not optimal), `illegal` (not a word of the
  row's vocabulary, or a blocked move); General Points: `correct` / `wrong` (every formula the
  row gives as its label must use exactly the scored values and make the target). `unreadable`
  counts rows the importer could not read (listed with index and reason). The label of an
  imported row is the study's (`meta.label`); of our rows, the completion's answer, else the
  first action / formula of `solution`.
- duplicates: rows of one split that pose the same canonical state as an earlier row (Sokoban:
  the grid; General Points: the hand under its shown and scored face rule, with the target).
- leaks: training rows whose state is a state of an evaluation split: the folder's own `eval`
  config (for an import, the study's test splits) and the `eval` config of every `--against`
  build.
- stats: the distribution figures of every split (`distribution.py`).
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from datagen.importers.distribution import distribution

SOKOBAN_LABELS = ("optimal", "not_optimal", "illegal", "unreadable")
POINTS_LABELS = ("correct", "wrong", "unreadable")
AUDIT_NAME = "audit.json"


# ---------------------------------------------------------------------------------------------
# Keys


def state_key(task: str, row: dict) -> Any:
    if task == "sokoban":
        return row["instance"]["grid"]
    return _hand_keys(*_hand(row))


def _points_keys(row: dict) -> set:
    return set(_hand_keys(*_hand(row)))


def _hand(row: dict) -> tuple:
    template = row["template"]
    return (
        tuple(row["instance"]["cards"]),
        tuple(template["faces"]),
        tuple(template["scored_faces"]),
        row["instance"]["target"],
    )


@lru_cache(maxsize=1 << 16)  # hands repeat: a study split poses a few thousand distinct ones
def _hand_keys(cards: tuple, faces: tuple, scored: tuple, target: int) -> frozenset:
    from datagen.tasks.points import leakage_keys

    return frozenset(leakage_keys(list(cards), {"faces": faces, "scored_faces": scored}, target))


def eval_keys(task: str, rows: Iterable[dict]) -> set:
    keys: set = set()
    for row in rows:
        if task == "sokoban":
            keys.add(row["instance"]["grid"])
        else:
            keys |= _points_keys(row)
    return keys


def _leaks(task: str, key: Any, keys: set) -> bool:
    """Whether a row's state_key is among an evaluation split's keys."""
    return key in keys if task == "sokoban" else not keys.isdisjoint(key)


# ---------------------------------------------------------------------------------------------
# Labels


def _index(row: dict, position: int) -> int:
    source = (row.get("meta") or {}).get("source")
    return source["index"] if isinstance(source, dict) and "index" in source else position


def _completion(row: dict) -> str | None:
    completion = row.get("completion")
    if not completion:
        return None
    return (row["template"].get("prefill") or "") + completion[0]["content"]


class Checker:
    """Re-verifies labels; the caches are shared with the importer (one parse, one search)."""

    def __init__(self, task: str, converter: Any = None) -> None:
        self.task = task
        if converter is None:
            from datagen.importers.points import PointsRows
            from datagen.importers.sokoban import SokobanRows

            converter = SokobanRows() if task == "sokoban" else PointsRows()
        self.converter = converter
        self.verdicts: dict[tuple, bool] = {}
        self.formulas: dict[tuple, bool] = {}

    def verdict(self, row: dict) -> tuple[str, bool]:
        """(label verdict, whether the row's stored solution agrees with the solver's)."""
        return self._sokoban(row) if self.task == "sokoban" else self._points(row)

    def _sokoban(self, row: dict) -> tuple[str, bool]:
        from datagen.tasks.sokoban import parse_action

        level = self.converter.level(row["instance"]["grid"])
        actions, _, _ = self.converter.label(level)
        meta = row.get("meta") or {}
        if "label" in meta:
            label = meta["label"]
        elif (text := _completion(row)) is not None:
            label = parse_action(text, row["template"])
        else:
            moves = row["solution"].get("moves") or ""
            label = moves[0].lower() if moves else None
        stored = row["solution"].get("actions") or []
        agrees = stored == list(actions) or sorted(stored) == sorted(actions)
        if label in actions:  # an optimal action is a legal one
            return "optimal", agrees
        if label is None or level.step(label) is None:
            return "illegal", agrees
        return "not_optimal", agrees

    def _points(self, row: dict) -> tuple[str, bool]:
        cards, faces = row["instance"]["cards"], row["template"]["scored_faces"]
        values = self.converter.values(cards, faces)
        target = row["instance"]["target"]
        meta = row.get("meta") or {}
        if "label" in meta:
            labels = list(meta["label"] or [])
        elif (text := _completion(row)) is not None:
            labels = [text]
        else:
            labels = list(row["solution"].get("formulas") or [])[:1]
        ok = bool(labels) and all(self._correct(text, values, target) for text in labels)
        stored = tuple(row["solution"].get("formulas") or ())
        agrees = stored == self.converter.solutions(values, target)
        return ("correct" if ok else "wrong"), agrees

    def _correct(self, text: str, values: tuple[int, ...], target: int) -> bool:
        """Whether a label (a JSON answer, a CoT text, or a bare formula) is exactly right."""
        hand = (tuple(sorted(values)), target)
        hit = self.verdicts.get((text, *hand))
        if hit is None:
            from solvers.points import extract_formula, judge_formula

            formula = extract_formula(text) if "{" in text or "</think>" in text else text
            key = (formula, *hand)  # many answer texts, few formulas per hand
            if key not in self.formulas:
                self.formulas[key] = judge_formula(formula, values, target).value == "correct"
            hit = self.verdicts[(text, *hand)] = self.formulas[key]
        return hit


# ---------------------------------------------------------------------------------------------
# The audit


def audit_configs(
    task: str,
    configs: dict[str, dict[str, list[dict]]],
    *,
    source: Any,
    layout: Any,
    unreadable: list[dict] | None = None,
    against: dict[str, set] | None = None,
    checker: Checker | None = None,
) -> dict[str, Any]:
    """The audit report of rows grouped {config: {split: rows}} (see the module docstring)."""
    checker = checker or Checker(task)
    unreadable = list(unreadable or [])
    names = SOKOBAN_LABELS if task == "sokoban" else POINTS_LABELS
    labels = Counter({name: 0 for name in names})
    labels["unreadable"] = len(unreadable)
    by_split: dict[str, dict[str, int]] = {}
    defects: dict[str, list[dict]] = {
        name: [] for name in names if name not in ("optimal", "correct", "unreadable")
    }
    mismatch = 0
    duplicates: list[dict] = []
    stats: dict[str, dict[str, Any]] = {}
    row_keys: dict[tuple[str, str], list] = {}
    for config, splits in configs.items():
        for split, rows in splits.items():
            counts = Counter({name: 0 for name in names if name != "unreadable"})
            first_of: dict[Any, int] = {}
            keys = row_keys[(config, split)] = []
            for position, row in enumerate(rows):
                verdict, agrees = checker.verdict(row)
                counts[verdict] += 1
                mismatch += not agrees
                index = _index(row, position)
                if verdict in defects:
                    defects[verdict].append({"config": config, "split": split, "index": index})
                key = state_key(task, row)
                keys.append(key)
                if key in first_of:
                    duplicates.append(
                        {"config": config, "split": split, "index": index, "first": first_of[key]}
                    )
                else:
                    first_of[key] = index
            labels.update(counts)
            by_split[f"{config}/{split}"] = dict(counts)
            stats.setdefault(config, {})[split] = distribution(task, rows)
    against = dict(against or {})
    own = [k for (c, _), keys in row_keys.items() if c == "eval" for k in keys]
    if own:
        against = {"eval config": set(own) if task == "sokoban" else set().union(*own), **against}
    leak_counts = {name: 0 for name in against}
    leaked: list[dict] = []
    for config, splits in configs.items() if against else ():
        if config == "eval":
            continue
        for split, rows in splits.items():
            for position, (row, key) in enumerate(
                zip(rows, row_keys[(config, split)], strict=True)
            ):
                hits = [name for name, keys in against.items() if _leaks(task, key, keys)]
                for name in hits:
                    leak_counts[name] += 1
                if hits:
                    leaked.append(
                        {
                            "config": config,
                            "split": split,
                            "index": _index(row, position),
                            "in": hits,
                        }
                    )
    return {
        "task": task,
        "source": source,
        "layout": layout,
        "rows": sum(len(rows) for splits in configs.values() for rows in splits.values())
        + len(unreadable),
        "splits": {c: {s: len(r) for s, r in splits.items()} for c, splits in configs.items()},
        "labels": {name: labels[name] for name in names},
        "labels_by_split": by_split,
        "defects": defects,
        "unreadable": unreadable,
        "solution_mismatch": mismatch,
        "duplicates": {"rows": len(duplicates), "list": duplicates},
        "leaks": {
            "rows": len(leaked),
            "checked_against": sorted(against),
            "by_suite": leak_counts,
            "key": "grid" if task == "sokoban" else "hand + face rule (shown and scored) + target",
            "list": leaked,
        },
        "stats": stats,
    }


def read_configs(task_dir: Path) -> dict[str, dict[str, list[dict]]]:
    """Every row of a task folder as {config: {split: rows}}, in the folder's order."""
    import pyarrow.parquet as pq

    from datagen.cards import parquet_files

    out: dict[str, dict[str, list[dict]]] = {}
    for config, splits in parquet_files(task_dir).items():
        for split, files in splits.items():
            rows: list[dict] = []
            for rel in files:
                rows.extend(pq.read_table(task_dir / rel).to_pylist())
            for row in rows:  # a build may store nested columns as JSON text
                for key in ("prompt", "completion", "instance", "template", "solution", "meta"):
                    if isinstance(row.get(key), str):
                        row[key] = json.loads(row[key])
            out.setdefault(config, {})[split] = rows
    return out


def suite_keys(folders: Iterable[Path], task: str) -> dict[str, set]:
    """{folder: keys of its eval config} for the `--against` builds (the task's folder in each)."""
    from datagen.cards import task_dirs
    from datagen.importers.layouts import ImportFailure

    out: dict[str, set] = {}
    for folder in folders:
        found = [
            d
            for d in task_dirs(Path(folder))
            if d.name == task or len(task_dirs(Path(folder))) == 1
        ]
        matching = [
            d for d in found if json.loads((d / "build.json").read_text()).get("task") == task
        ]
        if not matching:
            raise ImportFailure(f"--against {folder}: no {task} build folder there")
        rows = read_configs(matching[0]).get("eval", {})
        if not rows:
            raise ImportFailure(f"--against {matching[0]}: no eval config to compare with")
        out[str(folder)] = eval_keys(task, (row for split in rows.values() for row in split))
    return out


@contextlib.contextmanager
def bulk_rows() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of rows are built.

    Rows are trees of dicts and lists without cycles, so reference counting frees them all the
    same; the collector would only re-scan every live row each time a few hundred containers
    are allocated, which costs an import a third of its time. It runs again afterwards, with
    what outlives the rows (the solvers' caches, some 200,000 tuples) frozen: its first pass
    would scan them all only to find them alive, 0.15 s per import.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def report_json(value: Any, indent: str = "") -> str:
    """The report as JSON text: objects indented by two spaces, each entry of a list on a line
    of its own (thousands of listed rows stay readable, and the C encoder writes them)."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = (
            f"{inner}{_compact(k if isinstance(k, str) else _compact(k))}: {report_json(v, inner)}"
            for k, v in value.items()
        )
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(inner + _compact(v) for v in value) + f"\n{indent}]"
    return _compact(value)


_compact = json.JSONEncoder(ensure_ascii=False, default=sorted).encode  # sets as sorted lists


def audit_folder(task_dir: Path, against: Iterable[Path] = ()) -> dict[str, Any]:
    """The audit of a task folder written by `datagen build`, `datagen import` or a pull."""
    with bulk_rows():
        return _audit_folder(task_dir, against)


def _audit_folder(task_dir: Path, against: Iterable[Path]) -> dict[str, Any]:
    from datagen.cards import load_build

    task_dir = Path(task_dir)
    build = load_build(task_dir)
    task = build["task"]
    source = build.get("source") or {
        "kind": "datagen build",
        "dataset_version": build["dataset_version"],
    }
    imported = build.get("source") is not None
    layout = (
        {s: v["layout"] for s, v in (source.get("splits") or {}).items()} if imported else "datagen"
    )
    unreadable = []
    if imported and (task_dir / AUDIT_NAME).is_file():
        unreadable = json.loads((task_dir / AUDIT_NAME).read_text()).get("unreadable", [])
    return audit_configs(
        task,
        read_configs(task_dir),
        source=source,
        layout=layout,
        unreadable=unreadable,
        against=suite_keys(against, task),
    )
