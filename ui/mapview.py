"""Showing folium maps in the app: display only, so panning never re-runs the page."""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from planning.report import maps
from planning.report.maps import BASEMAPS, Lang
from ui.i18n import labels, lang, t


def map_lang() -> Lang:
    """Language code of :mod:`planning.report.maps` for the current app language."""
    return "zh" if lang() == "zh" else "en"


def basemap_picker(key: str) -> str:
    """A basemap switch; returns the basemap name.

    "Boundaries only" (no tiles) is the default: the app makes no network request until the
    planner picks a tile basemap (the browser then fetches its tiles). 天地图 is offered only
    when a key is set (``KANGLE_TIANDITU_KEY``); otherwise a note says how to get one. On 高德
    (GCJ-02 tiles) every layer is drawn shifted to GCJ-02; the map states its coordinates.
    """
    options = ["none", "tianditu", "amap", "cartodb", "osm"]
    assert set(options) == set(BASEMAPS)  # noqa: S101 - keep the switch in step with maps
    if not maps.tianditu_available():
        options.remove("tianditu")
    if st.session_state.get(key) not in options:
        st.session_state[key] = "none"
    choice: str = st.selectbox(
        t("basemap"),
        options,
        key=key,
        format_func=labels("basemap_"),
        help=t("basemap_help"),
    )
    if "tianditu" not in options:
        st.caption(t("tianditu_no_key"))
    return choice


def show(m: folium.Map, *, key: str, height: int = 660) -> None:
    """Display ``m`` (no values returned, so panning and zooming do not re-run the page)."""
    st_folium(m, key=key, height=height, use_container_width=True, returned_objects=[])
