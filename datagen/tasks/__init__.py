"""Tasks: one module per puzzle that renders, parses, verifies and scores rows.

    task = get_task("sokoban")                 # or "points"
    task.render_prompt(row["instance"], row["template"])   # chat messages
    task.render_answer(row)                    # the answer-only target text
    task.answer_text(row, answer)              # any answer ('u' / a formula) in the row's format
    task.score(row, completion_text)           # Score(correct, valid, verdict, answer)

Both tasks read answers only after the thinking, by one rule (`final_text`, from
`solvers.thinking`): the text after the last `</think>`, none when a `<think>` is left open.
`score` takes any completion (None or a non-string is no answer) and never raises on it.
Sokoban also has `parse_action(text, template)` for multi-turn rollouts. Rows follow the schema
of DESIGN.md; `template` holds everything the instructions said, so a row is always scored
under its own rules.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from types import ModuleType

from solvers.thinking import final_text  # the one rule for where answers are read (both tasks)

__all__ = ["TASKS", "Score", "final_text", "get_task", "new_row", "row_id"]

TASKS = ("sokoban", "points")


@dataclass(frozen=True)
class Score:
    correct: bool  # solves the row (an optimal next action / a correct formula)
    valid: (
        bool  # followed the instructions (scored vocabulary / legal formula on the scored values)
    )
    verdict: str  # machine-readable reason: correct, no_answer, not_in_vocabulary, ...
    answer: str | None  # the parsed answer ('u'/'d'/'l'/'r' or the formula)


def get_task(name: str) -> ModuleType:
    if name == "sokoban":
        from datagen.tasks import sokoban

        return sokoban
    if name == "points":
        from datagen.tasks import points

        return points
    raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")


def row_id(task: str, instance: dict, template: dict, template_json: str | None = None) -> str:
    """Content-derived id: the same instance under the same template has the same id anywhere.

    `template_json` is `template_key(template)` when the caller has it (rows sharing one template
    then serialise it once); the bytes hashed are the same either way.
    """
    if template_json is None:
        template_json = template_key(template)
    # json.dumps of the list [task, instance, template], written out: items joined by ", ".
    task_json = _TASK_JSON.get(task) or json.dumps(task)
    blob = f"[{task_json}, {_dumps(instance)}, {template_json}]"
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def template_key(template: dict) -> str:
    """The template's JSON as `row_id` hashes it (sorted keys, unescaped text)."""
    return _dumps(template)


# json.dumps(value, sort_keys=True, ensure_ascii=False), without building an encoder per call.
_dumps = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
_TASK_JSON = {task: json.dumps(task) for task in TASKS}


def new_row(
    task: str, variant: str, instance: dict, template: dict, solution: dict, meta: dict
) -> dict:
    """A row in the schema's column order, its prompt rendered under its template."""
    prompt = get_task(task).render_prompt(instance, template)
    return schema_row(task, variant, prompt, None, instance, template, solution, meta)


def schema_row(
    task: str,
    variant: str,
    prompt: list[dict],
    completion: str | None,
    instance: dict,
    template: dict,
    solution: dict,
    meta: dict,
    template_json: str | None = None,
) -> dict:
    """A row in the schema's column order from given texts (an SFT row when `completion`)."""
    row = {
        "id": row_id(task, instance, template, template_json),
        "task": task,
        "variant": variant,
        "prompt": prompt,
    }
    if completion is not None:
        row["completion"] = [{"role": "assistant", "content": completion}]
    row.update(instance=instance, template=template, solution=solution, meta=meta)
    return row
