"""Prompt lengths in the miniature replication: what its small models key on.

Every training prompt of one config has the same token count (6x6 boards, one template; the
diverse words are one token each), and a small model trained on them keeps the answer format
only on prompts of that length. This counts the tokens of every prompt as each config's models
read it (the chat template and the ending the config trains with), for the training rows and
for each `eval` variant, and puts them next to the share of format failures each config's models
had on that variant.

    python benchmarks/replicate_mini_lengths.py OUT     # prints OUT's table as markdown

Used by replicate_mini_report.py (prompt_tokens.json and a section of results.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from replicate_mini import CONFIGS as BUILDS  # config -> build
from replicate_mini import TASKS


def _lengths(tokenizer, rows: list[dict], think: bool) -> list[int]:
    """The distinct token counts of the rows' prompts as a model reads them, under one ending."""
    from datagen.build import with_think
    from datagen.prompts import prompt_text

    rows = [row if row["template"]["think"] == think else with_think(row, think) for row in rows]
    texts = [prompt_text(tokenizer, row["prompt"], row["template"], "chat") for row in rows]
    return sorted({len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]})


def prompt_tokens(out: Path, tokenizer_dir: Path, per_variant: int = 40) -> dict:
    """`{task: {"train": {config: [n, ...]}, "eval": {variant: {config: [n, ...]}}}}`: the
    distinct prompt lengths of each config's training rows and of the first `per_variant` rows
    of each evaluation variant under that config's training ending. Tasks without data are left
    out."""
    from transformers import AutoTokenizer

    from datagen.finetune_data import available, load_rows

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    table: dict = {}
    for task in TASKS:
        eval_dir = out / "data" / "answer-only" / task
        if not (eval_dir / "data" / "eval").is_dir():
            continue
        train = {c: load_rows(out / "data" / b / task, c) for c, b in BUILDS.items()}
        think = {c: rows[0]["template"]["think"] for c, rows in train.items()}
        entry = table[task] = {
            "train": {c: _lengths(tokenizer, rows, think[c]) for c, rows in train.items()},
            "eval": {},
        }
        for variant in available(eval_dir)["eval"]:
            rows = load_rows(eval_dir, "eval", variant)[:per_variant]
            entry["eval"][variant] = {c: _lengths(tokenizer, rows, think[c]) for c in BUILDS}
    return table


def format_failures(out: Path) -> dict[tuple[str, str, str], list[float]]:
    """`{(task, config, variant): each seed's share of format failures}`, every
    OUT/evals/<task>-<config>-seed<S>/results.json read once (variants by split name)."""
    shares: dict[tuple[str, str, str], list[float]] = {}
    for task in TASKS:
        for config in BUILDS:
            for file in sorted(out.glob(f"evals/{task}-{config}-seed*/results.json")):
                metrics = json.loads(file.read_text())["metrics"].get(task, {})
                for name, m in metrics.items():
                    key = (task, config, name.replace("-", "_"))
                    shares.setdefault(key, []).append(m["format_failures"])
    return shares


def markdown(table: dict, out: Path) -> list[str]:
    """The results.md section (no lines when there is no table)."""
    if not table:
        return []
    from datagen.figures.style import grouped

    def spans(lengths: list[int]) -> str:
        return f"{lengths[0]}–{lengths[-1]}" if len(lengths) > 1 else str(lengths[0])

    failures = format_failures(out)
    lines = [
        "## Prompt length and the answer format",
        "",
        "The prompt's length in tokens as each config's models read it (chat template, their "
        "training ending; `=`: within the lengths of that config's training prompts), and the "
        "share of turns whose answer had no `<answer>` tag or an unclosed one (mean % over the "
        "seeds; `replicate_mini_lengths.py`).",
    ]
    for task, entry in table.items():
        train = entry["train"]
        lines += [
            "",
            f"### {task}: training prompts {spans(train['answer-only'])} tokens (answer-only), "
            f"{spans(train['diverse-answer-only'])} (diverse)",
            "",
            "| variant | answer-only: tokens | answer-only: format failures | "
            "diverse: tokens | diverse: format failures |",
            "|---|---|---|---|---|",
        ]
        for _, members in grouped(list(entry["eval"])):
            for v in members:
                cells = []
                for config in BUILDS:
                    lengths = entry["eval"][v][config]
                    inside = lengths[0] >= train[config][0] and lengths[-1] <= train[config][-1]
                    shares = failures.get((task, config, v))
                    failed = f"{100 * sum(shares) / len(shares):.0f}" if shares else "—"
                    cells += [spans(lengths) + (" =" if inside else ""), failed]
                lines.append(f"| {v} | {' | '.join(cells)} |")
    return lines


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "replication/mini")
    result = prompt_tokens(folder, folder / "models" / "base-seed1")
    print("\n".join(markdown(result, folder)) if result else json.dumps(result))
