import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning.errors import DataError
from planning.inputs import demand
from planning.inputs import regions as data


@pytest.fixture(scope="module")
def putian():
    return demand.estimate_patients(data.load_counties("莆田市"), prevalence_per_mille=4.60)


def test_estimate_is_census_times_prevalence(putian):
    assert putian.loc["350322", "patients"] == pytest.approx(905068 * 4.60 / 1000)
    assert putian["patients"].sum() == pytest.approx(3210714 * 0.0046)
    half = demand.estimate_patients(putian, prevalence_per_mille=4.6, in_scope_share=0.5)
    assert half["patients"].sum() == pytest.approx(putian["patients"].sum() / 2)


def test_cells_sum_to_county_estimate(putian):
    cells = demand.build_demand_cells(putian, cell_size_m=3000)
    sums = cells.groupby("county")["weight"].sum()
    for cid, total in putian["patients"].items():
        assert abs(sums[cid] - total) < 1e-9 * total
    assert cells.index.is_unique and cells.index.name == "demand_id"
    assert (cells["weight"] >= 0).all()
    assert cells.crs.to_epsg() == 4326
    # uniform: weight proportional to area within a county
    xianyou = cells[cells["county"] == "350322"]
    density = xianyou["weight"] / xianyou["area_km2"]
    assert density.std() / density.mean() < 1e-6 or len(xianyou) < 3


def test_weight_layer_replaces_uniform(putian):
    # two weight points in 城厢区 cells: all its patients go to the cells holding them
    sub = putian.loc[["350302"]]
    cells0 = demand.build_demand_cells(sub, cell_size_m=5000)
    pts = cells0.geometry.representative_point().iloc[[0, 3]]
    layer = gpd.GeoDataFrame({"weight": [1.0, 3.0]}, geometry=pts.to_numpy(), crs="EPSG:4326")
    cells = demand.build_demand_cells(sub, cell_size_m=5000, weights=layer)
    nz = cells[cells["weight"] > 1e-9]
    assert list(nz.index) == [cells0.index[0], cells0.index[3]]
    assert nz["weight"].iloc[1] == pytest.approx(3 * nz["weight"].iloc[0])
    assert cells["weight"].sum() == pytest.approx(sub["patients"].iloc[0])


def test_patient_points_missing_county_warning_speaks_of_the_patient_table(putian):
    """Patient places are not a "weight layer": the warning names the table and what to add."""
    far = gpd.GeoDataFrame({"weight": [8.0]}, geometry=[shapely.Point(100, 30)], crs="EPSG:4326")
    with pytest.warns(UserWarning, match="The patient table has no places in 城厢区") as caught:
        cells = demand.build_demand_cells(
            putian.loc[["350302"]], cell_size_m=5000, weights=far, weights_kind="patient_points"
        )
    text = str(caught[0].message)
    assert "Weight layer" not in text and "经度/纬度 and 人数" in text
    assert cells["weight"].sum() == pytest.approx(putian.loc["350302", "patients"])


def test_county_without_patients_needs_no_weight(putian):
    """Nothing to spread: no warning for a county whose count is 0."""
    zero = putian.loc[["350302"]].assign(patients=0.0)
    far = gpd.GeoDataFrame({"weight": [1.0]}, geometry=[shapely.Point(100, 30)], crs="EPSG:4326")
    cells = demand.build_demand_cells(zero, cell_size_m=5000, weights=far)  # warnings are errors
    assert cells["weight"].sum() == 0.0


def test_weight_layer_missing_county_warns(putian):
    far = gpd.GeoDataFrame({"weight": [1.0]}, geometry=[shapely.Point(100, 30)], crs="EPSG:4326")
    with pytest.warns(UserWarning, match="Weight layer has no weight inside 城厢区") as caught:
        cells = demand.build_demand_cells(putian.loc[["350302"]], cell_size_m=5000, weights=far)
    assert "check that the layer's CRS and extent" in str(caught[0].message)
    assert cells["weight"].sum() == pytest.approx(putian.loc["350302", "patients"])


def test_known_counts_replace_estimate(putian):
    out = demand.estimate_patients(
        putian, prevalence_per_mille=4.6, patients_by_county=pd.Series({"350302": 1234.0})
    )
    assert out.loc["350302", "patients"] == 1234.0
    assert out.loc["350302", "patients_source"] == "patient table"
    assert out.loc["350303", "patients_source"].startswith("census")


def test_missing_population_is_a_clear_error():
    kinmen = data.load_counties("350527")  # no census row
    with pytest.raises(DataError, match=r"No population for 金门县.*--patients"):
        demand.estimate_patients(kinmen, prevalence_per_mille=4.6)


def test_bad_cell_size(putian):
    with pytest.raises(DataError, match="cell_size_m must be > 0"):
        demand.build_demand_cells(putian, cell_size_m=0)


def test_demand_ids_are_stable(putian):
    a = demand.build_demand_cells(putian, cell_size_m=4000)
    b = demand.build_demand_cells(putian, cell_size_m=4000)
    assert list(a.index) == list(b.index)
    np.testing.assert_array_equal(a["weight"].to_numpy(), b["weight"].to_numpy())


def test_weight_point_just_outside_snaps_to_the_nearest_cell_within_snap_m(putian):
    # ~300 m outside 仙游县's outer boundary (see tests/test_pipeline.py)
    xianyou = putian.loc[["350322"]]
    inside = xianyou.geometry.iloc[0].representative_point()
    pts = gpd.GeoDataFrame(
        {"weight": [20.0, 15.0]},
        geometry=[inside, shapely.Point(118.45523, 25.50895)],
        crs="EPSG:4326",
    )
    snapped = demand.build_demand_cells(xianyou, cell_size_m=4000, weights=pts, snap_m=1000)
    loaded = snapped[snapped["weight"] > 0]["weight"].sort_values().to_numpy()
    total = xianyou["patients"].iloc[0]
    np.testing.assert_allclose(loaded, [total * 15 / 35, total * 20 / 35])
    strict = demand.build_demand_cells(xianyou, cell_size_m=4000, weights=pts)  # snap_m=0
    assert (strict["weight"] > 0).sum() == 1  # the outside point is left out
    assert strict["weight"].sum() == pytest.approx(total)


def test_region_patients_leaves_out_counties_without_census():
    """泉州市: 金门县 is left out with one warning, the others get their patients."""
    quanzhou = data.load_counties("泉州市")
    with pytest.warns(UserWarning, match="金门县") as caught:
        kept, left_out = demand.region_patients(quanzhou, prevalence_per_mille=4.6)
    assert len(caught) == 1
    assert list(left_out.index) == ["350527"]
    assert left_out.loc["350527", "reason"].startswith("regions.reason_")
    assert "350527" not in kept.index
    assert len(kept) == len(quanzhou) - 1
    expected = kept["population"] * 4.6 / 1000
    assert np.allclose(kept["patients"], expected)
    # a patient count keeps the county in the region, without a warning
    counts = pd.Series({"350527": 40.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept, left_out = demand.region_patients(
            quanzhou, prevalence_per_mille=4.6, patients_by_county=counts
        )
    assert left_out.empty
    assert kept.loc["350527", "patients"] == 40.0
    assert kept.loc["350527", "patients_source"] == "patient table"
