"""Compiled inner loops (numba) for the province-scale models: plumbing, no model logic.

Each function walks pairs stored row by row (CSR: ``indptr`` by demand point) whose costs
ascend within a row, so a loop can stop at the first pair that no longer counts. Compiled on
first use and cached on disk (``cache=True``); imported lazily by the large-instance paths
only, so the city-scale models never pay numba's import or compile time.
"""

from __future__ import annotations

import numba
import numpy as np

from planning.models._mip import BoolArray, FloatArray, IntArray


@numba.njit(cache=True, nogil=True)
def _median_rho(
    indptr: IntArray, cost: FloatArray, site: IntArray, lam: FloatArray, m: int
) -> FloatArray:  # pragma: no cover - compiled; checked against numpy in the tests
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
def _median_count(
    indptr: IntArray, cost: FloatArray, site: IntArray, lam: FloatArray, chosen: BoolArray
) -> FloatArray:  # pragma: no cover - compiled; checked against numpy in the tests
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


def median_rho(
    indptr: IntArray, cost: FloatArray, site: IntArray, lam: FloatArray, m: int
) -> FloatArray:
    r""":math:`\rho_j = \sum_i \min(0, c_{ij} - \lambda_i)` over the pairs of each site.

    ``cost`` ascends within each row of ``indptr``; the sum is float64, pair by pair.
    """
    out: FloatArray = _median_rho(indptr, cost, site, lam, m)
    return out


def median_count(
    indptr: IntArray, cost: FloatArray, site: IntArray, lam: FloatArray, chosen: BoolArray
) -> FloatArray:
    r"""For each demand point, how many ``chosen`` sites have :math:`c_{ij} < \lambda_i`."""
    out: FloatArray = _median_count(indptr, cost, site, lam, chosen)
    return out
