"""Side constraints of every model: hand-checked cases and exhaustive enumeration."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from _model_fixtures import brute_force_constrained, line_input, make_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.errors import InfeasibleError, ScenarioError
from planning.models import ModelInput, solve, trade_off_curve
from planning.scenario import CandidateType, Scenario

MODELS = ["mclp", "p_median", "lscp", "p_center"]


def two_county_input() -> ModelInput:
    """Two counties A (d0-d2, sites s0-s2) and B (d3-d4, sites s3-s4) on a line, 10 min apart."""
    travel = {(f"d{a}", f"s{b}"): abs(a - b) * 10.0 for a in range(5) for b in range(5)}
    weights = {"d0": 5, "d1": 5, "d2": 5, "d3": 1, "d4": 1}
    data = make_input(
        travel,
        weights,
        [f"s{i}" for i in range(5)],
        county={f"s{i}": "A" if i < 3 else "B" for i in range(5)},
        prefecture={f"s{i}": "P1" if i < 3 else "P2" for i in range(5)},
        cost={f"s{i}": [1.0, 3.0, 1.0, 1.0, 2.0][i] for i in range(5)},
        capacity={f"s{i}": np.nan for i in range(5)},
        referral_min={f"s{i}": [50.0, 10.0, 20.0, 15.0, 60.0][i] for i in range(5)},
    )
    demand = data.demand.assign(
        county=["A", "A", "A", "B", "B"],
        county_name=["甲县", "甲县", "甲县", "乙县", "乙县"],
        prefecture=["P1", "P1", "P1", "P2", "P2"],
        urban=[True, True, False, False, False],
    )
    return ModelInput(travel=data.travel, demand=demand, sites=data.sites)


def constraints(**kw: object) -> dict[str, object]:
    return kw


def test_site_in_every_county_moves_a_site() -> None:
    data = two_county_input()
    plain = solve(data, Scenario(model="p_median", n_facilities=1))
    assert plain.selected_sites == ("s1",)
    sol = solve(
        data, Scenario(model="p_median", n_facilities=2, constraints={"site_in_every_county": True})
    )
    assert {str(data.sites.loc[s, "county"]) for s in sol.selected_sites} == {"A", "B"}
    assert sol.extras["counties_with_site"] == ["A", "B"]


@pytest.mark.parametrize("model", ["p_median", "p_center"])
def test_rules_met_by_the_unconstrained_optimum(model: str) -> None:
    # equal weights: p = 2 without rules opens s1 (county A) and one site of county B, so
    # that plan is proven optimal under "a site in every county" / "a hub per prefecture"
    base = two_county_input()
    data = ModelInput(travel=base.travel, demand=base.demand.assign(weight=5.0), sites=base.sites)
    plain = solve(data, Scenario(model=model, n_facilities=2))
    assert "plan_rules_met_by_the_relaxation" not in plain.extras
    assert {str(data.sites.loc[s, "county"]) for s in plain.selected_sites} == {"A", "B"}
    for rule in ({"site_in_every_county": True}, {"hub_per_prefecture": True}):
        sol = solve(data, Scenario(model=model, n_facilities=2, constraints=rule))
        assert sol.status == "optimal"
        assert sol.selected_sites == plain.selected_sites
        assert sol.objective == pytest.approx(plain.objective)
        assert sol.extras["plan_rules_met_by_the_relaxation"] is True
    # the default weights put both p-median sites in county A: the rule needs the full model
    sol = solve(
        base, Scenario(model="p_median", n_facilities=2, constraints={"site_in_every_county": True})
    )
    assert "plan_rules_met_by_the_relaxation" not in sol.extras
    assert {str(base.sites.loc[s, "county"]) for s in sol.selected_sites} == {"A", "B"}


def test_budget_without_p() -> None:
    data = two_county_input()
    sc = Scenario(model="mclp", n_facilities=None, max_travel_min=10, constraints={"budget": 2.0})
    sol = solve(data, sc)
    # s0 (cost 1) + s3 (cost 1) cover d0, d1 and d2, d3, d4: all 17 patients
    assert sol.objective == pytest.approx(17.0)
    assert sol.selected_sites == ("s0", "s3")
    assert sol.extras["total_cost"] <= 2.0


def test_candidate_type_cost_applies_when_site_cost_missing() -> None:
    data = line_input()
    sites = data.sites.assign(
        candidate_type=["new_build", "csc", "csc", "csc", "new_build"],
        cost=[np.nan, np.nan, np.nan, 5.0, np.nan],
    )
    data = ModelInput(travel=data.travel, demand=data.demand, sites=sites)
    sc = Scenario(
        model="mclp",
        n_facilities=None,
        max_travel_min=10,
        candidate_types=[
            CandidateType(name="csc", opening_cost=2.0),
            CandidateType(name="new_build", opening_cost=1.0),
        ],
        constraints={"budget": 2.0},
    )
    sol = solve(data, sc)
    # s2 (type cost 2) covers 7; two new builds s0 + s4 cover 1+2+2+1 = 6; s3 costs 5 (own)
    assert sol.selected_sites == ("s2",)
    assert sol.objective == pytest.approx(7.0)


def test_capacitated_reports_load_and_respects_capacity() -> None:
    data = line_input()
    sites = data.sites.assign(capacity=[np.nan, np.nan, 4.0, np.nan, np.nan])
    data = ModelInput(travel=data.travel, demand=data.demand, sites=sites)
    sol = solve(
        data,
        Scenario(
            model="mclp", n_facilities=1, max_travel_min=10, constraints={"capacitated": True}
        ),
    )
    load = sol.extras["site_load"].set_index("site_id")
    # s2 could reach 7 patients but holds 4; s1 or s3 reach 6 (1+2+3 / 3+2+1) uncapped
    assert sol.objective == pytest.approx(6.0)
    assert (load["patients"] <= load["capacity"].fillna(np.inf) + 1e-6).all()
    capped = solve(
        data, Scenario(model="p_median", n_facilities=2, constraints={"capacitated": True})
    )
    load = capped.extras["site_load"].set_index("site_id")
    assert (load["patients"] <= load["capacity"].fillna(np.inf) + 1e-6).all()
    assert capped.allocation.groupby("demand_id")["patients"].sum().sum() == pytest.approx(9.0)


def test_hub_per_prefecture_reports_hub_ids() -> None:
    data = two_county_input()
    sol = solve(
        data, Scenario(model="p_median", n_facilities=2, constraints={"hub_per_prefecture": True})
    )
    hubs = sol.extras["hub_of_prefecture"]
    assert set(hubs) == {"P1", "P2"}
    assert set(sol.extras["hubs"]) == set(hubs.values()) <= set(sol.selected_sites)


def test_referral_limit_excludes_sites_and_warns_on_unknown() -> None:
    data = two_county_input()
    sol = solve(
        data, Scenario(model="p_median", n_facilities=1, constraints={"max_referral_min": 12})
    )
    assert sol.selected_sites == ("s1",)
    sites = data.sites.copy()
    sites.loc["s1", "referral_min"] = np.nan
    unknown = ModelInput(travel=data.travel, demand=data.demand, sites=sites)
    with pytest.warns(UserWarning, match="no known referral time"):
        sol = solve(
            unknown,
            Scenario(model="p_median", n_facilities=1, constraints={"max_referral_min": 18}),
        )
    assert sol.selected_sites == ("s3",)


def test_urban_rural_thresholds() -> None:
    data = two_county_input()  # d0, d1 urban; d2-d4 rural
    sc = Scenario(
        model="lscp",
        max_travel_min=30,
        constraints={"urban_max_travel_min": 0.5, "rural_max_travel_min": 10},
    )
    sol = solve(data, sc)
    assert {"s0", "s1"} <= set(sol.selected_sites)  # urban points need a site on the spot
    assert sol.objective == 3.0


def test_county_target_infeasible_names_county() -> None:
    data = two_county_input()
    sites = data.sites.assign(referral_min=[50.0, 10.0, 20.0, 90.0, 90.0])
    data = ModelInput(travel=data.travel, demand=data.demand, sites=sites)
    sc = Scenario(
        model="mclp",
        n_facilities=2,
        max_travel_min=5,
        constraints={"county_coverage_target": 0.5, "max_referral_min": 30},
    )
    with pytest.raises(InfeasibleError, match="乙县") as info:
        solve(data, sc)
    assert info.value.culprit == "county_coverage_target"


def test_diagnosis_blames_budget() -> None:
    data = two_county_input()
    sc = Scenario(model="lscp", max_travel_min=10, constraints={"budget": 1.0})
    with pytest.raises(InfeasibleError, match="without 'budget' a plan exists") as info:
        solve(data, sc)
    assert info.value.culprit == "budget"


def test_trade_off_curve_monotone() -> None:
    curve = trade_off_curve(two_county_input(), Scenario(model="p_median"), [1, 2, 3, 4])
    assert list(curve["p"]) == [1, 2, 3, 4]
    assert (curve["status"] == "optimal").all()
    assert curve["objective"].is_monotonic_decreasing
    assert curve["selected_sites"].map(len).tolist() == [1, 2, 3, 4]


CONSTRAINT_OPTIONS = {
    "budget": st.sampled_from([2.0, 3.0, 5.0]),
    "capacitated": st.just(True),  # noqa: FBT003
    "site_in_every_county": st.just(True),  # noqa: FBT003
    "min_county_share_with_site": st.sampled_from([0.5, 1.0]),
    "county_coverage_target": st.sampled_from([0.3, 0.6]),
    "hub_per_prefecture": st.just(True),  # noqa: FBT003
    "max_referral_min": st.sampled_from([15.0, 30.0]),
    "urban_max_travel_min": st.sampled_from([8.0, 15.0]),
    "rural_max_travel_min": st.sampled_from([20.0, 30.0]),
}


@st.composite
def constrained_instances(draw: st.DrawFn) -> tuple[ModelInput, dict, dict[str, object]]:
    n = draw(st.integers(2, 5))
    m = draw(st.integers(2, 5))
    sites = [f"s{j}" for j in range(m)]
    weights = {f"d{i}": float(draw(st.integers(0, 6))) for i in range(n)}
    travel = {}
    for i in range(n):
        for j in range(m):
            if draw(st.booleans()) or j == i % m:
                travel[(f"d{i}", sites[j])] = float(draw(st.integers(1, 30)))
    county_of = {j: draw(st.sampled_from(["A", "B"])) for j in range(m)}
    data = make_input(
        travel,
        weights,
        sites,
        fixed=tuple(s for s in sites[:1] if draw(st.booleans())),
        county={sites[j]: county_of[j] for j in range(m)},
        prefecture={sites[j]: "P" + county_of[j] for j in range(m)},
        cost={s: float(draw(st.integers(0, 3))) for s in sites},
        capacity={s: float(draw(st.sampled_from([np.nan, 3.0, 6.0, 12.0]))) for s in sites},
        referral_min={s: float(draw(st.integers(5, 40))) for s in sites},
    )
    demand = data.demand.assign(
        county=[draw(st.sampled_from(["A", "B"])) for _ in range(n)],
        urban=[draw(st.booleans()) for _ in range(n)],
    )
    demand["prefecture"] = "P" + demand["county"]
    data = ModelInput(travel=data.travel, demand=demand, sites=data.sites)
    names = draw(
        st.lists(st.sampled_from(sorted(CONSTRAINT_OPTIONS)), min_size=1, max_size=2, unique=True)
    )
    con = {k: draw(CONSTRAINT_OPTIONS[k]) for k in names}
    return data, travel, con


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=constrained_instances(), model=st.sampled_from(MODELS), p=st.integers(1, 3))
def test_constrained_models_equal_enumeration(inst, model: str, p: int) -> None:
    data, travel, con = inst
    p = max(min(p, len(data.sites)), int(data.sites["fixed"].sum()))
    scenario = Scenario(
        model=model, n_facilities=p, max_travel_min=15, constraints=con, time_limit_s=20
    )
    expected = brute_force_constrained(
        travel, data.demand, data.sites, model, p=p, max_min=15, con=con
    )
    with warnings.catch_warnings():
        # existing sites beyond the referral limit warn (tested above); not the point here
        warnings.simplefilter("ignore", UserWarning)
        if expected is None:
            with pytest.raises(InfeasibleError):
                solve(data, scenario)
            return
        sol = solve(data, scenario)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected, abs=1e-6)
    fixed = set(data.sites.index[data.sites["fixed"]])
    assert fixed <= set(sol.selected_sites)
    if model != "lscp" and "budget" not in con:
        assert len(sol.selected_sites) == p
    frame = pd.DataFrame(sol.allocation)
    assert (frame["patients"] >= -1e-9).all()


def _budget_optimum(model: str, budget: float) -> float:
    """Enumerate every plan of two_county_input within ``budget`` (max_travel_min 10)."""
    data = two_county_input()
    cost = data.sites["cost"].to_dict()
    w = data.demand["weight"].to_dict()
    t = {(d, s): v for d, s, v in data.travel.itertuples(index=False)}
    best = None
    for k in range(1, 6):
        for plan in itertools.combinations(sorted(cost), k):
            if sum(cost[s] for s in plan) > budget + 1e-9:
                continue
            near = {d: min(t[(d, s)] for s in plan) for d in w}
            if model == "mclp":
                val = sum(w[d] for d in w if near[d] <= 10)
                best = val if best is None else max(best, val)
            else:
                val = sum(w[d] * near[d] for d in w)
                best = val if best is None else min(best, val)
    assert best is not None
    return float(best)


@pytest.mark.parametrize("model", ["mclp", "p_median"])
def test_trade_off_curve_over_budgets_equals_enumeration(model: str) -> None:
    budgets = [3.0, 1.0, 2.0, 5.0]  # solved in increasing order
    sc = Scenario(model=model, max_travel_min=10, constraints={"site_in_every_county": False})
    curve = trade_off_curve(two_county_input(), sc, budgets=budgets)
    assert list(curve["budget"]) == [1.0, 2.0, 3.0, 5.0]
    assert {"p", "coverage_share", "mean_travel_min", "total_cost"} <= set(curve.columns)
    assert (curve["status"] == "optimal").all()
    expected = [_budget_optimum(model, b) for b in curve["budget"]]
    assert curve["objective"].tolist() == pytest.approx(expected)
    assert (curve["total_cost"] <= curve["budget"] + 1e-9).all()
    assert curve["p"].tolist() == curve["selected_sites"].map(len).tolist()
    # a larger budget never does worse on the model's own objective
    obj = curve["objective"]
    assert obj.is_monotonic_increasing if model == "mclp" else obj.is_monotonic_decreasing


def test_trade_off_curve_budget_needs_costs_and_one_axis() -> None:
    data = two_county_input()
    free = ModelInput(travel=data.travel, demand=data.demand, sites=data.sites.assign(cost=0.0))
    with pytest.raises(ScenarioError, match="every candidate site costs 0"):
        trade_off_curve(free, Scenario(model="mclp"), budgets=[1.0, 2.0])
    with pytest.raises(ScenarioError, match="not both"):
        trade_off_curve(data, Scenario(model="mclp"), [1, 2], budgets=[1.0])
    with pytest.raises(ScenarioError, match="budgets must be"):
        trade_off_curve(data, Scenario(model="mclp"), budgets=[-1.0])
