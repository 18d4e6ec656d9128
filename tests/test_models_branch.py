"""Lagrangian branch-and-bound for the p-median (planning.models._branch) against enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from planning.models._branch import SCALE_POWER, branch_and_bound, step_metric
from planning.models._heuristic import p_median_value
from planning.models._mip import proven_optimal


def _instance(
    seed: int, n: int = 14, m: int = 9, *, integral: bool, spread: bool = False
) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    xy_d, xy_s = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (m, 2))
    d = np.sqrt(((xy_d[:, None] - xy_s[None]) ** 2).sum(axis=2))
    w = rng.integers(0, 5, n).astype(float)  # some clients weigh nothing
    if spread:  # weights over four orders of magnitude: the subgradient's metric matters
        w *= 10.0 ** rng.integers(0, 5, n)
    if integral:
        d = np.round(d)
    else:
        w = w + rng.uniform(0, 1, n)
    d[rng.uniform(size=d.shape) < 0.15] = np.inf  # pairs that do not exist
    d[np.arange(n), rng.integers(0, m, n)] = 1.0  # every client keeps one pair
    return d, w


def _optimum(d, w, p, fixed, openable):
    best = np.inf
    free = [j for j in range(d.shape[1]) if openable[j] and not fixed[j]]
    for combo in itertools.combinations(free, p - int(fixed.sum())):
        plan = fixed.copy()
        plan[list(combo)] = True
        best = min(best, p_median_value(d, w, plan))
    return best


def _worst_plan(d, w, p, fixed, openable):
    """A deliberately poor feasible incumbent, so the search has to improve on it."""
    worst, worst_plan = -np.inf, None
    free = [j for j in range(d.shape[1]) if openable[j] and not fixed[j]]
    for combo in itertools.combinations(free, p - int(fixed.sum())):
        plan = fixed.copy()
        plan[list(combo)] = True
        val = p_median_value(d, w, plan)
        if np.isfinite(val) and val > worst:
            worst, worst_plan = val, plan
    return worst_plan


@pytest.mark.parametrize("spread", [False, True])
@pytest.mark.parametrize("integral", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_branch_and_bound_equals_enumeration(seed, integral, spread):
    d, w = _instance(seed, integral=integral, spread=spread)
    m = d.shape[1]
    p = 2 + seed % 3
    fixed = np.zeros(m, dtype=bool)
    openable = np.ones(m, dtype=bool)
    if seed % 4 == 1:
        fixed[0] = True  # an existing site
    if seed % 4 == 2:
        openable[1] = False  # a site that may not open
    start = _worst_plan(d, w, p, fixed, openable)
    assert start is not None
    res = branch_and_bound(
        d, w, p, fixed=fixed, openable=openable, plan=start,
        lam=np.zeros(len(w)), integral=integral, time_limit_s=60,
    )  # fmt: skip
    best = _optimum(d, w, p, fixed, openable)
    assert res.finished
    assert res.value == pytest.approx(best, rel=1e-6)
    assert p_median_value(d, w, res.plan) == pytest.approx(res.value)
    assert int(res.plan.sum()) == p
    assert res.plan[fixed].all()
    assert not res.plan[~openable].any()
    assert res.bound <= best + 1e-9
    # a finished search is a proof by the same rule the solver paths use
    assert proven_optimal(res.value, res.bound, integral=integral)


def test_branch_and_bound_with_a_gap_reports_an_honest_bound():
    d, w = _instance(3, n=16, m=10, integral=False)
    p = 3
    fixed, openable = np.zeros(10, dtype=bool), np.ones(10, dtype=bool)
    start = _worst_plan(d, w, p, fixed, openable)
    res = branch_and_bound(
        d, w, p, fixed=fixed, openable=openable, plan=start,
        lam=np.zeros(len(w)), integral=False, time_limit_s=60, rel_gap=0.2,
    )  # fmt: skip
    best = _optimum(d, w, p, fixed, openable)
    assert res.finished
    assert res.bound <= best + 1e-9
    assert best <= res.value + 1e-9
    assert res.value - res.bound <= 0.2 * res.value + 1e-9


def test_branch_and_bound_out_of_time_keeps_a_valid_bound():
    d, w = _instance(5, n=14, m=9, integral=True)
    p = 3
    fixed, openable = np.zeros(9, dtype=bool), np.ones(9, dtype=bool)
    start = _worst_plan(d, w, p, fixed, openable)
    res = branch_and_bound(
        d, w, p, fixed=fixed, openable=openable, plan=start,
        lam=np.zeros(len(w)), integral=True, time_limit_s=0.0,
    )  # fmt: skip
    best = _optimum(d, w, p, fixed, openable)
    assert not res.finished
    assert res.nodes == 0
    assert res.bound <= best
    assert res.value == p_median_value(d, w, start)


def test_step_metric_scales_by_weight_and_leaves_equal_weights_alone():
    assert step_metric(np.full(5, 3.0)) is None  # OR-Library: the plain steps
    assert step_metric(np.zeros(0)) is None
    w = np.array([1.0, 10.0, 100.0])
    got = step_metric(w)
    assert got is not None
    assert got == pytest.approx((w / w.mean()) ** SCALE_POWER)
    assert np.all(np.diff(got) > 0)  # a heavier point's multiplier takes larger steps
