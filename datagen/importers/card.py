"""The dataset-card section of an imported folder: where the rows came from, what the audit found.

datagen.cards.render_card puts `import_section(build)` at the top of "How it was made" when
build.json has a `source` (written by `datagen import`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _origin(source: Mapping[str, Any]) -> str:
    if source.get("kind") == "hub":
        repo, revision = source.get("repo"), source.get("revision", "main")
        return f"the Hub dataset [`{repo}`](https://huggingface.co/datasets/{repo}) at `{revision}`"
    return f"the local {source.get('kind', 'folder')} `{source.get('path')}`"


def import_section(build: Mapping[str, Any]) -> str:
    source = build["source"]
    audit = build.get("audit") or {}
    lines = [
        f"**Imported, not generated.** These rows were read from {_origin(source)} by "
        "`datagen import`, converted to this toolkit's schema and audited. The study's prompt "
        "and target texts are kept verbatim (`prompt`, `completion`; the raw chat wrapper it "
        "sent is stripped, its assistant prefill is `template.prefill`); `instance` is rebuilt "
        "from the prompt text and `solution` is recomputed by our exact solvers; "
        "`meta.source` names the split and row index of each row, `meta.label` the study's label.",
        "",
        "| source split | layout | rows | sha256 (16 hex) | imported as |",
        "|---|---|---|---|---|",
    ]
    for split, info in (source.get("splits") or {}).items():
        lines.append(
            f"| `{split}` | `{info['layout']}` ({info['script']}) | {info['rows']} | "
            f"`{info['sha256']}` | `{info['config']}/{info['split']}` |"
        )
    labels = audit.get("labels") or {}
    lines += [
        "",
        "### Audit (audit.json)",
        "",
        "| labels | " + " | ".join(labels) + " | duplicates | leaks | solution mismatch |",
        "|---|" + "---|" * (len(labels) + 3),
        "| rows | "
        + " | ".join(str(n) for n in labels.values())
        + f" | {audit.get('duplicates', 0)} | {audit.get('leaks', 0)} | "
        f"{audit.get('solution_mismatch', 0)} |",
        "",
        "Labels are the study's, re-verified by our solvers (Sokoban: a move-optimal next "
        "action or not, illegal = not an action of the vocabulary or a blocked move; General "
        "Points: every labelled formula exact on the scored values). Duplicates are rows posing "
        "the same canonical state as an earlier row of their split; leaks are training rows "
        "whose state is in an evaluation split (the study's test splits imported with them, and "
        "the `eval` config of each `--against` build: "
        + (", ".join(f"`{a}`" for a in build.get("leakage", {}).get("against", [])) or "none")
        + "). audit.json lists every defective and unreadable row with its index.",
    ]
    return "\n".join(lines)
