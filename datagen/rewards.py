"""Reward functions for RL on the `rl` / `diverse-rl` configs, as TRL's GRPOTrainer calls them.

    from datagen.rewards import correctness_reward, validity_reward
    GRPOTrainer(model, reward_funcs=[correctness_reward, validity_reward],
                train_dataset=load_dataset("out/sokoban", "diverse-rl", split="train"))

TRL passes the dataset's other columns as lists (`task`, `instance`, `template`, `solution`),
so every completion is scored under its own row's template. Sokoban: 1.0 when the first action
is optimal; General Points: 1.0 when the formula is correct. Validity: 1.0 when the answer
followed the instructions (scored vocabulary / legal formula on the scored card values).
verl-style callers can use `compute_score(data_source, solution_str, ground_truth, extra_info)`.
"""

from __future__ import annotations

from typing import Any

from datagen.tasks import Score, get_task


def completion_text(completion: Any) -> str:
    """A completion as text: TRL gives strings, or message lists for conversational data."""
    if isinstance(completion, str):
        return completion
    return "".join(m["content"] for m in completion if m.get("role", "assistant") == "assistant")


def _scores(
    completions: list,
    task: list[str],
    instance: list[dict],
    template: list[dict],
    solution: list[dict],
) -> list[Score]:
    return [
        get_task(t).score({"instance": i, "template": tp, "solution": s}, completion_text(c))
        for c, t, i, tp, s in zip(completions, task, instance, template, solution, strict=True)
    ]


def correctness_reward(
    prompts: list,
    completions: list,
    *,
    task: list[str],
    instance: list[dict],
    template: list[dict],
    solution: list[dict],
    **kwargs: Any,
) -> list[float]:
    """1.0 for a correct answer under the row's own template, else 0.0."""
    return [float(s.correct) for s in _scores(completions, task, instance, template, solution)]


def validity_reward(
    prompts: list,
    completions: list,
    *,
    task: list[str],
    instance: list[dict],
    template: list[dict],
    solution: list[dict],
    **kwargs: Any,
) -> list[float]:
    """1.0 when the answer followed the instructions, right or wrong."""
    return [float(s.valid) for s in _scores(completions, task, instance, template, solution)]


def compute_score(
    data_source: str, solution_str: str, ground_truth: dict, extra_info: dict | None = None
) -> float:
    """verl's custom reward signature; ground_truth = the row (instance, template, solution)."""
    return float(get_task(data_source).score(ground_truth, solution_str).correct)
