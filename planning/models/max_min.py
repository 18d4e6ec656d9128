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

import time

import numpy as np
import pulp

from planning.errors import ScenarioError
from planning.models._blocks import Formulation, add_side, cover_link, integral, site_columns
from planning.models._mip import BoolArray, IntArray, MipBuilder
from planning.models._prep import Prepared, prepare
from planning.models._run import Deadline, Infeasible, NoSolution, Outcome, run_solver
from planning.models.base import ModelInput, Status
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
    pos = np.flatnonzero(w > 0)
    zcols, dem, always = cover_link(
        b,
        site_col,
        prep.pi[cover],
        prep.pj[cover],
        pos,
        prefix="covered",
        family="cover",
    )
    if floor is not None:
        b.add_cost(zcols, w[dem])
        b.offset += float(w[pos[always]].sum())
    counties, _ = reachable_counties(prep)
    u = b.add_cols(
        1,
        cost=1.0 if floor is None else 0.0,
        lb=0.0 if floor is None else max(0.0, floor - SHARE_SLACK),
        ub=1.0,
        names=["worst_share"],
    )
    _share_rows(b, prep, counties, u, zcols, dem, pos[always])
    count_row = add_side(b, prep, opts, y0, "mclp", (prep.county[dem], zcols, w[dem]))
    mip = b.build(integral_objective=floor is not None and integral(w))
    allowed = cover
    return Formulation("mclp", mip, y0, count_row=count_row, allowed=allowed), u, counties


def _share_rows(  # noqa: PLR0917 - internal helper
    b: MipBuilder,
    prep: Prepared,
    counties: list[str],
    u: int,
    zcols: IntArray,
    dem: IntArray,
    always: IntArray,
) -> None:
    r"""Add :math:`u - \sum_{i \in c} (w_i / W_c) z_i \le (\text{always covered})_c / W_c`."""
    if not counties:
        return
    w = prep.weight
    index = {c: k for k, c in enumerate(counties)}
    total = np.zeros(len(counties))
    const = np.zeros(len(counties))
    for i in np.flatnonzero(w > 0).tolist():
        k = index.get(str(prep.county[i]), -1)
        if k >= 0:
            total[k] += w[i]
    for i in always.tolist():
        k = index.get(str(prep.county[i]), -1)
        if k >= 0:
            const[k] += w[i]
    zk = np.array([index.get(str(prep.county[i]), -1) for i in dem.tolist()], dtype=np.int64)
    mine = zk >= 0
    rows = np.concatenate([np.arange(len(counties)), zk[mine]])
    cols = np.concatenate([np.full(len(counties), u), zcols[mine]])
    vals = np.concatenate([np.ones(len(counties)), -w[dem[mine]] / total[zk[mine]]])
    b.add_rows(len(counties), rows, cols, vals, ub=const / total, family="worst_county_share")


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
    del start_open  # the stages start each other
    t0 = time.perf_counter()
    form1, u, counties = formulate_max_min(prep, opts)
    build = time.perf_counter() - t0
    stage1 = Deadline(STAGE1_SHARE * deadline.left())
    raw1 = run_solver(form1.mip, opts, stage1)
    if raw1.x is None:
        if raw1.status == "infeasible":
            raise Infeasible(raw1)
        raise NoSolution(raw1)
    share = float(raw1.x[u]) if counties else 1.0
    t1 = time.perf_counter()
    form2, _, _ = formulate_max_min(prep, opts, floor=share)
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
        "worst_county_share": share,
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
