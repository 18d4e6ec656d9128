"""The plan folder of ``solve --out``: sites, assignments and counties as CSV/GeoJSON, a summary.

Every patient count leaving the library passes
:func:`planning.results.privacy.suppress_small` with the plan's
:func:`planning.results.privacy.count_mask`, so counts below the scenario's
``privacy_threshold`` appear as ``"<N"`` and counts that would give one back by subtraction
(a county's total less its within-reach count, a region total less the other counties...)
as ``"≥N"``, the same in every format. Every file carries the travel mode label
(``travel_mode`` column or field), so an estimate is never mistaken for road travel times.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from planning import i18n
from planning._atomic import replacing, replacing_folder, write_text
from planning._json import dumps
from planning.inputs.places import places_label
from planning.inputs.provenance import describe_source
from planning.report._shared import (
    county_hidden,
    escape_formulas,
    hide_small_shares,
    site_hidden,
    suppressed,
    travel_means,
)
from planning.report.equity import equity_json
from planning.report.labels import prevalence_citation
from planning.report.reproduce import export_scenario
from planning.results.equity import EQUITY_KPIS
from planning.results.privacy import (
    count_mask,
    hidden_kpis,
)
from planning.scenario_store import original_name

if TYPE_CHECKING:
    from planning.pipeline import Plan


logger = logging.getLogger(__name__)


def export_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """Return the plan's tables as they are written to disk (suppressed, labelled, id-keyed).

    Returns a mapping ``{"sites", "assignments", "counties", "demand"}`` of frames; ``sites``,
    ``counties`` and ``demand`` are GeoDataFrames in WGS-84.
    """
    t = plan.tables
    thr = plan.scenario.privacy_threshold
    mask = count_mask(t, threshold=thr)
    label = plan.travel.label
    sites = t.sites.copy()
    sites["source"] = plan.sites.loc[sites.index, "source"]
    sites["travel_mode"] = label
    sites["mean_travel_min"] = travel_means(sites, mask, t, "site_id")
    s_hidden = site_hidden(mask, sites.index)
    hide_small_shares(sites, ("assigned_patients",), "load_share", thr, s_hidden)
    sites_g = gpd.GeoDataFrame(
        suppressed(sites, thr, s_hidden),
        geometry=plan.sites.geometry.loc[sites.index],
        crs="EPSG:4326",
    )
    counties = t.counties.copy()
    counties["travel_mode"] = label
    counties["mean_travel_min"] = travel_means(counties, mask, t, "county")
    c_hidden = county_hidden(mask, counties.index)
    hide_small_shares(counties, ("patients", "patients_within"), "share_within", thr, c_hidden)
    counties_g = gpd.GeoDataFrame(
        suppressed(counties, thr, c_hidden),
        geometry=plan.counties.geometry.loc[counties.index],
        crs="EPSG:4326",
    )
    lines_hidden = {"patients": mask.lines(t.assignments)} if len(t.assignments) else None
    assignments = suppressed(t.assignments, thr, lines_hidden).assign(travel_mode=label)
    demand = plan.demand[["county", "county_name", "weight", "urban", "area_km2"]]
    demand_g = gpd.GeoDataFrame(
        suppressed(demand, thr, {"weight": mask.cells(demand.index)}),
        geometry=plan.demand.geometry,
        crs="EPSG:4326",
    )
    return {
        "sites": sites_g,
        "assignments": assignments,
        "counties": counties_g,
        "demand": demand_g,
    }


def _summary_count(
    value: float | None, threshold: int, hidden: str | None = None
) -> float | str | None:
    """Return a patient count for JSON: ``"<N"`` when 0 < value < N, else rounded to 0.1.

    ``hidden`` (complementary suppression, e.g. ``"≥8"``) replaces the value when given.
    """
    if value is None or pd.isna(value):
        return None
    if hidden is not None:
        return hidden
    if 0 < value < threshold:
        return f"<{threshold}"
    return round(float(value), 1)


def plan_summary(plan: Plan) -> dict[str, Any]:
    """JSON-ready summary: status, objective, gap, sites, KPIs, travel mode, prevalence, sources.

    ``left_out`` lists the region's counties left out of the plan (:func:`left_out_summary`);
    ``equity`` the plan's equity figures with their labels, values and explanations in both
    languages (:func:`planning.report.equity.equity_json`).

    Patient counts below the scenario's ``privacy_threshold`` appear as ``"<N"`` and counts
    that would give one back as ``"≥N"`` (:func:`planning.results.count_mask`: KPI counts,
    and the MCLP objective and bound, which are the covered patients); a share whose count is
    hidden is ``None``, as are the mean travel time and p-median's objective and bound when an
    assignment line's count is hidden (:func:`planning.results.hidden_kpis`).
    """
    sol = plan.solution
    thr = plan.scenario.privacy_threshold
    mask = count_mask(plan.tables, threshold=thr)
    within = float(plan.tables.kpis.patients_within)
    k = dict(plan.tables.kpis)  # the figures in field order, as they are written
    for key in ("patients_total", "patients_within", "patients_beyond_cutoff"):
        k[key] = _summary_count(float(k[key]), thr, mask.kpi(key))
    if mask.kpi_share_hidden():
        k["share_within"] = None  # with the total it would reveal the hidden count
    hidden_figures = hidden_kpis(plan.tables, threshold=thr)
    if "share_beyond_cutoff" in hidden_figures:
        k["share_beyond_cutoff"] = None
    for key in EQUITY_KPIS:  # equity figures that would give a hidden county share back
        if key in hidden_figures:
            k[key] = None
    if "mean_travel_min" in hidden_figures:  # patients x minutes: a hidden line comes back
        k["mean_travel_min"] = None
    objective: float | str | None = sol.objective
    bound: float | str | None = sol.bound
    if "objective" in hidden_figures:  # p-median's patients x minutes, and its bound
        objective = bound = k["objective"] = None
    if sol.model in {"mclp", "max_min"}:  # the objective is a patient count: those within reach
        hidden = mask.kpi("patients_within") if abs(sol.objective - within) < 0.5 else None
        objective = _summary_count(sol.objective, thr, hidden)
        bound = _summary_count(sol.bound, thr, hidden)  # the bound with the gap gives it back
        k["objective"] = objective
    return {
        "scenario": plan.scenario.display_name,
        "model": sol.model,
        "status": sol.status,
        "optimal": sol.is_optimal,
        "objective": objective,
        "gap": sol.gap,
        "bound": bound,
        "solver": sol.solver,
        "solve_time_s": round(sol.solve_time_s, 3),
        "selected_sites": list(sol.selected_sites),
        "travel_mode": plan.travel.label,
        "prevalence_per_mille": plan.scenario.prevalence_per_mille,
        "prevalence_source": prevalence_citation(plan.scenario.prevalence_per_mille),
        "left_out": left_out_summary(plan),
        "facilities_source": None
        if plan.facilities is None
        else describe_source(
            plan.facilities,
            file=original_name(plan.scenario.facilities_file)
            if plan.scenario.facilities_file
            else None,
        ).text(),
        "place_names": places_label(plan.sites).text(),
        "kpis": k,
        "equity": equity_json(plan.tables, threshold=thr),
    }


def left_out_summary(plan: Plan) -> list[dict[str, str]]:
    """Return the region's counties left out of the plan (no census figures, no patient count).

    One entry per county: ``county_id``, ``name``, ``reason`` (catalog key) and the reason in
    Chinese and English (``reason_zh``, ``reason_en``); empty when every county is planned.
    """
    return [
        {
            "county_id": str(cid),
            "name": str(row["name"]),
            "reason": str(row["reason"]),
            "reason_zh": i18n.text(str(row["reason"]), "zh"),
            "reason_en": i18n.text(str(row["reason"]), "en"),
        }
        for cid, row in plan.left_out.iterrows()
    ]


def export_plan(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write the plan's sites (GeoJSON, CSV), assignments, counties, summary and scenario.

    Parameters
    ----------
    out_dir
        Folder, created if needed. Existing files of the same names are replaced; nothing
        else in the folder is touched.

    Returns
    -------
    paths
        The files written.

    Raises
    ------
    WriteError
        A file could not be written (disk full, read-only, permissions). Every file is
        written into a temporary folder first, so ``out_dir`` keeps the previous run whole.
    """
    out = Path(out_dir)
    tables = export_tables(plan)
    summary = dumps(plan_summary(plan), indent=2) + "\n"
    names: list[str] = []
    with replacing_folder(out) as staging:

        def _csv(frame: pd.DataFrame, name: str, *, index: bool = True) -> None:
            frame = escape_formulas(frame.drop(columns="geometry", errors="ignore"))
            with replacing(staging / name) as tmp:
                frame.to_csv(tmp, index=index, encoding="utf-8-sig")
            names.append(name)

        sites_geojson = staging / "sites.geojson"
        with replacing(sites_geojson) as tmp:
            gpd.GeoDataFrame(tables["sites"].reset_index()).to_file(tmp, driver="GeoJSON")
        names.append(sites_geojson.name)
        _csv(tables["sites"], "sites.csv")
        _csv(tables["assignments"], "assignments.csv", index=False)
        _csv(tables["counties"], "counties.csv")
        names.append(write_text(staging / "summary.json", summary).name)
        scenario = export_scenario(plan, staging)  # with copies of its input files
        names.append(scenario.name)
    written = [out / name for name in names]
    logger.info("Exported %d files to %s", len(written), out)
    return written
