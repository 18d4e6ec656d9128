"""Result figures and tables of a plan, translated, with small patient counts suppressed."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from planning import i18n
from planning.inputs.sites import site_names
from planning.pipeline import Plan
from planning.report.equity import equity_lines, lower_bound_note
from planning.report.maps import travel_label_text
from planning.results import (
    POLICY_TARGETS,
    count_mask,
    hidden_kpis,
    public_counties,
    public_policy,
    public_sites,
    travel_left_out,
)
from planning.results.equity import EQUITY_FIGURES
from ui.i18n import lang, t


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def fmt_pct(value: Any, digits: int = 1) -> str:
    """``0.7177`` -> ``"71.8%"``; NaN -> ``"—"``."""
    v = _num(value)
    return "—" if math.isnan(v) else f"{100 * v:.{digits}f}%"


def fmt_min(value: Any, digits: int = 1) -> str:
    """Minutes with the unit, e.g. ``"12.3 分钟"``; NaN -> ``"—"``."""
    v = _num(value)
    return "—" if math.isnan(v) else f"{v:.{digits}f} {t('unit_min')}"


def kpi_values(plan: Plan) -> dict[str, str]:
    """Headline figures as display text, keyed by metric id (for metrics and comparisons)."""
    k = plan.tables.kpis
    thr = plan.scenario.privacy_threshold
    hidden = hidden_kpis(plan.tables, threshold=thr)
    mask = count_mask(plan.tables, threshold=thr)
    equity = {
        line.figure: line.value.text(lang()) for line in equity_lines(plan.tables, threshold=thr)
    }
    return {
        **equity,
        "share_within": "—" if "share_within" in hidden else fmt_pct(k.share_within),
        "counties_with_site": f"{k.counties_with_site} / {k.n_counties}",
        "mean_travel_min": "—" if "mean_travel_min" in hidden else fmt_min(k.mean_travel_min),
        "max_travel_min": fmt_min(k.max_travel_min_observed),
        "n_sites": f"{k.n_sites} ({k.n_sites_existing} + {k.n_sites_new})",
        "patients_within": mask.kpi_text("patients_within", _num(k.patients_within)) or "—",
        "patients_total": mask.kpi_text("patients_total", _num(k.patients_total)) or "—",
    }


def metric_label(metric: str, plan: Plan) -> str:
    """Translated label of a headline metric (an equity figure's from the equity catalog)."""
    if metric in EQUITY_FIGURES:
        return i18n.text(f"equity.label_{metric}", lang())
    return t(f"m_{metric}", T=f"{plan.scenario.max_travel_min:g}")


def equity_table(plan: Plan) -> pd.DataFrame:
    """How fair the plan is: each equity figure, its value and what it means."""
    code = lang()
    rows = [
        {
            i18n.text("equity.col_figure", code): line.label.text(code),
            i18n.text("equity.col_value", code): line.value.text(code),
            i18n.text("equity.col_explanation", code): line.explanation.text(code),
        }
        for line in equity_lines(plan.tables, threshold=plan.scenario.privacy_threshold)
    ]
    return pd.DataFrame(rows).set_index(i18n.text("equity.col_figure", code))


def equity_note(plan: Plan) -> str | None:
    """The note under the equity table when the Gini is a lower bound."""
    note = lower_bound_note(plan.tables, threshold=plan.scenario.privacy_threshold)
    return None if note is None else note.text(lang())


def metrics_row(plan: Plan, *, key: str) -> None:
    """The four headline metrics of issue 2 plus sites and patients (st.metric)."""
    del key
    values = kpi_values(plan)
    order = [
        "share_within",
        "counties_with_site",
        "mean_travel_min",
        "max_travel_min",
        "n_sites",
        "patients_within",
    ]
    cols = st.columns(len(order))
    for col, metric in zip(cols, order, strict=True):
        col.metric(metric_label(metric, plan), values[metric])
    st.caption(":material/info: " + travel_note(plan))


def travel_note(plan: Plan) -> str:
    """Who the mean and longest travel times count: every patient, or who is left out."""
    note = travel_left_out(plan.tables, threshold=plan.scenario.privacy_threshold)
    cutoff = plan.tables.kpis.travel_cutoff_min
    if note is None:
        return t("travel_all_counted", cutoff=f"{cutoff:g}")
    return t("travel_note", note=note.text(lang()))


def fmt_min_marked(value: Any, marked: bool) -> str:
    """Minutes with ``*`` when some patients are left out (see :func:`county_note`)."""
    text = fmt_min(value)
    return f"{text} *" if marked and text != "—" else text


def county_note(plan: Plan) -> str:
    """Footnote of the ``*`` on a county's mean and longest travel."""
    cutoff = plan.tables.kpis.travel_cutoff_min
    return t("county_travel_note", cutoff=f"{cutoff:g}").replace("*", "\\*", 1)


def travel_caption(plan: Plan) -> None:
    """The travel-mode label, shown with every result."""
    st.caption(
        ":material/directions_car: "
        + travel_label_text(plan.travel.label, lang="zh" if lang() == "zh" else "en")
    )


def format_status(plan: Plan) -> str:
    """Solver status line: proven optimal or best found (with its gap), solver, time."""
    sol = plan.solution
    if sol.is_optimal:
        status = t("status_optimal")
    elif sol.status == "feasible":
        gap = "—" if sol.gap is None else fmt_pct(sol.gap, 2)
        status = t("status_feasible", gap=gap)
    else:
        status = t("status_other", status=sol.status)
    return t(
        "status_line",
        status=status,
        model=t(f"model_{sol.model}"),
        solver=(sol.solver or plan.scenario.solver).upper(),
        seconds=f"{sol.solve_time_s:.1f}",
    )


def _mark(ok: bool) -> str:
    return t("yes_met") if ok else t("no_met")


def policy_table(plan: Plan) -> pd.DataFrame:
    """Milestones 2023/2024/2025: targets, achieved shares and whether each is met.

    Built from :func:`planning.results.public_policy`: the patient share and its mark are
    ``"—"`` when they would give a hidden count back.
    """
    pol = public_policy(plan.tables, threshold=plan.scenario.privacy_threshold)
    rows = []
    for year, row in pol.iterrows():
        rows.append(
            {
                t("col_year"): str(year),
                t("col_county_target"): fmt_pct(row["county_share_target"], 0),
                t("col_county_achieved"): fmt_pct(row["county_share"]),
                t("col_county_met"): _mark(bool(row["county_target_met"])),
                t("col_patient_target"): fmt_pct(row["patient_share_target"], 0),
                t("col_patient_achieved"): fmt_pct(row["patient_share"]),
                t("col_patient_met"): "—"
                if row["patient_target_met"] is None
                else _mark(bool(row["patient_target_met"])),
            }
        )
    return pd.DataFrame(rows).set_index(t("col_year"))


def county_table(plan: Plan) -> pd.DataFrame:
    """Per-county results against the patient targets (30/45/60 % for 2023/24/25).

    Built from :func:`planning.results.public_counties`: counts below the privacy threshold
    are ``"<5"``, counts that would give one back by subtraction ``"≥N"``, and a share (or
    target mark) that would give such a count back is ``"—"``.
    """
    c = public_counties(plan.tables, threshold=plan.scenario.privacy_threshold)
    out = pd.DataFrame(index=c.index)
    out[t("col_county")] = c["name"]
    out[t("col_population")] = c["population"].map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}")
    out[t("col_patients")] = [v or "—" for v in c["patients"]]
    out[t("col_within")] = [v or "—" for v in c["patients_within"]]
    out[t("col_share")] = [fmt_pct(v) for v in c["share_within"]]
    out[t("col_sites")] = c["n_sites"].astype(int)
    out[t("col_service")] = [t("yes") if v else t("no") for v in c["has_site"]]
    marks = c["beyond_cutoff"].astype(bool).tolist()
    out[t("col_mean")] = [
        fmt_min_marked(v, m) for v, m in zip(c["mean_travel_min"], marks, strict=False)
    ]
    out[t("col_max")] = [
        fmt_min_marked(v, m) for v, m in zip(c["max_travel_min"], marks, strict=False)
    ]
    for year, tgt in POLICY_TARGETS.items():
        label = t("col_target_year", year=year, pct=f"{100 * tgt['patient_share']:.0f}")
        out[label] = ["—" if v is None else _mark(bool(v)) for v in c[f"patient_target_met_{year}"]]
    out.index.name = t("col_adcode")
    return out


def site_table(plan: Plan) -> pd.DataFrame:
    """Open sites: kind, county, patients served (suppressed), load and travel.

    Built from :func:`planning.results.public_sites`: a load that would give a hidden count
    back is ``"—"``.
    """
    s = public_sites(plan.tables, threshold=plan.scenario.privacy_threshold)
    out = pd.DataFrame(index=s.index)
    out[t("col_name")] = site_names(plan.sites, lang=lang()).reindex(s.index)
    if "place" in s:  # township and village from OpenStreetMap, else the county
        out[t("osm_col_place")] = s["place"].fillna("").astype(str)
    out[t("col_kind")] = [t(f"kind_{k}") for k in s["kind"].astype(str)]
    out[t("col_county")] = s["county_name"].astype(str)
    out[t("col_served")] = [v or "—" for v in s["assigned_patients"]]
    over = s.get("over_capacity", pd.Series(data=False, index=s.index)).astype(bool)
    out[t("col_load")] = [
        f"{fmt_pct(v, 0)} ⚠ {t('over_capacity')}" if o else fmt_pct(v, 0)
        for v, o in zip(s["load_share"], over, strict=True)
    ]
    out[t("col_mean")] = [fmt_min(v) for v in s["mean_travel_min"]]
    out[t("col_max")] = [fmt_min(v) for v in s["max_travel_min"]]
    out[t("col_lonlat")] = [
        f"{lo:.5f}, {la:.5f}" for lo, la in zip(s["lon"], s["lat"], strict=True)
    ]
    out.index.name = t("col_site")
    return out
