r"""p-center: smallest maximum travel time with p sites.

Notes
-----
Minimise :math:`r` such that every demand point with patients is served within :math:`r`
minutes by one of :math:`p` open sites (existing ones included). A single MIP (returned by
:func:`build_p_center`) uses the radius chain of :mod:`planning.models.p_median` with unit
weights:

.. math::

    \min r \quad \text{s.t.} \quad
    r \ge D_i^0 + \sum_k (D_i^{k+1} - D_i^k)\, z_i^k \;\forall i, \qquad
    \text{chain rows}, \qquad \sum_j y_j = p.

:func:`~planning.models.solve` instead bisects over the distinct travel times :math:`D`
(from the largest "nearest site" time upwards): :math:`D` is feasible if a set of at most
:math:`p` sites serves everyone within :math:`D` (a covering MIP with every side constraint).
The smallest feasible :math:`D^*` is optimal once every smaller value tested was proven
infeasible (otherwise the answer is reported ``feasible`` with its bound). Without side
rules many values are settled without a MIP (``quick_cover_check``): a greedy cover with at
most :math:`p` sites proves "feasible", more demand points with pairwise disjoint site sets
than free places proves "infeasible"; a greedy-only bisection gives the first feasible value,
MIP checks start just below it, and each feasible plan lowers the upper end to the largest
trip it really has. Ties are broken by
a final p-median restricted to pairs within :math:`D^*` (fewest patient-minutes among the
optimal plans), which also places exactly :math:`p` sites; it starts from the plan of the
last feasible check. With county or hub rules the problem is first solved without them and
that plan kept, proven optimal, when it meets them (see :mod:`planning.models.p_median`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pulp

from planning.models._engine import Options, _add_side, _radius_block, _y_cols, radius_levels
from planning.models._mip import MipBuilder
from planning.models._prep import prepare
from planning.models.base import ModelInput
from planning.scenario import Scenario


def build_p_center(data: ModelInput, scenario: Scenario) -> pulp.LpProblem:
    r"""Build (without solving) the single-MIP p-center of ``scenario`` on ``data``.

    Parameters
    ----------
    data
        Sparse travel minutes, demand weights and sites, keyed by ids.
    scenario
        ``n_facilities`` (p) and ``constraints``.

    Returns
    -------
    problem
        The :class:`pulp.LpProblem` with variables ``y_<site_id>``, ``z_<k>`` and
        ``radius_min_0`` (the objective, minutes).

    Notes
    -----
    :math:`\min r` s.t. :math:`r \ge D_i^0 + \sum_k (D_i^{k+1} - D_i^k) z_i^k`, the radius
    chain rows and :math:`\sum_j y_j = p` (see the module docstring).
    """
    prep = prepare(data, scenario)
    opts = Options.from_scenario(scenario)
    unit = dataclasses.replace(prep, weight=(prep.weight > 0).astype(float))
    allowed = unit.openable[unit.pj]
    con = scenario.constraints
    if con.urban_max_travel_min is not None or con.rural_max_travel_min is not None:
        allowed &= unit.covering_pairs()
    b = MipBuilder(sense="min")
    y0 = _y_cols(b, unit, cost=0.0)
    rad = radius_levels(unit, allowed)
    z_start, z_cols = _radius_block(b, unit, y0, rad)  # one z per client level
    zcost = b._cost[-1].copy()  # noqa: SLF001 - move the chain costs into the r rows
    b._cost[-1][:] = 0.0  # noqa: SLF001
    b.offset = 0.0
    r = b.add_cols(1, cost=1.0, prefix="radius_min")
    clients = np.flatnonzero(rad.n_levels > 0)
    z0 = int(z_cols[0]) if z_cols.size else 0
    rows, cols, vals, rhs = [], [], [], []
    for c, i in enumerate(clients.tolist()):
        nz = int(rad.n_levels[i]) - 1
        zs = z_cols[z_start[i] : z_start[i + 1]]
        rows.append(np.full(nz + 1, c))
        cols.append(np.concatenate([[r], zs]))
        vals.append(np.concatenate([[1.0], -zcost[zs - z0]]))
        rhs.append(float(rad.level_dist[i][0]))
    if clients.size:
        b.add_rows(
            clients.size,
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(vals),
            lb=np.array(rhs),
            family="radius_max",
        )
    _add_side(b, unit, opts, y0, "p_median", None)
    prob, _ = b.build().to_pulp(f"p_center_{scenario.name}")
    return prob
