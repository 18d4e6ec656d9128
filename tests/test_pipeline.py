"""End-to-end: the Putian demo through planning.pipeline, checked against enumeration."""

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from planning import pipeline
from planning.errors import InfeasibleError, ScenarioError
from planning.scenario import Scenario

SMALL = {
    "region": "莆田市",
    "counties": ("城厢区", "荔城区"),
    "cell_size_m": 4000,
    "candidate_spacing_m": 7000,
}


@pytest.fixture(scope="module")
def small_inputs():
    return pipeline.prepare(Scenario(model="mclp", n_facilities=2, max_travel_min=12, **SMALL))


def coverage_of(combo, table, weights, t_max):
    ok = table[(table["site_id"].isin(combo)) & (table["travel_min"] <= t_max)]
    return weights.loc[ok["demand_id"].unique()].sum()


def patient_minutes_of(combo, table, weights):
    best = table[table["site_id"].isin(combo)].groupby("demand_id")["travel_min"].min()
    if len(best) < len(weights):
        return np.inf
    return float((best * weights.loc[best.index]).sum())


def test_putian_default_plan_end_to_end():
    plan = pipeline.run(Scenario(model="mclp", n_facilities=6, max_travel_min=30, cell_size_m=3000))
    k = plan.tables.kpis
    assert (
        plan.solution.status == "optimal" and plan.solution.gap in (0, 0.0, None)
    ) or plan.solution.gap < 1e-6
    assert len(plan.solution.selected_sites) == 6
    # county totals = census x 4.60 per mille
    census = {
        "350302": 547422,
        "350303": 479605,
        "350304": 673935,
        "350305": 604684,
        "350322": 905068,
    }
    for cid, pop in census.items():
        assert plan.tables.counties.loc[cid, "patients"] == pytest.approx(pop * 4.6 / 1000)
    assert k["patients_total"] == pytest.approx(3210714 * 0.0046)
    assert k["travel_label"] == "estimated (straight-line)"
    assert 0 < k["share_within"] <= 1
    assert k["objective"] == pytest.approx(k["patients_within"], rel=1e-6)
    assert set(plan.tables.sites.index) == set(plan.solution.selected_sites)
    assert plan.tables.policy.index.tolist() == [2023, 2024, 2025]


def test_mclp_equals_enumeration(small_inputs):
    s = small_inputs.scenario
    plan = pipeline.solve(small_inputs)
    table = small_inputs.travel.table
    weights = small_inputs.demand["weight"]
    best = max(
        coverage_of(c, table, weights, s.max_travel_min)
        for c in itertools.combinations(small_inputs.sites.index, s.n_facilities)
    )
    assert plan.solution.status == "optimal"
    assert plan.solution.objective == pytest.approx(best, rel=1e-7)
    assert plan.tables.kpis["patients_within"] == pytest.approx(best, rel=1e-7)


def test_p_median_equals_enumeration():
    inputs = pipeline.prepare(Scenario(model="p_median", n_facilities=2, **SMALL))
    plan = pipeline.solve(inputs)
    table = inputs.travel.table
    weights = inputs.demand["weight"]
    best = min(
        patient_minutes_of(c, table, weights) for c in itertools.combinations(inputs.sites.index, 2)
    )
    assert plan.solution.status == "optimal"
    assert plan.solution.objective == pytest.approx(best, rel=1e-6)


def test_lscp_equals_enumeration():
    inputs = pipeline.prepare(Scenario(model="lscp", n_facilities=None, max_travel_min=25, **SMALL))
    plan = pipeline.solve(inputs)
    table = inputs.travel.table
    weights = inputs.demand["weight"]
    need = set(weights.index[weights > 0])
    fewest = None
    for p in range(1, len(inputs.sites) + 1):
        for c in itertools.combinations(inputs.sites.index, p):
            ok = set(table[(table["site_id"].isin(c)) & (table["travel_min"] <= 25)]["demand_id"])
            if need <= ok:
                fewest = p
                break
        if fewest:
            break
    assert plan.solution.status == "optimal"
    assert len(plan.solution.selected_sites) == fewest
    assert plan.tables.kpis["share_within"] == pytest.approx(1.0)


def test_resolve_reuses_inputs(small_inputs):
    a = pipeline.solve(small_inputs, small_inputs.scenario.replace(n_facilities=1))
    b = pipeline.solve(small_inputs, small_inputs.scenario.replace(n_facilities=3))
    assert a.tables.kpis["patients_within"] <= b.tables.kpis["patients_within"]
    assert a.travel is b.travel


def test_p_larger_than_candidates(small_inputs):
    n = len(small_inputs.sites)
    with pytest.raises(ScenarioError, match=str(n)):
        pipeline.solve(small_inputs, small_inputs.scenario.replace(n_facilities=n + 1))


def test_lscp_infeasible_names_the_county(small_inputs):
    with pytest.raises(InfeasibleError, match=r"城厢区|荔城区"):
        pipeline.solve(
            small_inputs,
            small_inputs.scenario.replace(model="lscp", n_facilities=None, max_travel_min=1),
        )


def test_deterministic(small_inputs):
    a = pipeline.solve(small_inputs)
    b = pipeline.solve(small_inputs)
    assert a.solution.selected_sites == b.solution.selected_sites
    pd.testing.assert_frame_equal(a.tables.assignments, b.tables.assignments)


@pytest.mark.parametrize(
    ("model", "options"),
    [
        ("mclp", {"n_facilities": 2}),
        ("p_median", {"n_facilities": 2}),
        ("p_center", {"n_facilities": 2}),
        ("lscp", {"n_facilities": None, "max_travel_min": 40}),
    ],
)
def test_every_model_solves_with_points_off_the_road_network(model, options):
    """Road travel: cells farther than max_snap_m from any road have no pair at all."""
    small_inputs = pipeline.prepare(Scenario(model=model, **{**SMALL, **options}))
    off_road = list(small_inputs.demand.index[:3])
    travel = small_inputs.travel
    road = dataclasses.replace(
        travel,
        mode="network",
        label="road network (OpenStreetMap, data 2026-11-01)",
        table=travel.table[~travel.table["demand_id"].isin(off_road)].reset_index(drop=True),
        unsnapped=pd.DataFrame(
            {"point_id": off_road, "role": "demand", "distance_m": [2500.0, 3100.0, 8000.0]}
        ),
    )
    inputs = dataclasses.replace(small_inputs, travel=road)
    with pytest.warns(UserWarning, match=r"3 demand cell\(s\) with \d+ patients are farther"):
        plan = pipeline.solve(inputs)
    k = plan.tables.kpis
    lost = float(small_inputs.demand.loc[off_road, "weight"].sum())
    assert k["patients_total"] == pytest.approx(small_inputs.demand["weight"].sum())
    assert k["patients_beyond_cutoff"] >= lost - 1e-9
    assert not set(off_road) & set(plan.tables.assignments["demand_id"])


def test_patient_places_missing_a_county_warn_about_the_table_not_a_weight_layer(tmp_path):
    """A patient-count table of places is not a weight layer: the warning says what to add."""
    table = tmp_path / "patients.csv"
    table.write_text("经度,纬度,人数\n118.9366,25.4223,40\n118.95,25.43,7\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="patient table has no") as caught:
        inputs = pipeline.prepare(Scenario(patients_file=str(table), **SMALL))
    messages = [str(w.message) for w in caught]
    assert not any("Weight layer" in m for m in messages)
    spread = [m for m in messages if m.startswith("The patient table has no places in 荔城区")]
    assert len(spread) == 1 and "经度/纬度 and 人数" in spread[0]
    assert inputs.counties.loc["350302", "patients"] == 47


# a place ~300 m outside 仙游县's outer boundary (towards Quanzhou/Fuzhou), inside the loader's
# 1 km tolerance (io.REGION_TOLERANCE_M)
JUST_OUTSIDE_XIANYOU = (118.45523, 25.50895)


def test_place_kept_just_outside_a_county_counts_in_its_total(tmp_path):
    """Kept by the loader (<= 1 km outside) means counted: county totals = the table's total."""
    import geopandas as gpd  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    from planning import inputs as io  # noqa: PLC0415
    from planning.inputs import regions as data  # noqa: PLC0415

    xianyou = data.load_counties("莆田市", counties=["仙游县"])
    outside = gpd.GeoSeries([shapely.Point(*JUST_OUTSIDE_XIANYOU)], crs="EPSG:4326")
    utm = xianyou.estimate_utm_crs()
    gap_m = float(outside.to_crs(utm).distance(xianyou.to_crs(utm).union_all()).iloc[0])
    assert 250 < gap_m < 350 < io.REGION_TOLERANCE_M  # the set-up: really outside, but kept
    inside = xianyou.geometry.iloc[0].representative_point()
    table = tmp_path / "patients.csv"
    table.write_text(
        f"经度,纬度,人数\n{inside.x:.5f},{inside.y:.5f},20\n"
        f"{JUST_OUTSIDE_XIANYOU[0]},{JUST_OUTSIDE_XIANYOU[1]},15\n",
        encoding="utf-8",
    )
    counts = io.load_patient_counts(table, region=xianyou)
    assert counts.total == 35  # the loader keeps both places
    inputs = pipeline.prepare(
        Scenario(counties=("仙游县",), cell_size_m=4000, patients_file=str(table))
    )
    assert inputs.counties.loc["350322", "patients"] == 35
    assert inputs.demand["weight"].sum() == pytest.approx(35)
    # the 15 patients sit in the cell nearest their place, not spread over the other cells
    cells = inputs.demand.to_crs(utm)
    nearest = cells.distance(outside.to_crs(utm).iloc[0]).idxmin()
    assert inputs.demand.loc[nearest, "weight"] == pytest.approx(15)
