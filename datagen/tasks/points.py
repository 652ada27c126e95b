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


# The study's draws (its `generate_cards_with_mapping`): n-1 cards uniform over 1..top, one forced
# card uniform over forced..top, then shuffled; "uniform" forces nothing.
DRAWS: dict[str, tuple[int, int | None]] = {
    "uniform": (13, None),
    "face": (13, 11),  # at least one J/Q/K: the rule in the prompt matters
    "large": (19, 14),  # at least one of 14..19; J/Q/K still possible
}


def card_name(value: int) -> str:
    """1 -> 'A', 11/12/13 -> 'J'/'Q'/'K', any other value as its number."""
    return {1: "A", 11: "J", 12: "Q", 13: "K"}.get(value, str(value))


def draw_hand(rng: Random, n_cards: int, draw: str = "uniform") -> list[str]:
    """A hand drawn as the study drew it (`DRAWS`): cards with replacement, shuffled."""
    if draw not in DRAWS:
        raise ValueError(f"unknown draw {draw!r}; choose from {', '.join(DRAWS)}")
    top, forced = DRAWS[draw]
    values = [rng.randint(1, top) for _ in range(n_cards - (forced is not None))]
    if forced is not None:
        values.append(rng.randint(forced, top))
    rng.shuffle(values)
    return [card_name(v) for v in values]


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
