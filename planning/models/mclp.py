r"""Maximal covering location problem (MCLP): most patients within T minutes of p sites.

Notes
-----
Sets: demand points :math:`i \in I` with patients :math:`w_i`, sites :math:`j \in J`,
:math:`N_i = \{j : t_{ij} \le T_i\}` the sites within the demand point's threshold
(:math:`T_i` = ``max_travel_min``, or the urban / rural threshold). Only pairs in the sparse
travel table exist. Variables :math:`y_j \in \{0,1\}` (site open), :math:`z_g \in [0,1]`
(demand group covered).

.. math::

    \max \sum_g W_g z_g \quad \text{s.t.} \quad
    z_g \le \sum_{j \in N_g} y_j \;\forall g, \qquad
    \sum_j y_j = p, \qquad y_j = 1 \;\forall j \text{ existing}

Demand points with the same set :math:`N_i` are merged into one group :math:`g` with
:math:`W_g = \sum_{i \in g} w_i` (an exact reduction). :func:`~planning.models.solve`
also moves groups covered by an existing site to a constant and, when only p constrains the
plan, drops sites whose groups are a subset of another site's (ties: the first id stays).
:math:`z` may be continuous: for integer :math:`y` an optimal
:math:`z_g = \min(1, \sum_{N_g} y_j)` is integral.
With a budget, :math:`\sum_j c_j y_j \le B` over new sites and :math:`\sum_j y_j \le p`.

Before any MIP, a greedy + swap plan is tried: it is proven optimal when it covers every
coverable patient. Without side rules, an instance with at most
:data:`~planning.models._heuristic.MAX_ENUMERATED_PLANS` plans is then solved by trying them
all (exact; ties go to the first plan), which is faster than starting a solver.

Capacitated variant: :math:`x_{ij} \in [0,1]` share of :math:`i` served by :math:`j \in N_i`,
:math:`\max \sum_{ij} w_i x_{ij}` s.t. :math:`\sum_j x_{ij} \le 1`,
:math:`\sum_i w_i x_{ij} \le C_j y_j` (or :math:`x_{ij} \le y_j` when :math:`C_j = \infty`).
Single-source option (``single_source``: each demand point served by one site, as a referral
catchment needs): the same rows with :math:`x_{ij} \in \{0, 1\}`; a demand point is then
covered whole or not at all, and its patients count against one site's capacity.

**Province scale.** Above :data:`~planning.models._heuristic.MAX_DENSE_CELLS` cells x sites,
with only ``p`` and existing sites constraining the plan, the MIP over every pair is not built
(HiGHS does not finish its root LP on Fujian): :mod:`planning.models._cover_large` reduces the
instance exactly, finds plans (greedy + 1-swap, the Lagrangian plan, neighbourhood sub-MIPs)
and bounds them by the Lagrangian relaxation of the cover rows evaluated exactly at
multipliers from the LP's first-order duals (refined by a smoothed Lagrangian), valid whatever
the multipliers; reduced-cost fixing and an exact residual MIP prove a plan when few sites stay
free. With side rules the MIP runs (started from sparse greedy + swap when that plan keeps
the rules) and, stopped unproven, gets the Lagrangian bound of the cover rows.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import numpy.typing as npt
import pulp

from planning._progress import Progress
from planning.i18n import Msg
from planning.models import _heuristic
from planning.models._blocks import (
    MAX_DOMINANCE_CELLS,
    Formulation,
    Terms,
    add_side,
    assignment_block,
    count_sense,
    cover_link,
    group_sets,
    integral,
    site_columns,
    start_vector,
)
from planning.models._cover_large import mclp_upper_bound, solve_cover_large
from planning.models._heuristic import MAX_DENSE_CELLS, best_cover_plan, mclp_greedy
from planning.models._mip import BoolArray, FloatArray, IntArray, MipBuilder
from planning.models._prep import Prepared, prepare
from planning.models._run import (
    Deadline,
    NoSolution,
    Outcome,
    proven_without_solver,
    settled,
    solve_plain,
)
from planning.models._sparse import cover_csr, cover_value, mclp_greedy_swap
from planning.models.base import ModelInput
from planning.models.options import ModelOptions, ScenarioLike, as_options


def build_mclp(data: ModelInput, options: ModelOptions | ScenarioLike) -> pulp.LpProblem:
    r"""Build (without solving) the MCLP of ``options`` on ``data``.

    Parameters
    ----------
    data
        Sparse travel minutes, demand weights and sites, keyed by ids.
    options
        ``p``, ``max_travel_min`` (T, minutes) and the constraints. A
        :class:`~planning.scenario.Scenario` is read with
        :meth:`~planning.models.ModelOptions.from_scenario`.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` (variables ``y_<site_id>``, ``covered_<k>``).

    Notes
    -----
    See the module docstring for the formulation:
    :math:`\max \sum_g W_g z_g` s.t. :math:`z_g \le \sum_{j \in N_g} y_j`,
    :math:`\sum_j y_j = p`, existing sites fixed open.
    """
    opts = as_options(options).replace(kind="mclp")
    form = formulate_mclp(prepare(data, opts), opts)
    prob, _ = form.mip.to_pulp(f"mclp_{opts.name}")
    return prob


def formulate_mclp(prep: Prepared, opts: ModelOptions, *, reduce: bool = True) -> Formulation:
    """Build the MCLP with every side rule of ``opts`` (see the module docstring).

    ``reduce=False`` skips the exact reductions of :func:`reduce_mclp` (for tests).
    """
    b = MipBuilder(sense="max")
    w = prep.weight
    pos_demand = np.flatnonzero(w > 0)
    y0 = site_columns(b, prep, cost=0.0)
    cover = prep.covering_pairs() & prep.openable[prep.pj]
    site_col = y0 + np.arange(prep.m, dtype=np.int64)
    if opts.capacitated:
        pairs = np.flatnonzero(cover & (w[prep.pi] > 0))
        x = assignment_block(
            b,
            prep,
            site_col,
            prep.pi[pairs],
            prep.pj[pairs],
            cost=w[prep.pi[pairs]],
            demand_rows="le",
            names=True,
            single_source=opts.single_source,
        )
        terms: Terms = (prep.county[prep.pi[pairs]], x.x, w[prep.pi[pairs]])
        count_row = add_side(b, prep, opts, y0, "mclp", terms)
        # a split assignment covers fractions of a demand point: the objective is not integral
        mip = b.build(integral_objective=opts.single_source and integral(w))
        return Formulation(
            "mclp", mip, y0, x0=x.x0, xpairs=pairs, count_row=count_row, allowed=cover
        )
    group, sets = group_sets(prep, cover, pos_demand, by_county=opts.county_target is not None)
    gw = np.bincount(group[group >= 0], weights=w[group >= 0], minlength=len(sets)).astype(float)
    notes: dict[str, object] = {"groups": len(sets)}
    if reduce and opts.county_target is None:
        sets, gw, dropped, constant = reduce_mclp(
            sets,
            gw,
            prep.m,
            fixed=prep.fixed,
            openable=prep.openable,
            exact_count=opts.p if count_sense(opts, "mclp") == "eq" else None,
            labels=swap_labels(prep, opts),
            cost=prep.cost if opts.budget is not None else None,
        )
        b.fix_zero(y0 + np.flatnonzero(dropped))
        b.offset += constant
        notes.update(
            reduced_groups=len(sets), sites_dominated=int(dropped.sum()), constant=constant
        )
    groups = np.arange(len(sets), dtype=np.int64)
    members = np.repeat(groups, [js.size for js in sets])
    sites = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
    zcols, _, _ = cover_link(
        b, site_col, members, sites, groups, prefix="covered", family="cover", cost=gw
    )
    gcounty = np.full(len(sets), "", dtype=object)
    if opts.county_target is not None:  # groups unreduced: group ids still valid
        has = group >= 0
        gcounty[group[has]] = prep.county[has]
    terms = (gcounty, zcols, gw)
    count_row = add_side(b, prep, opts, y0, "mclp", terms)
    mip = b.build(integral_objective=integral(w))
    return Formulation("mclp", mip, y0, count_row=count_row, allowed=cover, notes=notes)


def swap_labels(prep: Prepared, opts: ModelOptions) -> npt.NDArray[np.object_] | None:
    """Labels of sites that may replace each other under ``opts`` (``None``: any site).

    A site can only stand in for another in the same county when a county rule is on (a
    site in every county, in X % of counties) and in the same prefecture when the hub rule
    is on, so that the swap keeps those rules satisfied.
    """
    county = opts.site_in_every_county or opts.min_county_share is not None
    if not county and not opts.hub_per_prefecture:
        return None
    parts = [prep.site_county if county else np.full(prep.m, "", dtype=object)]
    if opts.hub_per_prefecture:
        parts.append(prep.site_prefecture)
    return np.array(["\x1f".join(map(str, t)) for t in zip(*parts, strict=True)], dtype=object)


def reduce_mclp(
    sets: list[IntArray],
    gw: FloatArray,
    m: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    exact_count: int | None,
    labels: npt.NDArray[np.object_] | None = None,
    cost: FloatArray | None = None,
) -> tuple[list[IntArray], FloatArray, BoolArray, float]:
    """Exact MCLP reductions: groups met by existing sites, dominated sites, merged groups.

    ``sets`` are the site sets of demand groups of weight ``gw`` (all positive). A group
    covered by an existing (always open) site adds its weight whatever the plan: it leaves
    the model as a constant. A candidate ``j`` is *dominated* by another openable site ``k``
    when ``k`` covers every remaining group of ``j``, has the same ``labels`` entry (same
    county / prefecture when county or hub rules are on, see :func:`swap_labels`) and, with
    a budget, costs no more (``cost``). Dominated candidates are dropped (ties: the lower
    position stays): in any feasible plan with ``j`` open, opening ``k`` instead (or, if
    ``k`` is open already, closing ``j`` and, when the count is exact (``exact_count``
    sites), opening any closed site) keeps every rule and never covers less. With an exact
    count the reduction is skipped if too few candidates would remain. Groups whose sets
    become identical are merged (weights summed); groups left without sites cover nothing.

    Returns the kept sets, their weights, the mask of dropped sites and the constant.
    """
    dropped = np.zeros(m, dtype=bool)
    met = np.array([bool(fixed[js].any()) for js in sets], dtype=bool)
    constant = float(gw[met].sum())
    sets = [js for js, ok in zip(sets, met, strict=True) if not ok]
    gw = gw[~met]
    if sets and len(sets) * m <= MAX_DOMINANCE_CELLS:
        r = np.zeros((len(sets), m), dtype=np.float32)
        for k, js in enumerate(sets):
            r[k, js] = 1.0
        size = r.sum(axis=0)
        inter = r.T @ r  # |C_j & C_k|
        sub = inter >= size[:, None] - 0.5  # column j within column k
        np.fill_diagonal(sub, val=False)
        sub &= openable[None, :]  # the dominating site must be able to open
        if labels is not None:
            sub &= labels[:, None] == labels[None, :]
        if cost is not None:
            sub &= cost[None, :] <= cost[:, None] + 1e-12
        equal = sub & sub.T
        strict = sub & ~equal
        lower_twin = np.triu(equal, k=1).any(axis=0)
        drop = strict.any(axis=1) | lower_twin
        if labels is None and cost is None:
            drop |= size == 0  # covers nothing: any other site does as well
        drop &= ~fixed & openable
        free_left = int((openable & ~fixed & ~drop).sum())
        if exact_count is None or free_left >= exact_count - int(fixed.sum()):
            dropped = drop
    if dropped.any():
        merged: dict[bytes, int] = {}
        new_sets: list[IntArray] = []
        new_w: list[float] = []
        for js, wg in zip(sets, gw.tolist(), strict=True):
            kept = js[~dropped[js]]
            if kept.size == 0:
                continue
            key = kept.tobytes()
            at = merged.get(key)
            if at is None:
                merged[key] = len(new_sets)
                new_sets.append(kept)
                new_w.append(wg)
            else:
                new_w[at] += wg
        sets, gw = new_sets, np.asarray(new_w, dtype=float)
    return sets, gw, dropped, constant


#: HiGHS options for an MCLP with a greedy + swap warm start. The start is usually optimal
#: or nearly so: HiGHS's own sub-MIP heuristics (RINS, RENS...) and presolve then cost far
#: more than they find (Putian, 164 sites: 2-4 s -> 0.6 s), while the proof (cuts,
#: branching) is unchanged, so the answer stays exact.
MCLP_WARM_OPTIONS: dict[str, bool | int | float | str] = {
    "presolve": "off",
    "mip_allow_restart": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}


def solve_mclp(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    start_open: BoolArray | None = None,
    progress: Progress | None = None,
) -> tuple[Outcome, Formulation]:
    """Most patients covered: enumeration, the greedy shortcut, else the MIP (warm-started)."""
    t0 = time.perf_counter()
    if start_open is None and opts.pure_cover:
        tried = _try_every_plan(prep, opts, t0)
        if tried is not None:
            return tried
        if opts.p is not None and prep.n * prep.m > MAX_DENSE_CELLS:
            return _solve_large(prep, opts, deadline, t0)
    form = formulate_mclp(prep, opts)
    if start_open is None and opts.p is not None and form.x0 is None:
        shortcut = _mclp_shortcut(prep, form, opts, t0)
        if isinstance(shortcut, Outcome):
            return shortcut, form
        start_open = shortcut
    if start_open is not None and start_vector(form, prep, start_open) is not None:
        form.mip.highs_options.update(MCLP_WARM_OPTIONS)
        form.mip.cbc_options.append("preprocess off")  # likewise for CBC: 3.0 -> 1.5 s
    lag_first: float | None = None
    if opts.p is not None and start_open is not None and prep.n * prep.m > MAX_DENSE_CELLS:
        # large: the MIP rarely finishes its root LP; a Lagrangian bound first, with a share
        # of the time (Fujian p = 80: near the LP bound, which HiGHS's simplex does not reach)
        lag_first = _lagrangian(prep, opts, start_open, 0.2 * deadline.left())
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
        if start_open is None or form.x0 is not None:
            raise
        # the solver stopped without a plan: the heuristic plan, with the best bound known
        out = _heuristic_outcome(prep, opts, start_open, stop.raw.bound, build)
    else:
        if form.x0 is None and start_open is not None:
            value = _covered(prep, form, start_open)
            if value > out.objective + 1e-9:  # the solver's plan is worse than its start
                out = _heuristic_outcome(prep, opts, start_open, out.bound, build)
    if out.status != "optimal" and opts.p is not None:
        out = _with_lagrangian_bound(prep, opts, out, lag_first)
    return out, form


#: Share of the time left (and at most this many seconds) kept back on the large path for
#: turning its plan into the solution (decode, tables).
LARGE_RESERVE_SHARE, LARGE_RESERVE_MAX_S = 0.03, 1.0


def _solve_large(
    prep: Prepared, opts: ModelOptions, deadline: Deadline, t0: float
) -> tuple[Outcome, Formulation]:
    """Solve the MCLP above the dense size when only ``p`` and existing sites rule the plan.

    Exact reductions, greedy + swap, a Lagrangian bound at LP multipliers, neighbourhood
    sub-MIPs and, when reduced-cost fixing leaves a small residual, an exact MIP on it
    (:func:`~planning.models._cover_large.solve_cover_large`). The formulation over every
    pair is never built: its root LP does not finish at this size.
    """
    assert opts.p is not None  # noqa: S101 - checked by the caller
    allowed = prep.covering_pairs() & prep.openable[prep.pj]
    cover = cover_csr(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed])
    left = deadline.left()
    got = solve_cover_large(
        cover,
        prep.weight,
        opts.p,
        fixed=prep.fixed,
        openable=prep.openable,
        time_limit_s=max(0.0, left - min(LARGE_RESERVE_MAX_S, LARGE_RESERVE_SHARE * left)),
        integral_weights=integral(prep.weight),
    )
    form = Formulation("mclp", MipBuilder().build(), 0, allowed=allowed)
    proven = got.bound - got.value <= 1e-9 * max(1.0, abs(got.value))
    out = settled(
        got.plan,
        got.value,
        bound=got.value if proven else got.bound,
        status="optimal" if proven else "feasible",
        gap=0.0 if proven else (got.bound - got.value) / max(abs(got.value), 1e-10),
        message=Msg("models.raw_lagrangian_bound") if proven else Msg("models.raw_heuristic_plan"),
        solver=opts.solver,
        raw_bound=got.bound,
        build_time_s=time.perf_counter() - t0,
        extras={"large_path": got.log},
    )
    return out, form


def _lagrangian(prep: Prepared, opts: ModelOptions, plan: BoolArray, seconds: float) -> float:
    """Lagrangian upper bound of the MCLP (:func:`~planning.models._cover_large.mclp_upper_bound`).

    Valid under every side rule (they only remove plans; capacities only lower the value).
    """
    assert opts.p is not None  # noqa: S101 - checked by the callers
    allowed = prep.covering_pairs() & prep.openable[prep.pj]
    cover = cover_csr(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed])
    return mclp_upper_bound(
        cover,
        prep.weight,
        opts.p,
        fixed=prep.fixed,
        openable=prep.openable,
        target=cover_value(cover, prep.weight, plan),
        time_limit_s=seconds,
    )


def _with_lagrangian_bound(
    prep: Prepared, opts: ModelOptions, out: Outcome, known: float | None
) -> Outcome:
    """Tighten an unproven MCLP's bound by Lagrangian relaxation (``known``: found before).

    Without one found before, takes at most 5 % of the time limit (and 1 s) past it: a solver
    stopped by the time limit often leaves the bound at every coverable patient.
    """
    lag = known
    if lag is None:
        lag = _lagrangian(prep, opts, out.is_open, min(1.0, 0.05 * opts.time_limit_s))
    bound = lag if out.bound is None else min(out.bound, lag)
    bound = max(bound, out.objective)
    if bound - out.objective <= 1e-6 * max(1.0, abs(out.objective)):  # the bound proves it
        extras = {**out.extras, "lagrangian_bound": lag}
        return dataclasses.replace(
            out, bound=out.objective, gap=0.0, status="optimal", extras=extras
        )
    gap = (bound - out.objective) / max(abs(out.objective), 1e-10)
    extras = {**out.extras, "lagrangian_bound": lag}
    return dataclasses.replace(out, bound=bound, gap=gap, extras=extras)


def _covered(prep: Prepared, form: Formulation, plan: BoolArray) -> float:
    allowed = form.allowed if form.allowed is not None else prep.covering_pairs()
    cover = cover_csr(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed])
    return cover_value(cover, prep.weight, plan)


def _heuristic_outcome(
    prep: Prepared, opts: ModelOptions, plan: BoolArray, bound: float | None, build: float
) -> Outcome:
    """Return the heuristic plan as the answer (``feasible``), with a valid upper bound."""
    allowed = prep.covering_pairs() & prep.openable[prep.pj]
    cover = cover_csr(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed])
    value = cover_value(cover, prep.weight, plan)
    coverable = float(prep.weight[np.diff(cover.indptr) > 0].sum())
    upper = coverable if bound is None else min(bound, coverable)
    upper = max(upper, value)
    return settled(
        plan,
        value,
        bound=upper,
        status="feasible",
        gap=(upper - value) / max(abs(value), 1e-10),
        message=Msg("models.raw_heuristic_plan"),
        solver=opts.solver,
        build_time_s=build,
    )


def _try_every_plan(
    prep: Prepared, opts: ModelOptions, t0: float
) -> tuple[Outcome, Formulation] | None:
    """Solve a tiny MCLP without side rules by trying every plan of ``p`` sites (else ``None``).

    Gives up when more than :data:`~planning.models._heuristic.MAX_ENUMERATED_PLANS` plans
    would be needed, or on instances too large for a dense coverage matrix. Complete
    enumeration proves the answer (ties: the first plan).
    """
    if prep.n * prep.m > MAX_DENSE_CELLS or opts.p is None:
        return None
    limit = _heuristic.MAX_ENUMERATED_PLANS
    n_free = int((prep.openable & ~prep.fixed).sum())
    k = max(0, min(opts.p - int(prep.fixed.sum()), n_free))
    if math.comb(n_free, k) > limit:
        return None
    allowed = prep.covering_pairs() & prep.openable[prep.pj]
    cover = prep.cover_matrix(allowed)
    tried = best_cover_plan(
        cover, prep.weight, k, fixed=prep.fixed, openable=prep.openable, max_plans=limit
    )
    if tried is None:
        return None
    plan, value = tried
    out = proven_without_solver(
        plan, value, bound=value, message=Msg("models.raw_every_plan"), started=t0
    )
    return out, Formulation("mclp", MipBuilder().build(), 0, allowed=allowed)


def _group_codes(labels: npt.NDArray[np.object_], wanted: list[str]) -> IntArray:
    """Each site's position in ``wanted`` (``-1`` when its label is not wanted)."""
    pos = {c: k for k, c in enumerate(wanted)}
    return np.array([pos.get(str(c), -1) for c in labels], dtype=np.int64)


def _mclp_shortcut(
    prep: Prepared, form: Formulation, opts: ModelOptions, t0: float
) -> Outcome | BoolArray | None:
    """Greedy + swap MCLP plan; proven optimal if it keeps every rule and covers everyone.

    The greedy honours "a site in every county" (also a 100 % county share), "a hub per
    prefecture" and county coverage targets; whether the plan keeps every rule (also a
    budget or a lower county share) is checked on the model's rows (:func:`start_vector`).
    Returns an :class:`Outcome` when the plan covers every coverable patient, else the plan
    as a warm start (``None`` when the instance is too large for the dense heuristic or the
    plan breaks a rule).
    """
    assert opts.p is not None  # noqa: S101 - checked by the caller
    allowed = form.allowed if form.allowed is not None else prep.covering_pairs()
    if prep.n * prep.m > MAX_DENSE_CELLS:
        return _sparse_shortcut(prep, form, opts, allowed, t0)
    require: list[IntArray] = []
    if opts.site_in_every_county or (
        opts.min_county_share is not None and opts.min_county_share >= 1.0 - 1e-9
    ):
        require.append(_group_codes(prep.site_county, prep.demand_counties()))
    if opts.hub_per_prefecture:
        require.append(_group_codes(prep.site_prefecture, prep.demand_prefectures()))
    county_need: tuple[IntArray, FloatArray] | None = None
    if opts.county_target is not None:
        counties = prep.demand_counties()
        code = _group_codes(prep.county, counties)
        has = code >= 0
        total = np.bincount(code[has], weights=prep.weight[has], minlength=len(counties))
        county_need = (code, np.asarray(opts.county_target * total, dtype=float))
    cover = prep.cover_matrix(allowed)
    plan, value = mclp_greedy(
        cover,
        prep.weight,
        opts.p,
        fixed=prep.fixed,
        openable=prep.openable,
        require=require,
        county_need=county_need,
    )
    if start_vector(form, prep, plan) is None:  # breaks a rule: no use as a start
        return None
    coverable = float(prep.weight[cover.any(axis=1)].sum())
    if value < coverable - 1e-9:
        return plan
    return proven_without_solver(
        plan, value, bound=coverable, message=Msg("models.raw_every_coverable"), started=t0
    )


def _sparse_shortcut(
    prep: Prepared, form: Formulation, opts: ModelOptions, allowed: BoolArray, t0: float
) -> Outcome | BoolArray | None:
    """:func:`_mclp_shortcut` above the dense size: sparse greedy + 1-swap (no size cap).

    Without county or hub rules only (the dense greedy honours those); a budget or a lower
    county share is checked on the model's rows, as there.
    """
    assert opts.p is not None  # noqa: S101 - checked by the caller
    if opts.site_in_every_county or opts.hub_per_prefecture or opts.county_target is not None:
        return None
    cover = cover_csr(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed])
    plan, value = mclp_greedy_swap(
        cover, prep.weight, opts.p, fixed=prep.fixed, openable=prep.openable
    )
    if start_vector(form, prep, plan) is None:
        return None
    coverable = float(prep.weight[np.diff(cover.indptr) > 0].sum())
    if value < coverable - 1e-9:
        return plan
    return proven_without_solver(
        plan, value, bound=coverable, message=Msg("models.raw_every_coverable"), started=t0
    )
