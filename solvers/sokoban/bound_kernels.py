"""numba kernels of the compiled A*'s bound (astar_jit.py): import fails without numba.

Mirrors, line for line, `tables.SideTables._flood` (pieces), `board.frozen_deadlock` and
`astar._Children` with `matching.min_cost_matching`; read those for the why. Cells are floor
cells numbered 0..63, a box set is an int64 of their bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def pieces(nbr, around):
    """pieces[x, c]: piece + 1 of cell c around a lone box on x (0: cut off)."""
    count = nbr.shape[1]
    out = np.zeros((count, count), dtype=np.int8)
    stack = np.empty(count, dtype=np.int64)
    for x in range(count):
        for a in range(4):
            s = nbr[a, x]
            if s < 0 or out[x, s]:
                continue
            label = around[x, a] + 1
            out[x, s] = label
            top = 0
            stack[0] = s
            top = 1
            while top:
                top -= 1
                c = stack[top]
                for a2 in range(4):
                    j = nbr[a2, c]
                    if j >= 0 and j != x and not out[x, j]:
                        out[x, j] = label
                        stack[top] = j
                        top += 1
    return out


@njit(cache=True)
def _frozen(nbr, dead, mask, cell, as_wall):
    for axis in (0, 2):
        x = nbr[axis, cell]
        y = nbr[axis + 1, cell]
        if x < 0 or y < 0 or (as_wall >> x) & 1 or (as_wall >> y) & 1:
            continue
        if dead[x] and dead[y]:
            continue
        wall = as_wall | (np.int64(1) << cell)
        if (mask >> x) & 1 and _frozen(nbr, dead, mask, x, wall):
            continue
        if (mask >> y) & 1 and _frozen(nbr, dead, mask, y, wall):
            continue
        return False
    return True


@njit(cache=True)
def deadlock(nbr, dead, goal_mask, mask, cell):
    zero = np.int64(0)
    if not (goal_mask >> cell) & 1 and _frozen(nbr, dead, mask, cell, zero):
        return True
    for a in range(4):
        j = nbr[a, cell]
        if (
            j >= 0
            and (mask >> j) & 1
            and not (goal_mask >> j) & 1
            and _frozen(nbr, dead, mask, j, zero)
        ):
            return True
    return False


@njit(cache=True)
def _hungarian(cost, n, inf):
    u = np.zeros(n + 1, dtype=np.int64)
    v = np.zeros(n + 1, dtype=np.int64)
    match = np.zeros(n + 1, dtype=np.int64)
    way = np.zeros(n + 1, dtype=np.int64)
    for i in range(1, n + 1):
        match[0] = i
        j0 = 0
        minv = np.full(n + 1, inf * 4, dtype=np.int64)
        used = np.zeros(n + 1, dtype=np.bool_)
        while True:
            used[j0] = True
            i0 = match[j0]
            delta = inf * 4
            j1 = 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = cost[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(n + 1):
                if used[j]:
                    u[match[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    total = 0
    for j in range(1, n + 1):
        total += cost[match[j] - 1, j - 1]
    return min(total, inf)


@njit(cache=True)
def _matching(cost, n, inf):
    if n == 2:
        return min(min(cost[0, 0] + cost[1, 1], cost[0, 1] + cost[1, 0]), inf)
    if n == 3:
        best = inf * 4
        for i in range(3):
            j, k = (1, 2) if i == 0 else ((0, 2) if i == 1 else (0, 1))
            best = min(best, cost[0, i] + min(cost[1, j] + cost[2, k], cost[1, k] + cost[2, j]))
        return min(best, inf)
    if n == 4:  # the 2x2 sub-matchings of the last two rows, shared (as matching._small)
        m01 = min(cost[2, 0] + cost[3, 1], cost[2, 1] + cost[3, 0])
        m02 = min(cost[2, 0] + cost[3, 2], cost[2, 2] + cost[3, 0])
        m03 = min(cost[2, 0] + cost[3, 3], cost[2, 3] + cost[3, 0])
        m12 = min(cost[2, 1] + cost[3, 2], cost[2, 2] + cost[3, 1])
        m13 = min(cost[2, 1] + cost[3, 3], cost[2, 3] + cost[3, 1])
        m23 = min(cost[2, 2] + cost[3, 3], cost[2, 3] + cost[3, 2])
        best = min(
            cost[0, 0] + min(cost[1, 1] + m23, cost[1, 2] + m13, cost[1, 3] + m12),
            cost[0, 1] + min(cost[1, 0] + m23, cost[1, 2] + m03, cost[1, 3] + m02),
            cost[0, 2] + min(cost[1, 0] + m13, cost[1, 1] + m03, cost[1, 3] + m01),
            cost[0, 3] + min(cost[1, 0] + m12, cost[1, 1] + m02, cost[1, 2] + m01),
        )
        return min(best, inf)
    return _hungarian(cost, n, inf)


@njit(cache=True)
def bound(mask, player, goals, pieces, per_goal, inf, cost):
    """The side-table matching bound of boxes `mask` with the player on `player`."""
    count = pieces.shape[0]
    n_goals = goals.shape[0]
    total = 0
    used = np.int64(0)
    distinct = True
    n = 0
    for x in range(count):
        if not (mask >> x) & 1:
            continue
        piece = pieces[x, player] - 1
        low = inf * 4
        best = 0
        for g in range(n_goals):
            # piece < 0: the player cannot reach this box, so it stays where it is.
            d = per_goal[g, x * 4 + piece] if piece >= 0 else (0 if goals[g] == x else inf)
            cost[n, g] = d
            if d < low:
                low = d
                best = g
        if low >= inf:
            return inf
        total += low
        if (used >> best) & 1:
            distinct = False
        used |= np.int64(1) << best
        n += 1
    if distinct:
        return total
    return _matching(cost, n, inf)
