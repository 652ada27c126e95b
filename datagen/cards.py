"""Dataset cards: render `README.md` of a build folder from `cards/<task>.md` and `build.json`.

The card's YAML header is what the Hub reads (license, task categories, tags, size category,
pretty name, and `configs` with the `data_files` of every config and split found under `data/`);
its body says what the data is, which claim of the study each config serves, how it was made
(version, fingerprint, seeds, options, templates, teacher), statistics per config and split, what
the evaluation variants test, a few sample rows, how to load a frozen release, the citation of the
study, and known limitations.

    from datagen.cards import write_card
    write_card(Path("out/points"))         # or: datagen card out/points

Templates are plain Markdown with `string.Template` placeholders (`$name`; a literal dollar is
`$$`), one per task, next to `citation.bib` in the repository's `cards/` folder.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from string import Template
from typing import Any

import yaml

from datagen.folder_data import (  # re-exported: cards.CardError, cards.read_rows, ...
    CardError,
    check_digests,
    dataset_info_header,
    parquet_info,
    read_rows,
)

__all__ = [
    "CardError",
    "check_files",
    "load_build",
    "parquet_files",
    "parquet_info",
    "read_rows",
    "render_card",
    "task_dirs",
    "write_card",
]

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "cards"
CARD_NAME = "README.md"
BUILD_NAME = "build.json"

# `<split>-00000-of-00001.parquet` as written by `datagen build` (and by `datasets`).
_SHARD = re.compile(r"(?P<split>\w+?)(?:-(?P<index>\d+)-of-(?P<count>\d+))?\.parquet")
_REQUIRED_KEYS = ("task", "version", "fingerprint", "dataset_version", "configs")
# Order in which configs are described; unknown ones follow alphabetically.
CONFIG_ORDER = (
    "answer-only",
    "diverse-answer-only",
    "cot",
    "diverse-cot",
    "rl",
    "diverse-rl",
    "eval",
)
# Template fields whose distinct values are counted per split ("templates and pools").
_TEMPLATE_FIELDS = ("family", "wording", "symbols", "rule", "vocabulary")
_SUMMARY_KEYS = frozenset({"mean", "min", "max", "median", "std", "sum", "count"})
_SAMPLE_CHARS = 1500
_CELL_CHARS = 120


def load_build(task_dir: Path) -> dict[str, Any]:
    """Read and check `task_dir/build.json`."""
    path = Path(task_dir) / BUILD_NAME
    if not path.is_file():
        raise CardError(f"{path} not found: is {task_dir} a folder written by `datagen build`?")
    try:
        build = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CardError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(build, dict):
        raise CardError(f"{path} is not a JSON object: is it a folder written by `datagen build`?")
    missing = [key for key in _REQUIRED_KEYS if key not in build]
    if missing:
        raise CardError(f"{path} lacks {', '.join(missing)}")
    configs = build["configs"]
    if not isinstance(configs, dict) or not all(isinstance(v, dict) for v in configs.values()):
        raise CardError(f"{path}: `configs` must map every config to its splits' row counts")
    return build


def parquet_files(task_dir: Path) -> dict[str, dict[str, list[str]]]:
    """{config: {split: [paths relative to task_dir, POSIX]}} for every parquet under data/."""
    root = Path(task_dir)
    found: dict[str, dict[str, list[str]]] = {}
    for path in sorted((root / "data").glob("*/*.parquet")):
        match = _SHARD.fullmatch(path.name)
        if match is None:
            raise CardError(f"{path}: expected <split>-00000-of-00001.parquet")
        config = path.parent.name
        rel = path.relative_to(root).as_posix()
        found.setdefault(config, {}).setdefault(match["split"], []).append(rel)
    return {config: found[config] for config in _ordered(found)}


def check_files(
    task_dir: Path, build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]
) -> None:
    """Raise CardError unless the data files are the ones build.json describes.

    Every config/split of build.json needs its parquet files, each readable (a truncated file
    has no footer), with the recorded number of rows; a build that recorded the sha256 of its
    files (`build.json["files"]`) must match them byte for byte.
    """
    task_dir = Path(task_dir)
    for config, splits in build["configs"].items():
        for split, rows in splits.items():
            if split not in files.get(config, {}):
                raise CardError(
                    f"build.json lists {config}/{split} but {task_dir}/data/{config}/ "
                    f"has no {split}-*.parquet"
                )
            found = sum(
                parquet_info(task_dir / rel)["num_examples"] for rel in files[config][split]
            )
            if isinstance(rows, int) and found != rows:
                raise CardError(
                    f"{task_dir}/data/{config}/{split}: {found} rows, build.json says {rows}; "
                    "rebuild the folder (or pull it again)"
                )
    check_digests(task_dir, build, files)


def task_dirs(path: Path) -> list[Path]:
    """The build folders at `path`: `path` itself if it holds build.json, else its subfolders
    that do (`datagen build --task all --out DIR` writes DIR/sokoban and DIR/points)."""
    path = Path(path)
    if (path / BUILD_NAME).is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(child for child in path.iterdir() if (child / BUILD_NAME).is_file())


def _ordered(configs: Iterable[str]) -> list[str]:
    configs = list(configs)
    known = [c for c in CONFIG_ORDER if c in configs]
    return known + sorted(c for c in configs if c not in CONFIG_ORDER)


def _split_order(build: Mapping[str, Any], config: str, splits: Iterable[str]) -> list[str]:
    """Splits in build.json's order (the suite's order of variants), then any others sorted."""
    declared = list(build.get("configs", {}).get(config, {}))
    splits = list(splits)
    return [s for s in declared if s in splits] + sorted(s for s in splits if s not in declared)


def _in_order(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> dict:
    """`files` with each config's splits in build.json's order."""
    return {
        config: {split: splits[split] for split in _split_order(build, config, splits)}
        for config, splits in files.items()
    }


def configs_header(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> list:
    """The `configs` entry of the YAML header: every config, every split, every file.

    Each config's `description` names the dataset version (package version + content
    fingerprint): `datasets` hashes the builder configs into its cache key of a local folder,
    so a folder with other content is never served another build's cached rows.
    """
    entries = []
    for config, splits in files.items():
        data_files = [
            {"split": split, "path": splits[split] if len(splits[split]) > 1 else splits[split][0]}
            for split in _split_order(build, config, splits)
        ]
        entries.append(
            {
                "config_name": config,
                "data_files": data_files,
                "description": f"{build['task']} {config}, dataset version "
                f"{build['dataset_version']}",
            }
        )
    return entries


def size_category(rows: int) -> str:
    """The Hub's size_categories bucket for a number of rows."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")]
    bounds += [(1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")]
    for bound, name in bounds:
        if rows < bound:
            return name
    return "100M<n<1B"


def read_header(card: str) -> dict[str, Any]:
    """Parse the YAML header of a card (between the leading `---` lines)."""
    match = re.match(r"---\n(.*?)\n---\n", card, flags=re.DOTALL)
    if match is None:
        raise CardError("the card does not start with a YAML header between --- lines")
    header = yaml.safe_load(match.group(1))
    if not isinstance(header, dict):
        raise CardError("the card's YAML header is not a mapping")
    return header


def header_files(header: Mapping[str, Any]) -> set[str]:
    """Every data file path that a card's `configs` header lists."""
    listed: set[str] = set()
    for entry in header.get("configs", []):
        for item in entry.get("data_files", []):
            paths = item["path"]
            listed.update([paths] if isinstance(paths, str) else paths)
    return listed


# ---------------------------------------------------------------------------------------------
# Markdown helpers


def _cell(value: Any, limit: int = _CELL_CHARS) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    else:
        text = str(value)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(head: list[str], rows: list[list[Any]], limit: int = _CELL_CHARS) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(value, limit) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts as dotted keys; lists and scalars as leaves."""
    if isinstance(data, Mapping) and data:
        out: list[tuple[str, Any]] = []
        for key, value in data.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    return [(prefix or "value", data)]


def _is_histogram(value: Any) -> bool:
    """A dict from value to count (what datagen.stats writes for distributions)."""
    return (
        isinstance(value, Mapping)
        and bool(value)
        and not set(value) <= _SUMMARY_KEYS
        and all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in value.values())
    )


def _histogram(value: Mapping[str, Any]) -> str:
    # Numeric values in numeric order (stats keys are strings: "10" would sort before "2").
    def key(item: tuple[str, Any]) -> tuple[int, float, int]:
        try:
            return 0, float(item[0]), 0
        except ValueError:
            return 1, 0.0, order[item[0]]

    order = {k: i for i, k in enumerate(value)}
    return " · ".join(f"{k}: {_cell(n)}" for k, n in sorted(value.items(), key=key)) or "—"


def _figure(name: str, value: Any) -> tuple[Any | None, list[tuple[str, Mapping]]]:
    """Split a stats figure into a table cell (or None) and its distributions.

    Figures are scalars, histograms ({value: count}), or summaries such as
    {"mean": 3.1, "min": 1, "max": 9, "histogram": {...}}.
    """
    if _is_histogram(value):
        return None, [(name, value)]
    if not isinstance(value, Mapping):
        return value, []
    scalars = {k: v for k, v in value.items() if not isinstance(v, Mapping)}
    nested = [
        (name if k == "histogram" else f"{name}.{k}", v)
        for k, v in value.items()
        if isinstance(v, Mapping)
    ]
    if {"mean", "min", "max"} <= set(scalars):
        cell = f"{_cell(scalars['mean'])} ({_cell(scalars['min'])}–{_cell(scalars['max'])})"
    else:
        cell = " · ".join(f"{k} {_cell(v)}" for k, v in scalars.items()) or None
    return cell, nested


def _fence(text: str, language: str = "") -> str:
    """A code block whose fence cannot be closed by backticks inside `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _clip(text: str, limit: int = _SAMPLE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters)"


# ---------------------------------------------------------------------------------------------
# Sections


def _contents(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> str:
    rows = []
    for config, splits in files.items():
        declared = build.get("configs", {}).get(config, {})
        for split in _split_order(build, config, splits):
            rows.append([f"`{config}`", f"`{split}`", declared.get(split, "—"), len(splits[split])])
    total = sum(int(n) for splits in build["configs"].values() for n in splits.values())
    return _table(["config", "split", "rows", "files"], rows) + f"\n\n{total} rows in all."


def _template_usage(
    task_dir: Path, build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]
) -> str:
    """Distinct template choices per config/split, read from the rows themselves."""
    import pyarrow.parquet as pq

    rows: list[tuple[str, str, dict[str, str]]] = []
    for config, splits in files.items():
        for split in _split_order(build, config, splits):
            counters: dict[str, Counter] = {name: Counter() for name in _TEMPLATE_FIELDS}
            words: dict[str, set[str]] = {name: set() for name in _TEMPLATE_FIELDS}
            for rel in splits[split]:
                if "template" not in pq.read_schema(task_dir / rel).names:
                    continue
                column = pq.read_table(task_dir / rel, columns=["template"]).column(0)
                for value in column.to_pylist():
                    for name in _TEMPLATE_FIELDS:
                        item = (value or {}).get(name)
                        if isinstance(item, list):
                            words[name].update(map(str, item))
                            item = " ".join(map(str, item))
                        if item is not None:
                            counters[name][item] += 1
            cells = {}
            for name, counter in counters.items():
                if len(counter) > 3:
                    # Many choices (diverse vocabularies): their number and the pool they drew on.
                    pool = f" of {len(words[name])} words" if words[name] else ""
                    cells[name] = f"{len(counter)} distinct{pool}"
                elif counter:
                    cells[name] = ", ".join(f"`{key}` ({n})" for key, n in counter.most_common())
            if cells:
                rows.append((config, split, cells))
    if not rows:
        return "The rows carry no `template` column."
    used = [name for name in _TEMPLATE_FIELDS if any(name in cells for *_, cells in rows)]
    return _table(
        ["config", "split", *used],
        [[f"`{c}`", f"`{s}`", *(cells.get(n, "—") for n in used)] for c, s, cells in rows],
    )


def _provenance(build: Mapping[str, Any], task_dir: Path, files) -> str:
    parts = [
        _table(
            ["", ""],
            [
                ["package", f"sft-myth-datagen {build['version']}"],
                ["dataset version", build["dataset_version"]],
                ["fingerprint", f"{build['fingerprint']} ({_fingerprint_meaning(build)}, 16 hex)"],
                ["release", _release_text(build)],
                ["created by", build.get("created_by", "—")],
            ],
        ),
        "Rebuild these exact rows with the same package version and the options below; the "
        "fingerprint of the rebuilt folder must match (except where a sampling teacher wrote "
        "the traces: other samples are other content, hence another fingerprint).",
        "### Seeds",
        _fence(json.dumps(build.get("seeds", {}), indent=2, ensure_ascii=False), "json"),
        "### Generator, solver and template options",
        _table(["option", "value"], [[f"`{k}`", v] for k, v in _flatten(build.get("options", {}))])
        if build.get("options")
        else "No options recorded.",
        "<details><summary>Resolved options as JSON</summary>\n\n"
        + _fence(json.dumps(build.get("options", {}), indent=2, ensure_ascii=False), "json")
        + "\n\n</details>",
        "### Templates and pools used",
        "Distinct instruction choices per split, counted from the rows' `template` column "
        "(a value with its row count, or the number of distinct values).",
        _template_usage(task_dir, build, files),
        "### Teacher and sampling",
    ]
    teacher = build.get("teacher")
    if teacher:
        parts.append(
            "Chain-of-thought rows were sampled from the teacher below and kept only when the "
            "exact verifier accepted the final answer (rejection sampling); acceptance figures "
            "are per build."
        )
        parts.append(_table(["setting", "value"], [[f"`{k}`", v] for k, v in _flatten(teacher)]))
    else:
        parts.append("No teacher: this build has no chain-of-thought configs.")
    parts.append("### Leakage check")
    leakage = build.get("leakage")
    if leakage:
        parts.append(_table(["figure", "value"], [[f"`{k}`", v] for k, v in _flatten(leakage)]))
        if isinstance(leakage.get("arithmetic"), Mapping):
            parts.append(_arithmetic_text(leakage))
    else:
        parts.append("No leakage check recorded.")
    return "\n\n".join(parts)


def _fingerprint_meaning(build: Mapping[str, Any]) -> str:
    if build.get("files"):
        return "sha256 of the resolved options and of every data file"
    return "sha256 of the resolved options"


def _arithmetic_text(leakage: Mapping[str, Any]) -> str:
    """What the points arithmetic overlap means, with the variants' shares in one line."""
    per_variant = leakage["arithmetic"].get("per_variant") or {}
    shares = ", ".join(
        f"`{name}` {100 * figures.get('share', 0):.0f}%" for name, figures in per_variant.items()
    )
    holdout = leakage.get("holdout")
    text = (
        "No evaluation hand is a training hand (under the rule shown or scored), but with 715 "
        "multisets of four values in 1..10 many evaluation hands pose the same arithmetic (the "
        "same values and target, e.g. `8 J 5 9` under J=8 and `5 9 8 8`) as some training row. "
        f"Share of evaluation hands whose arithmetic training poses: {shares or '—'}."
    )
    if isinstance(holdout, Mapping):
        text += (
            f" This build held every evaluation value multiset out of training (`--holdout "
            f"values`), which removed {holdout.get('held_out')} of the "
            f"{holdout.get('train_space')} value multisets training could draw "
            f"({100 * holdout.get('share_of_train_space', 0):.1f}%)."
        )
    else:
        text += " Build with `--holdout values` to keep every evaluation multiset out of training."
    return text


def _stats(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> str:
    stats = build.get("stats") or {}
    if not stats:
        return "No statistics recorded."
    parts = [
        "Summaries read *mean (min–max)*; the distributions behind them are folded below "
        "each table."
    ]
    for config in _ordered(stats):
        per_split = stats[config] or {}
        splits = _split_order(build, config, per_split)
        columns: list[str] = []
        cells: dict[str, dict[str, Any]] = {}
        distributions: list[tuple[str, str, str]] = []
        for split in splits:
            cells[split] = {}
            for figure, value in (per_split[split] or {}).items():
                if figure == "rows":  # the table has a rows column from build.json already
                    continue
                cell, nested = _figure(figure, value)
                if cell is not None:
                    cells[split][figure] = cell
                    if figure not in columns:
                        columns.append(figure)
                distributions += [(split, name, _histogram(h)) for name, h in nested]
        parts.append(f"### `{config}`")
        rows = build.get("configs", {}).get(config, {})
        parts.append(
            _table(
                ["split", "rows", *columns],
                [
                    [f"`{split}`", rows.get(split, "—")]
                    + [cells[split].get(figure, "—") for figure in columns]
                    for split in splits
                ],
            )
        )
        if distributions:
            table = _table(
                ["split", "figure", "value: count"],
                [[f"`{split}`", f"`{name}`", text] for split, name, text in distributions],
                limit=100_000,  # distributions are the data; never cut them
            )
            parts.append(f"<details><summary>Distributions</summary>\n\n{table}\n\n</details>")
    return "\n\n".join(parts)


def _sample_splits(config: str, splits: list[str]) -> list[str]:
    chosen = splits[:1]
    fake = [s for s in splits if s.startswith("fake") or s.endswith("fake")]
    if config == "eval" and fake and fake[0] not in chosen:
        chosen.append(fake[0])
    return chosen


def _samples(task_dir: Path, build, files: Mapping[str, Mapping[str, list[str]]]) -> str:
    import pyarrow.parquet as pq

    parts = [
        "One row per config (and a fake variant of `eval`), first row of the split; long texts "
        "are cut."
    ]
    for config, splits in files.items():
        for split in _sample_splits(config, _split_order(build, config, splits)):
            table = pq.read_table(task_dir / splits[split][0])
            if table.num_rows == 0:
                continue
            row = table.slice(0, 1).to_pylist()[0]
            parts.append(f"### `{config}` / `{split}` — `{row.get('id', '?')}`")
            for message in row.get("prompt") or []:
                parts.append(f"**{message.get('role', '?')}**")
                parts.append(_fence(_clip(str(message.get("content", "")))))
            for message in row.get("completion") or []:
                parts.append(f"**{message.get('role', '?')} (target)**")
                parts.append(_fence(_clip(str(message.get("content", "")))))
            extra = {k: row[k] for k in ("template", "solution") if row.get(k) is not None}
            if extra:
                text = json.dumps(extra, ensure_ascii=False, default=str)
                parts.append(_fence(_clip(text, 800), "json"))
    return "\n\n".join(parts)


def _release(build: Mapping[str, Any]) -> tuple[str, str]:
    """(repo, tag) for the usage snippet: the recorded release, or the default tag."""
    release = build.get("release") or {}
    tag = release.get("tag") or f"v{build['version']}"
    repo = release.get("repo") or "OWNER/NAME"
    return repo, tag


def _release_text(build: Mapping[str, Any]) -> str:
    release = build.get("release") or {}
    if not release:
        return f"not pushed yet (default tag v{build['version']})"
    return f"{release.get('repo')} at tag {release.get('tag')}"


def _usage(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> str:
    repo, tag = _release(build)
    task = build["task"]
    train = [config for config in files if config != "eval"]
    first = train[0] if train else next(iter(files), "eval")
    eval_splits = _split_order(build, "eval", files.get("eval", {}))
    fake = next((s for s in eval_splits if "fake" in s), eval_splits[0] if eval_splits else None)
    lines = [
        "from datasets import load_dataset",
        "",
        f"# a frozen release: the tag {tag} never moves",
        f'train = load_dataset("{repo}", "{first}", revision="{tag}")["train"]',
    ]
    if eval_splits:
        lines += [
            f'evals = load_dataset("{repo}", "eval", revision="{tag}")  # one split per variant',
            f'print(evals["{fake}"][0]["template"])',
        ]
    lines += ["", "# the same folder on disk (after `datagen build` or `datagen pull`)"]
    lines += [f'local = load_dataset("path/to/{task}", "{first}")']
    note = ""
    if repo == "OWNER/NAME":
        note = (
            "\n\nThis folder has not been pushed yet: replace `OWNER/NAME` by the repository "
            "that `datagen push` publishes it to."
        )
    shell = [
        f"datagen pull {repo} --revision {tag} --out data/{task}",
        f"datagen eval --model MODEL --data {repo}@{tag}",
        f"datagen push path/to/{task} --repo {repo}    # tags v<package version>",
    ]
    return _fence("\n".join(lines), "python") + "\n\n" + _fence("\n".join(shell), "bash") + note


def _limitations(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> str:
    lines = []
    absent = [config for config in CONFIG_ORDER if config not in files]
    if absent:
        lines.append(
            "- This build does not contain "
            + ", ".join(f"`{c}`" for c in absent)
            + " (see `datagen build --help`: `--diverse`, `--cot`)."
        )
    leakage = build.get("leakage") or {}
    if leakage.get("overlaps"):
        lines.append(
            f"- The leakage check found {leakage['overlaps']} evaluation states in training "
            "splits: do not use this build for out-of-distribution claims."
        )
    elif not leakage.get("checked"):
        lines.append("- No leakage check is recorded for this build.")
    return "\n".join(lines)


def _figures(task_dir: Path) -> str:
    """Links to the folder's figures (drawn by the build into `figures/`), relative paths."""
    from datagen.figures.cards import CAPTIONS, FOLDER

    shown = [
        f"![{caption}]({FOLDER}/{name})\n\n*{caption}.*"
        for name, caption in CAPTIONS.items()
        if (task_dir / FOLDER / name).is_file()
    ]
    return "\n\n### Figures\n\n" + "\n\n".join(shown) if shown else ""


def _template_path(task: str) -> Path:
    path = TEMPLATE_DIR / f"{task}.md"
    if not path.is_file():
        raise CardError(f"no card template for task {task!r} in {TEMPLATE_DIR}")
    return path


def render_card(task_dir: Path) -> str:
    """The README.md text of a build folder (`DIR/<task>` holding build.json and data/)."""
    task_dir = Path(task_dir)
    build = load_build(task_dir)
    files = parquet_files(task_dir)
    if not files:
        raise CardError(f"{task_dir / 'data'} holds no parquet files")
    check_files(task_dir, build, files)
    header = configs_header(build, files)
    total = sum(int(n) for splits in build["configs"].values() for n in splits.values())
    _, tag = _release(build)
    values = {
        "size_category": size_category(total),
        "configs_yaml": yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip("\n"),
        "dataset_info_yaml": yaml.safe_dump(
            dataset_info_header(task_dir, _in_order(build, files)),
            sort_keys=False,
            allow_unicode=True,
        ).rstrip("\n"),
        "dataset_version": build["dataset_version"],
        "tag": tag,
        "fingerprint": build["fingerprint"],
        "version": build["version"],
        "contents_table": _contents(build, files),
        "provenance": _provenance(build, task_dir, files),
        "stats": _stats(build, files) + _figures(task_dir),
        "samples": _samples(task_dir, build, files),
        "usage": _usage(build, files),
        "citation": (TEMPLATE_DIR / "citation.bib").read_text(encoding="utf-8").strip(),
        "limitations": _limitations(build, files),
    }
    if "source" in build:  # imported by `datagen import`: where the rows came from, the audit
        from datagen.importers.card import import_section

        values["provenance"] = import_section(build) + "\n\n" + values["provenance"]
    card = Template(_template_path(build["task"]).read_text(encoding="utf-8")).substitute(values)
    # Fail here rather than on the Hub: the header must parse and list exactly our files.
    listed = header_files(read_header(card))
    expected = {rel for splits in files.values() for paths in splits.values() for rel in paths}
    if listed != expected:
        raise CardError(f"card header lists {sorted(listed ^ expected)} inconsistently")
    return card.rstrip("\n") + "\n"


def write_card(task_dir: Path) -> Path:
    """Render the card of `task_dir` and write it to `task_dir/README.md`; return that path.

    The file is replaced in one rename: a crash never leaves half a card.
    """
    path = Path(task_dir) / CARD_NAME
    write_text_atomic(path, render_card(Path(task_dir)))
    return path


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary sibling, then rename it onto `path`."""
    import os

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
