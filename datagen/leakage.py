"""What an instance poses, for the leakage checks of `datagen build`.

Sokoban: a state is the puzzle of its walls, goals and boxes with the player anywhere in the
region it reaches without pushing; `sokoban_key` names that region by its smallest cell, so two
boards that differ only in where the player stands inside one region are the same puzzle (and a
leak). General Points: a hand poses its cards under the face rule shown and the rule scored
(`points_keys`, always held out) and, more coarsely, an arithmetic problem: its multiset of
values with the target. With 715 multisets of four values in 1..10 the arithmetic overlap of
training and evaluation cannot vanish at the study's sizes, so `arithmetic_overlap` measures it
per evaluation variant, and `--holdout values` keeps every evaluation multiset out of training
(`holdout_report` says how much of the training space that removes).

    from datagen.leakage import sokoban_key
    sokoban_key("#####\\n#@ $.#\\n#####") == sokoban_key("#####\\n# @$.#\\n#####")  # True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from math import comb
from typing import Any

HOLDOUTS = ("hands", "values")
SOKOBAN_KEY = "walls, goals, boxes and the player's reachable region (every trajectory state)"
POINTS_KEY = "hand under the face rule shown and the rule scored"
ARITHMETIC_KEY = "value multiset + target, under the face rule shown and the rule scored"


def sokoban_key(grid: str) -> tuple:
    """(height, width, walls, goals, boxes, smallest cell the player reaches without pushing)."""
    from solvers.sokoban import Level

    level = Level.parse(grid)
    blocked = level.walls | level.boxes
    seen = {level.player}
    frontier = [level.player]
    while frontier:  # flood fill of the player's region (iterative: any board size)
        r, c = frontier.pop()
        for cell in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            inside = 0 <= cell[0] < level.height and 0 <= cell[1] < level.width
            if inside and cell not in blocked and cell not in seen:
                seen.add(cell)
                frontier.append(cell)
    return (level.height, level.width, level.walls, level.goals, level.boxes, min(seen))


def value_keys(cards: list[str], template: Mapping[str, Any], target: int) -> set[tuple]:
    """The arithmetic a hand poses: ("values", sorted values, target) under both rules."""
    from solvers.points import hand_values

    return {
        ("values", tuple(sorted(hand_values(cards, tuple(faces)))), target)
        for faces in (template["faces"], template["scored_faces"])
    }


def points_keys(
    cards: list[str], template: Mapping[str, Any], target: int, holdout: str = "hands"
) -> set[tuple]:
    """What training must not share with evaluation: the hand under its rules, and with
    `holdout="values"` also its arithmetic."""
    from datagen.tasks import points

    keys = points.leakage_keys(cards, dict(template), target)
    if holdout == "values":
        keys |= value_keys(cards, template, target)
    return keys


def _row_value_keys(row: Mapping[str, Any]) -> set[tuple]:
    return value_keys(row["instance"]["cards"], row["template"], row["instance"]["target"])


def arithmetic_overlap(
    evaluation: Mapping[str, list[dict]], train: Iterable[dict]
) -> dict[str, Any]:
    """Per evaluation variant, how many hands pose arithmetic that a training row poses."""
    train = list(train)
    train_keys: set[tuple] = set()
    for row in train:
        train_keys |= _row_value_keys(row)
    eval_keys: set[tuple] = set()
    per_variant = {}
    for name, rows in evaluation.items():
        posed = 0
        for row in rows:
            keys = _row_value_keys(row)
            eval_keys |= keys
            posed += bool(keys & train_keys)
        per_variant[name] = {
            "hands": len(rows),
            "posed_by_training": posed,
            "share": round(posed / len(rows), 4) if rows else 0.0,
        }
    posing = sum(bool(_row_value_keys(row) & eval_keys) for row in train)
    return {
        "key": ARITHMETIC_KEY,
        "per_variant": per_variant,
        "training_rows_posing_eval_arithmetic": posing,
        "training_rows": len(train),
    }


def training_values(diverse: bool) -> tuple[int, ...]:
    """The card values a training hand can hold: A..10 and the face values of its rules."""
    from solvers.points import FACE_RULES, TRAIN_FACE_RULES

    rules = TRAIN_FACE_RULES if diverse else ("all_10",)
    return tuple(sorted({*range(1, 11), *(v for name in rules for v in FACE_RULES[name])}))


def holdout_report(
    evaluation: Mapping[str, list[dict]], diverse: bool, targets: Iterable[int]
) -> dict[str, Any]:
    """How much of the training space (4-card value multisets x targets) `--holdout values`
    removes: the evaluation multisets that training could have drawn."""
    values = training_values(diverse)
    targets = tuple(targets)
    space = comb(len(values) + 3, 4) * len(targets)
    allowed = set(values)
    held = {
        key
        for rows in evaluation.values()
        for row in rows
        for key in _row_value_keys(row)
        if len(key[1]) == 4 and set(key[1]) <= allowed and key[2] in targets
    }
    return {
        "mode": "values",
        "train_space": space,
        "held_out": len(held),
        "share_of_train_space": round(len(held) / space, 4),
    }


def row_keys(task: str, rows: Iterable[dict], holdout: str = "hands") -> set[tuple]:
    """What rows pose: the puzzle of every state (Sokoban); the hand under its rules and, with
    `holdout="values"`, its arithmetic (points)."""
    if task == "sokoban":
        return {sokoban_key(row["instance"]["grid"]) for row in rows}
    keys: set[tuple] = set()
    for row in rows:
        instance = row["instance"]
        keys |= points_keys(instance["cards"], row["template"], instance["target"], holdout)
    return keys


def leakage_record(
    config: Any,
    evaluation: Mapping[str, list[dict]],
    train: list[dict],
    overlaps: int,
    eval_keys: int,
    counts: Mapping[str, int],
) -> dict[str, Any]:
    """build.json["leakage"] of a BuildConfig's build: the check, and for points the
    arithmetic overlap per variant (and the holdout's cost)."""
    record: dict[str, Any] = {
        "checked": True,
        "overlaps": overlaps,
        "key": SOKOBAN_KEY if config.task == "sokoban" else POINTS_KEY,
        "eval_instances": eval_keys,
        **counts,
    }
    if config.task == "points":
        if config.holdout == "values":
            record["holdout"] = holdout_report(evaluation, config.diverse, config.targets)
        record["arithmetic"] = arithmetic_overlap(evaluation, train)
    return record
