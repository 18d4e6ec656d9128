"""A rollout seen period by period: its set-up, the figures of an opening plan, heuristics.

:func:`setup` turns the data and :class:`~planning.models.options.RolloutOptions` into the
positional view every stage of :mod:`planning.models.rollout` works on. The figures of a plan
(nearest minutes, patients within reach, milestone shortfall) are computed here as the model
computes them, and :func:`greedy` and :func:`local_search` build the warm start of the plan
stage.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning.errors import DataError, PlanningWarning, ScenarioError, SolverError
from planning.i18n import Msg
from planning.models._blocks import assignment_block, cover_link
from planning.models._heuristic import MAX_DENSE_CELLS
from planning.models._mip import (
    BoolArray,
    FloatArray,
    HighsSession,
    IntArray,
    Mip,
    MipBuilder,
    RawResult,
    solve_mip,
)
from planning.models._nested import NestedProblem
from planning.models._prep import Prepared, prepare
from planning.models._radius import (
    CLOSED,
    OPEN,
    Radius,
    center_rows,
    radius_block,
    radius_levels,
    weigh_chain,
)
from planning.models.base import ModelInput
from planning.models.options import ModelOptions, Period, RolloutOptions

logger = logging.getLogger(__name__)


def counties_needed(share: float, n_counties: int) -> int:
    """Return how many of ``n_counties`` counties a county milestone ``share`` asks for."""
    return math.ceil(share * n_counties - 1e-9)


@dataclass(frozen=True)
class Setup:
    """A rollout's data by position: periods, candidate columns, counties, caps."""

    prep: Prepared
    opts: ModelOptions
    periods: tuple[Period, ...]
    weights: FloatArray  # omega_t
    cand: IntArray  # site positions of the candidate (y) sites
    cand_of: IntArray  # site position -> candidate number, -1 fixed / excluded
    county_ids: tuple[str, ...]
    county_names: dict[str, str]
    cap_total_sites: int | None
    cap_total_budget: float | None
    milestone_threshold: float
    unserved_penalty_min: float

    @property
    def kind(self) -> str:
        """The siting model summed over periods."""
        return self.opts.kind

    @property
    def capacitated(self) -> bool:
        """Whether capacities bind."""
        return self.opts.capacitated

    @property
    def n_periods(self) -> int:
        """Number of periods."""
        return len(self.periods)

    @property
    def nc(self) -> int:
        """Number of candidate sites (columns per period)."""
        return int(self.cand.size)

    def county_need(self, share: float) -> int:
        """Counties a county milestone ``share`` asks for."""
        return counties_needed(share, len(self.county_ids))

    def y(self, y0: int, t: int, k: IntArray | int) -> IntArray:
        """Columns of candidates ``k`` in period ``t`` (the y block starts at ``y0``)."""
        return np.asarray(y0 + t * self.nc + np.asarray(k), dtype=np.int64)

    def site_col(self, y0: int, t: int) -> IntArray:
        """Site column map of period ``t`` (:mod:`~planning.models._blocks`).

        Candidates map to their period column, existing sites are open throughout, other
        sites closed; one extra position (``m``) is open throughout: the "unserved" end of a
        distance chain.
        """
        col = np.full(self.prep.m + 1, CLOSED, dtype=np.int64)
        col[np.flatnonzero(self.prep.fixed)] = OPEN
        col[self.cand] = self.y(y0, t, np.arange(self.nc))
        col[self.prep.m] = OPEN
        return col


def setup(data: ModelInput, options: RolloutOptions, counties: pd.Series | None) -> Setup:
    """Prepare ``data`` for a rollout; ``counties``: ``county_id -> name`` of the region.

    Raises
    ------
    ScenarioError
        No periods, or a total cap below the existing sites.
    DataError
        County milestones without a ``county`` column.
    """
    periods = options.periods
    opts = options.model
    if not periods:
        raise ScenarioError("rollout.no_phases")
    # The model-input checks of the one-shot models, without their site-count check: for a
    # rollout the number of sites is only an overall cap (checked below).
    prep = prepare(data, opts.replace(kind="lscp", p=None))
    n_fixed = int(prep.fixed.sum())
    cap_sites = opts.p if opts.kind != "lscp" else None
    if cap_sites is not None and cap_sites < n_fixed:
        raise ScenarioError("rollout.cap_below_existing", cap=cap_sites, existing=n_fixed)
    cand = np.flatnonzero(prep.openable & ~prep.fixed).astype(np.int64)
    cand_of = np.full(prep.m, -1, dtype=np.int64)
    cand_of[cand] = np.arange(cand.size)

    names: dict[str, str] = {}
    for c, nm in zip(prep.county, prep.county_name, strict=True):
        if c and c not in names:
            names[c] = nm or c
    if counties is not None:
        for c, nm in counties.items():
            names[str(c)] = str(nm) if isinstance(nm, str) and nm else names.get(str(c), str(c))
    county_ids = tuple(sorted(names))
    if not county_ids and any(p.county_share_target > 0 for p in periods):
        raise DataError("rollout.county_column_missing")
    _warn_limits(periods, prep.cost[cand])
    gamma = options.early_year_weight
    n_t = len(periods)
    weights = np.array([gamma ** (n_t - 1 - t) for t in range(n_t)], dtype=float)
    longest = float(prep.pt.max()) if prep.pt.size else opts.max_travel_min
    return Setup(
        prep=prep,
        opts=opts,
        periods=periods,
        weights=weights,
        cand=cand,
        cand_of=cand_of,
        county_ids=county_ids,
        county_names=names,
        cap_total_sites=cap_sites,
        cap_total_budget=opts.budget,
        milestone_threshold=float(opts.max_travel_min),
        unserved_penalty_min=2.0 * max(longest, opts.max_travel_min),
    )


def _warn_limits(periods: tuple[Period, ...], cost: FloatArray) -> None:
    """Warn about yearly budgets that cannot limit anything (every opening cost is 0).

    (A phase with neither limit is capped by ``n_facilities`` or ``constraints.budget``,
    one of which the scenario requires for the models that open as many sites as allowed.)
    """
    free = cost.size > 0 and not (cost > 0).any()
    for ph in periods:
        if ph.budget is not None and ph.new_sites is None and free:
            warnings.warn(
                PlanningWarning("rollout.budget_limits_nothing", year=ph.year, budget=ph.budget),
                stacklevel=5,
            )


def run_stage(
    mip: Mip,
    opts: ModelOptions,
    what: Msg,
    *,
    start: tuple[IntArray, FloatArray] | None = None,
    time_limit_s: float | None = None,
) -> RawResult:
    """Solve one stage's MIP; ``start`` = (columns, values) of the site variables.

    HiGHS completes a partial start itself (it fixes the given integer columns and solves for
    the rest); CBC is run without a start.

    Raises
    ------
    SolverError
        The solver failed (not: found no plan, which the result says).
    """
    limit = opts.time_limit_s if time_limit_s is None else max(time_limit_s, 0.05)
    if start is not None and opts.solver == "highs":
        session = HighsSession(mip)
        cols, vals = start
        session.set_start(cols, vals)
        res = session.solve(time_limit_s=limit, mip_gap=opts.mip_gap)
    else:
        res = solve_mip(mip, solver=opts.solver, time_limit_s=limit, mip_gap=opts.mip_gap)
    logger.info(
        "rollout %s: %s (obj %s) in %.2f s",
        what.text("en"),
        res.status,
        res.objective,
        res.solve_time_s,
    )
    if res.status == "error":
        raise SolverError("rollout.solver_failed", stage=what, reason=res.message)
    return res


# --------------------------------------------------------------------------- period blocks
class Terms:
    """A linear expression under construction: columns, coefficients, constant."""

    def __init__(self) -> None:
        self.cols: list[IntArray] = []
        self.vals: list[FloatArray] = []
        self.const = 0.0

    def add(self, cols: IntArray, vals: FloatArray | float) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), cols.shape).copy())

    def arrays(self) -> tuple[IntArray, FloatArray]:
        if not self.cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(self.cols), np.concatenate(self.vals)


def coverage_terms(
    mb: MipBuilder, s: Setup, y0: int, t: int, threshold: FloatArray, *, tag: str
) -> Terms:
    """Patients covered in period ``t`` within ``threshold`` (per demand) as an expression."""
    p = s.prep
    ok = (p.pt <= threshold[p.pi] + 1e-9) & (p.fixed[p.pj] | (s.cand_of[p.pj] >= 0))
    pi, pj = p.pi[ok], p.pj[ok]
    site_col = s.site_col(y0, t)
    terms = Terms()
    if not s.capacitated:
        # points with the same sites in reach share one column (their patients summed): the
        # same model and LP, fewer rows
        rep, group_w = _same_sites(p.n, pi[p.weight[pi] > 0], pj[p.weight[pi] > 0], p.weight)
        keep = np.isin(pi, rep)
        z, dem, always = cover_link(
            mb,
            site_col,
            pi[keep],
            pj[keep],
            rep,
            prefix=f"z{tag}_{t}",
            family=f"cover{tag}_{t}",
        )
        terms.const += float(group_w[rep[always]].sum())
        terms.add(z, group_w[dem])
        return terms
    sel = p.weight[pi] > 0
    if sel.any():
        a = assignment_block(
            mb,
            p,
            site_col,
            pi[sel],
            pj[sel],
            demand_rows="le",
            link_all=True,
            tag=f"{tag}_{t}",
            single_source=s.opts.single_source,
        )
        terms.add(a.x, p.weight[pi[sel]])
    return terms


def _same_sites(
    n: int, pi: IntArray, pj: IntArray, weight: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Group demand points by their set of sites in ``(pi, pj)``.

    Returns the first point of each group (sorted) and, per point position, the patients of
    the group it represents (0 elsewhere).
    """
    order = np.lexsort((pj, pi))
    pi, pj = pi[order], pj[order]
    group_w = np.zeros(n)
    if pi.size == 0:
        return np.zeros(0, dtype=np.int64), group_w
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    ends = np.r_[starts[1:], pi.size]
    first: dict[bytes, int] = {}
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        i = int(pi[a])
        r = first.setdefault(pj[a:b].tobytes(), i)
        group_w[r] += float(weight[i])
    return np.array(sorted(first.values()), dtype=np.int64), group_w


def distance_terms(
    mb: MipBuilder, s: Setup, y0: int, t: int, *, center: bool, cap: FloatArray | None
) -> Terms:
    """p-median / p-center in period ``t``: the period's cost (patient-minutes or radius).

    Uncapacitated: the radius chain of each demand point over its candidates closer than its
    end (the nearest existing site, or the penalty ``U`` when there is none nearer); with
    ``cap`` (minutes per demand point) only the levels up to the cap plus one (a relaxation:
    beyond them a point costs the next kept distance). Capacitated: assignments with an
    unserved share costing ``U``.
    """
    p = s.prep
    ok = (p.fixed[p.pj] | (s.cand_of[p.pj] >= 0)) & (p.weight[p.pi] > 0)
    pi, pj, pt = p.pi[ok], p.pj[ok], p.pt[ok]
    dem = np.flatnonzero(p.weight > 0)
    site_col = s.site_col(y0, t)
    big_u = s.unserved_penalty_min
    terms = Terms()
    if dem.size == 0:
        return terms
    if s.capacitated:
        a = assignment_block(
            mb,
            p,
            site_col,
            pi,
            pj,
            demand_rows="eq",
            demand=dem,
            unserved=f"u_{t}",
            link_all=True,
            single_source=s.opts.single_source,
            tag=f"_{t}",
        )
        if not center:
            terms.add(a.x, p.weight[pi] * pt)
            terms.add(a.u, p.weight[dem] * big_u)
            return terms
        r = mb.add_cols(1, lb=0.0, prefix=f"radius_{t}")
        mb.add_rows(
            dem.size,
            np.concatenate([np.searchsorted(dem, pi), np.arange(dem.size), np.arange(dem.size)]),
            np.concatenate([a.x, a.u, np.full(dem.size, r)]),
            np.concatenate([pt, np.full(dem.size, big_u), -np.ones(dem.size)]),
            ub=0.0,
            family=f"radius_{t}",
        )
        terms.add(np.array([r]), 1.0)
        return terms
    terminal = np.full(p.n, big_u)
    fx = p.fixed[pj]
    np.minimum.at(terminal, pi[fx], pt[fx])
    near = ~fx & (pt < terminal[pi] - 1e-9)
    # each point's chain ends at a pair "open throughout" (site position m) at its end
    ci = np.concatenate([pi[near], dem])
    cj = np.concatenate([pj[near], np.full(dem.size, p.m)])
    ct = np.concatenate([pt[near], terminal[dem]])
    order = np.lexsort((cj, ct, ci))
    rad = radius_levels(ci[order], cj[order], ct[order], p.n)
    if cap is not None:
        rad.keep = _kept_levels(rad, dem, cap)
    chain = radius_block(mb, rad, site_col, z_ub=1.0, prefix=f"z_{t}", family=f"radius_{t}")
    if not center:
        cols, costs, constant = weigh_chain(chain, p.weight)
        terms.add(cols, costs)
        terms.const += constant
        return terms
    r = mb.add_cols(1, lb=0.0, prefix=f"radius_{t}")
    center_rows(mb, chain, r, family=f"center_{t}")
    terms.add(np.array([r]), 1.0)
    return terms


def _kept_levels(rad: Radius, dem: IntArray, cap: FloatArray) -> IntArray:
    """Levels modelled per point: its candidate levels up to ``cap`` plus one, and the next.

    A candidate level is kept when it is the first or the level before it is within the cap;
    the level after the last kept one bounds the point's distance (the end of its chain when
    every candidate level is kept).
    """
    n_levels = rad.n_levels
    keep = n_levels.copy()
    for i in dem.tolist():
        k_all = int(n_levels[i])
        if k_all <= 1:
            continue
        below = int(np.count_nonzero(rad.level_dist[i][: k_all - 2] <= cap[i] + 1e-9))
        keep[i] = min(k_all, 2 + below)
    return keep


# --------------------------------------------------------------------------- plan figures
def open_masks(s: Setup, y: BoolArray) -> list[BoolArray]:
    """Open sites of each period of the opening plan ``y`` (periods x candidates)."""
    masks = []
    for t in range(s.n_periods):
        is_open = s.prep.fixed.copy()
        is_open[s.cand[y[t]]] = True
        masks.append(is_open)
    return masks


def nearest_minutes(s: Setup, is_open: BoolArray) -> FloatArray:
    """Minutes from each demand point to its nearest open site, capped at the penalty ``U``."""
    p = s.prep
    ok = is_open[p.pj]
    out = np.full(p.n, s.unserved_penalty_min)
    np.minimum.at(out, p.pi[ok], p.pt[ok])
    return out


def true_values(s: Setup, y: BoolArray) -> list[float] | None:
    """Exact per-period value of an uncapacitated distance model (``None`` otherwise)."""
    if s.capacitated or s.kind not in {"p_median", "p_center"}:
        return None
    w = s.prep.weight
    pos = w > 0
    out = []
    for is_open in open_masks(s, y):
        d = nearest_minutes(s, is_open)
        if s.kind == "p_median":
            out.append(float(w @ d))
        else:
            out.append(float(d[pos].max()) if pos.any() else 0.0)
    return out


def coverable_weight(s: Setup, threshold: FloatArray) -> float:
    """Patients with an existing or candidate site within ``threshold`` (per demand point)."""
    p = s.prep
    ok = (p.pt <= threshold[p.pi] + 1e-9) & (p.fixed[p.pj] | (s.cand_of[p.pj] >= 0))
    cov = np.zeros(p.n, dtype=bool)
    cov[p.pi[ok]] = True
    return float(p.weight[cov].sum())


def covered_share(s: Setup, is_open: BoolArray, threshold: FloatArray | None = None) -> FloatArray:
    """Patients of each demand point within reach of an open site (within capacity).

    Reach is ``max_travel_min`` unless ``threshold`` (minutes per demand point) is given.
    """
    p = s.prep
    thr = np.full(p.n, s.milestone_threshold) if threshold is None else threshold
    within = p.pt <= thr[p.pi] + 1e-9
    ok = within & is_open[p.pj]
    if not s.capacitated:
        cov = np.zeros(p.n, dtype=bool)
        cov[p.pi[ok]] = True
        return np.where(cov, p.weight, 0.0)
    pi, pj = p.pi[ok], p.pj[ok]
    out = np.zeros(p.n)
    if pi.size == 0:
        return out
    mb = MipBuilder(sense="max")
    x0 = mb.add_cols(pi.size, lb=0.0, ub=p.weight[pi], cost=1.0, prefix="a")
    xc = x0 + np.arange(pi.size)
    dem, inv = np.unique(pi, return_inverse=True)
    mb.add_rows(dem.size, inv, xc, 1.0, ub=p.weight[dem], family="dem")
    cap = p.capacity
    lim = np.isfinite(cap[pj])
    sites, sinv = np.unique(pj[lim], return_inverse=True)
    if sites.size:
        mb.add_rows(sites.size, sinv, xc[lim], 1.0, ub=cap[sites], family="cap")
    res = run_stage(mb.build(), s.opts, Msg("rollout.stage_capacity"))
    if res.x is not None:
        np.add.at(out, pi, res.x[xc])
    return out


def shortfall_of(s: Setup, y: BoolArray) -> float:
    """Normalised milestone shortfall ``S`` of an opening plan (as in the model)."""
    p = s.prep
    total_w = float(p.weight.sum())
    short = 0.0
    for t, ph in enumerate(s.periods):
        is_open = p.fixed.copy()
        is_open[s.cand[y[t]]] = True
        if ph.county_share_target > 0 and s.county_ids:
            has = {str(c) for c in p.site_county[is_open]}
            n_has = sum(c in has for c in s.county_ids)
            short += max(s.county_need(ph.county_share_target) - n_has, 0) / len(s.county_ids)
        if ph.patient_share_target > 0 and total_w > 0:
            cov = float(covered_share(s, is_open).sum())
            short += max(ph.patient_share_target * total_w - cov, 0.0) / total_w
        if s.kind == "lscp" and t == s.n_periods - 1 and total_w > 0:
            coverable = coverable_weight(s, p.threshold)
            cov = float(covered_share(s, is_open, p.threshold).sum())
            short += max(coverable - cov, 0.0) / total_w
    return short


def shortfall_lower_bound(s: Setup) -> float:
    """Return a valid lower bound on the normalised milestone shortfall ``S`` of every plan.

    Counting only: by year ``t`` at most :math:`K_t` new sites are open (the yearly new-site
    limits summed, the overall cap less the existing sites, the number of candidates), so at
    most :math:`K_t` counties without an existing site gain one; the county shortfall of the
    year is at least what is still missing then. Patient milestones count 0 (a relaxation).
    A plan whose shortfall equals this bound has the smallest shortfall: stage 1 is proven
    without a MIP.
    """
    p = s.prep
    if not s.county_ids:
        return 0.0
    county_set = set(s.county_ids)
    has_fixed = {str(c) for c in p.site_county[p.fixed]} & county_set
    reachable = ({str(c) for c in p.site_county[s.cand]} & county_set) - has_fixed
    max_new = s.nc if s.cap_total_sites is None else s.cap_total_sites - int(p.fixed.sum())
    opened: float = 0.0
    lower = 0.0
    for ph in s.periods:
        opened = math.inf if ph.new_sites is None else opened + ph.new_sites
        reach = len(has_fixed) + min(opened, max_new, len(reachable))
        if ph.county_share_target > 0:
            need = s.county_need(ph.county_share_target)
            lower += max(need - reach, 0) / len(s.county_ids)
    return float(lower)


def nested_problem(s: Setup) -> NestedProblem | None:
    """Return the plan stage as a nested facility location (:mod:`planning.models._nested`).

    Uncapacitated MCLP and p-median with a new-site limit every year, no budget and an
    overall cap that does not bind below the yearly limits, on dense-size data; ``None``
    otherwise. MCLP costs 0 where a candidate covers a point (its fallback: its patients,
    0 when an existing site covers it); p-median costs patient-minutes capped at ``U``.
    """
    p = s.prep
    if (
        s.capacitated
        or s.kind not in {"mclp", "p_median"}
        or s.nc == 0
        or p.n * s.nc > MAX_DENSE_CELLS
        or s.cap_total_budget is not None
        or any(ph.new_sites is None or ph.budget is not None for ph in s.periods)
    ):
        return None
    slots = tuple(int(ph.new_sites or 0) for ph in s.periods)
    if s.cap_total_sites is not None and s.cap_total_sites - int(p.fixed.sum()) < sum(slots):
        return None
    rows = np.flatnonzero(p.weight > 0)
    pos = np.full(p.n, -1, dtype=np.int64)
    pos[rows] = np.arange(rows.size)
    w = p.weight[rows]
    sel = pos[p.pi] >= 0
    pi, pj, pt = pos[p.pi[sel]], p.pj[sel], p.pt[sel]
    if s.kind == "mclp":
        within = pt <= p.threshold[rows][pi] + 1e-9
        pi, pj = pi[within], pj[within]
        pair_cost = np.zeros(pi.size)
        fallback = w.copy()
    else:
        pair_cost = w[pi] * np.minimum(pt, s.unserved_penalty_min)
        fallback = w * s.unserved_penalty_min
    fx = p.fixed[pj]
    np.minimum.at(fallback, pi[fx], pair_cost[fx])
    cand = s.cand_of[pj]
    ok = cand >= 0
    cost = np.full((rows.size, s.nc), np.inf)
    cost[pi[ok], cand[ok]] = pair_cost[ok]
    return NestedProblem(cost=cost, fallback=fallback, weights=s.weights, slots=slots)


def plan_frames(
    s: Setup, y: BoolArray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, float | None]:
    """Read the opening plan ``y`` back by ids (see :class:`~planning.models.rollout.RolloutPlan`).

    Returns every site with its opening year, every demand point with its patients within
    reach each year, the counties' names and, for the LSCP, the last year's share of the
    coverable patients covered.
    """
    p = s.prep
    years = [ph.year for ph in s.periods]
    opening = np.full(p.m, -1, dtype=np.int64)
    for t in reversed(range(s.n_periods)):
        opening[s.cand[y[t]]] = years[t]
    sites = pd.DataFrame(
        {
            "county": p.site_county,
            "fixed": p.fixed,
            "cost": p.cost,
            "opening_year": pd.array(
                [pd.NA if v < 0 else int(v) for v in opening.tolist()], dtype="Int64"
            ),
        },
        index=pd.Index([str(v) for v in p.site_ids], name="site_id"),
    )
    masks = open_masks(s, y)
    demand = pd.DataFrame(
        {"weight": p.weight, "county": p.county},
        index=pd.Index([str(v) for v in p.demand_ids], name="demand_id"),
    )
    for year, is_open in zip(years, masks, strict=True):
        demand[year] = covered_share(s, is_open)
    full_share = None
    if s.kind == "lscp":
        covered = float(covered_share(s, masks[-1], p.threshold).sum())
        full_share = covered / max(coverable_weight(s, p.threshold), 1e-12)
    names = pd.Series(
        [s.county_names[c] for c in s.county_ids],
        index=pd.Index(list(s.county_ids), name="county_id"),
        dtype=object,
        name="name",
    )
    return sites, demand, names, full_share


# --------------------------------------------------------------------------- warm start
def period_value(s: Setup, model: str, dist: FloatArray, cov_model: BoolArray) -> FloatArray:
    """Model value (lower is better) of candidate states: ``dist``/``cov_model`` are n x k."""
    w = s.prep.weight
    if model in {"mclp", "lscp"}:
        return np.asarray(-(w @ cov_model), dtype=float)
    d = np.minimum(dist, s.unserved_penalty_min)
    if model == "p_median":
        return np.asarray(w @ d, dtype=float)
    pos = w > 0
    radius = d[pos].max(axis=0) if pos.any() else np.zeros(d.shape[1])
    return np.asarray(radius + 1e-9 * (w @ d), dtype=float)


def greedy(s: Setup) -> BoolArray | None:
    """Greedy opening order: each year add the site that best reduces (shortfall, value).

    A warm start for the plan stage (uncapacitated figures); ``None`` on large instances.
    """
    p = s.prep
    if p.n * p.m > MAX_DENSE_CELLS or s.nc == 0:
        return None
    d = np.full((p.n, p.m), np.inf)
    d[p.pi, p.pj] = p.pt
    dc = d[:, s.cand]
    cov_m = dc <= p.threshold[:, None] + 1e-9
    cov_t = dc <= s.milestone_threshold + 1e-9
    base = d[:, p.fixed].min(axis=1) if p.fixed.any() else np.full(p.n, np.inf)
    cur_d = base
    cur_cm = base <= p.threshold + 1e-9
    cur_ct = base <= s.milestone_threshold + 1e-9
    county_pos = {c: k for k, c in enumerate(s.county_ids)}
    cand_county = np.array([county_pos.get(str(c), -1) for c in p.site_county[s.cand]])
    has_c = np.zeros(len(s.county_ids), dtype=bool)
    for c in p.site_county[p.fixed]:
        if str(c) in county_pos:
            has_c[county_pos[str(c)]] = True
    w = p.weight
    total_w = max(float(w.sum()), 1e-12)
    cost = p.cost[s.cand]
    is_open = np.zeros(s.nc, dtype=bool)
    n_open_total = int(p.fixed.sum())
    spend_total = 0.0
    y = np.zeros((s.n_periods, s.nc), dtype=bool)
    for t, ph in enumerate(s.periods):
        added, spend = 0, 0.0
        while True:
            ok = ~is_open
            if ph.new_sites is not None and added >= ph.new_sites:
                break
            if s.cap_total_sites is not None and n_open_total >= s.cap_total_sites:
                break
            if ph.budget is not None:
                ok &= spend + cost <= ph.budget + 1e-9
            if s.cap_total_budget is not None:
                ok &= spend_total + cost <= s.cap_total_budget + 1e-9
            ks = np.flatnonzero(ok)
            if ks.size == 0:
                break
            new_d = np.minimum(cur_d[:, None], dc[:, ks])
            new_cm = cur_cm[:, None] | cov_m[:, ks]
            new_ct = cur_ct[:, None] | cov_t[:, ks]
            short = np.zeros(ks.size)
            if ph.patient_share_target > 0:
                short += np.maximum(ph.patient_share_target - (w @ new_ct) / total_w, 0.0)
            if ph.county_share_target > 0 and s.county_ids:
                n_has = has_c.sum() + np.array(
                    [cand_county[k] >= 0 and not has_c[cand_county[k]] for k in ks], dtype=float
                )
                need = s.county_need(ph.county_share_target)
                short += np.maximum(need - n_has, 0.0) / len(s.county_ids)
            value = period_value(s, s.kind, new_d, new_cm)
            now_value = period_value(s, s.kind, cur_d[:, None], cur_cm[:, None])[0]
            best = int(np.lexsort((value, np.round(short, 12)))[0])
            if s.kind == "lscp" and value[best] >= now_value - 1e-12 and short[best] <= 0:
                break
            k = int(ks[best])
            is_open[k] = True
            cur_d, cur_cm, cur_ct = new_d[:, best], new_cm[:, best], new_ct[:, best]
            if cand_county[k] >= 0:
                has_c[cand_county[k]] = True
            added += 1
            spend += float(cost[k])
            spend_total += float(cost[k])
            n_open_total += 1
        y[t] = is_open
    return y


def local_search(s: Setup, y: BoolArray, *, shortfall_cap: float, time_s: float) -> np.ndarray:
    """Improve a warm start by swaps: replace an opened site, or exchange two opening years.

    Yearly site counts stay the same; budgets and the milestone shortfall cap are checked.
    Uncapacitated MCLP / p-median / p-center on dense instances only (else ``y`` unchanged).
    """
    p = s.prep
    model = s.kind
    if (
        s.capacitated
        or model not in {"mclp", "p_median", "p_center"}
        or p.n * p.m > MAX_DENSE_CELLS
        or s.nc < 2
    ):
        return y
    end = time.perf_counter() + time_s
    n_t = s.n_periods
    d = np.full((p.n, p.m), np.inf)
    d[p.pi, p.pj] = p.pt
    dc = d[:, s.cand]
    cov_c = dc <= p.threshold[:, None] + 1e-9
    base_d = d[:, p.fixed].min(axis=1) if p.fixed.any() else np.full(p.n, np.inf)
    base_c = base_d <= p.threshold + 1e-9
    cost = p.cost[s.cand]
    oy = np.full(s.nc, n_t)
    for t in reversed(range(n_t)):
        oy[y[t]] = t

    def state(mask: np.ndarray) -> tuple[FloatArray, BoolArray]:
        dist = np.minimum(base_d, dc[:, mask].min(axis=1)) if mask.any() else base_d
        cov = base_c | cov_c[:, mask].any(axis=1) if mask.any() else base_c
        return dist, cov

    def total(o: np.ndarray) -> float:
        out = 0.0
        for t in range(n_t):
            dist, cov = state(o <= t)
            out += s.weights[t] * period_value(s, model, dist[:, None], cov[:, None])[0]
        return float(out)

    def budget_ok(o: np.ndarray) -> bool:
        spent = 0.0
        for t, ph in enumerate(s.periods):
            sp = float(cost[o == t].sum())
            spent += sp
            if ph.budget is not None and sp > ph.budget + 1e-9:
                return False
        return s.cap_total_budget is None or spent <= s.cap_total_budget + 1e-9

    def feasible(o: np.ndarray) -> bool:
        y_new = np.vstack([o <= t for t in range(n_t)])
        return budget_ok(o) and shortfall_of(s, y_new) <= shortfall_cap - 1e-7

    current = total(oy)
    improved = True
    while improved and time.perf_counter() < end:
        improved = False
        moves: list[tuple[float, np.ndarray]] = []
        never = np.flatnonzero(oy == n_t)
        for k in np.flatnonzero(oy < n_t):
            if never.size == 0:
                break
            gain = np.zeros(never.size)
            for t in range(int(oy[k]), n_t):
                mask = (oy <= t) & (np.arange(s.nc) != k)
                dist, cov = state(mask)
                new_d = np.minimum(dist[:, None], dc[:, never])
                new_c = cov[:, None] | cov_c[:, never]
                with_k = period_value(
                    s, model, np.minimum(dist, dc[:, k])[:, None], (cov | cov_c[:, k])[:, None]
                )
                gain += s.weights[t] * (with_k[0] - period_value(s, model, new_d, new_c))
            for idx in np.argsort(-gain)[:5]:
                if gain[idx] > 1e-9 * max(abs(current), 1.0):
                    o = oy.copy()
                    o[never[idx]], o[k] = oy[k], n_t
                    moves.append((float(gain[idx]), o))
        opened = np.flatnonzero(oy < n_t)
        for a_pos, a in enumerate(opened):
            for b in opened[a_pos + 1 :]:
                if oy[a] != oy[b]:
                    o = oy.copy()
                    o[a], o[b] = oy[b], oy[a]
                    moves.append((current - total(o), o))
        moves.sort(key=lambda mv: -mv[0])
        for gain_mv, o in moves[:20]:
            if gain_mv <= 1e-9 * max(abs(current), 1.0):
                break
            if feasible(o):
                new_total = total(o)
                if new_total < current - 1e-9 * max(abs(current), 1.0):
                    oy, current, improved = o, new_total, True
                    break
            if time.perf_counter() >= end:
                break
    return np.vstack([oy <= t for t in range(n_t)])
