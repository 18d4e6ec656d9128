r"""p-center: smallest maximum travel time with p sites.

Notes
-----
Minimise :math:`r` such that every demand point with patients is served within :math:`r`
minutes by one of :math:`p` open sites (existing ones included). A single MIP (returned by
:func:`build_p_center`) uses the radius chain of :mod:`planning.models.p_median` with unit
weights:

.. math::

    \min r \quad \text{s.t.} \quad
    r \ge D_i^0 + \sum_k (D_i^{k+1} - D_i^k)\, z_i^k \;\forall i, \qquad
    \text{chain rows}, \qquad \sum_j y_j = p.

:func:`~planning.models.solve` instead bisects over the distinct travel times :math:`D`
(from the largest "nearest site" time upwards): :math:`D` is feasible if a set of at most
:math:`p` sites serves everyone within :math:`D` (a covering MIP with every side constraint).
The smallest feasible :math:`D^*` is optimal once every smaller value tested was proven
infeasible (otherwise the answer is reported ``feasible`` with its bound). Without side
rules many values are settled without a MIP (``quick_cover_check``): a greedy cover with at
most :math:`p` sites proves "feasible", more demand points with pairwise disjoint site sets
than free places proves "infeasible"; a greedy-only bisection gives the first feasible value,
MIP checks start just below it, and each feasible plan lowers the upper end to the largest
trip it really has. Ties are broken by
a final p-median restricted to pairs within :math:`D^*` (fewest patient-minutes among the
optimal plans), which also places exactly :math:`p` sites; it starts from the plan of the
last feasible check. With county or hub rules the problem is first solved without them and
that plan kept, proven optimal, when it meets them (see :mod:`planning.models.p_median`).

At province scale (more than :data:`~planning.models._heuristic.MAX_DENSE_CELLS` cells x
sites, no side rules) a check is decided by row generation instead of the full covering MIP
(Contardo, Iori & Kramer 2019; :func:`~planning.models._setcover.decide_cover`): the cover
MIP of a subset of patients is a relaxation, so a subset needing more than the free places
proves "no"; a subset cover completed greedily within :math:`p` sites proves "yes"; a check
cut short proves nothing. The lower end (a patient's nearest candidate) is checked first:
on Fujian, p = 80, it is the optimum.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pulp
import scipy.sparse as sp

from planning._progress import Progress
from planning.i18n import Msg, MsgStr
from planning.models._blocks import (
    Formulation,
    add_side,
    allowed_pairs,
    client_levels,
    site_columns,
)
from planning.models._heuristic import MAX_DENSE_CELLS
from planning.models._mip import INF, BoolArray, MipBuilder, RawResult
from planning.models._prep import Prepared, prepare
from planning.models._radius import center_rows, radius_block
from planning.models._run import (
    Deadline,
    Infeasible,
    NoSolution,
    Outcome,
    run_solver,
    settled,
)
from planning.models._setcover import cover_rows, decide_cover, disjoint_rows, greedy_order
from planning.models._sparse import cover_csr, p_median_greedy
from planning.models.base import ModelInput, Status
from planning.models.lscp import formulate_cover
from planning.models.options import ModelOptions, ScenarioLike, as_options
from planning.models.p_median import solve_p_median


def build_p_center(data: ModelInput, options: ModelOptions | ScenarioLike) -> pulp.LpProblem:
    r"""Build (without solving) the single-MIP p-center of ``options`` on ``data``.

    Parameters
    ----------
    data
        Sparse travel minutes, demand weights and sites, keyed by ids.
    options
        ``p`` and the constraints. A :class:`~planning.scenario.Scenario` is read with
        :meth:`~planning.models.ModelOptions.from_scenario`.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` with variables ``y_<site_id>``, ``z_<k>`` and
        ``radius_min_0`` (the objective, minutes).

    Notes
    -----
    :math:`\min r` s.t. :math:`r \ge D_i^0 + \sum_k (D_i^{k+1} - D_i^k) z_i^k`, the radius
    chain rows and :math:`\sum_j y_j = p` (see the module docstring).
    """
    opts = as_options(options).replace(kind="p_center")
    prep = prepare(data, opts)
    unit = dataclasses.replace(prep, weight=(prep.weight > 0).astype(float))
    allowed = unit.openable[unit.pj]
    if opts.has_thresholds:
        allowed &= unit.covering_pairs()
    b = MipBuilder(sense="min")
    y0 = site_columns(b, unit, cost=0.0)
    chain = radius_block(b, client_levels(unit, allowed), y0 + np.arange(unit.m))
    r = b.add_cols(1, cost=1.0, prefix="radius_min")
    center_rows(b, chain, r, family="radius_max")
    add_side(b, unit, opts, y0, "p_median", None)
    prob, _ = b.build().to_pulp(f"p_center_{opts.name}")
    return prob


def quick_cover_check(prep: Prepared, pairs: BoolArray, p: int | None) -> BoolArray | bool | None:
    """Settle "can ``p`` sites serve every patient along ``pairs``?" without a MIP, if easy.

    A greedy cover (most unserved demand points first) that needs at most ``p`` sites,
    existing ones included, proves *yes* and is returned as the plan. A set of demand points
    no two of which share a free site (picked greedily, fewest sites first), more numerous
    than the free places left, proves *no* (``False``): each needs a site of its own.
    Otherwise ``None``: the MIP decides. ``pairs`` must only hold pairs to openable sites.
    """
    if p is None:
        return None
    # sparse (CSR) throughout: no size cap; same choices as on a dense matrix
    cover = cover_csr(prep.n, prep.m, prep.pi[pairs], prep.pj[pairs])
    need = (prep.weight > 0) & ~((cover @ prep.fixed.astype(np.float64)) > 0.5)
    free = np.flatnonzero(prep.openable & ~prep.fixed)
    k = p - int(prep.fixed.sum())
    c = sp.csr_matrix(cover[np.flatnonzero(need)][:, free])
    if c.shape[0] == 0:
        return prep.fixed.copy()
    if k <= 0 or (np.diff(c.indptr) == 0).any():
        return False
    # greedy with counts updated as rows get served: the choices of recounting each step
    order = greedy_order(c, np.ones(free.size, dtype=bool), max_sites=k)
    if order is not None:
        plan = prep.fixed.copy()
        plan[free[order]] = True
        return plan
    if int(disjoint_rows(c).sum()) > k:  # each of these rows needs a site of its own
        return False
    return None


def solve_p_center(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    progress: Progress | None = None,
    upper_min: float | None = None,
) -> tuple[Outcome, Formulation]:
    """p-center by bisection over distinct travel times, then a p-median tie-break.

    ``upper_min``: a radius known to be feasible (e.g. the optimum with fewer sites).
    """
    t0 = time.perf_counter()
    allowed = prep.openable[prep.pj] & (prep.weight[prep.pi] > 0)
    if opts.has_thresholds:
        allowed &= prep.pt <= prep.threshold[prep.pi] + 1e-9
    pos = np.flatnonzero(prep.weight > 0)
    nearest = np.full(prep.n, INF)
    np.minimum.at(nearest, prep.pi[allowed], prep.pt[allowed])
    lower = float(nearest[pos].max()) if pos.size else 0.0
    values = np.unique(prep.pt[allowed])
    values = values[values >= lower - 1e-9]
    if upper_min is not None:
        values = values[values <= upper_min + 1e-9]
    if values.size == 0:  # no patients: any plan serves everyone within 0 minutes
        values = np.array([lower])
    lo, hi = 0, len(values) - 1  # answer index in [lo, hi]
    # every radius below values[proven_lo] was proven infeasible: the bound. A check that did
    # not finish (time limit) proves nothing, so it moves the search (lo) but never the bound.
    proven_lo = 0
    # without side rules a radius is often settled without a MIP (quick_cover_check)
    quick_checks = opts.p is not None and opts.pure_cover and "n_facilities" not in opts.relaxed
    inconclusive = False
    checks = 0
    solve_time = 0.0
    feasible_hi = False
    first_probe: int | None = None

    def radius_index(plan: BoolArray, at_most: int) -> int:
        """Return the position in ``values`` of the plan's own radius.

        A feasible plan often serves everyone within less than the radius it was found for
        (capacities aside).
        """
        if opts.capacitated or not pos.size:
            return at_most
        _, served = prep.nearest_open(plan, allowed)
        radius = float(served[pos].max())
        return min(at_most, int(np.searchsorted(values, radius - 1e-9)))

    large = quick_checks and prep.n * prep.m > MAX_DENSE_CELLS and opts.p is not None
    if large and lo <= hi:
        # province scale: the lower end (a patient's nearest site) is often the optimum; one
        # row-generation check there, with up to half the time left, settles it with a proof
        tb = time.perf_counter()
        found, proven_no = _decide_large(prep, allowed, float(values[lo]), opts.p or 0, deadline)
        solve_time += time.perf_counter() - tb
        checks += 1
        if found is not None:
            hi = hi_val = radius_index(found, lo)
            feasible_hi, hi_plan = True, found
        elif proven_no:
            lo = proven_lo = lo + 1
    if quick_checks and not (feasible_hi and hi_val == lo):
        # greedy covers first: the smallest radius they settle is feasible (and usually the
        # optimum or close), so the MIP checks start just below it
        a, b = lo, hi
        while a <= b and not deadline.expired():
            mid = (a + b) // 2
            quick = quick_cover_check(prep, allowed & (prep.pt <= values[mid] + 1e-9), opts.p)
            if isinstance(quick, np.ndarray):
                hi = hi_val = radius_index(quick, mid)
                feasible_hi, hi_plan = True, quick
                b = hi - 1
            else:
                if quick is False:  # proven: no radius up to values[mid] admits a plan
                    lo = max(lo, mid + 1)
                    proven_lo = max(proven_lo, lo)
                a = mid + 1
        first_probe = hi - 1 if feasible_hi else None
    build_time = time.perf_counter() - t0
    # bisection for the smallest feasible value; values[hi] must be checked too
    while lo <= hi and not deadline.expired():
        if feasible_hi and lo == hi_val:
            break  # the smallest feasible radius is pinned
        if first_probe is not None and first_probe >= lo:
            mid, first_probe = first_probe, None
        else:
            mid = (lo + hi) // 2
        checks += 1
        if progress is not None:
            progress(
                min(0.8, 0.1 + 0.05 * checks),
                MsgStr("progress.pcenter_testing", minutes=values[mid]),
            )
        quick = (
            quick_cover_check(prep, allowed & (prep.pt <= values[mid] + 1e-9), opts.p)
            if quick_checks
            else None
        )
        if quick is None and large:
            tb = time.perf_counter()
            found, proven_no = _decide_large(
                prep, allowed, float(values[mid]), opts.p or 0, deadline
            )
            solve_time += time.perf_counter() - tb
            raw = RawResult.no_plan(
                "infeasible" if proven_no else "no_solution",
                0.0,
                "highs",
                Msg("models.raw_quick_check"),
            )
        elif quick is None:
            tb = time.perf_counter()
            chk = formulate_cover(prep, opts, max_minutes=float(values[mid]))
            build_time += time.perf_counter() - tb
            raw = run_solver(chk.mip, opts, deadline, mip_gap=0.0)
            solve_time += raw.solve_time_s
            found = None if raw.x is None else raw.x[chk.y0 : chk.y0 + prep.m] > 0.5
        else:
            found = quick if isinstance(quick, np.ndarray) else None
            raw = RawResult.no_plan("infeasible", 0.0, "heuristic", Msg("models.raw_quick_check"))
        if found is not None:
            feasible_hi = True
            hi_val = radius_index(found, mid)
            hi_plan = found
            if hi_val == lo:
                break
            hi = hi_val
        else:
            if raw.status != "infeasible":
                inconclusive = True
            else:
                proven_lo = max(proven_lo, mid + 1)
            lo = mid + 1
            if lo > hi:
                break
    if not feasible_hi and large and (inconclusive or deadline.expired()):
        # out of time without a plan: one greedy cover at the largest radius (seconds)
        quick = quick_cover_check(prep, allowed, opts.p)
        if isinstance(quick, np.ndarray):
            feasible_hi, hi_plan = True, quick
            hi_val = radius_index(quick, len(values) - 1)
    if not feasible_hi and opts.pure_p_median and (inconclusive or deadline.expired()):
        # the search ran out of time without a plan: a greedy one (sparse, any size)
        plan = p_median_greedy(
            (prep.pi[allowed], prep.pj[allowed], prep.pt[allowed]),
            prep.weight,
            opts.p or 0,
            fixed=prep.fixed,
            openable=prep.openable,
        )
        radius = INF
        if plan is not None:
            _, served = prep.nearest_open(plan, allowed)
            radius = float(served[pos].max()) if pos.size else 0.0
        if plan is not None and radius <= float(values[-1]) + 1e-9:
            feasible_hi, hi_plan = True, plan
            hi_val = radius_index(plan, len(values) - 1)
    if not feasible_hi:
        if inconclusive or deadline.expired():
            note = Msg("models.raw_p_center_time_limit")
            raise NoSolution(RawResult.no_plan("no_solution", solve_time, opts.solver, note))
        note = Msg("models.raw_p_center_no_radius")
        raise Infeasible(RawResult.no_plan("infeasible", solve_time, opts.solver, note))
    best = float(values[hi_val])
    # optimal only when every smaller radius was proven infeasible (a check cut short by the
    # time limit, or one never run, proves nothing)
    proven = proven_lo >= hi_val
    lower_bound = best if proven else float(values[proven_lo])
    # final step: the p-median among plans within `best` minutes (ties: least patient-minutes)
    # the last feasible check's plan serves everyone within `best`: the warm start of the
    # uncapacitated tie-break, topped up to the p sites the p-median needs (a check may use
    # fewer; more sites never lengthen a trip)
    start: BoolArray | None = None
    if not opts.capacitated and opts.p is not None and int(hi_plan.sum()) <= opts.p:
        start = hi_plan.copy()
        extra = np.flatnonzero(prep.openable & ~start)[: opts.p - int(start.sum())]
        start[extra] = True
        if int(start.sum()) != opts.p:
            start = None
    try:
        out, form = _tie_break(prep, opts, deadline, best, start, skip=large)
    except (NoSolution, Infeasible):
        if opts.capacitated:  # a capacitated plan needs its assignment from the MIP
            raise
        # the tie-break found nothing in the time left: keep the plan of the last check
        plan = start if start is not None else hi_plan
        out = settled(
            plan,
            best,
            bound=lower_bound,
            status="feasible",
            gap=None,
            message=Msg("models.raw_heuristic_plan"),
            solver=opts.solver,
        )
        form = Formulation(
            "p_median",
            MipBuilder().build(),
            0,
            allowed=allowed_pairs(prep, opts, best),
        )
    build_time += out.build_time_s
    solve_time += out.solve_time_s
    status: Status = "optimal" if proven else "feasible"
    gap = (best - lower_bound) / best if best > 0 else 0.0
    out = dataclasses.replace(
        out,
        objective=best,
        bound=lower_bound,
        status=status,
        gap=gap,
        solve_time_s=solve_time,
        build_time_s=build_time,
        extras={"bisection_checks": checks, "tie_break_status": out.status},
    )
    return out, form


def _decide_large(
    prep: Prepared,
    allowed: BoolArray,
    minutes: float,
    p: int,
    deadline: Deadline,
    *,
    share: float = 0.5,
) -> tuple[BoolArray | None, bool]:
    """Radius check at province scale: "can ``p`` sites serve every patient within ``minutes``?".

    Row generation (:func:`~planning.models._setcover.decide_cover`) with ``share`` of the
    time left: a plan (fixed sites included) proves yes; ``(None, True)`` is a proof of no (a
    subset of patients already needs more than the free places); ``(None, False)`` proves
    nothing (time ran out).
    """
    if deadline.expired():
        return None, False
    pairs = allowed & (prep.pt <= minutes + 1e-9)
    full = cover_csr(prep.n, prep.m, prep.pi[pairs], prep.pj[pairs])
    free = np.flatnonzero(prep.openable & ~prep.fixed)
    a = cover_rows(full, prep.weight > 0, prep.fixed)
    a = sp.csr_matrix(a[:, free])
    k = p - int(prep.fixed.sum())
    if a.shape[0] and ((np.diff(a.indptr) == 0).any() or k <= 0):
        return None, True  # a patient with no free site in reach, or no free place left
    end = time.perf_counter() + share * max(deadline.end - time.perf_counter(), 0.0)
    local, proven_no = decide_cover(a, k, end)
    if local is None:
        return None, proven_no
    plan = prep.fixed.copy()
    plan[free[local]] = True
    return plan, False


def _tie_break(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    best: float,
    start: BoolArray | None,
    *,
    skip: bool = False,
) -> tuple[Outcome, Formulation]:
    """Solve the p-median among plans within ``best`` minutes; none when no time is left.

    ``skip`` (province scale): none either; the p-median over every pair within the radius
    overruns any limit there (Fujian p = 80: 70 s and 7 GB with 10 s left), so the checked
    plan stands.
    """
    if skip:
        note = Msg("models.raw_heuristic_plan")
        raise NoSolution(RawResult.no_plan("no_solution", 0.0, opts.solver, note))
    if deadline.expired() and not opts.capacitated:
        # the radius (proven or not) stands as found; the caller keeps the last check's plan
        note = Msg("models.raw_p_center_time_limit")
        raise NoSolution(RawResult.no_plan("no_solution", 0.0, opts.solver, note))
    return solve_p_median(prep, opts, deadline, max_minutes=best, start_open=start)
