"""Run the whole pipeline for a :class:`~planning.scenario.Scenario`.

data -> demand -> sites -> travel -> model -> results. The app, the command line, the
notebooks and the end-to-end tests all call :func:`run`; a phased rollout of the same inputs
is :func:`rollout`.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planning import inputs as inputs_step
from planning import models
from planning import results as results_step
from planning import travel as travel_step
from planning._progress import Progress, sub_progress
from planning.errors import DataError, PlanningError, PlanningWarning
from planning.i18n import MsgStr
from planning.models import ModelInput, ModelOptions, Solution
from planning.results.rollout import RolloutResult, solve_rollout
from planning.results.tables import COUNTED
from planning.scenario import Scenario
from planning.suppression import protect_error

logger = logging.getLogger(__name__)

COVERAGE_MODELS = {"mclp", "lscp"}


def _no_left_out() -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        {"name": [], "prefecture_name": [], "reason": []},
        index=pd.Index([], name="county_id", dtype=object),
        dtype=object,
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


@dataclass(frozen=True, kw_only=True)
class Inputs:
    """Everything prepared before the model: layers and travel times (all WGS-84)."""

    scenario: Scenario
    counties: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame | None
    travel: travel_step.TravelTimes
    left_out: gpd.GeoDataFrame = field(default_factory=_no_left_out)
    """Counties of the region left out: no census population and no patient count (index
    ``county_id``; ``name``, ``prefecture_name``, ``reason`` catalog key, e.g.
    ``"regions.reason_taiwan_administered"``; WGS-84 geometry). Empty when none."""

    def model_input(self) -> ModelInput:
        """Return the id-keyed tables a siting model needs.

        Demand points too far from the routable road network (``travel.unsnapped``, road
        travel only) have no travel time to any site: they are left out of the model, with a
        ``UserWarning``, so that p-median, p-center and LSCP (which must serve every point)
        stay solvable. The results still count their patients, as not reached.
        """
        demand = pd.DataFrame(
            self.demand[
                ["weight", "county", "county_name", "prefecture", "prefecture_name", "urban"]
            ]
        )
        unsnapped = self.travel.unsnapped
        if len(unsnapped):
            ids = unsnapped.loc[unsnapped["role"] == "demand", "point_id"]
            lost = demand.index.intersection(pd.Index(ids))
            if len(lost):
                thr = self.scenario.privacy_threshold
                w = float(demand.loc[lost, "weight"].sum())
                shown = f"<{thr}" if 0 < w < thr else f"{w:,.0f}"
                warning = PlanningWarning(
                    "pipeline.demand_unsnapped",
                    n=len(lost),
                    patients=shown,
                    max_snap_m=self.scenario.travel.max_snap_m,
                )
                warnings.warn(warning, stacklevel=2)
                demand = demand.drop(lost)
        sites = pd.DataFrame(
            self.sites[
                [
                    "name",
                    "kind",
                    "fixed",
                    "cost",
                    "capacity",
                    "county",
                    "prefecture",
                    "candidate_type",
                ]
            ]
        )
        ref = self.travel.referral_min
        sites["referral_min"] = ref.reindex(sites.index) if ref is not None else float("nan")
        return ModelInput(travel=self.travel.table, demand=demand, sites=sites)


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A solved scenario: its inputs, the model's solution and the result tables."""

    scenario: Scenario
    counties: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame | None
    travel: travel_step.TravelTimes
    solution: Solution
    tables: results_step.ResultTables
    left_out: gpd.GeoDataFrame = field(default_factory=_no_left_out)
    """Counties of the region left out of the plan (see :attr:`Inputs.left_out`)."""

    @property
    def inputs(self) -> Inputs:
        """The prepared inputs of this plan."""
        return Inputs(
            scenario=self.scenario,
            counties=self.counties,
            demand=self.demand,
            sites=self.sites,
            facilities=self.facilities,
            travel=self.travel,
            left_out=self.left_out,
        )


def travel_cutoff_min(scenario: Scenario) -> float | None:
    """Travel-time cut-off used when building the table for ``scenario``.

    Coverage models (MCLP, LSCP) count only pairs within their thresholds, but the table keeps
    pairs up to twice the largest threshold so that results can report the travel time of
    uncovered patients to their nearest open site, and an infeasible LSCP can say how far the
    nearest candidate is. p-median and p-center need pairs beyond it; in estimated mode every
    pair is kept (``None``), on the road network pairs up to ``max(4 x max_travel_min, 120)``
    minutes.
    """
    c = scenario.constraints
    thresholds = [scenario.max_travel_min, c.urban_max_travel_min, c.rural_max_travel_min]
    t = max(x for x in thresholds if x is not None)
    if scenario.model in COVERAGE_MODELS:  # every travel figure's cut-off, for every model
        return results_step.reach_cutoff_min(scenario)
    if scenario.travel.mode == "estimated":
        return None
    return max(4 * t, 120.0)


def load_facilities_for(scenario: Scenario, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Read the scenario's facility table (``scenario.facilities_file``), if any."""
    if not scenario.facilities_file:
        return None
    return inputs_step.load_facilities(
        Path(scenario.facilities_file), crs=scenario.facilities_crs, region=counties
    )


def prepare(
    scenario: Scenario,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    patients_by_county: pd.Series | None = None,
    progress: Progress | None = None,
) -> Inputs:
    """Run every step before the model: region, patients, cells, sites, travel times.

    Parameters
    ----------
    facilities
        An already-loaded facility layer (e.g. an app upload); otherwise read from
        ``scenario.facilities_file`` when set.
    patients_by_county
        Known patient counts by ``county_id`` replacing the census estimate; otherwise read
        from ``scenario.patients_file`` when set. A table of places counts each place in
        the county the loader gave it, including places kept up to 1 km outside the
        boundary (nearest county, nearest demand cell), so the county totals add up to the
        table's total.
    """
    t0 = time.perf_counter()
    if progress:
        progress(0.0, MsgStr("progress.loading_region"))
    counties = inputs_step.load_counties(scenario.region, counties=scenario.counties)
    points = None
    snap_m = 0.0  # places the loader kept just outside the boundary count in the nearest cell
    if patients_by_county is None and scenario.patients_file:
        counts = inputs_step.load_patient_counts(
            Path(scenario.patients_file),
            crs=scenario.facilities_crs,
            region=counties,
            privacy_threshold=scenario.privacy_threshold,
        )
        patients_by_county, points = counts.by_county, counts.points
        if points is not None:
            if points.empty:
                raise DataError(
                    "regions.patients_outside_region",
                    file=Path(scenario.patients_file).name,
                    region=scenario.region,
                )
            # the loader located each place: inside a county, or within REGION_TOLERANCE_M of
            # the region (coastline, simplified boundary) and then in the nearest county; a
            # re-join by "within" would drop those from the county totals
            patients_by_county = points.groupby("county")["count"].sum().rename_axis("county_id")
            snap_m = inputs_step.REGION_TOLERANCE_M
    # counties without census figures (金门县 ...) stay in only with a patient count
    counties, left_out = inputs_step.region_patients(
        counties,
        prevalence_per_mille=scenario.prevalence_per_mille,
        in_scope_share=scenario.in_scope_share,
        patients_by_county=patients_by_county,
    )
    if facilities is None:
        facilities = load_facilities_for(scenario, counties)
    if "osm" in scenario.candidate_source:  # OpenStreetMap's facilities, unless already in
        facilities = inputs_step.add_osm_facilities(
            facilities,
            counties,
            osm_file=scenario.travel.osm_file,
            table_file=scenario.osm_facilities_file,
        )
    if patients_by_county is not None:
        uncounted = counties.index.difference(patients_by_county.dropna().index)
        if len(uncounted) and len(uncounted) < len(counties):
            names = ", ".join(counties.loc[uncounted, "name"])
            warning = PlanningWarning("pipeline.patient_counts_partial", names=names)
            warnings.warn(warning, stacklevel=2)
    weights = None
    if points is not None:
        weights = points.rename(columns={"count": "weight"})
    elif scenario.weight_layer:
        weights = inputs_step.load_weight_layer(scenario.weight_layer)
    if progress:
        progress(0.1, MsgStr("progress.building_demand_cells"))
    cells = inputs_step.build_demand_cells(
        counties,
        cell_size_m=scenario.cell_size_m,
        weights=weights,
        weights_kind="patient_points" if points is not None else "weight_layer",
        snap_m=snap_m,
    )
    if points is not None:  # cells hold counted patients, not an estimate spread by area
        cells.attrs[COUNTED] = True
    sites = inputs_step.build_sites(
        counties,
        source=scenario.candidate_source,
        spacing_m=scenario.candidate_spacing_m,
        facilities=facilities,
        candidate_types=scenario.candidate_types,
    )
    # every site gets a place: township and village from OSM places, else its county; places
    # are downloaded only for a plan that uses OpenStreetMap online anyway (else: file, cache)
    online = scenario.travel.mode == "network" or "osm" in scenario.candidate_source
    places = inputs_step.find_places(counties, osm_file=scenario.travel.osm_file, download=online)
    sites = inputs_step.name_places(
        sites, places, county_names=sites["county"].map(counties["name"])
    )
    sites_for_travel = sites.assign(
        urban_share=sites["county"].map(counties["urban_share"]).fillna(0.0)
    )
    travel = travel_step.compute_travel_times(
        cells,
        sites_for_travel,
        settings=scenario.travel,
        cutoff_min=travel_cutoff_min(scenario),
        region=counties,
        hospitals=inputs_step.psychiatric_hospitals(facilities),
        progress=sub_progress(progress, 0.2, 0.6),
    )
    logger.info("Prepared inputs in %.1f s", time.perf_counter() - t0)
    return Inputs(
        scenario=scenario,
        counties=counties,
        demand=cells,
        sites=sites,
        facilities=facilities,
        travel=travel,
        left_out=left_out,
    )


def solve(
    inputs: Inputs, scenario: Scenario | None = None, *, progress: Progress | None = None
) -> Plan:
    """Solve ``scenario`` (default: the one ``inputs`` were prepared for) on ``inputs``.

    Only model options may differ between ``scenario`` and ``inputs.scenario`` (number of
    sites, solver, constraints...); the app uses this to re-solve without recomputing travel
    times. Options that change the inputs require :func:`prepare` again.
    """
    scenario = scenario or inputs.scenario
    if progress:
        progress(0.6, MsgStr("progress.solving_siting_model"))
    try:
        solution = models.solve(inputs.model_input(), ModelOptions.from_scenario(scenario))
    except PlanningError as err:  # its patient counts as every output shows them ("<5")
        raise protect_error(err, threshold=scenario.privacy_threshold) from None
    if progress:
        progress(0.95, MsgStr("progress.summarising_results"))
    tables = results_step.summarise(
        solution,
        scenario=scenario,
        demand=inputs.demand,
        sites=inputs.sites,
        counties=inputs.counties,
        travel=inputs.travel,
    )
    if progress:
        progress(1.0, MsgStr("progress.done"))
    return Plan(
        scenario=scenario,
        counties=inputs.counties,
        demand=inputs.demand,
        sites=inputs.sites,
        facilities=inputs.facilities,
        travel=inputs.travel,
        solution=solution,
        tables=tables,
        left_out=inputs.left_out,
    )


def run(
    scenario: Scenario,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Run every step for ``scenario`` and return the :class:`Plan`.

    Raises
    ------
    PlanningError
        Any input or scenario problem, with a message that says what to change.
    """
    inputs = prepare(scenario, facilities=facilities, progress=progress)
    return solve(inputs, progress=progress)


def rollout(
    inputs: Inputs,
    scenario: Scenario | None = None,
    *,
    suggest: bool = True,
    progress: Progress | None = None,
) -> RolloutResult:
    """Plan the phased rollout of ``scenario`` on prepared inputs.

    Every county of the region counts in the county milestones, also those without demand
    points. ``scenario`` defaults to the one ``inputs`` were prepared for; only model and
    rollout options may differ (see :func:`solve`).
    """
    scenario = scenario or inputs.scenario
    shared = results_step.scenario_input_mask(  # so its files hide what the plan's hide
        pd.DataFrame(inputs.counties.drop(columns="geometry", errors="ignore")),
        threshold=scenario.privacy_threshold,
        demand=inputs.demand,
    )
    try:
        return solve_rollout(
            inputs.model_input(),
            scenario,
            counties=inputs.counties["name"],
            suggest=suggest,
            progress=progress,
            shared_mask=shared,
        )
    except PlanningError as err:  # its patient counts as every output shows them ("<5")
        raise protect_error(err, threshold=scenario.privacy_threshold) from None
