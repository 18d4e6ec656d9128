"""The robust plan (planning/models/robust.py) against enumeration and by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import DataError, ScenarioError
from planning.models import ModelOptions, solve, solve_robust
from tests._model_fixtures import make_input

Travel = dict[tuple[str, str], float]


def covered(travel: Travel, weights: dict[str, float], chosen: set[str], limit: float) -> float:
    return sum(
        w for d, w in weights.items() if any(travel.get((d, s), 1e9) <= limit for s in chosen)
    )


def enumerate_robust(
    cases: list[tuple[Travel, dict[str, float]]], sites: list[str], p: int, measure: str
) -> tuple[float, float]:
    """(worst case, mean over cases) of the lexicographically best plan, by enumeration."""
    plans = [set(c) for c in itertools.combinations(sites, p)]
    values = [[covered(t, w, plan, 30.0) for t, w in cases] for plan in plans]
    if measure == "regret":
        norm = [max(v[s] for v in values) for s in range(len(cases))]
    else:
        norm = [sum(w.values()) for _, w in cases]
    scored = [
        (
            min(v[s] / norm[s] for s in range(len(cases))),
            np.mean([v[s] / norm[s] for s in range(len(cases))]),
        )
        for v in values
    ]
    top = max(x for x, _ in scored)
    return top, max(m for x, m in scored if x >= top - 1e-9)


def test_by_hand_the_plan_that_holds_when_roads_are_slow() -> None:
    # two cases over sites s0, s1 (p = 1), patients a 6, b 5, c 7 (c has no road in case 1).
    # In case 1, s0 covers a and b (11, its optimum) and s1 covers b (5); in case 2, s0
    # covers a (6) and s1 covers b and c (12, its optimum).
    # worst covered / optimum: s0 min(11/11, 6/12) = 0.5; s1 min(5/11, 12/12) = 0.45 -> s0.
    sites = ["s0", "s1"]
    fast = {("a", "s0"): 10.0, ("b", "s0"): 20.0, ("b", "s1"): 10.0}
    slow = {("a", "s0"): 20.0, ("b", "s0"): 40.0, ("b", "s1"): 20.0, ("c", "s1"): 25.0}
    w_fast = {"a": 6.0, "b": 5.0, "c": 7.0}
    fast_in = make_input(fast, w_fast, sites)
    slow_in = make_input(slow, w_fast, sites)
    opts = ModelOptions(p=1, max_travel_min=30.0)
    sol = solve_robust([fast_in, slow_in], opts, measure="regret")
    assert sol.selected_sites == ("s0",)
    assert sol.status == "optimal"
    assert sol.worst == pytest.approx(6 / 12)
    assert list(sol.cases["optimum"]) == pytest.approx([11.0, 12.0])
    assert list(sol.cases["covered"]) == pytest.approx([11.0, 6.0])
    assert list(sol.cases["regret"]) == pytest.approx([0.0, 0.5])
    # judged by the worst share instead: s0 gives 6/18 when slow, s1 gives 5/18 fast
    by_share = solve_robust([fast_in, slow_in], opts, measure="coverage")
    assert by_share.selected_sites == ("s0",)
    assert by_share.worst == pytest.approx(6 / 18)
    # each case's optimum is its own MCLP
    assert solve(slow_in, opts).objective == pytest.approx(12.0)


def test_cases_must_share_their_sites_and_rules_not_offered() -> None:
    a = make_input({("d", "s0"): 5.0}, {"d": 1.0}, ["s0", "s1"])
    b = make_input({("d", "s0"): 5.0}, {"d": 1.0}, ["s0", "s2"])
    with pytest.raises(DataError, match="do not share their candidate sites"):
        solve_robust([a, b], ModelOptions(p=1))
    with pytest.raises(ScenarioError, match="does not take site capacities"):
        solve_robust([a], ModelOptions(p=1, county_target=0.5))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    n_cases=st.integers(min_value=1, max_value=3),
    p=st.integers(min_value=1, max_value=3),
    measure=st.sampled_from(["regret", "coverage"]),
)
def test_matches_enumeration(seed: int, n_cases: int, p: int, measure: str) -> None:
    rng = np.random.default_rng(seed)
    demand = [f"d{i}" for i in range(7)]
    sites = [f"s{j}" for j in range(5)]
    base = {(d, s): float(rng.integers(1, 60)) for d in demand for s in sites if rng.random() < 0.7}
    weights = {d: float(rng.integers(1, 9)) for d in demand}
    cases = []
    for _ in range(n_cases):
        factor = float(rng.choice([0.8, 1.0, 1.25]))
        scale = float(rng.choice([0.9, 1.0, 1.2]))
        travel = {k: v / factor for k, v in base.items()}
        cases.append(
            (travel, {d: w * scale * float(rng.integers(1, 3)) for d, w in weights.items()})
        )
    inputs = [make_input(t, w, sites) for t, w in cases]
    sol = solve_robust(inputs, ModelOptions(p=p, max_travel_min=30.0), measure=measure)  # type: ignore[arg-type]
    worst, mean = enumerate_robust(cases, sites, p, measure)
    assert sol.status == "optimal"
    assert sol.worst == pytest.approx(worst, abs=1e-6)
    norm = sol.cases["optimum"] if measure == "regret" else sol.cases["patients"]
    got = sol.cases["covered"] / norm
    assert got.min() == pytest.approx(worst, abs=1e-6)
    assert got.mean() == pytest.approx(mean, abs=1e-6)


def test_equivalent_cases_share_their_rows_and_keep_the_answer() -> None:
    # three cases: the second is the first with every patient x 1.4 (a uniform prevalence)
    travel = {("a", "s0"): 10.0, ("b", "s1"): 10.0, ("c", "s1"): 50.0, ("c", "s2"): 20.0}
    slow = {k: v * 1.3 for k, v in travel.items()}
    w = {"a": 4.0, "b": 3.0, "c": 5.0}
    sites = ["s0", "s1", "s2"]
    cases = [
        make_input(travel, w, sites),
        make_input(travel, {d: 1.4 * v for d, v in w.items()}, sites),
        make_input(slow, w, sites),
    ]
    for measure in ("regret", "coverage"):
        sol = solve_robust(cases, ModelOptions(p=2), measure=measure)  # type: ignore[arg-type]
        plain = [
            (t, wt)
            for t, wt in ((travel, w), (travel, {d: 1.4 * v for d, v in w.items()}), (slow, w))
        ]
        worst, mean = enumerate_robust(plain, sites, 2, measure)
        assert sol.worst == pytest.approx(worst)
        norm = sol.cases["optimum"] if measure == "regret" else sol.cases["patients"]
        assert (sol.cases["covered"] / norm).mean() == pytest.approx(mean)
