"""GIS layers of a plan (GeoPackage, GeoJSON, CSV): sites, demand cells, counties, assignments."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning._atomic import replacing
from planning.report._shared import (
    county_hidden,
    escape_formulas,
    hide_small_shares,
    make_folder,
    site_hidden,
    site_table,
    suppressed,
    travel_means,
)
from planning.results.privacy import (
    count_mask,
)

if TYPE_CHECKING:
    from planning.pipeline import Plan


LAYERS: tuple[str, ...] = ("sites", "demand_cells", "counties", "assignments")


GPKG_NAME = "layers.gpkg"


def gis_layers(plan: Plan) -> dict[str, gpd.GeoDataFrame]:
    """Return the plan as four WGS-84 layers, patient counts suppressed below the threshold.

    Returns
    -------
    layers
        ``sites`` (open sites, points; WGS-84 and GCJ-02 coordinates), ``demand_cells``
        (grid cells, polygons; ``patients`` and the main serving ``site_id``), ``counties``
        (polygons with coverage metrics) and ``assignments`` (lines from each cell's
        representative point to its serving site; ``patients``, ``travel_min``). Every
        layer has a ``travel_mode`` column; counts are text (``"<5"`` or a whole number).
    """
    thr = plan.scenario.privacy_threshold
    mask = count_mask(plan.tables, threshold=thr)
    label = plan.travel.label
    crs = "EPSG:4326"

    sites = site_table(plan)
    sites["mean_travel_min"] = travel_means(sites, mask, plan.tables, "site_id")
    s_hidden = site_hidden(mask, sites.index)
    hide_small_shares(sites, ("assigned_patients",), "load_share", thr, s_hidden)
    sites["travel_mode"] = label
    sites_g = gpd.GeoDataFrame(
        suppressed(sites, thr, s_hidden),
        geometry=plan.sites.geometry.reindex(sites.index),
        crs=crs,
    ).reset_index()

    alloc = plan.tables.assignments
    main = alloc.sort_values(["demand_id", "patients", "site_id"], ascending=[True, False, True])
    main = main.drop_duplicates("demand_id").set_index("demand_id")
    d = plan.demand
    cells = pd.DataFrame(
        {
            "county": d["county"],
            "county_name": d["county_name"],
            "patients": d["weight"].astype(float),
            "urban": d["urban"],
            "area_km2": d["area_km2"] if "area_km2" in d.columns else np.nan,
            "lon": d["lon"],
            "lat": d["lat"],
            "site_id": main["site_id"].reindex(d.index),
            "travel_min": main["travel_min"].reindex(d.index),
        },
        index=d.index,
    )
    cells["travel_mode"] = label
    cells_g = (
        gpd.GeoDataFrame(
            suppressed(cells, thr, {"patients": mask.cells(cells.index)}),
            geometry=d.geometry,
            crs=crs,
        )
        .rename_axis("demand_id")
        .reset_index()
    )

    counties = plan.tables.counties.copy()
    counties["mean_travel_min"] = travel_means(counties, mask, plan.tables, "county")
    c_hidden = county_hidden(mask, counties.index)
    hide_small_shares(counties, ("patients", "patients_within"), "share_within", thr, c_hidden)
    counties["travel_mode"] = label
    counties_g = (
        gpd.GeoDataFrame(
            suppressed(counties, thr, c_hidden),
            geometry=plan.counties.geometry.reindex(counties.index),
            crs=crs,
        )
        .rename_axis("county_id")
        .reset_index()
    )

    a = alloc.copy()
    x0 = a["demand_id"].map(d["lon"]).to_numpy(float)
    y0 = a["demand_id"].map(d["lat"]).to_numpy(float)
    x1 = a["site_id"].map(plan.sites["lon"]).to_numpy(float)
    y1 = a["site_id"].map(plan.sites["lat"]).to_numpy(float)
    coords = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
    lines: list[Any] = np.asarray(shapely.linestrings(coords)).tolist() if len(a) else []
    a["travel_mode"] = label
    a_hidden = {"patients": mask.lines(a)} if len(a) else None
    assign_g = gpd.GeoDataFrame(
        suppressed(a, thr, a_hidden).reset_index(drop=True), geometry=lines, crs=crs
    )
    return {
        "sites": sites_g,
        "demand_cells": cells_g,
        "counties": counties_g,
        "assignments": assign_g,
    }


def export_gpkg(plan: Plan, path: str | Path) -> Path:
    """Write the four :func:`gis_layers` into one GeoPackage (replacing ``path``)."""
    p = Path(path)
    layers = gis_layers(plan)
    with replacing(p) as tmp:  # atomic: a failed write keeps the old file
        for name, layer in layers.items():
            layer.to_file(tmp, layer=name, driver="GPKG")
    return p


def export_geojson(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write each of :func:`gis_layers` as ``<layer>.geojson`` (WGS-84) into ``out_dir``."""
    out = make_folder(Path(out_dir))
    paths = []
    for name, layer in gis_layers(plan).items():
        p = out / f"{name}.geojson"
        with replacing(p) as tmp:
            layer.to_file(tmp, driver="GeoJSON")
        paths.append(p)
    return paths


def export_csv(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write each of :func:`gis_layers` without geometry as ``<layer>.csv`` (UTF-8 with BOM).

    ``sites`` and ``demand_cells`` keep ``lon``/``lat``; ``assignments`` gains the cell's and
    the site's coordinates (``from_lon``, ``from_lat``, ``to_lon``, ``to_lat``).
    """
    out = make_folder(Path(out_dir))
    paths = []
    for name, layer in gis_layers(plan).items():
        frame = pd.DataFrame(layer.drop(columns="geometry"))
        if name == "assignments" and len(layer):
            xy = shapely.get_coordinates(layer.geometry.to_numpy()).reshape(-1, 2, 2)
            frame["from_lon"], frame["from_lat"] = xy[:, 0, 0], xy[:, 0, 1]
            frame["to_lon"], frame["to_lat"] = xy[:, 1, 0], xy[:, 1, 1]
        p = out / f"{name}.csv"
        with replacing(p) as tmp:
            escape_formulas(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
        paths.append(p)
    return paths
