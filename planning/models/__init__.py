"""Integer-programming siting models (see each module's docstring for its formulation).

:func:`solve` dispatches on ``scenario.model``: :mod:`~planning.models.mclp`,
:mod:`~planning.models.p_median`, :mod:`~planning.models.lscp`,
:mod:`~planning.models.p_center`. ``build_*`` return the unsolved :class:`pulp.LpProblem`.
"""

from __future__ import annotations

from planning.models._api import _with_budget as scenario_with_budget
from planning.models._api import solve, trade_off_curve
from planning.models.base import ModelInput, Solution
from planning.models.lscp import build_lscp
from planning.models.mclp import build_mclp
from planning.models.p_center import build_p_center
from planning.models.p_median import build_p_median

__all__ = [
    "ModelInput",
    "Solution",
    "build_lscp",
    "build_mclp",
    "build_p_center",
    "build_p_median",
    "scenario_with_budget",
    "solve",
    "trade_off_curve",
]
