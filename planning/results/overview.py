"""The region's inputs before solving: people, estimated patients and facilities per county.

What the region page shows before a plan exists (:func:`region_input_overview`,
:func:`region_input_totals`), with the privacy rule of :mod:`planning.results.privacy`
applied here, once: a county's patient count below the scenario's ``privacy_threshold`` reads
``"<N"``, and one that would give such a count back by subtraction from the region total
reads ``"≥N"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from planning._validate import require_columns
from planning.results.privacy import scenario_input_mask
from planning.scenario import Scenario
from planning.suppression import count_text

FACILITY_COLUMN = "n_{type}"
"""Name of the column counting a facility type per county (``n_rehab_existing``...)."""


def region_input_overview(
    counties: pd.DataFrame,
    scenario: Scenario,
    *,
    facilities: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return each county's population, estimated patients (privacy applied) and facilities.

    Parameters
    ----------
    counties
        One row per county, index ``county_id``: ``name``, ``population`` (NaN without
        census) and ``patients`` (from :func:`planning.inputs.estimate_patients` or the
        planner's counts).
    scenario
        Gives ``privacy_threshold``.
    facilities
        The facility layer (``county``, ``type``), or ``None``.
    demand
        The prepared demand cells (:attr:`Inputs.demand`) when there are: counted cells (a
        table of places) decide the privacy mask with the counties, as in the plan's files
        (:func:`~planning.results.privacy.scenario_input_mask`), so a county made only of
        small cells reads as the plan shows it. ``None``: the counties alone.

    Returns
    -------
    overview
        Index ``county_id``; ``name``; ``population`` (float); ``patients`` as text for people
        (``"1,234"``, ``"<5"``, ``"≥N"``; ``""`` when unknown); one ``n_<type>`` column per
        facility type in ``facilities`` (whole numbers). The counties add up to the region
        total of :func:`region_input_totals`, so a count that total would give back is hidden.

    Raises
    ------
    DataError
        ``counties`` lacks ``name``, ``population`` or ``patients``.
    """
    require_columns(counties, ["name", "population", "patients"], name="counties")
    thr = scenario.privacy_threshold
    patients = counties["patients"].astype(float)
    # with their prefecture (the province overview shows prefecture sums of these counts) and
    # the counted cells: the scenario's own input mask, so every output shows these counts alike
    mask = scenario_input_mask(counties, threshold=thr, demand=demand)
    out = pd.DataFrame(index=counties.index)
    out["name"] = counties["name"].astype(str)
    out["population"] = counties["population"].astype(float)
    out["patients"] = count_text(
        patients, threshold=thr, hidden=mask.counties(counties.index, "patients")
    )
    if facilities is not None and len(facilities):
        table = pd.crosstab(facilities["county"], facilities["type"])
        table = table.reindex(counties.index, fill_value=0).astype(int)
        table.columns = [FACILITY_COLUMN.format(type=c) for c in table.columns]
        out = out.join(table)
    return out


@dataclass(frozen=True)
class RegionInputTotals:
    """The region's headline figures before solving.

    Attributes
    ----------
    n_counties
        Number of counties.
    population
        Census population of the region, ``None`` when no county has census data.
    patients
        Estimated patients as text for people (``"<5"`` below the privacy threshold).
    """

    n_counties: int
    population: float | None
    patients: str


def region_input_totals(
    counties: pd.DataFrame, scenario: Scenario, *, demand: pd.DataFrame | None = None
) -> RegionInputTotals:
    """Return the region's counties, population and estimated patients (privacy applied).

    ``counties`` and ``demand`` as for :func:`region_input_overview` (the region's total reads
    as the scenario's input mask shows it); ``scenario`` gives ``privacy_threshold``.
    """
    require_columns(counties, ["population", "patients"], name="counties")
    thr = scenario.privacy_threshold
    population = counties["population"].astype(float)
    total = float(counties["patients"].astype(float).sum())
    hidden = None
    if len(counties) and counties["patients"].notna().all():
        mask = scenario_input_mask(counties, threshold=thr, demand=demand)
        hidden = pd.Series([mask.kpi("patients_total")], dtype=object)
    patients = count_text(pd.Series([total]), threshold=thr, hidden=hidden).iloc[0]
    return RegionInputTotals(
        n_counties=len(counties),
        population=float(population.sum()) if population.notna().any() else None,
        patients=str(patients) if not math.isnan(total) else "",
    )
