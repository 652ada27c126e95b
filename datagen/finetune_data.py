"""The data side of the SFT trainer: find a config's rows, render them, pack them.

- `resolve_task_dir` / `load_rows`: the `train` split of one config of a build folder, a pulled
  folder or a Hub id, read straight from parquet;
- `encode_row`: token ids and a loss mask (1 on completion tokens) in a prompt format (the chat
  template or the study's raw string, datagen.prompts);
- `pack` / `collate`: best-fit packing of rows into sequences of `max_len` tokens with
  `position_ids` that restart at 0 for each row (no row attends to another);
- `split_step`: one optimizer step's rows split across the ranks of a distributed run, packed.

Used by `datagen.finetune` (which re-exports these names) and by the evaluation harness.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datagen.prompts import PromptFormatError, render_row

SFT_CONFIGS = ("answer-only", "diverse-answer-only", "cot", "diverse-cot")
JSON_COLUMNS = ("prompt", "completion", "instance", "template", "solution", "meta")
IGNORE = -100  # label of a position that carries no loss


class FinetuneError(ValueError):
    """Bad input found before training starts (the message says what and where)."""


def resolve_task_dir(data: str | Path, task: str | None = None) -> Path:
    """The folder of one task (`DIR/<task>` with `data/` inside) for a build, pull or Hub id."""
    path = Path(data).expanduser()
    if not path.exists():  # a Hub id OWNER/NAME[@rev]: downloaded (or found in the HF cache)
        from datagen.hub import resolve_data

        try:
            return Path(resolve_data(str(data), task=task))
        except Exception as error:  # HubError: one line that says what to do
            raise FinetuneError(str(error)) from error
    if (path / "data").is_dir():
        if task is not None and path.name != task and (path.parent / task / "data").is_dir():
            return path.parent / task
        return path
    tasks = sorted(p.name for p in path.iterdir() if (p / "data").is_dir()) if path.is_dir() else []
    if task is not None:
        if task not in tasks:
            raise FinetuneError(
                f"{path}: no task {task!r} here (found: {', '.join(tasks) or 'none'})"
            )
        return path / task
    if len(tasks) == 1:
        return path / tasks[0]
    if not tasks:
        raise FinetuneError(f"{path}: not a build folder (no <task>/data/ inside)")
    raise FinetuneError(f"{path} holds several tasks ({', '.join(tasks)}): choose one with --task")


def available(task_dir: Path) -> dict[str, list[str]]:
    """{config: [split, ...]} of a task folder, read from the parquet layout."""
    out: dict[str, list[str]] = {}
    for config_dir in sorted(p for p in (task_dir / "data").iterdir() if p.is_dir()):
        splits = sorted({f.name.split("-")[0] for f in config_dir.glob("*.parquet")})
        if splits:
            out[config_dir.name] = splits
    return out


def load_rows(task_dir: Path, config: str, split: str = "train") -> list[dict]:
    """The rows of one split as dicts (parquet read directly: no cache, no network)."""
    files = sorted((task_dir / "data" / config).glob(f"{split}-*.parquet"))
    if not files:
        configs = available(task_dir) if (task_dir / "data").is_dir() else {}
        have = ", ".join(f"{c}[{'/'.join(s)}]" for c, s in configs.items()) or "none"
        raise FinetuneError(f"{task_dir}: no {config}/{split} split (available: {have})")
    from datagen.folder_data import CardError, read_rows

    rows: list[dict] = []
    for file in files:
        try:
            rows.extend(read_rows(file))
        except CardError as error:  # truncated or not parquet: one line, not a traceback
            raise FinetuneError(str(error)) from None
    for row in rows:  # a build may store nested columns as JSON text; rows are dicts here
        for key in JSON_COLUMNS:
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    return rows


def encode_row(
    tokenizer: Any,
    row: dict,
    max_len: int,
    template_kwargs: dict | None = None,
    prompt_format: str = "chat",
) -> tuple[list[int], list[int]]:
    """Token ids and loss mask (1 on completion tokens) of one row, in the given prompt format.

    The prompt is tokenized as the model will see it when it generates (datagen.prompts), the
    completion separately, so the model is trained on exactly that prefix.
    """
    where = f"row {row.get('id', '?')}"
    if not row.get("completion"):
        raise FinetuneError(f"{where}: no completion (train on an SFT config: {SFT_CONFIGS})")
    try:
        prompt_text, completion_text = render_row(tokenizer, row, prompt_format, template_kwargs)
    except PromptFormatError as error:
        raise FinetuneError(f"{where}: {error}") from error
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion_text, add_special_tokens=False)["input_ids"]
    ids = list(prompt_ids) + list(completion_ids)
    if not completion_ids:
        raise FinetuneError(f"{where}: empty completion after rendering")
    if len(ids) > max_len:
        raise FinetuneError(
            f"{where}: {len(ids)} tokens, longer than max_len={max_len} (raise --max-len)"
        )
    return ids, [0] * len(prompt_ids) + [1] * len(completion_ids)


def pack(lengths: list[int], capacity: int) -> list[list[int]]:
    """Best-fit decreasing: bins of row indices whose lengths sum to at most `capacity`.

    Deterministic (ties broken by index); every row lands in exactly one bin; no row is cut.
    """
    bins: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        best = -1
        for b, free in enumerate(room):
            if lengths[i] <= free and (best < 0 or free < room[best]):
                best = b
        if best < 0:
            bins.append([i])
            room.append(capacity - lengths[i])
        else:
            bins[best].append(i)
            room[best] -= lengths[i]
    return bins


def collate(encoded: list[tuple[list[int], list[int]]], device: Any = "cpu") -> dict:
    """One packed sequence (batch dimension 1) from several encoded rows.

    `targets[t]` is the token at t+1 when that token carries loss, else IGNORE; the last token of
    each row never predicts the first token of the next row.
    """
    import torch

    ids: list[int] = []
    positions: list[int] = []
    targets: list[int] = []
    for row_ids, mask in encoded:
        ids += row_ids
        positions += range(len(row_ids))
        targets += [row_ids[t + 1] if mask[t + 1] else IGNORE for t in range(len(row_ids) - 1)]
        targets.append(IGNORE)
    as_tensor = lambda xs: torch.tensor([xs], dtype=torch.long, device=device)  # noqa: E731
    starts = [0]
    for row_ids, _ in encoded:
        starts.append(starts[-1] + len(row_ids))
    return {
        "input_ids": as_tensor(ids),
        "position_ids": as_tensor(positions),
        "targets": as_tensor(targets),
        # Row boundaries for flash attention's varlen kernels, computed here on the host: from
        # position_ids alone it would sync with the device in every layer.
        "cu_seq_lens": torch.tensor(starts, dtype=torch.int32, device=device),
        "max_length": max(len(row_ids) for row_ids, _ in encoded),
    }


def split_step(
    rows: list[tuple[list[int], list[int]]], world_size: int, max_len: int
) -> list[list[list[tuple[list[int], list[int]]]]]:
    """Each rank's packed sequences of one step: rank r takes rows r, r+N, r+2N, ... .

    Every rank holds the whole step's rows, so each computes every rank's share without talking
    to the others; with N = 1 this is the one-process packing.
    """
    shares = [rows[r::world_size] for r in range(world_size)]
    return [
        [[share[i] for i in members] for members in pack([len(ids) for ids, _ in share], max_len)]
        for share in shares
    ]
