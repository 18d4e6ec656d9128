"""Load planners' facility tables: existing sites, candidate buildings, psychiatric hospitals.

Planners bring Excel tables, often with coordinates copied from AMap (GCJ-02) or Baidu (BD-09).
:func:`load_facilities` accepts what they really have and refuses what is wrong with messages
that name the file, the row (as Excel shows it, header = row 1), the column and what to do. All
problems of a file are reported at once in one :class:`~planning.inputs.read.InputFileError`
(a :class:`~planning.errors.DataError`) whose ``problems`` attribute lists them for the app.

Formats: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030), XLSX (stored values only; formulas are never
calculated), GeoJSON, GeoPackage and zipped shapefiles; see
:func:`~planning.inputs.read.read_table` for the safety checks (size limit, zip traversal/bomb
checks).

Coordinate systems (``crs``): ``"wgs84"`` (GPS, OpenStreetMap), ``"gcj02"`` (AMap/高德, Tencent),
``"bd09"`` (Baidu/百度), ``"cgcs2000"`` and ``"EPSG:<code>"`` (e.g. projected Gauss-Kruger
coordinates in metres, ``EPSG:4547``); see :func:`~planning.inputs.coords.parse_crs`. CGCS2000
(EPSG:4490) is used as WGS-84 unchanged: the two differ by a few centimetres, far below
planning accuracy. Everything returned is WGS-84 (EPSG:4326).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from planning.i18n import Msg
from planning.inputs._fields import (
    CHINA_BOUNDS,
    Bounds,
    _as_frame,
    _Collector,
    _coordinates,
    _county_code,
    _locate,
    _mapping,
    _missing_column,
    _numbers,
    _region,
    _text,
)
from planning.inputs.columns import (
    canonical_type,
)
from planning.inputs.coords import parse_crs
from planning.inputs.provenance import row_sources
from planning.inputs.read import (
    DEFAULT_MAX_BYTES,
    Source,
    fail,
)

logger = logging.getLogger(__name__)

MAX_CAPACITY = 100_000
"""Largest capacity of one facility (places): more is a typo or a population."""


# ----------------------------------------------------------------------------- facilities
def load_facilities(
    source: Source | pd.DataFrame,
    *,
    filename: str | None = None,
    crs: str = "wgs84",
    region: gpd.GeoDataFrame | None = None,
    column_map: dict[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    bounds: Bounds = CHINA_BOUNDS,
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
    bounds
        ``(lon_min, lat_min, lon_max, lat_max)`` the coordinates must lie in: China's
        (:data:`CHINA_BOUNDS`) for every planner's table; only library callers with data from
        elsewhere (tests on OpenStreetMap extracts of other countries) pass another box.

    Returns
    -------
    facilities
        GeoDataFrame in EPSG:4326, index ``facility_id`` (the file's id column as text, else
        ``"F0001"``, ``"F0002"``, ... in file order), columns ``name``, ``type`` (one of
        :data:`FACILITY_TYPES`; unrecognised types become ``"other"``), ``type_original``
        (the text in the file), ``capacity`` (float, NaN when unknown), ``address``,
        ``county`` (adcode text or NaN), ``source_row`` (row in the file), ``data_source``
        (``"osm"``, ``"osm_edited"`` or ``"file"``) and ``data_date`` (ISO date of OSM rows, else
        ``None``; see :mod:`planning.inputs.provenance`), geometry Point.

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
    lon, lat = _coordinates(frame, mapping, system, col, show_values=True, bounds=bounds)

    name_col = mapping["name"]
    assert name_col is not None  # noqa: S101
    names = [_text(v) for v in frame[name_col]]
    for r, n in zip(rows, names, strict=True):
        if not n:
            col.add(r, name_col, Msg("files.name_empty"))
    if mapping["id"] is not None:
        id_col = mapping["id"]
        ids = [_text(v) for v in frame[id_col]]
        first_seen: dict[str, int] = {}
        for r, i in zip(rows, ids, strict=True):
            if not i:
                col.add(r, id_col, Msg("files.id_empty"))
            elif i in first_seen:
                col.add(r, id_col, Msg("files.id_twice", id=i, first=first_seen[i]))
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
                    col.add(r, name_col, Msg("files.facility_twice", first=seen[key]))
                else:
                    seen[key] = r
    capacity = np.full(len(rows), np.nan)
    if mapping["capacity"] is not None:
        capacity = _numbers(
            frame,
            mapping["capacity"],
            col,
            what=Msg("files.what_capacity"),
            hint=Msg("files.hint_capacity"),
            show_values=True,
            required=False,
        )
        for r, c in zip(rows, capacity, strict=True):
            if c < 0:
                col.add(r, mapping["capacity"], Msg("files.capacity_negative", capacity=c))
            elif c > MAX_CAPACITY:
                col.add(r, mapping["capacity"], Msg("files.capacity_too_large", limit=MAX_CAPACITY))
    col.raise_if_any()

    if mapping["type"] is not None:
        original = [_text(v) for v in frame[mapping["type"]]]
    else:
        original = [""] * len(rows)
        col.notes.append(Msg("files.no_type_column", file=file))
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
    data_source, data_date = row_sources(
        frame,
        names=names,
        types=original,
        lon=lon.tolist(),
        lat=lat.tolist(),
        capacity=capacity.tolist(),
        address=address,
    )
    keep = np.ones(len(rows), dtype=bool)
    if regions is not None:
        located = _locate(lon, lat, regions)
        outside = [i for i, c in enumerate(located) if c is None]
        if len(outside) == len(rows):
            msg = Msg("files.no_facility_in_region", n=len(rows), system=system.shown)
            raise fail(file, msg)
        if outside:
            listed = "; ".join(f"{rows[i]} ({names[i]})" for i in outside[:15])
            more: Msg | str = (
                Msg("files.rows_more", n=len(outside) - 15) if len(outside) > 15 else ""
            )
            label = (
                Msg("files.label_feature") if col.row_label == "feature" else Msg("files.label_row")
            )
            params = {"file": file, "n": len(outside), "label": label, "listed": listed}
            if len(outside) == 1:
                note = Msg("files.facility_outside", more=more, **params)
            else:
                note = Msg("files.facilities_outside", more=more, **params)
            col.notes.append(note)
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
            "data_source": data_source,
            "data_date": pd.Series(data_date, dtype=object).to_numpy(),
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
