"""Trade-off curves: the same model solved for each number of sites, or each budget.

Each step starts from the previous one (its plan grown by the best site, or, for the
p-center, its optimum as an upper bound), so a curve costs little more than its hardest step.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planning._progress import Progress
from planning.errors import InfeasibleError, ScenarioError, SolverError
from planning.i18n import MsgStr
from planning.models._decode import decode
from planning.models._diagnose import precheck
from planning.models._dispatch import solve_once
from planning.models._mip import BoolArray
from planning.models._prep import Prepared, check_counts, prepare
from planning.models._run import Deadline, Infeasible, NoSolution
from planning.models.base import ModelInput
from planning.models.options import MODEL_LABELS, ModelOptions, ScenarioLike, as_options

CURVE_COLUMNS = [
    "p",
    "objective",
    "coverage_share",
    "covered_patients",
    "mean_travel_min",
    "status",
    "gap",
    "solve_time_s",
    "selected_sites",
]


def trade_off_curve(
    data: ModelInput,
    options: ModelOptions | ScenarioLike,
    p_values: list[int] | range | None = None,
    *,
    budgets: list[float] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Solve ``options`` for each number of sites (or each budget), reusing work between steps.

    Parameters
    ----------
    data
        Model input keyed by ids.
    options
        Model and constraints (:class:`ModelOptions`, or a scenario read with
        :meth:`ModelOptions.from_scenario`); ``p`` is replaced by each value of
        ``p_values`` (or ``budget`` by each of ``budgets``). LSCP has no number of sites and
        is refused.
    p_values
        Numbers of sites (existing ones included); solved in increasing order.
    budgets
        Instead of ``p_values``: opening budgets (same unit as the site ``cost`` column /
        candidate-type ``opening_cost``), solved in increasing order. Each step opens any
        number of new sites whose costs add up to at most the budget (``n_facilities`` is
        dropped); existing sites are free and always open.
    progress
        Optional callback ``progress(share_done, message)``.

    Returns
    -------
    curve
        One row per step (ascending): ``p`` (sites in the plan, existing included),
        ``objective``, ``coverage_share`` (patients within ``max_travel_min`` of an open
        site / all patients), ``covered_patients``, ``mean_travel_min`` (patient-weighted,
        over served patients), ``status``, ``gap``, ``solve_time_s``, ``selected_sites``
        (tuple of ids) and ``message``. With ``budgets`` the first column is ``budget`` and
        ``total_cost`` (opening cost of the new sites chosen) follows the figures. A step that
        fails has status ``"infeasible"`` or ``"error"`` and NaN figures.

    Raises
    ------
    ScenarioError
        LSCP; both or neither of ``p_values`` and ``budgets``; values out of range; budgets
        when no candidate site has an opening cost.

    Notes
    -----
    Work reused between steps: the plan of one step is the warm start of the next (for
    numbers of sites, extended greedily by the site adding most: coverage for MCLP, fewest
    patient-minutes otherwise; a plan within a budget stays within any larger one); for
    p-center the optimum of a step bounds the next from above (more sites or more money
    never lengthen the longest trip). Each step keeps the full time limit.
    """
    opts = as_options(options)
    if opts.kind == "lscp":
        raise ScenarioError("models.curve_lscp")
    if (p_values is None) == (budgets is None):
        raise ScenarioError("models.curve_steps_both")
    by_budget = budgets is not None
    steps: list[float]
    if budgets is not None:
        steps = sorted({float(b) for b in budgets})
        if not steps or steps[0] < 0 or not all(math.isfinite(b) for b in steps):
            raise ScenarioError("models.curve_budgets_invalid", budgets=list(budgets))
        base = opts.replace(p=None, budget=steps[0])
    else:
        assert p_values is not None  # noqa: S101 - checked above
        steps = sorted({float(int(v)) for v in p_values})
        if not steps or steps[0] < 1:
            raise ScenarioError("models.curve_p_values_invalid", p_values=list(p_values))
        base = opts.replace(p=int(steps[0]))
    rows: list[dict[str, object]] = []
    prev_open: BoolArray | None = None
    prev_center: float | None = None
    prep0 = prepare(data, base)
    if by_budget and not (prep0.cost[prep0.openable & ~prep0.fixed] > 0).any():
        raise ScenarioError("models.curve_no_costs")
    for k, value in enumerate(steps):
        if by_budget:
            sc = opts.replace(p=None, budget=value)
            step = MsgStr("progress.curve_step_budget", model=MODEL_LABELS[opts.kind], budget=value)
            row: dict[str, object] = {"budget": value}
        else:
            sc = opts.replace(p=int(value))
            step = MsgStr("progress.curve_step_sites", model=MODEL_LABELS[opts.kind], n=int(value))
            row = {"p": int(value)}
        if progress is not None:
            progress(k / len(steps), step)
        try:
            check_counts(prep0, sc)
            precheck(prep0, sc)
            start = prev_open
            if prev_open is not None and not by_budget:
                start = _grow(prep0, sc, prev_open, int(value))
            out, form = solve_once(
                prep0, sc, Deadline(sc.time_limit_s), start_open=start, upper_min=prev_center
            )
            sol = decode(out, form, prep0, sc)
        except (Infeasible, InfeasibleError, ScenarioError) as err:
            row.update(status="infeasible", message=str(err))
            rows.append(row)
            continue
        except (NoSolution, SolverError) as err:
            row.update(status="error", message=str(err))
            rows.append(row)
            continue
        prev_open = out.is_open
        if sc.kind == "p_center" and sol.status == "optimal":
            prev_center = sol.objective
        row.update(
            p=len(sol.selected_sites),
            objective=sol.objective,
            coverage_share=sol.extras["coverage_share"],
            covered_patients=sol.extras["covered_patients"],
            mean_travel_min=sol.extras["mean_travel_min"],
            status=sol.status,
            gap=sol.gap,
            solve_time_s=sol.solve_time_s + sol.build_time_s,
            selected_sites=sol.selected_sites,
            total_cost=sol.extras["total_cost"],
            message=sol.message,
        )
        rows.append(row)
    if progress is not None:
        progress(1.0, MsgStr("progress.curve_done"))
    frame = pd.DataFrame(rows)
    columns = (
        ["budget", *CURVE_COLUMNS, "total_cost", "message"]
        if by_budget
        else [*CURVE_COLUMNS, "message"]
    )
    for col in columns:
        if col not in frame.columns:
            frame[col] = np.nan
    return frame[columns].reset_index(drop=True)


def _grow(prep: Prepared, opts: ModelOptions, prev: BoolArray, p: int) -> BoolArray:
    """Extend the previous plan greedily to ``p`` sites (a warm start for the next step)."""
    is_open = prev.copy()
    cover = (
        prep.covering_pairs() if opts.kind in {"mclp", "max_min"} else np.ones(prep.pi.size, bool)
    )
    while int(is_open.sum()) < p:
        cand = np.flatnonzero(prep.openable & ~is_open)
        if cand.size == 0:
            break
        _, cur = prep.nearest_open(is_open, cover)
        gain = np.zeros(prep.m)
        if opts.kind in {"mclp", "max_min"}:
            newly = cover & ~np.isfinite(cur[prep.pi])
            np.add.at(gain, prep.pj[newly], prep.weight[prep.pi[newly]])
        else:
            cur_f = np.where(np.isfinite(cur), cur, prep.pt.max(initial=0.0) * 10 + 1)
            better = np.maximum(cur_f[prep.pi] - prep.pt, 0.0) * prep.weight[prep.pi]
            np.add.at(gain, prep.pj, better)
        best = cand[int(np.argmax(gain[cand]))]
        is_open[best] = True
    return is_open
