"""The results of `make replicate-mini`: OUT/results.json, OUT/results.md and the figures.

Reads OUT/evals/<task>-<config>-seed<S>/results.json (written by `datagen eval`) and writes

- results.json: `{task: {variant: {config: {"success", "validity", "seeds": [...]}}}}`, the mean
  over the seeds and each seed's figures (`{"seed", "success", "validity"}`), shares in 0..1;
- results.md: per task, rows = variants (Table-1 groups), columns = answer-only vs diverse, mean
  and the seeds' values, next to what the study reports (study.md has no Table 1, only its
  summaries), and whether the study's prediction shows in instruction validity;
- results.png (variant x config heatmaps of the means), seeds.png (one column per model) and
  curves/<model>.png (training loss, and in-loop evaluation when it was on);
- coverage.json (replicate_mini_coverage.py) and prompt_tokens.json (replicate_mini_lengths.py),
  each with its section of results.md.

    python benchmarks/replicate_mini_report.py OUT     # redraw from what OUT holds
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CONFIGS = ("answer-only", "diverse-answer-only")
SHORT = {"answer-only": "answer-only", "diverse-answer-only": "diverse"}

# What study.md reports, per Table-1 group and config (its summaries; no per-variant table).
STUDY = {
    ("in distribution", "answer-only"): "succeeds",
    ("instruction", "answer-only"): "near zero",
    ("instruction", "diverse-answer-only"): "very high",
    ("fake", "answer-only"): "does well",
    ("fake", "diverse-answer-only"): "near zero",
}
STUDY_VARIANT = {("two_boxes", "answer-only"): "0.35 (Qwen)"}
# The prediction, in instruction validity: the answer-only model keeps its training vocabulary /
# rule (valid on fake, invalid on instruction variants), the diverse model follows the prompt.
PREDICTION = {
    "answer-only": ("fake", "instruction"),
    "diverse-answer-only": ("instruction", "fake"),
}


def collect(out: Path, seeds: tuple[int, ...]) -> dict:
    """results.json's content from the evaluations found under OUT/evals (missing ones skipped)."""
    table: dict = {}
    for task in ("points", "sokoban"):
        for config in CONFIGS:
            for seed in seeds:
                file = out / "evals" / f"{task}-{config}-seed{seed}" / "results.json"
                if not file.exists():
                    continue
                metrics = json.loads(file.read_text())["metrics"].get(task, {})
                for name, m in metrics.items():
                    variant = name.replace("-", "_")  # the eval config's split name
                    cell = table.setdefault(task, {}).setdefault(variant, {})
                    cell = cell.setdefault(config, {"success": 0.0, "validity": 0.0, "seeds": []})
                    cell["seeds"].append(
                        {"seed": seed, "success": m["success"], "validity": m["validity"]}
                    )
    for variants in table.values():
        for configs in variants.values():
            for cell in configs.values():
                n = len(cell["seeds"])
                for key in ("success", "validity"):
                    cell[key] = round(sum(x[key] for x in cell["seeds"]) / n, 4)
    return table


def _cell(cell: dict | None, key: str) -> str:
    if not cell:
        return "—"
    values = ", ".join(f"{100 * x[key]:.0f}" for x in cell["seeds"])
    return f"{100 * cell[key]:.1f} ({values})"


def _group_mean(variants: dict, config: str, group: str) -> float | None:
    from datagen.figures.style import variant_group

    values = [
        c[config]["validity"]
        for v, c in variants.items()
        if variant_group(v) == group and config in c
    ]
    return sum(values) / len(values) if values else None


def verdicts(table: dict) -> list[str]:
    """One line per task and config: does the predicted validity ordering show?"""
    lines = []
    for task, variants in table.items():
        for config in CONFIGS:
            high, low = PREDICTION[config]
            a, b = _group_mean(variants, config, high), _group_mean(variants, config, low)
            if a is None or b is None:
                continue
            shows = "shows" if a > b else "does NOT show"
            lines.append(
                f"- {task}, {config}: mean validity {100 * a:.1f} % on {high} variants vs "
                f"{100 * b:.1f} % on {low} variants — the predicted ordering ({high} > {low}) "
                f"{shows}."
            )
    return lines


def sokoban_answers(out: Path, seeds: tuple[int, ...]) -> list[str]:
    """A results.md section: each Sokoban model's most frequent answer per variant (the first
    `<answer>` of each turn, as the scorer reads it), from its episodes.jsonl."""
    from collections import Counter

    columns, answers = [], {}
    for config in CONFIGS:
        for seed in seeds:
            file = out / "evals" / f"sokoban-{config}-seed{seed}" / "episodes.jsonl"
            if not file.exists():
                continue
            name = f"{SHORT[config]} s{seed}"
            columns.append(name)
            counts: dict[str, Counter] = {}
            for line in file.read_text().splitlines():
                episode = json.loads(line)
                found = counts.setdefault(episode["variant"].replace("-", "_"), Counter())
                found.update(_answer(r) for r in episode["responses"])
            for variant, found in counts.items():
                word, n = found.most_common(1)[0]
                share = 100 * n / sum(found.values())
                word = word[:24].replace("\n", " ").replace("|", "\\|").replace("`", "'")
                answers.setdefault(variant, {})[name] = f"`{word}` {share:.0f}%"
    if not answers:
        return []
    lines = [
        "## What the Sokoban models answer",
        "",
        "Each model's most frequent answer per variant, and its share of the turns.",
        "",
        "| variant | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for variant in sorted(answers):
        cells = [answers[variant].get(c, "—") for c in columns]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return lines


def _answer(response: str) -> str:
    """The scored answer, or what follows an unclosed `<answer>`, or `(no tag)`."""
    from datagen.tasks.sokoban import answer_of

    word = answer_of(response)
    if word is not None:
        return word
    _, tag, rest = response.partition("<answer>")
    return f"(unclosed) {rest.strip()[:10]}" if tag else "(no tag)"


def markdown(
    table: dict,
    record: dict,
    missing: list[str] | None = None,
    coverage: dict | None = None,
    answers: list[str] | None = None,
    lengths: list[str] | None = None,
) -> str:
    from datagen.figures.style import grouped, variant_group

    s = record.get("settings", {})
    seconds = record.get("seconds", {})
    total = sum(
        t.get("finetune_s", 0) + t.get("eval_s", 0) for t in seconds.values() if isinstance(t, dict)
    )
    total += sum(v for k, v in seconds.items() if k.startswith(("build/", "pretrain/")))
    pretrain = s.get("pretrain_steps")
    lines = [
        "# Miniature replication: answer-only vs diverse answer-only SFT, small models on CPU",
        "",
        f"Seeds {s.get('seeds')}; data seed {s.get('data_seed')}, {s.get('train_size')} training "
        f"rows per config; model {s.get('model') or 'MINI_CONFIG'} (datagen.tiny_model), "
        + (
            f"pre-trained {pretrain} steps on the copying task of replicate_mini_pretrain.py "
            f"(random tokens, no game; copy accuracy per seed {_copy(record)}); "
            if pretrain
            else "from scratch; "
        )
        + f"fine-tuned {s.get('epochs')} epochs, lr {s.get('lr')}, "
        f"global batch {s.get('global_batch')}, "
        f"max-len {s.get('max_len')}"
        + (f", max-steps {s['max_steps']}" if s.get("max_steps") else "")
        + ". Evaluation: `datagen eval --temperature 0` with the prompt ending each model was "
        f"trained on ({_endings(record)}), "
        f"{s.get('points_limit')} episodes per General Points variant, {s.get('sokoban_limit')} "
        f"per Sokoban variant ({s.get('max_turns')} turns). Step time summed over processes: "
        f"{total:.0f} s.",
        "",
        "Cells: mean % over the seeds, each seed's value in parentheses. Validity: share of "
        "turns whose answer follows the prompt's vocabulary / rule. `study`: what the study "
        "reports for success (its summaries in study.md; no per-variant table is available).",
        "",
        *([f"**Not finished yet** (no evaluation): {', '.join(missing)}.", ""] if missing else []),
        "## What appears (instruction validity, by Table-1 group)",
        "",
        *(verdicts(table) or ["- no evaluation finished yet"]),
    ]
    for task, variants in table.items():
        lines += [
            "",
            f"## {task}",
            "",
            "| variant | group | answer-only success | answer-only validity | "
            "diverse success | diverse validity | study: answer-only | study: diverse |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for group, members in grouped(list(variants)):
            for v in members:
                cells = variants[v]
                study = [
                    STUDY_VARIANT.get((v, c)) or STUDY.get((variant_group(v), c), "")
                    for c in CONFIGS
                ]
                lines.append(
                    f"| {v} | {group} | "
                    + " | ".join(
                        _cell(cells.get(c), k) for c in CONFIGS for k in ("success", "validity")
                    )
                    + f" | {study[0]} | {study[1]} |"
                )
    if answers:
        lines += ["", *answers]
    if coverage:
        from replicate_mini_coverage import markdown as coverage_markdown

        lines += ["", *coverage_markdown(coverage)]
    if lengths:
        lines += ["", *lengths]
    return "\n".join(lines) + "\n"


def write_report(out: Path, seeds: tuple[int, ...], record: dict) -> dict:
    """Write results.json, results.md, results.png, seeds.png, curves/*.png; return the table."""
    from datagen.figures import runs_heatmap, training_curves

    table = collect(out, tuple(seeds))
    missing = [
        f"{t}-{c}-seed{seed}"
        for seed in seeds
        for t in ("points", "sokoban")
        for c in CONFIGS
        if not (out / "evals" / f"{t}-{c}-seed{seed}" / "results.json").exists()
    ]
    from replicate_mini_coverage import coverage as word_coverage
    from replicate_mini_lengths import markdown as lengths_markdown
    from replicate_mini_lengths import prompt_tokens

    tokenizer = out / "models" / f"base-seed{seeds[0]}"
    words, lengths = {}, {}
    if (tokenizer / "tokenizer.json").exists():
        words, lengths = word_coverage(out, tokenizer), prompt_tokens(out, tokenizer)
    if words:
        (out / "coverage.json").write_text(json.dumps(words, indent=1, ensure_ascii=False) + "\n")
    if lengths:
        (out / "prompt_tokens.json").write_text(json.dumps(lengths, indent=1) + "\n")
    (out / "results.json").write_text(json.dumps(table, indent=2) + "\n")
    answers = sokoban_answers(out, tuple(seeds))
    section = lengths_markdown(lengths, out)
    (out / "results.md").write_text(markdown(table, record, missing, words, answers, section))
    means = {
        c: {t: {v: cells[c] for v, cells in vs.items() if c in cells} for t, vs in table.items()}
        for c in CONFIGS
    }
    runs_heatmap({SHORT[c]: m for c, m in means.items()}, out / "results.png")
    per_model: dict = {}
    for task, variants in table.items():
        for variant, cells in variants.items():
            for config, cell in cells.items():
                for x in cell["seeds"]:
                    name = f"{SHORT[config]} s{x['seed']}"
                    per_model.setdefault(name, {}).setdefault(task, {})[variant] = x
    runs_heatmap(dict(sorted(per_model.items())), out / "seeds.png")
    for log in sorted((out / "runs").glob("*/train_log.jsonl")):
        entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        if entries:
            (out / "curves").mkdir(exist_ok=True)
            training_curves(entries, out / "curves" / f"{log.parent.name}.png", log.parent.name)
    return table


def _endings(record: dict) -> str:
    """`--ending` per task/config, e.g. "sokoban/diverse-answer-only: think"."""
    endings = record.get("endings") or {}
    return ", ".join(f"{name}: {ending}" for name, ending in sorted(endings.items())) or "-"


def _copy(record: dict) -> str:
    """Each pre-trained base's copy accuracy, e.g. "1: 0.97, 2: 0.95"."""
    found = record.get("pretrain_copy_accuracy") or {}
    return ", ".join(f"{seed}: {acc:.2f}" for seed, acc in sorted(found.items())) or "-"


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "replication/mini")
    record_file = folder / "replication.json"
    rec = json.loads(record_file.read_text()) if record_file.exists() else {}
    found = sorted({int(p.name.rsplit("seed", 1)[1]) for p in folder.glob("evals/*-seed*")})
    write_report(folder, tuple(rec.get("settings", {}).get("seeds") or found), rec)
    print(f"wrote {folder}/results.md, results.json, results.png, seeds.png")
