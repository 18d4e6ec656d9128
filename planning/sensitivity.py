"""How a plan moves when its assumptions move: prevalence, travel speeds, a robust plan.

The patient figures are estimates (registered prevalence 4.60 ‰ nationally, 3.80-5.29 ‰
across Fuzhou's counties) and the travel speeds are planning assumptions. :func:`run_sensitivity`
re-solves a scenario over a grid of *cases* (each a prevalence and a speed factor), each
exactly as a separate :func:`planning.pipeline.run` of the varied scenario (:func:`vary`)
would, and reports:

* how coverage, mean travel and the equity figures move (``cases``);
* how often each site is chosen (``stability``): sites chosen in every case are the safe
  first openings;
* optionally the robust plan (:func:`planning.models.solve_robust`): the one set of sites
  with the best worst case over all the cases, and what it costs in each case against that
  case's own optimum (``robust_cases``).

Reading the figures: with the census estimate, a uniform prevalence scales every county's
patients by the same factor, so an uncapacitated plan's sites and shares do not change with
it, only the patient counts do (the plan is the same at 3.80 and at 5.29 ‰: that is the
answer). Capacities and budgets do interact with it. A speed factor scales every speed (also
the road classes and the walk to the road), so it moves which patients are within reach.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import math
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from planning import models
from planning import results as results_step
from planning.defaults import DEFAULT_SPEEDS_KMH
from planning.errors import ScenarioError
from planning.models import ModelOptions, RobustSolution
from planning.pipeline import Inputs, Plan, prepare, solve
from planning.results.privacy import hidden_kpis
from planning.scenario import Scenario

logger = logging.getLogger(__name__)

#: Headline figures of each case (``ResultTables.kpis`` keys), in the order shown.
CASE_FIGURES = (
    "n_sites",
    "patients_total",
    "patients_within",
    "share_within",
    "mean_travel_min",
    "max_travel_min_observed",
    "travel_gini",
    "worst_county_share",
    "worst_county_name",
    "urban_rural_gap_min",
    "urban_rural_share_gap",
    "counties_below_target",
)


def vary(
    scenario: Scenario, *, prevalence_per_mille: float | None, speed_factor: float
) -> Scenario:
    """Return ``scenario`` with another prevalence and every travel speed times a factor.

    ``prevalence_per_mille``: ``None`` keeps the scenario's. ``speed_factor`` (> 0; 1 keeps
    the speeds): estimated travel scales ``urban_speed_kmh`` and ``rural_speed_kmh``; road
    travel scales every road class's urban and rural speed (the scenario's own where set,
    else the defaults of :data:`planning.defaults.DEFAULT_SPEEDS_KMH`), the walking speed and
    ``access_speed_kmh``. A tagged ``maxspeed`` still caps a road's speed.

    Examples
    --------
    >>> s = vary(Scenario(), prevalence_per_mille=5.29, speed_factor=0.8)
    >>> s.prevalence_per_mille, s.travel.urban_speed_kmh, s.travel.rural_speed_kmh
    (5.29, 24.0, 36.0)
    """
    if not (math.isfinite(speed_factor) and speed_factor > 0):
        raise ScenarioError("sensitivity.speed_factor_invalid", value=speed_factor)
    changes: dict[str, Any] = {}
    if prevalence_per_mille is not None:
        changes["prevalence_per_mille"] = float(prevalence_per_mille)
    if speed_factor != 1.0:
        tr = scenario.travel
        f = float(speed_factor)
        roads: dict[str, float] = {}
        if tr.mode == "network":
            own = tr.road_speeds_kmh
            for cls, (urban, rural) in DEFAULT_SPEEDS_KMH.items():
                both = own.get(cls)
                roads[f"urban:{cls}"] = f * own.get(f"urban:{cls}", both or urban)
                roads[f"rural:{cls}"] = f * own.get(f"rural:{cls}", both or rural)
            roads["walk"] = f * own.get("walk", tr.access_speed_kmh)
        changes["travel"] = {
            **tr.model_dump(mode="json"),
            "urban_speed_kmh": f * tr.urban_speed_kmh,
            "rural_speed_kmh": f * tr.rural_speed_kmh,
            "access_speed_kmh": f * tr.access_speed_kmh,
            "road_speeds_kmh": roads or dict(tr.road_speeds_kmh),
        }
    return scenario.replace(**changes) if changes else scenario


@dataclass(frozen=True, kw_only=True)
class SensitivityResult:
    """A scenario re-solved over a grid of assumptions.

    Attributes
    ----------
    scenario
        The scenario varied (the base case).
    cases
        One row per case, index ``case`` (0, 1, ...): ``prevalence_per_mille``,
        ``speed_factor``, ``status``, ``gap``, the figures of :data:`CASE_FIGURES` (``None``
        where the privacy rule hides them) and ``sites`` (open site ids, ``;``-joined).
    stability
        One row per site open in some case, index ``site_id``: ``name``, ``county_name``,
        ``existing``, ``lon``, ``lat`` (WGS-84), ``times_chosen``, ``share_chosen`` (of the
        cases), ``every_case``; sorted by ``times_chosen`` (most first), then id. With a
        robust plan also ``robust`` (the site is in it).
    plans
        Each case's plan, in case order.
    robust
        The robust plan over the cases (``None`` when not asked for).
    robust_cases
        With a robust plan, one row per case: ``own_within`` (patients within reach with
        the case's own optimal plan), ``robust_within`` (with the robust plan), ``regret``
        (``1 - robust / own``), ``own_share`` and ``robust_share`` (of the case's patients).
    """

    scenario: Scenario
    cases: pd.DataFrame
    stability: pd.DataFrame
    plans: tuple[Plan, ...]
    robust: RobustSolution | None = None
    robust_cases: pd.DataFrame | None = None

    @property
    def safe_sites(self) -> tuple[str, ...]:
        """Sites open in every case (the safe first openings), sorted."""
        s = self.stability
        return tuple(sorted(str(i) for i in s.index[s["every_case"]]))


def _case(scenario: Scenario) -> tuple[Inputs, Plan]:
    inputs = prepare(scenario)
    return inputs, solve(inputs)


def run_sensitivity(
    scenario: Scenario,
    *,
    prevalence_per_mille: Sequence[float] = (),
    speed_factors: Sequence[float] = (),
    robust: Literal["regret", "coverage"] | None = None,
    workers: int = 1,
) -> SensitivityResult:
    """Re-solve ``scenario`` for every prevalence x speed factor (see the module docstring).

    Parameters
    ----------
    scenario
        The base scenario (its own prevalence and speeds when a list is empty).
    prevalence_per_mille
        Prevalences (‰) to try; empty: the scenario's.
    speed_factors
        Factors on every travel speed (0.8: 20 % slower); empty: 1.
    robust
        Also find the robust plan over the cases: ``"regret"`` (smallest worst regret
        against each case's own optimum) or ``"coverage"`` (largest worst share within
        reach); ``None``: not.
    workers
        Cases solved at once in separate processes (1: one after the other). Each case is
        prepared and solved exactly as :func:`planning.pipeline.run` would.

    Raises
    ------
    ScenarioError
        A speed factor that is not a positive number; a grid of more than
        :data:`MAX_CASES` cases.
    PlanningError
        Any case that cannot be prepared or solved (its own message).
    """
    prevalences: list[float | None] = list(prevalence_per_mille) or [None]
    factors = [float(f) for f in speed_factors] or [1.0]
    grid = list(itertools.product(prevalences, factors))
    if len(grid) > MAX_CASES:
        raise ScenarioError("sensitivity.too_many_cases", cases=len(grid), limit=MAX_CASES)
    varied = [vary(scenario, prevalence_per_mille=p, speed_factor=f) for p, f in grid]
    done: list[tuple[Inputs, Plan]] = []
    if workers > 1 and len(varied) > 1:
        spawn = multiprocessing.get_context("spawn")  # no fork of a threaded process
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
            done.extend(pool.map(_case, varied))
    else:
        done.extend(_case(sc) for sc in varied)
    plans = tuple(plan for _, plan in done)
    cases = _case_table(grid, plans)
    rob: RobustSolution | None = None
    rob_cases: pd.DataFrame | None = None
    if robust is not None:
        rob, rob_cases = _robust(done, robust)
    stability = _stability(plans, rob)
    return SensitivityResult(
        scenario=scenario,
        cases=cases,
        stability=stability,
        plans=plans,
        robust=rob,
        robust_cases=rob_cases,
    )


#: Largest grid :func:`run_sensitivity` solves (each case is a full solve).
MAX_CASES = 25


def _case_table(grid: list[tuple[float | None, float]], plans: tuple[Plan, ...]) -> pd.DataFrame:
    rows = []
    for (prev, factor), plan in zip(grid, plans, strict=True):
        k = plan.tables.kpis
        hidden = hidden_kpis(plan.tables, threshold=plan.scenario.privacy_threshold)
        row: dict[str, Any] = {
            "prevalence_per_mille": float(
                prev if prev is not None else plan.scenario.prevalence_per_mille
            ),
            "speed_factor": factor,
            "status": plan.solution.status,
            "gap": plan.solution.gap,
        }
        for fig in CASE_FIGURES:
            row[fig] = None if fig in hidden else k.get(fig)
        row["sites"] = ";".join(plan.solution.selected_sites)
        rows.append(row)
    return pd.DataFrame(rows).rename_axis("case")


def _stability(plans: tuple[Plan, ...], rob: RobustSolution | None) -> pd.DataFrame:
    counts: dict[str, int] = {}
    for plan in plans:
        for s in plan.solution.selected_sites:
            counts[s] = counts.get(s, 0) + 1
    if rob is not None:
        for s in rob.selected_sites:
            counts.setdefault(s, 0)
    ids = sorted(counts, key=lambda s: (-counts[s], s))
    sites = plans[0].sites
    frame = pd.DataFrame(
        {
            "name": [str(sites.loc[s, "name"]) if s in sites.index else s for s in ids],
            "county_name": [
                str(plans[0].counties["name"].get(sites.loc[s, "county"], ""))
                if s in sites.index
                else ""
                for s in ids
            ],
            "existing": [bool(sites.loc[s, "fixed"]) if s in sites.index else False for s in ids],
            "lon": [float(sites.loc[s, "lon"]) if s in sites.index else math.nan for s in ids],
            "lat": [float(sites.loc[s, "lat"]) if s in sites.index else math.nan for s in ids],
            "times_chosen": [counts[s] for s in ids],
        },
        index=pd.Index(ids, name="site_id"),
    )
    frame["share_chosen"] = frame["times_chosen"] / len(plans)
    frame["every_case"] = frame["times_chosen"] == len(plans)
    if rob is not None:
        frame["robust"] = frame.index.isin(rob.selected_sites)
    return frame


def _robust(
    done: list[tuple[Inputs, Plan]], measure: Literal["regret", "coverage"]
) -> tuple[RobustSolution, pd.DataFrame]:
    """Find the robust plan over the cases and each case's figures with it."""
    base = done[0][1].scenario
    opts = ModelOptions.from_scenario(base).replace(kind="mclp")
    data = [inputs.model_input() for inputs, _ in done]
    optima = None
    own_optimal = all(
        plan.scenario.model == "mclp"
        and not plan.scenario.constraints.worst_county_first
        and plan.solution.status == "optimal"
        for _, plan in done
    )
    if own_optimal:
        optima = [float(plan.solution.objective) for _, plan in done]
    starts = [plan.solution.selected_sites for _, plan in done]
    rob = models.solve_robust(data, opts, measure=measure, optima=optima, starts=starts)
    own = [float(plan.tables.kpis.patients_within) for _, plan in done]
    robust_within = []
    for (inputs, plan), _ in zip(done, data, strict=True):
        fixed = _fixed_plan(inputs, plan.scenario, rob.selected_sites)
        robust_within.append(float(fixed.tables.kpis.patients_within))
    table = pd.DataFrame(
        {
            "own_within": own,
            "robust_within": robust_within,
        }
    ).rename_axis("case")
    table["regret"] = 1.0 - table["robust_within"] / table["own_within"]
    total = pd.Series([float(p.tables.kpis.patients_total) for _, p in done])
    table["own_share"] = table["own_within"] / total
    table["robust_share"] = table["robust_within"] / total
    # the privacy rule: a count below the threshold is not shown (its share still is: the
    # case's patient total is shown, or hidden, with the case)
    thr = base.privacy_threshold
    for col in ("own_within", "robust_within"):
        small = (table[col] > 0) & (table[col] < thr)
        table[col] = table[col].astype(object).where(~small, None)
    return rob, table


def _fixed_plan(inputs: Inputs, scenario: Scenario, open_ids: tuple[str, ...]) -> Plan:
    """Return the plan of exactly ``open_ids`` on a case's inputs (summarised as any plan)."""
    sites = inputs.sites.assign(fixed=inputs.sites.index.isin(open_ids))
    fixed_inputs = Inputs(
        scenario=inputs.scenario,
        counties=inputs.counties,
        demand=inputs.demand,
        sites=sites,
        facilities=inputs.facilities,
        travel=inputs.travel,
        left_out=inputs.left_out,
    )
    plain = scenario.replace(
        model="mclp",
        n_facilities=len(open_ids),
        constraints={
            **scenario.constraints.model_dump(mode="json"),
            "budget": None,
            "site_in_every_county": False,
            "min_county_share_with_site": None,
            "county_coverage_target": None,
            "hub_per_prefecture": False,
            "max_referral_min": None,
            "worst_county_first": False,
        },
    )
    sol = models.solve(fixed_inputs.model_input(), ModelOptions.from_scenario(plain))
    tables = results_step.summarise(
        sol,
        scenario=scenario,
        demand=inputs.demand,
        sites=inputs.sites,
        counties=inputs.counties,
        travel=inputs.travel,
    )
    return Plan(
        scenario=scenario,
        counties=inputs.counties,
        demand=inputs.demand,
        sites=inputs.sites,
        facilities=inputs.facilities,
        travel=inputs.travel,
        solution=sol,
        tables=tables,
        left_out=inputs.left_out,
    )
