r"""Exact search for nested opening plans: Lagrangian bound, branch-and-bound over opening years.

Notes
-----
The plan stage of an uncapacitated MCLP or p-median rollout (:mod:`planning.models.rollout`)
without budgets is a *nested facility location*: each candidate :math:`j` opens in a period
:math:`o_j \in \{0, .., T-1\}` or never (:math:`o_j = T`), at most :math:`n_t` candidates open in
period :math:`t`, and a plan costs

.. math:: V(o) = \sum_t \omega_t \sum_i \min\big(e_i, \min_{j: o_j \le t} c_{ij}\big)

with :math:`c_{ij}` the weighted minutes (p-median; :math:`\infty` without a pair) or 0 when
:math:`j` covers :math:`i` (MCLP; :math:`\infty` otherwise), and :math:`e_i` the cost of the
point's fallback (the nearest existing site or the penalty :math:`U`; MCLP: :math:`w_i`
uncovered, 0 when an existing site covers it). MCLP coverage is
:math:`\sum_t \omega_t W - V`.

Relaxing the assignment rows :math:`\sum_j x_{ijt} + x^e_{it} = 1` with free multipliers
:math:`\lambda_{it}` leaves

.. math:: L(\lambda) = \sum_{it} \lambda_{it} + \sum_{it} \min(0, \omega_t e_i - \lambda_{it})
   + \min_o \sum_j \sum_{t \ge o_j} \rho_{jt}, \quad
   \rho_{jt} = \sum_i \min(0, \omega_t c_{ij} - \lambda_{it}),

a lower bound on every plan for every :math:`\lambda`, milestones dropped (a relaxation). The
inner minimum is an assignment of candidates to the :math:`\sum_t n_t` opening slots (or to
"never"), solved exactly by :func:`scipy.optimize.linear_sum_assignment`; the bound is always
evaluated in double precision at the multipliers at hand, so it stays valid whatever the
subgradient steps did. A node of the search restricts each candidate's opening period to an
interval :math:`[lo_j, hi_j]`; branching splits one interval at the relaxation's choice. Only
plans that meet the caller's test (the milestone shortfall cap) become the incumbent; a node is
pruned when its bound cannot beat the incumbent by more than ``margin``. When the tree is
searched to the end the incumbent is optimal for the plan stage.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from planning.models._mip import BoolArray, FloatArray, IntArray

#: Subgradient iterations at the root and at every other node.
ROOT_ITERATIONS = 400
NODE_ITERATIONS = 60


@dataclass(frozen=True)
class NestedProblem:
    r"""Costs of a nested facility location (see the module Notes).

    ``cost``: ``n x k`` weighted costs of the candidates (``inf`` = not allowed); ``fallback``:
    each point's cost without an open candidate; ``weights``: the period weights
    :math:`\omega_t`; ``slots``: new candidates allowed per period.
    """

    cost: FloatArray
    fallback: FloatArray
    weights: FloatArray
    slots: tuple[int, ...]

    @property
    def n_periods(self) -> int:
        """Number of periods."""
        return len(self.slots)

    def period_costs(self, o: IntArray) -> list[float]:
        """Each period's cost of opening periods ``o`` (``T`` = never), unweighted."""
        out = []
        for t in range(self.n_periods):
            cols = np.flatnonzero(o <= t)
            best = self.fallback
            if cols.size:
                best = np.minimum(best, self.cost[:, cols].min(axis=1))
            out.append(float(best.sum()))
        return out

    def value(self, o: IntArray) -> float:
        """Exact cost :math:`V(o)` of opening periods ``o`` (``T`` = never)."""
        return float(np.dot(self.weights, self.period_costs(o)))


@dataclass(frozen=True)
class NestedResult:
    """Outcome of :func:`solve_nested`: best plan (opening periods), its cost, a valid bound."""

    finished: bool
    o: IntArray
    value: float
    bound: float
    nodes: int


def _assign(rho: FloatArray, lo: IntArray, hi: IntArray, slots: tuple[int, ...]) -> IntArray | None:
    r"""Exact :math:`\min_o \sum_j \sum_{t \ge o_j} \rho_{jt}` over ``lo <= o <= hi``.

    Returns the opening periods (``T`` = never), or ``None`` when no assignment respects the
    slots (forced candidates that do not fit).
    """
    n_t = len(slots)
    k = rho.shape[0]
    o = np.full(k, n_t, dtype=np.int64)
    live = np.flatnonzero(lo < n_t)
    if live.size == 0:
        return o
    tail = np.cumsum(rho[live, ::-1], axis=1)[:, ::-1]  # tail[j, t] = sum_{s >= t} rho
    slot_t = np.repeat(np.arange(n_t), slots)
    if slot_t.size == 0:
        return o if (hi[live] >= n_t).all() else None
    c = tail[:, slot_t]
    allowed = (lo[live, None] <= slot_t[None, :]) & (hi[live, None] >= slot_t[None, :])
    big = 1.0 + 4.0 * float(np.abs(tail).sum())
    c = np.where(allowed, c, big)
    never = np.full((live.size, live.size), big)
    can_skip = hi[live] >= n_t
    never[np.arange(live.size), np.arange(live.size)] = np.where(can_skip, 0.0, big)
    rows, cols = linear_sum_assignment(np.hstack([c, never]))
    full = np.hstack([c, never])
    if (full[rows, cols] >= big).any():
        return None
    take = cols < slot_t.size
    o[live[rows[take]]] = slot_t[cols[take]]
    return o


@dataclass
class _Node:
    lo: IntArray
    hi: IntArray
    lam: FloatArray
    parent_bound: float


def _lagrangian(
    prob: NestedProblem,
    node: _Node,
    *,
    upper: float,
    margin: float,
    iterations: int,
    end: float,
    on_plan: Callable[[IntArray], float],
) -> tuple[float, FloatArray, IntArray | None]:
    """Subgradient on ``lam`` (periods x points); returns the best bound, multipliers, plan.

    ``on_plan(o)`` is offered every plan of the relaxation and returns the (possibly lower)
    incumbent value. The bound is ``inf`` when the node holds no plan.
    """
    cost, fb, wts = prob.cost, prob.fallback, prob.weights
    n_t = prob.n_periods
    lam = node.lam.copy()
    best_val, best_lam, best_o = -math.inf, lam.copy(), None
    theta, stall = 2.0, 0
    scale = 1e-7 * max(1.0, abs(upper))
    for _ in range(iterations):
        if time.perf_counter() > end:
            break
        red = [np.minimum(wts[t] * cost - lam[t][:, None], 0.0) for t in range(n_t)]
        rho = np.stack([r.sum(axis=0) for r in red], axis=1)  # k x T
        o = _assign(rho, node.lo, node.hi, prob.slots)
        if o is None:
            return math.inf, lam, None
        tail = np.cumsum(rho[:, ::-1], axis=1)[:, ::-1]
        chosen = np.flatnonzero(o < n_t)
        value = float(lam.sum()) + float(np.minimum(wts[:, None] * fb[None, :] - lam, 0.0).sum())
        value += float(tail[chosen, o[chosen]].sum())
        if value > best_val + 1e-12 * max(1.0, abs(value)):
            best_val, best_lam, best_o, stall = value, lam.copy(), o, 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2, 0
        upper = on_plan(o)
        if best_val > upper - margin or theta < 1e-4:
            break
        g = np.empty_like(lam)
        for t in range(n_t):
            open_t = chosen[o[chosen] <= t]
            used = (red[t][:, open_t] < 0).sum(axis=1) if open_t.size else 0
            g[t] = 1.0 - used - (wts[t] * fb - lam[t] < 0)
        norm = float((g * g).sum())
        if norm == 0:
            break
        lam = lam + theta * max(upper - value, scale) / norm * g
    return best_val, best_lam, best_o


def _split(node: _Node, o: IntArray | None, n_t: int) -> tuple[_Node, _Node] | None:
    """Two children splitting one candidate's interval at the relaxation's choice."""
    lo, hi = node.lo, node.hi
    open_ = lo < hi
    if not open_.any():
        return None
    pick = -1
    if o is not None:
        in_plan = np.flatnonzero(open_ & (o < n_t))
        if in_plan.size:
            pick = int(in_plan[0])
    if pick < 0:
        pick = int(np.flatnonzero(open_)[0])
    at = int(o[pick]) if o is not None else int(lo[pick])
    cut = at if at < hi[pick] else at - 1  # children [lo, cut] and [cut + 1, hi]
    a_hi = hi.copy()
    a_hi[pick] = cut
    b_lo = lo.copy()
    b_lo[pick] = cut + 1
    return _Node(lo, a_hi, node.lam, -math.inf), _Node(b_lo, hi, node.lam, -math.inf)


def solve_nested(
    prob: NestedProblem,
    *,
    start: IntArray,
    accept: Callable[[IntArray], bool],
    margin: float,
    time_limit_s: float,
) -> NestedResult:
    """Search the opening periods of least cost :math:`V` among the plans ``accept`` allows.

    Parameters
    ----------
    prob
        The costs.
    start
        An accepted plan (opening periods, ``T`` = never): the first incumbent.
    accept
        Whether a plan meets the constraints the relaxation drops (milestones, ...).
    margin
        Subtrees whose bound is within ``margin`` of the incumbent are pruned.
    time_limit_s
        Wall-clock budget.

    Returns
    -------
    NestedResult
        ``finished`` when the tree was searched to the end; ``bound`` is a valid lower bound
        on every accepted plan (the incumbent's value minus at most ``margin`` when finished).
    """
    end = time.perf_counter() + time_limit_s
    n_t = prob.n_periods
    k = prob.cost.shape[1]
    best_o, best_v = start.copy(), prob.value(start)
    seen: set[bytes] = set()

    def on_plan(o: IntArray) -> float:
        nonlocal best_o, best_v
        key = o.tobytes()
        if key in seen:
            return best_v
        seen.add(key)
        v = prob.value(o)
        if v < best_v - 1e-12 * max(1.0, abs(v)) and accept(o):
            best_o, best_v = o.copy(), v
        return best_v

    lam0 = np.stack([w * prob.fallback for w in prob.weights]) * 0.5
    root = _Node(np.zeros(k, dtype=np.int64), np.full(k, n_t, dtype=np.int64), lam0, -math.inf)
    heap: list[tuple[float, int, _Node]] = [(-math.inf, 0, root)]
    pruned = math.inf
    nodes = counter = 0
    while heap:
        if time.perf_counter() > end:
            bound = min(heap[0][0], pruned, best_v)
            return NestedResult(False, best_o, best_v, bound, nodes)  # noqa: FBT003
        parent_bound, _, node = heapq.heappop(heap)
        if parent_bound > best_v - margin:
            pruned = min(pruned, parent_bound)
            continue
        nodes += 1
        its = ROOT_ITERATIONS if nodes == 1 else NODE_ITERATIONS
        bound, lam, o = _lagrangian(
            prob, node, upper=best_v, margin=margin, iterations=its, end=end, on_plan=on_plan
        )
        if not math.isfinite(bound) and bound > 0:
            continue  # no plan in this subtree
        bound = max(bound, parent_bound)
        if bound > best_v - margin:
            pruned = min(pruned, bound)
            continue
        children = _split(_Node(node.lo, node.hi, lam, bound), o, n_t)
        if children is None:  # every period fixed: the subtree's one plan, evaluated
            counts = np.bincount(node.lo[node.lo < n_t], minlength=n_t)[:n_t]
            if (counts <= np.asarray(prob.slots)).all():
                on_plan(node.lo.copy())
            continue
        for child in children:
            counter += 1
            heapq.heappush(heap, (bound, counter, _Node(child.lo, child.hi, lam, bound)))
    return NestedResult(True, best_o, best_v, min(pruned, best_v), nodes)  # noqa: FBT003


def opening_periods(y: BoolArray) -> IntArray:
    """Return the opening period of each candidate of a nested plan ``y`` (periods x candidates)."""
    n_t = y.shape[0]
    o = np.full(y.shape[1], n_t, dtype=np.int64)
    for t in reversed(range(n_t)):
        o[y[t]] = t
    return o


def nested_plan(o: IntArray, n_t: int) -> BoolArray:
    """Return the plan ``y`` (periods x candidates) of opening periods ``o``."""
    return np.vstack([o <= t for t in range(n_t)])
