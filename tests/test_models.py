"""Siting models: hand-checked toy problems and exhaustive enumeration."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pulp
import pytest
from _model_fixtures import brute_force, brute_force_constrained, line_input, make_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.errors import InfeasibleError, ScenarioError, SolverError
from planning.models import (
    ModelInput,
    ModelOptions,
    _heuristic,
    build_lscp,
    build_mclp,
    build_p_center,
    build_p_median,
    solve,
)
from planning.scenario import Scenario

MODELS = ["mclp", "p_median", "lscp", "p_center"]


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize(
    ("model", "expected", "sites"),
    [
        ("mclp", 7.0, ("s2",)),  # s2 reaches d1, d2, d3 within 10 min: 2 + 3 + 2
        ("p_median", 80.0, ("s2",)),  # 1*20 + 2*10 + 0 + 2*10 + 1*20
        ("p_center", 20.0, ("s2",)),
    ],
)
def test_line_one_site(model: str, expected: float, sites: tuple[str, ...], solver: str) -> None:
    sol = solve(
        line_input(), Scenario(model=model, n_facilities=1, max_travel_min=10, solver=solver)
    )
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected)
    assert sol.selected_sites == sites
    assert sol.gap == 0.0


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_line_lscp_needs_two_sites(solver: str) -> None:
    sol = solve(line_input(), Scenario(model="lscp", max_travel_min=10, solver=solver))
    assert sol.status == "optimal"
    assert sol.objective == 2.0
    assert len(sol.selected_sites) == 2
    assert set(sol.allocation["demand_id"]) == {f"d{i}" for i in range(5)}
    assert (sol.allocation["travel_min"] <= 10).all()


def test_line_mclp_two_sites_and_allocation() -> None:
    sol = solve(line_input(), Scenario(model="mclp", n_facilities=2, max_travel_min=10))
    assert sol.objective == 9.0
    assert sol.extras["coverage_share"] == pytest.approx(1.0)
    alloc = sol.allocation.set_index("demand_id")
    assert alloc["patients"].sum() == pytest.approx(9.0)
    # every demand point served by a site within 10 minutes
    assert (alloc["travel_min"] <= 10).all()


def test_fixed_site_counts_towards_p() -> None:
    data = line_input()
    data.sites.loc["s0", "fixed"] = True
    sol = solve(data, Scenario(model="p_median", n_facilities=2))
    assert "s0" in sol.selected_sites
    assert len(sol.selected_sites) == 2
    # s0 + s3: 0 + 2*10 + 3*10 + 0 + 1*10 = 60 is the best with s0 kept
    assert sol.objective == pytest.approx(60.0)


def test_mclp_uncovered_demand_has_no_allocation_row() -> None:
    sol = solve(line_input(), Scenario(model="mclp", n_facilities=1, max_travel_min=10))
    assert set(sol.allocation["demand_id"]) == {"d1", "d2", "d3"}


def test_p_larger_than_candidates() -> None:
    with pytest.raises(ScenarioError, match="6 sites requested but there are only 5"):
        solve(line_input(), Scenario(model="mclp", n_facilities=6))


def test_lscp_infeasible_names_county_and_nearest() -> None:
    travel = {("a", "s1"): 5.0, ("b", "s1"): 34.0}
    data = make_input(travel, {"a": 10, "b": 312}, ["s1"])
    demand = data.demand.assign(county="350322", county_name="仙游县")
    data = type(data)(travel=data.travel, demand=demand, sites=data.sites)
    with pytest.raises(
        InfeasibleError, match=r"312 patients in 仙游县: nearest candidate 34"
    ) as info:
        solve(data, Scenario(model="lscp", max_travel_min=20))
    assert info.value.culprit == "max_travel_min"


def test_p_median_demand_without_pair() -> None:
    data = make_input({("a", "s1"): 5.0}, {"a": 1, "b": 2}, ["s1"])
    with pytest.raises(InfeasibleError, match="no candidate in the travel-time table") as info:
        solve(data, Scenario(model="p_median", n_facilities=1))
    assert "b" in str(info.value)


@pytest.mark.parametrize(
    ("builder", "model"),
    [
        (build_mclp, "mclp"),
        (build_p_median, "p_median"),
        (build_lscp, "lscp"),
        (build_p_center, "p_center"),
    ],
)
def test_builders_return_unsolved_pulp_problem(builder, model: str) -> None:
    prob = builder(line_input(), Scenario(model=model, n_facilities=1, max_travel_min=10))
    assert isinstance(prob, pulp.LpProblem)
    assert prob.status == pulp.LpStatusNotSolved
    names = {v.name for v in prob.variables()}
    assert {f"y_s{i}" for i in range(5)} <= names
    prob.solve(pulp.HiGHS(msg=False))
    expected = {"mclp": 7.0, "p_median": 80.0, "lscp": 2.0, "p_center": 20.0}[model]
    assert pulp.value(prob.objective) == pytest.approx(expected)


def test_deterministic_ties() -> None:
    # a symmetric instance with many optimal plans: same input, same answer
    travel = {(f"d{a}", f"s{b}"): 10.0 for a in range(4) for b in range(4)}
    data = make_input(travel, {f"d{a}": 1 for a in range(4)}, [f"s{b}" for b in range(4)])
    sc = Scenario(model="p_median", n_facilities=2)
    first = solve(data, sc)
    for _ in range(3):
        again = solve(data, sc)
        assert again.selected_sites == first.selected_sites
        pd.testing.assert_frame_equal(again.allocation, first.allocation)


@st.composite
def instances(draw: st.DrawFn) -> tuple[dict, dict, list[str]]:
    n = draw(st.integers(2, 6))
    m = draw(st.integers(2, 5))
    sites = [f"s{j}" for j in range(m)]
    weights = {f"d{i}": float(draw(st.integers(0, 9))) for i in range(n)}
    travel = {}
    for i in range(n):
        for j in range(m):
            if draw(st.booleans()) or j == i % m:  # sparse, but every point has a pair
                travel[(f"d{i}", sites[j])] = float(draw(st.integers(1, 40)))
    return travel, weights, sites


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inst=instances(),
    model=st.sampled_from(MODELS),
    p=st.integers(1, 3),
    n_fixed=st.integers(0, 1),
    tiny_shortcut=st.booleans(),
)
def test_models_equal_enumeration(
    inst, model: str, p: int, n_fixed: int, *, tiny_shortcut: bool
) -> None:
    # tiny_shortcut=False: the MIP path, as on instances too large to try every plan
    limit = _heuristic.MAX_ENUMERATED_PLANS if tiny_shortcut else 0
    with mock.patch.object(_heuristic, "MAX_ENUMERATED_PLANS", limit):
        _check_equals_enumeration(inst, model, p, n_fixed)


def _check_equals_enumeration(inst, model: str, p: int, n_fixed: int) -> None:
    travel, weights, sites = inst
    p = min(p, len(sites))
    fixed = set(sites[:n_fixed]) if n_fixed <= p else set()
    data = make_input(travel, weights, sites, fixed=tuple(fixed))
    scenario = Scenario(model=model, n_facilities=p, max_travel_min=20)
    expected = brute_force(travel, weights, sites, model, p=p, max_min=20, fixed=fixed)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve(data, scenario)
        return
    sol = solve(data, scenario)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected)
    assert set(fixed) <= set(sol.selected_sites)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_fixed=st.integers(0, 2),
    model=st.sampled_from(["lscp", "p_center"]),
)
def test_covering_reductions_keep_the_optimum(seed: int, n_fixed: int, model: str) -> None:
    # larger covering instances exercise the row/site dominance reductions
    rng = np.random.default_rng(seed)
    n, m = 14, 9
    sites = [f"s{j}" for j in range(m)]
    travel = {
        (f"d{i}", sites[j]): float(rng.integers(1, 40))
        for i in range(n)
        for j in range(m)
        if rng.random() < 0.5 or j == i % m
    }
    weights = {f"d{i}": float(rng.integers(1, 5)) for i in range(n)}
    fixed = set(sites[:n_fixed])
    data = make_input(travel, weights, sites, fixed=tuple(fixed))
    p = n_fixed + 2
    expected = brute_force(travel, weights, sites, model, p=p, max_min=25, fixed=fixed)
    scenario = Scenario(model=model, n_facilities=p, max_travel_min=25)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve(data, scenario)
        return
    sol = solve(data, scenario)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected)


def _random_travel(
    rng: np.random.Generator, n: int, m: int
) -> tuple[dict[tuple[str, str], float], dict[str, float], list[str]]:
    """A sparse random travel table (40 % of pairs, 1-39 min) and fractional weights."""
    sites = [f"s{j}" for j in range(m)]
    travel = {
        (f"d{i}", sites[j]): float(rng.integers(1, 40))
        for i in range(n)
        for j in range(m)
        if rng.random() < 0.4
    }
    weights = {f"d{i}": float(rng.integers(0, 5)) + 0.25 for i in range(n)}
    return travel, weights, sites


def _reduced_and_unreduced(data: ModelInput, sc: Scenario) -> list[float]:
    """Proven MCLP optima of the reduced and the unreduced model (in that order)."""
    from planning.models._mip import solve_highs  # noqa: PLC0415
    from planning.models._prep import prepare  # noqa: PLC0415
    from planning.models.mclp import formulate_mclp  # noqa: PLC0415

    opts = ModelOptions.from_scenario(sc)
    prep = prepare(data, opts)
    values = []
    for reduce in (True, False):
        form = formulate_mclp(prep, opts, reduce=reduce)
        raw = solve_highs(form.mip, time_limit_s=30, mip_gap=0.0)
        assert raw.status == "optimal"
        assert raw.objective is not None
        values.append(raw.objective)
    return values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_fixed=st.integers(0, 2), p_extra=st.integers(1, 3))
def test_mclp_reductions_keep_the_objective(seed: int, n_fixed: int, p_extra: int) -> None:
    # reduced (fixed-covered groups as a constant, dominated sites dropped, groups merged)
    # and unreduced MCLP models have the same optimum
    travel, weights, sites = _random_travel(np.random.default_rng(seed), 30, 12)
    data = make_input(travel, weights, sites, fixed=tuple(sites[:n_fixed]))
    sc = Scenario(model="mclp", n_facilities=n_fixed + p_extra, max_travel_min=15)
    expected = brute_force(
        travel, weights, sites, "mclp", p=sc.n_facilities, max_min=15, fixed=set(sites[:n_fixed])
    )
    assert _reduced_and_unreduced(data, sc) == pytest.approx([expected, expected])
    assert solve(data, sc).objective == pytest.approx(expected)


RULES = st.sampled_from(
    [
        {"site_in_every_county": True},
        {"hub_per_prefecture": True},
        {"min_county_share_with_site": 0.5},
        {"min_county_share_with_site": 1.0},
        {"budget": 4.0},
        {"site_in_every_county": True, "budget": 5.0},
        {"county_coverage_target": 0.4},
        {"county_coverage_target": 0.6, "site_in_every_county": True},
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_fixed=st.integers(0, 1), p=st.integers(2, 4), con=RULES)
def test_mclp_reductions_with_rules_keep_the_objective(
    seed: int, n_fixed: int, p: int, con: dict[str, object]
) -> None:
    # dominated sites are dropped only for a same-county / same-prefecture, no dearer site,
    # and the greedy start keeps county rules and targets: reduced and unreduced models,
    # the solve (greedy start or shortcut) and enumeration agree
    rng = np.random.default_rng(seed)
    n = 30
    travel, weights, sites = _random_travel(rng, n, 10)
    site_county = {s: "ABC"[int(rng.integers(0, 3))] for s in sites}
    site_county.update({"s7": "A", "s8": "B", "s9": "C"})  # every county has a candidate
    data = make_input(
        travel,
        weights,
        sites,
        fixed=tuple(sites[:n_fixed]),
        county=site_county,
        prefecture={s: "P" + ("A" if c == "A" else "B") for s, c in site_county.items()},
        cost={s: float(rng.integers(0, 3)) for s in sites},
        capacity=dict.fromkeys(sites, np.nan),
        referral_min=dict.fromkeys(sites, 10.0),
    )
    county = ["ABC"[i % 3] for i in range(n)]
    demand = data.demand.assign(county=county, urban=False)
    demand["prefecture"] = ["P" + ("A" if c == "A" else "B") for c in county]
    data = ModelInput(travel=data.travel, demand=demand, sites=data.sites)
    p = max(p, n_fixed + 1)
    sc = Scenario(model="mclp", n_facilities=p, max_travel_min=15, constraints=con)
    expected = brute_force_constrained(
        travel, data.demand, data.sites, "mclp", p=p, max_min=15, con=con
    )
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve(data, sc)
        return
    assert _reduced_and_unreduced(data, sc) == pytest.approx([expected, expected])
    sol = solve(data, sc)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    p=st.integers(1, 4),
    n_fixed=st.integers(0, 1),
    truncate=st.sampled_from([None, 2, 4]),
)
def test_p_median_shared_level_sets_keep_the_optimum(
    seed: int, p: int, n_fixed: int, truncate: int | None
) -> None:
    # clients on a small grid share most nearest-site sets (with ties): the radius model with
    # one z per distinct set equals the per-client model, truncated or not, and enumeration
    from planning.models._mip import solve_highs  # noqa: PLC0415
    from planning.models._prep import prepare  # noqa: PLC0415
    from planning.models.p_median import formulate_p_median  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    clients = [(x, y) for x in range(6) for y in range(5)]
    spots = rng.choice(len(clients), 8, replace=False)
    sites = [f"s{j}" for j in range(8)]
    travel = {
        (f"d{i}", sites[j]): float(abs(cx - clients[spots[j]][0]) + abs(cy - clients[spots[j]][1]))
        for i, (cx, cy) in enumerate(clients)
        for j in range(8)
    }
    weights = {f"d{i}": float(rng.integers(1, 4)) for i in range(len(clients))}
    data = make_input(travel, weights, sites, fixed=tuple(sites[:n_fixed]))
    p = max(p, n_fixed)
    sc = Scenario(model="p_median", n_facilities=p)
    opts = ModelOptions.from_scenario(sc)
    prep = prepare(data, opts)
    keep = None if truncate is None else np.full(prep.n, truncate)
    values, n_cols = [], []
    for reduce in (True, False):
        form = formulate_p_median(prep, opts, radius_keep=keep, reduce=reduce)
        raw = solve_highs(form.mip, time_limit_s=30, mip_gap=0.0)
        assert raw.status == "optimal"
        values.append(raw.objective)
        n_cols.append(form.mip.n_cols)
    assert values[0] == pytest.approx(values[1])
    assert n_cols[0] < n_cols[1]  # sets are shared
    if truncate is None:
        expected = brute_force(
            travel, weights, sites, "p_median", p=p, max_min=1e9, fixed=set(sites[:n_fixed])
        )
        assert values[0] == pytest.approx(expected)
    assert solve(data, sc).objective == pytest.approx(
        brute_force(
            travel, weights, sites, "p_median", p=p, max_min=1e9, fixed=set(sites[:n_fixed])
        )
    )


def test_tiny_instances_are_proven_by_trying_every_plan() -> None:
    # below MAX_ENUMERATED_PLANS, MCLP and LSCP without side rules skip the MIP solver;
    # the answer is the enumeration optimum and the message says how it was proven
    rng = np.random.default_rng(7)
    travel, weights, sites = _random_travel(rng, 30, 9)
    data = make_input(travel, weights, sites)
    mclp = solve(data, Scenario(model="mclp", n_facilities=3, max_travel_min=15))
    expected = brute_force(travel, weights, sites, "mclp", p=3, max_min=15, fixed=set())
    assert mclp.objective == pytest.approx(expected)
    assert mclp.status == "optimal"
    assert "every" in mclp.message  # "trying every plan" or "every coverable patient"
    # LSCP: every pair exists (1-39 min); at 12 minutes five of the nine sites are needed
    rng = np.random.default_rng(1)
    travel = {(f"d{i}", s): float(rng.integers(1, 40)) for i in range(30) for s in sites}
    weights = {f"d{i}": 1.0 for i in range(30)}
    lscp = solve(make_input(travel, weights, sites), Scenario(model="lscp", max_travel_min=12))
    expected_lscp = brute_force(travel, weights, sites, "lscp", p=None, max_min=12, fixed=set())
    assert expected_lscp == 5.0
    assert lscp.objective == expected_lscp
    assert "trying every plan" in lscp.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(), p=st.integers(1, 3), n_fixed=st.integers(0, 1), radius=st.integers(5, 40))
def test_quick_cover_check_never_contradicts_enumeration(inst, p, n_fixed, radius) -> None:
    # the p-center's MIP-free radius test: a plan it returns serves everyone within the
    # radius with at most p sites; a "no" is a proof (enumeration finds no such plan)
    from planning.models._prep import prepare  # noqa: PLC0415
    from planning.models.p_center import quick_cover_check  # noqa: PLC0415

    travel, weights, sites = inst
    fixed = set(sites[:n_fixed])
    data = make_input(travel, weights, sites, fixed=tuple(fixed))
    p = min(max(p, n_fixed), len(sites))
    sc = Scenario(model="p_center", n_facilities=p, max_travel_min=20)
    prep = prepare(data, ModelOptions.from_scenario(sc))
    pairs = prep.openable[prep.pj] & (prep.pt <= radius)
    answer = quick_cover_check(prep, pairs, sc.n_facilities)
    covered_all = brute_force(
        travel, weights, sites, "lscp", p=None, max_min=radius, fixed=fixed
    )  # fewest sites serving everyone within the radius (None: impossible)
    possible = covered_all is not None and covered_all <= sc.n_facilities
    if answer is False:
        assert not possible
    elif answer is not None:
        assert possible
        assert int(answer.sum()) <= sc.n_facilities
        assert answer[prep.fixed].all()
        _, served = prep.nearest_open(answer, pairs)
        assert (served[prep.weight > 0] <= radius).all()


# ------------------------------------------------------------------ CBC through pulp.COIN_CMD
def _cbc_spy(monkeypatch: pytest.MonkeyPatch) -> list[pulp.COIN_CMD]:
    from planning.models import _mip  # noqa: PLC0415

    made: list[pulp.COIN_CMD] = []
    real = _mip.cbc_command

    def spy(**options: object) -> pulp.COIN_CMD:
        made.append(real(**options))
        return made[-1]

    monkeypatch.setattr(_mip, "cbc_command", spy)
    # these toy models are small enough to be proven by trying every plan: make CBC run
    monkeypatch.setattr(_heuristic, "MAX_ENUMERATED_PLANS", 0)
    return made


def test_cbc_runs_through_coin_cmd_without_pulp_4_deprecations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PULP_CBC_CMD and LpVariable(...) are deprecated for pulp 4.0; neither is used."""
    made = _cbc_spy(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        sol = solve(line_input(), Scenario(model="lscp", max_travel_min=10, solver="cbc"))
    assert sol.solver == "cbc" and sol.status == "optimal" and sol.objective == 2.0
    assert len(made) == 1 and type(made[0]) is pulp.COIN_CMD


def test_cbc_without_a_bundled_binary_uses_cbc_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like pulp 4.0 (no bundled CBC): the ``cbc`` on PATH (e.g. from pulp[cbc]) is used."""
    bundled = pulp.COIN_CMD.executableExtension(pulp.apis.coin_api.pulp_cbc_path)
    (tmp_path / "cbc").symlink_to(Path(bundled).resolve())
    monkeypatch.delattr(pulp.apis.coin_api, "pulp_cbc_path")
    monkeypatch.setenv("PATH", str(tmp_path))
    made = _cbc_spy(monkeypatch)
    sol = solve(line_input(), Scenario(model="lscp", max_travel_min=10, solver="cbc"))
    assert sol.status == "optimal" and sol.objective == 2.0
    assert shutil.which(made[0].path) == str(tmp_path / "cbc")  # found on PATH


def test_missing_cbc_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planning.models._mip import cbc_command  # noqa: PLC0415

    monkeypatch.delattr(pulp.apis.coin_api, "pulp_cbc_path")
    monkeypatch.setenv("PATH", str(tmp_path))  # no cbc anywhere
    with pytest.raises(SolverError, match=r"pip install pulp\[cbc\].*--solver highs"):
        cbc_command(msg=False)
