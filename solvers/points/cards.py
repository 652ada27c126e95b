"""Cards and face-card rules of General Points (the 24 game of the study).

A card is a rank string: 'A' (1), '2'..'10', 'J', 'Q', 'K', or one of the plain values '14'..'19'
of the study's "large" variant. J, Q and K count as whatever the face-card rule says: the study
names 23 rules (`FACE_RULES`), trained its "diverse" models on 8 of them (`TRAIN_FACE_RULES`), and
any other (J, Q, K) triple of positive integers works too.

    >>> hand_values(["2", "7", "Q", "2"], FACE_RULES["mixed_9_10_11"])
    (2, 7, 10, 2)
"""

from __future__ import annotations

import re
from collections.abc import Sequence


class CardError(ValueError):
    """A card, a hand or a face-card rule that does not exist; the message says which."""


def _rule(name: str) -> tuple[int, int, int]:
    # The values are in the names ("all_9" -> 9, 9, 9; "skip_6_8_10" -> 6, 8, 10): deriving them
    # keeps the table below free of copy errors.
    numbers = tuple(int(part) for part in name.split("_") if part.isdigit())
    return (numbers * 3)[:3] if len(numbers) == 1 else numbers  # type: ignore[return-value]


# The study's 23 named mappings, in its order.
FACE_RULES: dict[str, tuple[int, int, int]] = {
    name: _rule(name)
    for name in (
        *(f"all_{v}" for v in (5, 7, 8, 9, 10, 11, 12, 13)),
        "mixed_9_10_11",
        "mixed_10_11_12",
        "mixed_8_9_10",
        "mixed_11_12_13",
        "mixed_9_11_13",
        "mixed_7_9_11",
        "mixed_8_10_12",
        "sequential_7_8_9",
        "sequential_8_9_10",
        "skip_6_8_10",
        "skip_7_9_11",
        "skip_8_10_12",
        "skip_9_11_13",
        "low_range_5_7_9",
        "mid_range_8_10_12",
    )
}

# The 8 rules of the study's diverse training set (1,250 tasks each).
TRAIN_FACE_RULES: tuple[str, ...] = (
    "all_8",
    "all_9",
    "all_10",
    "mixed_8_9_10",
    "sequential_7_8_9",
    "sequential_8_9_10",
    "low_range_5_7_9",
    "skip_6_8_10",
)

FACES = "JQK"
RANKS: tuple[str, ...] = ("A", *map(str, range(2, 11)), *FACES, *map(str, range(14, 20)))
_PLAIN = {"A": 1, **{str(v): v for v in (*range(2, 11), *range(14, 20))}}
_SPEC = re.compile(r"\s*([JQK])\s*=\s*(\d+)\s*", re.IGNORECASE)


def check_faces(faces: Sequence[int]) -> tuple[int, int, int]:
    """Return `faces` as a (J, Q, K) tuple of positive integers, or raise CardError."""
    values = tuple(faces)
    if len(values) != 3 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise CardError(f"face-card values must be three positive integers (J, Q, K), not {faces}")
    return values  # type: ignore[return-value]


def parse_faces(spec: str | Sequence[int]) -> tuple[int, int, int]:
    """Read a face-card rule: a study name ('mixed_9_10_11'), 'J=9,Q=10,K=11', '9,10,11' or a
    sequence of three integers. Raises CardError naming what is wrong."""
    if not isinstance(spec, str):
        return check_faces(spec)
    text = spec.strip()
    if text in FACE_RULES:
        return FACE_RULES[text]
    parts = [p for p in text.split(",") if p.strip()]
    if parts and all(_SPEC.fullmatch(p) for p in parts):
        given = {m[1].upper(): int(m[2]) for m in map(_SPEC.fullmatch, parts) if m}
        if len(given) != len(parts):
            raise CardError(f"face-card rule {spec!r} names a card twice")
        values = {"J": 10, "Q": 10, "K": 10, **given}  # unnamed faces keep the study's 10
        return check_faces(tuple(values[f] for f in FACES))
    if len(parts) == 3 and all(p.strip().isdecimal() for p in parts):
        return check_faces(tuple(int(p) for p in parts))
    raise CardError(
        f"unknown face-card rule {spec!r}: use a study name (e.g. all_10, mixed_9_10_11), "
        "'J=9,Q=10,K=11' or '9,10,11'"
    )


def card_value(card: str, faces: Sequence[int] = (10, 10, 10)) -> int:
    """The value of one card under a face-card rule (J, Q, K); raises CardError."""
    return _value(card, check_faces(faces))


def hand_values(cards: Sequence[str], faces: Sequence[int] = (10, 10, 10)) -> tuple[int, ...]:
    """The values of a hand, in the order of the cards; raises CardError."""
    if isinstance(cards, str):
        raise CardError(f"a hand is a sequence of cards, not the string {cards!r}")
    jqk = check_faces(faces)
    return tuple(_value(card, jqk) for card in cards)


def _value(card: str, jqk: tuple[int, int, int]) -> int:
    value = _PLAIN.get(card) if isinstance(card, str) else None
    if value is not None:  # the usual spelling: one lookup
        return value
    if not isinstance(card, str):
        raise CardError(f"a card is a string such as 'A', '7', 'Q' or '15', not {card!r}")
    rank = card.strip().upper()
    if rank in _PLAIN:
        return _PLAIN[rank]
    if len(rank) == 1 and rank in FACES:
        return jqk[FACES.index(rank)]
    raise CardError(f"{card!r} is not a card: use A, 2-10, J, Q, K or 14-19")
