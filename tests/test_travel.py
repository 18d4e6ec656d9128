import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning.errors import DataError
from planning.inputs.coords import haversine_m
from planning.scenario import TravelSettings
from planning.travel import (
    ESTIMATED_LABEL,
    compute_estimated_travel_times,
    compute_travel_times,
    travel_label_local,
    travel_label_shown,
)


def pts(coords, ids, **cols):
    return gpd.GeoDataFrame(
        cols, index=pd.Index(ids), geometry=[shapely.Point(c) for c in coords], crs="EPSG:4326"
    )


def test_estimated_minutes_by_hand():
    demand = pts([(119.0, 25.4), (119.1, 25.5)], ["d1", "d2"], urban_share=[1.0, 0.0])
    sites = pts([(119.0, 25.5)], ["s1"])
    settings = TravelSettings(detour_factor=1.4, urban_speed_kmh=30, rural_speed_kmh=45)
    tt = compute_estimated_travel_times(demand, sites, settings=settings)
    assert tt.label == ESTIMATED_LABEL and tt.mode == "estimated"
    got = tt.table.set_index("demand_id")["travel_min"]
    d1 = haversine_m(119.0, 25.4, 119.0, 25.5)  # ~11.1 km
    d2 = haversine_m(119.1, 25.5, 119.0, 25.5)
    assert got["d1"] == pytest.approx(d1 * 1.4 / 1000 / 30 * 60)
    assert got["d2"] == pytest.approx(d2 * 1.4 / 1000 / 45 * 60)
    assert 11_000 < d1 < 11_200


def test_blended_speed_and_cutoff_sparse():
    demand = pts([(119.0, 25.4)] * 3, ["a", "b", "c"], urban_share=[0.0, 0.5, 1.0])
    sites = pts([(119.0, 25.5), (119.5, 25.5)], ["near", "far"])
    tt = compute_estimated_travel_times(demand, sites, cutoff_min=40)
    assert set(tt.table["site_id"]) == {"near"}  # far (~51 km) is beyond 40 min and not stored
    t = tt.table.set_index("demand_id")["travel_min"]
    assert t["a"] < t["b"] < t["c"]  # urban traffic (30 km/h) is slower than rural roads (45 km/h)
    # harmonic blend: time(0.5) is the mean of the pure urban and rural times
    assert t["b"] == pytest.approx((t["a"] + t["c"]) / 2)


def test_straight_line_is_a_lower_bound_at_top_speed():
    rng = np.random.default_rng(1)
    demand = pts(
        list(zip(rng.uniform(118.6, 119.3, 50), rng.uniform(25.0, 25.7, 50), strict=True)),
        [f"d{i}" for i in range(50)],
    )
    sites = pts(
        list(zip(rng.uniform(118.6, 119.3, 7), rng.uniform(25.0, 25.7, 7), strict=True)),
        [f"s{i}" for i in range(7)],
    )
    tt = compute_estimated_travel_times(demand, sites).table
    assert len(tt) == 350
    d = demand.loc[tt["demand_id"]]
    s = sites.loc[tt["site_id"]]
    km = (
        haversine_m(
            d.geometry.x.to_numpy(),
            d.geometry.y.to_numpy(),
            s.geometry.x.to_numpy(),
            s.geometry.y.to_numpy(),
        )
        / 1000
    )
    assert (tt["travel_min"].to_numpy() >= km / 45 * 60 - 1e-9).all()


def test_requires_wgs84():
    demand = pts([(119.0, 25.4)], ["a"]).to_crs(3857)
    with pytest.raises(DataError, match="WGS-84"):
        compute_estimated_travel_times(demand, pts([(119.0, 25.5)], ["s"]))


def test_referral_minutes_to_nearest_hospital():
    demand = pts([(119.0, 25.4)], ["a"])
    sites = pts([(119.0, 25.5), (119.2, 25.5)], ["s1", "s2"])
    hosp = pts([(119.0, 25.52), (119.3, 25.5)], ["h1", "h2"])
    tt = compute_travel_times(
        demand, sites, settings=TravelSettings(), cutoff_min=None, hospitals=hosp
    )
    ref = tt.referral_min
    assert ref.index.name == "site_id"
    assert ref["s1"] < ref["s2"]
    assert ref["s1"] == pytest.approx(haversine_m(119.0, 25.5, 119.0, 25.52) * 1.4 / 1000 / 45 * 60)


@pytest.mark.parametrize(
    ("label", "zh"),
    [
        (ESTIMATED_LABEL, "估算（直线距离×绕行系数）"),
        (
            "road network (OpenStreetMap, data 2026-11-01)",
            "路网（OpenStreetMap，数据日期 2026-11-01）",
        ),
        ("road network (OpenStreetMap)", "路网（OpenStreetMap）"),
        (
            "walking network (OpenStreetMap, data 2019-04-06)",
            "步行路网（OpenStreetMap，数据日期 2019-04-06）",
        ),
    ],
)
def test_travel_label_in_both_languages(label: str, zh: str) -> None:
    assert travel_label_local(label, lang="zh") == zh
    assert travel_label_local(label, lang="en") == label
    assert travel_label_shown(label, lang="zh") == zh  # no English fragment in Chinese (#18)
    assert travel_label_shown(label, lang="en") == label


def test_unknown_travel_label_is_left_as_it_is() -> None:
    assert travel_label_local("survey times (2025)", lang="zh") == "survey times (2025)"
    assert travel_label_shown("survey times (2025)", lang="zh") == "survey times (2025)"
    assert ESTIMATED_LABEL == "estimated (straight-line)"
