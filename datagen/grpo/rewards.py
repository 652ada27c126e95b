"""The reward functions `datagen grpo` hands to TRL, in TRL's signature, and their shapes.

    funcs, weights = reward_functions("ours", "study", recorder, correct_weight=1, valid_weight=0)

- `ours`: `correct` and `valid`, two functions (TRL logs the mean of each per step), weighted by
  `reward_weights`; both are `datagen.rewards` under each row's own template.
- `study`: one function, the study's shapes read with our parsers: Sokoban 1.0 only when the
  answer follows the format rule (exactly one `<think>`, `</think>`, `<answer>`, `</answer>`, in
  that order) and names the single BFS label (`solution.moves[0]`), else 0
  (`reward_score/sokoban.py: compute_score_with_action_sequence_and_diverse_prompt`); General
  Points 5 correct, -1 a legal formula on the right numbers with the wrong value, -2 the wrong
  numbers, -3 anything else (`reward_score/gp_l.py: score_gp_l_wo_sol`, its `REWARD_FN`).

The text scored is `prefill + completion` (datagen.prompts): under `--prompt-format study` the
Sokoban prompt already opened `<think>`, which belongs to the answer. Dataset columns holding
dicts travel as JSON text (rows of one config need not share keys), decoded here. Model output is
hostile: the parsers are the tasks' own (linear, never `eval`); tag counting is `str.count`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from datagen.prompts import prefill
from datagen.rewards import completion_text, correctness_reward, validity_reward
from datagen.tasks import get_task

TAGS = ("<think>", "</think>", "<answer>", "</answer>")
# The study's General Points reward per verdict of solvers.points.answer (its REWARD_FN).
POINTS_STUDY = {"correct": 5.0, "wrong_value": -1.0, "wrong_numbers": -2.0}
POINTS_STUDY_ELSE = -3.0  # illegal, ambiguous, no answer: the study's ILLEGAL_FORMULA


def _decode(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def study_format_ok(text: str) -> bool:
    """The study's Sokoban format rule: each tag exactly once, in the order of TAGS."""
    if any(text.count(tag) != 1 for tag in TAGS):
        return False
    positions = [text.find(tag) for tag in TAGS]
    return positions == sorted(positions)


def study_score(row: dict, text: str | None) -> float:
    """The study's reward for one completion (`text` = prefill + completion) of `row`."""
    score = get_task(row["task"]).score(row, text)
    if row["task"] == "points":
        return POINTS_STUDY.get(score.verdict, POINTS_STUDY_ELSE)
    if text is None or not study_format_ok(text):
        return 0.0
    # With one tag of each kind in order, our reading (first <answer> after the thinking) and
    # the study's (last <answer>) are the same tag; credit goes to the labelled action only.
    return float(score.answer is not None and score.answer == row["solution"]["moves"][0].lower())


class Recorder:
    """Every scored completion of the current step, for RUN/completions.jsonl (one writer)."""

    def __init__(self) -> None:
        self.pending: list[dict] = []

    def add(self, name: str, ids: list, texts: list, values: list[float]) -> None:
        """One reward function's values on a batch; the first function of a batch opens it."""
        if not self.pending or name in self.pending[-1]["rewards"]:
            self.pending.extend(
                {"id": i, "text": t, "rewards": {}} for i, t in zip(ids, texts, strict=True)
            )
        for entry, value in zip(self.pending[-len(ids) :], values, strict=True):
            entry["rewards"][name] = value

    def flush(self) -> list[dict]:
        out, self.pending = self.pending, []
        return out


def _texts(completions: list, templates: list[dict], fmt: str) -> list[str | None]:
    """prefill + completion for each completion, or None where it holds no text."""
    texts = []
    for completion, template in zip(completions, templates, strict=True):
        text = completion_text(completion)
        texts.append(None if text is None else prefill(template, fmt) + text)
    return texts


def _wrap(name: str, score: Callable, fmt: str, recorder: Recorder | None) -> Callable:
    def reward(prompts: list, completions: list, **columns: Any) -> list[float]:
        rows = [
            {
                "task": task,
                "instance": _decode(instance),
                "template": _decode(template),
                "solution": _decode(solution),
            }
            for task, instance, template, solution in zip(
                columns["task"],
                columns["instance"],
                columns["template"],
                columns["solution"],
                strict=True,
            )
        ]
        texts = _texts(completions, [r["template"] for r in rows], fmt)
        values = [float(v) for v in score(rows, texts)]
        if recorder is not None:
            recorder.add(name, list(columns.get("id") or [None] * len(rows)), texts, values)
        return values

    reward.__name__ = name  # TRL names its logged metrics after the function: rewards/<name>/mean
    return reward


def _ours(reward: Callable) -> Callable:
    def score(rows: list[dict], texts: list) -> list[float]:
        return reward(
            None,
            texts,
            task=[r["task"] for r in rows],
            instance=[r["instance"] for r in rows],
            template=[r["template"] for r in rows],
            solution=[r["solution"] for r in rows],
        )

    return score


def _study(rows: list[dict], texts: list) -> list[float]:
    return [study_score(row, text) for row, text in zip(rows, texts, strict=True)]


def reward_functions(
    shape: str,
    fmt: str,
    recorder: Recorder | None = None,
    correct_weight: float = 1.0,
    valid_weight: float = 0.0,
) -> tuple[list[Callable], list[float]]:
    """(reward functions, their weights) for TRL's `reward_funcs` and `reward_weights`."""
    if shape == "study":
        return [_wrap("study", _study, fmt, recorder)], [1.0]
    if shape != "ours":
        raise ValueError(f"reward: ours or study, got {shape!r}")
    funcs = [
        _wrap("correct", _ours(correctness_reward), fmt, recorder),
        _wrap("valid", _ours(validity_reward), fmt, recorder),
    ]
    return funcs, [correct_weight, valid_weight]
