"""Compare page: 2-4 saved scenarios side by side (metrics with differences, maps, site changes).

The first scenario picked is the baseline; differences and added/removed sites are against it.
Each scenario is solved once and cached (``ui.cache.solved_plan``).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from planning.errors import PlanningError
from planning.inputs.sites import site_names
from planning.pipeline import Plan
from planning.report import maps
from planning.results import KpiDifference, kpi_differences
from planning.travel import travel_label_shown
from ui import cache, mapview, state
from ui.i18n import t
from ui.results_view import format_status, kpi_values, metric_label

METRICS = [
    "share_within",
    "counties_with_site",
    "mean_travel_min",
    "max_travel_min",
    "n_sites",
    "patients_within",
]
COMPARE_LAYERS = ("coverage", "demand", "sites", "facilities")


def _diff_text(metric: str, diff: KpiDifference) -> str:
    """A difference against the baseline, as :func:`planning.results.kpi_differences` allows."""
    delta = diff.delta
    if math.isnan(delta):
        return "—"
    if abs(delta) < 1e-9:
        return "±0"
    sign = "+" if delta > 0 else "−"
    mag = abs(delta)
    if diff.below is not None:
        shown = f"<{diff.below}"
    elif metric == "share_within":
        shown = f"{100 * mag:.1f} {t('unit_pct_points')}"
    elif metric in ("mean_travel_min", "max_travel_min"):
        shown = f"{mag:.1f} {t('unit_min')}"
    elif metric == "patients_within":
        shown = f"{mag:,.0f}"
    else:
        shown = f"{mag:g}"
    return sign + shown


def _metrics_table(names: list[str], plans: list[Plan]) -> pd.DataFrame:
    base = plans[0]
    diffs = [
        kpi_differences(
            base.tables,
            plan.tables,
            base_threshold=base.scenario.privacy_threshold,
            other_threshold=plan.scenario.privacy_threshold,
        )
        for plan in plans[1:]
    ]
    rows = []
    for metric in METRICS:
        row: dict[str, str] = {t("col_metric"): metric_label(metric, base)}
        for name, plan in zip(names, plans, strict=True):
            row[name] = kpi_values(plan)[metric]
        for name, diff in zip(names[1:], diffs, strict=True):
            row[t("col_diff", name=name)] = _diff_text(metric, diff[metric])
        rows.append(row)
    travel = {t("col_metric"): t("travel_mode")}
    for name, plan in zip(names, plans, strict=True):
        travel[name] = travel_label_shown(plan.travel.label, lang=mapview.map_lang())
    rows.append(travel)
    return pd.DataFrame(rows).set_index(t("col_metric")).fillna("")


def _site_changes(base: Plan, other: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = set(base.solution.selected_sites)
    b = set(other.solution.selected_sites)

    def frame(ids: list[str], plan: Plan) -> pd.DataFrame:
        s = plan.sites.loc[ids]
        return pd.DataFrame(
            {
                t("col_name"): site_names(s, lang=mapview.map_lang()),
                t("col_county"): s["county"].map(plan.counties["name"]).astype(str),
            },
            index=pd.Index(ids, name=t("col_site")),
        )

    return frame(sorted(b - a), other), frame(sorted(a - b), base)


def render() -> None:
    """Draw the page."""
    st.title(t("compare_title"))
    names = state.store().names()
    if len(names) < 2:
        st.info(t("compare_need_two"))
        return
    if "cmp_pick" in st.session_state:
        st.session_state["cmp_pick"] = [n for n in st.session_state["cmp_pick"] if n in names]
    picked = st.multiselect(
        t("compare_pick"), names, key="cmp_pick", max_selections=4, help=t("compare_pick_help")
    )
    if len(picked) < 2:
        st.info(t("compare_pick_two"))
        return
    plans: list[Plan] = []
    ok_names: list[str] = []
    with st.spinner(t("compare_solving")):
        for name in picked:
            try:
                scenario = state.store().load(name)
                plan, _ = cache.solved_plan(scenario)
            except PlanningError as err:
                state.show_error(err, lead="err_compare")
                st.caption(t("compare_failed", name=name))
                continue
            plans.append(plan)
            ok_names.append(name)
    if len(plans) < 2:
        st.stop()
    st.subheader(t("compare_metrics"))
    st.caption(t("compare_baseline", name=ok_names[0]))
    st.dataframe(_metrics_table(ok_names, plans), width="stretch")

    st.subheader(t("compare_maps"))
    basemap = mapview.basemap_picker("cmp_basemap")
    cols = st.columns(len(plans))
    for i, (col, name, plan) in enumerate(zip(cols, ok_names, plans, strict=True)):
        with col:
            st.markdown(f"**{name}**")
            st.caption(format_status(plan))
            m = maps.build_map(
                plan, layers=COMPARE_LAYERS, basemap=basemap, lang=mapview.map_lang(), compact=True
            )
            mapview.show(m, key=f"map_compare_{i}", height=520)

    st.subheader(t("compare_sites"))
    for name, plan in zip(ok_names[1:], plans[1:], strict=True):
        added, removed = _site_changes(plans[0], plan)
        st.markdown(t("compare_vs", name=name, base=ok_names[0]))
        c1, c2 = st.columns(2)
        with c1:
            st.markdown(t("sites_added", n=len(added)))
            if len(added):
                st.dataframe(added, width="stretch")
        with c2:
            st.markdown(t("sites_removed", n=len(removed)))
            if len(removed):
                st.dataframe(removed, width="stretch")


render()
