"""Read the study's 12 published datasets (or any Parquet in their layouts) into our schema.

    from datagen.importers import import_source
    import_source("Xiaofeng77/diverse-answer-only-sokoban", Path("imported"))
    # -> {"sokoban": Path("imported/sokoban")}: data/<config>/<split>-*.parquet, build.json,
    #    audit.json, README.md

Command line: `datagen import SOURCE --out DIR [--against BUILD]`, `datagen audit DIR`
(datagen/cli/importer.py); `datagen pull` hands a repo that is not a datagen build to
`import_snapshot`.

SOURCE is a Hub id `OWNER/NAME[@revision]` (downloaded with huggingface_hub's
snapshot_download), a folder as snapshot_download leaves it (`README.md`,
`data/<split>-0000k-of-0000N.parquet`), or one Parquet file. Each split's layout is recognised
by its columns (datagen.importers.layouts); every row is converted (datagen.importers.sokoban,
.points) and audited (datagen.importers.audit). A row that cannot be read is listed in
audit.json with its index and reason, never dropped silently. Configs are named as ours:
`rl`/`diverse-rl`, `answer-only`/`diverse-answer-only`, `cot`/`diverse-cot` for training splits
and `eval` for the study's test splits (one split per test set). Nothing is written at `--out`
unless the whole import succeeds.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.importers.layouts import ImportFailure, Layout, detect, is_test_split

__all__ = ["ImportFailure", "Source", "import_snapshot", "import_source", "read_source"]

_SHARD = re.compile(r"(?P<split>\w+?)(?:-\d+-of-\d+)?\.parquet")
# The study's test sets -> our evaluation variant names (datagen.suites) where one matches.
TEST_VARIANTS = {
    "test": "study-test",
    "test_id": "id",
    "test_5cards": "five-cards",
    "test_large": "large",
    "test_face_card_as_regular": "face-regular",
    "test_all_12": "all-12",
    "test_all_7": "all-7",
    "test_all_5": "all-5",
    "test_fake": "fake",
    "test_all_5_fake": "all-5-fake",
}
# Per-row failures of hostile input: the row is listed as unreadable, the import goes on.
_ROW_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)
# The columns the converters read (datagen.importers.sokoban / .points), per task.
READ_COLUMNS = {
    "sokoban": ("prompt", "response", "reward_model"),
    "points": ("question", "answer", "extra_info", "data_source"),
}


@dataclass
class Source:
    """Where the rows come from and its Parquet files per split."""

    kind: str  # hub | folder | file
    name: str  # the repo id or the path as given
    revision: str | None
    files: dict[str, list[Path]] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        out["repo" if self.kind == "hub" else "path"] = self.name
        if self.kind == "hub":
            out["revision"] = self.revision or "main"
        return out


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _split_files(folder: Path) -> dict[str, list[Path]]:
    found = sorted((folder / "data").glob("**/*.parquet")) or sorted(folder.glob("*.parquet"))
    files: dict[str, list[Path]] = {}
    for path in found:
        match = _SHARD.fullmatch(path.name)
        split = match["split"] if match else path.stem
        files.setdefault(split, []).append(path)
    return files


def read_source(
    source: str,
    work: Path,
    *,
    revision: str | None = None,
    api: Any = None,
    token: str | None = None,
) -> Source:
    """Resolve SOURCE to its Parquet files (downloading a Hub dataset into `work`)."""
    from datagen import hub

    path = Path(source).expanduser()
    if path.is_file():
        if path.suffix != ".parquet":
            raise ImportFailure(f"{source}: not a .parquet file")
        match = _SHARD.fullmatch(path.name)
        return Source("file", source, None, {match["split"] if match else "train": [path]})
    if path.is_dir():
        files = _split_files(path)
        if not files:
            raise ImportFailure(f"{source}: no Parquet files (expected data/<split>-*.parquet)")
        return Source("folder", source, None, files)
    if not hub.is_repo_spec(source):
        raise ImportFailure(f"{source}: no such file or folder, and not a Hub id OWNER/NAME[@REV]")
    repo_id, at = hub.parse_repo_spec(source)
    if revision and at and revision != at:
        raise ImportFailure(
            f"two revisions given: {at!r} in {source!r} and --revision {revision!r}"
        )
    revision = revision or at
    snapshot = hub._download(repo_id, revision, local_dir=work, token=token, api=api)
    files = _split_files(snapshot)
    if not files:
        raise ImportFailure(f"{repo_id}@{revision or 'main'}: the repo holds no Parquet files")
    return Source("hub", repo_id, revision, files)


def _read(files: list[Path], where: str) -> tuple[Layout, list[dict], str]:
    """(layout, rows, sha256 of the files) of one split; ImportFailure on unreadable files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    layouts, rows, digest = set(), [], hashlib.sha256()
    for path in files:
        try:
            schema = pq.read_schema(path)
            layout = detect(schema, where)
            wanted = [c for c in READ_COLUMNS[layout.task] if c in schema.names]
            table = pq.read_table(path, columns=wanted)  # the others are never looked at
            rows.extend(table.to_pylist())
        except (pa.ArrowException, OSError) as error:
            message = " ".join(str(error).split())[:160]
            raise ImportFailure(f"cannot read {path.name} of {where}: {message}") from None
        layouts.add(layout)
        digest.update(path.read_bytes())
    if len(layouts) > 1:
        raise ImportFailure(f"{where}: its files have different layouts")
    return layouts.pop(), rows, digest.hexdigest()[:16]


def _config(kind: str, converter: Any, rows: list[dict]) -> str:
    diverse = "diverse-" if any(converter.is_diverse(row) for row in rows) else ""
    if kind == "rl":
        return f"{diverse}rl"
    cot = sum(converter.is_cot(row) for row in rows) * 2 > len(rows)
    return f"{diverse}{'cot' if cot else 'answer-only'}"


def _convert(
    source: Source,
) -> tuple[str, dict, dict[str, dict[str, list[dict]]], list[dict], Any]:
    """Read and convert every split: (task, per-split record, configs, unreadable, converter)."""
    from datagen.importers.points import PointsRows
    from datagen.importers.sokoban import SokobanRows

    converters = {"sokoban": SokobanRows(), "points": PointsRows()}
    task = None
    splits: dict[str, dict] = {}
    configs: dict[str, dict[str, list[dict]]] = {}
    unreadable: list[dict] = []
    origin = {k: v for k, v in source.record().items() if k in ("repo", "revision", "path")}
    for split, files in source.files.items():
        where = f"{source.name} split {split}"
        layout, raw_rows, digest = _read(files, where)
        if task is not None and layout.task != task:
            raise ImportFailure(f"{source.name}: splits of two tasks ({task}, {layout.task})")
        task = layout.task
        converter = converters[task]
        test = is_test_split(split)
        kind = " (test split)" if test else ""
        _log(f"{where}: {len(raw_rows)} rows, layout {layout.describe()}{kind}")
        rows = []
        for index, raw in enumerate(raw_rows):
            try:
                rows.append(converter.convert(raw, layout, split, index, origin))
            except _ROW_ERRORS as error:
                reason = " ".join(str(error).split())[:200] or type(error).__name__
                unreadable.append({"split": split, "index": index, "reason": reason})
        if test:
            variant = TEST_VARIANTS.get(split, split.removeprefix("test_"))
            config, out_split = "eval", variant.replace("-", "_")
            for row in rows:
                row["variant"] = variant
                row.pop("completion", None)
        else:
            config, out_split = _config(layout.kind, converter, rows), split
        if out_split in configs.get(config, {}):
            raise ImportFailure(f"{source.name}: two splits map to {config}/{out_split}")
        splits[split] = {
            "layout": layout.name,
            "script": layout.script,
            "rows": len(raw_rows),
            "sha256": digest,
            "config": config,
            "split": out_split,
        }
        if rows:
            configs.setdefault(config, {})[out_split] = rows
    if not configs:
        first = unreadable[0]["reason"] if unreadable else "the files hold no rows"
        raise ImportFailure(f"{source.name}: no row could be read ({first})")
    return task, splits, configs, unreadable, converters[task]


def _write(
    task_dir: Path, task: str, source: Source, splits: dict, configs: dict, report: dict
) -> dict:
    from datagen import __version__
    from datagen.build_writer import write_parquet
    from datagen.cards import write_card
    from datagen.importers.audit import AUDIT_NAME, report_json
    from datagen.versioning import dataset_version, fingerprint

    for config, by_split in configs.items():
        for split, rows in by_split.items():
            write_parquet(rows, task_dir / "data" / config / f"{split}-00000-of-00001.parquet")
    record = {**source.record(), "splits": splits, "importer": "datagen import"}
    # Content-addressed: the same files (and layouts) give the same fingerprint anywhere.
    digest = fingerprint({"import": {s: [v["layout"], v["sha256"]] for s, v in splits.items()}})
    leaks = report["leaks"]
    info = {
        "task": task,
        "version": __version__,
        "fingerprint": digest,
        "dataset_version": dataset_version(__version__, digest),
        "source": record,
        "configs": {c: {s: len(rows) for s, rows in by.items()} for c, by in configs.items()},
        "stats": report["stats"],
        "leakage": {
            "checked": bool(leaks["checked_against"]),
            "overlaps": leaks["rows"],
            "key": leaks["key"],
            "against": leaks["checked_against"],
        },
        "audit": {
            "labels": report["labels"],
            "duplicates": report["duplicates"]["rows"],
            "leaks": leaks["rows"],
            "solution_mismatch": report["solution_mismatch"],
        },
        "created_by": f"datagen {__version__} (import)",
    }
    (task_dir / "build.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    (task_dir / AUDIT_NAME).write_text(report_json(report) + "\n")
    write_card(task_dir)
    return info


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ImportFailure(f"{out} exists and is not empty: choose a new --out folder")


def _import(source: Source, out: Path, against: list[Path], overwrite: bool) -> dict[str, Path]:
    from datagen.importers.audit import bulk_rows

    with bulk_rows():
        return _import_rows(source, out, against, overwrite)


def _import_rows(
    source: Source, out: Path, against: list[Path], overwrite: bool
) -> dict[str, Path]:
    from datagen.importers.audit import Checker, audit_configs, suite_keys

    task, splits, configs, unreadable, converter = _convert(source)
    suites = suite_keys(against, task)
    report = audit_configs(
        task,
        configs,
        source=source.record(),
        layout={s: v["layout"] for s, v in splits.items()},
        unreadable=unreadable,
        against=suites,
        checker=Checker(task, converter),
    )
    from datagen.folders import FolderError, install, staging_dir

    # Every row is in memory by now: the staging folder may replace a downloaded snapshot. It is
    # inside `out` when that exists (an empty mount point cannot be renamed onto).
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_dir(out, sibling_name=f".{out.name}.import")
    except (FolderError, OSError) as error:
        raise ImportFailure(str(error)) from None
    try:
        _write(staging / task, task, source, splits, configs, report)
        install(staging, out)
    except FolderError as error:
        raise ImportFailure(str(error)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    labels = ", ".join(f"{k} {v}" for k, v in report["labels"].items())
    _log(
        f"{task}: {report['rows']} rows ({labels}); {report['duplicates']['rows']} duplicates, "
        f"{report['leaks']['rows']} leaks -> {out / task}"
    )
    return {task: out / task}


def import_source(
    source: str,
    out: Path,
    *,
    revision: str | None = None,
    against: list[Path] | tuple[Path, ...] = (),
    api: Any = None,
    token: str | None = None,
) -> dict[str, Path]:
    """Import SOURCE into `out/<task>`; returns {task: folder}. Raises ImportFailure/HubError."""
    out = Path(out)
    _check_out(out, overwrite=False)
    with tempfile.TemporaryDirectory(prefix="datagen-import-") as work:
        found = read_source(source, Path(work), revision=revision, api=api, token=token)
        return _import(found, out, list(against), overwrite=False)


def import_snapshot(snapshot: Path, out: Path, repo_id: str, revision: str | None) -> Path:
    """`datagen pull` of a repo that is not a datagen build: import its downloaded snapshot."""
    files = _split_files(Path(snapshot))
    if not files:
        raise ImportFailure(
            f"{repo_id}@{revision or 'main'} is neither a datagen dataset (no build.json) nor "
            "one in the study's layouts (no Parquet files)"
        )
    source = Source("hub", repo_id, revision, files)
    return next(iter(_import(source, Path(out), [], overwrite=True).values()))
