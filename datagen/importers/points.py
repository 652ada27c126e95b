"""One row of the study's General Points datasets -> one row of our schema.

    converter = PointsRows()
    row = converter.convert(raw, layout, split, index, source)   # or raises RowError(reason)

The question text is kept verbatim (the study's training template is `"\\n" + body + "\\n"`, its
test template `"\\n" + body + "\\n\\n"`). Cards and target are read from the text and checked
against `extra_info`; the face rule *shown* is read from the text (every wording the study used:
"all count as", "'J' counts as ..., 'Q' ..., and 'K' ...", "count as '10'", "count as '11', '12',
and '13' respectively"), with `extra_info` as the fallback; the rule *scored* comes from
`extra_info.display_cards` (the fake test sets show one rule and score 10). The label is the
`answer` JSON (SFT) or every formula of `extra_info.solution` (RL); `solution` is recomputed by
our exact solver.
"""

from __future__ import annotations

import re
from typing import Any

from datagen.importers.sokoban import RowError, cached_template, strip_wrapper
from datagen.tasks import schema_row
from datagen.templates.points import make_template
from solvers.points import FACE_RULES, CardError, hand_values, solve

FACES = ("J", "Q", "K")
_TARGET = re.compile(r"You are an expert (\d{1,6}) points card game player")
_COUNT = re.compile(r"receive a set of (\d{1,3}) cards")
_CARDS = re.compile(r"Cards: \[([^\]\n]{0,400})\]")
_CARD = re.compile(r"'([^'\n]{1,4})'")
_RULES = (
    (re.compile(r"'J', 'Q', and 'K' all count as '(\d{1,3})'"), 1),
    (
        re.compile(
            r"'J' counts as '(\d{1,3})', 'Q' counts as '(\d{1,3})', and 'K' counts as '(\d{1,3})'"
        ),
        3,
    ),
    (
        re.compile(
            r"'J', 'Q', and 'K' count as '(\d{1,3})', '(\d{1,3})', and '(\d{1,3})' respectively"
        ),
        3,
    ),
    (re.compile(r"'J', 'Q', and 'K' count as '(\d{1,3})'"), 1),
)


def shown_faces(content: str, extra: dict) -> tuple[int, int, int]:
    """The J/Q/K values the prompt states (from extra_info when the text states none)."""
    for pattern, groups in _RULES:
        found = pattern.search(content)
        if found:
            values = tuple(int(v) for v in found.groups())
            return values * 3 if groups == 1 else values  # type: ignore[return-value]
    mapping = extra.get("face_card_mapping")
    if mapping in FACE_RULES:
        return FACE_RULES[mapping]
    if extra.get("treat_face_cards_as_10") is not None:
        return (10, 10, 10) if extra["treat_face_cards_as_10"] else (11, 12, 13)
    raise RowError("no face-card rule in the prompt or extra_info")


def scored_faces(
    cards: list[str], shown: tuple[int, ...], display: Any, values: tuple[int, ...]
) -> tuple[int, int, int]:
    """The J/Q/K values the study scored with, read from `display_cards` (the card values);
    `values` are the cards' values under the shown rule (for the plain cards)."""
    if display is None:
        return tuple(shown)  # type: ignore[return-value]
    if not isinstance(display, list) or len(display) != len(cards):
        raise RowError("extra_info.display_cards does not match the cards")
    seen: dict[str, int] = {}
    for card, value, plain in zip(cards, display, values, strict=True):
        if not isinstance(value, int):
            raise RowError("extra_info.display_cards holds a value that is not an integer")
        if card in FACES:
            if seen.setdefault(card, value) != value:
                raise RowError(f"extra_info.display_cards gives {card} two values")
        elif plain != value:
            raise RowError(f"extra_info.display_cards values {card} as {value}")
    if all(seen[f] == shown[FACES.index(f)] for f in seen):
        return tuple(shown)  # type: ignore[return-value]
    values = set(seen.values())
    if len(values) == 1:  # the fake sets: one value for every face card
        v = values.pop()
        return (v, v, v)
    return tuple(seen.get(f, shown[i]) for i, f in enumerate(FACES))  # type: ignore[return-value]


def rule_name(faces: tuple[int, ...], hint: Any) -> str:
    if hint in FACE_RULES and FACE_RULES[hint] == tuple(faces):
        return hint
    for name, values in FACE_RULES.items():
        if values == tuple(faces):
            return name
    return "custom_" + "_".join(map(str, faces))


class PointsRows:
    """Converts rows; the solver and the verdicts are cached per hand."""

    task = "points"

    def __init__(self) -> None:
        self._values: dict[tuple, tuple[int, ...]] = {}
        self._solutions: dict[tuple, tuple[str, ...]] = {}
        self.templates: dict[tuple, tuple[dict, str]] = {}
        self._frames: dict[tuple, str] = {}  # our paper prompt around the cards

    def values(self, cards: list[str], faces: Any) -> tuple[int, ...]:
        """hand_values, cached (hands repeat: there are 1,820 four-card hands)."""
        key = (tuple(cards), tuple(faces))
        hit = self._values.get(key)
        if hit is None:
            try:
                hit = self._values[key] = hand_values(cards, tuple(faces))
            except CardError as error:
                raise RowError(str(error)) from None
        return hit

    def solutions(self, values: tuple[int, ...], target: int) -> tuple[str, ...]:
        key = (tuple(sorted(values)), target)
        hit = self._solutions.get(key)
        if hit is None:
            hit = self._solutions[key] = solve(values, target)
        return hit

    def convert(self, raw: dict, layout: Any, split: str, index: int, source: dict) -> dict:
        question = raw.get("question")
        if layout.kind == "rl":
            if (
                not isinstance(question, list)
                or len(question) != 1
                or not isinstance(question[0], dict)
            ):
                raise RowError("question is not one chat message")
            question = question[0].get("content")
        if not isinstance(question, str):
            raise RowError("question has no text")
        content, prefill, wrapped = strip_wrapper(question)
        extra = raw.get("extra_info") or {}
        if not isinstance(extra, dict):
            raise RowError("extra_info is not a mapping")
        found = _CARDS.search(content)
        if found is None:
            raise RowError("no 'Cards: [...]' in the question")
        cards = _CARD.findall(found.group(1))
        if not cards:
            raise RowError("the Cards list is empty")
        if extra.get("cards") is not None and list(extra["cards"]) != cards:
            raise RowError(f"the question's cards {cards} differ from extra_info.cards")
        count = _COUNT.search(content)
        if count is not None and int(count.group(1)) != len(cards):
            raise RowError(f"the question announces {count.group(1)} cards and lists {len(cards)}")
        target_match = _TARGET.search(content)
        target = int(target_match.group(1)) if target_match else extra.get("target")
        if not isinstance(target, int) or target < 1:
            raise RowError("no target in the question or extra_info")
        shown = shown_faces(content, extra)
        scored = scored_faces(cards, shown, extra.get("display_cards"), self.values(cards, shown))
        answer = raw.get("answer")
        if layout.kind == "sft":
            if not isinstance(answer, str):
                raise RowError("answer is not text")
            labels = [answer]
            cot = "</think>" in answer
            think = cot
            if cot and "<think>" not in answer.split("</think>", 1)[0]:
                prefill = prefill or "<think>"  # the teacher's text after a <think> prefill
        else:
            solution = extra.get("solution")
            labels = [solution] if isinstance(solution, str) else list(solution or [])
            think = True
        template, template_json = self.template(
            rule_name(shown, extra.get("face_card_mapping")), shown, scored, think, prefill
        )
        values = self.values(cards, scored)
        formulas = self.solutions(values, target)
        # Our paper prompt for this hand: rendered once per card count, target and template with
        # a stand-in for the cards, which are then put in (a card's repr never holds \0).
        frame_key = (len(cards), target, template_json)
        frame = self._frames.get(frame_key)
        if frame is None:
            frame = self._frames[frame_key] = _render(["\0"] * len(cards), target, template)
        rendered = frame.replace(repr(["\0"] * len(cards)), repr(cards), 1)
        instance = {"cards": cards, "target": target}
        meta = {
            "cards": len(cards),
            "faces_in_hand": sum(c in FACES for c in cards),
            "solutions": len(formulas),
            "label": labels,
            "paper_prompt": content == rendered,  # the test sets have one more newline
            "raw_wrapper": wrapped,
            "source": {
                **source,
                "split": split,
                "index": index,
                "data_source": str(raw.get("data_source") or ""),
            },
        }
        prompt = [{"role": "user", "content": content}]
        completion = answer if layout.kind == "sft" else None
        solution = {"values": list(values), "formulas": list(formulas)}
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

    def template(
        self, rule: str, shown: tuple, scored: tuple, think: bool, prefill: str
    ) -> tuple[dict, str]:
        """(template, its JSON) of a row: one dict per distinct template, shared by its rows."""
        key = (rule, tuple(shown), tuple(scored), think, prefill)
        return cached_template(
            self.templates,
            key,
            lambda: make_template(
                rule=rule, faces=shown, scored_faces=scored, think=think, family="study-import"
            ),
            prefill,
        )

    @staticmethod
    def is_cot(row: dict) -> bool:
        return "</think>" in row["completion"][0]["content"]

    @staticmethod
    def is_diverse(row: dict) -> bool:
        return row["template"]["rule"] != "all_10"


def _render(cards: list[str], target: int, template: dict) -> str:
    from datagen.templates.points import render_prompt_text

    return render_prompt_text(cards, target, template)
