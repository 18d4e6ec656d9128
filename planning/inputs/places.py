"""Place names for sites: the township and the nearest village or neighbourhood, from OSM.

A generated candidate is a grid point; before a planner can act on it, it needs a place: which
township (乡/镇/街道) and which village or neighbourhood (村/社区). :func:`load_osm_places`
reads OpenStreetMap's places of a region (``place=town/township/suburb`` for townships,
``place=village/hamlet/neighbourhood/quarter/isolated_dwelling`` for villages, and
``boundary=administrative`` areas of ``admin_level`` 8, township, and 9-10, village, where
mapped) from a local ``.osm.pbf``, the cache of an earlier download, or a download (see
:mod:`planning._osm`). :func:`name_places` gives each site:

* ``township``: the admin-level-8 area it lies in, else the nearest township place within
  :data:`TOWNSHIP_MAX_M`;
* ``village``: the admin-level-9/10 area it lies in, else the nearest village place within
  :data:`VILLAGE_MAX_M`;
* ``place``: "township village" (either alone when only one is known), else the county's
  name, so that no site is known by a grid id alone; ``place_source`` says which
  (``"osm"`` or ``"county"``).

OSM names are data and are never translated (like a facility's own name).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planning import settings as env_settings
from planning._osm import TagFilter, buffer_polygon, load_elements, reason_of
from planning.errors import DataError, PlanningError, PlanningWarning
from planning.i18n import Msg

logger = logging.getLogger(__name__)

TOWNSHIP_PLACES = ("town", "township", "suburb")
VILLAGE_PLACES = ("village", "hamlet", "neighbourhood", "quarter", "isolated_dwelling")
PLACE_FILTER: TagFilter = {
    "place": [*TOWNSHIP_PLACES, *VILLAGE_PLACES],
    "admin_level": ["8", "9", "10"],
}
"""OSM tags read for place names."""

TOWNSHIP_LEVELS = ("8",)
VILLAGE_LEVELS = ("9", "10")
TOWNSHIP_MAX_M = 8000.0
"""A township place farther than this (metres) from a site does not name it."""
VILLAGE_MAX_M = 3000.0
"""A village place farther than this (metres) from a site does not name it."""
PLACES_BUFFER_M = 3000.0
"""Places this far outside the region are read too (a site near the border)."""
MAX_DOWNLOAD_KM2 = 30_000.0
"""Regions larger than this (a province) are not downloaded: give a local file instead."""

_NAME_KEYS = ("name", "name:zh", "name:zh-Hans", "name:zh-CN", "official_name", "name:en")


@dataclass(frozen=True, kw_only=True, eq=False)
class OsmPlaces:
    """Named places of a region from OpenStreetMap.

    Attributes
    ----------
    points
        Place points (WGS-84): ``name``, ``level`` (``"township"`` / ``"village"``),
        ``place`` (the OSM ``place`` value).
    areas
        Administrative areas (WGS-84 polygons): ``name``, ``level``, ``admin_level``; often
        empty (few Chinese townships and villages are mapped as areas).
    source
        ``"OpenStreetMap download"`` or the file read.
    data_date
        ISO date of the data.
    """

    points: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    source: str
    data_date: str | None


def _name(tags: dict[str, str]) -> str:
    return next((tags[k].strip() for k in _NAME_KEYS if tags.get(k, "").strip()), "")


def load_osm_places(
    region: gpd.GeoDataFrame | BaseGeometry | None,
    *,
    osm_file: str | Path | None = None,
    refresh: bool = False,
    download: bool = True,
) -> OsmPlaces:
    """Township and village places of ``region`` from OpenStreetMap.

    Parameters
    ----------
    region
        Counties (WGS-84 polygons) or a WGS-84 polygon; places up to
        :data:`PLACES_BUFFER_M` outside are read too. ``None``: all of ``osm_file``.
    osm_file
        Local ``.osm.pbf``; without it the places are downloaded once and then cached.
    refresh
        Download again even when cached.
    download
        ``False``: only a file or the cache (a download of a larger area counts).

    Raises
    ------
    DataError
        The file is missing or unreadable; or no file and the region is larger than
        :data:`MAX_DOWNLOAD_KM2` (``osm.places_region_too_large``).
    NetworkError
        No file, no cached download, and the download failed, the tool is offline, or
        ``download`` is ``False``.
    """
    polygon = None
    if region is not None:
        if isinstance(region, gpd.GeoDataFrame):
            geom = shapely.union_all(region.to_crs("EPSG:4326").geometry.to_numpy()).buffer(0)
        else:
            geom = region
        polygon = buffer_polygon(geom, buffer_m=PLACES_BUFFER_M)
    if osm_file is None and polygon is not None and download:
        gs = gpd.GeoSeries([polygon], crs="EPSG:4326")
        km2 = float(gs.to_crs(gs.estimate_utm_crs()).area.iloc[0]) / 1e6
        if km2 > MAX_DOWNLOAD_KM2:
            raise DataError(
                "osm.places_region_too_large", area_km2=round(km2), max_km2=round(MAX_DOWNLOAD_KM2)
            )
    found = load_elements(
        "places",
        PLACE_FILTER,
        polygon,
        osm_file=osm_file,
        refresh=refresh,
        download=download,
        area_keys=frozenset({"admin_level"}),
    )
    points = []
    areas = []
    for tags, point, area in zip(
        found.elements["tags"], found.elements.geometry, found.elements["area"], strict=True
    ):
        name = _name(tags)
        if not name:
            continue
        place = tags.get("place", "")
        level = tags.get("admin_level", "")
        if area is not None and level in (*TOWNSHIP_LEVELS, *VILLAGE_LEVELS):
            kind = "township" if level in TOWNSHIP_LEVELS else "village"
            areas.append({"name": name, "level": kind, "admin_level": level, "geometry": area})
        elif place in TOWNSHIP_PLACES or place in VILLAGE_PLACES:
            kind = "township" if place in TOWNSHIP_PLACES else "village"
            points.append({"name": name, "level": kind, "place": place, "geometry": point})
    pts = gpd.GeoDataFrame(
        pd.DataFrame(points, columns=["name", "level", "place", "geometry"]),
        geometry="geometry",
        crs="EPSG:4326",
    )
    ars = gpd.GeoDataFrame(
        pd.DataFrame(areas, columns=["name", "level", "admin_level", "geometry"]),
        geometry="geometry",
        crs="EPSG:4326",
    )
    logger.info(
        "OSM places: %d points, %d areas (%s, data %s)",
        len(pts),
        len(ars),
        found.source,
        found.data_date,
    )
    return OsmPlaces(points=pts, areas=ars, source=found.source, data_date=found.data_date)


def find_places(
    counties: gpd.GeoDataFrame, *, osm_file: str | Path | None = None, download: bool = False
) -> OsmPlaces | None:
    """OSM places for a plan, or ``None`` (then sites are named by county).

    Reads ``osm_file`` (an ``.osm.pbf``; other files are not read for places), else the cache
    (filled when the region's facilities, road network or places were downloaded, also for a
    larger area), else downloads them, but only when ``download`` (a plan that already asked
    for OpenStreetMap online: road travel, OSM candidates; a plan alone makes no network call).

    Without places nothing is said when none were asked for (no file, no download allowed,
    or offline by :func:`planning.settings.offline`); any other failure warns
    (``osm.places_unavailable``). Place names never stop a run.
    """
    file = osm_file if osm_file and str(osm_file).lower().endswith(".pbf") else None
    try:
        return load_osm_places(counties, osm_file=file, download=download)
    except PlanningError as err:
        quiet = err.code == "osm.not_cached" or (
            err.code == "osm.offline" and env_settings.offline()
        )
        if quiet:
            logger.info("Place names by county: no cached OSM places (%s)", err.code)
            return None
        warnings.warn(
            PlanningWarning("osm.places_unavailable", reason=reason_of(err)), stacklevel=2
        )
        return None


def _within(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, level: str) -> pd.Series:
    sub = areas[areas["level"] == level]
    out = pd.Series(np.nan, index=points.index, dtype=object)
    if sub.empty or points.empty:
        return out
    hit = gpd.sjoin(
        points[["geometry"]], sub[["name", "geometry"]], how="inner", predicate="within"
    )
    # nested areas of one level: the smallest one names the point
    hit = hit.assign(_area=sub.geometry.area.reindex(hit["index_right"]).to_numpy())
    hit = hit.sort_values("_area", kind="stable")
    first = hit[~hit.index.duplicated()]
    out.loc[first.index] = first["name"].to_numpy()
    return out


def _nearest(
    points: gpd.GeoDataFrame, places: gpd.GeoDataFrame, level: str, max_m: float, crs: object
) -> tuple[pd.Series, pd.Series]:
    sub = places[places["level"] == level]
    names = pd.Series(np.nan, index=points.index, dtype=object)
    dist = pd.Series(np.nan, index=points.index, dtype=float)
    if sub.empty or points.empty:
        return names, dist
    near = gpd.sjoin_nearest(
        points[["geometry"]].to_crs(crs),
        sub[["name", "geometry"]].to_crs(crs),
        how="inner",
        max_distance=max_m,
        distance_col="_m",
    )
    near = near.sort_values(["_m", "name"], kind="stable")
    near = near[~near.index.duplicated()]
    names.loc[near.index] = near["name"].to_numpy()
    dist.loc[near.index] = near["_m"].to_numpy()
    return names, dist


def name_places(
    sites: gpd.GeoDataFrame,
    places: OsmPlaces | None,
    *,
    county_names: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Return ``sites`` with their place: township, village, ``place`` and ``place_source``.

    Parameters
    ----------
    sites
        Points in WGS-84 (any index; e.g. the site layer of :func:`build_sites`).
    places
        From :func:`load_osm_places`, or ``None`` (every site named by its county).
    county_names
        The county name of each site (same index): the fallback ``place``.

    Returns
    -------
    sites
        A copy with ``township``, ``village`` (text, empty when unknown), ``village_m``
        (metres to the village place; ``NaN`` inside a village area or when none),
        ``place`` (``"township village"``, else the county name), ``place_source``
        (``"osm"`` or ``"county"``) and ``place_date`` (date of the OSM data, else ``None``).
    """
    out = sites.copy()
    pts = gpd.GeoDataFrame(
        geometry=sites.geometry.to_crs("EPSG:4326").representative_point(), index=sites.index
    )
    township = pd.Series(np.nan, index=sites.index, dtype=object)
    village = pd.Series(np.nan, index=sites.index, dtype=object)
    village_m = pd.Series(np.nan, index=sites.index, dtype=float)
    if places is not None and len(pts):
        crs = pts.estimate_utm_crs()
        township = _within(pts, places.areas, "township")
        village = _within(pts, places.areas, "village")
        near_t, _ = _nearest(pts, places.points, "township", TOWNSHIP_MAX_M, crs)
        near_v, dist_v = _nearest(pts, places.points, "village", VILLAGE_MAX_M, crs)
        township = township.fillna(near_t)
        village_m = dist_v.where(village.isna())
        village = village.fillna(near_v)
    town_text: pd.Series = township.fillna("").astype(str)
    village_text: pd.Series = village.fillna("").astype(str)
    village_text = village_text.where(village_text != town_text, "")
    osm = (town_text != "") | (village_text != "")
    joined = (town_text + " " + village_text).str.strip()
    fallback = (
        county_names.reindex(sites.index).fillna("").astype(str)
        if county_names is not None
        else pd.Series("", index=sites.index)
    )
    out["township"] = town_text.to_numpy()
    out["village"] = village_text.to_numpy()
    out["village_m"] = village_m.round(0).to_numpy()
    out["place"] = joined.where(osm, fallback).to_numpy()
    out["place_source"] = np.where(osm, "osm", "county")
    date = places.data_date if places is not None else None
    out["place_date"] = [date if named else None for named in osm]
    return out


def places_label(sites: pd.DataFrame) -> Msg:
    """Say where the sites' place names come from, for every plan summary.

    E.g. "OpenStreetMap places, data 2025-03-01 (41 of 45 sites; the others by county)", or
    "by county (no OpenStreetMap places)".
    """
    if "place_source" not in sites.columns:
        return Msg("osm.places_county")
    osm = sites["place_source"].astype(str) == "osm"
    if not osm.any():
        return Msg("osm.places_county")
    dates = sorted({str(d) for d in sites.loc[osm, "place_date"].dropna()}) or ["?"]
    return Msg("osm.places_label", date=", ".join(dates), named=int(osm.sum()), total=len(sites))
