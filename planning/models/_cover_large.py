r"""The MCLP at province scale: exact reductions, strong plans and a valid Lagrangian bound.

Used by :func:`planning.models.mclp.solve_mclp` above the dense size
(:data:`~planning.models._heuristic.MAX_DENSE_CELLS`) when only ``p``, existing sites and the
allowed pairs constrain the plan. Memory and time per step are :math:`O(\text{pairs})`; no
size cap switches a step off.

Notes
-----
Demand rows :math:`g` (weight :math:`W_g`), sites :math:`j`, :math:`N_g` the sites covering
:math:`g`, ``k`` free sites to open:

1. Exact reductions (:func:`reduce_cover`): demand met by an existing site is a constant;
   rows with the same site set are merged; a row covered by one site only becomes that
   site's profit :math:`c_j`; a site without profit whose rows are a subset of another
   site's is dominated and dropped (in any plan it can be swapped for its dominator, or, if
   that is open already, for any closed site, without losing value). The value of every
   plan of the kept sites is unchanged, and an optimal plan survives.
2. Plans: lazy greedy, best-improvement 1-swaps, the Lagrangian top-k plan polished by
   swaps, then neighbourhood sub-MIPs (free the open sites near one open site, re-place
   them optimally with every other site fixed).
3. Bound. For every :math:`0 \le \mu_g \le W_g`

   .. math::  U(\mu) = \text{const} + \sum_g (W_g - \mu_g)
              + \text{top}_k \{ c_j + \textstyle\sum_{g \ni j} \mu_g \}

   bounds every plan (Lagrangian relaxation of the cover rows); its minimum is the LP bound.
   :math:`\mu` comes from projected subgradient steps and from the LP's duals (HiGHS's
   PDLP or interior point, no crossover), refined by minimising a smoothed :math:`U`
   (:func:`smoothed_multipliers`); the reported bound is :math:`U(\mu)` evaluated exactly,
   so inexact duals only weaken it, never make it invalid. With integral weights it is
   rounded down.
4. Reduced-cost fixing against the incumbent (a site whose forced opening or closing gives
   at most the incumbent's value), then an exact MIP on the residual when it is small; its
   proven bound, combined as :math:`\max(\text{incumbent}, \text{residual bound})`, is valid
   because every plan breaking a fixing is no better than the incumbent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, minimize
from threadpoolctl import threadpool_limits

from planning.models._mip import BoolArray, FloatArray, IntArray, quiet_highs
from planning.models._sparse import cover_lazy_greedy, cover_swap_search

#: The exact residual MIP runs only when reduced-cost fixing leaves at most this many free
#: sites (a MIP whose root LP cannot finish proves nothing).
MAX_EXACT_SITES = 800
#: Reduced instances with at least this many non-zeros get LP multipliers from HiGHS (below:
#: subgradient steps only, which reach the LP bound there in a fraction of a second).
LP_MIN_NNZ = 20_000
#: Above this many non-zeros the LP multipliers come from PDLP instead of the interior point.
PDLP_MIN_NNZ = 150_000
#: Share of the time left that the LP multipliers get (the rest goes to better plans).
LP_SHARE = 0.45
#: After the LP multipliers, subgradient steps aim this share of the bound below it.
POLISH_STEP = 5e-4
#: Smoothing widths of :func:`smoothed_multipliers`, as shares of the 90th percentile weight
#: (each minimisation starts from the last; the smallest leaves U within ~1e-5 of the LP).
#: From PDLP's duals on Fujian (p = 40 / 80 / 160), U - LP after 3 s: +0.5 / +0.3 / +0.4
#: starting at 3e-3, +0.4 / +0.9 / +1.9 starting at 1e-2 (too slow for p = 160), +2.8 / +0.7
#: / +0.3 starting at 1e-4 (too fine for p = 40).
SMOOTHING = (3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5)
#: Share of the time left (at most :data:`SMOOTHING_MAX_S`) for the smoothed multipliers.
SMOOTHING_SHARE = 0.25
SMOOTHING_MAX_S = 5.0


@dataclass
class CoverInstance:
    """A reduced covering instance (see the module docstring).

    Attributes
    ----------
    a
        Groups x kept-sites CSR (0/1), every row with at least two sites.
    w, c
        Group weights; site profits (weight only that site covers).
    const
        Weight covered whatever the plan (by existing sites).
    cols
        Site position of each kept site.
    k
        Number of kept sites to open.
    """

    a: sp.csr_matrix
    w: FloatArray
    c: FloatArray
    const: float
    cols: IntArray
    k: int
    at: sp.csr_matrix = field(init=False)
    removed: int = 0

    def __post_init__(self) -> None:
        self.at = sp.csr_matrix(self.a.T)

    def value(self, sel: IntArray) -> float:
        """Covered weight when the kept sites ``sel`` (local positions) open."""
        x = np.zeros(self.cols.size)
        x[sel] = 1.0
        cov = (self.a @ x) > 0.5
        return float(self.const + self.c[sel].sum() + self.w[cov].sum())


@dataclass
class LargeCover:
    """Outcome of :func:`solve_cover_large`: a plan, its value, a valid bound and a trace."""

    plan: BoolArray
    value: float
    bound: float
    log: list[str]


def _csr01(a: sp.spmatrix) -> sp.csr_matrix:
    m = sp.csr_matrix(a)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    m.data = np.ones_like(m.data, dtype=np.float64)
    return m


def merge_identical_rows(a: sp.csr_matrix, w: FloatArray) -> tuple[sp.csr_matrix, FloatArray]:
    """Merge rows with the same site set, summing their weights (exact; hashes verified)."""
    n = a.shape[0]
    if n == 0:
        return a, w
    rng = np.random.default_rng(12345)
    r1 = rng.integers(1, 2**61 - 1, size=a.shape[1], dtype=np.int64)
    r2 = rng.integers(1, 2**61 - 1, size=a.shape[1], dtype=np.int64)
    rows = np.repeat(np.arange(n), np.diff(a.indptr))
    h1 = np.zeros(n, dtype=np.int64)
    h2 = np.zeros(n, dtype=np.int64)
    with np.errstate(over="ignore"):
        np.add.at(h1, rows, r1[a.indices])
        np.add.at(h2, rows, r2[a.indices] * (a.indices.astype(np.int64) + 7))
    key = np.stack([h1, h2, np.diff(a.indptr).astype(np.int64)], axis=1)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    rep = first[inverse]
    for i in np.flatnonzero(rep != np.arange(n)).tolist():
        r = int(rep[i])
        same = np.array_equal(
            a.indices[a.indptr[i] : a.indptr[i + 1]], a.indices[a.indptr[r] : a.indptr[r + 1]]
        )
        if not same:  # a hash collision: merge nothing (still exact)
            return a, w
    merged = np.bincount(inverse, weights=w, minlength=first.size).astype(np.float64)
    return _csr01(a[first]), merged


def dominated_columns(a: sp.csr_matrix, c: FloatArray) -> BoolArray:
    """Sites without profit whose rows are a subset of another site's (ties: lowest stays)."""
    at = sp.csr_matrix(a.T)
    deg = np.diff(at.indptr)
    inter = sp.coo_matrix(at @ a)  # |N(j) & N(k)|
    j, k, v = inter.row, inter.col, inter.data
    sub = (j != k) & (v >= deg[j] - 0.5) & (c[j] <= 1e-12)
    j, k = j[sub], k[sub]
    keep_k = (deg[k] > deg[j]) | (c[k] > 1e-12) | (k < j)
    dom = np.zeros(a.shape[1], dtype=bool)
    dom[j[keep_k]] = True
    if a.shape[1] > 1:  # empty, profitless sites: any other site does as well
        dom |= (deg == 0) & (c <= 1e-12) & (np.arange(a.shape[1]) > 0)
    return dom


def reduce_cover(
    a_full: sp.csr_matrix, w: FloatArray, p: int, *, fixed: BoolArray, openable: BoolArray
) -> CoverInstance:
    """Exact reduction of an MCLP on a demand x site CSR matrix (module docstring, step 1)."""
    a_full = _csr01(a_full)
    met = (a_full @ fixed.astype(np.float64)) > 0.5
    const = float(w[met].sum())
    free = np.flatnonzero(openable & ~fixed)
    k = max(0, min(p - int(fixed.sum()), free.size))
    keep_rows = np.flatnonzero(~met & (w > 0))
    a = _csr01(a_full[keep_rows][:, free])
    wr = np.asarray(w[keep_rows], dtype=np.float64)
    nonempty = np.flatnonzero(np.diff(a.indptr) > 0)
    a, wr = _csr01(a[nonempty]), wr[nonempty]
    cols, c, removed = free.copy(), np.zeros(free.size), 0
    if k == 0 or cols.size == 0:
        return CoverInstance(sp.csr_matrix((0, cols.size)), np.zeros(0), c, const, cols, k)
    while True:
        a, wr = merge_identical_rows(a, wr)
        single = np.diff(a.indptr) == 1
        if single.any():
            c += np.bincount(a.indices[a.indptr[:-1][single]], weights=wr[single], minlength=c.size)
            a, wr = _csr01(a[np.flatnonzero(~single)]), wr[~single]
        if cols.size <= k:
            break
        dom = dominated_columns(a, c)
        if not dom.any() or int((~dom).sum()) < k:
            break
        keep = np.flatnonzero(~dom)
        removed += int(dom.sum())
        a, cols, c = _csr01(a[:, keep]), cols[keep], c[keep]
    return CoverInstance(a, wr, c, const, cols, k, removed=removed)


# ================================================================================== plans
def greedy(inst: CoverInstance, *, start: IntArray | None = None) -> IntArray:
    """Lazy greedy: open sites up to ``k``, each time the one adding the most weight.

    :func:`planning.models._sparse.cover_lazy_greedy` with the sites' profits :math:`c_j`.
    """
    return cover_lazy_greedy(inst.a, inst.w, inst.k, profit=inst.c, at=inst.at, start=start)


def swap_search(inst: CoverInstance, sel: IntArray, *, end_time: float) -> IntArray:
    """Best-improvement 1-swaps until none improves or ``end_time`` (``perf_counter``) passes.

    :func:`planning.models._sparse.cover_swap_search` with the sites' profits :math:`c_j`.
    """
    return cover_swap_search(inst.a, inst.w, sel, end_time=end_time, profit=inst.c, at=inst.at)


# ================================================================================= bounds
def top_k(values: FloatArray, k: int) -> tuple[float, IntArray]:
    """Sum of the ``k`` largest values and their positions."""
    k = max(0, min(k, values.size))
    if k == 0:
        return 0.0, np.zeros(0, dtype=np.int64)
    idx = np.arange(values.size) if k == values.size else np.argpartition(-values, k - 1)[:k]
    return float(values[idx].sum()), idx.astype(np.int64)


def lagrangian_bound(inst: CoverInstance, mu: FloatArray) -> tuple[float, FloatArray]:
    r"""Exact :math:`U(\mu)` (``mu`` clipped into ``[0, W]``) and the site scores."""
    mu = np.clip(mu, 0.0, inst.w)
    s = inst.c + inst.at @ mu
    top, _ = top_k(s, inst.k)
    return float(inst.const + (inst.w - mu).sum() + top), s


def subgradient(
    inst: CoverInstance, mu0: FloatArray, target: float, end_time: float
) -> tuple[float, FloatArray]:
    """Projected subgradient steps on :math:`U` (Polyak towards ``target``); best (U, mu)."""
    mu = np.clip(mu0, 0.0, inst.w)
    best, best_mu = lagrangian_bound(inst, mu)[0], mu.copy()
    scale, stall = 1.0, 0
    while time.perf_counter() < end_time:
        value, s = lagrangian_bound(inst, mu)
        if value < best - 1e-9:
            best, best_mu, stall = value, mu.copy(), 0
        else:
            stall += 1
            if stall >= 20:
                scale, stall = scale / 2, 0
                if scale < 1e-6:
                    break
        y = np.zeros(inst.cols.size)
        y[top_k(s, inst.k)[1]] = 1.0
        grad = (inst.a @ y) - 1.0
        grad[(mu <= 0) & (grad > 0)] = 0.0
        grad[(mu >= inst.w) & (grad < 0)] = 0.0
        norm = float(grad @ grad)
        if norm <= 1e-12:
            break
        step = scale * max(value - target, 1e-9 * max(1.0, target)) / norm
        mu = np.clip(mu - step * grad, 0.0, inst.w)
    return best, best_mu


def mclp_upper_bound(
    a: sp.csr_matrix,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    target: float,
    time_limit_s: float = 2.0,
) -> float:
    r"""Upper bound on the MCLP's covered weight: :math:`U(\mu)` after subgradient steps.

    ``a``: demand x site cover matrix (all sites), ``w`` the demand weights, at most ``p``
    sites of which the ``fixed`` ones are open and only ``openable`` ones may open;
    ``target``: a plan's value (the Polyak steps aim at it). The instance is reduced exactly
    first (:func:`reduce_cover`), so the bound holds for every plan of at most ``p`` sites,
    and for plans under further side rules, which only remove plans. Never above the weight
    any plan could cover.
    """
    inst = reduce_cover(a, w, p, fixed=fixed, openable=openable)
    best, _ = subgradient(inst, 0.5 * inst.w, target, time.perf_counter() + time_limit_s)
    return min(best, inst.const + float(inst.w.sum() + inst.c.sum()))


def smoothed_multipliers(inst: CoverInstance, mu0: FloatArray, end_time: float) -> FloatArray:
    r"""Multipliers near the LP optimum: a smoothed :math:`U` minimised by L-BFGS-B.

    With :math:`\text{top}_k(s) = \min_\lambda k\lambda + \sum_j (s_j - \lambda)^+`, the
    plus is smoothed as :math:`\tau \log(1 + e^{x/\tau})` and minimised jointly in
    :math:`(\mu, \lambda)` over the box :math:`0 \le \mu \le W`, for shrinking
    :math:`\tau` (:data:`SMOOTHING`), each from the last. First-order duals (PDLP) stall a
    little above the LP bound; this closes most of the rest (Fujian p = 160: 164,816.8 ->
    164,815.3 in 3 s, LP 164,814.9). Only the multipliers are returned: the caller evaluates
    :math:`U` exactly, so the result is a valid bound whatever the smoothing did.
    """
    a, at, w, c, k = inst.a, inst.at, inst.w, inst.c, inst.k
    ng = a.shape[0]
    if ng == 0 or k <= 0 or k > c.size:
        return np.clip(mu0, 0.0, w)
    mu = np.clip(mu0, 0.0, w)
    lam0 = float(np.sort(c + at @ mu)[-k])
    x = np.concatenate([mu, [lam0]])
    box = Bounds(np.concatenate([np.zeros(ng), [-np.inf]]), np.concatenate([w, [np.inf]]))
    scale = float(np.percentile(w, 90))

    def fun(xx: FloatArray, tau: float) -> tuple[float, FloatArray]:
        u = (c + at @ xx[:ng] - xx[ng]) / tau
        e = np.exp(-np.abs(u))
        sig = np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        f = float((w - xx[:ng]).sum() + k * xx[ng] + tau * (np.maximum(u, 0.0) + np.log1p(e)).sum())
        return f, np.concatenate([-1.0 + a @ sig, [k - sig.sum()]])

    def stop(_xk: FloatArray) -> None:
        if time.perf_counter() > end_time:
            raise StopIteration

    best, best_mu = lagrangian_bound(inst, mu)[0], mu
    # L-BFGS-B's BLAS calls are tiny; threaded OpenBLAS spins on a loaded 2-core machine
    with threadpool_limits(limits=1, user_api="blas"):
        for share in SMOOTHING:
            if time.perf_counter() > end_time:
                break
            try:
                res = minimize(
                    fun,
                    x,
                    args=(share * scale,),
                    jac=True,
                    method="L-BFGS-B",
                    bounds=box,
                    options={"maxiter": 200, "maxcor": 10},
                    callback=stop,
                )
                x = np.asarray(res.x, dtype=np.float64)
            except StopIteration:
                break
            value = lagrangian_bound(inst, x[:ng])[0]
            if value < best:
                best, best_mu = value, np.clip(x[:ng], 0.0, w)
    return best_mu


def _cover_model(
    sub: sp.csr_matrix, c: FloatArray, w: FloatArray, k: int
) -> tuple[FloatArray, sp.csc_matrix, FloatArray, FloatArray]:
    """Columns ``y`` then ``z``; rows ``z_g - sum y <= 0`` and ``sum y = k`` (maximise)."""
    ng, m = sub.shape
    rows = sp.vstack(
        [
            sp.hstack([-sub, sp.identity(ng)]),
            sp.hstack([sp.csr_matrix(np.ones((1, m))), sp.csr_matrix((1, ng))]),
        ]
    ).tocsc()
    lower = np.concatenate([np.full(ng, -np.inf), [float(k)]])
    upper = np.concatenate([np.zeros(ng), [float(k)]])
    return np.concatenate([c, w]), rows, lower, upper


def _pass(
    h: object,
    *,
    cost: FloatArray,
    rows: sp.csc_matrix,
    lo: FloatArray,
    up: FloatArray,
    integer: IntArray,
    offset: float,
) -> None:
    inf = h.getInfinity()  # type: ignore[attr-defined]
    n = cost.size
    h.passModel(  # type: ignore[attr-defined]
        int(n), int(rows.shape[0]), int(rows.nnz), 1, -1, float(offset),
        cost.astype(np.float64), np.zeros(n), np.ones(n), np.clip(lo, -inf, inf),
        np.clip(up, -inf, inf), rows.indptr.astype(np.int32), rows.indices.astype(np.int32),
        rows.data.astype(np.float64), integer.astype(np.int32),
    )  # fmt: skip


def lp_multipliers(inst: CoverInstance, time_limit_s: float) -> list[FloatArray]:
    r"""Cover-row duals of the LP relaxation by HiGHS, both signs (empty if none).

    Large instances use HiGHS's first-order PDLP solver, smaller ones its interior point
    (no crossover): on Fujian p = 80 PDLP's duals give :math:`U` within 0.03 % of the LP
    bound in 5 s, the interior point needs 20 s. Inexact or early duals are fine: they are
    only multipliers, the bound is :math:`U(\mu)` evaluated exactly.
    """
    h = quiet_highs()
    large = inst.a.nnz > PDLP_MIN_NNZ
    h.setOptionValue("solver", "pdlp" if large else "ipm")
    h.setOptionValue("run_crossover", "off")
    h.setOptionValue("presolve", "off")
    if large:
        h.setOptionValue("pdlp_d_gap_tol", 1e-6)
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    cost, rows, lo, up = _cover_model(inst.a, inst.c, inst.w, inst.k)
    _pass(
        h,
        cost=cost,
        rows=rows,
        lo=lo,
        up=up,
        integer=np.zeros(cost.size, dtype=np.int64),
        offset=inst.const,
    )
    h.run()
    sol = h.getSolution()
    if not sol.dual_valid:
        return []
    rd = np.asarray(sol.row_dual[: inst.a.shape[0]], dtype=np.float64)
    return [rd, -rd]


@dataclass
class _Mip:
    ok: bool
    optimal: bool
    x: FloatArray | None
    objective: float
    bound: float


def _solve_mip(
    sub: sp.csr_matrix, c: FloatArray, w: FloatArray, k: int, *, offset: float,
    time_limit_s: float, start: FloatArray | None,
) -> _Mip:  # fmt: skip
    """Solve an exact MCLP MIP with HiGHS; what it proved (a start turns presolve off)."""
    import highspy  # noqa: PLC0415 - heavy import, only when solving

    h = quiet_highs()
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-7)
    if start is not None:  # a start with presolve on can give a wrong "optimal" (HiGHS 1.x)
        h.setOptionValue("presolve", "off")
    cost, rows, lo, up = _cover_model(sub, c, w, k)
    integer = np.concatenate([np.ones(c.size), np.zeros(w.size)]).astype(np.int64)
    _pass(h, cost=cost, rows=rows, lo=lo, up=up, integer=integer, offset=offset)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, start))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    status = h.getModelStatus()
    bound = float(info.mip_dual_bound)
    x = None
    if info.primal_solution_status == 2:  # HiGHS's "feasible point"
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    obj = float(info.objective_function_value) if x is not None else -math.inf
    if x is not None and abs(float(cost @ x) + offset - obj) > 1e-6 * max(1.0, abs(obj)):
        return _Mip(ok=False, optimal=False, x=None, objective=-math.inf, bound=math.inf)
    optimal = status == highspy.HighsModelStatus.kOptimal and x is not None
    if not math.isfinite(bound):
        bound = math.inf
    return _Mip(ok=True, optimal=optimal, x=x, objective=obj, bound=bound)


def lns_submip(
    inst: CoverInstance, sel: IntArray, end_time: float, *, seed: int = 0,
    max_sites: int = 160, sub_time_s: float = 2.0,
) -> tuple[IntArray, float, int]:  # fmt: skip
    """Neighbourhood sub-MIPs: re-place optimally the open sites near one open site.

    Picks an open site, takes the sites within two coverage-neighbour steps (at most
    ``max_sites``, the most overlapping), frees the open ones among them and solves the
    small MCLP with every other open site fixed. Keeps improvements; returns the plan, its
    value and the number of sub-MIPs solved.
    """
    rng = np.random.default_rng(seed)
    a, at = inst.a, inst.at
    nb = sp.csr_matrix(at @ a)
    best = np.sort(sel)
    best_val = inst.value(best)
    solved = 0
    while best.size and time.perf_counter() < end_time - 0.05:
        r = int(rng.choice(best))
        region = np.array([r])
        for _ in range(2):
            nxt = np.unique(nb[region].indices)
            if nxt.size > max_sites:
                row = nb[r].toarray().ravel()
                nxt = nxt[np.argsort(-row[nxt], kind="stable")[:max_sites]]
                region = np.union1d(region, nxt)
                break
            region = nxt
        free_open = np.intersect1d(best, region)
        fixed_open = np.setdiff1d(best, free_open)
        x = np.zeros(inst.cols.size)
        x[fixed_open] = 1.0
        covered = (a @ x) > 0.5
        rows = np.flatnonzero(~covered & (a[:, region].getnnz(axis=1) > 0))
        sub = sp.csr_matrix(a[rows][:, region])
        ys = np.isin(region, free_open).astype(float)
        start = np.concatenate([ys, ((sub @ ys) > 0.5).astype(float)])
        left = end_time - time.perf_counter()
        ans = _solve_mip(
            sub, inst.c[region], inst.w[rows], free_open.size, offset=0.0,
            time_limit_s=min(sub_time_s, left), start=start,
        )  # fmt: skip
        solved += 1
        if ans.x is None:
            continue
        cand = np.union1d(fixed_open, region[ans.x[: region.size] > 0.5])
        if cand.size != best.size:
            continue
        v = inst.value(cand)
        if v > best_val + 1e-9 * max(1.0, best_val):
            cand = swap_search(inst, cand, end_time=end_time)
            best, best_val = np.sort(cand), inst.value(cand)
    return best, best_val, solved


def fix_and_solve(
    inst: CoverInstance,
    s: FloatArray,
    u: float,
    sel: IntArray,
    val: float,
    *,
    end_time: float,
    log: list[str],
) -> tuple[IntArray, float, float] | None:  # fmt: skip
    """Reduced-cost fixing against ``val``, then an exact MIP on a small residual.

    Returns the best plan, its value and a valid bound, or ``None`` when the residual is
    too large for an exact MIP.
    """
    k = inst.k
    order = np.argsort(-s, kind="stable")
    sk = s[order[k - 1]]
    sk1 = s[order[k]] if k < s.size else -np.inf
    slack = u - val
    closed = s < sk - slack  # forcing j open gives at most U - s_k + s_j <= val
    closed[order[:k]] = False
    opened = np.zeros(s.size, dtype=bool)
    if np.isfinite(sk1):
        opened[order[:k]] = s[order[:k]] - sk1 > slack  # closing j: U - s_j + s_{k+1} <= val
    free = np.flatnonzero(~closed & ~opened)
    log.append(f"reduced-cost fixing: {int(closed.sum())} closed, {int(opened.sum())} open")
    k_left = k - int(opened.sum())
    if k_left < 0 or free.size < k_left:
        return sel, val, val  # no better plan keeps the fixings: the incumbent is optimal
    if free.size > MAX_EXACT_SITES:
        return None
    open_idx = np.flatnonzero(opened)
    x = np.zeros(s.size)
    x[open_idx] = 1.0
    covered = (inst.a @ x) > 0.5
    const = inst.const + float(inst.c[open_idx].sum()) + float(inst.w[covered].sum())
    rows = np.flatnonzero(~covered)
    sub = sp.csr_matrix(inst.a[rows][:, free])
    keep = np.flatnonzero(sub.getnnz(axis=1) > 0)
    sub, wr = sp.csr_matrix(sub[keep]), inst.w[rows][keep]
    inc = np.zeros(s.size, dtype=bool)
    inc[sel] = True
    start = None
    if not (inc & closed).any() and inc[opened].all():
        ys = inc[free].astype(float)
        start = np.concatenate([ys, ((sub @ ys) > 0.5).astype(float)])
    ans = _solve_mip(
        sub, inst.c[free], wr, k_left, offset=const,
        time_limit_s=end_time - time.perf_counter(), start=start,
    )  # fmt: skip
    log.append(
        f"residual MIP ({free.size} sites): best {ans.objective:,.2f}, bound {ans.bound:,.2f}"
    )
    best_sel, best_val = sel, val
    if ans.x is not None:
        y = opened.copy()
        y[free[ans.x[: free.size] > 0.5]] = True
        cand = np.flatnonzero(y)
        cv = inst.value(cand)
        if cv > best_val:
            best_sel, best_val = cand, cv
    bound = u
    if ans.ok:
        bound = min(u, max(val, ans.bound))
        if ans.optimal:
            bound = min(bound, max(val, ans.objective))
    return best_sel, best_val, max(bound, best_val)


# ================================================================================= solver
def solve_cover_large(
    a: sp.csr_matrix,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    time_limit_s: float,
    integral_weights: bool = False,
    seed: int = 0,
) -> LargeCover:
    """Best MCLP plan and a valid upper bound within ``time_limit_s`` (module docstring).

    Parameters
    ----------
    a
        Demand x site coverage (CSR, 0/1): the allowed pairs within the threshold.
    w
        Patients of each demand point.
    p
        Sites to open, existing ones included (fewer when fewer may open).
    fixed, openable
        Sites always open; sites that may open.
    time_limit_s
        Wall-clock seconds; a plan and a valid bound exist whenever it ends.
    integral_weights
        Whether every weight is an integer (the bound is then rounded down).

    Returns
    -------
    LargeCover
        Open sites (``p`` of them when enough may open), covered weight, upper bound, trace.
    """
    t0 = time.perf_counter()
    end = t0 + time_limit_s
    log: list[str] = []
    inst = reduce_cover(a, w, p, fixed=fixed, openable=openable)
    total = inst.const + float(inst.c.sum() + inst.w.sum())
    log.append(
        f"reduced: {inst.a.shape[0]:,} groups x {inst.cols.size:,} sites, {inst.a.nnz:,} "
        f"pairs, {inst.removed} dominated sites ({time.perf_counter() - t0:.2f} s)"
    )

    def left() -> float:
        return max(0.0, end - time.perf_counter())

    def finish(sel: IntArray, bound: float) -> LargeCover:
        plan = fixed.copy()
        plan[inst.cols[sel]] = True
        spare = np.flatnonzero(openable & ~plan)[: max(0, inst.k - sel.size)]
        plan[spare] = True
        value = float(w[(a @ plan.astype(np.float64)) > 0.5].sum())
        if integral_weights:
            bound = math.floor(bound + 1e-6)
        return LargeCover(plan, value, max(bound, value), log)

    if inst.k == 0 or inst.cols.size <= inst.k:
        sel = np.arange(min(inst.k, inst.cols.size), dtype=np.int64)
        return finish(sel, inst.value(sel) if inst.cols.size <= inst.k else total)
    sel = swap_search(inst, greedy(inst), end_time=t0 + 0.3 * time_limit_s)
    val = inst.value(sel)
    log.append(f"greedy + swap: {val:,.2f} ({time.perf_counter() - t0:.2f} s)")
    if val >= total - 1e-9 * max(1.0, total):
        return finish(sel, val)
    u, mu = subgradient(inst, 0.5 * inst.w, val, time.perf_counter() + min(0.05 * left(), 1.5))
    log.append(f"subgradient bound {u:,.2f} ({time.perf_counter() - t0:.2f} s)")
    if inst.a.nnz >= LP_MIN_NNZ and left() > 1.0:
        for cand_mu in lp_multipliers(inst, LP_SHARE * left()):
            uc = lagrangian_bound(inst, cand_mu)[0]
            if uc < u:
                u, mu = uc, np.clip(cand_mu, 0.0, inst.w)
        log.append(f"LP multipliers: bound {u:,.2f} ({time.perf_counter() - t0:.2f} s)")
        smooth_s = min(SMOOTHING_SHARE * left(), SMOOTHING_MAX_S)
        mu_s = smoothed_multipliers(inst, mu, time.perf_counter() + smooth_s)
        us = lagrangian_bound(inst, mu_s)[0]
        if us < u:
            u, mu = us, mu_s
        log.append(f"smoothed: bound {u:,.2f} ({time.perf_counter() - t0:.2f} s)")
        # first-order duals stop short of the LP optimum: a few subgradient steps aimed just
        # below the bound close most of the rest (Fujian p = 80: 134,375 -> 134,369 in 4 s)
        target = u - POLISH_STEP * abs(u)
        u, mu = subgradient(inst, mu, target, time.perf_counter() + min(0.1 * left(), 3.0))
        log.append(f"polished: bound {u:,.2f} ({time.perf_counter() - t0:.2f} s)")
    else:
        u, mu = subgradient(inst, mu, val, time.perf_counter() + 0.2 * left())
    u, s = lagrangian_bound(inst, mu)
    bound = min(total, u)
    _, top = top_k(s, inst.k)
    cand = swap_search(inst, np.sort(top), end_time=end)
    if inst.value(cand) > val:
        sel, val = cand, inst.value(cand)
        log.append(f"Lagrangian plan + swap: {val:,.2f}")
    if bound <= val + 1e-9 * max(1.0, val):
        return finish(sel, bound)
    order = np.sort(s)[::-1]
    n_free = int((s >= order[inst.k - 1] - (u - val)).sum())
    small = n_free <= MAX_EXACT_SITES
    log.append(f"reduced-cost fixing against {val:,.2f} leaves {n_free} of {s.size} sites free")
    lns_end = time.perf_counter() + (0.4 * left() if small else max(0.0, left() - 0.05))
    sel2, val2, nsub = lns_submip(inst, sel, lns_end, seed=seed)
    if val2 > val:
        sel, val = sel2, val2
    log.append(f"neighbourhood sub-MIPs ({nsub}): {val:,.2f} ({time.perf_counter() - t0:.2f} s)")
    if small and left() > 0.1:
        res = fix_and_solve(inst, s, u, sel, val, end_time=end, log=log)
        if res is not None:
            sel, val, bound = res[0], res[1], min(bound, res[2])
    return finish(sel, bound)
