r"""Location set covering problem (LSCP): fewest sites so that every patient is within T minutes.

Notes
-----
With :math:`N_i = \{j : t_{ij} \le T_i\}` over the sparse travel table and
:math:`y_j \in \{0,1\}`:

.. math::

    \min \sum_j y_j \quad \text{s.t.} \quad \sum_{j \in N_i} y_j \ge 1
    \;\forall i : w_i > 0, \qquad y_j = 1 \;\forall j \text{ existing}

Identical rows are merged. If some :math:`N_i` is empty the problem is infeasible and
:func:`~planning.models.solve` raises :class:`~planning.errors.InfeasibleError` naming the
county, the patients and the nearest candidate's minutes. The objective counts existing sites
too. Without side rules, when every plan up to the optimum number of sites fits in
:data:`~planning.models._heuristic.MAX_ENUMERATED_PLANS`, plans are tried smallest first
instead of starting a solver (exact). Capacitated variant: :math:`\sum_{j \in N_i} x_{ij} = 1`,
:math:`\sum_i w_i x_{ij} \le C_j y_j`.
"""

from __future__ import annotations

import pulp

from planning.models._build import build_pulp
from planning.models.base import ModelInput
from planning.scenario import Scenario


def build_lscp(data: ModelInput, scenario: Scenario) -> pulp.LpProblem:
    r"""Build (without solving) the LSCP of ``scenario`` on ``data``.

    Parameters
    ----------
    data
        Sparse travel minutes, demand weights and sites, keyed by ids.
    scenario
        ``max_travel_min`` (T, minutes) and ``constraints``; ``n_facilities`` is ignored.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` (variables ``y_<site_id>``).

    Notes
    -----
    :math:`\min \sum_j y_j` s.t. :math:`\sum_{j: t_{ij} \le T_i} y_j \ge 1` for every
    demand point with patients; existing sites fixed open.
    """
    return build_pulp(data, scenario, "lscp", name=f"lscp_{scenario.name}")
