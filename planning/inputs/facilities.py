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

from planning.inputs._fields import (
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
from planning.inputs.read import (
    DEFAULT_MAX_BYTES,
    Source,
    fail,
)

logger = logging.getLogger(__name__)


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
