"""Phased rollout (issue #8): enumeration over opening orders, one-shot optimum, milestones."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from planning import models
from planning.errors import DataError, ScenarioError
from planning.models import _stages as rollout_stages
from planning.models.base import ModelInput
from planning.results import rollout
from planning.scenario import Scenario

COUNTY_NAMES = {"C1": "城厢区", "C2": "涵江区", "C3": "荔城区", "C4": "秀屿区", "C5": "仙游县"}


# ------------------------------------------------------------------ hand-made instances
def make_instance(
    seed: int,
    *,
    n: int = 9,
    m: int = 5,
    n_fixed: int = 0,
    density: float = 0.8,
    capacity: float | None = None,
) -> ModelInput:
    """Random small instance: demand in 5 counties, sites with costs, sparse travel minutes."""
    rng = np.random.default_rng(seed)
    counties = list(COUNTY_NAMES)
    dem_c = [counties[i % len(counties)] for i in range(n)]
    demand = pd.DataFrame(
        {
            "weight": rng.integers(1, 40, n).astype(float),
            "county": dem_c,
            "county_name": [COUNTY_NAMES[c] for c in dem_c],
        },
        index=[f"d{i:02d}" for i in range(n)],
    )
    site_ids = [f"E{j}" for j in range(n_fixed)] + [f"S{j}" for j in range(m)]
    sites = pd.DataFrame(
        {
            "fixed": [True] * n_fixed + [False] * m,
            "cost": [0.0] * n_fixed + rng.integers(1, 5, m).astype(float).tolist(),
            "capacity": capacity if capacity is not None else np.nan,
            "county": [counties[(j * 2) % len(counties)] for j in range(n_fixed + m)],
        },
        index=site_ids,
    )
    rows = [
        (d, s, float(rng.integers(2, 60)))
        for d in demand.index
        for s in sites.index
        if rng.random() < density
    ]
    travel = pd.DataFrame(rows, columns=["demand_id", "site_id", "travel_min"])
    return ModelInput(travel=travel, demand=demand, sites=sites)


PHASES_COUNT = [
    {"year": 2023, "new_sites": 1, "county_share_target": 0.4, "patient_share_target": 0.3},
    {"year": 2024, "new_sites": 1, "county_share_target": 0.6, "patient_share_target": 0.45},
    {"year": 2025, "new_sites": 2, "county_share_target": 0.8, "patient_share_target": 0.6},
]
PHASES_BUDGET = [
    {"year": 2023, "budget": 3.0, "county_share_target": 0.2, "patient_share_target": 0.3},
    {"year": 2024, "budget": 4.0, "county_share_target": 0.4, "patient_share_target": 0.5},
    {
        "year": 2025,
        "new_sites": 1,
        "budget": 4.0,
        "county_share_target": 0.6,
        "patient_share_target": 0.7,
    },
]


def scenario_for(model: str, phases: list[dict], *, gamma: float = 1.0, **kw: object) -> Scenario:
    n_fac = kw.pop("n_facilities", None if model == "lscp" else 4)
    return Scenario(
        model=model,
        n_facilities=n_fac,
        max_travel_min=kw.pop("max_travel_min", 25.0),
        rollout={"phases": phases, "early_year_weight": gamma},
        **kw,
    )


# ------------------------------------------------------------------ brute force
def brute_force(data: ModelInput, scenario: Scenario, penalty_min: float) -> dict:
    """Enumerate every opening order; best by (shortfall, model objective) lexicographically."""
    demand, sites = data.demand, data.sites
    phases = scenario.rollout.phases
    n_t = len(phases)
    gamma = scenario.rollout.early_year_weight
    omega = [gamma ** (n_t - 1 - t) for t in range(n_t)]
    d = (
        data.travel.pivot_table(index="demand_id", columns="site_id", values="travel_min")
        .reindex(index=demand.index, columns=sites.index)
        .to_numpy(dtype=float)
    )
    d = np.where(np.isnan(d), np.inf, d)
    w = demand["weight"].to_numpy()
    total = w.sum()
    t_max = scenario.max_travel_min
    fixed = sites["fixed"].to_numpy(dtype=bool)
    cost = sites["cost"].to_numpy(dtype=float)
    cap = (
        sites["capacity"].to_numpy(dtype=float)
        if "capacity" in sites
        else np.full(len(sites), np.nan)
    )
    capacitated = scenario.constraints.capacitated
    counties = sorted(set(demand["county"]))
    cand = np.flatnonzero(~fixed)
    coverable = w[(d[:, ~fixed | fixed] <= t_max).any(axis=1)].sum()

    def covered(is_open: np.ndarray) -> float:
        if not capacitated:
            return float(w[(d[:, is_open] <= t_max).any(axis=1)].sum())
        return covered_capacitated(d, w, cap, is_open, t_max)

    best = None
    for combo in itertools.product(range(n_t + 1), repeat=cand.size):  # n_t = never
        order = np.array(combo)
        ok = True
        for t, ph in enumerate(phases):
            new = cand[order == t]
            if ph.new_sites is not None and new.size > ph.new_sites:
                ok = False
            if ph.budget is not None and cost[new].sum() > ph.budget + 1e-9:
                ok = False
        n_final = fixed.sum() + (order < n_t).sum()
        if scenario.model != "lscp" and scenario.n_facilities is not None:
            ok &= n_final <= scenario.n_facilities
        if not ok:
            continue
        short, values = 0.0, []
        for t, ph in enumerate(phases):
            is_open = fixed.copy()
            is_open[cand[order <= t]] = True
            has = {sites["county"].iloc[j] for j in np.flatnonzero(is_open)}
            n_has = sum(c in has for c in counties)
            need = int(np.ceil(ph.county_share_target * len(counties) - 1e-9))
            short += max(need - n_has, 0) / len(counties) if ph.county_share_target > 0 else 0
            if ph.patient_share_target > 0:
                short += max(ph.patient_share_target * total - covered(is_open), 0) / total
            near = d[:, is_open].min(axis=1) if is_open.any() else np.full(len(w), np.inf)
            near = np.minimum(near, penalty_min)
            if scenario.model == "mclp":
                values.append(covered(is_open))
            elif scenario.model == "p_median":
                values.append(float(w @ near))
            elif scenario.model == "p_center":
                values.append(float(near[w > 0].max()))
            else:  # lscp: sites, with coverage as tie-break
                values.append(float(is_open.sum()))
                if t == n_t - 1:
                    short += max(coverable - covered(is_open), 0) / total
        weighted = float(np.dot(omega, values))
        if scenario.model == "mclp":
            key = (round(short, 9), -weighted)
        elif scenario.model == "lscp":
            cov_w = sum(
                om * covered(np.r_[fixed] | np.isin(np.arange(len(fixed)), cand[order <= t]))
                for t, om in enumerate(omega)
            )
            key = (round(short, 9), values[-1], -cov_w)
        else:
            key = (round(short, 9), weighted)
        if best is None or key < best["key"]:
            best = {
                "key": key,
                "order": order,
                "values": values,
                "objective": weighted,
                "shortfall": short,
            }
    assert best is not None
    return best


def covered_capacitated(d, w, cap, is_open, t_max) -> float:
    from scipy.optimize import linprog  # noqa: PLC0415

    pairs = [(i, j) for i in range(len(w)) for j in np.flatnonzero(is_open) if d[i, j] <= t_max]
    if not pairs:
        return 0.0
    c = -np.ones(len(pairs))
    a_ub, b_ub = [], []
    for i in range(len(w)):
        a_ub.append([1.0 if p[0] == i else 0.0 for p in pairs])
        b_ub.append(w[i])
    for j in np.flatnonzero(is_open):
        if np.isfinite(cap[j]):
            a_ub.append([1.0 if p[1] == j else 0.0 for p in pairs])
            b_ub.append(cap[j])
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=(0, None), method="highs")
    return float(-res.fun)


# ------------------------------------------------------------------ enumeration tests
@pytest.mark.parametrize("model", ["mclp", "p_median", "p_center", "lscp"])
@pytest.mark.parametrize(
    ("seed", "phases", "gamma", "n_fixed"),
    [(1, PHASES_COUNT, 1.0, 0), (2, PHASES_BUDGET, 2.0, 0), (3, PHASES_COUNT, 3.0, 1)],
)
def test_rollout_equals_enumeration_over_opening_orders(model, seed, phases, gamma, n_fixed):
    data = make_instance(seed, n_fixed=n_fixed)
    scenario = scenario_for(model, phases, gamma=gamma)
    res = rollout.solve_rollout(data, scenario)
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert res.status == "optimal"
    # same smallest shortfall, then the same model objective
    assert res.extras["shortfall"] == pytest.approx(best["shortfall"], abs=1e-6)
    if model == "lscp":
        assert res.years_table["objective"].iloc[-1] == best["values"][-1]
    else:
        assert res.objective == pytest.approx(best["objective"], rel=1e-7, abs=1e-7)
    # sites stay open; yearly limits respected
    yt = res.years_table
    assert (yt["sites_open"].diff().dropna() >= 0).all()
    for ph in scenario.rollout.phases:
        if ph.new_sites is not None:
            assert yt.loc[ph.year, "new_sites"] <= ph.new_sites
        if ph.budget is not None:
            assert yt.loc[ph.year, "spend"] <= ph.budget + 1e-9
    assert (res.sites.loc[res.sites["kind"] == "existing", "opening_year"].isna()).all()
    assert yt["sites_open"].iloc[0] >= n_fixed


@pytest.mark.parametrize(("model", "seed"), [("p_median", 27), ("p_center", 27), ("p_center", 29)])
def test_lazy_distance_levels_still_equal_enumeration(model, seed, monkeypatch):
    # instances where the warm start's distance levels are too short at first; the MIP path
    # (the exact paths would prove these before any MIP round)
    monkeypatch.setattr(rollout_stages, "EXACT_MODELS", frozenset())
    data = make_instance(seed, n=9, m=6)
    scenario = scenario_for(model, PHASES_COUNT, gamma=2.0)
    res = rollout.solve_rollout(data, scenario, suggest=False)
    assert res.extras["lazy_rounds"] > 1
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert res.status == "optimal"
    assert res.extras["shortfall"] == pytest.approx(best["shortfall"], abs=1e-6)
    assert res.objective == pytest.approx(best["objective"], rel=1e-7)


@pytest.mark.parametrize("model", ["mclp", "p_median", "p_center", "lscp"])
def test_cbc_gives_the_same_answer(model):
    data = make_instance(27, n=9, m=6)
    scenario = scenario_for(model, PHASES_COUNT, gamma=2.0, solver="cbc")
    res = rollout.solve_rollout(data, scenario, suggest=False)
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert res.solver == "cbc"
    assert res.extras["shortfall"] == pytest.approx(best["shortfall"], abs=1e-6)
    if model == "lscp":
        assert res.years_table["objective"].iloc[-1] == best["values"][-1]
    else:
        assert res.objective == pytest.approx(best["objective"], rel=1e-7)


def test_capacitated_mclp_equals_enumeration():
    data = make_instance(4, capacity=45.0)
    scenario = scenario_for("mclp", PHASES_COUNT, gamma=2.0, constraints={"capacitated": True})
    res = rollout.solve_rollout(data, scenario)
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert res.extras["shortfall"] == pytest.approx(best["shortfall"], abs=1e-6)
    assert res.objective == pytest.approx(best["objective"], rel=1e-7)
    # patients within reach never exceed the open capacity
    cap_open = 45.0 * res.years_table["sites_open"]
    assert (res.years_table["patients_within"] <= cap_open + 1e-6).all()


def test_early_year_weight_opens_the_most_valuable_site_first():
    # one site serves most patients alone; a pair of others is better together later
    demand = pd.DataFrame(
        {"weight": [50.0, 30.0, 30.0], "county": ["C1", "C2", "C3"]},
        index=["a", "b", "c"],
    )
    sites = pd.DataFrame(
        {"fixed": [False] * 3, "county": ["C1", "C2", "C3"]}, index=["S1", "S2", "S3"]
    )
    travel = pd.DataFrame(
        [("a", "S1", 5.0), ("b", "S2", 5.0), ("c", "S3", 5.0), ("a", "S2", 20.0)],
        columns=["demand_id", "site_id", "travel_min"],
    )
    data = ModelInput(travel=travel, demand=demand, sites=sites)
    phases = [{"year": 2023, "new_sites": 1}, {"year": 2024, "new_sites": 2}]
    res = rollout.solve_rollout(data, scenario_for("mclp", phases, n_facilities=3))
    assert res.sites.loc["S2", "opening_year"] == 2023  # covers a and b: 80 patients
    assert res.years_table.loc[2023, "objective"] == 80.0
    assert res.years_table.loc[2024, "objective"] == 110.0


# ------------------------------------------------------------------ one-shot optimum
@pytest.mark.parametrize("model", ["mclp", "p_median", "p_center", "lscp"])
def test_enough_budget_gives_the_one_shot_optimum_in_the_last_year(model):
    data = make_instance(7, n=10, m=6, density=1.0)
    budget = float(data.sites["cost"].sum())
    phases = [
        {"year": 2023, "budget": budget, "county_share_target": 0.2},
        {"year": 2024, "budget": budget, "patient_share_target": 0.3},
        {"year": 2025, "budget": budget},
    ]
    scenario = scenario_for(
        model,
        phases,
        gamma=1.5,
        n_facilities=None if model == "lscp" else 3,
        max_travel_min=45.0 if model == "lscp" else 25.0,
    )
    res = rollout.solve_rollout(data, scenario)
    one_shot = models.solve(data, scenario)
    assert one_shot.is_optimal
    last = res.years_table["objective"].iloc[-1]
    assert last == pytest.approx(one_shot.objective, rel=1e-7)
    assert res.all_met


def test_tight_yearly_limits_never_beat_the_one_shot_optimum():
    data = make_instance(8, n=10, m=6, density=1.0)
    phases = [
        {"year": 2023, "new_sites": 1},
        {"year": 2024, "new_sites": 1},
        {"year": 2025, "new_sites": 1},
    ]
    scenario = scenario_for("p_median", phases, gamma=4.0, n_facilities=3)
    res = rollout.solve_rollout(data, scenario)
    one_shot = models.solve(data, scenario)
    assert res.years_table["objective"].iloc[-1] >= one_shot.objective - 1e-7
    assert list(res.years_table["sites_open"]) == [1, 2, 3]


# ------------------------------------------------------------------ milestones
def five_county_instance(costs=(1.0, 1.0, 1.0, 1.0, 1.0)) -> ModelInput:
    """One site per county, each serving only its county's patients."""
    counties = list(COUNTY_NAMES)
    weights = [100.0, 80.0, 60.0, 40.0, 20.0]
    demand = pd.DataFrame(
        {"weight": weights, "county": counties, "county_name": [COUNTY_NAMES[c] for c in counties]},
        index=[f"d{c}" for c in counties],
    )
    sites = pd.DataFrame(
        {"fixed": False, "cost": list(costs), "county": counties},
        index=[f"S{c}" for c in counties],
    )
    travel = pd.DataFrame(
        [(f"d{c}", f"S{c}", 10.0) for c in counties],
        columns=["demand_id", "site_id", "travel_min"],
    )
    return ModelInput(travel=travel, demand=demand, sites=sites)


def test_met_milestones_are_reported_with_their_figures():
    phases = [
        {"year": 2023, "new_sites": 3, "county_share_target": 0.5, "patient_share_target": 0.3}
    ]
    res = rollout.solve_rollout(
        five_county_instance(), scenario_for("mclp", phases, n_facilities=5)
    )
    assert res.all_met
    ms = res.milestones.set_index("measure")
    assert ms.loc["counties", "achieved"] == pytest.approx(0.6)
    assert ms.loc["patients", "achieved"] == pytest.approx(240 / 300)
    assert res.messages == [
        "2023: counties with a site 60 % ≥ 50 % target (3 of 5): met",
        "2023: patients within reach 80 % ≥ 30 % target (within 25 min): met",
    ]


def test_missed_county_milestone_names_the_extra_site_and_where():
    phases = [
        {"year": 2023, "new_sites": 2, "county_share_target": 0.5, "patient_share_target": 0.3},
        {"year": 2024, "new_sites": 2, "county_share_target": 0.8, "patient_share_target": 0.6},
    ]
    res = rollout.solve_rollout(
        five_county_instance(), scenario_for("mclp", phases, n_facilities=5)
    )
    ms = res.milestones.set_index(["year", "measure"])
    row = ms.loc[(2023, "counties")]
    assert not row["met"]
    assert row["extra_sites"] == 1
    # the two largest counties open first; the extra site goes to a county without one
    assert set(res.open_sites(2023)) == {"SC1", "SC2"}
    assert row["where"] in {"荔城区", "秀屿区", "仙游县"}
    msg = res.messages[0]
    assert re.fullmatch(
        r"2023: counties with a site 40 % < 50 % target \(2 of 5\): open 1 more site in 2023 "
        r"\(e\.g\. in (荔城区|秀屿区|仙游县)\)",
        msg,
    ), msg
    assert ms.loc[(2023, "patients"), "met"]
    assert ms.loc[(2024, "counties"), "met"]
    assert res.messages[1].endswith("met")


def test_missed_patient_milestone_with_a_budget_names_the_extra_budget():
    # budget 2 buys the cheap small counties only; 60 % of patients needs C1 (cost 5)
    data = five_county_instance(costs=(5.0, 4.0, 1.0, 1.0, 1.0))
    phases = [{"year": 2023, "budget": 2.0, "patient_share_target": 0.6}]
    res = rollout.solve_rollout(
        data, scenario_for("mclp", phases, n_facilities=None, constraints={"budget": 100.0})
    )
    row = res.milestones.iloc[0]
    assert not row["met"]
    assert row["achieved"] == pytest.approx(100 / 300)  # C3 + C4 (60 + 40)
    # cheapest way to 180 patients: C2 + C3 + C4 (80 + 60 + 40) for 4 + 1 + 1 = 6
    assert row["extra_budget"] == pytest.approx(4.0)
    assert pd.isna(row["extra_sites"])
    assert "add 4 to the 2023 budget" in res.messages[0]
    assert res.messages[0].startswith("2023: patients within reach 33.3 % < 60 % target")


def test_unreachable_county_milestone_says_where_candidates_are_missing():
    data = five_county_instance()
    data = ModelInput(
        travel=data.travel[data.travel["site_id"] != "SC5"],
        demand=data.demand,
        sites=data.sites.drop(index="SC5"),
    )
    phases = [{"year": 2025, "new_sites": 5, "county_share_target": 1.0}]
    res = rollout.solve_rollout(data, scenario_for("mclp", phases, n_facilities=5))
    row = res.milestones.iloc[0]
    assert not row["met"]
    assert pd.isna(row["extra_sites"])
    assert "add candidates in 仙游县" in res.messages[0]


def test_existing_sites_count_from_the_start():
    data = five_county_instance()
    sites = data.sites.copy()
    sites.loc["SC5", "fixed"] = True
    data = ModelInput(travel=data.travel, demand=data.demand, sites=sites)
    phases = [{"year": 2023, "new_sites": 0, "county_share_target": 0.2}]
    res = rollout.solve_rollout(data, scenario_for("mclp", phases, n_facilities=5))
    assert res.open_sites(2023) == ("SC5",)
    assert res.all_met
    assert res.sites.loc["SC5", "kind"] == "existing"


def test_errors_name_the_problem():
    data = five_county_instance()
    sites = data.sites.assign(fixed=[True, True, True, False, False])
    with pytest.raises(ScenarioError, match="n_facilities=2 caps"):
        rollout.solve_rollout(
            ModelInput(travel=data.travel, demand=data.demand, sites=sites),
            scenario_for("mclp", PHASES_COUNT, n_facilities=2),
        )
    no_county = ModelInput(travel=data.travel, demand=data.demand[["weight"]], sites=data.sites)
    with pytest.raises(DataError, match="County milestones need"):
        rollout.solve_rollout(no_county, scenario_for("mclp", PHASES_COUNT))
    res = rollout.solve_rollout(data, scenario_for("mclp", PHASES_COUNT))
    with pytest.raises(ScenarioError, match="not a rollout phase"):
        res.open_sites(2030)


def test_limits_that_limit_nothing_are_warned_about():
    data = five_county_instance(costs=(0.0,) * 5)
    with pytest.warns(UserWarning, match="limits nothing because every candidate's opening"):
        rollout.solve_rollout(data, scenario_for("mclp", [{"year": 2023, "budget": 3.0}]))
    free = Scenario(
        model="mclp",
        n_facilities=None,
        constraints={"budget": 1.0},
        rollout={"phases": [{"year": 2023}]},
    )
    res = rollout.solve_rollout(data, free)  # capped by the total budget: no warning
    assert res.years_table.loc[2023, "new_sites"] == 5


# ------------------------------------------------------------------ Putian end to end
@pytest.fixture(scope="module")
def putian():
    from planning import pipeline  # noqa: PLC0415

    scenario = Scenario(cell_size_m=5000)
    inputs = pipeline.prepare(scenario)
    return inputs, pipeline.rollout(inputs)


def test_putian_policy_defaults_end_to_end(putian):
    inputs, res = putian
    assert res.years == (2023, 2024, 2025)
    assert res.status == "optimal"
    yt = res.years_table
    assert list(yt["new_sites"]) == [2, 2, 2]  # the default phases: 2 new sites a year
    assert list(yt["sites_open"]) == [2, 4, 6]
    assert list(yt["county_target"]) == [0.5, 0.65, 0.8]
    assert list(yt["patient_target"]) == [0.3, 0.45, 0.6]
    assert yt["n_counties"].iloc[0] == 5
    assert (yt["patient_share"].diff().dropna() >= 0).all()
    final = res.open_sites(2025)
    assert len(final) == 6
    # two sites in 2023 can reach at most 2 of 5 counties: the 50 % milestone is short by one
    row = res.milestones.set_index(["year", "measure"]).loc[(2023, "counties")]
    assert not row["met"]
    assert row["extra_sites"] == 1
    assert re.match(
        r"2023: counties with a site 40 % < 50 % target \(2 of 5\): open 1 more site in 2023 "
        r"\(e\.g\. in (城厢区|涵江区|荔城区|秀屿区|仙游县)\)",
        res.messages[0],
    )
    patients = res.milestones[res.milestones["measure"] == "patients"]
    assert patients["met"].all()
    # share of patients within 30 min of the 2025 sites, recomputed from the travel table
    table = inputs.travel.table
    near = table[table["site_id"].isin(final)].groupby("demand_id")["travel_min"].min()
    weights = inputs.demand["weight"]
    share = weights.loc[near.index[near <= 30]].sum() / weights.sum()
    assert yt.loc[2025, "patient_share"] == pytest.approx(share)
    # the one-shot MCLP with 6 sites covers at least as many as the phased plan's last year
    one_shot = models.solve(inputs.model_input(), inputs.scenario.replace(n_facilities=6))
    assert one_shot.objective >= yt.loc[2025, "objective"] - 1e-6
    assert yt.loc[2025, "objective"] == pytest.approx(yt.loc[2025, "patients_within"])


def test_putian_exports(putian, tmp_path):
    import geopandas as gpd  # noqa: PLC0415
    import openpyxl  # noqa: PLC0415

    from planning.report import rollout as rollout_export  # noqa: PLC0415

    inputs, res = putian
    paths = rollout_export.export_rollout(
        res,
        tmp_path,
        sites=inputs.sites,
        counties=inputs.counties,
        travel_label=inputs.travel.label,
    )
    names = {p.name for p in paths}
    assert {
        "rollout.xlsx",
        "rollout.gpkg",
        "rollout_years.csv",
        "rollout_milestones.csv",
        "rollout_sites.csv",
        "rollout_counties.csv",
        "scenario.json",
    } <= names
    assert Scenario.load(tmp_path / "scenario.json") == res.scenario
    wb = openpyxl.load_workbook(tmp_path / "rollout.xlsx", read_only=True)
    assert {"summary", "milestones", "2023", "2024", "2025", "counties"} <= set(wb.sheetnames)
    sheet_2024 = pd.read_excel(tmp_path / "rollout.xlsx", sheet_name="2024", nrows=4)
    assert len(sheet_2024) == 4
    assert sheet_2024["new_this_year"].sum() == 2
    sites = gpd.read_file(tmp_path / "rollout.gpkg", layer="sites")
    assert sorted(sites["opening_year"].tolist()) == [2023, 2023, 2024, 2024, 2025, 2025]
    assert sites.crs.to_epsg() == 4326
    assert (sites["travel_mode"] == "estimated (straight-line)").all()
    counties = gpd.read_file(tmp_path / "rollout.gpkg", layer="counties")
    assert len(counties) == 5
    assert counties["first_year_with_site"].notna().sum() == 4


def test_export_suppresses_small_patient_counts():
    from planning.report import rollout as rollout_export  # noqa: PLC0415

    data = five_county_instance()
    demand = data.demand.assign(weight=[100.0, 80.0, 60.0, 40.0, 3.0])
    data = ModelInput(travel=data.travel, demand=demand, sites=data.sites)
    phases = [{"year": 2023, "new_sites": 5, "patient_share_target": 0.3}]
    res = rollout.solve_rollout(data, scenario_for("mclp", phases, n_facilities=5))
    tables = rollout_export.rollout_tables(res)
    cty = tables["counties"].set_index("county_id")
    assert cty.loc["C5", "patients"] == "<5"
    assert cty.loc["C5", "patients_within"] == "<5"
    assert cty.loc["C1", "patients"] == "100"
    assert tables["years"].loc[2023, "patients_within"] == "283"
    # 283 less the other four counties would give C5's 3 back: the smallest of them, C4 (40),
    # is shown as a bound (283 - 240 shown - 5), its total and its within-reach count alike
    assert cty.loc["C4", "patients"] == cty.loc["C4", "patients_within"] == "≥38"
    assert np.isnan(cty.loc["C4", "share_within"])
    shown = [int(cty.loc[c, "patients"]) for c in ("C1", "C2", "C3")]
    assert 283 - sum(shown) == 43  # C4 + C5 together: neither on its own
    assert tables["2023"]["new_this_year"].all()


def test_rollout_map_colours_sites_by_opening_year(putian):
    from planning.report import rollout as rollout_export  # noqa: PLC0415
    from planning.report.maps import map_html  # noqa: PLC0415

    inputs, res = putian
    colours = rollout_export.year_colours(res.years)
    html_2023 = map_html(
        rollout_export.build_rollout_map(
            res,
            sites=inputs.sites,
            counties=inputs.counties,
            year=2023,
            basemap="none",
            lang="en",
            travel_label=inputs.travel.label,
        )
    )
    assert "opens 2023" in html_2023
    assert "opens later" in html_2023
    assert "Generated candidate G" in html_2023  # generated candidates named in English
    assert "生成候选点" not in html_2023
    assert colours[2023] in html_2023
    html_last = map_html(
        rollout_export.build_rollout_map(
            res, sites=inputs.sites, counties=inputs.counties, basemap="none", lang="zh"
        )
    )
    assert "2025年开设" in html_last
    assert "生成候选点 G" in html_last
    assert "以后开设" not in html_last
    # the layer switch refers to each layer: it must come after all of them, else Leaflet
    # throws "reading 'setZIndex'" in the browser and the map stays blank
    for page in (html_2023, html_last):
        groups = re.findall(r"var (feature_group_\w+) = L\.featureGroup", page)
        assert len(groups) >= 3  # counties, counties by year, sites (+ boundaries, labels)
        switch = page.index("L.control.layers(")
        for name in groups:
            assert page.index(f"var {name} = L.featureGroup") < switch, name
    with pytest.raises(ScenarioError, match="not a rollout phase"):
        rollout_export.build_rollout_map(
            res, sites=inputs.sites, counties=inputs.counties, year=2031
        )


def test_cli_rollout_writes_files_and_prints_the_table(tmp_path, capsys):
    from planning.cli import main  # noqa: PLC0415

    scenario_file = Scenario(cell_size_m=5000).save(tmp_path / "scenario.json")
    out = tmp_path / "out"
    assert main(["rollout", str(scenario_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"^2023\s+2\s+2\s+0\s+40 %\s+50 %\s+SHORT", text, re.MULTILINE), text
    assert re.search(r"^2025\s+2\s+6\s+.*met\s*$", text, re.MULTILINE), text
    assert "open 1 more site in 2023" in text
    assert (out / "rollout.xlsx").exists()
    assert (out / "rollout.gpkg").exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"rollout": {"phases": [{"year": 2024}, {"year": 2023}]}}', encoding="utf-8")
    assert main(["rollout", str(bad), "--out", str(out)]) == 2
    assert "strictly increasing years" in capsys.readouterr().err


def test_rollout_page_plans_and_shows_the_year_table():
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    at = AppTest.from_string("from ui.rollout_page import render\nrender()", default_timeout=120)
    at.session_state["scenario"] = Scenario(cell_size_m=5000).to_dict()
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    at.button(key="ro_run").click().run()
    assert not at.exception
    assert any("open 1 more site in 2023" in w.value for w in at.warning)
    table = at.dataframe[1].value
    assert list(table.index) == [2023, 2024, 2025]
    at.select_slider(key="ro_year").set_value(2024).run()
    assert not at.exception
    assert len(at.dataframe[2].value) == 2  # the two sites opening in 2024


def test_rollout_page_speaks_the_chosen_language():
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    at = AppTest.from_string("from ui.rollout_page import render\nrender()", default_timeout=120)
    at.session_state["scenario"] = Scenario(cell_size_m=5000).to_dict()
    at.session_state["lang"] = "zh"
    at.run()
    at.button(key="ro_run").click().run()
    assert not at.exception
    lines = [m.value for m in [*at.warning, *at.success]]
    short = "2023：有站点的区县 40 % < 目标 50 %（2/5 个）：2023 年再开设 1 个站点（例如在"
    assert lines[0].startswith(short), lines[0]
    assert any("分钟内可达的患者" in line and line.endswith("：达标") for line in lines)
    assert not [line for line in lines if "target" in line or "met" in line], lines
    status = next(c.value for c in at.caption if "求解状态" in c.value)
    assert "最大覆盖" in status or "MCLP" in status
    assert "optimal" not in status and " mclp" not in status, status
    at.session_state["lang"] = "en"
    at.run()
    lines = [m.value for m in [*at.warning, *at.success]]
    assert any("open 1 more site in 2023" in line for line in lines), lines
    status = next(c.value for c in at.caption if "chosen on the scenario page" in c.value)
    assert "Model mclp" not in status, status


def hidden_share_instance() -> ModelInput:
    """C5: 13 patients, 3 of them within reach of SC5; C1: 100 patients near SC1 (cost 5)."""
    demand = pd.DataFrame(
        {
            "weight": [100.0, 3.0, 10.0],
            "county": ["C1", "C5", "C5"],
            "county_name": [COUNTY_NAMES["C1"], COUNTY_NAMES["C5"], COUNTY_NAMES["C5"]],
        },
        index=["dC1", "dC5a", "dC5b"],
    )
    sites = pd.DataFrame(
        {"fixed": False, "cost": [5.0, 1.0], "county": ["C1", "C5"]}, index=["SC1", "SC5"]
    )
    travel = pd.DataFrame(
        [("dC1", "SC1", 10.0), ("dC5a", "SC5", 10.0), ("dC5b", "SC5", 40.0)],
        columns=["demand_id", "site_id", "travel_min"],
    )
    return ModelInput(travel=travel, demand=demand, sites=sites)


def test_export_leaves_out_shares_that_would_reveal_a_hidden_count(tmp_path):
    """2023 opens SC5 only: 3 of 113 patients within reach ('<5'); 3 / 113 would give it back.

    C5 keeps 13 patients with 3 within reach in both years (13 x 0.23 = 3).
    """
    import geopandas as gpd  # noqa: PLC0415
    import openpyxl  # noqa: PLC0415
    from shapely.geometry import Point, box  # noqa: PLC0415

    from planning.report import rollout as rollout_export  # noqa: PLC0415

    phases = [
        {"year": 2023, "budget": 1.0, "patient_share_target": 0.3},
        {"year": 2024, "budget": 5.0, "patient_share_target": 0.6},
    ]
    scenario = scenario_for("mclp", phases, n_facilities=None, constraints={"budget": 100.0})
    res = rollout.solve_rollout(hidden_share_instance(), scenario)
    assert res.open_sites(2023) == ("SC5",)
    assert res.open_sites(2024) == ("SC1", "SC5")
    yt = res.years_table
    assert yt.loc[2023, "patients_within"] == 3 and yt.loc[2024, "patients_within"] == 103
    # the library's lines: no share and no shortfall for 2023, as both give 3 of 113 back
    ms = res.milestones.set_index("year")
    assert bool(ms.loc[2023, "share_hidden"]) and not bool(ms.loc[2024, "share_hidden"])
    line_2023 = res.messages[0]
    assert line_2023.startswith("2023: patients within reach < 30 % target (within 25 min; ")
    assert "fewer than 5 patients, share not shown" in line_2023
    assert "2.7" not in line_2023 and "short by" not in line_2023
    assert res.messages[1].startswith("2024: patients within reach 91.2 % ≥ 60 % target")
    text = rollout.format_rollout(res)
    row_2023 = next(ln for ln in text.splitlines() if ln.startswith("2023 "))
    assert "—" in row_2023 and "2.7" not in row_2023
    assert "91.2 %" in next(ln for ln in text.splitlines() if ln.startswith("2024 "))

    sites = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[Point(119.0, 25.4), Point(119.1, 25.5)], crs="EPSG:4326"
    ).set_axis(pd.Index(["SC1", "SC5"], name="site_id"))
    counties = gpd.GeoDataFrame(
        {"name": [COUNTY_NAMES["C1"], COUNTY_NAMES["C5"]]},
        geometry=[box(118.9, 25.3, 119.05, 25.45), box(119.05, 25.45, 119.2, 25.6)],
        crs="EPSG:4326",
    ).set_axis(pd.Index(["C1", "C5"], name="county_id"))
    rollout_export.export_rollout(res, tmp_path, sites=sites, counties=counties)

    counts = {"patients": str, "patients_within": str, "patients_total": str, "objective": str}
    years = pd.read_csv(
        tmp_path / "rollout_years.csv", encoding="utf-8-sig", index_col="year", dtype=counts
    )
    assert years.loc[2023, "patients_within"] == "<5"
    assert years.loc[2023, "patients_total"] == "113"
    assert np.isnan(years.loc[2023, "patient_share"])
    assert years.loc[2024, "patient_share"] == pytest.approx(103 / 113)
    assert years.loc[2023, "objective"] == "<5"  # MCLP: the objective is the patients covered
    assert years.loc[2024, "objective"] == "103"
    miles = pd.read_csv(tmp_path / "rollout_milestones.csv", encoding="utf-8-sig", dtype=counts)
    miles = miles.set_index("year")
    assert miles.loc[2023, "count"] == "<5"
    assert np.isnan(miles.loc[2023, "achieved"]) and np.isnan(miles.loc[2023, "shortfall"])
    assert miles.loc[2024, "achieved"] == pytest.approx(103 / 113)
    assert "share_hidden" not in miles.columns
    cty = pd.read_csv(tmp_path / "rollout_counties.csv", encoding="utf-8-sig", dtype=counts)
    cty = cty.set_index(["year", "county_id"])
    for year in (2023, 2024):
        assert cty.loc[(year, "C5"), "patients"] == "13"
        assert cty.loc[(year, "C5"), "patients_within"] == "<5"
        assert np.isnan(cty.loc[(year, "C5"), "share_within"])  # 13 x 0.23 = 3
    assert cty.loc[(2023, "C1"), "share_within"] == 0  # nothing hidden: shown
    # 2024: the region's 103 within reach less C1's 100 would give C5's 3 back: C1's count is
    # a bound and its share (1) left out; 2023: nothing within reach in C1, nothing to hide
    assert cty.loc[(2024, "C1"), "patients_within"] == "≥98"
    assert np.isnan(cty.loc[(2024, "C1"), "share_within"])
    assert cty.loc[(2024, "C1"), "patients"] == "100"
    assert years.loc[2024, "patients_within"] == "103"

    wb = openpyxl.load_workbook(tmp_path / "rollout.xlsx")
    head = [c.value for c in wb["summary"][1]]
    summary = {
        r[0]: dict(zip(head, r, strict=True))
        for r in wb["summary"].iter_rows(min_row=2, values_only=True)
    }
    assert summary[2023]["patients_within"] == "<5" and summary[2023]["patient_share"] is None
    assert summary[2023]["objective"] == "<5"
    assert summary[2024]["patient_share"] == pytest.approx(103 / 113)
    for year in ("2023", "2024"):  # the county block under each year's site list
        rows = list(wb[year].iter_rows(values_only=True))
        start = next(i for i, r in enumerate(rows) if r[0] == f"Counties in {year}")
        cols = list(rows[start + 1])
        c5 = next(r for r in rows[start + 2 :] if r[cols.index("county_id")] == "C5")
        assert c5[cols.index("patients_within")] == "<5"
        assert c5[cols.index("share_within")] is None
    mhead = [c.value for c in wb["milestones"][1]]
    m2023 = dict(
        zip(mhead, next(wb["milestones"].iter_rows(min_row=2, values_only=True)), strict=True)
    )
    assert m2023["year"] == 2023 and m2023["achieved"] is None and m2023["shortfall"] is None
    assert "2.7" not in m2023["message"]

    layer = gpd.read_file(tmp_path / "rollout.gpkg", layer="counties").set_index("county_id")
    assert np.isnan(layer.loc["C5", "share_within_2023"])
    assert np.isnan(layer.loc["C5", "share_within_2024"])
    assert np.isnan(layer.loc["C1", "share_within_2024"])  # as in the CSV above


def test_rollout_page_leaves_out_a_revealing_share():
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    phases = [
        {"year": 2023, "budget": 1.0, "patient_share_target": 0.3},
        {"year": 2024, "budget": 5.0, "patient_share_target": 0.6},
    ]
    scenario = scenario_for(
        "mclp", phases, n_facilities=None, constraints={"budget": 100.0}, cell_size_m=5000
    )
    res = rollout.solve_rollout(hidden_share_instance(), scenario)
    at = AppTest.from_string("from ui.rollout_page import render\nrender()", default_timeout=120)
    at.session_state["scenario"] = scenario.to_dict()
    at.session_state["ro_result"] = res
    for lang, column, hidden_note in (
        ("en", "Patients served", "share not shown"),
        ("zh", "患者覆盖率", "比例不显示"),
    ):
        at.session_state["lang"] = lang
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        table = at.dataframe[1].value
        assert table.loc[2023, column] == "—"
        assert table.loc[2024, column] == "91.2 %"
        line = at.warning[0].value
        assert line.startswith("2023") and hidden_note in line
        assert "2.7" not in line
