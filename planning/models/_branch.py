r"""Lagrangian relaxation of the uncapacitated p-median: bound, site fixing, branch-and-bound.

Notes
-----
Relaxing the assignment rows :math:`\sum_j x_{ij} = 1` with multipliers :math:`\lambda_i`
leaves :math:`L(\lambda) = \sum_i \lambda_i + \min_{|S| = p} \sum_{j \in S} \rho_j`,
:math:`\rho_j = \sum_i \min(0, c_{ij} - \lambda_i)`, :math:`c_{ij} = w_i t_{ij}`: a lower
bound for every :math:`\lambda` (Cornuéjols, Fisher & Nemhauser 1977). A node of the search
tree fixes some sites open and some closed; its bound is :math:`L(\lambda)` over the free sites
with the open ones forced in, :math:`\lambda` tuned by subgradient steps started from the
parent's multipliers. A node is pruned when its bound cannot beat the incumbent (by at least 1
when every cost is integral). Before branching, reduced-cost tests fix free sites: a site
outside the chosen :math:`k` whose forced opening lifts the bound past the incumbent is closed,
a chosen site whose closing does so is opened. Branching opens / closes the chosen free site
with the most negative :math:`\rho_j`; the tree is searched depth first.

One subgradient loop (:func:`subgradient`) serves the root, where :func:`lagrangian_fixing`
also evaluates the relaxation's plans, fixes sites by reduced costs and probes, and every node
of :func:`branch_and_bound`. Node iterations run in single precision (twice the memory
throughput); every bound used to prune or fix is recomputed in double precision from the
same multipliers, so it stays a valid bound.

The radius MIP's LP bound equals the Lagrangian dual (the subproblem has the integrality
property), but HiGHS needs ~15 s for a single LP of OR-Library pmed36 (n = 800, p = 10), while a
Lagrangian node costs milliseconds: pmed36 is proven with ~1,800 nodes in ~25 s.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from planning.models._heuristic import p_median_heuristic, p_median_value
from planning.models._mip import BoolArray, FloatArray, IntArray

#: Subgradient iterations at the root and at every other node.
ROOT_ITERATIONS = 300
NODE_ITERATIONS = 100
#: Iterations after reduced-cost fixing changed a node (its multipliers are nearly tuned).
REFIX_ITERATIONS = 30
#: Steps without improvement before the step factor halves (at a node; at the root).
STALL_LIMIT = 15
ROOT_STALL_LIMIT = 25


@dataclass(frozen=True)
class Bound:
    """The best Lagrangian bound of one node and what it came from."""

    value: float
    lam: FloatArray  # multipliers (length n)
    rho: FloatArray  # reduced costs of the node's columns, double precision
    chosen: IntArray  # node-local columns of the relaxation's plan (forced ones first)
    improving: tuple[IntArray, ...] = ()  # plans of the improving steps (``track=True``)


#: ``on_step(iteration, chosen)`` after each step: a better upper bound (a plan found), or None.
OnStep = Callable[[int, IntArray], float | None]


#: The subgradient's metric: multiplier ``i``'s step is scaled by ``(w_i / mean w)^SCALE_POWER``
#: (:func:`step_metric`). A multiplier is ``w_i`` times minutes; unscaled, a light demand
#: point's multiplier jumps and a heavy one's crawls. Putian p-median (1,328 cells x 164
#: sites), p = 6 / 8 / 10, nodes of the branch-and-bound: 1 (unscaled) -> 33 / 711 / 59;
#: 0.5 -> 27 / 589 / 39; 0.75 -> 21 / 349 / 37; 1 -> 1 / 471 / 49 (p = 8: 7.3 s -> 4.4 s at
#: 0.75). Fujian p = 80, province scale (:mod:`planning.models._median_large`), bound after
#: ~12 s / ~40 s / ~170 s of rounds from the same start: 1 -> 5.34 / 5.435 / 5.437 M; 0.75
#: -> 5.442 / 5.453 / 5.4535 M; 1 -> 5.430 / 5.4527 / 5.4538 M; 2 -> 5.32 / 5.442 /
#: 5.4447 M.
SCALE_POWER = 0.75


def step_metric(w: FloatArray) -> FloatArray | None:
    """Each multiplier's step factor ``(w_i / mean w)^SCALE_POWER``; ``None`` when all equal.

    ``w``: the positive weights of the relaxed rows.
    """
    if w.size == 0 or float(w.min()) == float(w.max()):
        return None  # unit weights (OR-Library): the plain steps
    return np.asarray((w / float(w.mean())) ** SCALE_POWER, dtype=np.float64)


def subgradient(
    c: FloatArray,
    lam: FloatArray,
    forced: IntArray,
    free: IntArray,
    k: int,
    *,
    upper: float,
    margin: float,
    iterations: int,
    theta: float = 1.0,
    stall_limit: int = STALL_LIMIT,
    min_theta: float = 1e-3,
    slack: float | None = None,
    dtype: type[np.floating[Any]] = np.float32,
    end: float = math.inf,
    on_step: OnStep | None = None,
    track: bool = False,
    metric: FloatArray | None = None,
) -> Bound:
    """Tune ``lam`` by subgradient steps (Held, Wolfe & Crowder).

    Parameters
    ----------
    c
        Weighted costs ``n x m`` of the node's columns (``inf`` where no pair).
    lam
        Starting multipliers (length ``n``).
    forced, free
        Columns forced open and columns still free; ``k`` of the free ones open.
    upper, margin
        The incumbent value and the pruning margin: the loop stops once the bound exceeds
        ``upper - margin + slack``.
    iterations, theta, stall_limit, min_theta
        Iteration cap, initial step factor, steps without improvement before it halves, and
        the factor below which the loop stops.
    slack
        Floor of the step's target gap and of the stopping test (default ``1e-6`` of
        ``upper``).
    dtype
        Precision of the iterations (single: twice the memory throughput).
    end
        ``time.perf_counter()`` deadline, checked before each step.
    on_step
        Called after each step that does not stop the loop; may lower ``upper`` (the root
        evaluates the relaxation's plans).
    track
        Keep the plan of every improving step (:attr:`Bound.improving`).
    metric
        Each multiplier's step factor (:func:`step_metric`; ``None``: all 1), the Polyak step
        measured in that metric.

    Returns
    -------
    bound
        The best bound seen (valid for any multipliers), recomputed in double precision.
    """
    cw = c.astype(dtype)
    buf = np.empty_like(cw)
    lam_w = lam.astype(dtype)
    best_val, best_lam = -np.inf, lam_w
    stall = 0
    scale = 1e-6 * max(1.0, abs(upper)) if slack is None else slack
    improving: list[IntArray] = []
    for it in range(iterations):
        if time.perf_counter() > end:
            break
        np.subtract(cw, lam_w[:, None], out=buf)
        np.minimum(buf, 0.0, out=buf)
        rho = buf.sum(axis=0)
        chosen = _choose(rho, forced, free, k)
        value = float(lam_w.sum(dtype=np.float64) + rho[chosen].sum())
        if value > best_val + 1e-9:
            best_val, best_lam, stall = value, lam_w, 0
            if track:
                improving.append(chosen)
        else:
            stall += 1
            if stall >= stall_limit:
                theta, stall = theta / 2, 0
        if best_val > upper - margin + scale or theta < min_theta:
            break
        if on_step is not None:
            found = on_step(it, chosen)
            upper = upper if found is None else found
        g = 1.0 - (buf[:, chosen] < 0).sum(axis=1)
        mg = g if metric is None else metric * g
        norm = float(g @ mg)
        if norm == 0:
            break
        step = theta * max(upper - value, scale) / norm
        lam_w = (lam_w + step * mg).astype(dtype)
    lam64 = best_lam.astype(np.float64)
    rho64 = np.minimum(c - lam64[:, None], 0.0).sum(axis=0)
    chosen = _choose(rho64, forced, free, k)
    return Bound(float(lam64.sum() + rho64[chosen].sum()), lam64, rho64, chosen, tuple(improving))


def _choose(rho: FloatArray, forced: IntArray, free: IntArray, k: int) -> IntArray:
    """Return the forced columns and the ``k`` free ones of smallest ``rho`` (ties by order)."""
    if k <= 0:
        return forced
    if k >= free.size:
        return np.concatenate([forced, free])
    pick = free[np.argsort(rho[free], kind="stable")[:k]]
    return np.concatenate([forced, pick])


@dataclass(frozen=True)
class BranchResult:
    """Outcome of :func:`branch_and_bound`."""

    finished: bool  # the tree was searched to the end within the tolerance
    plan: BoolArray  # best plan found (the given one unless a better one turned up)
    value: float
    bound: float  # a valid lower bound on every plan (``value`` minus at most the tolerance)
    nodes: int


def branch_and_bound(
    d: FloatArray,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    plan: BoolArray,
    lam: FloatArray,
    integral: bool,
    time_limit_s: float,
    rel_gap: float = 0.0,
) -> BranchResult:
    """Prove ``plan`` optimal for the p-median, or find a better plan, by Lagrangian B&B.

    Parameters
    ----------
    d
        Dense travel minutes ``n x m`` (``inf`` = not allowed).
    w
        Demand weights (length ``n``).
    p
        Number of open sites, fixed ones included.
    fixed, openable
        Sites that must be open; sites that may be open at all.
    plan
        A feasible plan (the incumbent); its value is the first pruning threshold.
    lam
        Starting multipliers, e.g. the best of the root subgradient (length ``n``).
    integral
        Every weighted cost is an integer, so only plans better by at least 1 matter.
    time_limit_s
        Wall-clock budget; when it runs out the best plan and a valid bound are returned.
    rel_gap
        Subtrees that cannot beat the incumbent by more than this share of it are pruned
        (a scenario's ``mip_gap``); 0 keeps the tolerance under which
        :func:`~planning.models._mip.proven_optimal` calls a plan optimal (less than 1 when
        costs are integral, else 1e-6 of the incumbent).

    Returns
    -------
    result
        ``finished`` when the tree was searched to the end; ``bound`` is then the smallest
        bound of a pruned subtree (or ``value``), so the gap is honest.
    """
    end = time.perf_counter() + time_limit_s
    pos = w > 0
    big_c = w[pos, None] * d[pos]
    metric = step_metric(w[pos])
    lam0 = lam[pos]
    m = big_c.shape[1]
    best_plan = plan.copy()
    best_val = float(np.min(big_c[:, plan], axis=1).sum()) if plan.any() else np.inf

    def margin() -> float:
        # what _mip.proven_optimal accepts as a proof: < 1 when integral, else 1e-6 relative
        scale = max(1.0, abs(best_val)) if math.isfinite(best_val) else 1.0
        return max(0.999 if integral else 1e-6 * scale, rel_gap * scale)

    pruned = np.inf  # smallest bound of a subtree left unexplored
    root = np.where(fixed, 1, np.where(openable, -1, 0)).astype(np.int8)
    # each entry: site states (1 open, 0 closed, -1 free), multipliers, the parent's bound
    stack: list[tuple[npt.NDArray[np.int8], FloatArray, float]] = [(root, lam0, -np.inf)]
    nodes = 0
    while stack:
        if time.perf_counter() > end:
            bound = min(*(entry[2] for entry in stack), pruned, best_val)
            return BranchResult(False, best_plan, best_val, bound, nodes)  # noqa: FBT003
        state, lam_node, parent_bound = stack.pop()
        if parent_bound > best_val - margin():
            pruned = min(pruned, parent_bound)
            continue
        nodes += 1
        cols = np.flatnonzero(state != 0)
        c = big_c[:, cols]
        st = state[cols]
        iterations, theta = (ROOT_ITERATIONS, 2.0) if nodes == 1 else (NODE_ITERATIONS, 0.5)
        while True:
            forced = np.flatnonzero(st == 1)
            free = np.flatnonzero(st == -1)
            k = p - forced.size
            if k < 0 or free.size < k:
                res = None  # no plan with p sites in this subtree
                break
            res = subgradient(
                c, lam_node, forced, free, k, upper=best_val, margin=margin(),
                iterations=iterations, theta=theta, metric=metric,
            )  # fmt: skip
            lam_node = res.lam
            value = float(np.min(c[:, res.chosen], axis=1).sum())
            if value < best_val - 1e-9:
                best_val = value
                best_plan = np.zeros(m, dtype=bool)
                best_plan[cols[res.chosen]] = True
            if k in {0, free.size}:
                res = None  # a leaf: its only plan was just evaluated
                break
            if res.value > best_val - margin():
                pruned = min(pruned, res.value)
                res = None
                break
            order = free[np.argsort(res.rho[free], kind="stable")]
            inside, outside = order[:k], order[k:]
            last_in, first_out = res.rho[inside[-1]], res.rho[outside[0]]
            close_bound = res.value + res.rho[outside] - last_in
            open_bound = res.value - res.rho[inside] + first_out
            threshold = best_val - margin()
            close, open_ = outside[close_bound > threshold], inside[open_bound > threshold]
            if close.size == 0 and open_.size == 0:
                break
            # each fixing leaves out a subtree whose plans are bounded below as computed
            pruned = min(
                pruned,
                float(close_bound[close_bound > threshold].min(initial=np.inf)),
                float(open_bound[open_bound > threshold].min(initial=np.inf)),
            )
            st = st.copy()
            st[close] = 0
            st[open_] = 1
            keep = st != 0
            c, cols, st = c[:, keep], cols[keep], st[keep]
            iterations, theta = REFIX_ITERATIONS, 0.25
        if res is None:
            continue
        free = np.flatnonzero(st == -1)
        k = p - int((st == 1).sum())
        inside = free[np.argsort(res.rho[free], kind="stable")[:k]]
        j = cols[inside[0]]  # the most attractive free site of the relaxation's plan
        child = np.zeros(m, dtype=np.int8)
        child[cols] = st
        closed = child.copy()
        closed[j] = 0
        opened = child
        opened[j] = 1
        stack.append((closed, res.lam, res.value))
        stack.append((opened, res.lam, res.value))
    return BranchResult(True, best_plan, best_val, min(pruned, best_val), nodes)  # noqa: FBT003


def lagrangian_fixing(
    d: FloatArray,
    w: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    upper: float,
    integral: bool,
    max_iter: int = 400,
    time_limit_s: float = 30.0,
) -> tuple[float, BoolArray, BoolArray, BoolArray | None, float, FloatArray]:
    """Lagrangian bound for the p-median and the sites it can fix.

    The assignment rows ``sum_j x_ij = 1`` are relaxed with multipliers ``lambda_i``; the
    relaxation picks the ``p`` sites of smallest ``rho_j = sum_i min(0, w_i d_ij - lambda_i)``.
    A site whose forced opening (closing) lifts the bound above ``upper`` (minus 1 when the
    objective is integral) cannot be in any plan better than ``upper``: it is fixed closed
    (open). Subgradient optimisation (Held-Wolfe-Crowder) tunes ``lambda``.

    Returns
    -------
    bound, fix_closed, fix_open, best_plan, best_value, multipliers
        A valid lower bound, the masks of sites fixed closed / open, the best plan seen
        (Lagrangian plans are evaluated as a by-product; ``None`` if none beat ``upper``) and
        the multipliers of the bound (length ``n``; 0 for clients of weight 0), to warm-start
        :func:`~planning.models._branch.branch_and_bound`.
    """
    pos = w > 0
    c = w[pos, None] * d[pos]
    metric = step_metric(w[pos])
    free = openable & ~fixed
    k = p - int(fixed.sum())
    m = d.shape[1]
    margin = (1.0 - 1e-6) if integral else -1e-9 * max(1.0, abs(upper))
    # start: each client's cost to its k-th nearest site (a rough assignment price)
    srt = np.sort(c, axis=1)
    kk = min(max(1, c.shape[1] // max(p, 1)), c.shape[1] - 1)
    lam = np.where(
        np.isfinite(srt[:, kk]),
        srt[:, kk],
        np.nanmax(np.where(np.isfinite(srt), srt, np.nan), axis=1),
    )
    best_plan: BoolArray | None = None
    best_value = upper
    free_idx = np.flatnonzero(free)
    end = time.perf_counter() + time_limit_s

    def evaluate(it: int, chosen: IntArray) -> float | None:
        """Every 10 steps, the relaxation's plan as a plan: a better one lowers ``upper``."""
        nonlocal best_plan, best_value
        if it % 10:
            return None
        plan = np.zeros(m, dtype=bool)
        plan[chosen] = True
        val = p_median_value(d, w, plan)
        if val >= best_value - 1e-9:
            return None
        best_value, best_plan = val, plan
        return val

    root = subgradient(
        c,
        lam,
        np.flatnonzero(fixed),
        free_idx,
        k,
        upper=upper,
        margin=margin,
        iterations=max_iter,
        theta=2.0,
        stall_limit=ROOT_STALL_LIMIT,
        min_theta=1e-4,
        slack=0.0,
        dtype=np.float64,
        end=end,
        on_step=evaluate,
        track=True,
        metric=metric,
    )
    upper = min(upper, best_value)
    best_bound, best_rho, best_lam = root.value, root.rho, root.lam
    recent: list[BoolArray] = []
    for chosen in root.improving:
        plan_now = np.zeros(m, dtype=bool)
        plan_now[chosen] = True
        if not recent or not np.array_equal(recent[-1], plan_now):
            recent.append(plan_now)
    # polish recent Lagrangian plans by vertex substitution: a better upper bound fixes more
    for plan0 in recent[-3:]:
        if time.perf_counter() > end:
            break
        polished = p_median_heuristic(
            d,
            w,
            p,
            fixed=fixed,
            openable=openable,
            start=plan0,
            time_limit_s=max(0.2, min(5.0, end - time.perf_counter())),
        )
        if polished is not None:
            val = p_median_value(d, w, polished)
            if val < best_value - 1e-9:
                best_value, best_plan, upper = val, polished, val
    # fixing from the best multipliers
    rho = best_rho
    order = free_idx[np.argsort(rho[free_idx], kind="stable")]
    chosen_free = order[:k]
    rest = order[k:]
    fix_closed = np.zeros(m, dtype=bool)
    fix_open = np.zeros(m, dtype=bool)
    if k > 0 and rest.size == 0:
        fix_open[chosen_free] = True
    elif k > 0:
        last_in = rho[chosen_free[-1]]
        first_out = rho[rest[0]]
        fix_closed[rest] = best_bound + rho[rest] - last_in > upper - margin
        fix_open[chosen_free] = best_bound - rho[chosen_free] + first_out > upper - margin
    elif k <= 0:
        fix_closed[free] = True
    # probing: re-optimise the multipliers with each remaining site forced open
    n_left = int((free & ~fix_closed & ~fix_open).sum())
    if k > 1 and n_left <= 200 and time.perf_counter() < end:
        _probe(
            c,
            best_lam,
            fixed | fix_open,
            free & ~fix_closed & ~fix_open,
            k - int((fix_open & free).sum()),
            upper,
            margin,
            fix_closed,
            end,
            metric=metric,
        )
    lam_full = np.zeros(w.size)
    lam_full[pos] = best_lam
    return best_bound, fix_closed, fix_open, best_plan, best_value, lam_full


def _probe(  # noqa: PLR0917 - internal helper
    c: FloatArray,
    lam0: FloatArray,
    must: BoolArray,
    free: BoolArray,
    k: int,
    upper: float,
    margin: float,
    fix_closed: BoolArray,
    end: float,
    iters: int = 80,
    miss_limit: int = 10,
    metric: FloatArray | None = None,
) -> None:
    """Fix closed every free site whose forced opening lifts the bound above ``upper``.

    Sites are probed most promising first; after ``miss_limit`` probes in a row fix nothing
    the rest are left to the MIP (Putian p = 6: 0.37 s of probes fixed no site; OR-Library
    pmed39 35 -> 26 s, its successful probes come first).
    """
    cols = np.flatnonzero(must | free)
    sub = c[:, cols]
    must_l = np.flatnonzero(must[cols])
    free_l = np.flatnonzero(free[cols])
    if free_l.size <= k:
        return
    # cheap first: the reduced-cost estimate ranks sites; probe the most promising closures
    red0 = np.minimum(sub - lam0[:, None], 0.0).sum(axis=0)
    order = free_l[np.argsort(-red0[free_l], kind="stable")]
    misses = 0
    for jl in order.tolist():
        if time.perf_counter() > end or misses >= miss_limit:
            return
        others = free_l[(free_l != jl) & ~fix_closed[cols[free_l]]]
        if others.size < k - 1:
            continue
        forced = np.concatenate([must_l, [jl]])
        res = subgradient(
            sub, lam0, forced, others, k - 1, upper=upper, margin=margin, iterations=iters,
            metric=metric,
        )  # fmt: skip
        if res.value > upper - margin:
            fix_closed[cols[jl]] = True
            misses = 0
        else:
            misses += 1
