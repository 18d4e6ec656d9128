"""Siting models: which sites to open, from a sparse travel table, weights and plain options.

Takes a :class:`ModelInput` (travel minutes ``demand_id, site_id, travel_min`` under the
cut-off, demand weights, sites) and :class:`ModelOptions` (model, number of sites,
thresholds, rules, solver); gives a :class:`Solution` keyed by the same ids. A
:class:`~planning.scenario.Scenario` may stand for the options
(:meth:`ModelOptions.from_scenario`).

One public module per model holds its formulation (docstring), its ``build_*`` (the unsolved
:class:`pulp.LpProblem`), its solve path and its special paths: :mod:`~planning.models.mclp`,
:mod:`~planning.models.lscp`, :mod:`~planning.models.p_median`,
:mod:`~planning.models.p_center`, the fairest plan :mod:`~planning.models.max_min`
(the worst-off county first), the plan with the best worst case over several sets of
assumptions (:mod:`~planning.models.robust`, :func:`solve_robust`), and the multi-year
:mod:`~planning.models.rollout`.
:func:`solve` dispatches on ``options.kind``; :func:`trade_off_curve` varies ``p`` or the
budget; a rollout (:func:`~planning.models.rollout.solve_rollout_plan`) takes
:class:`RolloutOptions`. Underneath, private: the blocks every model adds (``_blocks``; the
radius chain in ``_radius``), the MIP builder and solvers (``_mip``), running and outcomes
(``_run``), heuristics (``_heuristic``), the Lagrangian bound and branch-and-bound
(``_branch``), data preparation (``_prep``), dispatch (``_dispatch``), diagnosis
(``_diagnose``), decoding (``_decode``) and the rollout's periods (``_periods``).
"""

from __future__ import annotations

from planning.models._dispatch import solve
from planning.models.base import ModelInput, Solution
from planning.models.curve import trade_off_curve
from planning.models.lscp import build_lscp
from planning.models.max_min import build_max_min
from planning.models.mclp import build_mclp
from planning.models.options import ModelOptions, Period, RolloutOptions
from planning.models.p_center import build_p_center
from planning.models.p_median import build_p_median
from planning.models.robust import RobustSolution, solve_robust

__all__ = [
    "ModelInput",
    "ModelOptions",
    "Period",
    "RobustSolution",
    "RolloutOptions",
    "Solution",
    "build_lscp",
    "build_max_min",
    "build_mclp",
    "build_p_center",
    "build_p_median",
    "solve",
    "solve_robust",
    "trade_off_curve",
]
