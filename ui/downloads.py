"""Download buttons for a solved plan: every export format of the meeting kit (issue 6).

Call ``render(plan)`` from the results page. Each file is built only when its button is
clicked (Streamlit's deferred download data), so showing the buttons costs nothing; clicking
does not rerun the page. Every download carries the scenario (``scenario.json`` inside the
ZIPs, a ``scenario.json`` sheet in the workbook) and suppresses patient counts below the
scenario's privacy threshold, like the command line ``python -m planning export``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from planning import report
from planning.scenario_store import scenario_json_bytes
from ui.i18n import LANGS, both, t

FORMATS: tuple[str, ...] = (
    "xlsx",
    "pdf",
    "png",
    "html",
    "gpkg",
    "geojson",
    "csv",
    "scenario",
    "all",
)
"""One download button per format, in this order; labels ``ui.dl_<format>`` (+ ``_help``)."""


def _builder(plan: Any, fmt: str, lang: str, paper: str) -> Callable[[], bytes]:
    def build() -> bytes:
        if fmt == "scenario":  # the JSON file the button names (its input files: in "all")
            return scenario_json_bytes(plan.scenario)
        return report.export_bytes(plan, fmt, lang=lang, paper=paper).data  # type: ignore[arg-type]

    return build


def render(plan: Any, *, key: str = "downloads") -> None:
    """Show the language / paper choice and one download button per format."""
    c1, c2 = st.columns(2)
    lang = c1.radio(
        both("dl_lang"),
        list(LANGS),
        horizontal=True,
        key=f"{key}-lang",
        format_func=lambda code: LANGS[code],
    )
    paper = c2.radio(
        both("dl_paper"),
        ["a4", "a3"],
        horizontal=True,
        key=f"{key}-paper",
        format_func=str.upper,
    )
    thr = plan.scenario.privacy_threshold
    st.caption(both("dl_privacy", sep=" ", thr=thr))
    cols = st.columns(3)
    for i, fmt in enumerate(FORMATS):
        if fmt == "scenario":
            name = report.scenario_download_name(plan)
            mime = "application/json"
        else:
            name = report.download_name(plan, fmt, paper=paper)  # type: ignore[arg-type]
            mime = report.download_mime(fmt, plan)
        cols[i % 3].download_button(
            t(f"dl_{fmt}", in_lang=lang),
            data=_builder(plan, fmt, lang, paper),
            file_name=name,
            mime=mime,
            key=f"{key}-{fmt}",
            help=both(f"dl_{fmt}_help"),
            on_click="ignore",
            width="stretch",
        )
