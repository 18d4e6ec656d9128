"""Sensitivity page: the current plan re-solved over prevalences and speed factors.

How coverage, travel and fairness move between the assumptions, which sites are chosen in
every case (the safe first openings) and the robust plan; the workbook to download.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from planning.report.sensitivity import (
    export_sensitivity,
    format_sensitivity,
    headed,
    sensitivity_tables,
)
from planning.scenario import Scenario
from planning.sensitivity import MAX_CASES, SensitivityResult, run_sensitivity
from ui import state
from ui.i18n import labels, lang, t

ROBUST = ["regret", "coverage", "none"]


def _numbers(text: str) -> list[float] | None:
    try:
        return [float(x) for x in text.replace("，", ",").split(",") if x.strip()]
    except ValueError:
        return None


@st.cache_data(show_spinner=False, max_entries=2)
def _run(
    scenario_json: str, prevalence: tuple[float, ...], speeds: tuple[float, ...], robust: str
) -> SensitivityResult:
    return run_sensitivity(
        Scenario.from_json(scenario_json),
        prevalence_per_mille=prevalence,
        speed_factors=speeds,
        robust=None if robust == "none" else robust,  # type: ignore[arg-type]
    )


def _headed(frame: pd.DataFrame) -> pd.DataFrame:
    return headed(frame, lang())  # type: ignore[arg-type]


def _workbook(result: SensitivityResult) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        export_sensitivity(result, Path(tmp), lang=lang())  # type: ignore[arg-type]
        return (Path(tmp) / "sensitivity.xlsx").read_bytes()


# every case: green; some cases: orange, sized by how often (display only: no rerun on pan)
SAFE_RGBA = "#1a9850"
SOMETIMES_RGBA = "#f46d43"


def _stability_map(result: SensitivityResult) -> None:
    s = result.stability
    points = pd.DataFrame(
        {
            "lat": s["lat"].astype(float),
            "lon": s["lon"].astype(float),
            "size": 250 + 900 * s["share_chosen"].astype(float),
            "color": [SAFE_RGBA if e else SOMETIMES_RGBA for e in s["every_case"]],
        }
    ).dropna()
    st.caption(t("sens_map_note"))
    st.map(points, latitude="lat", longitude="lon", size="size", color="color")


def render() -> None:
    """Draw the page."""
    st.title(t("sens_title"))
    scenario = state.current_scenario()
    st.caption(t("sens_caption", region=scenario.region, model=t(f"model_{scenario.model}")))
    state.init_widget("sens_prevalence", "3.80, 4.60, 5.29")
    state.init_widget("sens_speeds", "0.8, 1.0, 1.2")
    state.init_widget("sens_robust", "regret")
    c1, c2 = st.columns(2)
    prev_text = c1.text_input(
        t("sens_prevalence"), key="sens_prevalence", help=t("sens_prevalence_help")
    )
    speed_text = c2.text_input(t("sens_speeds"), key="sens_speeds", help=t("sens_speeds_help"))
    robust = st.radio(
        t("sens_robust"),
        ROBUST,
        key="sens_robust",
        format_func=labels("sens_robust_"),
        horizontal=True,
        help=t("sens_robust_help"),
    )
    prevalence, speeds = _numbers(prev_text), _numbers(speed_text)
    if prevalence is None or speeds is None:
        st.error(t("sens_numbers_bad"))
        st.stop()
    n_cases = max(1, len(prevalence)) * max(1, len(speeds))
    if n_cases > MAX_CASES:
        st.error(t("sens_too_many", n=n_cases, max=MAX_CASES))
        st.stop()
    wanted = [scenario.to_json(), prevalence, speeds, robust]
    if st.button(t("sens_run"), key="sens_run", type="primary"):
        st.session_state["sens_for"] = wanted
    if st.session_state.get("sens_for") != wanted:
        st.info(t("sens_press", n=n_cases))
        return
    with st.spinner(t("sens_solving", n=n_cases)), state.planning_errors(lead="err_solve"):
        result = _run(scenario.to_json(), tuple(prevalence), tuple(speeds), robust)
    for line in format_sensitivity(result, lang=lang()).splitlines():  # type: ignore[arg-type]
        st.markdown(f"- {line}")
    tables = sensitivity_tables(result)
    st.subheader(t("sens_cases"))
    st.dataframe(_headed(tables["cases"]), width="stretch")
    st.subheader(t("sens_sites"))
    st.caption(t("sens_sites_note"))
    st.dataframe(_headed(tables["sites"]), width="stretch")
    _stability_map(result)
    if "robust" in tables:
        st.subheader(t("sens_robust_plan"))
        st.caption(t("sens_robust_note"))
        st.dataframe(_headed(tables["robust"]), width="stretch")
    st.download_button(
        t("sens_download"),
        data=_workbook(result),
        file_name="sensitivity.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="sens_download",
    )


render()
