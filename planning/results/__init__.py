"""Results step: tidy tables and headline figures from a solved model, and what may be shown.

Takes a :class:`~planning.models.Solution` with the inputs it was solved on; gives
:class:`ResultTables` (assignments, sites, counties, demand cells and KPIs as a typed
:class:`Kpis`, keyed by ids) and,
in :mod:`~planning.results.privacy`, the one rule deciding which patient counts every output
may show (small counts as ``"<5"``, counts that would reveal one by subtraction as ``"≥N"``);
:mod:`~planning.results.compare` what may be shown of plans side by side,
:mod:`~planning.results.curve_privacy` what may be shown of a trade-off curve,
:mod:`~planning.results.overview` gives the region's inputs before solving (population,
estimated patients and facilities per county) with that rule applied, and
:mod:`~planning.results.province` summarises a plan per prefecture and county against the
2023-2025 milestones (the province overview).
For a phased rollout, :mod:`~planning.results.rollout` gives a :class:`RolloutResult`:
year-by-year tables, milestone lines and each year's count masks.
"""

from __future__ import annotations

from planning.results.compare import (
    KpiDifference,
    PlanBasis,
    basis_warnings,
    comparable_figures,
    kpi_differences,
    public_kpi_numbers,
)
from planning.results.curve_privacy import public_curve
from planning.results.kpis import Kpis
from planning.results.overview import (
    RegionInputTotals,
    region_input_overview,
    region_input_totals,
)
from planning.results.own_tables import solution_count_mask
from planning.results.privacy import (
    CountMask,
    count_mask,
    county_count_mask,
    hidden_kpis,
    input_count_mask,
    public_counties,
    public_policy,
    public_sites,
    scenario_input_mask,
    suppress_columns,
    travel_left_out,
)
from planning.results.province import ProvinceOverview, province_overview
from planning.results.rollout import RolloutResult, format_rollout, solve_rollout
from planning.results.tables import (
    POLICY_SOURCE,
    POLICY_TARGETS,
    ResultTables,
    TravelFigures,
    capacity_advice,
    compute_travel_figures,
    curve_travel_figures,
    demand_thresholds,
    nearest_open_times,
    reach_cutoff_min,
    summarise,
    to_geodataframe,
)
from planning.suppression import (
    CountRelation,
    count_text,
    hide_revealing_shares,
    protect_counts,
    suppress_small,
)

__all__ = [
    "POLICY_SOURCE",
    "POLICY_TARGETS",
    "CountMask",
    "CountRelation",
    "KpiDifference",
    "Kpis",
    "PlanBasis",
    "ProvinceOverview",
    "RegionInputTotals",
    "ResultTables",
    "RolloutResult",
    "TravelFigures",
    "basis_warnings",
    "capacity_advice",
    "comparable_figures",
    "compute_travel_figures",
    "count_mask",
    "count_text",
    "county_count_mask",
    "curve_travel_figures",
    "demand_thresholds",
    "format_rollout",
    "hidden_kpis",
    "hide_revealing_shares",
    "input_count_mask",
    "kpi_differences",
    "nearest_open_times",
    "protect_counts",
    "province_overview",
    "public_counties",
    "public_curve",
    "public_kpi_numbers",
    "public_policy",
    "public_sites",
    "reach_cutoff_min",
    "region_input_overview",
    "region_input_totals",
    "scenario_input_mask",
    "solution_count_mask",
    "solve_rollout",
    "summarise",
    "suppress_columns",
    "suppress_small",
    "to_geodataframe",
    "travel_left_out",
]
