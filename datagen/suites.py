"""The named evaluation variants of the study, with what each prompt says and what is scored.

The fake variants differ on purpose: the prompt announces new names (or a new face-card rule)
while only the training vocabulary (or J/Q/K = 10) is accepted, which exposes a model that
ignores its instructions. Vocabulary variants reuse the "simple" levels, so their differences
come from the instructions alone.

    from datagen.suites import SOKOBAN_EVAL, POINTS_EVAL, split_name
"""

from __future__ import annotations

from dataclasses import dataclass


def split_name(variant: str) -> str:
    """`datasets` allows only word characters in split names: two-boxes -> two_boxes."""
    return variant.replace("-", "_")


@dataclass(frozen=True)
class SokobanVariant:
    name: str
    height: int = 6
    width: int = 6
    boxes: int = 1
    vocabulary: str = "base"  # shown in the prompt
    scored: str = "base"  # accepted by the environment
    show_answers: bool = True
    size: int = 100
    tests: str = ""

    @property
    def geometry(self) -> str:
        """Levels are shared by all variants of one geometry (same seeds, paired comparison)."""
        return f"{self.height}x{self.width}x{self.boxes}"


@dataclass(frozen=True)
class PointsVariant:
    name: str
    cards: int = 4
    rule: str = "all_10"  # shown in the prompt
    scored_rule: str = "all_10"  # the values answers are scored with
    # How hands are drawn, as the study's test scripts drew them (`datagen.tasks.points.DRAWS`):
    # "face" forces one J/Q/K (its `ood=True`), "large" one card of 14..19, "uniform" neither.
    draw: str = "face"
    size: int = 500
    tests: str = ""


SOKOBAN_EVAL: tuple[SokobanVariant, ...] = (
    SokobanVariant("simple", tests="in distribution: 6x6, one box, base vocabulary"),
    SokobanVariant("larger", 10, 10, tests="harder: 10x10 grid"),
    SokobanVariant("two-boxes", boxes=2, tests="harder: two boxes"),
    SokobanVariant("complex", 10, 10, 2, tests="harder: 10x10 grid and two boxes"),
    SokobanVariant("cardinal", vocabulary="cardinal", scored="cardinal", tests="new action names"),
    SokobanVariant("emoji", vocabulary="emoji", scored="emoji", tests="new action names"),
    SokobanVariant("numerical", vocabulary="numerical", scored="numerical", tests="new names"),
    SokobanVariant(
        "alphabetical", vocabulary="alphabetical", scored="alphabetical", tests="new names"
    ),
    SokobanVariant("random", vocabulary="random", scored="random", tests="new action names"),
    SokobanVariant("empty", show_answers=False, tests="no action list shown; base accepted"),
    SokobanVariant(
        "fake-cardinal", vocabulary="cardinal", tests="prompt says cardinal, only base accepted"
    ),
    SokobanVariant("fake-emoji", vocabulary="emoji", tests="prompt says emoji, only base accepted"),
    SokobanVariant(
        "fake-numerical", vocabulary="numerical", tests="prompt says 1-4, only base accepted"
    ),
)

# Opt-in, built only from a level collection (`datagen build --levels DIR`, datagen.levels): the
# default split name of --levels; any other name gets the same kind of variant.
SOKOBAN_COLLECTION_EVAL: tuple[SokobanVariant, ...] = (
    SokobanVariant(
        "boxoban", 10, 10, 4, tests="harder: Boxoban levels (10x10, four boxes) from --levels"
    ),
)

POINTS_EVAL: tuple[PointsVariant, ...] = (
    PointsVariant("id", tests="in distribution: 4 cards, J/Q/K = 10"),
    # The study's 5-card test set is the one it drew without a forced face card (ood=False).
    PointsVariant("five-cards", cards=5, draw="uniform", tests="harder: five cards"),
    PointsVariant("large", draw="large", tests="harder: a card valued 14-19"),
    PointsVariant(
        "face-regular",
        rule="mixed_11_12_13",
        scored_rule="mixed_11_12_13",
        tests="new rule: J/Q/K = 11/12/13",
    ),
    PointsVariant("all-12", rule="all_12", scored_rule="all_12", tests="new rule"),
    PointsVariant("all-7", rule="all_7", scored_rule="all_7", tests="new rule"),
    PointsVariant("all-5", rule="all_5", scored_rule="all_5", tests="new rule"),
    PointsVariant("fake", rule="mixed_11_12_13", tests="prompt says 11/12/13, 10 scored"),
    PointsVariant("all-5-fake", rule="all_5", tests="prompt says 5, 10 scored"),
)


def sokoban_variant(name: str) -> SokobanVariant:
    return {v.name: v for v in SOKOBAN_EVAL}[name]


def collection_variant(name: str) -> SokobanVariant:
    """The variant a --levels collection becomes (base vocabulary, action list shown)."""
    known = {v.name: v for v in SOKOBAN_COLLECTION_EVAL}
    return known.get(name) or SokobanVariant(name, 0, 0, 0, tests="levels from --levels")


def points_variant(name: str) -> PointsVariant:
    return {v.name: v for v in POINTS_EVAL}[name]
