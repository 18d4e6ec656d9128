"""Batch page: plan every prefecture (or county) of a province, or of China, in one run.

The current scenario is the template: each unit is planned with it, its region replaced
(:func:`planning.batch.run_batch`, on a local Dask cluster sized to this computer). The page
shows progress while the batch runs, then the roll-up of the chosen folder: units with their
status, sites, counties with a site, patients within reach and milestones, the failed units
and why, the map, downloads, and a button opening any unit's plan on the Scenario page.
Running the same batch again reuses every unit already planned for the same scenario.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from planning import i18n, settings
from planning.batch import BATCH_JSON, BatchResult, default_workers, read_batch, run_batch
from planning.errors import PlanningError
from planning.report import load_scenario_for_run
from planning.results.tables import POLICY_TARGETS
from ui import cache, state
from ui.i18n import lang, t

NATION = "全国"
LEVELS = {"province": ("prefecture", "county"), "nation": ("prefecture", "province")}
SHOWN = (
    "name",
    "status",
    "n_sites",
    "counties_with_site",
    "n_counties",
    "patients_total",
    "patients_within",
    "share_within",
    *(f"county_target_met_{y}" for y in POLICY_TARGETS),
    *(f"patient_target_met_{y}" for y in POLICY_TARGETS),
    "message",
)


def _t(key: str, **values: Any) -> str:
    """A library text (``batch.*``: table headers, statuses) in the app's language."""
    return i18n.text(key, lang(), **values)


def _default_folder(region: str, by: str) -> str:
    return str(settings.batch_dir() / f"{region}-{by}")


def _headers(minutes: float) -> dict[str, str]:
    heads = {
        "name": _t("batch.col_name"),
        "status": _t("batch.col_status"),
        "n_sites": _t("batch.col_sites"),
        "counties_with_site": _t("batch.col_counties_with_site"),
        "n_counties": _t("batch.col_counties"),
        "patients_total": _t("batch.col_patients"),
        "patients_within": _t("batch.col_patients_within", minutes=minutes),
        "share_within": _t("batch.col_share_within", minutes=minutes),
        "message": _t("batch.col_message"),
    }
    for year, target in POLICY_TARGETS.items():
        heads[f"county_target_met_{year}"] = _t(
            "batch.col_county_met", year=year, target=target["county_share"]
        )
        heads[f"patient_target_met_{year}"] = _t(
            "batch.col_patient_met", year=year, target=target["patient_share"]
        )
    return heads


def _mark(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return _t("batch.met") if bool(value) else _t("batch.short")


def _table(result: BatchResult) -> pd.DataFrame:
    table = result.table(lang=lang())  # type: ignore[arg-type]
    table.loc["total", "name"] = _t(
        "batch.total",
        done=int(table.loc["total", "n_units"]) - int(table.loc["total", "n_failed"]),
        units=int(table.loc["total", "n_units"]),
    )
    shown = table[[c for c in SHOWN if c in table.columns]].copy()
    shown["status"] = [
        "" if i == "total" else _t(f"batch.status_{s}") for i, s in shown["status"].items()
    ]
    for col in shown.columns:
        if "_target_met_" in col:
            shown[col] = shown[col].map(_mark)
    for col in ("n_sites", "counties_with_site", "n_counties"):
        shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{int(v)}")
    shown["share_within"] = shown["share_within"].map(lambda v: "—" if pd.isna(v) else f"{v:.1%}")
    shown["message"] = shown["message"].fillna("")
    return shown.rename(columns=_headers(result.template.max_travel_min))


def _run(region: str, by: str, folder: str, workers: int, *, force: bool) -> None:
    template = state.current_scenario()
    bar = st.progress(0.0, text=t("batch_starting"))

    def progress(p: Any) -> None:
        bar.progress(min(max(p.fraction, 0.0), 1.0), text=p.text(lang()))

    with state.planning_errors():
        result = run_batch(
            template,
            region,
            by,
            folder,
            workers=workers,
            force=force,
            progress=progress,
            lang=lang(),  # type: ignore[arg-type]
        )
    bar.progress(1.0, text=t("batch_finished", elapsed=round(result.elapsed_s)))


def _open_unit(folder: Path) -> None:
    try:
        scenario = load_scenario_for_run(folder / "scenario.json")
    except PlanningError as err:
        state.show_error(err)
        return
    state.set_scenario(scenario, reset_widgets=True)
    state.set_plan(None)
    st.switch_page("ui/page_scenario.py")


def _show(result: BatchResult) -> None:
    n_failed = len(result.failed)
    cols = st.columns(4)
    cols[0].metric(t("batch_m_units"), len(result.units))
    cols[1].metric(t("batch_m_done"), result.n_done)
    cols[2].metric(t("batch_m_failed"), n_failed)
    cols[3].metric(t("batch_m_reused"), result.n_reused)
    if n_failed:
        st.warning(
            t("batch_some_failed", failed=n_failed)
            + "\n\n"
            + "\n".join(f"- **{u.unit.name}**: {u.message(lang())}" for u in result.failed)
        )
    st.dataframe(_table(result), key="bt_table", hide_index=True)
    png = result.out_dir / "batch_map_a4.png"
    if png.is_file():
        st.image(str(png))
    downloads = [
        ("batch_summary.xlsx", t("batch_download_xlsx")),
        ("batch_summary.csv", t("batch_download_csv")),
        ("batch_map_a4.pdf", t("batch_download_pdf")),
    ]
    dl = st.columns(len(downloads))
    for col, (name, label) in zip(dl, downloads, strict=True):
        path = result.out_dir / name
        if path.is_file():
            col.download_button(label, data=path.read_bytes(), file_name=name, key=f"bt_dl_{name}")
    done = {u.unit.adcode: u for u in result.units if u.status == "done" and u.folder}
    if done:
        st.subheader(t("batch_open_title"))
        pick = st.selectbox(
            t("batch_open_unit"),
            list(done),
            format_func=lambda a: f"{done[a].unit.name} ({a})",
            key="bt_unit",
        )
        if st.button(t("batch_open"), key="bt_open") and pick:
            folder = done[pick].folder
            if folder is not None:
                _open_unit(folder)
    st.caption(t("batch_folder_note", folder=str(result.out_dir)))


def render() -> None:
    """Draw the page."""
    st.title(t("batch_title"))
    template = state.current_scenario()
    st.caption(
        _t(
            "ui.batch_intro",
            name=template.title(lang()),
            model=template.model,
            minutes=template.max_travel_min,
        )
    )
    provinces = cache.units(None)
    choices = [NATION, *provinces["name"].tolist()]
    region = st.selectbox(
        t("batch_region"),
        choices,
        index=choices.index("福建省") if "福建省" in choices else 0,
        key="bt_region",
    )
    levels = LEVELS["nation" if region == NATION else "province"]
    code = lang()  # labels fixed when drawn (see ui.i18n.labels); bt_by is a TRANSLATED_CHOICE
    by = st.radio(
        t("batch_by"),
        levels,
        format_func=lambda lv: i18n.text(f"batch.level_{lv}", code),
        horizontal=True,
        key="bt_by",
    )
    folder = st.text_input(
        t("batch_folder"),
        value=_default_folder(region, by),
        key=f"bt_folder_{region}_{by}",
    )
    left, right = st.columns(2)
    workers = left.number_input(
        t("batch_workers"),
        min_value=1,
        max_value=64,
        value=default_workers(),
        step=1,
        key="bt_workers",
    )
    force = right.checkbox(t("batch_force"), key="bt_force")
    if st.button(t("batch_start"), type="primary", key="bt_start"):
        _run(region, by, folder, int(workers), force=force)
    path = Path(folder).expanduser()
    if (path / BATCH_JSON).is_file():
        with state.planning_errors():
            result = read_batch(path)
        _show(result)
    else:
        st.info(t("batch_none_yet"))


render()
