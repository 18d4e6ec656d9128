"""Province-scale p-median (``planning.models._median_large``) against enumeration.

The large path is forced on small random sparse instances by setting the dense-size cap to 0;
every bound must stay below the enumerated optimum, every plan must be what it claims.
"""

from __future__ import annotations

import itertools
import time
import warnings
from unittest import mock

import numpy as np
import pytest
from _model_fixtures import make_input

from planning.models import ModelInput, ModelOptions, _heuristic, solve
from planning.models._kernels import (
    _median_flip,
    catchment_costs,
    median_count,
    median_state,
    median_swaps,
)
from planning.models._median_large import (
    _evaluate,
    _Pairs,
    alternate,
    interchange,
    iterated_search,
    lagrangian,
    lazy_greedy,
    seeded_plan,
    solve_large_median,
)
from planning.models._sparse import p_median_greedy


def _random(
    seed: int, n: int = 30, m: int = 9, density: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sorted pairs (i, minutes, j) of a random sparse instance, with weights."""
    rng = np.random.default_rng(seed)
    dist = rng.integers(1, 60, size=(n, m)).astype(float) + rng.random((n, m)).round(1)
    keep = rng.random((n, m)) < density
    keep[np.arange(n), rng.integers(0, m, size=n)] = True  # every point has a pair
    i, j = np.nonzero(keep)
    t = dist[i, j]
    order = np.lexsort((j, t, i))
    w = rng.integers(0, 6, size=n).astype(float)
    if seed % 2:  # weights over six orders of magnitude, as cells' patients are
        w *= 10.0 ** rng.uniform(-4.0, 2.0, size=n)
    return i[order], j[order], t[order], w


def _enumerate(
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    w: np.ndarray,
    p: int,
    fixed: np.ndarray,
    openable: np.ndarray,
) -> float:
    """Optimum by trying every plan (inf when none serves every weighted point)."""
    pi, pj, pt = pairs
    n, m = w.size, fixed.size
    d = np.full((n, m), np.inf)
    d[pi, pj] = pt
    d = d[w > 0]
    best = np.inf
    free = [j for j in range(m) if openable[j] and not fixed[j]]
    for combo in itertools.combinations(free, p - int(fixed.sum())):
        cols = [*np.flatnonzero(fixed).tolist(), *combo]
        near = d[:, cols].min(axis=1)
        if np.isfinite(near).all():
            best = min(best, float(w[w > 0] @ near))
    return best


def _masks(seed: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1000)
    fixed = np.zeros(m, dtype=bool)
    openable = np.ones(m, dtype=bool)
    if seed % 3 == 1:
        fixed[0] = True
    if seed % 2:
        openable[m - 1] = False
    openable[rng.integers(1, m - 1)] &= seed % 4 != 3
    return fixed, openable | fixed


@pytest.mark.parametrize("seed", range(12))
def test_large_path_bound_and_plan_against_enumeration(seed: int) -> None:
    pi, pj, pt, w = _random(seed, density=0.35 + 0.05 * (seed % 5))
    m = 9
    p = 2 + seed % 3
    fixed, openable = _masks(seed, m)
    opt = _enumerate((pi, pj, pt), w, p, fixed, openable)
    got = solve_large_median(
        pi,
        pj,
        pt,
        w,
        p,
        fixed=fixed,
        openable=openable,
        end=time.perf_counter() + 2.0,
    )
    if not np.isfinite(opt):
        # no plan serves everyone: the large path declines or returns a plan it can serve
        assert got is None or not np.isfinite(got.value)
        return
    assert got is not None
    assert int(got.plan.sum()) == p
    assert got.plan[fixed].all()
    assert not got.plan[~openable].any()
    # the value is the plan's exact value
    d = np.full((w.size, m), np.inf)
    d[pi, pj] = pt
    pos = w > 0
    assert got.value == pytest.approx(float(w[pos] @ d[pos][:, got.plan].min(axis=1)))
    tol = 1e-6 * max(1.0, opt)
    assert got.value >= opt - tol
    assert got.bound <= opt + tol, (got.bound, opt)


def _check_bound_passes(
    pairs: _Pairs, lam: np.ndarray, p: int, fixed: np.ndarray, openable: np.ndarray
) -> tuple[float, np.ndarray]:
    """The compiled passes of one subgradient step against their definitions, pair by pair.

    Returns ``L(lam)`` and the relaxation's sites.
    """
    stop = np.zeros(pairs.n, dtype=np.int64)
    value, chosen, rho = lagrangian(pairs, lam, p, fixed, openable, stop=stop)
    expect = np.zeros(pairs.m)
    np.add.at(expect, pairs.site, np.minimum(pairs.cost - lam[pairs.row], 0.0))
    np.testing.assert_allclose(rho, expect, rtol=1e-12, atol=1e-9)
    below = pairs.cost < lam[pairs.row]
    # the prefixes it found: exactly the pairs below each multiplier
    assert (stop - pairs.indptr[:-1] == np.bincount(pairs.row[below], minlength=pairs.n)).all()
    is_ch = np.isin(np.arange(pairs.m), chosen)
    count = median_count(pairs.indptr, stop, pairs.site, is_ch)
    hit = is_ch[pairs.site] & below
    np.testing.assert_array_equal(count, np.bincount(pairs.row[hit], minlength=pairs.n))
    return value, chosen


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_is_valid_at_any_multipliers(seed: int) -> None:
    # also where a point has a single pair (its multiplier stops at w x the table's reach)
    pi, pj, pt, w = _random(seed, n=25, m=8, density=0.15)
    m, p = 8, 3
    fixed = np.zeros(m, dtype=bool)
    openable = np.ones(m, dtype=bool)
    opt = _enumerate((pi, pj, pt), w, p, fixed, openable)
    if not np.isfinite(opt):
        return
    pairs = _Pairs(pi, pj, pt, w, openable)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        lam = pairs.w * rng.uniform(0.0, 1.2 * pairs.reach, size=pairs.n)
        lam = np.minimum(lam, pairs.w * pairs.reach)
        value, chosen = _check_bound_passes(pairs, lam, p, fixed, openable)
        assert chosen.size == p
        assert value <= opt + 1e-6 * max(1.0, opt)


@pytest.mark.parametrize("offset", [0, 70_000])
def test_the_bound_reads_the_narrow_sites_and_the_wide_ones_alike(offset: int) -> None:
    # up to 65,535 sites the pairs keep their sites as uint16, above as int64: the same
    # rho, prefixes and counts either way
    pi, pj, pt, w = _random(3, n=30, m=9, density=0.5)
    m, p = 9 + offset, 3
    openable = np.zeros(m, dtype=bool)
    openable[offset:] = True
    fixed = np.zeros(m, dtype=bool)
    pairs = _Pairs(pi, pj + offset, pt, w, openable)
    assert pairs.site.dtype == (np.uint16 if offset == 0 else np.int64)
    lam = pairs.w * np.random.default_rng(0).uniform(0.0, pairs.reach, size=pairs.n)
    _, chosen = _check_bound_passes(pairs, lam, p, fixed, openable)
    assert chosen.size == p


@pytest.mark.parametrize("seed", range(6))
def test_lazy_greedy_matches_the_plain_greedy_and_interchange_is_swap_optimal(seed: int) -> None:
    pi, pj, pt, w = _random(seed, n=40, m=10, density=0.8)
    m, p = 10, 3
    fixed = np.zeros(m, dtype=bool)
    openable = np.ones(m, dtype=bool)
    pairs = _Pairs(pi, pj, pt, w, openable)
    lazy = _evaluate(pairs, lazy_greedy(pairs, p, fixed, openable))
    plain = p_median_greedy((pi, pj, pt), w, p, fixed=fixed, openable=openable)
    if plain is None:
        return
    assert lazy.value == pytest.approx(_evaluate(pairs, plain).value)
    st = interchange(pairs, lazy, fixed=fixed, openable=openable, end=time.perf_counter() + 5.0)
    assert st.value <= lazy.value + 1e-9
    for r in np.flatnonzero(st.is_open).tolist():
        for j in np.flatnonzero(~st.is_open).tolist():
            other = st.is_open.copy()
            other[r], other[j] = False, True
            assert _evaluate(pairs, other).value >= st.value - 1e-6 * st.value


@pytest.mark.parametrize("seed", range(8))
def test_alternate_keeps_a_valid_plan_and_never_worsens(seed: int) -> None:
    pi, pj, pt, w = _random(seed, n=40, m=10, density=0.6 + 0.05 * (seed % 4))
    m, p = 10, 2 + seed % 3
    fixed, openable = _masks(seed, m)
    pairs = _Pairs(pi, pj, pt, w, openable)
    rng = np.random.default_rng(seed)
    start = fixed.copy()
    free = np.flatnonzero(openable & ~fixed)
    start[rng.choice(free, size=p - int(fixed.sum()), replace=False)] = True
    st = _evaluate(pairs, start)
    got = alternate(pairs, st, fixed=fixed, openable=openable, end=time.perf_counter() + 5.0)
    assert int(got.is_open.sum()) == p
    assert got.is_open[fixed].all()
    assert not got.is_open[~openable].any()
    assert got.value <= st.value
    assert got.value == pytest.approx(_evaluate(pairs, got.is_open).value)
    opt = _enumerate((pi, pj, pt), w, p, fixed, openable)
    if np.isfinite(opt):
        assert got.value >= opt - 1e-6 * max(1.0, opt)
    else:
        assert not np.isfinite(got.value)


@pytest.mark.parametrize("seed", range(6))
def test_seeded_plan_opens_p_allowed_sites_with_the_existing_ones(seed: int) -> None:
    pi, pj, pt, w = _random(seed, n=30, m=9, density=0.4)
    m, p = 9, 2 + seed % 3
    fixed, openable = _masks(seed, m)
    pairs = _Pairs(pi, pj, pt, w, openable)
    plan = seeded_plan(pairs, p, fixed, openable, np.random.default_rng(seed))
    assert int(plan.sum()) == p
    assert plan[fixed].all()
    assert not plan[~openable].any()


@pytest.mark.parametrize("seed", range(6))
def test_iterated_search_keeps_p_sites_the_existing_ones_and_reaches_the_optimum(seed: int) -> None:
    pi, pj, pt, w = _random(seed, n=40, m=12, density=0.6)
    m, p = 12, 3 + seed % 3
    fixed, openable = _masks(seed, m)
    pairs = _Pairs(pi, pj, pt, w, openable)
    assert pairs.n == int((w > 0).sum())  # every demand point has an openable site
    rng = np.random.default_rng(seed)
    st = _evaluate(pairs, seeded_plan(pairs, p, fixed, openable, rng))
    got, steps = iterated_search(
        pairs, st, fixed=fixed, openable=openable, end=time.perf_counter() + 0.3, rng=rng
    )
    assert steps >= 1
    assert int(got.is_open.sum()) == p
    assert got.is_open[fixed].all()
    assert not got.is_open[~openable].any()
    assert got.value <= st.value
    assert got.value == _evaluate(pairs, got.is_open).value  # the exact value, not the search's
    opt = _enumerate((pi, pj, pt), w, p, fixed, openable)
    # hundreds of kicks over at most C(12, 5) = 792 plans: the optimum, never below it
    assert got.value == pytest.approx(opt, rel=1e-12)


def _bookkeeping(
    pairs: _Pairs, st: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray, float]:
    """gain, extra by open site, loss of the open sites and value of a search state."""
    is_open, slot_of, extra, m = st[0], st[5], st[9], pairs.m
    rows = {int(r): extra[slot_of[r] * m : (slot_of[r] + 1) * m] for r in np.flatnonzero(is_open)}
    return st[7], rows, st[8][is_open], float(st[10][0])


@pytest.mark.parametrize("seed", range(8))
def test_compiled_search_keeps_its_bookkeeping_equal_to_a_fresh_count(seed: int) -> None:
    """After every site opened or closed, the state equals one computed from scratch."""
    pi, pj, pt, w = _random(seed, n=50, m=11, density=0.45)
    m, p = 11, 4
    pairs = _Pairs(pi, pj, pt, w, np.ones(m, dtype=bool))
    rng = np.random.default_rng(seed)
    plan = np.zeros(m, dtype=bool)
    plan[rng.choice(m, p, replace=False)] = True
    st = median_state(pairs.net, plan, p, pairs.big)
    buf = np.empty(pairs.n, dtype=np.int64)
    for _ in range(30):
        closing = bool(st[0].sum() == p or (st[0].sum() > 1 and rng.random() < 0.5))
        j = int(rng.choice(np.flatnonzero(st[0] == closing)))
        _median_flip(j, pairs.net, st, pairs.big, buf)
        fresh = median_state(pairs.net, st[0], p, pairs.big)
        for k in range(5):  # the plan and each point's two nearest open sites, exactly
            np.testing.assert_array_equal(st[k], fresh[k])
        gain, extra, loss, value = _bookkeeping(pairs, st)
        gain0, extra0, loss0, value0 = _bookkeeping(pairs, fresh)
        np.testing.assert_allclose(gain, gain0, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(loss, loss0, rtol=1e-9, atol=1e-6)
        assert extra.keys() == extra0.keys()
        for r in extra:
            np.testing.assert_allclose(extra[r], extra0[r], rtol=1e-9, atol=1e-6)
        assert value == pytest.approx(value0, rel=1e-9)
    # and the fresh count is the interchange's definition (its closed sites) and the value
    fresh = median_state(pairs.net, st[0], p, pairs.big)
    open_idx = np.flatnonzero(st[0])
    pos_of = np.full(m, -1, dtype=np.int64)
    pos_of[open_idx] = np.arange(open_idx.size)
    swap_gain, swap_extra, _ = median_swaps(
        pairs.indptr, pairs.mins, pairs.site, pairs.w, fresh[2], fresh[4], fresh[1], pos_of,
        fresh[0], open_idx.size,
    )  # fmt: skip
    closed = ~fresh[0]
    np.testing.assert_allclose(fresh[7][closed], swap_gain[closed], rtol=1e-12, atol=1e-9)
    for a, r in enumerate(open_idx.tolist()):
        row = fresh[9][fresh[5][r] * m : (fresh[5][r] + 1) * m]
        np.testing.assert_allclose(row[closed], swap_extra[a * m : (a + 1) * m][closed], atol=1e-9)
    assert float(fresh[10][0]) == pytest.approx(float(pairs.w @ fresh[2]), rel=1e-12)


def _input(seed: int) -> tuple[ModelInput, float, int]:
    pi, pj, pt, w = _random(seed, n=35, m=10, density=0.5)
    travel = {(f"d{i:02d}", f"s{j:02d}"): float(t) for i, j, t in zip(pi, pj, pt, strict=True)}
    weights = {f"d{i:02d}": float(w[i]) for i in range(w.size)}
    sites = [f"s{j:02d}" for j in range(10)]
    p = 2 + seed % 3
    opt = _enumerate((pi, pj, pt), w, p, np.zeros(10, dtype=bool), np.ones(10, dtype=bool))
    return make_input(travel, weights, sites), opt, p


@pytest.mark.parametrize("limit", [0.001, 0.05, 2.0])
@pytest.mark.parametrize("seed", range(4))
def test_solve_takes_the_large_path_honestly_at_any_limit(seed: int, limit: float) -> None:
    data, opt, p = _input(seed)
    if not np.isfinite(opt):
        return
    opts = ModelOptions(kind="p_median", p=p, max_travel_min=60.0, time_limit_s=limit)
    t0 = time.perf_counter()
    with mock.patch.object(_heuristic, "MAX_DENSE_CELLS", 0), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sol = solve(data, opts)
    took = time.perf_counter() - t0
    assert took <= 1.1 * limit + 1.0
    assert sol.extras.get("large_pairs") is not None  # the province-scale path ran
    tol = 1e-6 * max(1.0, opt)
    assert sol.objective >= opt - tol
    assert sol.bound is not None and sol.bound <= opt + tol
    assert sol.gap is not None and sol.gap >= 0.0
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(opt, abs=tol)
    # the dense (city-scale) path proves the same optimum
    dense = solve(data, opts.replace(time_limit_s=30.0))
    assert dense.status == "optimal"
    assert dense.objective == pytest.approx(opt, abs=tol)


@pytest.mark.parametrize("seed", range(6))
def test_pair_order_matches_lexsort(seed: int) -> None:
    """The fast pair order of ``prepare`` is exactly ``np.lexsort`` (ties, -0.0, shuffles)."""
    from planning.models._prep import _first_copies, _pair_order  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    size, n, m = 5_000, 300 if seed % 2 else 70_000, 40
    d = rng.integers(0, n, size=size)
    s = rng.integers(0, m, size=size)
    t = rng.choice([0.0, -0.0, 1.5, 2.0, 1e-300, 7.25, 119.99999999999999, 120.0], size=size)
    t = np.where(rng.random(size) < 0.5, t, rng.random(size) * 120)
    if seed % 3 == 0:  # grouped by demand, as tables arrive
        d = np.sort(d)
    got = _pair_order(d, t, s, n)
    assert np.array_equal(got, np.lexsort((s, t, d)))
    di, sj = d[got], s[got]
    key = di * m + sj
    first = _first_copies(di, sj, m)
    _, want = np.unique(key, return_index=True)
    assert first is not None and np.array_equal(first, want)
    distinct = np.sort(want)
    assert _first_copies(di[distinct], sj[distinct], m) is None
    # one repeat among distinct pairs, in a later block of rows, and pairs not grouped
    again = np.concatenate((distinct, distinct[-1:]))
    assert _first_copies(di[again], sj[again], m) is not None
    shuffled = rng.permutation(distinct)
    assert _first_copies(di[shuffled], sj[shuffled], m) is None


@pytest.mark.parametrize("seed", range(5))
def test_compiled_swap_profits_match_their_definition(seed: int) -> None:
    """gain and extra of the fast interchange, pair by pair, against plain numpy."""
    pi, pj, pt, w = _random(seed, n=60, m=12, density=0.5)
    m = 12
    openable = np.ones(m, dtype=bool)
    pairs = _Pairs(pi, pj, pt, w, openable)
    rng = np.random.default_rng(seed)
    is_open = np.zeros(m, dtype=bool)
    is_open[rng.choice(m, 4, replace=False)] = True
    st = _evaluate(pairs, is_open)
    open_idx = np.flatnonzero(is_open)
    pos_of = np.full(m, -1, dtype=np.int64)
    pos_of[open_idx] = np.arange(open_idx.size)
    d1 = np.where(np.isfinite(st.d1), st.d1, pairs.big)
    d2 = np.where(np.isfinite(st.d2), st.d2, pairs.big)
    gain, extra, loss = median_swaps(
        pairs.indptr, pairs.mins, pairs.site, pairs.w, d1, d2, st.phi1, pos_of, is_open, 4
    )
    r, s, t = pairs.row, pairs.site, pairs.mins
    near = t < d2[r]
    g = near & (t < d1[r])
    expect_gain = np.bincount(s[g], weights=pairs.w[r[g]] * (d1[r[g]] - t[g]), minlength=m)
    e = near & ~is_open[s] & (st.phi1[r] >= 0)
    expect_extra = np.bincount(
        pos_of[st.phi1[r[e]]] * m + s[e],
        weights=pairs.w[r[e]] * (d2[r[e]] - np.maximum(t[e], d1[r[e]])),
        minlength=4 * m,
    )
    served = st.phi1 >= 0
    expect_loss = np.bincount(
        st.phi1[served], weights=pairs.w[served] * (d2[served] - d1[served]), minlength=m
    )
    np.testing.assert_allclose(gain, expect_gain, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(extra, expect_extra, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(loss, expect_loss, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_compiled_nearest_sites_and_catchment_costs_match_plain_numpy(seed: int) -> None:
    pi, pj, pt, w = _random(seed, n=50, m=10, density=0.6)
    m = 10
    openable = np.ones(m, dtype=bool)
    openable[seed % m] = False
    pairs = _Pairs(pi, pj, pt, w, np.ones(m, dtype=bool))
    rng = np.random.default_rng(seed)
    is_open = np.zeros(m, dtype=bool)
    is_open[rng.choice(m, 3, replace=False)] = True
    phi1, d1, phi2, d2 = pairs.nearest_two(is_open)
    for i in range(pairs.n):
        seg = slice(pairs.indptr[i], pairs.indptr[i + 1])
        pairs_i = zip(pairs.mins[seg], pairs.site[seg], strict=True)
        opened = [(t, j) for t, j in pairs_i if is_open[j]]
        want = [*opened[:2], (np.inf, -1), (np.inf, -1)]
        assert (d1[i], phi1[i]) == want[0]
        assert (d2[i], phi2[i]) == want[1]
    owner = np.where(phi1 >= 0, np.searchsorted(np.flatnonzero(is_open), phi1), -1)
    total, count = catchment_costs(pairs.indptr, pairs.cost, pairs.site, owner, openable, 3)
    ok = openable[pairs.site] & (owner[pairs.row] >= 0)
    key = owner[pairs.row[ok]] * m + pairs.site[ok]
    np.testing.assert_allclose(
        total, np.bincount(key, weights=pairs.cost[ok], minlength=3 * m), rtol=1e-12
    )
    np.testing.assert_array_equal(count, np.bincount(key, minlength=3 * m))


def test_a_point_of_tiny_weight_is_served_first_like_any_other() -> None:
    # two heavy points near sites 0 and 1; a point of tiny weight reaches only site 2. A
    # penalty in minutes, weighted, let the greedy take 0 and 1 and leave it unserved.
    pi = np.array([0, 0, 1, 1, 2])
    pj = np.array([0, 1, 1, 0, 2])
    pt = np.array([1.0, 2.0, 1.0, 2.0, 1.0])
    w = np.array([100.0, 100.0, 1e-6])
    fixed, openable = np.zeros(3, dtype=bool), np.ones(3, dtype=bool)
    plain = p_median_greedy((pi, pj, pt), w, 2, fixed=fixed, openable=openable)
    assert plain is not None
    assert plain[2]
    pairs = _Pairs(pi, pj, pt, w, openable)
    assert lazy_greedy(pairs, 2, fixed, openable)[2]
    got = solve_large_median(
        pi, pj, pt, w, 2, fixed=fixed, openable=openable, end=time.perf_counter() + 1.0
    )
    assert got is not None
    assert got.plan[2]
    assert got.value == pytest.approx(100.0 * 1 + 100.0 * 2 + 1e-6)
    assert got.bound <= got.value
