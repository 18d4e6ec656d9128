"""The fairest plan (max-min, planning/models/max_min.py) against enumeration and by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import ScenarioError
from planning.models import ModelInput, ModelOptions, build_max_min, solve
from tests._model_fixtures import make_input


def with_counties(data: ModelInput, county: dict[str, str]) -> ModelInput:
    demand = data.demand.assign(county=[county[d] for d in data.demand.index])
    return ModelInput(travel=data.travel, demand=demand, sites=data.sites)


def enumerate_max_min(
    travel: dict[tuple[str, str], float],
    weights: dict[str, float],
    county: dict[str, str],
    sites: list[str],
    *,
    p: int,
    limit_min: float,
    fixed: tuple[str, ...] = (),
) -> tuple[float, float]:
    """(worst-off county's share, patients covered), lexicographically best over all plans."""
    pos = [d for d in weights if weights[d] > 0]
    reach = {
        c for d in pos for s in sites if travel.get((d, s), 1e9) <= limit_min for c in [county[d]]
    }
    counties = sorted(reach)
    best: tuple[float, float] | None = None
    free = [s for s in sites if s not in fixed]
    for combo in itertools.combinations(free, p - len(fixed)):
        chosen = set(combo) | set(fixed)
        covered = {d for d in pos if any(travel.get((d, s), 1e9) <= limit_min for s in chosen)}
        shares = [
            sum(weights[d] for d in covered if county[d] == c)
            / sum(weights[d] for d in pos if county[d] == c)
            for c in counties
        ]
        value = (min(shares, default=1.0), sum(weights[d] for d in covered))
        if (
            best is None
            or value[0] > best[0] + 1e-9
            or (abs(value[0] - best[0]) <= 1e-9 and value[1] > best[1])
        ):
            best = value
    assert best is not None
    return best


def test_by_hand_the_small_county_gets_its_site() -> None:
    # county A: a town of 10 patients at s0 and 8 at s1; county B: 3 villagers near s2 only.
    # MCLP with p = 2 opens s0 and s1 (18 covered, B at 0 %); max-min lifts B to 100 % and
    # then covers the bigger of A's two groups: s0 + s2 (13 covered, worst-off share 10/18).
    travel = {("a0", "s0"): 5.0, ("a1", "s1"): 5.0, ("b0", "s2"): 5.0, ("a0", "s2"): 50.0}
    weights = {"a0": 10.0, "a1": 8.0, "b0": 3.0}
    data = with_counties(
        make_input(travel, weights, ["s0", "s1", "s2"]), {"a0": "A", "a1": "A", "b0": "B"}
    )
    opts = ModelOptions(kind="max_min", p=2, max_travel_min=30.0)
    mclp = solve(data, opts.replace(kind="mclp"))
    assert mclp.selected_sites == ("s0", "s1")
    sol = solve(data, opts)
    assert sol.model == "max_min"
    assert sol.status == "optimal"
    assert sol.selected_sites == ("s0", "s2")
    assert sol.objective == pytest.approx(13.0)
    assert sol.extras["worst_county_share"] == pytest.approx(10 / 18)
    assert sol.extras["max_min_counties"] == ["A", "B"]
    assert sol.extras["max_min_counties_unreachable"] == []
    assert sol.gap == pytest.approx(0.0, abs=1e-9)


def test_a_county_no_site_reaches_is_left_out_of_the_minimum() -> None:
    travel = {("a0", "s0"): 5.0, ("a1", "s1"): 5.0, ("c0", "s1"): 90.0}
    weights = {"a0": 10.0, "a1": 8.0, "c0": 4.0}
    data = with_counties(
        make_input(travel, weights, ["s0", "s1"]), {"a0": "A", "a1": "A", "c0": "C"}
    )
    sol = solve(data, ModelOptions(kind="max_min", p=1, max_travel_min=30.0))
    assert sol.selected_sites == ("s0",)  # C cannot be reached: the tie-break covers most
    assert sol.extras["max_min_counties_unreachable"] == ["C"]
    assert sol.extras["worst_county_share"] == pytest.approx(10 / 18)


def test_existing_sites_count_and_capacities_are_refused() -> None:
    travel = {("a0", "s0"): 5.0, ("b0", "s1"): 5.0, ("b1", "s2"): 5.0}
    weights = {"a0": 1.0, "b0": 2.0, "b1": 5.0}
    data = with_counties(
        make_input(travel, weights, ["s0", "s1", "s2"], fixed=("s1",)),
        {"a0": "A", "b0": "B", "b1": "B"},
    )
    sol = solve(data, ModelOptions(kind="max_min", p=2, max_travel_min=30.0))
    assert sol.selected_sites == ("s0", "s1")  # A at 100 % beats B's 7 patients
    assert sol.extras["worst_county_share"] == pytest.approx(2 / 7)
    with pytest.raises(ScenarioError, match="does not take site capacities"):
        solve(data, ModelOptions(kind="max_min", p=2, capacitated=True, default_capacity=9))


def test_build_gives_stage_one() -> None:
    travel = {("a0", "s0"): 5.0, ("b0", "s1"): 5.0}
    data = with_counties(
        make_input(travel, {"a0": 1.0, "b0": 1.0}, ["s0", "s1"]), {"a0": "A", "b0": "B"}
    )
    prob = build_max_min(data, ModelOptions(kind="max_min", p=1))
    assert prob.sense == -1  # maximise
    assert "worst_share" in {v.name for v in prob.variables()}
    assert len([c for c in prob.constraints if c.startswith("worst_county_share")]) == 2


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    n_demand=st.integers(min_value=2, max_value=9),
    n_sites=st.integers(min_value=2, max_value=6),
    p=st.integers(min_value=1, max_value=3),
    n_fixed=st.integers(min_value=0, max_value=1),
)
def test_matches_enumeration(seed: int, n_demand: int, n_sites: int, p: int, n_fixed: int) -> None:
    rng = np.random.default_rng(seed)
    demand = [f"d{i}" for i in range(n_demand)]
    sites = [f"s{j}" for j in range(n_sites)]
    travel = {
        (d, s): float(rng.integers(1, 60)) for d in demand for s in sites if rng.random() < 0.6
    }
    weights = {d: float(rng.integers(0, 9)) for d in demand}
    county = {d: "ABC"[int(rng.integers(0, 3))] for d in demand}
    fixed = tuple(sites[:n_fixed])
    p = max(min(p, n_sites), n_fixed)
    if not travel or sum(weights.values()) == 0:
        return
    data = with_counties(make_input(travel, weights, sites, fixed=fixed), county)
    sol = solve(data, ModelOptions(kind="max_min", p=p, max_travel_min=30.0))
    share, covered = enumerate_max_min(
        travel, weights, county, sites, p=p, limit_min=30.0, fixed=fixed
    )
    assert sol.status == "optimal"
    assert len(sol.selected_sites) == p
    if sol.extras["max_min_counties"]:
        assert sol.extras["worst_county_share"] == pytest.approx(share, abs=1e-6)
    else:  # no county any site reaches: nothing to lift
        assert sol.extras["worst_county_share"] is None
    assert sol.objective == pytest.approx(covered, abs=1e-6)
    # the plan itself reaches both figures
    within = sol.allocation[sol.allocation["travel_min"] <= 30.0]
    got = within.groupby(within["demand_id"].map(county))["patients"].sum()
    totals = pd.Series(weights).groupby(pd.Series(county)).sum()
    reached = sorted(set(sol.extras["max_min_counties"]))
    worst = min((got.get(c, 0.0) / totals[c] for c in reached), default=1.0)
    assert worst == pytest.approx(share, abs=1e-6)


# ------------------------------------------------------------------ through the scenario
def test_scenario_option_picks_the_fairest_plan() -> None:
    from planning.models import ModelOptions as Opts  # noqa: PLC0415
    from planning.scenario import Scenario  # noqa: PLC0415

    fair = Scenario(constraints={"worst_county_first": True})
    assert Opts.from_scenario(fair).kind == "max_min"
    assert Opts.from_scenario(Scenario()).kind == "mclp"
    assert Scenario.from_json(fair.to_json()) == fair
    with pytest.raises(ScenarioError, match="works with the MCLP model only"):
        Scenario(model="p_median", constraints={"worst_county_first": True})


def test_fairest_plan_of_a_real_region_keeps_the_mclp_figures_honest() -> None:
    from planning import pipeline  # noqa: PLC0415
    from planning.scenario import Scenario  # noqa: PLC0415

    small = Scenario(counties=("城厢区", "荔城区"), cell_size_m=4000, candidate_spacing_m=6000)
    mclp = pipeline.run(small.replace(n_facilities=1))
    fair = pipeline.run(small.replace(n_facilities=1, constraints={"worst_county_first": True}))
    assert fair.solution.model == "max_min"
    assert fair.solution.status == "optimal"
    k_m, k_f = mclp.tables.kpis, fair.tables.kpis
    # the worst-off county is never worse off, and the total never higher, than with MCLP
    assert k_f["worst_county_share"] >= k_m["worst_county_share"] - 1e-9
    assert k_f["patients_within"] <= k_m["patients_within"] + 1e-6
    assert fair.solution.extras["worst_county_share"] == pytest.approx(
        k_f["worst_county_share"], abs=1e-9
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    p=st.integers(min_value=2, max_value=3),
    target=st.sampled_from([None, 0.3, 0.5]),
)
def test_side_rules_hold_and_match_enumeration(seed: int, p: int, target: float | None) -> None:
    from planning.errors import InfeasibleError  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    demand = [f"d{i}" for i in range(7)]
    sites = [f"s{j}" for j in range(5)]
    travel = {
        (d, s): float(rng.integers(1, 60)) for d in demand for s in sites if rng.random() < 0.6
    }
    weights = {d: float(rng.integers(1, 9)) for d in demand}
    county = {d: "AB"[int(rng.integers(0, 2))] for d in demand}
    site_county = {s: "AB"[j % 2] for j, s in enumerate(sites)}
    if not travel:
        return
    data = with_counties(make_input(travel, weights, sites, county=site_county), county)
    opts = ModelOptions(
        kind="max_min", p=p, max_travel_min=30.0, site_in_every_county=True, county_target=target
    )
    demand_counties = {county[d] for d in demand}
    best: tuple[float, float] | None = None
    reach = {county[d] for d in demand for s in sites if travel.get((d, s), 1e9) <= 30.0}
    for combo in itertools.combinations(sites, p):
        if not demand_counties <= {site_county[s] for s in combo}:
            continue
        hit = {d for d in demand if any(travel.get((d, s), 1e9) <= 30.0 for s in combo)}
        share = {
            c: sum(weights[d] for d in hit if county[d] == c)
            / sum(weights[d] for d in demand if county[d] == c)
            for c in demand_counties
        }
        if target is not None and min(share.values()) < target - 1e-9:
            continue
        value = (min((share[c] for c in reach), default=1.0), sum(weights[d] for d in hit))
        if (
            best is None
            or value[0] > best[0] + 1e-9
            or (abs(value[0] - best[0]) <= 1e-9 and value[1] > best[1])
        ):
            best = value
    if best is None:
        with pytest.raises(InfeasibleError):
            solve(data, opts)
        return
    sol = solve(data, opts)
    assert sol.status == "optimal"
    assert {site_county[s] for s in sol.selected_sites} >= demand_counties
    expected = best[0] if reach else None  # no county any site reaches: nothing to lift
    assert sol.extras["worst_county_share"] == pytest.approx(expected, abs=1e-6)
    assert sol.objective == pytest.approx(best[1], abs=1e-6)


def test_fairest_plan_summary_treats_its_objective_as_a_patient_count() -> None:
    from planning import pipeline  # noqa: PLC0415
    from planning.report.labels import model_name  # noqa: PLC0415
    from planning.report.plan import plan_summary  # noqa: PLC0415
    from planning.scenario import Scenario  # noqa: PLC0415

    fair = Scenario(
        counties=("城厢区",),
        cell_size_m=4000,
        candidate_spacing_m=6000,
        n_facilities=1,
        prevalence_per_mille=0.001,  # a handful of patients: the privacy rule applies
        constraints={"worst_county_first": True},
    )
    plan = pipeline.run(fair)
    summary = plan_summary(plan)
    assert summary["model"] == "max_min"
    assert 0 < plan.solution.objective < fair.privacy_threshold
    assert summary["objective"] == f"<{fair.privacy_threshold}"
    assert model_name("max_min", "zh") == "公平优先模型（最差区县优先）"


def test_without_counties_it_is_the_mclp() -> None:
    travel = {("a", "s0"): 5.0, ("b", "s1"): 5.0, ("c", "s1"): 9.0}
    data = make_input(travel, {"a": 2.0, "b": 1.0, "c": 4.0}, ["s0", "s1"])
    sol = solve(data, ModelOptions(kind="max_min", p=1))
    assert sol.selected_sites == ("s1",)
    assert sol.objective == pytest.approx(5.0)
    assert sol.extras["worst_county_share"] is None
