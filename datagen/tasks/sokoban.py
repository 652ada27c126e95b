"""The Sokoban task: rows are states of a level, the answer is one action.

Training rows follow one optimal trajectory (state -> next action) as in the study; every
optimal next action counts as correct. Evaluation rows hold a start state that the harness plays
out turn by turn. Answers are read from the first <answer>...</answer> after the thinking (the
rule of `datagen.tasks.final_text`: after the last `</think>`, none when a `<think>` is left
open) and matched against the template's *scored* vocabulary, insensitively to case, emoji
variation selectors (text or emoji style), invisible format characters (zero-width spaces,
direction marks, a BOM) and compatibility forms (NFKC: full-width `Ｕｐ` is `Up`). Reading is
two `str.find`s, linear in the text however many tags it holds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from datagen.tasks import Score, final_text, new_row
from datagen.templates.sokoban import normalize_word, render_prompt_text
from solvers.sokoban import (
    ACTIONS,
    LabelError,
    Level,
    optimal_actions,
    optimal_trajectory,
    solve,
)

name = "sokoban"

OPEN, CLOSE = "<answer>", "</answer>"
# Invisible characters a one-word answer never needs; the zero-width joiner stays (emoji).
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200e\u200f\u2060\ufeff"), None)
_INVISIBLE.update(dict.fromkeys(range(0x202A, 0x202F), None))
_INVISIBLE.update(dict.fromkeys(range(0x2066, 0x206A), None))
MAX_ANSWER_CHARS = 256  # longer tag content is never one word of a vocabulary


def render_prompt(instance: dict, template: dict) -> list[dict]:
    cells = Level.parse(instance["grid"]).cells()
    return [{"role": "user", "content": render_prompt_text(cells, template)}]


def answer_of(text: str | None) -> str | None:
    """The content of the first <answer> tag after the thinking, stripped; None without one."""
    tail = final_text(text)
    if tail is None:
        return None
    start = tail.find(OPEN)
    end = tail.find(CLOSE, start + len(OPEN)) if start >= 0 else -1
    return tail[start + len(OPEN) : end].strip() if end >= 0 else None


def answer_key(word: str) -> str:
    """How an answer and a vocabulary word are compared (both sides go through it)."""
    return normalize_word(unicodedata.normalize("NFKC", word.translate(_INVISIBLE)))


def parse_action(text: str | None, template: dict) -> str | None:
    """'u'/'d'/'l'/'r' when the answer is a word of the scored vocabulary, else None."""
    return _action(answer_of(text), template)


def _action(answer: str | None, template: dict) -> str | None:
    if answer is None or len(answer) > MAX_ANSWER_CHARS:
        return None
    words = [answer_key(w) for w in template["scored_vocabulary"]]
    key = answer_key(answer)
    return ACTIONS[words.index(key)] if key in words else None


def answer_text(row: dict, action: str) -> str:
    """`<answer> Up </answer>`: an action ('u'/'d'/'l'/'r') in the row's scored vocabulary."""
    word = row["template"]["scored_vocabulary"][ACTIONS.index(action)]
    return f"<answer> {word} </answer>"


def render_answer(row: dict) -> str:
    """The answer-only target: the labelled action (the first of `solution.moves`)."""
    return answer_text(row, row["solution"]["moves"][0].lower())


def score(row: dict, text: str | None) -> Score:
    """Any text (None, or not a string, reads as no answer); never raises on model output."""
    answer = answer_of(text)
    if answer is None:
        return Score(False, False, "no_answer", None)
    action = _action(answer, row["template"])
    if action is None:
        return Score(False, False, "not_in_vocabulary", None)
    correct = action in row["solution"]["actions"]
    return Score(correct, True, "correct" if correct else "not_optimal", action)


def instance_of(level: Level) -> dict:
    return {
        "grid": level.xsb(),
        "height": level.height,
        "width": level.width,
        "boxes": len(level.boxes),
    }


def make_row(variant: str, level: Level, template: dict, solution: dict, meta: dict) -> dict:
    return new_row(name, variant, instance_of(level), template, solution, meta)


def _lurd(states: list[Level], actions: list[str]) -> str:
    """Actions as LURD text: capital letters where the step pushed a box."""
    out = []
    for state, action in zip(states, actions, strict=True):
        pushed = state.step(action).boxes != state.boxes
        out.append(action.upper() if pushed else action)
    return "".join(out)


def trajectory_rows(level: Level, seed: int, template_for: Callable[[int], dict]) -> list[dict]:
    """One training row per state along an optimal trajectory, under template_for(step)."""
    steps = optimal_trajectory(level)
    states = [state for state, _ in steps]
    chosen = [actions[0] for _, actions in steps]
    moves = _lurd(states, chosen)
    rows = []
    for i, (state, actions) in enumerate(steps):
        remaining = moves[i:]
        solution = {"actions": list(actions), "moves": remaining, "length": len(remaining)}
        meta = {
            "seed": seed,
            "step": i,
            "optimal_length": len(remaining),
            "pushes": sum(c.isupper() for c in remaining),
            "start_length": len(moves),
            "boxes": len(level.boxes),
            "height": level.height,
            "width": level.width,
        }
        rows.append(make_row("train", state, template_for(i), solution, meta))
    return rows


def start_row(variant: str, level: Level, seed: int, template: dict) -> dict:
    """An evaluation row: the level's start state, its optimal actions and solution."""
    solution = solve(level, time_limit=None)  # states and memory bound it, not the clock
    if not solution.solved:
        raise LabelError(f"evaluation level is not solvable: {solution.reason}")
    meta = {
        "seed": seed,
        "step": 0,
        "optimal_length": solution.length,
        "pushes": solution.pushes,
        "start_length": solution.length,
        "boxes": len(level.boxes),
        "height": level.height,
        "width": level.width,
    }
    sol = {
        "actions": list(optimal_actions(level)),
        "moves": solution.moves,
        "length": solution.length,
    }
    return make_row(variant, level, template, sol, meta)
