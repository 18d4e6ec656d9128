"""Rollout speed-ups of issue #16 (evening) checked against brute force.

p-center: the cover search against every set of sites, the row reduction, the least
shortfall over the orders of a last-year set against the model's own figures, a probe
against every nested plan, and the rollout with its probes against enumeration and the MIP
checks. p-median: the year-by-year start (a plan within the cap, never below the optimum)
and the rollout that starts from it against enumeration.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from planning.models import _covers
from planning.models import _stages as rollout_stages
from planning.models._covers import CoverProbe, enumerate_covers, reduce_rows
from planning.models._periods import setup, shortfall_of, true_values
from planning.models._stages import orderings
from planning.models._yearly import milestone_bound, yearly_start
from planning.models.options import RolloutOptions
from planning.results import rollout
from tests.test_rollout import PHASES_COUNT, brute_force, make_instance, scenario_for
from tests.test_rollout_nested import CENTER_LAST_YEAR


def random_rows(seed: int, *, n_rows: int = 9, n_cand: int = 8, density: float = 0.3):
    rng = np.random.default_rng(seed)
    rows = rng.random((n_rows, n_cand)) < density
    rows[np.arange(n_rows), rng.integers(0, n_cand, n_rows)] = True  # every row has one
    return rows


def k_covers(rows: np.ndarray, k: int) -> set[tuple[int, ...]]:
    """Every set of exactly ``k`` candidates meeting every row."""
    n_cand = rows.shape[1]
    return {
        c for c in itertools.combinations(range(n_cand), k) if rows[:, list(c)].any(axis=1).all()
    }


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_cover_search_finds_every_cover(seed, k):
    rows = random_rows(seed)
    leaves = enumerate_covers(rows, k, deadline=float("inf"))
    assert leaves is not None
    assert len(set(leaves)) == len(leaves)  # no set twice
    for leaf in leaves:  # every leaf is a cover within k sites
        assert len(leaf) <= k
        assert rows[:, list(leaf)].any(axis=1).all()
    for cover in k_covers(rows, k):  # every k-set cover contains a leaf
        assert any(set(leaf) <= set(cover) for leaf in leaves)


@pytest.mark.parametrize("seed", range(12))
def test_row_reduction_keeps_the_covers(seed):
    rows = random_rows(seed, n_rows=12, density=0.4)
    reduced = reduce_rows(rows)
    assert reduced.shape[0] <= rows.shape[0]
    for k in (1, 2, 3):
        assert k_covers(reduced, k) == k_covers(rows, k)


def center_setup(density: float, seed: int):
    data = make_instance(seed, n=12, m=8, density=density)
    scenario = scenario_for("p_center", PHASES_COUNT, gamma=2.0)
    return data, setup(data, RolloutOptions.from_scenario(scenario), None)


def every_plan(s):
    """Every nested plan opening its full number of sites each year."""
    k = min(sum(int(ph.new_sites or 0) for ph in s.periods), s.nc)
    slots = [int(ph.new_sites or 0) for ph in s.periods]
    for last in itertools.combinations(range(s.nc), k):
        yield from orderings(np.array(last, dtype=np.int64), slots, s.nc, limit=10**6)


@pytest.mark.parametrize(("density", "seed"), CENTER_LAST_YEAR)
def test_least_shortfall_equals_the_best_order(density, seed):
    _, s = center_setup(density, seed)
    probe = CoverProbe.of(s, 1.0)
    assert probe is not None
    slots = [int(ph.new_sites or 0) for ph in s.periods]
    k = probe.sizes[-1]
    lasts = list(itertools.combinations(range(s.nc), k))[:40]
    many = probe.least_shortfalls(np.array(lasts, dtype=np.int64))
    for last, batch in zip(lasts, many, strict=True):
        best = min(
            shortfall_of(s, y)
            for y in orderings(np.array(last, dtype=np.int64), slots, s.nc, limit=10**6)
        )
        short, chain = probe.least_shortfall(last)
        assert short == pytest.approx(best, abs=1e-12)
        assert batch == pytest.approx(best, abs=1e-12)
        y = np.zeros((s.n_periods, s.nc), dtype=bool)
        for t, sites in enumerate(chain):
            y[t, list(sites)] = True
        assert shortfall_of(s, y) == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize(("density", "seed"), CENTER_LAST_YEAR)
def test_probe_equals_every_nested_plan(density, seed):
    _, s = center_setup(density, seed)
    plans = [(shortfall_of(s, y), true_values(s, y)[-1], y) for y in every_plan(s)]
    least_short = min(p[0] for p in plans)
    for cap in (least_short + 1e-7, least_short + 0.25):
        probe = CoverProbe.of(s, cap)
        radii = sorted({p[1] for p in plans})
        for r in [*radii[:: max(1, len(radii) // 6)], radii[0] - 1e-3, radii[-1]]:
            within = [p for p in plans if p[0] <= cap and p[1] <= r + 1e-9]
            found, y, r_found = probe.probe(r, float("inf"))
            assert found is not None
            if not within:
                assert found is False
                continue
            assert found is True
            assert r_found == pytest.approx(min(p[1] for p in within), abs=1e-9)
            assert shortfall_of(s, y) <= cap
            assert true_values(s, y)[-1] == pytest.approx(r_found, abs=1e-12)


def test_probe_out_of_time_decides_nothing():
    _, s = center_setup(*CENTER_LAST_YEAR[0])
    probe = CoverProbe.of(s, 1.0)
    assert probe.probe(1e6, deadline=0.0)[0] is None  # deadline passed: nothing decided


@pytest.mark.parametrize(("density", "seed"), CENTER_LAST_YEAR)
@pytest.mark.parametrize("probes", [True, False])
def test_center_rollout_with_and_without_probes_equals_enumeration(
    density, seed, probes, monkeypatch
):
    data = make_instance(seed, n=12, m=8, density=density)
    scenario = scenario_for("p_center", PHASES_COUNT, gamma=2.0)
    calls: list[bool | None] = []
    original = CoverProbe.probe

    def spy(self, r, deadline):
        out = original(self, r, deadline)
        calls.append(out[0])
        return out

    monkeypatch.setattr(rollout_stages, "COVER_PROBES", probes)
    monkeypatch.setattr(CoverProbe, "probe", spy)
    res = rollout.solve_rollout(data, scenario, suggest=False)
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert res.status == "optimal"
    assert res.extras["shortfall"] == pytest.approx(best["shortfall"], abs=1e-6)
    assert res.objective == pytest.approx(best["objective"], rel=1e-9)
    if probes:
        assert calls and None not in calls
    else:
        assert not calls


@pytest.mark.parametrize(("density", "seed"), CENTER_LAST_YEAR[:3])
def test_center_rollout_when_probes_give_up_stays_exact(density, seed, monkeypatch):
    # the probes run out of covers at once: the MIP checks take over from where they stopped
    data = make_instance(seed, n=12, m=8, density=density)
    scenario = scenario_for("p_center", PHASES_COUNT, gamma=2.0)
    monkeypatch.setattr(_covers, "MAX_COVERS", 0)
    res = rollout.solve_rollout(data, scenario, suggest=False)
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best["objective"], rel=1e-9)


# ------------------------------------------------------------------ p-median: year-by-year start
PHASES_PAIRS = [
    {"year": 2023, "new_sites": 2, "county_share_target": 0.4, "patient_share_target": 0.3},
    {"year": 2024, "new_sites": 1, "county_share_target": 0.6, "patient_share_target": 0.45},
    {"year": 2025, "new_sites": 3, "county_share_target": 0.8, "patient_share_target": 0.6},
]


@pytest.mark.parametrize("phases", [PHASES_COUNT, PHASES_PAIRS])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_yearly_start_is_a_plan_within_the_cap_never_below_the_optimum(seed, phases):
    data = make_instance(seed, n=10, m=7)
    scenario = scenario_for("p_median", phases, n_facilities=7)
    s = setup(data, RolloutOptions.from_scenario(scenario), None)
    best = brute_force(data, scenario, s.unserved_penalty_min)
    for cap in (best["shortfall"] * (1 + 1e-6) + 1e-7, 1.0):
        y = yearly_start(s, cap, deadline=float("inf"))
        if y is None:
            continue
        assert (y[:-1] <= y[1:]).all()  # sites stay open
        for t, ph in enumerate(s.periods):
            opened = int(y[t].sum()) - (int(y[t - 1].sum()) if t else 0)
            assert opened <= ph.new_sites
        assert shortfall_of(s, y) <= cap
        value = float(np.dot(s.weights, true_values(s, y)))
        if cap < 1.0:
            assert value >= best["objective"] - 1e-6 * best["objective"]


def test_yearly_start_out_of_time_gives_nothing():
    data = make_instance(1, n=10, m=7)
    s = setup(data, RolloutOptions.from_scenario(scenario_for("p_median", PHASES_PAIRS)), None)
    assert yearly_start(s, 1.0, deadline=0.0) is None


PHASES_SMALL = [
    {"year": 2023, "new_sites": 2, "county_share_target": 0.4, "patient_share_target": 0.35},
    {"year": 2024, "new_sites": 1, "county_share_target": 0.6, "patient_share_target": 0.5},
    {"year": 2025, "new_sites": 2, "county_share_target": 0.8, "patient_share_target": 0.7},
]


@pytest.mark.parametrize("phases", [PHASES_COUNT, PHASES_PAIRS, PHASES_SMALL])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_milestone_bound_never_exceeds_the_optimum(seed, phases, gamma):
    data = make_instance(seed, n=10, m=7)
    scenario = scenario_for("p_median", phases, gamma=gamma, n_facilities=7)
    s = setup(data, RolloutOptions.from_scenario(scenario), None)
    best = brute_force(data, scenario, s.unserved_penalty_min)
    opt = best["objective"]
    cap = best["shortfall"] * (1 + 1e-6) + 1e-7
    exact = all(ph["new_sites"] <= 2 for ph in phases)
    for upper in (opt, 1.5 * opt, 10 * opt):
        for deadline in (float("inf"), 0.0):
            got = milestone_bound(s, cap, upper=upper, deadline=deadline)
            assert got is not None
            bound, plan = got
            assert bound <= opt + 1e-9 * opt
            if plan is not None:  # a plan of its search: within the cap, below the upper end
                assert (plan[:-1] <= plan[1:]).all()
                assert shortfall_of(s, plan) <= cap
                value = float(np.dot(s.weights, true_values(s, plan)))
                assert opt - 1e-9 * opt <= value < upper
            if exact and upper == opt and deadline == float("inf"):
                # every year enumerated: the search reaches the optimum itself
                assert bound == pytest.approx(opt, rel=1e-6)


@pytest.mark.parametrize("phases", [PHASES_PAIRS, PHASES_SMALL])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_median_rollout_with_the_yearly_start_and_milestone_bound_equals_enumeration(seed, phases):
    data = make_instance(seed, n=10, m=7)
    scenario = scenario_for("p_median", phases, n_facilities=7)
    res = rollout.solve_rollout(data, scenario, suggest=False)
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert res.status == "optimal"
    assert res.extras["shortfall"] == pytest.approx(best["shortfall"], abs=1e-6)
    assert res.objective == pytest.approx(best["objective"], rel=1e-7)
