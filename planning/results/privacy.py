"""Privacy applied to a plan's results: which counts each table, map and file may show.

The rule itself (primary ``"<N"`` and complementary ``"≥N"`` suppression) lives in
:mod:`planning.suppression`; here it is applied to :class:`~planning.results.ResultTables`:
:func:`count_mask` decides every count of a plan once, and the ``public_*`` helpers give the
tables every output shows.

One mask per scenario
---------------------
Outputs of one scenario (the plan folder, the meeting kit, the rollout kit, a batch's plans,
the app) share counts that depend on the inputs only: each county's patients, the region's
total and each demand cell's patients. These are decided once, by :func:`input_count_mask`, in
two layers: first the counties and the region (what a region overview shows), then the
demand cells with the county texts kept. Every output then protects its own counts (counts
within reach, site loads, assignment lines, a rollout year's figures) with those shared
counts fixed: hidden ones stay hidden with the same text, shown ones stay shown
(:func:`planning.suppression.protect_counts`, ``fixed`` and ``locked``). So a county shown
as ``"≥5"`` in one file is never exact in another, and no subtraction across the files of
one scenario gives a hidden count back.

Keys of a mask: ``"county:<id>:patients"``, ``"county:<id>:patients_within"``,
``"site:<id>"``, ``"kpi:<key>"``, ``"cell:<demand_id>"`` and ``"line:<demand_id>><site_id>"``
(an assignment line; a cell's only line carrying all its patients is the cell itself).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from planning import i18n
from planning.results.equity import EQUITY_KPIS
from planning.results.tables import COUNTED, POLICY_TARGETS, ResultTables
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
    aliases: Mapping[str, str] = field(default_factory=dict)
    """Assignment lines that are their cell (``line:<d>><s>`` -> ``cell:<d>``)."""
    cell_counts: Mapping[str, float] = field(default_factory=dict)
    """The demand cells' counts (``cell:<d>``) an input mask was decided on (counted cells)."""
    cell_relations: tuple[CountRelation, ...] = ()
    """Each county's total = its cells: outputs without cells (the rollout) still weigh them,
    since the bounds of a cell shown ``"<N"`` limit its county's total in every output."""

    def cells(self, index: pd.Index) -> pd.Series:
        """Text replacing each demand cell's patients (``None`` where shown exactly)."""
        return pd.Series([self.hidden.get(f"cell:{d}") for d in index], index=index, dtype=object)

    def line_key(self, demand_id: object, site_id: object) -> str:
        """Key of the assignment line from ``demand_id`` to ``site_id`` (its cell's if alike)."""
        key = f"line:{demand_id}>{site_id}"
        return self.aliases.get(key, key)

    def lines(self, assignments: pd.DataFrame) -> pd.Series:
        """Text replacing each assignment line's patients (rows ``demand_id``, ``site_id``)."""
        texts = [
            self.hidden.get(self.line_key(d, s))
            for d, s in zip(assignments["demand_id"], assignments["site_id"], strict=True)
        ]
        return pd.Series(texts, index=assignments.index, dtype=object)

    def sum_text(self, keys: Iterable[str], values: Iterable[float]) -> str:
        """Text of a sum of counts shown nowhere else (a map block, a site's reach).

        Exact (or ``"<N"``) when none of its counts is hidden; otherwise what the shown ones
        give anyway: ``"≥L"`` with ``L`` their sum (at least the threshold), or ``"<N"``.
        """
        total, shown = 0.0, 0.0
        hidden_any = False
        for k, v in zip(keys, values, strict=True):
            total += float(v)
            if k in self.hidden:
                hidden_any = True
            else:
                shown += float(v)
        if not hidden_any or 0 < total < self.threshold:
            return str(count_text(pd.Series([total]), threshold=self.threshold).iloc[0])
        bound = min(max(float(self.threshold), math.floor(shown + 1e-9)), math.floor(total))
        return f"≥{int(bound):,}"

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

    def travel_hidden(self, tables: ResultTables, by: str = "county") -> set[str]:
        """Counties (or sites, ``by="site_id"``) whose mean travel has a hidden count in it.

        A mean travel time is the patients x minutes over the patients: with a line's minutes
        shown (a cell's follow from its place), the total less the shown lines gives a hidden
        line or cell back. Estimated cells (a census plan) are not in the mask: none there.
        """
        a = tables.assignments
        shown = a.empty or by not in a.columns
        out = set() if shown else set(a.loc[self.lines(a).notna().to_numpy(), by].astype(str))
        if by == "county" and tables.cells is not None:
            out |= {str(c) for d, c in tables.cells["county"].items() if f"cell:{d}" in self.hidden}
        return out

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
    shared: CountMask | None = None,
) -> CountMask:
    """Return the :class:`CountMask` of a county table shown with its region's totals.

    Parameters
    ----------
    counties
        One row per county (``county_id`` index): ``patients`` and optionally
        ``patients_within`` and ``prefecture`` (its city: prefecture sums are related too).
    patients_total, patients_within
        The region's figures shown with it (``None``: not shown); a rollout year's, say.
    shared
        The scenario's :func:`input_count_mask`: its hidden counts stay hidden with the same
        text and its shown ones stay shown.
    """
    counts: dict[str, float] = {}
    rels = _county_relations(counties, counts, total=patients_total, within=patients_within)
    fixed, locked = _shared(shared, counts)
    hidden = protect_counts(counts, rels, threshold=threshold, fixed=fixed, locked=locked)
    return CountMask(threshold=threshold, hidden=hidden)


SHARED_PREFIXES = ("county:", "kpi:patients_total", "cell:", "prefecture:")
"""Counts decided by the inputs alone (every output of a scenario shows them alike)."""


def _is_shared(key: str) -> bool:
    if key.startswith("county:"):
        return key.endswith(":patients")
    if key.startswith("prefecture:"):
        return key.endswith(":patients")
    return key == "kpi:patients_total" or key.startswith("cell:")


def _shared(
    shared: CountMask | None, counts: Mapping[str, float]
) -> tuple[dict[str, str], set[str]]:
    """Return ``fixed`` and ``locked`` for :func:`protect_counts` from the input mask."""
    if shared is None:
        return {}, set()
    fixed = {k: v for k, v in shared.hidden.items() if k in counts}
    locked = {k for k in counts if _is_shared(k) and k not in shared.hidden}
    return fixed, locked


def _cell_relations(cells: pd.DataFrame, counts: dict[str, float]) -> list[CountRelation]:
    """Each county's patients = the sum of its demand cells (cells sum to the county)."""
    rels: list[CountRelation] = []
    keys = [f"cell:{d}" for d in cells.index]
    counts.update(zip(keys, cells["weight"].astype(float), strict=True))
    by_county = pd.Series(keys, index=cells.index).groupby(cells["county"].astype(str))
    for cid, group in by_county:
        key = f"county:{cid}:patients"
        if key in counts:
            rels.append(CountRelation(key, tuple(group)))
    return rels


def input_count_mask(
    counties: pd.DataFrame,
    *,
    threshold: int,
    cells: pd.DataFrame | None = None,
    patients_total: float | None = None,
) -> CountMask:
    """Return the scenario's mask of the counts its inputs alone decide (see the module doc).

    Every output shows these counts, and each adds relations of its own (site loads, counts
    within reach), so they are protected with a margin: hidden small counts of a shown total
    are always joined by a hidden count of at least the threshold (``cover_small``).

    Parameters
    ----------
    counties
        Index ``county_id``: ``patients`` (and ``prefecture`` where the region has several).
    cells
        Demand cells, index ``demand_id``: ``county``, ``weight``; ``None``: counties only
        (a region overview), whose texts are the same either way.
    patients_total
        The region's total (default: the sum of the counties).
    """
    total = float(counties["patients"].sum()) if patients_total is None else patients_total
    region = counties.drop(columns=["patients_within"], errors="ignore")
    counts: dict[str, float] = {}
    rels = _county_relations(region, counts, total=total, within=None)
    first = protect_counts(counts, rels, threshold=threshold, cover_small=True)
    if cells is None or cells.empty:
        return CountMask(threshold=threshold, hidden=first)
    locked = {k for k in counts if k not in first}
    cell_rels = _cell_relations(cells, counts)
    hidden = protect_counts(
        counts,
        [*rels, *cell_rels],
        threshold=threshold,
        fixed=first,
        locked=locked,
        cover_small=True,
    )
    return CountMask(
        threshold=threshold,
        hidden=hidden,
        cell_counts={k: v for k, v in counts.items() if k.startswith("cell:")},
        cell_relations=tuple(cell_rels),
    )


def scenario_input_mask(
    counties: pd.DataFrame, *, threshold: int, demand: pd.DataFrame | None = None
) -> CountMask:
    """Return the scenario's :func:`input_count_mask` from its prepared inputs, as a plan's is.

    The region overview, the region maps, the plan (:func:`count_mask`) and the rollout all
    build it with the same arguments, so a county hidden in the plan's files (``"≥5"``, say a
    county made only of small counted cells) is hidden in every view before solving too.

    Parameters
    ----------
    counties
        Index ``county_id``: ``patients`` (and ``prefecture`` where the region has several);
        other columns are ignored.
    demand
        The prepared demand cells (``county``, ``weight``; :attr:`Inputs.demand`), or ``None``
        (not prepared yet: the counties alone, their total the region's). Counted cells (a
        table of places, ``demand.attrs`` flag :data:`~planning.results.tables.COUNTED`) enter
        the mask as the plan's do; estimated cells only give the region's total.
    """
    related = [c for c in ("patients", "prefecture") if c in counties.columns]
    region = pd.DataFrame(counties[related])
    if demand is None:
        return input_count_mask(
            region, threshold=threshold, patients_total=float(region["patients"].sum())
        )
    counted = bool(demand.attrs.get(COUNTED))
    return input_count_mask(
        region,
        threshold=threshold,
        cells=pd.DataFrame(demand[["county", "weight"]]) if counted else None,
        patients_total=float(demand["weight"].astype(float).sum()),
    )


def years_count_masks(
    years: pd.DataFrame,
    counties: pd.DataFrame,
    *,
    threshold: int,
    shared: CountMask | None = None,
) -> dict[int, CountMask]:
    """Return one mask per year of a phased rollout, decided together (one mask for all years).

    Every year shows the same county totals and region total next to its own counts within
    reach, so the years are protected together: a county total hidden to protect one year's
    figures is hidden in every year (and in the scenario's other outputs, via ``shared``).

    Parameters
    ----------
    years
        Index ``year``: ``patients_total``, ``patients_within``.
    counties
        Long table ``year``, ``county_id``, ``patients``, ``patients_within``.
    shared
        The scenario's :func:`input_count_mask` (default: the counties' own, as a region
        overview shows them).

    Returns
    -------
    masks
        ``{year: CountMask}`` with the usual keys (``county:<id>:patients_within``,
        ``kpi:patients_within``...) of that year.
    """
    if years.empty:
        return {}
    first = counties[counties["year"] == years.index[0]].set_index("county_id")
    total = float(years["patients_total"].iloc[0])
    if shared is None:
        shared = input_count_mask(first[["patients"]], threshold=threshold, patients_total=total)
    counts: dict[str, float] = {
        f"county:{c}:patients": float(v) for c, v in first["patients"].items()
    }
    counts["kpi:patients_total"] = total
    rels = [
        CountRelation("kpi:patients_total", tuple(k for k in counts if k.startswith("county:")))
    ]
    for year, row in years.iterrows():
        tag = f"year:{int(cast('int', year))}:"
        cty = counties[counties["year"] == year].set_index("county_id")
        w_keys = []
        for cid, within in cty["patients_within"].items():
            key = f"{tag}county:{cid}:patients_within"
            counts[key] = float(within)
            w_keys.append(key)
            if f"county:{cid}:patients" in counts:
                rels.append(CountRelation(f"county:{cid}:patients", (key,), rest=True))
        region = f"{tag}kpi:patients_within"
        counts[region] = float(row["patients_within"])
        rels.append(CountRelation(region, tuple(w_keys)))
        rels.append(CountRelation("kpi:patients_total", (region,), rest=True))
    for rel in shared.cell_relations:  # the plan's files show the cells: their bounds count
        if rel.total in counts:
            counts.update((k, shared.cell_counts[k]) for k in rel.parts)
            rels.append(rel)
    fixed, locked = _shared(shared, counts)
    hidden = protect_counts(counts, rels, threshold=threshold, fixed=fixed, locked=locked)
    common = {k: v for k, v in hidden.items() if not k.startswith("year:")}
    out: dict[int, CountMask] = {}
    for year in years.index:
        tag = f"year:{int(cast('int', year))}:"
        own = {k.removeprefix(tag): v for k, v in hidden.items() if k.startswith(tag)}
        out[int(cast("int", year))] = CountMask(threshold=threshold, hidden=common | own)
    return out


def count_mask(tables: ResultTables, *, threshold: int) -> CountMask:
    """Return the :class:`CountMask` of a plan: every count any output of it shows, together.

    Relations: county totals and within-reach counts add up to the region's, and to their
    prefecture's when the counties span several (``prefecture`` column); within reach
    plus beyond reach (county and region); within reach, beyond the table's cut-off and the
    rest (region); site loads add up to the patients the plan serves (all of them less those
    beyond the cut-off, or those within reach) and, where they happen to add up exactly, to
    a county's total or within-reach count; demand cells add up to their county; assignment
    lines add up to their cell, to their site's load and, within reach, to their county's
    within-reach count. The counts the inputs alone decide come from the scenario's
    :func:`input_count_mask`, so every output of the scenario shows them alike. Computed once
    per tables and threshold.
    """
    cached = tables.masks.get(("plan", threshold))
    if isinstance(cached, CountMask):
        return cached
    mask = _plan_mask(tables, threshold=threshold)
    tables.masks["plan", threshold] = mask
    return mask


def _line_relations(
    tables: ResultTables, counts: dict[str, float]
) -> tuple[dict[str, str], list[CountRelation]]:
    """Return the assignment lines' keys (a cell's only, whole line is the cell) and sums."""
    a = tables.assignments
    cells = tables.cells
    if cells is None or a.empty or "demand_id" not in a.columns:
        return {}, []
    d = a["demand_id"].astype(str).to_numpy()
    s = a["site_id"].astype(str).to_numpy()
    w = a["patients"].astype(float).to_numpy()
    n_lines = a.groupby("demand_id")["site_id"].transform("size").to_numpy()
    weight = a["demand_id"].map(cells["weight"]).astype(float).to_numpy()
    aliases: dict[str, str] = {}
    keys: list[str] = []
    for di, si, wi, n, cw in zip(d, s, w, n_lines, weight, strict=True):
        line = f"line:{di}>{si}"
        if int(n) == 1 and abs(float(wi) - float(cw)) <= 1e-9 * max(1.0, abs(float(cw))):
            aliases[line] = f"cell:{di}"
            keys.append(f"cell:{di}")
        else:
            keys.append(line)
            counts[line] = float(wi)
    frame = pd.DataFrame({"demand_id": d, "site_id": s, "key": keys, "w": w})
    rels: list[CountRelation] = []
    split = frame[~frame["key"].str.startswith("cell:")]
    for did, group in split.groupby("demand_id", sort=True):
        if f"cell:{did}" in counts:
            rels.append(CountRelation(f"cell:{did}", tuple(group["key"])))
    loads = tables.sites["assigned_patients"].astype(float)
    for sid, group in frame.groupby("site_id", sort=True):
        key = f"site:{sid}"
        if key in counts and abs(loads.get(sid, math.nan) - float(group["w"].sum())) < 0.5:
            rels.append(CountRelation(key, tuple(group["key"])))
    if "travel_min" in a.columns and "county" in a.columns:
        limit = a["demand_id"].map(cells["threshold_min"]).astype(float).to_numpy()
        within = a["travel_min"].astype(float).to_numpy() <= limit + 1e-9
        frame["county"] = a["county"].astype(str).to_numpy()
        for cid, group in frame[within].groupby("county", sort=True):
            key = f"county:{cid}:patients_within"
            if key in counts and abs(counts[key] - float(group["w"].sum())) < 0.5:
                rels.append(CountRelation(key, tuple(group["key"])))
    return aliases, rels


def _plan_mask(tables: ResultTables, *, threshold: int) -> CountMask:
    k = tables.kpis
    shared = input_count_mask(
        tables.counties,
        threshold=threshold,
        cells=tables.cells,
        patients_total=float(k["patients_total"]),
    )
    counts: dict[str, float] = {}
    rels = _county_relations(
        tables.counties,
        counts,
        total=float(k.patients_total),
        within=float(k.patients_within),
    )
    if tables.cells is not None and not tables.cells.empty:
        rels += _cell_relations(tables.cells, counts)
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
    aliases, line_rels = _line_relations(tables, counts)
    rels += line_rels
    fixed, locked = _shared(shared, counts)
    hidden = protect_counts(counts, rels, threshold=threshold, fixed=fixed, locked=locked)
    return CountMask(threshold=threshold, hidden=hidden, aliases=aliases)


def hidden_kpis(tables: ResultTables, *, threshold: int) -> frozenset[str]:
    """Return the headline figures of :func:`summarise` that must not be shown exactly.

    Patient counts (``patients_total``, ``patients_within``, ``patients_beyond_cutoff``)
    hidden by :func:`count_mask` (``"<N"`` or ``"≥L"``); ``share_within`` (and
    ``share_beyond_cutoff``) is left out when either count it relates is hidden, since
    share x total gives the count back; equity figures that would give a county's hidden
    share back (the worst-off county, counties below the target, an urban or rural share);
    when an assignment line's or a demand cell's count is hidden (a table of places), the
    mean travel times (:data:`WEIGHTED_FIGURES`) and p-median's ``objective``, which are sums
    of patients times their minutes (the total less the shown lines gives it back).
    Estimated cells (census plans) hide no line, so these figures stay shown there.
    """
    mask = count_mask(tables, threshold=threshold)
    hidden = {c for c in KPI_COUNTS if mask.kpi(c) is not None}
    if mask.kpi_share_hidden():
        hidden.add("share_within")
    if any(mask.kpi(k) is not None for k in ("patients_total", "patients_beyond_cutoff")):
        hidden.add("share_beyond_cutoff")
    hidden |= _hidden_equity(tables, mask)
    if mask.travel_hidden(tables):  # sums of patients x minutes give a hidden count back
        hidden |= set(WEIGHTED_FIGURES)
        if tables.kpis.model == "p_median":  # its objective: the patients x minutes
            hidden.add("objective")
    return frozenset(hidden)


_MEAN = "mean_travel_min"
WEIGHTED_FIGURES = (
    "mean_travel_min",
    "urban_mean_travel_min",
    "rural_mean_travel_min",
    "urban_rural_gap_min",
    "travel_gini",
    "travel_theil",
    "theil_between_county_share",
)
"""Headline figures weighted by the patients (lines x their shown minutes; the Gini and Theil
indices of travel too): left out when a line's or a cell's count is hidden, with p-median's
objective (the patients x minutes)."""


def _hidden_equity(tables: ResultTables, mask: CountMask) -> set[str]:
    """Equity figures (:mod:`planning.results.equity`) that would give a hidden count back.

    A county share left out of the county table (its count is hidden) must not come back
    as the worst-off county's share, nor through the ranking (which county is worst, how
    many are below the target: each bounds the hidden share); the urban or rural share
    within reach is a sum over its counties, so a hidden county count in it hides it and the
    gap. The Gini and Theil figures and mean travel times give no count back.
    """
    c = tables.counties
    k = tables.kpis
    if "share_within" not in c.columns or k.get("worst_county_share") is None:
        return set()
    threshold = mask.threshold
    shown = hide_revealing_shares(
        c["share_within"],
        c["patients"],
        c["patients_within"],
        threshold=threshold,
        hidden=(mask.counties(c.index, "patients"), mask.counties(c.index, "patients_within")),
    )
    left_out = {str(i) for i in c.index[shown.isna() & c["share_within"].notna()]}
    out: set[str] = set()
    if left_out:
        out |= set(RANKED_EQUITY)
    for group in ("urban", "rural"):
        members = k.get(f"{group}_counties") or []
        if left_out & {str(m) for m in members}:
            out |= {f"{group}_share_within", "urban_rural_share_gap"}
    return out


RANKED_EQUITY = (
    "worst_county_id",
    "worst_county_name",
    "worst_county_share",
    "counties_below_target",
    "counties_below_target_ids",
)
"""Equity figures ranking the counties by their share within reach (hidden together)."""


def public_equity(tables: ResultTables, *, threshold: int) -> dict[str, Any]:
    """Return the plan's equity figures (:data:`~planning.results.equity.EQUITY_KPIS`) to show.

    Figures that would give a hidden count back (see :func:`hidden_kpis`) are ``None``.
    """
    hidden = hidden_kpis(tables, threshold=threshold)
    k = tables.kpis
    return {key: None if key in hidden else k.get(key) for key in EQUITY_KPIS}


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
        :func:`hide_revealing_shares`), ``n_sites``, ``has_site``, ``mean_travel_min`` (NaN
        where a hidden count is in it: :meth:`CountMask.travel_hidden`),
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
    mean_shown = ~c.index.astype(str).isin(mask.travel_hidden(tables))  # no hidden count in it
    out[_MEAN] = c[_MEAN].astype(float).where(mean_shown)
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
        and tooltips, would give it back); ``mean_travel_min`` NaN where a hidden line is in
        it (:meth:`CountMask.travel_hidden`).
    """
    sites = tables.sites
    mask = count_mask(tables, threshold=threshold)
    hs = mask.sites(sites.index)
    out = sites.copy()
    if _MEAN in out.columns:  # the mean travel a hidden line is in
        shown = ~out.index.astype(str).isin(mask.travel_hidden(tables, "site_id"))
        out[_MEAN] = out[_MEAN].where(shown)
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
