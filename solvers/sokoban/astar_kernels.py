"""numba kernels of the compiled A*'s search (astar_jit.py): import fails without numba.

Cells are floor cells numbered 0..63, a box set is an int64 of their bits. Mirrors, line for
line, `astar._search` (the bound: bound_kernels.py); read it for the why.

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
from solvers.sokoban.bound_kernels import bound, deadlock

MUL1 = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64
MUL2 = -4658895280553007687  # 0xBF58476D1CE4E5B9 as int64


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
def _open(heap, recs, ctr, node, h, g, f):
    """Add an open entry (node, h, g) at priority f; the arrays, grown when full."""
    if ctr[2] == recs.shape[0]:
        recs = _grow(recs)
    if ctr[1] == heap.shape[0]:
        heap = _grow(heap)
    recs[ctr[2], 0] = node
    recs[ctr[2], 1] = h
    recs[ctr[2], 2] = g
    _heap_push(heap, ctr[1], f << 48 | (G_TOP - g) << 34 | ctr[2])
    ctr[1] += 1
    ctr[2] += 1
    return heap, recs


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
            if deadlock(nbr, dead, goal_mask, m, nbr[a, b]):
                continue
            h = bound(m, b, goals, pieces, per_goal, inf, cost)
            if h >= inf:
                continue
            if g + h > f:
                if g + h >= F_LIMIT:
                    return TOO_DEEP, tab, nodes, heap, recs, ctr
                heap, recs = _open(heap, recs, ctr, node, h, g, g + h)
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
                heap, recs = _open(heap, recs, ctr, child, -1, g2, g2 + f_child)
    return EMPTY, tab, nodes, heap, recs, ctr
