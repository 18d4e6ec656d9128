"""A small matrix-form mixed-integer program and the two solvers behind every model.

Models are assembled as sparse matrices with numpy (fast even for a million non-zeros), then
either passed straight to HiGHS (:mod:`highspy`, ``passModel``) or converted to a
:class:`pulp.LpProblem` (for inspection, and for CBC, which pulp runs through an MPS file).
"""

from __future__ import annotations

import logging
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pulp
import scipy.sparse as sp

from planning import settings
from planning._progress import Progress
from planning.errors import SolverError
from planning.i18n import Msg, MsgStr

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: site numbers in any integer type (the large p-median keeps them as uint16 up to 65,535
#: sites: its compiled loops over the pairs are memory-bound)
SiteArray = npt.NDArray[np.integer[Any]]
BoolArray = npt.NDArray[np.bool_]
RawStatus = Literal["optimal", "feasible", "infeasible", "no_solution", "error"]

INF = math.inf
_NAME_BAD = re.compile(r"[^A-Za-z0-9_]")


def sanitize_names(prefix: str, labels: list[str]) -> list[str]:
    """Return unique solver-safe names ``prefix_label`` (ASCII letters, digits, ``_``)."""
    names: list[str] = []
    seen: set[str] = set()
    for k, lab in enumerate(labels):
        base = f"{prefix}_{_NAME_BAD.sub('_', str(lab))}"
        name = base if base not in seen else f"{base}_{k}"
        seen.add(name)
        names.append(name)
    return names


@dataclass
class MipBuilder:
    """Accumulate columns and rows of a MIP as numpy blocks.

    Columns are added in blocks (:meth:`add_cols`), rows as COO triplets (:meth:`add_rows`)
    with local row numbers; :meth:`build` returns the finished :class:`Mip`.
    """

    sense: Literal["min", "max"] = "min"
    _cost: list[FloatArray] = field(default_factory=list)
    _lb: list[FloatArray] = field(default_factory=list)
    _ub: list[FloatArray] = field(default_factory=list)
    _int: list[BoolArray] = field(default_factory=list)
    _cnames: list[list[str]] = field(default_factory=list)
    _rr: list[IntArray] = field(default_factory=list)
    _rc: list[IntArray] = field(default_factory=list)
    _rv: list[FloatArray] = field(default_factory=list)
    _rlb: list[FloatArray] = field(default_factory=list)
    _rub: list[FloatArray] = field(default_factory=list)
    _rnames: list[list[str]] = field(default_factory=list)
    _extra_cost: list[tuple[IntArray, FloatArray]] = field(default_factory=list)
    families: dict[str, tuple[int, int]] = field(default_factory=dict)
    n_cols: int = 0
    n_rows: int = 0
    offset: float = 0.0

    def add_cols(
        self,
        n: int,
        *,
        cost: float | FloatArray = 0.0,
        lb: float | FloatArray = 0.0,
        ub: float | FloatArray = INF,
        integer: bool = False,
        names: list[str] | None = None,
        prefix: str = "x",
    ) -> int:
        """Add ``n`` columns; return the index of the first."""
        start = self.n_cols
        self._cost.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self._lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        self._int.append(np.full(n, integer))
        self._cnames.append(names if names is not None else [f"{prefix}_{k}" for k in range(n)])
        self.n_cols += n
        return start

    def add_rows(
        self,
        n: int,
        rows: IntArray,
        cols: IntArray,
        vals: float | FloatArray,
        *,
        lb: float | FloatArray = -INF,
        ub: float | FloatArray = INF,
        family: str,
        names: list[str] | None = None,
    ) -> int:
        """Add ``n`` rows given COO entries (``rows`` local, 0..n-1); return the first row."""
        start = self.n_rows
        if n == 0:
            return start
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        self._rr.append(rows + start)
        self._rc.append(cols)
        self._rv.append(np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).copy())
        self._rlb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        self._rub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        self._rnames.append(names if names is not None else [f"{family}_{k}" for k in range(n)])
        old = self.families.get(family)
        # families are contiguous unless added in several calls; keep the overall span
        self.families[family] = (old[0] if old else start, start + n)
        self.n_rows += n
        return start

    def add_cost(self, cols: IntArray, vals: float | FloatArray) -> None:
        """Add ``vals`` to the objective coefficients of existing columns ``cols``.

        Repeated columns add up (in order), so shared columns take the sum of their costs.
        """
        cols = np.asarray(cols, dtype=np.int64)
        self._extra_cost.append((cols, np.broadcast_to(np.asarray(vals, dtype=float), cols.shape)))

    def fix_zero(self, cols: IntArray) -> None:
        """Set the upper bound of existing columns ``cols`` to 0."""
        starts = np.cumsum([0] + [len(u) for u in self._ub])
        for c in np.asarray(cols, dtype=np.int64).tolist():
            k = int(np.searchsorted(starts, c, side="right")) - 1
            self._ub[k][c - starts[k]] = 0.0

    def build(self, *, integral_objective: bool = False) -> Mip:
        """Return the assembled :class:`Mip` (rows in CSR form)."""
        cat = np.concatenate
        if self._rr:
            a = sp.csr_matrix(
                (cat(self._rv), (cat(self._rr), cat(self._rc))),
                shape=(self.n_rows, self.n_cols),
            )
            a.sum_duplicates()
            a.sort_indices()
            rlb, rub = cat(self._rlb), cat(self._rub)
        else:
            a = sp.csr_matrix((0, self.n_cols))
            rlb = rub = np.zeros(0)
        cost = cat(self._cost) if self._cost else np.zeros(0)
        for cols, vals in self._extra_cost:
            np.add.at(cost, cols, vals)
        return Mip(
            sense=self.sense,
            cost=cost,
            lb=cat(self._lb) if self._lb else np.zeros(0),
            ub=cat(self._ub) if self._ub else np.zeros(0),
            integer=cat(self._int) if self._int else np.zeros(0, dtype=bool),
            col_names=[n for block in self._cnames for n in block],
            a=a,
            row_lb=rlb,
            row_ub=rub,
            row_names=[n for block in self._rnames for n in block],
            families=dict(self.families),
            integral_objective=integral_objective,
            offset=self.offset,
        )


@dataclass
class Mip:
    """A MIP ``min/max cost @ x  s.t.  row_lb <= A x <= row_ub, lb <= x <= ub``."""

    sense: Literal["min", "max"]
    cost: FloatArray
    lb: FloatArray
    ub: FloatArray
    integer: BoolArray
    col_names: list[str]
    a: sp.csr_matrix
    row_lb: FloatArray
    row_ub: FloatArray
    row_names: list[str]
    families: dict[str, tuple[int, int]]
    integral_objective: bool = False
    offset: float = 0.0
    presolve: bool = True
    #: extra HiGHS options (name -> value) for this model
    highs_options: dict[str, bool | int | float | str] = field(default_factory=dict)
    #: extra CBC command-line options (e.g. ``"preprocess off"``) for this model
    cbc_options: list[str] = field(default_factory=list)

    @property
    def n_cols(self) -> int:
        """Number of columns (variables)."""
        return int(self.cost.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of rows (constraints)."""
        return int(self.row_lb.shape[0])

    def satisfied_by(self, x: FloatArray, *, tol: float = 1e-6) -> bool:
        """Whether ``x`` meets every bound, row and integrality of the MIP (within ``tol``)."""
        if x.shape != self.cost.shape or not np.isfinite(x).all():
            return False
        if (x < self.lb - tol).any() or (x > self.ub + tol).any():
            return False
        xi = x[self.integer]
        if (np.abs(xi - np.round(xi)) > tol).any():
            return False
        ax = self.a @ x
        slack = tol * np.maximum(1.0, np.abs(ax))
        return bool(((ax >= self.row_lb - slack) & (ax <= self.row_ub + slack)).all())

    def to_pulp(self, name: str) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
        """Return the equivalent :class:`pulp.LpProblem` and its variables in column order."""
        sense = pulp.LpMinimize if self.sense == "min" else pulp.LpMaximize
        prob = pulp.LpProblem(_NAME_BAD.sub("_", name), sense)
        # pulp >= 3.3 creates variables on the problem (the pulp 4.0 API; constructing
        # LpVariable directly is deprecated there); older pulp only has LpVariable
        new_variable = getattr(prob, "add_variable", pulp.LpVariable)
        variables = [
            new_variable(
                nm,
                None if math.isinf(lo) else float(lo),
                None if math.isinf(hi) else float(hi),
                cat=pulp.LpInteger if isint else pulp.LpContinuous,
            )
            for nm, lo, hi, isint in zip(
                self.col_names,
                self.lb.tolist(),
                self.ub.tolist(),
                self.integer.tolist(),
                strict=True,
            )
        ]
        nz = np.flatnonzero(self.cost)
        prob += pulp.LpAffineExpression(
            [(variables[k], float(self.cost[k])) for k in nz], constant=float(self.offset)
        )
        indptr, indices, data = self.a.indptr, self.a.indices, self.a.data
        for r in range(self.n_rows):
            lo, hi = float(self.row_lb[r]), float(self.row_ub[r])
            sl = slice(indptr[r], indptr[r + 1])
            terms = [(variables[c], float(v)) for c, v in zip(indices[sl], data[sl], strict=True)]
            rname = self.row_names[r]
            if lo == hi:
                prob += pulp.LpConstraint(
                    pulp.LpAffineExpression(terms), pulp.LpConstraintEQ, rname, lo
                )
                continue
            if not math.isinf(lo):
                prob += pulp.LpConstraint(
                    pulp.LpAffineExpression(terms),
                    pulp.LpConstraintGE,
                    rname if math.isinf(hi) else f"{rname}_lo",
                    lo,
                )
            if not math.isinf(hi):
                prob += pulp.LpConstraint(
                    pulp.LpAffineExpression(terms),
                    pulp.LpConstraintLE,
                    rname if math.isinf(lo) else f"{rname}_hi",
                    hi,
                )
        return prob, variables


@dataclass
class RawResult:
    """What a solver returned, by column position."""

    status: RawStatus
    x: FloatArray | None
    objective: float | None
    bound: float | None
    gap: float | None
    solve_time_s: float
    solver: str
    message: Msg = field(default_factory=lambda: Msg("models.raw_no_note"))

    @classmethod
    def no_plan(
        cls,
        status: RawStatus,
        solve_time_s: float,
        solver: str,
        message: Msg,
        *,
        bound: float | None = None,
    ) -> RawResult:
        """Return a result without a plan (``status`` infeasible, no_solution or error)."""
        return cls(status, None, None, bound, None, solve_time_s, solver, message)


def _rel_gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None or not math.isfinite(bound):
        return None
    diff = abs(obj - bound)
    if diff <= 1e-9:
        return 0.0
    return diff / max(abs(obj), 1e-10)


def integral_bound(bound: float, mip: Mip) -> float:
    """Round a valid bound to the integers when every plan's objective is an integer."""
    if not mip.integral_objective:
        return bound
    return math.floor(bound + 1e-6) if mip.sense == "max" else math.ceil(bound - 1e-6)


def proven_optimal(obj: float | None, bound: float | None, *, integral: bool) -> bool:
    """Whether ``bound`` proves ``obj`` optimal (within 1 if integral, else 1e-6 relative)."""
    if obj is None or bound is None or not math.isfinite(bound):
        return False
    diff = abs(obj - bound)
    if integral:
        return diff < 0.999
    return diff <= 1e-6 * max(1.0, abs(obj))


_highs_banner_done = False


def _new_highs() -> Any:
    """Return a new ``highspy.Highs`` without its start-up banner on standard output.

    HiGHS writes "Running HiGHS ..." from C++ straight to file descriptor 1 when the first
    instance of a process is created, before ``output_flag`` can be switched off; that line
    would break ``python -m planning solve --json`` and the library never prints. The first
    construction therefore runs with descriptor 1 pointed at the null device.
    """
    global _highs_banner_done  # noqa: PLW0603 - once per process, like the banner itself
    import highspy  # noqa: PLC0415 - heavy import, only when solving

    if _highs_banner_done:
        return highspy.Highs()  # type: ignore[no-untyped-call]
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 (e.g. a detached service): nothing to protect
        return highspy.Highs()  # type: ignore[no-untyped-call]
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), 1)
            try:
                h = highspy.Highs()  # type: ignore[no-untyped-call]
            finally:
                os.dup2(saved, 1)
    finally:
        os.close(saved)
    _highs_banner_done = True
    return h


def quiet_highs(threads: int | None = None) -> Any:
    """Return a new ``highspy.Highs``: no output, and the process's one thread setting.

    ``threads`` defaults to :func:`planning.settings.solver_threads` (batch workers: 1).
    HiGHS cannot change its thread count once any instance of the process has solved (a run
    asking for another count fails at once), so every HiGHS the models create comes from
    here and asks for the same value.
    """
    h = _new_highs()
    h.setOptionValue("output_flag", False)  # noqa: FBT003 - HiGHS's API
    if threads is None:  # batch workers: one thread each (KANGLE_SOLVER_THREADS=1)
        threads = settings.solver_threads()
    if threads is not None:
        h.setOptionValue("threads", threads)
    return h


class HighsSession:
    """A HiGHS instance holding one :class:`Mip`, solvable repeatedly after small changes."""

    def __init__(self, mip: Mip, *, threads: int | None = None) -> None:
        import highspy  # noqa: PLC0415 - heavy import, only when solving

        self.mip = mip
        self.h = quiet_highs(threads)
        if not mip.presolve:  # covering models: HiGHS presolve costs more than it saves
            self.h.setOptionValue("presolve", "off")
        for key, value in mip.highs_options.items():
            self.h.setOptionValue(key, value)
        a = mip.a
        integrality = mip.integer.astype(np.int32)
        inf = self.h.getInfinity()
        status = self.h.passModel(
            mip.n_cols,
            mip.n_rows,
            int(a.nnz),
            2,
            1 if mip.sense == "min" else -1,
            float(mip.offset),
            mip.cost,
            np.clip(mip.lb, -inf, inf),
            np.clip(mip.ub, -inf, inf),
            np.clip(mip.row_lb, -inf, inf),
            np.clip(mip.row_ub, -inf, inf),
            a.indptr.astype(np.int32),
            a.indices.astype(np.int32),
            a.data.astype(float),
            integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise SolverError("models.highs_refused")
        self._highspy = highspy
        self._started = False

    def set_start(self, cols: IntArray, values: FloatArray) -> None:
        """Give HiGHS a (partial) start: values of columns ``cols`` for the next solve.

        HiGHS completes a partial start itself. Presolve is switched off for a solve with a
        start (see :meth:`solve`).
        """
        self.h.setSolution(int(cols.size), cols.astype(np.int32), values.astype(float))
        self._started = True

    def _report(self, progress: Progress, time_limit_s: float) -> None:
        """Subscribe ``progress`` to HiGHS's MIP interrupt callback, at most once a second."""
        t0 = time.perf_counter()
        last = [-math.inf]

        def on_interrupt(event: Any) -> None:
            now = time.perf_counter()
            if now - last[0] < 1.0:
                return
            last[0] = now
            out = event.data_out
            elapsed = now - t0
            share = 0.1 + 0.8 * min(1.0, elapsed / max(time_limit_s, 1e-9))
            obj, bound = float(out.objective_function_value), float(out.mip_dual_bound)
            if not math.isfinite(obj) or abs(obj) >= 1e30:
                progress(share, MsgStr("progress.mip_no_plan_yet", elapsed_s=elapsed))
                return
            gap = abs(bound - obj) / max(abs(obj), 1e-10) if math.isfinite(bound) else math.inf
            text = MsgStr("progress.mip_status", elapsed_s=elapsed, gap_pct=100.0 * gap)
            progress(share, text)

        self.h.cbMipInterrupt.subscribe(on_interrupt)

    def set_row_bounds(self, row: int, lb: float, ub: float) -> None:
        """Change the bounds of one row."""
        inf = self.h.getInfinity()
        self.h.changeRowBounds(row, max(lb, -inf), min(ub, inf))
        self.mip.row_lb[row], self.mip.row_ub[row] = lb, ub

    def solve(
        self,
        *,
        time_limit_s: float,
        mip_gap: float,
        start: FloatArray | None = None,
        progress: Progress | None = None,
    ) -> RawResult:
        """Solve; ``start`` is an optional feasible point (all columns) to warm-start from.

        ``progress``: called about once a second while HiGHS runs, with the elapsed time and
        the current gap (``progress.mip_status``; ``progress.mip_no_plan_yet`` before the
        first plan), the fraction being the share of the time limit used (0.1-0.9).
        """
        hs = self._highspy
        h = self.h
        if progress is not None:
            self._report(progress, time_limit_s)
        h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        if self.mip.integral_objective and mip_gap == 0:
            h.setOptionValue("mip_abs_gap", 0.999)
        if start is not None:
            self.set_start(np.arange(self.mip.n_cols, dtype=np.int64), start)
        # HiGHS pitfall: a start (setSolution) with presolve on can end in a wrong "Optimal"
        # (a dual bound above the true optimum, the start returned as the solution); with a
        # start, presolve is always off
        presolve_on = self.mip.presolve and not self._started
        h.setOptionValue("presolve", str(self.mip.highs_options.get("presolve", "choose")))
        if not presolve_on:
            h.setOptionValue("presolve", "off")
        t0 = time.perf_counter()
        h.run()
        elapsed = time.perf_counter() - t0
        ms = h.getModelStatus()
        info = h.getInfo()
        has_sol = info.primal_solution_status == 2
        x = np.asarray(h.getSolution().col_value, dtype=float) if has_sol else None
        obj = float(info.objective_function_value) if has_sol else None
        is_mip = bool(self.mip.integer.any())
        self._started = False  # a start serves one solve
        # check the reported objective against the solution itself: a mismatch means HiGHS's
        # claims about this run cannot be trusted (no proof, no bound)
        trusted = True
        if x is not None and obj is not None:
            value = float(self.mip.cost @ x) + float(self.mip.offset)
            if abs(value - obj) > 1e-6 * max(1.0, abs(value)):
                logger.warning(  # no figures: an objective may be a count of patients
                    "HiGHS objective differs from its solution's by %.3g (relative)",
                    abs(value - obj) / max(1.0, abs(value)),
                )
                obj, trusted = value, False
        bound: float | None
        if is_mip:
            bound = float(info.mip_dual_bound)
            if not math.isfinite(bound) or not trusted:
                bound = None
            else:
                bound = integral_bound(bound, self.mip)
        else:
            bound = obj if ms == hs.HighsModelStatus.kOptimal else None
        if ms == hs.HighsModelStatus.kInfeasible:
            note = Msg("models.raw_highs_infeasible")
            return RawResult.no_plan("infeasible", elapsed, "highs", note)
        if ms == hs.HighsModelStatus.kUnboundedOrInfeasible:
            note = Msg("models.raw_highs_unbounded")
            return RawResult.no_plan("infeasible", elapsed, "highs", note)
        if x is None:
            if ms == hs.HighsModelStatus.kTimeLimit:
                note = Msg("models.raw_time_limit_no_plan")
                return RawResult.no_plan("no_solution", elapsed, "highs", note, bound=bound)
            note = Msg("models.raw_highs_stopped", status=h.modelStatusToString(ms))
            return RawResult.no_plan("error", elapsed, "highs", note)
        gap = _rel_gap(obj, bound) if is_mip else 0.0
        proven = (
            trusted
            and ms == hs.HighsModelStatus.kOptimal
            and (not is_mip or proven_optimal(obj, bound, integral=self.mip.integral_objective))
        )
        status: RawStatus = "optimal" if proven else "feasible"
        if proven:
            gap = 0.0 if gap is None or gap < 1e-9 else gap
        note = Msg("models.raw_highs_status", status=h.modelStatusToString(ms))
        return RawResult(status, x, obj, bound, gap, elapsed, "highs", note)


def solve_highs(
    mip: Mip, *, time_limit_s: float, mip_gap: float, start: FloatArray | None = None
) -> RawResult:
    """Solve ``mip`` once with HiGHS."""
    return HighsSession(mip).solve(time_limit_s=time_limit_s, mip_gap=mip_gap, start=start)


def cbc_command(**options: Any) -> pulp.COIN_CMD:
    """Return pulp's CBC interface, ``pulp.COIN_CMD``, pointed at a working CBC executable.

    ``pulp.PULP_CBC_CMD`` is deprecated in pulp 3.x and removed, with the CBC binary bundled in
    pulp, in pulp 4.0; ``COIN_CMD`` is the interface that stays. The executable is the one
    bundled with pulp 3.x when present (the CBC build pulp is tested with), otherwise the
    ``cbc`` that ``COIN_CMD`` finds itself (on ``PATH``, or installed by ``pip install
    pulp[cbc]``).

    Parameters
    ----------
    **options
        Keyword options of :class:`pulp.COIN_CMD` (``msg``, ``timeLimit``, ``gapRel`` ...),
        except ``path``.

    Returns
    -------
    command
        A ``COIN_CMD`` whose ``available()`` is true.

    Raises
    ------
    SolverError
        No CBC executable was found; says how to install one or to use HiGHS.
    """
    bundled = getattr(pulp.apis.coin_api, "pulp_cbc_path", None)  # pulp < 4 ships a binary
    if bundled is not None:
        command = pulp.COIN_CMD(path=pulp.COIN_CMD.executableExtension(bundled), **options)
        if command.available():
            return command
    command = pulp.COIN_CMD(**options)
    if command.available():
        return command
    raise SolverError("models.cbc_not_found")


class _CbcWatchdog:
    """End the CBC process started by pulp once ``end`` (``time.perf_counter()``) has passed.

    pulp waits for CBC without a timeout; CBC stops on its ``-sec`` limit only between its
    steps. The watchdog finds the process among this process's children by its executable
    (Linux ``/proc``; elsewhere it does nothing) and kills it; pulp then raises, and the
    caller reports the time limit.
    """

    def __init__(self, executable: str, end: float) -> None:
        self.executable = executable
        self.end = end
        self.fired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        if self._done.wait(max(0.0, self.end - time.perf_counter())):
            return
        tasks = Path(f"/proc/{os.getpid()}/task")
        if not tasks.is_dir():
            return
        # pulp may still be writing the MPS file: look until CBC shows up or the solve ends
        while not self._done.is_set():
            for pid in self._children(tasks):
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    if cmdline and cmdline[0].decode(errors="replace") == self.executable:
                        self.fired = True
                        os.kill(int(pid), signal.SIGKILL)
                        return
                except (OSError, ValueError):
                    continue
            self._done.wait(0.02)

    @staticmethod
    def _children(tasks: Path) -> list[str]:
        pids: list[str] = []
        for children in tasks.glob("*/children"):
            try:
                pids.extend(children.read_text().split())
            except OSError:
                continue
        return pids

    def stop(self) -> None:
        """Stand down: the solve has ended."""
        self._done.set()
        self._thread.join()


_CBC_PROVEN_INFEASIBLE = re.compile(r"proven infeasible|problem is infeasible", re.IGNORECASE)
_CBC_BOUND = re.compile(r"(?:Lower|Upper) bound:\s*(-?[0-9.eE+]+)")
_CBC_OBJ = re.compile(r"Objective value:\s*(-?[0-9.eE+]+)")


def solve_cbc(
    mip: Mip, *, time_limit_s: float, mip_gap: float, start: FloatArray | None = None
) -> RawResult:
    """Solve ``mip`` with CBC through pulp (MPS file), reading ``status`` and ``sol_status``.

    pulp passes ``timeLimit`` to CBC as ``-sec`` (wall-clock with pulp's ``timeMode
    elapsed``), fractions included; CBC gets what is left of ``time_limit_s`` after building
    the problem, less the same again for writing the MPS file pulp hands it, so the whole
    call stays near the limit (not rounded up to whole seconds).
    """
    t_start = time.perf_counter()
    prob, variables = mip.to_pulp("model")
    built = time.perf_counter() - t_start
    cbc_limit_s = max(0.01, round(time_limit_s - 2.0 * built - 0.05, 2))
    if start is not None:
        for v, val in zip(variables, start.tolist(), strict=True):
            v.setInitialValue(round(val) if v.cat == pulp.LpInteger else val)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "cbc.log"
        cmd = cbc_command(
            msg=False,
            timeLimit=cbc_limit_s,
            gapRel=mip_gap,
            gapAbs=0.999 if (mip.integral_objective and mip_gap == 0) else None,
            logPath=str(log_path),
            warmStart=start is not None,
            threads=1,
            options=list(mip.cbc_options),
        )
        t0 = time.perf_counter()
        # CBC does not stop inside its root LP (with pulp's wall-clock time mode): a watchdog
        # ends the CBC process once the limit is passed by 5 % + 0.5 s
        watchdog = _CbcWatchdog(str(cmd.path), t_start + 1.05 * time_limit_s + 0.5)
        try:
            prob.solve(cmd)
        except pulp.PulpSolverError as err:
            if not watchdog.fired:
                raise SolverError("models.cbc_failed", reason=str(err)) from None
        finally:
            watchdog.stop()
        elapsed = time.perf_counter() - t0
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
    if watchdog.fired:
        note = Msg("models.raw_time_limit_no_plan")
        return RawResult.no_plan("no_solution", elapsed, "cbc", note)
    status, sol_status = prob.status, prob.sol_status
    if status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        # pulp reads "Integer infeasible" and a few stops as infeasible: only CBC's own proof
        # counts
        if _CBC_PROVEN_INFEASIBLE.search(log):
            note = Msg("models.raw_cbc_infeasible")
            return RawResult.no_plan("infeasible", elapsed, "cbc", note)
        note = Msg("models.raw_cbc_no_plan", status=pulp.LpStatus[status])
        return RawResult.no_plan("no_solution", elapsed, "cbc", note)
    if sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        note = Msg("models.raw_cbc_no_plan", status=pulp.LpStatus[status])
        return RawResult.no_plan("no_solution", elapsed, "cbc", note)
    x = np.array([v.varValue if v.varValue is not None else 0.0 for v in variables])
    if not mip.satisfied_by(x):
        # a stop inside the root LP is read by pulp as "integer feasible": not a plan
        note = Msg("models.raw_cbc_no_plan", status=pulp.LpStatus[status])
        return RawResult.no_plan("no_solution", elapsed, "cbc", note)
    obj = float(mip.cost @ x) + mip.offset
    bound: float | None = None
    m = _CBC_BOUND.search(log)
    if m:
        bound = float(m.group(1))
        m_obj = _CBC_OBJ.search(log)
        if m_obj:  # align the log's objective (constant may be left out) with ours
            bound += obj - float(m_obj.group(1))
        bound = integral_bound(bound, mip)
    is_mip = bool(mip.integer.any())
    proven = status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal
    if proven and mip_gap > 0 and bound is not None:
        proven = proven_optimal(obj, bound, integral=mip.integral_objective)
    if proven and bound is None:
        bound = obj
    gap = (
        0.0
        if (proven and (bound is None or _rel_gap(obj, bound) in (None, 0.0)))
        else (_rel_gap(obj, bound) if is_mip else 0.0)
    )
    return RawResult(
        "optimal" if proven else "feasible",
        x,
        obj,
        bound,
        gap,
        elapsed,
        "cbc",
        Msg("models.raw_cbc_status", status=pulp.LpStatus[status], sol_status=sol_status),
    )


def solve_mip(
    mip: Mip,
    *,
    solver: Literal["highs", "cbc"],
    time_limit_s: float,
    mip_gap: float,
    start: FloatArray | None = None,
) -> RawResult:
    """Solve with the named solver."""
    fn = solve_highs if solver == "highs" else solve_cbc
    res = fn(mip, time_limit_s=time_limit_s, mip_gap=mip_gap, start=start)
    logger.debug(
        "%s: %s obj=%s bound=%s in %.2f s",
        solver,
        res.status,
        res.objective,
        res.bound,
        res.solve_time_s,
    )
    return res
