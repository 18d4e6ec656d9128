"""Run a formulation within the time left, and what came out of it (:class:`Outcome`).

Every model's solve path ends here: a MIP (:func:`solve_plain`), or a plan settled without
one (:func:`settled`: complete enumeration, a heuristic plan meeting a bound, Lagrangian
branch-and-bound). :class:`Infeasible` and :class:`NoSolution` carry a solver's "no plan" up
to :func:`planning.models.solve`, which turns them into the user's error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from planning._progress import Progress
from planning.i18n import Msg
from planning.models._blocks import Formulation, start_vector
from planning.models._mip import BoolArray, FloatArray, HighsSession, Mip, RawResult, solve_mip
from planning.models._prep import Prepared
from planning.models.base import Status
from planning.models.options import ModelOptions


@dataclass
class Outcome:
    """A solved formulation: open sites and how they were found."""

    is_open: BoolArray
    x: FloatArray
    raw: RawResult
    objective: float
    bound: float | None
    status: Status
    gap: float | None
    solve_time_s: float
    build_time_s: float
    extras: dict[str, object] = field(default_factory=dict)


def settled(
    is_open: BoolArray,
    value: float,
    *,
    bound: float | None,
    status: Status,
    gap: float | None,
    message: Msg,
    solver: str,
    raw_bound: float | None = None,
    build_time_s: float = 0.0,
    extras: dict[str, object] | None = None,
) -> Outcome:
    """Outcome of a plan settled without a MIP (``raw_bound``: the bound as found)."""
    found = bound if raw_bound is None else raw_bound
    raw = RawResult(status, None, value, found, gap, 0.0, solver, message)
    return Outcome(
        is_open, np.zeros(0), raw, value, bound, status, gap, 0.0, build_time_s, extras or {}
    )


def proven_without_solver(
    is_open: BoolArray, value: float, *, bound: float, message: Msg, started: float
) -> Outcome:
    """Outcome of a plan proven optimal by a heuristic's own argument (no MIP solver).

    ``bound`` proves ``value`` (complete enumeration; every coverable patient covered);
    ``started``: ``time.perf_counter()`` when the work began.
    """
    return settled(
        is_open,
        value,
        bound=bound,
        status="optimal",
        gap=0.0,
        message=message,
        solver="heuristic",
        build_time_s=time.perf_counter() - started,
    )


class Deadline:
    """Remaining share of the time limit."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        """Seconds left (at least a sliver, so the solver can report an incumbent)."""
        return max(self.end - time.perf_counter(), 0.05)

    def expired(self) -> bool:
        """Whether the time limit has passed."""
        return time.perf_counter() >= self.end


class Infeasible(Exception):  # noqa: N818 - a signal, turned into InfeasibleError by solve
    """The solver proved that no plan exists."""

    def __init__(self, raw: RawResult) -> None:
        super().__init__(raw.message)
        self.raw = raw


class NoSolution(Exception):  # noqa: N818 - a signal, turned into SolverError by solve
    """The solver stopped without a plan (time limit, error)."""

    def __init__(self, raw: RawResult) -> None:
        super().__init__(raw.message)
        self.raw = raw


def run_solver(
    mip: Mip,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    start: FloatArray | None = None,
    mip_gap: float | None = None,
    progress: Progress | None = None,
) -> RawResult:
    """Solve ``mip`` with the options' solver within the time left (``mip_gap``: override).

    ``progress``: elapsed time and current gap while HiGHS runs (CBC: none).
    """
    gap = opts.mip_gap if mip_gap is None else mip_gap
    if opts.solver == "highs":
        return HighsSession(mip).solve(
            time_limit_s=deadline.left(), mip_gap=gap, start=start, progress=progress
        )
    return solve_mip(mip, solver="cbc", time_limit_s=deadline.left(), mip_gap=gap, start=start)


def solve_plain(
    form: Formulation,
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    build_time_s: float,
    start_open: BoolArray | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Solve a formulation that needs no iteration (coverage models, capacitated ones)."""
    start = start_vector(form, prep, start_open) if start_open is not None else None
    raw = run_solver(form.mip, opts, deadline, start=start, progress=progress)
    if raw.x is None:
        if raw.status == "infeasible":
            raise Infeasible(raw)
        raise NoSolution(raw)
    is_open = raw.x[form.y0 : form.y0 + prep.m] > 0.5
    obj = float(raw.objective if raw.objective is not None else 0.0)
    if form.kind == "lscp":
        obj = float(is_open.sum())
    status: Status = "optimal" if raw.status == "optimal" else "feasible"
    return Outcome(
        is_open, raw.x, raw, obj, raw.bound, status, raw.gap, raw.solve_time_s, build_time_s
    )
