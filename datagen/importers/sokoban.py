"""One row of the study's Sokoban datasets -> one row of our schema.

    converter = SokobanRows(source)           # caches parsed grids and solver results
    row = converter.convert(raw, layout, split, index, config)   # or raises RowError(reason)

The prompt is the study's raw string `<|im_start|>user\\n{content}<|im_end|>\\n<|im_start|>
assistant\\n{prefill}`: the wrapper is stripped and checked (re-wrapping gives the raw bytes back),
`content` is kept verbatim as the user message and `prefill` ('<think>' or '<answer>') goes to
`template["prefill"]`. The grid is read back from the study's symbols (each cell ` S \\t`), the
vocabulary from the `Answers:` line, the ending from the `Always output:` line. The label is
`reward_model.ground_truth` (action ids 1 Up, 2 Down, 3 Left, 4 Right) in the RL layout and the
word of the response in the SFT layout; `solution` is recomputed by our exact BFS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from datagen.tasks import schema_row, template_key
from datagen.templates.sokoban import (
    SYMBOL_LEGENDS,
    VOCABULARIES,
    WORDINGS,
    answers_section,
    make_template,
    normalize_word,
    render_prompt_text,
)
from solvers.sokoban import (
    ACTIONS,
    STUDY_SYMBOLS,
    Level,
    LevelError,
    optimal_path,
)

USER_OPEN = "<|im_start|>user\n"
TURN_SWITCH = "<|im_end|>\n<|im_start|>assistant\n"
PREFILLS = ("<think>", "<answer>", "")
THINK_ENDING = (
    "Always output: <think> [Your thoughts] </think> <answer> [your answer] </answer> "
    "with no extra text. Strictly follow this format."
)
ANSWER_ENDING = (
    "Always output: <answer> [your answer] </answer> with no extra text. "
    "Strictly follow this format."
)
_FROM_SYMBOL = {symbol: xsb for xsb, symbol in STUDY_SYMBOLS.items()}
_ANSWER_TAG = re.compile(r"<answer> ([^<>\n]*?) </answer>")
_OBSERVATION = "[Current Observation]:\n"
_CELLS = "".join(re.escape(symbol) for symbol in _FROM_SYMBOL)
_GRID = re.compile(rf"(?: [{_CELLS}] \t)+(?:\n(?: [{_CELLS}] \t)+)*")
# Cells are " S \t": drop the padding, map each symbol to its XSB character.
_TO_XSB = str.maketrans({" ": None, "\t": None, **_FROM_SYMBOL})
_DECIDE = "\nDecide the next action:"


@lru_cache(maxsize=2)
def _paper_frame(think: bool) -> tuple[str, str, str]:
    """Our paper prompt around its answers block and grid: (before, between, after)."""
    names = ("wall", "floor", "target", "box", "box_on_target", "player", "player_on_target")
    text = WORDINGS["paper"].substitute(
        dict(zip(names, SYMBOL_LEGENDS["paper"], strict=True)),
        answers_section="\0",
        answers_block="\0",
        grid="\1",
        output_instruction=THINK_ENDING if think else ANSWER_ENDING,
    )
    head, tail = text.split("\1")
    before, between = head.split("\0")
    return before, between, tail


class RowError(ValueError):
    """A row that cannot be read; the message is the reason listed in audit.json."""


def strip_wrapper(text: str) -> tuple[str, str, bool]:
    """(content, prefill, wrapped): the user content and what the assistant turn starts with."""
    if not text.startswith(USER_OPEN):
        return text, "", False
    end = text.find(TURN_SWITCH)
    if end < 0:
        raise RowError("the raw prompt opens a user turn but never switches to the assistant")
    content = text[len(USER_OPEN) : end]
    prefill = text[end + len(TURN_SWITCH) :]
    if prefill not in PREFILLS:
        raise RowError(f"unexpected text after the assistant turn opens: {prefill[:40]!r}")
    if f"{USER_OPEN}{content}{TURN_SWITCH}{prefill}" != text:  # e.g. a second user turn
        raise RowError("the raw prompt does not re-wrap to the same bytes")
    return content, prefill, True


def cached_template(
    cache: dict[tuple, tuple[dict, str]], key: tuple, make: Callable[[], dict], prefill: str
) -> tuple[dict, str]:
    """(template, its JSON as row ids hash it) for `key`: built by `make` the first time, with the
    row's prefill, then shared by every row of that template (neither is ever mutated)."""
    hit = cache.get(key)
    if hit is None:
        template = make()
        template["prefill"] = prefill
        hit = cache[key] = (template, template_key(template))
    return hit


def parse_grid(content: str) -> str:
    """The XSB text of the grid under `[Current Observation]:`."""
    start = content.find(_OBSERVATION)
    if start < 0:
        raise RowError("no [Current Observation] in the prompt")
    start += len(_OBSERVATION)
    end = content.find(_DECIDE, start)
    if end < 0:
        raise RowError("no 'Decide the next action:' after the grid")
    text = content[start:end]
    if _GRID.fullmatch(text):  # the common case in one pass; the loop below names errors
        return text.translate(_TO_XSB)
    rows = []
    for r, line in enumerate(text.split("\n")):
        cells = line.split("\t")
        if cells[-1] != "":
            raise RowError(f"grid row {r} does not end with a tab")
        out = []
        for c, cell in enumerate(cells[:-1]):
            xsb = _FROM_SYMBOL.get(cell[1:-1]) if len(cell) == 3 and cell[::2] == "  " else None
            if xsb is None:
                raise RowError(f"unknown grid cell {cell[:8]!r} at row {r}, col {c}")
            out.append(xsb)
        rows.append("".join(out))
    return "\n".join(rows)


def parse_vocabulary(content: str) -> list[str] | None:
    """The four words of the `Answers:` line, or None when the prompt shows no answers."""
    start = content.find("Answers:\n")
    if start < 0 or content.find("Rewards:", 0, start) >= 0:
        return None
    line_end = content.find("\n", start + len("Answers:\n"))
    line = content[start + len("Answers:\n") : line_end if line_end >= 0 else len(content)]
    words = _ANSWER_TAG.findall(line)
    if len(words) != 4:
        raise RowError(f"the Answers line lists {len(words)} actions, not 4")
    return words


def parse_ending(content: str) -> bool:
    """True for the think ending, False for the answer-only one."""
    end = content.find(_DECIDE)
    tail = content[end + len(_DECIDE) :] if end >= 0 else ""
    tail = tail.removeprefix("\\").strip()  # the study's evaluation prompt has a stray backslash
    if tail == THINK_ENDING:
        return True
    if tail == ANSWER_ENDING:
        return False
    raise RowError(f"unknown output instruction {tail[:60]!r}")


def response_word(response: str) -> str | None:
    """The action word of a study target: `Up </answer>`, `</think> <answer> Up </answer>`."""
    tail = response.rsplit("</think>", 1)[-1]
    if "<answer>" in tail:
        tail = tail.split("<answer>", 1)[1]
    if "</answer>" not in tail:
        return None
    return tail.split("</answer>", 1)[0].strip()


class SokobanRows:
    """Converts rows, caching Level.parse by grid text and the solver's labels by state."""

    task = "sokoban"

    def __init__(self) -> None:
        self.levels: dict[str, Level] = {}
        self.canonical: dict[str, str] = {}
        self.labels: dict[Level, tuple[tuple[str, ...], str, bool]] = {}
        self.templates: dict[tuple, tuple[dict, str]] = {}

    def level(self, grid: str) -> Level:
        level = self.levels.get(grid)
        if level is None:
            try:
                level = Level.parse(grid)
            except LevelError as error:
                raise RowError(f"not a valid level: {error}") from None
            self.levels[grid] = level
            # The audit looks rows up by their canonical XSB: one parse serves both.
            self.canonical[grid] = canonical = level.xsb()
            self.levels[canonical] = level
            self.canonical[canonical] = canonical
        return level

    def label(self, level: Level) -> tuple[tuple[str, ...], str, bool]:
        """(optimal next actions, an optimal LURD solution, solved) by our exact BFS.

        Study rows are consecutive states of one trajectory: one search labels every state of
        an optimal path at once, so the next rows are usually found here.
        """
        hit = self.labels.get(level)
        if hit is not None:
            return hit
        if level.solved:
            self.labels[level] = ((), "", True)
            return self.labels[level]
        trajectory, moves = optimal_path(level)
        if not trajectory:  # unsolvable
            self.labels[level] = ((), "", False)
            return self.labels[level]
        for i, (state, actions) in enumerate(trajectory):
            self.labels.setdefault(state, (tuple(actions), moves[i:], True))
            # The next rows of a study trajectory are these states: no parse needed.
            canonical = state.xsb()
            self.levels.setdefault(canonical, state)
            self.canonical.setdefault(canonical, canonical)
        return self.labels[level]

    def is_paper(self, content: str, grid: str, template: dict) -> bool:
        """Whether `content` is byte for byte our paper rendering of the row (which ends, as the
        study's turn does, with a space before `<|im_end|>`). The grid text round-trips exactly
        when its canonical XSB is the parsed one, so only the text around it is compared."""
        if self.canonical[grid] != grid:
            return content == render_prompt_text(self.level(grid).cells(), template)
        before, after, tail = _paper_frame(template["think"])
        answers = answers_section(template)
        # Compared in place: the prompt's text up to its grid is before + answers + after.
        grid_start = len(before) + len(answers) + len(after)
        return (
            content.startswith(before)
            and content.startswith(answers, len(before))
            and content.startswith(after, grid_start - len(after))
            and content.find(_OBSERVATION) + len(_OBSERVATION) == grid_start
            and content.endswith(tail)
            and content.find(_DECIDE, grid_start) == len(content) - len(tail)
        )

    def convert(self, raw: dict, layout: Any, split: str, index: int, source: dict) -> dict:
        text = raw.get("prompt")
        if layout.kind == "rl":
            if not isinstance(text, list) or len(text) != 1 or not isinstance(text[0], dict):
                raise RowError("prompt is not one chat message")
            text = text[0].get("content")
        if not isinstance(text, str):
            raise RowError("prompt has no text")
        content, prefill, wrapped = strip_wrapper(text)
        grid = parse_grid(content)
        words = parse_vocabulary(content)
        think = parse_ending(content)
        level = self.level(grid)
        template, template_json = self.template(words, think, prefill)
        response = raw.get("response")
        if layout.kind == "sft":
            if not isinstance(response, str):
                raise RowError("response is not text")
            word = response_word(response)
            keys = [normalize_word(w) for w in template["scored_vocabulary"]]
            key = normalize_word(word) if word is not None else None
            label = ACTIONS[keys.index(key)] if key in keys else None
            label_text = response
        else:
            truth = (raw.get("reward_model") or {}).get("ground_truth")
            if not isinstance(truth, list) or not truth:
                raise RowError("reward_model.ground_truth is not a list of action ids")
            first = truth[0]
            label = ACTIONS[first - 1] if isinstance(first, int) and 1 <= first <= 4 else None
            label_text = _json_list(truth)
        actions, moves, solvable = self.label(level)
        instance = {
            "grid": self.canonical[grid],  # canonical XSB: one state, one text
            "height": level.height,
            "width": level.width,
            "boxes": len(level.boxes),
        }
        meta = {
            "optimal_length": len(moves) if solvable else None,
            "pushes": sum(c.isupper() for c in moves),
            "boxes": len(level.boxes),
            "height": level.height,
            "width": level.width,
            "label": label,
            "label_text": label_text,
            "paper_prompt": self.is_paper(content, grid, template),
            "raw_wrapper": wrapped,
            "source": {**source, "split": split, "index": index},
        }
        if layout.kind == "rl" and isinstance(response, str):
            meta["response"] = response  # the diverse RL rows carry the SFT target too
        solution = {
            "actions": list(actions),
            "moves": moves,
            "length": len(moves) if solvable else None,
        }
        prompt = [{"role": "user", "content": content}]
        completion = response if layout.kind == "sft" else None
        return schema_row(
            self.task,
            "train",
            prompt,
            completion,
            instance,
            template,
            solution,
            meta,
            template_json,
        )

    def template(self, words: list[str] | None, think: bool, prefill: str) -> tuple[dict, str]:
        """(template, its JSON) of a row: one dict per distinct template, shared by its rows."""

        def make() -> dict:
            try:
                return make_template(
                    vocabulary=words or "base",
                    scored_vocabulary=words or "base",
                    show_answers=words is not None,
                    think=think,
                    family="study-import",
                )
            except ValueError as error:
                raise RowError(str(error)) from None

        key = (tuple(words) if words else None, think, prefill)
        return cached_template(self.templates, key, make, prefill)

    @staticmethod
    def is_cot(row: dict) -> bool:
        """A CoT target has reasoning before `</think>` (the answer-only ones have none)."""
        text = row["completion"][0]["content"]
        return "</think>" in text and bool(
            text.split("</think>", 1)[0].replace("<think>", "").strip()
        )

    @staticmethod
    def is_diverse(row: dict) -> bool:
        return row["template"]["vocabulary"] != list(VOCABULARIES["base"])


def _json_list(values: list) -> str:
    """json.dumps(values); a list of plain ints (the study's action ids) written directly."""
    if all(type(v) is int for v in values):
        return f"[{', '.join(map(str, values))}]"
    return json.dumps(values)
