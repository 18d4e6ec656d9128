r"""Phased rollout: which sites open in which year to meet the yearly policy milestones.

A multi-period model on top of any siting model (``options.model.kind``): each period (year)
of ``options.periods`` has a number of new sites and/or an opening budget, and milestone
targets for the share of counties with at least one site and the share of patients within
reach. Sites stay open once opened; existing (fixed) sites are open from the start.

Milestones that the resources cannot meet are not an error: the plan meets as many of them as
possible (smallest total shortfall), each missed milestone is reported with its shortfall and
the smallest change that would meet it (extra sites and/or extra budget in that year).

Notes
-----
Symbols: demand points :math:`i` with patients :math:`w_i`; candidate sites :math:`j \in J`
(existing sites are constants, always open) with opening cost :math:`c_j` and capacity
:math:`q_j`; travel minutes :math:`d_{ij}` (sparse pairs); periods :math:`t = 1..T` (phase
years, increasing); per period a new-site limit :math:`n_t` and/or budget :math:`B_t`
(``None`` = no limit) and milestone targets :math:`\alpha_t` (share of the :math:`C`
counties with a site) and :math:`\beta_t` (share of the :math:`W = \sum_i w_i` patients
within ``max_travel_min`` of an open site, within capacity when capacitated).

Variables: :math:`y_{jt} \in \{0,1\}` site :math:`j` open in period :math:`t`;
:math:`h_{ct} \in [0,1]` county :math:`c` has a site; :math:`z_{it} \in [0,1]` demand
covered (uncapacitated) or allocations :math:`x_{ijt} \in [0,1]` (capacitated, p-median,
p-center); :math:`u_{it} \in [0,1]` demand not served by any open site;
:math:`s^{C}_t, s^{P}_t \ge 0` milestone shortfalls.

Constraints, every :math:`t`:

* stay open: :math:`y_{j,t-1} \le y_{jt}`;
* new sites: :math:`\sum_j (y_{jt} - y_{j,t-1}) \le n_t`; spend:
  :math:`\sum_j c_j (y_{jt} - y_{j,t-1}) \le B_t` (yearly; unused allowance does not carry
  over); overall caps on the last period: :math:`|F| + \sum_j y_{jT} \le`
  ``n_facilities`` and :math:`\sum_j c_j y_{jT} \le` ``constraints.budget`` when set;
* counties: :math:`h_{ct} \le \sum_{j \in J_c} y_{jt}` (1 if an existing site is in
  :math:`c`), :math:`\sum_c h_{ct} + s^{C}_t \ge \lceil \alpha_t C \rceil`;
* patients: :math:`z_{it} \le \sum_{j: d_{ij} \le T_{max}} y_{jt}` (1 if an existing site
  covers :math:`i`), or with capacities :math:`\sum_j x_{ijt} \le 1`,
  :math:`x_{ijt} \le y_{jt}`, :math:`\sum_i w_i x_{ijt} \le q_j y_{jt}`; then
  :math:`\sum_i w_i z_{it} + s^{P}_t \ge \beta_t W`.

Objective, with period weights :math:`\omega_t = \gamma^{T-t}` (``early_year_weight``
:math:`\gamma \ge 1`, so early years count more), solved lexicographically:

1. minimise the normalised shortfall :math:`S = \sum_t s^{C}_t / C + s^{P}_t / W`;
2. keep :math:`S \le S^*` and optimise the chosen model summed over periods:

   * ``mclp``: maximise :math:`\sum_t \omega_t \sum_i w_i z_{it}` (coverage within each
     demand point's threshold, urban/rural thresholds included);
   * ``p_median``: minimise :math:`\sum_t \omega_t \sum_i w_i (\sum_j d_{ij} x_{ijt} + U
     u_{it})` with :math:`\sum_j x_{ijt} + u_{it} = 1`, :math:`x_{ijt} \le y_{jt}`;
   * ``p_center``: minimise :math:`\sum_t \omega_t r_t` with :math:`r_t \ge \sum_j d_{ij}
     x_{ijt} + U u_{it}` for every :math:`i` with :math:`w_i > 0`;
   * ``lscp``: every coverable patient must be covered in the last period (a further
     milestone, soft like the others); minimise the number of sites in the last period, then
     maximise weighted coverage: :math:`K \sum_j y_{jT} - \sum_t \omega_t \,
     \mathrm{cov}_t / W` with :math:`K = 1 + \sum_t \omega_t`.

   :math:`U` (``unserved_penalty_min``) is twice the longest travel time in the table: a
   patient with no open site in reach costs more than any served one, so early years reach
   the unserved first.

Smallest change for a missed milestone :math:`(t, k)`: the same model with that milestone
hard, the other milestones dropped, an integer :math:`e \ge 0` added to :math:`n_t` (and to
the ``n_facilities`` cap) and :math:`b \ge 0` to :math:`B_t` (and to ``constraints.budget``);
minimise :math:`e + b / (1 + \sum_j c_j)`, i.e. fewest extra sites first, then least extra
money. Infeasible means no number of sites can meet it (e.g. counties without candidates).

Solving: each stage is one MIP (HiGHS or CBC, ``time_limit_s`` each), unless it is proven
without one. Stage 1 needs no MIP when the greedy plan's shortfall meets a counting bound (by
year :math:`t` at most the yearly new-site limits summed can give counties their first site:
:func:`~planning.models._periods.shortfall_lower_bound`) or, for the LSCP, when one of the
orderings into years of the last year's one-shot MCLP plan meets that bound plus the coverable
patients the one-shot MCLP's proven bound cannot reach. Stage 2 of an uncapacitated p-median
or MCLP without budgets (HiGHS) is also a nested facility location searched exactly by
:mod:`planning.models._nested` (Lagrangian bound over opening slots, branch-and-bound over
opening years): for the p-median first, from the better of the warm start and a plan built
year by year, which a bound that sees the milestones may prove before the search runs
(:mod:`planning.models._yearly`); for the MCLP after a MIP that did not prove its plan; the
better of the two valid bounds gives the gap. Uncapacitated p-center: a bound year by year from the
one-shot models; when only the last year is free, a radius search: probes that enumerate
the last year's covers and order each into years (:mod:`planning.models._covers`), then,
where those give up, small cover MIPs with the milestones
(:func:`~planning.models._stages.plan_stage`). Stage 2 starts from
a greedy plan (each year the site that best reduces the shortfall, then the model's value)
improved by swaps (replace an opened site, exchange two opening years), or from the stage-1
plan when the greedy one misses the shortfall. For uncapacitated p-median and p-center the
distance levels :math:`D^k` are added lazily: only the levels up to each demand point's
distance in the current plan (plus one) are kept, which underestimates far assignments (a
relaxation, so its bound is valid); levels are extended where the plan puts a point beyond
them, until none is (then exact) or the time limit. The status is ``"optimal"`` only when
proven; otherwise ``"feasible"`` with the gap to the best bound.

The blocks are those of the one-shot models (:mod:`planning.models._blocks`,
:mod:`planning.models._radius`) on each period's site columns, existing sites entering as
constants: coverage links, county indicators, assignments with capacities, the radius chain
(its end: the nearest existing site, or the penalty :math:`U`). LSCP's "everyone coverable"
milestone reads the same coverage as its objective.

Other scenario constraints (``site_in_every_county``, hubs, referral limits except the
exclusion of sites beyond ``max_referral_min``) are not imposed on the rollout. The tables,
milestone lines and privacy masks of a plan are built by :mod:`planning.results.rollout`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pulp

from planning._progress import Progress
from planning.errors import InfeasibleError, ScenarioError
from planning.i18n import Msg, MsgStr
from planning.models._blocks import county_links
from planning.models._mip import (
    BoolArray,
    FloatArray,
    IntArray,
    Mip,
    MipBuilder,
    sanitize_names,
)
from planning.models._periods import (
    Setup,
    Terms,
    counties_needed,
    coverable_weight,
    coverage_terms,
    distance_terms,
    greedy,
    local_search,
    nearest_minutes,
    open_masks,
    plan_frames,
    run_stage,
    setup,
    shortfall_lower_bound,
    shortfall_of,
    true_values,
)
from planning.models._stages import PlanOut, plan_stage, shortfall_by_years
from planning.models.base import ModelInput
from planning.models.options import RolloutOptions

logger = logging.getLogger(__name__)

Stage = Literal["shortfall", "plan", "extra"]

__all__ = [
    "Fix",
    "RolloutPlan",
    "build_rollout",
    "counties_needed",
    "smallest_fix",
    "solve_rollout_plan",
]


# --------------------------------------------------------------------------- answers
@dataclass(frozen=True, kw_only=True)
class RolloutPlan:
    r"""A solved rollout: opening years keyed by site id and the figures of every year.

    Attributes
    ----------
    options
        The options solved.
    years
        Period years, increasing.
    status
        ``"optimal"`` when the final solve proved optimality, else ``"feasible"`` (time limit;
        see ``gap``).
    objective
        :math:`\sum_t \omega_t v_t`, ``period_values`` holding each year's :math:`v_t`
        (patients covered, patient-minutes, minutes, or number of sites).
    sites
        Every site, index ``site_id``: ``county``, ``fixed`` (existing), ``cost`` (opening
        cost), ``opening_year`` (Int64; NA for existing sites and sites never opened).
    demand
        Every demand point, index ``demand_id``: ``weight``, ``county``, and per year (column
        named by the year) the patients within ``max_travel_min`` of an open site (within
        capacity when capacitated).
    counties
        ``county_id -> name`` of every county the county milestones count, sorted by id.
    full_coverage_share
        LSCP: share of the coverable patients covered in the last year (else ``None``).
    extras
        ``shortfall`` (smallest normalised milestone shortfall), ``shortfall_proven``
        (``False``: stage 1 stopped at its time limit, so the plan is not called optimal and
        has no gap), ``unserved_penalty_min``, ``period_weights``, ``lazy_rounds``.
    """

    options: RolloutOptions
    years: tuple[int, ...]
    status: str
    gap: float | None
    objective: float
    period_values: tuple[float, ...]
    sites: pd.DataFrame
    demand: pd.DataFrame
    counties: pd.Series
    full_coverage_share: float | None
    solve_time_s: float
    solver: str
    extras: dict[str, object] = field(default_factory=dict)
    setup: Setup = field(repr=False, compare=False)
    y: BoolArray = field(repr=False, compare=False)  # open candidates (periods x candidates)


@dataclass(frozen=True)
class Fix:
    """The smallest change meeting a missed milestone in its year.

    ``extra_sites`` / ``extra_budget``: what to add to that year's limits (``None`` when the
    year has no such limit); ``where``: names of the counties of the extra sites; ``note``:
    why no change was found (``None`` when one was).
    """

    extra_sites: int | None = None
    extra_budget: float | None = None
    where: tuple[str, ...] = ()
    note: Msg | None = None


# --------------------------------------------------------------------------- model
@dataclass
class _Built:
    mip: Mip
    y0: int  # y[k, t] = y0 + t * nc + k
    slack: dict[tuple[int, str], tuple[int, float]]  # (t, measure) -> (column, normaliser)
    period_terms: list[tuple[IntArray, FloatArray, float]]  # per period: objective parts
    extra_sites_col: int | None = None
    extra_budget_col: int | None = None


def _build(
    s: Setup,
    *,
    stage: Stage,
    shortfall_max: float = math.inf,
    target: tuple[int, str] | None = None,
    stay_close: tuple[BoolArray, float, float] | None = None,
    radius_cap: FloatArray | None = None,
    cover: tuple[IntArray, IntArray] | None = None,
) -> _Built:
    """Assemble the multi-period MIP for one solve stage (see the module Notes).

    ``cover`` = (row, candidate) pairs: each row asks for one of its candidates open in the
    last year (a radius check of :func:`~planning.models._stages.plan_stage`).
    """
    p = s.prep
    mb = MipBuilder(sense="min")
    n_t, nc = s.n_periods, s.nc
    y0 = mb.add_cols(
        n_t * nc,
        lb=0.0,
        ub=1.0,
        integer=True,
        names=[
            f"{nm}_{ph.year}"
            for ph in s.periods
            for nm in sanitize_names("y", [str(v) for v in p.site_ids[s.cand]])
        ],
    )
    built = _Built(mip=None, y0=y0, slack={}, period_terms=[])  # type: ignore[arg-type]
    e_col, b_col = _extra_columns(mb, s, built, stage, target=target, stay_close=stay_close)
    _limits(mb, s, y0, e_col=e_col, b_col=b_col, target=target)
    if cover is not None and cover[0].size:
        n_cover = int(cover[0].max()) + 1
        mb.add_rows(n_cover, cover[0], s.y(y0, n_t - 1, cover[1]), 1.0, lb=1.0, family="cover")

    # milestones (soft: shortfall columns)
    model_thr = p.threshold
    mile_thr = np.full(p.n, s.milestone_threshold)
    same_thr = bool(np.allclose(model_thr, mile_thr))
    covered_model: list[Terms] = []
    total_w = float(p.weight.sum())
    last = n_t - 1
    for t, ph in enumerate(s.periods):
        need_specs: list[tuple[str, float, Terms, float]] = []
        if ph.county_share_target > 0 and s.county_ids:
            h, constant = county_links(
                mb,
                list(s.county_ids),
                p.site_county,
                s.site_col(y0, t),
                integer=False,
                prefix=f"h_{t}",
                family=f"county_{t}",
            )
            has = Terms()
            has.add(h, 1.0)
            has.const = constant
            need = float(s.county_need(ph.county_share_target))
            need_specs.append(("counties", need, has, float(len(s.county_ids))))
        cov_m: Terms | None = None
        if s.kind in {"mclp", "lscp"}:
            cov_m = coverage_terms(mb, s, y0, t, model_thr, tag="")
            covered_model.append(cov_m)
        if ph.patient_share_target > 0 and total_w > 0:
            cov = (
                cov_m
                if (same_thr and cov_m is not None)
                else coverage_terms(mb, s, y0, t, mile_thr, tag="m")
            )
            need_specs.append(("patients", ph.patient_share_target * total_w, cov, total_w))
        if s.kind == "lscp" and cov_m is not None and t == last:
            coverable = coverable_weight(s, model_thr)
            if coverable > 0:  # everyone coverable, covered: a milestone like the others
                need_specs.append(("full_coverage", coverable, cov_m, total_w))
        for measure, need, terms, norm in need_specs:
            is_target = target == (t, measure)
            if stage == "extra" and not is_target:
                continue
            tcols, tvals = terms.arrays()
            sl = mb.add_cols(
                1, lb=0.0, ub=0.0 if is_target else math.inf, names=[f"short_{measure}_{ph.year}"]
            )
            built.slack[(t, measure)] = (sl, norm)
            mb.add_rows(
                1,
                np.zeros(tcols.size + 1, dtype=np.int64),
                np.concatenate([tcols, [sl]]),
                np.concatenate([tvals, [1.0]]),
                lb=need - terms.const,
                family=f"milestone_{measure}_{ph.year}",
            )

    # objective
    if stage == "shortfall":
        for col, norm in built.slack.values():
            mb.add_cost(np.array([col]), 1.0 / norm)
    if stage in {"plan", "shortfall"} and built.slack and math.isfinite(shortfall_max):
        scols = np.array([c for c, _ in built.slack.values()], dtype=np.int64)
        svals = np.array([1.0 / n for _, n in built.slack.values()])
        mb.add_rows(
            1,
            np.zeros(scols.size, dtype=np.int64),
            scols,
            svals,
            ub=shortfall_max,
            family="shortfall_cap",
        )
    if stage == "plan":
        built.period_terms = _objective(mb, s, y0, covered_model, radius_cap)
    built.mip = mb.build()
    return built


def _extra_columns(
    mb: MipBuilder,
    s: Setup,
    built: _Built,
    stage: Stage,
    *,
    target: tuple[int, str] | None,
    stay_close: tuple[BoolArray, float, float] | None,
) -> tuple[int | None, int | None]:
    """Stage "extra": columns of the extra sites ``e`` and budget ``b`` of the target year.

    ``stay_close`` = (base plan, extra sites, extra budget): a second pass with the resources
    fixed and the fewest changes to the base plan, so the extra sites say where they are
    needed.
    """
    if stage != "extra" or target is None:
        return None, None
    ph = s.periods[target[0]]
    e_ub = b_ub = math.inf
    e_cost, b_cost = 1.0, 1.0 / (1.0 + float(s.prep.cost[s.cand].sum()))
    if stay_close is not None:
        base_y, e_ub, b_ub = stay_close
        e_cost = b_cost = 0.0
        mb.add_cost(
            s.y(built.y0, 0, np.arange(s.n_periods * s.nc)),
            np.where(base_y.reshape(-1), -1.0, 1.0),
        )
    e_col = b_col = None
    if ph.new_sites is not None or s.cap_total_sites is not None:
        e_col = mb.add_cols(1, lb=0.0, ub=e_ub, cost=e_cost, integer=True, names=["extra_sites"])
    if ph.budget is not None or s.cap_total_budget is not None:
        b_col = mb.add_cols(1, lb=0.0, ub=b_ub, cost=b_cost, names=["extra_budget"])
    built.extra_sites_col, built.extra_budget_col = e_col, b_col
    return e_col, b_col


def _limits(
    mb: MipBuilder,
    s: Setup,
    y0: int,
    *,
    e_col: int | None,
    b_col: int | None,
    target: tuple[int, str] | None,
) -> None:
    """Rows: sites stay open, yearly new sites and spend, overall caps on the last year."""
    p = s.prep
    n_t, nc = s.n_periods, s.nc
    k_all = np.arange(nc)
    cost = p.cost[s.cand]
    if n_t > 1 and nc:
        prev = np.concatenate([s.y(y0, t, k_all) for t in range(n_t - 1)])
        nxt = np.concatenate([s.y(y0, t + 1, k_all) for t in range(n_t - 1)])
        mb.add_rows(
            (n_t - 1) * nc,
            np.concatenate([np.arange((n_t - 1) * nc)] * 2),
            np.concatenate([prev, nxt]),
            np.concatenate([np.ones(prev.size), -np.ones(nxt.size)]),
            ub=0.0,
            family="stay_open",
        )
    rows: list[tuple[list[IntArray], list[FloatArray], float, str]] = []
    for t, ph in enumerate(s.periods):
        for limit, coef, extra, fam in (
            (ph.new_sites, np.ones(nc), e_col, "new_sites"),
            (ph.budget, cost, b_col, "budget"),
        ):
            if limit is None:
                continue
            cols, vals = [s.y(y0, t, k_all)], [coef]
            if t > 0:
                cols.append(s.y(y0, t - 1, k_all))
                vals.append(-coef)
            if extra is not None and target is not None and target[0] == t:
                cols.append(np.array([extra]))
                vals.append(np.array([-1.0]))
            rows.append((cols, vals, float(limit), f"{fam}_{ph.year}"))
    last = n_t - 1
    for total, coef, extra, fam, base in (
        (s.cap_total_sites, np.ones(nc), e_col, "n_facilities", float(p.fixed.sum())),
        (s.cap_total_budget, cost, b_col, "total_budget", 0.0),
    ):
        if total is None:
            continue
        cols, vals = [s.y(y0, last, k_all)], [coef]
        if extra is not None:
            cols.append(np.array([extra]))
            vals.append(np.array([-1.0]))
        rows.append((cols, vals, float(total) - base, fam))
    for cols, vals, ub, fam in rows:
        c = np.concatenate(cols)
        mb.add_rows(1, np.zeros(c.size, dtype=np.int64), c, np.concatenate(vals), ub=ub, family=fam)


def _objective(
    mb: MipBuilder,
    s: Setup,
    y0: int,
    covered: list[Terms],
    radius_cap: FloatArray | None,
) -> list[tuple[IntArray, FloatArray, float]]:
    """Set the stage-2 costs; return each period's value expression."""
    per: list[tuple[IntArray, FloatArray, float]] = []
    if s.kind == "mclp":
        for t, terms in enumerate(covered):
            cols, vals = terms.arrays()
            per.append((cols, vals, terms.const))
            mb.add_cost(cols, -float(s.weights[t]) * vals)
            mb.offset -= float(s.weights[t]) * terms.const
    elif s.kind in {"p_median", "p_center"}:
        for t in range(s.n_periods):
            cap = radius_cap[t] if radius_cap is not None else None
            terms = distance_terms(mb, s, y0, t, center=s.kind == "p_center", cap=cap)
            cols, vals = terms.arrays()
            per.append((cols, vals, terms.const))
            mb.add_cost(cols, float(s.weights[t]) * vals)
            mb.offset += float(s.weights[t]) * terms.const  # gap in true units
    else:  # lscp
        big_k = 1.0 + float(s.weights.sum())
        total_w = max(float(s.prep.weight.sum()), 1e-12)
        for t, terms in enumerate(covered):
            y_cols = s.y(y0, t, np.arange(s.nc))
            per.append((y_cols, np.ones(s.nc), float(s.prep.fixed.sum())))
            cols, vals = terms.arrays()
            mb.add_cost(cols, -float(s.weights[t]) / total_w * vals)
        mb.add_cost(s.y(y0, s.n_periods - 1, np.arange(s.nc)), big_k * np.ones(s.nc))
    return per


def _nested(x: FloatArray, built: _Built, s: Setup) -> BoolArray:
    """Open-site matrix ``(periods, candidates)`` from a solution, nested against round-off."""
    y = np.rint(x[built.y0 : built.y0 + s.n_periods * s.nc]).reshape(s.n_periods, s.nc) > 0.5
    for t in range(1, s.n_periods):
        y[t] |= y[t - 1]
    return y


# --------------------------------------------------------------------------- build, solve
def build_rollout(
    data: ModelInput,
    options: RolloutOptions,
    *,
    counties: pd.Series | None = None,
    stage: Literal["shortfall", "plan"] = "shortfall",
    shortfall_max: float = math.inf,
) -> pulp.LpProblem:
    """Build (without solving) one stage of the rollout MIP (see the module Notes).

    Parameters
    ----------
    data
        Model input keyed by ids.
    options
        Model, caps, periods and their milestones.
    counties
        ``county_id -> name`` of every county of the region (default: the demand's).
    stage
        ``"shortfall"``: minimise the normalised milestone shortfall; ``"plan"``: the model
        summed over periods with the shortfall at most ``shortfall_max``.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` (variables ``y_<site_id>_<year>``, ``short_*``...).
    """
    s = setup(data, options, counties)
    built = _build(s, stage=stage, shortfall_max=shortfall_max)
    prob, _ = built.mip.to_pulp(f"rollout_{options.model.name}_{stage}")
    return prob


def solve_rollout_plan(
    data: ModelInput,
    options: RolloutOptions,
    *,
    counties: pd.Series | None = None,
    progress: Progress | None = None,
) -> RolloutPlan:
    """Plan which sites open in which year (``options.periods``) for ``options.model``.

    Parameters
    ----------
    data
        Model input keyed by ids (see :class:`~planning.models.base.ModelInput`). The demand
        table's ``county`` (adcode) and ``county_name`` columns define the counties of the
        county milestones.
    options
        Model, travel threshold (``max_travel_min``, minutes), capacities, solver, time limit
        (per MIP), the overall caps (``p``: sites, existing included; ``budget``: opening
        spend by the last year) and the periods.
    counties
        Optional ``county_id -> name`` Series of every county in the region (counties without
        demand points count too); default: the counties of the demand table.
    progress
        Optional callback ``progress(share_done, message)``.

    Returns
    -------
    RolloutPlan
        Opening years and each year's figures; :func:`smallest_fix` searches the change that
        meets a missed milestone.

    Raises
    ------
    ScenarioError
        No periods, a total cap below the number of existing sites.
    DataError
        County milestones without a ``county`` column.
    InfeasibleError
        The solver found no plan within the time limit (raise ``time_limit_s``).
    """
    if options.model.kind == "max_min":
        raise ScenarioError("models.rollout_max_min")
    s = setup(data, options, counties)
    opts = options.model
    if progress:
        progress(0.05, MsgStr("progress.rollout_shortfall"))
    shortfall_star = 0.0
    solve_time = 0.0
    shortfall_proven = True
    stage1 = _build(s, stage="shortfall")
    y1: BoolArray | None = None
    greedy_y = greedy(s)
    if stage1.slack:
        # a plan whose shortfall meets the counting bound needs no stage-1 MIP: it is proven
        lower = shortfall_lower_bound(s)
        greedy_short = math.inf if greedy_y is None else shortfall_of(s, greedy_y)
        by_years = None
        t_years = time.perf_counter()
        if greedy_short > lower + 1e-9:
            by_years = shortfall_by_years(data, s, lower)
        left = max(opts.time_limit_s - (time.perf_counter() - t_years), 0.05)
        if greedy_short <= lower + 1e-9:
            shortfall_star = greedy_short
        elif by_years is not None:
            shortfall_star, greedy_y = by_years
        else:
            r1 = run_stage(stage1.mip, opts, Msg("rollout.stage_shortfall"), time_limit_s=left)
            solve_time += r1.solve_time_s
            if r1.x is None:
                raise InfeasibleError(
                    "rollout.no_shortfall_plan_in_time",
                    culprit="time_limit_s",
                    time_limit_s=opts.time_limit_s,
                    reason=r1.message,
                )
            shortfall_star = max(float(r1.objective or 0.0), 0.0)
            shortfall_proven = r1.status == "optimal"
            y1 = _nested(r1.x, stage1, s)
    if progress:
        progress(0.35, MsgStr("progress.rollout_ordering"))
    cap = shortfall_star * (1 + 1e-6) + 1e-7
    start_y = greedy_y
    if start_y is None or shortfall_of(s, start_y) > cap - 1e-7:
        start_y = y1  # the shortfall solution is always feasible for the plan stage
    if start_y is not None:
        budget_s = min(0.25 * opts.time_limit_s, 15.0)
        start_y = local_search(s, start_y, shortfall_cap=cap, time_s=budget_s)
    y, values, status, gap, plan_time, solver, rounds = plan_stage(
        s, shortfall_cap=cap, start_y=start_y, solve_mip=_solve_plan, data=data, check=_check
    )
    if not shortfall_proven:
        # the plan stage was solved under an unproven shortfall: its bound is no bound on
        # the lexicographic problem (a smaller shortfall may need another plan)
        status, gap = "feasible", None
    if progress:
        progress(0.6, MsgStr("progress.rollout_years"))
    sites, demand, county_names, full_share = plan_frames(s, y)
    return RolloutPlan(
        options=options,
        years=tuple(ph.year for ph in s.periods),
        status=status,
        gap=gap,
        objective=float(np.dot(s.weights, values)),
        period_values=tuple(float(v) for v in values),
        sites=sites,
        demand=demand,
        counties=county_names,
        full_coverage_share=full_share,
        solve_time_s=solve_time + plan_time,
        solver=solver,
        extras={
            "shortfall": shortfall_star,
            "shortfall_proven": shortfall_proven,
            "unserved_penalty_min": s.unserved_penalty_min,
            "period_weights": [float(w) for w in s.weights],
            "lazy_rounds": rounds,
        },
        setup=s,
        y=y,
    )


#: HiGHS options of the coverage plan stage when it starts from a plan: no primal heuristics
#: (on the Putian demo its sub-MIPs took a third of the time, the start being within 0.1 %).
PLAN_WARM_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}


def _solve_plan(
    s: Setup, *, shortfall_cap: float, start_y: BoolArray | None, time_limit_s: float
) -> PlanOut:
    """Stage 2; uncapacitated p-median / p-center add distance levels lazily.

    The truncated distance chains underestimate far assignments, so each round's bound is a
    valid lower bound; a round whose plan puts no demand point beyond its kept levels is exact.
    Returns the plan, its period values, status, gap, solve time, solver and rounds.
    """
    opts = s.opts
    lazy = not s.capacitated and s.kind in {"p_median", "p_center"}
    deadline = time.perf_counter() + time_limit_s
    radius_cap: FloatArray | None = None
    if lazy and start_y is not None:
        radius_cap = np.vstack([nearest_minutes(s, m) for m in open_masks(s, start_y)])
    best: tuple[float, BoolArray, list[float]] | None = None
    if start_y is not None:  # the warm start is a plan too (its true value, when exact)
        start_values = true_values(s, start_y)
        if start_values is not None:
            best = (float(np.dot(s.weights, start_values)), start_y, start_values)
    bound = -math.inf
    solve_time, rounds = 0.0, 0
    solver: str = opts.solver
    status, gap = "feasible", None
    while True:
        rounds += 1
        built = _build(s, stage="plan", shortfall_max=shortfall_cap, radius_cap=radius_cap)
        if start_y is not None and s.kind in {"mclp", "lscp"}:
            # the start (greedy + swaps) is good: HiGHS's own heuristics cost ~15 % of the time
            built.mip.highs_options.update(PLAN_WARM_OPTIONS)
        start = None
        if start_y is not None:
            cols = s.y(built.y0, 0, np.arange(s.n_periods * s.nc))
            start = (cols, start_y.reshape(-1).astype(float))
        res = run_stage(
            built.mip,
            opts,
            Msg("rollout.stage_plan", round=rounds),
            start=start,
            time_limit_s=deadline - time.perf_counter(),
        )
        solve_time += res.solve_time_s
        solver = res.solver
        if res.x is None:
            if best is not None:
                break
            raise InfeasibleError(
                "rollout.no_plan_in_time",
                culprit="time_limit_s",
                time_limit_s=opts.time_limit_s,
                reason=res.message,
            )
        y = _nested(res.x, built, s)
        x = res.x.copy()
        x[built.y0 : built.y0 + s.n_periods * s.nc] = y.reshape(-1)
        values = true_values(s, y)
        if values is None:
            values = [float(v @ x[c]) + k for c, v, k in built.period_terms]
        total = float(np.dot(s.weights, values))
        if best is None or total < best[0] - 1e-9:
            best = (total, y, values)
        if res.bound is not None and res.status in {"optimal", "feasible"}:
            bound = max(bound, float(res.bound))
        if not lazy or radius_cap is None:
            status, gap = res.status, res.gap
            break
        near = np.vstack([nearest_minutes(s, m) for m in open_masks(s, y)])
        outside = near > radius_cap + 1e-9
        logger.info(
            "rollout plan round %d: %d (year, point) pairs beyond their levels",
            rounds,
            int(outside.sum()),
        )
        if not outside.any():
            status = res.status
            gap = res.gap if res.status != "optimal" else 0.0
            if best[0] > total + 1e-9:  # an earlier round's plan was better (time-limited)
                status = "feasible"
            break
        radius_cap = np.where(outside, near, radius_cap)
        start_y = best[1]
        if time.perf_counter() >= deadline:
            break
    if status != "optimal" and best is not None and math.isfinite(bound) and lazy:
        gap = max(best[0] - bound, 0.0) / max(abs(best[0]), 1e-10)
    assert best is not None  # noqa: S101 - the loop returns or raises otherwise
    if lazy and status == "optimal":
        gap = 0.0
    return best[1], best[2], status, gap, solve_time, solver, rounds


def _check(
    s: Setup, cover: tuple[IntArray, IntArray], shortfall_cap: float, time_limit_s: float
) -> tuple[bool | None, BoolArray | None]:
    """Check for a plan with shortfall <= ``shortfall_cap`` whose last year meets ``cover``.

    ``True`` with the plan, ``False`` when proven impossible, ``None`` when not finished.
    """
    built = _build(s, stage="shortfall", cover=cover, shortfall_max=shortfall_cap)
    built.mip.cost[:] = 0.0  # a feasibility check: any plan within the cap will do
    res = run_stage(
        built.mip,
        s.opts.replace(mip_gap=0.0),
        Msg("rollout.stage_shortfall"),
        time_limit_s=time_limit_s,
    )
    if res.x is not None:
        return True, _nested(res.x, built, s)
    if res.status == "infeasible":
        return False, None
    return None, None


# --------------------------------------------------------------------------- missed milestones
def smallest_fix(plan: RolloutPlan, year: int, measure: str) -> Fix:
    """Find the smallest extra sites / budget in ``year`` that meet its milestone ``measure``.

    ``measure``: ``"counties"``, ``"patients"`` or ``"full_coverage"`` (LSCP). Solves the
    model with that milestone hard and the year's limits raised by integer extra sites ``e``
    and budget ``b`` (fewest sites first, then least money), then the plan with those
    resources closest to ``plan`` (so the extra sites say where they are needed).
    """
    s = plan.setup
    t = plan.years.index(year)
    note = _unreachable(s, t, measure)
    if note is not None:
        return Fix(note=note)
    opts = s.opts
    built = _build(s, stage="extra", target=(t, measure))
    names = {
        "counties": Msg("rollout.measure_counties"),
        "patients": Msg("rollout.measure_patients"),
        "full_coverage": Msg("rollout.measure_full_coverage"),
    }
    stage = Msg("rollout.stage_extra", year=year, measure=names[measure])
    res = run_stage(built.mip, opts, stage)
    if res.x is None:
        if res.status != "no_solution":
            return Fix(note=Msg("rollout.note_cannot_meet", reason=res.message))
        return Fix(note=Msg("rollout.note_no_plan_in_time", time_limit_s=opts.time_limit_s))
    x = res.x
    e_val = b_val = 0.0
    extra_sites = extra_budget = None
    if built.extra_sites_col is not None:
        e_val = float(np.rint(x[built.extra_sites_col]))
        extra_sites = int(e_val)
    if built.extra_budget_col is not None:
        b_val = float(x[built.extra_budget_col])
        extra_budget = b_val
    close = _build(
        s,
        stage="extra",
        target=(t, measure),
        stay_close=(plan.y, e_val, b_val * (1 + 1e-7) + 1e-6),
    )
    res_close = run_stage(close.mip, opts, Msg("rollout.stage_closest"))
    if res_close.x is not None:
        built, x = close, res_close.x
    added = _nested(x, built, s)[t] & ~plan.y[t]
    where = sorted(
        {s.county_names.get(c, c) or "unknown county" for c in s.prep.site_county[s.cand[added]]}
    )
    return Fix(extra_sites=extra_sites, extra_budget=extra_budget, where=tuple(where))


def _unreachable(s: Setup, t: int, measure: str) -> Msg | None:
    """Why no extra resources in year ``t`` can meet the milestone (``None``: they may)."""
    p = s.prep
    ph = s.periods[t]
    if measure == "counties":
        has = {str(c) for c in p.site_county[p.fixed]} | {str(c) for c in p.site_county[s.cand]}
        reachable = [c for c in s.county_ids if c in has]
        if len(reachable) < s.county_need(ph.county_share_target):
            missing = [s.county_names.get(c, c) for c in s.county_ids if c not in has]
            return Msg(
                "rollout.note_counties_unreachable",
                reachable=len(reachable),
                counties=len(s.county_ids),
                names=", ".join(missing[:5]),
            )
    elif measure == "patients" and not s.capacitated:
        share = coverable_weight(s, np.full(p.n, s.milestone_threshold))
        total = float(p.weight.sum())
        if share < ph.patient_share_target * total - 1e-9 * max(total, 1.0):
            return Msg(
                "rollout.note_patients_unreachable",
                share=share / total,
                minutes=s.milestone_threshold,
            )
    return None
