"""Tidy result tables from a solved model: assignments, sites, counties and headline KPIs.

Policy metrics (精康融合行动 2023): the share of counties with at least one open site is
compared with the 50 / 65 / 80 % targets for 2023 / 2024 / 2025, and the share of patients
within ``max_travel_min`` of an open site (within capacity when sites are capacitated) with the
30 / 45 / 60 % targets for patients in regular service. Reach is a planning proxy for "in
regular service", not a measure of it; tables say so.

Privacy (small-count suppression). Raw counts stay raw in :class:`ResultTables`; only the
presentation helpers here (:func:`count_mask`, :func:`public_counties`, :func:`public_sites`,
:func:`public_kpis`, ...) coarsen them, and every output (app, exports, maps, command line,
rollout) goes through them:

1. *Primary*: a patient count ``0 < n < threshold`` (the scenario's ``privacy_threshold``) is
   shown as ``"<N"``; zero stays ``"0"``.
2. *Complementary*: counts shown together that add up (county totals to the region total,
   county within-reach counts to the region's, within-reach plus beyond-reach to a total,
   the patients beyond the cut-off, per-site loads to the patients served in the region or,
   where they happen to add up exactly, to a county's count) must not give a hidden count
   back by subtraction. Each such set is a :class:`CountRelation` ``total = sum(parts) +
   rest``, where ``rest`` is what is left unshown (e.g. patients beyond reach: 13 shown, 10
   within leaves 3). :func:`protect_counts` finds every count an observer can compute from
   the shown ones (repeatedly solving any relation with one unknown); while that gives back
   a hidden count (or a ``rest`` ``0 < rest < threshold``), it hides one more shown count
   of that relation: the smallest non-zero part (the total only when no part is left).
   Such a count is shown as a lower bound, ``"≥L"``, with ``L`` what an observer could work
   out anyway (the total minus the shown parts minus ``threshold`` for each hidden part below
   the threshold, and at least ``threshold``): 13 patients with 10 within reach shows
   ``"≥8"`` within reach; a region of 283 with counties 100, 80, 60, 40 and 3 shows
   ``"<5"`` and ``"≥38"`` for the last two.
3. A share (within-reach share, site load) or a target mark computed from a hidden count is
   left out (NaN / ``None``), since share x the shown total gives the count back.

Ordinary plans (every count >= threshold, every remainder 0 or >= threshold) are shown
exactly. Demand cells and assignment lines (grid-level figures) follow rule 1 only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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


def _hidden_or_none(hidden: pd.Series | None, index: pd.Index) -> pd.Series:
    if hidden is None:
        return pd.Series(None, index=index, dtype=object)
    return hidden.reindex(index).astype(object)


def suppress_small(
    values: pd.Series, *, threshold: int, hidden: pd.Series | None = None
) -> pd.Series:
    """Return counts as text with any value below ``threshold`` (and above 0) shown as "<N".

    Used for every patient count that leaves the library (tooltips, exports); zero stays "0".
    Values are rounded to whole patients. ``hidden`` (same index; text or ``None``, e.g. from
    :meth:`CountMask.counties`) replaces the counts that complementary suppression hides.
    """
    rounded = values.round().astype("Int64")
    text = rounded.astype(str)
    small = (values > 0) & (values < threshold)
    out = text.where(~small, f"<{threshold}").astype(object)
    extra = _hidden_or_none(hidden, values.index)
    return out.where(extra.isna(), extra)


def hide_revealing_shares(
    shares: pd.Series,
    *counts: pd.Series,
    threshold: int,
    hidden: Sequence[pd.Series | None] = (),
) -> pd.Series:
    """Return ``shares`` with ``NaN`` wherever one of ``counts`` is suppressed.

    A share next to a shown count gives a suppressed one back (``share_within x patients =
    patients_within``), so a share is left out when any count it relates (same index) is
    below ``threshold`` and above 0, or hidden by complementary suppression (``hidden``:
    series of text or ``None``, see :class:`CountMask`).

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
    for h in hidden:
        small |= _hidden_or_none(h, shares.index).notna()
    return shares.astype(float).mask(small)


def _people_text(text: str) -> str:
    """``"≥1230"`` -> ``"≥1,230"`` (thousands separators for people); other text unchanged."""
    if text.startswith("≥") and text[1:].isdigit():
        return f"≥{int(text[1:]):,}"
    return text


def count_text(values: pd.Series, *, threshold: int, hidden: pd.Series | None = None) -> pd.Series:
    """Return patient counts as text for people: ``"<N"`` when suppressed, else ``"1,234"``.

    NaN gives ``""``. The same rule as :func:`suppress_small`, with thousands separators;
    ``hidden`` (text or ``None``) replaces counts hidden by complementary suppression.
    """
    v = values.astype(float)
    small = (v > 0) & (v < threshold)
    extra = _hidden_or_none(hidden, values.index)
    text = [
        _people_text(str(h))
        if h is not None and not (isinstance(h, float) and math.isnan(h))
        else ""
        if np.isnan(x)
        else f"<{threshold}"
        if s
        else f"{round(x):,}"
        for x, s, h in zip(v.to_numpy(), small.to_numpy(), extra.to_numpy(), strict=True)
    ]
    return pd.Series(text, index=values.index, dtype=object)


# ---------------------------------------------------------------- complementary suppression
@dataclass(frozen=True)
class CountRelation:
    """Shown counts that add up: ``total = sum(parts) + rest``.

    ``rest`` is not given: it is ``total - sum(parts)``, the part left unshown (e.g. patients
    beyond reach). With ``rest=False`` the parts add up to the total by construction (a
    difference below half a patient is rounding); with ``rest=True`` an unshown remainder
    exists even when it happens to be 0, so a reader knows it only by subtraction.
    """

    total: str
    parts: tuple[str, ...]
    rest: bool = False


def _secondary_bound(
    key: str,
    vals: Mapping[str, float],
    rels: Sequence[tuple[str, tuple[str, ...], str | None]],
    *,
    hidden: set[str],
    primary: set[str],
    threshold: int,
) -> str:
    """Text of a count hidden to protect another: ``"≥L"`` (``"<N"`` if it is itself small)."""
    value = vals[key]
    if value < threshold:
        return f"<{threshold}"
    bound = float(threshold)
    for total, parts, rest in rels:
        if key == total:
            shown = [vals[p] for p in parts if p not in hidden]
            bound = max(bound, math.floor(sum(shown) + 1e-9))
            continue
        if key not in parts or total in hidden:
            continue
        others = [p for p in parts if p != key] + ([rest] if rest else [])
        known, n_small, bounded = 0.0, 0, True
        for o in others:
            if o not in hidden:
                if o == rest:  # an unshown remainder that may be large: no bound from here
                    bounded = False
                    break
                known += vals[o]
            elif o in primary:
                n_small += 1
            else:
                bounded = False
                break
        if bounded:
            bound = max(bound, math.floor(vals[total] - known - threshold * n_small + 1e-9))
    bound = min(bound, math.floor(value + 1e-9))
    return f"≥{int(bound)}"


def protect_counts(
    counts: Mapping[str, float], relations: Sequence[CountRelation], *, threshold: int
) -> dict[str, str]:
    """Return the text to show instead of each count that may not be shown exactly.

    Parameters
    ----------
    counts
        Every count shown together (patients; NaN counts are left out), keyed by a name.
    relations
        The ways they add up (see :class:`CountRelation`); a relation naming a count not in
        ``counts`` is ignored.
    threshold
        The scenario's ``privacy_threshold``.

    Returns
    -------
    hidden
        ``{name: "<N"}`` for counts ``0 < n < threshold`` and ``{name: "≥L"}`` for counts
        hidden so that no hidden count (nor a remainder ``0 < rest < threshold``) can be
        worked out by adding and subtracting shown ones (see the module docstring). Counts
        not in it are shown exactly.

    Examples
    --------
    >>> protect_counts(
    ...     {"total": 13.0, "within": 10.0}, [CountRelation("total", ("within",))], threshold=5
    ... )
    {'within': '≥8'}
    >>> protect_counts(
    ...     {"total": 20.0, "within": 3.0}, [CountRelation("total", ("within",))], threshold=5
    ... )
    {'within': '<5'}
    """
    vals = {k: float(v) for k, v in counts.items() if not math.isnan(float(v))}
    shown = set(vals)
    primary = {k for k, v in vals.items() if 0 < v < threshold}
    rels: list[tuple[str, tuple[str, ...], str | None]] = []
    for i, rel in enumerate(relations):
        members = (rel.total, *rel.parts)
        if any(m not in vals for m in members) or len(set(members)) < len(members):
            continue
        rest_raw = vals[rel.total] - sum(vals[p] for p in rel.parts)
        if rest_raw < -0.5:  # the parts exceed the total: they do not add up to it
            continue
        rest_key: str | None = None
        if rel.rest or rest_raw >= 0.5:
            rest_key = f"\0rest{i}"
            seen = round(vals[rel.total]) - sum(round(vals[p]) for p in rel.parts)
            vals[rest_key] = max(rest_raw, 0.0)
            if seen >= 1 and (rest_raw < threshold or seen < threshold):
                primary.add(rest_key)
        rels.append((rel.total, rel.parts, rest_key))
    hidden = set(primary)
    secondary: list[str] = []
    for _ in range(len(vals) + 1):
        known = shown - hidden
        how: dict[str, int] = {}
        changed = True
        while changed:
            changed = False
            for j, (total, parts, rest) in enumerate(rels):
                group = [total, *parts, *([rest] if rest else [])]
                unknown = [m for m in group if m not in known]
                if len(unknown) == 1:
                    known.add(unknown[0])
                    how[unknown[0]] = j
                    changed = True
        # the first hidden count worked out: later ones may only follow from it
        leaked = [k for k in how if k in hidden]
        if not leaked:
            break
        pick = _pick_secondary(how[leaked[0]], rels, how, vals, shown=shown, hidden=hidden)
        if pick is None:  # cannot happen with shown parts left; never loop forever
            break
        hidden.add(pick)
        secondary.append(pick)
    out = dict.fromkeys(sorted(primary & shown), f"<{threshold}")
    for key in secondary:
        out[key] = _secondary_bound(
            key, vals, rels, hidden=hidden, primary=primary, threshold=threshold
        )
    return out


def _pick_secondary(
    start: int,
    rels: Sequence[tuple[str, tuple[str, ...], str | None]],
    how: Mapping[str, int],
    vals: Mapping[str, float],
    *,
    shown: set[str],
    hidden: set[str],
) -> str | None:
    """Return the shown count to hide next: the smallest non-zero part of the leaking relation.

    When that relation has no shown part left (its known members were worked out from other
    relations), the relations those came from are searched in turn.
    """
    queue, seen = [start], {start}
    while queue:
        total, parts, rest = rels[queue.pop(0)]
        free = [p for p in parts if p in shown and p not in hidden and vals[p] >= 0.5]
        if free:
            return min(free, key=lambda p: (vals[p], p))
        if total in shown and total not in hidden and vals[total] >= 0.5:
            return total
        for m in (total, *parts, *([rest] if rest else [])):
            j = how.get(m)
            if j is not None and j not in seen:
                seen.add(j)
                queue.append(j)
    return None


KPI_COUNTS = ("patients_total", "patients_within", "patients_beyond_cutoff")
"""Headline figures of :func:`summarise` that are patient counts."""


@dataclass(frozen=True, kw_only=True)
class CountMask:
    """Which patient counts of a plan may not be shown exactly, and the text shown instead.

    Built by :func:`count_mask` (or :func:`county_count_mask`); every output formats counts
    with it, so all of them hide the same counts.

    Attributes
    ----------
    threshold
        The scenario's ``privacy_threshold``.
    hidden
        ``{name: text}`` from :func:`protect_counts`; names are ``"county:<id>:patients"``,
        ``"county:<id>:patients_within"``, ``"site:<id>"`` and ``"kpi:<key>"``.
    """

    threshold: int
    hidden: Mapping[str, str] = field(default_factory=dict)

    def counties(self, index: pd.Index, column: str) -> pd.Series:
        """Text replacing county ``column`` (``patients`` / ``patients_within``), else None."""
        return pd.Series(
            [self.hidden.get(f"county:{c}:{column}") for c in index], index=index, dtype=object
        )

    def sites(self, index: pd.Index) -> pd.Series:
        """Text replacing each site's ``assigned_patients`` (``None`` where shown exactly)."""
        return pd.Series([self.hidden.get(f"site:{s}") for s in index], index=index, dtype=object)

    def kpi(self, key: str) -> str | None:
        """Text replacing the headline count ``key`` (``None`` where shown exactly)."""
        return self.hidden.get(f"kpi:{key}")

    def kpi_share_hidden(self) -> bool:
        """Whether the region's within-reach share (and its target marks) must be left out."""
        return any(self.kpi(k) is not None for k in ("patients_total", "patients_within"))

    def kpi_text(self, key: str, value: float) -> str:
        """Return a headline count as text for people: the mask's text, ``"1,234"`` or ``""``."""
        return str(
            count_text(
                pd.Series([value], dtype=float),
                threshold=self.threshold,
                hidden=pd.Series([self.kpi(key)], dtype=object),
            ).iloc[0]
        )


def _county_relations(
    counties: pd.DataFrame, counts: dict[str, float], *, total: float | None, within: float | None
) -> list[CountRelation]:
    rels: list[CountRelation] = []
    p_keys, w_keys = [], []
    for cid, row in counties.iterrows():
        p, w = f"county:{cid}:patients", f"county:{cid}:patients_within"
        counts[p] = float(row["patients"])
        p_keys.append(p)
        if "patients_within" in counties.columns:
            counts[w] = float(row["patients_within"])
            w_keys.append(w)
            rels.append(CountRelation(p, (w,), rest=True))
    if total is not None:
        counts["kpi:patients_total"] = float(total)
        rels.append(CountRelation("kpi:patients_total", tuple(p_keys)))
    if within is not None:
        counts["kpi:patients_within"] = float(within)
        rels.append(CountRelation("kpi:patients_within", tuple(w_keys)))
        if total is not None:
            rels.append(CountRelation("kpi:patients_total", ("kpi:patients_within",), rest=True))
    return rels


def county_count_mask(
    counties: pd.DataFrame,
    *,
    threshold: int,
    patients_total: float | None = None,
    patients_within: float | None = None,
) -> CountMask:
    """Return the :class:`CountMask` of a county table shown with its region's totals.

    Parameters
    ----------
    counties
        One row per county (``county_id`` index): ``patients`` and optionally
        ``patients_within``.
    patients_total, patients_within
        The region's figures shown with it (``None``: not shown); a rollout year's, say.
    """
    counts: dict[str, float] = {}
    rels = _county_relations(counties, counts, total=patients_total, within=patients_within)
    return CountMask(threshold=threshold, hidden=protect_counts(counts, rels, threshold=threshold))


def count_mask(tables: ResultTables, *, threshold: int) -> CountMask:
    """Return the :class:`CountMask` of a plan: counties, sites and headline counts together.

    Relations: county totals and within-reach counts add up to the region's; within reach
    plus beyond reach (county and region); within reach, beyond the table's cut-off and the
    rest (region); site loads add up to the patients the plan serves (all of them less those
    beyond the cut-off, or those within reach) and, where they happen to add up exactly, to
    a county's total or within-reach count.
    """
    k = tables.kpis
    counts: dict[str, float] = {}
    rels = _county_relations(
        tables.counties,
        counts,
        total=float(k["patients_total"]),
        within=float(k["patients_within"]),
    )
    beyond = float(k.get("patients_beyond_cutoff", float("nan")))
    if not math.isnan(beyond):
        counts["kpi:patients_beyond_cutoff"] = beyond
        rels.append(
            CountRelation(
                "kpi:patients_total",
                ("kpi:patients_within", "kpi:patients_beyond_cutoff"),
                rest=True,
            )
        )
    sites = tables.sites
    if "assigned_patients" in sites.columns and len(sites):
        s_keys = tuple(f"site:{s}" for s in sites.index)
        counts.update(zip(s_keys, sites["assigned_patients"].astype(float), strict=True))
        loads = float(sites["assigned_patients"].sum())
        if abs(counts["kpi:patients_within"] - loads) < 0.5:
            rels.append(CountRelation("kpi:patients_within", s_keys))
        if "kpi:patients_beyond_cutoff" in counts:  # everyone reached is served
            rels.append(
                CountRelation("kpi:patients_total", ("kpi:patients_beyond_cutoff", *s_keys))
            )
        else:
            rels.append(CountRelation("kpi:patients_total", s_keys))
        if "county" in sites.columns:
            for cid, group in sites.groupby("county"):
                g_keys = tuple(f"site:{s}" for s in group.index)
                g_sum = float(group["assigned_patients"].sum())
                for col in ("patients", "patients_within"):
                    key = f"county:{cid}:{col}"
                    if key in counts and abs(counts[key] - g_sum) < 0.5:
                        rels.append(CountRelation(key, g_keys))
    hidden = protect_counts(counts, rels, threshold=threshold)
    return CountMask(threshold=threshold, hidden=hidden)


def hidden_kpis(tables: ResultTables, *, threshold: int) -> frozenset[str]:
    """Return the headline figures of :func:`summarise` that must not be shown exactly.

    Patient counts (``patients_total``, ``patients_within``, ``patients_beyond_cutoff``)
    hidden by :func:`count_mask` (``"<N"`` or ``"≥L"``); ``share_within`` is left out when
    either count it relates is hidden, since share x total gives the count back.
    """
    mask = count_mask(tables, threshold=threshold)
    hidden = {c for c in KPI_COUNTS if mask.kpi(c) is not None}
    if mask.kpi_share_hidden():
        hidden.add("share_within")
    return frozenset(hidden)


def public_policy(tables: ResultTables, *, threshold: int) -> pd.DataFrame:
    """Return :attr:`ResultTables.policy` as it may be shown.

    ``patient_share`` is NaN and ``patient_target_met`` ``None`` when the region's
    within-reach or total count is hidden (the share x the total would give it back).
    """
    out = tables.policy.copy()
    if count_mask(tables, threshold=threshold).kpi_share_hidden():
        out["patient_share"] = float("nan")
        out["patient_target_met"] = pd.Series(None, index=out.index, dtype=object)
    return out


def public_counties(tables: ResultTables, *, threshold: int) -> pd.DataFrame:
    """Return the county table as it may be shown to people (app, reports).

    Parameters
    ----------
    tables
        A plan's result tables (counts of :attr:`ResultTables.counties`, index
        ``county_id``, are hidden together with the sites and headline counts, see
        :func:`count_mask`).
    threshold
        The scenario's ``privacy_threshold``.

    Returns
    -------
    table
        Index ``county_id``: ``name``, ``population`` (float), ``patients`` and
        ``patients_within`` as text (:func:`count_text`: ``"<5"``, ``"≥8"``, ``"1,234"``),
        ``share_within`` (0-1; NaN where it would give a hidden count back, see
        :func:`hide_revealing_shares`), ``n_sites``, ``has_site``, ``mean_travel_min``,
        ``max_travel_min`` and, per year of :data:`POLICY_TARGETS`, ``patient_target_met_<year>``
        (``True`` / ``False``; ``None`` where the share is left out, as the mark would bound
        the hidden count).
    """
    c = tables.counties
    mask = count_mask(tables, threshold=threshold)
    hp = mask.counties(c.index, "patients")
    hw = mask.counties(c.index, "patients_within")
    out = pd.DataFrame(index=c.index)
    out["name"] = c["name"].astype(str)
    out["population"] = c["population"].astype(float)
    out["patients"] = count_text(c["patients"], threshold=threshold, hidden=hp)
    out["patients_within"] = count_text(c["patients_within"], threshold=threshold, hidden=hw)
    share = hide_revealing_shares(
        c["share_within"],
        c["patients"],
        c["patients_within"],
        threshold=threshold,
        hidden=(hp, hw),
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


def public_sites(tables: ResultTables, *, threshold: int) -> pd.DataFrame:
    """Return the open-site table as it may be shown to people (app, reports).

    Parameters
    ----------
    tables
        A plan's result tables (loads of :attr:`ResultTables.sites` are hidden together
        with the county and headline counts, see :func:`count_mask`).
    threshold
        The scenario's ``privacy_threshold``.

    Returns
    -------
    table
        A copy of the site table with ``assigned_patients`` as text (:func:`count_text`)
        and ``load_share`` NaN where the count is hidden (load x capacity, shown in exports
        and tooltips, would give it back).
    """
    sites = tables.sites
    hs = count_mask(tables, threshold=threshold).sites(sites.index)
    out = sites.copy()
    out["load_share"] = hide_revealing_shares(
        sites["load_share"], sites["assigned_patients"], threshold=threshold, hidden=(hs,)
    )
    out["assigned_patients"] = count_text(
        sites["assigned_patients"], threshold=threshold, hidden=hs
    )
    return out


def suppress_columns(
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    *,
    threshold: int,
    hidden: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with its ``columns`` shown via :func:`suppress_small`.

    ``hidden`` maps a column to its complementary-suppression text (see :class:`CountMask`).
    """
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            h = (hidden or {}).get(col)
            out[col] = suppress_small(out[col].astype(float), threshold=threshold, hidden=h)
    return out


def to_geodataframe(table: pd.DataFrame, layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Attach ``layer``'s geometry (same index) to ``table``."""
    return gpd.GeoDataFrame(table, geometry=layer.geometry.reindex(table.index), crs=layer.crs)
