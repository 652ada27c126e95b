"""The study's reverse play: pull boxes off their targets, depth first, and keep the best room.

RAGEN's `generate_room` (the generator the study's Sokoban environment calls) takes a room whose
boxes all stand on their targets and plays backwards: the player walks, and a box right behind
the player follows it (a pull, the inverse of a push). A depth-first search over these states,
`SEARCH_DEPTH` deep (the study's `search_depth` 30, used as a time-to-live: states up to 28 steps
from the start) and at most `MAX_STATES` states, scores each state the first time it reaches it:
box swaps (how often the pulled box changed) × total box displacement from the targets, and 0
unless every target is free (no box, not the player on it). The first state with the best score
is the level. So no level starts with a box on a target, and every level is solvable: walking
the pulls back pushes every box home.

This module follows that search step for step, including what makes it depth first: a state is
expanded only at its first visit, whatever depth it had then. States are compact ints (player
cell, box cells, which boxes were never pulled — the study's state told those apart too).

    from solvers.sokoban.reverse_play import reverse_play
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

SEARCH_DEPTH = 30  # the study's `search_depth`, a time-to-live: states up to 28 steps deep
MAX_STATES = 300_000  # the study's cap on explored states
DEEPEST = SEARCH_DEPTH - 2  # the most reverse steps a kept state can be from the solved room


@dataclass(frozen=True)
class Reversed:
    """The kept state: the box cell of each target (same order), the player, their score."""

    boxes: tuple[int, ...]
    player: int
    displacement: int
    score: int
    states: int  # states explored


def reverse_play(
    floor: bytes,
    width: int,
    targets: tuple[int, ...],
    player: int,
    depth: int = SEARCH_DEPTH,
    max_states: int = MAX_STATES,
) -> Reversed | None:
    """The best-scoring state of the reverse play from `targets` (cells, row-major), or None.

    `floor[i]` is true for every floor cell (targets included); the room's border must be wall.
    None when no state scores (the study then tries another room).
    """
    n = len(floor)
    shift = n.bit_length()
    target_mask = 0
    for t in targets:
        target_mask |= 1 << t
    # Manhattan distance of every cell to each target: displacement changes incrementally.
    dist = [
        tuple(abs(c // width - t // width) + abs(c % width - t % width) for c in range(n))
        for t in targets
    ]
    deltas = (-width, width, -1, 1)  # the study's order: up, down, left, right
    seen: set[int] = set()
    best_score = -1
    best: tuple[tuple[int, ...], int, int] = (targets, player, 0)

    def visit(
        p: int,
        pos: tuple[int, ...],
        boxes: int,
        unpulled: int,
        swaps: int,
        last: int,
        displacement: int,
        ttl: int,
    ) -> None:
        nonlocal best_score, best
        ttl -= 1
        if ttl <= 0 or len(seen) >= max_states:
            return
        key = (((unpulled << n) | boxes) << shift) | p
        if key in seen:
            return
        seen.add(key)
        free = not (boxes & target_mask) and not (target_mask >> p) & 1
        score = swaps * displacement if free else 0
        if score > best_score:
            best_score = score
            best = (pos, p, displacement)
        for d in deltas:
            q = p + d
            if not floor[q] or (boxes >> q) & 1:
                continue  # a blocked step leaves the state as it is: nothing new to visit
            behind = p - d
            if (boxes >> behind) & 1:
                i = pos.index(behind)
                visit(
                    q,
                    (*pos[:i], p, *pos[i + 1 :]),
                    boxes ^ (1 << behind) ^ (1 << p),
                    unpulled & ~(1 << behind),
                    swaps + (i != last),
                    i,
                    displacement - dist[i][behind] + dist[i][p],
                    ttl,
                )
            else:
                visit(q, pos, boxes, unpulled, swaps, last, displacement, ttl)

    if sys.getrecursionlimit() < depth + 50:  # one frame per step of the walk
        sys.setrecursionlimit(depth + 50)
    visit(player, tuple(targets), target_mask, target_mask, 0, -1, 0, depth)
    if best_score <= 0:
        return None
    return Reversed(best[0], best[1], best[2], best_score, len(seen))
