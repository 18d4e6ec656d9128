"""Load planners' patient counts, per county or per place, and refuse person-level data.

Privacy: patient files must hold counts (per county or per place). Person-level lists (one row
per patient, such as a place table whose every count is 1, or identifying columns such as
姓名/身份证/电话/出生日期/病历号/住址) are refused at once with :class:`PersonLevelDataError`;
nothing from them is kept, logged or written, and the message never repeats a cell value. Counts
stay exact in memory for planning; anything shown goes through
:meth:`PatientCounts.display_table` (counts below the threshold appear as "<5").

Files are read like facility tables (:mod:`~planning.inputs.facilities`): every problem at
once, with file, row and column.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planning.i18n import Msg
from planning.inputs._fields import (
    _as_frame,
    _Collector,
    _coordinates,
    _county_code,
    _locate,
    _mapping,
    _numbers,
    _region,
    _rows_text,
    _text,
)
from planning.inputs.columns import (
    normalise_header,
)
from planning.inputs.coords import parse_crs
from planning.inputs.read import (
    DEFAULT_MAX_BYTES,
    InputFileError,
    Problem,
    Source,
    fail,
)
from planning.suppression import suppress_small

logger = logging.getLogger(__name__)


MAX_PATIENTS_PER_ROW = 1_000_000
"""Largest patient count of one row (a county or a place): more is a population or a typo."""


class PersonLevelDataError(InputFileError):
    """A patient file holds person-level rows; it was refused and nothing of it was kept."""


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
        msg = Msg("files.person_level_columns", columns=cols, howto=Msg("files.aggregate_howto"))
        del frame
        raise PersonLevelDataError(file, [Problem(file, None, None, msg)])
    system = parse_crs(crs, file=file)
    regions = _region(region)
    if mapping["count"] is None:
        headers = ", ".join(repr(str(c)) for c in frame.columns if str(c) != "geometry")
        msg = Msg("files.no_count_column", headers=headers, howto=Msg("files.aggregate_howto"))
        del frame
        raise PersonLevelDataError(file, [Problem(file, None, None, msg)])
    spatial = isinstance(frame, gpd.GeoDataFrame)
    has_points = spatial or (mapping["lon"] is not None and mapping["lat"] is not None)
    if not has_points and mapping["county"] is None:
        col.add(None, None, Msg("files.no_location"))
    col.raise_if_any()
    rows = [int(r) for r in frame.index]
    count_col = mapping["count"]
    counts = _numbers(
        frame,
        count_col,
        col,
        what=Msg("files.what_count"),
        hint=Msg("files.hint_count"),
        show_values=False,
        required=True,
    )
    for r, c in zip(rows, counts, strict=True):
        if c < 0:
            col.add(r, count_col, Msg("files.count_negative"))
        elif c > MAX_PATIENTS_PER_ROW:
            col.add(r, count_col, Msg("files.count_too_large", limit=MAX_PATIENTS_PER_ROW))
    if has_points and len(rows) >= 2 and bool(np.all(counts == 1)):
        # every place holds exactly one patient: a geocoded patient list (one row per person),
        # whose coordinates are home locations; refused like any person-level list
        msg = Msg("files.person_level_ones", column=count_col, howto=Msg("files.aggregate_howto"))
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
                listed = _rows_text([rows[i] for i in outside], col.row_label)
                col.notes.append(
                    Msg("files.places_outside", file=file, n=len(outside), rows=listed)
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
                col.add(r, county_col, Msg("files.county_empty"))
            elif regions is None:
                col.add(r, county_col, Msg("files.county_name_needs_region"))
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
        listed = _rows_text(sorted(unknown_rows), col.row_label)
        col.notes.append(Msg("files.counties_outside", file=file, n=len(unknown_rows), rows=listed))
    dup = table[table["county_id"].duplicated(keep=False)]
    if len(dup):
        listed = _rows_text(sorted(map(int, dup["row"])), col.row_label)
        col.notes.append(Msg("files.county_rows_added", file=file, rows=listed))
    if table.empty:
        raise fail(file, Msg("files.no_county_in_region"), column=county_col)
    by_county = table.groupby("county_id", sort=True)["count"].sum().astype(float)
    by_county.index = pd.Index([str(i) for i in by_county.index], name="county_id", dtype=object)
    by_county.name = "patients"
    col.warn_all()
    logger.info("%s: patient counts for %d counties", file, len(by_county))
    return PatientCounts(
        by_county=by_county, points=None, privacy_threshold=privacy_threshold, file=file
    )
