"""Plumbing of the planners' file readers: problem collection, numbers, coordinates, counties.

Shared by :mod:`~planning.inputs.facilities` and :mod:`~planning.inputs.patients`; every
problem is collected with its row (as Excel shows it, header = row 1) and column, so a file is
reported whole at once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from planning.errors import DataError, PlanningWarning
from planning.i18n import Msg
from planning.inputs.columns import (
    KIND_FIELDS,
    TableKind,
    coordinate_hint,
    guess_columns,
)
from planning.inputs.coords import CoordinateSystem, is_wgs84_like, transform_to_wgs84
from planning.inputs.read import (
    InputFileError,
    Problem,
    Source,
    fail,
    read_table,
)

FloatArray = npt.NDArray[np.float64]


BoolArray = npt.NDArray[np.bool_]


CHINA_BOUNDS = (73.0, 3.5, 135.5, 54.0)
"""(lon_min, lat_min, lon_max, lat_max) in degrees: mainland China, Hainan and the South China
Sea islands. Points outside are refused; latitudes (< 54) and longitudes (> 73) of China never
overlap, which makes swapped columns detectable."""


REGION_TOLERANCE_M = 1000.0
"""Points this close (metres) outside the region's boundary still count as inside (coastlines
and simplified boundaries); they are assigned to the nearest county."""


_FIELD_LABELS = {
    "id": "编号/id",
    "name": "名称/name",
    "type": "类型/type",
    "lon": "经度/lon",
    "lat": "纬度/lat",
    "capacity": "容量/capacity",
    "address": "地址/address",
    "county": "区县/county",
    "count": "人数/count",
}


Bounds = tuple[float, float, float, float]
"""(lon_min, lat_min, lon_max, lat_max) in degrees."""


def _in_china(x: FloatArray, y: FloatArray, bounds: Bounds = CHINA_BOUNDS) -> BoolArray:
    lon0, lat0, lon1, lat1 = bounds
    with np.errstate(invalid="ignore"):
        return np.asarray((x >= lon0) & (x <= lon1) & (y >= lat0) & (y <= lat1))


# ------------------------------------------------------------------------------ helpers
class _Collector:
    """Collect problems and warnings for one file."""

    def __init__(self, file: str, row_label: str) -> None:
        self.file = file
        self.row_label = row_label
        self.problems: list[Problem] = []
        self.notes: list[Msg] = []

    def add(self, row: int | None, column: str | None, message: Msg) -> None:
        self.problems.append(Problem(self.file, row, column, message, self.row_label))

    def raise_if_any(self, error: type[InputFileError] = InputFileError) -> None:
        if self.problems:
            raise error(self.file, self.problems)

    def warn_all(self) -> None:
        for note in self.notes:
            warnings.warn(PlanningWarning(note.key, **note.params), stacklevel=3)


def _rows_text(rows: Sequence[int], label: str, *, limit: int = 15) -> Msg:
    """``rows 3, 4 and 2 more`` (``label`` ``"row"`` or ``"feature"``), not yet rendered."""
    shown = ", ".join(map(str, rows[:limit]))
    more: Msg | str = Msg("files.rows_more", n=len(rows) - limit) if len(rows) > limit else ""
    if label == "feature":
        if len(rows) > 1:
            return Msg("files.features_listed", rows=shown, more=more)
        return Msg("files.feature_listed", rows=shown, more=more)
    if len(rows) > 1:
        return Msg("files.rows_listed", rows=shown, more=more)
    return Msg("files.row_listed", rows=shown, more=more)


def _as_frame(source: Source | pd.DataFrame, filename: str | None, max_bytes: int) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.attrs = dict(source.attrs)
        frame.attrs["file"] = filename or source.attrs.get("file", "table")
        if not (frame.index.name == "row" and pd.api.types.is_integer_dtype(frame.index)):
            frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
        if frame.empty:
            raise fail(frame.attrs["file"], Msg("files.table_no_rows"))
        return frame
    return read_table(source, filename=filename, max_bytes=max_bytes)


def _mapping(
    frame: pd.DataFrame, kind: TableKind, column_map: dict[str, str] | None, col: _Collector
) -> dict[str, str | None]:
    mapping = guess_columns(frame, kind=kind)
    if column_map:
        headers = [str(c) for c in frame.columns]
        for key, header in column_map.items():
            if key not in KIND_FIELDS[kind]:
                allowed = ", ".join(KIND_FIELDS[kind])
                col.add(None, None, Msg("files.column_map_key", key=key, allowed=allowed))
            elif header is not None and str(header) not in headers:
                msg = Msg(
                    "files.column_map_header",
                    header=header,
                    key=key,
                    headers=", ".join(map(repr, headers)),
                )
                col.add(None, str(header), msg)
            else:
                for other, h in list(mapping.items()):
                    if h is not None and h == header and other != key:
                        mapping[other] = None
                mapping[key] = None if header is None else str(header)
    return mapping


def _missing_column(col: _Collector, field: str, frame: pd.DataFrame) -> None:
    headers = ", ".join(repr(str(c)) for c in frame.columns if str(c) != "geometry")
    msg = Msg(
        "files.column_missing",
        label=_FIELD_LABELS[field],
        headers=headers or Msg("files.none"),
        rename_to=_FIELD_LABELS[field].split("/")[0],
        field=field,
    )
    col.add(None, None, msg)


_MISSING = object()


def _number(value: Any) -> float | object | None:  # noqa: PLR0911
    """Parse a number cell: float, ``None`` when empty, ``_MISSING``-like marker when invalid."""
    if value is None or isinstance(value, bool):
        return None if value is None else _MISSING
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        if math.isnan(f):
            return None
        return f if math.isfinite(f) else _MISSING
    if isinstance(value, dt.date | dt.datetime | dt.time | pd.Timestamp):
        return _MISSING
    text = unicodedata.normalize("NFKC", str(value)).strip().rstrip("°").strip()
    if not text or text.lower() in {"nan", "na", "n/a", "none", "null", "-", "—"}:
        return None
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        return _MISSING
    f = float(text)
    return f if math.isfinite(f) else _MISSING


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 30 else text[:27] + "...")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip()


def _numbers(
    frame: pd.DataFrame,
    header: str,
    col: _Collector,
    *,
    what: Msg,
    hint: Msg,
    show_values: bool,
    required: bool,
) -> FloatArray:
    out = np.full(len(frame), np.nan)
    for i, (row, value) in enumerate(zip(frame.index, frame[header], strict=True)):
        parsed = _number(value)
        if parsed is None:
            if required:
                col.add(int(row), header, Msg("files.cell_empty", what=what, hint=hint))
        elif parsed is _MISSING:
            if show_values:
                msg = Msg("files.value_not_number", value=_shown(value), hint=hint)
            else:
                msg = Msg("files.cell_not_number", hint=hint)
            col.add(int(row), header, msg)
        else:
            out[i] = float(parsed)  # type: ignore[arg-type]
    return out


# ---------------------------------------------------------------------------- coordinates
def _geometry_xy(
    frame: gpd.GeoDataFrame, system: CoordinateSystem, col: _Collector
) -> tuple[FloatArray, FloatArray, CoordinateSystem]:
    """Point coordinates of a spatial file and the coordinate system they are in."""
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for row in frame.index[missing]:
        col.add(int(row), None, Msg("files.feature_no_geometry"))
    points = np.array(geoms, dtype=object)
    not_point = ~missing & (shapely.get_type_id(geoms) != 0)
    if not_point.any():
        points[not_point] = shapely.point_on_surface(geoms[not_point])
        col.notes.append(Msg("files.not_points", file=col.file, n=int(not_point.sum())))
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    ok = ~missing
    if ok.any():
        x[ok] = shapely.get_x(points[ok])
        y[ok] = shapely.get_y(points[ok])
    file_crs = frame.crs
    if file_crs is None:
        return x, y, system
    file_crs = CRS.from_user_input(file_crs)
    name = f"EPSG:{file_crs.to_epsg()}" if file_crs.to_epsg() else file_crs.name
    if system.crs is None and is_wgs84_like(file_crs):
        return x, y, system  # declared WGS-84; an AMap/Baidu offset may still apply
    if system.crs is None and system.offset == "wgs84" and file_crs.is_geographic:
        return x, y, CoordinateSystem(label=name, offset=None, crs=file_crs)
    if system.crs is not None and system.crs.equals(file_crs, ignore_axis_order=True):
        return x, y, system
    msg = Msg("files.crs_contradicts_file", name=name, full=file_crs.name, given=system.shown)
    raise fail(col.file, msg)


def _finish_xy(
    x: FloatArray,
    y: FloatArray,
    rows_in: Sequence[int],
    system: CoordinateSystem,
    col: _Collector,
    *,
    lon_col: str | None,
    lat_col: str | None,
    show_values: bool,
    bounds: Bounds = CHINA_BOUNDS,
) -> tuple[FloatArray, FloatArray]:
    """Check ranges, detect swapped columns, convert to WGS-84. NaN marks unusable rows."""
    rows = np.asarray(rows_in, dtype=np.int64)
    valid = np.isfinite(x) & np.isfinite(y)
    if system.geographic:
        inside = _in_china(x, y, bounds)
        swapped = valid & ~inside & _in_china(y, x, bounds)
        metres = valid & ~swapped & ((np.abs(x) > 180) | (np.abs(y) > 90))
        for r in rows[metres]:
            col.add(int(r), lon_col, Msg("files.metres_not_degrees"))
        usable = valid & ~metres
        if swapped.any() and swapped.sum() == usable.sum():
            x, y = np.where(valid, y, x), np.where(valid, x, y)
            col.notes.append(
                Msg("files.columns_swapped", file=col.file, lon=lon_col or "x", lat=lat_col or "y")
            )
        elif swapped.any():
            for r, xi, yi in zip(rows[swapped], x[swapped], y[swapped], strict=True):
                vals = f" ({lon_col}={xi:g}, {lat_col}={yi:g})" if show_values else ""
                col.add(int(r), lon_col, Msg("files.row_swapped", values=vals))
            valid = valid & ~swapped
        outside = valid & ~metres & ~_in_china(x, y, bounds)
        for r, xi, yi in zip(rows[outside], x[outside], y[outside], strict=True):
            vals = f" (lon {xi:g}, lat {yi:g})" if show_values else ""
            col.add(int(r), lon_col, Msg("files.outside_china", values=vals))
        valid = valid & ~metres & ~outside
    elif valid.any() and _in_china(x[valid], y[valid], bounds).all():
        col.add(None, lon_col, Msg("files.degrees_not_metres", system=system.shown))
        valid = np.zeros(len(x), dtype=bool)
    lon = np.full(len(x), np.nan)
    lat = np.full(len(x), np.nan)
    if valid.any():
        lon[valid], lat[valid] = transform_to_wgs84(x[valid], y[valid], system)
    if not system.geographic:
        outside = valid & ~_in_china(lon, lat, bounds)
        if outside.any() and outside.sum() == valid.sum():
            # Chinese survey tables often name northing X and easting Y (Gauss-Kruger usage).
            s_lon, s_lat = transform_to_wgs84(y[valid], x[valid], system)
            if _in_china(s_lon, s_lat, bounds).all():
                lon[valid], lat[valid] = s_lon, s_lat
                outside = valid & ~_in_china(lon, lat, bounds)
                col.notes.append(
                    Msg(
                        "files.northing_easting",
                        file=col.file,
                        x=lon_col or "x",
                        y=lat_col or "y",
                        system=system.shown,
                    )
                )
        for r in rows[outside]:
            col.add(int(r), lon_col, Msg("files.converted_outside_china", system=system.shown))
        lon[outside] = np.nan
        lat[outside] = np.nan
    return lon, lat


def _coordinates(
    frame: pd.DataFrame,
    mapping: dict[str, str | None],
    system: CoordinateSystem,
    col: _Collector,
    *,
    show_values: bool,
    bounds: Bounds = CHINA_BOUNDS,
) -> tuple[FloatArray, FloatArray]:
    """WGS-84 lon/lat per row (NaN where a problem was recorded)."""
    rows = [int(r) for r in frame.index]
    if isinstance(frame, gpd.GeoDataFrame):
        x, y, system = _geometry_xy(frame, system, col)
        return _finish_xy(
            x,
            y,
            rows,
            system,
            col,
            lon_col=None,
            lat_col=None,
            show_values=show_values,
            bounds=bounds,
        )
    lon_col, lat_col = mapping["lon"], mapping["lat"]
    assert lon_col is not None  # noqa: S101  (checked by callers)
    assert lat_col is not None  # noqa: S101
    for header in (lon_col, lat_col):
        hinted = coordinate_hint(header)
        if hinted and system.offset is not None and hinted != system.offset:
            col.notes.append(
                Msg(
                    "files.header_suggests_crs",
                    file=col.file,
                    header=header,
                    hinted=hinted.upper(),
                    system=system.shown,
                    crs=hinted,
                )
            )
            break
    hint = Msg("files.hint_degrees")
    if not system.geographic:
        hint = Msg("files.hint_metres", system=system.shown)
    x = _numbers(
        frame,
        lon_col,
        col,
        what=Msg("files.what_longitude"),
        hint=hint,
        show_values=show_values,
        required=True,
    )
    y = _numbers(
        frame,
        lat_col,
        col,
        what=Msg("files.what_latitude"),
        hint=hint,
        show_values=show_values,
        required=True,
    )
    return _finish_xy(
        x,
        y,
        rows,
        system,
        col,
        lon_col=lon_col,
        lat_col=lat_col,
        show_values=show_values,
        bounds=bounds,
    )


# --------------------------------------------------------------------------------- region
def _region(region: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if region is None:
        return None
    if not isinstance(region, gpd.GeoDataFrame) or region.crs is None:
        raise DataError("files.region_invalid")
    out = region[["geometry"]].to_crs("EPSG:4326") if region.crs != "EPSG:4326" else region
    return gpd.GeoDataFrame(
        {
            "county_id": [str(i) for i in out.index],
            "county_name": region["name"].astype(str).to_numpy()
            if "name" in region.columns
            else [str(i) for i in out.index],
        },
        geometry=out.geometry.to_numpy(),
        crs="EPSG:4326",
    )


def _locate(lon: FloatArray, lat: FloatArray, region: gpd.GeoDataFrame) -> list[str | None]:
    """County id of each point (within, or within REGION_TOLERANCE_M of, a county)."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    found: list[str | None] = [None] * len(pts)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return found
    sub = pts[ok]
    joined = gpd.sjoin(sub, region, how="left", predicate="within")
    first = joined[~joined.index.duplicated()]["county_id"]
    for i, cid in first.items():
        found[int(i)] = None if pd.isna(cid) else str(cid)
    left = [i for i in sub.index if found[int(i)] is None]
    if left:
        utm = region.estimate_utm_crs()
        near = gpd.sjoin_nearest(
            pts.loc[left].to_crs(utm),
            region.to_crs(utm),
            how="left",
            max_distance=REGION_TOLERANCE_M,
        )
        near = near[~near.index.duplicated()]["county_id"]
        for i, cid in near.items():
            found[int(i)] = None if pd.isna(cid) else str(cid)
    return found


def _strip_suffix(name: str) -> str:
    for suffix in ("自治县", "区", "县", "市", "旗"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _county_code(value: Any, region: gpd.GeoDataFrame | None) -> str | None:
    text = _text(value)
    if not text:
        return None
    if re.fullmatch(r"\d{6}", text):
        return text
    if region is not None:
        for cid, name in zip(region["county_id"], region["county_name"], strict=True):
            if text in (name, cid) or _strip_suffix(text) == _strip_suffix(name):
                return str(cid)
    return None
