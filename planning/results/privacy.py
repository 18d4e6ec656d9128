"""Privacy applied to a plan's results: which counts each table, map and file may show.

The rule itself (primary ``"<N"`` and complementary ``"≥N"`` suppression) lives in
:mod:`planning.suppression`; here it is applied to :class:`~planning.results.ResultTables`:
:func:`count_mask` decides every count of a plan once, and the ``public_*`` helpers give the
tables every output shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from planning import i18n
from planning.results.tables import POLICY_TARGETS, ResultTables
from planning.suppression import (
    CountRelation,
    count_text,
    hide_revealing_shares,
    protect_counts,
    suppress_small,
)

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
        ``"county:<id>:patients_within"``, ``"prefecture:<code>:patients"`` (and
        ``…:patients_within``), ``"site:<id>"`` and ``"kpi:<key>"``.
    """

    threshold: int
    hidden: Mapping[str, str] = field(default_factory=dict)

    def counties(self, index: pd.Index, column: str) -> pd.Series:
        """Text replacing county ``column`` (``patients`` / ``patients_within``), else None."""
        return pd.Series(
            [self.hidden.get(f"county:{c}:{column}") for c in index], index=index, dtype=object
        )

    def prefectures(self, index: pd.Index, column: str) -> pd.Series:
        """Text replacing a prefecture's sum of county ``column``, else None (same rule)."""
        return pd.Series(
            [self.hidden.get(f"prefecture:{p}:{column}") for p in index], index=index, dtype=object
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
    rels += _prefecture_relations(counties, counts)
    if total is not None:
        counts["kpi:patients_total"] = float(total)
        rels.append(CountRelation("kpi:patients_total", tuple(p_keys)))
    if within is not None:
        counts["kpi:patients_within"] = float(within)
        rels.append(CountRelation("kpi:patients_within", tuple(w_keys)))
        if total is not None:
            rels.append(CountRelation("kpi:patients_total", ("kpi:patients_within",), rest=True))
    return rels


def _prefecture_relations(counties: pd.DataFrame, counts: dict[str, float]) -> list[CountRelation]:
    """Prefecture sums of the counties (a province overview shows them), when there are several.

    With one prefecture its sums are the region's, already related; a county table without a
    ``prefecture`` column adds nothing.
    """
    if "prefecture" not in counties.columns or counties["prefecture"].nunique() < 2:
        return []
    rels: list[CountRelation] = []
    for pref, group in counties.groupby("prefecture", sort=True):
        for col in ("patients", "patients_within"):
            if col not in counties.columns:
                continue
            key = f"prefecture:{pref}:{col}"
            counts[key] = float(group[col].sum())
            rels.append(CountRelation(key, tuple(f"county:{c}:{col}" for c in group.index)))
        if "patients_within" in counties.columns:
            rels.append(
                CountRelation(
                    f"prefecture:{pref}:patients",
                    (f"prefecture:{pref}:patients_within",),
                    rest=True,
                )
            )
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
        ``patients_within`` and ``prefecture`` (its city: prefecture sums are related too).
    patients_total, patients_within
        The region's figures shown with it (``None``: not shown); a rollout year's, say.
    """
    counts: dict[str, float] = {}
    rels = _county_relations(counties, counts, total=patients_total, within=patients_within)
    return CountMask(threshold=threshold, hidden=protect_counts(counts, rels, threshold=threshold))


def count_mask(tables: ResultTables, *, threshold: int) -> CountMask:
    """Return the :class:`CountMask` of a plan: counties, sites and headline counts together.

    Relations: county totals and within-reach counts add up to the region's, and to their
    prefecture's when the counties span several (``prefecture`` column); within reach
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
        total=float(k.patients_total),
        within=float(k.patients_within),
    )
    beyond = float(k.patients_beyond_cutoff)
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
        total = counts["kpi:patients_total"]
        beyond_n = counts.get("kpi:patients_beyond_cutoff", math.nan)
        if abs(total - loads) < 0.5:  # everyone is served (p-median, p-center)
            rels.append(CountRelation("kpi:patients_total", s_keys))
        elif abs(total - beyond_n - loads) < 0.5:  # everyone within the cut-off is served
            rels.append(
                CountRelation("kpi:patients_total", ("kpi:patients_beyond_cutoff", *s_keys))
            )
        else:  # the loads and an unshown rest (e.g. patients beyond reach of a coverage model)
            rels.append(CountRelation("kpi:patients_total", s_keys, rest=True))
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
    hidden by :func:`count_mask` (``"<N"`` or ``"≥L"``); ``share_within`` (and
    ``share_beyond_cutoff``) is left out when either count it relates is hidden, since
    share x total gives the count back.
    """
    mask = count_mask(tables, threshold=threshold)
    hidden = {c for c in KPI_COUNTS if mask.kpi(c) is not None}
    if mask.kpi_share_hidden():
        hidden.add("share_within")
    if any(mask.kpi(k) is not None for k in ("patients_total", "patients_beyond_cutoff")):
        hidden.add("share_beyond_cutoff")
    return frozenset(hidden)


def travel_left_out(
    tables: ResultTables, *, threshold: int, short: bool = False
) -> i18n.Msg | None:
    """Return the phrase shown next to every mean and longest travel: who is left out.

    ``None`` when every patient is counted. Otherwise e.g. "未计入：312 名患者（2.9%）60 分钟内
    无开放站点" / "not counted: 312 patients (2.9%) with no open site within 60 min"; the count
    reads as the plan's privacy mask shows it (``"<5"``, ``"≥8"``) and the share is left out
    where it would give a hidden count back; ``short`` for a table cell. See
    :func:`~planning.results.tables.reach_cutoff_min` for the definition.
    """
    k = tables.kpis
    beyond = float(k.patients_beyond_cutoff)
    if not beyond > 1e-6:
        return None
    mask = count_mask(tables, threshold=threshold)
    count = mask.kpi_text("patients_beyond_cutoff", beyond)
    cutoff = float(k.travel_cutoff_min)
    if "share_beyond_cutoff" in hidden_kpis(tables, threshold=threshold):
        return i18n.Msg(
            "report.travel_left_out_count_short" if short else "report.travel_left_out_count",
            count=count,
            cutoff_min=cutoff,
        )
    share = float(k.share_beyond_cutoff)
    return i18n.Msg(
        "report.travel_left_out_short" if short else "report.travel_left_out",
        count=count,
        share=f"{100 * share:.1f}%" if share >= 0.001 else "<0.1%",
        cutoff_min=cutoff,
    )


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
        ``max_travel_min``, ``beyond_cutoff`` (some patients left out of those two) and,
        per year of :data:`POLICY_TARGETS`, ``patient_target_met_<year>``
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
    beyond = (
        c["beyond_cutoff"] if "beyond_cutoff" in c.columns else pd.Series(data=False, index=c.index)
    )
    out["beyond_cutoff"] = beyond.astype(bool)
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
