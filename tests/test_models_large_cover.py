"""Province-scale covering paths (LSCP, p-center), forced on small random instances.

The size threshold is patched to zero so the sparse path runs; every result is checked
against the optimum found by trying every plan: objective on the feasible side, bound on the
other, ``optimal`` only at the optimum, wall time within 10 % + 1 s of the limit.
"""

from __future__ import annotations

import itertools
import time
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from _model_fixtures import make_input
from test_models_limits import MAX_MIN, _check, _instance, _limit, _optimum, _run

from planning.models import ModelOptions, Solution, _heuristic, lscp, p_center
from planning.models._setcover import (
    ceil_bound,
    cover_bound,
    cover_rows,
    decide_cover,
    disjoint_rows,
    improve_cover,
    lagrangian_cover,
    reduce_dominated,
    remove_redundant,
    search_cover,
    weighted_greedy,
)


def _honest_in_time(sol: Solution | None, took: float, limit: float, expected: float) -> Solution:
    """Check a minimising run: within 10 % + 1 s of its limit, a plan, honest about it."""
    assert took <= 1.1 * limit + 1.0, f"{took:.2f} s for a {limit:.3f} s limit"
    assert sol is not None
    _check(sol, expected, maximise=False)
    return sol


def _min_cover(a: sp.csr_matrix) -> int:
    """Fewest columns of ``a`` meeting every row, by trying every plan."""
    dense = a.toarray() > 0
    for k in range(a.shape[1] + 1):
        for plan in itertools.combinations(range(a.shape[1]), k):
            if dense[:, list(plan)].any(axis=1).all():
                return k
    return a.shape[1] + 1  # never: every row has a site


def _random_cover(
    rng: np.random.Generator, n: int, m: int, density: tuple[float, float] = (0.1, 0.4)
) -> sp.csr_matrix:
    dense = rng.random((n, m)) < rng.uniform(*density)
    dense[np.arange(n), rng.integers(0, m, n)] = True  # every row has a site
    return sp.csr_matrix(dense.astype(np.float64))


@pytest.mark.parametrize("seed", range(12))
def test_cover_bound_is_valid_at_any_multipliers(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = _random_cover(rng, int(rng.integers(5, 30)), int(rng.integers(4, 11)))
    opt = _min_cover(a)
    for scale in (0.1, 0.5, 1.0, 3.0):
        u = rng.random(a.shape[0]) * scale - 0.1  # negative entries count as zero
        assert cover_bound(a, u) <= opt + 1e-9
    u, value = lagrangian_cover(a, time.perf_counter() + 0.5)
    assert value == pytest.approx(cover_bound(a, u))
    assert ceil_bound(value) <= opt
    plan = weighted_greedy(a, np.ones(a.shape[1], dtype=bool), row_weight=u)
    assert plan is not None
    assert (a @ plan.astype(float) > 0.5).all()
    assert plan.sum() >= opt
    # redundancy removal keeps a cover and never closes a kept site
    keep = np.zeros(a.shape[1], dtype=bool)
    keep[0] = True
    everything = remove_redundant(a, np.ones(a.shape[1], dtype=bool), keep)
    assert everything[0]
    assert (a @ everything.astype(float) > 0.5).all()


def _milp_cover(a: sp.csr_matrix) -> int:
    """Fewest columns of ``a`` meeting every row, by scipy's MILP (a solve independent of ours)."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # noqa: PLC0415

    m = a.shape[1]
    res = milp(
        np.ones(m),
        constraints=LinearConstraint(a.toarray(), lb=1.0, ub=np.inf),
        integrality=np.ones(m),
        bounds=Bounds(0.0, 1.0),
    )
    assert res.status == 0
    return round(res.fun)


@pytest.mark.parametrize("seed", range(8))
def test_improve_cover_keeps_a_cover_and_proves_only_the_optimum(seed: int) -> None:
    # regions of 3 sites on instances whose greedy plan has more: the neighbourhood search
    # proper, then (regions grown to the whole plan) the MIP on every row
    rng = np.random.default_rng(seed + 900)
    n, m = int(rng.integers(40, 100)), int(rng.integers(20, 36))
    a = _random_cover(rng, n, m, density=(0.04, 0.12))
    opt = _milp_cover(a)
    greedy = weighted_greedy(a, np.ones(m, dtype=bool))
    assert greedy is not None
    plan, bound = improve_cover(a, greedy, time.perf_counter() + 0.2, size=3, seed=seed)
    assert (a @ plan.astype(float) > 0.5).all()
    assert opt <= plan.sum() <= greedy.sum()
    assert bound <= opt
    # ample time: the regions grow to the whole plan and its MIP proves the optimum
    plan, bound = improve_cover(a, greedy, time.perf_counter() + 30.0, size=3, seed=seed)
    assert (a @ plan.astype(float) > 0.5).all()
    assert plan.sum() == opt
    assert bound == opt


@pytest.mark.parametrize("seed", range(10))
def test_search_cover_reaches_the_optimum_and_never_returns_a_worse_plan(seed: int) -> None:
    rng = np.random.default_rng(seed + 2100)
    n, m = int(rng.integers(40, 120)), int(rng.integers(20, 40))
    a = _random_cover(rng, n, m, density=(0.04, 0.12))
    opt = _milp_cover(a)
    # floor = the optimum: the search stops once it has a plan that small (300 seeds of this
    # kind: at most 17 ms; 10 s leaves room for the loop's first compile)
    plan = search_cover(a, np.ones(m, dtype=bool), time.perf_counter() + 10.0, floor=opt, seed=seed)
    assert (a @ plan.astype(float) > 0.5).all()
    assert plan.sum() == opt
    # no floor: it runs to its end, returning a cover no larger than the start
    greedy = weighted_greedy(a, np.ones(m, dtype=bool))
    assert greedy is not None
    plan = search_cover(a, greedy, time.perf_counter() + 0.2, seed=seed)
    assert (a @ plan.astype(float) > 0.5).all()
    assert opt <= plan.sum() <= greedy.sum()
    # no time: the start, redundant sites removed
    late = search_cover(a, np.ones(m, dtype=bool), time.perf_counter() - 1.0)
    assert np.array_equal(late, remove_redundant(a, np.ones(m, dtype=bool), np.zeros(m, bool)))


def test_cover_search_serves_unserved_rows_first_and_continues_one_search() -> None:
    from planning.models._kernels import cover_search  # noqa: PLC0415

    a = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1]], float))
    c = sp.csc_matrix(a)
    arrays = [x.astype(np.int64) for x in (a.indptr, a.indices, c.indptr, c.indices)]
    chosen = np.zeros(4, dtype=bool)  # nothing open: served greedily first
    weight = np.ones(4, dtype=np.int64)
    stamp = np.zeros(4, dtype=np.int64)
    free = np.ones(4, dtype=bool)
    clock = np.array([0, -1], dtype=np.int64)
    best, size = cover_search(*arrays, chosen, weight, stamp, free, clock, 50, 0, 7)
    assert size == 2  # {0, 2} or {1, 3}
    assert best.tolist() in ([True, False, True, False], [False, True, False, True])
    assert clock[0] == 50  # the state carries on: a second call continues the count
    assert weight.sum() > 4  # rows left unserved while looking for one site gained weight
    cover_search(*arrays, chosen, weight, stamp, free, clock, 10, 0, 8)
    assert clock[0] == 60
    # a row without a site: no cover
    b = sp.csr_matrix(np.array([[1, 0], [0, 0]], float))
    d = sp.csc_matrix(b)
    arrays = [x.astype(np.int64) for x in (b.indptr, b.indices, d.indptr, d.indices)]
    ones = np.ones(2, dtype=np.int64)
    _, size = cover_search(
        *arrays, np.zeros(2, bool), ones, np.zeros(2, np.int64), np.ones(2, bool),
        np.array([0, -1]), 10, 0, 0,
    )  # fmt: skip
    assert size == 3


@pytest.mark.parametrize("seed", range(10))
def test_reduce_dominated_keeps_the_optimum_and_its_covers(seed: int) -> None:
    rng = np.random.default_rng(seed + 1300)
    a = _random_cover(rng, int(rng.integers(10, 60)), int(rng.integers(5, 25)))
    reduced, cols = reduce_dominated(a)
    assert reduced.shape[1] == cols.size
    assert (np.diff(reduced.indptr) > 0).all()  # every row left has a site left
    assert np.array_equal(reduced.toarray(), a[:, cols].toarray()[_row_ids(a[:, cols], reduced)])
    opt = _milp_cover(a)
    assert _milp_cover(reduced) == opt
    # an optimal cover of the rows left, in the original columns, serves every row
    from scipy.optimize import LinearConstraint, milp  # noqa: PLC0415

    res = milp(
        np.ones(cols.size),
        constraints=LinearConstraint(reduced.toarray(), lb=1.0, ub=np.inf),
        integrality=np.ones(cols.size),
        bounds=(0.0, 1.0),
    )
    plan = np.zeros(a.shape[1], dtype=bool)
    plan[cols[res.x > 0.5]] = True
    assert (a @ plan.astype(float) > 0.5).all()
    assert plan.sum() == opt


def _row_ids(full: sp.csr_matrix, part: sp.csr_matrix) -> list[int]:
    """Positions in ``full`` of the rows of ``part`` (each row of ``part`` is one of ``full``)."""
    rows = [tuple(r) for r in full.toarray().astype(int).tolist()]
    return [rows.index(tuple(r)) for r in part.toarray().astype(int).tolist()]


def test_improve_cover_with_no_time_returns_the_start_without_redundant_sites() -> None:
    a = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [0, 1, 0]], dtype=float))
    plan, bound = improve_cover(a, np.ones(3, dtype=bool), time.perf_counter() - 1.0)
    assert plan.tolist() == [False, True, False]
    assert bound == 0


def test_cover_rows_drops_rows_met_by_fixed_sites_and_twins() -> None:
    a = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 1, 1], [0, 0, 1]], float))
    fixed = np.array([True, False, False])
    need = np.array([True, True, True, True, False])
    rows = cover_rows(a, need, fixed)
    assert rows.toarray().tolist() == [[0, 1, 1]]


@pytest.mark.parametrize("seed", range(10))
def test_large_lscp_path_is_honest_at_any_time_limit(seed: int) -> None:
    rng = np.random.default_rng(6007 * seed + 3)
    data, _ = _instance(rng, n=int(rng.integers(20, 46)), m=int(rng.integers(8, 14)))
    expected = _optimum(data, "lscp", 0)
    if expected is None:
        return  # some point out of reach: the diagnosis path
    limit = 2.0 if seed < 4 else _limit(rng)
    opts = ModelOptions(kind="lscp", max_travel_min=MAX_MIN, time_limit_s=limit)
    with (
        mock.patch.object(lscp, "MAX_DENSE_CELLS", 0),
        mock.patch.object(_heuristic, "MAX_ENUMERATED_PLANS", 0),
        mock.patch.object(lscp, "_solve_large", wraps=lscp._solve_large) as large,
    ):
        sol, took = _run(data, opts)
    assert large.called
    sol = _honest_in_time(sol, took, limit, expected)
    if seed < 4:  # 2 s is ample for these sizes: the bound meets the plan
        assert sol.status == "optimal"


@pytest.mark.parametrize("seed", range(8))
def test_large_lscp_local_search_is_honest(seed: int) -> None:
    # instances from random cover matrices whose LP bound leaves a gap, so the local search
    # (switched on at any time left, its loop compiled before the clock runs) has work to do
    search_cover(sp.csr_matrix(np.ones((1, 2))), np.ones(2, bool), time.perf_counter() + 10.0)
    rng = np.random.default_rng(seed + 4400)
    n, m = int(rng.integers(40, 80)), int(rng.integers(20, 30))
    a = _random_cover(rng, n, m, density=(0.05, 0.1))
    sites = [f"s{j}" for j in range(m)]
    travel = {(f"d{i}", sites[j]): 1.0 for i, j in zip(*a.nonzero(), strict=True)}
    data = make_input(travel, {f"d{i}": 1.0 for i in range(n)}, sites)
    expected = _milp_cover(a)
    limit = 3.0 if seed < 3 else _limit(rng)
    opts = ModelOptions(kind="lscp", max_travel_min=MAX_MIN, time_limit_s=limit)
    with (
        mock.patch.object(lscp, "MAX_DENSE_CELLS", 0),
        mock.patch.object(lscp, "SEARCH_MIN_S", 0.0),
        mock.patch.object(_heuristic, "MAX_ENUMERATED_PLANS", 0),
        mock.patch.object(lscp, "search_cover", wraps=lscp.search_cover) as search,
    ):
        sol, took = _run(data, opts)
    sol = _honest_in_time(sol, took, limit, expected)
    # the search runs whenever the bound leaves a gap, so a plan not searched is proven
    assert search.called or sol.status == "optimal"
    if seed < 3:  # 3 s: the search, or regions grown to the MIP on every row, then the proof
        assert sol.status == "optimal"


@pytest.mark.parametrize("seed", range(10))
def test_large_p_center_path_is_honest_at_any_time_limit(seed: int) -> None:
    rng = np.random.default_rng(4099 * seed + 11)
    data, _ = _instance(rng, n=int(rng.integers(20, 46)), m=int(rng.integers(8, 14)))
    p = int(rng.integers(2, 5))
    expected = _optimum(data, "p_center", p)
    if expected is None:
        return
    limit = 3.0 if seed < 4 else _limit(rng)
    opts = ModelOptions(kind="p_center", p=p, time_limit_s=limit)
    with (
        mock.patch.object(p_center, "MAX_DENSE_CELLS", 0),
        mock.patch.object(p_center, "_decide_large", wraps=p_center._decide_large) as large,
    ):
        sol, took = _run(data, opts)
    sol = _honest_in_time(sol, took, limit, expected)
    if seed < 4:
        assert large.called
        assert sol.status == "optimal"


@pytest.mark.parametrize("seed", range(12))
def test_decide_cover_proves_only_what_holds(seed: int) -> None:
    rng = np.random.default_rng(seed + 500)
    a = _random_cover(rng, int(rng.integers(5, 40)), int(rng.integers(4, 11)))
    opt = _min_cover(a)
    for k in (opt - 1, opt, opt + 1):
        plan, proven_no = decide_cover(a, k, time.perf_counter() + 2.0, per_round=3)
        if plan is not None:
            assert plan.sum() <= k
            assert (a @ plan.astype(float) > 0.5).all()
        if proven_no:
            assert k < opt
        if k >= opt:
            assert not proven_no


def test_every_highs_of_a_batch_worker_asks_for_the_same_threads() -> None:
    """In a batch worker (``KANGLE_SOLVER_THREADS=1``) the LSCP's PDLP run comes first; a
    HiGHS that did not ask for one thread there made every later MIP of the process fail
    (HiGHS cannot change its thread count once an instance has solved). A fresh process."""
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = (
        "import numpy as np, scipy.sparse as sp\n"
        "from planning.models._setcover import _pdlp_duals, subset_cover_mip\n"
        "a = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=float))\n"
        "assert _pdlp_duals(a, 2.0) is not None\n"
        "plan, bound = subset_cover_mip(a, np.arange(3), 5.0)\n"
        "assert plan is not None and int(plan.sum()) == 2 and bound == 2, (plan, bound)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "KANGLE_SOLVER_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


@pytest.mark.parametrize("seed", range(8))
def test_disjoint_rows_share_no_site_and_bound_every_cover(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 30, 10
    dense = rng.random((n, m)) < 0.2
    dense[np.arange(n), rng.integers(0, m, n)] = True  # every row has a site
    a = sp.csr_matrix(dense.astype(np.float64))
    rows = disjoint_rows(a)
    picked = dense[rows]
    assert (picked.sum(axis=0) <= 1).all()  # no site in two chosen rows
    assert cover_bound(a, rows.astype(np.float64)) == pytest.approx(rows.sum())
    assert rows.sum() <= _min_cover(a)
