"""Tidy result tables from a solved model: assignments, sites, counties and headline KPIs.

Policy metrics (精康融合行动 2023): the share of counties with at least one open site is
compared with the 50 / 65 / 80 % targets for 2023 / 2024 / 2025, and the share of patients
within ``max_travel_min`` of an open site (within capacity when sites are capacitated) with the
30 / 45 / 60 % targets for patients in regular service. Reach is a planning proxy for "in
regular service", not a measure of it; tables say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning.models.base import Solution
from planning.scenario import Scenario
from planning.travel import TravelTimes

POLICY_TARGETS: dict[int, dict[str, float]] = {
    2023: {"county_share": 0.50, "patient_share": 0.30},
    2024: {"county_share": 0.65, "patient_share": 0.45},
    2025: {"county_share": 0.80, "patient_share": 0.60},
}
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
        Open sites, index ``site_id``: ``name``, ``kind`` (existing / new / hub),
        ``candidate_type``, ``county``, ``county_name``, ``lon``, ``lat``, ``capacity``,
        ``assigned_patients``, ``load_share``, ``mean_travel_min``, ``max_travel_min`` (of the
        patients it serves), ``referral_min``.
    counties
        Index ``county_id``: ``name``, ``population``, ``patients``, ``patients_within``,
        ``share_within``, ``n_sites``, ``has_site``, ``mean_travel_min``, ``max_travel_min``
        (to the nearest open site, over patients with one within the table's cut-off).
    kpis
        Headline figures (see :func:`summarise`).
    policy
        One row per milestone year: targets, achieved shares and whether each is met.
    """

    assignments: pd.DataFrame
    sites: pd.DataFrame
    counties: pd.DataFrame
    kpis: dict[str, Any]
    policy: pd.DataFrame


def nearest_open_times(travel: pd.DataFrame, open_sites: tuple[str, ...]) -> pd.DataFrame:
    """Each demand point's nearest open site and its minutes (points with no pair omitted)."""
    sub = travel[travel["site_id"].isin(open_sites)]
    if sub.empty:
        return pd.DataFrame(columns=["demand_id", "site_id", "travel_min"])
    sub = sub.sort_values(["demand_id", "travel_min", "site_id"])
    return sub.drop_duplicates("demand_id").reset_index(drop=True)


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
    pm = alloc["patients"] * alloc["travel_min"]
    served_pm = served_alloc["patients"] * served_alloc["travel_min"]

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
    mean_t = served_pm.groupby(served_alloc["site_id"]).sum() / assigned
    open_sites["mean_travel_min"] = mean_t.reindex(open_sites.index)
    open_sites["max_travel_min"] = grp["travel_min"].max().reindex(open_sites.index)
    open_sites["county_name"] = open_sites["county"].map(counties["name"])
    ref = travel.referral_min
    open_sites["referral_min"] = (
        ref.reindex(open_sites.index) if ref is not None else pd.Series(np.nan, open_sites.index)
    )
    site_cols = [
        "name",
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
    cgrp = alloc.groupby("county")
    ctab["mean_travel_min"] = (pm.groupby(alloc["county"]).sum() / cgrp["patients"].sum()).reindex(
        ctab.index
    )
    ctab["max_travel_min"] = cgrp["travel_min"].max().reindex(ctab.index)
    ctab = pd.DataFrame(ctab)

    # ---- KPIs
    total = float(demand["weight"].sum())
    reached = float(alloc["patients"].sum())
    patients_within = float(within["patients"].sum())
    county_share = float(ctab["has_site"].mean()) if len(ctab) else 0.0
    patient_share = patients_within / total if total > 0 else 0.0
    kpis: dict[str, Any] = {
        "model": solution.model,
        "status": solution.status,
        "optimal": solution.is_optimal,
        "gap": solution.gap,
        "objective": solution.objective,
        "solver": solution.solver,
        "solve_time_s": solution.solve_time_s,
        "max_travel_min": t_max,
        "travel_label": travel.label,
        "patients_total": total,
        "patients_within": patients_within,
        "share_within": patient_share,
        "patients_beyond_cutoff": max(total - reached, 0.0),
        "n_counties": len(ctab),
        "counties_with_site": int(ctab["has_site"].sum()),
        "county_share_with_site": county_share,
        "mean_travel_min": float(pm.sum() / reached) if reached > 0 else float("nan"),
        "max_travel_min_observed": float(alloc["travel_min"].max()) if len(alloc) else float("nan"),
        "n_sites": len(open_ids),
        "n_sites_existing": int(open_sites["fixed"].sum()),
        "n_sites_new": int((~open_sites["fixed"]).sum()),
        "hubs": sorted(hubs),
    }
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
    return ResultTables(
        assignments=served_alloc.reset_index(drop=True),
        sites=site_table,
        counties=ctab,
        kpis=kpis,
        policy=policy,
    )


def suppress_small(values: pd.Series, *, threshold: int) -> pd.Series:
    """Return counts as text with any value below ``threshold`` (and above 0) shown as "<N".

    Used for every patient count that leaves the library (tooltips, exports); zero stays "0".
    Values are rounded to whole patients.
    """
    rounded = values.round().astype("Int64")
    text = rounded.astype(str)
    small = (values > 0) & (values < threshold)
    return text.where(~small, f"<{threshold}")


def hide_revealing_shares(shares: pd.Series, *counts: pd.Series, threshold: int) -> pd.Series:
    """Return ``shares`` with ``NaN`` wherever one of ``counts`` is suppressed.

    A share next to a shown count gives a suppressed one back (``share_within x patients =
    patients_within``), so a share is left out when any count it relates (same index) is
    below ``threshold`` and above 0.

    Examples
    --------
    >>> s = hide_revealing_shares(
    ...     pd.Series([0.001, 0.5]), pd.Series([2000.0, 60.0]), pd.Series([2.0, 30.0]), threshold=5
    ... )
    >>> s.isna().tolist()
    [True, False]
    """
    small = pd.Series(data=False, index=shares.index)
    for count in counts:
        c = count.reindex(shares.index).astype(float)
        small |= (c > 0) & (c < threshold)
    return shares.astype(float).mask(small)


def count_text(values: pd.Series, *, threshold: int) -> pd.Series:
    """Return patient counts as text for people: ``"<N"`` when suppressed, else ``"1,234"``.

    NaN gives ``""``. The same rule as :func:`suppress_small`, with thousands separators.
    """
    v = values.astype(float)
    small = (v > 0) & (v < threshold)
    text = [
        "" if np.isnan(x) else f"<{threshold}" if s else f"{round(x):,}"
        for x, s in zip(v.to_numpy(), small.to_numpy(), strict=True)
    ]
    return pd.Series(text, index=values.index, dtype=object)


def hidden_kpis(kpis: dict[str, Any], *, threshold: int) -> frozenset[str]:
    """Return the headline figures of :func:`summarise` that must not be shown exactly.

    Patient counts (``patients_total``, ``patients_within``, ``patients_beyond_cutoff``)
    below ``threshold`` (and above 0) show as ``"<N"``; ``share_within`` is left out when
    either count it relates is hidden, since share x total gives the count back.
    """
    counts = ("patients_total", "patients_within", "patients_beyond_cutoff")
    hidden = {c for c in counts if 0 < float(kpis.get(c, 0.0)) < threshold}
    if hidden & {"patients_total", "patients_within"}:
        hidden.add("share_within")
    return frozenset(hidden)


def public_counties(counties: pd.DataFrame, *, threshold: int) -> pd.DataFrame:
    """Return the county table as it may be shown to people (app, reports).

    Parameters
    ----------
    counties
        :attr:`ResultTables.counties` (index ``county_id``).
    threshold
        The scenario's ``privacy_threshold``.

    Returns
    -------
    table
        Index ``county_id``: ``name``, ``population`` (float), ``patients`` and
        ``patients_within`` as text (:func:`count_text`: ``"<5"``, ``"1,234"``),
        ``share_within`` (0-1; NaN where it would give a hidden count back, see
        :func:`hide_revealing_shares`), ``n_sites``, ``has_site``, ``mean_travel_min``,
        ``max_travel_min`` and, per year of :data:`POLICY_TARGETS`, ``patient_target_met_<year>``
        (``True`` / ``False``; ``None`` where the share is left out, as the mark would bound
        the hidden count).
    """
    c = counties
    out = pd.DataFrame(index=c.index)
    out["name"] = c["name"].astype(str)
    out["population"] = c["population"].astype(float)
    out["patients"] = count_text(c["patients"], threshold=threshold)
    out["patients_within"] = count_text(c["patients_within"], threshold=threshold)
    share = hide_revealing_shares(
        c["share_within"], c["patients"], c["patients_within"], threshold=threshold
    )
    out["share_within"] = share
    out["n_sites"] = c["n_sites"].astype(int)
    out["has_site"] = c["has_site"].astype(bool)
    out["mean_travel_min"] = c["mean_travel_min"].astype(float)
    out["max_travel_min"] = c["max_travel_min"].astype(float)
    hidden = share.isna() & c["share_within"].notna()
    for year, tgt in POLICY_TARGETS.items():
        met = c["share_within"].fillna(0.0) >= tgt["patient_share"]
        out[f"patient_target_met_{year}"] = [
            None if h else bool(m) for h, m in zip(hidden, met, strict=True)
        ]
    return out


def public_sites(sites: pd.DataFrame, *, threshold: int) -> pd.DataFrame:
    """Return the open-site table as it may be shown to people (app, reports).

    Parameters
    ----------
    sites
        :attr:`ResultTables.sites` (index ``site_id``).
    threshold
        The scenario's ``privacy_threshold``.

    Returns
    -------
    table
        A copy with ``assigned_patients`` as text (:func:`count_text`) and ``load_share`` NaN
        where the count is hidden (load x capacity, shown in exports and tooltips, would give
        it back).
    """
    out = sites.copy()
    out["load_share"] = hide_revealing_shares(
        sites["load_share"], sites["assigned_patients"], threshold=threshold
    )
    out["assigned_patients"] = count_text(sites["assigned_patients"], threshold=threshold)
    return out


def suppress_columns(
    frame: pd.DataFrame, columns: tuple[str, ...], *, threshold: int
) -> pd.DataFrame:
    """Return a copy of ``frame`` with its ``columns`` shown via :func:`suppress_small`."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = suppress_small(out[col].astype(float), threshold=threshold)
    return out


def to_geodataframe(table: pd.DataFrame, layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Attach ``layer``'s geometry (same index) to ``table``."""
    return gpd.GeoDataFrame(table, geometry=layer.geometry.reindex(table.index), crs=layer.crs)
