"""Rollout speed-ups (issue #16) checked against enumeration and an independent HiGHS solve.

The nested search (:mod:`planning.models._nested`) against every opening plan, also at tiny
time limits (its bound stays valid); the shortfall bounds that let stage 1 skip its MIP; the
rollout with the nested search against the same rollout solved by the MIP alone.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from planning.models import _stages as rollout_stages
from planning.models import rollout as rollout_model
from planning.models._nested import NestedProblem, nested_plan, opening_periods, solve_nested
from planning.models._periods import setup, shortfall_lower_bound, shortfall_of
from planning.models.options import RolloutOptions
from planning.results import rollout
from tests.test_rollout import PHASES_COUNT, brute_force, make_instance, scenario_for


def random_problem(seed: int, *, kind: str, n: int = 10, k: int = 6) -> NestedProblem:
    """A small nested facility location: p-median minutes or MCLP 0/inf costs."""
    rng = np.random.default_rng(seed)
    w = rng.integers(1, 30, n).astype(float)
    d = rng.uniform(1.0, 60.0, (n, k))
    d[rng.random((n, k)) < 0.3] = np.inf
    if kind == "mclp":
        cost = np.where(d <= 25.0, 0.0, np.inf)
        fallback = w.copy()
    else:
        cost = w[:, None] * d
        fallback = w * 120.0
    slots = tuple(int(v) for v in rng.integers(1, 3, 3))
    weights = np.array([rng.choice([1.0, 2.0]) ** (2 - t) for t in range(3)])
    return NestedProblem(cost=cost, fallback=fallback, weights=weights, slots=slots)


def every_plan(prob: NestedProblem) -> list[np.ndarray]:
    """Every opening-period vector within the slots (``T`` = never)."""
    n_t, k = prob.n_periods, prob.cost.shape[1]
    out = []
    for o in itertools.product(range(n_t + 1), repeat=k):
        arr = np.array(o, dtype=np.int64)
        counts = np.bincount(arr, minlength=n_t + 1)[:n_t]
        if (counts <= np.array(prob.slots)).all():
            out.append(arr)
    return out


def accept_rule(seed: int):
    """A side constraint the relaxation does not see: a candidate pair not open together."""
    rng = np.random.default_rng(seed + 100)
    a, b = rng.choice(6, 2, replace=False)
    return lambda o: not (o[a] < len(o) and o[b] < len(o) and o[a] == o[b])


@pytest.mark.parametrize("kind", ["p_median", "mclp"])
@pytest.mark.parametrize("seed", range(6))
def test_nested_search_equals_enumeration(kind, seed):
    prob = random_problem(seed, kind=kind)
    accept = accept_rule(seed)
    plans = [o for o in every_plan(prob) if accept(o)]
    best = min(prob.value(o) for o in plans)
    start = max(plans, key=prob.value)  # the worst accepted plan as the first incumbent
    res = solve_nested(prob, start=start, accept=accept, margin=1e-9, time_limit_s=30)
    assert res.finished
    assert accept(res.o)
    assert res.value == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert res.bound <= best + 1e-6
    assert prob.value(res.o) == pytest.approx(res.value)


@pytest.mark.parametrize("limit", [0.0, 0.001, 0.01, 0.05])
@pytest.mark.parametrize("seed", range(4))
def test_nested_search_bound_is_valid_at_any_limit(limit, seed):
    prob = random_problem(seed, kind="p_median", n=14, k=7)
    plans = every_plan(prob)
    best = min(prob.value(o) for o in plans)
    start = max(plans, key=prob.value)
    res = solve_nested(prob, start=start, accept=lambda _o: True, margin=1e-9, time_limit_s=limit)
    assert res.bound <= best + 1e-6 * max(1.0, best)
    assert res.value >= best - 1e-6
    assert res.value == pytest.approx(prob.value(res.o))


def test_opening_periods_round_trip():
    y = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 1]], dtype=bool)
    o = opening_periods(y)
    assert o.tolist() == [0, 1, 3, 2]
    assert (nested_plan(o, 3) == y).all()


@pytest.mark.parametrize("model", ["mclp", "lscp", "p_median"])
@pytest.mark.parametrize("seed", [1, 4])
def test_shortfall_lower_bound_never_exceeds_the_smallest_shortfall(model, seed):
    data = make_instance(seed, m=5)
    scenario = scenario_for(model, PHASES_COUNT)
    s = setup(data, RolloutOptions.from_scenario(scenario), None)
    smallest = min(
        shortfall_of(s, nested_plan(np.array(o, dtype=np.int64), s.n_periods))
        for o in itertools.product(range(s.n_periods + 1), repeat=s.nc)
        if (np.bincount(o, minlength=s.n_periods + 1)[: s.n_periods] <= [1, 1, 2]).all()
        and sum(v < s.n_periods for v in o) <= (s.cap_total_sites or s.nc)
    )
    assert shortfall_lower_bound(s) <= smallest + 1e-12


@pytest.mark.parametrize("model", ["mclp", "p_median", "p_center", "lscp"])
@pytest.mark.parametrize("seed", [5, 6, 8, 11])
def test_rollout_equals_enumeration_and_the_mip_alone(model, seed, monkeypatch):
    data = make_instance(seed, n=12, m=6)
    scenario = scenario_for(model, PHASES_COUNT, gamma=2.0)
    res = rollout.solve_rollout(data, scenario, suggest=False)
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert res.status == "optimal"
    assert res.extras["shortfall"] == pytest.approx(best["shortfall"], abs=1e-6)
    monkeypatch.setattr(rollout_stages, "EXACT_MODELS", frozenset())
    monkeypatch.setattr(rollout_stages, "MAX_ORDERINGS", 0)
    alone = rollout.solve_rollout(data, scenario, suggest=False)
    assert alone.status == "optimal"
    assert res.extras["shortfall"] == pytest.approx(alone.extras["shortfall"], abs=1e-6)
    if model == "lscp":
        assert res.years_table["objective"].iloc[-1] == best["values"][-1]
        assert res.objective == pytest.approx(alone.objective, rel=1e-7)
    else:
        assert res.objective == pytest.approx(best["objective"], rel=1e-7)
        assert res.objective == pytest.approx(alone.objective, rel=1e-7)


def test_unproven_shortfall_stage_is_never_called_optimal(monkeypatch):
    data = make_instance(3, n=12, m=6)
    scenario = scenario_for("lscp", PHASES_COUNT)
    real = rollout_model.run_stage

    def stage_one_unproven(mip, opts, what, **kw):
        res = real(mip, opts, what, **kw)
        if what.key == "rollout.stage_shortfall" and res.status == "optimal":
            return dataclasses.replace(res, status="feasible")
        return res

    monkeypatch.setattr(rollout_model, "run_stage", stage_one_unproven)
    monkeypatch.setattr(rollout_stages, "MAX_ORDERINGS", 0)
    monkeypatch.setattr(rollout_model, "greedy", lambda _s: None)
    res = rollout.solve_rollout(data, scenario, suggest=False)
    assert res.status == "feasible"
    assert res.gap is None


@pytest.mark.parametrize("model", ["mclp", "p_median", "p_center"])
@pytest.mark.parametrize("seed", [5, 8])
def test_rollout_at_tiny_time_limits_stays_honest(model, seed):
    data = make_instance(seed, n=12, m=6)
    rng = np.random.default_rng(seed)
    exact = None
    for limit in [0.01, *rng.uniform(0.01, 0.3, 2).tolist()]:
        scenario = scenario_for(model, PHASES_COUNT, gamma=2.0, time_limit_s=float(limit))
        res = rollout.solve_rollout(data, scenario, suggest=False)
        if exact is None:
            exact = brute_force(data, scenario, res.extras["unserved_penalty_min"])
        if not res.extras["shortfall_proven"] or res.gap is None:
            assert res.status != "optimal"
            continue
        opt = exact["objective"]
        if res.extras["shortfall"] > exact["shortfall"] + 1e-6:
            assert res.status != "optimal"
            continue
        sign = 1.0 if model == "mclp" else -1.0
        bound = res.objective * (1.0 + sign * res.gap)
        if model == "mclp":
            assert res.objective <= opt + 1e-6 * max(1.0, opt)
            assert bound >= opt - 1e-6 * max(1.0, opt)
        else:
            assert res.objective >= opt - 1e-6 * max(1.0, opt)
            assert bound <= opt + 1e-6 * max(1.0, opt)
        if res.status == "optimal":
            assert res.objective == pytest.approx(opt, rel=1e-6)


# sparse instances where only the last year can reach every patient: the radius search runs
CENTER_LAST_YEAR = [(0.3, 1), (0.3, 5), (0.3, 8), (0.4, 4), (0.4, 8), (0.4, 11)]


@pytest.mark.parametrize(("density", "seed"), CENTER_LAST_YEAR)
def test_center_radius_search_equals_enumeration(density, seed, monkeypatch):
    data = make_instance(seed, n=12, m=8, density=density)
    scenario = scenario_for("p_center", PHASES_COUNT, gamma=2.0)
    searched: list[str] = []
    checks: list[bool | None] = []
    search, check = rollout_stages._radius_search, rollout_model._check

    def spy_search(*args, **kw):
        out = search(*args, **kw)
        searched.append("none" if out is None else out[1])
        return out

    def spy_check(*args, **kw):
        out = check(*args, **kw)
        checks.append(out[0])
        return out

    monkeypatch.setattr(rollout_stages, "_radius_search", spy_search)
    monkeypatch.setattr(rollout_model, "_check", spy_check)
    res = rollout.solve_rollout(data, scenario, suggest=False)
    best = brute_force(data, scenario, res.extras["unserved_penalty_min"])
    assert searched == ["optimal"]
    assert res.status == "optimal"
    assert res.extras["shortfall"] == pytest.approx(best["shortfall"], abs=1e-6)
    assert res.objective == pytest.approx(best["objective"], rel=1e-9)
    assert None not in checks


def test_center_radius_search_runs_checks_both_ways(monkeypatch):
    seen: set[bool | None] = set()
    check = rollout_model._check

    def spy_check(*args, **kw):
        out = check(*args, **kw)
        seen.add(out[0])
        return out

    monkeypatch.setattr(rollout_model, "_check", spy_check)
    monkeypatch.setattr(rollout_stages, "COVER_PROBES", False)  # the MIP checks decide
    for density, seed in CENTER_LAST_YEAR:
        data = make_instance(seed, n=12, m=8, density=density)
        rollout.solve_rollout(data, scenario_for("p_center", PHASES_COUNT), suggest=False)
    assert seen >= {True, False}


@pytest.mark.parametrize(("density", "seed"), CENTER_LAST_YEAR[:3])
def test_center_radius_search_at_tiny_limits_stays_honest(density, seed):
    data = make_instance(seed, n=12, m=8, density=density)
    exact = None
    for limit in (0.01, 0.05, 0.2):
        scenario = scenario_for("p_center", PHASES_COUNT, gamma=2.0, time_limit_s=limit)
        res = rollout.solve_rollout(data, scenario, suggest=False)
        if exact is None:
            exact = brute_force(data, scenario, res.extras["unserved_penalty_min"])
        opt = exact["objective"]
        if not res.extras["shortfall_proven"] or res.gap is None:
            assert res.status != "optimal"
            continue
        if res.extras["shortfall"] > exact["shortfall"] + 1e-6:
            assert res.status != "optimal"
            continue
        assert res.objective >= opt - 1e-6 * opt
        assert res.objective * (1.0 - res.gap) <= opt + 1e-6 * opt
        if res.status == "optimal":
            assert res.objective == pytest.approx(opt, rel=1e-6)
