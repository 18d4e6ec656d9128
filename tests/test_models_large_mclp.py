"""The MCLP's province-scale path (:mod:`planning.models._cover_large`, issue 16).

Small random sparse instances, checked against the optimum found by trying every plan: the
reductions are exact, the plan keeps ``p``, existing and closed sites, the bound is only ever
a valid bound (also at tiny limits and at LP multipliers from PDLP or the interior point), and
``optimal`` only with a proof. Through :func:`planning.models.solve` the large path is forced
by setting the dense-size threshold to 0.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp

from planning.models import ModelInput, ModelOptions, _heuristic, mclp, solve
from planning.models import _cover_large as cl


def _random_cover(
    rng: np.random.Generator, n: int, m: int, density: float
) -> tuple[sp.csr_matrix, np.ndarray]:
    a = (rng.random((n, m)) < density).astype(float)
    a[rng.random(n) < 0.1] = 0.0  # some demand out of reach
    w = rng.integers(0, 9, size=n).astype(float)
    return sp.csr_matrix(a), w


def _brute(
    a: sp.csr_matrix, w: np.ndarray, p: int, fixed: np.ndarray, openable: np.ndarray
) -> float:
    dense = a.toarray() > 0
    free = np.flatnonzero(openable & ~fixed)
    k = max(0, min(p - int(fixed.sum()), free.size))
    best = -math.inf
    for extra in itertools.combinations(free.tolist(), k):
        plan = fixed.copy()
        plan[list(extra)] = True
        best = max(best, float(w[dense[:, plan].any(axis=1)].sum()))
    return best


def _masks(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    fixed = rng.random(m) < 0.1
    openable = (rng.random(m) < 0.85) | fixed
    return fixed, openable


@pytest.mark.parametrize("seed", range(12))
def test_reductions_keep_every_plan_value_and_the_optimum(seed: int) -> None:
    rng = np.random.default_rng(900 + seed)
    n, m = int(rng.integers(15, 40)), int(rng.integers(6, 11))
    a, w = _random_cover(rng, n, m, float(rng.uniform(0.1, 0.4)))
    fixed, openable = _masks(rng, m)
    p = int(fixed.sum()) + int(rng.integers(1, 4))
    inst = cl.reduce_cover(a, w, p, fixed=fixed, openable=openable)
    dense = a.toarray() > 0
    # every plan of kept sites has the same value in the reduced and the raw instance
    for _ in range(20):
        size = min(inst.k, inst.cols.size)
        sel = np.sort(rng.choice(inst.cols.size, size=size, replace=False)).astype(np.int64)
        plan = fixed.copy()
        plan[inst.cols[sel]] = True
        raw = float(w[dense[:, plan].any(axis=1)].sum())
        assert inst.value(sel) == pytest.approx(raw)
    # and the reduced optimum is the raw optimum
    best = -math.inf
    for sel_t in itertools.combinations(range(inst.cols.size), min(inst.k, inst.cols.size)):
        best = max(best, inst.value(np.array(sel_t, dtype=np.int64)))
    assert best == pytest.approx(_brute(a, w, p, fixed, openable))


@pytest.mark.parametrize("seed", range(16))
def test_the_large_path_is_exact_on_small_instances(seed: int) -> None:
    rng = np.random.default_rng(1200 + seed)
    n, m = int(rng.integers(20, 60)), int(rng.integers(8, 14))
    a, w = _random_cover(rng, n, m, float(rng.uniform(0.05, 0.35)))
    fixed, openable = _masks(rng, m)
    p = int(fixed.sum()) + int(rng.integers(1, 5))
    opt = _brute(a, w, p, fixed, openable)
    got = cl.solve_cover_large(
        a, w, p, fixed=fixed, openable=openable, time_limit_s=10.0, integral_weights=True
    )
    assert (got.plan & fixed).sum() == fixed.sum()
    assert not (got.plan & ~openable).any()
    assert got.plan.sum() == min(p, int(openable.sum()))
    assert got.value == pytest.approx(float(w[(a @ got.plan.astype(float)) > 0.5].sum()))
    assert got.value <= opt + 1e-9
    assert got.bound >= opt - 1e-9
    # a small residual: reduced-cost fixing + the exact MIP prove the optimum
    assert got.bound == pytest.approx(got.value)
    assert got.value == pytest.approx(opt)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("solver", ["pdlp", "ipm"])
def test_lp_multipliers_give_a_valid_bound_near_the_lp(seed: int, solver: str) -> None:
    rng = np.random.default_rng(2100 + seed)
    n, m = int(rng.integers(40, 80)), int(rng.integers(10, 14))
    a, w = _random_cover(rng, n, m, float(rng.uniform(0.05, 0.25)))
    fixed = np.zeros(m, dtype=bool)
    openable = np.ones(m, dtype=bool)
    p = int(rng.integers(2, 5))
    opt = _brute(a, w, p, fixed, openable)
    inst = cl.reduce_cover(a, w, p, fixed=fixed, openable=openable)
    if inst.a.shape[0] == 0:
        return
    with mock.patch.object(cl, "PDLP_MIN_NNZ", -1 if solver == "pdlp" else 10**9):
        mus = cl.lp_multipliers(inst, 5.0)
    assert mus
    lp = _lp_bound(inst)
    best = min(cl.lagrangian_bound(inst, mu)[0] for mu in mus)
    assert best >= opt - 1e-6  # U(mu) bounds every plan, whatever mu
    assert best >= lp - 1e-6 * max(1.0, lp)  # and never beats the LP (its minimum)
    assert best <= lp + 1e-2 * max(1.0, lp)  # at LP duals it is (nearly) the LP bound


@pytest.mark.parametrize("seed", range(8))
def test_smoothed_multipliers_approach_the_lp_and_stay_a_bound(seed: int) -> None:
    rng = np.random.default_rng(2200 + seed)
    n, m = int(rng.integers(60, 120)), int(rng.integers(10, 16))
    a, w = _random_cover(rng, n, m, float(rng.uniform(0.05, 0.25)))
    fixed = np.zeros(m, dtype=bool)
    openable = np.ones(m, dtype=bool)
    p = int(rng.integers(2, 5))
    opt = _brute(a, w, p, fixed, openable)
    inst = cl.reduce_cover(a, w, p, fixed=fixed, openable=openable)
    if inst.a.shape[0] == 0:
        return
    lp = _lp_bound(inst)
    start = rng.uniform(0.0, 1.0, inst.w.size) * inst.w  # anywhere in the box
    mu = cl.smoothed_multipliers(inst, start, time.perf_counter() + 10.0)
    assert mu.shape == inst.w.shape
    assert (mu >= 0).all() and (mu <= inst.w + 1e-12).all()
    got = cl.lagrangian_bound(inst, mu)[0]
    assert got >= opt - 1e-6  # a bound on every plan
    assert got >= lp - 1e-6 * max(1.0, lp)  # never below the LP, its minimum
    assert got <= cl.lagrangian_bound(inst, start)[0] + 1e-9  # never worse than its start
    assert got <= lp + 1e-3 * max(1.0, lp)  # and close to the LP bound


def _lp_bound(inst: cl.CoverInstance) -> float:
    """The LP relaxation of the reduced instance by HiGHS's simplex (independent check)."""
    import highspy  # noqa: PLC0415

    cost, rows, lo, up = cl._cover_model(inst.a, inst.c, inst.w, inst.k)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)  # noqa: FBT003
    cl._pass(
        h,
        cost=cost,
        rows=rows,
        lo=lo,
        up=up,
        integer=np.zeros(cost.size, dtype=np.int64),
        offset=inst.const,
    )
    h.run()
    return float(h.getInfo().objective_function_value)


@pytest.mark.parametrize("seed", range(10))
def test_the_bound_is_valid_at_tiny_limits(seed: int) -> None:
    rng = np.random.default_rng(3300 + seed)
    n, m = int(rng.integers(20, 60)), int(rng.integers(8, 13))
    a, w = _random_cover(rng, n, m, float(rng.uniform(0.05, 0.35)))
    fixed, openable = _masks(rng, m)
    p = int(fixed.sum()) + int(rng.integers(1, 4))
    opt = _brute(a, w, p, fixed, openable)
    limit = float(math.exp(rng.uniform(math.log(0.001), math.log(0.3))))
    with mock.patch.object(cl, "LP_MIN_NNZ", 0), mock.patch.object(cl, "PDLP_MIN_NNZ", -1):
        t0 = time.perf_counter()
        got = cl.solve_cover_large(a, w, p, fixed=fixed, openable=openable, time_limit_s=limit)
        took = time.perf_counter() - t0
    assert took <= 1.1 * limit + 1.0
    assert got.plan.sum() == min(p, int(openable.sum()))
    assert got.value <= opt + 1e-9
    assert got.bound >= opt - 1e-9


def _model_input(rng: np.random.Generator, n: int, m: int) -> tuple[ModelInput, float, int]:
    import pandas as pd  # noqa: PLC0415

    sites = [f"s{j}" for j in range(m)]
    rows = [
        (f"d{i}", sites[j], float(rng.integers(1, 41)))
        for i in range(n)
        for j in range(m)
        if rng.random() < 0.5
    ]
    travel = pd.DataFrame(rows, columns=["demand_id", "site_id", "travel_min"])
    weight = rng.integers(0, 7, size=n).astype(float)
    demand = pd.DataFrame({"weight": weight}, index=pd.Index([f"d{i}" for i in range(n)]))
    demand.index.name = "demand_id"
    fixed = np.zeros(m, dtype=bool)
    fixed[0] = bool(rng.random() < 0.5)
    sites_df = pd.DataFrame({"fixed": fixed}, index=pd.Index(sites, name="site_id"))
    p = int(fixed.sum()) + int(rng.integers(1, 4))
    a = np.zeros((n, m))
    for d, s, t in rows:
        if t <= 15.0:
            a[int(d[1:]), int(s[1:])] = 1.0
    opt = _brute(sp.csr_matrix(a), weight, p, fixed, np.ones(m, dtype=bool))
    return ModelInput(travel=travel, demand=demand, sites=sites_df), opt, p


@pytest.mark.parametrize("seed", range(10))
def test_solve_takes_the_large_path_and_stays_honest(seed: int) -> None:
    rng = np.random.default_rng(4400 + seed)
    data, opt, p = _model_input(rng, int(rng.integers(20, 50)), int(rng.integers(8, 13)))
    limit = float(math.exp(rng.uniform(math.log(0.01), math.log(3.0))))
    opts = ModelOptions(kind="mclp", p=p, max_travel_min=15.0, time_limit_s=limit)
    with (
        mock.patch.object(_heuristic, "MAX_DENSE_CELLS", 0),
        mock.patch.object(mclp, "MAX_DENSE_CELLS", 0),
        mock.patch.object(mclp, "solve_plain", side_effect=AssertionError("MIP on all pairs")),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", UserWarning)
        t0 = time.perf_counter()
        sol = solve(data, opts)
        took = time.perf_counter() - t0
    assert took <= 1.1 * limit + 1.0
    assert "large_path" in sol.extras
    assert len(sol.selected_sites) == p
    assert sol.objective <= opt + 1e-6
    assert sol.bound is not None
    assert sol.bound >= opt - 1e-6
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(opt)
