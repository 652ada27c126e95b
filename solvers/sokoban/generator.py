"""The study's Sokoban level generator (RAGEN's `generate_room`), made reproducible.

One attempt, as the study's `SokobanEnv.reset` draws a level:
1. carve a room: a random walk of int(1.7·(h+w)) steps (direction changed with probability
   0.35), stamping one of five 3×3 floor patterns at each position; the border stays wall;
2. put the player on a floor cell, then each target on another free floor cell;
3. reverse play from the solved room (`reverse_play.py`): depth first, 30 deep, at most 300,000
   states, keeping the state with the best box swaps × displacement among those where every
   target is free — so no box starts on a target;
4. steps 1-3 are tried 4 times; a room where nothing scores, or with too little floor, fails
   the attempt (the study then reset with another seed);
5. nudge the player: with probability 0.8 when the boxes moved one cell in all, else 0.5, walk
   1-3 steps (after each, go on with probability 0.5), never onto a cell already visited.

Every level is solvable by construction (walk the nudge back, then push every pull back).
`generate_level` labels it with the move-optimal BFS and returns the first attempt whose length
lies in [min_moves, max_moves]: the study skipped training levels longer than 30 moves, which
draws the same distribution. The fix: the study seeded its retries with `hash(str(seed))`, which
differs per process; here each attempt draws from its own `random.Random`, seeded with
SHA-256 of (seed, size, boxes, attempt) exactly as `datagen.seeding.derive_seed` derives seeds
(`solvers` imports nothing of `datagen`), so a seed gives the same level in any process.

    python -c "from solvers.sokoban import generate_level; print(generate_level(7).xsb())"
"""

from __future__ import annotations

import hashlib
import math
import random

from solvers.sokoban.bfs import optimal_length
from solvers.sokoban.board import board_of
from solvers.sokoban.level import Level
from solvers.sokoban.reverse_play import DEEPEST, reverse_play

MAX_ATTEMPTS = 1000
TRIES = 4  # rooms per attempt before it fails (the study's `tries`)
P_CHANGE_DIRECTION = 0.35
STEPS_PER_SIDE = 1.7
NUDGE_STEPS = 3
STUDY_MAX_MOVES = 30  # the study's label cap: longer training levels were skipped
LONGEST = DEEPEST + NUDGE_STEPS  # no generated level needs more moves than this
_DIRECTIONS: tuple[tuple[int, int], ...] = ((1, 0), (0, 1), (-1, 0), (0, -1))  # the study's order
# The five 3x3 stamps of the study, as (dr, dc) offsets from the walk's position.
_MASKS: tuple[tuple[tuple[int, int], ...], ...] = tuple(
    tuple((r - 1, c - 1) for r in range(3) for c in range(3) if rows[r][c] == "1")
    for rows in (
        ("000", "111", "000"),
        ("010", "010", "010"),
        ("000", "110", "010"),
        ("000", "110", "110"),
        ("000", "011", "010"),
    )
)


def generate_level(
    seed: int,
    height: int = 6,
    width: int = 6,
    boxes: int = 1,
    min_moves: int = 1,
    max_moves: int | None = None,
) -> Level:
    """A solvable, unsolved level whose move-optimal length lies in [min_moves, max_moves].

    Deterministic in (seed, height, width, boxes, min_moves, max_moves) in any process. Raises
    ValueError for impossible arguments or when no attempt fits.
    """
    check_arguments(height, width, boxes, min_moves, max_moves)
    for attempt in range(MAX_ATTEMPTS):
        level = draw_level(attempt_seed(seed, height, width, boxes, attempt), height, width, boxes)
        if level is None:
            continue
        length = optimal_length(level)
        if (
            length is not None
            and min_moves <= length
            and (max_moves is None or length <= max_moves)
        ):
            return level
    raise ValueError(
        f"no {height}x{width} level with {boxes} boxes and {min_moves}..{max_moves} moves "
        f"after {MAX_ATTEMPTS} attempts (seed {seed})"
    )


def check_arguments(
    height: int, width: int, boxes: int, min_moves: int = 1, max_moves: int | None = None
) -> None:
    """Raise ValueError (one line) for arguments no generated level can meet."""
    if height < 3 or width < 3:
        raise ValueError(f"the room needs at least 3x3 cells, got {height}x{width}")
    if boxes < 1:
        raise ValueError(f"boxes must be >= 1, got {boxes}")
    if boxes + 1 > (height - 2) * (width - 2):
        raise ValueError(f"{boxes} boxes and a player do not fit inside {height}x{width}")
    if min_moves < 1:
        raise ValueError(f"min_moves must be >= 1, got {min_moves}")
    if max_moves is not None and max_moves < min_moves:
        raise ValueError(f"max_moves {max_moves} < min_moves {min_moves}")
    longest = longest_level(height, width, boxes)
    if min_moves > longest:
        raise ValueError(
            f"min_moves {min_moves} > {longest}: no generated {height}x{width} level with "
            f"{boxes} boxes is longer"
        )


def longest_level(height: int, width: int, boxes: int) -> int:
    """A bound no generated level's optimal length exceeds.

    Reverse play keeps a state at most DEEPEST steps from the solved room and the nudge adds at
    most NUDGE_STEPS, so walking both back solves any level in LONGEST moves; and an optimal
    solution never visits a state twice, so it is shorter than the room's count of states.
    """
    cells = (height - 2) * (width - 2)
    return min(LONGEST, cells * math.comb(cells - 1, boxes) - 1)


def attempt_seed(seed: int, height: int, width: int, boxes: int, attempt: int) -> int:
    """`datagen.seeding.derive_seed("sokoban-level", seed, height, width, boxes, attempt)`."""
    parts = ("sokoban-level", seed, height, width, boxes, attempt)
    text = "\x1f".join(f"{type(p).__name__}:{p}" for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def draw_level(attempt: int, height: int, width: int, boxes: int) -> Level | None:
    """One attempt of the study's generator (steps 1-5), or None when it fails."""
    rng = random.Random(attempt)
    found = None
    for _ in range(TRIES):
        floor = carve(rng, height, width)
        placed = place(rng, floor, boxes)
        if placed is None:
            return None  # the study raised here and reset with another seed
        player, targets = placed
        found = reverse_play(bytes(floor), width, targets, player)
        if found is not None:
            break
    if found is None:
        return None
    box_mask = 0
    for b in found.boxes:
        box_mask |= 1 << b
    path = nudge(rng, floor, width, box_mask, found.player, found.displacement)
    walls = frozenset(divmod(i, width) for i in range(height * width) if not floor[i])
    level = Level._trusted(
        height,
        width,
        walls,
        frozenset(divmod(t, width) for t in targets),
        frozenset(divmod(b, width) for b in found.boxes),
        divmod(path[-1], width),
    )
    board_of(level)  # compile once here so the board cache sees this room
    return level


def carve(rng: random.Random, height: int, width: int) -> bytearray:
    """The study's random-walk room: 1 for floor, 0 for wall, row-major."""
    floor = bytearray(height * width)
    direction = rng.choice(_DIRECTIONS)
    # The study starts anywhere in 1..dim-1 (border included); the first step clamps it inside.
    r, c = rng.randint(1, height - 1), rng.randint(1, width - 1)
    for _ in range(int(STEPS_PER_SIDE * (height + width))):
        if rng.random() < P_CHANGE_DIRECTION:
            direction = rng.choice(_DIRECTIONS)
        r = min(max(r + direction[0], 1), height - 2)
        c = min(max(c + direction[1], 1), width - 2)
        for dr, dc in rng.choice(_MASKS):
            rr, cc = r + dr, c + dc
            if 0 < rr < height - 1 and 0 < cc < width - 1:  # the border stays wall
                floor[rr * width + cc] = 1
    return floor


def place(rng: random.Random, floor: bytearray, boxes: int) -> tuple[int, tuple[int, ...]] | None:
    """The player, then each target, uniformly on free floor; None with too little floor."""
    cells = [i for i, f in enumerate(floor) if f]
    if len(cells) <= boxes + 1:  # the study's own bound (it asked for one spare cell)
        return None
    player = cells.pop(rng.randrange(len(cells)))
    targets = tuple(cells.pop(rng.randrange(len(cells))) for _ in range(boxes))
    return player, targets


def nudge(
    rng: random.Random,
    floor: bytearray,
    width: int,
    box_mask: int,
    player: int,
    displacement: int,
) -> list[int]:
    """The player's cells along the study's random walk after reverse play (first = start)."""
    path = [player]
    if rng.random() > (0.8 if displacement == 1 else 0.5):
        return path
    while len(path) <= NUDGE_STEPS:
        here = path[-1]
        options = [
            q
            for q in (here - width, here + width, here - 1, here + 1)
            if floor[q] and not (box_mask >> q) & 1 and q not in path
        ]
        if not options:
            break
        path.append(rng.choice(options))
        if len(path) > NUDGE_STEPS or rng.random() > 0.5:
            break
    return path
