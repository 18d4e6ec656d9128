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
"""

from __future__ import annotations

import math
import time

import numpy as np

from planning.models._heuristic import MAX_DENSE_CELLS
from planning.models._mip import BoolArray, FloatArray, IntArray
from planning.models._periods import Setup, nearest_minutes, shortfall_of, true_values

#: First years tried.
STARTS = 20


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
        if k == 0 or free.size == 0:
            short, cost = self._rate(t, d0[:, None], r0[:, None], has0[None, :])
            return short, cost, np.zeros((1, 0), dtype=np.int64)
        if k == 1 or free.size == 1:
            d1 = np.minimum(d0[:, None], self.dist[:, free])
            r1 = r0[:, None] | self.reach[:, free]
            has1 = np.repeat(has0[None, :], free.size, axis=0)
            has1[np.arange(free.size), self.county[free]] = True
            short, cost = self._rate(t, d1, r1, has1)
            return short, cost, free[:, None]
        shorts, costs, adds = [], [], []
        for a in free.tolist():
            bs = free[free > a]
            if bs.size == 0:
                continue
            d1 = np.minimum(np.minimum(d0, self.dist[:, a])[:, None], self.dist[:, bs])
            r1 = (r0 | self.reach[:, a])[:, None] | self.reach[:, bs]
            has1 = np.repeat(has0[None, :], bs.size, axis=0)
            has1[:, self.county[a]] = True
            has1[np.arange(bs.size), self.county[bs]] = True
            short, cost = self._rate(t, d1, r1, has1)
            shorts.append(short)
            costs.append(cost)
            adds.append(np.column_stack([np.full(bs.size, a), bs]))
        return np.concatenate(shorts), np.concatenate(costs), np.concatenate(adds)

    def _rate(
        self, t: int, d1: FloatArray, r1: BoolArray, has1: BoolArray
    ) -> tuple[FloatArray, FloatArray]:
        """Year ``t``'s shortfall and patient-minutes of options (columns of ``d1``, ``r1``)."""
        s = self.s
        ph = s.periods[t]
        w = s.prep.weight
        total_w = float(w.sum())
        short = np.zeros(d1.shape[1])
        if ph.county_share_target > 0 and s.county_ids:
            n_c = len(s.county_ids)
            need = s.county_need(ph.county_share_target)
            short += np.maximum(need - has1[:, :n_c].sum(axis=1), 0) / n_c
        if ph.patient_share_target > 0 and total_w > 0:
            short += np.maximum(ph.patient_share_target * total_w - w @ r1, 0.0) / total_w
        return short, w @ d1


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
        or p.n * s.nc > MAX_DENSE_CELLS
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
