"""Tests for planning.inputs.coords: WGS-84 <-> GCJ-02 <-> BD-09 and haversine distances."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import DataError
from planning.inputs import coords

# (WGS-84, GCJ-02) pairs: the first from a published reference pair (Shanghai), the other two
# from eviltransform's test-suite (Shenzhen, Beijing).
WGS_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
GCJ_BD = [((116.404, 39.915), (116.41036949371029, 39.92133699351021))]


def _dist_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(coords.haversine_m(a[0], a[1], b[0], b[1]))


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_wgs84_to_gcj02_matches_reference(wgs, gcj):
    lon, lat = coords.wgs84_to_gcj02(*wgs)
    assert lon == pytest.approx(gcj[0], abs=1e-9)
    assert lat == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_gcj02_to_wgs84_within_a_millimetre(wgs, gcj):
    back = coords.gcj02_to_wgs84(*gcj)
    assert _dist_m((float(back[0]), float(back[1])), wgs) < 1e-3
    # The offset is real: hundreds of metres, not zero.
    assert 100 < _dist_m(wgs, gcj) < 1000


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD)
def test_gcj02_bd09_reference_and_inverse(gcj, bd):
    lon, lat = coords.gcj02_to_bd09(*gcj)
    assert (lon, lat) == (pytest.approx(bd[0], abs=1e-9), pytest.approx(bd[1], abs=1e-9))
    back = coords.bd09_to_gcj02(*bd)
    # The published BD-09 inverse is approximate (a few centimetres).
    assert _dist_m((float(back[0]), float(back[1])), gcj) < 0.1


def test_bd09_wgs84_round_trip_reference():
    wgs = WGS_GCJ[0][0]
    bd = coords.wgs84_to_bd09(*wgs)
    back = coords.bd09_to_wgs84(*bd)
    assert _dist_m((float(back[0]), float(back[1])), wgs) < 1.0
    assert _dist_m((float(bd[0]), float(bd[1])), wgs) > 500  # BD-09 adds to the GCJ offset


def test_round_trips_vectorised_over_china():
    rng = np.random.default_rng(7)
    lon = rng.uniform(75, 134, 5000)
    lat = rng.uniform(18, 53, 5000)
    for forward, inverse in [
        (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84),
        (coords.wgs84_to_bd09, coords.bd09_to_wgs84),
    ]:
        f_lon, f_lat = forward(lon, lat)
        assert f_lon.shape == lon.shape
        b_lon, b_lat = inverse(f_lon, f_lat)
        err = coords.haversine_m(lon, lat, b_lon, b_lat)
        assert err.max() < 1.0


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=73.0, max_value=135.0), st.floats(min_value=18.0, max_value=53.5))
def test_gcj_round_trip_property(lon, lat):
    g = coords.wgs84_to_gcj02(lon, lat)
    back = coords.gcj02_to_wgs84(*g)
    assert float(coords.haversine_m(lon, lat, back[0], back[1])) < 1.0


def test_to_and_from_wgs84_dispatch():
    lon, lat = np.array([119.0, 119.1]), np.array([25.4, 25.5])
    for system in ("wgs84", "gcj02", "bd09"):
        out = coords.from_wgs84(lon, lat, target=system)
        back = coords.to_wgs84(*out, source=system)
        assert coords.haversine_m(lon, lat, *back).max() < 1.0
    same = coords.to_wgs84(lon, lat, source="wgs84")
    np.testing.assert_array_equal(same[0], lon)


def test_outside_china_unchanged():
    lon, lat = coords.wgs84_to_gcj02([2.35, 139.69], [48.85, 35.68])  # Paris, Tokyo
    np.testing.assert_array_equal(lon, [2.35, 139.69])
    np.testing.assert_array_equal(lat, [48.85, 35.68])
    assert coords.out_of_china([2.35, 119.0], [48.85, 25.4]).tolist() == [True, False]


def test_errors_are_data_errors():
    with pytest.raises(DataError, match="same shape"):
        coords.wgs84_to_gcj02([1.0, 2.0], [1.0])
    with pytest.raises(DataError, match="Unknown coordinate system 'utm'"):
        coords.to_wgs84(1.0, 1.0, source="utm")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="Unknown coordinate system"):
        coords.from_wgs84(1.0, 1.0, target="xyz")  # type: ignore[arg-type]


def test_transform_geometry_moves_every_vertex():
    gcj = WGS_GCJ[0][1]
    poly = shapely.box(gcj[0], gcj[1], gcj[0] + 0.01, gcj[1] + 0.01)
    out = coords.transform_geometry(poly, source="gcj02")
    xy = shapely.get_coordinates(out)
    wgs = WGS_GCJ[0][0]
    first = xy[np.argmin(xy[:, 0] + xy[:, 1])]
    assert _dist_m((first[0], first[1]), wgs) < 1.0
    assert len(xy) == len(shapely.get_coordinates(poly))


def test_haversine_known_distances():
    # One degree of latitude on the 6,371,008.8 m sphere.
    assert float(coords.haversine_m(0, 0, 0, 1)) == pytest.approx(111_195.08, abs=0.5)
    assert float(coords.haversine_m(119.0, 25.4, 119.0, 25.4)) == 0.0
    d = coords.haversine_m(np.zeros(3), np.zeros(3), np.array([0, 1, 2]), np.zeros(3))
    assert d.shape == (3,)
    assert d[2] == pytest.approx(2 * d[1])
