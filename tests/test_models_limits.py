"""Honest results under any time limit: every model, random limits from 0.01 s.

Each run on a small random instance is checked against the optimum found by trying every plan:
the reported objective is on the feasible side of the optimum, the reported bound on the other
side (a bound is only ever a valid bound), ``optimal`` only when the objective equals the
optimum, and the wall time stays within 10 % + 1 s of the limit.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from unittest import mock

import numpy as np
import pytest
from _model_fixtures import brute_force_constrained, make_input

from planning.errors import SolverError
from planning.models import ModelInput, ModelOptions, Solution, _heuristic, solve

#: (kind, capacitated) of every model the property test runs
MODELS = [
    ("mclp", False),
    ("lscp", False),
    ("p_median", False),
    ("p_center", False),
    ("p_median", True),
    ("mclp", True),
]
MAX_MIN = 15.0


def _instance(
    rng: np.random.Generator, *, n: int, m: int
) -> tuple[ModelInput, dict[tuple[str, str], float]]:
    """A random sparse instance (``n`` demand points, ``m`` sites) with capacities, one county."""
    sites = [f"s{j}" for j in range(m)]
    travel = {
        (f"d{i}", sites[j]): float(rng.integers(1, 41))
        for i in range(n)
        for j in range(m)
        if rng.random() < 0.7 or j == i % m
    }
    weights = {f"d{i}": float(rng.integers(0, 7)) for i in range(n)}
    data = make_input(
        travel,
        weights,
        sites,
        county=dict.fromkeys(sites, "A"),
        prefecture=dict.fromkeys(sites, "P"),
        cost=dict.fromkeys(sites, 0.0),
        capacity={s: float(rng.choice([np.nan, 8.0, 15.0, 25.0])) for s in sites},
        referral_min=dict.fromkeys(sites, 0.0),
    )
    demand = data.demand.assign(county="A", prefecture="P", urban=False)
    return ModelInput(travel=data.travel, demand=demand, sites=data.sites), travel


def _optimum(data: ModelInput, kind: str, p: int) -> float | None:
    """Uncapacitated optimum by trying every plan (numpy; None if no plan serves everyone)."""
    d_ids, s_ids = list(data.demand.index), list(data.sites.index)
    dist = np.full((len(d_ids), len(s_ids)), np.inf)
    rows = data.travel
    dist[
        rows["demand_id"].map({d: i for i, d in enumerate(d_ids)}).to_numpy(),
        rows["site_id"].map({s: j for j, s in enumerate(s_ids)}).to_numpy(),
    ] = rows["travel_min"].to_numpy()
    w = data.demand["weight"].to_numpy()
    dist = dist[w > 0]
    w = w[w > 0]
    sizes = range(1, len(s_ids) + 1) if kind == "lscp" else [p]
    values = []
    for k in sizes:
        for plan in itertools.combinations(range(len(s_ids)), k):
            near = dist[:, list(plan)].min(axis=1)
            if kind == "mclp":
                values.append(float(w[near <= MAX_MIN + 1e-9].sum()))
            elif kind == "lscp" and (near <= MAX_MIN + 1e-9).all():
                return float(k)
            elif kind in ("p_median", "p_center") and np.isfinite(near).all():
                values.append(float(w @ near) if kind == "p_median" else float(near.max()))
    if not values:
        return None
    return max(values) if kind == "mclp" else min(values)


def _limit(rng: np.random.Generator) -> float:
    # log-uniform from 0.002 s (below the 0.01 s asked for: on an idle machine the p-center's
    # radius search only stops between checks below ~0.01 s) to 2 s
    return float(math.exp(rng.uniform(math.log(0.002), math.log(2.0))))


def _run(data: ModelInput, opts: ModelOptions) -> tuple[Solution | None, float]:
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            sol = solve(data, opts)
    except SolverError:
        sol = None
    return sol, time.perf_counter() - t0


def _check(sol: Solution, expected: float, *, maximise: bool) -> None:
    tol = 1e-6 * max(1.0, abs(expected))
    if maximise:
        assert sol.objective <= expected + tol
        assert sol.bound is None or sol.bound >= expected - tol, (sol.bound, expected)
    else:
        assert sol.objective >= expected - tol
        assert sol.bound is None or sol.bound <= expected + tol, (sol.bound, expected)
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(expected, abs=tol)
        assert sol.gap in (None, 0.0) or sol.gap < 1e-6
    elif sol.gap is not None and sol.bound is not None:
        assert sol.gap >= 0.0


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("kind", "capacitated"), MODELS)
def test_every_model_is_honest_at_any_time_limit(
    kind: str, *, capacitated: bool, seed: int
) -> None:
    rng = np.random.default_rng(7919 * seed + len(kind) + 31 * capacitated)
    if capacitated:  # an LP per plan: smaller
        data, travel = _instance(rng, n=int(rng.integers(8, 15)), m=int(rng.integers(5, 8)))
        p = int(rng.integers(1, 4))
        expected = brute_force_constrained(
            travel, data.demand, data.sites, kind, p=p, max_min=MAX_MIN, con={"capacitated": True}
        )
    else:
        data, _ = _instance(rng, n=int(rng.integers(20, 46)), m=int(rng.integers(8, 14)))
        p = int(rng.integers(2, 5))
        expected = _optimum(data, kind, p)
    limit = _limit(rng)
    opts = ModelOptions(
        kind=kind,  # type: ignore[arg-type]
        p=p,
        max_travel_min=MAX_MIN,
        capacitated=capacitated,
        time_limit_s=limit,
    )
    # half the runs skip "try every plan" so the MIP and the heuristics are cut short
    enumerate_ = bool(seed % 2)
    with mock.patch.object(
        _heuristic, "MAX_ENUMERATED_PLANS", _heuristic.MAX_ENUMERATED_PLANS if enumerate_ else 0
    ):
        if expected is None:
            return  # infeasible instances: the diagnosis path is tested elsewhere
        sol, took = _run(data, opts)
    assert took <= 1.1 * limit + 1.0, f"{took:.2f} s for a {limit:.3f} s limit"
    if not capacitated:  # a greedy plan always exists here: never "no plan in time"
        assert sol is not None
    if sol is not None:
        _check(sol, expected, maximise=kind == "mclp")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["mclp", "p_median", "p_center"])
def test_cbc_is_honest_at_any_time_limit(kind: str, seed: int) -> None:
    rng = np.random.default_rng(104_729 + seed)
    data, _ = _instance(rng, n=int(rng.integers(20, 46)), m=int(rng.integers(8, 14)))
    p = int(rng.integers(2, 5))
    expected = _optimum(data, kind, p)
    if expected is None:
        return  # some point out of reach of every p-plan: the diagnosis path
    limit = _limit(rng)
    opts = ModelOptions(kind=kind, p=p, max_travel_min=MAX_MIN, solver="cbc", time_limit_s=limit)  # type: ignore[arg-type]
    with mock.patch.object(_heuristic, "MAX_ENUMERATED_PLANS", 0):
        sol, took = _run(data, opts)
    assert took <= 1.1 * limit + 1.0, f"{took:.2f} s for a {limit:.3f} s limit"
    if sol is not None:
        _check(sol, expected, maximise=kind == "mclp")


def test_cbc_stops_near_a_short_limit_on_a_model_it_cannot_finish() -> None:
    # 400 x 150 p-median (19k columns): CBC's root LP alone takes ~1.5 s (idle machine);
    # pulp passes the limit as -sec, which CBC only checks between steps; a watchdog ends it
    from planning.models._mip import solve_cbc  # noqa: PLC0415
    from planning.models._prep import prepare  # noqa: PLC0415
    from planning.models.p_median import formulate_p_median  # noqa: PLC0415

    rng = np.random.default_rng(1)
    n, m = 400, 150
    xy_d, xy_s = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    dist = np.sqrt(((xy_d[:, None] - xy_s[None]) ** 2).sum(-1))
    sites = [f"s{j}" for j in range(m)]
    travel = {
        (f"d{i}", sites[j]): round(float(dist[i, j]), 1)
        for i in range(n)
        for j in range(m)
        if dist[i, j] < 40
    }
    data = make_input(travel, {f"d{i}": float(rng.integers(1, 50)) for i in range(n)}, sites)
    opts = ModelOptions(kind="p_median", p=10, solver="cbc")
    form = formulate_p_median(prepare(data, opts), opts, reduce=False)
    limit = 1.0
    t0 = time.perf_counter()
    form.mip.to_pulp("timing")
    build = time.perf_counter() - t0  # pulp's own work (model, MPS file), before CBC starts
    t0 = time.perf_counter()
    raw = solve_cbc(form.mip, time_limit_s=limit, mip_gap=0.0)
    took = time.perf_counter() - t0
    # on a loaded machine pulp's model and MPS file alone can take seconds: allowed on top
    assert took <= 1.1 * limit + 1.0 + 2 * max(0.0, build - 0.2), f"{took:.2f} s for {limit} s"
    assert raw.status in ("no_solution", "feasible", "optimal")
    if raw.x is not None:
        assert form.mip.satisfied_by(raw.x)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["mclp", "lscp", "p_median", "p_center"])
def test_a_plan_above_the_dense_size_at_a_tiny_limit(kind: str, seed: int) -> None:
    # with the dense-size cap at 0 every instance is "too large" for the dense heuristics:
    # the sparse greedy (+ swap) still gives a plan, whatever the time limit
    from planning.models import mclp  # noqa: PLC0415

    rng = np.random.default_rng(55_001 + seed)
    data, _ = _instance(rng, n=int(rng.integers(20, 46)), m=int(rng.integers(8, 14)))
    p = int(rng.integers(2, 5))
    expected = _optimum(data, kind, p)
    if expected is None:
        return
    opts = ModelOptions(kind=kind, p=p, max_travel_min=MAX_MIN, time_limit_s=0.001)  # type: ignore[arg-type]
    with (
        mock.patch.object(_heuristic, "MAX_ENUMERATED_PLANS", 0),
        mock.patch.object(_heuristic, "MAX_DENSE_CELLS", 0),
        mock.patch.object(mclp, "MAX_DENSE_CELLS", 0),
    ):
        sol, took = _run(data, opts)
    assert took <= 1.1 * 0.001 + 1.0
    if kind != "p_center":  # p-center: only when a greedy plan exists
        assert sol is not None
    if sol is not None:
        _check(sol, expected, maximise=kind == "mclp")


@pytest.mark.parametrize("seed", range(5))
def test_sparse_heuristics_give_valid_plans(seed: int) -> None:
    import scipy.sparse as sp  # noqa: PLC0415

    from planning.models._cover_large import mclp_upper_bound  # noqa: PLC0415
    from planning.models._sparse import (  # noqa: PLC0415
        cover_value,
        greedy_cover,
        mclp_greedy_swap,
        p_median_greedy,
    )

    rng = np.random.default_rng(seed)
    n, m, p = 30, 9, 3
    dist = rng.integers(1, 41, size=(n, m)).astype(float)
    w = rng.integers(0, 5, size=n).astype(float)
    fixed = np.zeros(m, dtype=bool)
    fixed[0] = True
    openable = np.ones(m, dtype=bool)
    a = sp.csr_matrix(dist <= MAX_MIN)
    plan, value = mclp_greedy_swap(a, w, p, fixed=fixed, openable=openable)
    assert plan[0] and int(plan.sum()) == p
    assert value == pytest.approx(cover_value(a, w, plan))
    # 1-swap optimal: no single exchange of a new site covers more
    for r in np.flatnonzero(plan & ~fixed).tolist():
        for j in np.flatnonzero(~plan).tolist():
            other = plan.copy()
            other[r], other[j] = False, True
            assert cover_value(a, w, other) <= value + 1e-9
    best = max(
        cover_value(a, w, np.isin(np.arange(m), (0, *c)))
        for c in itertools.combinations(range(1, m), p - 1)
    )
    assert value <= best + 1e-9
    need = (w > 0) & (dist <= MAX_MIN).any(axis=1)
    cover_plan = greedy_cover(a, need, fixed=fixed, openable=openable)
    assert cover_plan is not None and cover_plan[0]
    assert ((a @ cover_plan.astype(float)) > 0.5)[need].all()
    lag = mclp_upper_bound(a, w, p, fixed=fixed, openable=openable, target=value)
    assert best - 1e-6 <= lag <= float(w[(dist <= MAX_MIN).any(axis=1)].sum()) + 1e-6
    i, j = np.nonzero(np.ones((n, m)))
    pm = p_median_greedy((i, j, dist[i, j]), w, p, fixed=fixed, openable=openable)
    assert pm is not None and pm[0] and int(pm.sum()) == p


@pytest.mark.parametrize("seed", range(4))
def test_cover_matrix_of_grouped_pairs_equals_the_coo_build(seed: int) -> None:
    """cover_csr's direct path (pairs grouped by demand) gives the COO build's matrix."""
    import scipy.sparse as sp  # noqa: PLC0415

    from planning.models._sparse import cover_csr  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    n, m, size = 40, 15, 300
    pi = np.sort(rng.integers(0, n, size=size))  # grouped; repeats of a pair included
    pj = rng.integers(0, m, size=size)
    got = cover_csr(n, m, pi, pj)
    want = sp.csr_matrix((np.ones(size), (pi, pj)), shape=(n, m))
    want.data[:] = 1.0
    assert got.has_canonical_format
    assert np.array_equal(got.toarray(), want.toarray())
    assert set(np.unique(got.data).tolist()) == {1.0}
    shuffled = rng.permutation(size)  # not grouped: the COO build
    assert np.array_equal(cover_csr(n, m, pi[shuffled], pj[shuffled]).toarray(), want.toarray())


def test_highs_reports_elapsed_time_and_gap_while_it_runs() -> None:
    from planning.i18n import MsgStr  # noqa: PLC0415
    from planning.models._mip import HighsSession  # noqa: PLC0415
    from planning.models._prep import prepare  # noqa: PLC0415
    from planning.models.mclp import formulate_mclp  # noqa: PLC0415

    rng = np.random.default_rng(1)
    n, m = 400, 100
    xy_d, xy_s = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    dist = np.sqrt(((xy_d[:, None] - xy_s[None]) ** 2).sum(-1))
    sites = [f"s{j}" for j in range(m)]
    travel = {
        (f"d{i}", sites[j]): round(float(dist[i, j]), 1)
        for i in range(n)
        for j in range(m)
        if dist[i, j] < 15
    }
    data = make_input(travel, {f"d{i}": float(rng.integers(1, 50)) for i in range(n)}, sites)
    opts = ModelOptions(kind="mclp", p=8, max_travel_min=10.0)
    form = formulate_mclp(prepare(data, opts), opts)
    seen: list[tuple[float, str]] = []
    raw = HighsSession(form.mip).solve(
        time_limit_s=5.0, mip_gap=0.0, progress=lambda share, text: seen.append((share, text))
    )
    assert raw.x is not None
    assert seen  # the first interrupt reports at once, then about once a second
    for share, text in seen:
        assert 0.1 <= share <= 0.9
        assert isinstance(text, MsgStr)
        assert text.msg.key in ("progress.mip_status", "progress.mip_no_plan_yet")
        assert "s so far" in text.msg.text("en")
