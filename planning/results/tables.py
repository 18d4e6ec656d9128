"""Tidy result tables from a solved model: assignments, sites, counties and headline KPIs.

Policy metrics (精康融合行动 2023): the share of counties with at least one open site is
compared with the 50 / 65 / 80 % targets for 2023 / 2024 / 2025, and the share of patients
within ``max_travel_min`` of an open site (within capacity when sites are capacitated) with the
30 / 45 / 60 % targets for patients in regular service. Reach is a planning proxy for "in
regular service", not a measure of it; tables say so.

Privacy rules for showing these tables live in :mod:`planning.results.privacy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning import i18n
from planning.models.base import Solution
from planning.results.equity import compute_equity
from planning.results.kpis import Kpis
from planning.scenario import Scenario
from planning.travel.table import TravelTimes

POLICY_TARGETS: dict[int, dict[str, float]] = {
    2023: {"county_share": 0.50, "patient_share": 0.30},
    2024: {"county_share": 0.65, "patient_share": 0.45},
    2025: {"county_share": 0.80, "patient_share": 0.60},
}


COUNTED = "counted_patients"
"""``demand.attrs`` flag: the demand cells hold counted patients (a table of places), not an
estimate spread over a county by area or weight, which anyone can recompute from the county's
total and the cells' shapes; only counted cells enter the privacy mask as counts of their own."""


POLICY_SOURCE = "精康融合行动 (民政部等, 2023): 50/65/80 % of counties, 30/45/60 % of patients"


@dataclass(frozen=True, kw_only=True)
class ResultTables:
    """Result tables keyed by ids.

    Attributes
    ----------
    assignments
        One row per (demand point, serving site): ``demand_id``, ``county``, ``county_name``,
        ``site_id``, ``travel_min``, ``patients``. Coverage models (MCLP, LSCP) serve only
        patients within their threshold; p-median and p-center serve every patient.
    sites
        Open sites, index ``site_id``: ``name``, ``place`` (township and village from
        OpenStreetMap, else the county; see :func:`planning.inputs.name_places`), ``kind``
        (existing / new / hub),
        ``candidate_type``, ``county``, ``county_name``, ``lon``, ``lat``, ``capacity``,
        ``assigned_patients``, ``load_share``, ``mean_travel_min``, ``max_travel_min`` (of the
        patients it serves), ``referral_min``, ``over_capacity`` (its load is above a known
        capacity: possible when the model ignores capacities, which is the default).
    counties
        Index ``county_id``: ``name``, ``population``, ``patients``, ``patients_within``,
        ``share_within``, ``n_sites``, ``has_site``, ``mean_travel_min``, ``max_travel_min``
        (to the nearest open site, over the county's patients with one within
        :func:`reach_cutoff_min`), ``beyond_cutoff`` (``True`` where some of its patients
        have none and are left out of those two figures), and ``prefecture``,
        ``prefecture_name`` (the county's city) when the county layer has them.
    kpis
        Headline figures (:class:`~planning.results.kpis.Kpis`). A mapping of figures given
        here (a dict, as tests build one) is converted by :meth:`Kpis.from_mapping`.
    policy
        One row per milestone year: targets, achieved shares and whether each is met.
    cells
        Demand cells holding counted patients (a table of places, ``demand.attrs`` flag
        :data:`COUNTED`), index ``demand_id``: ``county``, ``weight`` (patients) and
        ``threshold_min`` (the cell's travel threshold), for the privacy mask
        (:func:`planning.results.privacy.count_mask`: cells and assignment lines are shown
        with the county and site counts they add up to); ``None`` for estimated cells (a
        county's estimate spread by area, which the county total and the cells' shapes give
        anyone) or when not known.
    """

    assignments: pd.DataFrame
    sites: pd.DataFrame
    counties: pd.DataFrame
    kpis: Kpis
    policy: pd.DataFrame
    cells: pd.DataFrame | None = None
    masks: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """Privacy masks computed from these tables, by threshold (a cache; see ``count_mask``)."""

    def __post_init__(self) -> None:
        """Convert KPIs given as a mapping."""
        kpis: Mapping[str, Any] = self.kpis
        if not isinstance(kpis, Kpis):
            object.__setattr__(self, "kpis", Kpis.from_mapping(kpis))


def reach_cutoff_min(scenario: Scenario) -> float:
    """Cut-off of every travel figure of a plan: twice the scenario's largest travel limit.

    The mean and the longest travel time are computed the same way for every model (p-median,
    MCLP, LSCP, p-center; capacitated or not), every table, map and export: travel to the
    nearest open site, over the patients who have one within this cut-off. Patients farther
    (or with no road to any site) are left out of those figures and counted instead
    (``patients_beyond_cutoff``, ``share_beyond_cutoff``), and every output shows that count
    next to the figures. Two plans with the same limits are thus compared on the same basis,
    whatever their models; the travel table of every model holds every pair within it
    (coverage models keep pairs up to it, the others further).

    Examples
    --------
    >>> from planning.scenario import Scenario
    >>> reach_cutoff_min(Scenario(max_travel_min=30))
    60.0
    """
    c = scenario.constraints
    limits = [scenario.max_travel_min, c.urban_max_travel_min, c.rural_max_travel_min]
    return 2.0 * max(float(x) for x in limits if x is not None)


@dataclass(frozen=True)
class TravelFigures:
    """Mean and longest travel to the nearest open site, and who is left out of them.

    Attributes
    ----------
    mean_travel_min, max_travel_min
        Patient-weighted mean and longest minutes over the patients with an open site within
        ``cutoff_min`` (NaN when there are none).
    patients_counted
        Patients in those figures.
    patients_beyond_cutoff
        Patients with no open site within ``cutoff_min``: not in the figures.
    cutoff_min
        The cut-off (see :func:`reach_cutoff_min`).
    """

    mean_travel_min: float
    max_travel_min: float
    patients_counted: float
    patients_beyond_cutoff: float
    cutoff_min: float


def compute_travel_figures(
    travel: pd.DataFrame,
    weight: pd.Series,
    open_sites: tuple[str, ...] | list[str],
    *,
    cutoff_min: float,
) -> TravelFigures:
    r"""Mean and longest travel to the nearest open site, as every output shows them.

    Parameters
    ----------
    travel
        Travel table (``demand_id``, ``site_id``, ``travel_min``).
    weight
        Patients per demand point (index ``demand_id``); every one of them is counted, either
        in the figures or as left out.
    open_sites
        The open sites (``site_id``).
    cutoff_min
        See :func:`reach_cutoff_min`.
    """
    near = nearest_open_times(travel, tuple(open_sites))
    near = near[near["travel_min"] <= cutoff_min + 1e-9]
    w = near["demand_id"].map(weight).fillna(0.0).to_numpy(dtype=float)
    t = near["travel_min"].to_numpy(dtype=float)
    counted = float(w.sum())
    total = float(weight.sum())
    reached = w > 0
    return TravelFigures(
        mean_travel_min=float((w * t).sum() / counted) if counted > 0 else float("nan"),
        max_travel_min=float(t[reached].max()) if reached.any() else float("nan"),
        patients_counted=counted,
        patients_beyond_cutoff=max(total - counted, 0.0),
        cutoff_min=float(cutoff_min),
    )


def curve_travel_figures(
    curve: pd.DataFrame, travel: pd.DataFrame, weight: pd.Series, scenario: Scenario
) -> pd.DataFrame:
    """Return a trade-off curve with its travel figures restated on every plan's basis.

    The models report mean travel over the patients they serve (a coverage model: only those
    within its limit); the curve is shown beside plans, so each step's ``mean_travel_min``
    and ``max_travel_min`` are recomputed as :func:`compute_travel_figures` does for every
    plan, with ``patients_beyond_cutoff`` and ``share_beyond_cutoff`` (who is left out).

    Parameters
    ----------
    curve
        From :func:`planning.models.trade_off_curve` (``selected_sites`` per row).
    travel, weight
        The travel table and patients per demand point it was solved on.
    """
    out = curve.copy()
    cutoff = reach_cutoff_min(scenario)
    total = float(weight.sum())
    means, maxes, beyond = [], [], []
    for sel in out.get("selected_sites", pd.Series([None] * len(out), index=out.index)):
        if not isinstance(sel, tuple | list) or not sel:
            means.append(float("nan"))
            maxes.append(float("nan"))
            beyond.append(float("nan"))
            continue
        fig = compute_travel_figures(travel, weight, tuple(sel), cutoff_min=cutoff)
        means.append(fig.mean_travel_min)
        maxes.append(fig.max_travel_min)
        beyond.append(fig.patients_beyond_cutoff)
    out["mean_travel_min"] = means
    out["max_travel_min"] = maxes
    out["patients_beyond_cutoff"] = beyond
    out["share_beyond_cutoff"] = [b / total if total > 0 else float("nan") for b in beyond]
    out["travel_cutoff_min"] = cutoff
    return out


def nearest_open_times(travel: pd.DataFrame, open_sites: tuple[str, ...]) -> pd.DataFrame:
    """Each demand point's nearest open site and its minutes (points with no pair omitted)."""
    sub = travel[travel["site_id"].isin(open_sites)]
    if sub.empty:
        return pd.DataFrame(columns=["demand_id", "site_id", "travel_min"])
    sub = sub.sort_values(["demand_id", "travel_min", "site_id"])
    return sub.drop_duplicates("demand_id").reset_index(drop=True)


def equity_target(scenario: Scenario) -> tuple[float, str, int | None]:
    """Return the share within reach each county should reach, and where it comes from.

    The scenario's ``constraints.county_coverage_target`` (``"scenario"``, no year) when set,
    else the patient-share milestone of its last rollout phase (``"milestone"`` and its year;
    60 % in 2025 by default). Counties below it are counted in every plan's equity figures.

    Examples
    --------
    >>> equity_target(Scenario())
    (0.6, 'milestone', 2025)
    """
    target = scenario.constraints.county_coverage_target
    if target is not None:
        return float(target), "scenario", None
    phases = scenario.rollout.phases
    if phases:
        return float(phases[-1].patient_share_target), "milestone", int(phases[-1].year)
    year = max(POLICY_TARGETS)
    return POLICY_TARGETS[year]["patient_share"], "milestone", year


def demand_thresholds(demand: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """Each demand point's travel threshold in minutes (urban/rural thresholds when set)."""
    c = scenario.constraints
    t = pd.Series(float(scenario.max_travel_min), index=demand.index)
    if "urban" in demand.columns:
        urban = demand["urban"].astype(bool)
        if c.urban_max_travel_min is not None:
            t[urban] = c.urban_max_travel_min
        if c.rural_max_travel_min is not None:
            t[~urban] = c.rural_max_travel_min
    return t


def summarise(
    solution: Solution,
    *,
    scenario: Scenario,
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    counties: pd.DataFrame,
    travel: TravelTimes,
) -> ResultTables:
    """Build the result tables of ``solution``.

    Parameters
    ----------
    demand
        Demand cells (index ``demand_id``; ``weight``, ``county``, ``county_name``).
    sites
        Site layer (index ``site_id``; ``name``, ``kind``, ``candidate_type``, ``county``,
        ``lon``, ``lat``, ``capacity``, ``fixed``).
    counties
        County layer (index ``county_id``; ``name``, ``population``, ``patients``).
    """
    t_max = scenario.max_travel_min
    threshold = demand_thresholds(demand, scenario)
    open_ids = solution.selected_sites
    capacitated = scenario.constraints.capacitated
    if capacitated or solution.allocation.empty:
        alloc = solution.allocation[["demand_id", "site_id", "travel_min", "patients"]].copy()
    else:
        nearest = nearest_open_times(travel.table, open_ids)
        alloc = nearest.assign(patients=nearest["demand_id"].map(demand["weight"]).to_numpy())
    alloc = alloc[alloc["patients"] > 0].copy()
    alloc["county"] = alloc["demand_id"].map(demand["county"])
    alloc["county_name"] = alloc["demand_id"].map(demand["county_name"])
    alloc = alloc[["demand_id", "county", "county_name", "site_id", "travel_min", "patients"]]
    alloc = alloc.sort_values(["demand_id", "site_id"]).reset_index(drop=True)
    # patients within reach: within their threshold (urban/rural when set) of an open site
    is_within = alloc["travel_min"].to_numpy() <= alloc["demand_id"].map(threshold).to_numpy()
    within = alloc[is_within]
    # a coverage model serves only patients within reach; p-median / p-center serve everyone
    served_alloc = within if scenario.model in {"mclp", "lscp"} else alloc
    served_pm = served_alloc["patients"] * served_alloc["travel_min"]
    # travel figures: nearest open site, patients with one within the cut-off (every model)
    cutoff = reach_cutoff_min(scenario)
    near = nearest_open_times(travel.table, open_ids)
    near = near[near["travel_min"] <= cutoff + 1e-9]
    near = near.assign(
        patients=near["demand_id"].map(demand["weight"]).fillna(0.0).to_numpy(dtype=float),
        county=near["demand_id"].map(demand["county"]).to_numpy(),
    )
    near = near[near["patients"] > 0]
    pm = near["patients"] * near["travel_min"]

    # ---- sites
    hub_ids = solution.extras.get("hubs") or ()
    hubs = {str(h) for h in hub_ids} if isinstance(hub_ids, list | tuple | set) else set()
    open_sites = sites.loc[list(open_ids)].copy()
    kind = np.where(open_sites["fixed"], "existing", "new")
    open_sites["kind"] = np.where(open_sites.index.isin(hubs), "hub", kind)
    grp = served_alloc.groupby("site_id")
    assigned = grp["patients"].sum()
    open_sites["assigned_patients"] = assigned.reindex(open_sites.index, fill_value=0.0)
    open_sites["load_share"] = open_sites["assigned_patients"] / open_sites["capacity"]
    # a load over a known capacity is flagged in every table, map and export
    open_sites["over_capacity"] = (open_sites["load_share"] > 1.0 + 1e-9).fillna(value=False)
    mean_t = served_pm.groupby(served_alloc["site_id"]).sum() / assigned
    open_sites["mean_travel_min"] = mean_t.reindex(open_sites.index)
    open_sites["max_travel_min"] = grp["travel_min"].max().reindex(open_sites.index)
    open_sites["county_name"] = open_sites["county"].map(counties["name"])
    ref = travel.referral_min
    open_sites["referral_min"] = (
        ref.reindex(open_sites.index) if ref is not None else pd.Series(np.nan, open_sites.index)
    )
    if "place" not in open_sites.columns:  # a site layer built without place names
        open_sites["place"] = open_sites["county_name"]
    site_cols = [
        "name",
        "place",
        "kind",
        "candidate_type",
        "county",
        "county_name",
        "lon",
        "lat",
        "capacity",
        "assigned_patients",
        "load_share",
        "mean_travel_min",
        "max_travel_min",
        "referral_min",
        "over_capacity",
    ]
    site_table = open_sites[site_cols].sort_index()

    # ---- counties
    ctab = counties[["name", "population", "patients"]].copy()
    ctab["patients_within"] = (
        within.groupby("county")["patients"].sum().reindex(ctab.index, fill_value=0.0)
    )
    ctab["share_within"] = ctab["patients_within"] / ctab["patients"]
    n_sites = open_sites.groupby("county").size()
    ctab["n_sites"] = n_sites.reindex(ctab.index, fill_value=0).astype(int)
    ctab["has_site"] = ctab["n_sites"] > 0
    cgrp = near.groupby("county")
    counted = cgrp["patients"].sum()
    ctab["mean_travel_min"] = (pm.groupby(near["county"]).sum() / counted).reindex(ctab.index)
    ctab["max_travel_min"] = cgrp["travel_min"].max().reindex(ctab.index)
    left_out = ctab["patients"].astype(float) - counted.reindex(ctab.index, fill_value=0.0)
    ctab["beyond_cutoff"] = left_out.to_numpy() > 1e-6
    for col in ("prefecture", "prefecture_name"):  # the county's city: prefecture sums add up
        if col in counties.columns:
            ctab[col] = counties[col].reindex(ctab.index)
    ctab = pd.DataFrame(ctab)

    # ---- KPIs
    total = float(demand["weight"].sum())
    reached = float(near["patients"].sum())
    patients_within = float(within["patients"].sum())
    county_share = float(ctab["has_site"].mean()) if len(ctab) else 0.0
    patient_share = patients_within / total if total > 0 else 0.0
    # ---- equity (planning.results.equity): who is left behind, and by how much
    target, target_source, target_year = equity_target(scenario)
    equity_cells = pd.DataFrame(
        {
            "weight": demand["weight"].astype(float),
            "county": demand["county"],
            "travel_min": near.set_index("demand_id")["travel_min"].reindex(demand.index),
            "patients_within": within.groupby("demand_id")["patients"]
            .sum()
            .reindex(demand.index, fill_value=0.0),
        },
        index=demand.index,
    )
    if "urban" in demand.columns:
        equity_cells["urban"] = demand["urban"].astype(bool)
    equity: dict[str, Any] = compute_equity(
        equity_cells,
        ctab,
        cutoff_min=cutoff,
        target=target,
        target_source=target_source,
        target_year=target_year,
    )
    kpis = Kpis(
        model=solution.model,
        status=solution.status,
        optimal=solution.is_optimal,
        gap=solution.gap,
        objective=solution.objective,
        solver=solution.solver,
        solve_time_s=solution.solve_time_s,
        max_travel_min=t_max,
        travel_label=travel.label,
        patients_total=total,
        patients_within=patients_within,
        share_within=patient_share,
        patients_beyond_cutoff=max(total - reached, 0.0),
        share_beyond_cutoff=max(total - reached, 0.0) / total if total > 0 else 0.0,
        travel_cutoff_min=cutoff,
        n_counties=len(ctab),
        counties_with_site=int(ctab["has_site"].sum()),
        county_share_with_site=county_share,
        mean_travel_min=float(pm.sum() / reached) if reached > 0 else float("nan"),
        max_travel_min_observed=float(near["travel_min"].max()) if len(near) else float("nan"),
        n_sites=len(open_ids),
        n_sites_existing=int(open_sites["fixed"].sum()),
        n_sites_new=int((~open_sites["fixed"]).sum()),
        hubs=tuple(sorted(hubs)),
        n_sites_over_capacity=int(open_sites["over_capacity"].sum()),
        n_existing_with_capacity=int(
            (open_sites["fixed"].astype(bool) & open_sites["capacity"].notna()).sum()
        ),
        capacitated=bool(capacitated),
        **equity,  # the figures of planning.results.equity (EQUITY_KPIS)
    )
    policy = pd.DataFrame(
        [
            {
                "year": year,
                "county_share_target": tgt["county_share"],
                "county_share": county_share,
                "county_target_met": county_share >= tgt["county_share"],
                "patient_share_target": tgt["patient_share"],
                "patient_share": patient_share,
                "patient_target_met": patient_share >= tgt["patient_share"],
            }
            for year, tgt in POLICY_TARGETS.items()
        ]
    ).set_index("year")
    cells = (
        pd.DataFrame(
            {
                "county": demand["county"],
                "weight": demand["weight"].astype(float),
                "threshold_min": threshold.astype(float),
            },
            index=demand.index,
        )
        if demand.attrs.get(COUNTED)
        else None
    )
    return ResultTables(
        assignments=served_alloc.reset_index(drop=True),
        sites=site_table,
        counties=ctab,
        kpis=kpis,
        policy=policy,
        cells=cells,
    )


def capacity_advice(tables: ResultTables) -> list[i18n.Msg]:
    """Return what every output says about capacities: overloads, the capacitated model.

    A plan solved without capacities (the default) may load a site beyond its known capacity:
    the phrase names how many such sites there are. A plan with existing sites of known
    capacity, solved without capacities, proposes the capacitated model.
    """
    k = tables.kpis
    out: list[i18n.Msg] = []
    if k.n_sites_over_capacity:
        out.append(i18n.Msg("report.capacity.over", n=int(k.n_sites_over_capacity)))
    if not k.capacitated and k.n_existing_with_capacity:
        out.append(
            i18n.Msg("report.capacity.suggest_capacitated", n=int(k.n_existing_with_capacity))
        )
    return out


def to_geodataframe(table: pd.DataFrame, layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Attach ``layer``'s geometry (same index) to ``table``."""
    return gpd.GeoDataFrame(table, geometry=layer.geometry.reindex(table.index), crs=layer.crs)
