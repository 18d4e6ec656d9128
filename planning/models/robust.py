r"""A plan that holds across assumptions: the best worst case over a set of cases.

The demand figures are estimates and the travel speeds are assumptions; each combination
(a *case*, e.g. prevalence 3.80 ‰ with speeds x 0.8) has its own travel table and weights
over the same candidate sites. This model picks the one set of sites whose worst case is
best.

Notes
-----
Cases :math:`s \in S`, each with demand points :math:`i \in I_s`, patients :math:`w_{si}`
and covering sets :math:`N_{si} = \{j : t_{sij} \le T_{si}\}` over the same sites
:math:`j \in J`. Each case has a normaliser :math:`N_s > 0`:

* ``measure="coverage"``: :math:`N_s = W_s = \sum_i w_{si}` (the case's patients): the
  worst case of the share within reach is maximised;
* ``measure="regret"``: :math:`N_s = V_s^*`, the case's own MCLP optimum (patients within
  reach with its own best plan): the worst *relative regret* :math:`1 - V_s(y)/V_s^*` is
  minimised (the same as maximising the worst :math:`V_s(y)/V_s^*`).

Variables :math:`y_j \in \{0,1\}`, :math:`z_{si} \in [0,1]`, :math:`u \in [0,1]`. Stage 1:

.. math::

    u^* = \max u \quad \text{s.t.} \quad
    u \le \frac{1}{N_s} \sum_i w_{si} z_{si} \;\forall s, \qquad
    z_{si} \le \sum_{j \in N_{si}} y_j, \qquad
    \sum_j y_j = p, \qquad y_j = 1 \;\forall j \text{ existing}

Stage 2 breaks ties by the average over the cases: the same rows with :math:`u \ge u^*` and
:math:`\max \sum_s \frac{1}{N_s} \sum_i w_{si} z_{si}`. Demand points of a case with the same
covering set share one column, and cases
every plan values alike (the same covering pairs, the same patients relative to :math:`N_s`,
e.g. a uniform prevalence) share one set of rows, counted as often in the sum (both exact).
A budget, a site in every county, a share of counties with a site and a hub per prefecture
apply as in the MCLP; county coverage targets and capacities are not offered
(:class:`~planning.errors.ScenarioError`). The plan is ``"optimal"`` only when both stages
are proven optimal; otherwise the gap of the first stage that was not is reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from planning.errors import DataError, InfeasibleError, ScenarioError, SolverError
from planning.models._blocks import add_side, cover_link, group_sets, site_columns
from planning.models._dispatch import solve
from planning.models._mip import BoolArray, FloatArray, Mip, MipBuilder
from planning.models._prep import Prepared, prepare
from planning.models._run import Deadline, run_solver
from planning.models.base import ModelInput, Status
from planning.models.max_min import complete_mip_start
from planning.models.mclp import MCLP_WARM_OPTIONS
from planning.models.options import ModelOptions, ScenarioLike, as_options

Measure = Literal["coverage", "regret"]

#: Slack (share) allowed below the stage-1 optimum in stage 2, for the solver's tolerances.
SHARE_SLACK = 1e-7


@dataclass(frozen=True, kw_only=True)
class RobustSolution:
    """The robust plan and how it does in each case.

    Attributes
    ----------
    selected_sites
        Ids of the open sites (existing ones included), sorted.
    measure
        ``"coverage"`` or ``"regret"`` (see the module docstring).
    worst
        :math:`u^*`: the worst case's share within reach (``coverage``) or the worst
        :math:`V_s(y)/V_s^*` (``regret``; the worst regret is ``1 - worst``).
    cases
        One row per case (in the order given): ``patients`` (:math:`W_s`), ``covered``
        (patients within reach with this plan), ``share`` (covered / patients),
        ``optimum`` (:math:`V_s^*`; NaN when not computed), ``regret``
        (``1 - covered / optimum``, NaN when not computed).
    status, gap, bound
        ``"optimal"`` only when proven (both stages); relative gap and bound of the stage
        that decides (see the module docstring).
    solve_time_s
        Seconds in the solver (both stages, case optima included).
    """

    selected_sites: tuple[str, ...]
    measure: Measure
    worst: float
    cases: pd.DataFrame
    status: Status
    gap: float | None
    bound: float | None
    solve_time_s: float


def case_optima(cases: Sequence[ModelInput], options: ModelOptions) -> list[float]:
    """Each case's own MCLP optimum :math:`V_s^*` (patients within reach).

    Raises
    ------
    SolverError
        A case optimum is not proven within the time limit (the regret would be wrong).
    """
    out = []
    for data in cases:
        sol = solve(data, options.replace(kind="mclp"))
        if sol.status != "optimal":
            raise SolverError("models.robust_optimum_unproven", time_limit_s=options.time_limit_s)
        out.append(float(sol.objective))
    return out


def solve_robust(
    cases: Sequence[ModelInput],
    options: ModelOptions | ScenarioLike,
    *,
    measure: Measure = "regret",
    optima: Sequence[float] | None = None,
    starts: Sequence[Sequence[str]] = (),
) -> RobustSolution:
    """Find the plan with the best worst case over ``cases`` (see the module docstring).

    Parameters
    ----------
    cases
        One model input per case, all over the same sites (same ``site_id`` and ``fixed``).
    options
        ``p``, ``max_travel_min`` and side rules, as for the MCLP (a scenario is read with
        :meth:`~planning.models.ModelOptions.from_scenario`; ``kind`` is ignored).
    measure
        ``"regret"`` (default): the smallest worst relative regret against each case's own
        optimum; ``"coverage"``: the largest worst share within reach.
    optima
        Each case's own MCLP optimum, when already known (proven); else solved here.
    starts
        Plans (open site ids) to start from, e.g. each case's own plan: the best of them over
        every case is the solver's first plan, so the answer is never worse than any.

    Raises
    ------
    DataError
        The cases do not share their sites.
    ScenarioError
        Capacities or county coverage targets (not offered).
    InfeasibleError, SolverError
        No plan meets the rules, or none was found in time.
    """
    opts = as_options(options).replace(kind="mclp")
    if opts.capacitated or opts.county_target is not None:
        raise ScenarioError("models.robust_unsupported")
    if not cases:
        raise DataError("models.robust_no_cases")
    preps = [prepare(data, opts) for data in cases]
    base = preps[0]
    for prep in preps[1:]:
        same = np.array_equal(prep.site_ids, base.site_ids) and np.array_equal(
            prep.fixed, base.fixed
        )
        if not same:
            raise DataError("models.robust_sites_differ")
    t_opt = time.perf_counter()
    if measure == "regret" and optima is None:
        optima = case_optima(cases, opts)
    opt_time = time.perf_counter() - t_opt
    totals = np.array([float(p.weight.sum()) for p in preps])
    if measure == "regret":
        assert optima is not None  # noqa: S101 - set above
        norm = np.array([max(float(v), 1e-12) for v in optima])
    else:
        norm = np.maximum(totals, 1e-12)
    deadline = Deadline(opts.time_limit_s)
    keep, times = distinct_cases(preps, norm)
    kept = [preps[k] for k in keep]
    mip1, u, y0 = _formulate(kept, opts, norm[keep], times, floor=None)
    start = _best_start(preps, norm, starts, mip1, y0)
    if start is not None:
        mip1.highs_options.update(MCLP_WARM_OPTIONS)
    raw1 = run_solver(mip1, opts, Deadline(0.6 * deadline.left()), start=start)
    if raw1.x is None:
        if raw1.status == "infeasible":
            raise InfeasibleError("models.robust_infeasible", culprit="n_facilities")
        raise SolverError("models.robust_no_plan", time_limit_s=opts.time_limit_s)
    worst = float(raw1.x[u])
    mip2, _, _ = _formulate(kept, opts, norm[keep], times, floor=worst)
    mip2.highs_options.update(MCLP_WARM_OPTIONS)
    raw2 = run_solver(mip2, opts, deadline, start=raw1.x)
    raw = raw2 if raw2.x is not None else raw1
    assert raw.x is not None  # noqa: S101 - one of them has a plan
    is_open = raw.x[y0 : y0 + base.m] > 0.5
    proven1 = raw1.status == "optimal"
    status: Status = "optimal" if proven1 and raw2.status == "optimal" else "feasible"
    decided = raw2 if proven1 and raw2.x is not None else raw1
    covered = [float(p.weight[_within(p, is_open)].sum()) for p in preps]
    opt_col = np.array(optima, dtype=float) if optima is not None else np.full(len(preps), np.nan)
    table = pd.DataFrame(
        {
            "patients": totals,
            "covered": covered,
            "share": [c / t if t > 0 else math.nan for c, t in zip(covered, totals, strict=True)],
            "optimum": opt_col,
        }
    )
    table["regret"] = 1.0 - table["covered"] / table["optimum"]
    return RobustSolution(
        selected_sites=tuple(sorted(str(s) for s in base.site_ids[is_open])),
        measure=measure,
        worst=worst,
        cases=table,
        status=status,
        gap=decided.gap,
        bound=decided.bound,
        solve_time_s=raw1.solve_time_s + raw2.solve_time_s + opt_time,
    )


def distinct_cases(preps: list[Prepared], norm: FloatArray) -> tuple[list[int], FloatArray]:
    """Return the cases that differ (the first of each set of equivalent ones) and how many.

    Two cases are equivalent when they have the same covering pairs and the same patients
    relative to their normaliser (e.g. a uniform prevalence with the census estimate): every
    plan has the same value in both, so one set of rows serves them all, counted as many
    times in the stage-2 sum (exact).
    """
    seen: dict[bytes, int] = {}
    keep: list[int] = []
    times: list[float] = []
    for k, prep in enumerate(preps):
        cover = prep.covering_pairs() & prep.openable[prep.pj]
        key = b"|".join(
            [
                prep.pi[cover].tobytes(),
                prep.pj[cover].tobytes(),
                np.round(prep.weight / norm[k], 12).tobytes(),
            ]
        )
        if key in seen:
            times[seen[key]] += 1.0
        else:
            seen[key] = len(keep)
            keep.append(k)
            times.append(1.0)
    return keep, np.asarray(times)


def _best_start(
    preps: list[Prepared],
    norm: FloatArray,
    starts: Sequence[Sequence[str]],
    mip: Mip,
    y0: int,
) -> FloatArray | None:
    """Return the best of ``starts`` (worst case, then mean) as a start vector of ``mip``."""
    base = preps[0]
    best: tuple[float, float] | None = None
    chosen: BoolArray | None = None
    for ids in starts:
        is_open = np.isin(base.site_ids, np.asarray(list(ids), dtype=object)) | base.fixed
        values = np.array([float(p.weight[_within(p, is_open)].sum()) for p in preps]) / norm
        score = (float(values.min()), float(values.mean()))
        if best is None or score > best:
            best, chosen = score, is_open
    return None if chosen is None else complete_mip_start(mip, y0, chosen)


def _within(prep: Prepared, is_open: BoolArray) -> BoolArray:
    """Demand points within their threshold of an open site."""
    _, near = prep.nearest_open(is_open, prep.covering_pairs() & prep.openable[prep.pj])
    return np.asarray(near <= prep.threshold + 1e-9)


def _formulate(
    preps: list[Prepared],
    opts: ModelOptions,
    norm: FloatArray,
    times: FloatArray,
    *,
    floor: float | None,
) -> tuple[Mip, int, int]:
    """Stage 1 (``floor=None``) or stage 2 (``u >= floor``); return the MIP, u's and y's column."""
    base = preps[0]
    b = MipBuilder(sense="max")
    y0 = site_columns(b, base, cost=0.0)
    site_col = y0 + np.arange(base.m, dtype=np.int64)
    u = b.add_cols(
        1,
        cost=1.0 if floor is None else 0.0,
        lb=0.0 if floor is None else max(0.0, floor - SHARE_SLACK),
        ub=1.0,
        names=["worst_case"],
    )
    for s, prep in enumerate(preps):
        cover = prep.covering_pairs() & prep.openable[prep.pj]
        group, sets = group_sets(prep, cover, np.flatnonzero(prep.weight > 0), by_county=False)
        has = group >= 0
        gw = np.bincount(group[has], weights=prep.weight[has], minlength=len(sets))
        groups = np.arange(len(sets), dtype=np.int64)
        members = np.repeat(groups, [js.size for js in sets])
        sites = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
        zcols, live, always = cover_link(
            b, site_col, members, sites, groups, prefix=f"covered{s}", family="cover"
        )
        coef = gw[live] / norm[s]
        if floor is not None:  # each case counted as often as it stands for equivalent ones
            b.add_cost(zcols, times[s] * coef)
            b.offset += float(times[s] * gw[always].sum() / norm[s])
        b.add_rows(
            1,
            np.zeros(zcols.size + 1, dtype=np.int64),
            np.concatenate([[u], zcols]),
            np.concatenate([[1.0], -coef]),
            ub=float(gw[always].sum() / norm[s]),
            family="worst_case",
            names=[f"worst_case_{s}"],
        )
    add_side(b, base, opts, y0, "mclp", None)
    return b.build(), u, y0
