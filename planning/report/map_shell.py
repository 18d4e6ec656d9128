"""The shell every folium map of the tool shares: basemaps, coordinates, controls and legend.

The maps are plain :class:`folium.Map` objects: the app shows them with ``streamlit-folium`` and
the exports save them as standalone HTML. They work offline: Leaflet is embedded from a copy
shipped with the package (``planning/report/_vendor/leaflet``, BSD-2-Clause) instead of a CDN,
tiles are optional (``basemap="none"``).

Here: the basemaps (天地图 with a key, 高德 in GCJ-02, CARTO, OpenStreetMap), drawing in the
map's coordinate system (:func:`display_coords`: every layer shifted to GCJ-02 on AMap), the
fit of the region to the map's own size with ranked, non-colliding labels (:class:`_FitRegion`),
the legend and the corner notes (travel mode, coordinate system). The layers live in
:mod:`planning.report.map_layers`; the plan map in :mod:`planning.report.maps`, the region map
in :mod:`planning.report.map_region`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.template import Template

from planning import i18n, settings
from planning.errors import ScenarioError
from planning.inputs.coords import wgs84_to_gcj02
from planning.report.labels import label_group
from planning.travel.table import travel_label_shown

Lang = Literal["zh", "en"]
Basemap = Literal["none", "cartodb", "osm", "tianditu", "amap"]

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


def map_html(m: folium.Map) -> str:
    """Return the map as one standalone HTML page (Leaflet embedded; tiles need a network)."""
    return str(m.get_root().render())
