"""Layers the plan map and the region map share: counties, labels, demand, facilities, points.

Each layer is a :class:`folium.FeatureGroup` (listed in the layer switch unless it is part of the
base drawing); a layer with a legend returns its legend section too. Geometries are drawn in the
map's coordinate system (:func:`planning.report.map_shell.display_coords`), simplified for the
screen, with string properties for the tooltips.

Privacy: every patient count in a tooltip passes :func:`planning.suppression.suppress_small`
(``"<5"`` below the scenario's threshold); callers give the hidden texts of counts that would
give a hidden one back by subtraction.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning.report import legend as legend_classes
from planning.report.labels import place_label
from planning.report.map_shell import (
    CELL_DECIMALS,
    CELL_TOLERANCE_DEG,
    COUNTY_TOLERANCE_DEG,
    DECIMALS,
    _latlon,
    _round_geoms,
)
from planning.results.privacy import CountMask
from planning.suppression import hide_revealing_shares, suppress_small

logger = logging.getLogger(__name__)

LAYER_NAMES = (
    "coverage",
    "demand",
    "sites",
    "candidates",
    "assignments",
    "catchments",
    "facilities",
    "reach",
)
DEFAULT_LAYERS = LAYER_NAMES
SHOWN_BY_DEFAULT = frozenset({"coverage", "demand", "sites", "facilities", "reach"})
MAX_MAP_CELLS = 5000  # more demand cells than this are merged into blocks for display

SITE_COLOURS = {"existing": "#1f4e9c", "new": "#d7301f", "hub": "#6a3d9a"}
FACILITY_COLOURS = {
    "rehab_existing": "#1f78b4",
    "psychiatric_hospital": "#e31a1c",
    "community_health_centre": "#33a02c",
    "community_service_centre": "#ff7f00",
    "new_build": "#b15928",
    "other": "#6a6a6a",
}
COVERAGE_BREAKS = legend_classes.COVERAGE_BREAKS  # one set of classes for screen and print
COVERAGE_COLOURS = legend_classes.COVERAGE_COLOURS
PATIENT_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
CATCHMENT_COLOURS = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
    "#1f78b4",
    "#b2df8a",
    "#fb9a99",
    "#cab2d6",
)
REACH_COLOUR = "#08519c"
OVER_CAPACITY_COLOUR = "#e31a1c"
CANDIDATE_COLOUR = "#9e9e9e"
ASSIGN_WITHIN_COLOUR = "#3b6fb6"
ASSIGN_BEYOND_COLOUR = "#c0392b"
PREFECTURE_COLOUR = "#08306b"


def _features(
    frame: gpd.GeoDataFrame,
    props: pd.DataFrame,
    *,
    tolerance_deg: float = 0.0,
    decimals: int = DECIMALS,
) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection with string properties.

    Feature ``id`` is the row number (short, so folium's per-feature style switch stays
    small); the row's own id belongs in ``props`` when a tooltip shows it.
    """
    geoms = _round_geoms(frame.geometry, tolerance_deg, decimals)
    records = props.astype(object).where(props.notna(), "").to_dict(orient="records")
    features = []
    for i, (geom, rec) in enumerate(zip(geoms, records, strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        features.append(
            {
                "type": "Feature",
                "id": i,
                "properties": {k: str(v) for k, v in rec.items()},
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _places(sites: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Each site's place (township and village, else county; see ``inputs.name_places``)."""
    if "place" not in sites.columns:
        return pd.Series("", index=index, dtype=object)
    return sites["place"].reindex(index).fillna("").astype(str)


def _fmt_min(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else f"{v:.0f}")


def _load_text(sites: pd.DataFrame, mask: Any, thr: int, t: dict[str, str]) -> list[str]:
    """Each site's load against its capacity, as shown (left out where it reveals a count)."""
    share = hide_revealing_shares(
        sites["load_share"],
        sites["assigned_patients"],
        threshold=thr,
        hidden=(mask.sites(sites.index),),
    )
    over = (
        sites["over_capacity"]
        if "over_capacity" in sites
        else pd.Series(data=False, index=sites.index)
    )
    out = []
    for v, o in zip(share, over.astype(bool), strict=True):
        text = "" if pd.isna(v) else f"{100 * v:.0f}%"
        out.append(f"{text} ⚠ {t['over_capacity']}" if o else text)
    return out


def _fmt_share(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else f"{100 * v:.0f}%")


def _classify(values: pd.Series, breaks: Sequence[float]) -> np.ndarray:
    return legend_classes.classify(values, breaks)


def _tooltip(fields: Sequence[str], aliases: Sequence[str]) -> folium.GeoJsonTooltip:
    return folium.GeoJsonTooltip(
        fields=list(fields),
        aliases=list(aliases),
        sticky=True,
        localize=False,
        labels=True,
    )


def _boundaries(counties: gpd.GeoDataFrame, t: dict[str, str]) -> folium.GeoJson:
    data = _features(
        counties,
        pd.DataFrame({"name": counties["name"].astype(str)}, index=counties.index),
        tolerance_deg=COUNTY_TOLERANCE_DEG,
    )
    return folium.GeoJson(
        data,
        name=t["boundaries"],
        style_function=lambda _f: {
            "color": "#333333",
            "weight": 1.6,
            "fillOpacity": 0.0,
            "fill": False,
        },
        interactive=False,
        control=False,
    )


def spans_prefectures(counties: pd.DataFrame) -> bool:
    """Whether the counties lie in more than one prefecture city (a province, say)."""
    if "prefecture" not in counties.columns or counties.empty:
        return False
    pref = counties["prefecture"].astype(str)
    return bool((pref != pref.iloc[0]).any())


def _prefecture_outlines(
    counties: gpd.GeoDataFrame, *, name: str, always: bool = False
) -> folium.FeatureGroup:
    """Thick outlines of the prefecture cities (their counties dissolved), above the counties.

    Drawn when the counties span more than one prefecture (a province), or ``always``; an
    empty group otherwise. Not a switch of the layer control (like the county boundaries).
    """
    group = folium.FeatureGroup(name=name, control=False)
    if "prefecture" not in counties.columns:
        return group
    if not always and not spans_prefectures(counties):
        return group
    merged = counties[["prefecture", "geometry"]].dissolve(by="prefecture")
    outlines = gpd.GeoDataFrame(
        geometry=merged.geometry.boundary, index=merged.index, crs=merged.crs
    )
    names = (
        counties.groupby("prefecture")["prefecture_name"].first()
        if ("prefecture_name" in counties.columns)
        else pd.Series("", index=merged.index)
    )
    props = pd.DataFrame({"name": names.reindex(merged.index).fillna("").astype(str)})
    folium.GeoJson(
        _features(outlines, props, tolerance_deg=COUNTY_TOLERANCE_DEG),
        name=name,
        style_function=lambda _f: {"color": PREFECTURE_COLOUR, "weight": 3.2, "fill": False},
        interactive=False,
        control=False,
    ).add_to(group)
    return group


def _prefecture_layer(
    counties: gpd.GeoDataFrame, t: dict[str, str], m: folium.Map
) -> list[LegendSection]:
    """Add the prefecture outlines to ``m`` when the counties span several; their legend."""
    if not spans_prefectures(counties):
        return []
    _prefecture_outlines(counties, name=t["prefectures"]).add_to(m)
    return [(t["prefectures"], [(PREFECTURE_COLOUR, t["prefecture"], "line")])]


def _county_labels(counties: gpd.GeoDataFrame, *, lang: str = "zh") -> folium.FeatureGroup:
    """County names at a representative point (always drawn, so the map reads without tiles).

    Each name carries a rank (patients, else area): where two would overlap, the map shows
    the higher-ranked one and the other once a zoom gives it room (see :class:`_FitRegion`).
    """
    group = folium.FeatureGroup(name="labels", control=False)
    pts = counties.geometry.representative_point()
    if "patients" in counties.columns:
        rank = counties["patients"].astype(float).fillna(0.0).rank(method="first")
    else:
        # relative size only (degrees squared are fine for ranking neighbours)
        rank = pd.Series(shapely.area(counties.geometry.to_numpy())).rank(method="first")
    names = [place_label(n, lang) for n in counties["name"].astype(str)]  # pinyin in English
    for name, pt, r in zip(names, pts, rank, strict=True):
        folium.Marker(
            _latlon(pt.y, pt.x),
            icon=folium.DivIcon(
                html=(
                    f"<div class='kangle-label' data-rank='{int(r)}' "
                    'style=\'font:bold 12px "Noto Sans CJK SC","Microsoft YaHei",'
                    "sans-serif;color:#222;text-shadow:0 0 3px #fff,0 0 3px #fff;"
                    f"display:inline-block;white-space:nowrap;transform:translate(-50%,-50%)'>{html.escape(name)}</div>"
                ),
                icon_size=(0, 0),
            ),
            interactive=False,
        ).add_to(group)
    return group


def _point_layer(
    frame: gpd.GeoDataFrame,
    props: pd.DataFrame,
    colour_of: Callable[[str], str],
    *,
    colour_field: str,
    name: str,
    show: bool,
    radius: float,
    fields: Sequence[str],
    aliases: Sequence[str],
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=show)
    if frame.empty:
        return group
    data = _features(frame, props)
    folium.GeoJson(
        data,
        marker=folium.CircleMarker(radius=radius, weight=1.5, fill=True, fill_opacity=0.9),
        style_function=lambda f: {
            "color": "#ffffff",
            "fillColor": colour_of(f["properties"][colour_field]),
            "radius": radius,
            "weight": 1.5,
            "fillOpacity": 0.9,
        },
        tooltip=_tooltip(fields, aliases),
    ).add_to(group)
    return group


LegendSection = tuple[str, list[tuple[str, str, str]]]


class _LayerWithLegend:
    def __init__(self, group: folium.FeatureGroup, legend: LegendSection) -> None:
        self.group = group
        self.legend = legend

    def add_to_map(self, m: folium.Map) -> tuple[str, list[tuple[str, str, str]]]:
        self.group.add_to(m)
        return self.legend


def display_cells(demand: gpd.GeoDataFrame, *, max_cells: int) -> gpd.GeoDataFrame:
    """Demand cells for display: merged into blocks of k x k cells when there are too many.

    Keeps the map small at province scale. Blocks never cross a county boundary, and their
    ``weight`` is the sum of their cells (planning always uses the original cells).

    Parameters
    ----------
    demand
        Demand cells (``weight``, ``county``, ``county_name``, ``lon``, ``lat``), WGS-84.
    max_cells
        Largest number of polygons to draw.

    Returns
    -------
    cells
        ``demand`` itself when small enough, else merged blocks (same columns, new index).
    """
    n = len(demand)
    if n <= max_cells:
        return demand
    k = int(np.ceil(np.sqrt(n / max_cells)))
    bounds = demand.geometry.bounds
    step_x = float((bounds["maxx"] - bounds["minx"]).median()) * k
    step_y = float((bounds["maxy"] - bounds["miny"]).median()) * k
    bx = np.floor((demand["lon"] - demand["lon"].min()) / step_x).astype(int)
    by = np.floor((demand["lat"] - demand["lat"].min()) / step_y).astype(int)
    extra = [c for c in demand.columns if str(c).startswith("_")]  # summed too (privacy)
    keyed = demand[["weight", "county", "county_name", *extra, "geometry"]].assign(bx=bx, by=by)
    merged = keyed.dissolve(
        by=["county", "bx", "by"],
        aggfunc={"weight": "sum", "county_name": "first"} | dict.fromkeys(extra, "sum"),
    ).reset_index()
    merged.index = pd.Index([f"block-{i}" for i in range(len(merged))], name="demand_id")
    logger.info("Map: %d demand cells drawn as %d blocks of %dx%d", n, len(merged), k, k)
    return merged


def _cell_texts(
    demand: gpd.GeoDataFrame, mask: CountMask | None, *, thr: int
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Cells (or blocks of cells) to draw and their patients as the plan's mask shows them.

    A block is exact when none of its cells is hidden; otherwise it shows what its shown cells
    give anyway (``"≥L"``, or ``"<N"``), so no block less its shown cells reveals a hidden one.
    """
    hidden = (
        mask.cells(demand.index).notna()
        if mask is not None
        else pd.Series(data=False, index=demand.index)
    )
    weight = demand["weight"].astype(float)
    marked = demand.assign(_hidden=hidden.astype(float), _shown=weight.where(~hidden, 0.0))
    shown = display_cells(marked, max_cells=MAX_MAP_CELLS)
    if shown is marked:  # the cells themselves
        texts = suppress_small(
            weight, threshold=thr, hidden=mask.cells(demand.index) if mask else None
        )
        return shown, texts
    w = shown["weight"].astype(float)
    bound = np.minimum(np.maximum(float(thr), np.floor(shown["_shown"] + 1e-9)), np.floor(w))
    partial = pd.Series(
        [f"<{thr}" if 0 < v < thr else f"≥{int(b):,}" for v, b in zip(w, bound, strict=True)],
        index=shown.index,
        dtype=object,
    )
    texts = suppress_small(w, threshold=thr, hidden=partial.where(shown["_hidden"] > 0))
    return shown, texts


def _demand_layer(
    demand: gpd.GeoDataFrame, t: dict[str, str], *, thr: int, mask: CountMask | None = None
) -> _LayerWithLegend:
    demand, patients = _cell_texts(demand, mask, thr=thr)
    weights = demand["weight"].astype(float)
    breaks = legend_classes.count_breaks(weights, threshold=thr)
    palette = legend_classes.ramp(PATIENT_COLOURS, len(breaks) + 1)
    colours = [palette[i] for i in _classify(weights, breaks)]
    props = pd.DataFrame(
        {"county": demand["county_name"].astype(str), "patients": patients},
        index=demand.index,
    )
    group = folium.FeatureGroup(name=t["demand"], show="demand" in SHOWN_BY_DEFAULT)
    folium.GeoJson(
        _features(demand, props, tolerance_deg=CELL_TOLERANCE_DEG, decimals=CELL_DECIMALS),
        style_function=lambda f: {
            "color": "#999999",
            "weight": 0.2,
            "fillColor": colours[f["id"]],
            "fillOpacity": 0.55,
        },
        tooltip=_tooltip(["county", "patients"], [t["county"], t["patients"]]),
    ).add_to(group)
    # round classes, none below the privacy threshold (the lowest reads "<5")
    labels = legend_classes.count_labels(breaks)
    rows = [(c, lab, "square") for c, lab in zip(palette, labels, strict=True)]
    return _LayerWithLegend(group, (t["patients"], rows))


def _facility_layer(
    facilities: gpd.GeoDataFrame, t: dict[str, str]
) -> tuple[folium.FeatureGroup, list[tuple[str, str, str]]]:
    fac = facilities[facilities.geometry.notna() & ~facilities.geometry.is_empty]
    types = fac["type"].astype(str) if "type" in fac else pd.Series("other", index=fac.index)
    cap = fac["capacity"] if "capacity" in fac else pd.Series(np.nan, index=fac.index)
    props = pd.DataFrame(
        {
            "name": fac["name"].astype(str) if "name" in fac else fac.index.astype(str),
            "type_key": types,
            "type": types.map(lambda k: t.get(k, k)),
            "capacity": cap.map(lambda v: t["unknown"] if pd.isna(v) else f"{v:.0f}"),
            "address": fac["address"].fillna("").astype(str) if "address" in fac else "",
        },
        index=fac.index,
    )
    group = _point_layer(
        fac,
        props,
        lambda k: FACILITY_COLOURS.get(k, FACILITY_COLOURS["other"]),
        colour_field="type_key",
        name=t["facilities"],
        show="facilities" in SHOWN_BY_DEFAULT,
        radius=5,
        fields=["name", "type", "capacity", "address"],
        aliases=[t["name"], t["type"], t["capacity"], t["address"]],
    )
    present = [k for k in FACILITY_COLOURS if (types == k).any()]
    rows = [(FACILITY_COLOURS[k], t[k], "circle") for k in present]
    return group, rows
