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
`$$`), one per task, next to `citation.bib` in the repository's `cards/` folder. This module
reads the folder and renders the card; the body's sections are `card_sections`, their Markdown
pieces `card_markdown`.
"""

from __future__ import annotations

import json
import re
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


# libyaml's loader where PyYAML was built with it: the same documents, parsed in C.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_header(card: str) -> dict[str, Any]:
    """Parse the YAML header of a card (between the leading `---` lines)."""
    match = re.match(r"---\n(.*?)\n---\n", card, flags=re.DOTALL)
    if match is None:
        raise CardError("the card does not start with a YAML header between --- lines")
    header = yaml.load(match.group(1), Loader=_YAML_LOADER)
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


def _template_path(task: str) -> Path:
    path = TEMPLATE_DIR / f"{task}.md"
    if not path.is_file():
        raise CardError(f"no card template for task {task!r} in {TEMPLATE_DIR}")
    return path


def render_card(task_dir: Path) -> str:
    """The README.md text of a build folder (`DIR/<task>` holding build.json and data/)."""
    from datagen import card_sections as sections

    task_dir = Path(task_dir)
    build = load_build(task_dir)
    files = parquet_files(task_dir)
    if not files:
        raise CardError(f"{task_dir / 'data'} holds no parquet files")
    check_files(task_dir, build, files)
    header = configs_header(build, files)
    total = sum(int(n) for splits in build["configs"].values() for n in splits.values())
    _, tag = sections.release(build)
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
        "contents_table": sections.contents(build, files),
        "provenance": sections.provenance(build, task_dir, files),
        "stats": sections.stats(build, files) + sections.figures(task_dir),
        "samples": sections.samples(task_dir, build, files),
        "usage": sections.usage(build, files),
        "citation": (TEMPLATE_DIR / "citation.bib").read_text(encoding="utf-8").strip(),
        "limitations": sections.limitations(build, files),
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
