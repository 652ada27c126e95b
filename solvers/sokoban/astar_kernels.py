"""numba kernels of the compiled A* (astar_jit.py): import fails without numba.

Cells are floor cells numbered 0..63, a box set is an int64 of their bits. Mirrors, line for
line, `astar._search`, `astar._Children`, `board.frozen_deadlock`, `tables.SideTables._flood`
and `matching.min_cost_matching`; read those for the why.

State between chunks: `tab` (open-addressing hash table of node ids), `nodes` (one row per
stored state: boxes, player, g, parent, box cell pushed, action, closed), `heap` (int64
priority keys), `recs` (per open entry: node, h, g) and `ctr` (nodes, heap size, entries,
expanded, -, the solution's node).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solvers.sokoban.astar_jit import (
    EMPTY,
    F_LIMIT,
    FOUND,
    G_TOP,
    MEMORY_LIMIT,
    NODE_LIMIT,
    OVER_CUTOFF,
    PAUSED,
    TIE_MASK,
    TOO_DEEP,
)

MUL1 = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64
MUL2 = -4658895280553007687  # 0xBF58476D1CE4E5B9 as int64


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
def _deadlock(nbr, dead, goal_mask, mask, cell):
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
def _bound(mask, player, goals, pieces, per_goal, inf, cost):
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


@njit(cache=True)
def _slot(tab, nodes, mask, player):
    """The table slot of state (mask, player): its node's, or the empty one to fill."""
    top = tab.shape[0] - 1
    h = (mask ^ (player * MUL1)) * MUL2
    h ^= h >> 31
    i = h & top
    while True:
        node = tab[i]
        if node < 0 or (nodes[node, 0] == mask and nodes[node, 1] == player):
            return i
        i = (i + 1) & top


@njit(cache=True)
def _rehash(tab, nodes, count):
    bigger = np.full(tab.shape[0] * 2, -1, dtype=np.int64)
    for node in range(count):
        bigger[_slot(bigger, nodes, nodes[node, 0], nodes[node, 1])] = node
    return bigger


@njit(cache=True)
def _grow(rows):
    return np.concatenate((rows, np.empty_like(rows)))


@njit(cache=True)
def _heap_push(heap, size, key):
    i = size
    heap[i] = key
    while i:
        parent = (i - 1) >> 1
        if heap[parent] <= key:
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = key


@njit(cache=True)
def _heap_pop(heap, size):
    top = heap[0]
    size -= 1
    key = heap[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= key:
            break
        heap[i] = heap[child]
        i = child
    if size:
        heap[i] = key
    return top


@njit(cache=True)
def new_state(mask, player, h0):
    tab = np.full(1 << 12, -1, dtype=np.int64)
    nodes = np.empty((1 << 11, 7), dtype=np.int64)
    heap = np.empty(1 << 12, dtype=np.int64)
    recs = np.empty((1 << 12, 3), dtype=np.int64)
    ctr = np.zeros(6, dtype=np.int64)
    nodes[0, 0] = mask
    nodes[0, 1] = player
    nodes[0, 2] = 0
    nodes[0, 3] = -1
    nodes[0, 4] = -1
    nodes[0, 5] = -1
    nodes[0, 6] = 0
    tab[_slot(tab, nodes, mask, player)] = 0
    recs[0, 0] = 0
    recs[0, 1] = h0
    recs[0, 2] = 0
    heap[0] = h0 << 48 | G_TOP << 34
    ctr[0] = 1
    ctr[1] = 1
    ctr[2] = 1
    return tab, nodes, heap, recs, ctr


@njit(cache=True)
def run(
    nbr, dead, goal_mask, goals, pieces, per_goal, pushes, counts, inf,
    tab, nodes, heap, recs, ctr, max_nodes, max_states, cutoff, chunk_end,
):  # fmt: skip
    count = pieces.shape[0]
    dist = np.empty(count, dtype=np.int64)
    queue = np.empty(count, dtype=np.int64)
    boxes = np.empty(count, dtype=np.int64)
    cost = np.empty((count, goals.shape[0]), dtype=np.int64)
    while ctr[1]:
        if ctr[3] >= chunk_end:
            return PAUSED, tab, nodes, heap, recs, ctr
        key = _heap_pop(heap, ctr[1])
        ctr[1] -= 1
        f = key >> 48
        entry = key & TIE_MASK
        node, h, g = recs[entry, 0], recs[entry, 1], recs[entry, 2]
        if cutoff >= 0 and f > cutoff:
            return OVER_CUTOFF, tab, nodes, heap, recs, ctr
        if g > nodes[node, 2]:
            continue
        m = nodes[node, 0]
        p = nodes[node, 1]
        if m == goal_mask:
            ctr[5] = node
            return FOUND, tab, nodes, heap, recs, ctr
        if nodes[node, 6]:
            continue
        if h < 0:
            b, a = nodes[node, 4], nodes[node, 5]
            if _deadlock(nbr, dead, goal_mask, m, nbr[a, b]):
                continue
            h = _bound(m, b, goals, pieces, per_goal, inf, cost)
            if h >= inf:
                continue
            if g + h > f:
                if g + h >= F_LIMIT:
                    return TOO_DEEP, tab, nodes, heap, recs, ctr
                if ctr[2] == recs.shape[0]:
                    recs = _grow(recs)
                if ctr[1] == heap.shape[0]:
                    heap = _grow(heap)
                recs[ctr[2], 0] = node
                recs[ctr[2], 1] = h
                recs[ctr[2], 2] = g
                _heap_push(heap, ctr[1], (g + h) << 48 | (G_TOP - g) << 34 | ctr[2])
                ctr[1] += 1
                ctr[2] += 1
                continue
        # Walking distances from the player, boxes as walls.
        n_boxes = 0
        for c in range(count):
            if (m >> c) & 1:
                dist[c] = -2
                boxes[n_boxes] = c
                n_boxes += 1
            else:
                dist[c] = -1
        dist[p] = 0
        queue[0] = p
        head, tail = 0, 1
        while head < tail:
            c = queue[head]
            head += 1
            dc = dist[c] + 1
            for a in range(4):
                j = nbr[a, c]
                if j >= 0 and dist[j] == -1:
                    dist[j] = dc
                    queue[tail] = j
                    tail += 1
        nodes[node, 6] = 1
        ctr[3] += 1
        if ctr[3] > max_nodes:
            return NODE_LIMIT, tab, nodes, heap, recs, ctr
        if ctr[0] > max_states:
            return MEMORY_LIMIT, tab, nodes, heap, recs, ctr
        f_child = h - 1 if h else 0
        for i in range(n_boxes):
            b = boxes[i]
            without = m ^ (np.int64(1) << b)
            for k in range(counts[b]):
                a, stand, t = pushes[b, k, 0], pushes[b, k, 1], pushes[b, k, 2]
                walk = dist[stand]
                if walk < 0 or dist[t] == -2:
                    continue
                m2 = without | (np.int64(1) << t)
                g2 = g + walk + 1
                if g2 >= G_TOP or g2 + f_child >= F_LIMIT:
                    return TOO_DEEP, tab, nodes, heap, recs, ctr
                if 2 * ctr[0] >= tab.shape[0]:
                    tab = _rehash(tab, nodes, ctr[0])
                slot = _slot(tab, nodes, m2, b)
                child = tab[slot]
                if child >= 0 and nodes[child, 2] <= g2:
                    continue
                if child < 0:
                    if ctr[0] == nodes.shape[0]:
                        nodes = _grow(nodes)
                    child = ctr[0]
                    ctr[0] += 1
                    tab[slot] = child
                    nodes[child, 0] = m2
                    nodes[child, 1] = b
                    nodes[child, 6] = 0
                nodes[child, 2] = g2
                nodes[child, 3] = node
                nodes[child, 4] = b
                nodes[child, 5] = a
                if m2 == goal_mask and g2 == f:
                    ctr[5] = child
                    return FOUND, tab, nodes, heap, recs, ctr
                if ctr[2] == recs.shape[0]:
                    recs = _grow(recs)
                if ctr[1] == heap.shape[0]:
                    heap = _grow(heap)
                recs[ctr[2], 0] = child
                recs[ctr[2], 1] = -1
                recs[ctr[2], 2] = g2
                _heap_push(heap, ctr[1], (g2 + f_child) << 48 | (G_TOP - g2) << 34 | ctr[2])
                ctr[1] += 1
                ctr[2] += 1
    return EMPTY, tab, nodes, heap, recs, ctr
