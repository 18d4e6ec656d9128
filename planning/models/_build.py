"""Shared helper of the public ``build_*`` functions."""

from __future__ import annotations

import pulp

from planning.models._engine import Options, formulate
from planning.models._mip import Mip
from planning.models._prep import prepare
from planning.models.base import ModelInput
from planning.scenario import Scenario


def build_pulp(data: ModelInput, scenario: Scenario, kind: str, *, name: str) -> pulp.LpProblem:
    """Prepare ``data``, formulate ``kind`` in full and return it as a pulp problem."""
    mip = build_matrix(data, scenario, kind)
    prob, _ = mip.to_pulp(name)
    return prob


def build_matrix(data: ModelInput, scenario: Scenario, kind: str) -> Mip:
    """Prepare ``data`` and return the full matrix model of ``kind`` (radii not truncated)."""
    prep = prepare(data, scenario.replace(model=kind) if scenario.model != kind else scenario)
    opts = Options.from_scenario(scenario)
    form = formulate(prep, scenario, kind, opts=opts)  # type: ignore[arg-type]
    return form.mip
