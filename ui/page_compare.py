"""Compare page: 2-4 saved scenarios side by side (metrics with differences, maps, site changes).

The first scenario picked is the baseline; differences and added/removed sites are against it.
Each scenario is solved once and cached (``ui.cache.solved_plan``).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from planning import i18n
from planning.errors import PlanningError
from planning.inputs.sites import site_names
from planning.pipeline import Plan
from planning.report import maps
from planning.report.equity import equity_lines
from planning.results import (
    KpiDifference,
    PlanBasis,
    basis_warnings,
    kpi_differences,
    travel_left_out,
)
from planning.results.equity import EQUITY_FIGURES
from planning.travel import travel_label_shown
from ui import cache, mapview, state
from ui.i18n import lang, t
from ui.results_view import format_status, kpi_values, metric_label

METRICS = [
    "share_within",
    "counties_with_site",
    "mean_travel_min",
    "max_travel_min",
    "n_sites",
    "patients_within",
    *EQUITY_FIGURES,
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
    elif metric in SHARE_METRICS:
        shown = f"{100 * mag:.1f} {t('unit_pct_points')}"
    elif metric == "travel_gini":
        shown = f"{mag:.2f}"
    elif metric in ("mean_travel_min", "max_travel_min", "urban_rural_gap_min"):
        shown = f"{mag:.1f} {t('unit_min')}"
    elif metric == "patients_within":
        shown = f"{mag:,.0f}"
    else:
        shown = f"{mag:g}"
    return sign + shown


SHARE_METRICS = (
    "share_within",
    "worst_county_share",
    "urban_rural_share_gap",
    "theil_between_county_share",
)

# metrics judged at each plan's own travel limit (the row label says which); no docstring
# here: Streamlit's "magic" would show a bare string on the page
LIMIT_METRICS = ("share_within", "patients_within")


def _basis(plan: Plan) -> PlanBasis:
    return PlanBasis.of(plan.scenario, travel_label=plan.travel.label)


def _row_label(metric: str, plans: list[Plan]) -> str:
    """A metric's row label; a figure judged at each plan's own limit names those limits."""
    limits = [p.scenario.max_travel_min for p in plans]
    if metric in LIMIT_METRICS and len(set(limits)) > 1:
        each = " / ".join(f"{x:g}" for x in limits)
        return t(f"m_{metric}_own", T=each)
    return metric_label(metric, plans[0])


def _value(metric: str, plan: Plan, plans: list[Plan]) -> str:
    value = kpi_values(plan)[metric]
    limits = {p.scenario.max_travel_min for p in plans}
    if metric in LIMIT_METRICS and len(limits) > 1 and value != "—":
        return t("value_at_limit", value=value, T=f"{plan.scenario.max_travel_min:g}")
    return value


def basis_notes(names: list[str], plans: list[Plan]) -> list[str]:
    """What differs between the plans (limits, region, travel times), in the app's language."""
    return [w.text(lang()) for w in basis_warnings([_basis(p) for p in plans], names)]


def _metrics_table(names: list[str], plans: list[Plan]) -> pd.DataFrame:
    base = plans[0]
    diffs = [
        kpi_differences(
            base.tables,
            plan.tables,
            base_threshold=base.scenario.privacy_threshold,
            other_threshold=plan.scenario.privacy_threshold,
            base_basis=_basis(base),
            other_basis=_basis(plan),
        )
        for plan in plans[1:]
    ]
    rows = []
    for metric in METRICS:
        row: dict[str, str] = {t("col_metric"): _row_label(metric, plans)}
        for name, plan in zip(names, plans, strict=True):
            row[name] = _value(metric, plan, plans)
        for name, diff in zip(names[1:], diffs, strict=True):
            row[t("col_diff", name=name)] = _diff_text(metric, diff[metric])
        rows.append(row)
    left_out = {t("col_metric"): t("m_travel_left_out")}
    for name, plan in zip(names, plans, strict=True):
        note = travel_left_out(plan.tables, threshold=plan.scenario.privacy_threshold, short=True)
        left_out[name] = note.text(lang()) if note is not None else t("none_left_out")
    rows.append(left_out)
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
    for note in basis_notes(ok_names, plans):
        st.warning(note)
    st.dataframe(_metrics_table(ok_names, plans), width="stretch")
    st.caption(t("compare_like_note"))
    with st.expander(i18n.text("equity.compare_explained", lang())):
        for line in equity_lines(plans[0].tables, threshold=plans[0].scenario.privacy_threshold):
            st.markdown(f"**{line.label.text(lang())}**: {line.explanation.text(lang())}")

    st.subheader(t("compare_maps"))
    basemap = mapview.basemap_picker("cmp_basemap")
    cols = st.columns(len(plans))
    extent = maps.region_bounds(*(plan.counties for plan in plans))  # one extent for all
    for i, (col, name, plan) in enumerate(zip(cols, ok_names, plans, strict=True)):
        with col:
            st.markdown(f"**{name}**")
            st.caption(format_status(plan))
            m = maps.build_map(
                plan,
                layers=COMPARE_LAYERS,
                basemap=basemap,
                lang=mapview.map_lang(),
                compact=True,
                bounds=extent,
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
