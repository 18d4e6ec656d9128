r"""p-median: fewest total patient-minutes with p sites, by the radius formulation.

Notes
-----
For demand point :math:`i` let :math:`D_i^0 < D_i^1 < \dots < D_i^{K_i-1}` be the distinct
travel minutes to the sites it has a pair with (a point can only be assigned along a pair of
the sparse table). With :math:`y_j \in \{0,1\}` and :math:`z_i^k \ge 0` ("no open site
within :math:`D_i^k`"), the radius formulation (Elloumi 2010; García, Labbé & Marín 2011) is

.. math::

    \min \sum_i w_i \Big(D_i^0 + \sum_{k=0}^{K_i-2} (D_i^{k+1} - D_i^k)\, z_i^k\Big)

    z_i^0 + \sum_{j: t_{ij} = D_i^0} y_j \ge 1, \qquad
    z_i^k - z_i^{k-1} + \sum_{j: t_{ij} = D_i^k} y_j \ge 0 \; (1 \le k \le K_i - 2),

    -z_i^{K_i-2} + \sum_{j: t_{ij} = D_i^{K_i-1}} y_j \ge 0, \qquad
    \sum_j y_j = p, \qquad y_j = 1 \;\forall j \text{ existing}.

Telescoping gives :math:`z_i^k \ge 1 - \sum_{j: t_{ij} \le D_i^k} y_j`, so the LP bound
equals Elloumi's, with one non-zero per pair instead of one per pair and level.

**Shared level sets.** :math:`z_i^k` only depends on the set
:math:`S_i^k = \{j: t_{ij} \le D_i^k\}`; clients whose level sets are the same set of sites
share one variable :math:`z_S` (objective coefficients summed) and identical chain rows are
added once. Every row stays valid for :math:`z_S = [\text{no site of } S \text{ open}]` and
each client's chain still forces :math:`z_S` up to it, so the optimum is unchanged (and the
LP bound can only rise); neighbouring demand cells share most nearest-site sets, so the
model shrinks several-fold (the p-center's single MIP keeps one :math:`z` per client level).

**County and hub rules.** With a site in every county / in X % of counties or a hub per
prefecture, the problem is first solved without those rules (a relaxation with the same
objective); if its proven optimum keeps them it is optimal, else the full model is solved.

**Lagrangian branch-and-bound first.** Relaxing the assignment rows with multipliers
:math:`\lambda_i` gives :math:`L(\lambda) = \sum_i \lambda_i + \min_{|S|=p} \sum_{j\in S}
\sum_i \min(0, w_i t_{ij} - \lambda_i)`, whose maximum equals the LP bound of the radius
formulation. For the uncapacitated p-median without county / hub / budget rules, after a
greedy + vertex-substitution plan and Lagrangian site fixing,
:mod:`planning.models._branch` searches sites depth first with that bound at every node
(multipliers warm-started from the parent, reduced-cost fixing, pruning against the incumbent
within the 1e-6 optimality tolerance or the scenario's gap); it gets half the time left. If it
finishes, the plan is proven; otherwise the radius MIP below takes the rest of the time and
the tighter of the two bounds is reported.

**Lazy radii.** :func:`~planning.models.solve` starts from a heuristic plan (greedy +
vertex substitution) and, when the full model has more than 30,000 levels, models for each
client only the levels up to one beyond its heuristic distance and at least those of its
~2p nearest sites, :math:`L_i \le K_i`; the rest of the chain (and the final "must be
served" row) is left out. That truncated model is a relaxation: for every :math:`y` its value
is :math:`\sum_i w_i \min(d_i(y), D_i^{L_i-1})`. If in its optimum every client's true
distance is within its modelled radius, the optimum is proven for the full problem; else the
radii of the clients outside are extended and the model re-solved (warm-started).

Capacitated variant: assignment variables :math:`x_{ij} \in [0,1]` over the pairs,
:math:`\min \sum w_i t_{ij} x_{ij}`, :math:`\sum_j x_{ij} = 1`,
:math:`\sum_i w_i x_{ij} \le C_j y_j` (split assignment: a demand point may be shared by
several sites). Single-source option (``single_source``, each demand point served by one site,
as a referral catchment needs; the capacitated p-median of Osman & Christofides): the same
rows with :math:`x_{ij} \in \{0, 1\}`, plus :math:`x_{ij} \le y_j` on every pair (a
tighter relaxation than the capacity row alone).

**Province scale.** Above :data:`~planning.models._heuristic.MAX_DENSE_CELLS` cells x sites a
pure p-median (no county, hub or budget rule) is solved on the pairs alone
(:mod:`planning.models._median_large`, memory :math:`O(\text{pairs})`): lazy greedy, fast
interchange, alternate location-allocation and restarts for plans; the same :math:`L(\lambda)`
on the sparse lists for the bound, with :math:`\lambda_i \le w_i R` (:math:`R` the table's
reach) so a site beyond a cell's pairs adds nothing and the bound stays valid.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time

import numpy as np
import pulp

from planning._progress import Progress
from planning.i18n import Msg, MsgStr
from planning.models import _heuristic
from planning.models._blocks import (
    Formulation,
    add_side,
    allowed_pairs,
    assignment_block,
    client_levels,
    integral,
    site_columns,
    start_vector,
)
from planning.models._branch import branch_and_bound, lagrangian_fixing
from planning.models._heuristic import dense_costs, p_median_heuristic, p_median_value
from planning.models._median_large import solve_large_median
from planning.models._mip import INF, BoolArray, IntArray, MipBuilder, proven_optimal
from planning.models._prep import Prepared, prepare
from planning.models._radius import radius_block, weigh_chain
from planning.models._run import (
    Deadline,
    Infeasible,
    NoSolution,
    Outcome,
    run_solver,
    settled,
    solve_plain,
)
from planning.models._sparse import p_median_greedy
from planning.models.base import ModelInput, Status
from planning.models.options import ModelOptions, ScenarioLike, as_options

logger = logging.getLogger(__name__)

#: Above this many distance levels the radius model starts truncated (then extended).
MAX_FULL_LEVELS = 30_000

#: Share of the time left that the Lagrangian branch-and-bound may use before the radius MIP
#: takes over (it proves most OR-Library instances alone; the MIP keeps the rest of the time).
BRANCH_SHARE = 0.5

#: Seconds kept back from the province-scale search for writing out the plan (plus 4 % of
#: the limit, at most 2 s: a swap round on 9.9 M pairs takes ~1 s on a loaded machine).
LARGE_RESERVE_S = 0.5

#: HiGHS options for a p-median whose heuristic / Lagrangian plan is the warm start: the
#: plan is usually optimal, so sub-MIP heuristics, restarts and symmetry detection cost
#: more than they find (Putian, p = 6: 25 s -> 19 s); the proof is unchanged.
P_MEDIAN_WARM_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_allow_restart": False,
    "mip_detect_symmetry": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}


def build_p_median(data: ModelInput, options: ModelOptions | ScenarioLike) -> pulp.LpProblem:
    r"""Build (without solving) the full radius-formulation p-median.

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
        The :class:`pulp.LpProblem` with every radius level (variables ``y_<site_id>``,
        ``z_<k>``); :func:`~planning.models.solve` uses a lazily truncated version.

    Notes
    -----
    :math:`\min \sum_i w_i (D_i^0 + \sum_k (D_i^{k+1} - D_i^k) z_i^k)` s.t. the chain rows of
    the module docstring, :math:`\sum_j y_j = p`, existing sites fixed open.
    """
    opts = as_options(options).replace(kind="p_median")
    form = formulate_p_median(prepare(data, opts), opts)
    prob, _ = form.mip.to_pulp(f"p_median_{opts.name}")
    return prob


def formulate_p_median(
    prep: Prepared,
    opts: ModelOptions,
    *,
    radius_keep: IntArray | None = None,
    max_minutes: float | None = None,
    reduce: bool = True,
) -> Formulation:
    """Build the p-median: radius formulation, or assignments when capacitated.

    ``radius_keep``: levels modelled per client (lazy radii); ``max_minutes``: only pairs
    within it (the p-center's tie-break); ``reduce=False`` gives every client level its own
    variable (no shared level sets, for tests).
    """
    b = MipBuilder(sense="min")
    w = prep.weight
    allowed = allowed_pairs(prep, opts, max_minutes)
    y0 = site_columns(b, prep, cost=0.0)
    site_col = y0 + np.arange(prep.m, dtype=np.int64)
    if opts.capacitated:
        pairs = np.flatnonzero(allowed & (w[prep.pi] > 0))
        x = assignment_block(
            b,
            prep,
            site_col,
            prep.pi[pairs],
            prep.pj[pairs],
            cost=w[prep.pi[pairs]] * prep.pt[pairs],
            demand_rows="eq",
            names=True,
            single_source=opts.single_source,
            link_all=opts.single_source,
        )
        count_row = add_side(b, prep, opts, y0, "p_median", None)
        # capacities split demand points over sites: fractional costs, whatever w and t are
        # (unless single-source: each point to one site)
        whole = opts.single_source and integral(w) and integral(prep.pt[pairs])
        mip = b.build(integral_objective=whole)
        return Formulation(
            "p_median", mip, y0, x0=x.x0, xpairs=pairs, count_row=count_row, allowed=allowed
        )
    radius = client_levels(prep, allowed)
    if radius_keep is not None:
        radius.keep = np.minimum(np.maximum(radius_keep, 1), radius.n_levels)
    chain = radius_block(b, radius, site_col, share=reduce)
    cols, costs, constant = weigh_chain(chain, w)
    b.add_cost(cols, costs)
    b.offset += constant
    # a truncated chain leaves out the client's "must be served" row; where the client
    # cannot reach every site (e.g. the p-center tie-break, pairs within the optimal
    # radius) keep it as sum_{j allowed} y_j >= 1, valid for the full model
    n_pairs = np.bincount(radius.client, minlength=prep.n)
    cut = np.flatnonzero(
        (radius.keep < radius.n_levels)
        & (radius.n_levels > 0)
        & (n_pairs < int(prep.openable.sum()))
    )
    if cut.size:
        sel = np.isin(radius.client, cut)
        rows = np.searchsorted(cut, radius.client[sel])
        b.add_rows(cut.size, rows, site_col[radius.site[sel]], 1.0, lb=1.0, family="served")
    count_row = add_side(b, prep, opts, y0, "p_median", None)
    mip = b.build(integral_objective=integral(w) and integral(radius.dist))
    return Formulation(
        "p_median", mip, y0, count_row=count_row, radius=radius, chain=chain, allowed=allowed
    )


def solve_p_median(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    max_minutes: float | None = None,
    start_open: BoolArray | None = None,
    progress: Progress | None = None,
) -> tuple[Outcome, Formulation]:
    """Fewest patient-minutes: the radius path, or the assignment MIP when capacitated.

    ``max_minutes``: only pairs within it (the p-center's tie-break); ``start_open``: a plan
    to start from.
    """
    if not opts.capacitated:
        return solve_p_median_radius(
            prep,
            opts,
            deadline,
            max_minutes=max_minutes,
            initial_open=start_open,
            progress=progress,
        )
    t0 = time.perf_counter()
    form = formulate_p_median(prep, opts, max_minutes=max_minutes)
    build = time.perf_counter() - t0
    out = solve_plain(
        form, prep, opts, deadline, build_time_s=build, start_open=start_open, progress=progress
    )
    return out, form


def solve_p_median_radius(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    max_minutes: float | None = None,
    initial_open: BoolArray | None = None,
    initial_keep: IntArray | None = None,
    progress: Progress | None = None,
) -> tuple[Outcome, Formulation]:
    """Uncapacitated p-median: heuristic, Lagrangian fixing, then the radius MIP.

    1. A greedy + vertex-substitution plan gives an upper bound ``UB`` (dense instances).
    2. Lagrangian relaxation of the assignment rows gives a lower bound; sites that cannot be
       in any plan better than ``UB`` are fixed closed (or open). If the bound reaches ``UB``
       the plan is proven optimal without a MIP; else Lagrangian branch-and-bound searches
       (:mod:`planning.models._branch`).
    3. The radius formulation over the remaining sites (lazily truncated radii when large)
       either finds a better plan or proves none exists; both prove optimality.
    """
    t_build = time.perf_counter()
    allowed = allowed_pairs(prep, opts, max_minutes)
    first: Outcome | Handover | None = None
    if opts.p is not None and opts.pure_p_median and prep.n * prep.m > _heuristic.MAX_DENSE_CELLS:
        # province scale (no dense matrix): the sparse Lagrangian path settles it
        first = _large_median(
            prep, opts, deadline, allowed, initial_open=initial_open, t_build=t_build
        )
    if first is None:
        first = _lagrangian_first(
            prep, opts, deadline, allowed, initial_open=initial_open, t_build=t_build
        )
    if isinstance(first, Outcome):
        return first, Formulation("p_median", MipBuilder().build(), 0, allowed=allowed)
    work, incumbent, inc_val, start_open, lag_info = first
    if (
        incumbent is not None
        and opts.pure_p_median
        and not lag_info
        and deadline.left() < 0.5 * opts.time_limit_s
    ):
        # a large instance (no dense heuristic) whose greedy plan took half the time: the
        # radius MIP could not even be built in what is left; the plan, with a valid bound
        out = settled(
            incumbent,
            inc_val,
            bound=_nearest_site_bound(prep, allowed, inc_val),
            status="feasible",
            gap=None,
            message=Msg("models.raw_heuristic_plan"),
            solver=opts.solver,
            build_time_s=time.perf_counter() - t_build,
        )
        out.gap = (inc_val - float(out.bound or 0.0)) / max(abs(inc_val), 1e-10)
        return out, Formulation("p_median", MipBuilder().build(), 0, allowed=allowed)
    # pairs beyond a client's nearest always-open site never matter
    w_allowed = allowed_pairs(work, opts, max_minutes)
    if work.fixed.any():
        _, near_fixed = work.nearest_open(work.fixed, w_allowed)
        w_allowed &= work.pt <= near_fixed[work.pi] + 1e-9
    work = dataclasses.replace(
        work, pi=work.pi[w_allowed], pj=work.pj[w_allowed], pt=work.pt[w_allowed]
    )
    if initial_keep is None:
        rad0 = client_levels(work, np.ones(work.pi.size, dtype=bool))
        if int(rad0.n_levels.sum()) <= MAX_FULL_LEVELS:
            initial_keep = rad0.n_levels
    build_time = time.perf_counter() - t_build
    lag_bound = lag_info.get("lagrangian_bound")
    try:
        out = _radius_loop(
            work,
            opts,
            deadline,
            start_open=start_open,
            initial_keep=initial_keep,
            progress=progress,
        )
    except NoSolution:
        if incumbent is None or not opts.pure_p_median:
            raise
        bound0 = _nearest_site_bound(prep, allowed, inc_val)
        if isinstance(lag_bound, float) and math.isfinite(lag_bound):
            bound0 = min(max(bound0, lag_bound), inc_val)
        out = settled(
            incumbent,
            inc_val,
            bound=bound0,
            raw_bound=None,
            status="feasible",
            gap=abs(inc_val - bound0) / max(abs(inc_val), 1e-10),
            message=Msg("models.raw_heuristic_plan"),
            solver=opts.solver,
        )
    except Infeasible:
        if incumbent is None or not lag_info:
            raise
        # nothing better than the incumbent exists among the remaining sites: it is optimal
        out = settled(
            incumbent,
            inc_val,
            bound=inc_val,
            status="optimal",
            gap=0.0,
            message=Msg("models.raw_incumbent_proven"),
            solver=opts.solver,
        )
    if opts.pure_p_median and incumbent is not None and inc_val < out.objective - 1e-9:
        # the reduced MIP only searches plans better than the incumbent; none found
        bound = out.bound
        proven = out.status == "optimal"
        gap = (
            0.0
            if proven
            else (None if bound is None else abs(inc_val - bound) / max(abs(inc_val), 1e-10))
        )
        out = dataclasses.replace(
            out, is_open=incumbent, objective=inc_val, bound=inc_val if proven else bound, gap=gap
        )
    lag_bound = lag_info.get("lagrangian_bound")
    if out.status != "optimal" and isinstance(lag_bound, float) and math.isfinite(lag_bound):
        # the Lagrangian / branch-and-bound bound is valid too: report the tighter one
        bound = lag_bound if out.bound is None else max(out.bound, lag_bound)
        gap = abs(out.objective - bound) / max(abs(out.objective), 1e-10)
        out = dataclasses.replace(out, bound=bound, gap=gap)
    if out.bound is None and out.status != "optimal":
        bound = _nearest_site_bound(prep, allowed, out.objective)
        gap = abs(out.objective - bound) / max(abs(out.objective), 1e-10)
        out = dataclasses.replace(out, bound=bound, gap=gap)
    form = Formulation("p_median", MipBuilder().build(), 0, allowed=allowed)
    out = dataclasses.replace(
        out, build_time_s=out.build_time_s + build_time, extras={**out.extras, **lag_info}
    )
    return out, form


def _nearest_site_bound(prep: Prepared, allowed: BoolArray, value: float) -> float:
    """Every patient travels at least to the nearest allowed site: a valid bound at once."""
    _, nearest = prep.nearest_open(np.ones(prep.m, dtype=bool), allowed)
    pos = prep.weight > 0
    return min(float(np.dot(prep.weight[pos], nearest[pos])), value)


#: What the Lagrangian stage hands to the radius MIP: the data restricted to sites that may
#: still improve on the incumbent, the incumbent and its value, the MIP's start, the figures.
Handover = tuple[Prepared, BoolArray | None, float, BoolArray | None, dict[str, object]]


def _lagrangian_first(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    allowed: BoolArray,
    *,
    initial_open: BoolArray | None,
    t_build: float,
) -> Outcome | Handover:
    """Heuristic plan, Lagrangian bound and fixing, then branch-and-bound (dense instances).

    Returns the :class:`Outcome` when the plan is settled (bound met, or the search
    finished), else what the radius MIP starts from.
    """
    incumbent: BoolArray | None = initial_open
    inc_val = INF
    d = None
    if opts.p is not None:
        d = dense_costs(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed], prep.pt[allowed])
    if d is None or opts.p is None:
        if opts.p is not None and incumbent is None:
            # too large for the dense heuristic: a sparse greedy plan (any size) as the
            # incumbent the radius MIP starts from and the answer if it finds none
            incumbent = p_median_greedy(
                (prep.pi[allowed], prep.pj[allowed], prep.pt[allowed]),
                prep.weight,
                opts.p,
                fixed=prep.fixed,
                openable=prep.openable,
            )
            if incumbent is not None:
                _, served = prep.nearest_open(incumbent, allowed)
                pos = prep.weight > 0
                inc_val = float(np.dot(prep.weight[pos], served[pos]))
                return prep, incumbent, inc_val, incumbent, {}
        return prep, incumbent, inc_val, initial_open, {}
    heur = p_median_heuristic(
        d,
        prep.weight,
        opts.p,
        fixed=prep.fixed,
        openable=prep.openable,
        time_limit_s=min(1.0, 0.05 * deadline.left()),
    )
    if incumbent is not None and heur is not None:
        if p_median_value(d, prep.weight, heur) < p_median_value(d, prep.weight, incumbent):
            incumbent = heur
    elif heur is not None:
        incumbent = heur
    if incumbent is not None:
        inc_val = p_median_value(d, prep.weight, incumbent)
    if not opts.pure_p_median or not math.isfinite(inc_val):
        return prep, incumbent, inc_val, initial_open, {}
    assert incumbent is not None  # noqa: S101 - inc_val is finite
    whole = integral(prep.weight) and integral(prep.pt[allowed])
    lb, fix0, fix1, plan, val, lam = lagrangian_fixing(
        d,
        prep.weight,
        opts.p,
        fixed=prep.fixed,
        openable=prep.openable,
        upper=inc_val,
        integral=whole,
        time_limit_s=max(0.5, 0.25 * deadline.left()),
    )
    if plan is not None and val < inc_val:
        incumbent, inc_val = plan, val
    margin = (1.0 - 1e-6) if whole else -1e-9 * max(1.0, abs(inc_val))
    lag_info: dict[str, object] = {
        "lagrangian_bound": lb,
        "sites_fixed_closed": int(fix0.sum()),
        "sites_fixed_open": int(fix1.sum()),
    }
    if lb > inc_val - margin:
        return settled(
            incumbent,
            inc_val,
            bound=lb,
            status="optimal",
            gap=0.0,
            message=Msg("models.raw_lagrangian_bound"),
            solver=opts.solver,
            build_time_s=time.perf_counter() - t_build,
            extras={**lag_info, "radius_rounds": 0},
        )
    bb = branch_and_bound(
        d,
        prep.weight,
        opts.p,
        fixed=prep.fixed | fix1,
        openable=prep.openable & ~fix0,
        plan=incumbent,
        lam=lam,
        integral=whole,
        time_limit_s=BRANCH_SHARE * deadline.left(),
        rel_gap=opts.mip_gap,
    )
    lag_info["branch_nodes"] = bb.nodes
    if bb.value < inc_val:
        incumbent, inc_val = bb.plan, bb.value
    lb = max(lb, bb.bound)
    lag_info["lagrangian_bound"] = lb
    if bb.finished:
        proven = proven_optimal(inc_val, lb, integral=whole)
        note = (
            Msg("models.raw_branch_proven", nodes=bb.nodes)
            if proven
            else Msg("models.raw_branch_gap", gap=opts.mip_gap, nodes=bb.nodes)
        )
        return settled(
            incumbent,
            inc_val,
            bound=inc_val if proven else lb,
            raw_bound=lb,
            status="optimal" if proven else "feasible",
            gap=0.0 if proven else max(0.0, inc_val - lb) / max(abs(inc_val), 1e-10),
            message=note,
            solver=opts.solver,
            build_time_s=time.perf_counter() - t_build,
            extras={**lag_info, "radius_rounds": 0},
        )
    # restrict the MIP to sites that may still improve on the incumbent
    openable = prep.openable & ~fix0
    fixed = prep.fixed | fix1
    work = dataclasses.replace(prep, openable=openable, fixed=fixed)
    keeps = bool(incumbent[fixed].all()) and not bool(incumbent[~openable].any())
    return work, incumbent, inc_val, incumbent if keeps else None, lag_info


def _large_median(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    allowed: BoolArray,
    *,
    initial_open: BoolArray | None,
    t_build: float,
) -> Outcome | None:
    """Province scale (no dense matrix): :mod:`planning.models._median_large` settles it.

    The best plan by the deadline with its valid Lagrangian bound; ``None`` when some
    weighted demand point has no openable pair (the radius path reports that).
    """
    assert opts.p is not None  # noqa: S101 - pure p-median
    whole = integral(prep.weight) and integral(prep.pt[allowed])
    got = solve_large_median(
        prep.pi[allowed],
        prep.pj[allowed],
        prep.pt[allowed],
        prep.weight,
        opts.p,
        fixed=prep.fixed,
        openable=prep.openable,
        end=deadline.end - LARGE_RESERVE_S - min(0.04 * opts.time_limit_s, 2.0),
        rel_gap=opts.mip_gap,
        integral=whole,
        start=initial_open,
    )
    if got is None:
        return None
    bound = min(max(got.bound, _nearest_site_bound(prep, allowed, got.value)), got.value)
    proven = proven_optimal(got.value, bound, integral=whole)
    gap = 0.0 if proven else max(0.0, got.value - bound) / max(abs(got.value), 1e-10)
    return settled(
        got.plan,
        got.value,
        bound=got.value if proven else bound,
        raw_bound=bound,
        status="optimal" if proven else "feasible",
        gap=gap,
        message=Msg("models.raw_large_median", iterations=got.iterations),
        solver="heuristic",
        build_time_s=time.perf_counter() - t_build,
        extras={**got.extras, "lagrangian_bound": bound, "radius_rounds": 0},
    )


def _radius_loop(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    start_open: BoolArray | None,
    initial_keep: IntArray | None,
    progress: Progress | None = None,
) -> Outcome:
    """Solve the radius formulation, extending truncated radii until proven (see module)."""
    t_build = time.perf_counter()
    full_allowed = np.ones(prep.pi.size, dtype=bool)
    rad = client_levels(prep, full_allowed)
    if initial_keep is None:
        if start_open is not None:
            _, near_t = prep.nearest_open(start_open)
            keep = np.ones(prep.n, dtype=np.int64)
            for i in np.flatnonzero(rad.n_levels > 0).tolist():
                if not math.isfinite(near_t[i]):
                    keep[i] = rad.n_levels[i]
                    continue
                keep[i] = int(np.searchsorted(rad.level_dist[i], near_t[i] + 1e-9))
            # slack: one level past the start plan, and at least the levels of the client's
            # ~2p nearest sites, keeps most clients' optimal distance inside the model (one
            # round on Putian for p = 3..15; p = 6: 4.2 s against 5.5 s with ~3p levels, 14.7 s
            # and 5 rounds with ~p levels, 20 s with every level)
            floor = 2 * opts.p + 2 if opts.p is not None else 8
            initial_keep = np.minimum(np.maximum(keep + 1, floor), rad.n_levels)
        else:
            initial_keep = np.minimum(rad.n_levels, 8)
    form = formulate_p_median(prep, opts, radius_keep=initial_keep)
    rad = form.radius  # type: ignore[assignment]
    assert rad is not None  # noqa: S101
    build_time = time.perf_counter() - t_build
    solve_time = 0.0
    iterations = 0
    best_open: BoolArray | None = None
    best_val = INF
    outside = np.zeros(0, dtype=np.int64)
    while True:
        iterations += 1
        start = start_vector(form, prep, start_open) if start_open is not None else None
        if start is not None and opts.pure_p_median:
            form.mip.highs_options.update(P_MEDIAN_WARM_OPTIONS)
        t0 = time.perf_counter()
        raw = run_solver(form.mip, opts, deadline, start=start, progress=progress)
        solve_time += time.perf_counter() - t0
        if raw.x is None:
            if raw.status == "infeasible":
                raise Infeasible(raw)
            if best_open is None:
                raise NoSolution(raw)
            break
        is_open = raw.x[form.y0 : form.y0 + prep.m] > 0.5
        _, served_t = prep.nearest_open(is_open)
        pos = np.flatnonzero(rad.n_levels > 0)
        true_val = float(np.dot(prep.weight[pos], served_t[pos]))
        if true_val < best_val:
            best_val, best_open = true_val, is_open
        limit = np.array([rad.level_dist[i][rad.keep[i] - 1] for i in pos.tolist()])
        outside = pos[served_t[pos] > limit + 1e-9]
        if progress is not None:
            progress(
                min(0.9, 0.2 + 0.1 * iterations), MsgStr("progress.pmedian_round", n=iterations)
            )
        logger.info(
            "p-median radius round %d: relaxation %.6g, plan %.6g, %d clients outside",
            iterations,
            raw.objective or 0.0,
            true_val,
            outside.size,
        )
        if outside.size == 0 or raw.status != "optimal" or deadline.expired():
            break
        new_keep = rad.keep.copy()
        for i in outside.tolist():
            lv = int(np.searchsorted(rad.level_dist[i], served_t[i] + 1e-9))
            new_keep[i] = min(int(rad.n_levels[i]), max(lv, 2 * int(rad.keep[i])))
        t_b = time.perf_counter()
        form = formulate_p_median(prep, opts, radius_keep=new_keep)
        rad = form.radius  # type: ignore[assignment]
        assert rad is not None  # noqa: S101
        build_time += time.perf_counter() - t_b
        start_open = best_open
    assert best_open is not None  # noqa: S101
    # the truncated model is a relaxation: its bound is valid for the full problem, and when
    # every client is served within its modelled radius the relaxation optimum is attained
    bound = raw.bound
    proven = raw.status == "optimal" and outside.size == 0
    if bound is not None:
        gap: float | None = 0.0 if proven else abs(best_val - bound) / max(abs(best_val), 1e-10)
    else:
        gap = 0.0 if proven else None
    status: Status = "optimal" if proven else "feasible"
    if proven:
        bound = best_val if bound is None else min(bound, best_val)
    return Outcome(
        best_open,
        np.zeros(0),
        raw,
        best_val,
        bound,
        status,
        gap,
        solve_time,
        build_time,
        extras={
            "radius_rounds": iterations,
            "radius_levels_modelled": int(rad.keep[rad.n_levels > 0].sum()),
            "radius_levels_total": int(rad.n_levels.sum()),
        },
    )
