r"""Lagrangian branch-and-bound for the uncapacitated p-median (dense instances).

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

Iterations run in single precision (twice the memory throughput); every bound used to prune or
fix is recomputed in double precision from the same multipliers, so it stays a valid bound.

The radius MIP's LP bound equals the Lagrangian dual (the subproblem has the integrality
property), but HiGHS needs ~15 s for a single LP of OR-Library pmed36 (n = 800, p = 10), while a
Lagrangian node costs milliseconds: pmed36 is proven with ~1,800 nodes in ~25 s.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planning.models._mip import BoolArray, FloatArray, IntArray

#: Subgradient iterations at the root and at every other node.
ROOT_ITERATIONS = 300
NODE_ITERATIONS = 100
#: Iterations after reduced-cost fixing changed a node (its multipliers are nearly tuned).
REFIX_ITERATIONS = 30
#: Steps without improvement before the step factor halves.
STALL_LIMIT = 15


@dataclass(frozen=True)
class Bound:
    """The best Lagrangian bound of one node and what it came from."""

    value: float
    lam: FloatArray  # multipliers (length n)
    rho: FloatArray  # reduced costs of the node's columns, double precision
    chosen: IntArray  # node-local columns of the relaxation's plan (forced ones first)


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
) -> Bound:
    """Tune ``lam`` by subgradient steps (Held, Wolfe & Crowder) for one node.

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
        ``upper - margin``.
    iterations, theta, stall_limit
        Iteration cap, initial step factor, and steps without improvement before it halves.

    Returns
    -------
    bound
        The best bound seen (valid for any multipliers), recomputed in double precision.
    """
    c32 = c.astype(np.float32)
    buf = np.empty_like(c32)
    lam32 = lam.astype(np.float32)
    best_val, best_lam = -np.inf, lam32
    stall = 0
    scale = 1e-6 * max(1.0, abs(upper))
    for _ in range(iterations):
        np.subtract(c32, lam32[:, None], out=buf)
        np.minimum(buf, 0.0, out=buf)
        rho = buf.sum(axis=0)
        chosen = _choose(rho, forced, free, k)
        value = float(lam32.sum(dtype=np.float64) + rho[chosen].sum())
        if value > best_val + 1e-9:
            best_val, best_lam, stall = value, lam32, 0
        else:
            stall += 1
            if stall >= stall_limit:
                theta, stall = theta / 2, 0
        if best_val > upper - margin + scale or theta < 1e-3:
            break
        g = 1.0 - (buf[:, chosen] < 0).sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break
        step = theta * max(upper - value, scale) / norm
        lam32 = (lam32 + step * g).astype(np.float32)
    lam64 = best_lam.astype(np.float64)
    rho64 = np.minimum(c - lam64[:, None], 0.0).sum(axis=0)
    chosen = _choose(rho64, forced, free, k)
    return Bound(float(lam64.sum() + rho64[chosen].sum()), lam64, rho64, chosen)


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
                iterations=iterations, theta=theta,
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
