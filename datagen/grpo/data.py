"""The prompts GRPO trains on: the rows of an `rl` config, rendered as the model will see them.

Each prompt is the exact text of `datagen.prompts.prompt_text` (the chat template with its
generation prompt under `chat`; the study's raw string and prefill under `study`), handed to TRL
as plain text so that TRL applies no template of its own: training, SFT and `datagen eval` see the
same bytes. Rows without ground truth, or with completions (SFT configs), are refused here, in
one line, before any model work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datagen.grpo.config import RL_CONFIGS
from datagen.prompts import PromptFormatError, prompt_text

GROUND_TRUTH = ("task", "instance", "template", "solution")


class GrpoError(ValueError):
    """Bad input found before training starts (the message says what and where)."""


def load_prompt_rows(data: str, config: str, task: str | None, limit: int | None) -> tuple:
    """(rows, task folder) of the `train` split of an RL config, checked for ground truth."""
    from datagen.finetune import FinetuneError, load_rows, resolve_task_dir

    try:
        task_dir = resolve_task_dir(data, task)
        rows = load_rows(task_dir, config, "train")
    except FinetuneError as error:
        raise GrpoError(str(error)) from None
    rows = rows[:limit] if limit is not None else rows
    if not rows:
        raise GrpoError(f"{task_dir}: {config}/train has no rows")
    for row in rows:
        missing = [k for k in GROUND_TRUTH if not row.get(k)]
        if missing or row.get("completion"):
            what = f"no {', '.join(missing)}" if missing else "SFT completions"
            raise GrpoError(
                f"{task_dir}: row {row.get('id', '?')} of {config} has {what}: GRPO needs "
                f"prompts with ground truth ({' or '.join(RL_CONFIGS)})"
            )
    return rows, task_dir


def render_dataset(
    rows: list[dict], tokenizer: Any, fmt: str, chat_template_kwargs: dict | None
) -> Any:
    """A `datasets.Dataset` with the rendered `prompt` and the reward functions' columns."""
    from datasets import Dataset

    records = []
    for row in rows:
        try:
            text = prompt_text(tokenizer, row["prompt"], row["template"], fmt, chat_template_kwargs)
        except PromptFormatError as error:
            raise GrpoError(f"row {row.get('id', '?')}: {error}") from None
        records.append(
            {
                "prompt": text,
                "id": row["id"],
                "task": row["task"],
                "variant": row.get("variant", ""),
                # JSON text: the rows of a config need not share the keys of these dicts.
                **{k: json.dumps(row[k], ensure_ascii=False) for k in GROUND_TRUTH[1:]},
            }
        )
    return Dataset.from_list(records)


def task_of(rows: list[dict], task_dir: Path) -> str:
    tasks = {row["task"] for row in rows}
    if len(tasks) != 1:
        raise GrpoError(f"{task_dir}: rows of several tasks ({', '.join(sorted(tasks))})")
    return tasks.pop()
