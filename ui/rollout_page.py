"""Rollout page (issue #8): which sites open in which year to meet the yearly milestones.

Widgets (keys ``ro_*``): the phases table (year, new sites, budget, county and patient
targets), the early-year weight, whether to search the smallest fix for missed milestones,
the Plan button, the year slider and the basemap. The page builds a :class:`Scenario` from
them, calls :func:`planning.models.rollout.plan_rollout` on the cached prepared inputs and shows the
year-by-year table against the milestones, the map coloured by opening year and downloads.
Only :class:`~planning.errors.PlanningError` is caught (``state.planning_errors``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from planning.inputs.sites import site_names
from planning.models import rollout
from planning.report import rollout as rollout_export
from planning.report.maps import travel_label_text
from planning.scenario import Scenario
from ui import cache, mapview, state
from ui.i18n import lang, progress_text, t

RESULT = "ro_result"

TEXT: dict[str, tuple[str, str]] = {
    "title": ("分期推进计划", "Phased rollout plan"),
    "intro": (
        (
            "按年份分配新站点或预算，使每年达到精康融合行动的阶段目标（区县覆盖率、患者覆盖率）。"
            "已开设的站点保持开放；现有站点从第一年起计入。"
        ),
        (
            "Give each year its new sites or budget; the plan chooses which sites open in which "
            "year to meet the yearly milestones (share of counties with a site, share of "
            "patients within reach). Opened sites stay open; existing sites count from the "
            "first year."
        ),
    ),
    "phases": ("各年度资源与目标", "Resources and targets by year"),
    "year": ("年份", "Year"),
    "new_sites": ("新开站点数", "New sites"),
    "budget": ("预算", "Budget"),
    "county_pct": ("区县覆盖目标 %", "County target %"),
    "patient_pct": ("患者覆盖目标 %", "Patient target %"),
    "weight": ("早年权重", "Early-year weight"),
    "weight_help": (
        (
            "1 = 各年同等重要；大于 1 时越早的年份权重越大（第 t 年权重 = w^(T-t)），"
            "优先开设最重要的站点。"
        ),
        (
            "1 = every year counts the same; above 1 earlier years weigh more "
            "(year t: w^(T-t)), so the sites that matter most open first."
        ),
    ),
    "suggest": (
        "为未达标的目标计算最小补充（站点或预算）",
        "Find the smallest fix for missed milestones",
    ),
    "run": ("生成分期计划", "Plan the rollout"),
    "none": (
        "设置好年度资源后点击“生成分期计划”。",
        "Set the yearly resources, then press 'Plan the rollout'.",
    ),
    "progress": ("正在求解…", "Solving…"),
    "status": (
        "模型 {model}（在“方案”页选择）· 求解状态：{status}{gap}，用时 {secs:.1f} 秒",
        "Model {model} (chosen on the scenario page) · solver: {status}{gap} in {secs:.1f} s",
    ),
    "table": ("逐年进展与目标", "Year by year against the milestones"),
    "show_year": ("显示年份", "Show year"),
    "opened": ("{year} 年开设的站点", "Sites opening in {year}"),
    "downloads": ("下载", "Downloads"),
    "xlsx": ("分期计划 (Excel，每年一页)", "Rollout plan (Excel, a sheet per year)"),
    "gpkg": ("GIS 图层 (GeoPackage)", "GIS layers (GeoPackage)"),
    "csv": ("逐年表 (CSV)", "Year table (CSV)"),
    "scenario": ("方案文件 (scenario.json)", "Scenario (scenario.json)"),
    "privacy": ("少于 {thr} 人的患者数显示为“<{thr}”。", "Counts below {thr} show as '<{thr}'."),
    "met": ("达标", "met"),
    "short": ("未达标", "short"),
    "c_new": ("新开站点", "New sites"),
    "c_open": ("累计站点", "Sites open"),
    "c_spend": ("当年投入", "Spend"),
    "c_cum_spend": ("累计投入", "Cumulative spend"),
    "c_county": ("区县覆盖率", "Counties served"),
    "c_county_t": ("区县目标", "County target"),
    "c_county_m": ("区县达标", "County milestone"),
    "c_patient": ("患者覆盖率", "Patients served"),
    "c_patient_t": ("患者目标", "Patient target"),
    "c_patient_m": ("患者达标", "Patient milestone"),
    "c_site": ("站点", "Site"),
    "c_name": ("名称", "Name"),
    "c_county_name": ("区县", "County"),
    "c_cost": ("开设成本", "Opening cost"),
    "m_counties": (
        "有站点的区县 {got} ≥ 目标 {target}（{n}/{of} 个）：达标",
        "counties with a site {got} ≥ {target} target ({n} of {of}): met",
    ),
    "m_patients": (
        "{thr} 分钟内可达的患者 {got} ≥ 目标 {target}：达标",
        "patients within reach {got} ≥ {target} target (within {thr} min): met",
    ),
    "s_counties": (
        "有站点的区县 {got} < 目标 {target}（{n}/{of} 个）",
        "counties with a site {got} < {target} target ({n} of {of})",
    ),
    "s_patients": (
        "{thr} 分钟内可达的患者 {got} < 目标 {target}",
        "patients within reach {got} < {target} target (within {thr} min)",
    ),
    "fix_sites": ("{year} 年再开设 {n} 个站点", "open {n} more site(s) in {year}"),
    "fix_budget": ("{year} 年预算增加 {amount}", "add {amount} to the {year} budget"),
    "fix_reorder": (
        "调整开设顺序（优先这一目标时资源足够）",
        "reorder openings (resources suffice when this milestone is favoured)",
    ),
    "fix_where": ("（例如在{where}）", " (e.g. in {where})"),
    "short_by": ("差 {gap}；{note}", "short by {gap}; {note}"),
    "hidden": (
        "（患者少于 {thr} 人，比例不显示）",
        " (fewer than {thr} patients, share not shown)",
    ),
}


def T(key: str, **values: Any) -> str:  # noqa: N802 - short like ui.i18n.t
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[0] if lang() == "zh" else pair[1]
    return text.format(**values) if values else text


def _share_text(value: float) -> str:
    return f"{100 * value:.1f} %".replace(".0 %", " %")


def milestone_text(row: Any, *, threshold_min: float, message: str, threshold: int = 5) -> str:
    """One milestone line in the page's language (English: the library's own ``message``).

    ``row`` is a row of :attr:`planning.models.rollout.RolloutResult.milestones` (``year``,
    ``measure``, ``target``, ``achieved``, ``met``, ``count``, ``of``, ``note``,
    ``extra_sites``, ``extra_budget``, ``where``, ``share_hidden``). A share the library
    marks ``share_hidden`` (it would give a count below ``threshold`` back) is ``—``.
    """
    if lang() != "zh":
        return message
    year = int(row.year)
    hidden = bool(getattr(row, "share_hidden", False))  # the library says: not shown
    values = {
        "got": "—" if hidden else _share_text(float(row.achieved)),
        "target": _share_text(float(row.target)),
        "thr": f"{threshold_min:g}",
        "n": "" if pd.isna(row.count) else int(row.count),
        "of": "" if pd.isna(row.of) else int(row.of),
    }
    measure = "counties" if str(row.measure) == "counties" else "patients"
    if bool(row.met):
        return f"{year}：" + T(f"m_{measure}", **values)
    head = f"{year}：" + T(f"s_{measure}", **values)
    if hidden:
        head += T("hidden", thr=threshold)
    if str(row.note or ""):
        if hidden:
            return head + "：" + str(row.note)
        gap = _share_text(float(row.target) - float(row.achieved))
        return head + "：" + T("short_by", gap=gap, note=row.note)
    fixes = []
    sites = _num(row.extra_sites)
    if sites is not None and sites > 0:
        fixes.append(T("fix_sites", year=year, n=int(sites)))
    budget = _num(row.extra_budget)
    if budget is not None and budget > 1e-6:
        fixes.append(T("fix_budget", year=year, amount=f"{budget:,.0f}"))
    fix = "，并".join(fixes) if fixes else T("fix_reorder")
    if str(row.where or ""):
        fix += T("fix_where", where=row.where)
    return head + "：" + fix


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
        return T("met") if bool(v) else T("short")

    return pd.DataFrame(
        {
            T("c_new"): yt["new_sites"].astype(int),
            T("c_open"): yt["sites_open"].astype(int),
            T("c_spend"): yt["spend"].map(lambda v: f"{v:,.0f}"),
            T("c_cum_spend"): yt["cumulative_spend"].map(lambda v: f"{v:,.0f}"),
            T("c_county"): yt["county_share"].map(lambda v: f"{100 * v:.0f} %"),
            T("c_county_t"): yt["county_target"].map(lambda v: f"{100 * v:.0f} %"),
            T("c_county_m"): yt["county_met"].map(flag),
            T("c_patient"): yt["patient_share"].map(
                lambda v: "—" if pd.isna(v) else f"{100 * v:.1f} %"
            ),
            T("c_patient_t"): yt["patient_target"].map(lambda v: f"{100 * v:.0f} %"),
            T("c_patient_m"): yt["patient_met"].map(flag),
        },
        index=yt.index.rename(T("year")),
    )


def _progress_bar() -> Callable[[float, str], None]:
    bar = st.progress(0.0, text=T("progress"))

    def progress(frac: float, text: str) -> None:
        bar.progress(min(max(float(frac), 0.0), 1.0), text=progress_text(text))

    return progress


def _controls(scenario: Scenario) -> tuple[pd.DataFrame, float, bool]:
    st.subheader(T("phases"))
    table = st.data_editor(
        phases_frame(scenario),
        key="ro_phases",
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "year": st.column_config.NumberColumn(
                T("year"), min_value=2000, max_value=2100, step=1, format="%d"
            ),
            "new_sites": st.column_config.NumberColumn(T("new_sites"), min_value=0, step=1),
            "budget": st.column_config.NumberColumn(T("budget"), min_value=0.0),
            "county_pct": st.column_config.NumberColumn(
                T("county_pct"), min_value=0.0, max_value=100.0
            ),
            "patient_pct": st.column_config.NumberColumn(
                T("patient_pct"), min_value=0.0, max_value=100.0
            ),
        },
    )
    c1, c2 = st.columns(2)
    state.init_widget("ro_early_weight", float(scenario.rollout.early_year_weight))
    weight = c1.number_input(
        T("weight"),
        min_value=1.0,
        max_value=10.0,
        step=0.5,
        key="ro_early_weight",
        help=T("weight_help"),
    )
    state.init_widget("ro_suggest", value=True)
    suggest = c2.checkbox(T("suggest"), key="ro_suggest")
    return table, float(weight), bool(suggest)


def _downloads(result: rollout.RolloutResult, inputs: Any) -> None:
    st.subheader(T("downloads"))
    st.caption(T("privacy", thr=result.scenario.privacy_threshold))
    label = inputs.travel.label
    stem = f"rollout-{result.scenario.name}"
    cols = st.columns(4)
    cols[0].download_button(
        T("xlsx"),
        data=lambda: rollout_export.rollout_xlsx_bytes(
            result, sites=inputs.sites, travel_label=label
        ),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="ro_dl_xlsx",
        on_click="ignore",
    )
    cols[1].download_button(
        T("gpkg"),
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
        T("csv"),
        data=years_csv.to_csv().encode("utf-8-sig"),
        file_name=f"{stem}-years.csv",
        mime="text/csv",
        key="ro_dl_csv",
        on_click="ignore",
    )
    cols[3].download_button(
        T("scenario"),
        data=result.scenario.to_json().encode("utf-8"),
        file_name="scenario.json",
        mime="application/json",
        key="ro_dl_scenario",
        on_click="ignore",
    )


def _show(result: rollout.RolloutResult) -> None:
    with state.planning_errors():
        inputs, _ = cache.prepared_inputs(result.scenario)
    gap = "" if result.gap is None or result.gap == 0 else f", gap {result.gap:.2%}"
    st.caption(
        T(
            "status",
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
    st.subheader(T("table"))
    st.dataframe(year_table(result), key="ro_table")
    threshold_min = float(result.scenario.max_travel_min)
    for row, text in zip(result.milestones.itertuples(), result.messages, strict=True):
        line = milestone_text(
            row,
            threshold_min=threshold_min,
            message=text,
            threshold=result.scenario.privacy_threshold,
        )
        (st.success if bool(row.met) else st.warning)(line)
    years = list(result.years)
    if len(years) > 1:
        year = st.select_slider(T("show_year"), options=years, value=years[-1], key="ro_year")
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
    st.markdown(f"**{T('opened', year=year)}**")
    names = site_names(inputs.sites, lang=mapview.map_lang()).reindex(opened.index)
    st.dataframe(
        pd.DataFrame(
            {
                T("c_name"): names,
                T("c_county_name"): opened["county_name"],
                T("c_cost"): opened["cost"],
            }
        ).rename_axis(T("c_site")),
        key="ro_opened",
    )
    _downloads(result, inputs)


def render() -> None:
    """Draw the rollout page."""
    state.show_notice()
    st.title(T("title"))
    st.caption(T("intro"))
    scenario = state.current_scenario()
    table, weight, suggest = _controls(scenario)
    if st.button(T("run"), key="ro_run", type="primary"):
        with state.planning_errors():
            planned = scenario.replace(rollout=rollout_settings(table, weight))
            state.set_scenario(planned)
            progress = _progress_bar()
            inputs, warns = cache.prepared_inputs(planned)
            for text in warns:
                st.warning(text)
            planned_result = rollout.plan_rollout(
                inputs, planned, suggest=suggest, progress=progress
            )
        st.session_state[RESULT] = planned_result
    last = st.session_state.get(RESULT)
    if not isinstance(last, rollout.RolloutResult):
        st.info(T("none"))
        return
    _show(last)
