"""Where each row of a facility table comes from: OpenStreetMap (with its date), edited, or a file.

A facility table written from OpenStreetMap (:func:`planning.inputs.osm.facility_table`) carries
three extra columns the planner leaves alone: ``数据来源`` (source, ``OpenStreetMap``),
``数据日期`` (the data date) and ``校验码`` (a check of the row as written: name, type,
coordinates, capacity and address). When the table is loaded again
(:func:`planning.inputs.load_facilities`), each row is

* ``"osm"``: from OpenStreetMap, as written;
* ``"osm_edited"``: from OpenStreetMap, changed by the planner since (the check differs);
* ``"file"``: anything else (a row the planner added, or a table of the planner's own).

The loaded layer keeps this in its ``data_source`` and ``data_date`` columns, and
:func:`describe_source` sums it up for every place the table is used ("OpenStreetMap, data
2025-03-01; 2 rows edited, 1 added by the planner").
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from planning.i18n import Msg

RowSource = Literal["osm", "osm_edited", "file"]

SOURCE_HEADER = "数据来源"
DATE_HEADER = "数据日期"
CHECK_HEADER = "校验码"
OSM_SOURCE = "OpenStreetMap"

_SOURCE_HEADERS = (SOURCE_HEADER, "data_source", "source")
_DATE_HEADERS = (DATE_HEADER, "data_date")
_CHECK_HEADERS = (CHECK_HEADER, "check")
_OSM_VALUES = {"openstreetmap", "osm"}


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def row_check(  # noqa: PLR0917 - the six fields of a row, in the table's order
    name: str, type_text: str, lon: float, lat: float, capacity: float, address: str
) -> str:
    """Check of one row as written: changes when any of its planning fields is edited.

    Coordinates count to 6 decimals (about 0.1 m; they are written with 7), so a table saved
    again by Excel keeps its check.

    Examples
    --------
    >>> a = row_check("卫生院", "乡镇卫生院", 119.0071234, 25.4316, math.nan, "")
    >>> a == row_check("卫生院", "乡镇卫生院", 119.0071234, 25.4316, math.nan, "")
    True
    >>> a == row_check("卫生院", "乡镇卫生院", 119.0071234, 25.4316, 20.0, "")
    False
    """
    cap = "" if capacity is None or math.isnan(capacity) else f"{capacity:g}"
    text = "|".join(
        [
            _clean(name),
            _clean(type_text),
            f"{round(float(lon), 7):.6f}",
            f"{round(float(lat), 7):.6f}",
            cap,
            _clean(address),
        ]
    )
    return "v1:" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _column(frame: pd.DataFrame, headers: Sequence[str]) -> str | None:
    by_lower = {str(c).strip().lower(): str(c) for c in frame.columns}
    for h in headers:
        if h.lower() in by_lower:
            return by_lower[h.lower()]
    return None


def row_sources(
    frame: pd.DataFrame,
    *,
    names: Sequence[str],
    types: Sequence[str],
    lon: Sequence[float],
    lat: Sequence[float],
    capacity: Sequence[float],
    address: Sequence[str],
) -> tuple[list[RowSource], list[str | None]]:
    """Source and data date of each row of a facility table as read.

    Parameters
    ----------
    frame
        The table as read (any headers); its source, date and check columns are used when
        present (``数据来源``/``data_source``, ``数据日期``/``data_date``, ``校验码``/``check``).
    names, types, lon, lat, capacity, address
        Each row's values as loaded (type as written, WGS-84 coordinates, NaN capacity when
        empty), in ``frame``'s order.

    Returns
    -------
    sources, dates
        ``"osm"`` / ``"osm_edited"`` / ``"file"`` and an ISO date (``None`` for ``"file"``).
    """
    n = len(frame)
    src_col = _column(frame, _SOURCE_HEADERS)
    if src_col is None:
        return ["file"] * n, [None] * n
    date_col = _column(frame, _DATE_HEADERS)
    check_col = _column(frame, _CHECK_HEADERS)
    sources: list[RowSource] = []
    dates: list[str | None] = []
    for i, raw in enumerate(frame[src_col].tolist()):
        value = _clean(raw).lower()
        date = _clean(frame[date_col].iloc[i])[:10] if date_col else ""
        if value in _OSM_VALUES:
            check = _clean(frame[check_col].iloc[i]) if check_col else ""
            same = not check or check == row_check(
                names[i], types[i], lon[i], lat[i], capacity[i], address[i]
            )
            sources.append("osm" if same else "osm_edited")
            dates.append(date or None)
        elif value == "osm_edited":
            sources.append("osm_edited")
            dates.append(date or None)
        else:
            sources.append("file")
            dates.append(None)
    return sources, dates


def describe_source(facilities: pd.DataFrame | None, *, file: str | Path | None = None) -> Msg:
    """One phrase saying where a facility table comes from, for every place it is shown.

    Parameters
    ----------
    facilities
        A loaded facility layer (``data_source`` and ``data_date`` columns; a layer without
        them counts as a file's).
    file
        The file it was read from, named when the table is (partly) the planner's own.

    Returns
    -------
    Msg
        e.g. "OpenStreetMap, data 2025-03-01", "OpenStreetMap, data 2025-03-01; reviewed: 2
        rows edited, 1 added", "file facilities.xlsx", or "no facility table".
    """
    if facilities is None:
        return Msg("osm.source_none")
    name = Path(file).name if file else ""
    if "data_source" not in facilities.columns or facilities.empty:
        return Msg("osm.source_file", file=name) if name else Msg("osm.source_table")
    src = facilities["data_source"].astype(str)
    n_osm = int(src.isin(["osm", "osm_edited"]).sum())
    if n_osm == 0:
        return Msg("osm.source_file", file=name) if name else Msg("osm.source_table")
    dates = sorted({str(d) for d in facilities.loc[src != "file", "data_date"].dropna() if str(d)})
    date = ", ".join(dates) if dates else "?"
    edited = int((src == "osm_edited").sum())
    added = int((src == "file").sum())
    if edited or added:
        return Msg("osm.source_osm_reviewed", date=date, edited=edited, added=added)
    return Msg("osm.source_osm", date=date)
