"""``solve``: dispatch a scenario to its model, diagnose failures, return a :class:`Solution`."""

from __future__ import annotations

import logging
import math
import time
import warnings

import numpy as np
import pandas as pd

from planning.errors import InfeasibleError, SolverError
from planning.models._engine import (
    FAMILIES,
    Deadline,
    Formulation,
    Options,
    Outcome,
    Progress,
    _Infeasible,
    _NoSolution,
    formulate,
    relax_prep,
    solve_p_center,
    solve_p_median_radius,
    solve_plain,
)
from planning.models._mip import INF, BoolArray
from planning.models._prep import Prepared, prepare
from planning.models.base import ModelInput, Solution
from planning.scenario import Scenario

logger = logging.getLogger(__name__)

MODEL_LABELS = {
    "mclp": "MCLP",
    "lscp": "LSCP",
    "p_median": "p-median",
    "p_center": "p-center",
}


def solve(data: ModelInput, scenario: Scenario, *, progress: Progress | None = None) -> Solution:
    """Solve the siting model named by ``scenario.model`` on ``data``.

    Parameters
    ----------
    data
        Travel minutes (sparse long table), demand weights and sites, keyed by ids.
    scenario
        Model (``mclp``, ``p_median``, ``lscp``, ``p_center``), number of sites, travel
        threshold (minutes), solver, time limit (seconds), MIP gap and constraints.
    progress
        Optional callback ``progress(share_done, message)``.

    Returns
    -------
    solution
        Open sites (existing ones included), allocation of patients to sites, objective,
        status (``"optimal"`` only when proven), gap and bound. ``extras`` holds
        ``site_load`` (patients, capacity per open site), ``coverage_share``,
        ``mean_travel_min`` and, with ``hub_per_prefecture``, ``hubs``.

    Raises
    ------
    ScenarioError
        Options contradicting the data (e.g. more sites than candidates).
    InfeasibleError
        No plan meets every requirement; ``culprit`` names the requirement to relax.
    SolverError
        The solver failed, or found no plan within the time limit.
    """
    t_start = time.perf_counter()
    if progress is not None:
        progress(0.0, "preparing model data")
    prep = prepare(data, scenario)
    opts = Options.from_scenario(scenario)
    precheck(prep, scenario, opts)
    deadline = Deadline(scenario.time_limit_s)
    if progress is not None:
        progress(0.1, f"solving {MODEL_LABELS[scenario.model]}")
    try:
        out, form = _solve_once(prep, scenario, opts, deadline, progress=progress)
    except _Infeasible:
        raise diagnose(prep, scenario) from None
    except _NoSolution as err:
        msg = (
            f"{MODEL_LABELS[scenario.model]}: {err.raw.message} "
            f"(time limit {scenario.time_limit_s:g} s, solver {scenario.solver}). "
            "Increase the time limit or use fewer demand points / candidate sites."
        )
        raise SolverError(msg) from None
    sol = decode(out, form, prep, scenario)
    if progress is not None:
        progress(1.0, f"{sol.status}: objective {sol.objective:,.6g}")
    logger.info(
        "%s solved: %s, objective %.6g, %.2f s total",
        scenario.model,
        sol.status,
        sol.objective,
        time.perf_counter() - t_start,
    )
    return sol


def _solve_once(
    prep: Prepared,
    scenario: Scenario,
    opts: Options,
    deadline: Deadline,
    *,
    progress: Progress | None = None,
    start_open: BoolArray | None = None,
) -> tuple[Outcome, Formulation]:
    kind = scenario.model
    if kind == "p_center":
        return solve_p_center(prep, scenario, opts, deadline, progress=progress)
    if kind == "p_median" and not opts.capacitated:
        return solve_p_median_radius(
            prep, scenario, opts, deadline, progress=progress, initial_open=start_open
        )
    t0 = time.perf_counter()
    form = formulate(prep, scenario, kind, opts=opts)
    build = time.perf_counter() - t0
    return solve_plain(
        form, prep, scenario, deadline, build_time_s=build, start_open=start_open
    ), form


# ============================================================================ checks
def precheck(prep: Prepared, scenario: Scenario, opts: Options) -> None:
    """Raise a specific :class:`InfeasibleError` for requirements that cannot hold."""
    kind = scenario.model
    pos = prep.weight > 0
    con = scenario.constraints
    thr_set = con.urban_max_travel_min is not None or con.rural_max_travel_min is not None
    if kind == "lscp":
        cover = prep.covering_pairs() & prep.openable[prep.pj]
        _no_pair_error(
            prep, scenario, pos, cover, culprit="travel_thresholds" if thr_set else "max_travel_min"
        )
    elif kind in ("p_median", "p_center"):
        allowed = prep.openable[prep.pj].copy()
        if thr_set:
            allowed &= prep.covering_pairs()
        _no_pair_error(
            prep, scenario, pos, allowed, culprit="travel_thresholds" if thr_set else "travel_table"
        )
    counties = sorted({c for c in prep.county[pos] if c})
    open_c = set(prep.site_county[prep.openable])
    if opts.site_in_every_county:
        lacking = [c for c in counties if c not in open_c]
        if lacking:
            names = _county_names(prep, lacking)
            msg = (
                f"'site in every county' cannot hold: no candidate site may open in "
                f"{names}. Add candidates there or switch the requirement off."
            )
            raise InfeasibleError(msg, culprit="site_in_every_county")
    if opts.min_county_share is not None and counties:
        need = math.ceil(opts.min_county_share * len(counties) - 1e-9)
        have = sum(c in open_c for c in counties)
        if have < need:
            msg = (
                f"a site in at least {opts.min_county_share:.0%} of counties needs {need} "
                f"of {len(counties)} counties, but only {have} have candidate sites. "
                "Lower the share or add candidates."
            )
            raise InfeasibleError(msg, culprit="min_county_share_with_site")
    if opts.hub_per_prefecture:
        prefs = sorted({p for p in prep.prefecture[pos] if p})
        open_p = set(prep.site_prefecture[prep.openable])
        lacking = [p for p in prefs if p not in open_p]
        if lacking:
            msg = (
                f"one hub per prefecture cannot hold: prefecture(s) {lacking} have no "
                "candidate site. Add candidates there or switch hubs off."
            )
            raise InfeasibleError(msg, culprit="hub_per_prefecture")
    if opts.county_target is not None and kind != "lscp":
        cover = prep.covering_pairs() & prep.openable[prep.pj]
        coverable = np.zeros(prep.n, dtype=bool)
        coverable[prep.pi[cover]] = True
        frame = pd.DataFrame({"c": prep.county, "w": prep.weight, "ok": coverable})
        for c, grp in frame[frame["w"] > 0].groupby("c", sort=True):
            total = float(grp["w"].sum())
            share = float(grp.loc[grp["ok"], "w"].sum()) / total
            if share + 1e-9 < opts.county_target:
                msg = (
                    f"county coverage target {opts.county_target:.0%} cannot hold in "
                    f"{_county_names(prep, [str(c)])}: even with every candidate open only "
                    f"{share:.1%} of its patients are within the travel threshold. Lower "
                    "the target, raise the threshold or add candidates there."
                )
                raise InfeasibleError(msg, culprit="county_coverage_target")
    if opts.capacitated and kind in ("lscp", "p_median", "p_center"):
        total_cap = float(prep.capacity[prep.openable].sum())
        need_w = float(prep.weight.sum())
        if total_cap + 1e-9 < need_w:
            msg = (
                f"capacitated {MODEL_LABELS[kind]} must serve {need_w:,.0f} patients but "
                f"all sites together hold {total_cap:,.0f}. Raise capacities "
                "(default_capacity, candidate types) or add sites."
            )
            raise InfeasibleError(msg, culprit="capacity")


def _county_names(prep: Prepared, codes: list[str]) -> str:
    out = []
    for c in codes:
        names = prep.county_name[prep.county == c]
        name = next((n for n in names if n), "")
        out.append(f"{name} ({c})" if name else c)
    return ", ".join(out)


def _no_pair_error(
    prep: Prepared, scenario: Scenario, pos: BoolArray, mask: BoolArray, *, culprit: str
) -> None:
    has = np.zeros(prep.n, dtype=bool)
    has[prep.pi[mask]] = True
    bad = np.flatnonzero(pos & ~has)
    if bad.size == 0:
        return
    nearest = np.full(prep.n, INF)
    openable_pairs = prep.openable[prep.pj]
    np.minimum.at(nearest, prep.pi[openable_pairs], prep.pt[openable_pairs])
    label = MODEL_LABELS[scenario.model]
    parts = []
    frame = pd.DataFrame(
        {
            "county": [prep.county_name[i] or prep.county[i] or "unknown county" for i in bad],
            "w": prep.weight[bad],
            "near": nearest[bad],
        }
    )
    for county, grp in frame.groupby("county", sort=True):
        near = grp["near"].min()
        where = (
            f"nearest candidate {near:.0f} minutes away"
            if math.isfinite(near)
            else "no candidate in the travel-time table"
        )
        parts.append(f"{grp['w'].sum():,.0f} patients in {county}: {where}")
    ids = ", ".join(str(d) for d in prep.demand_ids[bad[:5]])
    if scenario.model == "lscp":
        lead = f"LSCP at {scenario.max_travel_min:g} minutes cannot cover "
        fix = (
            "Raise max_travel_min (--max-minutes), add candidate sites near them, or use "
            "MCLP, which covers as many patients as possible."
        )
    else:
        lead = f"{label} cannot assign "
        fix = (
            "Every demand point needs at least one reachable candidate: raise the travel "
            "cut-off, add candidates near them, or drop those demand points."
        )
    if culprit == "travel_thresholds":
        fix = "Raise urban_max_travel_min / rural_max_travel_min or add candidates near them."
    msg = f"{lead}{'; '.join(parts)} (demand points {ids}). {fix}"
    raise InfeasibleError(msg, culprit=culprit)


def _active_families(scenario: Scenario, opts: Options) -> list[str]:
    con = scenario.constraints
    active = {
        "max_travel_min": scenario.model == "lscp" or opts.county_target is not None,
        "travel_thresholds": con.urban_max_travel_min is not None
        or con.rural_max_travel_min is not None,
        "county_coverage_target": opts.county_target is not None,
        "site_in_every_county": opts.site_in_every_county,
        "min_county_share_with_site": opts.min_county_share is not None,
        "hub_per_prefecture": opts.hub_per_prefecture,
        "budget": opts.budget is not None,
        "capacity": opts.capacitated,
        "max_referral_min": con.max_referral_min is not None,
        "n_facilities": opts.p is not None and scenario.model != "lscp",
    }
    return [f for f in FAMILIES if active[f]]


_HINTS = {
    "max_travel_min": "raise max_travel_min (--max-minutes)",
    "travel_thresholds": "raise urban_max_travel_min / rural_max_travel_min",
    "county_coverage_target": "lower county_coverage_target",
    "site_in_every_county": "switch off 'site in every county'",
    "min_county_share_with_site": "lower min_county_share_with_site",
    "hub_per_prefecture": "switch off 'hub per prefecture'",
    "budget": "raise the budget",
    "capacity": "raise site capacities or switch off capacitated",
    "max_referral_min": "raise max_referral_min",
    "n_facilities": "allow more sites (n_facilities / --sites)",
}


def diagnose(prep: Prepared, scenario: Scenario) -> InfeasibleError:
    """Relax each active constraint family in turn; blame the first whose removal helps."""
    opts = Options.from_scenario(scenario)
    families = _active_families(scenario, opts)
    label = MODEL_LABELS[scenario.model]
    tried = []
    for fam in families:
        relax = frozenset({fam})
        r_opts = Options.from_scenario(scenario, relax)
        r_prep = relax_prep(prep, scenario, relax)
        deadline = Deadline(min(10.0, scenario.time_limit_s))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _solve_once(r_prep, scenario, r_opts, deadline)
        except (_Infeasible, _NoSolution, InfeasibleError):
            tried.append(fam)
            continue
        msg = (
            f"{label}: no plan satisfies every requirement; without '{fam}' a plan exists. "
            f"To fix: {_HINTS[fam]}."
        )
        return InfeasibleError(msg, culprit=fam)
    listed = ", ".join(tried) or "none"
    msg = (
        f"{label}: no plan satisfies every requirement, and relaxing any single one "
        f"({listed}) does not help: several requirements conflict. Relax them together "
        "(for example fewer county requirements and a larger budget)."
    )
    return InfeasibleError(msg, culprit=None)


# ============================================================================ decoding
def decode(out: Outcome, form: Formulation, prep: Prepared, scenario: Scenario) -> Solution:
    """Map a solved formulation back to ids."""
    is_open = out.is_open
    if form.x0 is not None and form.xpairs is not None:
        share = out.x[form.x0 : form.x0 + form.xpairs.size]
        keep = share > 1e-6
        pairs = form.xpairs[keep]
        alloc = pd.DataFrame(
            {
                "demand_id": prep.demand_ids[prep.pi[pairs]],
                "site_id": prep.site_ids[prep.pj[pairs]],
                "travel_min": prep.pt[pairs],
                "patients": prep.weight[prep.pi[pairs]] * np.minimum(share[keep], 1.0),
            }
        )
    else:
        best, best_t = prep.nearest_open(is_open, form.allowed)
        ok = np.flatnonzero(best >= 0)
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
    alloc = alloc.sort_values(["demand_id", "site_id"], kind="stable").reset_index(drop=True)

    kind = scenario.model
    objective = out.objective
    if kind == "mclp":
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
    load = alloc.groupby("site_id")["patients"].sum()
    open_ids = prep.site_ids[is_open]
    site_load = pd.DataFrame(
        {
            "site_id": [str(s) for s in open_ids],
            "patients": [float(load.get(str(s), 0.0)) for s in open_ids],
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
    counties = sorted({c for c in prep.county[prep.weight > 0] if c})
    if counties:
        extras["counties_with_site"] = sorted(
            {c for c in prep.site_county[is_open] if c} & set(counties)
        )
    if scenario.constraints.hub_per_prefecture:
        extras["hubs"] = _pick_hubs(prep, is_open, load)
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
        solver=scenario.solver,
        message=out.raw.message,
        extras=extras,
    )


def _pick_hubs(prep: Prepared, is_open: BoolArray, load: pd.Series) -> dict[str, str]:
    """Hub of each prefecture: its open site nearest a psychiatric hospital.

    Ties (or unknown referral times) go to the site serving most patients, then lowest id.
    """
    hubs: dict[str, str] = {}
    prefs = sorted({p for p in prep.prefecture[prep.weight > 0] if p})
    for pf in prefs:
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
