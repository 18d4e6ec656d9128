"""The views before solving show the plan's mask: one mask per scenario across outputs (#19).

A place-level patient table where one county is made only of small cells (two places of 4
patients): the plan's files hide that county's total ("≥5", the mask escalates past the kept
counts), so the region overview, the region maps and the region's headline total must not
show it exactly either.
"""

from __future__ import annotations

import warnings

import folium
import pandas as pd
import pytest

from planning import pipeline
from planning.pipeline import Inputs, Plan
from planning.report import build_region_map, export_plan
from planning.report.maps import TEXT
from planning.results import (
    count_mask,
    region_input_overview,
    region_input_totals,
    scenario_input_mask,
)
from planning.scenario import Scenario

THR = 5
SMALL_COUNTY = "350305"  # 秀屿区: two places of 4 patients, in two cells
# (lon, lat, patients) inside Putian's counties; a place of 0 keeps its county counted (0)
PLACES = [
    (119.00, 25.43, 0), (119.02, 25.44, 0), (119.05, 25.47, 0), (119.11, 25.46, 10),
    (119.15, 25.50, 0), (119.10, 25.30, 4), (119.20, 25.25, 4), (119.25, 25.21, 0),
    (118.70, 25.36, 20), (118.75, 25.40, 0), (118.90, 25.50, 30), (118.60, 25.30, 0),
    (119.01, 25.35, 0), (118.95, 25.60, 12), (119.08, 25.38, 0),
]  # fmt: skip


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Inputs, Plan, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("views")
    table = folder / "patients.csv"
    rows = ["lon,lat,count", *(f"{x},{y},{n}" for x, y, n in PLACES)]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    scenario = Scenario(
        region="莆田市",
        patients_file=str(table),
        cell_size_m=5000,
        candidate_spacing_m=10000,
        n_facilities=3,
        privacy_threshold=THR,
    )
    with warnings.catch_warnings():  # counties without places: not what is tested here
        warnings.simplefilter("ignore", UserWarning)
        inputs = pipeline.prepare(scenario)
        plan = pipeline.solve(inputs)
        export_plan(plan, folder / "plan")  # the patient table is not copied: it says so
    counties = pd.read_csv(folder / "plan" / "counties.csv", dtype=str).set_index("county_id")
    return inputs, plan, counties


def _county_tooltips(m: folium.Map) -> dict[str, str]:
    """The county layer's patients by county name, as the map's data holds them."""
    group = next(
        c
        for c in m._children.values()
        if isinstance(c, folium.FeatureGroup) and c.layer_name == TEXT["zh"]["county"]
    )
    (layer,) = [c for c in group._children.values() if isinstance(c, folium.GeoJson)]
    props = [f["properties"] for f in layer.data["features"]]
    return {p["name"]: p["patients"] for p in props}


def _cell_tooltips(m: folium.Map) -> list[str]:
    group = next(
        c
        for c in m._children.values()
        if isinstance(c, folium.FeatureGroup) and c.layer_name == TEXT["zh"]["demand"]
    )
    (layer,) = [c for c in group._children.values() if isinstance(c, folium.GeoJson)]
    return [f["properties"]["patients"] for f in layer.data["features"]]


def test_the_table_makes_the_plan_hide_a_county_of_small_cells(solved) -> None:
    inputs, _plan, counties = solved
    cells = inputs.demand[inputs.demand["county"] == SMALL_COUNTY]
    assert sorted(cells.loc[cells["weight"] > 0, "weight"]) == [4.0, 4.0]
    assert counties.loc[SMALL_COUNTY, "patients"] == f"≥{THR}"


def test_region_overview_shows_the_counties_as_the_plans_files(solved) -> None:
    inputs, plan, counties = solved
    out = region_input_overview(inputs.counties, plan.scenario, demand=inputs.demand)
    assert out.loc[SMALL_COUNTY, "patients"] == f"≥{THR}"
    assert out["patients"].to_dict() == counties["patients"].to_dict()


def test_region_total_reads_as_in_the_plan(solved) -> None:
    inputs, plan, _counties = solved
    totals = region_input_totals(inputs.counties, plan.scenario, demand=inputs.demand)
    k = plan.tables.kpis
    shown = count_mask(plan.tables, threshold=THR).kpi_text("patients_total", k.patients_total)
    assert totals.patients == shown


def test_region_maps_show_the_counties_as_the_plans_files(solved) -> None:
    inputs, plan, counties = solved
    by_name = dict(zip(counties["name"], counties["patients"], strict=True))
    # the Scenario page: with the cells drawn, the mask is built from them
    m = build_region_map(inputs.counties, demand=inputs.demand, basemap="none")
    assert _county_tooltips(m) == by_name
    assert by_name[inputs.counties.loc[SMALL_COUNTY, "name"]] == f"≥{THR}"
    # its cells as the plan's mask shows them
    mask = count_mask(plan.tables, threshold=THR)
    drawn = inputs.demand.index
    expected = [mask.hidden.get(f"cell:{d}") for d in drawn]
    texts = _cell_tooltips(m)
    assert [t for t, e in zip(texts, expected, strict=True) if e is not None] == [
        e for e in expected if e is not None
    ]
    # the Region page: the cells not drawn, the overview's mask given
    shared = scenario_input_mask(inputs.counties, threshold=THR, demand=inputs.demand)
    m = build_region_map(inputs.counties, input_mask=shared, basemap="none")
    assert _county_tooltips(m) == by_name


def test_census_views_keep_the_counties_own_mask(solved) -> None:
    """Without counted cells (estimated demand, or none yet) the counties alone decide."""
    inputs, plan, _counties = solved
    alone = region_input_overview(inputs.counties, plan.scenario)
    estimated = inputs.demand.copy()
    estimated.attrs = {}
    spread = region_input_overview(inputs.counties, plan.scenario, demand=estimated)
    assert spread["patients"].to_dict() == alone["patients"].to_dict()


def test_the_scenario_input_mask_is_the_plans(solved) -> None:
    """Every shared count (counties, region, cells) reads alike in the plan and before it."""
    inputs, plan, _counties = solved
    before = scenario_input_mask(inputs.counties, threshold=THR, demand=inputs.demand).hidden
    after = count_mask(plan.tables, threshold=THR).hidden
    inputs_only = {
        k: v
        for k, v in after.items()
        if k.startswith("cell:") or k == "kpi:patients_total" or k.endswith(":patients")
    }
    assert inputs_only == before
