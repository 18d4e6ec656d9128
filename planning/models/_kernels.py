r"""Compiled inner loops (numba) for the province-scale p-median: plumbing, no model logic.

Each function walks pairs stored row by row (CSR: ``indptr`` by demand point) whose minutes
(and costs ``w_i t_ij``) ascend within a row, so a loop can stop at the first pair that no
longer counts. Compiled on first use and cached on disk (``cache=True``); imported lazily by
the large-instance paths only, so the city-scale models never pay numba's import or compile
time. Every sum is float64, pair by pair in the stored order. The tests check each function
against plain numpy (``tests/test_models_large_median.py``).
"""

from __future__ import annotations

import numba
import numpy as np

from planning.models._mip import BoolArray, FloatArray, IntArray


@numba.njit(cache=True, nogil=True)
def median_rho(
    indptr: IntArray, cost: FloatArray, site: IntArray, lam: FloatArray, m: int
) -> FloatArray:  # pragma: no cover - compiled
    r""":math:`\rho_j = \sum_i \min(0, c_{ij} - \lambda_i)` over the pairs of each site."""
    rho = np.zeros(m)
    for i in range(indptr.size - 1):
        li = lam[i]
        for k in range(indptr[i], indptr[i + 1]):
            c = cost[k]
            if c >= li:
                break
            rho[site[k]] += c - li
    return rho


@numba.njit(cache=True, nogil=True)
def median_count(
    indptr: IntArray, cost: FloatArray, site: IntArray, lam: FloatArray, chosen: BoolArray
) -> FloatArray:  # pragma: no cover - compiled
    r"""For each demand point, how many ``chosen`` sites have :math:`c_{ij} < \lambda_i`."""
    n = indptr.size - 1
    count = np.zeros(n)
    for i in range(n):
        li = lam[i]
        for k in range(indptr[i], indptr[i + 1]):
            if cost[k] >= li:
                break
            if chosen[site[k]]:
                count[i] += 1.0
    return count


@numba.njit(cache=True, nogil=True)
def median_swaps(  # noqa: PLR0917 - the arrays of one compiled loop
    indptr: IntArray,
    mins: FloatArray,
    site: IntArray,
    w: FloatArray,
    d1: FloatArray,
    d2: FloatArray,
    phi1: IntArray,
    pos_of: IntArray,
    is_open: BoolArray,
    k: int,
) -> tuple[FloatArray, FloatArray]:  # pragma: no cover - compiled
    """Whitaker's ``gain`` (length m) and ``extra`` (``k x m``, flat) of the fast interchange.

    Walks each demand point's pairs nearer than its second-nearest open site ``d2``:
    ``gain[j]`` sums ``w (d1 - t)`` where ``t < d1``; ``extra[pos_of[phi1] * m + j]`` sums
    ``w (d2 - max(t, d1))`` for closed ``j`` (``phi1 < 0``: no entry).
    """
    m = is_open.size
    gain = np.zeros(m)
    extra = np.zeros(k * m)
    for i in range(indptr.size - 1):
        a, b, wi, f = d1[i], d2[i], w[i], phi1[i]
        row = pos_of[f] * m if f >= 0 else -1
        for kk in range(indptr[i], indptr[i + 1]):
            t = mins[kk]
            if t >= b:
                break
            j = site[kk]
            if t < a:
                gain[j] += wi * (a - t)
            if row >= 0 and not is_open[j]:
                extra[row + j] += wi * (b - max(t, a))
    return gain, extra


@numba.njit(cache=True, nogil=True)
def nearest_two(
    indptr: IntArray, mins: FloatArray, site: IntArray, is_open: BoolArray
) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:  # pragma: no cover - compiled
    """Each demand point's nearest and second-nearest open site and minutes (``-1``/``inf``).

    Ties in minutes go to the pair stored first.
    """
    n = indptr.size - 1
    phi1 = np.full(n, -1, dtype=np.int64)
    phi2 = np.full(n, -1, dtype=np.int64)
    d1 = np.full(n, np.inf)
    d2 = np.full(n, np.inf)
    for i in range(n):
        for kk in range(indptr[i], indptr[i + 1]):
            j = site[kk]
            if is_open[j]:
                if phi1[i] < 0:
                    phi1[i], d1[i] = j, mins[kk]
                else:
                    phi2[i], d2[i] = j, mins[kk]
                    break
    return phi1, d1, phi2, d2


@numba.njit(cache=True, nogil=True)
def catchment_costs(  # noqa: PLR0917 - the arrays of one compiled loop
    indptr: IntArray,
    cost: FloatArray,
    site: IntArray,
    owner: IntArray,
    openable: BoolArray,
    k: int,
) -> tuple[FloatArray, IntArray]:  # pragma: no cover - compiled
    """Sum the pair costs and count the pairs of each catchment to each openable site.

    ``owner[i]`` is the catchment of demand point ``i`` (``-1``: none); entry ``o * m + j``
    of both results covers the pairs from catchment ``o``'s points to site ``j``.
    """
    m = openable.size
    total = np.zeros(k * m)
    count = np.zeros(k * m, dtype=np.int64)
    for i in range(indptr.size - 1):
        o = owner[i]
        if o < 0:
            continue
        base = o * m
        for kk in range(indptr[i], indptr[i + 1]):
            j = site[kk]
            if openable[j]:
                total[base + j] += cost[kk]
                count[base + j] += 1
    return total, count
