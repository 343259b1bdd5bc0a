"""Optimal assignment (minimum-cost matching) of the rows of a small cost matrix to its columns.

The solver matches at most a few dozen objects per example. scipy's ``linear_sum_assignment``
does the same, but importing ``scipy.optimize`` takes about half a second (more on a busy machine),
which every `nar-solver solve` would pay; this is the Hungarian algorithm with shortest augmenting
paths (Kuhn-Munkres, O(n^2 m)), vectorised over columns. tests/test_solve_assignment.py checks it
against scipy.
"""
from __future__ import annotations

import numpy as np


def linear_sum_assignment(cost) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of a minimum-cost assignment, as scipy.optimize.linear_sum_assignment returns them.

    ``cost`` is (n, m); min(n, m) pairs are returned, rows in increasing order.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"expected a 2-d cost matrix, got shape {cost.shape}")
    if not np.isfinite(cost).all():
        raise ValueError("cost matrix holds NaN or infinite entries")
    if cost.shape[0] > cost.shape[1]:
        cols, rows = linear_sum_assignment(cost.T)
        order = np.argsort(rows)
        return rows[order], cols[order]
    n, m = cost.shape
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    # 1-based potentials u (rows) and v (columns); column 0 is the virtual start of each path
    a = np.zeros((n + 1, m + 1))
    a[1:, 1:] = cost
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, dtype=np.intp)      # owner[j]: the row matched to column j (0 = none)
    way = np.zeros(m + 1, dtype=np.intp)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = owner[j0]
            free = ~used
            free[0] = False
            reduced = a[i0] - u[i0] - v
            better = free & (reduced < minv)
            minv[better] = reduced[better]
            way[better] = j0
            candidates = np.where(free, minv, np.inf)
            j1 = int(np.argmin(candidates))
            delta = candidates[j1]
            u[owner[used]] += delta
            v[used] -= delta
            minv[free] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:  # flip the augmenting path
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    matched = np.nonzero(owner[1:])[0]
    rows = owner[1:][matched] - 1
    order = np.argsort(rows)
    return rows[order].astype(np.intp), matched[order].astype(np.intp)
