"""Rollout stages proven without (or besides) their MIP: year orderings, the nested search.

Used by :mod:`planning.models.rollout` (see its Notes, "Solving"): stage 1 of an LSCP rollout
from the last year's one-shot MCLP plan ordered into years (:func:`shortfall_by_years`), and
stage 2 of an uncapacitated p-median or MCLP rollout by the exact nested search of
:mod:`planning.models._nested` next to the MIP (:func:`plan_stage`; the p-median from the
year-by-year start and bound of :mod:`planning.models._yearly`), and of an uncapacitated
p-center by radius probes (:mod:`planning.models._covers`) and cover MIPs.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import time
import warnings
from typing import Protocol

import numpy as np

from planning.errors import PlanningError
from planning.models._covers import CoverProbe
from planning.models._dispatch import solve as solve_one_shot
from planning.models._mip import BoolArray, IntArray
from planning.models._nested import (
    NestedProblem,
    NestedResult,
    nested_plan,
    opening_periods,
    solve_nested,
)
from planning.models._periods import (
    Setup,
    coverable_weight,
    nearest_minutes,
    nested_problem,
    shortfall_of,
    true_values,
)
from planning.models._yearly import milestone_bound, yearly_start
from planning.models.base import ModelInput, Solution

logger = logging.getLogger(__name__)

#: The plan stage's answer: plan, period values, status, gap, seconds, solver, lazy rounds.
PlanOut = tuple[BoolArray, list[float], str, float | None, float, str, int]


class SolveMip(Protocol):
    """The plan-stage MIP of :mod:`planning.models.rollout`."""

    def __call__(
        self, s: Setup, *, shortfall_cap: float, start_y: BoolArray | None, time_limit_s: float
    ) -> PlanOut: ...


class CoverCheck(Protocol):
    """A radius check of :mod:`planning.models.rollout`.

    A plan within the shortfall cap whose last year opens one candidate of each cover row:
    ``True`` and the plan; ``False``: proven none; ``None``: not finished.
    """

    def __call__(
        self, s: Setup, cover: tuple[IntArray, IntArray], shortfall_cap: float, time_limit_s: float
    ) -> tuple[bool | None, BoolArray | None]: ...


#: Most orderings of the last year's sites into opening years that stage 1 tries.
MAX_ORDERINGS = 5000


def shortfall_by_years(data: ModelInput, s: Setup, lower: float) -> tuple[float, BoolArray] | None:
    """Stage 1 proven without its MIP, by the last year's one-shot MCLP (or ``None``).

    The last year's "everyone coverable, covered" milestone (LSCP) is short by at least the
    coverable patients less the best coverage of the one-shot MCLP with the last year's
    number of sites (its proven bound): added to the county-counting bound, a valid lower bound
    on the shortfall. The one-shot plan's sites, ordered into the years every possible way
    (uncapacitated, no budgets, a new-site limit each year, at most ``MAX_ORDERINGS``), give
    plans; one whose shortfall meets the bound is the smallest shortfall, proven.
    """
    p = s.prep
    if (
        s.kind != "lscp"
        or s.capacitated
        or s.cap_total_budget is not None
        or any(ph.new_sites is None or ph.budget is not None for ph in s.periods)
    ):
        return None
    slots = [int(ph.new_sites or 0) for ph in s.periods]
    n_fixed = int(p.fixed.sum())
    n_new = (
        sum(slots) if s.cap_total_sites is None else min(sum(slots), s.cap_total_sites - n_fixed)
    )
    one = _one_shot(data, s, kind="mclp", p=n_fixed + n_new)
    if one is None:
        return None
    upper = one.objective if one.status == "optimal" else one.bound
    if upper is None or not math.isfinite(upper):
        return None
    total_w = float(p.weight.sum())
    coverable = coverable_weight(s, p.threshold)
    bound = lower + max(coverable - float(upper), 0.0) / max(total_w, 1e-12)
    pos = {str(v): k for k, v in enumerate(p.site_ids[s.cand])}
    chosen = [pos[v] for v in one.selected_sites if v in pos]
    if len(chosen) > n_new:
        return None
    for y in orderings(np.array(chosen, dtype=np.int64), slots, s.nc, limit=MAX_ORDERINGS):
        short = shortfall_of(s, y)
        if short <= bound + 1e-9:
            return short, y
    return None


def orderings(chosen: IntArray, slots: list[int], nc: int, *, limit: int) -> list[BoolArray]:
    """Nested plans opening the ``chosen`` candidates, at most ``slots[t]`` in year ``t``."""
    out: list[BoolArray] = []

    def rec(t: int, left: tuple[int, ...], y: BoolArray) -> None:
        if len(out) >= limit:
            return
        if t == len(slots):
            if not left:
                out.append(y.copy())
            return
        take = min(slots[t], len(left))
        for pick in itertools.combinations(left, take):
            y[t:, list(pick)] = True
            rec(t + 1, tuple(v for v in left if v not in pick), y)
            y[t:, list(pick)] = False

    rec(0, tuple(int(v) for v in chosen), np.zeros((len(slots), nc), dtype=bool))
    return out


#: Models whose plan stage has an exact path besides the MIP: the nested search (MCLP,
#: p-median), the year-by-year bound (p-center). HiGHS runs only: CBC, when chosen, solves the
#: MIP alone.
EXACT_MODELS: frozenset[str] = frozenset({"mclp", "p_median", "p_center"})
#: Share of the time limit the exact nested search gets before the MIP (p-median; at 1 the
#: MIP does not run: on Putian HiGHS does not finish the radius MIP's root LP in 60 s, and
#: building it alone takes seconds), and the share kept for it after a MIP that did not prove
#: its plan (MCLP).
NESTED_FIRST_SHARE = 1.0
NESTED_AFTER_SHARE = 0.15
#: Share of the time limit the year-by-year start of the p-median may take
#: (:func:`~planning.models._yearly.yearly_start`).
YEARLY_SHARE = 0.1
#: Share of the time limit the p-median's first-year bound may take
#: (:func:`~planning.models._yearly.milestone_bound`).
BOUND_SHARE = 0.1


def plan_stage(
    s: Setup,
    *,
    shortfall_cap: float,
    start_y: BoolArray | None,
    solve_mip: SolveMip,
    data: ModelInput | None = None,
    check: CoverCheck | None = None,
) -> PlanOut:
    """Stage 2: the exact nested search (:mod:`~planning.models._nested`) and/or the MIP.

    Uncapacitated p-median without budgets: the nested search first (its Lagrangian bound is
    far tighter than what HiGHS reaches on the radius MIP), for ``NESTED_FIRST_SHARE`` of the
    time limit; when it does not finish, the MIP continues from its plan in the time left.
    MCLP: the MIP first; when it does not prove its plan, the nested
    search continues from it. Both bounds are valid, so the better one gives the gap.
    ``solve_mip(s, shortfall_cap=, start_y=, time_limit_s=)`` solves the plan-stage MIP.
    Uncapacitated p-center: :func:`_center_stage` (with ``data``).
    """
    limit = s.opts.time_limit_s
    exact = s.kind in EXACT_MODELS and s.opts.solver == "highs"
    if s.kind == "p_center" and data is not None and exact:
        return _center_stage(data, s, shortfall_cap, start_y, solve_mip, check)
    use = start_y is not None and exact
    prob = nested_problem(s) if use else None
    if prob is None or start_y is None:
        return solve_mip(s, shortfall_cap=shortfall_cap, start_y=start_y, time_limit_s=limit)

    def accept(o: IntArray) -> bool:
        return shortfall_of(s, nested_plan(o, s.n_periods)) <= shortfall_cap - 1e-7

    total_w = float(s.prep.weight[s.prep.weight > 0].sum())
    full = float(s.weights.sum()) * total_w  # MCLP: coverage = full - cost

    def margin(cost: float) -> float:
        value = full - cost if s.kind == "mclp" else cost
        return 0.5e-6 * max(1.0, abs(value))

    t0 = time.perf_counter()
    o = opening_periods(start_y)
    found: NestedResult | None = None
    if s.kind == "p_median":
        alt = yearly_start(s, shortfall_cap, deadline=t0 + YEARLY_SHARE * limit)
        if alt is not None and prob.value(opening_periods(alt)) < prob.value(o):
            o = opening_periods(alt)
        got = milestone_bound(
            s,
            shortfall_cap,
            upper=prob.value(o),
            deadline=t0 + (YEARLY_SHARE + BOUND_SHARE) * limit,
        )
        first = None if got is None else got[0]
        if got is not None and got[1] is not None:  # the bound's search found a better plan
            alt_o = opening_periods(got[1])
            if accept(alt_o) and prob.value(alt_o) < prob.value(o):
                o = alt_o
        share = NESTED_FIRST_SHARE * limit - (time.perf_counter() - t0)
        start_value = prob.value(o)
        if first is not None and start_value - first <= margin(start_value) and accept(o):
            # the first-year bound proves the start: no search needed
            found = NestedResult(finished=True, o=o, value=start_value, bound=first, nodes=0)
        else:
            found = solve_nested(
                prob, start=o, accept=accept, margin=margin(start_value), time_limit_s=share
            )
        o = found.o
        low = max(found.bound, -math.inf if first is None else first)
        if found.finished or found.value - low <= margin(found.value):  # proven
            return nested_out(s, prob, found, time.perf_counter() - t0)
        if NESTED_FIRST_SHARE >= 1.0:  # no time left for a MIP: the search's plan and gap
            y = nested_plan(o, s.n_periods)
            values = nested_values(s, prob, o)
            own = max(found.value - low, 0.0) / max(abs(found.value), 1e-10)
            return y, values, "feasible", own, time.perf_counter() - t0, "lagrangian", 0
        start_y = nested_plan(o, s.n_periods)
    mip_limit = limit - (time.perf_counter() - t0)
    if s.kind == "mclp":
        mip_limit = (1.0 - NESTED_AFTER_SHARE) * limit
    y, values, status, gap, plan_time, solver, rounds = solve_mip(
        s, shortfall_cap=shortfall_cap, start_y=start_y, time_limit_s=mip_limit
    )
    if status == "optimal":
        return y, values, status, gap, plan_time, solver, rounds
    o = opening_periods(y)
    if s.kind == "mclp":
        rest = limit - (time.perf_counter() - t0)
        found = solve_nested(
            prob, start=o, accept=accept, margin=margin(prob.value(o)), time_limit_s=rest
        )
        if found.value < prob.value(o) - 1e-9 * max(1.0, abs(found.value)):
            y = nested_plan(found.o, s.n_periods)
            values = nested_values(s, prob, found.o)
    assert found is not None  # noqa: S101 - one of the two searches ran
    cost = prob.value(opening_periods(y))
    objective = float(np.dot(s.weights, values))
    nested_gap = max(cost - found.bound, 0.0) / max(abs(objective), 1e-10)
    if gap is None or nested_gap < gap:
        gap = nested_gap
    if cost - found.bound <= 1e-6 * max(1.0, abs(objective)) or (
        found.finished and found.value <= cost + 1e-9 * max(1.0, abs(cost))
    ):
        status, gap = "optimal", 0.0
    return y, values, status, gap, time.perf_counter() - t0, solver, rounds


def nested_values(s: Setup, prob: NestedProblem, o: IntArray) -> list[float]:
    """Each period's model value of the nested plan ``o`` (covered patients or minutes)."""
    costs = prob.period_costs(o)
    if s.kind == "mclp":
        total_w = float(s.prep.weight[s.prep.weight > 0].sum())
        return [total_w - c for c in costs]
    return costs


def nested_out(s: Setup, prob: NestedProblem, found: NestedResult, elapsed: float) -> PlanOut:
    """Return the plan stage's answer when the nested search proved its plan."""
    y = nested_plan(found.o, s.n_periods)
    return y, nested_values(s, prob, found.o), "optimal", 0.0, elapsed, "lagrangian", 0


def _one_shot(
    data: ModelInput, s: Setup, *, kind: str, p: int | None, **kw: float
) -> Solution | None:
    """Solve the one-shot model ``kind`` with ``p`` sites and none of the rollout's side rules."""
    changes: dict[str, object] = {
        "kind": kind,
        "p": p,
        "budget": None,
        "site_in_every_county": False,
        "min_county_share": None,
        "county_target": None,
        "hub_per_prefecture": False,
        # a quarter of the stage's time at most (p-center runs up to three before its MIP,
        # which gets what is left): the stage keeps its limit
        "time_limit_s": min(0.25 * s.opts.time_limit_s, 10.0),
    }
    changes.update(kw)
    opts = s.opts.replace(**changes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return solve_one_shot(data, opts)
    except PlanningError:
        return None


def _center_stage(  # noqa: PLR0917 - the plan stage's arguments
    data: ModelInput,
    s: Setup,
    shortfall_cap: float,
    start_y: BoolArray | None,
    solve_mip: SolveMip,
    check: CoverCheck | None = None,
) -> PlanOut:
    r"""Uncapacitated p-center: a bound and a plan from the one-shot models, year by year.

    Year :math:`t` has at most :math:`P_t` sites (existing ones and the yearly new-site limits
    summed). When fewer than the one-shot LSCP's proven least number of sites that reach every
    patient through the travel table, some patient has no open site in the table in every
    plan: the year's radius is the penalty :math:`U`; otherwise it is at least the one-shot
    p-center's proven bound with :math:`P_t` sites. :math:`\sum_t \omega_t` of these is a
    valid bound (milestones and nesting dropped). The last year's one-shot p-center plan,
    ordered into years every way (at most ``MAX_ORDERINGS``), gives plans; the best within
    the shortfall cap starts the MIP, or is proven by the bound without it.

    When only the last year is free (every earlier year at :math:`U` in every plan), the rest
    is a p-center of the last year under the milestones and nesting: :func:`_radius_search`
    proves it by radius checks (``check``), without the MIP.
    """
    t0 = time.perf_counter()
    limit = s.opts.time_limit_s
    p = s.prep
    out = None
    if (
        not s.capacitated
        and s.cap_total_budget is None
        and all(ph.new_sites is not None and ph.budget is None for ph in s.periods)
    ):
        out = _center_by_years(data, s, shortfall_cap)
    if out is None:
        return solve_mip(s, shortfall_cap=shortfall_cap, start_y=start_y, time_limit_s=limit)
    y_best, bound, free_low = out
    if y_best is not None:
        start_y = y_best
    if check is not None and free_low is not None and start_y is not None:
        deadline = t0 + limit
        found = _radius_search(s, shortfall_cap, start_y, free_low, check, deadline)
        if found is not None:
            y_r, status_r, bound_r = found
            values_r = true_values(s, y_r)
            assert values_r is not None  # noqa: S101 - uncapacitated p-center
            value_r = float(np.dot(s.weights, values_r))
            low_r = max(bound, bound_r)
            gap_r = (
                0.0 if status_r == "optimal" else max(value_r - low_r, 0.0) / max(value_r, 1e-10)
            )
            return y_r, values_r, status_r, gap_r, time.perf_counter() - t0, s.opts.solver, 0
    values = true_values(s, start_y) if start_y is not None else None
    if values is not None:
        value = float(np.dot(s.weights, values))
        if value - bound <= 1e-6 * max(1.0, abs(value)):
            assert start_y is not None  # noqa: S101 - values exist only with a plan
            return start_y, values, "optimal", 0.0, time.perf_counter() - t0, s.opts.solver, 0
    rest = max(limit - (time.perf_counter() - t0), 0.05)
    y, values, status, gap, _, solver, rounds = solve_mip(
        s, shortfall_cap=shortfall_cap, start_y=start_y, time_limit_s=rest
    )
    value = float(np.dot(s.weights, values))
    own_gap = max(value - bound, 0.0) / max(abs(value), 1e-10)
    if status != "optimal" and (gap is None or own_gap < gap):
        gap = own_gap
        if value - bound <= 1e-6 * max(1.0, abs(value)):
            status, gap = "optimal", 0.0
    del p
    return y, values, status, gap, time.perf_counter() - t0, solver, rounds


def _center_by_years(
    data: ModelInput, s: Setup, shortfall_cap: float
) -> tuple[BoolArray | None, float, float | None] | None:
    """Return the p-center bound and the best ordering of the last year's plan (see above).

    Third: when only the last year is free (the others at ``U`` in every plan), its radius
    bound (else ``None``).
    """
    p = s.prep
    n_fixed = int(p.fixed.sum())
    slots = [int(ph.new_sites or 0) for ph in s.periods]
    cap_new = math.inf if s.cap_total_sites is None else s.cap_total_sites - n_fixed
    sizes = [n_fixed + int(min(sum(slots[: t + 1]), cap_new)) for t in range(len(slots))]
    reach_all = _one_shot(
        data, s, kind="lscp", p=None, max_travel_min=float(p.pt.max()) if p.pt.size else 1.0
    )
    least = _proven_low(reach_all)
    if least is None:
        return None
    radius: dict[int, Solution | None] = {}
    bound = 0.0
    free_low: float | None = None
    for t, size in enumerate(sizes):
        if size < least - 1e-9:
            bound += float(s.weights[t]) * s.unserved_penalty_min
            continue
        if size not in radius:
            radius[size] = _one_shot(data, s, kind="p_center", p=size)
        low = _proven_low(radius[size])
        if low is None:
            return None
        bound += float(s.weights[t]) * min(low, s.unserved_penalty_min)
        if t == len(sizes) - 1 and all(z < least - 1e-9 for z in sizes[:-1]):
            free_low = min(low, s.unserved_penalty_min)
    best: tuple[float, BoolArray] | None = None
    pos = {str(v): k for k, v in enumerate(p.site_ids[s.cand])}
    plans = [radius.get(sizes[-1])]
    ys = [
        y
        for last in plans
        if last is not None
        for y in orderings(
            np.array([pos[v] for v in last.selected_sites if v in pos], dtype=np.int64),
            slots,
            s.nc,
            limit=MAX_ORDERINGS,
        )
    ]
    for y in ys:
        if shortfall_of(s, y) > shortfall_cap - 1e-7:
            continue
        value = float(np.dot(s.weights, true_values(s, y) or [math.inf]))
        if best is None or value < best[0]:
            best = (value, y)
    return (None if best is None else best[1]), bound, free_low


#: Share of the time left that one radius check may take (MIP), one cover probe may take.
CHECK_SHARE = 0.5
COVER_SHARE = 0.5
#: Whether the radius search probes by cover enumeration (:mod:`~planning.models._covers`)
#: before its MIP checks.
COVER_PROBES = True
#: First cover probe at ``low * (1 + LADDER_STEP)``; the step doubles after each "no".
LADDER_STEP = 0.02


def _radius_search(  # noqa: PLR0917 - internal, one caller
    s: Setup,
    shortfall_cap: float,
    start_y: BoolArray,
    low: float,
    check: CoverCheck,
    deadline: float,
) -> tuple[BoolArray, str, float] | None:
    r"""Find the last year's least radius under the milestones and nesting, by bisection.

    Every earlier year is at :math:`U` in every plan, so a plan's value is
    :math:`\sum_{t<T} \omega_t U + \omega_T r_T`. The radii a plan can have are the travel
    times of candidate pairs, each point's nearest existing site and :math:`U`; the search
    bisects those in ``[low, r_T(start))`` (``low``: the one-shot p-center's proven bound;
    after a check that finds a plan, the next asks for a radius just below that plan's, so a
    least radius is often proven by one more check): a check that finds a plan lowers the
    upper end to that plan's radius, one proven
    impossible raises the lower end past it, one that did not finish stops the search (a
    feasible plan with the bound reached). Returns the plan, its status and the bound.

    Before the MIP checks (``COVER_PROBES``), probes by cover enumeration
    (:class:`~planning.models._covers.CoverProbe`) climb from the lower end (the first at
    ``low * (1 + LADDER_STEP)``, the step doubling after each "no"): a probe at :math:`r`
    that finds plans returns the least radius of all plans (every plan with a radius up to
    :math:`r` is among its covers), proven at once; "no" raises the lower end; a probe
    that runs out of time or covers hands over to the MIP checks from there.
    """
    p = s.prep
    big_u = s.unserved_penalty_min
    w_last = float(s.weights[-1])
    fixed_part = float(s.weights[:-1].sum()) * big_u
    dem = np.flatnonzero(p.weight > 0)
    base = nearest_minutes(s, p.fixed)
    values = true_values(s, start_y)
    if values is None or dem.size == 0:
        return None
    best_y, best_r = start_y, float(values[-1])
    if any(v < big_u - 1e-9 for v in values[:-1]):
        return None  # an earlier year below U: the bound's premise fails
    ok = (s.cand_of[p.pj] >= 0) & (p.weight[p.pi] > 0)
    ci, ck, ct = p.pi[ok], s.cand_of[p.pj[ok]], p.pt[ok]
    radii = np.unique(np.concatenate([ct, base[dem], [big_u]]))
    radii = radii[(radii >= low - 1e-9) & (radii < best_r - 1e-9)]
    logger.info("radius search in [%.3f, %.3f): %d radii", low, best_r, radii.size)
    status = "optimal"
    probe_top = False  # after a plan is found, first ask whether its radius is the least
    relax = True  # try the last-year relaxation first (until it decides nothing)
    covers = CoverProbe.of(s, shortfall_cap) if COVER_PROBES else None
    step = LADDER_STEP
    while radii.size and covers is not None:
        # probes by cover enumeration, from the lower end up (cheapest first): a "yes" is the
        # least radius of all plans (proven); a "no" raises the lower end; undecided: MIP checks
        r = float(
            radii[min(int(np.searchsorted(radii, low * (1 + step), "right")), radii.size) - 1]
        )
        r = max(r, float(radii[0]))
        left = deadline - time.perf_counter()
        if left <= 0.05:
            return best_y, "feasible", fixed_part + w_last * min(low, best_r)
        found_c, y_c, r_c = covers.probe(r, time.perf_counter() + COVER_SHARE * left)
        logger.info("radius probe %.3f min by covers (%d left): %s", r, radii.size, found_c)
        if found_c is None:
            break
        if found_c and y_c is not None:
            if r_c < best_r - 1e-9:
                best_y, best_r = y_c, r_c
            return best_y, "optimal", fixed_part + w_last * best_r
        radii = radii[radii > r + 1e-9]
        low = float(radii[0]) if radii.size else best_r
        step *= 2.0
    while radii.size:
        r = float(radii[-1] if probe_top else radii[radii.size // 2])
        need = dem[base[dem] > r + 1e-9]
        sel = (ct <= r + 1e-9) & (base[ci] > r + 1e-9)
        rows = np.searchsorted(need, ci[sel])
        if np.setdiff1d(need, ci[sel]).size:
            found: bool | None = False  # a point no candidate reaches within r
            y = None
        else:
            left = deadline - time.perf_counter()
            if left <= 0.05:
                status = "feasible"
                break
            found, y, relax = _check_fast(
                s, (rows, ck[sel]), shortfall_cap, CHECK_SHARE * left, check, relax=relax
            )
        logger.info("radius check %.3f min (%d left): %s", r, radii.size, found)
        if found is None:
            status = "feasible"
            break
        if found:
            r_y = None if y is None else true_values(s, y)
            if y is None or r_y is None or r_y[-1] > r + 1e-9 or shortfall_of(s, y) > shortfall_cap:
                status = "feasible"  # the check's plan does not hold up: it proves nothing
                break
            if r_y[-1] < best_r - 1e-9:
                best_y, best_r = y, float(r_y[-1])
            radii = radii[radii < best_r - 1e-9]
            probe_top = not probe_top
        else:
            probe_top = False
            radii = radii[radii > r + 1e-9]
            low = float(radii[0]) if radii.size else best_r
    bound_r = best_r if status == "optimal" else min(low, best_r)
    return best_y, status, fixed_part + w_last * bound_r


def _check_fast(
    s: Setup,
    cover: tuple[IntArray, IntArray],
    shortfall_cap: float,
    time_limit_s: float,
    check: CoverCheck,
    *,
    relax: bool = True,
) -> tuple[bool | None, BoolArray | None, bool]:
    """Run a radius check on the last year alone (a relaxation), then on every year.

    The last year alone with every new site (its milestones within the whole shortfall cap)
    is a relaxation: no plan there, none at all. Its plan, ordered into the years every way,
    may meet the cap: then it is a plan of the whole. Otherwise the full check decides. The
    third value says whether to try the relaxation next time (not after it decided nothing).
    """
    t0 = time.perf_counter()
    if not relax:
        return (*check(s, cover, shortfall_cap, time_limit_s), False)
    slots = [int(ph.new_sites or 0) for ph in s.periods]
    last = dataclasses.replace(s.periods[-1], new_sites=sum(slots), budget=None)
    alone = dataclasses.replace(s, periods=(last,), weights=np.ones(1))
    found, y1 = check(alone, cover, shortfall_cap, 0.5 * time_limit_s)
    if found is False:
        return False, None, True
    if found and y1 is not None:
        chosen = np.flatnonzero(y1[-1]).astype(np.int64)
        for y in orderings(chosen, slots, s.nc, limit=MAX_ORDERINGS):
            if shortfall_of(s, y) <= shortfall_cap - 1e-9:
                return True, y, True
    left = time_limit_s - (time.perf_counter() - t0)
    if left <= 0.05:
        return None, None, False
    return (*check(s, cover, shortfall_cap, left), False)


def _proven_low(sol: Solution | None) -> float | None:
    """Return a proven lower bound of a minimising one-shot solution (``None``: none)."""
    if sol is None:
        return None
    low = sol.objective if sol.status == "optimal" else sol.bound
    return float(low) if low is not None and math.isfinite(low) else None
