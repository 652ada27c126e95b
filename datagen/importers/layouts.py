"""The study's dataset layouts, recognised by their Parquet columns (names and Arrow types).

    layout = detect(pq.read_schema(path))   # -> Layout, or raises ImportFailure naming the columns

The four layouts are what the study's scripts write (its repository, debunk_sft/utils/dataset/):

- `sokoban-rl` (sokoban/create_diverse_dataset.py, create_ultra_mixed_dataset.py): `prompt`
  chat messages and `reward_model.ground_truth` action ids 1-4;
- `sokoban-sft` (sokoban/create_sft_dataset.py): `prompt` string and `response` string;
- `points-rl` (gp_l/process_gp_l.py, create_training_dataset.py, create_test_dataset.py):
  `question` chat messages and an `extra_info` struct with `cards`;
- `points-sft` (gp_l/process_gp_l.py, convert_gen_file_to_sft_dataset.py): `question` string
  and `answer` string.

Whether an SFT split is answer-only or CoT, and whether a split is diverse, is read from the rows
(datagen.importers decides it per split); test splits are recognised by their name (`test`,
`test_*`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click


class ImportFailure(click.ClickException):
    """Input the importer cannot use; the message is one line that says what was found."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@dataclass(frozen=True)
class Layout:
    name: str
    task: str  # sokoban | points
    kind: str  # rl | sft
    script: str  # the study's script that writes it
    prompt_column: str
    label_column: str  # where the study's label lives

    def describe(self) -> str:
        return f"{self.name} (the study's {self.script})"


LAYOUTS = (
    Layout(
        "sokoban-rl",
        "sokoban",
        "rl",
        "sokoban/create_diverse_dataset.py or create_ultra_mixed_dataset.py",
        "prompt",
        "reward_model",
    ),
    Layout("sokoban-sft", "sokoban", "sft", "sokoban/create_sft_dataset.py", "prompt", "response"),
    Layout(
        "points-rl",
        "points",
        "rl",
        "gp_l/process_gp_l.py, create_training_dataset.py or create_test_dataset.py",
        "question",
        "extra_info",
    ),
    Layout(
        "points-sft",
        "points",
        "sft",
        "gp_l/process_gp_l.py, create_training_dataset.py or convert_gen_file_to_sft_dataset.py",
        "question",
        "answer",
    ),
)


def _is_chat(arrow_type: Any) -> bool:
    """list<struct<role: string, content: string>> in either field order."""
    import pyarrow as pa

    if not (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)):
        return False
    item = arrow_type.value_type
    if not pa.types.is_struct(item):
        return False
    names = {item.field(i).name for i in range(item.num_fields)}
    return {"role", "content"} <= names


def _is_string(arrow_type: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _struct_field(arrow_type: Any, name: str) -> Any | None:
    import pyarrow as pa

    if not pa.types.is_struct(arrow_type):
        return None
    index = arrow_type.get_field_index(name)
    return arrow_type.field(index).type if index >= 0 else None


def _int_list(arrow_type: Any) -> bool:
    import pyarrow as pa

    return (
        arrow_type is not None
        and (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type))
        and pa.types.is_integer(arrow_type.value_type)
    )


def match(schema: Any) -> Layout | None:
    """The layout whose columns `schema` (a pyarrow.Schema) has, or None."""
    types = {field.name: field.type for field in schema}
    prompt, question = types.get("prompt"), types.get("question")
    if prompt is not None and _is_chat(prompt):
        ground_truth = _struct_field(types.get("reward_model"), "ground_truth")
        if _int_list(ground_truth):
            return LAYOUTS[0]
    if prompt is not None and _is_string(prompt) and _is_string(types.get("response")):
        return LAYOUTS[1]
    if (
        question is not None
        and _is_chat(question)
        and _struct_field(types.get("extra_info"), "cards")
    ):
        return LAYOUTS[2]
    if question is not None and _is_string(question) and _is_string(types.get("answer")):
        return LAYOUTS[3]
    return None


def detect(schema: Any, where: str) -> Layout:
    layout = match(schema)
    if layout is None:
        columns = ", ".join(f"{f.name}: {f.type}" for f in schema) or "none"
        raise ImportFailure(
            f"{where}: not one of the study's layouts (sokoban-rl, sokoban-sft, points-rl, "
            f"points-sft); columns found: {columns}"
        )
    return layout


def is_test_split(split: str) -> bool:
    return split == "test" or split.startswith("test_")
