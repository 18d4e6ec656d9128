"""Load planners' own inputs: facility lists and patient counts (trustworthy inputs, issue #7).

Planners bring Excel tables, often with coordinates copied from AMap (GCJ-02) or Baidu (BD-09).
This module accepts what they really have and refuses what is wrong with messages that name the
file, the row (as Excel shows it, header = row 1), the column and what to do. All problems of a
file are reported at once in one :class:`InputFileError` (a
:class:`~planning.errors.DataError`) whose ``problems`` attribute lists them for the app.

Formats: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030), XLSX (stored values only; formulas are never
calculated), GeoJSON, GeoPackage and zipped shapefiles; see :func:`read_table` for the safety
checks (size limit, zip traversal/bomb checks).

Coordinate systems (``crs``): ``"wgs84"`` (GPS, OpenStreetMap), ``"gcj02"`` (AMap/高德, Tencent),
``"bd09"`` (Baidu/百度), ``"cgcs2000"`` and ``"EPSG:<code>"`` (e.g. projected Gauss-Kruger
coordinates in metres, ``EPSG:4547``). CGCS2000 (EPSG:4490) is used as WGS-84 unchanged: the
two differ by a few centimetres, far below planning accuracy. Everything returned is WGS-84
(EPSG:4326).

Privacy: patient files must hold counts (per county or per place). Person-level lists (one row
per patient, such as a place table whose every count is 1, or identifying columns such as
姓名/身份证/电话/出生日期/病历号/住址) are refused at once with :class:`PersonLevelDataError`;
nothing from them is kept, logged or written, and the message never repeats a cell value. Counts
stay exact in memory for planning; anything shown goes through
:meth:`PatientCounts.display_table` (counts below the threshold appear as "<5").
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from planning import coords
from planning.errors import DataError
from planning.io_columns import (
    FACILITY_TYPES,
    KIND_FIELDS,
    TableKind,
    canonical_type,
    coordinate_hint,
    guess_columns,
    normalise_header,
)
from planning.io_read import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNZIPPED_BYTES,
    InputFileError,
    Problem,
    Source,
    check_zip_members,
    decode_text,
    detect_format,
    fail,
    format_problems,
    read_table,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_UNZIPPED_BYTES",
    "FACILITY_TYPES",
    "CoordinateSystem",
    "InputFileError",
    "PatientCounts",
    "PersonLevelDataError",
    "Problem",
    "canonical_type",
    "check_zip_members",
    "decode_text",
    "detect_format",
    "escape_formulas",
    "format_problems",
    "guess_columns",
    "load_facilities",
    "load_patient_counts",
    "parse_crs",
    "read_table",
]

logger = logging.getLogger(__name__)

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


class PersonLevelDataError(InputFileError):
    """A patient file holds person-level rows; it was refused and nothing of it was kept."""


# ----------------------------------------------------------------------- coordinate systems
@dataclass(frozen=True)
class CoordinateSystem:
    """A parsed ``crs`` option.

    Attributes
    ----------
    label
        Human name used in messages.
    offset
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` for longitude/latitude input handled by
        :mod:`planning.coords`; ``None`` when ``crs`` is used.
    crs
        A pyproj CRS (for ``EPSG:<code>`` other than WGS-84/CGCS2000), else ``None``.
    """

    label: str
    offset: coords.CoordSystem | None
    crs: CRS | None = None

    @property
    def geographic(self) -> bool:
        """True when coordinates are longitude/latitude degrees."""
        return self.crs is None or bool(self.crs.is_geographic)


_ALIASES: dict[str, tuple[str, coords.CoordSystem]] = {
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
        return CoordinateSystem(label=label, offset=offset)
    match = re.fullmatch(r"(?:epsg:?\s*)?(\d{4,6})", key)
    if match:
        try:
            parsed = CRS.from_epsg(int(match.group(1)))
        except CRSError:
            msg = f"EPSG:{match.group(1)} is not a known coordinate system; check the code."
            raise fail(file, msg) from None
        return CoordinateSystem(
            label=f"EPSG:{match.group(1)} ({parsed.name})", offset=None, crs=parsed
        )
    msg = (
        f"unknown coordinate system {crs!r}. Use 'wgs84' (GPS, OpenStreetMap), 'gcj02' "
        "(AMap/高德, Tencent), 'bd09' (Baidu/百度), 'cgcs2000', or 'EPSG:<code>' for "
        "projected coordinates in metres (e.g. 'EPSG:4547')."
    )
    raise fail(file, msg)


def _wgs_like(crs: CRS) -> bool:
    epsg = crs.to_epsg(min_confidence=70)
    return epsg in {4326, 4490} or bool(crs.equals(CRS.from_epsg(4326), ignore_axis_order=True))


def _transform(
    x: FloatArray, y: FloatArray, system: CoordinateSystem
) -> tuple[FloatArray, FloatArray]:
    if system.crs is None:
        assert system.offset is not None  # noqa: S101  (by construction)
        return coords.to_wgs84(x, y, source=system.offset)
    transformer = Transformer.from_crs(system.crs, "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _in_china(x: FloatArray, y: FloatArray) -> BoolArray:
    lon0, lat0, lon1, lat1 = CHINA_BOUNDS
    with np.errstate(invalid="ignore"):
        return np.asarray((x >= lon0) & (x <= lon1) & (y >= lat0) & (y <= lat1))


# ------------------------------------------------------------------------------ helpers
class _Collector:
    """Collect problems and warnings for one file."""

    def __init__(self, file: str, row_label: str) -> None:
        self.file = file
        self.row_label = row_label
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, row, column, message, self.row_label))

    def raise_if_any(self, error: type[InputFileError] = InputFileError) -> None:
        if self.problems:
            raise error(self.file, self.problems)

    def warn_all(self) -> None:
        for note in self.notes:
            warnings.warn(note, UserWarning, stacklevel=3)


def _rows_text(rows: Sequence[int], label: str, *, limit: int = 15) -> str:
    shown = ", ".join(map(str, rows[:limit]))
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{label}{'s' if len(rows) > 1 else ''} {shown}{more}"


def _as_frame(source: Source | pd.DataFrame, filename: str | None, max_bytes: int) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.attrs = dict(source.attrs)
        frame.attrs["file"] = filename or source.attrs.get("file", "table")
        if not (frame.index.name == "row" and pd.api.types.is_integer_dtype(frame.index)):
            frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
        if frame.empty:
            raise fail(frame.attrs["file"], "the table has no rows.")
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
                col.add(None, None, f"column_map key {key!r} is not one of: {allowed}.")
            elif header is not None and str(header) not in headers:
                col.add(
                    None,
                    str(header),
                    f"column_map names {header!r} for {key!r}, but the file has no such "
                    f"column (it has {', '.join(map(repr, headers))}).",
                )
            else:
                for other, h in list(mapping.items()):
                    if h is not None and h == header and other != key:
                        mapping[other] = None
                mapping[key] = None if header is None else str(header)
    return mapping


def _missing_column(col: _Collector, field: str, frame: pd.DataFrame) -> None:
    headers = ", ".join(repr(str(c)) for c in frame.columns if str(c) != "geometry")
    col.add(
        None,
        None,
        f"no {_FIELD_LABELS[field]} column found (the columns are {headers or 'none'}). "
        f"Rename the column to {_FIELD_LABELS[field].split('/')[0]!r}, or choose it in the "
        f"column mapping (column_map={{{field!r}: '<header>'}}).",
    )


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
    what: str,
    hint: str,
    show_values: bool,
    required: bool,
) -> FloatArray:
    out = np.full(len(frame), np.nan)
    for i, (row, value) in enumerate(zip(frame.index, frame[header], strict=True)):
        parsed = _number(value)
        if parsed is None:
            if required:
                col.add(int(row), header, f"the {what} is empty: {hint}, or delete the row.")
        elif parsed is _MISSING:
            got = f"{_shown(value)} is" if show_values else "the cell is"
            col.add(int(row), header, f"{got} not a number: {hint}.")
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
        col.add(int(row), None, "the feature has no geometry (location): add one or delete it.")
    points = np.array(geoms, dtype=object)
    not_point = ~missing & (shapely.get_type_id(geoms) != 0)
    if not_point.any():
        points[not_point] = shapely.point_on_surface(geoms[not_point])
        col.notes.append(
            f"{col.file}: {int(not_point.sum())} feature(s) are not points (polygons or lines); "
            "a point inside each is used as its location."
        )
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
    if system.crs is None and _wgs_like(file_crs):
        return x, y, system  # declared WGS-84; an AMap/Baidu offset may still apply
    if system.crs is None and system.offset == "wgs84" and file_crs.is_geographic:
        return x, y, CoordinateSystem(label=name, offset=None, crs=file_crs)
    if system.crs is not None and system.crs.equals(file_crs, ignore_axis_order=True):
        return x, y, system
    msg = (
        f"the file stores its coordinates in {name} ({file_crs.name}), but the coordinate "
        f"system given is {system.label}. Choose '{name}' as the coordinate system to use the "
        "file's own (it is converted to WGS-84), or re-export the file in EPSG:4326 (WGS-84)."
    )
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
) -> tuple[FloatArray, FloatArray]:
    """Check ranges, detect swapped columns, convert to WGS-84. NaN marks unusable rows."""
    rows = np.asarray(rows_in, dtype=np.int64)
    valid = np.isfinite(x) & np.isfinite(y)
    if system.geographic:
        inside = _in_china(x, y)
        swapped = valid & ~inside & _in_china(y, x)
        metres = valid & ~swapped & ((np.abs(x) > 180) | (np.abs(y) > 90))
        for r in rows[metres]:
            col.add(
                int(r),
                lon_col,
                "the coordinates look like metres of a projected coordinate system, not "
                "degrees. Choose the file's EPSG code as the coordinate system (e.g. "
                "'EPSG:4547'), or enter longitude/latitude in decimal degrees.",
            )
        usable = valid & ~metres
        if swapped.any() and swapped.sum() == usable.sum():
            x, y = np.where(valid, y, x), np.where(valid, x, y)
            col.notes.append(
                f"{col.file}: the longitude and latitude columns ({lon_col or 'x'} / "
                f"{lat_col or 'y'}) look swapped (latitudes in China are below 54, longitudes "
                "above 73); they were swapped back. Rename the headers to silence this warning."
            )
        elif swapped.any():
            for r, xi, yi in zip(rows[swapped], x[swapped], y[swapped], strict=True):
                vals = f" ({lon_col}={xi:g}, {lat_col}={yi:g})" if show_values else ""
                col.add(
                    int(r),
                    lon_col,
                    f"longitude and latitude look swapped{vals}: swap the two values in this row.",
                )
            valid = valid & ~swapped
        outside = valid & ~metres & ~_in_china(x, y)
        for r, xi, yi in zip(rows[outside], x[outside], y[outside], strict=True):
            vals = f" (lon {xi:g}, lat {yi:g})" if show_values else ""
            col.add(
                int(r),
                lon_col,
                f"the point{vals} is outside China: check the sign, the decimal point and "
                "that longitude and latitude are in the right columns.",
            )
        valid = valid & ~metres & ~outside
    elif valid.any() and _in_china(x[valid], y[valid]).all():
        col.add(
            None,
            lon_col,
            f"the coordinates look like longitude/latitude degrees, but the coordinate system "
            f"given is {system.label} (metres). Choose 'wgs84', 'gcj02' or 'bd09' instead.",
        )
        valid = np.zeros(len(x), dtype=bool)
    lon = np.full(len(x), np.nan)
    lat = np.full(len(x), np.nan)
    if valid.any():
        lon[valid], lat[valid] = _transform(x[valid], y[valid], system)
    if not system.geographic:
        outside = valid & ~_in_china(lon, lat)
        if outside.any() and outside.sum() == valid.sum():
            # Chinese survey tables often name northing X and easting Y (Gauss-Kruger usage).
            s_lon, s_lat = _transform(y[valid], x[valid], system)
            if _in_china(s_lon, s_lat).all():
                lon[valid], lat[valid] = s_lon, s_lat
                outside = valid & ~_in_china(lon, lat)
                col.notes.append(
                    f"{col.file}: the columns {lon_col or 'x'} / {lat_col or 'y'} hold northing / "
                    f"easting (the surveying convention X = north); they were read the other "
                    f"way round for {system.label}."
                )
        for r in rows[outside]:
            col.add(
                int(r),
                lon_col,
                f"after conversion from {system.label} the point is outside China: check the "
                "EPSG code and that x (easting) and y (northing) are not swapped.",
            )
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
) -> tuple[FloatArray, FloatArray]:
    """WGS-84 lon/lat per row (NaN where a problem was recorded)."""
    rows = [int(r) for r in frame.index]
    if isinstance(frame, gpd.GeoDataFrame):
        x, y, system = _geometry_xy(frame, system, col)
        return _finish_xy(
            x, y, rows, system, col, lon_col=None, lat_col=None, show_values=show_values
        )
    lon_col, lat_col = mapping["lon"], mapping["lat"]
    assert lon_col is not None  # noqa: S101  (checked by callers)
    assert lat_col is not None  # noqa: S101
    for header in (lon_col, lat_col):
        hinted = coordinate_hint(header)
        if hinted and system.offset is not None and hinted != system.offset:
            col.notes.append(
                f"{col.file}: the header {header!r} suggests {hinted.upper()} coordinates, "
                f"but the coordinate system given is {system.label}. If the points were "
                f"copied from that map, load the file with crs={hinted!r}."
            )
            break
    hint = "enter decimal degrees such as 119.0071 (not degrees/minutes/seconds)"
    if not system.geographic:
        hint = f"enter the coordinate in metres of {system.label}"
    x = _numbers(
        frame, lon_col, col, what="longitude", hint=hint, show_values=show_values, required=True
    )
    y = _numbers(
        frame, lat_col, col, what="latitude", hint=hint, show_values=show_values, required=True
    )
    return _finish_xy(
        x, y, rows, system, col, lon_col=lon_col, lat_col=lat_col, show_values=show_values
    )


# --------------------------------------------------------------------------------- region
def _region(region: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if region is None:
        return None
    if not isinstance(region, gpd.GeoDataFrame) or region.crs is None:
        msg = (
            "region must be the counties GeoDataFrame (index county_id) with a CRS, as "
            "returned by planning.data.load_counties."
        )
        raise DataError(msg)
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


# ----------------------------------------------------------------------------- facilities
def load_facilities(
    source: Source | pd.DataFrame,
    *,
    filename: str | None = None,
    crs: str = "wgs84",
    region: gpd.GeoDataFrame | None = None,
    column_map: dict[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> gpd.GeoDataFrame:
    """Load a planner's facility list (existing rehab sites, hospitals, candidate buildings).

    Parameters
    ----------
    source
        Path, bytes (an app upload), binary file object, or a frame from :func:`read_table`.
        CSV/XLSX need name and longitude/latitude columns (Chinese or English headers, see
        :func:`guess_columns`); GeoJSON/GeoPackage/zipped shapefiles take the locations from
        their geometry (polygons: a point inside each, with a warning).
    filename
        Name used in messages and to recognise the format of bytes.
    crs
        Coordinate system of the coordinates: ``"wgs84"``, ``"gcj02"`` (AMap), ``"bd09"``
        (Baidu), ``"cgcs2000"`` (used as WGS-84) or ``"EPSG:<code>"`` (projected metres). For a
        spatial file that declares its own CRS, ``crs`` must agree with it, except that a
        file declared as WGS-84 may hold AMap/Baidu coordinates (``crs="gcj02"``/``"bd09"``).
    region
        Counties layer (index ``county_id``, column ``name``). Facilities outside it (more
        than 1 km from every county) are left out with a UserWarning listing their rows;
        ``county`` is then the county each facility lies in.
    column_map
        Canonical name (``id``, ``name``, ``type``, ``lon``, ``lat``, ``capacity``,
        ``address``, ``county``) -> header, overriding the guessed columns.
    max_bytes
        Largest file accepted, in bytes.

    Returns
    -------
    facilities
        GeoDataFrame in EPSG:4326, index ``facility_id`` (the file's id column as text, else
        ``"F0001"``, ``"F0002"``, ... in file order), columns ``name``, ``type`` (one of
        :data:`FACILITY_TYPES`; unrecognised types become ``"other"``), ``type_original``
        (the text in the file), ``capacity`` (float, NaN when unknown), ``address``,
        ``county`` (adcode text or NaN), ``source_row`` (row in the file), geometry Point.

    Raises
    ------
    InputFileError
        A :class:`~planning.errors.DataError` listing every problem (file, row, column,
        what to do): unreadable or unsafe file, missing columns, empty names, text in numbers,
        missing or out-of-China coordinates, partly swapped lon/lat, duplicate ids, duplicate
        facilities, negative capacities, a CRS that contradicts the file's own, or no facility
        inside the region.

    Warns
    -----
    UserWarning
        Swapped lon/lat columns (fixed), points outside the region (left out), a header naming
        another coordinate system than ``crs``, no type column (all ``"other"``), non-point
        geometries.
    """
    frame = _as_frame(source, filename, max_bytes)
    file = str(frame.attrs.get("file", filename or "table"))
    col = _Collector(file, str(frame.attrs.get("row_label", "row")))
    system = parse_crs(crs, file=file)
    regions = _region(region)
    mapping = _mapping(frame, "facilities", column_map, col)
    spatial = isinstance(frame, gpd.GeoDataFrame)
    for field in ("name",) if spatial else ("name", "lon", "lat"):
        if mapping[field] is None:
            _missing_column(col, field, frame)
    col.raise_if_any()
    rows = [int(r) for r in frame.index]
    lon, lat = _coordinates(frame, mapping, system, col, show_values=True)

    name_col = mapping["name"]
    assert name_col is not None  # noqa: S101
    names = [_text(v) for v in frame[name_col]]
    for r, n in zip(rows, names, strict=True):
        if not n:
            col.add(r, name_col, "the name is empty: give every facility a name.")
    if mapping["id"] is not None:
        id_col = mapping["id"]
        ids = [_text(v) for v in frame[id_col]]
        first_seen: dict[str, int] = {}
        for r, i in zip(rows, ids, strict=True):
            if not i:
                col.add(r, id_col, "the id is empty: give every facility its own id.")
            elif i in first_seen:
                col.add(
                    r,
                    id_col,
                    f"the id {i!r} is also used in row {first_seen[i]}: "
                    "give every facility its own id.",
                )
            else:
                first_seen[i] = r
    else:
        width = max(4, len(str(len(rows))))
        ids = [f"F{k:0{width}d}" for k in range(1, len(rows) + 1)]
        seen: dict[tuple[str, float, float], int] = {}
        for r, n, x, y in zip(rows, names, lon, lat, strict=True):
            if n and np.isfinite(x):
                key = (n, round(float(x), 6), round(float(y), 6))
                if key in seen:
                    col.add(
                        r,
                        name_col,
                        f"same name and location as row {seen[key]}: delete the duplicate row.",
                    )
                else:
                    seen[key] = r
    capacity = np.full(len(rows), np.nan)
    if mapping["capacity"] is not None:
        capacity = _numbers(
            frame,
            mapping["capacity"],
            col,
            what="capacity",
            hint="enter the number of places, such as 20 (leave it empty if unknown; no units)",
            show_values=True,
            required=False,
        )
        for r, c in zip(rows, capacity, strict=True):
            if c < 0:
                col.add(
                    r,
                    mapping["capacity"],
                    f"the capacity {c:g} is negative: enter the "
                    "number of places, or leave it empty if unknown.",
                )
    col.raise_if_any()

    if mapping["type"] is not None:
        original = [_text(v) for v in frame[mapping["type"]]]
    else:
        original = [""] * len(rows)
        col.notes.append(
            f"{file}: no type column (类型/type); every facility is treated as 'other' (a "
            "candidate). Add a type column to mark existing rehab sites (现有康复站) and "
            "psychiatric hospitals (精神专科医院)."
        )
    types = [canonical_type(t) for t in original]
    unknown = sorted({o for o, t in zip(original, types, strict=True) if t == "other" and o})
    if unknown:
        logger.info("%s: types read as 'other': %s", file, ", ".join(unknown[:10]))
    address = (
        [_text(v) for v in frame[mapping["address"]]] if mapping["address"] else [""] * len(rows)
    )
    county: list[str | None] = (
        [_county_code(v, regions) for v in frame[mapping["county"]]]
        if mapping["county"]
        else [None] * len(rows)
    )
    keep = np.ones(len(rows), dtype=bool)
    if regions is not None:
        located = _locate(lon, lat, regions)
        outside = [i for i, c in enumerate(located) if c is None]
        if len(outside) == len(rows):
            msg = (
                f"none of the {len(rows)} facilities lies in the planning region; check the "
                f"region and the coordinate system (given: {system.label})."
            )
            raise fail(file, msg)
        if outside:
            listed = "; ".join(f"{rows[i]} ({names[i]})" for i in outside[:15])
            more = f" and {len(outside) - 15} more" if len(outside) > 15 else ""
            col.notes.append(
                f"{file}: {len(outside)} facilit{'y' if len(outside) == 1 else 'ies'} outside "
                f"the planning region left out, {col.row_label}s {listed}{more}. Check their "
                "coordinates, or choose a larger region."
            )
            keep[outside] = False
        county = located
    result = gpd.GeoDataFrame(
        {
            "name": names,
            "type": types,
            "type_original": original,
            "capacity": capacity,
            "address": address,
            "county": pd.Series([c or np.nan for c in county], dtype=object).to_numpy(),
            "source_row": rows,
        },
        index=pd.Index(ids, name="facility_id", dtype=object),
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )[keep]
    col.warn_all()
    logger.info(
        "%s: %d facilities loaded (%s)",
        file,
        len(result),
        ", ".join(f"{t} {n}" for t, n in result["type"].value_counts().items()),
    )
    return result


# ---------------------------------------------------------------------------- patients
_IDENTIFYING_ZH = (
    "姓名",
    "身份证",
    "证件",
    "电话",
    "手机",
    "联系方式",
    "出生",
    "生日",
    "病历",
    "住院号",
    "门诊号",
    "医保",
    "社保",
    "监护人",
    "家属",
    "住址",
    "地址",
    "户籍",
    "门牌",
    "邮箱",
)
_IDENTIFYING_EN = {
    "patientname",
    "fullname",
    "firstname",
    "lastname",
    "surname",
    "familyname",
    "givenname",
    "idcard",
    "idno",
    "idnumber",
    "nationalid",
    "identitycard",
    "ssn",
    "phone",
    "phonenumber",
    "mobile",
    "tel",
    "telephone",
    "birth",
    "birthday",
    "birthdate",
    "dob",
    "dateofbirth",
    "medicalrecord",
    "medicalrecordnumber",
    "mrn",
    "recordno",
    "address",
    "homeaddress",
    "email",
    "guardian",
    "insuranceno",
}
_PERSON_HINTS_ZH = ("性别", "年龄", "诊断", "入组", "随访")
_PERSON_HINTS_EN = {"sex", "gender", "age", "diagnosis", "icd", "followup"}
_ID_CARD = re.compile(r"^\d{17}[\dXx]$")
_PHONE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")


def _identifying_columns(frame: pd.DataFrame) -> list[str]:
    found = []
    for c in frame.columns:
        if str(c) == "geometry":
            continue
        norm = normalise_header(c)
        if any(k in norm for k in _IDENTIFYING_ZH) or norm in _IDENTIFYING_EN:
            found.append(str(c))
            continue
        values = frame[c]
        if (
            values.dtype == object
            or pd.api.types.is_string_dtype(values)
            or pd.api.types.is_integer_dtype(values)
        ):
            sample = [_text(v) for v in values.iloc[:5000]]
            if any(_ID_CARD.match(s) or _PHONE.match(s) for s in sample):
                found.append(str(c))
    return found


def _person_hints(frame: pd.DataFrame) -> list[str]:
    out = []
    for c in frame.columns:
        norm = normalise_header(c)
        if any(k in norm for k in _PERSON_HINTS_ZH) or norm in _PERSON_HINTS_EN:
            out.append(str(c))
    return out


_AGGREGATE_HOWTO = (
    "Kangle Planner only takes counts of patients per county (columns 区县, 人数) or per place "
    "(经度, 纬度, 人数), never one row per patient. Summarise the list first (e.g. an Excel "
    "PivotTable: 区县 as rows, count of patients as values), save only the summary and load "
    "that. Nothing from this file was kept."
)


@dataclass(frozen=True, eq=False, repr=False)
class PatientCounts:
    """Known patient counts, by county and/or at points; exact in memory, suppressed on display.

    Attributes
    ----------
    by_county
        Patients by ``county_id`` (adcode text index, float values), or ``None``.
    points
        Aggregated counts at places (index ``point_id``; columns ``count`` float, ``county``
        when a region was given; geometry Point, EPSG:4326), or ``None``.
    privacy_threshold
        Counts above 0 and below this are shown as ``"<N"`` by :meth:`display_table`.
    file
        Source file name.
    """

    by_county: pd.Series | None
    points: gpd.GeoDataFrame | None
    privacy_threshold: int = 5
    file: str = ""

    @property
    def total(self) -> float:
        """Total number of patients (exact)."""
        if self.by_county is not None:
            return float(self.by_county.sum())
        if self.points is not None:
            return float(self.points["count"].sum())
        return 0.0

    def display_table(self) -> pd.DataFrame:
        """Return counts safe to show: values above 0 and below the threshold become ``"<N"``.

        Returns
        -------
        table
            By county: index ``county_id``, column ``patients`` (text). Points: index
            ``point_id``, columns ``lon``, ``lat``, ``county`` (if known), ``count`` (text).
        """
        from planning.results import suppress_small  # noqa: PLC0415

        thr = self.privacy_threshold
        if self.by_county is not None:
            return pd.DataFrame({"patients": suppress_small(self.by_county, threshold=thr)})
        if self.points is not None:
            pts = self.points
            table = pd.DataFrame(
                {"lon": pts.geometry.x.round(5), "lat": pts.geometry.y.round(5)}, index=pts.index
            )
            if "county" in pts.columns:
                table["county"] = pts["county"]
            table["count"] = suppress_small(pts["count"], threshold=thr)
            return table
        return pd.DataFrame()

    def __repr__(self) -> str:
        """Summary without small counts."""
        total = self.total
        shown = (
            f"<{self.privacy_threshold}" if 0 < total < self.privacy_threshold else f"{total:,.0f}"
        )
        parts = []
        if self.by_county is not None:
            parts.append(f"{len(self.by_county)} counties")
        if self.points is not None:
            parts.append(f"{len(self.points)} points")
        return f"PatientCounts({', '.join(parts) or 'empty'}, total {shown}, file={self.file!r})"


def load_patient_counts(
    source: Source | pd.DataFrame,
    *,
    filename: str | None = None,
    crs: str = "wgs84",
    region: gpd.GeoDataFrame | None = None,
    column_map: dict[str, str] | None = None,
    privacy_threshold: int = 5,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> PatientCounts:
    """Load known patient counts per county or per place.

    Parameters
    ----------
    source
        Path, bytes, binary file object or a frame from :func:`read_table`. Either a table of
        counties (区县: name or 6-digit adcode) and counts (人数), or of places (经度, 纬度, or
        a spatial file's geometry) and counts.
    filename, crs, column_map, max_bytes
        As for :func:`load_facilities` (``column_map`` keys: ``county``, ``lon``, ``lat``,
        ``count``).
    region
        Counties layer (index ``county_id``, column ``name``). Needed to read county names
        (adcodes work without it); counties/points outside it are left out with a warning
        listing their rows. Places at most ``REGION_TOLERANCE_M`` (1 km) outside it
        (coastlines, simplified boundaries) are kept in the nearest county (column
        ``county``), and :func:`planning.pipeline.prepare` counts them there.
    privacy_threshold
        Counts above 0 and below this are shown as ``"<N"`` (planning uses exact numbers).

    Returns
    -------
    counts
        :class:`PatientCounts` with ``by_county`` (county table) or ``points`` (place table).
        Rows of the same county are summed (with a warning).

    Raises
    ------
    PersonLevelDataError
        The file is a person-level list: identifying columns (姓名, 身份证, 电话, 出生日期,
        病历号, 住址, ...), values shaped like ID-card or mobile numbers, no count column
        but person attributes (性别, 年龄, 诊断), or a place table whose every count is 1
        (one row per patient with its location). Refused at once; no value is repeated in
        the message, logged or kept.
    InputFileError
        Any other problem, all listed at once (cell values are not repeated in messages).
    """
    frame = _as_frame(source, filename, max_bytes)
    file = str(frame.attrs.get("file", filename or "table"))
    col = _Collector(file, str(frame.attrs.get("row_label", "row")))
    identifying = _identifying_columns(frame)
    mapping = _mapping(frame, "patients", column_map, col)
    hints = _person_hints(frame)
    if identifying or (hints and mapping["count"] is None):
        cols = ", ".join(map(repr, identifying or hints))
        msg = f"this looks like a person-level list (column(s) {cols}). {_AGGREGATE_HOWTO}"
        del frame
        raise PersonLevelDataError(file, [Problem(file, None, None, msg)])
    system = parse_crs(crs, file=file)
    regions = _region(region)
    if mapping["count"] is None:
        headers = ", ".join(repr(str(c)) for c in frame.columns if str(c) != "geometry")
        msg = (
            f"no count column (人数/count) found; the columns are {headers}. If each row is "
            f"one patient, the file was refused: {_AGGREGATE_HOWTO} If the file has counts, "
            "name that column 人数 or choose it in the column mapping."
        )
        del frame
        raise PersonLevelDataError(file, [Problem(file, None, None, msg)])
    spatial = isinstance(frame, gpd.GeoDataFrame)
    has_points = spatial or (mapping["lon"] is not None and mapping["lat"] is not None)
    if not has_points and mapping["county"] is None:
        col.add(
            None,
            None,
            "no location: add a county column (区县, name or 6-digit adcode) "
            "or longitude/latitude columns (经度, 纬度).",
        )
    col.raise_if_any()
    rows = [int(r) for r in frame.index]
    count_col = mapping["count"]
    counts = _numbers(
        frame,
        count_col,
        col,
        what="count",
        hint="enter the number of patients as a plain number",
        show_values=False,
        required=True,
    )
    for r, c in zip(rows, counts, strict=True):
        if c < 0:
            col.add(r, count_col, "the count is negative: enter the number of patients.")
    if has_points and len(rows) >= 2 and bool(np.all(counts == 1)):
        # every place holds exactly one patient: a geocoded patient list (one row per person),
        # whose coordinates are home locations; refused like any person-level list
        msg = (
            f"this looks like a person-level list (every row of column {count_col!r} is 1, "
            f"i.e. one row per patient with its location). {_AGGREGATE_HOWTO} Counts per "
            "place must add up the patients of a village, community or grid cell."
        )
        del frame
        raise PersonLevelDataError(file, [Problem(file, None, count_col, msg)])
    if has_points:
        lon, lat = _coordinates(frame, mapping, system, col, show_values=False)
        col.raise_if_any()
        keep = np.ones(len(rows), dtype=bool)
        located: list[str | None] = [None] * len(rows)
        if regions is not None:
            located = _locate(lon, lat, regions)
            outside = [i for i, c in enumerate(located) if c is None]
            if outside:
                col.notes.append(
                    f"{file}: {len(outside)} place(s) outside the planning region left out "
                    f"({_rows_text([rows[i] for i in outside], col.row_label)})."
                )
                keep[outside] = False
        width = max(4, len(str(len(rows))))
        points = gpd.GeoDataFrame(
            {
                "count": counts,
                "county": pd.Series([c or np.nan for c in located], dtype=object).to_numpy(),
            },
            index=pd.Index(
                [f"P{k:0{width}d}" for k in range(1, len(rows) + 1)], name="point_id", dtype=object
            ),
            geometry=gpd.points_from_xy(lon, lat),
            crs="EPSG:4326",
        )[keep]
        if regions is None:
            points = points.drop(columns="county")
        col.warn_all()
        result = PatientCounts(
            by_county=None, points=points, privacy_threshold=privacy_threshold, file=file
        )
        logger.info("%s: patient counts at %d places", file, len(points))
        return result
    county_col = mapping["county"]
    assert county_col is not None  # noqa: S101
    codes: list[str | None] = []
    unknown_rows: list[int] = []
    for r, v in zip(rows, frame[county_col], strict=True):
        code = _county_code(v, regions)
        if code is None:
            if not _text(v):
                col.add(r, county_col, "the county is empty: enter its name or 6-digit adcode.")
            elif regions is None:
                col.add(
                    r,
                    county_col,
                    "county names can only be read with the planning region "
                    "known; enter the 6-digit adcode (e.g. 350302) instead.",
                )
            else:
                unknown_rows.append(r)
        codes.append(code)
    col.raise_if_any()
    table = pd.DataFrame({"county_id": codes, "count": counts, "row": rows})
    table = table[table["county_id"].notna()]
    if regions is not None:
        known = set(regions["county_id"])
        unknown_rows += [int(r) for r in table.loc[~table["county_id"].isin(known), "row"]]
        table = table[table["county_id"].isin(known)]
    if unknown_rows:
        col.notes.append(
            f"{file}: {len(unknown_rows)} row(s) name a county that is not in the planning "
            f"region and were left out ({_rows_text(sorted(unknown_rows), col.row_label)}). "
            "Check the spelling or use the 6-digit adcode."
        )
    dup = table[table["county_id"].duplicated(keep=False)]
    if len(dup):
        col.notes.append(
            f"{file}: several rows give counts for the same county; they were added up "
            f"({_rows_text(sorted(map(int, dup['row'])), col.row_label)})."
        )
    if table.empty:
        msg = "no row names a county of the planning region; check the county names or codes."
        raise fail(file, msg, column=county_col)
    by_county = table.groupby("county_id", sort=True)["count"].sum().astype(float)
    by_county.index = pd.Index([str(i) for i in by_county.index], name="county_id", dtype=object)
    by_county.name = "patients"
    col.warn_all()
    logger.info("%s: patient counts for %d counties", file, len(by_county))
    return PatientCounts(
        by_county=by_county, points=None, privacy_threshold=privacy_threshold, file=file
    )


# ------------------------------------------------------------------------------ exports
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy safe to open in Excel: text cells that look like formulas are quoted.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return (for example a
    facility name copied from an upload) would be run as a formula when a CSV/XLSX export is
    opened in Excel or WPS ("CSV injection"). Such cells get a leading apostrophe, which Excel
    shows as plain text. Numbers (also negative ones) are left alone; the input is not changed.

    Examples
    --------
    >>> import pandas as pd
    >>> escape_formulas(pd.DataFrame({"name": ["=1+1", "站A"], "x": [-1.5, 2.0]}))["name"].tolist()
    ["'=1+1", '站A']
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = values.map(
                lambda v: f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            )
    return out
