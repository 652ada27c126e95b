"""The body sections of a dataset card (contents, provenance, statistics, samples, usage,
limitations, figures), each rendered from `build.json` and the folder's files.

`datagen.cards.render_card` puts them into the task's template; nothing else calls them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datagen import card_markdown as md
from datagen.cards import CONFIG_ORDER, _ordered, _split_order

# Template fields whose distinct values are counted per split ("templates and pools").
_TEMPLATE_FIELDS = ("family", "wording", "symbols", "rule", "vocabulary")


def contents(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> str:
    rows = []
    for config, splits in files.items():
        declared = build.get("configs", {}).get(config, {})
        for split in _split_order(build, config, splits):
            rows.append([f"`{config}`", f"`{split}`", declared.get(split, "—"), len(splits[split])])
    total = sum(int(n) for splits in build["configs"].values() for n in splits.values())
    return md.table(["config", "split", "rows", "files"], rows) + f"\n\n{total} rows in all."


def _count_template_fields(column: Any, counters: dict, words: dict) -> None:
    """Count each template field's values in a parquet column (vectorised: 10,000 rows of
    template structs are slow to turn into Python dicts); lists count as their joined words."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_struct(column.type):
        return
    names = {column.type.field(i).name for i in range(column.type.num_fields)}
    for name in _TEMPLATE_FIELDS:
        if name not in names:
            continue
        values = column.field(name)
        if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
            flat = pc.list_flatten(values)
            words[name].update(str(w) for w in pc.unique(flat).to_pylist())
            values = pc.binary_join(pc.cast(values, pa.list_(pa.string())), " ")
        elif not pa.types.is_string(values.type):
            values = pc.cast(values, pa.string())
        for entry in pc.value_counts(values).to_pylist():
            if entry["values"] is not None:
                counters[name][entry["values"]] += entry["counts"]


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
                _count_template_fields(column, counters, words)
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
    return md.table(
        ["config", "split", *used],
        [[f"`{c}`", f"`{s}`", *(cells.get(n, "—") for n in used)] for c, s, cells in rows],
    )


def provenance(build: Mapping[str, Any], task_dir: Path, files) -> str:
    parts = [
        md.table(
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
        md.fence(json.dumps(build.get("seeds", {}), indent=2, ensure_ascii=False), "json"),
        "### Generator, solver and template options",
        md.table(
            ["option", "value"], [[f"`{k}`", v] for k, v in md.flatten(build.get("options", {}))]
        )
        if build.get("options")
        else "No options recorded.",
        "<details><summary>Resolved options as JSON</summary>\n\n"
        + md.fence(json.dumps(build.get("options", {}), indent=2, ensure_ascii=False), "json")
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
        parts.append(
            md.table(["setting", "value"], [[f"`{k}`", v] for k, v in md.flatten(teacher)])
        )
    else:
        parts.append("No teacher: this build has no chain-of-thought configs.")
    parts.append("### Leakage check")
    leakage = build.get("leakage")
    if leakage:
        parts.append(md.table(["figure", "value"], [[f"`{k}`", v] for k, v in md.flatten(leakage)]))
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


def stats(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> str:
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
                cell, nested = md.figure(figure, value)
                if cell is not None:
                    cells[split][figure] = cell
                    if figure not in columns:
                        columns.append(figure)
                distributions += [(split, name, md.histogram(h)) for name, h in nested]
        parts.append(f"### `{config}`")
        rows = build.get("configs", {}).get(config, {})
        parts.append(
            md.table(
                ["split", "rows", *columns],
                [
                    [f"`{split}`", rows.get(split, "—")]
                    + [cells[split].get(figure, "—") for figure in columns]
                    for split in splits
                ],
            )
        )
        if distributions:
            table = md.table(
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


def samples(task_dir: Path, build, files: Mapping[str, Mapping[str, list[str]]]) -> str:
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
                parts.append(md.fence(md.clip(str(message.get("content", "")))))
            for message in row.get("completion") or []:
                parts.append(f"**{message.get('role', '?')} (target)**")
                parts.append(md.fence(md.clip(str(message.get("content", "")))))
            extra = {k: row[k] for k in ("template", "solution") if row.get(k) is not None}
            if extra:
                text = json.dumps(extra, ensure_ascii=False, default=str)
                parts.append(md.fence(md.clip(text, 800), "json"))
    return "\n\n".join(parts)


def release(build: Mapping[str, Any]) -> tuple[str, str]:
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


def usage(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> str:
    repo, tag = release(build)
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
    return md.fence("\n".join(lines), "python") + "\n\n" + md.fence("\n".join(shell), "bash") + note


def limitations(build: Mapping[str, Any], files: Mapping[str, Mapping[str, list[str]]]) -> str:
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


def figures(task_dir: Path) -> str:
    """Links to the folder's figures (drawn by the build into `figures/`), relative paths."""
    from datagen.figures.cards import CAPTIONS, FOLDER

    shown = [
        f"![{caption}]({FOLDER}/{name})\n\n*{caption}.*"
        for name, caption in CAPTIONS.items()
        if (task_dir / FOLDER / name).is_file()
    ]
    return "\n\n### Figures\n\n" + "\n\n".join(shown) if shown else ""
