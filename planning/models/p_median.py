r"""p-median: fewest total patient-minutes with p sites, by the radius formulation.

Notes
-----
For demand point :math:`i` let :math:`D_i^0 < D_i^1 < \dots < D_i^{K_i-1}` be the distinct
travel minutes to the sites it has a pair with (a point can only be assigned along a pair of
the sparse table). With :math:`y_j \in \{0,1\}` and :math:`z_i^k \ge 0` ("no open site
within :math:`D_i^k`"), the radius formulation (Elloumi 2010; García, Labbé & Marín 2011) is

.. math::

    \min \sum_i w_i \Big(D_i^0 + \sum_{k=0}^{K_i-2} (D_i^{k+1} - D_i^k)\, z_i^k\Big)

    z_i^0 + \sum_{j: t_{ij} = D_i^0} y_j \ge 1, \qquad
    z_i^k - z_i^{k-1} + \sum_{j: t_{ij} = D_i^k} y_j \ge 0 \; (1 \le k \le K_i - 2),

    -z_i^{K_i-2} + \sum_{j: t_{ij} = D_i^{K_i-1}} y_j \ge 0, \qquad
    \sum_j y_j = p, \qquad y_j = 1 \;\forall j \text{ existing}.

Telescoping gives :math:`z_i^k \ge 1 - \sum_{j: t_{ij} \le D_i^k} y_j`, so the LP bound
equals Elloumi's, with one non-zero per pair instead of one per pair and level.

**Shared level sets.** :math:`z_i^k` only depends on the set
:math:`S_i^k = \{j: t_{ij} \le D_i^k\}`; clients whose level sets are the same set of sites
share one variable :math:`z_S` (objective coefficients summed) and identical chain rows are
added once. Every row stays valid for :math:`z_S = [\text{no site of } S \text{ open}]` and
each client's chain still forces :math:`z_S` up to it, so the optimum is unchanged (and the
LP bound can only rise); neighbouring demand cells share most nearest-site sets, so the
model shrinks several-fold (the p-center's single MIP keeps one :math:`z` per client level).

**County and hub rules.** With a site in every county / in X % of counties or a hub per
prefecture, the problem is first solved without those rules (a relaxation with the same
objective); if its proven optimum keeps them it is optimal, else the full model is solved.

**Lagrangian branch-and-bound first.** Relaxing the assignment rows with multipliers
:math:`\lambda_i` gives :math:`L(\lambda) = \sum_i \lambda_i + \min_{|S|=p} \sum_{j\in S}
\sum_i \min(0, w_i t_{ij} - \lambda_i)`, whose maximum equals the LP bound of the radius
formulation. For the uncapacitated p-median without county / hub / budget rules, after a
greedy + vertex-substitution plan and Lagrangian site fixing,
:mod:`planning.models._branch` searches sites depth first with that bound at every node
(multipliers warm-started from the parent, reduced-cost fixing, pruning against the incumbent
within the 1e-6 optimality tolerance or the scenario's gap); it gets half the time left. If it
finishes, the plan is proven; otherwise the radius MIP below takes the rest of the time and
the tighter of the two bounds is reported.

**Lazy radii.** :func:`~planning.models.solve` starts from a heuristic plan (greedy +
vertex substitution) and, when the full model has more than 30,000 levels, models for each
client only the levels up to one beyond its heuristic distance and at least those of its
~2p nearest sites, :math:`L_i \le K_i`; the rest of the chain (and the final "must be
served" row) is left out. That truncated model is a relaxation: for every :math:`y` its value
is :math:`\sum_i w_i \min(d_i(y), D_i^{L_i-1})`. If in its optimum every client's true
distance is within its modelled radius, the optimum is proven for the full problem; else the
radii of the clients outside are extended and the model re-solved (warm-started).

Capacitated variant: assignment variables :math:`x_{ij} \in [0,1]` over the pairs,
:math:`\min \sum w_i t_{ij} x_{ij}`, :math:`\sum_j x_{ij} = 1`,
:math:`\sum_i w_i x_{ij} \le C_j y_j`.
"""

from __future__ import annotations

import pulp

from planning.models._build import build_pulp
from planning.models.base import ModelInput
from planning.scenario import Scenario


def build_p_median(data: ModelInput, scenario: Scenario) -> pulp.LpProblem:
    r"""Build (without solving) the full radius-formulation p-median.

    Parameters
    ----------
    data
        Sparse travel minutes, demand weights and sites, keyed by ids.
    scenario
        ``n_facilities`` (p) and ``constraints``.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` with every radius level (variables ``y_<site_id>``,
        ``z_<k>``); :func:`~planning.models.solve` uses a lazily truncated version.

    Notes
    -----
    :math:`\min \sum_i w_i (D_i^0 + \sum_k (D_i^{k+1} - D_i^k) z_i^k)` s.t. the chain rows of
    the module docstring, :math:`\sum_j y_j = p`, existing sites fixed open.
    """
    return build_pulp(data, scenario, "p_median", name=f"p_median_{scenario.name}")
