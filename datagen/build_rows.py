"""The worker jobs of `datagen build`: draw, label and render one task's instances.

Each job depends only on the options and its indices (seeds come from `datagen.seeding`), so
any number of worker processes gives the same rows; `datagen.build` runs them in chunks of
`CHUNK` indices and checks their leakage.
"""

from __future__ import annotations

from datagen.build_config import BuildConfig, BuildError
from datagen.seeding import derive_rng, derive_seed
from datagen.suites import PointsVariant, SokobanVariant

CHUNK = 64  # instances per worker job: small enough to stop soon after the target is reached
MAX_DRAWS_PER_ROW = 50  # a train split that needs more draws than this per row cannot be filled


# ---------------------------------------------------------------------------------------------
# Sokoban


def sokoban_eval_levels(job: tuple[int, SokobanVariant, int]) -> list[tuple[int, str]]:
    """`size` distinct start grids of a geometry, as (seed, xsb)."""
    from solvers.sokoban import generate_level

    seed, variant, size = job
    levels: dict[str, int] = {}
    for i in range(size * MAX_DRAWS_PER_ROW):
        if len(levels) == size:
            break
        level_seed = derive_seed(seed, "sokoban", "eval", variant.geometry, i)
        level = generate_level(level_seed, variant.height, variant.width, variant.boxes)
        levels.setdefault(level.xsb(), level_seed)
    return [(s, grid) for grid, s in levels.items()]


def sokoban_eval_rows(job: tuple[SokobanVariant, list[tuple[int, str]]]) -> list[dict]:
    from datagen.tasks import sokoban
    from datagen.templates.sokoban import make_template
    from solvers.sokoban import Level

    variant, levels = job
    template = make_template(
        vocabulary=variant.vocabulary,
        scored_vocabulary=variant.scored,
        show_answers=variant.show_answers,
        think=True,
    )
    return [
        sokoban.start_row(variant.name, Level.parse(grid), level_seed, template)
        for level_seed, grid in levels
    ]


def sokoban_train_chunk(job: tuple[BuildConfig, int, frozenset[tuple]]) -> tuple[list[dict], int]:
    """Rows of the levels start..start+CHUNK; returns (rows, levels skipped for leakage)."""
    from datagen.leakage import sokoban_key
    from datagen.tasks import sokoban
    from datagen.templates.sokoban import draw_diverse_template, make_template
    from solvers.sokoban import generate_level

    config, start, eval_grids = job
    rows, skipped = [], 0
    for i in range(start, start + CHUNK):
        level_seed = derive_seed(config.seed, "sokoban", "train", i)
        level = generate_level(level_seed, 6, 6, 1, config.min_moves, config.max_moves)

        def template_for(step: int, i: int = i) -> dict:
            rng = derive_rng(config.seed, "sokoban", "template", i, step)
            if config.diverse:
                return draw_diverse_template(
                    rng, think=True, wordings=config.wordings, legends=config.legends
                )
            return make_template(
                think=True, wording=rng.choice(config.wordings), symbols=rng.choice(config.legends)
            )

        level_rows = sokoban.trajectory_rows(level, level_seed, template_for)
        if any(sokoban_key(row["instance"]["grid"]) in eval_grids for row in level_rows):
            skipped += 1
            continue
        rows.extend(level_rows)
    return rows, skipped


# ---------------------------------------------------------------------------------------------
# General Points


def points_eval_rows(job: tuple[int, PointsVariant, int]) -> list[dict]:
    """`size` rows of hands distinct (as multisets) within the variant, each solvable."""
    from datagen.tasks import points
    from datagen.templates.points import make_template
    from solvers.points import FACE_RULES

    seed, variant, size = job
    template = make_template(
        rule=variant.rule,
        faces=FACE_RULES[variant.rule],
        scored_faces=FACE_RULES[variant.scored_rule],
        think=True,
    )
    rows, seen = [], set()
    if size == 0:  # --eval-size 0: no eval config, as for Sokoban
        return rows
    for i in range(size * MAX_DRAWS_PER_ROW):
        if len(rows) == size:
            return rows
        hand_seed = derive_seed(seed, "points", "eval", variant.name, i)
        cards = points.draw_hand(derive_rng(hand_seed), variant.cards, variant.draw)
        key = tuple(sorted(cards))
        if key in seen:
            continue
        row = points.make_row(variant.name, cards, 24, template, hand_seed)
        if row is not None:
            seen.add(key)
            rows.append(row)
    raise BuildError(f"points variant {variant.name}: found only {len(rows)} of {size} hands")


def points_train_chunk(
    job: tuple[BuildConfig, int, frozenset[tuple]], rule: str | None = None
) -> tuple[list[dict], int]:
    """Training hands drawn uniformly (the study's training draw); diverse: under `rule`."""
    from datagen.leakage import points_keys
    from datagen.tasks import points
    from datagen.templates.points import draw_diverse_template, make_template
    from solvers.points import FACE_RULES

    config, start, eval_keys = job
    rows, skipped = [], 0
    for i in range(start, start + CHUNK):
        stream = ("points", "train", i) if rule is None else ("points", "train", rule, i)
        hand_seed = derive_seed(config.seed, *stream)
        rng = derive_rng(hand_seed)
        cards = points.draw_hand(rng, 4, "uniform")
        target = rng.choice(config.targets)
        if rule is not None:
            template = draw_diverse_template(
                rng, {rule: FACE_RULES[rule]}, think=True, wordings=config.wordings
            )
        else:
            template = make_template(
                rule="all_10", faces=FACE_RULES["all_10"], wording=rng.choice(config.wordings)
            )
        if points_keys(cards, template, target, config.holdout) & eval_keys:
            skipped += 1
            continue
        row = points.make_row("train", cards, target, template, hand_seed)
        if row is not None:
            rows.append(row)
    return rows, skipped
