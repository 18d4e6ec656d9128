"""Small model inputs and brute-force reference answers for the model tests."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from planning.models import ModelInput

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def make_input(
    travel: dict[tuple[str, str], float],
    weights: dict[str, float],
    sites: list[str],
    *,
    fixed: tuple[str, ...] = (),
    **site_columns: dict[str, object],
) -> ModelInput:
    rows = [(d, s, t) for (d, s), t in travel.items()]
    table = pd.DataFrame(rows, columns=["demand_id", "site_id", "travel_min"])
    demand = pd.DataFrame(
        {"weight": [float(weights[d]) for d in weights]},
        index=pd.Index(list(weights), name="demand_id"),
    )
    frame = pd.DataFrame(
        {"fixed": [s in fixed for s in sites]}, index=pd.Index(sites, name="site_id")
    )
    for col, values in site_columns.items():
        frame[col] = [values.get(s, np.nan) for s in sites]
    return ModelInput(travel=table, demand=demand, sites=frame)


def line_input() -> ModelInput:
    """Five villages on a road 10 minutes apart, a site possible in each; 1,2,3,2,1 patients."""
    travel = {(f"d{a}", f"s{b}"): abs(a - b) * 10.0 for a in range(5) for b in range(5)}
    weights = {f"d{i}": w for i, w in enumerate([1, 2, 3, 2, 1])}
    return make_input(travel, weights, [f"s{i}" for i in range(5)])


def subsets(sites: list[str], fixed: set[str], size: int | None):
    free = [s for s in sites if s not in fixed]
    sizes = range(len(free) + 1) if size is None else [size - len(fixed)]
    for k in sizes:
        if k < 0 or k > len(free):
            continue
        for combo in itertools.combinations(free, k):
            yield set(combo) | fixed


def brute_force(
    travel: dict[tuple[str, str], float],
    weights: dict[str, float],
    sites: list[str],
    model: str,
    *,
    p: int | None,
    max_min: float,
    fixed: set[str] = frozenset(),  # type: ignore[assignment]
) -> float | None:
    """Optimal objective by enumeration (None if infeasible)."""
    best: float | None = None
    for chosen in subsets(sites, set(fixed), None if model == "lscp" else p):
        near = {}
        for d in weights:
            times = [travel[(d, s)] for s in chosen if (d, s) in travel]
            near[d] = min(times) if times else math.inf
        pos = [d for d in weights if weights[d] > 0]
        if model == "mclp":
            val = sum(weights[d] for d in pos if near[d] <= max_min)
            best = val if best is None else max(best, val)
        elif model == "lscp":
            if all(near[d] <= max_min for d in pos):
                val = float(len(chosen))
                best = val if best is None else min(best, val)
        elif model == "p_median":
            if all(math.isfinite(near[d]) for d in pos):
                val = sum(weights[d] * near[d] for d in pos)
                best = val if best is None else min(best, val)
        elif model == "p_center" and all(math.isfinite(near[d]) for d in pos):
            val = max((near[d] for d in pos), default=0.0)
            best = val if best is None else min(best, val)
    return best
