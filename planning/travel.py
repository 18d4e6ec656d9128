"""Travel times between demand points and sites, in minutes, as a sparse long table.

Two modes, chosen by :class:`~planning.scenario.TravelSettings`:

* ``"estimated"`` (this module): geodesic distance x detour factor / speed. Every result
  computed this way is labelled "estimated (straight-line)".
* ``"network"`` (:mod:`planning.network`): shortest paths on the OpenStreetMap road network.

Either way the result is a :class:`TravelTimes`: only pairs within the cut-off are stored
(a dense matrix does not fit at province scale), keyed by ``demand_id`` x ``site_id``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from planning.coords import haversine_m
from planning.errors import DataError
from planning.scenario import TravelSettings

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
ESTIMATED_LABEL = "estimated (straight-line)"
ESTIMATED_LABEL_ZH = "估算（直线距离×绕行系数）"
_NETWORK_LABEL = re.compile(r"(road|walking) network \(OpenStreetMap(?:, data ([^)]+))?\)")
_NETWORK_ZH = {"road": "路网", "walking": "步行路网"}


def travel_label_local(label: str, *, lang: Literal["zh", "en"] = "zh") -> str:
    """Return the travel-mode ``label`` in ``lang`` only.

    English is the label itself; Chinese translates the labels the library writes
    (:data:`ESTIMATED_LABEL`, ``road network (OpenStreetMap, data 2026-11-01)``, the walking
    network); any other label is returned unchanged.

    Examples
    --------
    >>> travel_label_local("road network (OpenStreetMap, data 2026-11-01)")
    '路网（OpenStreetMap，数据日期 2026-11-01）'
    >>> travel_label_local("estimated (straight-line)", lang="en")
    'estimated (straight-line)'
    """
    if lang != "zh":
        return label
    if label == ESTIMATED_LABEL:
        return ESTIMATED_LABEL_ZH
    match = _NETWORK_LABEL.fullmatch(label)
    if match is None:
        return label
    date = f"，数据日期 {match.group(2)}" if match.group(2) else ""
    return f"{_NETWORK_ZH[match.group(1)]}（OpenStreetMap{date}）"


def travel_label_shown(label: str, *, lang: Literal["zh", "en"] = "zh") -> str:
    """Return the travel-mode ``label`` as shown to people in ``lang`` (app, reports, maps).

    English shows the label; Chinese shows the translation followed by the original label
    (``"路网（OpenStreetMap，数据日期 2026-11-01） · road network (...)"``), so an estimate is
    never mistaken for road travel times and the label stays searchable in any language.
    Data columns (``travel_mode`` of the GIS layers and CSVs) keep the label itself.

    Examples
    --------
    >>> travel_label_shown("estimated (straight-line)")
    '估算（直线距离×绕行系数） · estimated (straight-line)'
    """
    local = travel_label_local(label, lang=lang)
    return label if local == label else f"{local} · {label}"


@dataclass(frozen=True, kw_only=True)
class TravelTimes:
    """A sparse travel-time table and how it was obtained.

    Attributes
    ----------
    table
        Columns ``demand_id``, ``site_id``, ``travel_min`` (float minutes). Only pairs with
        ``travel_min <= cutoff_min`` are stored; a missing pair is farther or unreachable.
    cutoff_min
        The cut-off in minutes, or ``inf`` when every pair is stored.
    mode
        ``"estimated"`` or ``"network"``.
    label
        What every map, table and export shows about the travel mode, e.g.
        ``"estimated (straight-line)"`` or ``"road network (OpenStreetMap, data 2026-11-01)"``.
    data_date
        Date of the road data (ISO), ``None`` for estimated travel.
    referral_min
        Index ``site_id``: minutes from each site to the nearest psychiatric hospital, when
        hospitals are known; otherwise ``None``.
    unsnapped
        Points (ids and distances to the nearest road, metres) too far from any road to use;
        empty for estimated travel.
    """

    table: pd.DataFrame
    cutoff_min: float
    mode: Literal["estimated", "network"]
    label: str
    data_date: str | None = None
    referral_min: pd.Series | None = None
    unsnapped: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["point_id", "role", "distance_m"])
    )


def _lonlat(points: gpd.GeoDataFrame, *, name: str) -> tuple[np.ndarray, np.ndarray]:
    if points.crs is None or not points.crs.equals("EPSG:4326"):
        msg = (
            f"{name} must be in WGS-84 (EPSG:4326) longitude/latitude (got {points.crs}). "
            "Reproject with `gdf.to_crs('EPSG:4326')`."
        )
        raise DataError(msg)
    geom = points.geometry
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return geom.x.to_numpy(dtype=np.float64), geom.y.to_numpy(dtype=np.float64)


def compute_estimated_travel_times(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    settings: TravelSettings | None = None,
    cutoff_min: float | None = None,
    progress: Progress | None = None,
) -> TravelTimes:
    """Estimate travel minutes as geodesic distance x detour factor / speed.

    Parameters
    ----------
    demand
        Demand points (or cells: their representative point is used), index ``demand_id``,
        WGS-84. Optional column ``urban_share`` (0-1): the trip speed is the harmonic blend
        ``1 / (u / urban_speed + (1 - u) / rural_speed)``; without it the rural speed is used.
    sites
        Sites, index ``site_id``, WGS-84.
    settings
        Detour factor and speeds; defaults of :class:`~planning.scenario.TravelSettings`.
    cutoff_min
        Keep only pairs with ``travel_min <= cutoff_min``; ``None`` keeps every pair.

    Returns
    -------
    TravelTimes
        Labelled ``"estimated (straight-line)"``.
    """
    settings = settings or TravelSettings()
    t0 = time.perf_counter()
    d_lon, d_lat = _lonlat(demand, name="demand")
    s_lon, s_lat = _lonlat(sites, name="sites")
    if "urban_share" in demand.columns:
        u = demand["urban_share"].to_numpy(dtype=np.float64)
    else:
        u = np.zeros(len(demand))
    # minutes per metre for each origin: harmonic blend of urban and rural speeds
    min_per_m = (u / settings.urban_speed_kmh + (1.0 - u) / settings.rural_speed_kmh) * 60 / 1000
    cutoff = np.inf if cutoff_min is None else float(cutoff_min)
    demand_ids = demand.index.to_numpy()
    site_ids = sites.index.to_numpy()
    parts: list[pd.DataFrame] = []
    chunk = max(1, 2_000_000 // max(len(sites), 1))
    for start in range(0, len(demand), chunk):
        stop = min(start + chunk, len(demand))
        dist_m = haversine_m(
            d_lon[start:stop, None], d_lat[start:stop, None], s_lon[None, :], s_lat[None, :]
        )
        minutes = dist_m * settings.detour_factor * min_per_m[start:stop, None]
        rows, cols = np.nonzero(minutes <= cutoff)
        parts.append(
            pd.DataFrame(
                {
                    "demand_id": demand_ids[start:stop][rows],
                    "site_id": site_ids[cols],
                    "travel_min": minutes[rows, cols],
                }
            )
        )
        if progress is not None:
            progress(stop / max(len(demand), 1), "estimating straight-line travel times")
    table = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"demand_id": [], "site_id": [], "travel_min": []})
    )
    logger.info(
        "Estimated travel: %d demand x %d sites -> %d pairs within %.0f min in %.2f s",
        len(demand),
        len(sites),
        len(table),
        cutoff,
        time.perf_counter() - t0,
    )
    return TravelTimes(table=table, cutoff_min=cutoff, mode="estimated", label=ESTIMATED_LABEL)


def compute_travel_times(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    settings: TravelSettings,
    cutoff_min: float | None,
    region: gpd.GeoDataFrame | None = None,
    hospitals: gpd.GeoDataFrame | None = None,
    progress: Progress | None = None,
) -> TravelTimes:
    """Travel times in the mode ``settings.mode`` (the one entry point the pipeline calls).

    ``"estimated"`` uses :func:`compute_estimated_travel_times` (hospitals' referral times are
    estimated the same way). ``"network"`` uses :mod:`planning.network` (road network from
    OpenStreetMap) and falls back to the labelled estimate, with a warning, when no road data
    can be had.

    Parameters
    ----------
    region
        County polygons (WGS-84) whose union bounds the road network to load.
    hospitals
        Psychiatric hospitals (WGS-84 points); when given, ``referral_min`` holds each site's
        minutes to the nearest one.
    """
    if settings.mode == "network":
        from planning import network  # noqa: PLC0415 - heavy optional step

        return network.compute_travel_times_for_region(
            demand,
            sites,
            settings=settings,
            cutoff_min=cutoff_min,
            region=region,
            hospitals=hospitals,
            progress=progress,
        )
    result = compute_estimated_travel_times(
        demand, sites, settings=settings, cutoff_min=cutoff_min, progress=progress
    )
    if hospitals is None or hospitals.empty:
        return result
    # referral: site -> nearest psychiatric hospital, estimated with the site's county speed
    site_pts = sites.assign(urban_share=sites.get("urban_share", 0.0))
    ref = compute_estimated_travel_times(site_pts, hospitals, settings=settings, cutoff_min=None)
    referral = ref.table.groupby("demand_id")["travel_min"].min().rename("referral_min")
    referral.index = referral.index.rename("site_id")
    return TravelTimes(
        table=result.table,
        cutoff_min=result.cutoff_min,
        mode=result.mode,
        label=result.label,
        referral_min=referral,
    )
