r"""Location set covering problem (LSCP): fewest sites so that every patient is within T minutes.

Notes
-----
With :math:`N_i = \{j : t_{ij} \le T_i\}` over the sparse travel table and
:math:`y_j \in \{0,1\}`:

.. math::

    \min \sum_j y_j \quad \text{s.t.} \quad \sum_{j \in N_i} y_j \ge 1
    \;\forall i : w_i > 0, \qquad y_j = 1 \;\forall j \text{ existing}

Identical rows are merged. If some :math:`N_i` is empty the problem is infeasible and
:func:`~planning.models.solve` raises :class:`~planning.errors.InfeasibleError` naming the
county, the patients and the nearest candidate's minutes. The objective counts existing sites
too. Without side rules, when every plan up to the optimum number of sites fits in
:data:`~planning.models._heuristic.MAX_ENUMERATED_PLANS`, plans are tried smallest first
instead of starting a solver (exact). Capacitated variant: :math:`\sum_{j \in N_i} x_{ij} = 1`,
:math:`\sum_i w_i x_{ij} \le C_j y_j`.

Before the MIP, :func:`reduce_cover` drops rows met by an existing site or containing another
row, and sites whose rows are a subset of another site's (exact when nothing but the cover
rows uses the sites). The same covering model, with at most :math:`p` sites and the tested
radius as threshold, is the p-center's radius check (:func:`formulate_cover`).

At province scale (more than :data:`~planning.models._heuristic.MAX_DENSE_CELLS` cells x
sites, no side rules) the LSCP starts from a sparse greedy cover with redundant sites
removed, is bounded by the set-cover Lagrangian evaluated exactly at multipliers from the LP
duals (:mod:`planning.models._setcover`; rounded up, as tight as the LP relaxation when the
multipliers converge, valid whatever they are). With at least :data:`SEARCH_MIN_S` seconds
left, a row-weighting local search (:func:`~planning.models._setcover.search_cover`, Gao,
Weise & Li 2015) takes two thirds of them; the rest goes to a large-neighbourhood search
(:func:`~planning.models._setcover.improve_cover`: exact MIPs on growing regions of the plan,
the whole instance last, whose proven bound then counts).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pulp
import scipy.sparse as sp

from planning._progress import Progress
from planning.i18n import Msg
from planning.models import _heuristic
from planning.models._blocks import (
    MAX_DOMINANCE_CELLS,
    FormKind,
    Formulation,
    add_side,
    assignment_block,
    group_sets,
    site_columns,
)
from planning.models._heuristic import MAX_DENSE_CELLS, best_cover_plan
from planning.models._mip import INF, BoolArray, IntArray, MipBuilder
from planning.models._prep import Prepared, prepare
from planning.models._run import (
    Deadline,
    NoSolution,
    Outcome,
    proven_without_solver,
    settled,
    solve_plain,
)
from planning.models._setcover import (
    ceil_bound,
    cover_rows,
    improve_cover,
    lagrangian_cover,
    search_cover,
    weighted_greedy,
)
from planning.models._sparse import cover_csr, greedy_cover
from planning.models.base import ModelInput
from planning.models.options import ModelOptions, ScenarioLike, as_options

#: Seconds HiGHS may run past its time limit on a covering MIP of a million entries or more
#: (less in proportion below).
MIP_OVERSHOOT_S = 5.0
#: Least time left (seconds) for the row-weighting local search at province scale: its
#: compiled loop takes about 5 s to compile the first time on a machine (cached on disk
#: after), which must fit within the time limit.
SEARCH_MIN_S = 15.0
#: Share of the time left the local search gets before the region search (whose last step,
#: the MIP on every row, can prove a mid-size instance).
SEARCH_SHARE = 2.0 / 3.0


def build_lscp(data: ModelInput, options: ModelOptions | ScenarioLike) -> pulp.LpProblem:
    r"""Build (without solving) the LSCP of ``options`` on ``data``.

    Parameters
    ----------
    data
        Sparse travel minutes, demand weights and sites, keyed by ids.
    options
        ``max_travel_min`` (T, minutes) and the constraints; ``p`` is ignored. A
        :class:`~planning.scenario.Scenario` is read with
        :meth:`~planning.models.ModelOptions.from_scenario`.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` (variables ``y_<site_id>``).

    Notes
    -----
    :math:`\min \sum_j y_j` s.t. :math:`\sum_{j: t_{ij} \le T_i} y_j \ge 1` for every
    demand point with patients; existing sites fixed open.
    """
    opts = as_options(options).replace(kind="lscp")
    form = formulate_cover(prepare(data, opts), opts)
    prob, _ = form.mip.to_pulp(f"lscp_{opts.name}")
    return prob


def formulate_cover(
    prep: Prepared, opts: ModelOptions, *, max_minutes: float | None = None
) -> Formulation:
    """Build the covering model: LSCP, or with ``max_minutes`` the p-center's radius check.

    The LSCP (``max_minutes`` ``None``) minimises the number of sites serving every patient
    within its threshold. The radius check has no objective: at most ``p`` sites serving
    every patient within ``max_minutes`` (and the urban / rural thresholds, if any).
    """
    kind: FormKind = "lscp" if max_minutes is None else "cover_check"
    b = MipBuilder(sense="min")
    w = prep.weight
    y0 = site_columns(b, prep, cost=1.0 if kind == "lscp" else 0.0)
    if max_minutes is None:
        limit = prep.threshold
    else:  # p-center check: the tested radius, within urban/rural limits if any
        thr = prep.threshold if opts.has_thresholds else np.full(prep.n, INF)
        limit = np.minimum(thr, max_minutes)
    cover = (prep.pt <= limit[prep.pi] + 1e-9) & prep.openable[prep.pj]
    xc: int | None = None
    xpairs: IntArray | None = None
    if opts.capacitated:
        xpairs = np.flatnonzero(cover & (w[prep.pi] > 0))
        site_col = y0 + np.arange(prep.m, dtype=np.int64)
        x = assignment_block(
            b,
            prep,
            site_col,
            prep.pi[xpairs],
            prep.pj[xpairs],
            demand_rows="eq",
            names=True,
            single_source=opts.single_source,
        )
        xc = x.x0
    else:
        _, sets = group_sets(prep, cover, np.flatnonzero(w > 0), by_county=False)
        if opts.pure_cover:
            sets, dropped = reduce_cover(sets, prep.m, fixed=prep.fixed)
            b.fix_zero(y0 + np.flatnonzero(dropped))
        rows = (
            np.concatenate([np.full(s.size, g) for g, s in enumerate(sets)])
            if sets
            else np.zeros(0, dtype=np.int64)
        )
        cols = np.concatenate([y0 + s for s in sets]) if sets else np.zeros(0, np.int64)
        b.add_rows(len(sets), rows, cols, 1.0, lb=1.0, family="cover")
    count_row = add_side(b, prep, opts, y0, kind, None)
    mip = b.build(integral_objective=True)
    if xc is None and opts.pure_cover:
        # rows and sites already reduced: HiGHS presolve finds little and costs more
        # (SJC818 LSCP at 800 m: 0.22 -> 0.03 s; spopt's San Francisco LSCP 7 -> 3 ms)
        mip.presolve = False
    return Formulation(kind, mip, y0, x0=xc, xpairs=xpairs, count_row=count_row, allowed=cover)


def reduce_cover(
    sets: list[IntArray], m: int, *, fixed: BoolArray
) -> tuple[list[IntArray], BoolArray]:
    """Exact set-cover reductions: drop satisfied and dominated rows, dominated sites.

    A row already met by an existing site, or whose site set contains another row's set, is
    redundant. A non-existing site whose rows are a subset of another site's rows (ties: the
    lower position stays) can be dropped: swapping it for the other never loses coverage.
    Returns the kept rows and the mask of dropped sites.
    """
    dropped = np.zeros(m, dtype=bool)
    sets = [s for s in sets if not fixed[s].any()]
    if not sets or len(sets) * m > MAX_DOMINANCE_CELLS:
        return sets, dropped
    for _ in range(3):
        g = len(sets)
        r = np.zeros((g, m), dtype=np.float32)
        for k, js in enumerate(sets):
            r[k, js] = 1.0
        r[:, dropped] = 0.0
        size = r.sum(axis=1)
        inter = r @ r.T  # |S_a & S_b|
        sub = inter >= size[:, None] - 0.5  # a subset of b
        np.fill_diagonal(sub, val=False)
        same = sub & sub.T  # rows made identical by dropped sites: keep the first
        redundant = (sub & ~same).any(axis=0) | np.triu(same, k=1).any(axis=0)
        keep_rows = ~redundant
        r = r[keep_rows]
        col_size = r.sum(axis=0)
        cinter = r.T @ r  # |C_j & C_k|
        csub = cinter >= col_size[:, None] - 0.5  # column j within column k
        np.fill_diagonal(csub, val=False)
        alive = ~dropped
        csub &= alive[None, :] & alive[:, None]
        equal = csub & csub.T
        strict = csub & ~equal
        lower_twin = np.triu(equal, k=1).any(axis=0)  # an equal column with a lower index
        new_drop = (strict.any(axis=1) | lower_twin | (col_size == 0)) & ~fixed & alive
        sets = [js[~(dropped | new_drop)[js]] for js, ok in zip(sets, keep_rows, strict=True) if ok]
        if not new_drop.any() and keep_rows.all():
            break
        dropped |= new_drop
    return sets, dropped


def solve_lscp(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    start_open: BoolArray | None = None,
    progress: Progress | None = None,
) -> tuple[Outcome, Formulation]:
    """Fewest sites serving everyone: enumeration on tiny instances, else the MIP."""
    t0 = time.perf_counter()
    if start_open is None and opts.pure_cover:
        tried = _try_every_plan(prep, opts, t0)
        if tried is not None:
            return tried
        if prep.n * prep.m > MAX_DENSE_CELLS and not opts.capacitated:
            large = _solve_large(prep, opts, deadline, t0)
            if large is not None:
                return large
    form = formulate_cover(prep, opts)
    build = time.perf_counter() - t0
    try:
        out = solve_plain(
            form,
            prep,
            opts,
            deadline,
            build_time_s=build,
            start_open=start_open,
            progress=progress,
        )
    except NoSolution as stop:
        if not opts.pure_cover:
            raise
        # the solver stopped without a plan: a greedy cover (sparse, any size)
        allowed = prep.covering_pairs() & prep.openable[prep.pj]
        cover = cover_csr(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed])
        plan = greedy_cover(cover, prep.weight > 0, fixed=prep.fixed, openable=prep.openable)
        if plan is None:
            raise
        value = float(plan.sum())
        bound = stop.raw.bound
        if bound is not None:
            bound = min(math.ceil(bound - 1e-6), value)
        out = settled(
            plan,
            value,
            bound=bound,
            status="feasible",
            gap=None if bound is None else (value - bound) / max(value, 1.0),
            message=Msg("models.raw_heuristic_plan"),
            solver=opts.solver,
            build_time_s=build,
        )
    return out, form


def _solve_large(
    prep: Prepared, opts: ModelOptions, deadline: Deadline, t0: float
) -> tuple[Outcome, Formulation] | None:
    """Province-scale LSCP without side rules: sparse plans, a Lagrangian bound, then the MIP.

    A greedy cover with redundant sites removed is the first plan (seconds, any size); the
    bound is :func:`~planning.models._setcover.cover_bound` at multipliers from the LP duals
    (PDLP) and subgradient steps, as tight as the LP relaxation when they converge, valid
    whatever they are; a greedy weighted by the multipliers may give a smaller plan. The time
    left goes to the row-weighting local search (when at least :data:`SEARCH_MIN_S` seconds
    are left: two thirds of them), then to the region search, whose last step is the covering
    MIP on every row; its plan and dual bound are kept when better. ``optimal`` only when the
    bound reaches the plan's size. ``None`` when some patient has no site in reach (the MIP path
    names the culprit).
    """
    allowed = prep.covering_pairs() & prep.openable[prep.pj]
    full = cover_csr(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed])
    need = prep.weight > 0
    free = prep.openable & ~prep.fixed
    a = cover_rows(full, need, prep.fixed)
    a = sp.csr_matrix(a[:, np.flatnonzero(free)])  # columns: the free sites
    if a.shape[0] and (np.diff(a.indptr) == 0).any():
        return None
    n_fixed = int(prep.fixed.sum())
    free_ids = np.flatnonzero(free)

    def full_plan(local: BoolArray) -> BoolArray:
        plan = prep.fixed.copy()
        plan[free_ids[local]] = True
        return plan

    ones = np.ones(a.shape[1], dtype=bool)
    sel = weighted_greedy(a, ones)
    if sel is None:
        return None
    bound = 0
    raw_bound = 0.0
    if a.shape[0]:
        # the bound: three quarters of the time left, at most 40 % of the limit (it stops
        # once rounded up to the LP value; the multipliers also guide a second greedy)
        end = time.perf_counter() + min(0.75 * deadline.left(), 0.4 * opts.time_limit_s)
        u, raw_bound = lagrangian_cover(a, end, target=float(sel.sum()) - 1.0)
        bound = ceil_bound(raw_bound)
        alt = weighted_greedy(a, ones, row_weight=u + 1e-3)
        if alt is not None and alt.sum() < sel.sum():
            sel = alt
    mip_note = Msg("models.raw_heuristic_plan")
    t_mip = time.perf_counter()
    if bound < int(sel.sum()) and deadline.left() >= SEARCH_MIN_S:
        # row-weighting local search first (Fujian: 101-105 sites where the region search
        # alone reaches 107-108 in 60 s), stopping at a plan of ``bound`` sites
        end = t_mip + SEARCH_SHARE * (deadline.end - 0.05 - t_mip)
        sel = search_cover(a, sel, end, floor=bound)
    if bound < int(sel.sum()) and deadline.left() > 0.1:
        # the time left: large-neighbourhood search (small exact MIPs on regions of the plan,
        # growing; the whole instance last, minus HiGHS's overshoot on a MIP that large:
        # Fujian, 36,666 rows: 8.5 s for a 4 s limit on a loaded 2-core machine)
        reserve = MIP_OVERSHOOT_S * min(1.0, a.nnz / 1e6)
        sel, lns_bound = improve_cover(a, sel, deadline.end - 0.05, reserve_s=reserve)
        if lns_bound > 0:  # the MIP on every row finished with a proven bound
            bound = max(bound, lns_bound)
            mip_note = Msg("models.raw_highs_status", status="MIP")
    solve_time = time.perf_counter() - t_mip
    plan = full_plan(sel)
    value = float(plan.sum())
    lower = min(float(n_fixed + bound), value)
    proven = lower >= value - 1e-9
    out = settled(
        plan,
        value,
        bound=lower,
        status="optimal" if proven else "feasible",
        gap=(value - lower) / max(value, 1.0),
        message=mip_note,
        solver=opts.solver,
        raw_bound=n_fixed + raw_bound,
        build_time_s=time.perf_counter() - t0 - solve_time,
        extras={"cover_rows": int(a.shape[0]), "lagrangian_bound": n_fixed + raw_bound},
    )
    out.solve_time_s = solve_time
    return out, Formulation("lscp", MipBuilder().build(), 0, allowed=allowed)


def _try_every_plan(
    prep: Prepared, opts: ModelOptions, t0: float
) -> tuple[Outcome, Formulation] | None:
    """Solve a tiny LSCP without side rules by trying plans of 0, 1, ... new sites.

    The first number of new sites with a plan serving every patient is minimal (complete
    enumeration proves it). Gives up (``None``) when more than
    :data:`~planning.models._heuristic.MAX_ENUMERATED_PLANS` plans would be needed, or on
    instances too large for a dense coverage matrix.
    """
    if prep.n * prep.m > MAX_DENSE_CELLS:
        return None
    limit = _heuristic.MAX_ENUMERATED_PLANS
    n_free = int((prep.openable & ~prep.fixed).sum())
    if opts.p is not None:  # (a number of sites, ignored by the LSCP, caps the search too)
        k_given = max(0, min(opts.p - int(prep.fixed.sum()), n_free))
        if math.comb(n_free, k_given) > limit:
            return None
    allowed = prep.covering_pairs() & prep.openable[prep.pj]
    found = _fewest_covering_plan(prep, prep.cover_matrix(allowed), n_free, limit)
    if found is None:
        return None
    value = float(found.sum())
    out = proven_without_solver(
        found, value, bound=value, message=Msg("models.raw_every_plan_fewest"), started=t0
    )
    return out, Formulation("lscp", MipBuilder().build(), 0, allowed=allowed)


def _fewest_covering_plan(
    prep: Prepared, cover: BoolArray, n_free: int, limit: int
) -> BoolArray | None:
    """Plan of fewest new sites serving every patient, trying plans smallest first."""
    need = prep.weight > 0
    budget = limit
    for k in range(n_free + 1):
        budget -= math.comb(n_free, k)
        if budget < 0:
            return None
        tried = best_cover_plan(
            cover, prep.weight, k, fixed=prep.fixed, openable=prep.openable, max_plans=limit
        )
        if tried is None:
            return None
        covered: BoolArray = np.asarray(cover[:, tried[0]].any(axis=1))
        if bool(covered[need].all()):
            return tried[0]
    return None  # no plan serves everyone: the MIP path names the culprit
