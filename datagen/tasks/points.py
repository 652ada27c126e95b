"""The General Points task: a hand of cards, a face-card rule, a formula as the answer.

Rows hold hands solvable under the rule they are scored with; `solution` lists every distinct
solution. Answers are the study's JSON (`cards`, `number`, `formula`) read after the thinking
and checked with exact rationals; validity = a legal formula on exactly the scored values.
Which text is "the answer" (the last `"formula"` field, read from a complete JSON object; a
later stray field makes it ambiguous) is the one rule of `solvers.points.answer`, which the
rewards, the evaluation harness and rejection sampling all reach through `score`.
"""

from __future__ import annotations

from random import Random

from datagen.tasks import Score, new_row
from datagen.templates.points import render_answer_text, render_prompt_text
from solvers.points import hand_values, judge_answer, read_answer, solve

name = "points"

RANKS = ("A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K")
FACES = ("J", "Q", "K")
LARGE = tuple(str(v) for v in range(14, 20))


def render_prompt(instance: dict, template: dict) -> list[dict]:
    content = render_prompt_text(instance["cards"], instance["target"], template)
    return [{"role": "user", "content": content}]


def scored_values(row: dict) -> tuple[int, ...]:
    return hand_values(row["instance"]["cards"], tuple(row["template"]["scored_faces"]))


def answer_text(row: dict, formula: str) -> str:
    """The study's JSON answer for this row's hand with the given formula."""
    return render_answer_text(row["instance"]["cards"], list(scored_values(row)), formula)


def render_answer(row: dict) -> str:
    """The answer-only target: the first canonical solution."""
    return answer_text(row, row["solution"]["formulas"][0])


def score(row: dict, text: str | None) -> Score:
    """Any text (None, or not a string, reads as no answer); never raises on model output."""
    answer = read_answer(text)
    verdict = judge_answer(answer, scored_values(row), row["instance"]["target"])
    return Score(verdict.value == "correct", verdict.valid, verdict.value, answer.formula)


def draw_hand(rng: Random, n_cards: int, large: bool) -> list[str]:
    """Ranks drawn uniformly with replacement; `large` swaps one card for a value 14..19."""
    cards = [rng.choice(RANKS) for _ in range(n_cards)]
    if large:
        cards[rng.randrange(n_cards)] = rng.choice(LARGE)
    return cards


def leakage_keys(cards: list[str], template: dict, target: int) -> set[tuple]:
    """What a hand poses under the rule shown and the rule scored.

    Face values matter only for the face cards present, so a hand without J/Q/K poses the same
    problem under every rule.
    """
    keys = set()
    for faces in (template["faces"], template["scored_faces"]):
        rule = dict(zip(FACES, faces, strict=True))
        keys.add((tuple(sorted((c, rule.get(c, 0)) for c in cards)), target))
    return keys


def make_row(variant: str, cards: list[str], target: int, template: dict, seed: int) -> dict | None:
    """A row for a hand solvable under the template's scored rule, else None."""
    values = hand_values(cards, tuple(template["scored_faces"]))
    formulas = solve(values, target)
    if not formulas:
        return None
    meta = {
        "seed": seed,
        "cards": len(cards),
        "faces_in_hand": sum(c in FACES for c in cards),
        "solutions": len(formulas),
    }
    instance = {"cards": list(cards), "target": target}
    solution = {"values": list(values), "formulas": list(formulas)}
    return new_row(name, variant, instance, template, solution, meta)
