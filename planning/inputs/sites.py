"""Candidate and existing sites: a generated grid and/or the planner's facility table.

Generated candidates are points of a regular grid inside the region (``source="generated"``,
``candidate_type="generated"``); they are a demo stand-in for real premises and are labelled
as such everywhere. Facilities of type ``rehab_existing`` are existing sites, kept open by
every model; ``psychiatric_hospital`` rows are referral targets, not candidates;
``general_hospital`` and ``clinic`` rows are for reference only; every other type is a
candidate of that type. With ``source="osm"`` (or ``"grid+osm"``) the candidates are the
facilities from OpenStreetMap that can host a rehab site
(:data:`planning.inputs.osm.HOST_TYPES`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning import i18n
from planning._validate import require_columns
from planning.errors import DataError, PlanningWarning, ScenarioError
from planning.i18n import Msg
from planning.inputs.regions import utm_crs
from planning.scenario import CandidateType

logger = logging.getLogger(__name__)

CandidateSource = Literal["grid", "facilities", "grid+facilities", "osm", "grid+osm"]
SITE_COLUMNS = [
    "name",
    "kind",
    "source",
    "candidate_type",
    "fixed",
    "cost",
    "capacity",
    "county",
    "prefecture",
    "lon",
    "lat",
]
NOT_CANDIDATES = {"psychiatric_hospital", "general_hospital", "clinic"}
OSM_HOST_TYPES = frozenset({"community_health_centre", "community_service_centre"})
"""Facility types from OpenStreetMap that can host a rehab site (``source="osm"``)."""
# Name of a generated candidate: catalog text ``report.site.generated_name``; the site layer
# stores the Chinese one (the app's default language) and :func:`site_names` gives the name
# in another language.
GENERATED_NAME = "report.site.generated_name"


def site_names(sites: pd.DataFrame, *, lang: str = "zh") -> pd.Series:
    """Site names as shown in ``lang``: generated candidates get that language's name.

    Generated grid candidates (``source == "generated"``) are named from their id
    (:data:`GENERATED_NAME`, e.g. "Generated candidate G0025"); every other site keeps the
    name it was given (a facility's name is the planner's data and is never translated).

    Parameters
    ----------
    sites
        Site layer (see :func:`build_sites`): index ``site_id``, columns ``name`` and
        ``source``.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    names
        Strings, same index as ``sites``.

    Raises
    ------
    ScenarioError
        Unknown language.
    DataError
        ``sites`` lacks ``name`` or ``source``.

    Examples
    --------
    >>> sites = pd.DataFrame(
    ...     {"name": ["生成候选点 G0001", "康园"], "source": ["generated", "facility"]},
    ...     index=pd.Index(["G0001", "F1"], name="site_id"),
    ... )
    >>> site_names(sites, lang="en").tolist()
    ['Generated candidate G0001', '康园']
    """
    if lang not in i18n.LANGS:
        raise ScenarioError("sites.language_unknown", lang=lang)
    require_columns(sites, {"name", "source"}, name=Msg("sites.name_site_layer"))
    generated = sites["source"].astype(str) == "generated"
    names = sites["name"].astype(str)
    template = i18n.template(GENERATED_NAME, i18n.check_language(lang))
    own = [template.format(site_id=sid) for sid in sites.index[generated]]
    return names.mask(generated, pd.Series(own, index=sites.index[generated], dtype=object))


def generate_candidate_grid(counties: gpd.GeoDataFrame, *, spacing_m: float) -> gpd.GeoDataFrame:
    """Grid points every ``spacing_m`` metres inside ``counties`` (cell centres, UTM zone).

    Returns sites (see :func:`build_sites`) with ids ``G0001``... numbered north-west to
    south-east. A county too small to hold a grid point gets its representative point, so
    every county has at least one candidate.
    """
    crs = utm_crs(counties)
    proj = counties.to_crs(crs)
    minx, miny, maxx, maxy = proj.total_bounds
    xs = np.arange(np.floor(minx / spacing_m) * spacing_m + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(np.floor(miny / spacing_m) * spacing_m + spacing_m / 2, maxy, spacing_m)[::-1]
    gx, gy = np.meshgrid(xs, ys)
    pts = gpd.GeoDataFrame(geometry=shapely.points(gx.ravel(), gy.ravel()), crs=crs)
    hit = gpd.sjoin(pts, proj[["geometry"]].reset_index(), how="inner", predicate="within")
    hit = hit[~hit.index.duplicated()]
    parts = [hit[["county_id", "geometry"]]]
    missing = proj.index.difference(hit["county_id"].unique())
    if len(missing):
        rep = proj.loc[missing].geometry.representative_point()
        parts.append(gpd.GeoDataFrame({"county_id": missing}, geometry=rep.to_numpy(), crs=crs))
    pts = pd.concat(parts)
    order = np.lexsort((pts.geometry.x.to_numpy(), -pts.geometry.y.to_numpy()))
    pts = pts.iloc[order]
    pts = pts.to_crs("EPSG:4326")
    ids = [f"G{i:04d}" for i in range(1, len(pts) + 1)]
    return gpd.GeoDataFrame(
        {
            "name": [i18n.template(GENERATED_NAME, "zh").format(site_id=i) for i in ids],
            "kind": "candidate",
            "source": "generated",
            "candidate_type": "generated",
            "fixed": False,
            "cost": 0.0,
            "capacity": np.nan,
            "county": pts["county_id"].astype(str).to_numpy(),
        },
        index=pd.Index(ids, name="site_id"),
        geometry=pts.geometry.to_numpy(),
        crs="EPSG:4326",
    )


def build_sites(
    counties: gpd.GeoDataFrame,
    *,
    source: CandidateSource,
    spacing_m: float,
    facilities: gpd.GeoDataFrame | None = None,
    candidate_types: Sequence[CandidateType] = (),
) -> gpd.GeoDataFrame:
    """Build the site layer: candidates and existing sites, in WGS-84.

    Parameters
    ----------
    counties
        Planning region (index ``county_id``, columns ``prefecture``), WGS-84.
    source
        ``"grid"``, ``"facilities"``, ``"grid+facilities"``, ``"osm"`` or ``"grid+osm"``.
        Existing rehab sites from the facility table are included whatever the source.
        ``"osm"`` takes the facility rows from OpenStreetMap (``data_source`` ``"osm"`` or
        ``"osm_edited"``) whose type can host a rehab site (:data:`OSM_HOST_TYPES`); when
        there is none, the generated grid is used instead, with a warning.
    facilities
        Facility layer (index ``facility_id``; columns ``name``, ``type``, ``capacity``),
        WGS-84 points, already checked to lie in the region.
    candidate_types
        Opening cost and capacity per candidate type; a facility's own capacity wins.

    Returns
    -------
    sites
        Index ``site_id``; columns ``name``, ``kind`` (``existing``/``candidate``), ``source``
        (``generated``/``facility``), ``candidate_type``, ``fixed``, ``cost``, ``capacity``
        (NaN = unlimited), ``county``, ``prefecture``, ``lon``, ``lat``; Point geometry.

    Raises
    ------
    ScenarioError
        ``source`` needs facilities but none were given.
    DataError
        The facility table is empty or its ids clash with generated ids.
    """
    parts: list[gpd.GeoDataFrame] = []
    if source == "osm" and not _osm_hosts(facilities).any():
        warnings.warn(PlanningWarning("osm.no_host_candidates"), stacklevel=2)
        source = "grid+osm"
    if "grid" in source:
        parts.append(generate_candidate_grid(counties, spacing_m=spacing_m))
    if facilities is not None and "osm" in source:
        facilities = facilities[_osm_hosts(facilities) | (facilities["type"] == "rehab_existing")]
        if facilities.empty:
            facilities = None
    if facilities is not None:
        if facilities.empty:
            raise DataError("sites.facilities_empty")
        fac = facilities[~facilities["type"].isin(NOT_CANDIDATES)]
        if source == "grid":
            fac = fac[fac["type"] == "rehab_existing"]
        if not fac.empty:
            located = gpd.sjoin(
                fac[["geometry"]],
                counties[["geometry"]].reset_index(),
                how="left",
                predicate="within",
            )
            located = located[~located.index.duplicated()]
            existing = fac["type"] == "rehab_existing"
            part = gpd.GeoDataFrame(
                {
                    "name": fac["name"].astype(str).to_numpy(),
                    "kind": np.where(existing, "existing", "candidate"),
                    "source": "facility",
                    "candidate_type": fac["type"].astype(str).to_numpy(),
                    "fixed": existing.to_numpy(),
                    "cost": 0.0,
                    "capacity": pd.to_numeric(fac.get("capacity"), errors="coerce").to_numpy()
                    if "capacity" in fac
                    else np.nan,
                    "county": located["county_id"].astype(str).to_numpy(),
                },
                index=pd.Index(fac.index.astype(str), name="site_id"),
                geometry=fac.geometry.to_numpy(),
                crs="EPSG:4326",
            )
            parts.append(part)
    elif source not in {"grid", "grid+osm"}:
        raise ScenarioError("sites.source_needs_facilities", source=source)
    if not parts:
        raise ScenarioError("sites.no_candidates")
    sites = pd.concat(parts)
    if sites.index.duplicated().any():
        dup = sites.index[sites.index.duplicated()].unique()[:5]
        raise DataError("sites.ids_twice", ids=str(list(dup)))
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs="EPSG:4326")
    types = {t.name: t for t in candidate_types}
    cost = sites["candidate_type"].map(lambda t: types[t].opening_cost if t in types else 0.0)
    cap = sites["candidate_type"].map(
        lambda t: types[t].capacity if t in types and types[t].capacity else np.nan
    )
    sites["cost"] = np.where(sites["fixed"], 0.0, cost.astype(float))
    sites["capacity"] = sites["capacity"].astype(float).fillna(cap.astype(float))
    sites["prefecture"] = sites["county"].map(counties["prefecture"]).astype(str)
    sites["lon"] = sites.geometry.x
    sites["lat"] = sites.geometry.y
    logger.info(
        "Sites: %d candidates, %d existing",
        int((sites["kind"] == "candidate").sum()),
        int(sites["fixed"].sum()),
    )
    return sites[[*SITE_COLUMNS, "geometry"]]


def _osm_hosts(facilities: gpd.GeoDataFrame | None) -> pd.Series:
    """Rows of ``facilities`` from OpenStreetMap whose type can host a rehab site."""
    if facilities is None:
        return pd.Series(dtype=bool)
    if "data_source" not in facilities.columns:
        return pd.Series(data=False, index=facilities.index)
    from_osm = facilities["data_source"].astype(str).isin(["osm", "osm_edited"])
    hosts: pd.Series = from_osm & facilities["type"].isin(OSM_HOST_TYPES)
    return hosts


def psychiatric_hospitals(facilities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Facilities of type ``psychiatric_hospital`` (referral targets), or ``None``."""
    if facilities is None:
        return None
    hosp = facilities[facilities["type"] == "psychiatric_hospital"]
    return hosp if not hosp.empty else None
