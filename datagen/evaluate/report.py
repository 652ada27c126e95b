"""Metrics per variant and the Markdown table laid out like the study's Table 1.

- success: share of episodes solved (Sokoban: all boxes on targets within the turn limit;
  General Points: a correct formula);
- validity: share of all turns, over all episodes, whose answer followed the prompt's
  instructions (an episode with no valid turn counts fully; the study averaged only over
  episodes with at least one valid turn, which biased it upwards; that figure is kept in the
  JSON as `validity_study`, for comparison with the study's tables);
- mean turns: turns per episode (1 for General Points);
- format failures: share of turns from which no answer could be read at all.
"""

from __future__ import annotations

from datagen.evaluate.rollouts import FORMAT_FAILURES, Episode

COLUMNS = (
    ("success", "Success %"),
    ("validity", "Validity %"),
    ("mean_turns", "Mean turns"),
    ("format_failures", "Format failures %"),
)


def _suite_order(task: str) -> list[str]:
    """The study's order of the variants (Table 1), for rows of the report."""
    try:
        from datagen.suites import POINTS_EVAL, SOKOBAN_EVAL
    except ImportError:  # pragma: no cover - partial checkout
        return []
    return [v.name for v in (SOKOBAN_EVAL if task == "sokoban" else POINTS_EVAL)]


def _study_validity(group: list[Episode]) -> float:
    shares = [
        sum(t["valid"] for t in e.turns) / len(e.turns)
        for e in group
        if any(t["valid"] for t in e.turns)
    ]
    return sum(shares) / len(shares) if shares else 0.0


def summarize(episodes: list[Episode]) -> dict[str, dict[str, dict]]:
    """{task: {variant: metrics}}, variants in the study's order."""
    grouped: dict[str, dict[str, list[Episode]]] = {}
    for episode in episodes:
        grouped.setdefault(episode.task, {}).setdefault(episode.variant, []).append(episode)
    out: dict[str, dict[str, dict]] = {}
    for task in sorted(grouped):
        order = _suite_order(task)
        rank = {name: i for i, name in enumerate(order)}
        variants = sorted(grouped[task], key=lambda v: (rank.get(v, len(rank)), v))
        out[task] = {}
        for variant in variants:
            group = grouped[task][variant]
            turns = [turn for e in group for turn in e.turns]
            n_turns = max(1, len(turns))
            out[task][variant] = {
                "episodes": len(group),
                "success": sum(e.success for e in group) / len(group),
                "validity": sum(t["valid"] for t in turns) / n_turns,
                "mean_turns": len(turns) / len(group),
                "format_failures": sum(t["verdict"] in FORMAT_FAILURES for t in turns) / n_turns,
                "turns": len(turns),
                # The study's formula, for comparison with its tables only: the mean per-episode
                # share over episodes with at least one valid turn (biased upwards).
                "validity_study": _study_validity(group),
            }
    return out


def markdown(metrics: dict[str, dict[str, dict]], title: str | None = None) -> str:
    """One table per task: rows = variants, columns = metrics (percentages with one decimal)."""
    lines = [f"## {title}", ""] if title else []
    for task, variants in metrics.items():
        lines += [f"### {task}", ""]
        header = ["Variant", "Episodes", *(label for _, label in COLUMNS)]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for variant, m in variants.items():
            cells = [variant, str(m["episodes"])]
            for key, _ in COLUMNS:
                value = m[key]
                cells.append(f"{value:.2f}" if key == "mean_turns" else f"{100 * value:.1f}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
