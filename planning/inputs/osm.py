"""Health and social facilities from OpenStreetMap, as a facility table the planner reviews.

:func:`load_osm_facilities` reads the facilities of a region (``amenity=hospital``, ``clinic``,
``doctors``, ``social_facility``, ``community_centre``, ``nursing_home`` and any
``healthcare=*``) from a local ``.osm.pbf`` file, from the cache of an earlier download, or
downloads them (Overpass, via osmnx; see :mod:`planning._osm`), and types each with
:func:`classify_facility`. :func:`facility_table` is the result as a normal facility table
(the columns of ``data/facilities_template.csv`` plus the OSM tags, why each row got its type,
and the source, date and check of :mod:`planning.inputs.provenance`); it loads with
:func:`planning.inputs.load_facilities` like any planner's table, so the planner can review
and edit it and use its rows as existing sites, candidates or referral hospitals.

Types
-----
Each facility gets one category (the first rule that fits, in this order), written in the
``类型`` column with the words of the template, so that
:func:`planning.inputs.canonical_type` gives the tool's type:

====================  ==================  ========================  =======================
category              ``类型``             tool type                 role
====================  ==================  ========================  =======================
psychiatric hospital  精神专科医院         psychiatric_hospital      referral target
township health c.    乡镇卫生院           community_health_centre   can host a rehab site
community health c.   社区卫生服务中心     community_health_centre   can host a rehab site
general hospital      综合医院             general_hospital          reference only
welfare institution   民政福利机构         community_service_centre  can host a rehab site
community centre      社区综合服务中心     community_service_centre  can host a rehab site
clinic                诊所                 clinic                    reference only
====================  ==================  ========================  =======================

* Psychiatric hospital: a hospital (``amenity``/``healthcare=hospital``, or named 医院/病院)
  tagged ``healthcare:speciality=psychiatry`` (or ``child_psychiatry``), or a hospital or
  health centre (卫生中心) whose name has 精神 or 心理 (or "psychiatr", "mental health").
  **康复 alone is not enough**: it also names general rehabilitation hospitals (stroke,
  orthopaedics) and disabled persons' rehabilitation centres. A hospital named 康复 without
  精神/心理 is typed general hospital, and its ``分类依据`` and a warning ask the planner to
  check it (``精神康复`` / ``心理康复`` names are psychiatric through 精神 / 心理). A clinic
  or practice tagged psychiatry is a clinic: the referral "green channel" leads to hospitals.
* Township health centre: named 卫生院 (乡镇卫生院, 中心卫生院). Community health centre:
  named 社区卫生服务中心/站, 卫生服务中心/站 or 卫生室, or tagged ``healthcare=centre``.
* General hospital: any other hospital. Welfare institution: ``amenity=social_facility``
  (not food banks or soup kitchens), ``nursing_home``, ``healthcare=hospice``, or named
  福利院, 敬老院, 养老院, 光荣院, 救助站, 托养, 残疾人 or 残联. Community centre:
  ``amenity=community_centre`` or named 社区服务中心, 党群服务中心, 综合服务中心.
* Clinic: ``amenity=clinic``/``doctors``, ``healthcare=clinic``/``doctor``/``psychotherapist``/
  ``counselling``/``rehabilitation``, or named 诊所, 门诊, 卫生所.
* Left out, with a warning counting them by tag: pharmacies, dentists, opticians,
  laboratories, blood donation, alternative medicine and anything matching no rule above.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planning._atomic import replacing
from planning._osm import (
    OsmElements,
    TagFilter,
    buffer_polygon,
    load_elements,
    pbf_bounds,
    reason_of,
)
from planning.errors import DataError, NetworkError, PlanningError, PlanningWarning
from planning.i18n import Msg
from planning.inputs._fields import CHINA_BOUNDS, REGION_TOLERANCE_M, Bounds, _locate, _region
from planning.inputs.columns import canonical_type
from planning.inputs.facilities import load_facilities
from planning.inputs.provenance import (
    CHECK_HEADER,
    DATE_HEADER,
    OSM_SOURCE,
    SOURCE_HEADER,
    row_check,
)

logger = logging.getLogger(__name__)

FACILITY_FILTER: TagFilter = {
    "amenity": [
        "hospital",
        "clinic",
        "doctors",
        "social_facility",
        "community_centre",
        "nursing_home",
    ],
    "healthcare": True,
}
"""OSM tags read: any element with one of these amenities or any ``healthcare`` tag."""


@dataclass(frozen=True)
class Category:
    """A kind of facility found in OpenStreetMap and how the tool uses it."""

    key: str
    label: str
    """The ``类型`` written in the table (the facility template's words)."""
    hosts: bool
    """Whether it can host a rehab site (a candidate for ``candidate_source="osm"``)."""

    @property
    def facility_type(self) -> str:
        """The tool's facility type (:data:`planning.inputs.FACILITY_TYPES`)."""
        return canonical_type(self.label)


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category("psychiatric_hospital", "精神专科医院", hosts=False),
        Category("township_health_centre", "乡镇卫生院", hosts=True),
        Category("community_health_centre", "社区卫生服务中心", hosts=True),
        Category("general_hospital", "综合医院", hosts=False),
        Category("welfare_institution", "民政福利机构", hosts=True),
        Category("community_centre", "社区综合服务中心", hosts=True),
        Category("clinic", "诊所", hosts=False),
    )
}
"""Facility categories, in the order the rules try them (see the module docstring)."""

HOST_TYPES = frozenset(c.facility_type for c in CATEGORIES.values() if c.hosts)
"""Tool types of the facilities that can host a rehab site."""

PSYCHIATRIC_SPECIALITIES = frozenset({"psychiatry", "child_psychiatry", "psychiatric"})
_UNRELATED_HEALTHCARE = frozenset(
    {
        "alternative",
        "audiologist",
        "birthing_center",
        "birthing_centre",
        "blood_bank",
        "blood_donation",
        "dentist",
        "dialysis",
        "laboratory",
        "midwife",
        "nurse",
        "occupational_therapist",
        "optometrist",
        "pharmacy",
        "physiotherapist",
        "podiatrist",
        "sample_collection",
        "speech_therapist",
        "vaccination_centre",
    }
)
_NOT_INSTITUTIONS = frozenset({"food_bank", "soup_kitchen"})
_NAME_KEYS = ("name", "name:zh", "name:zh-Hans", "name:zh-CN", "official_name", "alt_name")
_NAME_KEYS_ALL = (*_NAME_KEYS, "name:en", "short_name")

_MENTAL_WORDS = ("精神", "psychiatr", "mental health", "mental hospital")
_PSYCH_WORDS = ("心理",)
_HOSPITAL_WORDS = ("医院", "病院", "hospital")
_HEALTH_CENTRE_WORDS = ("卫生中心",)
_TOWNSHIP_WORDS = ("卫生院",)
_COMMUNITY_HEALTH_WORDS = (
    "社区卫生服务",
    "卫生服务中心",
    "卫生服务站",
    "卫生室",
    "community health",
)
_REHAB_WORDS = ("康复", "rehabilitation")
_WELFARE_WORDS = ("福利院", "敬老院", "养老院", "光荣院", "救助站", "托养", "残疾人", "残联")
_COMMUNITY_CENTRE_WORDS = ("社区服务中心", "党群服务中心", "综合服务中心", "community centre")
_CLINIC_WORDS = ("诊所", "门诊", "卫生所")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _names(tags: Mapping[str, str]) -> str:
    return " ".join(_norm(tags[k]) for k in _NAME_KEYS_ALL if tags.get(k))


def _word(text: str, words: tuple[str, ...]) -> str | None:
    return next((w for w in words if w in text), None)


def _values(tags: Mapping[str, str], key: str) -> set[str]:
    return {v.strip().lower() for v in re.split(r"[;,]", tags.get(key, "")) if v.strip()}


def classify_facility(  # noqa: PLR0911 - one return per rule of the table
    tags: Mapping[str, str],
) -> tuple[Category | None, list[Msg]]:
    """Return the category of one OSM facility from its tags, and why.

    Parameters
    ----------
    tags
        Every tag of the element (``amenity``, ``healthcare``, ``healthcare:speciality``,
        ``social_facility``, ``name``, ``name:zh``, ...).

    Returns
    -------
    category, reasons
        The :class:`Category` (``None``: no category fits; the facility is left out) and the
        tags or name words that decided it, as messages for the ``分类依据`` column.

    Examples
    --------
    >>> classify_facility({"amenity": "hospital", "name": "莆田市精神卫生中心"})[0].key
    'psychiatric_hospital'
    >>> classify_facility({"amenity": "hospital", "name": "莆田市康复医院"})[0].key
    'general_hospital'
    >>> classify_facility({"amenity": "clinic", "name": "黄石镇卫生院"})[0].key
    'township_health_centre'
    >>> classify_facility({"healthcare": "dentist", "name": "口腔医院"})[0] is None
    True
    """
    amenity = tags.get("amenity", "").strip().lower()
    healthcare = tags.get("healthcare", "").strip().lower()
    social = tags.get("social_facility", "").strip().lower()
    names = _names(tags)
    hospital_tag = "hospital" in (amenity, healthcare)
    hospital_word = _word(names, _HOSPITAL_WORDS)
    hospital_like = hospital_tag or hospital_word is not None

    def tag(key: str, value: str) -> Msg:
        return Msg("osm.reason_tag", tag=f"{key}={value}")

    def named(word: str) -> Msg:
        return Msg("osm.reason_name", word=word)

    def kind() -> Msg:  # the tag that makes it a hospital, clinic...
        if amenity:
            return tag("amenity", amenity)
        return tag("healthcare", healthcare) if healthcare else Msg("osm.reason_untagged")

    if healthcare in _UNRELATED_HEALTHCARE:
        return None, [tag("healthcare", healthcare)]
    specialities = _values(tags, "healthcare:speciality") & PSYCHIATRIC_SPECIALITIES
    if specialities:
        spec = tag("healthcare:speciality", min(specialities))
        if hospital_like:
            return CATEGORIES["psychiatric_hospital"], [kind(), spec]
        return CATEGORIES["clinic"], [kind(), spec, Msg("osm.reason_psych_practice")]
    mental = _word(names, _MENTAL_WORDS)
    if mental is None and _word(names, _PSYCH_WORDS):
        mental = "心理"
    centre = _word(names, _HEALTH_CENTRE_WORDS)
    if mental is not None and (hospital_like or centre):
        return CATEGORIES["psychiatric_hospital"], [kind(), named(mental)]
    if mental is not None and amenity in {"clinic", "doctors"}:
        return CATEGORIES["clinic"], [kind(), named(mental), Msg("osm.reason_psych_practice")]
    township = _word(names, _TOWNSHIP_WORDS)
    community = _word(names, _COMMUNITY_HEALTH_WORDS)
    if township and not community:
        return CATEGORIES["township_health_centre"], [kind(), named(township)]
    if community:
        return CATEGORIES["community_health_centre"], [kind(), named(community)]
    if healthcare == "centre":
        return CATEGORIES["community_health_centre"], [tag("healthcare", healthcare)]
    if hospital_like:
        reasons = [kind()] if hospital_tag else [kind(), named(str(hospital_word))]
        rehab = _word(names, _REHAB_WORDS)
        if rehab:
            reasons.append(Msg("osm.reason_rehab_general", word=rehab))
        return CATEGORIES["general_hospital"], reasons
    welfare_word = _word(names, _WELFARE_WORDS)
    if amenity == "social_facility" and social in _NOT_INSTITUTIONS:
        return None, [tag("social_facility", social)]
    if amenity in {"social_facility", "nursing_home"} or healthcare == "hospice":
        reasons = [kind()]
        if social:
            reasons.append(tag("social_facility", social))
        return CATEGORIES["welfare_institution"], reasons
    if welfare_word:
        return CATEGORIES["welfare_institution"], [kind(), named(welfare_word)]
    community_centre = _word(names, _COMMUNITY_CENTRE_WORDS)
    if amenity == "community_centre" or community_centre:
        reasons = [kind()] if amenity == "community_centre" else [named(str(community_centre))]
        return CATEGORIES["community_centre"], reasons
    clinic_word = _word(names, _CLINIC_WORDS)
    clinic_tag = amenity in {"clinic", "doctors"} or healthcare in {
        "clinic",
        "doctor",
        "psychotherapist",
        "counselling",
        "rehabilitation",
    }
    if clinic_tag or clinic_word:
        return CATEGORIES["clinic"], [kind()] if clinic_tag else [named(str(clinic_word))]
    return None, [kind()]


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, kw_only=True, eq=False)
class OsmFacilities:
    """Facilities of a region from OpenStreetMap: the table, the loaded layer, the source.

    Attributes
    ----------
    table
        The facility table as written by :func:`write_facility_table` (Chinese headers of
        ``data/facilities_template.csv`` plus ``数据来源``, ``数据日期``, ``OSM标签``,
        ``分类依据``, ``校验码``), one row per facility, ids ``N``/``W``/``R`` + OSM id.
    facilities
        ``table`` as loaded by :func:`planning.inputs.load_facilities` (index
        ``facility_id``, ``type``, ``data_source="osm"``...), WGS-84; empty when none.
    source
        ``"OpenStreetMap download"`` or the path of the ``.osm.pbf`` file read.
    data_date, data_date_source
        Date of the data and how it was found (download date, file header...).
    from_cache
        The download was made earlier and read from the cache.
    left_out
        OSM features matching no category: ``osm_key``, ``name``, ``tags`` (the deciding
        ``key=value``).
    """

    table: pd.DataFrame
    facilities: gpd.GeoDataFrame
    source: str
    data_date: str | None
    data_date_source: str
    from_cache: bool
    left_out: pd.DataFrame

    @property
    def label(self) -> Msg:
        """E.g. "OpenStreetMap, data 2025-03-01" (the table's source, shown with it)."""
        return Msg("osm.source_osm", date=self.data_date or "?")


TABLE_COLUMNS = (
    "编号",
    "名称",
    "类型",
    "经度",
    "纬度",
    "容量",
    "地址",
    "区县",
    SOURCE_HEADER,
    DATE_HEADER,
    "OSM标签",
    "分类依据",
    CHECK_HEADER,
)
"""Columns of the OSM facility table (the template's first, then review and provenance)."""

_ADDRESS_KEYS = (
    "addr:province",
    "addr:city",
    "addr:district",
    "addr:subdistrict",
    "addr:street",
    "addr:housenumber",
)


def _address(tags: Mapping[str, str]) -> str:
    if tags.get("addr:full"):
        return tags["addr:full"].strip()
    parts = [tags[k].strip() for k in _ADDRESS_KEYS if tags.get(k, "").strip()]
    cjk = any(re.search(r"[\u4e00-\u9fff]", p) for p in parts)
    return ("" if cjk else " ").join(parts)


def _own_name(tags: Mapping[str, str]) -> str:
    for k in (*_NAME_KEYS, "name:en"):
        if tags.get(k, "").strip():
            return unicodedata.normalize("NFC", tags[k]).strip()
    return ""


def _dedupe(rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop the same facility mapped twice (a point and a building with one name, < 300 m)."""
    if len(rows) < 2:
        return rows
    utm = rows.estimate_utm_crs()
    xy = rows.to_crs(utm).geometry
    keep = np.ones(len(rows), dtype=bool)
    names = rows["名称"].map(_norm).to_numpy()
    n_tags = rows["_n_tags"].to_numpy()
    order = np.argsort(-n_tags, kind="stable")  # the richer element wins
    seen: dict[str, list[int]] = {}
    for i in order:
        if not rows["_named"].iloc[i]:
            continue
        for j in seen.get(names[i], []):
            if xy.iloc[i].distance(xy.iloc[j]) < 300.0:
                keep[i] = False
                break
        else:
            seen.setdefault(names[i], []).append(int(i))
    return rows[keep]


def _rows(
    found: OsmElements, counties: gpd.GeoDataFrame | None, *, table_lang: str = "zh"
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Typed table rows and the left-out features of ``found``."""
    records = []
    left_out = []
    for key, tags, point in zip(
        found.elements.index, found.elements["tags"], found.elements.geometry, strict=True
    ):
        category, reasons = classify_facility(tags)
        name = _own_name(tags)
        if category is None:
            left_out.append({"osm_key": key, "name": name, "tags": reasons[0].params.get("tag")})
            continue
        label = category.label
        records.append(
            {
                "编号": key.upper(),
                "名称": name or Msg("osm.unnamed", kind=label, osm_key=key).text(table_lang),
                "类型": label,
                "经度": round(float(point.x), 7),
                "纬度": round(float(point.y), 7),
                "容量": math.nan,
                "地址": _address(tags),
                SOURCE_HEADER: OSM_SOURCE,
                DATE_HEADER: found.data_date or "",
                "OSM标签": json.dumps(dict(sorted(tags.items())), ensure_ascii=False),
                "分类依据": Msg("common.list_sep")
                .text(table_lang)
                .join(r.text(table_lang) for r in reasons),
                "_category": category.key,
                "_rehab_review": any(r.key == "osm.reason_rehab_general" for r in reasons),
                "_named": bool(name),
                "_n_tags": len(tags),
                "geometry": point,
            }
        )
    columns = [*TABLE_COLUMNS, "_category", "_rehab_review", "_named", "_n_tags", "geometry"]
    rows = gpd.GeoDataFrame(
        pd.DataFrame(records, columns=[c for c in columns if c != CHECK_HEADER]),
        geometry="geometry",
        crs="EPSG:4326",
    )
    rows = _dedupe(rows)
    if counties is not None and len(rows):
        regions = _region(counties)
        assert regions is not None  # noqa: S101 - counties given
        located = _locate(rows["经度"].to_numpy(), rows["纬度"].to_numpy(), regions)
        names = dict(zip(regions["county_id"], regions["county_name"], strict=True))
        rows["区县"] = [names.get(c, "") if c else "" for c in located]
        rows = rows[[c is not None for c in located]]
    else:
        rows["区县"] = ""
    rows[CHECK_HEADER] = [
        row_check(n, t, x, y, c, a)
        for n, t, x, y, c, a in zip(
            rows["名称"],
            rows["类型"],
            rows["经度"],
            rows["纬度"],
            rows["容量"],
            rows["地址"],
            strict=True,
        )
    ]
    order = list(CATEGORIES)
    rows = rows.assign(_order=rows["_category"].map(order.index))
    rows = rows.sort_values(["_order", "区县", "名称", "编号"], kind="stable").drop(
        columns="_order"
    )
    return rows, pd.DataFrame(left_out, columns=["osm_key", "name", "tags"])


def _area_name(region: gpd.GeoDataFrame | BaseGeometry | None, osm_file: str | None) -> str:
    if isinstance(region, gpd.GeoDataFrame):
        prefectures = (
            region["prefecture_name"].dropna().astype(str).unique()
            if "prefecture_name" in region
            else []
        )
        if len(prefectures) == 1 and len(region) > 1:
            return str(prefectures[0])
        return "、".join(region["name"].astype(str)) if "name" in region else "region"
    if region is not None:
        b = region.bounds
        return f"{b[0]:.3f},{b[1]:.3f},{b[2]:.3f},{b[3]:.3f}"
    return Path(osm_file).name if osm_file else "?"


def _shape(region: gpd.GeoDataFrame | BaseGeometry | None) -> BaseGeometry | None:
    if isinstance(region, gpd.GeoDataFrame):
        geom: BaseGeometry = shapely.union_all(region.to_crs("EPSG:4326").geometry.to_numpy())
        return geom.buffer(0)
    return region


def _covered_share(osm_file: str | Path | None, shape: BaseGeometry | None) -> float | None:
    """Share of ``shape`` inside the bounding box a ``.pbf`` file declares (``None``: unknown)."""
    if osm_file is None or shape is None or shape.area <= 0:
        return None
    box = pbf_bounds(osm_file)
    if box is None:
        return None
    return float(shape.intersection(shapely.box(*box)).area / shape.area)


def load_osm_facilities(
    region: gpd.GeoDataFrame | BaseGeometry | None,
    *,
    osm_file: str | Path | None = None,
    refresh: bool = False,
    bounds: Bounds = CHINA_BOUNDS,
) -> OsmFacilities:
    """Health and social facilities of ``region`` from OpenStreetMap, typed for planning.

    Parameters
    ----------
    region
        The counties (index ``county_id``, ``name``; as from
        :func:`planning.inputs.load_counties`): facilities within 1 km of them, each with its
        county. Or a WGS-84 polygon (e.g. ``shapely.box(...)`` for data outside China), or
        ``None`` for everything in ``osm_file``.
    osm_file
        Local ``.osm.pbf`` extract; without it the facilities are downloaded once and then
        read from the cache (``settings.cache_dir() / "osm"``), with the download date.
    refresh
        Download again even when cached.
    bounds
        Passed to :func:`planning.inputs.load_facilities` (China's box; another only for
        data from elsewhere).

    Returns
    -------
    OsmFacilities
        Possibly with no facility (a warning says so).

    Raises
    ------
    NetworkError
        No file, no cached download, and the download failed or the tool is offline
        (:func:`planning.settings.offline`): code ``osm.facilities_unavailable``, naming the
        region and what to do.
    DataError
        The file is missing or unreadable, or ``region`` and ``osm_file`` are both ``None``.

    Warns
    -----
    PlanningWarning
        No facility found (``osm.no_facilities``), the file does not (fully) cover the
        region (``osm.file_outside_region``, ``osm.file_partial``), features left out
        (``osm.unmapped``), hospitals named 康复 typed general hospital (``osm.rehab_review``).
    """
    area = _area_name(region, str(osm_file) if osm_file else None)
    shape = _shape(region)
    polygon = shape
    if shape is not None and isinstance(region, gpd.GeoDataFrame):  # as the loader's tolerance
        polygon = buffer_polygon(shape, buffer_m=REGION_TOLERANCE_M)
    try:
        found = load_elements(
            "facilities", FACILITY_FILTER, polygon, osm_file=osm_file, refresh=refresh
        )
    except NetworkError as err:
        raise NetworkError("osm.facilities_unavailable", region=area, reason=err.message) from err
    counties = region if isinstance(region, gpd.GeoDataFrame) else None
    rows, left_out = _rows(found, counties)
    outside = _warn_coverage(_covered_share(osm_file, shape), Path(found.source).name, area)
    if len(left_out):
        counts = Counter(left_out["tags"].fillna("?"))
        shown = Msg("common.list_sep").text()
        warnings.warn(
            PlanningWarning(
                "osm.unmapped",
                count=len(left_out),
                tags=shown.join(f"{t} ×{n}" for t, n in counts.most_common(8)),
            ),
            stacklevel=2,
        )
    review = rows[rows["_rehab_review"]]
    if len(review):
        warnings.warn(
            PlanningWarning(
                "osm.rehab_review",
                count=len(review),
                names="、".join(review["名称"].astype(str).head(8)),
            ),
            stacklevel=2,
        )
    table = pd.DataFrame(rows[list(TABLE_COLUMNS)]).reset_index(drop=True)
    if table.empty and not outside:
        warnings.warn(
            PlanningWarning(
                "osm.no_facilities",
                region=area,
                source=Msg("osm.source_osm", date=found.data_date or "?"),
            ),
            stacklevel=2,
        )
    if table.empty:
        facilities = _empty_layer()
    else:
        facilities = load_facilities(
            table,
            filename=Path(found.source).name if found.from_file else "OpenStreetMap",
            region=counties,
            bounds=bounds,
        )
        # the review columns ride along, so the table can be written again (osm_table)
        by_id = table.set_index("编号")
        facilities["osm_tags"] = by_id["OSM标签"].reindex(facilities.index).to_numpy()
        facilities["osm_reason"] = by_id["分类依据"].reindex(facilities.index).to_numpy()
    logger.info(
        "OSM facilities of %s: %d (%s), %d left out; data %s (%s)",
        area,
        len(table),
        ", ".join(f"{k} {n}" for k, n in rows["_category"].value_counts().items()),
        len(left_out),
        found.data_date,
        found.source,
    )
    return OsmFacilities(
        table=table,
        facilities=facilities,
        source=found.source,
        data_date=found.data_date,
        data_date_source=found.data_date_source,
        from_cache=found.origin == "cache",
        left_out=left_out,
    )


def _warn_coverage(share: float | None, name: str, area: str) -> bool:
    """Warn when a file does not (fully) cover the area; return whether it misses it all."""
    if share is None or share >= 0.99:
        return False
    if share <= 0.0:
        warnings.warn(
            PlanningWarning("osm.file_outside_region", file=name, region=area), stacklevel=3
        )
        return True
    warnings.warn(
        PlanningWarning("osm.file_partial", file=name, region=area, percent=round(100 * share)),
        stacklevel=3,
    )
    return False


def _empty_layer() -> gpd.GeoDataFrame:
    columns = [
        "name",
        "type",
        "type_original",
        "capacity",
        "address",
        "county",
        "source_row",
        "data_source",
        "data_date",
        "osm_tags",
        "osm_reason",
    ]
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=float if c == "capacity" else object) for c in columns},
        index=pd.Index([], name="facility_id", dtype=object),
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )


def write_facility_table(result: OsmFacilities | pd.DataFrame, path: str | Path) -> Path:
    """Write the OSM facility table as CSV (UTF-8 with BOM, opens in Excel) or ``.xlsx``.

    Parameters
    ----------
    result
        :class:`OsmFacilities` or its ``table``.
    path
        ``*.csv`` or ``*.xlsx``; the folder is created if needed.

    Raises
    ------
    DataError
        Another extension.
    WriteError
        The file cannot be written (disk full, read-only, no permission: the message says
        which and what to do); a file already there is kept unchanged.
    """
    table = result.table if isinstance(result, OsmFacilities) else result
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise DataError("osm.table_extension", file=p.name)
    with replacing(p) as tmp:  # atomic: a failed write keeps the old file (WriteError)
        if suffix == ".csv":
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            table.to_excel(tmp, index=False, sheet_name="facilities")
    return p


def osm_table(
    facilities: pd.DataFrame, *, county_names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Return the OpenStreetMap rows of a loaded facility layer as the OSM facility table.

    The table :func:`write_facility_table` writes (:data:`TABLE_COLUMNS`: the template's
    columns, ``数据来源`` OpenStreetMap, ``数据日期``, ``OSM标签``, ``分类依据``, ``校验码``), so
    that loading it again (:func:`planning.inputs.load_facilities`) gives the same rows, ids,
    types and dates, each read as ``"osm"``. The export kit keeps the facilities a plan took
    from OpenStreetMap this way (``inputs/osm_facilities.csv``).

    Parameters
    ----------
    facilities
        A loaded facility layer (index ``facility_id``; ``name``, ``type_original``,
        ``capacity``, ``address``, ``county``, ``data_source``, ``data_date``, optional
        ``osm_tags`` and ``osm_reason``; Point geometry in WGS-84). Rows whose
        ``data_source`` is ``"osm"`` are written; the others are left out.
    county_names
        County name by ``county_id`` for the ``区县`` column (else it stays empty).
    """
    if "data_source" not in facilities.columns:
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    rows = facilities[facilities["data_source"].astype(str) == "osm"]
    names = county_names or {}

    def column(name: str) -> list[str]:
        if name not in rows.columns:
            return [""] * len(rows)
        return ["" if pd.isna(v) else str(v) for v in rows[name]]

    geometry = gpd.GeoSeries(rows.geometry)
    table = pd.DataFrame(
        {
            "编号": rows.index.astype(str),
            "名称": column("name"),
            "类型": column("type_original"),
            "经度": geometry.x.round(7).to_numpy(),
            "纬度": geometry.y.round(7).to_numpy(),
            "容量": rows["capacity"].astype(float).to_numpy(),
            "地址": column("address"),
            "区县": [names.get(c, "") for c in column("county")],
            SOURCE_HEADER: OSM_SOURCE,
            DATE_HEADER: column("data_date"),
            "OSM标签": column("osm_tags"),
            "分类依据": column("osm_reason"),
        }
    )
    table[CHECK_HEADER] = [
        row_check(n, t, x, y, c, a)
        for n, t, x, y, c, a in zip(
            table["名称"],
            table["类型"],
            table["经度"],
            table["纬度"],
            table["容量"],
            table["地址"],
            strict=True,
        )
    ]
    return table[list(TABLE_COLUMNS)].reset_index(drop=True)


def add_osm_facilities(
    facilities: gpd.GeoDataFrame | None,
    counties: gpd.GeoDataFrame,
    *,
    osm_file: str | Path | None = None,
    table_file: str | Path | None = None,
    bounds: Bounds = CHINA_BOUNDS,
) -> gpd.GeoDataFrame | None:
    """Return the facility layer with OpenStreetMap's facilities added (``source="osm"``).

    A layer that already holds OSM rows (a reviewed table from :func:`write_facility_table`)
    is returned as it is. Otherwise the region's OSM facilities are appended: from
    ``table_file`` when given (an OSM facility table, e.g. the ``inputs/osm_facilities.csv``
    of an export kit: nothing is downloaded or read from the cache), else loaded by
    :func:`load_osm_facilities`; when that fails (offline and no cache, an unreadable file) a
    :class:`~planning.errors.PlanningWarning` says so and the layer is returned unchanged, so
    the run continues with what it has.

    Raises
    ------
    InputFileError
        ``table_file`` is missing or unreadable (every problem listed).
    """
    if (
        facilities is not None
        and "data_source" in facilities.columns
        and facilities["data_source"].astype(str).isin(["osm", "osm_edited"]).any()
    ):
        return facilities
    if table_file is not None:
        added = load_facilities(Path(table_file), region=counties, bounds=bounds)
    else:
        try:
            added = load_osm_facilities(counties, osm_file=osm_file, bounds=bounds).facilities
        except PlanningError as err:
            warnings.warn(
                PlanningWarning("osm.candidates_unavailable", reason=reason_of(err)),
                stacklevel=2,
            )
            return facilities
    if added.empty:
        return facilities
    if facilities is None or facilities.empty:
        return added
    combined = pd.concat([facilities, added])
    return gpd.GeoDataFrame(combined, geometry="geometry", crs="EPSG:4326")
