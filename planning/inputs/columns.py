"""Recognise planners' column headers and facility types, in Chinese or English.

Used by :mod:`planning.inputs` and by the app's column-mapping step (:func:`guess_columns`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import pandas as pd

from planning.errors import DataError

TableKind = Literal["facilities", "patients"]

FACILITY_TYPES = (
    "rehab_existing",
    "psychiatric_hospital",
    "community_health_centre",
    "community_service_centre",
    "new_build",
    "general_hospital",
    "clinic",
    "other",
)
"""Canonical facility types (the ``type`` column of a loaded facility layer).

``general_hospital`` and ``clinic`` (e.g. from OpenStreetMap) are kept for reference: they are
neither candidates nor referral targets."""

KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "facilities": ("id", "name", "type", "lon", "lat", "capacity", "address", "county"),
    "patients": ("county", "lon", "lat", "count"),
}
"""Canonical column names recognised for each kind of table."""

# Whole (normalised) headers that mean a canonical column.
_EXACT: dict[str, set[str]] = {
    "id": {"id", "fid", "编号", "序号", "机构编号", "站点编号", "机构代码", "facilityid", "siteid"},
    "name": {
        "名称",
        "机构名称",
        "单位名称",
        "站点名称",
        "设施名称",
        "康复站名称",
        "机构",
        "单位",
        "name",
        "facility",
        "facilityname",
        "sitename",
        "名字",
    },
    "type": {
        "类型",
        "机构类型",
        "设施类型",
        "站点类型",
        "类别",
        "性质",
        "机构性质",
        "type",
        "category",
        "kind",
        "facilitytype",
        "sitetype",
    },
    "lon": {"经度", "东经", "lon", "lng", "long", "longitude", "x", "xcoord", "x坐标", "坐标x"},
    "lat": {"纬度", "北纬", "lat", "latitude", "y", "ycoord", "y坐标", "坐标y"},
    "capacity": {
        "容量",
        "床位",
        "床位数",
        "服务容量",
        "可服务人数",
        "服务能力",
        "规模",
        "名额",
        "capacity",
        "beds",
        "bed",
        "cap",
        "places",
    },
    "address": {"地址", "详细地址", "机构地址", "所在地址", "位置", "address", "addr", "location"},
    "county": {
        "区县",
        "县区",
        "县市区",
        "所属区县",
        "所在区县",
        "区县名称",
        "县",
        "区",
        "行政区",
        "行政区划代码",
        "区划代码",
        "县级行政区",
        "county",
        "district",
        "countyname",
        "countyid",
        "countycode",
        "adcode",
    },
    "count": {
        "人数",
        "患者人数",
        "患者数",
        "在册人数",
        "在册患者数",
        "登记人数",
        "病人数",
        "例数",
        "数量",
        "合计",
        "count",
        "patients",
        "n",
        "number",
        "cases",
        "patientcount",
        "npatients",
        "total",
    },
}
# Keywords found inside longer headers ("经度（GCJ-02）", "床位数（张）", "区县名称").
# Order matters: a header matching several canonical names takes the first one listed here.
_CONTAINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("county", ("区县", "县区", "county", "district", "adcode", "区划")),
    ("lon", ("经度", "longitude", "lon", "lng")),
    ("lat", ("纬度", "latitude", "lat")),
    ("capacity", ("床位", "容量", "capacity", "beds")),
    ("count", ("人数", "患者数", "例数", "count", "patients")),
    ("address", ("地址", "address")),
    ("type", ("类型", "类别", "type", "category")),
    ("name", ("名称", "name")),
)


def normalise_header(header: object) -> str:
    """Lower-case, full-width folded header without brackets, spaces or separators."""
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    text = re.sub(r"[(\[【（{].*?[)\]】）}]", "", text)
    return re.sub(r"[\s_\-./:：、·]+", "", text)


def _tokens(header: object) -> set[str]:
    text = unicodedata.normalize("NFKC", str(header)).lower()
    return {t for t in re.split(r"[^0-9a-z]+", text) if t}


def _contains_match(header: object, keyword: str) -> bool:
    if keyword.isascii():
        return keyword in _tokens(header)
    return keyword in normalise_header(header)


def guess_columns(frame: pd.DataFrame, *, kind: TableKind) -> dict[str, str | None]:
    """Guess which header of ``frame`` holds each canonical column.

    Parameters
    ----------
    frame
        A table as read by :func:`planning.inputs.read_table` (any headers).
    kind
        ``"facilities"`` (keys ``id``, ``name``, ``type``, ``lon``, ``lat``, ``capacity``,
        ``address``, ``county``) or ``"patients"`` (keys ``county``, ``lon``, ``lat``,
        ``count``).

    Returns
    -------
    mapping
        Canonical name -> header of ``frame`` (``None`` when no header fits). Each header is
        used at most once. Whole-header matches (``经度``, ``lon``, ``Longitude``, ``x``) win over
        keyword matches inside longer headers (``经度（高德）``, ``床位数（张）``).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame(columns=["机构名称", "经度(GCJ-02)", "纬度(GCJ-02)", "床位数"])
    >>> guess_columns(frame, kind="facilities")["lon"]
    '经度(GCJ-02)'
    """
    if kind not in KIND_FIELDS:
        raise DataError("files.kind_unknown", kind=kind)
    fields = KIND_FIELDS[kind]
    headers = [str(c) for c in frame.columns if str(c) != "geometry"]
    mapping: dict[str, str | None] = dict.fromkeys(fields)
    used: set[str] = set()
    for field in fields:
        for h in headers:
            if h not in used and normalise_header(h) in _EXACT[field]:
                mapping[field] = h
                used.add(h)
                break
    for h in headers:
        if h in used:
            continue
        for field, keywords in _CONTAINS:
            if any(_contains_match(h, k) for k in keywords):
                if field in mapping and mapping[field] is None:
                    mapping[field] = h
                    used.add(h)
                break
    return mapping


def coordinate_hint(header: str | None) -> str | None:
    """Coordinate system named in a header such as ``经度（百度）`` (``"bd09"``/``"gcj02"``)."""
    if header is None:
        return None
    text = unicodedata.normalize("NFKC", header).lower()
    if any(k in text for k in ("bd09", "bd-09", "百度", "baidu")):
        return "bd09"
    if any(k in text for k in ("gcj", "高德", "amap", "腾讯", "tencent", "火星")):
        return "gcj02"
    if any(k in text for k in ("wgs", "gps")):
        return "wgs84"
    return None


_TYPE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("new_build", ("新建", "拟建", "规划新建", "newbuild", "new build", "new_build", "planned")),
    (
        "psychiatric_hospital",
        (
            "精神专科",
            "精神病",
            "精神卫生中心",
            "精神卫生",
            "精神科医院",
            "psychiatric",
            "mental hospital",
            "mental health cent",
        ),
    ),
    ("rehab_existing", ("康复", "康乐家园", "rehab")),
    (
        "community_health_centre",
        ("社区卫生服务", "卫生院", "卫生服务站", "卫生室", "health cent"),
    ),
    (
        "community_service_centre",
        (
            "社区综合服务",
            "综合服务",
            "民政",
            "养老",
            "日间照料",
            "社区服务",
            "残联",
            "service cent",
            "elderly",
            "day care",
            "civil affairs",
        ),
    ),
    (
        "general_hospital",
        ("综合医院", "人民医院", "中医院", "医院", "general hospital", "hospital"),
    ),
    ("clinic", ("诊所", "门诊", "clinic", "doctors")),
)


def canonical_type(value: object) -> str:
    """Map a facility type written by a planner to a canonical type.

    Examples
    --------
    >>> canonical_type("现有康复站"), canonical_type("精神卫生中心"), canonical_type("卫生院")
    ('rehab_existing', 'psychiatric_hospital', 'community_health_centre')
    >>> canonical_type("日间照料中心"), canonical_type("新建"), canonical_type("学校")
    ('community_service_centre', 'new_build', 'other')
    >>> canonical_type("综合医院"), canonical_type("诊所")
    ('general_hospital', 'clinic')
    """
    if value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return "other"
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    compact = re.sub(r"[\s\-]+", "_", text)
    if compact in FACILITY_TYPES:
        return compact
    for canonical, keywords in _TYPE_RULES:
        if any(k in text for k in keywords):
            return canonical
    return "other"
