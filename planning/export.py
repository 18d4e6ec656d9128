"""Write a solved plan to files: GeoJSON, CSV and ``scenario.json`` (more formats build on these).

Every patient count leaving the library passes :func:`planning.results.suppress_small`, so
counts below the scenario's ``privacy_threshold`` appear as ``"<N"``. Every file carries the
travel mode label (``travel_mode`` column or field), so an estimate is never mistaken for
road travel times.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from planning.errors import DataError
from planning.results import suppress_small

if TYPE_CHECKING:
    from planning.pipeline import Plan

logger = logging.getLogger(__name__)

PATIENT_COLUMNS = ("patients", "assigned_patients", "patients_within", "weight")


def _suppressed(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    out = frame.copy()
    for col in PATIENT_COLUMNS:
        if col in out.columns:
            out[col] = suppress_small(out[col].astype(float), threshold=threshold)
    return out


def export_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """The plan's tables as they are written to disk (suppressed, labelled, id-keyed).

    Returns a mapping ``{"sites", "assignments", "counties", "demand"}`` of frames; ``sites``,
    ``counties`` and ``demand`` are GeoDataFrames in WGS-84.
    """
    t = plan.tables
    thr = plan.scenario.privacy_threshold
    label = plan.travel.label
    sites = t.sites.copy()
    sites["source"] = plan.sites.loc[sites.index, "source"]
    sites["travel_mode"] = label
    sites_g = gpd.GeoDataFrame(
        _suppressed(sites, thr), geometry=plan.sites.geometry.loc[sites.index], crs="EPSG:4326"
    )
    counties = t.counties.copy()
    counties["travel_mode"] = label
    counties_g = gpd.GeoDataFrame(
        _suppressed(counties, thr), geometry=plan.counties.geometry.loc[counties.index],
        crs="EPSG:4326",
    )
    assignments = _suppressed(t.assignments, thr).assign(travel_mode=label)
    demand = plan.demand[["county", "county_name", "weight", "urban", "area_km2"]]
    demand_g = gpd.GeoDataFrame(
        _suppressed(demand, thr), geometry=plan.demand.geometry, crs="EPSG:4326"
    )
    return {"sites": sites_g, "assignments": assignments, "counties": counties_g,
            "demand": demand_g}


def plan_summary(plan: Plan) -> dict[str, Any]:
    """JSON-ready summary: status, objective, gap, chosen sites, KPIs, travel mode."""
    sol = plan.solution
    k = dict(plan.tables.kpis)
    for key in ("patients_total", "patients_within", "patients_beyond_cutoff"):
        k[key] = round(float(k[key]), 1)
    return {
        "scenario": plan.scenario.name,
        "model": sol.model,
        "status": sol.status,
        "optimal": sol.is_optimal,
        "objective": sol.objective,
        "gap": sol.gap,
        "bound": sol.bound,
        "solver": sol.solver,
        "solve_time_s": round(sol.solve_time_s, 3),
        "selected_sites": list(sol.selected_sites),
        "travel_mode": plan.travel.label,
        "kpis": k,
    }


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
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"Cannot create output folder {str(out)!r}: {err.strerror}. Choose another --out."
        raise DataError(msg) from None
    tables = export_tables(plan)
    written: list[Path] = []

    def _csv(frame: pd.DataFrame, name: str, *, index: bool = True) -> None:
        path = out / name
        frame.drop(columns="geometry", errors="ignore").to_csv(path, index=index, encoding="utf-8-sig")
        written.append(path)

    sites_path = out / "sites.geojson"
    tables["sites"].reset_index().to_file(sites_path, driver="GeoJSON")
    written.append(sites_path)
    _csv(tables["sites"], "sites.csv")
    _csv(tables["assignments"], "assignments.csv", index=False)
    _csv(tables["counties"], "counties.csv")
    summary = out / "summary.json"
    summary.write_text(
        json.dumps(plan_summary(plan), ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    written.append(summary)
    written.append(plan.scenario.save(out / "scenario.json"))
    logger.info("Exported %d files to %s", len(written), out)
    return written
