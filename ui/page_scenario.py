"""Scenario page: model, travel criteria, constraints and solver in the sidebar; Solve; results.

Widgets (sidebar, keys ``sc_*``) start from the current scenario and write it back; Solve
re-uses prepared inputs when only model options changed (``ui.cache.solve_plan``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from planning import i18n
from planning.errors import PlanningError
from planning.inputs.sites import site_names
from planning.pipeline import Plan
from planning.report import maps
from planning.results import capacity_advice, region_input_totals
from planning.scenario import Scenario
from ui import cache, mapview, province_view, state
from ui.i18n import labels, lang, progress_text, t
from ui.results_view import (
    county_note,
    county_table,
    equity_note,
    equity_table,
    format_status,
    metrics_row,
    policy_table,
    site_table,
    travel_caption,
)

LEFT_OUT = "regions.counties_left_out"
MODELS = ["mclp", "p_median", "lscp", "p_center"]
SOURCES = ["grid", "grid+facilities", "facilities", "grid+osm", "osm"]
CANDIDATE_TYPES = [
    "generated",
    "community_health_centre",
    "community_service_centre",
    "new_build",
    "other",
]


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100.0 * value, 4)


def _share(value: float | None) -> float | None:
    return None if value is None else float(value) / 100.0


def _init_widgets(s: dict[str, Any]) -> None:
    tr, c = s["travel"], s["constraints"]
    init = state.init_widget
    init("sc_model", s["model"])
    init("sc_n_facilities", int(s["n_facilities"]) if s["n_facilities"] is not None else None)
    init("sc_max_travel_min", float(s["max_travel_min"]))
    init("sc_travel_mode", tr["mode"])
    init("sc_urban_speed", float(tr["urban_speed_kmh"]))
    init("sc_rural_speed", float(tr["rural_speed_kmh"]))
    init("sc_detour", float(tr["detour_factor"]))
    init("sc_network_type", tr["network_type"])
    init("sc_capacitated", bool(c["capacitated"]))
    init("sc_default_capacity", c["default_capacity"])
    init("sc_budget", c["budget"])
    init("sc_every_county", bool(c["site_in_every_county"]))
    init("sc_min_county_share_pct", _pct(c["min_county_share_with_site"]))
    init("sc_county_target_pct", _pct(c["county_coverage_target"]))
    init("sc_hub", bool(c["hub_per_prefecture"]))
    init("sc_worst_county_first", bool(c.get("worst_county_first", False)))
    init("sc_max_referral_min", c["max_referral_min"])
    init("sc_urban_max_min", c["urban_max_travel_min"])
    init("sc_rural_max_min", c["rural_max_travel_min"])
    init("sc_candidate_source", s["candidate_source"])
    init("sc_spacing_km", float(s["candidate_spacing_m"]) / 1000.0)
    init("sc_cell_km", float(s["cell_size_m"]) / 1000.0)
    init("sc_prevalence", float(s["prevalence_per_mille"]))
    init("sc_in_scope_pct", float(_pct(s["in_scope_share"]) or 100.0))
    init("sc_solver", s["solver"])
    init("sc_time_limit_s", float(s["time_limit_s"]))
    init("sc_mip_gap_pct", float(_pct(s["mip_gap"]) or 0.0))
    init("sc_privacy", int(s["privacy_threshold"]))


def _candidate_frame(s: dict[str, Any]) -> pd.DataFrame:
    known = {ct["name"]: ct for ct in s.get("candidate_types", [])}
    names = [*CANDIDATE_TYPES, *[n for n in known if n not in CANDIDATE_TYPES]]
    rows = []
    for name in names:
        ct = known.get(name, {})
        rows.append(
            {
                "type": name,
                "opening_cost": float(ct.get("opening_cost", 0.0) or 0.0),
                "capacity": ct.get("capacity"),
            }
        )
    frame = pd.DataFrame(rows).set_index("type")
    frame["capacity"] = pd.to_numeric(frame["capacity"], errors="coerce")
    return frame


def _sidebar(s: dict[str, Any]) -> dict[str, Any]:
    """Draw the parameter widgets; return the scenario dict they describe."""
    _init_widgets(s)
    sb = st.sidebar
    sb.subheader(t("params_title"))
    with sb.expander(t("grp_model"), expanded=True):
        model = st.selectbox(
            t("model"),
            MODELS,
            key="sc_model",
            format_func=labels("model_"),
            help=t("model_help"),
        )
        n = st.number_input(
            t("n_facilities"),
            min_value=1,
            max_value=500,
            step=1,
            value=None,
            key="sc_n_facilities",
            disabled=model == "lscp",
            help=t("n_facilities_help"),
        )
        t_max = st.number_input(
            t("max_travel_min"),
            min_value=1.0,
            max_value=600.0,
            step=5.0,
            key="sc_max_travel_min",
            help=t("max_travel_help"),
        )
    with sb.expander(t("grp_travel")):
        mode = st.radio(
            t("travel_mode"),
            ["estimated", "network"],
            key="sc_travel_mode",
            format_func=labels("travel_"),
            help=t("travel_mode_help"),
        )
        urban = st.number_input(
            t("urban_speed"), min_value=1.0, max_value=150.0, step=5.0, key="sc_urban_speed"
        )
        rural = st.number_input(
            t("rural_speed"), min_value=1.0, max_value=150.0, step=5.0, key="sc_rural_speed"
        )
        detour = st.number_input(
            t("detour"),
            min_value=1.0,
            max_value=5.0,
            step=0.1,
            key="sc_detour",
            help=t("detour_help"),
        )
        network_type = st.selectbox(
            t("network_type"),
            ["drive", "walk"],
            key="sc_network_type",
            format_func=labels("network_"),
            disabled=mode != "network",
        )
    with sb.expander(t("grp_constraints")):
        capacitated = st.checkbox(t("capacitated"), key="sc_capacitated")
        default_capacity = st.number_input(
            t("default_capacity"),
            min_value=1.0,
            value=None,
            step=10.0,
            key="sc_default_capacity",
            help=t("optional_help"),
        )
        budget = st.number_input(
            t("budget"),
            min_value=0.0,
            value=None,
            step=10.0,
            key="sc_budget",
            help=t("budget_help"),
        )
        every = st.checkbox(t("every_county"), key="sc_every_county")
        min_share = st.number_input(
            t("min_county_share"),
            min_value=0.0,
            max_value=100.0,
            value=None,
            step=5.0,
            key="sc_min_county_share_pct",
            help=t("optional_help"),
        )
        county_target = st.number_input(
            t("county_target"),
            min_value=0.0,
            max_value=100.0,
            value=None,
            step=5.0,
            key="sc_county_target_pct",
            help=t("county_target_help"),
        )
        worst_first = st.checkbox(
            t("worst_county_first"),
            key="sc_worst_county_first",
            help=t("worst_county_first_help"),
            disabled=model != "mclp",
        )
        hub = st.checkbox(t("hub"), key="sc_hub", help=t("hub_help"))
        referral = st.number_input(
            t("max_referral"),
            min_value=1.0,
            value=None,
            step=5.0,
            key="sc_max_referral_min",
            help=t("max_referral_help"),
        )
        urban_max = st.number_input(
            t("urban_max"),
            min_value=1.0,
            value=None,
            step=5.0,
            key="sc_urban_max_min",
            help=t("optional_help"),
        )
        rural_max = st.number_input(
            t("rural_max"),
            min_value=1.0,
            value=None,
            step=5.0,
            key="sc_rural_max_min",
            help=t("optional_help"),
        )
    with sb.expander(t("grp_candidates")):
        source = st.selectbox(
            t("candidate_source"),
            SOURCES,
            key="sc_candidate_source",
            format_func=labels("source_"),
        )
        spacing = st.number_input(
            t("spacing_km"), min_value=0.2, max_value=100.0, step=0.5, key="sc_spacing_km"
        )
        cell = st.number_input(
            t("cell_km"), min_value=0.2, max_value=50.0, step=0.5, key="sc_cell_km"
        )
        st.caption(t("candidate_types_help"))
        edited = st.data_editor(
            _candidate_frame(s),
            key="sc_candidate_types",
            width="stretch",
            column_config={
                "opening_cost": st.column_config.NumberColumn(t("opening_cost"), min_value=0.0),
                "capacity": st.column_config.NumberColumn(t("capacity"), min_value=1.0),
            },
            disabled=["type"],
        )
    with sb.expander(t("grp_demand")):
        prevalence = st.number_input(
            t("prevalence"),
            min_value=0.01,
            max_value=100.0,
            step=0.1,
            format="%.2f",
            key="sc_prevalence",
            help=t("prevalence_help"),
        )
        in_scope = st.number_input(
            t("in_scope"),
            min_value=1.0,
            max_value=100.0,
            step=5.0,
            key="sc_in_scope_pct",
            help=t("in_scope_help"),
        )
        privacy = st.number_input(
            t("privacy"),
            min_value=0,
            max_value=100,
            step=1,
            key="sc_privacy",
            help=t("privacy_help"),
        )
    with sb.expander(t("grp_solver")):
        solver = st.selectbox(
            t("solver"), ["highs", "cbc"], key="sc_solver", format_func=lambda x: x.upper()
        )
        time_limit = st.number_input(
            t("time_limit"), min_value=1.0, max_value=3600.0, step=10.0, key="sc_time_limit_s"
        )
        gap = st.number_input(
            t("mip_gap"), min_value=0.0, max_value=50.0, step=0.5, key="sc_mip_gap_pct"
        )

    candidate_types = []
    for name, row in edited.iterrows():
        cost = float(row["opening_cost"]) if pd.notna(row["opening_cost"]) else 0.0
        cap = float(row["capacity"]) if pd.notna(row["capacity"]) else None
        if cost > 0 or cap is not None:
            candidate_types.append({"name": str(name), "opening_cost": cost, "capacity": cap})

    new = dict(s)
    new.update(
        model=model,
        n_facilities=None if model == "lscp" or n is None else int(n),
        max_travel_min=float(t_max),
        travel={
            **s["travel"],
            "mode": mode,
            "urban_speed_kmh": float(urban),
            "rural_speed_kmh": float(rural),
            "detour_factor": float(detour),
            "network_type": network_type,
        },
        constraints={
            **s["constraints"],
            "capacitated": bool(capacitated),
            "default_capacity": default_capacity,
            "budget": budget,
            "site_in_every_county": bool(every),
            "min_county_share_with_site": _share(min_share),
            "county_coverage_target": _share(county_target),
            "hub_per_prefecture": bool(hub),
            "worst_county_first": bool(worst_first) and model == "mclp",
            "max_referral_min": referral,
            "urban_max_travel_min": urban_max,
            "rural_max_travel_min": rural_max,
        },
        candidate_source=source,
        candidate_spacing_m=float(spacing) * 1000.0,
        cell_size_m=float(cell) * 1000.0,
        candidate_types=candidate_types,
        prevalence_per_mille=float(prevalence),
        in_scope_share=float(in_scope) / 100.0,
        privacy_threshold=int(privacy),
        solver=solver,
        time_limit_s=float(time_limit),
        mip_gap=float(gap) / 100.0,
    )
    return new


def _same_problem(a: Scenario, b: Scenario) -> bool:
    return a.replace(name="") == b.replace(name="")


def _solve(scenario: Scenario) -> None:
    bar = st.progress(0.0, text=t("progress_start"))

    def progress(frac: float, text: str) -> None:
        bar.progress(min(max(float(frac), 0.0), 1.0), text=progress_text(text))

    try:
        plan, warns = cache.solve_plan(scenario, progress=progress)
    except PlanningError as err:
        # the bar goes, the message says what to change, and the last results stay below
        bar.empty()
        state.show_error(err, lead="err_solve")
        if state.plan() is not None:
            st.info(t("previous_results_kept"))
        return
    bar.empty()
    # the counties left out (no census figures) are said with the results, on every run
    state.show_warnings(w for w in warns if getattr(w, "code", "") != LEFT_OUT)
    state.set_plan(plan)


def _results(plan: Plan, scenario: Scenario) -> None:
    if not _same_problem(plan.scenario, scenario):
        st.warning(t("stale_plan"))
    st.markdown(format_status(plan))
    state.show_warnings(cache.left_out_warnings(plan.left_out))
    metrics_row(plan, key="sc")
    for advice in capacity_advice(plan.tables):
        st.warning(advice.text(lang()))
    travel_caption(plan)
    c1, c2 = st.columns([1, 2])
    with c1:
        basemap = mapview.basemap_picker("sc_basemap")
    site_ids = list(plan.tables.sites.index)
    names = site_names(plan.sites, lang=mapview.map_lang())
    if st.session_state.get("sc_reach") not in [None, *site_ids]:
        st.session_state["sc_reach"] = None
    with c2:
        reach = st.selectbox(
            t("reach_site"),
            site_ids,
            index=None,
            key="sc_reach",
            format_func=lambda sid: f"{sid} · {names.get(sid, '')}",
            placeholder=t("reach_none"),
        )
    m = maps.build_map(plan, basemap=basemap, lang=mapview.map_lang(), selected_site=reach)
    mapview.show(m, key="map_scenario")
    tab_policy, tab_equity, tab_overview, tab_counties, tab_sites, tab_downloads = st.tabs(
        [
            t("tab_policy"),
            i18n.text("equity.title", lang()),
            t("tab_overview"),
            t("tab_counties"),
            t("tab_sites"),
            t("tab_downloads"),
        ]
    )
    with tab_equity:
        st.dataframe(equity_table(plan), width="stretch")
        note = equity_note(plan)
        if note:
            st.caption(note)
    with tab_policy:
        st.dataframe(policy_table(plan), width="stretch")
        st.caption(t("policy_note"))
    with tab_overview:
        province_view.render(plan, basemap=basemap)
    with tab_counties:
        st.dataframe(county_table(plan), width="stretch")
        if plan.tables.counties["beyond_cutoff"].any():
            st.caption(county_note(plan))
    with tab_sites:
        st.dataframe(site_table(plan), width="stretch")
    with tab_downloads:
        from ui import downloads  # noqa: PLC0415

        downloads.render(plan)


def _inputs_map(scenario: Scenario) -> None:
    """Before solving: the region with its demand cells (prepared inputs, cached for Solve)."""
    demand = None
    with state.planning_errors():
        if scenario.travel.mode == "estimated":  # cheap: prepare now, Solve reuses it
            with st.spinner(t("preparing")):
                inputs, _ = cache.prepared_inputs(scenario)
            counties, demand, facilities = inputs.counties, inputs.demand, inputs.facilities
            left = cache.left_out_warnings(inputs.left_out)
        else:  # road networks may need a download: wait for Solve
            counties, left = cache.county_overview(
                scenario.region,
                scenario.counties,
                scenario.prevalence_per_mille,
                scenario.in_scope_share,
            )
            facilities, _ = cache.scenario_facilities(scenario)
    state.show_warnings(left)  # counties without census figures, left out of the plan
    totals = region_input_totals(counties, scenario, demand=demand)  # the plan's mask
    c1, c2, c3 = st.columns(3)
    c1.metric(t("m_counties"), f"{totals.n_counties}")
    c2.metric(t("m_population"), "—" if totals.population is None else f"{totals.population:,.0f}")
    c3.metric(t("m_patients_total"), totals.patients or "—")
    basemap = mapview.basemap_picker("sc_basemap")
    m = maps.build_region_map(
        counties,
        demand=demand,
        facilities=facilities,
        privacy_threshold=scenario.privacy_threshold,
        travel_label=scenario.travel_label,
        basemap=basemap,
        lang=mapview.map_lang(),
    )
    mapview.show(m, key="map_inputs")


def render() -> None:
    """Draw the page."""
    s = state.scenario_dict()
    new = _sidebar(s)
    st.title(t("scenario_title"))
    with state.planning_errors(lead="err_params"):
        scenario = Scenario.from_dict(new)
    if scenario.to_dict() != s:
        state.set_scenario(scenario)
    region = scenario.region
    if not scenario.counties:
        counties = t("all_counties")
    elif all(c.isdigit() for c in scenario.counties):  # adcodes (a whole province)
        counties = t("n_counties", n=len(scenario.counties))
    else:
        counties = t("name_sep").join(scenario.counties)
    name = scenario.title(mapview.map_lang())
    st.caption(t("scenario_caption", name=name, region=region, counties=counties))
    solve_clicked = st.button(t("solve"), key="solve", type="primary")
    if solve_clicked:
        _solve(scenario)
    plan = state.plan()
    if plan is None:
        st.info(t("press_solve"))
        _inputs_map(scenario)
        return
    _results(plan, scenario)


render()
