"""Fast p-median heuristic (greedy + vertex substitution) used for warm starts and radii.

The answer is only a starting point: the MIP proves (or not) optimality afterwards.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence

import numpy as np

from planning.models._branch import subgradient
from planning.models._mip import BoolArray, FloatArray, IntArray

MAX_DENSE_CELLS = 6_000_000
STALL_LIMIT = 25


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


def lagrangian_fixing(
    d: FloatArray,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    upper: float,
    integral: bool,
    max_iter: int = 400,
    time_limit_s: float = 30.0,
) -> tuple[float, BoolArray, BoolArray, BoolArray | None, float, FloatArray]:
    """Lagrangian bound for the p-median and the sites it can fix.

    The assignment rows ``sum_j x_ij = 1`` are relaxed with multipliers ``lambda_i``; the
    relaxation picks the ``p`` sites of smallest ``rho_j = sum_i min(0, w_i d_ij - lambda_i)``.
    A site whose forced opening (closing) lifts the bound above ``upper`` (minus 1 when the
    objective is integral) cannot be in any plan better than ``upper``: it is fixed closed
    (open). Subgradient optimisation (Held-Wolfe-Crowder) tunes ``lambda``.

    Returns
    -------
    bound, fix_closed, fix_open, best_plan, best_value, multipliers
        A valid lower bound, the masks of sites fixed closed / open, the best plan seen
        (Lagrangian plans are evaluated as a by-product; ``None`` if none beat ``upper``) and
        the multipliers of the bound (length ``n``; 0 for clients of weight 0), to warm-start
        :func:`~planning.models._branch.branch_and_bound`.
    """
    pos = w > 0
    c = w[pos, None] * d[pos]
    free = openable & ~fixed
    k = p - int(fixed.sum())
    m = d.shape[1]
    margin = (1.0 - 1e-6) if integral else -1e-9 * max(1.0, abs(upper))
    # start: each client's cost to its k-th nearest site (a rough assignment price)
    srt = np.sort(c, axis=1)
    kk = min(max(1, c.shape[1] // max(p, 1)), c.shape[1] - 1)
    lam = np.where(
        np.isfinite(srt[:, kk]),
        srt[:, kk],
        np.nanmax(np.where(np.isfinite(srt), srt, np.nan), axis=1),
    )
    best_bound, best_rho, best_lam_sum = -np.inf, np.zeros(m), 0.0
    theta, stall = 2.0, 0
    best_plan: BoolArray | None = None
    best_value = upper
    best_lam = lam.copy()
    recent: list[BoolArray] = []
    free_idx = np.flatnonzero(free)
    end = time.perf_counter() + time_limit_s
    for it in range(max_iter):
        if time.perf_counter() > end:
            break
        red = np.minimum(c - lam[:, None], 0.0)
        rho = red.sum(axis=0)
        order = free_idx[np.argsort(rho[free_idx], kind="stable")]
        chosen = np.concatenate([np.flatnonzero(fixed), order[:k]])
        value = float(lam.sum() + rho[chosen].sum())
        if value > best_bound + 1e-9:
            best_bound, best_rho, best_lam_sum, stall = value, rho.copy(), float(lam.sum()), 0
            best_lam = lam.copy()
            plan_now = np.zeros(m, dtype=bool)
            plan_now[chosen] = True
            if not recent or not np.array_equal(recent[-1], plan_now):
                recent.append(plan_now)
        else:
            stall += 1
            if stall >= STALL_LIMIT:
                theta, stall = theta / 2, 0
        if best_bound > upper - margin or theta < 1e-4:
            break
        if it % 10 == 0:
            plan = np.zeros(m, dtype=bool)
            plan[chosen] = True
            val = p_median_value(d, w, plan)
            if val < best_value - 1e-9:
                best_value, best_plan = val, plan
                upper = val
        g = 1.0 - (red[:, chosen] < 0).sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break
        lam = lam + theta * (upper - value) / norm * g
    # polish recent Lagrangian plans by vertex substitution: a better upper bound fixes more
    for plan0 in recent[-3:]:
        if time.perf_counter() > end:
            break
        polished = p_median_heuristic(
            d,
            w,
            p,
            fixed=fixed,
            openable=openable,
            start=plan0,
            time_limit_s=max(0.2, min(5.0, end - time.perf_counter())),
        )
        if polished is not None:
            val = p_median_value(d, w, polished)
            if val < best_value - 1e-9:
                best_value, best_plan, upper = val, polished, val
    # fixing from the best multipliers
    rho = best_rho
    order = free_idx[np.argsort(rho[free_idx], kind="stable")]
    chosen_free = order[:k]
    rest = order[k:]
    fix_closed = np.zeros(m, dtype=bool)
    fix_open = np.zeros(m, dtype=bool)
    if k > 0 and rest.size == 0:
        fix_open[chosen_free] = True
    elif k > 0:
        last_in = rho[chosen_free[-1]]
        first_out = rho[rest[0]]
        fix_closed[rest] = best_bound + rho[rest] - last_in > upper - margin
        fix_open[chosen_free] = best_bound - rho[chosen_free] + first_out > upper - margin
    elif k <= 0:
        fix_closed[free] = True
    del best_lam_sum
    # probing: re-optimise the multipliers with each remaining site forced open
    n_left = int((free & ~fix_closed & ~fix_open).sum())
    if k > 1 and n_left <= 200 and time.perf_counter() < end:
        _probe(
            c,
            best_lam,
            fixed | fix_open,
            free & ~fix_closed & ~fix_open,
            k - int((fix_open & free).sum()),
            upper,
            margin,
            fix_closed,
            end,
        )
    lam_full = np.zeros(w.size)
    lam_full[pos] = best_lam
    return best_bound, fix_closed, fix_open, best_plan, best_value, lam_full


def _probe(  # noqa: PLR0917 - internal helper
    c: FloatArray,
    lam0: FloatArray,
    must: BoolArray,
    free: BoolArray,
    k: int,
    upper: float,
    margin: float,
    fix_closed: BoolArray,
    end: float,
    iters: int = 80,
    miss_limit: int = 10,
) -> None:
    """Fix closed every free site whose forced opening lifts the bound above ``upper``.

    Sites are probed most promising first; after ``miss_limit`` probes in a row fix nothing
    the rest are left to the MIP (Putian p = 6: 0.37 s of probes fixed no site; OR-Library
    pmed39 35 -> 26 s, its successful probes come first).
    """
    cols = np.flatnonzero(must | free)
    sub = c[:, cols]
    must_l = np.flatnonzero(must[cols])
    free_l = np.flatnonzero(free[cols])
    if free_l.size <= k:
        return
    # cheap first: the reduced-cost estimate ranks sites; probe the most promising closures
    red0 = np.minimum(sub - lam0[:, None], 0.0).sum(axis=0)
    order = free_l[np.argsort(-red0[free_l], kind="stable")]
    misses = 0
    for jl in order.tolist():
        if time.perf_counter() > end or misses >= miss_limit:
            return
        others = free_l[(free_l != jl) & ~fix_closed[cols[free_l]]]
        if others.size < k - 1:
            continue
        forced = np.concatenate([must_l, [jl]])
        res = subgradient(
            sub, lam0, forced, others, k - 1, upper=upper, margin=margin, iterations=iters
        )
        if res.value > upper - margin:
            fix_closed[cols[jl]] = True
            misses = 0
        else:
            misses += 1


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
