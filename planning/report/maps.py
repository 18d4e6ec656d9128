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
"""

from __future__ import annotations

import base64
import html
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from planning import i18n, settings
from planning.errors import ScenarioError
from planning.inputs.coords import wgs84_to_gcj02
from planning.inputs.sites import site_names
from planning.report import legend as legend_classes
from planning.report.labels import label_group, place_label
from planning.results.privacy import count_mask, county_count_mask
from planning.suppression import hide_revealing_shares, suppress_small
from planning.travel.table import travel_label_shown

if TYPE_CHECKING:
    from planning.pipeline import Plan

logger = logging.getLogger(__name__)

Lang = Literal["zh", "en"]
Basemap = Literal["none", "cartodb", "osm", "tianditu", "amap"]

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
BASEMAPS: dict[str, tuple[str, str] | None] = {
    "none": None,
    "cartodb": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "&copy; OpenStreetMap contributors &copy; CARTO",
    ),
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
    ),
    # 天地图 (the national standard map; CGCS2000, within a metre of WGS-84): needs a key
    "tianditu": (
        (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
        ),
        "&copy; 天地图 Tianditu",
    ),
    # 高德 (AMap): tiles in GCJ-02, so every layer is shifted to GCJ-02 on it
    "amap": (
        (
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang={amap_lang}&size=1&scale=1"
            "&style=8&x={x}&y={y}&z={z}"
        ),
        "&copy; 高德地图 AMap",
    ),
}
GCJ02_BASEMAPS = frozenset({"amap"})
"""Basemaps whose tiles are in GCJ-02: the map's layers are shifted to GCJ-02 to sit on them."""

_DISPLAY_GCJ02: ContextVar[bool] = ContextVar("kangle_display_gcj02", default=False)

# Simplification tolerance (degrees; ~0.0005 deg is ~50 m) and coordinate decimals (5 ~ 1 m).
COUNTY_TOLERANCE_DEG = 0.0005
CELL_TOLERANCE_DEG = 0.0005
DECIMALS = 5
CELL_DECIMALS = 4
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

TEXT: dict[str, dict[str, str]] = {lang: label_group("report.map", lang) for lang in i18n.LANGS}
"""Layer names, tooltips and legend of the maps by language (``report.map.*`` of the catalog)."""

_VENDOR = Path(__file__).resolve().parent / "_vendor" / "leaflet"


@cache
def _data_url(name: str, mime: str) -> str:
    raw = (_VENDOR / name).read_bytes()
    return f"data:{mime};base64," + base64.b64encode(raw).decode("ascii")


def _texts(lang: str) -> dict[str, str]:
    if lang not in TEXT:
        raise ScenarioError("report.map_language_unknown", lang=lang)
    return TEXT[lang]


def travel_label_text(label: str, *, lang: Lang = "zh") -> str:
    """Return the travel-mode label as shown on maps (e.g. "出行时间：估算（…） · estimated …").

    In Chinese the label's Chinese words alone (no English fragment on a Chinese map); they
    say as plainly that an estimate is not road travel.
    """
    _texts(lang)  # checks the language
    shown = travel_label_shown(label, lang=lang)  # road labels with their data date too
    return i18n.text("report.map.travel_line", lang, label=shown)


# ----------------------------------------------------------------------------- geometry helpers
@contextmanager
def display_coords(basemap: str) -> Iterator[None]:
    """Draw in GCJ-02 while building a map on a GCJ-02 basemap (AMap), else in WGS-84."""
    token = _DISPLAY_GCJ02.set(basemap in GCJ02_BASEMAPS)
    try:
        yield
    finally:
        _DISPLAY_GCJ02.reset(token)


def _shift(coords: np.ndarray) -> np.ndarray:
    """Coordinates (lon, lat columns) as drawn: GCJ-02 on an AMap basemap, else unchanged."""
    if not _DISPLAY_GCJ02.get() or len(coords) == 0:
        return coords
    lon, lat = wgs84_to_gcj02(coords[:, 0].astype(float), coords[:, 1].astype(float))
    return np.column_stack([lon, lat])


def _latlon(lat: float, lon: float) -> list[float]:
    """Return a point as ``[lat, lon]`` for folium, shifted like every layer (:func:`_shift`)."""
    ((x, y),) = _shift(np.array([[lon, lat]], dtype=float))
    return [round(float(y), DECIMALS), round(float(x), DECIMALS)]


def display_latlon(lat: float, lon: float) -> list[float]:
    """Return a WGS-84 point as folium's ``[lat, lon]`` in the map's coordinate system.

    Inside :func:`display_coords` of an AMap basemap the point is shifted to GCJ-02 like
    every layer; elsewhere it is returned as given (rounded).
    """
    return _latlon(lat, lon)


def display_geojson(geom: shapely.Geometry, *, tolerance_deg: float = 0.0) -> dict[str, Any]:
    """Return a WGS-84 geometry as a GeoJSON mapping in the map's coordinate system."""
    if tolerance_deg > 0:
        geom = shapely.simplify(geom, tolerance_deg, preserve_topology=True)
    shifted = shapely.transform(geom, lambda c: np.round(_shift(c), DECIMALS))
    out: dict[str, Any] = shapely.geometry.mapping(shifted)
    return out


def _round_geoms(geoms: gpd.GeoSeries, tolerance_deg: float, decimals: int) -> np.ndarray:
    simple = geoms.to_numpy()
    if tolerance_deg > 0:
        simple = shapely.simplify(simple, tolerance_deg, preserve_topology=True)
    out: np.ndarray = shapely.transform(simple, lambda c: np.round(_shift(c), decimals))
    return out


def region_bounds(*layers: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """Return the bounds ``(minx, miny, maxx, maxy)`` (WGS-84) holding every layer.

    One extent for maps shown side by side (Compare): they share their zoom and crop nothing.
    """
    boxes = np.array([layer.total_bounds for layer in layers if len(layer)], dtype=float)
    return (
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    )


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


# ----------------------------------------------------------------------------- map shell
class _Control(MacroElement):
    """A Leaflet control holding fixed HTML (legend, travel-mode label)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function () {
                var div = L.DomUtil.create('div', 'kangle-control');
                div.innerHTML = {{ this.html|tojson }};
                div.style.background = 'rgba(255,255,255,0.92)';
                div.style.padding = '6px 9px';
                div.style.borderRadius = '5px';
                div.style.boxShadow = '0 1px 4px rgba(0,0,0,0.35)';
                div.style.font = '12px/1.45 "Noto Sans CJK SC","Microsoft YaHei",sans-serif';
                div.style.maxWidth = {{ this.max_width|tojson }};
                div.style.maxHeight = 'calc(100vh - 100px)';  // a fallback: scroll, not spill
                div.style.overflowY = 'auto';
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str, wide: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "KangleControl"
        self.html = html_text
        self.position = position
        # a legend's sections sit side by side where the map is wide enough
        self.max_width = "min(480px, 62vw)" if wide else "min(320px, 45vw)"


class _FitRegion(MacroElement):
    """Fit the region to the map's own size, and keep county names from colliding.

    The padding that keeps the region clear of the layer switch (top left) and the legend
    (bottom right) is a share of the map's width, capped, so a narrow map (a page column, a
    Compare panel) still shows the region large. Until the reader zooms or pans, the region is
    fitted again when the map is resized (Streamlit sizes its frame after the first draw).
    County names are ranked (most patients first) and a name that would overlap one already
    shown is hidden until a zoom gives it room.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var bounds = L.latLngBounds({{ this.bounds|tojson }});
            var touched = false;
            function fit() {
                var size = map.getSize();
                if (!size.x || !size.y) { return; }
                var box = map.getContainer();
                // the legend: one column, two where a column would not fit the map's height
                var legend = box.querySelector('.kangle-legend');
                if (legend) {
                    legend.classList.remove('kangle-wide');
                    if (legend.scrollHeight > size.y - 60) { legend.classList.add('kangle-wide'); }
                }
                // keep the region clear of the layer switch (left) and the legend (right)
                var layers = box.querySelector('.leaflet-control-layers');
                var panel = legend ? legend.parentNode : null;
                var left = layers ? layers.offsetWidth + 16 : {{ this.left }};
                var right = panel ? panel.offsetWidth + 16 : {{ this.right }};
                left = Math.min(left, 0.3 * size.x);
                right = Math.min(right, 0.42 * size.x);
                map.fitBounds(bounds, {
                    paddingTopLeft: [left, 12], paddingBottomRight: [right, 12], animate: false
                });
                record();
            }
            function declutter() {
                var els = Array.prototype.slice.call(
                    map.getContainer().querySelectorAll('.kangle-label'));
                els.sort(function (a, b) { return (+b.dataset.rank) - (+a.dataset.rank); });
                var shown = [];
                els.forEach(function (el) {
                    el.style.visibility = 'visible';
                    var r = el.getBoundingClientRect();
                    var hit = shown.some(function (q) {
                        return !(r.right + 2 < q.left || r.left - 2 > q.right ||
                                 r.bottom + 1 < q.top || r.top - 1 > q.bottom);
                    });
                    if (hit) { el.style.visibility = 'hidden'; } else { shown.push(r); }
                });
            }
            var box = map.getContainer();
            function record() {  // where the region sits, in pixels (read by the browser tests)
                var size = map.getSize();
                var nw = map.latLngToContainerPoint(bounds.getNorthWest());
                var se = map.latLngToContainerPoint(bounds.getSouthEast());
                var px = [nw.x, nw.y, se.x, se.y, size.x, size.y];
                box.dataset.regionPx = px.map(Math.round).join(',');
            }
            ['mousedown', 'wheel', 'touchstart', 'keydown'].forEach(function (ev) {
                box.addEventListener(ev, function () { touched = true; }, {passive: true});
            });
            L.control.scale({imperial: false, position: 'bottomleft'}).addTo(map);  // metric only
            map.on('zoomend moveend', function () { declutter(); record(); });
            map.on('resize', function () { if (!touched) { fit(); } declutter(); });
            fit();
            var watched = false;
            function refit() {
                if (!touched) { fit(); }
                declutter();
                if (!watched && window.ResizeObserver) {  // the controls exist by now
                    watched = true;
                    var watch = new ResizeObserver(function () { if (!touched) { fit(); } });
                    box.querySelectorAll('.kangle-legend, .leaflet-control-layers')
                        .forEach(function (el) { watch.observe(el); });
                }
            }
            // fit again once the controls and the frame have their final size
            [250, 1000, 2500].forEach(function (ms) { setTimeout(refit, ms); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], *, left: int, right: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "KangleFitRegion"
        self.bounds = bounds
        self.left = left
        self.right = right


def tianditu_available() -> bool:
    """Whether the 天地图 basemap can be offered: a key is set (:func:`settings.tianditu_key`)."""
    return bool(settings.tianditu_key())


def _tile_layers(basemap: str, *, lang: str) -> list[folium.TileLayer]:
    spec = BASEMAPS[basemap]
    if spec is None:
        return []
    url, attribution = spec
    if basemap == "tianditu":
        key = settings.tianditu_key()
        if not key:
            raise ScenarioError("report.tianditu_key_missing")
        notes = "cva" if lang == "zh" else "eva"  # place names in Chinese / in English
        return [
            folium.TileLayer(
                url.replace("{layer}", layer).replace("{key}", key),
                attr=attribution,
                name=f"{basemap}-{layer}",
                control=False,
                max_zoom=18,
                subdomains="01234567",
            )
            for layer in ("vec", notes)
        ]
    if basemap == "amap":
        url = url.replace("{amap_lang}", "zh_cn" if lang == "zh" else "en")
        return [
            folium.TileLayer(
                url, attr=attribution, name=basemap, control=False, max_zoom=18, subdomains="1234"
            )
        ]
    return [folium.TileLayer(url, attr=attribution, name=basemap, control=False, max_zoom=18)]


def _base_map(
    bounds: tuple[float, float, float, float],
    *,
    basemap: str,
    compact: bool = False,
    lang: str = "zh",
) -> folium.Map:
    if basemap not in BASEMAPS:
        raise ScenarioError("report.basemap_unknown", basemap=basemap, choices=", ".join(BASEMAPS))
    corners = _shift(np.array([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], dtype=float))
    minx, miny = (round(float(v), DECIMALS) for v in corners[0])
    maxx, maxy = (round(float(v), DECIMALS) for v in corners[1])
    m = folium.Map(
        location=[round((miny + maxy) / 2, DECIMALS), round((minx + maxx) / 2, DECIMALS)],
        zoom_start=9,
        tiles=None,
        control_scale=False,  # a metric-only scale bar is added with the fit (_FitRegion)
        prefer_canvas=True,
        zoom_snap=0.25,  # fit the region closely, not only at whole zoom levels
    )
    # Offline-safe: Leaflet from the packaged copy; no jQuery/Bootstrap/icon fonts needed.
    m.default_js = [("leaflet", _data_url("leaflet.js", "text/javascript"))]
    m.default_css = [("leaflet_css", _data_url("leaflet.css", "text/css"))]
    for layer in _tile_layers(basemap, lang=lang):
        layer.add_to(m)
    # keep the region clear of the layer switch (top left) and the legend (bottom right)
    left, right = (40, 10) if compact else (230, 190)
    m.fit_bounds([[miny, minx], [maxy, maxx]])  # before the script runs (and for exports)
    m.add_child(_FitRegion([[miny, minx], [maxy, maxx]], left=left, right=right))
    return m


def _legend_html(
    sections: list[tuple[str, list[tuple[str, str, str]]]], title: str, *, folded: bool = False
) -> str:
    """Return the legend: a block per section, side by side where room (never cut or scrolled).

    Every entry is an element of class ``kangle-legend-entry`` (tests read them).
    """
    parts = []
    for head, rows in sections:
        parts.append("<div class='kangle-legend-section'>")
        parts.append(f"<div><i>{html.escape(head)}</i></div>")
        for colour, label, shape in rows:
            if shape == "ring":
                swatch = (
                    "<span style='display:inline-block;width:9px;height:9px;margin-right:5px;"
                    f"border:3px solid {colour};border-radius:50%;vertical-align:middle'></span>"
                )
            elif shape == "line":
                swatch = (
                    "<span style='display:inline-block;width:13px;height:0;margin-right:5px;"
                    f"border-top:3px solid {colour};vertical-align:middle'></span>"
                )
            else:
                radius = "50%" if shape == "circle" else "2px"
                swatch = (
                    "<span style='display:inline-block;width:11px;height:11px;"
                    f"margin-right:5px;border:1px solid #444;border-radius:{radius};"
                    f"background:{colour};vertical-align:middle'></span>"
                )
            parts.append(
                f"<div class='kangle-legend-entry' style='white-space:nowrap'>{swatch}"
                f"{html.escape(label)}</div>"
            )
        parts.append("</div>")
    style = (
        "<style>.kangle-legend-section{display:block;margin-top:4px}"
        ".kangle-wide .kangle-legend-section{display:inline-block;vertical-align:top;"
        "margin-right:12px}</style>"
    )
    body = "".join(parts)
    head = html.escape(title)
    if folded:  # small maps: the legend opens on a click
        return (
            f"{style}<div class='kangle-legend'><details><summary style='cursor:pointer'>"
            f"<b>{head}</b></summary>{body}</details></div>"
        )
    return f"{style}<div class='kangle-legend'><b>{head}</b>{body}</div>"


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
        legend.append(_demand_layer(plan.demand, t, thr=thr).add_to_map(m))

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
                "mean_min": _fmt_min(ctab["mean_travel_min"]),
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
        _reach_layer(plan, selected_site, t, name=names[selected_site], thr=thr).add_to(m)
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
                "mean_min": _fmt_min(st_["mean_travel_min"]),
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
    _county_labels(counties, lang=lang).add_to(m)
    order = [t[k] for k in ("sites", "facilities", "share_within", "patients", "assignments")]
    legend.sort(
        key=lambda sec: next((i for i, o in enumerate(order) if sec[0].startswith(o)), len(order))
    )
    _finish(m, legend, plan.travel.label, t, lang=lang, compact=compact, basemap=basemap)
    return m


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
    keyed = demand[["weight", "county", "county_name", "geometry"]].assign(bx=bx, by=by)
    merged = keyed.dissolve(
        by=["county", "bx", "by"], aggfunc={"weight": "sum", "county_name": "first"}
    ).reset_index()
    merged.index = pd.Index([f"block-{i}" for i in range(len(merged))], name="demand_id")
    logger.info("Map: %d demand cells drawn as %d blocks of %dx%d", n, len(merged), k, k)
    return merged


def _demand_layer(demand: gpd.GeoDataFrame, t: dict[str, str], *, thr: int) -> _LayerWithLegend:
    demand = display_cells(demand, max_cells=MAX_MAP_CELLS)
    weights = demand["weight"].astype(float)
    breaks = legend_classes.count_breaks(weights, threshold=thr)
    palette = legend_classes.ramp(PATIENT_COLOURS, len(breaks) + 1)
    colours = [palette[i] for i in _classify(weights, breaks)]
    props = pd.DataFrame(
        {
            "county": demand["county_name"].astype(str),
            "patients": suppress_small(weights, threshold=thr),
        },
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
    order = {sid: i for i, sid in enumerate(sorted(merged.index))}
    props = pd.DataFrame(
        {
            "site": merged.index.astype(str),
            "name": names.reindex(merged.index).astype(str),
            "assigned": suppress_small(
                sites["assigned_patients"].astype(float), threshold=thr, hidden=hidden
            ),
            "mean_min": _fmt_min(sites["mean_travel_min"]),
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
    plan: Plan, site_id: str, t: dict[str, str], *, name: str, thr: int
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
            "patients": suppress_small(cells["weight"].astype(float), threshold=thr),
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


def _finish(
    m: folium.Map,
    legend: list[tuple[str, list[tuple[str, str, str]]]],
    travel_label: str | None,
    t: dict[str, str],
    *,
    lang: str,
    compact: bool = False,
    basemap: str = "none",
    collapsed: bool = False,
) -> None:
    # layer switch top left (under the zoom buttons), legend bottom right: they never overlap
    folium.LayerControl(collapsed=compact or collapsed, position="topleft").add_to(m)
    if legend:
        legend_html = _legend_html(legend, t["legend"], folded=compact or collapsed)
        m.add_child(_Control(legend_html, position="bottomright", wide=True))
    lines = []
    if travel_label:
        lines.append(f"<b>{html.escape(travel_label_text(travel_label, lang=lang))}</b>")  # type: ignore[arg-type]
    lines.append(html.escape(coordinate_note(basemap, lang=lang)))
    m.add_child(_Control("<br>".join(lines), position="bottomleft"))


def coordinate_note(basemap: str, *, lang: str = "zh") -> str:
    """Return the line every map shows about its coordinate system (GCJ-02 on AMap, else WGS-84)."""
    key = {"amap": "crs_gcj02", "tianditu": "crs_tianditu"}.get(basemap, "crs_wgs84")
    return _texts(lang)[key]


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
) -> folium.Map:
    t = _texts(lang)
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
        # the counties of a region add up to its total, shown beside the map
        region_mask = county_count_mask(
            counties[["patients"]],
            threshold=privacy_threshold,
            patients_total=float(counties["patients"].sum()),
        )
        props["patients"] = suppress_small(
            counties["patients"].astype(float),
            threshold=privacy_threshold,
            hidden=region_mask.counties(counties.index, "patients"),
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
        legend.append(_demand_layer(demand, t, thr=privacy_threshold).add_to_map(m))
    if facilities is not None and len(facilities):
        fgroup, rows = _facility_layer(facilities, t)
        fgroup.add_to(m)
        legend.append((t["facilities"], rows))
    for overlay in overlays:
        overlay.add_to(m)
    _boundaries(counties, t).add_to(m)
    _county_labels(counties, lang=lang).add_to(m)
    legend.extend(overlay_legend)
    _finish(m, legend, travel_label, t, lang=lang, basemap=basemap, collapsed=collapsed_layers)
    return m


def map_html(m: folium.Map) -> str:
    """Return the map as one standalone HTML page (Leaflet embedded; tiles need a network)."""
    return str(m.get_root().render())
