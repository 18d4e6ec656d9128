"""The rollout on an interactive map: sites coloured by opening year, counties by their first.

Built on the region map (:func:`planning.report.map_region.build_region_map`) with two overlays
and their legend section; ``year`` shows the plan as of that year (later openings hollow).
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import pandas as pd

from planning.inputs.sites import site_names
from planning.report.labels import label_group
from planning.report.map_region import build_region_map
from planning.report.map_shell import display_coords, display_geojson, display_latlon
from planning.results.rollout import RolloutResult

EXISTING_COLOUR = "#1f4e9c"
YEAR_COLOURS = ("#b30000", "#e34a33", "#fc8d59", "#fdbb84", "#fdd49e", "#fee8c8")
LATER_COLOUR = "#969696"


def year_colours(years: tuple[int, ...]) -> dict[int, str]:
    """Colour of each phase year: darkest first (the sites that matter most open first)."""
    n = len(YEAR_COLOURS)
    return {y: YEAR_COLOURS[min(k, n - 1)] for k, y in enumerate(years)}


def build_rollout_map(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    year: int | None = None,
    travel_label: str | None = None,
    basemap: str = "cartodb",
    lang: str = "zh",
) -> folium.Map:
    """Map the rollout: sites coloured by opening year, counties by their first site's year.

    Parameters
    ----------
    sites, counties
        The layers the plan was solved on (WGS-84; index ``site_id`` / ``county_id``).
    year
        Show the plan as of this year: later openings are drawn hollow and grey. Default:
        the last year.
    basemap, lang
        As :func:`planning.report.maps.build_region_map` (``"none"``, ``"tianditu"``,
        ``"amap"``, ``"cartodb"``, ``"osm"``; ``"zh"`` or ``"en"``).

    Raises
    ------
    ScenarioError
        ``year`` is not a phase year, or an unknown basemap.
    """
    year = result.years[-1] if year is None else year
    result.open_sites(year)  # raises ScenarioError for a year outside the phases
    txt = label_group("report.rollout_map", "zh" if lang == "zh" else "en")
    colours = year_colours(result.years)
    with display_coords(basemap):  # drawn in GCJ-02 on an AMap basemap, like every layer
        cgroup, sgroup = _rollout_layers(
            result, sites=sites, counties=counties, year=year, colours=colours, txt=txt, lang=lang
        )
    rows = [(EXISTING_COLOUR, txt["existing"], "circle")]
    rows += [(colours[y], txt["opens"].format(year=y), "circle") for y in result.years if y <= year]
    if year < result.years[-1]:
        rows.append((LATER_COLOUR, txt["later"], "circle"))
    head = f"{txt['legend']} · {txt['upto'].format(year=year)}"
    return build_region_map(
        counties[["name", "geometry"]],
        travel_label=travel_label,
        basemap=basemap,
        lang=lang,
        overlays=[cgroup, sgroup],
        overlay_legend=[(head, rows)],
    )


def _rollout_layers(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    year: int,
    colours: dict[int, str],
    txt: dict[str, str],
    lang: str,
) -> tuple[folium.FeatureGroup, folium.FeatureGroup]:
    cby = result.counties_by_year
    first = cby[cby["has_site"] & (cby["year"] <= year)].groupby("county_id")["year"].min()
    cgroup = folium.FeatureGroup(name=txt["counties"], show=True)
    for cid, yr in first.items():
        if cid not in counties.index:
            continue
        colour = colours.get(int(yr), LATER_COLOUR)
        folium.GeoJson(
            display_geojson(counties.geometry.loc[cid], tolerance_deg=0.0005),
            style_function=lambda _f, c=colour: {
                "color": c,
                "weight": 0.5,
                "fillColor": c,
                "fillOpacity": 0.18,
            },
            tooltip=f"{counties.loc[cid, 'name']}: {int(yr)}",
        ).add_to(cgroup)
    sgroup = folium.FeatureGroup(name=txt["sites"], show=True)
    pts = sites.geometry.to_crs("EPSG:4326")
    if {"name", "source"} <= set(sites.columns):  # generated candidates named in ``lang``
        names = site_names(sites, lang="zh" if lang == "zh" else "en")
    elif "name" in sites.columns:
        names = sites["name"].astype(str)
    else:
        names = pd.Series(sites.index.astype(str), index=sites.index)
    name_of = names.to_dict()
    for sid, row in result.sites.sort_values("opening_year", na_position="first").iterrows():
        if sid not in pts.index:
            continue
        pt = pts.loc[sid]
        oy = row["opening_year"]
        existing = pd.isna(oy)
        later = not existing and int(oy) > year
        colour = EXISTING_COLOUR if existing else colours.get(int(oy), LATER_COLOUR)
        name = str(name_of.get(sid, sid))
        when = txt["existing"] if existing else txt["opens"].format(year=int(oy))
        tip = (
            f"<b>{html.escape(name)}</b> ({html.escape(str(sid))})<br>"
            f"{txt['county']}: {html.escape(str(row['county_name']))}<br>{html.escape(when)}"
        )
        folium.CircleMarker(
            display_latlon(pt.y, pt.x),
            radius=6 if later else 8,
            color=LATER_COLOUR if later else "#ffffff",
            weight=2,
            dash_array="3" if later else None,
            fill=not later,
            fill_color=colour,
            fill_opacity=0.0 if later else 0.95,
            tooltip=tip,
        ).add_to(sgroup)
    return cgroup, sgroup
