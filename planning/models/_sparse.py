r"""Heuristic plans on sparse pairs, at any size: greedy + 1-swap MCLP, greedy cover, p-median.

The dense heuristics of :mod:`planning.models._heuristic` need an ``n x m`` matrix and stop at
:data:`~planning.models._heuristic.MAX_DENSE_CELLS`; these work from the pairs alone (memory
and time per step :math:`O(\text{pairs})`), so a plan with its value exists at every size
(Fujian, 34,006 x 4,979 with 669,909 pairs: MCLP greedy + swap well under a second). A plan
from here is never a proof; it is the incumbent a solver starts from, and what is returned
when the solver stops without a better one.
"""

from __future__ import annotations

import heapq
import time

import numpy as np
import scipy.sparse as sp

from planning.models._mip import BoolArray, FloatArray, IntArray


def cover_csr(n: int, m: int, pi: IntArray, pj: IntArray) -> sp.csr_matrix:
    """0/1 ``n x m`` matrix (CSR) with a one for each pair ``(pi, pj)``.

    Pairs grouped by demand point (``pi`` non-decreasing, as :func:`~planning.models._prep.
    prepare` orders them) go straight into the CSR arrays, without a COO conversion.
    """
    data = np.ones(pi.size, dtype=np.float64)
    if (
        pi.size > 0
        and 0 <= int(pi[0]) <= int(pi[-1]) < n
        and 0 <= int(pj.min()) <= int(pj.max()) < m
        and bool((pi[1:] >= pi[:-1]).all())
    ):
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(pi, minlength=n), out=indptr[1:])
        small = max(n, m, pi.size) < np.iinfo(np.int32).max
        dtype = np.int32 if small else np.int64
        grouped = sp.csr_matrix(
            (data, pj.astype(dtype), indptr.astype(dtype, copy=False)), shape=(n, m)
        )
        grouped.sum_duplicates()  # sorted sites in each row, a repeated pair once
        grouped.data[:] = 1.0
        return grouped
    a = sp.csr_matrix((data, (pi, pj)), shape=(n, m))
    a.data[:] = 1.0  # duplicate pairs count once
    return a


def cover_value(a: sp.csr_matrix, w: FloatArray, plan: BoolArray) -> float:
    """Weight of the rows of ``a`` covered by an open site of ``plan``."""
    return float(w[(a @ plan.astype(np.float64)) > 0.5].sum())


def mclp_greedy_swap(
    a: sp.csr_matrix,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    time_limit_s: float = 5.0,
) -> tuple[BoolArray, float]:
    """Lazy greedy then best-improvement 1-swaps for the MCLP on a sparse coverage matrix.

    Parameters
    ----------
    a
        Demand x site coverage (CSR, 0/1).
    w
        Demand weights.
    p
        Number of open sites, fixed ones included (fewer when fewer may open).
    fixed, openable
        Sites always open; sites that may open.
    time_limit_s
        Time for the swaps (the greedy always finishes).

    Returns
    -------
    plan, value
        Open sites and the weight they cover.
    """
    end = time.perf_counter() + time_limit_s
    covered_fixed = (a @ fixed.astype(np.float64)) > 0.5
    free = np.flatnonzero(openable & ~fixed)
    k = max(0, min(p - int(fixed.sum()), free.size))
    rows = np.flatnonzero(~covered_fixed & (w > 0))
    sub = sp.csr_matrix(a[rows][:, free])
    wr = w[rows]
    sel = cover_lazy_greedy(sub, wr, k)
    sel = cover_swap_search(sub, wr, sel, end_time=end)
    plan = fixed.copy()
    plan[free[sel]] = True
    spare = np.flatnonzero(openable & ~plan)[: max(0, k - sel.size)]
    plan[spare] = True
    return plan, cover_value(a, w, plan)


def cover_lazy_greedy(
    a: sp.csr_matrix,
    w: FloatArray,
    k: int,
    *,
    profit: FloatArray | None = None,
    at: sp.csr_matrix | None = None,
    start: IntArray | None = None,
) -> IntArray:
    """Open ``k`` columns, each time the one adding the most uncovered weight (lazy greedy).

    ``profit``: weight a site earns whenever it is open (the reduced MCLP's single-site rows,
    :mod:`planning.models._cover_large`); ``at``: ``a``'s transpose when already built;
    ``start``: columns open before the first choice (counted in ``k``).
    """
    if at is None:
        at = sp.csr_matrix(a.T)
    m = a.shape[1]
    c = np.zeros(m) if profit is None else profit
    covered = np.zeros(a.shape[0], dtype=bool)
    is_open = np.zeros(m, dtype=bool)
    chosen: list[int] = []
    for j in [] if start is None else np.asarray(start).tolist():
        is_open[j] = True
        chosen.append(int(j))
        covered[at.indices[at.indptr[j] : at.indptr[j + 1]]] = True
    gain0 = c + at @ (w * ~covered)
    heap = [(-float(gain0[j]), j) for j in range(m) if not is_open[j]]
    heapq.heapify(heap)
    while len(chosen) < k and heap:
        _, j = heapq.heappop(heap)
        rows = at.indices[at.indptr[j] : at.indptr[j + 1]]
        g = float(c[j] + w[rows[~covered[rows]]].sum())
        if heap and g < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-g, j))
            continue
        chosen.append(j)
        covered[rows] = True
    return np.array(sorted(chosen), dtype=np.int64)


def cover_swap_search(
    a: sp.csr_matrix,
    w: FloatArray,
    sel: IntArray,
    *,
    end_time: float,
    profit: FloatArray | None = None,
    at: sp.csr_matrix | None = None,
) -> IntArray:
    """Best-improvement 1-swaps (one column out, one in) until none improves or time is up.

    The gain of swapping ``r`` out and ``j`` in is ``gain_j - loss_r + M[r, j]``:
    ``gain_j`` the weight ``j`` adds, ``loss_r`` the weight only ``r`` covers, ``M[r, j]``
    the part of ``loss_r`` that ``j`` covers too (sparse: rows covered exactly once).
    ``profit``: weight a site earns whenever it is open (the reduced MCLP's single-site rows,
    :mod:`planning.models._cover_large`); ``at``: ``a``'s transpose when already built.
    """
    m = a.shape[1]
    if sel.size == 0 or sel.size >= m:
        return sel
    c = np.zeros(m) if profit is None else profit
    if at is None:
        at = sp.csr_matrix(a.T)
    is_open = np.zeros(m, dtype=bool)
    is_open[sel] = True
    tol = 1e-9 * max(1.0, float(w.sum() + c.sum()))
    while time.perf_counter() < end_time:
        cnt = a @ is_open.astype(np.float64)
        gain = c + at @ (w * (cnt < 0.5))
        gain[is_open] = -np.inf
        rows1 = np.flatnonzero(np.abs(cnt - 1.0) < 0.5)
        sub = sp.csr_matrix(a[rows1])
        sub_open = sp.csr_matrix(sub.multiply(is_open[None, :].astype(np.float64)))
        sub_open.eliminate_zeros()
        sole = sub_open.indices  # the one open site of each once-covered row
        loss = c * is_open + np.bincount(sole, weights=w[rows1], minlength=m)
        loss[~is_open] = np.inf
        best, pair = -np.inf, (-1, -1)
        r0, j0 = int(np.argmin(loss)), int(np.argmax(gain))
        if np.isfinite(loss[r0]) and np.isfinite(gain[j0]):
            best, pair = float(gain[j0] - loss[r0]), (r0, j0)
        s_mat = sp.csr_matrix((w[rows1], (sole, np.arange(rows1.size))), shape=(m, rows1.size))
        mm = sp.coo_matrix(s_mat @ sub)
        if mm.nnz:
            val = gain[mm.col] - loss[mm.row] + mm.data
            ok = is_open[mm.row] & ~is_open[mm.col]
            if ok.any():
                t = int(np.argmax(np.where(ok, val, -np.inf)))
                if val[t] > best:
                    best, pair = float(val[t]), (int(mm.row[t]), int(mm.col[t]))
        if best <= tol:
            break
        is_open[pair[0]], is_open[pair[1]] = False, True
    return np.flatnonzero(is_open).astype(np.int64)


def greedy_cover(
    a: sp.csr_matrix,
    need: BoolArray,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    max_new: int | None = None,
) -> BoolArray | None:
    """Greedy set cover: open the site serving most unserved rows until every ``need`` row is.

    Returns the plan (fixed sites included), or ``None`` when some row cannot be served or
    more than ``max_new`` new sites would be needed. Ties: the lowest site position.
    """
    left = need & ~((a @ fixed.astype(np.float64)) > 0.5)
    free = np.flatnonzero(openable & ~fixed)
    sub = sp.csr_matrix(a[:, free])
    plan = fixed.copy()
    opened = 0
    while left.any():
        if max_new is not None and opened >= max_new:
            return None
        counts = np.asarray(sub.T @ left.astype(np.float64)).ravel()
        if counts.size == 0 or counts.max() < 0.5:
            return None
        j = int(np.argmax(counts))
        plan[free[j]] = True
        opened += 1
        col = sp.csc_matrix(sub[:, j])
        left[col.indices] = False
    return plan


def unserved_minutes(w: FloatArray, reach: float) -> FloatArray:
    """Minutes a p-median counts for a demand point without an open site (``inf`` at weight 0).

    ``w_i`` times them is ``1 + 2 W (reach + 1)`` for every point, more than any plan
    serving every point within ``reach`` minutes costs (``W`` the total weight), so serving
    each point comes first whatever its weight: a penalty in minutes, weighted, would let a
    point of tiny weight wait, and stay unserved.
    """
    pos = w > 0
    out = np.full(w.size, np.inf)
    out[pos] = (1.0 + 2.0 * float(w[pos].sum()) * (reach + 1.0)) / w[pos]
    return out


def p_median_greedy(
    pairs: tuple[IntArray, IntArray, FloatArray],
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
) -> BoolArray | None:
    """Greedy p-median on pairs: open, ``p`` times, the site saving the most patient-minutes.

    ``pairs``: demand positions, site positions, minutes (the allowed pairs). A demand point
    without an open site within its pairs costs :func:`unserved_minutes`, so serving each
    point comes first, whatever its weight. Returns ``None`` when the plan leaves a weighted
    point unserved.
    """
    pi, pj, pt = pairs
    m = fixed.size
    pos = w > 0
    penalty = unserved_minutes(w, float(pt.max(initial=0.0)))
    cur = penalty.copy()
    fx = fixed[pj]
    np.minimum.at(cur, pi[fx], pt[fx])
    plan = fixed.copy()
    use = openable[pj] & ~fixed[pj] & pos[pi]
    qi, qj, qt = pi[use], pj[use], pt[use]
    wq = w[qi]
    while int(plan.sum()) < p:
        saving = np.bincount(qj, weights=wq * np.maximum(cur[qi] - qt, 0.0), minlength=m)
        saving[plan | ~openable] = -1.0
        j = int(np.argmax(saving))
        if saving[j] < 0:
            break
        plan[j] = True
        at = qj == j
        np.minimum.at(cur, qi[at], qt[at])
    if (cur[pos] >= penalty[pos]).any():
        return None
    return plan
