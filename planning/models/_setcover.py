r"""Set covering at province scale: sparse plans and a valid Lagrangian bound, no size cap.

Problem (the LSCP, and the p-center's radius check "at most :math:`p` sites?"): rows
:math:`i` (demand points that must be served, each with some allowed site), :math:`N_i` the
sites that may serve :math:`i`:

.. math::  \min \sum_j y_j \;\text{s.t.}\; \sum_{j \in N_i} y_j \ge 1,\;
           y \in \{0,1\}^m,\; y_j = 1 \;(j \text{ fixed}).

Rows met by a fixed site are dropped and identical rows kept once (:func:`cover_rows`).

Bound. For multipliers :math:`u \ge 0` on the cover rows,

.. math::  L(u) = \sum_i u_i + \sum_j \min\bigl(0,\, 1 - (A^\top u)_j\bigr) \le \text{OPT},

whose maximum over :math:`u` is the LP bound. :func:`lagrangian_cover` looks for good
multipliers (HiGHS's first-order LP method, PDLP, for the duals of the LP relaxation, then
subgradient steps); the bound reported is :func:`cover_bound`, :math:`L(u)` evaluated
exactly at the multipliers found, rounded up (the objective counts sites). Inexact duals
therefore only weaken the bound, never make it invalid.

Plans. Greedy cover (most unserved rows first), then redundant sites removed
(:func:`remove_redundant`); a second greedy weighs rows by the multipliers (Beasley's
Lagrangian heuristic). :func:`search_cover` improves the plan by row-weighting local search
(RWLS, Gao, Weise & Li 2015), and :func:`improve_cover` then searches large neighbourhoods of
the plan: the sites of a region (a site and the open sites sharing most rows with it) are
closed, and the fewest sites serving the rows left unserved are found by a small exact MIP
(after the exact reductions of :func:`reduce_dominated`: dominated sites, twin and superset
rows); the region grows when no region of the current size improves the plan, up to the
whole instance. A plan from here is never a proof by itself: ``optimal`` needs a bound equal to
its size.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from planning.models._mip import BoolArray, FloatArray, IntArray, quiet_highs

#: Largest sub-instance (sites, rows) :func:`subset_cover_mip` reduces before its MIP (Fujian
#: LSCP regions of 14 sites: about 4,000 rows x 900 sites, 0.4 s).
MAX_REDUCED_SITES = 2_000
MAX_REDUCED_ROWS = 6_000


def cover_rows(a: sp.csr_matrix, need: BoolArray, fixed: BoolArray) -> sp.csr_matrix:
    """Rows of ``a`` in ``need`` not met by a fixed site, identical rows kept once.

    The columns are all sites (fixed ones have no entry left in the kept rows).
    """
    met = (a @ fixed.astype(np.float64)) > 0.5
    rows = sp.csr_matrix(a[np.flatnonzero(need & ~met)])
    rows.sort_indices()
    seen: dict[bytes, int] = {}
    keep: list[int] = []
    for i in range(rows.shape[0]):
        key = rows.indices[rows.indptr[i] : rows.indptr[i + 1]].tobytes()
        if key not in seen:
            seen[key] = i
            keep.append(i)
    out = sp.csr_matrix(rows[np.asarray(keep, dtype=np.int64)])
    out.data[:] = 1.0
    return out


def cover_bound(a: sp.csr_matrix, u: FloatArray) -> float:
    """:math:`L(u)` at ``max(u, 0)``: a lower bound on the number of free sites covering ``a``."""
    u = np.maximum(u, 0.0)
    reduced = 1.0 - np.asarray(a.T @ u).ravel()
    return float(u.sum() + np.minimum(reduced, 0.0).sum())


def ceil_bound(value: float) -> int:
    """Round a valid bound on an integer objective up (with a guard against rounding noise)."""
    return max(0, math.ceil(value - 1e-6))


def disjoint_rows(a: sp.csr_matrix) -> BoolArray:
    """Pick rows no two of which share a site (greedy, rows with fewest sites first).

    Each needs a site of its own, so its size is a lower bound on any cover: the Lagrangian
    bound at multipliers 1 on these rows and 0 elsewhere.
    """
    used = np.zeros(a.shape[1], dtype=bool)
    chosen = np.zeros(a.shape[0], dtype=bool)
    for r in np.argsort(np.diff(a.indptr), kind="stable").tolist():
        cols = a.indices[a.indptr[r] : a.indptr[r + 1]]
        if not used[cols].any():
            chosen[r] = True
            used[cols] = True
    return chosen


def lagrangian_cover(
    a: sp.csr_matrix,
    end_time: float,
    *,
    target: float | None = None,
    use_lp: bool = True,
) -> tuple[FloatArray, float]:
    """Multipliers ``u >= 0`` for the rows of ``a`` and their exact bound :math:`L(u)`.

    Half the time to ``end_time`` goes to the LP duals by PDLP (``use_lp``), the
    rest to subgradient steps from the best multipliers found (Polyak steps towards the LP
    value when known, else towards ``target`` or 5 % above the bound). Stops early when the
    bound exceeds ``target`` (nothing more is needed to settle a decision) or, rounded up,
    reaches the LP value PDLP reports (an estimate: it only ends the search).
    """
    n = a.shape[0]
    if n == 0:
        return np.zeros(0), 0.0
    at = sp.csr_matrix(a.T)
    deg = np.diff(a.indptr).astype(np.float64)
    u = 1.0 / np.maximum(deg, 1.0)
    best_u, best = u.copy(), cover_bound(a, u)
    apart = disjoint_rows(a).astype(np.float64)  # rows needing a site each: a bound at once
    val = cover_bound(a, apart)
    if val > best:
        best_u, best = apart, val
    lp_value: float | None = None
    if use_lp and (target is None or best <= target):
        share = 0.5 * (end_time - time.perf_counter())
        if share > 0.2:
            got = _pdlp_duals(a, share)
            if got is not None:
                lu, lp_value = got
                val = cover_bound(a, lu)
                if val > best:
                    best_u, best = lu, val
    u = best_u.copy()
    f = 0.1 if lp_value is not None else 1.0
    stall = 0
    while time.perf_counter() < end_time and (target is None or best <= target):
        if lp_value is not None and ceil_bound(best) >= math.ceil(lp_value - 1e-3):
            break  # L(u) never exceeds the LP value: rounded up, nothing more to gain
        reduced = 1.0 - np.asarray(at @ u).ravel()
        x = reduced < 0.0
        value = float(u.sum() + reduced[x].sum())
        if value > best + 1e-5:
            best, best_u, stall = value, u.copy(), 0
        else:
            stall += 1
            if stall >= 20:
                f *= 0.7
                stall = 0
                if f < 1e-5:
                    break
                u = best_u.copy()
                continue
        g = 1.0 - np.asarray(a @ x.astype(np.float64)).ravel()
        g[(u <= 0.0) & (g < 0.0)] = 0.0
        norm = float(g @ g)
        if norm == 0.0:  # x covers every row at u: L(u) is the LP optimum
            break
        aim = lp_value if lp_value is not None else (target or 1.05 * max(best, 1.0))
        u = np.maximum(0.0, u + f * max(aim - value, 0.01) / norm * g)
    return best_u, best


def _pdlp_duals(a: sp.csr_matrix, seconds: float) -> tuple[FloatArray, float] | None:
    """Row duals of the cover LP by HiGHS's PDLP within ``seconds`` (approximate; any sign)."""
    import highspy  # noqa: PLC0415 - heavy import, only when solving

    n, m = a.shape
    h = quiet_highs()  # the process's thread setting, like every HiGHS of the models
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m, n
    lp.col_cost_ = np.ones(m)
    lp.col_lower_ = np.zeros(m)
    lp.col_upper_ = np.ones(m)
    lp.row_lower_ = np.ones(n)
    lp.row_upper_ = np.full(n, highspy.kHighsInf)
    c = sp.csc_matrix(a)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = c.indptr
    lp.a_matrix_.index_ = c.indices
    lp.a_matrix_.value_ = c.data
    h.passModel(lp)
    h.setOptionValue("solver", "pdlp")
    h.setOptionValue("presolve", "off")
    h.setOptionValue("pdlp_d_gap_tol", 1e-4)
    h.setOptionValue("time_limit", float(max(seconds, 0.05)))
    h.run()
    sol = h.getSolution()
    if not sol.dual_valid:
        return None
    u = np.maximum(np.asarray(sol.row_dual, dtype=np.float64), 0.0)
    if u.size != n:
        return None
    x = np.asarray(sol.col_value, dtype=np.float64)
    return u, float(x.sum())  # the primal value: where the steps aim, never a bound


def remove_redundant(a: sp.csr_matrix, plan: BoolArray, keep: BoolArray) -> BoolArray:
    """Close open sites (not in ``keep``) whose rows all have another open site, smallest first."""
    plan = plan.copy()
    count = np.asarray(a @ plan.astype(np.float64)).ravel()
    at = sp.csr_matrix(a.T)
    cand = np.flatnonzero(plan & ~keep)
    sizes = np.diff(at.indptr)[cand]
    for j in cand[np.argsort(sizes, kind="stable")].tolist():
        rows = at.indices[at.indptr[j] : at.indptr[j + 1]]
        if (count[rows] >= 2.0).all():
            plan[j] = False
            count[rows] -= 1.0
    return plan


def weighted_greedy(
    a: sp.csr_matrix,
    allowed: BoolArray,
    *,
    row_weight: FloatArray | None = None,
    max_sites: int | None = None,
) -> BoolArray | None:
    """Greedy cover of every row of ``a`` by ``allowed`` sites, then redundant sites removed.

    Each step opens the site with the largest (``row_weight``-weighted) count of unserved
    rows; ties: the lowest position. ``None`` when a row cannot be served or more than
    ``max_sites`` sites would be needed.
    """
    order = greedy_order(a, allowed, row_weight=row_weight, max_sites=max_sites)
    if order is None:
        return None
    plan = np.zeros(a.shape[1], dtype=bool)
    plan[order] = True
    return remove_redundant(a, plan, np.zeros(a.shape[1], dtype=bool))


def greedy_order(
    a: sp.csr_matrix,
    allowed: BoolArray,
    *,
    row_weight: FloatArray | None = None,
    max_sites: int | None = None,
) -> IntArray | None:
    """Sites opened by the greedy cover of every row of ``a``, in order (``None``: no cover).

    The counts of unserved rows per site are updated as rows get served (work proportional to
    the entries of ``a`` overall, not per step); choices are those of recounting at every
    step (ties: the lowest position). Stops with ``None`` once more than ``max_sites`` sites
    would be needed or when a row has no allowed site.
    """
    m = a.shape[1]
    a = sp.csr_matrix(a)
    at = sp.csr_matrix(a.T)
    w = np.ones(a.shape[0]) if row_weight is None else np.maximum(row_weight, 1e-9)
    gain = np.asarray(at @ w, dtype=np.float64).ravel()
    gain[~allowed] = -1.0
    left = np.ones(a.shape[0], dtype=bool)
    n_left = a.shape[0]
    opened: list[int] = []
    while n_left:
        j = int(np.argmax(gain))
        if gain[j] <= 0.0:
            return None
        gain[j] = -1.0
        rows = at.indices[at.indptr[j] : at.indptr[j + 1]]
        newly = rows[left[rows]]
        if newly.size == 0:  # rounding left a trace of a served count: not a real gain
            continue
        if max_sites is not None and len(opened) >= max_sites:
            return None
        opened.append(j)
        left[newly] = False
        n_left -= newly.size
        sub = a[newly]
        weights = np.repeat(w[newly], np.diff(sub.indptr))
        gain -= np.bincount(sub.indices, weights=weights, minlength=m)
    return np.asarray(opened, dtype=np.int64)


def spread_rows(a: sp.csr_matrix, order: IntArray, limit: int) -> IntArray:
    """Up to ``limit`` rows of ``order`` (in that order) sharing no site: each needs its own."""
    used = np.zeros(a.shape[1], dtype=bool)
    picked: list[int] = []
    for i in order.tolist():
        s = a.indices[a.indptr[i] : a.indptr[i + 1]]
        if not used[s].any():
            picked.append(i)
            used[s] = True
            if len(picked) >= limit:
                break
    return np.asarray(picked, dtype=np.int64)


def subset_cover_mip(
    a: sp.csr_matrix, rows: IntArray, seconds: float, *, reduce: bool = False
) -> tuple[BoolArray | None, int]:
    """Fewest sites covering the rows ``rows`` of ``a``: the plan found and a proven bound.

    The cover of a subset of rows is a relaxation of the cover of all rows, so the bound
    (HiGHS's dual bound, rounded up; 0 when it proved nothing) is valid for ``a`` itself.
    ``reduce``: first the exact reductions of :func:`reduce_dominated` (same optimum; only
    up to :data:`MAX_REDUCED_SITES` sites and :data:`MAX_REDUCED_ROWS` rows -- its work grows
    with the squares of both).
    """
    from planning.models._mip import HighsSession, MipBuilder  # noqa: PLC0415

    sub = sp.csr_matrix(a[rows])
    cols = np.unique(sub.indices)
    local = sp.csr_matrix(sub[:, cols])
    if reduce and cols.size <= MAX_REDUCED_SITES and rows.size <= MAX_REDUCED_ROWS:
        local, kept = reduce_dominated(local)
        cols = cols[kept]
    coo = local.tocoo()
    b = MipBuilder(sense="min")
    y0 = b.add_cols(cols.size, cost=1.0, lb=0.0, ub=1.0, integer=True, prefix="y")
    b.add_rows(local.shape[0], coo.row.astype(np.int64), y0 + coo.col, 1.0, lb=1.0, family="cover")
    mip = b.build(integral_objective=True)
    raw = HighsSession(mip).solve(time_limit_s=max(seconds, 0.05), mip_gap=0.0)
    bound = 0 if raw.bound is None else ceil_bound(raw.bound)
    if raw.x is None:
        return None, bound
    plan = np.zeros(a.shape[1], dtype=bool)
    plan[cols[raw.x[y0 : y0 + cols.size] > 0.5]] = True
    return plan, bound


def reduce_dominated(a: sp.csr_matrix, rounds: int = 4) -> tuple[sp.csr_matrix, IntArray]:
    """Exact set-cover reductions of ``a`` (every site costs 1): the rows and sites left.

    A site whose rows are a subset of another site's is dropped (of equal sites the first
    stays; sites with no row go too): swapping it for the other never loses a row. Then
    identical rows are kept once and a row whose site set contains another row's is dropped
    (serving the smaller serves it). Repeated up to ``rounds`` times; the optimum is that of
    ``a`` and a cover of the rows left is a cover of ``a``. Returns the reduced matrix and
    the positions of its columns in ``a``.
    """
    cols = np.arange(a.shape[1], dtype=np.int64)
    for _ in range(rounds):
        c = sp.csc_matrix(a)
        size = np.diff(c.indptr).astype(np.float64)
        inside = (c.T @ c).toarray() >= size[:, None] - 0.5  # column j within column k
        np.fill_diagonal(inside, val=False)
        equal = inside & inside.T
        drop = (inside & ~equal).any(axis=1) | np.triu(equal, k=1).any(axis=0) | (size == 0)
        if drop.any():
            keep = np.flatnonzero(~drop)
            a = sp.csr_matrix(a[:, keep])
            cols = cols[keep]
        a = cover_rows(a, np.ones(a.shape[0], dtype=bool), np.zeros(a.shape[1], dtype=bool))
        twin_free = a.shape[0]
        a = _drop_superset_rows(a)
        # twins gone change no site's rows-within relation: only dropped sites or superset
        # rows call for another round
        if not drop.any() and a.shape[0] == twin_free:
            break
    return a, cols


def minimal_rows(a: sp.csr_matrix) -> sp.csr_matrix:
    """Keep the rows of ``a`` (0/1) that contain no other row, identical rows once.

    Any set of sites meeting the rows kept meets every row of ``a``: a row dropped contains
    the site set of a row kept. Rows keep their order; rows without a site are kept as they
    are (callers that need every row reachable check it first).
    """
    a = sp.csr_matrix(a, dtype=np.float64)  # counts, not a boolean product
    return _drop_superset_rows(
        cover_rows(a, np.ones(a.shape[0], dtype=bool), np.zeros(a.shape[1], dtype=bool))
    )


def _drop_superset_rows(a: sp.csr_matrix) -> sp.csr_matrix:
    """Rows of ``a`` (float 0/1, no two identical) that contain no other row, in order."""
    deg = np.diff(a.indptr).astype(np.float64)
    shared = (a @ a.T).tocoo()
    within = (shared.data >= deg[shared.row] - 0.5) & (shared.row != shared.col)
    superset = np.zeros(a.shape[0], dtype=bool)
    superset[shared.col[within]] = True  # row "col" contains row "row" (no twins left)
    return sp.csr_matrix(a[np.flatnonzero(~superset)]) if superset.any() else a


def decide_cover(
    a: sp.csr_matrix, k: int, end_time: float, *, per_round: int = 60
) -> tuple[BoolArray | None, bool]:
    """Decide "can ``k`` sites cover every row of ``a``?" by row generation.

    Returns ``(plan, False)`` with a cover of at most ``k`` sites (proven yes), ``(None,
    True)`` when a subset of rows already needs more than ``k`` (proven no), ``(None,
    False)`` when time ran out (nothing proven). Rows are added where the subset's cover
    leaves them unserved, far apart first (Contardo, Iori & Kramer 2019); the subset cover is
    completed greedily to test the yes side at every round.
    """
    deg = np.diff(a.indptr)
    subset = spread_rows(a, np.argsort(deg, kind="stable"), per_round)
    if subset.size > k:
        return None, True
    while a.shape[0] and time.perf_counter() < end_time:
        plan, bound = subset_cover_mip(a, subset, end_time - time.perf_counter())
        if bound > k:
            return None, True
        if plan is None:
            break
        served = np.asarray(a @ plan.astype(np.float64)).ravel() > 0.5
        left = np.flatnonzero(~served)
        more = (
            np.zeros(a.shape[1], dtype=bool)
            if left.size == 0
            else weighted_greedy(a[left], ~plan, max_sites=k - int(plan.sum()))
        )
        if more is not None and int((plan | more).sum()) <= k:
            return plan | more, False
        if left.size == 0:
            return None, False  # the subset's cover serves all but is too large: unproven
        add = spread_rows(a, left[np.argsort(deg[left], kind="stable")], per_round)
        subset = np.union1d(subset, np.union1d(add, left[: per_round // 2]))
    if a.shape[0] == 0:
        return np.zeros(a.shape[1], dtype=bool), False
    return None, False


def search_cover(
    a: sp.csr_matrix,
    plan: BoolArray,
    end_time: float,
    *,
    floor: int = 0,
    seed: int = 0,
    chunk_s: float = 0.25,
) -> BoolArray:
    """Row-weighting local search (RWLS) from the cover ``plan`` of every row of ``a``.

    Gao, Weise & Li (2015, EJOR, "An efficient local search heuristic with row weighting
    for the unicost set covering problem"): once every row is served the plan is recorded and
    a site closed; each step closes a site and opens one serving a random unserved row, by
    scores weighted with how long each row has stayed unserved
    (:func:`~planning.models._kernels.cover_search`). Runs in chunks of about ``chunk_s``
    seconds until ``end_time`` or a cover of ``floor`` sites (a lower bound: nothing
    smaller exists). Fujian's LSCP at 60 min (36,666 rows x 4,979 sites): 101-105 sites in
    30-50 s, where the region search below reaches 107-108 in 60 s and cannot improve them.

    Returns the smallest cover seen (redundant sites removed), never larger than ``plan``.
    """
    from planning.models._kernels import cover_search  # noqa: PLC0415 - numba, large path only

    n, m = a.shape
    none = np.zeros(m, dtype=bool)
    best = remove_redundant(a, plan, none)
    if n == 0 or int(best.sum()) <= floor:
        return best
    rows = sp.csr_matrix(a, dtype=np.float64)
    rows.sort_indices()
    cols = sp.csc_matrix(rows)
    cols.sort_indices()
    r_ptr, r_idx = rows.indptr.astype(np.int64), rows.indices.astype(np.int64)
    c_ptr, c_idx = cols.indptr.astype(np.int64), cols.indices.astype(np.int64)
    chosen = best.copy()
    weight = np.ones(n, dtype=np.int64)
    stamp = np.zeros(m, dtype=np.int64)
    free_to_add = np.ones(m, dtype=bool)
    clock = np.array([0, -1], dtype=np.int64)
    steps = 64
    part = 0
    while int(best.sum()) > floor:
        left = end_time - time.perf_counter()
        if left <= 0.0:
            break
        start, before = time.perf_counter(), int(clock[0])
        found, size = cover_search(
            r_ptr, r_idx, c_ptr, c_idx, chosen, weight, stamp, free_to_add, clock,
            steps, floor, seed + part,
        )  # fmt: skip
        part += 1
        if size < int(best.sum()) and _covers(a, found):
            best = remove_redundant(a, found, none)
        took = max(time.perf_counter() - start, 1e-6)
        rate = max(int(clock[0]) - before, 1) / took  # steps per second
        left = end_time - time.perf_counter()
        steps = max(1, min(int(rate * chunk_s), int(rate * left)))
    return best


def improve_cover(
    a: sp.csr_matrix,
    plan: BoolArray,
    end_time: float,
    *,
    size: int = 14,
    grow: int = 2,
    patience: int = 25,
    sub_limit_s: float = 3.0,
    reserve_s: float = 0.0,
    seed: int = 0,
) -> tuple[BoolArray, int]:
    """Large-neighbourhood search from the cover ``plan`` of every row of ``a`` until ``end_time``.

    A region is a site of the plan and the ``size - 1`` open sites sharing most rows with it;
    its sites are closed and the rows no other open site serves are covered again by the
    fewest sites (:func:`subset_cover_mip` after exact reductions, at most ``sub_limit_s``
    seconds), kept when fewer than the region's. Every site of the plan is a region's seed
    once per round (random order); after a round without improvement, or ``patience``
    regions in a row without, the regions grow by ``grow`` sites. A region already solved to
    optimality with the same unserved rows is not solved again. Once a
    region would hold the whole plan, the last step is the MIP on all rows with the time left
    minus ``reserve_s`` (HiGHS's overshoot on a large MIP).

    Returns the best cover found (redundant sites removed) and a lower bound on the fewest
    sites covering ``a``: the whole-instance MIP's proven bound, else 0 (a region's optimum
    proves nothing about the whole).
    """
    n, m = a.shape
    none = np.zeros(m, dtype=bool)
    plan = remove_redundant(a, plan, none)
    if n == 0:
        return plan, 0
    at = sp.csr_matrix(a.T)
    rng = np.random.default_rng(seed)
    solved: set[bytes] = set()
    queue: list[int] = []
    k = max(size, 2)
    improved = False
    rounds = 0
    misses = 0
    while time.perf_counter() < end_time - 0.05:
        sites = np.flatnonzero(plan)
        if k >= sites.size:  # the region is the whole plan: the MIP on every row
            seconds = end_time - time.perf_counter() - reserve_s
            if seconds < 0.05:
                break
            got, bound = subset_cover_mip(a, np.arange(n, dtype=np.int64), seconds)
            if got is not None and _covers(a, got) and got.sum() < plan.sum():
                plan = remove_redundant(a, got, none)
            return plan, bound
        if not queue:
            if rounds and not improved:
                k += grow  # a round without gain: larger regions
            queue = rng.permutation(sites).tolist()
            improved = False
            rounds += 1
            continue
        j = queue.pop()
        if not plan[j]:
            continue
        shared = np.asarray((at[sites] @ at[j].T).todense()).ravel()
        region = np.sort(sites[np.argsort(-shared, kind="stable")[:k]])
        others = plan.copy()
        others[region] = False
        rows = np.flatnonzero(np.asarray(a @ others.astype(np.float64)).ravel() < 0.5)
        key = region.tobytes() + rows.tobytes()
        if key in solved:
            continue
        seconds = min(sub_limit_s, end_time - time.perf_counter())
        # (the reductions take up to a second on Fujian's largest regions: not at the end)
        got, bound = subset_cover_mip(a, rows, seconds, reduce=seconds >= 1.0)
        if got is not None and got.sum() < region.size:
            trial = others | got
            if _covers(a, trial):
                plan = remove_redundant(a, trial, none)
                improved = True
                misses = 0
                continue
        if bound >= region.size:  # no fewer sites serve these rows: do not ask again
            solved.add(key)
        misses += 1
        if misses >= patience:
            k += grow
            misses = 0
    return plan, 0


def _covers(a: sp.csr_matrix, plan: BoolArray) -> bool:
    """Whether ``plan`` serves every row of ``a``."""
    return bool((np.asarray(a @ plan.astype(np.float64)).ravel() > 0.5).all())
