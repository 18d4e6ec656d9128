"""Fast p-median heuristic (greedy + vertex substitution) used for warm starts and radii.

The answer is only a starting point: the MIP proves (or not) optimality afterwards.
"""

from __future__ import annotations

import numpy as np

from planning.models._mip import BoolArray, FloatArray, IntArray

MAX_DENSE_CELLS = 6_000_000


def dense_costs(n: int, m: int, pi: IntArray, pj: IntArray, pt: FloatArray) -> FloatArray | None:
    """Dense ``n x m`` travel matrix (``inf`` where no pair), or ``None`` if too large."""
    if n * m > MAX_DENSE_CELLS:
        return None
    d = np.full((n, m), np.inf)
    d[pi, pj] = pt
    return d


def p_median_heuristic(
    d: FloatArray,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    max_passes: int = 6,
) -> BoolArray | None:
    """Greedy construction then best-improvement swaps; ``None`` when no feasible start.

    Parameters
    ----------
    d
        Dense travel minutes ``n x m`` (``inf`` = not allowed).
    w
        Demand weights (length ``n``).
    p
        Number of open sites, fixed ones included.
    """
    n = d.shape[0]
    big = 1e9
    dd = np.where(np.isinf(d), big, d)
    is_open = fixed.copy()
    cur = dd[:, is_open].min(axis=1) if is_open.any() else np.full(n, big * 10)
    allowed = openable & ~fixed
    while int(is_open.sum()) < p:
        cand = np.flatnonzero(allowed & ~is_open)
        if cand.size == 0:
            return None
        totals = (w[:, None] * np.minimum(cur[:, None], dd[:, cand])).sum(axis=0)
        best = cand[int(np.argmin(totals))]
        is_open[best] = True
        cur = np.minimum(cur, dd[:, best])
    for _ in range(max_passes):
        improved = _best_swap(dd, w, is_open, fixed, allowed)
        if improved is None:
            break
        is_open = improved
    if (dd[:, is_open].min(axis=1) >= big).any():
        return None
    return is_open


def _best_swap(
    dd: FloatArray, w: FloatArray, is_open: BoolArray, fixed: BoolArray, allowed: BoolArray
) -> BoolArray | None:
    opened = np.flatnonzero(is_open)
    sub = dd[:, opened]
    order = np.argsort(sub, axis=1, kind="stable")
    best_pos = order[:, 0]
    best = sub[np.arange(len(sub)), best_pos]
    second = sub[np.arange(len(sub)), order[:, 1]] if len(opened) > 1 else np.full(len(sub), 1e10)
    current = float(w @ best)
    cand = np.flatnonzero(allowed & ~is_open)
    if cand.size == 0:
        return None
    dc = dd[:, cand]
    gain_best, swap = 0.0, None
    for k, r in enumerate(opened):
        if fixed[r]:
            continue
        without = np.where(best_pos == k, second, best)
        totals = (w[:, None] * np.minimum(without[:, None], dc)).sum(axis=0)
        j = int(np.argmin(totals))
        gain = current - float(totals[j])
        if gain > gain_best + 1e-9:
            gain_best, swap = gain, (r, cand[j])
    if swap is None:
        return None
    out = is_open.copy()
    out[swap[0]] = False
    out[swap[1]] = True
    return out
