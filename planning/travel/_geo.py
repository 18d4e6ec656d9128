"""Plumbing shared by the travel steps: WGS-84 checks and point coordinates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt

from planning.errors import DataError
from planning.i18n import Msg

FloatArray = npt.NDArray[np.float64]


def require_wgs84(frame: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str | Msg) -> None:
    """Raise :class:`~planning.errors.DataError` unless ``frame`` is WGS-84 lon/lat."""
    if frame.crs is None or not frame.crs.equals("EPSG:4326"):
        raise DataError("travel.not_wgs84", name=name, crs=str(frame.crs))


def lonlat(points: gpd.GeoDataFrame, *, name: str | Msg) -> tuple[FloatArray, FloatArray]:
    """Longitudes and latitudes of ``points`` (representative points of polygons)."""
    require_wgs84(points, name=name)
    geom = points.geometry
    if len(geom) and not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return geom.x.to_numpy(dtype=np.float64), geom.y.to_numpy(dtype=np.float64)
