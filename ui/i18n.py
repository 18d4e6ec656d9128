"""App texts in Simplified Chinese (default) and English, from the ``ui`` message catalog.

Every label, unit, metric and message of the app lives in ``planning/locales/<lang>/ui.po``
(key ``ui.<name>``), next to the library's catalogs, so the app, the command line and the
exports speak from one set of catalogs and a missing translation is a test failure rather than
a mixed-language screen. :func:`t` renders a text in the app's language. The library's errors
and warnings are rendered in the same language by :mod:`ui.messages`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import streamlit as st

from planning import i18n

DOMAIN = "ui"
DEFAULT_LANG = i18n.DEFAULT_LANG
KEPT_LANG = "_lang"  # copy of the language switch (key "lang") that survives st.switch_page


def key_of(name: str) -> str:
    """Catalog key of the app text ``name``: ``ui.<name>``, ``+`` read as ``_``.

    Choice labels are named after the value they label (``source_grid+facilities``); a
    catalog key holds only lower-case letters, digits and ``_``.
    """
    return f"{DOMAIN}." + re.sub(r"[^a-z0-9_]", "_", name)


class _Strings(Mapping[str, tuple[str, str]]):
    """Read-only view of the ``ui`` catalog: ``{name: (zh, en)}`` (edit the ``.po`` files)."""

    def _pairs(self) -> dict[str, tuple[str, str]]:
        zh, en = i18n.catalog("zh", DOMAIN), i18n.catalog("en", DOMAIN)
        prefix = DOMAIN + "."
        return {k.removeprefix(prefix): (v, en.get(k, "")) for k, v in zh.items()}

    def __getitem__(self, name: str) -> tuple[str, str]:
        return self._pairs()[key_of(name).removeprefix(DOMAIN + ".")]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pairs())

    def __len__(self) -> int:
        return len(self._pairs())


STRINGS: Mapping[str, tuple[str, str]] = _Strings()
"""Every app text as ``{name: (zh, en)}``, read from the catalogs (for tests and tools)."""

LANGS: dict[str, str] = {code: i18n.text("ui.lang_name", code) for code in i18n.LANGS}
"""Each language's name in itself, for the language switch (``{"zh": "中文", ...}``)."""


def lang() -> str:
    """Current language code (``"zh"`` or ``"en"``)."""
    value = st.session_state.get("lang", st.session_state.get(KEPT_LANG, DEFAULT_LANG))
    return value if value in LANGS else DEFAULT_LANG


def t(key: str, *, in_lang: str | None = None, **values: Any) -> str:
    """The text ``ui.<key>`` in the current language (or ``in_lang``), formatted with ``values``."""
    code = in_lang or lang()
    try:
        template = i18n.template(key_of(key), i18n.check_language(code))
    except KeyError:  # a missing key is a bug (tests fail); show the key rather than break
        return key
    return i18n.text(key_of(key), code, **values) if values else template


def both(key: str, *, sep: str = " / ", **values: Any) -> str:
    """The text ``key`` in Chinese and English, e.g. ``"导出语言 / Language"``."""
    return sep.join(t(key, in_lang=code, **values) for code in i18n.LANGS)


def labels(prefix: str) -> Callable[[Any], str]:
    """A ``format_func`` for choices: ``value -> t(prefix + value)`` in today's language.

    The language is fixed when the widget is drawn, so a widget's labels never change under
    it between runs (Streamlit matches the browser's choice by its label).
    """
    code = lang()
    return lambda value: t(f"{prefix}{value}", in_lang=code)


def progress_text(message: str | i18n.Msg) -> str:
    """A library progress message in the app's language.

    A :class:`planning.i18n.Msg` is rendered from its catalog; an English sentence (the
    library's progress messages are not coded yet) goes through :func:`_legacy_progress`, and
    one it does not know is shown as it is.
    """
    code = lang()
    if isinstance(message, i18n.Msg):
        return message.text(code)
    return _legacy_progress(message, code)


# Progress sentences the library writes today -> catalog key; delete with _legacy_progress
# once the library reports progress as i18n.Msg.
_PROGRESS_KEYS = {
    "preparing inputs": "progress_preparing_inputs",
    "loading region": "progress_loading_region",
    "building demand cells": "progress_building_demand_cells",
    "solving the siting model": "progress_solving_the_siting_model",
    "summarising results": "progress_summarising_results",
    "done": "progress_done",
    "preparing model data": "progress_preparing_model_data",
    "estimating straight-line travel times": "progress_estimating_straight_line_travel_times",
    "road network loaded from cache": "progress_road_network_loaded_from_cache",
    "building the road graph": "progress_building_the_road_graph",
    "road network downloaded": "progress_road_network_downloaded",
    "snapping points to the road network": "progress_snapping_points_to_the_road_network",
    "routing on the road network": "progress_routing_on_the_road_network",
    "road travel times done": "progress_road_travel_times_done",
    "trade-off curve done": "progress_trade_off_curve_done",
    "rollout: optimising the opening order": "progress_rollout_optimising_the_opening_order",
    "rollout: finding the smallest milestone shortfall": (
        "progress_rollout_finding_the_smallest_milestone_shortfall"
    ),
    "rollout: year-by-year figures": "progress_rollout_year_by_year_figures",
    "rollout: done": "progress_rollout_done",
}
_PROGRESS_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"solving (?P<m>.+)"), "progress_solving"),
    (re.compile(r"p-median round (?P<k>\d+)"), "progress_pmedian_round"),
    (re.compile(r"p-center: testing (?P<v>[\d.]+) min"), "progress_pcenter_testing"),
    (re.compile(r"reading (?P<f>.+)"), "progress_reading"),
    (re.compile(r"read (?P<n>\d+) nodes from (?P<f>.+)"), "progress_read_nodes"),
    (
        re.compile(r"downloading the (?P<t>\w+) road network from OpenStreetMap"),
        "progress_downloading",
    ),
    (re.compile(r"(?P<s>optimal|feasible): objective (?P<v>.+)"), "progress_objective"),
    (re.compile(r"(?P<m>.+) with (?P<k>\d+) sites"), "progress_with_sites"),
)


def _legacy_progress(message: str, code: str) -> str:
    """An English progress sentence of the library, re-worded from the catalog when known."""
    key = _PROGRESS_KEYS.get(message)
    if key is not None:
        return t(key, in_lang=code)
    for pattern, key in _PROGRESS_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            values = dict(found.groupdict())
            if "s" in values:
                values["s"] = t(f"progress_status_{values['s']}", in_lang=code)
            return t(key, in_lang=code, **values)
    return message
