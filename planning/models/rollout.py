r"""Phased rollout: which sites open in which year to meet the yearly policy milestones.

A multi-period model on top of any siting model (``scenario.model``): each phase (year) of
``scenario.rollout.phases`` has a number of new sites and/or an opening budget, and milestone
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

Solving: each stage is one MIP (HiGHS or CBC, ``time_limit_s`` each). Stage 2 starts from
a greedy plan (each year the site that best reduces the shortfall, then the model's value)
improved by swaps (replace an opened site, exchange two opening years), or from the stage-1
plan when the greedy one misses the shortfall. For uncapacitated p-median and p-center the
distance levels :math:`D^k` are added lazily: only the levels up to each demand point's
distance in the current plan (plus one) are kept, which underestimates far assignments (a
relaxation, so its bound is valid); levels are extended where the plan puts a point beyond
them, until none is (then exact) or the time limit. The status is ``"optimal"`` only when
proven; otherwise ``"feasible"`` with the gap to the best bound.

Other scenario constraints (``site_in_every_county``, hubs, referral limits except the
exclusion of sites beyond ``max_referral_min``) are not imposed on the rollout.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd

from planning.errors import DataError, InfeasibleError, ScenarioError, SolverError
from planning.models import _prep
from planning.models._mip import (
    BoolArray,
    FloatArray,
    HighsSession,
    IntArray,
    Mip,
    MipBuilder,
    RawResult,
    sanitize_names,
    solve_mip,
)
from planning.models.base import ModelInput
from planning.models.options import ModelOptions
from planning.results.privacy import CountMask, county_count_mask
from planning.scenario import Phase, Scenario
from planning.suppression import hide_revealing_shares

if TYPE_CHECKING:
    from planning.pipeline import Inputs

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Measure = Literal["counties", "patients", "full_coverage"]
MEASURE_LABEL: dict[str, str] = {
    "counties": "counties with a site",
    "patients": "patients within reach",
    "full_coverage": "patients covered (LSCP: everyone coverable)",
}
_EPS = 1e-6


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, kw_only=True)
class RolloutResult:
    r"""A phased rollout plan and its year-by-year figures, keyed by ids and years.

    Attributes
    ----------
    scenario
        The scenario solved (its ``rollout`` phases define the years).
    years
        Phase years, increasing.
    status
        ``"optimal"`` when the final solve proved optimality, else ``"feasible"`` (time limit;
        see ``gap``).
    sites
        Every site open in the last year, index ``site_id``: ``name``, ``county``,
        ``county_name``, ``kind`` ("existing" | "new"), ``cost``, ``opening_year`` (Int64; NA
        for existing sites, open from the start).
    years_table
        Index ``year``: ``new_sites`` (count), ``new_site_ids``, ``sites_open`` (cumulative,
        existing included), ``spend`` (opening cost that year), ``cumulative_spend``,
        ``new_sites_limit``, ``budget_limit``, ``counties_with_site``, ``n_counties``,
        ``county_share``, ``county_target``, ``county_met``, ``patients_within``,
        ``patients_total``, ``patient_share``, ``patient_target``, ``patient_met``,
        ``objective`` (the model's value in that year, its own units).
    milestones
        One row per (``year``, ``measure``): ``target``, ``achieved`` (shares 0-1), ``met``,
        ``shortfall`` (share points), ``extra_sites`` (Int64, smallest number of extra sites
        that year), ``extra_budget`` (float), ``where`` (counties of the extra sites),
        ``share_hidden`` (a patient share that, with the patient total, would give a count
        below the scenario's ``privacy_threshold`` back: left out of ``message`` and of the
        exports), ``message`` (one human line).
    counties_by_year
        Long table ``year``, ``county_id``, ``county_name``, ``n_sites``, ``has_site``,
        ``patients``, ``patients_within``, ``share_within``.
    objective
        Weighted sum over periods of the model's value in each year,
        :math:`\sum_t \omega_t v_t` (``v_t`` in ``years_table["objective"]``: patients covered,
        patient-minutes, minutes, or number of sites).
    """

    scenario: Scenario
    model: str
    years: tuple[int, ...]
    status: str
    gap: float | None
    objective: float
    sites: pd.DataFrame
    years_table: pd.DataFrame
    milestones: pd.DataFrame
    counties_by_year: pd.DataFrame
    solve_time_s: float
    solver: str
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        """One line per milestone: met with its figures, or the shortfall and the fix."""
        return [str(m) for m in self.milestones["message"]]

    @property
    def all_met(self) -> bool:
        """``True`` when every milestone is met."""
        return bool(self.milestones["met"].all()) if len(self.milestones) else True

    def open_sites(self, year: int) -> tuple[str, ...]:
        """Ids of the sites open in ``year`` (existing included), sorted."""
        if year not in self.years:
            msg = f"year {year} is not a rollout phase; choose one of {list(self.years)}."
            raise ScenarioError(msg)
        yr = self.sites["opening_year"]
        mask = yr.isna() | (yr <= year)
        return tuple(sorted(map(str, self.sites.index[mask.to_numpy(dtype=bool)])))

    def count_masks(self) -> dict[int, CountMask]:
        """Return each year's counts that may not be shown exactly (:func:`year_count_masks`)."""
        return year_count_masks(
            self.years_table, self.counties_by_year, threshold=self.scenario.privacy_threshold
        )


def year_count_masks(
    years: pd.DataFrame, counties: pd.DataFrame, *, threshold: int
) -> dict[int, CountMask]:
    """Return, per year, the counts hidden when a year's county and region figures are shown.

    Parameters
    ----------
    years
        Index ``year``: ``patients_total``, ``patients_within``.
    counties
        Long table ``year``, ``county_id``, ``patients``, ``patients_within``.
    threshold
        The scenario's ``privacy_threshold``.

    Returns
    -------
    masks
        ``{year: CountMask}`` (:func:`planning.results.county_count_mask`: counts below the
        threshold ``"<N"``, counts that would give one back by subtraction ``"≥N"``).
    """
    out: dict[int, CountMask] = {}
    for year, row in years.iterrows():
        cty = counties[counties["year"] == year].set_index("county_id")
        out[int(cast("int", year))] = county_count_mask(
            cty[["patients", "patients_within"]],
            threshold=threshold,
            patients_total=float(row["patients_total"]),
            patients_within=float(row["patients_within"]),
        )
    return out


# --------------------------------------------------------------------------- set-up
@dataclass(frozen=True)
class _Setup:
    prep: _prep.Prepared
    phases: tuple[Phase, ...]
    weights: FloatArray  # omega_t
    cand: IntArray  # site positions of the candidate (y) sites
    cand_of: IntArray  # site position -> candidate number, -1 fixed / excluded
    county_ids: tuple[str, ...]
    county_names: dict[str, str]
    cap_total_sites: int | None
    cap_total_budget: float | None
    milestone_threshold: float
    unserved_penalty_min: float
    capacitated: bool

    @property
    def n_periods(self) -> int:
        return len(self.phases)

    @property
    def nc(self) -> int:
        return int(self.cand.size)

    def county_need(self, share: float) -> int:
        return math.ceil(share * len(self.county_ids) - 1e-9)


def _setup(data: ModelInput, scenario: Scenario, counties: pd.Series | None) -> _Setup:
    phases = scenario.rollout.phases
    if not phases:
        msg = "The rollout has no phases; add at least one year (scenario.rollout.phases)."
        raise ScenarioError(msg)
    # The model-input checks of the engine, without its one-shot site-count check: for a
    # rollout n_facilities is only an overall cap (checked below).
    prep = _prep.prepare(data, ModelOptions.from_scenario(scenario).replace(kind="lscp", p=None))
    n_fixed = int(prep.fixed.sum())
    cap_sites = scenario.n_facilities if scenario.model != "lscp" else None
    if cap_sites is not None and cap_sites < n_fixed:
        msg = (
            f"n_facilities={cap_sites} caps the rollout's total number of sites, but "
            f"{n_fixed} existing sites are always open. Set n_facilities to at least "
            f"{n_fixed} or leave it empty."
        )
        raise ScenarioError(msg)
    cand_mask = prep.openable & ~prep.fixed
    cand = np.flatnonzero(cand_mask).astype(np.int64)
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
    if not county_ids and any(p.county_share_target > 0 for p in phases):
        msg = (
            "County milestones need the demand table's 'county' column (adcode of each demand "
            "point); add it or set every phase's county_share_target to 0."
        )
        raise DataError(msg)
    _warn_limits(phases, prep.cost[cand])
    gamma = scenario.rollout.early_year_weight
    n_t = len(phases)
    weights = np.array([gamma ** (n_t - 1 - t) for t in range(n_t)], dtype=float)
    longest = float(prep.pt.max()) if prep.pt.size else scenario.max_travel_min
    return _Setup(
        prep=prep,
        phases=phases,
        weights=weights,
        cand=cand,
        cand_of=cand_of,
        county_ids=county_ids,
        county_names=names,
        cap_total_sites=cap_sites,
        cap_total_budget=scenario.constraints.budget,
        milestone_threshold=float(scenario.max_travel_min),
        unserved_penalty_min=2.0 * max(longest, scenario.max_travel_min),
        capacitated=scenario.constraints.capacitated,
    )


def _warn_limits(phases: tuple[Phase, ...], cost: FloatArray) -> None:
    """Warn about yearly budgets that cannot limit anything (every opening cost is 0).

    (A phase with neither limit is capped by ``n_facilities`` or ``constraints.budget``,
    one of which the scenario requires for the models that open as many sites as allowed.)
    """
    free = cost.size > 0 and not (cost > 0).any()
    for ph in phases:
        if ph.budget is not None and ph.new_sites is None and free:
            warnings.warn(
                f"rollout phase {ph.year}: its budget ({ph.budget:g}) limits nothing because "
                "every candidate's opening cost is 0. Set opening costs (candidate_types "
                "opening_cost or the facility table's cost column) or use new_sites.",
                UserWarning,
                stacklevel=4,
            )


# --------------------------------------------------------------------------- model
@dataclass
class _Built:
    mip: Mip
    y0: int  # y[k, t] = y0 + t * nc + k
    slack: dict[tuple[int, str], tuple[int, float]]  # (t, measure) -> (column, normaliser)
    period_terms: list[tuple[IntArray, FloatArray, float]]  # per period: objective parts
    extra_sites_col: int | None = None
    extra_budget_col: int | None = None
    obj_sign: float = 1.0
    costs: dict[int, float] = field(default_factory=dict)  # objective, applied at the end
    radius_cap: FloatArray | None = None  # (periods, demand) minutes of kept distance levels

    def add_cost(self, cols: IntArray, vals: FloatArray | float) -> None:
        """Add ``vals`` to the objective coefficients of ``cols``."""
        v = np.broadcast_to(np.asarray(vals, dtype=float), np.shape(cols))
        for c, x in zip(np.asarray(cols).tolist(), v.tolist(), strict=True):
            self.costs[c] = self.costs.get(c, 0.0) + x


class _Terms:
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


def _y(b: _Built, s: _Setup, t: int, k: IntArray | int) -> IntArray:
    return np.asarray(b.y0 + t * s.nc + np.asarray(k), dtype=np.int64)


def _add_coverage(
    mb: MipBuilder, s: _Setup, built: _Built, t: int, threshold: FloatArray, *, tag: str
) -> _Terms:
    """Patients covered in period ``t`` within ``threshold`` (per demand) as an expression."""
    p = s.prep
    mask = p.pt <= threshold[p.pi] + 1e-9
    ok = mask & (p.fixed[p.pj] | (s.cand_of[p.pj] >= 0))
    pi, pj = p.pi[ok], p.pj[ok]
    terms = _Terms()
    if not s.capacitated:
        fixed_cov = np.zeros(p.n, dtype=bool)
        fixed_cov[pi[p.fixed[pj]]] = True
        terms.const += float(p.weight[fixed_cov].sum())
        sel = ~fixed_cov[pi] & (p.weight[pi] > 0)
        ci, cj = pi[sel], pj[sel]
        dem = np.unique(ci)
        if dem.size == 0:
            return terms
        z0 = mb.add_cols(dem.size, lb=0.0, ub=1.0, prefix=f"z{tag}_{t}")
        row_of = np.searchsorted(dem, ci)
        rows = np.concatenate([np.arange(dem.size), row_of])
        cols = np.concatenate([z0 + np.arange(dem.size), _y(built, s, t, s.cand_of[cj])])
        vals = np.concatenate([np.ones(dem.size), -np.ones(ci.size)])
        mb.add_rows(dem.size, rows, cols, vals, ub=0.0, family=f"cover{tag}_{t}")
        terms.add(z0 + np.arange(dem.size), p.weight[dem])
        return terms
    sel = p.weight[pi] > 0
    pi, pj = pi[sel], pj[sel]
    if pi.size == 0:
        return terms
    x0 = mb.add_cols(pi.size, lb=0.0, ub=1.0, prefix=f"x{tag}_{t}")
    xc = x0 + np.arange(pi.size)
    dem, row_of = np.unique(pi, return_inverse=True)
    mb.add_rows(dem.size, row_of, xc, 1.0, ub=1.0, family=f"assign{tag}_{t}")
    _link_rows(mb, s, built, t, pi=pi, pj=pj, xc=xc, tag=tag)
    terms.add(xc, p.weight[pi])
    return terms


def _uncovered_terms(
    mb: MipBuilder, s: _Setup, built: _Built, t: int, threshold: FloatArray
) -> _Terms:
    """``-sum_i w_i u_i`` over coverable demand, ``u_i`` = share of ``i`` left uncovered.

    Uncapacitated: ``u_i + sum_{j covers i} y_jt >= 1``; capacitated:
    ``sum_j x_ijt + u_i = 1`` with the capacity rows (the LSCP constraints made soft).
    """
    p = s.prep
    ok = (p.pt <= threshold[p.pi] + 1e-9) & (p.fixed[p.pj] | (s.cand_of[p.pj] >= 0))
    ok &= p.weight[p.pi] > 0
    pi, pj = p.pi[ok], p.pj[ok]
    terms = _Terms()
    if not s.capacitated:
        fixed_cov = np.zeros(p.n, dtype=bool)
        fixed_cov[pi[p.fixed[pj]]] = True
        sel = ~fixed_cov[pi]
        pi, pj = pi[sel], pj[sel]
    dem = np.unique(pi)
    if dem.size == 0:
        return terms
    u0 = mb.add_cols(dem.size, lb=0.0, ub=1.0, prefix=f"uncovered_{t}")
    uc = u0 + np.arange(dem.size)
    row_of = np.searchsorted(dem, pi)
    if not s.capacitated:
        mb.add_rows(
            dem.size,
            np.concatenate([np.arange(dem.size), row_of]),
            np.concatenate([uc, _y(built, s, t, s.cand_of[pj])]),
            1.0,
            lb=1.0,
            family=f"full_cover_{t}",
        )
    else:
        x0 = mb.add_cols(pi.size, lb=0.0, ub=1.0, prefix=f"xf_{t}")
        xc = x0 + np.arange(pi.size)
        mb.add_rows(
            dem.size,
            np.concatenate([np.arange(dem.size), row_of]),
            np.concatenate([uc, xc]),
            1.0,
            lb=1.0,
            ub=1.0,
            family=f"full_cover_{t}",
        )
        _link_rows(mb, s, built, t, pi=pi, pj=pj, xc=xc, tag="f")
    terms.add(uc, -p.weight[dem])
    return terms


def _link_rows(
    mb: MipBuilder,
    s: _Setup,
    built: _Built,
    t: int,
    *,
    pi: IntArray,
    pj: IntArray,
    xc: IntArray,
    tag: str,
) -> None:
    """Rows ``x_ijt <= y_jt`` (candidates) and ``sum_i w_i x_ijt <= q_j y_jt`` (capacitated)."""
    p = s.prep
    kc = np.flatnonzero(s.cand_of[pj] >= 0)
    if kc.size:
        mb.add_rows(
            kc.size,
            np.concatenate([np.arange(kc.size), np.arange(kc.size)]),
            np.concatenate([xc[kc], _y(built, s, t, s.cand_of[pj[kc]])]),
            np.concatenate([np.ones(kc.size), -np.ones(kc.size)]),
            ub=0.0,
            family=f"xy{tag}_{t}",
        )
    if not s.capacitated:
        return
    cap = p.capacity
    limited = np.isfinite(cap[pj])
    sites = np.unique(pj[limited])
    if not sites.size:
        return
    cand_sites = s.cand_of[sites] >= 0
    ub = np.zeros(sites.size)
    ub[~cand_sites] = cap[sites[~cand_sites]]
    mb.add_rows(
        sites.size,
        np.concatenate([np.searchsorted(sites, pj[limited]), np.flatnonzero(cand_sites)]),
        np.concatenate([xc[limited], _y(built, s, t, s.cand_of[sites[cand_sites]])]),
        np.concatenate([p.weight[pi[limited]], -cap[sites[cand_sites]]]),
        ub=ub,
        family=f"capacity{tag}_{t}",
    )


def _assignment_block(mb: MipBuilder, s: _Setup, built: _Built, t: int, *, center: bool) -> _Terms:
    """p-median / p-center allocation in period ``t``; returns the period's cost expression."""
    p = s.prep
    ok = (p.fixed[p.pj] | (s.cand_of[p.pj] >= 0)) & (p.weight[p.pi] > 0)
    pi, pj, pt = p.pi[ok], p.pj[ok], p.pt[ok]
    if not s.capacitated and pi.size:
        # never worth assigning beyond the nearest existing site
        best_fixed = np.full(p.n, np.inf)
        fx = p.fixed[pj]
        np.minimum.at(best_fixed, pi[fx], pt[fx])
        keep = pt <= best_fixed[pi] + 1e-9
        pi, pj, pt = pi[keep], pj[keep], pt[keep]
    dem = np.flatnonzero(p.weight > 0)
    terms = _Terms()
    if dem.size == 0:
        return terms
    if not s.capacitated:
        return _radius_chain(mb, s, built, t, pi=pi, pj=pj, pt=pt, dem=dem, center=center)
    u0 = mb.add_cols(dem.size, lb=0.0, ub=1.0, prefix=f"u_{t}")
    uc = u0 + np.arange(dem.size)
    x0 = mb.add_cols(pi.size, lb=0.0, ub=1.0, prefix=f"x_{t}")
    xc = x0 + np.arange(pi.size)
    row_of = np.searchsorted(dem, pi)
    mb.add_rows(
        dem.size,
        np.concatenate([row_of, np.arange(dem.size)]),
        np.concatenate([xc, uc]),
        1.0,
        lb=1.0,
        ub=1.0,
        family=f"assign_{t}",
    )
    _link_rows(mb, s, built, t, pi=pi, pj=pj, xc=xc, tag="")
    big_u = s.unserved_penalty_min
    if not center:
        terms.add(xc, p.weight[pi] * pt)
        terms.add(uc, p.weight[dem] * big_u)
        return terms
    r = mb.add_cols(1, lb=0.0, prefix=f"radius_{t}")
    mb.add_rows(
        dem.size,
        np.concatenate([row_of, np.arange(dem.size), np.arange(dem.size)]),
        np.concatenate([xc, uc, np.full(dem.size, r)]),
        np.concatenate([pt, np.full(dem.size, big_u), -np.ones(dem.size)]),
        ub=0.0,
        family=f"radius_{t}",
    )
    terms.add(np.array([r]), 1.0)
    return terms


def _radius_chain(
    mb: MipBuilder,
    s: _Setup,
    built: _Built,
    t: int,
    *,
    pi: IntArray,
    pj: IntArray,
    pt: FloatArray,
    dem: IntArray,
    center: bool,
) -> _Terms:
    """Uncapacitated distance by distinct-distance levels (tighter than assignments).

    For demand ``i`` let ``D^0 < ... < D^{K-1}`` be the distinct minutes to its candidate
    sites closer than its terminal distance ``D^K`` (nearest existing site, else the unserved
    penalty ``U``). ``z^k = 1`` while no open site is within ``D^k``::

        z^0 + sum_{j: d_ij = D^0} y_jt >= 1
        z^k - z^{k-1} + sum_{j: d_ij = D^k} y_jt >= 0
        dist_i = D^0 + sum_k (D^{k+1} - D^k) z^k
    """
    p = s.prep
    terminal = np.full(p.n, s.unserved_penalty_min)
    fx = p.fixed[pj]
    np.minimum.at(terminal, pi[fx], pt[fx])
    cand = ~fx & (pt < terminal[pi] - 1e-9)
    ci, cj, ct = pi[cand], pj[cand], pt[cand]  # sorted by (i, minutes, j) as in Prepared
    terms = _Terms()
    new_client = np.r_[True, ci[1:] != ci[:-1]] if ci.size else np.zeros(0, dtype=bool)
    new_level = (new_client | np.r_[True, ct[1:] != ct[:-1]]) if ci.size else new_client
    level_id = np.cumsum(new_level) - 1  # global row / z index of each pair's level
    n_lv = int(level_id[-1] + 1) if ci.size else 0
    lv_start = np.flatnonzero(new_level)
    lv_client = ci[lv_start]
    lv_dist = ct[lv_start]
    last_of_client = np.r_[lv_client[1:] != lv_client[:-1], True] if n_lv else new_level
    next_dist = np.where(last_of_client, terminal[lv_client], np.r_[lv_dist[1:], 0.0])
    first_of_client = np.r_[True, lv_client[1:] != lv_client[:-1]] if n_lv else new_level
    # base distance per client: D^0 if it has candidate levels, else its terminal
    base = terminal.copy()
    base[lv_client[first_of_client]] = lv_dist[first_of_client]
    cap = built.radius_cap[t] if built.radius_cap is not None else None
    if cap is not None and n_lv:
        # lazy levels: keep those up to the cap plus one (a relaxation: beyond it a client
        # costs the next kept distance); the caller extends caps until no client lies beyond
        prev_dist = np.where(first_of_client, -np.inf, np.r_[-np.inf, lv_dist[:-1]])
        kept = prev_dist <= cap[lv_client] + 1e-9
        new_id = np.cumsum(kept) - 1
        pair_kept = kept[level_id]
        ci, cj = ci[pair_kept], cj[pair_kept]
        level_id = new_id[level_id[pair_kept]]
        lv_client, lv_dist = lv_client[kept], lv_dist[kept]
        next_dist, first_of_client = next_dist[kept], first_of_client[kept]
        n_lv = int(kept.sum())
    z0 = mb.add_cols(n_lv, lb=0.0, ub=1.0, prefix=f"z_{t}")
    zc = z0 + np.arange(n_lv)
    prev_ok = np.flatnonzero(~first_of_client)
    rows = np.concatenate([level_id, np.arange(n_lv), prev_ok])
    cols = np.concatenate([_y(built, s, t, s.cand_of[cj]), zc, zc[prev_ok - 1]])
    vals = np.concatenate([np.ones(ci.size), np.ones(n_lv), -np.ones(prev_ok.size)])
    if n_lv:
        mb.add_rows(
            n_lv, rows, cols, vals, lb=np.where(first_of_client, 1.0, 0.0), family=f"radius_{t}"
        )
    step = next_dist - lv_dist
    if not center:
        terms.add(zc, p.weight[lv_client] * step)
        terms.const += float(p.weight[dem] @ base[dem])
        return terms
    r = mb.add_cols(1, lb=0.0, prefix=f"radius_{t}")
    row_of = np.searchsorted(dem, lv_client)
    mb.add_rows(
        dem.size,
        np.concatenate([row_of, np.arange(dem.size)]),
        np.concatenate([zc, np.full(dem.size, r)]),
        np.concatenate([step, -np.ones(dem.size)]),
        ub=-base[dem],
        family=f"center_{t}",
    )
    terms.add(np.array([r]), 1.0)
    return terms


Stage = Literal["shortfall", "plan", "extra"]


def _build(
    s: _Setup,
    scenario: Scenario,
    *,
    stage: Stage,
    shortfall_max: float = math.inf,
    target: tuple[int, str] | None = None,
    stay_close: tuple[np.ndarray, float, float] | None = None,
    radius_cap: FloatArray | None = None,
) -> _Built:
    """Assemble the multi-period MIP for one solve stage (see the module Notes)."""
    p = s.prep
    model = scenario.model
    mb = MipBuilder(sense="min")
    n_t, nc = s.n_periods, s.nc
    y0 = mb.add_cols(
        n_t * nc,
        lb=0.0,
        ub=1.0,
        integer=True,
        names=[
            f"{nm}_{ph.year}"
            for ph in s.phases
            for nm in sanitize_names("y", [str(v) for v in p.site_ids[s.cand]])
        ],
    )
    built = _Built(  # the Mip is set by _finish
        mip=None,  # type: ignore[arg-type]
        y0=y0,
        slack={},
        period_terms=[],
        radius_cap=radius_cap,
    )
    k_all = np.arange(nc)
    cost = p.cost[s.cand]

    # extra resources (stage "extra" only): sites e, budget b added to the target year
    e_col = b_col = None
    if stage == "extra" and target is not None:
        t_x = target[0]
        ph = s.phases[t_x]
        # stay_close = (base plan y, extra sites, extra budget): second pass, resources fixed,
        # fewest changes to the base plan (so the extra sites name where they are needed)
        e_ub = b_ub = math.inf
        e_cost, b_cost = 1.0, 1.0 / (1.0 + float(cost.sum()))
        if stay_close is not None:
            base_y, e_ub, b_ub = stay_close
            e_cost = b_cost = 0.0
            built.add_cost(
                _y(built, s, 0, np.arange(n_t * nc)), np.where(base_y.reshape(-1), -1.0, 1.0)
            )
        if ph.new_sites is not None or s.cap_total_sites is not None:
            e_col = mb.add_cols(
                1, lb=0.0, ub=e_ub, cost=e_cost, integer=True, names=["extra_sites"]
            )
        if ph.budget is not None or s.cap_total_budget is not None:
            b_col = mb.add_cols(1, lb=0.0, ub=b_ub, cost=b_cost, names=["extra_budget"])
    built.extra_sites_col, built.extra_budget_col = e_col, b_col

    # stay open, yearly limits, overall caps
    if n_t > 1 and nc:
        rows = np.concatenate([np.arange((n_t - 1) * nc)] * 2)
        prev = np.concatenate([_y(built, s, t, k_all) for t in range(n_t - 1)])
        nxt = np.concatenate([_y(built, s, t + 1, k_all) for t in range(n_t - 1)])
        mb.add_rows(
            (n_t - 1) * nc,
            rows,
            np.concatenate([prev, nxt]),
            np.concatenate([np.ones(prev.size), -np.ones(nxt.size)]),
            ub=0.0,
            family="stay_open",
        )
    for t, ph in enumerate(s.phases):
        for limit, coef, extra, fam in (
            (ph.new_sites, np.ones(nc), e_col, "new_sites"),
            (ph.budget, cost, b_col, "budget"),
        ):
            if limit is None:
                continue
            cols = [_y(built, s, t, k_all)]
            vals = [coef]
            if t > 0:
                cols.append(_y(built, s, t - 1, k_all))
                vals.append(-coef)
            if extra is not None and target is not None and target[0] == t:
                cols.append(np.array([extra]))
                vals.append(np.array([-1.0]))
            c = np.concatenate(cols)
            mb.add_rows(
                1,
                np.zeros(c.size, dtype=np.int64),
                c,
                np.concatenate(vals),
                ub=float(limit),
                family=f"{fam}_{ph.year}",
            )
    last = n_t - 1
    for cap, coef, extra, fam, base in (
        (s.cap_total_sites, np.ones(nc), e_col, "n_facilities", float(p.fixed.sum())),
        (s.cap_total_budget, cost, b_col, "total_budget", 0.0),
    ):
        if cap is None:
            continue
        cols = [_y(built, s, last, k_all)]
        vals = [coef]
        if extra is not None:
            cols.append(np.array([extra]))
            vals.append(np.array([-1.0]))
        c = np.concatenate(cols)
        mb.add_rows(
            1,
            np.zeros(c.size, dtype=np.int64),
            c,
            np.concatenate(vals),
            ub=float(cap) - base,
            family=fam,
        )

    # milestones (soft: shortfall columns)
    model_thr = p.threshold
    mile_thr = np.full(p.n, s.milestone_threshold)
    same_thr = bool(np.allclose(model_thr, mile_thr))
    covered_model: list[_Terms] = []
    total_w = float(p.weight.sum())
    for t, ph in enumerate(s.phases):
        need_specs: list[tuple[str, float, _Terms, float]] = []
        if ph.county_share_target > 0 and s.county_ids:
            need_specs.append(
                (
                    "counties",
                    float(s.county_need(ph.county_share_target)),
                    _county_terms(mb, s, built, t),
                    float(len(s.county_ids)),
                )
            )
        cov_m: _Terms | None = None
        if model in {"mclp", "lscp"}:
            cov_m = _add_coverage(mb, s, built, t, model_thr, tag="")
            covered_model.append(cov_m)
        if ph.patient_share_target > 0 and total_w > 0:
            cov = (
                cov_m
                if (same_thr and cov_m is not None)
                else _add_coverage(mb, s, built, t, mile_thr, tag="m")
            )
            need_specs.append(("patients", ph.patient_share_target * total_w, cov, total_w))
        if model == "lscp" and t == last and _coverable_weight(s, model_thr) > 0:
            # -sum_i w_i u_i + shortfall >= 0, u_i = patients of i left uncovered
            need_specs.append(
                ("full_coverage", 0.0, _uncovered_terms(mb, s, built, t, model_thr), total_w)
            )
        for measure, need, terms, norm in need_specs:
            is_target = target == (t, measure)
            if stage == "extra" and not is_target:
                continue
            tcols, tvals = terms.arrays()
            sl = mb.add_cols(
                1, lb=0.0, ub=0.0 if is_target else math.inf, names=[f"short_{measure}_{ph.year}"]
            )
            built.slack[(t, measure)] = (sl, norm)
            c = np.concatenate([tcols, [sl]])
            v = np.concatenate([tvals, [1.0]])
            mb.add_rows(
                1,
                np.zeros(c.size, dtype=np.int64),
                c,
                v,
                lb=need - terms.const,
                family=f"milestone_{measure}_{ph.year}",
            )

    # objective
    if stage == "shortfall":
        for col, norm in built.slack.values():
            built.add_cost(np.array([col]), 1.0 / norm)
    elif stage == "plan":
        if built.slack and math.isfinite(shortfall_max):
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
        built.period_terms, built.obj_sign = _objective(mb, s, built, model, covered_model)
    return _finish(mb, built)


def _finish(mb: MipBuilder, built: _Built) -> _Built:
    mip = mb.build()
    if built.costs:
        cols = np.fromiter(built.costs.keys(), dtype=np.int64, count=len(built.costs))
        vals = np.fromiter(built.costs.values(), dtype=float, count=len(built.costs))
        np.add.at(mip.cost, cols, vals)
    built.mip = mip
    return built


def _county_terms(mb: MipBuilder, s: _Setup, built: _Built, t: int) -> _Terms:
    p = s.prep
    terms = _Terms()
    fixed_c = {str(c) for c in p.site_county[p.fixed]}
    cand_c = p.site_county[s.cand]
    open_c = [c for c in s.county_ids if c not in fixed_c and (cand_c == c).any()]
    terms.const += float(sum(c in fixed_c for c in s.county_ids))
    if not open_c:
        return terms
    h0 = mb.add_cols(len(open_c), lb=0.0, ub=1.0, prefix=f"h_{t}")
    pos = {c: k for k, c in enumerate(open_c)}
    ks = np.array([k for k, c in enumerate(cand_c) if c in pos], dtype=np.int64)
    rows = np.concatenate([np.arange(len(open_c)), [pos[str(cand_c[k])] for k in ks]])
    cols = np.concatenate([h0 + np.arange(len(open_c)), _y(built, s, t, ks)])
    vals = np.concatenate([np.ones(len(open_c)), -np.ones(ks.size)])
    mb.add_rows(len(open_c), rows.astype(np.int64), cols, vals, ub=0.0, family=f"county_{t}")
    terms.add(h0 + np.arange(len(open_c)), 1.0)
    return terms


def _coverable_weight(s: _Setup, threshold: FloatArray) -> float:
    p = s.prep
    ok = (p.pt <= threshold[p.pi] + 1e-9) & (p.fixed[p.pj] | (s.cand_of[p.pj] >= 0))
    cov = np.zeros(p.n, dtype=bool)
    cov[p.pi[ok]] = True
    return float(p.weight[cov].sum())


def _objective(
    mb: MipBuilder, s: _Setup, built: _Built, model: str, covered: list[_Terms]
) -> tuple[list[tuple[IntArray, FloatArray, float]], float]:
    """Set the stage-2 costs; return each period's value expression and the sign used."""
    per: list[tuple[IntArray, FloatArray, float]] = []

    def put(cols: IntArray, vals: FloatArray, w: float) -> None:
        built.add_cost(cols, w * vals)

    sign = 1.0
    if model == "mclp":
        sign = -1.0
        for t, terms in enumerate(covered):
            cols, vals = terms.arrays()
            per.append((cols, vals, terms.const))
            put(cols, vals, -float(s.weights[t]))
            mb.offset -= float(s.weights[t]) * terms.const
    elif model in {"p_median", "p_center"}:
        for t in range(s.n_periods):
            terms = _assignment_block(mb, s, built, t, center=model == "p_center")
            cols, vals = terms.arrays()
            per.append((cols, vals, terms.const))
            put(cols, vals, float(s.weights[t]))
            mb.offset += float(s.weights[t]) * terms.const  # gap in true units
    else:  # lscp
        big_k = 1.0 + float(s.weights.sum())
        total_w = max(float(s.prep.weight.sum()), 1e-12)
        for t, terms in enumerate(covered):
            y_cols = _y(built, s, t, np.arange(s.nc))
            per.append((y_cols, np.ones(s.nc), float(s.prep.fixed.sum())))
            cols, vals = terms.arrays()
            put(cols, vals, -float(s.weights[t]) / total_w)
        put(_y(built, s, s.n_periods - 1, np.arange(s.nc)), np.ones(s.nc), big_k)
    return per, sign


# --------------------------------------------------------------------------- solving
def _run(
    mip: Mip,
    scenario: Scenario,
    what: str,
    *,
    start: tuple[IntArray, FloatArray] | None = None,
    time_limit_s: float | None = None,
) -> RawResult:
    """Solve ``mip``; ``start`` = (columns, values) of the site variables to warm-start from.

    HiGHS completes a partial start itself (it fixes the given integer columns and solves for
    the rest); CBC is run without a start.
    """
    limit = scenario.time_limit_s if time_limit_s is None else max(time_limit_s, 0.05)
    if start is not None and scenario.solver == "highs":
        session = HighsSession(mip)
        cols, vals = start
        session.h.setSolution(int(cols.size), cols.astype(np.int32), vals.astype(float))
        res = session.solve(time_limit_s=limit, mip_gap=scenario.mip_gap)
    else:
        res = solve_mip(
            mip,
            solver=scenario.solver,
            time_limit_s=limit,
            mip_gap=scenario.mip_gap,
        )
    logger.info(
        "rollout %s: %s (obj %s) in %.2f s", what, res.status, res.objective, res.solve_time_s
    )
    if res.status == "error":
        msg = f"The solver failed on the rollout {what} model: {res.message}. Try --solver cbc."
        raise SolverError(msg)
    return res


def solve_rollout(
    data: ModelInput,
    scenario: Scenario,
    *,
    counties: pd.Series | None = None,
    suggest: bool = True,
    progress: Progress | None = None,
) -> RolloutResult:
    """Plan which sites open in which year (``scenario.rollout.phases``) for ``scenario.model``.

    Parameters
    ----------
    data
        Model input keyed by ids (see :class:`~planning.models.base.ModelInput`). The demand
        table's ``county`` (adcode) and ``county_name`` columns define the counties of the
        county milestones.
    scenario
        Model, travel threshold (``max_travel_min``, minutes), capacities, solver, time limit
        (per MIP) and the rollout phases. ``n_facilities`` and ``constraints.budget``, when
        set, cap the total number of sites (existing included) and the total opening spend by
        the last year.
    counties
        Optional ``county_id -> name`` Series of every county in the region (counties without
        demand points count too); default: the counties of the demand table.
    suggest
        Search the smallest extra sites / budget for each missed milestone (one MIP each).

    Returns
    -------
    RolloutResult
        Opening years, year-by-year figures against the milestones and the shortfalls.

    Raises
    ------
    ScenarioError
        Phases missing, ``n_facilities`` below the number of existing sites.
    DataError
        County milestones without a ``county`` column.
    InfeasibleError
        The solver found no plan within the time limit (raise ``time_limit_s``).
    """
    t0 = time.perf_counter()
    s = _setup(data, scenario, counties)
    if progress:
        progress(0.05, "rollout: finding the smallest milestone shortfall")
    shortfall_star = 0.0
    solve_time = 0.0
    stage1 = _build(s, scenario, stage="shortfall")
    y1: np.ndarray | None = None
    if stage1.slack:
        r1 = _run(stage1.mip, scenario, "shortfall")
        solve_time += r1.solve_time_s
        if r1.x is None:
            msg = (
                f"No rollout plan found within {scenario.time_limit_s:g} s "
                f"({r1.message}). Raise the time limit or coarsen the demand cells."
            )
            raise InfeasibleError(msg, culprit="time_limit_s")
        shortfall_star = max(float(r1.objective or 0.0), 0.0)
        y1 = _nested(r1.x, stage1, s)
    if progress:
        progress(0.35, "rollout: optimising the opening order")
    cap = shortfall_star * (1 + 1e-6) + 1e-7
    start_y = _greedy(s, scenario)
    if start_y is None or _shortfall_of(s, scenario, start_y) > cap - 1e-7:
        start_y = y1  # the shortfall solution is always feasible for the plan stage
    if start_y is not None:
        budget_s = min(0.25 * scenario.time_limit_s, 15.0)
        start_y = _local_search(s, scenario, start_y, shortfall_cap=cap, time_s=budget_s)
    plan = _solve_plan(s, scenario, shortfall_cap=cap, start_y=start_y)
    solve_time += plan.solve_time_s
    y, period_values = plan.y, plan.period_values
    if progress:
        progress(0.6, "rollout: year-by-year figures")
    result = _tables(s, scenario, y, period_values)
    thr = scenario.privacy_threshold
    masks = year_count_masks(result["years"], result["counties"], threshold=thr)
    milestones = _milestones(s, result["years"], threshold=thr, masks=masks)
    if suggest and not milestones["met"].all():
        milestones = _suggest(s, scenario, y, milestones, progress)
    milestones["message"] = [_message(s, row, threshold=thr) for row in milestones.itertuples()]
    logger.info("Rollout planned in %.1f s", time.perf_counter() - t0)
    if progress:
        progress(1.0, "rollout: done")
    return RolloutResult(
        scenario=scenario,
        model=scenario.model,
        years=tuple(p.year for p in s.phases),
        status=plan.status,
        gap=plan.gap,
        objective=float(np.dot(s.weights, period_values)),
        sites=result["sites"],
        years_table=result["years"],
        milestones=milestones,
        counties_by_year=result["counties"],
        solve_time_s=solve_time,
        solver=plan.solver,
        extras={
            "shortfall": shortfall_star,
            "unserved_penalty_min": s.unserved_penalty_min,
            "period_weights": [float(w) for w in s.weights],
            "lazy_rounds": plan.rounds,
        },
    )


@dataclass(frozen=True)
class _Plan:
    y: np.ndarray
    period_values: list[float]
    status: str
    gap: float | None
    solve_time_s: float
    solver: str
    rounds: int


def _nearest_minutes(s: _Setup, is_open: np.ndarray) -> FloatArray:
    """Minutes from each demand point to its nearest open site, capped at the penalty ``U``."""
    p = s.prep
    ok = is_open[p.pj]
    out = np.full(p.n, s.unserved_penalty_min)
    np.minimum.at(out, p.pi[ok], p.pt[ok])
    return out


def _open_masks(s: _Setup, y: np.ndarray) -> list[np.ndarray]:
    masks = []
    for t in range(s.n_periods):
        is_open = s.prep.fixed.copy()
        is_open[s.cand[y[t]]] = True
        masks.append(is_open)
    return masks


def _true_values(s: _Setup, scenario: Scenario, y: np.ndarray) -> list[float] | None:
    """Exact per-period value of an uncapacitated distance model (``None`` otherwise)."""
    if s.capacitated or scenario.model not in {"p_median", "p_center"}:
        return None
    w = s.prep.weight
    pos = w > 0
    out = []
    for is_open in _open_masks(s, y):
        d = _nearest_minutes(s, is_open)
        if scenario.model == "p_median":
            out.append(float(w @ d))
        else:
            out.append(float(d[pos].max()) if pos.any() else 0.0)
    return out


def _solve_plan(
    s: _Setup, scenario: Scenario, *, shortfall_cap: float, start_y: np.ndarray | None
) -> _Plan:
    """Stage 2; uncapacitated p-median / p-center add distance levels lazily.

    The truncated distance chains underestimate far assignments, so each round's bound is a
    valid lower bound; a round whose plan puts no demand point beyond its kept levels is exact.
    """
    lazy = not s.capacitated and scenario.model in {"p_median", "p_center"}
    deadline = time.perf_counter() + scenario.time_limit_s
    radius_cap: FloatArray | None = None
    if lazy and start_y is not None:
        radius_cap = np.vstack([_nearest_minutes(s, m) for m in _open_masks(s, start_y)])
    best: tuple[float, np.ndarray, list[float]] | None = None
    if start_y is not None:  # the warm start is a plan too (its true value, when exact)
        start_values = _true_values(s, scenario, start_y)
        if start_values is not None:
            best = (float(np.dot(s.weights, start_values)), start_y, start_values)
    bound = -math.inf
    solve_time, rounds = 0.0, 0
    solver: str = scenario.solver
    status, gap = "feasible", None
    while True:
        rounds += 1
        built = _build(
            s, scenario, stage="plan", shortfall_max=shortfall_cap, radius_cap=radius_cap
        )
        start = None
        if start_y is not None:
            cols = _y(built, s, 0, np.arange(s.n_periods * s.nc))
            start = (cols, start_y.reshape(-1).astype(float))
        res = _run(
            built.mip,
            scenario,
            f"plan (round {rounds})",
            start=start,
            time_limit_s=deadline - time.perf_counter(),
        )
        solve_time += res.solve_time_s
        solver = res.solver
        if res.x is None:
            if best is not None:
                break
            msg = (
                f"No rollout plan found within {scenario.time_limit_s:g} s ({res.message}). "
                "Raise the time limit (time_limit_s) or coarsen the demand cells."
            )
            raise InfeasibleError(msg, culprit="time_limit_s")
        y = _nested(res.x, built, s)
        x = res.x.copy()
        x[built.y0 : built.y0 + s.n_periods * s.nc] = y.reshape(-1)
        values = _true_values(s, scenario, y)
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
        near = np.vstack([_nearest_minutes(s, m) for m in _open_masks(s, y)])
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
    return _Plan(
        y=best[1],
        period_values=best[2],
        status=status,
        gap=gap,
        solve_time_s=solve_time,
        solver=solver,
        rounds=rounds,
    )


def _nested(x: FloatArray, built: _Built, s: _Setup) -> np.ndarray:
    """Open-site matrix ``(periods, candidates)`` from a solution, nested against round-off."""
    y = np.rint(x[built.y0 : built.y0 + s.n_periods * s.nc]).reshape(s.n_periods, s.nc) > 0.5
    for t in range(1, s.n_periods):
        y[t] |= y[t - 1]
    return y


MAX_DENSE_CELLS = 6_000_000


def _period_value(s: _Setup, model: str, dist: FloatArray, cov_model: BoolArray) -> FloatArray:
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


def _local_search(
    s: _Setup, scenario: Scenario, y: np.ndarray, *, shortfall_cap: float, time_s: float
) -> np.ndarray:
    """Improve a warm start by swaps: replace an opened site, or exchange two opening years.

    Yearly site counts stay the same; budgets and the milestone shortfall cap are checked.
    Uncapacitated MCLP / p-median / p-center on dense instances only (else ``y`` unchanged).
    """
    p = s.prep
    model = scenario.model
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
            out += s.weights[t] * _period_value(s, model, dist[:, None], cov[:, None])[0]
        return float(out)

    def budget_ok(o: np.ndarray) -> bool:
        spent = 0.0
        for t, ph in enumerate(s.phases):
            sp = float(cost[o == t].sum())
            spent += sp
            if ph.budget is not None and sp > ph.budget + 1e-9:
                return False
        return s.cap_total_budget is None or spent <= s.cap_total_budget + 1e-9

    def feasible(o: np.ndarray) -> bool:
        y_new = np.vstack([o <= t for t in range(n_t)])
        return budget_ok(o) and _shortfall_of(s, scenario, y_new) <= shortfall_cap - 1e-7

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
                with_k = _period_value(
                    s, model, np.minimum(dist, dc[:, k])[:, None], (cov | cov_c[:, k])[:, None]
                )
                gain += s.weights[t] * (with_k[0] - _period_value(s, model, new_d, new_c))
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


def _greedy(s: _Setup, scenario: Scenario) -> np.ndarray | None:
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
    for t, ph in enumerate(s.phases):
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
            value = _period_value(s, scenario.model, new_d, new_cm)
            now_value = _period_value(s, scenario.model, cur_d[:, None], cur_cm[:, None])[0]
            best = int(np.lexsort((value, np.round(short, 12)))[0])
            if scenario.model == "lscp" and value[best] >= now_value - 1e-12 and short[best] <= 0:
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


def _shortfall_of(s: _Setup, scenario: Scenario, y: np.ndarray) -> float:
    """Normalised milestone shortfall ``S`` of an opening plan (as in the model)."""
    p = s.prep
    total_w = float(p.weight.sum())
    short = 0.0
    for t, ph in enumerate(s.phases):
        is_open = p.fixed.copy()
        is_open[s.cand[y[t]]] = True
        if ph.county_share_target > 0 and s.county_ids:
            has = {str(c) for c in p.site_county[is_open]}
            n_has = sum(c in has for c in s.county_ids)
            short += max(s.county_need(ph.county_share_target) - n_has, 0) / len(s.county_ids)
        if ph.patient_share_target > 0 and total_w > 0:
            cov = float(_covered_share(s, is_open, scenario).sum())
            short += max(ph.patient_share_target * total_w - cov, 0.0) / total_w
        if scenario.model == "lscp" and t == s.n_periods - 1 and total_w > 0:
            coverable = _coverable_weight(s, p.threshold)
            cov = float(_covered_share(s, is_open, scenario, p.threshold).sum())
            short += max(coverable - cov, 0.0) / total_w
    return short


def plan_rollout(
    inputs: Inputs,
    scenario: Scenario | None = None,
    *,
    suggest: bool = True,
    progress: Progress | None = None,
) -> RolloutResult:
    """Solve the rollout on prepared pipeline inputs (all the region's counties count)."""
    scenario = scenario or inputs.scenario
    return solve_rollout(
        inputs.model_input(),
        scenario,
        counties=inputs.counties["name"],
        suggest=suggest,
        progress=progress,
    )


# --------------------------------------------------------------------------- figures
def _covered_share(
    s: _Setup, is_open: np.ndarray, scenario: Scenario, threshold: FloatArray | None = None
) -> FloatArray:
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
    res = _run(mb.build(), scenario, "capacity allocation")
    if res.x is not None:
        np.add.at(out, pi, res.x[xc])
    return out


def _tables(
    s: _Setup, scenario: Scenario, y: np.ndarray, period_values: list[float]
) -> dict[str, pd.DataFrame]:
    p = s.prep
    years = [ph.year for ph in s.phases]
    open_year = np.full(s.nc, -1, dtype=np.int64)
    for t in reversed(range(s.n_periods)):
        open_year[y[t]] = years[t]
    ids = p.site_ids
    final_open = p.fixed | np.isin(np.arange(p.m), s.cand[open_year >= 0])
    sel = np.flatnonzero(final_open)
    oy = pd.array(
        [pd.NA if p.fixed[j] else int(open_year[s.cand_of[j]]) for j in sel], dtype="Int64"
    )
    sites = pd.DataFrame(
        {
            "county": p.site_county[sel],
            "county_name": [s.county_names.get(c, c) for c in p.site_county[sel]],
            "kind": np.where(p.fixed[sel], "existing", "new"),
            "cost": np.where(p.fixed[sel], 0.0, p.cost[sel]),
            "opening_year": oy,
        },
        index=pd.Index([str(v) for v in ids[sel]], name="site_id"),
    )
    cost_c = p.cost[s.cand]
    total_w = float(p.weight.sum())
    rows = []
    crow = []
    prev = np.zeros(s.nc, dtype=bool)
    cum_spend = 0.0
    county_arr = p.county
    for t, ph in enumerate(s.phases):
        new = y[t] & ~prev
        spend = float(cost_c[new].sum())
        cum_spend += spend
        is_open = p.fixed.copy()
        is_open[s.cand[y[t]]] = True
        site_c = pd.Series(p.site_county[is_open]).value_counts()
        n_sites_c = {c: int(site_c.get(c, 0)) for c in s.county_ids}
        with_site = sum(v > 0 for v in n_sites_c.values())
        covered = _covered_share(s, is_open, scenario)
        within = float(covered.sum())
        nc_ = len(s.county_ids)
        rows.append(
            {
                "year": ph.year,
                "new_sites": int(new.sum()),
                "new_site_ids": ", ".join(str(v) for v in ids[s.cand[new]]),
                "sites_open": int(is_open.sum()),
                "spend": spend,
                "cumulative_spend": cum_spend,
                "new_sites_limit": ph.new_sites,
                "budget_limit": ph.budget,
                "counties_with_site": with_site,
                "n_counties": nc_,
                "county_share": with_site / nc_ if nc_ else float("nan"),
                "county_target": ph.county_share_target,
                "county_met": (with_site >= s.county_need(ph.county_share_target))
                if nc_
                else ph.county_share_target <= 0,
                "patients_within": within,
                "patients_total": total_w,
                "patient_share": within / total_w if total_w > 0 else float("nan"),
                "patient_target": ph.patient_share_target,
                "patient_met": within >= ph.patient_share_target * total_w - 1e-6 * max(total_w, 1),
                "objective": period_values[t] if t < len(period_values) else float("nan"),
            }
        )
        if scenario.model == "lscp" and t == s.n_periods - 1:
            cov_model = float(_covered_share(s, is_open, scenario, p.threshold).sum())
            rows[-1]["full_coverage_share"] = cov_model / max(
                _coverable_weight(s, p.threshold), 1e-12
            )
        dem_c = pd.DataFrame({"county": county_arr, "w": p.weight, "cov": covered})
        agg = dem_c.groupby("county")[["w", "cov"]].sum()
        for c in s.county_ids:
            pts = float(agg["w"].get(c, 0.0))
            cv = float(agg["cov"].get(c, 0.0))
            crow.append(
                {
                    "year": ph.year,
                    "county_id": c,
                    "county_name": s.county_names.get(c, c),
                    "n_sites": n_sites_c[c],
                    "has_site": n_sites_c[c] > 0,
                    "patients": pts,
                    "patients_within": cv,
                    "share_within": cv / pts if pts > 0 else float("nan"),
                }
            )
        prev = y[t]
    years_t = pd.DataFrame(rows).set_index("year")
    for col in ("new_sites_limit",):
        years_t[col] = years_t[col].astype("Int64")
    years_t["budget_limit"] = years_t["budget_limit"].astype(float)
    counties_t = pd.DataFrame(crow)
    if counties_t.empty:
        counties_t = pd.DataFrame(
            columns=[
                "year",
                "county_id",
                "county_name",
                "n_sites",
                "has_site",
                "patients",
                "patients_within",
                "share_within",
            ]
        )
    return {"sites": sites.sort_index(), "years": years_t, "counties": counties_t}


def _milestones(
    s: _Setup,
    years: pd.DataFrame,
    *,
    threshold: int,
    masks: dict[int, CountMask] | None = None,
) -> pd.DataFrame:
    """Return one row per (year, measure) against its target.

    ``share_hidden`` marks a patient share that, with the patient total, would give a count
    below ``threshold`` back (it is never shown): either count is below ``threshold`` or
    hidden in that year's ``masks`` (see :func:`year_count_masks`).
    """
    rows = []
    for t, ph in enumerate(s.phases):
        yr: dict[Any, Any] = years.loc[ph.year].to_dict()
        if ph.county_share_target > 0 and s.county_ids:
            rows.append(
                {
                    "t": t,
                    "year": ph.year,
                    "measure": "counties",
                    "target": ph.county_share_target,
                    "achieved": float(yr["county_share"]),
                    "met": bool(yr["county_met"]),
                    "count": int(yr["counties_with_site"]),
                    "of": int(yr["n_counties"]),
                    "need": s.county_need(ph.county_share_target),
                }
            )
        if ph.patient_share_target > 0:
            rows.append(
                {
                    "t": t,
                    "year": ph.year,
                    "measure": "patients",
                    "target": ph.patient_share_target,
                    "achieved": float(yr["patient_share"]),
                    "met": bool(yr["patient_met"]),
                    "count": float(yr["patients_within"]),
                    "of": float(yr["patients_total"]),
                    "need": ph.patient_share_target * float(yr["patients_total"]),
                }
            )
        if "full_coverage_share" in yr and t == s.n_periods - 1:
            share = float(yr["full_coverage_share"])
            rows.append(
                {
                    "t": t,
                    "year": ph.year,
                    "measure": "full_coverage",
                    "target": 1.0,
                    "achieved": share,
                    "met": share >= 1 - 1e-6,
                    "count": share,
                    "of": 1.0,
                    "need": 1.0,
                }
            )
    cols = ["t", "year", "measure", "target", "achieved", "met", "count", "of", "need"]
    out = pd.DataFrame(rows, columns=cols)
    out["shortfall"] = np.maximum(out["target"].astype(float) - out["achieved"].astype(float), 0.0)
    out.loc[out["met"].astype(bool), "shortfall"] = 0.0
    out["extra_sites"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["extra_budget"] = np.nan
    out["where"] = ""
    out["note"] = ""
    pat = out["measure"] == "patients"
    counts = out[["count", "of"]].where(pat, 0.0).astype(float)
    out["share_hidden"] = ((counts > 0) & (counts < threshold)).any(axis=1) & pat
    if masks:
        masked = [bool(m is not None and m.kpi_share_hidden()) for m in map(masks.get, out["year"])]
        out["share_hidden"] = out["share_hidden"] | (pd.Series(masked, index=out.index) & pat)
    return out


def _suggest(
    s: _Setup,
    scenario: Scenario,
    y: np.ndarray,
    milestones: pd.DataFrame,
    progress: Progress | None,
) -> pd.DataFrame:
    """For each missed milestone, the smallest extra sites / budget in its year that meet it."""
    out = milestones.copy()
    short = list(out.index[~out["met"].astype(bool)])
    records = out.loc[short].to_dict("records")
    for n_done, (idx, rec) in enumerate(zip(short, records, strict=True)):
        t, measure, year = int(rec["t"]), str(rec["measure"]), int(rec["year"])
        if progress:
            progress(
                0.6 + 0.4 * n_done / max(len(short), 1),
                f"rollout: smallest fix for {year} {measure}",
            )
        reason = _unreachable_reason(s, t, measure)
        if reason:
            out.loc[idx, "note"] = reason
            continue
        built = _build(s, scenario, stage="extra", target=(t, measure))
        res = _run(built.mip, scenario, f"extra resources {year} {measure}")
        if res.x is None:
            out.loc[idx, "note"] = (
                f"cannot be met in this year by adding sites or budget ({res.message})"
                if res.status != "no_solution"
                else f"no plan found within {scenario.time_limit_s:g} s; raise time_limit_s"
            )
            continue
        x = res.x
        e_val = b_val = 0.0
        if built.extra_sites_col is not None:
            e_val = float(np.rint(x[built.extra_sites_col]))
            out.loc[idx, "extra_sites"] = int(e_val)
        if built.extra_budget_col is not None:
            b_val = float(x[built.extra_budget_col])
            out.loc[idx, "extra_budget"] = b_val
        close = _build(
            s,
            scenario,
            stage="extra",
            target=(t, measure),
            stay_close=(y, e_val, b_val * (1 + 1e-7) + 1e-6),
        )
        res_close = _run(close.mip, scenario, "closest plan with the extra resources")
        if res_close.x is not None:
            built, x = close, res_close.x
        y2 = _nested(x, built, s)
        added = y2[t] & ~y[t]
        where = sorted(
            {
                s.county_names.get(c, c) or "unknown county"
                for c in s.prep.site_county[s.cand[added]]
            }
        )
        out.loc[idx, "where"] = ", ".join(where)
    return out


def _unreachable_reason(s: _Setup, t: int, measure: str) -> str:
    p = s.prep
    ph = s.phases[t]
    if measure == "counties":
        has = {str(c) for c in p.site_county[p.fixed]} | {str(c) for c in p.site_county[s.cand]}
        reachable = [c for c in s.county_ids if c in has]
        need = s.county_need(ph.county_share_target)
        if len(reachable) < need:
            missing = [s.county_names.get(c, c) for c in s.county_ids if c not in has]
            return (
                f"only {len(reachable)} of {len(s.county_ids)} counties have a candidate or "
                f"existing site; add candidates in {', '.join(missing[:5])}"
            )
    elif measure == "patients" and not s.capacitated:
        share = _coverable_weight(s, np.full(p.n, s.milestone_threshold))
        total = float(p.weight.sum())
        if share < ph.patient_share_target * total - 1e-9 * max(total, 1.0):
            return (
                f"even with every candidate open only {share / total:.1%} of patients are "
                f"within {s.milestone_threshold:g} min; add candidates or raise "
                "max_travel_min"
            )
    return ""


def _fmt_share(v: float) -> str:
    return f"{v * 100:.0f} %" if abs(v * 100 - round(v * 100)) < 0.05 else f"{v * 100:.1f} %"


def _message(s: _Setup, row: object, *, threshold: int) -> str:
    """One milestone line; a share that would reveal a count below ``threshold`` is left out."""
    year = int(getattr(row, "year"))  # noqa: B009
    measure = str(getattr(row, "measure"))  # noqa: B009
    target = float(getattr(row, "target"))  # noqa: B009
    achieved = float(getattr(row, "achieved"))  # noqa: B009
    met = bool(getattr(row, "met"))  # noqa: B009
    label = MEASURE_LABEL.get(measure, measure)
    if measure == "counties":
        figures = f"{int(getattr(row, 'count'))} of {int(getattr(row, 'of'))}"  # noqa: B009
    else:
        figures = f"within {s.milestone_threshold:g} min"
    hidden = bool(getattr(row, "share_hidden", False))
    if hidden:  # share x total would give the hidden count back: no share, no shortfall
        figures += f"; fewer than {threshold} patients, share not shown"
    got = "" if hidden else f" {_fmt_share(achieved)}"
    if met:
        return f"{year}: {label}{got} ≥ {_fmt_share(target)} target ({figures}): met"
    head = f"{year}: {label}{got} < {_fmt_share(target)} target ({figures})"
    note = str(getattr(row, "note"))  # noqa: B009
    if note:
        if hidden:
            return f"{head}: {note}"
        return f"{head}: short by {_fmt_share(target - achieved)}; {note}"
    fixes = []
    extra_sites = getattr(row, "extra_sites")  # noqa: B009
    extra_budget = float(getattr(row, "extra_budget"))  # noqa: B009
    where = str(getattr(row, "where"))  # noqa: B009
    if extra_sites is not pd.NA and extra_sites is not None and int(extra_sites) > 0:
        n = int(extra_sites)
        fixes.append(f"open {n} more site{'s' if n > 1 else ''} in {year}")
    if math.isfinite(extra_budget) and extra_budget > 1e-6:
        fixes.append(f"add {extra_budget:,.0f} to the {year} budget")
    if not fixes:
        fix = "reorder openings (resources suffice when this milestone is favoured)"
    else:
        fix = " and ".join(fixes)
    if where:
        fix += f" (e.g. in {where})"
    return f"{head}: {fix}"


# --------------------------------------------------------------------------- text summary
def _share_or_dash(v: float) -> str:
    return "—" if math.isnan(v) else _fmt_share(v)


def format_rollout(result: RolloutResult) -> str:
    """Year-by-year table and milestone lines as plain text (the CLI prints it).

    Patient numbers appear as shares only, and a share that would give a count below the
    scenario's ``privacy_threshold`` back (with the patient total of the exports) is ``—``.
    """
    yt = result.years_table
    masks = result.count_masks()
    hidden = pd.Series(
        [bool(year in masks and masks[year].kpi_share_hidden()) for year in yt.index],
        index=yt.index,
    )
    patient_share = hide_revealing_shares(
        yt["patient_share"],
        yt["patients_within"],
        yt["patients_total"],
        threshold=result.scenario.privacy_threshold,
    ).mask(hidden)
    gap = "" if result.gap is None else f", gap {result.gap:.2%}"
    head = (
        f"Rollout: {result.scenario.display_name} | model {result.model} | {result.solver} -> "
        f"{result.status}{gap} in {result.solve_time_s:.1f} s"
    )
    cols = (
        f"{'year':<6}{'new':>5}{'open':>6}{'spend':>12}{'counties':>10}{'target':>8}"
        f"{'':>7}{'patients':>10}{'target':>8}{'':>7}"
    )
    lines = [head, cols]

    def flag(met: object) -> str:
        return "met" if bool(met) else "SHORT"

    for (year, row), p_share in zip(yt.iterrows(), patient_share, strict=True):
        lines.append(
            f"{year!s:<6}{int(row['new_sites']):>5}{int(row['sites_open']):>6}"
            f"{float(row['spend']):>12,.0f}{_fmt_share(float(row['county_share'])):>10}"
            f"{_fmt_share(float(row['county_target'])):>8}{flag(row['county_met']):>7}"
            f"{_share_or_dash(float(p_share)):>10}"
            f"{_fmt_share(float(row['patient_target'])):>8}{flag(row['patient_met']):>7}"
        )
    lines.append("")
    lines.extend(result.messages)
    return "\n".join(lines)
