r"""Fairest plan (max-min): the worst-off county's share within reach as high as it can be.

Where the MCLP (:mod:`~planning.models.mclp`) covers as many patients as it can, wherever
they live, this model first lifts the county left furthest behind, then covers as many
patients as it can without lowering that county again (total coverage breaks the tie).

Notes
-----
Sets and symbols as in the MCLP: demand points :math:`i \in I` with patients :math:`w_i`,
sites :math:`j \in J`, :math:`N_i = \{j : t_{ij} \le T_i\}` the sites within the demand
point's threshold (``max_travel_min``, or the urban / rural threshold), only pairs of the
sparse travel table. Counties :math:`c` with patients :math:`W_c = \sum_{i \in c} w_i > 0`;
:math:`C^*` those with at least one patient some openable (or existing) site can reach
within the threshold: a county no site can reach has a share of 0 in every plan and would
make every plan equally "fair", so it is left out of the minimum (and listed in the
solution's ``extras["max_min_counties_unreachable"]``). Variables :math:`y_j \in \{0,1\}`
(site open), :math:`z_i \in [0,1]` (demand point covered), :math:`u \in [0,1]` (the
worst-off county's share).

Stage 1, the worst-off county:

.. math::

    u^* = \max u \quad \text{s.t.} \quad
    u \le \frac{1}{W_c} \sum_{i \in c} w_i z_i \;\forall c \in C^*, \qquad
    z_i \le \sum_{j \in N_i} y_j \;\forall i, \qquad
    \sum_j y_j = p, \qquad y_j = 1 \;\forall j \text{ existing}

Stage 2, total coverage as the tie-break: the same rows with :math:`u \ge u^*` and

.. math::

    \max \sum_i w_i z_i .

For integer :math:`y` an optimal :math:`z_i = \min(1, \sum_{N_i} y_j)` is integral, as in the
MCLP. Every side rule of the options applies to both stages (budget with
:math:`\sum_j y_j \le p`, a site in every county, in a share of counties, a hub per
prefecture, county coverage targets, the referral limit); a capacitated max-min is not
offered (:class:`~planning.errors.ScenarioError`).

The plan is ``"optimal"`` only when both stages are proven optimal. When stage 1 stops at
the time limit its gap is the solution's ``gap`` (the worst-off share is what the plan is
judged on first) and stage 2 keeps the best share found; otherwise the gap is stage 2's.
``extras``: ``worst_county_share`` (:math:`u^*`), ``worst_county_share_bound`` (stage 1's
proven bound), ``max_min_gap`` (stage 1's gap), ``max_min_counties`` (:math:`C^*`) and
``max_min_counties_unreachable``. The objective is the number of patients covered.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import numpy.typing as npt
import pandas as pd
import pulp

from planning.errors import ScenarioError
from planning.models._blocks import (
    Formulation,
    Terms,
    add_side,
    cover_link,
    group_sets,
    integral,
    site_columns,
)
from planning.models._heuristic import MAX_DENSE_CELLS
from planning.models._mip import BoolArray, FloatArray, HighsSession, IntArray, Mip, MipBuilder
from planning.models._prep import Prepared, prepare
from planning.models._run import Deadline, Infeasible, NoSolution, Outcome, run_solver
from planning.models.base import ModelInput, Status
from planning.models.mclp import MCLP_WARM_OPTIONS
from planning.models.options import ModelOptions, ScenarioLike, as_options

#: Slack (share) allowed below the stage-1 optimum in stage 2, for the solver's tolerances.
SHARE_SLACK = 1e-7

#: Share of the time left that stage 1 may use (stage 2 gets the rest).
STAGE1_SHARE = 0.6


def build_max_min(data: ModelInput, options: ModelOptions | ScenarioLike) -> pulp.LpProblem:
    r"""Build (without solving) stage 1 of the max-min model of ``options`` on ``data``.

    Parameters
    ----------
    data
        Sparse travel minutes, demand weights (with ``county``) and sites, keyed by ids.
    options
        ``p``, ``max_travel_min`` (T, minutes) and the constraints. A
        :class:`~planning.scenario.Scenario` is read with
        :meth:`~planning.models.ModelOptions.from_scenario`.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` of stage 1 (variables ``y_<site_id>``, ``covered_<k>``,
        ``worst_share``): :math:`\max u` s.t. :math:`u \le` each county's covered share.
        Stage 2 (see the module docstring) adds :math:`u \ge u^*` and maximises coverage.
    """
    opts = as_options(options).replace(kind="max_min")
    form, _, _ = formulate_max_min(prepare(data, opts), opts)
    prob, _ = form.mip.to_pulp(f"max_min_{opts.name}")
    return prob


def reachable_counties(prep: Prepared) -> tuple[list[str], list[str]]:
    """Counties with patients some openable or existing site reaches, and those none reaches."""
    cover = prep.covering_pairs() & (prep.openable | prep.fixed)[prep.pj]
    reached = {str(c) for c in prep.county[prep.pi[cover & (prep.weight[prep.pi] > 0)]] if c}
    counties = prep.demand_counties()
    return [c for c in counties if c in reached], [c for c in counties if c not in reached]


def formulate_max_min(
    prep: Prepared, opts: ModelOptions, *, floor: float | None = None
) -> tuple[Formulation, int, list[str]]:
    """Build stage 1 (``floor=None``) or stage 2 (``u >= floor``) of the max-min model.

    Returns the formulation, the column of :math:`u` and the counties :math:`C^*`.
    """
    if opts.capacitated:
        raise ScenarioError("models.max_min_capacitated")
    b = MipBuilder(sense="max")
    w = prep.weight
    y0 = site_columns(b, prep, cost=0.0)
    site_col = y0 + np.arange(prep.m, dtype=np.int64)
    cover = prep.covering_pairs() & prep.openable[prep.pj]
    # demand points of one county with the same site set share a column (exact)
    group, sets = group_sets(prep, cover, np.flatnonzero(w > 0), by_county=True)
    has = group >= 0
    gw = np.bincount(group[has], weights=w[has], minlength=len(sets)).astype(float)
    gcounty = np.full(len(sets), "", dtype=object)
    gcounty[group[has]] = prep.county[has]
    groups = np.arange(len(sets), dtype=np.int64)
    members = np.repeat(groups, [js.size for js in sets])
    sites = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
    zcols, live, always = cover_link(
        b, site_col, members, sites, groups, prefix="covered", family="cover"
    )
    if floor is not None:
        b.add_cost(zcols, gw[live])
        b.offset += float(gw[always].sum())
    counties, _ = reachable_counties(prep)
    u = b.add_cols(
        1,
        cost=1.0 if floor is None else 0.0,
        lb=0.0 if floor is None else max(0.0, floor - SHARE_SLACK),
        ub=1.0,
        names=["worst_share"],
    )
    total = pd.Series(w[w > 0]).groupby(prep.county[w > 0]).sum()
    _share_rows(
        b, counties, total, u, (gcounty[live], zcols, gw[live]), gcounty[always], gw[always]
    )
    count_row = add_side(b, prep, opts, y0, "mclp", (gcounty[live], zcols, gw[live]))
    mip = b.build(integral_objective=floor is not None and integral(w))
    return Formulation("mclp", mip, y0, count_row=count_row, allowed=cover), u, counties


def _share_rows(  # noqa: PLR0917 - internal helper
    b: MipBuilder,
    counties: list[str],
    total: pd.Series,
    u: int,
    terms: Terms,
    always_county: npt.NDArray[np.object_],
    always_w: FloatArray,
) -> None:
    r"""Add :math:`u - \sum_{g \in c} (W_g / W_c) z_g \le (\text{always covered})_c / W_c`.

    ``terms``: county, column and patients of each demand group with a column;
    ``always_*``: county and patients of the groups an existing site covers.
    """
    if not counties:
        return
    index = {c: k for k, c in enumerate(counties)}
    tot = np.array([float(total[c]) for c in counties])
    const = np.zeros(len(counties))
    for c, wg in zip(always_county.tolist(), always_w.tolist(), strict=True):
        k = index.get(str(c), -1)
        if k >= 0:
            const[k] += wg
    county_of, col, coef = terms
    zk = np.array([index.get(str(c), -1) for c in county_of.tolist()], dtype=np.int64)
    mine = zk >= 0
    rows = np.concatenate([np.arange(len(counties)), zk[mine]])
    cols = np.concatenate([np.full(len(counties), u), col[mine]])
    vals = np.concatenate([np.ones(len(counties)), -coef[mine] / tot[zk[mine]]])
    b.add_rows(len(counties), rows, cols, vals, ub=const / tot, family="worst_county_share")


def solve_max_min(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    start_open: BoolArray | None = None,
) -> tuple[Outcome, Formulation]:
    """Solve both stages (see the module docstring) within the time left.

    Raises
    ------
    Infeasible, NoSolution
        Stage 1 proved that no plan exists, or stopped without one.
    """
    t0 = time.perf_counter()
    form1, u, counties = formulate_max_min(prep, opts)
    if start_open is None:
        start_open = fairest_swap(prep, opts, counties)
    start = complete_mip_start(form1.mip, form1.y0, start_open) if start_open is not None else None
    if start is not None:
        form1.mip.highs_options.update(MCLP_WARM_OPTIONS)
    build = time.perf_counter() - t0
    stage1 = Deadline(STAGE1_SHARE * deadline.left())
    raw1 = run_solver(form1.mip, opts, stage1, start=start)
    if raw1.x is None:
        if raw1.status == "infeasible":
            raise Infeasible(raw1)
        raise NoSolution(raw1)
    share = float(raw1.x[u]) if counties else 0.0  # no county to lift: the MCLP
    t1 = time.perf_counter()
    form2, _, _ = formulate_max_min(prep, opts, floor=share)
    form2.mip.highs_options.update(MCLP_WARM_OPTIONS)
    build += time.perf_counter() - t1
    start = raw1.x.copy()
    raw2 = run_solver(form2.mip, opts, deadline, start=start)
    raw, form = (raw2, form2) if raw2.x is not None else (raw1, form1)
    is_open = raw.x[form.y0 : form.y0 + prep.m] > 0.5  # type: ignore[index]
    proven1 = raw1.status == "optimal"
    status: Status = "optimal" if proven1 and raw2.status == "optimal" else "feasible"
    covered = float(prep.weight[_covered(prep, form, is_open)].sum())
    gap = raw2.gap if proven1 and raw2.x is not None else raw1.gap
    bound = raw2.bound if proven1 and raw2.x is not None else None
    _, unreachable = reachable_counties(prep)
    extras: dict[str, object] = {
        "worst_county_share": share if counties else None,
        "worst_county_share_bound": min(1.0, float(raw1.bound)) if raw1.bound is not None else None,
        "max_min_gap": raw1.gap,
        "max_min_counties": counties,
        "max_min_counties_unreachable": unreachable,
    }
    out = Outcome(
        is_open,
        raw.x,  # type: ignore[arg-type]
        raw,
        covered,
        bound,
        status,
        gap,
        raw1.solve_time_s + raw2.solve_time_s,
        build,
        extras,
    )
    return out, form


def _covered(prep: Prepared, form: Formulation, is_open: BoolArray) -> BoolArray:
    """Demand points within their threshold of an open site (along the model's pairs)."""
    _, near = prep.nearest_open(is_open, form.allowed)
    return near <= prep.threshold + 1e-9


def fairest_swap(prep: Prepared, opts: ModelOptions, counties: list[str]) -> BoolArray | None:
    """Return a plan to start from: greedy, then swaps, best (worst-off share, coverage) first.

    Side rules are ignored (:func:`complete_mip_start` drops a start that breaks one). ``None``
    without ``p``, without counties, or when the instance is too large for a dense
    coverage matrix.
    """
    if opts.p is None or prep.n * prep.m > MAX_DENSE_CELLS or not counties:
        return None
    w = prep.weight
    cover = prep.cover_matrix(prep.covering_pairs() & prep.openable[prep.pj]).astype(float)
    index = {c: k for k, c in enumerate(counties)}
    ck = np.array([index.get(str(c), -1) for c in prep.county], dtype=np.int64)
    share = np.zeros((len(counties), prep.n))
    ok = ck >= 0
    share[ck[ok], np.flatnonzero(ok)] = w[ok]
    share /= share.sum(axis=1, keepdims=True)

    def best(count: FloatArray, cand: IntArray) -> tuple[int, float, float]:
        hit = (count[:, None] + cover[:, cand]) > 0.5
        worst = np.round((share @ hit).min(axis=0), 12)
        total = w @ hit
        k = int(np.lexsort((total, worst))[-1])
        return int(cand[k]), float(worst[k]), float(total[k])

    is_open = prep.fixed.copy()
    count = cover[:, is_open].sum(axis=1)
    while int(is_open.sum()) < opts.p:
        cand = np.flatnonzero(prep.openable & ~is_open)
        if cand.size == 0:
            break
        j, _, _ = best(count, cand)
        is_open[j] = True
        count += cover[:, j]
    hit = count > 0.5
    now = (round(float((share @ hit).min()), 12), float(w @ hit))
    for _ in range(MAX_SWAP_PASSES):
        improved = False
        for a in np.flatnonzero(is_open & ~prep.fixed).tolist():
            cand = np.flatnonzero(prep.openable & ~is_open)
            if cand.size == 0:
                break
            j, worst, total = best(count - cover[:, a], cand)
            if (worst, total) > (now[0], now[1] + 1e-9):
                is_open[a], is_open[j] = False, True
                count += cover[:, j] - cover[:, a]
                now = (worst, total)
                improved = True
        if not improved:
            break
    return is_open


#: Rounds of swaps tried by :func:`fairest_swap`.
MAX_SWAP_PASSES = 20


def complete_mip_start(mip: Mip, y0: int, is_open: BoolArray) -> FloatArray | None:
    """Return a full start vector for ``mip`` whose site columns start at ``y0``.

    The site columns are fixed to ``is_open`` and an LP fills in the rest; ``None`` when the
    plan breaks a row of the model.
    """
    lb, ub = mip.lb.copy(), mip.ub.copy()
    cols = slice(y0, y0 + is_open.size)
    if (is_open & (ub[cols] < 0.5)).any() or (~is_open & (lb[cols] > 0.5)).any():
        return None
    lb[cols] = ub[cols] = is_open.astype(float)
    lp = dataclasses.replace(mip, lb=lb, ub=ub, integer=np.zeros_like(mip.integer))
    raw = HighsSession(lp).solve(time_limit_s=10.0, mip_gap=0.0)
    return None if raw.x is None else raw.x
