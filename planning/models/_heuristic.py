"""Heuristics: greedy + swap plans (p-median, MCLP) and complete enumeration of tiny instances.

A heuristic plan is only a starting point (an incumbent, a warm start, radii to model) unless
enumeration was complete: a bound or a solver proves (or not) its optimality afterwards.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence

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
    max_passes: int = 200,
    time_limit_s: float = 5.0,
    start: BoolArray | None = None,
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
    is_open = fixed.copy() if start is None else (start | fixed)
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
    end = time.perf_counter() + time_limit_s
    for _ in range(max_passes):
        if time.perf_counter() > end:
            break
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


def p_median_value(d: FloatArray, w: FloatArray, is_open: BoolArray) -> float:
    """Total weighted distance of a plan (``inf`` if some weighted client is unserved)."""
    near = d[:, is_open].min(axis=1) if is_open.any() else np.full(d.shape[0], np.inf)
    pos = w > 0
    return float(w[pos] @ near[pos])


def mclp_greedy(
    cover: BoolArray,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    require: Sequence[IntArray] = (),
    county_need: tuple[IntArray, FloatArray] | None = None,
    max_passes: int = 50,
) -> tuple[BoolArray, float]:
    """Greedy + swap plan for the MCLP on a dense ``n x m`` coverage matrix; plan and value.

    ``require`` holds rules "at least one open site per group": per rule, an array giving
    each site's group code (``-1``: in no group); every code ``0..max`` must end up with an
    open site (a site in every county, a hub per prefecture). ``county_need`` is
    ``(code, need)``: each demand row's county code (``-1``: none) and the weight each
    county must have covered (county coverage targets). The greedy first opens the best
    site for the unmet groups / county needs, then the best of all; swaps keep every rule.
    The plan can exceed ``p`` sites or miss a rule it cannot meet: callers check.
    """
    wf = cover * w[:, None]
    is_open = fixed.copy()
    covered = cover[:, is_open].any(axis=1)
    allowed = openable & ~fixed
    n_groups = [int(code.max()) + 1 if code.size else 0 for code in require]
    if county_need is not None:
        dcode, need = county_need
        in_county = dcode >= 0
        dc = np.where(in_county, dcode, 0)

    def unmet_mask() -> BoolArray:
        want = np.zeros(is_open.size, dtype=bool)
        for code, k in zip(require, n_groups, strict=True):
            if k == 0:  # no group needs a site (e.g. no patients)
                continue
            have = np.zeros(k, dtype=bool)
            opened = code[is_open]
            have[opened[opened >= 0]] = True
            want |= (code >= 0) & ~have[np.maximum(code, 0)]
        return want

    def deficit(cov: BoolArray) -> FloatArray:
        got = np.bincount(dc[cov & in_county], weights=w[cov & in_county], minlength=need.size)
        return np.maximum(need - got, 0.0)

    while True:
        need_site = unmet_mask() & allowed & ~is_open
        cand = np.flatnonzero(allowed & ~is_open)
        if cand.size == 0:
            break
        if need_site.any():
            cand = np.flatnonzero(need_site)
            gain = wf[~covered][:, cand].sum(axis=0)
        elif (
            county_need is not None
            and (short := deficit(np.asarray(covered))).max(initial=0.0) > 1e-9
        ):
            fresh = ~covered & in_county
            per = np.zeros((need.size, cand.size))
            np.add.at(per, dc[fresh], wf[fresh][:, cand])
            gain = np.minimum(per, short[:, None]).sum(axis=0)
            if gain.max() <= 1e-12:
                break  # the needs cannot be met
        elif int(is_open.sum()) < p:
            gain = wf[~covered][:, cand].sum(axis=0)
        else:
            break
        best = cand[int(np.argmax(gain))]
        is_open[best] = True
        covered |= cover[:, best]
    value = float(w[covered].sum())
    for _ in range(max_passes):  # best single swap, until none improves
        counts = cover[:, is_open].sum(axis=1)
        cand = np.flatnonzero(allowed & ~is_open)
        if cand.size == 0:
            break
        best_gain, swap = 1e-9, None
        for r in np.flatnonzero(is_open & ~fixed).tolist():
            ok = np.ones(cand.size, dtype=bool)
            for code in require:  # r alone in its group: only a site of that group may replace it
                if code[r] >= 0 and int((code[is_open] == code[r]).sum()) == 1:
                    ok &= code[cand] == code[r]
            if not ok.any():
                continue
            lost = covered & (counts - cover[:, r] == 0)
            base = value - float(w[lost].sum())
            uncovered = ~covered | lost
            gains = np.where(ok, wf[uncovered][:, cand].sum(axis=0), -np.inf)
            for j in np.argsort(-gains, kind="stable")[:8].tolist():
                if base + gains[j] - value <= best_gain:
                    break
                if county_need is not None:
                    after = (covered & ~lost) | cover[:, cand[j]]
                    if deficit(after).max() > 1e-9:
                        continue
                best_gain, swap = base + gains[j] - value, (r, cand[j])
                break
        if swap is None:
            break
        is_open[swap[0]], is_open[swap[1]] = False, True
        covered = cover[:, is_open].any(axis=1)
        value = float(w[covered].sum())
    return is_open, value


#: Largest number of plans :func:`best_cover_plan` enumerates (tiny instances, where a MIP
#: solver's start-up costs more than trying every plan).
MAX_ENUMERATED_PLANS = 5_000


def best_cover_plan(
    cover: BoolArray,
    w: FloatArray,
    k: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    max_plans: int,
) -> tuple[BoolArray, float] | None:
    """Find the plan of ``fixed`` plus ``k`` free sites covering the most weight, by enumeration.

    Parameters
    ----------
    cover
        Dense ``n x m`` coverage matrix (``True``: site ``j`` covers demand ``i``).
    w
        Demand weights (length ``n``).
    k
        Number of sites to open besides the ``fixed`` ones (fewer if fewer may open).
    fixed, openable
        Sites always open; sites that may open.
    max_plans
        Give up (``None``) when there are more plans than this (callers pass
        :data:`MAX_ENUMERATED_PLANS`).

    Returns
    -------
    plan, value
        Every plan is tried, so the best is proven optimal; ties go to the first plan in
        lexicographic order of site positions (deterministic).
    """
    free = np.flatnonzero(openable & ~fixed)
    k = max(0, min(k, free.size))
    if math.comb(free.size, k) > max_plans:
        return None
    base = cover[:, fixed].any(axis=1)
    base_val = float(w[base].sum())
    if k == 0:
        return fixed.copy(), base_val
    rows = np.flatnonzero(~base & (w > 0) & cover[:, free].any(axis=1))
    a = cover[np.ix_(rows, free)]
    wr = w[rows]
    best_val, best_combo = -np.inf, np.zeros(k, dtype=np.int64)
    combos = np.array(list(itertools.combinations(range(free.size), k)), dtype=np.int64)
    for start in range(0, len(combos), 1_000):
        chunk = combos[start : start + 1_000]
        values = wr @ a[:, chunk].any(axis=2)
        at = int(np.argmax(values))  # first best: ties go to the earliest plan
        if values[at] > best_val + 1e-9:
            best_val, best_combo = float(values[at]), chunk[at]
    plan = fixed.copy()
    plan[free[best_combo]] = True
    return plan, best_val + base_val
