"""Road-network travel times: speeds, snapping and routing on a road network.

The network is a :class:`~planning.travel.roads.RoadNetwork`.

1. **Speeds** -> :func:`edge_speeds_kmh`: per road class, urban and rural defaults
   (:data:`planning.defaults.DEFAULT_SPEEDS_KMH`, with their sources), scenario overrides
   (``TravelSettings.road_speeds_kmh``), capped by a tagged ``maxspeed``.
2. **Snapping** -> :func:`snap_points`: every point snaps to the nearest node of the largest
   strongly connected component (so every snapped point can reach every other one); the access
   leg from the point to that node is walked at ``access_speed_kmh``; points farther than
   ``max_snap_m`` are *reported* (``TravelTimes.unsnapped`` and a ``UserWarning``), never
   silently dropped. Points snap to *nodes*, not edges: every way node is kept (pyrosm,
   unsimplified XML and downloads), so nodes lie every few dozen metres along a road and the
   access leg is close to the distance to the road. A shortest path between two nodes of a
   strongly connected component never leaves it, so the pieces not snapped to cannot distort
   the times.
3. **Routing** -> :func:`compute_network_travel_times`: pass-through nodes (degree-2 chains)
   that no point snapped to are contracted away exactly (:func:`contract_graph`), then
   ``scipy.sparse.csgraph.dijkstra`` with ``limit=cutoff`` runs from the unique snapped *site*
   nodes on the reversed graph (so the times are demand -> site on one-way streets), in chunks;
   only pairs within the cut-off are kept.
   Referral times (site -> nearest psychiatric hospital) come from one extra Dijkstra run from
   a virtual source joined to every hospital node.

All coordinates must be WGS-84 longitude/latitude (EPSG:4326). Facility tables in GCJ-02 (AMap)
or BD-09 (Baidu) must be converted first (``planning.inputs.coords.to_wgs84``; the upload
readers do this at load time); a layer in another CRS raises :class:`~planning.errors.DataError`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import warnings
import weakref
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from planning._progress import Progress
from planning._validate import require_unique_index
from planning.defaults import DEFAULT_SPEEDS_KMH, FALLBACK_CLASS
from planning.errors import PlanningWarning
from planning.i18n import Joined, Msg, MsgStr
from planning.inputs.coords import haversine_m
from planning.scenario import TravelSettings
from planning.travel._geo import lonlat, require_wgs84
from planning.travel.roads import RoadNetwork
from planning.travel.table import TravelTimes

logger = logging.getLogger(__name__)


FloatArray = npt.NDArray[np.float64]


IntArray = npt.NDArray[np.int64]


EARTH_RADIUS_M = 6_371_008.8


URBAN_ROAD_DENSITY_KM_PER_KM2 = 10.0
"""Fallback urban test when no urban areas are given: km of directed road per km² (1 km grid)."""


# --------------------------------------------------------------------------- speeds
def edge_speeds_kmh(
    network: RoadNetwork,
    *,
    settings: TravelSettings | None = None,
    urban: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Speed of every edge in km/h.

    Parameters
    ----------
    network
        The road network.
    settings
        ``road_speeds_kmh`` overrides the defaults: key ``"<class>"`` sets urban and rural,
        ``"urban:<class>"`` / ``"rural:<class>"`` one of them, ``"walk"`` the walking speed
        (default ``access_speed_kmh``). Unknown classes use ``"road"``.
    urban
        Per edge: ``True`` where the urban speed applies. ``None``: from road density
        (:func:`urban_edges_by_density`).

    Returns
    -------
    speeds
        km/h per directed edge. Drive: the class speed, capped by a tagged ``maxspeed``
        (average running speed rarely exceeds the limit). Walk: the walking speed everywhere.
    """
    settings = settings or TravelSettings()
    overrides = settings.road_speeds_kmh
    if network.network_type == "walk":
        walk = float(overrides.get("walk", settings.access_speed_kmh))
        return np.full(network.n_edges, walk, dtype=np.float64)
    if urban is None:
        urban = urban_edges_by_density(network)
    classes, inverse = _road_classes(network)
    urban_kmh = np.empty(len(classes))
    rural_kmh = np.empty(len(classes))
    for i, cls in enumerate(classes):
        key = str(cls) if str(cls) in DEFAULT_SPEEDS_KMH else FALLBACK_CLASS
        u_def, r_def = DEFAULT_SPEEDS_KMH[key]
        both = overrides.get(str(cls), overrides.get(key))
        urban_kmh[i] = overrides.get(f"urban:{cls}", both if both is not None else u_def)
        rural_kmh[i] = overrides.get(f"rural:{cls}", both if both is not None else r_def)
    speed = np.where(urban, urban_kmh[inverse], rural_kmh[inverse])
    capped = np.fmin(speed, network.maxspeed_kmh)  # fmin ignores NaN (untagged)
    return np.asarray(capped, dtype=np.float64)


def _road_classes(network: RoadNetwork) -> tuple[npt.NDArray[np.str_], IntArray]:
    cached = _CLASS_CACHE.get(network)
    if cached is None:
        classes, inverse = np.unique(network.highway, return_inverse=True)
        cached = (classes, inverse.astype(np.int64))
        _CLASS_CACHE[network] = cached
    return cached


def urban_edges_by_density(
    network: RoadNetwork, *, threshold_km_per_km2: float = URBAN_ROAD_DENSITY_KM_PER_KM2
) -> npt.NDArray[np.bool_]:
    """Mark edges urban where the road density of their 1 km grid cell is high.

    A fallback when no urban areas are known (planning assumption: at least
    ``threshold_km_per_km2`` km of directed drivable road per km² means built-up streets;
    counting length, not nodes, makes the test independent of graph simplification).
    """
    per_net = _DENSITY_CACHE.setdefault(network, {})
    if threshold_km_per_km2 in per_net:
        return per_net[threshold_km_per_km2]
    if network.n_edges == 0:
        return np.zeros(0, dtype=bool)
    mid_lon = (network.lon[network.edge_u] + network.lon[network.edge_v]) / 2
    mid_lat = (network.lat[network.edge_u] + network.lat[network.edge_v]) / 2
    lat0 = float(np.mean(mid_lat))
    x = np.radians(mid_lon) * EARTH_RADIUS_M * math.cos(math.radians(lat0)) / 1000.0
    y = np.radians(mid_lat) * EARTH_RADIUS_M / 1000.0
    cell = np.floor(x).astype(np.int64) * 10_000_019 + np.floor(y).astype(np.int64)
    _, inv = np.unique(cell, return_inverse=True)
    km = np.bincount(inv, weights=network.length_m / 1000.0)
    urban = np.asarray(km[inv] >= threshold_km_per_km2)
    urban.flags.writeable = False
    per_net[threshold_km_per_km2] = urban
    return urban


def urban_edges_from_areas(
    network: RoadNetwork, urban_areas: gpd.GeoDataFrame | gpd.GeoSeries
) -> npt.NDArray[np.bool_]:
    """Mark edges whose midpoint lies inside ``urban_areas`` (polygons, WGS-84)."""
    require_wgs84(urban_areas, name=Msg("travel.layer_urban_areas"))
    geoms = (
        urban_areas.geometry.to_numpy()
        if isinstance(urban_areas, gpd.GeoDataFrame)
        else (urban_areas.to_numpy())
    )
    mid_lon = (network.lon[network.edge_u] + network.lon[network.edge_v]) / 2
    mid_lat = (network.lat[network.edge_u] + network.lat[network.edge_v]) / 2
    if len(geoms) == 0 or network.n_edges == 0:
        return np.zeros(network.n_edges, dtype=bool)
    area = shapely.union_all(geoms)
    shapely.prepare(area)
    return np.asarray(shapely.intersects_xy(area, mid_lon, mid_lat), dtype=bool)


def edge_minutes(
    network: RoadNetwork,
    *,
    settings: TravelSettings | None = None,
    urban: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Minutes to traverse each edge: ``length_m / speed`` (see :func:`edge_speeds_kmh`)."""
    speed = edge_speeds_kmh(network, settings=settings, urban=urban)
    minutes = network.length_m / (speed * 1000.0 / 60.0)
    # csgraph treats explicit zeros in a sparse matrix inconsistently: keep every edge > 0
    return np.maximum(minutes, 1e-9)


# --------------------------------------------------------------------------- graph helpers
def _csr(network: RoadNetwork, minutes: FloatArray, *, reverse: bool = False) -> sp.csr_matrix:
    """Sparse adjacency (parallel edges reduced to their minimum)."""
    u, v = (network.edge_v, network.edge_u) if reverse else (network.edge_u, network.edge_v)
    return _Graph(*_dedupe(u, v, minutes, network.n_nodes), network.n_nodes).csr()


@dataclass(frozen=True, eq=False)
class _Graph:
    """A weighted directed graph as edge arrays over nodes ``0..n-1`` (minutes)."""

    u: IntArray
    v: IntArray
    w: FloatArray
    n: int

    def csr(self, *, reverse: bool = False) -> sp.csr_matrix:
        u, v = (self.v, self.u) if reverse else (self.u, self.v)
        return sp.csr_matrix((self.w, (u, v)), shape=(self.n, self.n))


def _dedupe(
    u: IntArray, v: IntArray, w: FloatArray, n: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """Drop self-loops; keep the smallest weight of parallel edges; sort by (u, v)."""
    ok = u != v
    u, v, w = u[ok], v[ok], w[ok]
    key = u * n + v
    order = np.lexsort((w, key))
    key_sorted = key[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    keep = order[first]
    return u[keep], v[keep], w[keep]


@dataclass(frozen=True, eq=False)
class _Topology:
    """Weight-independent structure of a graph, computed once per network and reused."""

    order: IntArray  # positions of the non-loop edges, sorted by (u, v)
    starts: IntArray  # start of each group of parallel edges within ``order``
    u: IntArray  # one edge per group (sorted by (u, v))
    v: IntArray
    outdeg: IntArray
    indptr: IntArray
    passthrough: npt.NDArray[np.bool_]  # one way in/out, or two-way, to two distinct neighbours
    n: int


def _topology(u: IntArray, v: IntArray, n: int) -> _Topology:
    nonloop = np.flatnonzero(u != v)
    key = u[nonloop] * n + v[nonloop]
    srt = np.argsort(key, kind="stable")
    order = nonloop[srt]
    key_sorted = key[srt]
    first = np.ones(len(order), dtype=bool)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    starts = np.flatnonzero(first)
    uu, vv, kk = u[order[starts]], v[order[starts]], key_sorted[starts]
    n_e = len(uu)
    outdeg = np.bincount(uu, minlength=n)
    indeg = np.bincount(vv, minlength=n)
    indptr = np.concatenate([[0], np.cumsum(outdeg)])
    # distinct neighbours = out + in - reciprocal pairs (kk is sorted)
    rkey = vv * n + uu
    pos = np.minimum(np.searchsorted(kk, rkey), max(n_e - 1, 0))
    mutual = kk[pos] == rkey if n_e else np.zeros(0, dtype=bool)
    nbrs = outdeg + indeg - np.bincount(uu[mutual], minlength=n)
    one_way = (indeg == 1) & (outdeg == 1) & (nbrs == 2)
    two_way = (indeg == 2) & (outdeg == 2) & (nbrs == 2)
    return _Topology(order, starts, uu, vv, outdeg, indptr, one_way | two_way, n)


def _network_topology(network: RoadNetwork) -> _Topology:
    topo = _TOPOLOGY_CACHE.get(network)
    if topo is None:
        topo = _topology(network.edge_u, network.edge_v, network.n_nodes)
        _TOPOLOGY_CACHE[network] = topo
    return topo


def contract_graph(
    u: IntArray,
    v: IntArray,
    w: FloatArray,
    n: int,
    *,
    keep: npt.NDArray[np.bool_],
    topology: _Topology | None = None,
) -> tuple[_Graph, IntArray]:
    """Remove pass-through nodes (degree-2 chains), keeping shortest paths between the others.

    A node is removed when it is not in ``keep`` and it only passes traffic through: one way
    in and one way out to two different neighbours, or two-way to exactly two neighbours.
    Every chain of such nodes becomes one edge with the summed weight, so shortest-path
    distances between the remaining nodes are unchanged (weights are positive, so a shortest
    path never turns back inside a chain). Unsimplified OSM graphs (pyrosm) lose ~80-90 % of
    their nodes. Chains that form a closed loop without any remaining node are dropped.
    Parallel edges keep their smallest weight; self-loops are dropped.

    Returns
    -------
    graph, new_index
        The contracted graph and, for every old node, its new position (``-1`` if removed).
    """
    topo = topology if topology is not None else _topology(u, v, n)
    u, v, outdeg, indptr = topo.u, topo.v, topo.outdeg, topo.indptr
    n_e = len(u)
    w = np.minimum.reduceat(w[topo.order], topo.starts) if n_e else np.zeros(0)
    removable = topo.passthrough & ~keep
    # successor edge of every edge entering a removable node: continue away from the tail
    succ = np.full(n_e, -1, dtype=np.int64)
    enter = np.flatnonzero(removable[v])
    x = v[enter]
    nxt_edge = indptr[x]
    turn_back = (outdeg[x] == 2) & (v[nxt_edge] == u[enter])
    succ[enter] = nxt_edge + turn_back
    # pointer jumping (list ranking): sum weights to the end of each chain in O(log length)
    acc = w.copy()
    last = np.arange(n_e)
    nxt = succ
    for _ in range(64):
        idx = np.flatnonzero(nxt >= 0)
        if idx.size == 0:
            break
        j = nxt[idx]
        acc[idx] += acc[j]
        last[idx] = last[j]
        nxt[idx] = nxt[j]
    start = ~removable[u] & (nxt < 0)
    n_kept = int((~removable).sum())
    new_index = np.cumsum(~removable) - 1
    new_index[removable] = -1
    su = new_index[u[start]]
    sv = new_index[v[last[start]]]
    cu, cv, cw = _dedupe(su, sv, acc[start], n_kept)
    return _Graph(cu, cv, cw, n_kept), new_index.astype(np.int64)


def largest_component_mask(network: RoadNetwork) -> npt.NDArray[np.bool_]:
    """Nodes of the largest strongly connected component (the ones points snap to)."""
    cached = _LSCC_CACHE.get(network)
    if cached is not None:
        return cached
    if network.n_nodes == 0:
        return np.zeros(0, dtype=bool)
    ones = np.ones(network.n_edges, dtype=np.float64)
    _, labels = connected_components(_csr(network, ones), directed=True, connection="strong")
    biggest = np.bincount(labels).argmax()
    mask = np.asarray(labels == biggest)
    mask.flags.writeable = False
    _LSCC_CACHE[network] = mask
    return mask


# Derived, read-only data per network object (networks are immutable; entries die with them)
_LSCC_CACHE: weakref.WeakKeyDictionary[RoadNetwork, npt.NDArray[np.bool_]] = (
    weakref.WeakKeyDictionary()
)


_CLASS_CACHE: weakref.WeakKeyDictionary[RoadNetwork, tuple[npt.NDArray[np.str_], IntArray]] = (
    weakref.WeakKeyDictionary()
)


_DENSITY_CACHE: weakref.WeakKeyDictionary[RoadNetwork, dict[float, npt.NDArray[np.bool_]]] = (
    weakref.WeakKeyDictionary()
)


_TOPOLOGY_CACHE: weakref.WeakKeyDictionary[RoadNetwork, _Topology] = weakref.WeakKeyDictionary()


_TREE_CACHE: weakref.WeakKeyDictionary[RoadNetwork, tuple[bytes, cKDTree]] = (
    weakref.WeakKeyDictionary()
)


def _unit_xyz(lon: FloatArray, lat: FloatArray) -> FloatArray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


@dataclass(frozen=True)
class Snapped:
    """Result of :func:`snap_points`: node positions (-1 = unsnapped) and distances (m)."""

    node: IntArray
    distance_m: FloatArray


def snap_points(
    network: RoadNetwork,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    max_snap_m: float,
    mask: npt.NDArray[np.bool_] | None = None,
) -> Snapped:
    """Snap WGS-84 points to the nearest network node (great-circle distance).

    Parameters
    ----------
    network
        The road network.
    lon, lat
        WGS-84 degrees.
    max_snap_m
        Points farther than this from every allowed node get ``node == -1``.
    mask
        Allowed nodes (default: the largest strongly connected component).

    Returns
    -------
    Snapped
        ``node`` (position into the node arrays, or -1) and ``distance_m`` to the nearest
        allowed node (also for unsnapped points, for reporting).
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if mask is None:
        mask = largest_component_mask(network)
    allowed = np.flatnonzero(mask)
    if len(lon_a) == 0:
        return Snapped(np.zeros(0, dtype=np.int64), np.zeros(0))
    if len(allowed) == 0:
        return Snapped(np.full(len(lon_a), -1, dtype=np.int64), np.full(len(lon_a), np.inf))
    mask_key = hashlib.sha1(np.packbits(mask).tobytes(), usedforsecurity=False).digest()
    hit = _TREE_CACHE.get(network)
    if hit is not None and hit[0] == mask_key:
        tree = hit[1]
    else:
        tree = cKDTree(_unit_xyz(network.lon[allowed], network.lat[allowed]))
        _TREE_CACHE[network] = (mask_key, tree)
    chord, pos = tree.query(_unit_xyz(lon_a, lat_a), k=1)
    dist_m = 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2, 0.0, 1.0))
    node = allowed[np.asarray(pos, dtype=np.int64)]
    node = np.where(dist_m <= max_snap_m, node, -1)
    return Snapped(node.astype(np.int64), dist_m.astype(np.float64))


# --------------------------------------------------------------------------- routing
def _chunk_size(n_nodes: int, *, budget_floats: int = 2_000_000) -> int:
    """Return the number of sources per Dijkstra call.

    The dense (sources x nodes) result stays ~16 MB, below glibc's largest mmap threshold, so
    its memory is reused without page faults; at least 8 sources per call (call overhead).
    """
    return max(8, min(256, budget_floats // max(n_nodes, 1)))


def _role_counts(counts: Mapping[Hashable, int]) -> Msg:
    """``{'demand': 3, 'site': 1}`` in English, ``需求点 3 个，站点 1 个`` in Chinese."""
    items = []
    for role, n in counts.items():
        if role == "demand":
            items.append(Msg("travel.role_demand", n=n))
        elif role == "site":
            items.append(Msg("travel.role_site", n=n))
        elif role == "hospital":
            items.append(Msg("travel.role_hospital", n=n))
        else:
            items.append(Msg("travel.role_other", role=role, n=n))
    return Msg("travel.role_counts", items=Joined(items, sep="common.comma_sep"))


def compute_network_travel_times(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    network: RoadNetwork,
    settings: TravelSettings | None = None,
    cutoff_min: float | None = None,
    hospitals: gpd.GeoDataFrame | None = None,
    urban_areas: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    progress: Progress | None = None,
) -> TravelTimes:
    """Road travel minutes from every demand point to every site, within the cut-off.

    Parameters
    ----------
    demand
        Demand points or cells (representative point used), index ``demand_id``, WGS-84.
    sites
        Sites, index ``site_id``, WGS-84.
    network
        From :func:`load_osm_file` or :func:`download_road_network`.
    settings
        Speeds, ``access_speed_kmh`` and ``max_snap_m``.
    cutoff_min
        Keep pairs with ``travel_min <= cutoff_min``; ``None`` keeps every reachable pair.
    hospitals
        Psychiatric hospitals (WGS-84 points, any index). When given, ``referral_min`` holds
        each site's minutes to the nearest one (``NaN`` if unreachable or unsnapped).
    urban_areas
        Polygons where urban speeds apply; ``None`` uses road density
        (:func:`urban_edges_by_density`).

    Returns
    -------
    TravelTimes
        ``mode="network"``; ``travel_min`` = walk to the demand point's node + drive +
        walk from the site's node to the site. Points farther than ``max_snap_m`` from the
        routable network are listed in ``unsnapped`` (roles ``demand`` / ``site`` /
        ``hospital``) and a ``UserWarning`` names how many.

    Raises
    ------
    DataError
        A layer is not in WGS-84, or ids repeat.

    Notes
    -----
    Pass-through nodes no point snapped to are first contracted away (exact,
    :func:`contract_graph`). Dijkstra then runs from each unique site node on the *reversed*
    graph with ``limit`` equal to
    the cut-off (minus the smallest site access leg), a chunk of sources at a time; only the
    demand nodes' columns are read and only pairs within the cut-off are stored, so memory is
    ``O(chunk x n_nodes + pairs kept)``, never ``n_demand x n_sites``.
    """
    settings = settings or TravelSettings()
    t0 = time.perf_counter()
    require_unique_index(demand, name=Msg("travel.layer_demand"))
    require_unique_index(sites, name=Msg("travel.layer_sites"))
    cutoff = math.inf if cutoff_min is None else float(cutoff_min)
    d_lon, d_lat = lonlat(demand, name=Msg("travel.layer_demand"))
    s_lon, s_lat = lonlat(sites, name=Msg("travel.layer_sites"))
    if urban_areas is not None:
        urban = urban_edges_from_areas(network, urban_areas)
    else:
        urban = urban_edges_by_density(network)
    minutes = edge_minutes(network, settings=settings, urban=urban)
    mask = largest_component_mask(network)
    walk_min_per_m = 60.0 / (settings.access_speed_kmh * 1000.0)
    snap_d = snap_points(network, d_lon, d_lat, max_snap_m=settings.max_snap_m, mask=mask)
    snap_s = snap_points(network, s_lon, s_lat, max_snap_m=settings.max_snap_m, mask=mask)
    unsnapped = [
        _unsnapped_rows(demand.index, snap_d, "demand"),
        _unsnapped_rows(sites.index, snap_s, "site"),
    ]
    if progress is not None:
        progress(0.05, MsgStr("progress.snapping"))

    snap_h: Snapped | None = None
    if hospitals is not None:
        h_lon, h_lat = lonlat(hospitals, name=Msg("travel.layer_hospitals"))
        snap_h = snap_points(network, h_lon, h_lat, max_snap_m=settings.max_snap_m, mask=mask)
        unsnapped.append(_unsnapped_rows(hospitals.index, snap_h, "hospital"))
    # route on the graph without pass-through nodes (exact; every snapped node is kept)
    keep = np.zeros(network.n_nodes, dtype=bool)
    for snap in (snap_d, snap_s, snap_h):
        if snap is not None:
            keep[snap.node[snap.node >= 0]] = True
    graph, new_index = contract_graph(
        network.edge_u,
        network.edge_v,
        minutes,
        network.n_nodes,
        keep=keep,
        topology=_network_topology(network),
    )
    snap_d, snap_s = _remap(snap_d, new_index), _remap(snap_s, new_index)
    table = _route_table(
        graph,
        snap_d,
        snap_s,
        demand_index=demand.index,
        site_index=sites.index,
        demand_lonlat=(d_lon, d_lat),
        site_lonlat=(s_lon, s_lat),
        walk_min_per_m=walk_min_per_m,
        cutoff=cutoff,
        progress=progress,
    )
    n_src = len(np.unique(snap_s.node[snap_s.node >= 0]))

    referral: pd.Series | None = None
    if hospitals is not None and snap_h is not None:
        referral = _referral_minutes(
            graph,
            snap_s,
            _remap(snap_h, new_index),
            walk_min_per_m=walk_min_per_m,
            index=sites.index,
            site_lonlat=(s_lon, s_lat),
            hospital_lonlat=(h_lon, h_lat),
        )
    unsnapped_df = (
        pd.concat([u for u in unsnapped if len(u)], ignore_index=True)
        if any(len(u) for u in unsnapped)
        else pd.DataFrame(columns=["point_id", "role", "distance_m"])
    )
    if len(unsnapped_df):
        counts = unsnapped_df["role"].value_counts().to_dict()
        warning = PlanningWarning(
            "travel.points_unsnapped",
            n=len(unsnapped_df),
            max_snap_m=settings.max_snap_m,
            counts=_role_counts(counts),
        )
        warnings.warn(warning, stacklevel=2)
    if progress is not None:
        progress(1.0, MsgStr("progress.road_travel_times_done"))
    logger.info(
        "Network travel: %d demand x %d sites (%d source nodes) -> %d pairs within %.0f min "
        "on %d nodes / %d edges (%d nodes after contraction) in %.2f s",
        len(demand),
        len(sites),
        n_src,
        len(table),
        cutoff,
        network.n_nodes,
        network.n_edges,
        graph.n,
        time.perf_counter() - t0,
    )
    return TravelTimes(
        table=table,
        cutoff_min=cutoff,
        mode="network",
        label=network.label,
        data_date=network.data_date,
        referral_min=referral,
        unsnapped=unsnapped_df,
    )


def _remap(snap: Snapped, new_index: IntArray) -> Snapped:
    node = np.where(snap.node >= 0, new_index[np.maximum(snap.node, 0)], -1)
    return Snapped(node.astype(np.int64), snap.distance_m)


def _route_table(
    graph: _Graph,
    snap_d: Snapped,
    snap_s: Snapped,
    *,
    demand_index: pd.Index,
    site_index: pd.Index,
    demand_lonlat: tuple[FloatArray, FloatArray],
    site_lonlat: tuple[FloatArray, FloatArray],
    walk_min_per_m: float,
    cutoff: float,
    progress: Progress | None,
) -> pd.DataFrame:
    """Chunked Dijkstra from unique site nodes on the reversed graph; pairs <= cutoff only."""
    d_lon, d_lat = demand_lonlat
    s_lon, s_lat = site_lonlat
    rev = graph.csr(reverse=True)
    d_ok = np.flatnonzero(snap_d.node >= 0)
    d_node = snap_d.node[d_ok]
    d_access = snap_d.distance_m[d_ok] * walk_min_per_m
    d_ids = demand_index[d_ok]
    s_ok = np.flatnonzero(snap_s.node >= 0)
    s_access_all = snap_s.distance_m * walk_min_per_m
    uniq_nodes, site_to_uniq = np.unique(snap_s.node[s_ok], return_inverse=True)
    # sites sharing a node are processed together: group site positions by unique node
    order = np.argsort(site_to_uniq, kind="stable")
    starts = np.searchsorted(site_to_uniq[order], np.arange(len(uniq_nodes) + 1))
    chunk = _chunk_size(graph.n)
    hit_d: list[IntArray] = []
    hit_s: list[IntArray] = []
    hit_t: list[FloatArray] = []
    n_src = len(uniq_nodes)
    for c0 in range(0, n_src, chunk):
        c1 = min(c0 + chunk, n_src)
        members = [s_ok[order[starts[j] : starts[j + 1]]] for j in range(c0, c1)]
        min_access = min(float(s_access_all[m].min()) for m in members)
        limit = cutoff - min_access if math.isfinite(cutoff) else np.inf
        if limit < 0:
            continue
        dist = dijkstra(rev, directed=True, indices=uniq_nodes[c0:c1], limit=limit)
        sub = dist[:, d_node] + d_access[None, :]  # (chunk, n_demand): to the site's node
        for k, m in enumerate(members):
            row = sub[k]
            same = np.flatnonzero(d_node == uniq_nodes[c0 + k])
            for s in m:
                total = row + s_access_all[s]
                if same.size:  # same node: walking straight across may be quicker
                    direct = haversine_m(d_lon[d_ok[same]], d_lat[d_ok[same]], s_lon[s], s_lat[s])
                    total[same] = np.minimum(total[same], direct * walk_min_per_m)
                hit = np.flatnonzero(total <= cutoff)
                if hit.size:
                    hit_d.append(hit)
                    hit_s.append(np.full(hit.size, s, dtype=np.int64))
                    hit_t.append(total[hit])
        if progress is not None:
            progress(0.05 + 0.85 * c1 / n_src, MsgStr("progress.routing"))
    d_pos = np.concatenate(hit_d) if hit_d else np.zeros(0, dtype=np.int64)
    s_pos = np.concatenate(hit_s) if hit_s else np.zeros(0, dtype=np.int64)
    return pd.DataFrame(
        {
            "demand_id": d_ids.take(d_pos).array,  # Index.take keeps the id dtype, fast
            "site_id": site_index.take(s_pos).array,
            "travel_min": np.concatenate(hit_t) if hit_t else np.zeros(0),
        }
    )


def _referral_minutes(
    graph: _Graph,
    snap_s: Snapped,
    snap_h: Snapped,
    *,
    walk_min_per_m: float,
    index: pd.Index,
    site_lonlat: tuple[FloatArray, FloatArray],
    hospital_lonlat: tuple[FloatArray, FloatArray],
) -> pd.Series:
    """Site -> nearest hospital minutes via one Dijkstra from a virtual hospital source."""
    s_lon, s_lat = site_lonlat
    h_lon, h_lat = hospital_lonlat
    h_ok = snap_h.node >= 0
    out = np.full(len(snap_s.node), np.nan)
    if h_ok.any():
        n = graph.n
        # reversed graph plus a virtual node n with edges n -> hospital node (its access leg)
        h_nodes = snap_h.node[h_ok]
        h_access = snap_h.distance_m[h_ok] * walk_min_per_m + 1e-9
        u = np.concatenate([graph.v, np.full(len(h_nodes), n)])
        v = np.concatenate([graph.u, h_nodes])
        w = np.concatenate([graph.w, h_access])
        aug = _Graph(*_dedupe(u, v, w, n + 1), n + 1)
        dist = dijkstra(aug.csr(), directed=True, indices=n)
        ok = snap_s.node >= 0
        out[ok] = dist[snap_s.node[ok]] + snap_s.distance_m[ok] * walk_min_per_m
        # a hospital at the same node: walking straight across may be quicker
        h_pos = np.flatnonzero(h_ok)
        for s in np.flatnonzero(ok & np.isin(snap_s.node, h_nodes)):
            at = h_pos[snap_h.node[h_pos] == snap_s.node[s]]
            direct = haversine_m(s_lon[s], s_lat[s], h_lon[at], h_lat[at]) * walk_min_per_m
            out[s] = min(out[s], float(direct.min()))
        out[~np.isfinite(out)] = np.nan
    return pd.Series(out, index=index.copy(), name="referral_min", dtype=np.float64)


def _unsnapped_rows(index: pd.Index, snapped: Snapped, role: str) -> pd.DataFrame:
    bad = np.flatnonzero(snapped.node < 0)
    return pd.DataFrame(
        {
            "point_id": index.to_numpy()[bad].astype(str),
            "role": np.repeat(role, bad.size),
            "distance_m": snapped.distance_m[bad],
        }
    )


def haversine_lower_bound_min(
    lon1: npt.ArrayLike,
    lat1: npt.ArrayLike,
    lon2: npt.ArrayLike,
    lat2: npt.ArrayLike,
    *,
    top_speed_kmh: float,
) -> FloatArray:
    """Minutes a trip cannot beat: great-circle distance at ``top_speed_kmh``."""
    return haversine_m(lon1, lat1, lon2, lat2) / (top_speed_kmh * 1000.0 / 60.0)
