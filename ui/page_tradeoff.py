"""Trade-off page: coverage and mean travel time against the number of sites (or budget).

The curve comes from :func:`planning.models.trade_off_curve` on the current scenario's
prepared inputs. Clicking a point on either curve opens that plan on the Scenario page. The
same is reachable without a pointer: pick a number of sites (or a budget) from the list to see
that plan (map and figures), and a button makes it the current scenario on the Scenario page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from planning.report import maps
from planning.results import count_text, curve_travel_figures, reach_cutoff_min
from planning.results.curve_privacy import WITHHELD
from planning.scenario import Scenario
from ui import cache, mapview, state
from ui.i18n import labels, t
from ui.results_view import fmt_min, fmt_pct, format_status, metrics_row, travel_caption

MAX_POINTS = 30
PICK = "pick"  # name of the charts' point selection (Vega-Lite parameter)
CHART_KEYS = ("to_chart_coverage", "to_chart_travel")
SEEN = "_tradeoff_chart_seen"  # selection handled per chart (kept by state.clear_widgets)


def _open_plan(p: int) -> None:
    _open_scenario(state.current_scenario().replace(n_facilities=p))


def _open_scenario(scenario: Scenario) -> None:
    state.set_scenario(scenario, reset_widgets=True)
    plan, _ = cache.solved_plan(scenario)
    state.set_plan(plan)


@st.cache_data(show_spinner=False)
def _budget_curve(key: str, scenario_json: str, budgets: tuple[float, ...]) -> pd.DataFrame:
    del key
    from planning import models  # noqa: PLC0415

    scenario = Scenario.from_json(scenario_json)
    inputs, _ = cache.prepared_inputs(scenario)
    curve: pd.DataFrame = models.trade_off_curve(
        inputs.model_input(), scenario, budgets=list(budgets)
    )
    # travel figures on every plan's basis (nearest open site, who is left out)
    curve = curve_travel_figures(curve, inputs.travel.table, inputs.demand["weight"], scenario)
    return cache.public_curve(curve, inputs, scenario)


def _left_out(curve: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Patients each step leaves out of its mean travel (small counts as "<5")."""
    if "patients_beyond_cutoff" not in curve:
        return ["—"] * len(curve)
    shown = count_text(
        curve["patients_beyond_cutoff"].astype(float), threshold=scenario.privacy_threshold
    )
    return [v or "—" for v in shown]


def _fmt_budget(value: float) -> str:
    return f"{value:,.6g}"


def _curve_chart(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    x_title: str,
    y_title: str,
    x_format: str,
    tooltip: list[Any],
) -> alt.LayerChart:
    """Line through every step, a clickable point on each feasible one (selection ``PICK``)."""
    pick = alt.selection_point(name=PICK, fields=[x], on="click", empty=False)
    axis = alt.Axis(format=x_format, tickMinStep=1) if x == "p" else alt.Axis(format=x_format)
    base = alt.Chart(data).encode(
        x=alt.X(f"{x}:Q", title=x_title, axis=axis, scale=alt.Scale(zero=False)),
        y=alt.Y(f"{y}:Q", title=y_title),
    )
    line = base.mark_line(color="#4c78a8")
    points = (
        base.transform_filter(alt.datum.pickable)
        .mark_circle(size=140, cursor="pointer", color="#4c78a8")
        .encode(
            tooltip=tooltip,
            color=alt.condition(pick, alt.value("#d7301f"), alt.value("#4c78a8")),
        )
        .add_params(pick)
    )
    return alt.layer(line, points)


def _picked(event: Mapping[str, Any] | None, field: str) -> float | None:
    """The ``field`` value of the point selected in a chart event, or ``None``."""
    if not event:
        return None
    rows = (event.get("selection") or {}).get(PICK) or []
    for row in rows:
        value = row.get(field) if isinstance(row, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _curve_charts(
    curve: pd.DataFrame, *, x: str, x_title: str, x_format: str, scenario: Scenario
) -> float | None:
    """Draw the coverage and travel curves; return the x value of a point just clicked.

    A selection is returned once: it is remembered (``SEEN``), so coming back to the page with
    the same selection does not open the plan again.
    """
    feasible = curve["status"].astype(str).isin(["optimal", "feasible"])
    status = [t(f"solstatus_{s}") for s in curve["status"].astype(str)]
    data = pd.DataFrame(
        {
            x: curve[x].astype(float),
            "coverage_pct": 100 * curve["coverage_share"].astype(float),
            "travel_min": curve["mean_travel_min"].astype(float),
            "status": status,
            "pickable": feasible.to_numpy(),
        }
    )
    tooltip = [
        alt.Tooltip(f"{x}:Q", title=x_title, format=x_format),
        alt.Tooltip("coverage_pct:Q", title=t("curve_coverage_axis"), format=".1f"),
        alt.Tooltip("travel_min:Q", title=t("curve_travel_axis"), format=".1f"),
        alt.Tooltip("status:N", title=t("col_status")),
    ]
    specs = (
        (t("curve_coverage", T=f"{scenario.max_travel_min:g}"), "coverage_pct", "%"),
        (t("curve_travel"), "travel_min", t("unit_min")),
    )
    seen: dict[str, float | None] = dict(st.session_state.get(SEEN) or {})
    clicked: float | None = None
    for column, key, (title, y, y_title) in zip(st.columns(2), CHART_KEYS, specs, strict=True):
        with column:
            st.markdown(f"**{title}**")
            chart = _curve_chart(
                data.dropna(subset=[y]),  # withheld figures (NaN) are left out, not drawn
                x=x,
                y=y,
                x_title=x_title,
                y_title=y_title,
                x_format=x_format,
                tooltip=tooltip,
            )
            event = st.altair_chart(
                chart, on_select="rerun", selection_mode=PICK, key=key, width="stretch"
            )
        value = _picked(event, x)
        if value is not None and value != seen.get(key):
            clicked = value
        seen[key] = value
    st.session_state[SEEN] = seen
    st.caption(":material/touch_app: " + t("tradeoff_click_hint"))
    if WITHHELD in curve and curve[WITHHELD].astype(bool).any():
        st.caption(":material/lock: " + t("curve_withheld", threshold=scenario.privacy_threshold))
    if clicked is None:
        return None
    allowed = data.loc[data["pickable"], x].to_numpy(dtype=float)
    near = allowed[np.isclose(allowed, clicked, rtol=1e-9, atol=1e-9)]
    return float(near[0]) if len(near) else None


def _render_budget(scenario: Scenario) -> None:
    """Curve over budget steps: any number of new sites whose opening costs fit the budget."""
    state.init_widget("to_b_min", 0.0)
    state.init_widget("to_b_max", 10.0)
    state.init_widget("to_b_n", 6)
    c1, c2, c3 = st.columns(3)
    b_min = float(c1.number_input(t("budget_min"), min_value=0.0, key="to_b_min"))
    b_max = float(c2.number_input(t("budget_max"), min_value=0.0, key="to_b_max"))
    n = int(
        c3.number_input(t("budget_steps"), min_value=2, max_value=MAX_POINTS, step=1, key="to_b_n")
    )
    if b_max <= b_min:
        st.error(t("budget_range_bad"))
        st.stop()
    budgets = tuple(float(v) for v in np.round(np.linspace(b_min, b_max, n), 6))
    wanted = [scenario.to_json(), "budget", list(budgets)]
    if st.button(t("tradeoff_run"), key="to_run", type="primary"):
        st.session_state["to_curve_for"] = wanted
    if st.session_state.get("to_curve_for") != wanted:
        st.info(t("tradeoff_press_budget"))
        return
    text = scenario.to_json()
    key = json.dumps([json.loads(text), json.loads(cache.inputs_key(scenario))], sort_keys=True)
    spinner = st.spinner(t("tradeoff_solving_budget", n=len(budgets)))
    with spinner, state.planning_errors(lead="err_solve"):
        curve = _budget_curve(key, text, budgets)
    st.caption(
        ":material/directions_car: "
        + maps.travel_label_text(scenario.travel_label, lang=mapview.map_lang())
    )
    clicked = _curve_charts(
        curve, x="budget", x_title=t("budget_axis"), x_format=",.6~g", scenario=scenario
    )
    if clicked is not None:
        picked_scenario = scenario.with_budget(clicked)
        with st.spinner(t("solving")), state.planning_errors(lead="err_solve"):
            _open_scenario(picked_scenario)
        st.switch_page("ui/page_scenario.py")
    table = pd.DataFrame(
        {
            t("budget_axis"): [_fmt_budget(v) for v in curve["budget"]],
            t("p_axis"): [str(int(v)) if pd.notna(v) else "—" for v in curve["p"]],
            t("budget_spent"): [
                _fmt_budget(v) if pd.notna(v) else "—" for v in curve["total_cost"]
            ],
            t("curve_coverage_axis"): [fmt_pct(v) for v in curve["coverage_share"]],
            t("curve_travel_axis"): [fmt_min(v) for v in curve["mean_travel_min"]],
            t("curve_left_out"): _left_out(curve, scenario),
            t("col_status"): [t(f"solstatus_{s}") for s in curve["status"].astype(str)],
            t("col_gap"): [fmt_pct(v, 2) if pd.notna(v) else "—" for v in curve["gap"]],
        }
    ).set_index(t("budget_axis"))
    st.dataframe(table, width="stretch")
    st.caption(t("curve_travel_note", cutoff=f"{reach_cutoff_min(scenario):g}"))
    st.subheader(t("tradeoff_pick_title_budget"))
    feasible = [
        float(b)
        for b, s in zip(curve["budget"], curve["status"].astype(str), strict=True)
        if s in ("optimal", "feasible")
    ]
    if not feasible:
        st.warning(t("tradeoff_none_feasible"))
        return
    if st.session_state.get("to_pick_budget") not in feasible:
        st.session_state["to_pick_budget"] = feasible[-1]
    pick = float(
        st.selectbox(t("budget_axis"), feasible, key="to_pick_budget", format_func=_fmt_budget)
    )
    picked = scenario.with_budget(pick)
    with st.spinner(t("solving")), state.planning_errors(lead="err_solve"):
        plan, _ = cache.solved_plan(picked)
    st.markdown(format_status(plan))
    metrics_row(plan, key="to")
    travel_caption(plan)
    basemap = mapview.basemap_picker("to_basemap")
    m = maps.build_map(
        plan,
        layers=("coverage", "demand", "sites", "facilities"),
        basemap=basemap,
        lang=mapview.map_lang(),
    )
    mapview.show(m, key="map_tradeoff", height=560)
    if st.button(t("tradeoff_open_budget", b=_fmt_budget(pick)), key="to_open_budget"):
        _open_scenario(picked)
        st.switch_page("ui/page_scenario.py")


def render() -> None:
    """Draw the page."""
    st.title(t("tradeoff_title"))
    scenario = state.current_scenario()
    if scenario.model == "lscp":
        st.info(t("tradeoff_lscp"))
        st.stop()
    st.caption(
        t(
            "tradeoff_caption",
            model=t(f"model_{scenario.model}"),
            T=f"{scenario.max_travel_min:g}",
            region=scenario.region,
        )
    )
    state.init_widget("to_axis", "sites")
    axis = st.radio(
        t("tradeoff_axis"),
        ["sites", "budget"],
        format_func=labels("tradeoff_axis_"),
        horizontal=True,
        key="to_axis",
    )
    if axis == "budget":
        _render_budget(scenario)
        return
    p0 = scenario.n_facilities or 6
    state.init_widget("to_p_min", max(1, p0 - 3))
    state.init_widget("to_p_max", p0 + 4)
    c1, c2, c3 = st.columns(3)
    p_min = int(c1.number_input(t("p_min"), min_value=1, max_value=500, step=1, key="to_p_min"))
    p_max = int(c2.number_input(t("p_max"), min_value=1, max_value=500, step=1, key="to_p_max"))
    state.init_widget("to_step", 1)
    step = int(c3.number_input(t("p_step"), min_value=1, max_value=50, step=1, key="to_step"))
    if p_max < p_min:
        st.error(t("p_range_bad"))
        st.stop()
    p_values = tuple(range(p_min, p_max + 1, step))
    if len(p_values) > MAX_POINTS:
        st.error(t("p_range_long", n=len(p_values), max=MAX_POINTS))
        st.stop()
    wanted = [scenario.to_json(), list(p_values)]
    if st.button(t("tradeoff_run"), key="to_run", type="primary"):
        st.session_state["to_curve_for"] = wanted
    if st.session_state.get("to_curve_for") != wanted:
        st.info(t("tradeoff_press"))
        return
    spinner = st.spinner(t("tradeoff_solving", n=len(p_values)))
    with spinner, state.planning_errors(lead="err_solve"):
        curve = cache.trade_off(scenario, p_values)
    st.caption(
        ":material/directions_car: "
        + maps.travel_label_text(scenario.travel_label, lang=mapview.map_lang())
    )
    clicked = _curve_charts(curve, x="p", x_title=t("p_axis"), x_format="d", scenario=scenario)
    if clicked is not None:
        with st.spinner(t("solving")), state.planning_errors(lead="err_solve"):
            _open_plan(round(clicked))
        st.switch_page("ui/page_scenario.py")
    table = pd.DataFrame(
        {
            t("p_axis"): curve["p"].astype(int),
            t("curve_coverage_axis"): [fmt_pct(v) for v in curve["coverage_share"]],
            t("curve_travel_axis"): [fmt_min(v) for v in curve["mean_travel_min"]],
            t("curve_left_out"): _left_out(curve, scenario),
            t("col_status"): [t(f"solstatus_{s}") for s in curve["status"].astype(str)],
            t("col_gap"): [fmt_pct(v, 2) if pd.notna(v) else "—" for v in curve["gap"]],
        }
    ).set_index(t("p_axis"))
    st.dataframe(table, width="stretch")

    st.caption(t("curve_travel_note", cutoff=f"{reach_cutoff_min(scenario):g}"))
    st.subheader(t("tradeoff_pick_title"))
    feasible = [
        int(p)
        for p, s in zip(curve["p"], curve["status"].astype(str), strict=True)
        if s in ("optimal", "feasible")
    ]
    if not feasible:
        st.warning(t("tradeoff_none_feasible"))
        return
    if st.session_state.get("to_pick") not in feasible:
        st.session_state["to_pick"] = p0 if p0 in feasible else feasible[0]
    pick = st.selectbox(t("tradeoff_pick"), feasible, key="to_pick")
    with st.spinner(t("solving")), state.planning_errors(lead="err_solve"):
        plan, _ = cache.solved_plan(scenario.replace(n_facilities=int(pick)))
    st.markdown(format_status(plan))
    metrics_row(plan, key="to")
    travel_caption(plan)
    basemap = mapview.basemap_picker("to_basemap")
    m = maps.build_map(
        plan,
        layers=("coverage", "demand", "sites", "facilities"),
        basemap=basemap,
        lang=mapview.map_lang(),
    )
    mapview.show(m, key="map_tradeoff", height=560)
    if st.button(t("tradeoff_open", p=pick), key="to_open"):
        _open_plan(int(pick))
        st.switch_page("ui/page_scenario.py")


render()
