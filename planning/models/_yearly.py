"""A start for the p-median rollout: year by year, each year's new sites chosen exactly.

Used by :func:`planning.models._stages.plan_stage` before the nested search of an
uncapacitated p-median rollout (a new-site limit every year, no budgets). Each year adds its
new sites to the previous year's: with at most two new sites every pair (or site) is tried,
the best by (the year's milestone shortfall, then the year's patient-minutes) kept; with more,
one site at a time the same way. Several first years are tried (the best ``STARTS`` by the
same order), each completed year by year; the best plan within the shortfall cap is the start.
A heuristic: it proves nothing, and its plans are checked with the model's own figures.

On the Putian demo the greedy start met the milestones at 1,813,891 patient-minutes; this
start finds 1,673,692 (the milestones of the first year leave 354 of the 13,366 pairs).

:func:`milestone_bound` is a lower bound of the same plan stage that sees the milestones: a
search over the years' new sites (enumerated while a year opens at most two) with Lagrangian
bounds of the later years' p-medians; on the demo it proves the start optimal in ~3 s.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from planning.models._branch import subgradient
from planning.models._mip import BoolArray, FloatArray, IntArray
from planning.models._periods import Setup, nearest_minutes, shortfall_of, true_values

#: First years tried.
STARTS = 5
#: Largest points x candidates x candidates the pair enumeration takes on (the Putian demo:
#: 36 M; a year's pairs cost about that many operations).
MAX_PAIR_WORK = 400_000_000
#: Largest options x points a level of the bound's search keeps (memory).
MAX_LEVEL_CELLS = 30_000_000


class _Years:
    """Dense figures of the rollout: minutes, reach within the milestone threshold, counties."""

    def __init__(self, s: Setup) -> None:
        p = s.prep
        self.s = s
        big_u = s.unserved_penalty_min
        ok = s.cand_of[p.pj] >= 0
        self.dist = np.full((p.n, s.nc), big_u)
        self.dist[p.pi[ok], s.cand_of[p.pj[ok]]] = np.minimum(p.pt[ok], big_u)
        self.reach = np.zeros((p.n, s.nc), dtype=bool)
        near = ok & (p.pt <= s.milestone_threshold + 1e-9)
        self.reach[p.pi[near], s.cand_of[p.pj[near]]] = True
        self.reach_f = self.reach.astype(float)
        self.base = nearest_minutes(s, p.fixed)
        self.base_reach = self.base <= s.milestone_threshold + 1e-9
        county_pos = {c: k for k, c in enumerate(s.county_ids)}
        self.county = np.array(
            [county_pos.get(str(c), -1) for c in p.site_county[s.cand]], dtype=np.int64
        )
        self.fixed_has = np.zeros(len(s.county_ids) + 1, dtype=bool)
        for c in p.site_county[p.fixed]:
            if str(c) in county_pos:
                self.fixed_has[county_pos[str(c)]] = True

    def options(self, t: int, open_: list[int], k: int) -> tuple[FloatArray, FloatArray, IntArray]:
        """Every way to add ``k`` (<= 2) sites to ``open_`` in year ``t``.

        Returns the year's shortfall, its patient-minutes and the added sites (rows).
        """
        s = self.s
        d0 = self.base.copy()
        r0 = self.base_reach.copy()
        has0 = self.fixed_has.copy()
        for j in open_:
            d0 = np.minimum(d0, self.dist[:, j])
            r0 |= self.reach[:, j]
            has0[self.county[j]] = True
        free = np.setdiff1d(np.arange(s.nc), np.asarray(open_, dtype=np.int64))
        w = s.prep.weight
        if k == 0 or free.size == 0:
            short = self._short(t, np.array([w @ r0]), has0[None, :])
            return short, np.array([w @ d0]), np.zeros((1, 0), dtype=np.int64)
        if k == 1 or free.size == 1:
            covered = w @ r0 + (w * ~r0) @ self.reach_f[:, free]
            has1 = np.repeat(has0[None, :], free.size, axis=0)
            has1[np.arange(free.size), self.county[free]] = True
            cost = w @ np.minimum(d0[:, None], self.dist[:, free])
            return self._short(t, covered, has1), cost, free[:, None]
        shorts, costs, adds = [], [], []
        for a in free.tolist():
            bs = free[free > a]
            if bs.size == 0:
                continue
            ra = r0 | self.reach[:, a]
            covered = w @ ra + (w * ~ra) @ self.reach_f[:, bs]
            has1 = np.repeat(has0[None, :], bs.size, axis=0)
            has1[:, self.county[a]] = True
            has1[np.arange(bs.size), self.county[bs]] = True
            shorts.append(self._short(t, covered, has1))
            costs.append(w @ np.minimum(np.minimum(d0, self.dist[:, a])[:, None], self.dist[:, bs]))
            adds.append(np.column_stack([np.full(bs.size, a), bs]))
        return np.concatenate(shorts), np.concatenate(costs), np.concatenate(adds)

    def _short(self, t: int, covered: FloatArray, has1: BoolArray) -> FloatArray:
        """Year ``t``'s shortfall of options: patients within reach, counties with a site."""
        s = self.s
        ph = s.periods[t]
        total_w = float(s.prep.weight.sum())
        short = np.zeros(covered.size)
        if ph.county_share_target > 0 and s.county_ids:
            n_c = len(s.county_ids)
            need = s.county_need(ph.county_share_target)
            short += np.maximum(need - has1[:, :n_c].sum(axis=1), 0) / n_c
        if ph.patient_share_target > 0 and total_w > 0:
            short += np.maximum(ph.patient_share_target * total_w - covered, 0.0) / total_w
        return short


def _ranked(short: FloatArray, cost: FloatArray) -> IntArray:
    """Order of the options: least shortfall first, then least patient-minutes."""
    return np.lexsort((cost, np.round(short, 12)))


def yearly_start(s: Setup, shortfall_cap: float, *, deadline: float) -> BoolArray | None:
    """Return the best plan within ``shortfall_cap`` found year by year (``None``: none, or n/a)."""
    p = s.prep
    if (
        s.capacitated
        or s.kind != "p_median"
        or s.nc == 0
        or p.n * s.nc * s.nc > MAX_PAIR_WORK
        or s.cap_total_budget is not None
        or any(ph.new_sites is None or ph.budget is not None for ph in s.periods)
    ):
        return None
    cap_new = math.inf if s.cap_total_sites is None else s.cap_total_sites - int(p.fixed.sum())
    slots: list[int] = []
    for ph in s.periods:
        room = cap_new - sum(slots)
        slots.append(int(max(min(int(ph.new_sites or 0), room, s.nc - sum(slots)), 0)))
    years = _Years(s)
    first = _adds(years, 0, [], slots[0], keep=STARTS)
    best: tuple[float, BoolArray] | None = None
    for sites in first:
        if time.perf_counter() > deadline:
            break
        open_ = list(sites)
        y = np.zeros((s.n_periods, s.nc), dtype=bool)
        y[0, open_] = True
        for t in range(1, s.n_periods):
            added = _adds(years, t, open_, slots[t], keep=1)
            open_ += added[0] if added else []
            y[t, open_] = True
        if shortfall_of(s, y) > shortfall_cap - 1e-7:
            continue
        values = true_values(s, y)
        if values is None:
            continue
        value = float(np.dot(s.weights, values))
        if best is None or value < best[0]:
            best = (value, y)
    return None if best is None else best[1]


def _adds(years: _Years, t: int, open_: list[int], k: int, *, keep: int) -> list[list[int]]:
    """Return the ``keep`` best ways to open ``k`` more sites in year ``t`` (above 2: singly)."""
    if k <= 2:
        short, cost, adds = years.options(t, open_, k)
        return [adds[i].tolist() for i in _ranked(short, cost)[:keep].tolist()]
    out: list[list[int]] = []
    for start in _adds(years, t, open_, 1, keep=keep):
        chosen = list(start)
        for _ in range(k - 1):
            more = _adds(years, t, open_ + chosen, 1, keep=1)
            if not more:
                break
            chosen += more[0]
        out.append(chosen)
    return out


# --------------------------------------------------------------------------- bound
#: Subgradient steps of each first-year set's bound.
BOUND_ITERATIONS = 150


def milestone_bound(
    s: Setup, shortfall_cap: float, *, upper: float, deadline: float
) -> tuple[float, BoolArray | None] | None:
    r"""Return a lower bound on the p-median plan stage that sees the first year's milestones.

    Every plan within the cap opens a first-year set :math:`P` (:math:`K_1 \le 2` new sites)
    whose first-year shortfall plus the counting bound of the later years' shortfalls
    (:func:`~planning.models._periods.shortfall_lower_bound`, year by year) is within the cap:
    the admissible sets, all enumerated. Its value is at least

    .. math:: \omega_1 f_1(P) + \sum_{t > 1} \omega_t \, L^t_P(\lambda^t),\quad
       L^t_P(\lambda) = \sum_i \min(\lambda_i, e^P_i)
       + \min_{|S| \le K_t - K_1} \sum_{j \in S} \sum_i \min(0, c_{ij} - \lambda_i)

    for any :math:`\lambda`: :math:`f_1` the first year's patient-minutes, :math:`c_{ij}` the
    weighted minutes (capped at :math:`U`), :math:`e^P_i` the point's cost with :math:`P` and
    the existing sites open (a Lagrangian bound of the year's p-median with :math:`P` open;
    nesting beyond the first year and the later milestones dropped). The bound is the least of
    these over the admissible sets; the sets with the least bound get their own multipliers
    (subgradient steps) until the deadline, and each bound is evaluated exactly at the
    multipliers at hand.

    The first-year sets whose bound is below ``upper`` (a plan's value) are then branched on
    the same way: each second-year set (at most two new sites) that keeps the shortfall
    within the cap, the years after by their Lagrangian bounds, and so on; the last year's
    sets are evaluated exactly, and the best of them below ``upper`` becomes the new upper
    end (a branch-and-bound). A branch replaces its set's bound by the least of its own (the
    larger of the two is kept; both are valid). Returns the bound and the best plan found
    below ``upper`` (``None``: none); ``None`` when it does not apply (see
    :func:`yearly_start`) or the first year opens more than two sites.
    """
    p = s.prep
    if (
        s.capacitated
        or s.kind != "p_median"
        or s.nc == 0
        or s.n_periods < 2
        or p.n * s.nc * s.nc > MAX_PAIR_WORK
        or s.cap_total_budget is not None
        or any(ph.new_sites is None or ph.budget is not None for ph in s.periods)
    ):
        return None
    cap_new = math.inf if s.cap_total_sites is None else s.cap_total_sites - int(p.fixed.sum())
    sizes = []
    total = 0
    for ph in s.periods:
        total += int(ph.new_sites or 0)
        sizes.append(int(min(total, cap_new, s.nc)))
    if sizes[0] > 2:
        return None
    years = _Years(s)
    w = p.weight
    cost = w[:, None] * years.dist  # c_ij
    base = w * years.base
    lam0 = np.minimum(base, np.sort(cost, axis=1)[:, min(1, s.nc - 1)])
    search = _YearSearch(
        s=s,
        years=years,
        cost=cost,
        sizes=sizes,
        later=_county_lower_bounds(s),
        cap=shortfall_cap,
        upper=upper,
        deadline=deadline,
    )
    got = search.least(0, [], 0.0, 0.0, base, [lam0] * s.n_periods, ())
    if got is None:
        return None
    plan = None
    if search.best is not None:
        plan = np.zeros((s.n_periods, s.nc), dtype=bool)
        for t, sites in enumerate(search.best):
            plan[t, list(sites)] = True
    return got, plan


@dataclass
class _YearSearch:
    """Depth-first search over the years' new sites with Lagrangian bounds (see above)."""

    s: Setup
    years: _Years
    cost: FloatArray
    sizes: list[int]
    later: list[float]  # per year, the county counting bound of its shortfall
    cap: float
    upper: float  # the best plan's value: lowered by the plans the search completes
    deadline: float
    best: list[tuple[int, ...]] | None = None  # open candidates of each year of that plan

    def least(  # noqa: PLR0917 - internal recursion
        self,
        t: int,
        open_: list[int],
        value: float,
        short: float,
        fallback: FloatArray,
        lams: list[FloatArray],
        chain: tuple[tuple[int, ...], ...],
    ) -> float | None:
        """Least bound of the plans whose years before ``t`` open ``open_`` (``None``: n/a).

        ``value``/``short``: those years' weighted patient-minutes and shortfall;
        ``fallback``: each point's cost with ``open_`` and the existing sites open.
        """
        s = self.s
        n_t = s.n_periods
        k = self.sizes[t] - (self.sizes[t - 1] if t else 0)
        if k > 2:
            return None if t == 0 else self._lagrangian(t, value, fallback, lams)
        short_t, cost_t, adds = self.years.options(t, open_, k)
        ok = short + short_t + sum(self.later[t + 1 :]) <= self.cap + 1e-9
        if not ok.any():
            return math.inf  # no plan within the cap continues this way
        adds, short_t = adds[ok], short_t[ok]
        fixed = value + float(s.weights[t]) * cost_t[ok]
        if t < n_t - 1 and adds.shape[0] * fallback.size > MAX_LEVEL_CELLS:
            return None if t == 0 else self._lagrangian(t, value, fallback, lams)
        if t == n_t - 1:  # complete plans: exact
            a = int(np.argmin(fixed))
            if fixed[a] < self.upper:
                self.upper = float(fixed[a])
                self.best = [*chain, (*open_, *adds[a].tolist())]
            return float(fixed[a])
        rows = np.vstack(
            [
                np.minimum(fallback, self.cost[:, r].min(axis=1)) if r.size else fallback
                for r in adds
            ]
        )
        ks = [self.sizes[u] - self.sizes[t] for u in range(t + 1, n_t)]
        totals, lams_t = _tuned(
            self.cost, rows, fixed, ks, s.weights[t + 1 :], lams[t + 1 :], self.deadline
        )
        lams_t = [*lams[: t + 1], *lams_t]
        done = np.zeros(totals.size, dtype=bool)
        tol = 0.5e-6 * max(1.0, abs(self.upper))
        while time.perf_counter() < self.deadline:
            a = int(np.argmin(totals))
            if done[a] or totals[a] >= self.upper - tol:
                break
            done[a] = True
            deeper = self.least(
                t + 1,
                [*open_, *adds[a].tolist()],
                float(fixed[a]),
                short + float(short_t[a]),
                rows[a],
                lams_t,
                (*chain, (*open_, *adds[a].tolist())),
            )
            if deeper is not None:
                totals[a] = max(totals[a], deeper)
        return float(totals.min())

    def _lagrangian(
        self, t: int, value: float, fallback: FloatArray, lams: list[FloatArray]
    ) -> float:
        """``value`` plus the later years' Lagrangian bounds (years from ``t`` on)."""
        ks = [self.sizes[u] - self.sizes[t - 1] for u in range(t, self.s.n_periods)]
        totals, _ = _tuned(
            self.cost,
            fallback[None, :],
            np.array([value]),
            ks,
            self.s.weights[t:],
            lams[t:],
            self.deadline,
        )
        return float(totals[0])


def _tuned(  # noqa: PLR0917 - internal
    cost: FloatArray,
    fallback: FloatArray,
    fixed: FloatArray,
    ks: list[int],
    weights: FloatArray,
    lams: list[FloatArray],
    deadline: float,
) -> tuple[FloatArray, list[FloatArray]]:
    """Per row of ``fallback``: ``fixed`` plus the weighted bounds of the later years.

    Year ``u`` opens ``ks[u]`` more sites; its bound is the best of :func:`_bounds_at` at the
    multipliers ``lams[u]`` and at those tuned (:func:`_refine`) for the row with the least
    total, again and again until that row has its own (or the deadline). Returns the totals
    and the last multipliers of each year.
    """
    lams = [lam.copy() for lam in lams]
    parts = np.zeros((fallback.shape[0], len(ks)))
    for u, k in enumerate(ks):
        parts[:, u] = _bounds_at(cost, fallback, lams[u], k)
    totals = fixed + parts @ weights
    own = np.zeros(totals.size, dtype=bool)
    while ks and time.perf_counter() < deadline:
        a = int(np.argmin(totals))
        if own[a]:
            break  # the least already has its own multipliers
        for u, k in enumerate(ks):
            lams[u] = _refine(cost, fallback[a], lams[u], k, deadline)
            # multipliers tuned for one row are good for the others too: all at them
            parts[:, u] = np.maximum(parts[:, u], _bounds_at(cost, fallback, lams[u], k))
        own[a] = True
        totals = fixed + parts @ weights
    return totals, lams


def _bounds_at(cost: FloatArray, fallback: FloatArray, lam: FloatArray, k: int) -> FloatArray:
    r"""Return :math:`L_P(\lambda)` of every row of ``fallback`` at ``lam`` (``k`` more sites)."""
    rho = np.minimum(cost - lam[:, None], 0.0).sum(axis=0)
    best_k = float(np.sort(rho)[:k].sum()) if k > 0 else 0.0
    out: FloatArray = np.minimum(lam[None, :], fallback).sum(axis=1) + best_k
    return out


def _refine(
    cost: FloatArray, fallback: FloatArray, lam: FloatArray, k: int, deadline: float
) -> FloatArray:
    """Return multipliers tuned for one first-year set (subgradient steps of ``_branch``).

    The fallback is a column always open; ``k`` of the candidates open. The step's target is
    the cost of the set completed greedily (a plan of the year).
    """
    n, m = cost.shape
    near = fallback.copy()
    for _ in range(k):
        near = np.minimum(
            near, cost[:, int(np.argmin(np.minimum(near[:, None], cost).sum(axis=0)))]
        )
    c = np.column_stack([cost, fallback])
    got = subgradient(
        c,
        np.minimum(lam, fallback),
        np.array([m], dtype=np.int64),
        np.arange(m, dtype=np.int64),
        k,
        upper=float(near.sum()),
        margin=0.0,
        iterations=BOUND_ITERATIONS,
        end=deadline,
    )
    del n
    return got.lam


def _county_lower_bounds(s: Setup) -> list[float]:
    """Per year, the county part of :func:`~planning.models._periods.shortfall_lower_bound`."""
    p = s.prep
    out = [0.0] * s.n_periods
    if not s.county_ids:
        return out
    county_set = set(s.county_ids)
    has_fixed = {str(c) for c in p.site_county[p.fixed]} & county_set
    reachable = ({str(c) for c in p.site_county[s.cand]} & county_set) - has_fixed
    max_new = s.nc if s.cap_total_sites is None else s.cap_total_sites - int(p.fixed.sum())
    opened: float = 0.0
    for t, ph in enumerate(s.periods):
        opened = math.inf if ph.new_sites is None else opened + ph.new_sites
        reach = len(has_fixed) + min(opened, max_new, len(reachable))
        if ph.county_share_target > 0:
            need = s.county_need(ph.county_share_target)
            out[t] = max(need - reach, 0) / len(s.county_ids)
    return out
