r"""Maximal covering location problem (MCLP): most patients within T minutes of p sites.

Notes
-----
Sets: demand points :math:`i \in I` with patients :math:`w_i`, sites :math:`j \in J`,
:math:`N_i = \{j : t_{ij} \le T_i\}` the sites within the demand point's threshold
(:math:`T_i` = ``max_travel_min``, or the urban / rural threshold). Only pairs in the sparse
travel table exist. Variables :math:`y_j \in \{0,1\}` (site open), :math:`z_g \in [0,1]`
(demand group covered).

.. math::

    \max \sum_g W_g z_g \quad \text{s.t.} \quad
    z_g \le \sum_{j \in N_g} y_j \;\forall g, \qquad
    \sum_j y_j = p, \qquad y_j = 1 \;\forall j \text{ existing}

Demand points with the same set :math:`N_i` are merged into one group :math:`g` with
:math:`W_g = \sum_{i \in g} w_i` (an exact reduction). :func:`~planning.models.solve`
also moves groups covered by an existing site to a constant and, when only p constrains the
plan, drops sites whose groups are a subset of another site's (ties: the first id stays).
:math:`z` may be continuous: for integer :math:`y` an optimal
:math:`z_g = \min(1, \sum_{N_g} y_j)` is integral.
With a budget, :math:`\sum_j c_j y_j \le B` over new sites and :math:`\sum_j y_j \le p`.

Before any MIP, a greedy + swap plan is tried: it is proven optimal when it covers every
coverable patient. Without side rules, an instance with at most
:data:`~planning.models._heuristic.MAX_ENUMERATED_PLANS` plans is then solved by trying them
all (exact; ties go to the first plan), which is faster than starting a solver.

Capacitated variant: :math:`x_{ij} \in [0,1]` share of :math:`i` served by :math:`j \in N_i`,
:math:`\max \sum_{ij} w_i x_{ij}` s.t. :math:`\sum_j x_{ij} \le 1`,
:math:`\sum_i w_i x_{ij} \le C_j y_j` (or :math:`x_{ij} \le y_j` when :math:`C_j = \infty`).
"""

from __future__ import annotations

import pulp

from planning.models._build import build_pulp
from planning.models.base import ModelInput
from planning.scenario import Scenario


def build_mclp(data: ModelInput, scenario: Scenario) -> pulp.LpProblem:
    r"""Build (without solving) the MCLP of ``scenario`` on ``data``.

    Parameters
    ----------
    data
        Sparse travel minutes, demand weights and sites, keyed by ids.
    scenario
        ``n_facilities`` (p), ``max_travel_min`` (T, minutes) and ``constraints``.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` (variables ``y_<site_id>``, ``covered_<k>``).

    Notes
    -----
    See the module docstring for the formulation:
    :math:`\max \sum_g W_g z_g` s.t. :math:`z_g \le \sum_{j \in N_g} y_j`,
    :math:`\sum_j y_j = p`, existing sites fixed open.
    """
    return build_pulp(data, scenario, "mclp", name=f"mclp_{scenario.name}")
