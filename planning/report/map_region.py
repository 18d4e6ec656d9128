"""The map of a region's inputs before solving: counties, demand cells, facilities.

Drawn on the shell of :mod:`planning.report.map_shell` with the layers of
:mod:`planning.report.map_layers`; the Region page, the rollout map and the batch roll-up use it
(with their own layers as ``overlays``). Patient counts in tooltips follow the region's privacy
mask: the counties add up to the region total shown beside the map.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import pandas as pd

from planning.report.map_layers import (
    _boundaries,
    _county_labels,
    _demand_layer,
    _facility_layer,
    _features,
    _prefecture_layer,
    _tooltip,
)
from planning.report.map_shell import (
    COUNTY_TOLERANCE_DEG,
    Basemap,
    Lang,
    _base_map,
    _finish,
    _texts,
    display_coords,
)
from planning.results.privacy import CountMask, scenario_input_mask
from planning.suppression import suppress_small


# ----------------------------------------------------------------------------- inputs map
def build_region_map(
    counties: gpd.GeoDataFrame,
    *,
    demand: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    privacy_threshold: int = 5,
    travel_label: str | None = None,
    basemap: Basemap | str = "cartodb",
    lang: Lang | str = "zh",
    overlays: Sequence[folium.FeatureGroup] = (),
    overlay_legend: Sequence[tuple[str, list[tuple[str, str, str]]]] = (),
    bounds: tuple[float, float, float, float] | None = None,
    collapsed_layers: bool = False,
    input_mask: CountMask | None = None,
) -> folium.Map:
    """Map a region's inputs before solving: counties, optional demand cells and facilities.

    Parameters
    ----------
    counties
        County layer (index ``county_id``; ``name``, optional ``population`` and ``patients``),
        WGS-84.
    demand
        Optional demand cells (``weight``, ``county_name``), shaded by estimated patients.
    facilities
        Optional facility table (``name``, ``type``, ``capacity``, ``address``), by type.
    privacy_threshold
        Patient counts below it read ``"<N"``.
    travel_label
        Shown in a corner when given (e.g. ``"estimated (straight-line)"``).
    overlays
        Further toggleable layers (e.g. the rollout's sites by opening year), added under the
        county boundaries and before the layer switch. Add layers here, not to the returned
        map: the layer switch must come after every layer it lists, or Leaflet fails in the
        browser and the map stays blank. Build them inside :func:`display_coords` of the
        same ``basemap`` so they are drawn in the map's coordinate system.
    overlay_legend
        Legend sections of the overlays (title, rows of ``(colour, label, shape)``), shown in
        the map's one legend after its own sections.
    bounds
        Extent to fit (WGS-84); default: the counties.
    collapsed_layers
        The layer switch as an icon and the legend opening on a click (for a map in a page
        column: the region gets the room).
    input_mask
        The scenario's input mask (:func:`~planning.results.privacy.scenario_input_mask` of
        its counties and prepared demand cells), for a map that does not draw the cells;
        default: built from ``counties`` and ``demand``, as the plan builds it. County and
        cell counts read as in the plan's files.
    """
    with display_coords(basemap):
        return _region_map(
            counties,
            demand=demand,
            facilities=facilities,
            privacy_threshold=privacy_threshold,
            travel_label=travel_label,
            basemap=basemap,
            lang=lang,
            overlays=overlays,
            overlay_legend=overlay_legend,
            bounds=bounds,
            collapsed_layers=collapsed_layers,
            input_mask=input_mask,
        )


def _region_map(
    counties: gpd.GeoDataFrame,
    *,
    demand: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    privacy_threshold: int,
    travel_label: str | None,
    basemap: str,
    lang: str,
    overlays: Sequence[folium.FeatureGroup],
    overlay_legend: Sequence[tuple[str, list[tuple[str, str, str]]]],
    bounds: tuple[float, float, float, float] | None,
    collapsed_layers: bool,
    input_mask: CountMask | None,
) -> folium.Map:
    t = _texts(lang)
    mask = input_mask
    if mask is None and "patients" in counties:  # the scenario's own, as the plan builds it
        mask = scenario_input_mask(counties, threshold=privacy_threshold, demand=demand)
    m = _base_map(bounds or tuple(counties.total_bounds), basemap=basemap, lang=lang)
    legend: list[tuple[str, list[tuple[str, str, str]]]] = []
    fields = ["name"]
    aliases = [t["county"]]
    props = pd.DataFrame({"name": counties["name"].astype(str)}, index=counties.index)
    if "population" in counties:
        props["population"] = counties["population"].map(
            lambda v: "" if pd.isna(v) else f"{v:,.0f}"
        )
        fields.append("population")
        aliases.append(t["population"])
    if "patients" in counties:
        # the counties of a region add up to its total, shown beside the map: the scenario's
        # own mask (with its counted cells), so every output shows them alike
        props["patients"] = suppress_small(
            counties["patients"].astype(float),
            threshold=privacy_threshold,
            hidden=mask.counties(counties.index, "patients") if mask is not None else None,
        )
        fields.append("patients")
        aliases.append(t["patients"])
    group = folium.FeatureGroup(name=t["county"], show=True)
    folium.GeoJson(
        _features(counties, props, tolerance_deg=COUNTY_TOLERANCE_DEG),
        style_function=lambda _f: {
            "color": "#555555",
            "weight": 0.5,
            "fillColor": "#9ecae1",
            "fillOpacity": 0.15,
        },
        tooltip=_tooltip(fields, aliases),
    ).add_to(group)
    group.add_to(m)
    if demand is not None and len(demand):
        layer = _demand_layer(demand, t, thr=privacy_threshold, mask=mask)  # cells as the plan's
        legend.append(layer.add_to_map(m))
    if facilities is not None and len(facilities):
        fgroup, rows = _facility_layer(facilities, t)
        fgroup.add_to(m)
        legend.append((t["facilities"], rows))
    for overlay in overlays:
        overlay.add_to(m)
    _boundaries(counties, t).add_to(m)
    legend.extend(_prefecture_layer(counties, t, m))  # a province: its prefectures
    _county_labels(counties, lang=lang).add_to(m)
    legend.extend(overlay_legend)
    _finish(m, legend, travel_label, t, lang=lang, basemap=basemap, collapsed=collapsed_layers)
    return m
