"""Read a solved formulation back as a :class:`~planning.models.base.Solution` keyed by ids."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planning.models._blocks import Formulation
from planning.models._mip import BoolArray
from planning.models._prep import Prepared
from planning.models._run import Outcome
from planning.models.base import Solution
from planning.models.options import ModelOptions


def decode(out: Outcome, form: Formulation, prep: Prepared, opts: ModelOptions) -> Solution:
    """Map a solved formulation back to ids: open sites, allocation, objective and figures."""
    is_open = out.is_open
    if form.x0 is not None and form.xpairs is not None:
        share = out.x[form.x0 : form.x0 + form.xpairs.size]
        keep = share > 1e-6
        pairs = form.xpairs[keep]
        # ids are sorted as strings in prep: position order is (demand_id, site_id) order
        order = np.lexsort((prep.pj[pairs], prep.pi[pairs]))
        pairs, share = pairs[order], share[keep][order]
        site_pos = prep.pj[pairs]
        alloc = pd.DataFrame(
            {
                "demand_id": prep.demand_ids[prep.pi[pairs]],
                "site_id": prep.site_ids[prep.pj[pairs]],
                "travel_min": prep.pt[pairs],
                "patients": prep.weight[prep.pi[pairs]] * np.minimum(share, 1.0),
            }
        )
    else:
        best, best_t = prep.nearest_open(is_open, form.allowed)
        ok = np.flatnonzero(best >= 0)
        site_pos = best[ok]
        alloc = pd.DataFrame(
            {
                "demand_id": prep.demand_ids[ok],
                "site_id": prep.site_ids[best[ok]],
                "travel_min": best_t[ok],
                "patients": prep.weight[ok],
            }
        )
    alloc["demand_id"] = alloc["demand_id"].astype(str)
    alloc["site_id"] = alloc["site_id"].astype(str)

    kind = opts.kind
    objective = out.objective
    if kind in {"mclp", "max_min"}:
        objective = float(alloc["patients"].sum())
    elif kind == "p_median" and form.x0 is not None:
        objective = float((alloc["patients"] * alloc["travel_min"]).sum())
    elif kind == "p_center":
        served = alloc[alloc["patients"] > 0]
        objective = float(served["travel_min"].max()) if len(served) else 0.0

    total_w = float(prep.weight.sum())
    _, near_t = prep.nearest_open(is_open, prep.openable[prep.pj] | is_open[prep.pj])
    within = near_t <= prep.threshold + 1e-9
    coverage_share = float(prep.weight[within].sum() / total_w) if total_w > 0 else 1.0
    served_w = float(alloc["patients"].sum())
    mean_travel = (
        float((alloc["patients"] * alloc["travel_min"]).sum() / served_w)
        if served_w > 0
        else math.nan
    )
    load_by_pos = np.bincount(site_pos, weights=alloc["patients"].to_numpy(), minlength=prep.m)
    load = pd.Series(load_by_pos[is_open], index=[str(s) for s in prep.site_ids[is_open]])
    open_ids = prep.site_ids[is_open]
    site_load = pd.DataFrame(
        {
            "site_id": [str(s) for s in open_ids],
            "patients": load.to_numpy(dtype=float),
            "capacity": prep.capacity[is_open],
            "cost": prep.cost[is_open],
            "fixed": prep.fixed[is_open],
        }
    )
    site_load["utilisation"] = site_load["patients"] / site_load["capacity"]
    extras: dict[str, object] = {
        "site_load": site_load,
        "coverage_share": coverage_share,
        "covered_patients": float(prep.weight[within].sum()),
        "mean_travel_min": mean_travel,
        "n_open": int(is_open.sum()),
        "total_cost": float(prep.cost[is_open & ~prep.fixed].sum()),
        **out.extras,
    }
    counties = prep.demand_counties()
    if counties:
        extras["counties_with_site"] = sorted(
            {c for c in prep.site_county[is_open] if c} & set(counties)
        )
    if opts.hub_per_prefecture:
        hub_of = _pick_hubs(prep, is_open, load)
        extras["hubs"] = tuple(sorted(set(hub_of.values())))
        extras["hub_of_prefecture"] = hub_of
    return Solution(
        model=kind,
        status=out.status,
        selected_sites=tuple(sorted(str(s) for s in open_ids)),
        allocation=alloc,
        objective=objective,
        gap=out.gap,
        bound=out.bound,
        solve_time_s=out.solve_time_s,
        build_time_s=out.build_time_s,
        solver=opts.solver,
        message=str(out.raw.message),
        extras=extras,
    )


def _pick_hubs(prep: Prepared, is_open: BoolArray, load: pd.Series) -> dict[str, str]:
    """Hub of each prefecture: its open site nearest a psychiatric hospital.

    Ties (or unknown referral times) go to the site serving most patients, then lowest id.
    """
    hubs: dict[str, str] = {}
    for pf in prep.demand_prefectures():
        js = np.flatnonzero(is_open & (prep.site_prefecture == pf))
        if js.size == 0:
            continue
        ranked = sorted(
            js.tolist(),
            key=lambda j: (
                math.inf if math.isnan(prep.referral[j]) else float(prep.referral[j]),
                -float(load.get(str(prep.site_ids[j]), 0.0)),
                str(prep.site_ids[j]),
            ),
        )
        hubs[pf] = str(prep.site_ids[ranked[0]])
    return hubs
