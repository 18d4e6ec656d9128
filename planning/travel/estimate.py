"""Estimated travel: geodesic distance x detour factor / speed (labelled as such everywhere)."""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from planning._progress import Progress
from planning.i18n import Msg, MsgStr
from planning.inputs.coords import haversine_m
from planning.scenario import TravelSettings
from planning.travel._geo import FloatArray, lonlat
from planning.travel.table import ESTIMATED_LABEL, TravelTimes

logger = logging.getLogger(__name__)

_EARTH_M = 6_371_008.8  # the sphere of haversine_m
_PAIRS_PER_CHUNK = 2_000_000


def _unit_xyz(lon: FloatArray, lat: FloatArray) -> FloatArray:
    lam, phi = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def _extent_m(*coords: FloatArray) -> float:
    """Diagonal of the bounding box of the points (lon, lat, lon, lat ... arrays), metres."""
    lons, lats = np.concatenate(coords[0::2]), np.concatenate(coords[1::2])
    if not len(lons):
        return 0.0
    return float(haversine_m(lons.min(), lats.min(), lons.max(), lats.max()))


def _pairs_within(
    d_lon: FloatArray, d_lat: FloatArray, s_lon: FloatArray, s_lat: FloatArray, max_m: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Return (demand, site) positions of every pair at most ``max_m`` apart.

    A superset (chord distance on the unit sphere, with a margin), sorted by demand then site.
    """
    angle = min(max_m * 1.001 + 1.0, np.pi * _EARTH_M) / _EARTH_M
    chord = 2.0 * np.sin(angle / 2.0)
    sites = cKDTree(_unit_xyz(s_lon, s_lat))
    found = cKDTree(_unit_xyz(d_lon, d_lat)).sparse_distance_matrix(
        sites, chord, output_type="ndarray"
    )
    order = np.lexsort((found["j"], found["i"]))
    return found["i"][order].astype(np.intp), found["j"][order].astype(np.intp)


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
    d_lon, d_lat = lonlat(demand, name=Msg("travel.layer_demand"))
    s_lon, s_lat = lonlat(sites, name=Msg("travel.layer_sites"))
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
    max_m = np.inf
    if np.isfinite(cutoff) and len(demand) and len(sites):
        max_m = cutoff / settings.detour_factor / float(min_per_m.min())
    if max_m < _extent_m(d_lon, d_lat, s_lon, s_lat) / 3:
        # only pairs that can be within the cut-off at the fastest speed of any origin: a
        # province has millions of cells x sites, of which a few per cent are that close
        rows, cols = _pairs_within(d_lon, d_lat, s_lon, s_lat, max_m)
        for start in range(0, len(rows), _PAIRS_PER_CHUNK):
            r = rows[start : start + _PAIRS_PER_CHUNK]
            c = cols[start : start + _PAIRS_PER_CHUNK]
            dist_m = haversine_m(d_lon[r], d_lat[r], s_lon[c], s_lat[c])
            minutes = dist_m * settings.detour_factor * min_per_m[r]
            keep = minutes <= cutoff
            parts.append(
                pd.DataFrame(
                    {
                        "demand_id": demand_ids[r[keep]],
                        "site_id": site_ids[c[keep]],
                        "travel_min": minutes[keep],
                    }
                )
            )
        if progress is not None:
            progress(1.0, MsgStr("progress.estimating_straight_line"))
    else:  # every pair (p-median / p-center in estimated mode): dense, by demand chunks
        chunk = max(1, _PAIRS_PER_CHUNK // max(len(sites), 1))
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
                progress(stop / max(len(demand), 1), MsgStr("progress.estimating_straight_line"))
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
