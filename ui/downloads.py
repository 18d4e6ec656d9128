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

# (format, Chinese label, English label, help)
BUTTONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "xlsx",
        "设施规划表 (Excel)",
        "Facility plan (Excel)",
        (
            "摘要、政策指标、数据来源，每个区县一页站点清单 / "
            "summary, policy metrics, sites per county"
        ),
    ),
    (
        "pdf",
        "打印地图 (PDF)",
        "Printable map (PDF)",
        "含标题、图例、比例尺、指北针和数据来源 / title, legend, scale bar, north arrow, sources",
    ),
    ("png", "打印地图 (PNG)", "Printable map (PNG)", "同上，图片格式 / the same as an image"),
    (
        "html",
        "交互地图 (HTML)",
        "Interactive map (HTML)",
        "单个文件，双击即可在浏览器打开 / one file, opens in a browser from disk",
    ),
    (
        "gpkg",
        "GIS 图层 (GeoPackage)",
        "GIS layers (GeoPackage)",
        "站点、网格、区县、分配线四个图层，可用 QGIS/ArcGIS 打开 / sites, cells, counties, lines",
    ),
    (
        "geojson",
        "GIS 图层 (GeoJSON, zip)",
        "GIS layers (GeoJSON, zip)",
        "四个 GeoJSON 文件和 scenario.json / four GeoJSON files and scenario.json",
    ),
    (
        "csv",
        "表格 (CSV, zip)",
        "Tables (CSV, zip)",
        "四个 CSV 文件和 scenario.json / four CSV files and scenario.json",
    ),
    (
        "scenario",
        "方案文件 (scenario.json)",
        "Scenario (scenario.json)",
        "重新导入即可复现本方案 / re-import to reproduce this plan",
    ),
    ("all", "全部打包 (zip)", "Everything (zip)", "以上全部 / all of the above"),
)


def _builder(plan: Any, fmt: str, lang: str, paper: str) -> Callable[[], bytes]:
    def build() -> bytes:
        return report.export_bytes(plan, fmt, lang=lang, paper=paper).data  # type: ignore[arg-type]

    return build


def render(plan: Any, *, key: str = "downloads") -> None:
    """Show the language / paper choice and one download button per format."""
    c1, c2 = st.columns(2)
    lang = c1.radio(
        "导出语言 / Language",
        ["zh", "en"],
        horizontal=True,
        key=f"{key}-lang",
        format_func=lambda x: "中文" if x == "zh" else "English",
    )
    paper = c2.radio(
        "地图纸张 / Paper (landscape)",
        ["a4", "a3"],
        horizontal=True,
        key=f"{key}-paper",
        format_func=str.upper,
    )
    thr = plan.scenario.privacy_threshold
    st.caption(
        f"少于 {thr} 人的患者数显示为“<{thr}”；导出文件不含任何个人记录。"
        f" Counts below {thr} show as '<{thr}'; no patient-level record is exported."
    )
    cols = st.columns(3)
    for i, (fmt, zh, en, help_text) in enumerate(BUTTONS):
        cols[i % 3].download_button(
            zh if lang == "zh" else en,
            data=_builder(plan, fmt, lang, paper),
            file_name=report.download_name(plan, fmt, paper=paper),  # type: ignore[arg-type]
            mime=report.download_mime(fmt),
            key=f"{key}-{fmt}",
            help=help_text,
            on_click="ignore",
            width="stretch",
        )
