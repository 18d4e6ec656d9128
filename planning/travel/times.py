"""The travel step's one entry point: estimate or road network, with the fallback in one place."""

from __future__ import annotations

import warnings

import geopandas as gpd

from planning._progress import Progress, sub_progress
from planning.errors import NetworkError, PlanningWarning
from planning.scenario import TravelSettings
from planning.travel.estimate import compute_estimated_travel_times
from planning.travel.roads import load_network_for, region_polygon
from planning.travel.routing import compute_network_travel_times
from planning.travel.table import TravelTimes


def compute_travel_times(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    settings: TravelSettings,
    cutoff_min: float | None,
    region: gpd.GeoDataFrame | None = None,
    hospitals: gpd.GeoDataFrame | None = None,
    progress: Progress | None = None,
) -> TravelTimes:
    """Travel times in the mode ``settings.mode`` (the one entry point the pipeline calls).

    ``"estimated"`` uses :func:`~planning.travel.estimate.compute_estimated_travel_times`
    (hospitals' referral times are estimated the same way). ``"network"`` loads
    ``settings.osm_file`` or downloads (and caches) the OSM network of ``region`` (county
    polygons, WGS-84; default: the hull of the points), then calls
    :func:`~planning.travel.routing.compute_network_travel_times`. Demand cells with a
    boolean ``urban`` column and polygon geometry mark where urban road speeds apply.

    When no road data can be had (offline and nothing cached), a ``UserWarning`` says why and
    how to fix it, and the straight-line estimate is returned (``mode="estimated"``, labelled
    "estimated (straight-line)"). A given ``osm_file`` that cannot be read raises
    :class:`~planning.errors.NetworkError` instead: the user asked for that file.

    Parameters
    ----------
    region
        County polygons (WGS-84) whose union bounds the road network to load.
    hospitals
        Psychiatric hospitals (WGS-84 points); when given, ``referral_min`` holds each site's
        minutes to the nearest one.
    """
    if settings.mode == "network":
        polygon = region_polygon(region, demand, sites, hospitals)
        try:
            net = load_network_for(settings, polygon, progress=sub_progress(progress, 0.0, 0.4))
        except NetworkError as err:
            if settings.osm_file:
                raise
            warning = PlanningWarning("travel.fallback_estimate", reason=err.message)
            warnings.warn(warning, stacklevel=2)
            settings = settings.model_copy(update={"mode": "estimated"})
        else:
            urban_areas = None
            if (
                "urban" in demand.columns
                and len(demand)
                and (demand.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all())
            ):
                urban_areas = demand.loc[demand["urban"].astype(bool)].geometry
            return compute_network_travel_times(
                demand,
                sites,
                network=net,
                settings=settings,
                cutoff_min=cutoff_min,
                hospitals=hospitals if hospitals is not None and len(hospitals) else None,
                urban_areas=urban_areas,
                progress=sub_progress(progress, 0.4, 1.0),
            )
    result = compute_estimated_travel_times(
        demand, sites, settings=settings, cutoff_min=cutoff_min, progress=progress
    )
    if hospitals is None or hospitals.empty:
        return result
    # referral: site -> nearest psychiatric hospital, estimated with the site's county speed
    site_pts = sites.assign(urban_share=sites.get("urban_share", 0.0))
    ref = compute_estimated_travel_times(site_pts, hospitals, settings=settings, cutoff_min=None)
    referral = ref.table.groupby("demand_id")["travel_min"].min().rename("referral_min")
    referral.index = referral.index.rename("site_id")
    return TravelTimes(
        table=result.table,
        cutoff_min=result.cutoff_min,
        mode=result.mode,
        label=result.label,
        referral_min=referral,
    )
