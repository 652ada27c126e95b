"""Which Sokoban answer words the miniature replication's training rows ever showed its models.

A model trained from scratch knows only the tokens its training rows contain. For each Sokoban
`eval` variant this counts, per SFT config, how many of the variant's accepted answer words have
all their tokens (as the model writes them after `<answer>`) among the training targets, and
among the training prompts. A word no training row contains has an embedding that nothing but
the softmax's push-down ever updated: no from-scratch model can be expected to answer it, while
a pre-trained model (the study's) knows it from pre-training.

    python benchmarks/replicate_mini_coverage.py OUT     # prints OUT's table as markdown

Used by replicate_mini_report.py (coverage.json and a section of results.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from replicate_mini import CONFIGS as BUILDS  # config -> build


def _token_sets(tokenizer, rows: list[dict]) -> tuple[set[int], set[int]]:
    """Token ids of the rows' prompts and of their completions."""
    prompts = [m["content"] for row in rows for m in row["prompt"]]
    targets = [m["content"] for row in rows for m in row.get("completion") or []]
    prompt_ids, target_ids = (tokenizer(texts)["input_ids"] for texts in (prompts, targets))
    return {t for ids in prompt_ids for t in ids}, {t for ids in target_ids for t in ids}


def coverage(out: Path, tokenizer_dir: Path) -> dict:
    """`{variant: {"words": [...], config: {"targets": n, "prompts": n}}}` for Sokoban, where n
    counts the accepted words whose every token occurs in that config's training targets or
    prompts. Empty when OUT holds no Sokoban data."""
    from transformers import AutoTokenizer

    from datagen.finetune_data import available, load_rows

    eval_dir = out / "data" / "answer-only" / "sokoban"
    if not (eval_dir / "data" / "eval").is_dir():
        return {}
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    seen = {
        config: _token_sets(tokenizer, load_rows(out / "data" / build / "sokoban", config))
        for config, build in BUILDS.items()
    }
    table: dict = {}
    for variant in available(eval_dir)["eval"]:
        template = load_rows(eval_dir, "eval", variant)[0]["template"]
        words = list(template["scored_vocabulary"])
        tokens = [set(tokenizer(" " + w)["input_ids"]) for w in words]  # as after "<answer>"
        cell = table[variant] = {"words": words}
        for config, (prompts, targets) in seen.items():
            cell[config] = {
                "targets": sum(t <= targets for t in tokens),
                "prompts": sum(t <= prompts for t in tokens),
            }
    return table


def markdown(table: dict) -> list[str]:
    """The results.md section (no lines when there is no table)."""
    if not table:
        return []
    from datagen.figures.style import grouped

    lines = [
        "## Which Sokoban answer words training ever showed the models",
        "",
        "Per variant, how many of its accepted words have every token among the training "
        "targets (what a model learned to write) and among the training prompts (what it "
        "learned to read), per SFT config (`replicate_mini_coverage.py`). A word at 0 in both "
        "was never seen: a from-scratch model has no trained embedding for it.",
        "",
        "| variant | accepted words | answer-only: targets / prompts | "
        "diverse: targets / prompts |",
        "|---|---|---|---|",
    ]
    for _, members in grouped(list(table)):
        for v in members:
            cell, n = table[v], len(table[v]["words"])
            counts = [
                f"{cell[c]['targets']}/{n} · {cell[c]['prompts']}/{n}" for c in BUILDS if c in cell
            ]
            lines.append(f"| {v} | {' '.join(cell['words'])} | {' | '.join(counts)} |")
    return lines


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "replication/mini")
    result = coverage(folder, folder / "models" / "base-seed1")
    print("\n".join(markdown(result)) if result else json.dumps(result))
