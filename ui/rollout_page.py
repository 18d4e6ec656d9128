"""Rollout page (issue #8): which sites open in which year to meet the yearly milestones.

Widgets (keys ``ro_*``): the phases table (year, new sites, budget, county and patient
targets), the early-year weight, whether to search the smallest fix for missed milestones,
the Plan button, the year slider and the basemap. The page builds a :class:`Scenario` from
them, calls :func:`planning.pipeline.rollout` on the cached prepared inputs and shows the
year-by-year table against the milestones, the map coloured by opening year and downloads.
Only :class:`~planning.errors.PlanningError` is caught (``state.planning_errors``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from planning import pipeline
from planning.inputs.sites import site_names
from planning.report import rollout as rollout_export
from planning.report.maps import travel_label_text
from planning.results import rollout
from planning.scenario import Scenario
from ui import cache, mapview, state
from ui.i18n import lang, progress_text, t

RESULT = "ro_result"


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def phases_frame(scenario: Scenario) -> pd.DataFrame:
    """The scenario's phases as an editable table (targets in per cent)."""
    rows = [
        {
            "year": p.year,
            "new_sites": p.new_sites,
            "budget": p.budget,
            "county_pct": round(100 * p.county_share_target, 4),
            "patient_pct": round(100 * p.patient_share_target, 4),
        }
        for p in scenario.rollout.phases
    ]
    frame = pd.DataFrame(rows, columns=["year", "new_sites", "budget", "county_pct", "patient_pct"])
    frame["year"] = frame["year"].astype("Int64")
    frame["new_sites"] = frame["new_sites"].astype("Int64")
    frame["budget"] = frame["budget"].astype(float)
    return frame


def rollout_settings(table: pd.DataFrame, early_year_weight: float) -> dict[str, Any]:
    """Scenario ``rollout`` data from the edited table (empty rows dropped, years sorted)."""
    phases: list[dict[str, Any]] = []
    for _, row in table.iterrows():
        year = _num(row.get("year"))
        if year is None:
            continue
        sites = _num(row.get("new_sites"))
        phases.append(
            {
                "year": int(year),
                "new_sites": None if sites is None else int(sites),
                "budget": _num(row.get("budget")),
                "county_share_target": (_num(row.get("county_pct")) or 0.0) / 100.0,
                "patient_share_target": (_num(row.get("patient_pct")) or 0.0) / 100.0,
            }
        )
    phases.sort(key=lambda p: int(p["year"]))
    return {"phases": phases, "early_year_weight": float(early_year_weight)}


def year_table(result: rollout.RolloutResult) -> pd.DataFrame:
    """The year-by-year table shown on the page (shares in %, met/short in words).

    Built from the exported years table, so a patient share that would give a count below
    the privacy threshold back is ``—`` here as in the files.
    """
    yt = rollout_export.rollout_tables(result)["years"]

    def flag(v: Any) -> str:
        return t("yes_met") if bool(v) else t("ro_short")

    return pd.DataFrame(
        {
            t("ro_c_new"): yt["new_sites"].astype(int),
            t("ro_c_open"): yt["sites_open"].astype(int),
            t("ro_c_spend"): yt["spend"].map(lambda v: f"{v:,.0f}"),
            t("ro_c_cum_spend"): yt["cumulative_spend"].map(lambda v: f"{v:,.0f}"),
            t("ro_c_county"): yt["county_share"].map(lambda v: f"{100 * v:.0f} %"),
            t("col_county_target"): yt["county_target"].map(lambda v: f"{100 * v:.0f} %"),
            t("ro_c_county_m"): yt["county_met"].map(flag),
            t("ro_c_patient"): yt["patient_share"].map(
                lambda v: "—" if pd.isna(v) else f"{100 * v:.1f} %"
            ),
            t("col_patient_target"): yt["patient_target"].map(lambda v: f"{100 * v:.0f} %"),
            t("ro_c_patient_m"): yt["patient_met"].map(flag),
        },
        index=yt.index.rename(t("col_year")),
    )


def _progress_bar() -> Callable[[float, str], None]:
    bar = st.progress(0.0, text=t("solving"))

    def progress(frac: float, text: str) -> None:
        bar.progress(min(max(float(frac), 0.0), 1.0), text=progress_text(text))

    return progress


def _controls(scenario: Scenario) -> tuple[pd.DataFrame, float, bool]:
    st.subheader(t("ro_phases"))
    table = st.data_editor(
        phases_frame(scenario),
        key="ro_phases",
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "year": st.column_config.NumberColumn(
                t("col_year"), min_value=2000, max_value=2100, step=1, format="%d"
            ),
            "new_sites": st.column_config.NumberColumn(t("ro_new_sites"), min_value=0, step=1),
            "budget": st.column_config.NumberColumn(t("ro_budget"), min_value=0.0),
            "county_pct": st.column_config.NumberColumn(
                t("ro_county_pct"), min_value=0.0, max_value=100.0
            ),
            "patient_pct": st.column_config.NumberColumn(
                t("ro_patient_pct"), min_value=0.0, max_value=100.0
            ),
        },
    )
    c1, c2 = st.columns(2)
    state.init_widget("ro_early_weight", float(scenario.rollout.early_year_weight))
    weight = c1.number_input(
        t("ro_weight"),
        min_value=1.0,
        max_value=10.0,
        step=0.5,
        key="ro_early_weight",
        help=t("ro_weight_help"),
    )
    state.init_widget("ro_suggest", value=True)
    suggest = c2.checkbox(t("ro_suggest"), key="ro_suggest")
    return table, float(weight), bool(suggest)


def _downloads(result: rollout.RolloutResult, inputs: Any) -> None:
    st.subheader(t("tab_downloads"))
    st.caption(t("ro_privacy", thr=result.scenario.privacy_threshold))
    label = inputs.travel.label
    stem = f"rollout-{result.scenario.display_name}"
    cols = st.columns(5)
    code = "zh" if lang() == "zh" else "en"
    cols[0].download_button(
        t("ro_xlsx"),
        data=lambda: rollout_export.rollout_workbook_bytes(
            result, sites=inputs.sites, travel_label=label, lang=code
        ),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="ro_dl_xlsx",
        on_click="ignore",
    )
    cols[1].download_button(
        t("dl_gpkg"),
        data=lambda: rollout_export.rollout_gpkg_bytes(
            result, sites=inputs.sites, counties=inputs.counties, travel_label=label
        ),
        file_name=f"{stem}.gpkg",
        mime="application/geopackage+sqlite3",
        key="ro_dl_gpkg",
        on_click="ignore",
    )
    years_csv = rollout_export.rollout_tables(result, travel_label=label)["years"]
    cols[2].download_button(
        t("ro_csv"),
        data=years_csv.to_csv().encode("utf-8-sig"),
        file_name=f"{stem}-years.csv",
        mime="text/csv",
        key="ro_dl_csv",
        on_click="ignore",
    )
    cols[4].download_button(
        t("ro_pdf"),
        data=lambda: rollout_export.rollout_print_map_bytes(
            result, sites=inputs.sites, counties=inputs.counties, travel_label=label, lang=code
        ),
        file_name=f"{stem}.pdf",
        mime="application/pdf",
        key="ro_dl_pdf",
        on_click="ignore",
    )
    cols[3].download_button(
        t("dl_scenario"),
        data=result.scenario.to_json().encode("utf-8"),
        file_name="scenario.json",
        mime="application/json",
        key="ro_dl_scenario",
        on_click="ignore",
    )


def _show(result: rollout.RolloutResult) -> None:
    with state.planning_errors():
        inputs, _ = cache.prepared_inputs(result.scenario)
    gap = "" if result.gap is None or result.gap == 0 else t("ro_gap", gap=result.gap)
    st.caption(
        t(
            "ro_status",
            model=t(f"model_{result.model}"),
            status=t(f"solstatus_{result.status}"),
            gap=gap,
            secs=result.solve_time_s,
        )
    )
    st.caption(
        ":material/directions_car: "
        + travel_label_text(inputs.travel.label, lang="zh" if lang() == "zh" else "en")
    )
    st.subheader(t("ro_table"))
    st.dataframe(year_table(result), key="ro_table")
    st.caption(":material/info: " + rollout_export.differs_note(lang()))
    for row, line in zip(result.milestones.itertuples(), result.milestone_lines, strict=True):
        (st.success if bool(row.met) else st.warning)(line.text(lang()))
    years = list(result.years)
    if len(years) > 1:
        year = st.select_slider(t("ro_show_year"), options=years, value=years[-1], key="ro_year")
    else:
        year = years[0]
    basemap = mapview.basemap_picker("ro_basemap")
    with state.planning_errors():
        m = rollout_export.build_rollout_map(
            result,
            sites=inputs.sites,
            counties=inputs.counties,
            year=int(year),
            travel_label=inputs.travel.label,
            basemap=basemap,
            lang="zh" if lang() == "zh" else "en",
        )
    mapview.show(m, key="ro_map")
    opened = result.sites[result.sites["opening_year"] == year]
    st.markdown(f"**{t('ro_opened', year=year)}**")
    names = site_names(inputs.sites, lang=mapview.map_lang()).reindex(opened.index)
    st.dataframe(
        pd.DataFrame(
            {
                t("col_name"): names,
                t("col_county"): opened["county_name"],
                t("ro_c_cost"): opened["cost"],
            }
        ).rename_axis(t("ro_c_site")),
        key="ro_opened",
    )
    _downloads(result, inputs)


def render() -> None:
    """Draw the rollout page."""
    state.show_notice()
    st.title(t("ro_title"))
    st.caption(t("ro_intro"))
    scenario = state.current_scenario()
    table, weight, suggest = _controls(scenario)
    if st.button(t("ro_run"), key="ro_run", type="primary"):
        with state.planning_errors():
            planned = scenario.replace(rollout=rollout_settings(table, weight))
            state.set_scenario(planned)
            progress = _progress_bar()
            inputs, warns = cache.prepared_inputs(planned)
            state.show_warnings(warns)
            planned_result = pipeline.rollout(inputs, planned, suggest=suggest, progress=progress)
        st.session_state[RESULT] = planned_result
    last = st.session_state.get(RESULT)
    if not isinstance(last, rollout.RolloutResult):
        st.info(t("ro_none"))
        return
    _show(last)
