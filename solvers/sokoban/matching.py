"""Minimum-cost perfect matching of boxes to goals: the core of the A* lower bound."""

from __future__ import annotations

from solvers.sokoban.board import INF


def min_cost_matching(cost: list[list[int]] | list[tuple[int, ...]]) -> int:
    """Minimum total cost of a perfect matching of rows to columns (square matrix).

    Exhaustive for up to 4 rows, the Hungarian algorithm with potentials (O(n^3)) beyond; INF
    entries are forbidden pairs and a result >= INF means no perfect matching avoids them.
    """
    n = len(cost)
    if n == 0:
        return 0
    if n == 1:
        return min(cost[0][0], INF)
    mins = [min(row) for row in cost]
    if len({row.index(low) for row, low in zip(cost, mins, strict=True)}) == n:
        return min(sum(mins), INF)  # every row's cheapest column differs: that is the optimum
    if n <= 4:
        return min(_small(cost, n), INF)
    return _hungarian(cost, n)


def _small(cost: list, n: int) -> int:
    # Boxoban has 4 boxes: straight-line minimisation over the assignments (sharing the 2x2
    # sub-matchings of the last two rows) beats any O(n^3) loop in Python.
    if n == 2:
        (a0, a1), (b0, b1) = cost
        return min(a0 + b1, a1 + b0)
    if n == 3:
        (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = cost
        return min(
            a0 + min(b1 + c2, b2 + c1),
            a1 + min(b0 + c2, b2 + c0),
            a2 + min(b0 + c1, b1 + c0),
        )
    (a0, a1, a2, a3), (b0, b1, b2, b3), (c0, c1, c2, c3), (d0, d1, d2, d3) = cost
    m01 = min(c0 + d1, c1 + d0)
    m02 = min(c0 + d2, c2 + d0)
    m03 = min(c0 + d3, c3 + d0)
    m12 = min(c1 + d2, c2 + d1)
    m13 = min(c1 + d3, c3 + d1)
    m23 = min(c2 + d3, c3 + d2)
    return min(
        a0 + min(b1 + m23, b2 + m13, b3 + m12),
        a1 + min(b0 + m23, b2 + m03, b3 + m02),
        a2 + min(b0 + m13, b1 + m03, b3 + m01),
        a3 + min(b0 + m12, b1 + m02, b2 + m01),
    )


def _hungarian(cost: list, n: int) -> int:
    u = [0] * (n + 1)
    v = [0] * (n + 1)
    match = [0] * (n + 1)  # match[j]: the row assigned to column j (1-based, 0 = none)
    way = [0] * (n + 1)
    for i in range(1, n + 1):
        match[0] = i
        j0 = 0
        minv = [INF * 4] * (n + 1)
        used = [False] * (n + 1)
        while True:
            used[j0] = True
            i0 = match[j0]
            row = cost[i0 - 1]
            delta = INF * 4
            j1 = 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = row[j - 1] - u[i0] - v[j]
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
    total = sum(cost[match[j] - 1][j - 1] for j in range(1, n + 1))
    return min(total, INF)
