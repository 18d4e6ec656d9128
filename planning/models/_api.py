"""``solve``: dispatch a scenario to its model, diagnose failures, return a :class:`Solution`."""

from __future__ import annotations

import logging
import math
import time
import warnings
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import InfeasibleError, ScenarioError, SolverError
from planning.models import _heuristic
from planning.models._engine import (
    FAMILIES,
    Deadline,
    Formulation,
    Options,
    Outcome,
    Progress,
    _Infeasible,
    _NoSolution,
    _pure_cover,
    _pure_p_median,
    formulate,
    keeps_plan_rules,
    relax_prep,
    solve_p_center,
    solve_p_median_radius,
    solve_plain,
    start_vector,
    without_plan_rules,
)
from planning.models._heuristic import MAX_DENSE_CELLS, best_cover_plan, mclp_greedy
from planning.models._mip import INF, BoolArray, FloatArray, IntArray, MipBuilder, RawResult
from planning.models._prep import Prepared, _check_counts, prepare
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
    upper_min: float | None = None,
) -> tuple[Outcome, Formulation]:
    kind = scenario.model
    if kind in ("p_median", "p_center") and start_open is None and upper_min is None:
        unruled = _solve_without_plan_rules(prep, scenario, opts, deadline, progress)
        if unruled is not None:
            return unruled
    if kind == "p_center":
        return solve_p_center(
            prep, scenario, opts, deadline, progress=progress, upper_min=upper_min
        )
    if kind == "p_median" and not opts.capacitated:
        return solve_p_median_radius(
            prep, scenario, opts, deadline, progress=progress, initial_open=start_open
        )
    t0 = time.perf_counter()
    if kind in ("mclp", "lscp") and start_open is None and _pure_cover(opts):
        tried = _try_every_plan(prep, opts, kind, t0)
        if tried is not None:
            return tried
    form = formulate(prep, scenario, kind, opts=opts)
    if kind == "mclp" and start_open is None and opts.p is not None and form.x0 is None:
        shortcut = _mclp_shortcut(prep, form, opts, t0)
        if isinstance(shortcut, Outcome):
            return shortcut, form
        start_open = shortcut
    if (
        kind == "mclp"
        and start_open is not None
        and start_vector(form, prep, start_open) is not None
    ):
        form.mip.highs_options.update(MCLP_WARM_OPTIONS)
        form.mip.cbc_options.append("preprocess off")  # likewise for CBC: 3.0 -> 1.5 s
    build = time.perf_counter() - t0
    return solve_plain(
        form, prep, scenario, deadline, build_time_s=build, start_open=start_open
    ), form


def _solve_without_plan_rules(
    prep: Prepared,
    scenario: Scenario,
    opts: Options,
    deadline: Deadline,
    progress: Progress | None,
) -> tuple[Outcome, Formulation] | None:
    """Solve a p-median / p-center without its county / hub rules; keep it if it meets them.

    Dropping rules that only restrict which plans are allowed gives a relaxation with the
    same objective; when its proven optimum happens to keep the rules it is optimal for the
    full problem too (Putian, p = 6: the unconstrained optimum already has a site in every
    county and prefecture; p-median 2 s instead of the 60 s limit with an 80 % gap). Only
    tried when nothing else but ``p`` shapes the plan; returns ``None`` otherwise.
    """
    has_rules = (
        opts.site_in_every_county or opts.min_county_share is not None or opts.hub_per_prefecture
    )
    relaxed = without_plan_rules(opts)
    if not has_rules or not _pure_p_median(relaxed):
        return None
    sub = Deadline(0.5 * deadline.left())
    try:
        out, form = _solve_once(prep, scenario, relaxed, sub, progress=progress)
    except (_Infeasible, _NoSolution):
        return None
    if out.status != "optimal" or not keeps_plan_rules(prep, opts, out.is_open):
        return None
    out.extras["plan_rules_met_by_the_relaxation"] = True
    return out, form


#: HiGHS options for an MCLP with a greedy + swap warm start. The start is usually optimal
#: or nearly so: HiGHS's own sub-MIP heuristics (RINS, RENS...) and presolve then cost far
#: more than they find (Putian, 164 sites: 2-4 s -> 0.6 s), while the proof (cuts,
#: branching) is unchanged, so the answer stays exact.
MCLP_WARM_OPTIONS: dict[str, bool | int | float | str] = {
    "presolve": "off",
    "mip_allow_restart": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}


def _group_codes(labels: npt.NDArray[np.object_], wanted: list[str]) -> IntArray:
    """Each site's position in ``wanted`` (``-1`` when its label is not wanted)."""
    pos = {c: k for k, c in enumerate(wanted)}
    return np.array([pos.get(str(c), -1) for c in labels], dtype=np.int64)


def _mclp_shortcut(
    prep: Prepared, form: Formulation, opts: Options, t0: float
) -> Outcome | BoolArray | None:
    """Greedy + swap MCLP plan; proven optimal if it keeps every rule and covers everyone.

    The greedy honours "a site in every county" (also a 100 % county share), "a hub per
    prefecture" and county coverage targets; whether the plan keeps every rule (also a
    budget or a lower county share) is checked on the model's rows (:func:`start_vector`).
    Returns an :class:`Outcome` when the plan covers every coverable patient, else the plan
    as a warm start (``None`` when the instance is too large for the dense heuristic or the
    plan breaks a rule).
    """
    assert opts.p is not None  # noqa: S101 - checked by the caller
    allowed = form.allowed if form.allowed is not None else prep.covering_pairs()
    if prep.n * prep.m > MAX_DENSE_CELLS:
        return None
    pos = prep.weight > 0
    require: list[IntArray] = []
    if opts.site_in_every_county or (
        opts.min_county_share is not None and opts.min_county_share >= 1.0 - 1e-9
    ):
        counties = sorted({str(c) for c in prep.county[pos] if c})
        require.append(_group_codes(prep.site_county, counties))
    if opts.hub_per_prefecture:
        prefs = sorted({str(c) for c in prep.prefecture[pos] if c})
        require.append(_group_codes(prep.site_prefecture, prefs))
    county_need: tuple[IntArray, FloatArray] | None = None
    if opts.county_target is not None:
        counties = sorted({str(c) for c in prep.county[pos] if c})
        code = _group_codes(prep.county, counties)
        has = code >= 0
        total = np.bincount(code[has], weights=prep.weight[has], minlength=len(counties))
        county_need = (code, np.asarray(opts.county_target * total, dtype=float))
    cover = prep.cover_matrix(allowed)
    plan, value = mclp_greedy(
        cover,
        prep.weight,
        opts.p,
        fixed=prep.fixed,
        openable=prep.openable,
        require=require,
        county_need=county_need,
    )
    if start_vector(form, prep, plan) is None:  # breaks a rule: no use as a start
        return None
    coverable = float(prep.weight[cover.any(axis=1)].sum())
    if value < coverable - 1e-9:
        return plan
    elapsed = time.perf_counter() - t0
    raw = RawResult(
        "optimal",
        None,
        value,
        coverable,
        0.0,
        0.0,
        "heuristic",
        "every coverable patient is covered: optimal without a MIP",
    )
    return Outcome(plan, np.zeros(0), raw, value, coverable, "optimal", 0.0, 0.0, elapsed)


def _fewest_covering_plan(
    prep: Prepared, cover: BoolArray, n_free: int, limit: int
) -> BoolArray | None:
    """Plan of fewest new sites serving every patient, trying plans smallest first."""
    need = prep.weight > 0
    budget = limit
    for k in range(n_free + 1):
        budget -= math.comb(n_free, k)
        if budget < 0:
            return None
        tried = best_cover_plan(
            cover, prep.weight, k, fixed=prep.fixed, openable=prep.openable, max_plans=limit
        )
        if tried is None:
            return None
        covered: BoolArray = np.asarray(cover[:, tried[0]].any(axis=1))
        if bool(covered[need].all()):
            return tried[0]
    return None  # no plan serves everyone: the MIP path names the culprit


def _try_every_plan(
    prep: Prepared, opts: Options, kind: Literal["mclp", "lscp"], t0: float
) -> tuple[Outcome, Formulation] | None:
    """Solve a tiny MCLP / LSCP without side rules by trying every plan (else ``None``).

    MCLP: every plan of ``p`` sites; LSCP: plans of ``k = 0, 1, ...`` new sites until one
    serves every patient (the first such ``k`` is minimal). Gives up when more than
    :data:`~planning.models._heuristic.MAX_ENUMERATED_PLANS` plans would be needed, or on
    instances too large for a dense coverage matrix. Complete enumeration proves the answer.
    """
    if prep.n * prep.m > MAX_DENSE_CELLS or (kind == "mclp" and opts.p is None):
        return None
    limit = _heuristic.MAX_ENUMERATED_PLANS
    n_free = int((prep.openable & ~prep.fixed).sum())
    k_needed = None if opts.p is None else max(0, min(opts.p - int(prep.fixed.sum()), n_free))
    if k_needed is not None and math.comb(n_free, k_needed) > limit:
        return None
    allowed = prep.covering_pairs() & prep.openable[prep.pj]
    cover = prep.cover_matrix(allowed)
    form = Formulation(kind, MipBuilder().build(), 0, allowed=allowed)
    if kind == "mclp":
        assert k_needed is not None  # noqa: S101 - opts.p checked above
        tried = best_cover_plan(
            cover, prep.weight, k_needed, fixed=prep.fixed, openable=prep.openable, max_plans=limit
        )
        if tried is None:
            return None
        plan, value = tried
        note = "proven optimal by trying every plan"
    else:
        found = _fewest_covering_plan(prep, cover, n_free, limit)
        if found is None:
            return None
        plan = found
        value = float(plan.sum())
        note = "proven optimal by trying every plan, fewest sites first"
    raw = RawResult("optimal", None, value, value, 0.0, 0.0, "heuristic", note)
    elapsed = time.perf_counter() - t0
    out = Outcome(plan, np.zeros(0), raw, value, value, "optimal", 0.0, 0.0, elapsed)
    return out, form


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
            "county": [prep.county_name[i] or prep.county[i] or "" for i in bad],
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
        place = f" in {county!s}" if county else ""
        parts.append(f"{grp['w'].sum():,.0f} patients{place}: {where}")
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
    helps: list[str] = []
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
            continue
        helps.append(fam)
    if helps:
        fam = helps[0]
        also = [f"'{f}'" for f in helps[1:]]
        more = f" (dropping {' or '.join(also)} instead would also work)" if also else ""
        msg = (
            f"{label}: no plan satisfies every requirement; without '{fam}' a plan exists"
            f"{more}. To fix: {_HINTS[fam]}."
        )
        return InfeasibleError(msg, culprit=fam)
    listed = ", ".join(families) or "none"
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
    counties = sorted({c for c in prep.county[prep.weight > 0] if c})
    if counties:
        extras["counties_with_site"] = sorted(
            {c for c in prep.site_county[is_open] if c} & set(counties)
        )
    if scenario.constraints.hub_per_prefecture:
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


# ============================================================================ trade-off curve
CURVE_COLUMNS = [
    "p",
    "objective",
    "coverage_share",
    "covered_patients",
    "mean_travel_min",
    "status",
    "gap",
    "solve_time_s",
    "selected_sites",
]


def trade_off_curve(
    data: ModelInput,
    scenario: Scenario,
    p_values: list[int] | range | None = None,
    *,
    budgets: list[float] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Solve ``scenario`` for each number of sites (or each budget), reusing work between steps.

    Parameters
    ----------
    data
        Model input keyed by ids.
    scenario
        Model and constraints; ``n_facilities`` is replaced by each value of ``p_values``
        (or ``constraints.budget`` by each of ``budgets``). LSCP has no number of sites and
        is refused.
    p_values
        Numbers of sites (existing ones included); solved in increasing order.
    budgets
        Instead of ``p_values``: opening budgets (same unit as the site ``cost`` column /
        candidate-type ``opening_cost``), solved in increasing order. Each step opens any
        number of new sites whose costs add up to at most the budget (``n_facilities`` is
        dropped); existing sites are free and always open.

    Returns
    -------
    curve
        One row per step (ascending): ``p`` (sites in the plan, existing included),
        ``objective``, ``coverage_share`` (patients within ``max_travel_min`` of an open
        site / all patients), ``covered_patients``, ``mean_travel_min`` (patient-weighted,
        over served patients), ``status``, ``gap``, ``solve_time_s``, ``selected_sites``
        (tuple of ids) and ``message``. With ``budgets`` the first column is ``budget`` and
        ``total_cost`` (opening cost of the new sites chosen) follows the figures. A step that
        fails has status ``"infeasible"`` or ``"error"`` and NaN figures.

    Raises
    ------
    ScenarioError
        LSCP; both or neither of ``p_values`` and ``budgets``; values out of range; budgets
        when no candidate site has an opening cost.

    Notes
    -----
    Work reused between steps: the plan of one step is the warm start of the next (for
    numbers of sites, extended greedily by the site adding most: coverage for MCLP, fewest
    patient-minutes otherwise; a plan within a budget stays within any larger one); for
    p-center the optimum of a step bounds the next from above (more sites or more money
    never lengthen the longest trip). Each step keeps the scenario's full time limit.
    """
    if scenario.model == "lscp":
        msg = (
            "The trade-off curve varies the number of sites; LSCP chooses that number "
            "itself. Use MCLP, p-median or p-center."
        )
        raise ScenarioError(msg)
    if (p_values is None) == (budgets is None):
        msg = "trade_off_curve needs either p_values (numbers of sites) or budgets, not both."
        raise ScenarioError(msg)
    by_budget = budgets is not None
    steps: list[float]
    if budgets is not None:
        steps = sorted({float(b) for b in budgets})
        if not steps or steps[0] < 0 or not all(math.isfinite(b) for b in steps):
            msg = f"budgets must be finite numbers >= 0 (got {list(budgets)!r})."
            raise ScenarioError(msg)
        base = _with_budget(scenario, steps[0])
    else:
        assert p_values is not None  # noqa: S101 - checked above
        steps = sorted({float(int(v)) for v in p_values})
        if not steps or steps[0] < 1:
            msg = f"p_values must be positive integers (got {list(p_values)!r})."
            raise ScenarioError(msg)
        base = scenario.replace(n_facilities=int(steps[0]))
    rows: list[dict[str, object]] = []
    prev_open: BoolArray | None = None
    prev_center: float | None = None
    prep0 = prepare(data, base)
    if by_budget and not (prep0.cost[prep0.openable & ~prep0.fixed] > 0).any():
        msg = (
            "A budget curve needs opening costs, but every candidate site costs 0: set the "
            "site 'cost' column or the candidate types' opening_cost, or vary the number "
            "of sites instead."
        )
        raise ScenarioError(msg)
    for k, value in enumerate(steps):
        if by_budget:
            sc = _with_budget(scenario, value)
            label = f"budget {value:,.6g}"
            row: dict[str, object] = {"budget": value}
        else:
            sc = scenario.replace(n_facilities=int(value))
            label = f"{int(value)} sites"
            row = {"p": int(value)}
        if progress is not None:
            progress(k / len(steps), f"{MODEL_LABELS[scenario.model]} with {label}")
        try:
            _check_counts(prep0, sc)
            opts = Options.from_scenario(sc)
            precheck(prep0, sc, opts)
            start = prev_open
            if prev_open is not None and not by_budget:
                start = _grow(prep0, sc, prev_open, int(value))
            out, form = _solve_once(
                prep0, sc, opts, Deadline(sc.time_limit_s), start_open=start, upper_min=prev_center
            )
            sol = decode(out, form, prep0, sc)
        except (_Infeasible, InfeasibleError, ScenarioError) as err:
            row.update(status="infeasible", message=str(err))
            rows.append(row)
            continue
        except (_NoSolution, SolverError) as err:
            row.update(status="error", message=str(err))
            rows.append(row)
            continue
        prev_open = out.is_open
        if sc.model == "p_center" and sol.status == "optimal":
            prev_center = sol.objective
        row.update(
            p=len(sol.selected_sites),
            objective=sol.objective,
            coverage_share=sol.extras["coverage_share"],
            covered_patients=sol.extras["covered_patients"],
            mean_travel_min=sol.extras["mean_travel_min"],
            status=sol.status,
            gap=sol.gap,
            solve_time_s=sol.solve_time_s + sol.build_time_s,
            selected_sites=sol.selected_sites,
            total_cost=sol.extras["total_cost"],
            message=sol.message,
        )
        rows.append(row)
    if progress is not None:
        progress(1.0, "trade-off curve done")
    frame = pd.DataFrame(rows)
    columns = (
        ["budget", *CURVE_COLUMNS, "total_cost", "message"]
        if by_budget
        else [*CURVE_COLUMNS, "message"]
    )
    for col in columns:
        if col not in frame.columns:
            frame[col] = np.nan
    return frame[columns].reset_index(drop=True)


def _with_budget(scenario: Scenario, budget: float) -> Scenario:
    """``scenario`` limited by ``budget`` alone (no number of sites), other constraints kept."""
    constraints = {**scenario.constraints.model_dump(mode="json"), "budget": budget}
    return scenario.replace(n_facilities=None, constraints=constraints)


def _grow(prep: Prepared, scenario: Scenario, prev: BoolArray, p: int) -> BoolArray:
    """Extend the previous plan greedily to ``p`` sites (a warm start for the next step)."""
    is_open = prev.copy()
    cover = prep.covering_pairs() if scenario.model == "mclp" else np.ones(prep.pi.size, bool)
    while int(is_open.sum()) < p:
        cand = np.flatnonzero(prep.openable & ~is_open)
        if cand.size == 0:
            break
        _, cur = prep.nearest_open(is_open, cover)
        gain = np.zeros(prep.m)
        if scenario.model == "mclp":
            newly = cover & ~np.isfinite(cur[prep.pi])
            np.add.at(gain, prep.pj[newly], prep.weight[prep.pi[newly]])
        else:
            cur_f = np.where(np.isfinite(cur), cur, prep.pt.max(initial=0.0) * 10 + 1)
            better = np.maximum(cur_f[prep.pi] - prep.pt, 0.0) * prep.weight[prep.pi]
            np.add.at(gain, prep.pj, better)
        best = cand[int(np.argmax(gain[cand]))]
        is_open[best] = True
    return is_open
