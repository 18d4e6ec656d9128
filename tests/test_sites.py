import geopandas as gpd
import numpy as np
import pytest
import shapely

from planning.errors import DataError, ScenarioError
from planning.inputs import regions as data
from planning.inputs import sites
from planning.scenario import CandidateType


@pytest.fixture(scope="module")
def putian():
    return data.load_counties("莆田市")


def facility_layer(rows):
    return gpd.GeoDataFrame(
        {
            "name": [r[1] for r in rows],
            "type": [r[2] for r in rows],
            "capacity": [r[5] for r in rows],
        },
        index=[r[0] for r in rows],
        geometry=[shapely.Point(r[3], r[4]) for r in rows],
        crs="EPSG:4326",
    ).rename_axis("facility_id")


def test_grid_candidates_inside_region_every_county(putian):
    grid = sites.generate_candidate_grid(putian, spacing_m=5000)
    assert grid.index[0] == "G0001" and grid.index.is_unique
    assert (grid["source"] == "generated").all() and (grid["candidate_type"] == "generated").all()
    region = putian.union_all()
    assert grid.geometry.within(region.buffer(1e-9)).all()
    assert set(grid["county"]) == set(putian.index)
    # ~ area / spacing^2
    area_km2 = putian.to_crs(putian.estimate_utm_crs()).area.sum() / 1e6
    assert len(grid) == pytest.approx(area_km2 / 25, rel=0.1)


def test_tiny_county_still_gets_a_candidate(putian):
    grid = sites.generate_candidate_grid(putian, spacing_m=40_000)
    assert set(grid["county"]) == set(putian.index)


def test_facilities_existing_fixed_and_hospital_excluded(putian):
    fac = facility_layer(
        [
            ("F1", "示例康复站", "rehab_existing", 119.0, 25.45, 30.0),
            ("F2", "示例卫生院", "community_health_centre", 118.75, 25.38, np.nan),
            ("H1", "示例精神专科医院", "psychiatric_hospital", 119.01, 25.43, np.nan),
        ]
    )
    s = sites.build_sites(
        putian,
        source="grid+facilities",
        spacing_m=8000,
        facilities=fac,
        candidate_types=[
            CandidateType(name="community_health_centre", opening_cost=50, capacity=40)
        ],
    )
    assert "H1" not in s.index
    assert s.loc["F1", "fixed"] and s.loc["F1", "kind"] == "existing"
    assert not s.loc["F2", "fixed"] and s.loc["F2", "cost"] == 50 and s.loc["F2", "capacity"] == 40
    assert s.loc["F1", "capacity"] == 30  # the facility's own capacity wins
    assert s.loc["F1", "county"] in putian.index
    only_grid = sites.build_sites(putian, source="grid", spacing_m=8000, facilities=fac)
    assert (
        "F1" in only_grid.index and "F2" not in only_grid.index
    )  # existing kept, others not candidates
    hosp = sites.psychiatric_hospitals(fac)
    assert list(hosp.index) == ["H1"]


def test_empty_facility_table_is_an_error(putian):
    empty = facility_layer([])
    with pytest.raises(DataError, match="no rows"):
        sites.build_sites(putian, source="facilities", spacing_m=5000, facilities=empty)


def test_facilities_source_needs_a_table(putian):
    with pytest.raises(ScenarioError, match="needs a facility table"):
        sites.build_sites(putian, source="facilities", spacing_m=5000)


def test_generated_candidates_are_named_in_the_language_asked(putian):
    fac = facility_layer([("F1", "示例康复站", "rehab_existing", 119.0, 25.45, 30.0)])
    s = sites.build_sites(putian, source="grid+facilities", spacing_m=20_000, facilities=fac)
    assert s.loc["G0001", "name"] == "生成候选点 G0001"  # stored: Chinese, the default
    en = sites.site_names(s, lang="en")
    assert en.index.equals(s.index)
    generated = s["source"] == "generated"
    assert (en[generated] == [f"Generated candidate {i}" for i in s.index[generated]]).all()
    assert en["F1"] == "示例康复站"  # the planner's own names are never translated
    assert sites.site_names(s, lang="zh").equals(s["name"].astype(str))
    with pytest.raises(ScenarioError, match="Unknown language 'fr'"):
        sites.site_names(s, lang="fr")
    with pytest.raises(DataError, match=r"missing column.*'source'"):
        sites.site_names(s.drop(columns="source"), lang="en")
