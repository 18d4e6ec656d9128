"""Published optima (OR-Library pmed1-5, spopt's San Francisco MCLP) and time-limited solves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _model_fixtures import SHARED, dense_input, read_pmed

from planning.models import ModelInput, solve
from planning.scenario import Scenario

BENCH = SHARED / "bench"
needs_bench = pytest.mark.skipif(
    not BENCH.exists(), reason=f"benchmark data not found at {BENCH} (../shared/bench)"
)


@needs_bench
@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5"])
def test_orlib_pmed_proven_optimal(name: str) -> None:
    optima = pd.read_csv(BENCH / "orlib-pmed" / "optimal.csv").set_index("instance")
    d, p = read_pmed(BENCH / "orlib-pmed" / f"{name}.txt")
    sol = solve(dense_input(d, np.ones(len(d))), Scenario(model="p_median", n_facilities=p))
    assert sol.status == "optimal"
    assert sol.gap == 0.0
    assert sol.objective == optima.loc[name, "optimal"]
    assert len(sol.selected_sites) == p


@needs_bench
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_spopt_san_francisco_mclp(solver: str) -> None:
    base = BENCH / "spopt-fixtures"
    long = pd.read_csv(
        base / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
        dtype={"DestinationName": str, "name": str},
    )
    tracts = pd.read_csv(base / "SF_demand_205_centroid_uniform_weight.csv", dtype={"NAME": str})
    travel = long.rename(
        columns={"DestinationName": "demand_id", "name": "site_id", "distance": "travel_min"}
    )[["demand_id", "site_id", "travel_min"]]
    demand = pd.DataFrame(
        {"weight": tracts["POP2000"].astype(float).to_numpy()},
        index=pd.Index(tracts["NAME"], name="demand_id"),
    )
    sites = pd.DataFrame(
        {"fixed": False}, index=pd.Index(sorted(travel["site_id"].unique()), name="site_id")
    )
    data = ModelInput(travel=travel, demand=demand, sites=sites)
    # "minutes" are metres here: radius 5000 m, 4 stores (spopt's own test)
    sol = solve(data, Scenario(model="mclp", n_facilities=4, max_travel_min=5000, solver=solver))
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(875247)
    assert sol.allocation["demand_id"].nunique() == 205 - 21  # 21 tracts uncovered


def hard_random_instance() -> ModelInput:
    rng = np.random.default_rng(7)
    d = rng.integers(1, 1000, size=(220, 220)).astype(float)  # non-metric: weak LP bound
    return dense_input(d, rng.integers(1, 20, size=220).astype(float))


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_time_limited_solve_is_not_called_optimal(solver: str) -> None:
    sol = solve(
        hard_random_instance(),
        Scenario(model="p_median", n_facilities=12, time_limit_s=1, solver=solver),
    )
    assert sol.status == "feasible"
    assert not sol.is_optimal
    assert sol.gap is not None
    assert sol.gap > 0
    assert sol.bound is not None
    assert sol.bound < sol.objective
    assert len(sol.selected_sites) == 12
