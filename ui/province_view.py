"""The province overview of a solved plan: milestones, prefectures, counties, map, downloads.

Everything shown comes from :func:`planning.results.province_overview` through
:func:`planning.report.overview_tables` (privacy rule applied, headers in the app's language)
and :func:`planning.report.build_overview_map`; the page only lays it out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from planning import i18n, report
from planning.pipeline import Plan
from planning.results import ProvinceOverview, province_overview
from ui import mapview
from ui.i18n import t
from ui.results_view import fmt_pct

DOWNLOADS: tuple[tuple[str, str, str], ...] = (
    ("xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("html", "html", "text/html"),
    ("zip", "zip", "application/zip"),
)
"""Overview downloads: format, file extension, MIME type (labels ``ui.ov_dl_<format>``)."""


def _shares_as_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Shares (0-1) as ``"36.4%"``, ``"—"`` where left out (the table's other cells as they are)."""
    out = frame.copy()
    for col in columns:
        out[col] = [fmt_pct(v) for v in frame[col]]
    return out


def _builder(plan: Plan, ov: ProvinceOverview, fmt: str, code: str) -> Callable[[], bytes]:
    def build() -> bytes:
        return report.overview_bytes(plan, fmt, lang=code, overview=ov)  # type: ignore[arg-type]

    return build


def _headline(ov: ProvinceOverview, pub: dict[str, Any], *, minutes: float) -> None:
    total = pub["total"].iloc[0]
    c1, c2, c3 = st.columns(3)
    c1.metric(
        t("ov_m_counties"),
        f"{int(total['counties_offering'])} / {int(total['n_counties'])}"
        f" ({fmt_pct(total['county_share'])})",
    )
    c2.metric(t("ov_m_patients", T=f"{minutes:g}"), fmt_pct(total["share_within"]))
    c2.caption(t("ov_m_patients_of", within=total["patients_within"], total=total["patients"]))
    c3.metric(
        t("ov_m_hubs"),
        f"{int(ov.total['prefectures_with_hub'])} / {int(ov.total['n_prefectures'])}",
    )


def render(plan: Plan, *, basemap: str = "none", key: str = "ov") -> None:
    """Draw the province overview of ``plan`` (a tab of the Scenario page).

    ``basemap``: the one picked for the plan's map above (one switch for both maps).
    """
    code = mapview.map_lang()
    ov = province_overview(plan)
    pub = ov.public()
    tables = report.overview_tables(plan, ov, lang=code)
    st.subheader(i18n.text("regions.ov_title", code, title=plan.scenario.title(code)))
    st.caption(t("ov_caption"))
    _headline(ov, pub, minutes=plan.scenario.max_travel_min)
    share_cols = {
        "milestones": [
            i18n.text(f"regions.{k}", code)
            for k in (
                "ov_col_county_target",
                "ov_col_county_share",
                "ov_col_patient_target",
                "ov_col_share_within",
            )
        ],
        "prefectures": [
            i18n.text(f"regions.{k}", code) for k in ("ov_col_county_share", "ov_col_share_within")
        ],
        "counties": [i18n.text("regions.ov_col_share_within", code)],
    }
    st.markdown(f"**{t('ov_milestones')}**")
    milestones = _shares_as_text(tables["milestones"], share_cols["milestones"])
    year = milestones.columns[0]  # 2023..2025, and the province's own target ("2025 (福建省 ...")
    milestones[year] = milestones[year].astype(str)
    st.dataframe(
        milestones,
        hide_index=True,
        width="stretch",
    )
    target_note = report.province_target_note(ov, lang=code)
    if target_note:
        st.caption(target_note)
    st.markdown(f"**{t('ov_prefectures')}**")
    st.dataframe(
        _shares_as_text(tables["prefectures"], share_cols["prefectures"]),
        hide_index=True,
        width="stretch",
    )
    mapview.show(
        report.build_overview_map(plan, ov, basemap=basemap, lang=code),
        key=f"map_{key}",
        height=620,
    )
    with st.expander(t("ov_counties", n=len(tables["counties"]))):
        st.dataframe(
            _shares_as_text(tables["counties"], share_cols["counties"]),
            hide_index=True,
            width="stretch",
        )
    if not tables["left_out"].empty:
        with st.expander(t("ov_left_out_title", n=len(tables["left_out"]))):
            st.dataframe(tables["left_out"], hide_index=True, width="stretch")
    cols = st.columns(len(DOWNLOADS))
    for col, (fmt, ext, mime) in zip(cols, DOWNLOADS, strict=True):
        col.download_button(
            t(f"ov_dl_{fmt}"),
            data=_builder(plan, ov, fmt, code),
            file_name=f"{plan.scenario.display_name}_{t('ov_file')}.{ext}",
            mime=mime,
            key=f"{key}-dl-{fmt}",
            on_click="ignore",
            width="stretch",
        )
