"""``solve``: send the data to its model, diagnose failures, return a :class:`Solution`.

Each model module owns its solve path and special paths (:func:`~planning.models.mclp.
solve_mclp`, :func:`~planning.models.lscp.solve_lscp`, :func:`~planning.models.p_median.
solve_p_median`, :func:`~planning.models.p_center.solve_p_center`); this module only
prepares the data, checks what cannot hold, picks the model, and turns a solver's "no plan"
into the error the user reads.
"""

from __future__ import annotations

import logging
import time

from planning._progress import Progress
from planning.errors import InfeasibleError, SolverError
from planning.i18n import Msg, MsgStr
from planning.models import lscp, max_min, mclp, p_center, p_median
from planning.models._blocks import Formulation, keeps_plan_rules
from planning.models._decode import decode
from planning.models._diagnose import diagnose, precheck
from planning.models._mip import BoolArray
from planning.models._prep import Prepared, prepare
from planning.models._run import Deadline, Infeasible, NoSolution, Outcome
from planning.models.base import ModelInput, Solution
from planning.models.options import MODEL_LABELS, ModelOptions, ScenarioLike, as_options

logger = logging.getLogger(__name__)


def solve(
    data: ModelInput,
    options: ModelOptions | ScenarioLike,
    *,
    progress: Progress | None = None,
) -> Solution:
    """Solve the siting model named by ``options.kind`` on ``data``.

    Parameters
    ----------
    data
        Travel minutes (sparse long table), demand weights and sites, keyed by ids.
    options
        Model (``mclp``, ``p_median``, ``lscp``, ``p_center``, ``max_min``), number of sites, travel
        threshold (minutes), solver, time limit (seconds), MIP gap and constraints. A
        :class:`~planning.scenario.Scenario` is read with :meth:`ModelOptions.from_scenario`.
    progress
        Optional callback ``progress(share_done, message)``.

    Returns
    -------
    solution
        Open sites (existing ones included), allocation of patients to sites, objective,
        status (``"optimal"`` only when proven), gap and bound. ``extras`` holds
        ``site_load`` (patients, capacity per open site), ``coverage_share``,
        ``mean_travel_min`` and, with ``hub_per_prefecture``, ``hubs``.

    Raises
    ------
    ScenarioError
        Options contradicting the data (e.g. more sites than candidates).
    InfeasibleError
        No plan meets every requirement; ``culprit`` names the requirement to relax.
    SolverError
        The solver failed, or found no plan within the time limit.
    """
    opts = as_options(options)
    if progress is not None:
        progress = _forward_only(progress)
    t_start = time.perf_counter()
    deadline = Deadline(opts.time_limit_s)  # the limit covers the data preparation too
    if progress is not None:
        progress(0.0, MsgStr("progress.preparing_model_data"))
    prep = prepare(data, opts)
    precheck(prep, opts)
    label = MODEL_LABELS[opts.kind]
    if progress is not None:
        progress(0.1, MsgStr("progress.solving", model=label))
    try:
        out, form = solve_once(prep, opts, deadline, progress=progress)
    except Infeasible:
        raise diagnose(prep, opts, _plan_exists) from None
    except NoSolution as err:
        raise SolverError(
            "models.no_plan_in_time",
            model=label,
            reason=err.raw.message,
            time_limit_s=opts.time_limit_s,
            solver=opts.solver,
        ) from None
    sol = decode(out, form, prep, opts)
    # MCLP's objective is the patients it covers, which the plan's outputs may show only as
    # "<5" or hide to protect another count: the exact figure stays out of progress and logs
    is_count = opts.kind == "mclp"
    if progress is not None:
        status = _status(sol.status)
        if is_count:
            progress(1.0, MsgStr("progress.objective_in_results", status=status))
        else:
            progress(1.0, MsgStr("progress.objective", status=status, objective=sol.objective))
    elapsed = time.perf_counter() - t_start
    if is_count:
        gap = "n/a" if sol.gap is None else f"{sol.gap:.2%}"
        logger.info("%s solved: %s, gap %s, %.2f s total", opts.kind, sol.status, gap, elapsed)
    else:
        logger.info(
            "%s solved: %s, objective %.6g, %.2f s total",
            opts.kind,
            sol.status,
            sol.objective,
            elapsed,
        )
    return sol


def _forward_only(progress: Progress) -> Progress:
    """Wrap ``progress`` so that its fraction never moves back.

    The solver's own reports (by the share of the time used) interleave with the model's steps.
    """
    last = [0.0]

    def report(share: float, text: str) -> None:
        last[0] = max(last[0], share)
        progress(last[0], text)

    return report


def solve_once(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    *,
    progress: Progress | None = None,
    start_open: BoolArray | None = None,
    upper_min: float | None = None,
) -> tuple[Outcome, Formulation]:
    """Solve ``opts.kind`` once on prepared data (no diagnosis).

    ``start_open``: a plan to start from; ``upper_min``: a p-center radius known to be
    feasible (both from a neighbouring step of a trade-off curve).

    Raises
    ------
    Infeasible, NoSolution
        The solver proved that no plan exists, or stopped without one.
    """
    kind = opts.kind
    if kind in ("p_median", "p_center") and start_open is None and upper_min is None:
        unruled = _solve_without_plan_rules(prep, opts, deadline, progress)
        if unruled is not None:
            return unruled
    if kind == "p_center":
        return p_center.solve_p_center(prep, opts, deadline, progress=progress, upper_min=upper_min)
    if kind == "p_median":
        return p_median.solve_p_median(
            prep, opts, deadline, progress=progress, start_open=start_open
        )
    if kind == "mclp":
        return mclp.solve_mclp(prep, opts, deadline, start_open=start_open, progress=progress)
    if kind == "max_min":
        return max_min.solve_max_min(prep, opts, deadline, start_open=start_open)
    return lscp.solve_lscp(prep, opts, deadline, start_open=start_open, progress=progress)


def _solve_without_plan_rules(
    prep: Prepared,
    opts: ModelOptions,
    deadline: Deadline,
    progress: Progress | None,
) -> tuple[Outcome, Formulation] | None:
    """Solve a p-median / p-center without its county / hub rules; keep it if it meets them.

    Dropping rules that only restrict which plans are allowed gives a relaxation with the
    same objective; when its proven optimum happens to keep the rules it is optimal for the
    full problem too (Putian, p = 6: the unconstrained optimum already has a site in every
    county and prefecture; p-median 2 s instead of the 60 s limit with an 80 % gap). Only
    tried when nothing else but ``p`` shapes the plan; returns ``None`` otherwise.
    """
    relaxed = opts.without_plan_rules()
    if not opts.has_plan_rules or not relaxed.pure_p_median:
        return None
    sub = Deadline(0.5 * deadline.left())
    try:
        out, form = solve_once(prep, relaxed, sub, progress=progress)
    except (Infeasible, NoSolution):
        return None
    if out.status != "optimal" or not keeps_plan_rules(prep, opts, out.is_open):
        return None
    out.extras["plan_rules_met_by_the_relaxation"] = True
    return out, form


def _plan_exists(prep: Prepared, opts: ModelOptions) -> bool:
    """Whether a plan exists under ``opts`` (within its time limit): for :func:`diagnose`."""
    try:
        solve_once(prep, opts, Deadline(opts.time_limit_s))
    except (Infeasible, NoSolution, InfeasibleError):
        return False
    return True


def _status(status: str) -> Msg | str:
    """Return a solver status as the progress line reads it (``optimal``; 已证明最优)."""
    if status in {"optimal", "feasible"}:
        return Msg(f"progress.status_{status}")
    return status
