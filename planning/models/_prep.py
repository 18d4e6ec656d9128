"""Turn a :class:`ModelInput` and a :class:`Scenario` into positional arrays for the builders.

Everything here is deterministic: demand points and sites are ordered by id, pairs by
(demand, minutes, site), so the same input always gives the same model and the same answer.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import DataError, InfeasibleError, ScenarioError
from planning.models._mip import BoolArray, FloatArray, IntArray
from planning.models.base import ModelInput
from planning.scenario import Scenario

StrArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Prepared:
    """Positional view of a model input (``i`` indexes demand, ``j`` sites)."""

    demand_ids: StrArray
    site_ids: StrArray
    weight: FloatArray
    fixed: BoolArray
    openable: BoolArray  # False: the site may not open (e.g. referral time too long)
    cost: FloatArray
    capacity: FloatArray  # inf = unlimited
    pi: IntArray  # pairs, sorted by (i, minutes, j)
    pj: IntArray
    pt: FloatArray
    threshold: FloatArray  # per demand: coverage / maximum travel minutes
    county: StrArray  # per demand ("" unknown)
    county_name: StrArray
    prefecture: StrArray
    site_county: StrArray
    site_prefecture: StrArray
    referral: FloatArray  # per site, NaN unknown

    @property
    def n(self) -> int:
        """Number of demand points."""
        return len(self.demand_ids)

    @property
    def m(self) -> int:
        """Number of sites."""
        return len(self.site_ids)

    def covering_pairs(self) -> BoolArray:
        """Mask of pairs within the demand point's threshold."""
        return self.pt <= self.threshold[self.pi] + 1e-9

    def cover_matrix(self, mask: BoolArray) -> BoolArray:
        """Dense ``n x m`` matrix: ``True`` where a pair of ``mask`` joins demand and site."""
        cover = np.zeros((self.n, self.m), dtype=bool)
        cover[self.pi[mask], self.pj[mask]] = True
        return cover

    def nearest_open(
        self, is_open: BoolArray, mask: BoolArray | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Per demand point, the nearest open site among pairs (``mask``) and its minutes.

        Returns ``(site, minutes)``; ``-1`` / ``inf`` where no open site is paired.
        """
        ok = is_open[self.pj]
        if mask is not None:
            ok &= mask
        best = np.full(self.n, -1, dtype=np.int64)
        best_t = np.full(self.n, np.inf)
        idx = np.flatnonzero(ok)
        if idx.size:
            # pairs are sorted by (i, minutes, j): the first pair per i is the nearest
            first_i, first = np.unique(self.pi[idx], return_index=True)
            best[first_i] = self.pj[idx[first]]
            best_t[first_i] = self.pt[idx[first]]
        return best, best_t


def _str_col(frame: pd.DataFrame, col: str, n: int) -> StrArray:
    if col not in frame.columns:
        return np.full(n, "", dtype=object)
    vals = frame[col]
    return np.array(["" if pd.isna(v) else str(v) for v in vals], dtype=object)


def _num_col(frame: pd.DataFrame, col: str) -> FloatArray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _positions(values: pd.Series, ids: StrArray) -> IntArray:
    """Position of each value in ``ids`` (factorised first: long tables repeat few ids)."""
    codes, uniques = pd.factorize(values, sort=False)
    at = {v: k for k, v in enumerate(ids.tolist())}  # plain dict: no string Index to build
    # ids are matched as strings; converting the uniques at once avoids iterating arrow strings
    names = pd.Index(uniques).astype(str).to_numpy(dtype=object).tolist()
    where = np.fromiter((at.get(u, -1) for u in names), dtype=np.int64, count=len(names))
    out: IntArray = where[codes] if codes.size else np.zeros(0, dtype=np.int64)
    return out


def prepare(data: ModelInput, scenario: Scenario) -> Prepared:
    """Order, validate and combine ``data`` with ``scenario`` options.

    Raises
    ------
    DataError
        Travel minutes missing or negative.
    ScenarioError
        Options that contradict the data (p too large, too few sites for the existing ones).
    """
    con = scenario.constraints
    demand = data.demand.sort_index(key=lambda s: s.astype(str))
    sites = data.sites.sort_index(key=lambda s: s.astype(str))
    demand_ids = demand.index.astype(str).to_numpy(dtype=object)  # vectorised: arrow strings
    site_ids = sites.index.astype(str).to_numpy(dtype=object)
    n, m = len(demand_ids), len(site_ids)
    if m == 0:
        msg = "The site table is empty: add candidate sites (grid or facility table)."
        raise DataError(msg)
    weight = demand["weight"].to_numpy(dtype=float)
    fixed = sites["fixed"].fillna(value=False).astype(bool).to_numpy()

    # ---- costs and capacities: site columns first, then the candidate type, then defaults
    types = {t.name: t for t in scenario.candidate_types}
    ctype = _str_col(sites, "candidate_type", m)
    type_cost = np.array([types[t].opening_cost if t in types else np.nan for t in ctype])
    type_cap = np.array(
        [
            types[t].capacity if t in types and types[t].capacity is not None else np.nan
            for t in ctype
        ]
    )
    site_cost = _num_col(sites, "cost")
    cost = np.where(np.isnan(site_cost), type_cost, site_cost)
    cost = np.where(np.isnan(cost), 0.0, cost)
    site_cap = _num_col(sites, "capacity")
    capacity = np.where(np.isnan(site_cap), type_cap, site_cap)
    default_cap = con.default_capacity if con.default_capacity is not None else math.inf
    capacity = np.where(np.isnan(capacity), default_cap, capacity)
    if (capacity <= 0).any():
        bad = list(site_ids[capacity <= 0][:5])
        msg = f"site capacity must be > 0 (sites {bad}); leave it empty for unlimited."
        raise DataError(msg)

    # ---- referral limit
    referral = _num_col(sites, "referral_min")
    openable = np.ones(m, dtype=bool)
    if con.max_referral_min is not None:
        unknown = np.isnan(referral) & ~fixed
        if unknown.any():
            warnings.warn(
                f"{int(unknown.sum())} candidate site(s) have no known referral time to a "
                f"psychiatric hospital (e.g. {list(site_ids[unknown][:3])}); they are excluded "
                f"because max_referral_min={con.max_referral_min:g} cannot be checked for them. "
                "Add psychiatric hospitals to the facility table to include them.",
                UserWarning,
                stacklevel=3,
            )
        too_far = referral > con.max_referral_min
        if (too_far & fixed).any():
            warnings.warn(
                f"existing site(s) {list(site_ids[too_far & fixed][:5])} are more than "
                f"{con.max_referral_min:g} min from a psychiatric hospital; they stay open "
                "because existing sites are always kept.",
                UserWarning,
                stacklevel=3,
            )
        openable = fixed | ~(unknown | too_far)

    # ---- travel pairs
    travel = data.travel
    t = pd.to_numeric(travel["travel_min"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(t).any() or (t < 0).any():
        msg = (
            "travel-time table has missing or negative minutes; drop unreachable pairs "
            "instead of writing NaN, and check the units."
        )
        raise DataError(msg)
    d_pos = _positions(travel["demand_id"], demand_ids)
    s_pos = _positions(travel["site_id"], site_ids)
    order = np.lexsort((s_pos, t, d_pos))
    pi, pj, pt = d_pos[order].astype(np.int64), s_pos[order].astype(np.int64), t[order]
    if pi.size > 1:
        key = pi * m + pj
        _, first = np.unique(key, return_index=True)
        if first.size < key.size:
            warnings.warn(
                f"travel-time table has {key.size - first.size} duplicate (demand_id, site_id) "
                "pair(s); the shortest time of each is used.",
                UserWarning,
                stacklevel=3,
            )
            keep = np.sort(first)  # within (i, t, j) order the first copy is the shortest
            pi, pj, pt = pi[keep], pj[keep], pt[keep]

    # ---- urban and rural thresholds
    threshold = np.full(n, float(scenario.max_travel_min))
    if con.urban_max_travel_min is not None or con.rural_max_travel_min is not None:
        if "urban" not in demand.columns:
            msg = (
                "urban/rural travel thresholds need an 'urban' (True/False) column in the "
                "demand table; add it or remove urban_max_travel_min/rural_max_travel_min."
            )
            raise DataError(msg)
        urban = demand["urban"].fillna(value=False).astype(bool).to_numpy()
        if con.urban_max_travel_min is not None:
            threshold[urban] = con.urban_max_travel_min
        if con.rural_max_travel_min is not None:
            threshold[~urban] = con.rural_max_travel_min

    prep = Prepared(
        demand_ids=demand_ids,
        site_ids=site_ids,
        weight=weight,
        fixed=fixed,
        openable=openable,
        cost=cost,
        capacity=capacity,
        pi=pi,
        pj=pj,
        pt=pt,
        threshold=threshold,
        county=_str_col(demand, "county", n),
        county_name=_str_col(demand, "county_name", n),
        prefecture=_str_col(demand, "prefecture", n),
        site_county=_str_col(sites, "county", m),
        site_prefecture=_str_col(sites, "prefecture", m),
        referral=referral,
    )
    _check_counts(prep, scenario)
    return prep


def _check_counts(prep: Prepared, scenario: Scenario) -> None:
    p = scenario.n_facilities
    n_fixed = int(prep.fixed.sum())
    n_open = int(prep.openable.sum())
    if scenario.model == "lscp" or p is None:
        return
    if p > prep.m:
        msg = (
            f"{scenario.model}: {p} sites requested but there are only {prep.m} sites "
            f"({prep.m - n_fixed} candidates + {n_fixed} existing). Lower n_facilities "
            "(--sites) to at most that, or add candidate sites."
        )
        raise ScenarioError(msg)
    if p > n_open and scenario.constraints.budget is None:
        msg = (
            f"{scenario.model}: {p} sites requested but only {n_open} sites may open "
            f"({prep.m - n_open} excluded by max_referral_min). Lower n_facilities or "
            "relax the referral limit."
        )
        raise InfeasibleError(msg, culprit="max_referral_min")
    if p < n_fixed:
        msg = (
            f"{scenario.model}: {p} sites requested but {n_fixed} existing sites are always "
            f"kept open and count towards it. Set n_facilities to at least {n_fixed}."
        )
        raise ScenarioError(msg)


def describe_demand(prep: Prepared, idx: IntArray, *, limit: int = 5) -> str:
    """Human summary of demand points ``idx``: patients per county, a few ids."""
    if idx.size == 0:
        return "none"
    frame = pd.DataFrame(
        {
            "county": [prep.county_name[i] or prep.county[i] or "unknown county" for i in idx],
            "w": prep.weight[idx],
        }
    )
    per = frame.groupby("county", sort=True)["w"].sum()
    parts = [f"{w:,.0f} patients in {c}" for c, w in per.items()]
    ids = ", ".join(str(prep.demand_ids[i]) for i in idx[:limit])
    more = f" (+{idx.size - limit} more)" if idx.size > limit else ""
    return f"{'; '.join(parts)} (demand points {ids}{more})"
