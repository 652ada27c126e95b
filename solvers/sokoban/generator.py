"""Seeded Sokoban level generator in the study's spirit (gym-sokoban's reverse play).

One attempt:
1. carve a room: a random walk of about 1.7·(h+w) steps inside the border, stamping one of
   five 3×3 floor patterns at each position (the direction changes with probability 0.35);
2. put the player and the goals on distinct floor cells, each box on its goal;
3. reverse play from there (each box starts on its goal): the player walks and pulls any box
   right behind it; a breadth-first search over these reverse states (at most 5000) keeps the
   first with the best score, box swaps × total box displacement from the goals, as
   gym-sokoban's depth-first search scored rooms;
4. nudge the player 1-3 random walking steps (walking never changes solvability);
5. label it with the move-optimal BFS and keep it if it is unsolved, solvable and its optimal
   length lies within [min_moves, max_moves].

Reverse play only walks and pulls, the inverses of walks and pushes, so every kept level is
solvable by construction; the BFS confirms it and measures it. Each attempt draws from its own
`random.Random`, seeded from sha256 of (seed, size, boxes, attempt): the same arguments give the
same level in any process, with no global random state and no `hash()`. Attempts are bounded;
filters never change the attempts' seeds, so a filtered level is the first attempt of that seed
that passes the filter.

    python -c "from solvers.sokoban import generate_level; print(generate_level(7).xsb())"
"""

from __future__ import annotations

import hashlib
import random

from solvers.sokoban.bfs import optimal_length
from solvers.sokoban.board import board_of
from solvers.sokoban.level import Cell, Level

MAX_ATTEMPTS = 1000
MAX_REVERSE_STATES = 5000
P_CHANGE_DIRECTION = 0.35
STEPS_PER_SIDE = 1.7
_DIRECTIONS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
# gym-sokoban's five 3x3 stamps, as (dr, dc) offsets from the walk's position.
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
    ValueError for impossible arguments or when no attempt fits (not for the study's sizes).
    """
    if height < 3 or width < 3:
        raise ValueError(f"the room needs at least 3x3 cells, got {height}x{width}")
    if boxes < 1:
        raise ValueError(f"boxes must be >= 1, got {boxes}")
    if min_moves < 1:
        raise ValueError(f"min_moves must be >= 1, got {min_moves}")
    if max_moves is not None and max_moves < min_moves:
        raise ValueError(f"max_moves {max_moves} < min_moves {min_moves}")
    if boxes + 1 > (height - 2) * (width - 2):
        raise ValueError(f"{boxes} boxes and a player do not fit inside {height}x{width}")
    for attempt in range(MAX_ATTEMPTS):
        rng = random.Random(_attempt_seed(seed, height, width, boxes, attempt))
        level = _attempt(rng, height, width, boxes)
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


def _attempt_seed(seed: int, height: int, width: int, boxes: int, attempt: int) -> int:
    text = f"sokoban/{seed}/{height}x{width}/{boxes}/{attempt}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def _carve(rng: random.Random, height: int, width: int) -> set[Cell]:
    floor: set[Cell] = set()
    direction = rng.choice(_DIRECTIONS)
    r, c = rng.randint(1, height - 2), rng.randint(1, width - 2)
    for _ in range(int(STEPS_PER_SIDE * (height + width))):
        if rng.random() < P_CHANGE_DIRECTION:
            direction = rng.choice(_DIRECTIONS)
        r = min(max(r + direction[0], 1), height - 2)
        c = min(max(c + direction[1], 1), width - 2)
        for dr, dc in rng.choice(_MASKS):
            rr, cc = r + dr, c + dc
            # Stamps are clipped to the inside: the outer border stays wall.
            if 0 < rr < height - 1 and 0 < cc < width - 1:
                floor.add((rr, cc))
    return floor


def _attempt(rng: random.Random, height: int, width: int, n_boxes: int) -> Level | None:
    floor = _carve(rng, height, width)
    if len(floor) < n_boxes + 2:
        return None
    cells = sorted(floor)
    chosen = rng.sample(cells, n_boxes + 1)
    player = chosen[0]
    goals = chosen[1:]

    # Reverse play, breadth first over (player, boxes) states as gym-sokoban's search does (it
    # went depth first): the player walks; a box right behind it follows (a pull). The first
    # state with the best score (box swaps x total displacement from the goals) is kept.
    w = width
    deltas = (-w, w, -1, 1)
    fl = {r * w + c for r, c in floor}
    goal_idx = tuple(r * w + c for r, c in goals)
    start = (player[0] * w + player[1], goal_idx)
    seen = {start}
    # (player, boxes by identity, swaps, index of the last pulled box)
    queue = [(start[0], start[1], 0, -1)]
    best_score = 0
    best: tuple[tuple[int, ...], int] | None = None
    for p, bx, swaps, last in queue:
        if len(seen) > MAX_REVERSE_STATES:
            break
        for d in deltas:
            q = p + d
            if q not in fl or q in bx:
                continue
            behind = p - d
            if behind in bx:
                i = bx.index(behind)
                nb = (*bx[:i], p, *bx[i + 1 :])
                ns = swaps + (i != last)
                nl = i
            else:
                nb, ns, nl = bx, swaps, last
            if (q, nb) in seen:
                continue
            seen.add((q, nb))
            queue.append((q, nb, ns, nl))
            if nb is bx:
                continue
            displacement = 0
            for b, g in zip(nb, goal_idx, strict=True):
                br, bc = divmod(b, w)
                gr, gc = divmod(g, w)
                displacement += abs(br - gr) + abs(bc - gc)
            if ns * displacement > best_score:
                best_score = ns * displacement
                best = (nb, q)
    if best is None:
        return None
    box_cells = tuple(divmod(b, w) for b in best[0])
    player = divmod(best[1], w)
    occupied = set(box_cells)
    for _ in range(rng.randint(1, 3)):
        dr, dc = rng.choice(_DIRECTIONS)
        nxt = (player[0] + dr, player[1] + dc)
        if nxt in floor and nxt not in occupied:
            player = nxt
    walls = frozenset((r, c) for r in range(height) for c in range(width) if (r, c) not in floor)
    level = Level._trusted(height, width, walls, frozenset(goals), frozenset(box_cells), player)
    if level.solved:
        return None
    board_of(level)  # compile once here so the board cache sees this room
    return level
