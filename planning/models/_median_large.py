r"""Uncapacitated p-median at province scale: sparse Lagrangian bound and fast interchange.

Used above :data:`~planning.models._heuristic.MAX_DENSE_CELLS`, where the dense ``n x m``
matrix of :mod:`planning.models._branch` cannot be built. Everything works on the pairs
(sorted by demand point, then minutes, then site), memory ``O(pairs)``.

Problem: demand points :math:`i` with :math:`w_i > 0`, sites :math:`j`, a demand point may
only be served along one of its pairs, :math:`c_{ij} = w_i t_{ij}`:

.. math::

    \min \sum_{ij} c_{ij} x_{ij} \;\text{s.t.}\; \sum_j x_{ij} = 1,\; x_{ij} \le y_j,\;
    \sum_j y_j = p,\; y_j = 1 \,(j \text{ existing}),\; y_j = 0 \,(j \text{ not openable}).

**Bound.** Relaxing the assignment rows with multipliers :math:`\lambda_i` gives, for every
:math:`\lambda`, the valid bound (weak duality)

.. math::

    L(\lambda) = \sum_i \lambda_i + \min_{|S| = p,\, F \subseteq S} \sum_{j \in S} \rho_j,
    \qquad \rho_j = \sum_{i:\,(i,j) \text{ pair}} \min(0, c_{ij} - \lambda_i),

the inner minimum taken by the existing sites and the :math:`p - |F|` openable sites of
smallest :math:`\rho_j`. A site without a pair to :math:`i` cannot serve it (no term). The
multipliers are also kept in :math:`0 \le \lambda_i \le w_i R` with :math:`R` the largest
minutes in the table: a table "every pair within :math:`R`" leaves out only sites farther
than :math:`R`, whose terms :math:`\min(0, w_i d_{ij} - \lambda_i)` would be 0, so the
bound stays valid even if the left-out sites could serve at their true minutes (also for a
demand point with few pairs). Pairs are sorted by minutes within a demand point, so the
terms with :math:`c_{ij} < \lambda_i` are a prefix of its pairs; each bound is the exact
float64 value of :math:`L` at the multipliers found (a compiled loop over each demand
point's pairs up to the first with :math:`c_{ij} \ge \lambda_i`,
:mod:`planning.models._kernels`). The multipliers follow a subgradient method (Polyak
steps towards the incumbent, Camerini-Fratta-Maffioli deflection) in a metric scaled by the
weights (:func:`~planning.models._branch.step_metric`), started from the plan's
second-nearest open sites.

**Plans.** A lazy greedy (the savings of a site only shrink as sites open), then the fast
interchange of Whitaker (1983) with the bookkeeping of Resende & Werneck (2003): for each
demand point its nearest and second-nearest open site; the profit of closing ``r`` and
opening ``j`` is ``gain[j] - loss[r] + extra[r, j]`` with ``extra`` sparse. Batches of swaps
that touch disjoint demand points are tried together; every accepted plan is evaluated
exactly. The relaxation's site sets are first moved by Cooper's alternate location-allocation
(each site to the 1-median of its catchment) and then polished the same way when close to the
incumbent. When a round of the bound gains less than 0.1 % of the plan's value, the time goes
to iterated local search around the incumbent (:func:`iterated_search`: a kick moves a few
neighbouring sites, then swaps while a swap gains, the result kept when better), three times
each round's time; before that, a burst of one round's time follows each round that closed
the gap more slowly per second than the last burst did (one is tried after the first
round). After two searches without a better plan, a k-means++ restart. The search's
compiled loop keeps ``gain``, ``loss`` and ``extra`` up to date as sites open and
close, so a kick and its descent cost milliseconds, not passes over every pair. Both draw
from seeded generators: the same steps in the same order, though how many fit in the limit
depends on the machine's speed. (A search thread beside the bound was tried: it slows the
bound's passes over the pairs ~1.7x and leaves the bound's path to the thread's timing.)
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from planning.models._branch import step_metric
from planning.models._mip import BoolArray, FloatArray, IntArray, SiteArray
from planning.models._sparse import unserved_minutes

#: First multipliers: ``w_i min(d2_i, START_FACTOR d1_i)`` from the plan's nearest and
#: second-nearest open sites (Fujian p = 80, 200 iterations: 1.0 -> 5.31 M, 1.3 -> 5.34 M,
#: 1.6 -> 5.37 M, 2.2 -> 5.36 M).
START_FACTOR = 1.6

#: Subgradient steps without a better bound before the step scale halves (Fujian p = 80,
#: 60 s: 20 -> 5.420 M, 60 -> 5.435 M; the compiled Lagrangian makes a step ~30 ms).
STALL_LIMIT = 60

#: Sites moved by one kick of the iterated search (Fujian p = 80, the search alone for 60 s
#: from greedy + interchange's 5,533,612, seeds 1-3: 6 -> 5,498,295 / 5,498,295 / 5,496,786;
#: 8 -> 5,496,786 / 5,498,556 / 5,501,154; 12 -> 5,498,295; 4 -> 5,499,233 in 140 s).
KICK_SIZE = 6

#: The iterated search's time per Lagrangian round's time once the bound stalls (the
#: previous, uncompiled search, Fujian p = 80 at 300 s: share 2 -> 1.02 %, 3 -> 0.96 %).
ILS_SHARE = 3.0


@dataclass
class LargeMedian:
    """Outcome of :func:`solve_large_median`: best plan, its value, a valid bound."""

    plan: BoolArray
    value: float
    bound: float
    iterations: int = 0
    extras: dict[str, object] = field(default_factory=dict)


class _Pairs:
    """Openable pairs of the weighted demand points, CSR by demand point (minutes sorted)."""

    def __init__(
        self,
        pi: IntArray,
        pj: IntArray,
        pt: FloatArray,
        w: FloatArray,
        openable: BoolArray,
    ) -> None:
        n, m = w.size, openable.size
        keep = openable[pj] & (w[pi] > 0)
        if not keep.all():  # else no copies of the (many) pairs
            pi, pj, pt = pi[keep], pj[keep], pt[keep]
        self.reach = float(pt.max(initial=0.0))
        counts = np.bincount(pi, minlength=n)
        self.clients = np.flatnonzero(counts > 0)  # positions in the full demand table
        if self.clients.size == n:  # every point paired: positions stay (no table-long copy)
            self.row = pi.astype(np.int64, copy=False)
        else:
            self.row = (np.cumsum(counts > 0) - 1)[pi].astype(np.int64, copy=False)
        #: sites in the narrowest type (uint16 up to 65,535 sites): the compiled loops over
        #: the pairs are memory-bound, and read a quarter of the bytes of int64 sites
        narrow = np.uint16 if m <= np.iinfo(np.uint16).max else np.int64
        self.site: SiteArray = pj.astype(narrow, copy=False)
        self.mins = pt.astype(np.float64, copy=False)
        self.n, self.m = self.clients.size, m
        self.w = w[self.clients].astype(np.float64)
        self.indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts[self.clients], out=self.indptr[1:])
        self.cost = self.w[self.row]
        self.cost *= self.mins
        #: minutes counted for a demand point without an open site: serving each comes
        #: first, whatever its weight (as in the plain greedy)
        self.big = unserved_minutes(self.w, self.reach)
        #: minutes an unserved point counts as in the searches' draws (odds ``w d^2``)
        self.far = self.reach + 1.0
        # the same pairs by site (CSC): demand points and minutes of each site
        order = np.argsort(self.site, kind="stable")  # uint16: a radix sort
        self.col_ptr = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.site, minlength=m), out=self.col_ptr[1:])
        self.col_row, self.col_min = self.row[order], self.mins[order]
        #: the pairs by demand point and by site, as the compiled search takes them
        self.net = (
            self.indptr,
            self.mins,
            self.site,
            self.w,
            self.col_ptr,
            self.col_row,
            self.col_min,
        )

    def column(self, j: int) -> tuple[IntArray, FloatArray]:
        """Demand points paired with site ``j`` and their minutes."""
        a, b = self.col_ptr[j], self.col_ptr[j + 1]
        return self.col_row[a:b], self.col_min[a:b]

    def nearest_two(self, is_open: BoolArray) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
        """Nearest and second-nearest open site of each demand point (``-1`` / ``inf``)."""
        from planning.models._kernels import nearest_two  # noqa: PLC0415 - numba, large path only

        return nearest_two(self.indptr, self.mins, self.site, is_open)


@dataclass
class _State:
    """A plan with its exact value and the two nearest open sites of every demand point."""

    is_open: BoolArray
    value: float
    phi1: IntArray
    d1: FloatArray
    phi2: IntArray
    d2: FloatArray


def _evaluate(pairs: _Pairs, is_open: BoolArray) -> _State:
    phi1, d1, phi2, d2 = pairs.nearest_two(is_open)
    value = float(pairs.w @ d1) if np.isfinite(d1).all() else math.inf
    return _State(is_open.copy(), value, phi1, d1, phi2, d2)


def lazy_greedy(pairs: _Pairs, p: int, fixed: BoolArray, openable: BoolArray) -> BoolArray:
    """Greedy plan: open the site saving the most patient-minutes, ``p`` times (lazily).

    A demand point without an open site costs :attr:`_Pairs.big` minutes (its weight times
    them is more than any plan serving everyone costs), so serving every point comes first,
    whatever its weight. The savings only shrink as sites open, so a stale saving is an upper bound
    and only the top of the heap is recomputed (same plan as the plain greedy up to ties).
    """
    col_ptr, col_row, col_min = pairs.col_ptr, pairs.col_row, pairs.col_min
    cur = pairs.big.copy()
    plan = fixed.copy()
    for j in np.flatnonzero(fixed).tolist():
        rows = col_row[col_ptr[j] : col_ptr[j + 1]]
        np.minimum.at(cur, rows, col_min[col_ptr[j] : col_ptr[j + 1]])

    def saving(j: int) -> float:
        a, b = col_ptr[j], col_ptr[j + 1]
        rows = col_row[a:b]
        return float(pairs.w[rows] @ np.maximum(cur[rows] - col_min[a:b], 0.0))

    heap = [(-saving(j), j) for j in np.flatnonzero(openable & ~fixed).tolist()]
    heapq.heapify(heap)
    while int(plan.sum()) < p and heap:
        _, j = heapq.heappop(heap)
        now = saving(j)
        if heap and now < -heap[0][0] - 1e-12 * max(1.0, now):
            heapq.heappush(heap, (-now, j))
            continue
        plan[j] = True
        a, b = col_ptr[j], col_ptr[j + 1]
        np.minimum.at(cur, col_row[a:b], col_min[a:b])
    return plan


def _profits(
    pairs: _Pairs, st: _State, fixed: BoolArray, openable: BoolArray
) -> tuple[IntArray, FloatArray]:
    """Open sites and the profit of every swap (close ``open[a]``, open ``j``): ``k x m``.

    Whitaker's decomposition ``gain[j] - loss[r] + extra[r, j]``; ``extra`` only needs the
    pairs nearer than the demand point's second-nearest open site (a prefix of its row).
    """
    from planning.models._kernels import median_swaps  # noqa: PLC0415 - numba, large path only

    m = pairs.m
    open_idx = np.flatnonzero(st.is_open)
    pos_of = np.full(m, -1, dtype=np.int64)
    pos_of[open_idx] = np.arange(open_idx.size)
    d1 = np.where(np.isfinite(st.d1), st.d1, pairs.big)
    d2 = np.where(np.isfinite(st.d2), st.d2, pairs.big)
    gain, extra, loss = median_swaps(
        pairs.indptr,
        pairs.mins,
        pairs.site,
        pairs.w,
        d1,
        d2,
        st.phi1,
        pos_of,
        st.is_open,
        open_idx.size,
    )
    gain[~openable | st.is_open] = -np.inf
    loss[fixed] = np.inf
    prof = (extra.reshape(open_idx.size, m) + gain[None, :] - loss[open_idx][:, None]).astype(
        np.float64
    )
    return open_idx.astype(np.int64), prof


def interchange(
    pairs: _Pairs,
    st: _State,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    end: float,
    batch: int = 16,
) -> _State:
    """Fast interchange (batches of swaps on disjoint demand points), exact at every step."""
    last = 0.0  # seconds the last round took: no round is started that cannot finish
    while time.perf_counter() + last < end:
        t_round = time.perf_counter()
        open_idx, prof = _profits(pairs, st, fixed, openable)
        flat = prof.ravel()
        tol = 1e-9 * max(1.0, st.value)
        top = min(8 * batch, flat.size - 1)
        best = np.argpartition(-flat, top)[: top + 1]
        best = best[np.argsort(-flat[best], kind="stable")]
        m = pairs.m
        cands = [
            (float(flat[t]), int(open_idx[t // m]), int(t % m))
            for t in best.tolist()
            if flat[t] > tol
        ]
        if not cands:
            break
        d2 = np.where(np.isfinite(st.d2), st.d2, pairs.big)
        taken: list[tuple[int, int]] = []
        used: set[int] = set()
        touched = np.zeros(pairs.n, dtype=bool)
        for _, r, j in cands:
            if len(taken) >= batch:
                break
            if r in used or j in used:
                continue
            aff = np.flatnonzero((st.phi1 == r) | (st.phi2 == r))
            rows, mins = pairs.column(j)
            near = rows[mins < d2[rows]]
            if touched[aff].any() or touched[near].any():
                continue
            taken.append((r, j))
            used.update((r, j))
            touched[aff] = True
            touched[near] = True
        attempts = [taken] + [[(r, j)] for _, r, j in cands[:4]]
        for attempt in attempts:
            plan = st.is_open.copy()
            for r, j in attempt:
                plan[r], plan[j] = False, True
            cand = _evaluate(pairs, plan)
            if cand.value < st.value - tol:
                st = cand
                last = time.perf_counter() - t_round
                break
            if time.perf_counter() >= end:
                return st
        else:
            break
    return st


def alternate(
    pairs: _Pairs,
    st: _State,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    end: float,
    max_rounds: int = 20,
    max_cells: int = 20_000_000,
) -> _State:
    """Cooper's alternate location-allocation: move each site to its catchment's 1-median.

    The catchment of an open site is the demand points it serves nearest; a site ``j`` may
    replace it only when every one of them has a pair to ``j``. All moves of a round are
    made together (one site per catchment, no site twice) and kept only when the exact
    value of the new plan is lower.
    """
    from planning.models._kernels import catchment_costs  # noqa: PLC0415 - numba, large path

    m = pairs.m
    for _ in range(max_rounds):
        open_idx = np.flatnonzero(st.is_open)
        k = open_idx.size
        if time.perf_counter() >= end or k * m > max_cells or (st.phi1 < 0).any():
            break
        pos_of = np.full(m, -1, dtype=np.int64)
        pos_of[open_idx] = np.arange(k)
        owner = pos_of[st.phi1]
        flat_cost, flat_count = catchment_costs(
            pairs.indptr, pairs.cost, pairs.site, owner, openable, k
        )
        cost, count = flat_cost.reshape(k, m), flat_count.reshape(k, m)
        size = np.bincount(owner, minlength=k)
        cost[count < size[:, None]] = np.inf
        best = np.argmin(cost, axis=1)
        now = cost[np.arange(k), open_idx]
        saving = now - cost[np.arange(k), best]
        plan = st.is_open.copy()
        moved = 0
        for a in np.argsort(-saving, kind="stable").tolist():
            r, j = int(open_idx[a]), int(best[a])
            if not saving[a] > 1e-9 * max(1.0, st.value) or fixed[r] or plan[j]:
                continue
            plan[r], plan[j] = False, True
            moved += 1
        if not moved:
            break
        cand = _evaluate(pairs, plan)
        if not cand.value < st.value - 1e-9 * max(1.0, st.value):
            break
        st = cand
    return st


def descend(
    pairs: _Pairs,
    st: _State,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    end: float,
    swap_s: float | None = None,
) -> _State:
    """Cooper's :func:`alternate`, then the fast :func:`interchange` from its plan.

    The interchange runs until ``end``, or for ``swap_s`` seconds from when it starts; a plan
    that serves not every demand point (infinite value) is returned as it is.
    """
    st = alternate(pairs, st, fixed=fixed, openable=openable, end=end)
    if not math.isfinite(st.value):
        return st
    swap_end = end if swap_s is None else time.perf_counter() + swap_s
    return interchange(pairs, st, fixed=fixed, openable=openable, end=swap_end)


def seeded_plan(
    pairs: _Pairs, p: int, fixed: BoolArray, openable: BoolArray, rng: np.random.Generator
) -> BoolArray:
    """k-means++-style plan: the next site nearest a demand point drawn with odds ~ ``w d^2``.

    A demand point without an open site counts :attr:`_Pairs.far` minutes.
    """
    plan = fixed.copy()
    dmin = np.full(pairs.n, pairs.far)
    for j in np.flatnonzero(fixed).tolist():
        _open(pairs, plan, dmin, j)
    while int(plan.sum()) < p:
        free = _closed_near_draw(pairs, plan, dmin, rng)
        if free.size == 0:
            rest = np.flatnonzero(openable & ~plan)
            if rest.size == 0:
                break
            free = rest
        _open(pairs, plan, dmin, int(free[0]))
    return plan


def _closed_near_draw(
    pairs: _Pairs, plan: BoolArray, dmin: FloatArray, rng: np.random.Generator
) -> SiteArray:
    """Draw a demand point with odds ~ ``w dmin^2``; its closed sites, nearest first."""
    odds = pairs.w * dmin**2
    i = int(rng.choice(pairs.n, p=odds / odds.sum()))
    sites = pairs.site[pairs.indptr[i] : pairs.indptr[i + 1]]
    return sites[~plan[sites]]


def _open(pairs: _Pairs, plan: BoolArray, dmin: FloatArray, j: int) -> None:
    """Open site ``j`` in ``plan`` and lower ``dmin`` (minutes to the nearest open) in place."""
    plan[j] = True
    rows, mins = pairs.column(j)
    np.minimum.at(dmin, rows, mins)


def iterated_search(
    pairs: _Pairs,
    st: _State,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    end: float,
    rng: np.random.Generator,
    size: int = KICK_SIZE,
    chunk_s: float = 0.25,
) -> tuple[_State, int]:
    """Search around ``st`` until ``end``: kick, then swaps while one gains; keep if better.

    The compiled search (:func:`~planning.models._kernels.median_ils`) keeps Whitaker's
    ``gain``, ``loss`` and ``extra`` up to date site by site instead of recomputing them
    (a kick and its descent touch only the demand points near the sites they move); it runs
    in chunks of about ``chunk_s`` seconds, each seeded from ``rng``. A kick closes up to
    ``size`` neighbouring open sites and opens as many near demand points drawn with odds
    ``w d^2`` (as :func:`seeded_plan`).
    Returns the best plan (``st`` or better, its value exact) and the number of kicks.
    """
    from planning.models._kernels import (  # noqa: PLC0415 - numba, large path only
        MedianState,
        median_ils,
        median_state,
    )

    best = median_state(pairs.net, st.is_open, int(st.is_open.sum()), pairs.big)
    work = cast("MedianState", tuple(a.copy() for a in best))
    tol = 1e-9 * max(1.0, float(best[10][0]))  # its value counts unserved points at ``big``
    kicks, steps = 0, 4
    while time.perf_counter() < end:
        t = time.perf_counter()
        seed = int(rng.integers(2**31))
        median_ils(
            pairs.net, work, best, fixed, openable, steps, size, pairs.big, pairs.far, seed, tol
        )
        kicks += steps
        rate = steps / max(time.perf_counter() - t, 1e-6)
        steps = max(1, int(rate * min(chunk_s, end - time.perf_counter())))
    got = _evaluate(pairs, best[0])
    return (got if got.value < st.value else st), kicks


@dataclass
class _Dual:
    """Multipliers, their exact bound and the relaxation's site set."""

    lam: FloatArray
    bound: float
    chosen: IntArray


def _choose(rho: FloatArray, fixed_idx: IntArray, free_idx: IntArray, k: int) -> IntArray:
    if k <= 0:
        return fixed_idx
    if k >= free_idx.size:
        return np.concatenate([fixed_idx, free_idx])
    part = free_idx[np.argpartition(rho[free_idx], k - 1)[:k]]
    return np.concatenate([fixed_idx, part])


def lagrangian(
    pairs: _Pairs,
    lam: FloatArray,
    p: int,
    fixed: BoolArray,
    openable: BoolArray,
    *,
    stop: IntArray | None = None,
) -> tuple[float, IntArray, FloatArray]:
    r"""Exact ``L(lam)``, the relaxation's sites and every site's :math:`\rho_j`.

    ``stop`` (length ``n``), when given, gets the end of each demand point's pairs with
    :math:`c_{ij} < \lambda_i`, as :func:`~planning.models._kernels.median_count` takes it.
    """
    from planning.models._kernels import median_rho  # noqa: PLC0415 - numba, large path only

    if stop is None:
        stop = np.empty(pairs.n, dtype=np.int64)
    rho = median_rho(pairs.indptr, pairs.cost, pairs.site, lam, pairs.m, stop)
    fixed_idx = np.flatnonzero(fixed)
    free_idx = np.flatnonzero(openable & ~fixed)
    chosen = _choose(rho, fixed_idx, free_idx, p - fixed_idx.size)
    value = float(math.fsum(lam.tolist())) + float(math.fsum(rho[chosen].tolist()))
    return value, chosen, rho


def subgradient(
    pairs: _Pairs,
    p: int,
    lam: FloatArray,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    upper: float,
    end: float,
    theta: float = 1.0,
    max_iter: int = 200,
    stall_limit: int = STALL_LIMIT,
) -> tuple[_Dual, float, list[IntArray], int]:
    """Subgradient ascent on ``L`` from ``lam``.

    Returns the best point, the step scale reached, some of the relaxation's site sets (for
    plans) and the number of iterations.
    """
    from planning.models._kernels import median_count  # noqa: PLC0415 - numba, large path only

    cap = pairs.w * pairs.reach
    metric = step_metric(pairs.w)
    scale = np.ones(pairs.n) if metric is None else metric
    lam = np.clip(lam, 0.0, cap).astype(np.float64)
    best = _Dual(lam.copy(), -math.inf, np.zeros(0, dtype=np.int64))
    d_prev: FloatArray = np.zeros(pairs.n)
    stall = 0
    plans: list[IntArray] = []
    it = 0
    stop = np.empty(pairs.n, dtype=np.int64)
    for it in range(1, max_iter + 1):
        val, chosen, _ = lagrangian(pairs, lam, p, fixed, openable, stop=stop)
        if val > best.bound:
            best = _Dual(lam.copy(), val, chosen)
            stall = 0
        else:
            stall += 1
            if stall >= stall_limit:
                theta, stall = theta * 0.5, 0
        if it % 10 == 1:
            plans.append(chosen)
        if theta < 1e-4 or time.perf_counter() >= end or val >= upper * (1 - 1e-12):
            break
        is_ch = np.zeros(pairs.m, dtype=bool)
        is_ch[chosen] = True
        g: FloatArray = 1.0 - median_count(pairs.indptr, stop, pairs.site, is_ch)
        g[(lam <= 0) & (g < 0)] = 0.0
        g[(lam >= cap) & (g > 0)] = 0.0
        dot = float(g @ (scale * d_prev))
        if dot < 0:
            g = (g - 1.5 * dot / max(float(d_prev @ (scale * d_prev)), 1e-300) * d_prev).astype(
                np.float64
            )
        d_prev = g
        norm = float(g @ (scale * g))
        if norm == 0:
            break
        step = theta * max(upper - val, 1e-9 * abs(upper)) / norm
        lam = np.clip(lam + step * scale * g, 0.0, cap).astype(np.float64)
    return best, theta, plans, it


def solve_large_median(
    pi: IntArray,
    pj: IntArray,
    pt: FloatArray,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    end: float,
    rel_gap: float = 0.0,
    integral: bool = False,
    start: BoolArray | None = None,
) -> LargeMedian | None:
    """Best plan found by ``end`` (``time.perf_counter()``) and a valid Lagrangian bound.

    ``pi, pj, pt``: the allowed pairs sorted by (demand, minutes, site). Returns ``None``
    when some weighted demand point has no openable pair (no plan serves it).
    """
    t0 = time.perf_counter()
    pairs = _Pairs(pi, pj, pt, w, openable)
    if pairs.n < int((w > 0).sum()):
        return None
    fixed = fixed & np.ones_like(openable)
    openable = openable | fixed
    total = max(end - t0, 1e-3)
    st = _evaluate(pairs, lazy_greedy(pairs, p, fixed, openable))
    greedy_value = st.value
    if start is not None and int(start.sum()) == p and bool(start[fixed].all()):
        st0 = _evaluate(pairs, start & openable)
        if st0.value < st.value:
            st = st0
    extras: dict[str, object] = {"greedy_value": greedy_value, "large_pairs": int(pairs.row.size)}
    if not math.isfinite(st.value):
        return None
    st = interchange(pairs, st, fixed=fixed, openable=openable, end=t0 + 0.35 * total)
    extras["swap_value"] = st.value
    extras["swap_seconds"] = time.perf_counter() - t0
    d2 = np.where(np.isfinite(st.d2), st.d2, pairs.reach)
    lam = pairs.w * np.minimum(d2, START_FACTOR * st.d1 + 1e-9)
    val, chosen, _ = lagrangian(pairs, np.clip(lam, 0.0, pairs.w * pairs.reach), p, fixed, openable)
    best = _Dual(np.clip(lam, 0.0, pairs.w * pairs.reach), val, chosen)
    theta, iterations, rounds = 1.0, 0, 0
    history: list[tuple[float, float, float]] = []

    def done() -> bool:
        return _closed(st.value, best.bound, rel_gap, integral)

    extras_swap = float(extras["swap_seconds"])  # type: ignore[arg-type]
    stalled, restarts, idle, kicks = 0, 0, 0, 0
    ils_rng = np.random.default_rng(0)  # seeded: the same kicks in the same order
    ils_rate = math.inf  # the last burst's gain per second (none yet: one is tried early)
    while time.perf_counter() < end and not done():
        rounds += 1
        t_round = time.perf_counter()
        before = best.bound
        dual, theta, plans, its = subgradient(
            pairs,
            p,
            best.lam,
            fixed=fixed,
            openable=openable,
            upper=st.value,
            end=end,
            theta=max(theta, 0.02),
        )
        iterations += its
        if dual.bound > best.bound:
            best = dual
        else:
            theta *= 0.5
        if done():
            break
        for sites in [best.chosen, *plans[-2:]]:
            if time.perf_counter() >= end:
                break
            plan = np.zeros(pairs.m, dtype=bool)
            plan[sites] = True
            cand = _evaluate(pairs, plan)
            if math.isfinite(cand.value) and cand.value < 1.2 * st.value:
                cand = alternate(pairs, cand, fixed=fixed, openable=openable, end=end)
            if math.isfinite(cand.value) and cand.value < 1.03 * st.value:
                left = end - time.perf_counter()
                cand = interchange(
                    pairs,
                    cand,
                    fixed=fixed,
                    openable=openable,
                    end=time.perf_counter() + 0.3 * left,
                )
                if cand.value < st.value:
                    st = cand
        stalled = stalled + 1 if best.bound <= before + 1e-3 * abs(st.value) else 0
        left = end - time.perf_counter()
        if stalled and idle >= 2 and left > 3.0 * extras_swap and left > 0.15 * total:
            # the search around the incumbent found nothing twice: a k-means++ restart
            restarts += 1
            rng = np.random.default_rng(restarts)
            cand = _evaluate(pairs, seeded_plan(pairs, p, fixed, openable, rng))
            cand = descend(pairs, cand, fixed=fixed, openable=openable, end=end, swap_s=0.3 * left)
            if cand.value < st.value:
                st, idle = cand, 0
        round_s = time.perf_counter() - t_round
        faster = ils_rate > (best.bound - before) / round_s
        if (stalled or faster) and time.perf_counter() < end:
            # a burst of iterated local search: ILS_SHARE times the round's time once the
            # bound moves little, one round's time while the last burst closed the gap faster
            t_burst = time.perf_counter()
            burst = t_burst + (ILS_SHARE if stalled else 1.0) * round_s
            got, steps = iterated_search(
                pairs, st, fixed=fixed, openable=openable, end=min(end, burst), rng=ils_rng
            )
            kicks += steps
            idle = 0 if got.value < st.value else idle + 1
            ils_rate = (st.value - got.value) / max(time.perf_counter() - t_burst, 1e-9)
            st = got
        history.append((round(time.perf_counter() - t0, 2), st.value, best.bound))
    extras.update(
        {"lagrangian_rounds": rounds, "restarts": restarts, "kicks": kicks, "history": history}
    )
    bound = min(best.bound, st.value) if math.isfinite(best.bound) else -math.inf
    return LargeMedian(st.is_open, st.value, bound, iterations, extras)


def _closed(value: float, bound: float, rel_gap: float, integral: bool) -> bool:
    if not math.isfinite(bound):
        return False
    diff = value - bound
    if integral and diff < 0.999:
        return True
    return diff <= max(rel_gap, 1e-6) * max(1.0, abs(value))
