"""Reward functions for RL on the `rl` / `diverse-rl` configs, as TRL's GRPOTrainer calls them.

    from datagen.rewards import correctness_reward, validity_reward
    GRPOTrainer(model, reward_funcs=[correctness_reward, validity_reward],
                train_dataset=load_dataset("out/sokoban", "diverse-rl", split="train"))

TRL passes the dataset's other columns as lists (`task`, `instance`, `template`, `solution`),
so every completion is scored under its own row's template. Sokoban: 1.0 when the first action
is optimal; General Points: 1.0 when the formula is correct. Validity: 1.0 when the answer
followed the instructions (scored vocabulary / legal formula on the scored card values).
verl-style callers can use `compute_score(data_source, solution_str, ground_truth, extra_info)`.

Completions are model output: any shape reads as text where it can and as no answer (reward 0)
where it cannot — a message without `content`, `content: None`, content parts
(`[{"type": "text", "text": ...}]`), a bare message dict, None, numbers. The answer itself is read
by the task's `score` under the one rule of each task (see `datagen.tasks`), never here.
"""

from __future__ import annotations

from typing import Any

from datagen.tasks import Score, get_task


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI-style content parts; only text parts carry text
        texts = (p.get("text") if isinstance(p, dict) else p for p in content)
        return "".join(t for t in texts if isinstance(t, str))
    return ""


def completion_text(completion: Any) -> str | None:
    """A completion as text: TRL gives strings, or message lists for conversational data.

    The assistant messages' text contents, joined (a message without a role counts as the
    assistant's); None when the completion holds no text at all (then it scores no_answer).
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if not isinstance(completion, (list, tuple)):
        return None
    parts = [
        _content_text(m.get("content"))
        for m in completion
        if isinstance(m, dict) and m.get("role", "assistant") == "assistant"
    ]
    return "".join(parts) if any(parts) else None


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
    data_source: str, solution_str: Any, ground_truth: dict, extra_info: dict | None = None
) -> float:
    """verl's custom reward signature; ground_truth = the row (instance, template, solution)."""
    return float(get_task(data_source).score(ground_truth, completion_text(solution_str)).correct)
