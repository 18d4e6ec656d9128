"""Folium maps of a solved plan or of a region's inputs, with toggleable layers and a legend.

The maps are plain :class:`folium.Map` objects: the app shows them with ``streamlit-folium`` and
the exports save them as standalone HTML. They work offline: Leaflet is embedded from a copy
shipped with the package (``planning/report/_vendor/leaflet``, BSD-2-Clause) instead of a CDN, tiles
are optional (``basemap="none"``) and county boundaries are always drawn.

Layers (each a :class:`folium.FeatureGroup` listed in the layer control):

``coverage``
    Counties shaded by the share of their patients within ``max_travel_min`` of an open site.
``demand``
    Demand cells shaded by estimated patients.
``sites``
    Open sites by kind: existing (kept open), new, hub.
``candidates``
    Candidate sites that were not chosen (hidden by default).
``assignments``
    A line from each demand cell to the site serving it (hidden by default; left out above
    :data:`MAX_MAP_CELLS` served cells, where ``catchments`` show the same).
``catchments``
    The cells each open site serves, merged per site (hidden by default).
``facilities``
    The facility table by type (existing rehab sites, hospitals, ...).
``reach``
    Cells within ``max_travel_min`` of the site given as ``selected_site``.

Privacy: every patient count in a tooltip or the legend passes
:func:`planning.results.suppress_small`, so counts below the scenario's ``privacy_threshold``
read ``"<5"``; county and site counts use the plan's :func:`planning.results.count_mask`, so
a count that would give a hidden one back by subtraction reads ``"≥N"`` as in the exports.
The travel-mode label (e.g. "estimated (straight-line)") is always shown.

The plan map is built here (:func:`build_map`); the region map before solving in
:mod:`planning.report.map_region` (:func:`build_region_map`), the shell they share (basemaps,
coordinates, controls, legend) in :mod:`planning.report.map_shell` and their common layers in
:mod:`planning.report.map_layers`. This module re-exports the names callers use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning.errors import ScenarioError
from planning.inputs.sites import site_names
from planning.report import legend as legend_classes
from planning.report._shared import travel_means
from planning.report.map_layers import (
    ASSIGN_BEYOND_COLOUR,
    ASSIGN_WITHIN_COLOUR,
    CANDIDATE_COLOUR,
    CATCHMENT_COLOURS,
    COVERAGE_BREAKS,
    COVERAGE_COLOURS,
    DEFAULT_LAYERS,
    FACILITY_COLOURS,
    LAYER_NAMES,
    MAX_MAP_CELLS,
    OVER_CAPACITY_COLOUR,
    PATIENT_COLOURS,
    REACH_COLOUR,
    SHOWN_BY_DEFAULT,
    SITE_COLOURS,
    LegendSection,
    _boundaries,
    _classify,
    _county_labels,
    _demand_layer,
    _facility_layer,
    _features,
    _fmt_min,
    _fmt_share,
    _load_text,
    _places,
    _point_layer,
    _prefecture_layer,
    _tooltip,
    display_cells,
)
from planning.report.map_region import build_region_map
from planning.report.map_shell import (
    BASEMAPS,
    CELL_DECIMALS,
    CELL_TOLERANCE_DEG,
    COUNTY_TOLERANCE_DEG,
    GCJ02_BASEMAPS,
    TEXT,
    Basemap,
    Lang,
    _base_map,
    _finish,
    _latlon,
    _texts,
    coordinate_note,
    display_coords,
    display_geojson,
    display_latlon,
    map_html,
    region_bounds,
    tianditu_available,
    travel_label_text,
)
from planning.results.privacy import CountMask, count_mask
from planning.suppression import hide_revealing_shares, suppress_small

if TYPE_CHECKING:
    from planning.pipeline import Plan

__all__ = [
    "ASSIGN_BEYOND_COLOUR",
    "ASSIGN_WITHIN_COLOUR",
    "BASEMAPS",
    "CANDIDATE_COLOUR",
    "CATCHMENT_COLOURS",
    "COUNTY_TOLERANCE_DEG",
    "COVERAGE_BREAKS",
    "COVERAGE_COLOURS",
    "DEFAULT_LAYERS",
    "FACILITY_COLOURS",
    "GCJ02_BASEMAPS",
    "LAYER_NAMES",
    "MAX_MAP_CELLS",
    "OVER_CAPACITY_COLOUR",
    "PATIENT_COLOURS",
    "REACH_COLOUR",
    "SHOWN_BY_DEFAULT",
    "SITE_COLOURS",
    "TEXT",
    "Basemap",
    "Lang",
    "LegendSection",
    "build_map",
    "build_region_map",
    "coordinate_note",
    "display_cells",
    "display_coords",
    "display_geojson",
    "display_latlon",
    "map_html",
    "region_bounds",
    "tianditu_available",
    "travel_label_text",
]


# ----------------------------------------------------------------------------- plan map
def build_map(
    plan: Plan,
    *,
    layers: Sequence[str] = DEFAULT_LAYERS,
    basemap: Basemap | str = "cartodb",
    lang: Lang | str = "zh",
    selected_site: str | None = None,
    compact: bool = False,
    bounds: tuple[float, float, float, float] | None = None,
) -> folium.Map:
    """Map a solved plan: counties, demand, sites, assignments, facilities, a site's reach.

    Parameters
    ----------
    plan
        A solved :class:`~planning.pipeline.Plan` (layers in WGS-84).
    layers
        Names from :data:`LAYER_NAMES` to include; each becomes a toggle in the layer
        control. County boundaries and names are always drawn.
    basemap
        ``"none"`` (no tiles: boundaries only, works offline), ``"tianditu"`` (天地图, the
        national standard map; needs a key, :func:`planning.settings.tianditu_key`),
        ``"amap"`` (高德; its tiles are in GCJ-02, so every layer is drawn shifted to GCJ-02),
        ``"cartodb"`` (light) or ``"osm"``. The map states the coordinate system it draws in.
    lang
        ``"zh"`` (default) or ``"en"`` for layer names, tooltips and the legend; generated
        candidates are named in it (:func:`planning.inputs.site_names`).
    selected_site
        A ``site_id``: the ``reach`` layer highlights the demand cells within
        ``max_travel_min`` of it (from the plan's travel-time table).
    compact
        For small maps side by side: the layer switch is collapsed to an icon and the
        legend opens on a click.
    bounds
        Extent to fit (WGS-84 ``minx, miny, maxx, maxy``), e.g. :func:`region_bounds` of
        several plans shown side by side; default: the plan's counties.

    Returns
    -------
    folium.Map
        Leaflet embedded (no CDN); tooltips suppress patient counts below the scenario's
        ``privacy_threshold``.

    Raises
    ------
    ScenarioError
        Unknown layer name, basemap or language, or a ``selected_site`` not in the plan.
    """
    with display_coords(basemap):
        return _plan_map(
            plan,
            layers=layers,
            basemap=basemap,
            lang=lang,
            selected_site=selected_site,
            compact=compact,
            bounds=bounds,
        )


def _plan_map(
    plan: Plan,
    *,
    layers: Sequence[str],
    basemap: str,
    lang: str,
    selected_site: str | None,
    compact: bool,
    bounds: tuple[float, float, float, float] | None,
) -> folium.Map:
    t = _texts(lang)
    unknown = [name for name in layers if name not in LAYER_NAMES]
    if unknown:
        raise ScenarioError(
            "report.map_layer_unknown", layers=unknown, choices=", ".join(LAYER_NAMES)
        )
    if selected_site is not None and selected_site not in plan.sites.index:
        raise ScenarioError("report.map_site_unknown", site=selected_site)
    thr = plan.scenario.privacy_threshold
    mask = count_mask(plan.tables, threshold=thr)
    t_max = plan.scenario.max_travel_min
    counties = plan.counties
    m = _base_map(
        bounds or tuple(counties.total_bounds), basemap=basemap, compact=compact, lang=lang
    )
    legend: list[tuple[str, list[tuple[str, str, str]]]] = []
    tables = plan.tables
    names = site_names(plan.sites, lang=lang)  # generated candidates named in ``lang``

    if "demand" in layers:
        legend.append(_demand_layer(plan.demand, t, thr=thr, mask=mask).add_to_map(m))

    assignments = tables.assignments
    if "catchments" in layers and not assignments.empty:
        _catchment_layer(plan, t, names, hidden=mask.sites(plan.tables.sites.index)).add_to(m)
        swatch = "linear-gradient(90deg," + ",".join(CATCHMENT_COLOURS[:4]) + ")"
        legend.append((t["catchments"], [(swatch, t["per_site"], "square")]))
    if "coverage" in layers:
        ctab = tables.counties.reindex(counties.index)
        share = ctab["share_within"].fillna(0.0)
        cls = _classify(share, COVERAGE_BREAKS)
        hp = mask.counties(ctab.index, "patients")
        hw = mask.counties(ctab.index, "patients_within")
        props = pd.DataFrame(
            {
                "name": counties["name"].astype(str),
                "patients": suppress_small(
                    ctab["patients"].astype(float), threshold=thr, hidden=hp
                ),
                "within": suppress_small(
                    ctab["patients_within"].astype(float), threshold=thr, hidden=hw
                ),
                "share": _fmt_share(
                    hide_revealing_shares(
                        ctab["share_within"],
                        ctab["patients"],
                        ctab["patients_within"],
                        threshold=thr,
                        hidden=(hp, hw),
                    )
                ),
                "n_sites": ctab["n_sites"].astype("Int64").astype(str),
                "mean_min": _fmt_min(travel_means(ctab, mask, tables, "county")),
                "colour": [COVERAGE_COLOURS[i] for i in cls],
            },
            index=counties.index,
        )
        # outlines (lines, not polygons): hovering inside a county reaches the demand cells
        outlines = gpd.GeoDataFrame(
            geometry=counties.geometry.boundary, index=counties.index, crs=counties.crs
        )
        group = folium.FeatureGroup(name=t["coverage"], show="coverage" in SHOWN_BY_DEFAULT)
        folium.GeoJson(
            _features(outlines, props, tolerance_deg=COUNTY_TOLERANCE_DEG),
            # a thick coloured outline without fill, drawn above the demand cells so both
            # stay readable (and the cells keep their tooltips)
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "weight": 6,
                "opacity": 0.85,
                "fill": False,
            },
            tooltip=_tooltip(
                ["name", "patients", "within", "share", "n_sites", "mean_min"],
                [
                    t["county"],
                    t["patients"],
                    f"{t['patients_within']} ({t_max:g})",
                    t["share_within"],
                    t["n_sites"],
                    t["mean_travel"],
                ],
            ),
        ).add_to(group)
        group.add_to(m)
        labels = legend_classes.coverage_labels()
        legend.append(
            (
                f"{t['share_within']} (≤{t_max:g} {t['minutes']})",
                [(c, lab, "square") for c, lab in zip(COVERAGE_COLOURS, labels, strict=True)],
            )
        )

    # one line per served cell: left out at province scale (catchments show the same)
    if "assignments" in layers and 0 < len(assignments) <= MAX_MAP_CELLS:
        _assignment_layer(plan, t).add_to(m)
        within = assignments["travel_min"] <= t_max
        rows: list[tuple[str, str, str]] = []
        if within.any():
            rows.append(
                (ASSIGN_WITHIN_COLOUR, f"{t['line_within']} (≤{t_max:g} {t['minutes']})", "line")
            )
        if not within.all():
            rows.append(
                (ASSIGN_BEYOND_COLOUR, f"{t['line_beyond']} (>{t_max:g} {t['minutes']})", "line")
            )
        legend.append((t["assignments"], rows))

    if "reach" in layers and selected_site is not None:
        _reach_layer(plan, selected_site, t, name=names[selected_site], thr=thr, mask=mask).add_to(
            m
        )
        label = f"{t['reach_cells']}: {selected_site} (≤{t_max:g} {t['minutes']})"
        legend.append((t["reach"], [(REACH_COLOUR, label, "square")]))

    if "facilities" in layers and plan.facilities is not None and len(plan.facilities):
        group, rows = _facility_layer(plan.facilities, t)
        group.add_to(m)
        legend.append((t["facilities"], rows))

    if "candidates" in layers:
        chosen = set(tables.sites.index)
        cand = plan.sites[~plan.sites.index.isin(chosen)]
        props = pd.DataFrame(
            {
                "site": cand.index.astype(str),
                "name": names.reindex(cand.index).astype(str),
                "place": _places(plan.sites, cand.index),
                "kind": t["candidate"],
                "c": "candidate",
            },
            index=cand.index,
        )
        _point_layer(
            cand,
            props,
            lambda _k: CANDIDATE_COLOUR,
            colour_field="c",
            name=t["candidates"],
            show="candidates" in SHOWN_BY_DEFAULT,
            radius=3,
            fields=["site", "name", "place"],
            aliases=[t["site"], t["name"], t["place"]],
        ).add_to(m)
        if not cand.empty:
            legend.append((t["candidates"], [(CANDIDATE_COLOUR, t["candidate"], "circle")]))

    if "sites" in layers:
        st_ = tables.sites
        geo = plan.sites.loc[st_.index]
        props = pd.DataFrame(
            {
                "site": st_.index.astype(str),
                "name": names.reindex(st_.index).astype(str),
                "place": _places(plan.sites, st_.index),
                "kind_key": st_["kind"].astype(str),
                "kind": st_["kind"].map(lambda k: t.get(str(k), str(k))),
                "county": st_["county_name"].astype(str),
                "assigned": suppress_small(
                    st_["assigned_patients"].astype(float),
                    threshold=thr,
                    hidden=mask.sites(st_.index),
                ),
                "mean_min": _fmt_min(travel_means(st_, mask, tables, "site_id")),
                "max_min": _fmt_min(st_["max_travel_min"]),
                "load": _load_text(st_, mask, thr, t),
            },
            index=st_.index,
        )
        group = _point_layer(
            geo,
            props,
            lambda k: SITE_COLOURS.get(k, "#000000"),
            colour_field="kind_key",
            name=t["sites"],
            show=True,
            radius=8,
            fields=[
                "site",
                "name",
                "kind",
                "county",
                "assigned",
                "load",
                "mean_min",
                "max_min",
                "place",
            ],
            aliases=[
                t["site"],
                t["name"],
                t["kind"],
                t["county"],
                t["assigned"],
                t["load"],
                t["mean_travel"],
                t["max_travel"],
                t["place"],
            ],
        )
        flags = st_.get("over_capacity", pd.Series(data=False, index=st_.index))
        over = st_.index[flags.astype(bool)]
        for sid in over:  # a red ring flags a load over the site's known capacity
            row = plan.sites.loc[sid]
            folium.CircleMarker(
                _latlon(float(row["lat"]), float(row["lon"])),
                radius=13,
                color=OVER_CAPACITY_COLOUR,
                weight=3,
                fill=False,
                tooltip=f"{names.get(sid, sid)} · {t['over_capacity']}",
            ).add_to(group)
        group.add_to(m)
        present = [k for k in ("existing", "new", "hub") if (st_["kind"] == k).any()]
        rows_s = [(SITE_COLOURS[k], t[k], "circle") for k in present]
        if len(over):
            rows_s.append((OVER_CAPACITY_COLOUR, t["over_capacity"], "ring"))
        legend.append((t["sites"], rows_s))

    _boundaries(counties, t).add_to(m)
    legend.extend(_prefecture_layer(counties, t, m))  # a province: its prefectures
    _county_labels(counties, lang=lang).add_to(m)
    order = [t[k] for k in ("sites", "facilities", "share_within", "patients", "assignments")]
    legend.sort(
        key=lambda sec: next((i for i, o in enumerate(order) if sec[0].startswith(o)), len(order))
    )
    _finish(m, legend, plan.travel.label, t, lang=lang, compact=compact, basemap=basemap)
    return m


def _catchment_layer(
    plan: Plan, t: dict[str, str], names: pd.Series, *, hidden: pd.Series | None = None
) -> folium.FeatureGroup:
    thr = plan.scenario.privacy_threshold
    alloc = plan.tables.assignments
    ordered = alloc.sort_values(["demand_id", "patients"], ascending=[True, False])
    main = ordered.drop_duplicates("demand_id").set_index("demand_id")["site_id"]
    cells = plan.demand.loc[main.index, ["geometry"]].copy()
    cells["site_id"] = main.to_numpy()
    merged = cells.dissolve(by="site_id")
    sites = plan.tables.sites.reindex(merged.index)
    mask = count_mask(plan.tables, threshold=thr)
    order = {sid: i for i, sid in enumerate(sorted(merged.index))}
    props = pd.DataFrame(
        {
            "site": merged.index.astype(str),
            "name": names.reindex(merged.index).astype(str),
            "assigned": suppress_small(
                sites["assigned_patients"].astype(float), threshold=thr, hidden=hidden
            ),
            "mean_min": _fmt_min(travel_means(sites, mask, plan.tables, "site_id")),
            "colour": [CATCHMENT_COLOURS[order[s] % len(CATCHMENT_COLOURS)] for s in merged.index],
        },
        index=merged.index,
    )
    group = folium.FeatureGroup(name=t["catchments"], show="catchments" in SHOWN_BY_DEFAULT)
    folium.GeoJson(
        _features(merged, props, tolerance_deg=CELL_TOLERANCE_DEG, decimals=CELL_DECIMALS),
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": 1.5,
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.3,
        },
        tooltip=_tooltip(
            ["site", "name", "assigned", "mean_min"],
            [t["site"], t["name"], t["assigned"], t["mean_travel"]],
        ),
    ).add_to(group)
    return group


def _assignment_layer(plan: Plan, t: dict[str, str]) -> folium.FeatureGroup:
    alloc = plan.tables.assignments
    d = plan.demand.loc[alloc["demand_id"], ["lon", "lat"]].to_numpy()
    s = plan.sites.loc[alloc["site_id"], ["lon", "lat"]].to_numpy()
    lines = shapely.linestrings(np.stack([d, s], axis=1))
    frame = gpd.GeoDataFrame(
        index=pd.Index(alloc["demand_id"] + ">" + alloc["site_id"]),
        geometry=lines,
        crs="EPSG:4326",
    )
    within = alloc["travel_min"].to_numpy() <= plan.scenario.max_travel_min
    props = pd.DataFrame(
        {
            "cell": alloc["demand_id"].to_numpy(),
            "site": alloc["site_id"].to_numpy(),
            "travel": _fmt_min(alloc["travel_min"]).to_numpy(),
            "colour": np.where(within, ASSIGN_WITHIN_COLOUR, ASSIGN_BEYOND_COLOUR),
        },
        index=frame.index,
    )
    group = folium.FeatureGroup(name=t["assignments"], show="assignments" in SHOWN_BY_DEFAULT)
    folium.GeoJson(
        _features(frame, props, decimals=CELL_DECIMALS),
        style_function=lambda f: {"color": f["properties"]["colour"], "weight": 1, "opacity": 0.6},
        tooltip=_tooltip(["cell", "site", "travel"], [t["cell"], t["site"], t["travel"]]),
    ).add_to(group)
    return group


def _reach_layer(
    plan: Plan,
    site_id: str,
    t: dict[str, str],
    *,
    name: str,
    thr: int,
    mask: CountMask | None = None,
) -> folium.FeatureGroup:
    t_max = plan.scenario.max_travel_min
    table = plan.travel.table
    pairs = table[(table["site_id"] == site_id) & (table["travel_min"] <= t_max)]
    cells = plan.demand.loc[plan.demand.index.intersection(pairs["demand_id"])]
    minutes = pairs.set_index("demand_id")["travel_min"].reindex(cells.index)
    props = pd.DataFrame(
        {
            "cell": cells.index.astype(str),
            "county": cells["county_name"].astype(str),
            "patients": suppress_small(
                cells["weight"].astype(float),
                threshold=thr,
                hidden=mask.cells(cells.index) if mask is not None else None,
            ),
            "travel": _fmt_min(minutes),
        },
        index=cells.index,
    )
    group = folium.FeatureGroup(
        name=f"{t['reach']}: {site_id} (≤{t_max:g} {t['within']})", show=True
    )
    if not cells.empty:
        folium.GeoJson(
            _features(cells, props, tolerance_deg=CELL_TOLERANCE_DEG, decimals=CELL_DECIMALS),
            style_function=lambda _f: {
                "color": REACH_COLOUR,
                "weight": 0.8,
                "fillColor": REACH_COLOUR,
                "fillOpacity": 0.35,
            },
            tooltip=_tooltip(
                ["county", "cell", "patients", "travel"],
                [t["county"], t["cell"], t["patients"], t["travel"]],
            ),
        ).add_to(group)
    site = plan.sites.loc[site_id]
    if mask is not None:  # a sum of cells: exact only when every one of them is shown
        keys = [f"cell:{d}" for d in cells.index]
        total = mask.sum_text(keys, cells["weight"].astype(float))
    else:
        total = suppress_small(pd.Series([float(cells["weight"].sum())]), threshold=thr).iloc[0]
    folium.CircleMarker(
        _latlon(float(site["lat"]), float(site["lon"])),
        radius=12,
        color=REACH_COLOUR,
        weight=3,
        fill=False,
        tooltip=f"{t['reach_of']}{name} · ≤{t_max:g} {t['within']}: {total} ({t['patients']})",
    ).add_to(group)
    return group
