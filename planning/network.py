"""Road-network travel times from OpenStreetMap: load, speed, snap, route.

Steps (each a public function, composed by :func:`compute_network_travel_times`):

1. **Road data** -> :class:`RoadNetwork` (plain NumPy arrays, WGS-84):
   :func:`download_road_network` (osmnx / Overpass, cached on disk in
   ``planning.settings.cache_dir() / "roads"``, keyed by region polygon + network type, so a
   second run works offline and gives identical times) or :func:`load_osm_file`
   (``.osm.pbf`` via pyrosm, ``.osm`` / ``.osm.xml`` via ``osmnx.graph_from_xml``).
2. **Speeds** -> :func:`edge_speeds_kmh`: per road class, urban and rural defaults
   (:data:`DEFAULT_SPEEDS_KMH`, sources below), scenario overrides
   (``TravelSettings.road_speeds_kmh``), capped by a tagged ``maxspeed``.
3. **Snapping** -> :func:`snap_points`: every point snaps to the nearest node of the largest
   strongly connected component (so every snapped point can reach every other one); the access
   leg from the point to that node is walked at ``access_speed_kmh``; points farther than
   ``max_snap_m`` are *reported* (``TravelTimes.unsnapped`` and a ``UserWarning``), never
   silently dropped. Points snap to *nodes*, not edges: every way node is kept (pyrosm,
   unsimplified XML and downloads), so nodes lie every few dozen metres along a road and the
   access leg is close to the distance to the road. A shortest path between two nodes of a
   strongly connected component never leaves it, so the pieces not snapped to cannot distort
   the times.
4. **Routing** -> :func:`compute_network_travel_times`: pass-through nodes (degree-2 chains)
   that no point snapped to are contracted away exactly (:func:`contract_graph`), then
   ``scipy.sparse.csgraph.dijkstra`` with ``limit=cutoff`` runs from the unique snapped *site*
   nodes on the reversed graph (so the times are demand -> site on one-way streets), in chunks;
   only pairs within the cut-off are kept.
   Referral times (site -> nearest psychiatric hospital) come from one extra Dijkstra run from
   a virtual source joined to every hospital node.

All coordinates must be WGS-84 longitude/latitude (EPSG:4326). Facility tables in GCJ-02 (AMap)
or BD-09 (Baidu) must be converted first (``planning.coords.to_wgs84``; the upload readers do
this at load time); a layer in another CRS raises :class:`~planning.errors.DataError`.

Speed defaults
--------------
Rural speeds follow the design speeds of China's highway classes, *Technical Standard of
Highway Engineering* JTG B01-2014 (高速公路 120/100/80 km/h; 一级公路 100/80/60; 二级公路
80/60; 三级公路 40/30; 四级公路 30/20), mapped to OSM classes as in the OSM China tagging
guideline (motorway = 高速公路, trunk = 国道/一级, primary = 省道/二级, secondary = 县道,
tertiary = 乡道, unclassified = 村道). Urban speeds follow *Code for Design of Urban Road
Engineering* CJJ 37-2012 (快速路 100/80/60; 主干路 60/50/40; 次干路 50/40/30; 支路 40/30/20),
with motorway/trunk = 快速路, primary = 主干路, secondary = 次干路, tertiary and smaller = 支路.
The values used are *planning assumptions* for average door-to-door running speed, not the
design speeds themselves: we take the lower design speed of the class (rural) or a value
below it for signals and congestion (urban), as listed in :data:`DEFAULT_SPEEDS_KMH`. Links
(ramps), residential, service and living streets have no design-speed class in these
standards; their values are planning assumptions too. Walking is 4.5 km/h
(``TravelSettings.access_speed_kmh``), a common planning value for adults (about 1.25 m/s).
Edit them for your area with ``TravelSettings.road_speeds_kmh``.

Data date
---------
``RoadNetwork.data_date``: for a download, the UTC date of the download (kept in the cache, so
cached reruns show the same label); for a ``.osm.pbf`` file, the header's
``osmosis_replication_timestamp`` when present, else the newest edit timestamp among the road
ways read, else the file's modification time; for ``.osm`` XML, the ``<meta osm_base>`` or
``<osm timestamp>`` header, else the newest ``timestamp`` attribute of a way, else the file's
modification time. ``RoadNetwork.data_date_source`` says which one was used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import math
import re
import socket
import struct
import time
import urllib.request
import warnings
import weakref
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely
from defusedxml.ElementTree import ParseError, iterparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from planning import settings as env_settings
from planning._validate import require_unique_index
from planning.coords import haversine_m
from planning.errors import DataError, NetworkError
from planning.scenario import TravelSettings

if TYPE_CHECKING:
    import networkx as nx
    from shapely.geometry.base import BaseGeometry

    from planning.travel import TravelTimes

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
NetworkType = Literal["drive", "walk"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EARTH_RADIUS_M = 6_371_008.8
CACHE_VERSION = 1
REGION_BUFFER_M = 5000.0
"""Roads this far outside the planning region are downloaded too (trips cross borders)."""

#: (urban, rural) km/h per OSM ``highway`` class; see the module docstring for sources.
DEFAULT_SPEEDS_KMH: dict[str, tuple[float, float]] = {
    "motorway": (60.0, 100.0),  # 快速路 (CJJ 37: 60-100) / 高速公路 (JTG B01: 80-120)
    "trunk": (50.0, 80.0),  # 快速路 / 一级公路 (60-100)
    "primary": (40.0, 60.0),  # 主干路 (40-60) / 二级公路 (60-80)
    "secondary": (30.0, 50.0),  # 次干路 (30-50) / 二-三级公路 (40-60)
    "tertiary": (25.0, 40.0),  # 支路 (20-40) / 三级公路 (30-40)
    "unclassified": (20.0, 30.0),  # 支路 / 四级公路 (20-30)
    "residential": (20.0, 25.0),  # planning assumption
    "living_street": (10.0, 10.0),  # planning assumption
    "service": (10.0, 15.0),  # planning assumption
    "track": (10.0, 15.0),  # planning assumption
    "road": (20.0, 30.0),  # unknown class: as unclassified
    "motorway_link": (40.0, 60.0),  # ramps: planning assumption
    "trunk_link": (30.0, 50.0),
    "primary_link": (30.0, 40.0),
    "secondary_link": (25.0, 35.0),
    "tertiary_link": (20.0, 30.0),
}
FALLBACK_CLASS = "road"

_DRIVE_EXCLUDED = frozenset(
    {
        "abandoned",
        "bridleway",
        "bus_guideway",
        "construction",
        "corridor",
        "cycleway",
        "elevator",
        "escalator",
        "footway",
        "no",
        "path",
        "pedestrian",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "rest_area",
        "service",
        "services",
        "steps",
        "track",
    }
)
_WALK_EXCLUDED = frozenset(
    {
        "abandoned",
        "bus_guideway",
        "construction",
        "cycleway",
        "motor",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "rest_area",
        "services",
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
    }
)
_NO_ACCESS = frozenset({"no", "private"})
_XML_FILTER_TAGS = ("access", "area", "foot", "motor_vehicle", "motorcar")
"""Way tags :func:`from_networkx` reads to drop unusable ways (osmnx keeps only some by default)."""
_MPH = 1.609344
URBAN_ROAD_DENSITY_KM_PER_KM2 = 10.0
"""Fallback urban test when no urban areas are given: km of directed road per km² (1 km grid)."""


# --------------------------------------------------------------------------- the network
@dataclass(frozen=True, kw_only=True, eq=False)
class RoadNetwork:
    """A directed road graph as plain arrays (WGS-84), ready for :mod:`scipy.sparse.csgraph`.

    Attributes
    ----------
    node_id
        OSM node ids, shape ``(n_nodes,)``.
    lon, lat
        Node coordinates, WGS-84 degrees.
    edge_u, edge_v
        Directed edges as positions into the node arrays (a two-way street appears twice).
    length_m
        Edge length in metres.
    highway
        OSM ``highway`` class of each edge (first value when osmnx merged several).
    maxspeed_kmh
        Tagged ``maxspeed`` in km/h, ``NaN`` when untagged or unparsable.
    network_type
        ``"drive"`` or ``"walk"``.
    source
        Where the data came from (file path or ``"OpenStreetMap download"``).
    data_date
        ISO date of the data (see the module docstring), or ``None``.
    data_date_source
        How ``data_date`` was obtained, e.g. ``"download date"``.
    """

    node_id: IntArray
    lon: FloatArray
    lat: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    length_m: FloatArray
    highway: npt.NDArray[np.str_]
    maxspeed_kmh: FloatArray
    network_type: NetworkType
    source: str
    data_date: str | None = None
    data_date_source: str = "unknown"

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_id.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.edge_u.shape[0])

    @property
    def label(self) -> str:
        """Travel label shown with every result, e.g. ``road network (OpenStreetMap, data ...)``."""
        kind = "road network" if self.network_type == "drive" else "walking network"
        date = f", data {self.data_date}" if self.data_date else ""
        return f"{kind} (OpenStreetMap{date})"

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the network to ``path`` (compressed ``.npz``, no pickles) and return it."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "version": CACHE_VERSION,
            "network_type": self.network_type,
            "source": self.source,
            "data_date": self.data_date,
            "data_date_source": self.data_date_source,
        }
        tmp = p.with_name(p.name + ".part")
        with tmp.open("wb") as fh:
            np.savez_compressed(
                fh,
                node_id=self.node_id,
                lon=self.lon,
                lat=self.lat,
                edge_u=self.edge_u,
                edge_v=self.edge_v,
                length_m=self.length_m,
                highway=self.highway.astype(np.str_),
                maxspeed_kmh=self.maxspeed_kmh,
                meta=np.array(json.dumps(meta)),
            )
        tmp.replace(p)
        return p

    @classmethod
    def load(cls, path: str | Path) -> RoadNetwork:
        """Read a network written by :meth:`save`; raise ``NetworkError`` if unreadable."""
        p = Path(path)
        try:
            with np.load(p, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("version") != CACHE_VERSION:
                    msg = f"cache format {meta.get('version')} != {CACHE_VERSION}"
                    raise ValueError(msg)  # noqa: TRY301 - converted below
                return cls(
                    node_id=z["node_id"].astype(np.int64),
                    lon=z["lon"].astype(np.float64),
                    lat=z["lat"].astype(np.float64),
                    edge_u=z["edge_u"].astype(np.int64),
                    edge_v=z["edge_v"].astype(np.int64),
                    length_m=z["length_m"].astype(np.float64),
                    highway=z["highway"].astype(np.str_),
                    maxspeed_kmh=z["maxspeed_kmh"].astype(np.float64),
                    network_type=meta["network_type"],
                    source=meta["source"],
                    data_date=meta["data_date"],
                    data_date_source=meta["data_date_source"],
                )
        except (OSError, ValueError, KeyError, zlib.error) as err:
            msg = (
                f"Cannot read cached road network {str(p)!r}: {err}. Delete the file; it is "
                "rebuilt on the next run (needs internet or --osm-file)."
            )
            raise NetworkError(msg) from None

    def to_networkx(self, minutes: FloatArray | None = None) -> nx.DiGraph:
        """Return a ``networkx.DiGraph`` keyed by node position (weights ``minutes`` or metres).

        For cross-checks and benchmarks; parallel edges keep the smallest weight.
        """
        import networkx as nx  # noqa: PLC0415 - optional, heavy

        w = self.length_m if minutes is None else minutes
        g: nx.DiGraph = nx.DiGraph()
        g.add_nodes_from(range(self.n_nodes))
        order = np.argsort(-w, kind="stable")  # later (smaller) weights overwrite larger ones
        g.add_weighted_edges_from(
            zip(
                self.edge_u[order].tolist(),
                self.edge_v[order].tolist(),
                w[order].tolist(),
                strict=True,
            )
        )
        return g


# --------------------------------------------------------------------------- maxspeed
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def parse_maxspeed(value: object) -> float:
    """Parse an OSM ``maxspeed`` value to km/h; ``NaN`` when absent or not a number.

    Handles ``"50"``, ``"50 km/h"``, ``"30 mph"``, lists (``"50;60"``, ``["50", "60"]``:
    the lowest, i.e. the binding limit) and ignores symbolic values such as ``"CN:urban"``,
    ``"none"``, ``"walk"`` or ``"signals"``.

    Examples
    --------
    >>> parse_maxspeed("30 mph")
    48.28032
    >>> parse_maxspeed("50;60")
    50.0
    >>> import math; math.isnan(parse_maxspeed("CN:urban"))
    True
    """
    if value is None:
        return math.nan
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        return v if v > 0 and math.isfinite(v) else math.nan
    if isinstance(value, list | tuple | np.ndarray):
        parsed = [parse_maxspeed(v) for v in value]
        finite = [p for p in parsed if not math.isnan(p)]
        return min(finite) if finite else math.nan
    text = str(value).strip().lower()
    if ";" in text or "|" in text:
        return parse_maxspeed(re.split(r"[;|]", text))
    m = _NUMBER.match(text)
    if not m:
        return math.nan
    v = float(m.group(1))
    if "mph" in text:
        v *= _MPH
    elif "knot" in text:
        v *= 1.852
    return v if v > 0 else math.nan


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
    _require_wgs84(urban_areas, name="urban areas")
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
    from planning.travel import TravelTimes  # noqa: PLC0415 - travel imports this module

    settings = settings or TravelSettings()
    t0 = time.perf_counter()
    require_unique_index(demand, name="demand")
    require_unique_index(sites, name="sites")
    cutoff = math.inf if cutoff_min is None else float(cutoff_min)
    d_lon, d_lat = _lonlat(demand, name="demand")
    s_lon, s_lat = _lonlat(sites, name="sites")
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
        progress(0.05, "snapping points to the road network")

    snap_h: Snapped | None = None
    if hospitals is not None:
        h_lon, h_lat = _lonlat(hospitals, name="hospitals")
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
        msg = (
            f"{len(unsnapped_df)} point(s) are farther than max_snap_m={settings.max_snap_m:g} m "
            f"from the routable road network ({counts}); they get no road travel times and are "
            "listed in TravelTimes.unsnapped. Check their coordinates (WGS-84?), use a road "
            "file that covers them, or raise travel.max_snap_m."
        )
        warnings.warn(msg, UserWarning, stacklevel=2)
    if progress is not None:
        progress(1.0, "road travel times done")
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
            progress(0.05 + 0.85 * c1 / n_src, "routing on the road network")
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


def _require_wgs84(frame: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str) -> None:
    if frame.crs is None or not frame.crs.equals("EPSG:4326"):
        msg = (
            f"{name} must be in WGS-84 (EPSG:4326) longitude/latitude (got {frame.crs}). "
            "Convert GCJ-02/BD-09 tables with planning.coords.to_wgs84 and reproject others "
            "with `gdf.to_crs('EPSG:4326')`."
        )
        raise DataError(msg)


def _lonlat(points: gpd.GeoDataFrame, *, name: str) -> tuple[FloatArray, FloatArray]:
    _require_wgs84(points, name=name)
    geom = points.geometry
    if len(geom) and not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return geom.x.to_numpy(dtype=np.float64), geom.y.to_numpy(dtype=np.float64)


# --------------------------------------------------------------------------- loading files
def load_osm_file(
    path: str | Path,
    *,
    network_type: NetworkType = "drive",
    region: BaseGeometry | None = None,
    progress: Progress | None = None,
) -> RoadNetwork:
    """Read a road network from a local OpenStreetMap file.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm; e.g. a provincial extract from Geofabrik) or
        ``.osm`` / ``.osm.xml`` (read with ``osmnx.graph_from_xml``).
    network_type
        ``"drive"`` or ``"walk"``.
    region
        Optional WGS-84 polygon: for ``.pbf`` only roads within its bounding box are read
        (saves memory on a large extract).

    Returns
    -------
    RoadNetwork
        With ``data_date`` from the file (see the module docstring).

    Raises
    ------
    NetworkError
        The file does not exist, cannot be parsed, or contains no roads of that type.
    """
    p = Path(path)
    if not p.is_file():
        msg = (
            f"OSM file {str(p)!r} does not exist. Give the path of an .osm.pbf or .osm file "
            "(e.g. a provincial extract from download.geofabrik.de/asia/china.html)."
        )
        raise NetworkError(msg)
    if progress is not None:
        progress(0.0, f"reading {p.name}")
    name = p.name.lower()
    if name.endswith(".pbf"):
        net = _load_pbf(p, network_type=network_type, region=region)
    elif name.endswith((".osm", ".xml", ".osm.xml")):
        net = _load_xml(p, network_type=network_type)
    else:
        msg = f"OSM file {p.name!r} has an unknown extension; use .osm.pbf, .osm or .osm.xml."
        raise NetworkError(msg)
    if net.n_edges == 0:
        msg = (
            f"OSM file {p.name!r} contains no {network_type} roads"
            + (" inside the planning region" if region is not None else "")
            + ". Use an extract that covers the region."
        )
        raise NetworkError(msg)
    if progress is not None:
        progress(1.0, f"read {net.n_nodes} nodes from {p.name}")
    logger.info("Read %s: %d nodes, %d edges (%s)", p.name, net.n_nodes, net.n_edges, net.label)
    return net


def _oneway_direction(oneway: pd.Series, highway: pd.Series, junction: pd.Series) -> IntArray:
    """+1 forward only, -1 backward only, 0 both ways (OSM conventions)."""
    ow = oneway.astype(object).where(oneway.notna(), "").astype(str).str.lower()
    fwd = ow.isin(["yes", "true", "1"]) | (
        (ow == "") & (highway.isin(["motorway"]) | junction.isin(["roundabout", "circular"]))
    )
    back = ow.isin(["-1", "reverse"])
    out = np.zeros(len(ow), dtype=np.int64)
    out[fwd.to_numpy()] = 1
    out[back.to_numpy()] = -1
    return out


def _load_pbf(p: Path, *, network_type: NetworkType, region: BaseGeometry | None) -> RoadNetwork:
    import pyrosm  # noqa: PLC0415 - heavy, optional path

    try:
        osm = pyrosm.OSM(str(p), bounding_box=region)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyrosm/pandas chatter, not ours
            nodes, edges = osm.get_network(
                network_type="driving" if network_type == "drive" else "walking", nodes=True
            )
    except Exception as err:  # pyrosm raises bare Exceptions / ValueErrors on bad files
        msg = f"Cannot read OSM file {p.name!r} with pyrosm: {err}. Is it a valid .osm.pbf?"
        raise NetworkError(msg) from err
    date, date_src = _pbf_date(p, edges)
    if edges is None or nodes is None or len(edges) == 0:
        return _empty_network(network_type, str(p), date, date_src)
    node_ids = nodes["id"].to_numpy(dtype=np.int64)
    pos = pd.Series(np.arange(len(node_ids)), index=node_ids)
    u = pos.reindex(edges["u"].to_numpy()).to_numpy()
    v = pos.reindex(edges["v"].to_numpy()).to_numpy()
    ok = ~(np.isnan(u) | np.isnan(v))
    edges = edges.loc[ok]
    u, v = u[ok].astype(np.int64), v[ok].astype(np.int64)
    highway = edges["highway"].astype(object).where(edges["highway"].notna(), FALLBACK_CLASS)
    length = edges["length"].to_numpy(dtype=np.float64)
    maxspeed = np.array([parse_maxspeed(x) for x in edges.get("maxspeed", [None] * len(edges))])
    if network_type == "drive":
        junction = edges["junction"] if "junction" in edges else pd.Series("", index=edges.index)
        oneway = edges["oneway"] if "oneway" in edges else pd.Series("", index=edges.index)
        direction = _oneway_direction(oneway, highway.astype(str), junction.astype(str))
    else:
        direction = np.zeros(len(edges), dtype=np.int64)
    fwd = direction >= 0
    back = direction <= 0
    hw = highway.astype(str).to_numpy().astype(np.str_)
    return RoadNetwork(
        node_id=node_ids,
        lon=nodes["lon"].to_numpy(dtype=np.float64),
        lat=nodes["lat"].to_numpy(dtype=np.float64),
        edge_u=np.concatenate([u[fwd], v[back]]),
        edge_v=np.concatenate([v[fwd], u[back]]),
        length_m=np.concatenate([length[fwd], length[back]]),
        highway=np.concatenate([hw[fwd], hw[back]]),
        maxspeed_kmh=np.concatenate([maxspeed[fwd], maxspeed[back]]),
        network_type=network_type,
        source=str(p),
        data_date=date,
        data_date_source=date_src,
    )


def _empty_network(
    network_type: NetworkType, source: str, date: str | None, date_src: str
) -> RoadNetwork:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return RoadNetwork(
        node_id=zi,
        lon=z,
        lat=z,
        edge_u=zi,
        edge_v=zi,
        length_m=z,
        highway=np.zeros(0, dtype="<U1"),
        maxspeed_kmh=z,
        network_type=network_type,
        source=source,
        data_date=date,
        data_date_source=date_src,
    )


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, i


def _protobuf_fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field_no, wire = key >> 3, key & 7
        if wire == 0:
            val, i = _varint(buf, i)
            yield field_no, val
        elif wire == 2:
            n, i = _varint(buf, i)
            yield field_no, buf[i : i + n]
            i += n
        elif wire == 1:
            yield field_no, buf[i : i + 8]
            i += 8
        elif wire == 5:
            yield field_no, buf[i : i + 4]
            i += 4
        else:
            return


def pbf_replication_timestamp(path: str | Path) -> int | None:
    """``osmosis_replication_timestamp`` (Unix seconds) from an ``.osm.pbf`` header, if any."""
    try:
        with Path(path).open("rb") as fh:
            (n,) = struct.unpack(">I", fh.read(4))
            header = dict(_protobuf_fields(fh.read(n)))
            size = header.get(3)
            if not isinstance(size, int):
                return None
            blob = dict(_protobuf_fields(fh.read(size)))
        raw = blob.get(1)
        zipped = blob.get(3)
        data = zlib.decompress(zipped) if isinstance(zipped, bytes) else raw
        if not isinstance(data, bytes):
            return None
        ts = dict(_protobuf_fields(data)).get(32)
        return ts if isinstance(ts, int) and ts > 0 else None
    except (OSError, struct.error, zlib.error, IndexError):
        return None


def _iso_utc(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date().isoformat()


def _pbf_date(p: Path, edges: pd.DataFrame | None) -> tuple[str, str]:
    ts = pbf_replication_timestamp(p)
    if ts is not None:
        return _iso_utc(ts), "pbf header osmosis_replication_timestamp"
    if edges is not None and "timestamp" in edges and len(edges):
        newest = pd.to_numeric(edges["timestamp"], errors="coerce").max()
        if pd.notna(newest) and newest > 0:
            return _iso_utc(float(newest)), "newest road edit timestamp in the file"
    return _iso_utc(p.stat().st_mtime), "file modification time"


def _xml_date(p: Path) -> tuple[str, str]:
    newest = ""
    try:
        for event, elem in iterparse(p, events=("start",)):
            del event
            if elem.tag == "osm" and elem.get("timestamp"):
                return elem.get("timestamp", "")[:10], "osm header timestamp"
            if elem.tag == "meta" and elem.get("osm_base"):
                return elem.get("osm_base", "")[:10], "overpass meta osm_base"
            if elem.tag == "way":
                newest = max(newest, elem.get("timestamp") or "")
            elem.clear()
    except ParseError:
        pass
    if newest:
        return newest[:10], "newest way timestamp in the file"
    return _iso_utc(p.stat().st_mtime), "file modification time"


def _load_xml(p: Path, *, network_type: NetworkType) -> RoadNetwork:
    import osmnx as ox  # noqa: PLC0415

    saved_tags = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted({*saved_tags, *_XML_FILTER_TAGS})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = ox.graph_from_xml(
                p, bidirectional=network_type == "walk", simplify=False, retain_all=True
            )
    except Exception as err:  # osmnx raises many types for bad XML
        msg = f"Cannot read OSM XML file {p.name!r}: {err}. Is it an OSM XML export?"
        raise NetworkError(msg) from err
    finally:
        ox.settings.useful_tags_way = saved_tags
    date, src = _xml_date(p)
    return from_networkx(
        g,
        network_type=network_type,
        source=str(p),
        data_date=date,
        data_date_source=src,
        filter_classes=True,
    )


def _first(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _usable_way(data: dict[str, Any], network_type: NetworkType) -> bool:
    """Whether an edge of an unfiltered OSM file (XML) is a road usable by ``network_type``.

    Like osmnx's download filters: ways without a ``highway`` tag (buildings, rivers, railways,
    boundaries: all present in a full ``.osm`` export) are not roads; areas, ``access=no`` /
    ``private``, and ways closed to the mode (``motor_vehicle`` / ``motorcar=no`` for drive,
    ``foot=no`` for walk) are left out, as are the excluded ``highway`` classes.
    """
    hw = _first(data.get("highway"))
    if hw is None or str(hw) in (_DRIVE_EXCLUDED if network_type == "drive" else _WALK_EXCLUDED):
        return False

    def tag(key: str) -> str:
        return str(_first(data.get(key)) or "").strip().lower()

    if tag("area") == "yes" or tag("access") in _NO_ACCESS:
        return False
    if network_type == "drive":
        return "no" not in (tag("motor_vehicle"), tag("motorcar"))
    return tag("foot") not in _NO_ACCESS


def from_networkx(
    graph: nx.MultiDiGraph,
    *,
    network_type: NetworkType,
    source: str,
    data_date: str | None = None,
    data_date_source: str = "unknown",
    filter_classes: bool = False,
) -> RoadNetwork:
    """Convert an osmnx ``MultiDiGraph`` (node ``x``/``y`` in WGS-84, edge ``length``).

    ``filter_classes`` drops ways not usable by ``network_type`` (as osmnx's download filter
    does; needed for XML files, which osmnx reads unfiltered: see :func:`_usable_way`).
    """
    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    pos = {n: i for i, n in enumerate(node_ids.tolist())}
    xs = np.array([graph.nodes[n]["x"] for n in node_ids.tolist()], dtype=np.float64)
    ys = np.array([graph.nodes[n]["y"] for n in node_ids.tolist()], dtype=np.float64)
    us: list[int] = []
    vs: list[int] = []
    lengths: list[float] = []
    classes: list[str] = []
    speeds: list[float] = []
    for u, v, data in graph.edges(data=True):
        if filter_classes and not _usable_way(data, network_type):
            continue
        hw = str(_first(data.get("highway")) or FALLBACK_CLASS)
        us.append(pos[u])
        vs.append(pos[v])
        lengths.append(float(data.get("length", 0.0)))
        classes.append(hw)
        speeds.append(parse_maxspeed(data.get("maxspeed")))
    return RoadNetwork(
        node_id=node_ids,
        lon=xs,
        lat=ys,
        edge_u=np.array(us, dtype=np.int64),
        edge_v=np.array(vs, dtype=np.int64),
        length_m=np.array(lengths, dtype=np.float64),
        highway=np.array(classes, dtype=np.str_) if classes else np.zeros(0, dtype="<U1"),
        maxspeed_kmh=np.array(speeds, dtype=np.float64),
        network_type=network_type,
        source=source,
        data_date=data_date,
        data_date_source=data_date_source,
    )


# --------------------------------------------------------------------------- downloading
def cache_key(polygon: BaseGeometry, network_type: NetworkType) -> str:
    """Stable key of a (polygon, network type) download: hash of the rounded WKT."""
    wkt = shapely.to_wkt(shapely.normalize(polygon), rounding_precision=5)
    digest = hashlib.sha256(f"{network_type}|{wkt}".encode()).hexdigest()[:20]
    return f"{network_type}-{digest}"


def cached_network_path(polygon: BaseGeometry, network_type: NetworkType) -> Path:
    """Where :func:`download_road_network` keeps the network for this polygon."""
    return env_settings.cache_dir() / "roads" / f"{cache_key(polygon, network_type)}.npz"


@contextlib.contextmanager
def _osmnx_settings() -> Iterator[Any]:
    import osmnx as ox  # noqa: PLC0415

    names = ("use_cache", "cache_folder", "requests_timeout", "log_console")
    saved = {k: getattr(ox.settings, k) for k in names}
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(env_settings.cache_dir() / "osmnx")
    ox.settings.requests_timeout = env_settings.network_timeout_s()
    ox.settings.log_console = False
    try:
        yield ox
    finally:
        for k, v in saved.items():
            setattr(ox.settings, k, v)


def _check_reachable(url: str, timeout_s: float) -> None:
    """Fail fast (instead of osmnx's 60 s pause) when the Overpass host is unreachable."""
    if urllib.request.getproxies():  # behind a proxy only requests knows the way: let it try
        return
    parsed = urlparse(url)
    host = parsed.hostname or url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    with socket.create_connection((host, port), timeout=min(timeout_s, 10.0)):
        pass


def _download_graph(polygon: BaseGeometry, network_type: NetworkType) -> nx.MultiDiGraph:
    """Download with osmnx (raises whatever osmnx/requests raise)."""
    with _osmnx_settings() as ox:
        _check_reachable(str(ox.settings.overpass_url), float(ox.settings.requests_timeout))
        graph: nx.MultiDiGraph = ox.graph_from_polygon(
            # unsimplified: nodes every few dozen metres along roads give short access legs;
            # routing contracts the pass-through nodes anyway (contract_graph)
            polygon,
            network_type=network_type,
            simplify=False,
            retain_all=False,
        )
        return graph


def download_road_network(
    region: BaseGeometry,
    *,
    network_type: NetworkType = "drive",
    buffer_m: float = REGION_BUFFER_M,
    progress: Progress | None = None,
    refresh: bool = False,
) -> RoadNetwork:
    """Download the OSM road network of ``region`` (WGS-84 polygon), or load it from the cache.

    The cache file (``cache_dir()/roads/<type>-<hash>.npz``, see
    :func:`cached_network_path`) is keyed by the buffered polygon and the network type; a
    second call with the same region works offline and returns identical arrays (and the same
    data date: the date of the original download).

    Raises
    ------
    NetworkError
        No cached copy and the download failed (offline, timeout, server error); the message
        says what failed and how to use a local file (``--osm-file`` /
        ``TravelSettings.osm_file``) instead.
    """
    polygon = buffer_polygon(region, buffer_m=buffer_m)
    path = cached_network_path(polygon, network_type)
    if path.exists() and not refresh:
        if progress is not None:
            progress(1.0, "road network loaded from cache")
        logger.info("Road network from cache %s", path)
        return RoadNetwork.load(path)
    if progress is not None:
        progress(0.0, f"downloading the {network_type} road network from OpenStreetMap")
    t0 = time.perf_counter()
    try:
        graph = _download_graph(polygon, network_type)
    except Exception as err:  # requests/osmnx/socket errors: all mean "no data"
        msg = (
            f"Could not download the {network_type} road network from OpenStreetMap "
            f"(Overpass API): {type(err).__name__}: {err}. No cached copy exists at "
            f"{str(path)!r}. Connect to the internet once (the result is cached), or use a "
            "local OSM file: `--osm-file FILE.osm.pbf` on the command line or "
            "TravelSettings.osm_file (e.g. fujian-latest.osm.pbf from download.geofabrik.de)."
        )
        raise NetworkError(msg) from err
    if progress is not None:
        progress(0.8, "building the road graph")
    today = dt.datetime.now(tz=dt.UTC).date().isoformat()
    net = from_networkx(
        graph,
        network_type=network_type,
        source="OpenStreetMap download",
        data_date=today,
        data_date_source="download date",
    )
    net.save(path)
    logger.info(
        "Downloaded %d nodes in %.1f s, cached at %s", net.n_nodes, time.perf_counter() - t0, path
    )
    if progress is not None:
        progress(1.0, "road network downloaded")
    return net


def buffer_polygon(region: BaseGeometry, *, buffer_m: float) -> BaseGeometry:
    """Buffer a WGS-84 polygon by ``buffer_m`` metres (in its UTM zone) and return WGS-84."""
    if buffer_m <= 0:
        return region
    gs = gpd.GeoSeries([region], crs="EPSG:4326")
    utm = gs.estimate_utm_crs()
    out: BaseGeometry = gs.to_crs(utm).buffer(buffer_m).to_crs("EPSG:4326").iloc[0]
    return out


def region_polygon(
    region: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    *layers: gpd.GeoDataFrame | None,
) -> BaseGeometry:
    """Return the polygon to load: ``region`` (united) or the convex hull of the points."""
    if region is not None:
        if isinstance(region, gpd.GeoDataFrame | gpd.GeoSeries):
            _require_wgs84(region, name="region")
            return shapely.union_all(region.geometry.to_numpy()).buffer(0)
        return region
    pts: list[npt.NDArray[np.object_]] = []
    for layer in layers:
        if layer is not None and len(layer):
            lon, lat = _lonlat(layer, name="points")
            pts.append(np.asarray(shapely.points(lon, lat), dtype=object))
    if not pts:
        msg = "No region and no points: cannot tell which road network to download."
        raise DataError(msg)
    hull: BaseGeometry = shapely.MultiPoint(list(np.concatenate(pts))).convex_hull
    return hull.buffer(0.01) if hull.geom_type != "Polygon" else hull


def load_network_for(
    settings: TravelSettings,
    polygon: BaseGeometry,
    *,
    progress: Progress | None = None,
) -> RoadNetwork:
    """Road network for a planning polygon: ``settings.osm_file`` if set, else download/cache.

    A local ``.osm.pbf`` is clipped to the buffered polygon's bounding box and the result is
    cached too (keyed by file path, size, modification time, polygon and network type).

    Raises
    ------
    NetworkError
        The file cannot be read, or no cache and the download failed.
    """
    network_type: NetworkType = settings.network_type
    if not settings.osm_file:
        return download_road_network(polygon, network_type=network_type, progress=progress)
    path = Path(settings.osm_file)
    buffered = buffer_polygon(polygon, buffer_m=REGION_BUFFER_M)
    if path.is_file() and path.name.lower().endswith(".pbf"):
        st = path.stat()
        stamp = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
        key = cache_key(shapely.Polygon(shapely.box(*buffered.bounds)), network_type)
        digest = hashlib.sha256(f"{stamp}|{key}".encode()).hexdigest()[:20]
        cached = env_settings.cache_dir() / "roads" / f"file-{network_type}-{digest}.npz"
        if cached.exists():
            return RoadNetwork.load(cached)
        net = load_osm_file(
            path,
            network_type=network_type,
            region=shapely.box(*buffered.bounds),
            progress=progress,
        )
        with contextlib.suppress(OSError):  # a read-only cache only costs time
            net.save(cached)
        return net
    return load_osm_file(path, network_type=network_type, progress=progress)


def compute_travel_times_for_region(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    settings: TravelSettings,
    cutoff_min: float | None,
    region: gpd.GeoDataFrame | None = None,
    hospitals: gpd.GeoDataFrame | None = None,
    progress: Progress | None = None,
) -> TravelTimes:
    """Road-network travel times for a planning region, falling back to the estimate.

    Loads ``settings.osm_file`` or downloads (and caches) the OSM network of ``region``
    (county polygons, WGS-84; default: the hull of the points), then calls
    :func:`compute_network_travel_times`. Demand cells with a boolean ``urban`` column and
    polygon geometry mark where urban road speeds apply.

    When no road data can be had (offline and nothing cached), a ``UserWarning`` says why and
    how to fix it, and the straight-line estimate is returned (``mode="estimated"``, labelled
    "estimated (straight-line)"). A given ``osm_file`` that cannot be read raises
    :class:`~planning.errors.NetworkError` instead: the user asked for that file.
    """
    from planning import travel  # noqa: PLC0415 - travel imports this module lazily

    polygon = region_polygon(region, demand, sites, hospitals)
    step = _sub_progress(progress, 0.0, 0.4)
    try:
        net = load_network_for(settings, polygon, progress=step)
    except NetworkError as err:
        if settings.osm_file:
            raise
        msg = (
            f"Road-network travel times are not available, using the straight-line estimate "
            f"instead: {err}"
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
        return travel.compute_travel_times(
            demand,
            sites,
            settings=settings.model_copy(update={"mode": "estimated"}),
            cutoff_min=cutoff_min,
            region=region,
            hospitals=hospitals,
            progress=progress,
        )
    urban_areas = None
    if (
        "urban" in demand.columns
        and len(demand)
        and (demand.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all())
    ):
        urban_areas = demand.loc[demand["urban"].astype(bool)].geometry
    return compute_network_travel_times(
        demand,
        sites,
        network=net,
        settings=settings,
        cutoff_min=cutoff_min,
        hospitals=hospitals if hospitals is not None and len(hospitals) else None,
        urban_areas=urban_areas,
        progress=_sub_progress(progress, 0.4, 1.0),
    )


def _sub_progress(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    if progress is None:
        return None
    return lambda frac, text: progress(lo + (hi - lo) * frac, text)


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
