"""Estimate patients per county and spread them over grid cells.

Estimated registered patients of a county =
``population (2020 census) x prevalence_per_mille / 1000 x in_scope_share``.
The county estimate is spread over square grid cells clipped to the county, in proportion to
cell area (uniform) or to a weight layer; each county's cells sum to the county estimate.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planning._validate import require_columns
from planning.errors import DataError, PlanningWarning
from planning.i18n import Msg
from planning.inputs.read import fail, read_table
from planning.inputs.regions import census_gaps, left_out_items, split_census_gaps, utm_crs

logger = logging.getLogger(__name__)

WeightsKind = Literal["weight_layer", "patient_points"]

URBAN_THRESHOLD = 0.5  # a cell is "urban" when its county's urban population share >= 50 %

MAX_WEIGHT = 1e12
"""Largest weight of one feature of a weight layer (people, patients, floor area...)."""


def estimate_patients(
    counties: gpd.GeoDataFrame,
    *,
    prevalence_per_mille: float,
    in_scope_share: float = 1.0,
    patients_by_county: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Return ``counties`` with a ``patients`` column (estimated registered patients).

    Parameters
    ----------
    counties
        From :func:`planning.inputs.load_counties`; needs ``population`` and ``name``.
    prevalence_per_mille
        Registered prevalence of severe mental disorders per 1,000 residents.
    in_scope_share
        Share (0-1] of registered patients counted as demand.
    patients_by_county
        Known patient counts (index ``county_id``) replacing the estimate where given; the
        column ``patients_source`` says which counties use them.

    Raises
    ------
    DataError
        ``demand.no_population``: a county with neither census population nor a known
        count (:func:`planning.inputs.regions.split_census_gaps` leaves such counties out of
        a region first).
    """
    require_columns(counties, ["population", "name"], name=Msg("demand.name_counties"))
    out = counties.copy()
    est = out["population"] * prevalence_per_mille / 1000.0 * in_scope_share
    source = pd.Series("census 2020 x prevalence", index=out.index, dtype=object)
    if patients_by_county is not None:
        known = patients_by_county.reindex(out.index)
        has = known.notna()
        est = est.where(~has, known)
        source = source.where(~has, "patient table")
    missing = out.index[est.isna()]
    if len(missing):
        gaps = census_gaps(out.loc[missing])
        raise DataError("demand.no_population", names=left_out_items(gaps))
    out["patients"] = est.astype(float)
    out["patients_source"] = source
    return out


def region_patients(
    counties: gpd.GeoDataFrame,
    *,
    prevalence_per_mille: float,
    in_scope_share: float = 1.0,
    patients_by_county: pd.Series | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the region's counties with their patients, and the counties left out.

    A county without census figures (金门县, Hong Kong...) and without a known count is left
    out of the region with one :class:`~planning.errors.PlanningWarning`
    (:func:`planning.inputs.regions.split_census_gaps`); the others get their patients
    (:func:`estimate_patients`). Every step that plans a region starts here: the pipeline, and
    the app's county overview before a plan exists.

    Parameters
    ----------
    counties
        From :func:`planning.inputs.load_counties` (``name``, ``population``, geometry).
    prevalence_per_mille, in_scope_share, patients_by_county
        As for :func:`estimate_patients`; counties with a known count stay in the region.

    Returns
    -------
    counties, left_out
        The counties kept, with ``patients`` and ``patients_source``; and the left-out ones
        (index ``county_id``; ``name``, ``prefecture_name``, ``reason`` catalog key, geometry;
        empty when none).

    Raises
    ------
    DataError
        ``regions.no_census``: no county of the region has census figures or a known count.
    """
    covered = () if patients_by_county is None else patients_by_county.dropna().index
    kept, left_out = split_census_gaps(counties, covered=covered)
    with_patients = estimate_patients(
        kept,
        prevalence_per_mille=prevalence_per_mille,
        in_scope_share=in_scope_share,
        patients_by_county=patients_by_county,
    )
    return with_patients, left_out


def build_demand_cells(
    counties: gpd.GeoDataFrame,
    *,
    cell_size_m: float,
    weights: gpd.GeoDataFrame | None = None,
    weight_column: str = "weight",
    weights_kind: WeightsKind = "weight_layer",
    snap_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """Spread each county's ``patients`` over square cells clipped to the county.

    Parameters
    ----------
    counties
        Index ``county_id``; columns ``patients``, ``name``, ``prefecture``,
        ``prefecture_name``, ``urban_share``; WGS-84 polygons.
    cell_size_m
        Cell side in metres, laid out in the region's UTM zone.
    weights
        Optional weight layer (points or polygons, any CRS) with column ``weight_column``:
        a cell's share of its county is the weight inside it (polygons by overlapped area).
        Counties with patients but without any weight fall back to area shares, with a
        warning.
    weight_column
        Column of ``weights`` holding the weights (numbers >= 0).
    weights_kind
        What ``weights`` is, for the warnings: ``"weight_layer"`` (a raster-like layer of
        weights) or ``"patient_points"`` (the places of a patient-count table, whose counts
        already set the county totals).
    snap_m
        Weight points outside every cell but at most this many metres from one (a coastline
        or a simplified boundary) count in the nearest cell; farther points are left out.

    Returns
    -------
    demand
        Index ``demand_id`` (``"<county_id>-<nnnn>"``, numbered north-west to south-east);
        columns ``weight`` (patients), ``county``, ``county_name``, ``prefecture``,
        ``prefecture_name``, ``urban_share``, ``urban``, ``area_km2``, ``lon``, ``lat``
        (representative point, WGS-84); geometry: cell polygons in WGS-84. For every county
        the cell weights sum to its ``patients`` (to floating-point rounding).
    """
    require_columns(
        counties,
        ["patients", "name", "prefecture", "urban_share"],
        name=Msg("demand.name_counties"),
    )
    if cell_size_m <= 0:
        raise DataError("demand.cell_size_not_positive", cell_size_m=cell_size_m)
    crs = utm_crs(counties)
    proj = counties.to_crs(crs)
    minx, miny, maxx, maxy = proj.total_bounds
    xs = np.arange(np.floor(minx / cell_size_m) * cell_size_m, maxx, cell_size_m)
    ys = np.arange(np.floor(miny / cell_size_m) * cell_size_m, maxy, cell_size_m)[::-1]
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_size_m, gy.ravel() + cell_size_m)
    pieces = _clip_grid(boxes, proj, crs=crs)
    pieces["area_m2"] = pieces.area
    pieces = pieces.sort_values(["county_id", "cell"]).reset_index(drop=True)
    pieces["share"] = _shares(
        pieces,
        proj,
        weights,
        weight_column=weight_column,
        crs=crs,
        kind=weights_kind,
        snap_m=snap_m,
    )
    patients = counties["patients"]
    pieces["weight"] = pieces["share"] * pieces["county_id"].map(patients).to_numpy()
    # make each county's cells sum exactly to its estimate: put the rounding residual on its
    # largest cell
    for cid, grp in pieces.groupby("county_id", sort=False):
        residual = float(patients[cid]) - float(grp["weight"].sum())
        pieces.loc[grp["weight"].idxmax(), "weight"] += residual
    pieces["n"] = pieces.groupby("county_id").cumcount() + 1
    ids = pieces["county_id"].astype(str) + "-" + pieces["n"].map("{:04d}".format)
    rep = pieces.geometry.representative_point().to_crs("EPSG:4326")
    meta = counties.loc[pieces["county_id"]]
    demand = gpd.GeoDataFrame(
        {
            "weight": pieces["weight"].to_numpy(dtype=float),
            "county": pieces["county_id"].astype(str).to_numpy(),
            "county_name": meta["name"].to_numpy(),
            "prefecture": meta["prefecture"].astype(str).to_numpy(),
            "prefecture_name": meta["prefecture_name"].to_numpy(),
            "urban_share": meta["urban_share"].fillna(0.0).to_numpy(dtype=float),
            "area_km2": (pieces["area_m2"] / 1e6).to_numpy(),
            "lon": rep.x.to_numpy(),
            "lat": rep.y.to_numpy(),
        },
        index=pd.Index(ids.to_numpy(), name="demand_id"),
        geometry=pieces.geometry.to_crs("EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )
    demand.insert(6, "urban", demand["urban_share"] >= URBAN_THRESHOLD)
    logger.info(
        "Demand: %d cells of %.0f m over %d counties", len(demand), cell_size_m, len(counties)
    )
    return demand


def _clip_grid(
    boxes: npt.NDArray[np.object_], counties: gpd.GeoDataFrame, *, crs: str
) -> gpd.GeoDataFrame:
    """Cut the grid's boxes by the counties: one piece per (cell, county) with an area.

    As ``gpd.overlay(..., how="intersection", keep_geom_type=True)``, but a box lying wholly
    inside its county is kept as it is instead of being intersected with the county's
    polygon, which costs as much as the polygon has vertices: a province has hundreds of
    thousands of such boxes (四川省 at 2 km: 66 s -> a few seconds).

    Returns
    -------
    pieces
        Columns ``cell`` (position in ``boxes``), ``county_id``, geometry (polygons, ``crs``).
    """
    polys = shapely.make_valid(counties.geometry.to_numpy())
    shapely.prepare(polys)
    county_pos, cell = shapely.STRtree(boxes).query(polys, predicate="intersects")
    inside = shapely.contains_properly(polys[county_pos], boxes[cell])
    geoms = boxes[cell].copy()
    edge = ~inside
    if edge.any():
        cut = shapely.intersection(boxes[cell[edge]], polys[county_pos[edge]])
        geoms[edge] = [_polygonal(g) for g in cut]
    pieces = gpd.GeoDataFrame(
        {"cell": cell, "county_id": counties.index.to_numpy()[county_pos]},
        geometry=geoms,
        crs=crs,
    )
    return pieces[~pieces.geometry.is_empty & (pieces.area > 0)].copy()


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Return the polygons of ``geom`` (a cut may leave lines or points where boxes touch)."""
    if geom.geom_type in {"Polygon", "MultiPolygon"}:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in {"Polygon", "MultiPolygon"}]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _shares(
    pieces: gpd.GeoDataFrame,
    proj_counties: gpd.GeoDataFrame,
    weights: gpd.GeoDataFrame | None,
    *,
    weight_column: str,
    crs: str,
    kind: WeightsKind,
    snap_m: float,
) -> np.ndarray:
    by_area = pieces["area_m2"] / pieces.groupby("county_id")["area_m2"].transform("sum")
    if weights is None:
        return np.asarray(by_area.to_numpy(dtype=float))
    if kind == "weight_layer":
        label, name = Msg("demand.label_weight_layer"), Msg("demand.name_weight_layer")
    else:
        label, name = Msg("demand.label_patient_table"), Msg("demand.name_patient_table")
    require_columns(weights, [weight_column], name=name)
    if weights.crs is None:
        raise DataError("demand.weights_no_crs", label=label)
    w = weights.to_crs(crs)
    vals = pd.to_numeric(w[weight_column], errors="coerce").astype(float)
    if vals.isna().any() or (vals < 0).any() or not np.isfinite(vals).all():
        raise DataError("demand.weights_not_numbers", label=label, column=weight_column)
    if (vals > MAX_WEIGHT).any():
        row = int(np.flatnonzero((vals > MAX_WEIGHT).to_numpy())[0]) + 1
        raise DataError(
            "demand.weights_too_large", label=label, column=weight_column, row=row, limit=MAX_WEIGHT
        )
    w = w.assign(_w=vals.to_numpy()).reset_index(drop=True)
    cells = pieces[["geometry"]].reset_index(names="piece")
    if (w.geom_type.isin(["Point", "MultiPoint"])).all():
        hit = gpd.sjoin(w[["_w", "geometry"]], cells, how="inner", predicate="within")
        hit = hit[~hit.index.duplicated()]
        missed = w.index.difference(hit.index)
        if snap_m > 0 and len(missed):  # just outside the boundary: the nearest cell
            near = gpd.sjoin_nearest(
                w.loc[missed, ["_w", "geometry"]], cells, how="inner", max_distance=snap_m
            )
            hit = pd.concat([hit, near[~near.index.duplicated()]])
        raw = hit.groupby("piece")["_w"].sum()
    else:
        w["_area"] = w.area
        inter = gpd.overlay(w[["_w", "_area", "geometry"]], cells, how="intersection")
        inter["_part"] = inter["_w"] * inter.area / inter["_area"]
        raw = inter.groupby("piece")["_part"].sum()
    raw = raw.reindex(pieces.index, fill_value=0.0)
    totals = raw.groupby(pieces["county_id"]).transform("sum")
    empty = totals <= 0
    patients = pieces["county_id"].map(proj_counties["patients"])
    unplaced = empty & (patients > 0)  # a county with no patients has nothing to spread
    if unplaced.any():
        names = ", ".join(sorted(set(pieces.loc[unplaced, "county_id"].map(proj_counties["name"]))))
        if kind == "patient_points":
            warning = PlanningWarning("demand.no_patient_places", names=names)
        else:
            warning = PlanningWarning("demand.no_weight_inside", names=names)
        warnings.warn(warning, stacklevel=3)
    share = (raw / totals.where(~empty, 1.0)).where(~empty, by_area)
    return np.asarray(share.to_numpy(dtype=float))


def load_weight_layer(path: str | Path) -> gpd.GeoDataFrame:
    """Read a scenario's weight layer (``weight_layer``) safely.

    Parameters
    ----------
    path
        A GeoPackage, GeoJSON or zipped shapefile whose features carry a ``weight`` column
        (numbers >= 0: people, patients, floor area...), read like any planner's file
        (:func:`planning.inputs.read.read_table`: size limits, zip checks, every problem named).

    Raises
    ------
    InputFileError
        The file is missing, unreadable, or not a spatial file (a CSV or workbook, say).
    """
    frame = read_table(Path(path))
    if not isinstance(frame, gpd.GeoDataFrame):
        name = str(frame.attrs.get("file", Path(path).name))
        raise fail(name, Msg("demand.weight_layer_not_spatial", format=frame.attrs.get("format")))
    return frame
