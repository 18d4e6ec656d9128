"""Road data from OpenStreetMap as a :class:`RoadNetwork`: local files, download, cache.

:func:`download_road_network` (osmnx / Overpass, cached on disk in
``planning.settings.cache_dir() / "roads"``, keyed by region polygon + network type, so a
second run works offline and gives identical times) or :func:`load_osm_file`
(``.osm.pbf`` via pyrosm, ``.osm`` / ``.osm.xml`` via ``osmnx.graph_from_xml``);
:func:`load_network_for` picks one for a scenario's travel settings.

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
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planning import settings as env_settings
from planning._atomic import replacing
from planning._osm import buffer_polygon, check_reachable, osmnx_settings
from planning._progress import Progress
from planning.defaults import FALLBACK_CLASS
from planning.errors import DataError, NetworkError, PlanningWarning, WriteError
from planning.i18n import Msg, MsgStr
from planning.scenario import TravelSettings
from planning.travel._geo import lonlat, require_wgs84
from planning.travel._osm_dates import _pbf_date, _xml_date

if TYPE_CHECKING:
    import networkx as nx
    from shapely.geometry.base import BaseGeometry


logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


NetworkType = Literal["drive", "walk"]


CACHE_VERSION = 1


REGION_BUFFER_M = 5000.0
"""Roads this far outside the planning region are downloaded too (trips cross borders)."""


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
        meta = {
            "version": CACHE_VERSION,
            "network_type": self.network_type,
            "source": self.source,
            "data_date": self.data_date,
            "data_date_source": self.data_date_source,
        }
        with replacing(p) as tmp, tmp.open("wb") as fh:  # atomic; WriteError if it cannot
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
        return p

    @classmethod
    def load(cls, path: str | Path) -> RoadNetwork:
        """Read a network written by :meth:`save`; raise ``NetworkError`` if unreadable."""
        p = Path(path)
        try:
            with np.load(p, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("version") != CACHE_VERSION:
                    reason = Msg(
                        "travel.cache_version", found=meta.get("version"), expected=CACHE_VERSION
                    )
                    raise NetworkError("travel.cache_unreadable", path=str(p), reason=reason)
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
            raise NetworkError("travel.cache_unreadable", path=str(p), reason=str(err)) from None

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
        raise NetworkError("travel.osm_file_missing", path=str(p))
    if progress is not None:
        progress(0.0, MsgStr("progress.reading", file=p.name))
    name = p.name.lower()
    if name.endswith(".pbf"):
        net = _load_pbf(p, network_type=network_type, region=region)
    elif name.endswith((".osm", ".xml", ".osm.xml")):
        net = _load_xml(p, network_type=network_type)
    else:
        raise NetworkError("travel.osm_file_extension", file=p.name)
    if net.n_edges == 0:
        if region is not None:
            raise NetworkError(
                "travel.osm_no_roads_in_region", file=p.name, network=_network_name(network_type)
            )
        raise NetworkError("travel.osm_no_roads", file=p.name, network=_network_name(network_type))
    if progress is not None:
        progress(1.0, MsgStr("progress.read_nodes", n=net.n_nodes, file=p.name))
    logger.info("Read %s: %d nodes, %d edges (%s)", p.name, net.n_nodes, net.n_edges, net.label)
    return net


def _network_name(network_type: str) -> Msg | str:
    """Return the network type as messages name it (``drive`` / ``walk``; 驾车 / 步行)."""
    if network_type == "drive":
        return Msg("travel.network_drive")
    if network_type == "walk":
        return Msg("travel.network_walk")
    return network_type


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
        raise NetworkError("travel.pbf_unreadable", file=p.name, reason=str(err)) from err
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
        raise NetworkError("travel.xml_unreadable", file=p.name, reason=str(err)) from err
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


def _download_graph(polygon: BaseGeometry, network_type: NetworkType) -> nx.MultiDiGraph:
    """Download with osmnx (raises whatever osmnx/requests raise; nothing if KANGLE_OFFLINE)."""
    if env_settings.offline():
        msg = "KANGLE_OFFLINE is set, so no download was tried"
        raise ConnectionError(msg)
    with osmnx_settings() as ox:
        check_reachable(str(ox.settings.overpass_url), float(ox.settings.requests_timeout))
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
            progress(1.0, MsgStr("progress.road_network_from_cache"))
        logger.info("Road network from cache %s", path)
        return RoadNetwork.load(path)
    if progress is not None:
        progress(0.0, MsgStr("progress.downloading", network_type=network_type))
    t0 = time.perf_counter()
    try:
        graph = _download_graph(polygon, network_type)
    except Exception as err:  # requests/osmnx/socket errors: all mean "no data"
        raise NetworkError(
            "travel.download_failed",
            network=_network_name(network_type),
            reason=f"{type(err).__name__}: {err}",
            path=str(path),
        ) from err
    if progress is not None:
        progress(0.8, MsgStr("progress.building_road_graph"))
    today = dt.datetime.now(tz=dt.UTC).date().isoformat()
    net = from_networkx(
        graph,
        network_type=network_type,
        source="OpenStreetMap download",
        data_date=today,
        data_date_source="download date",
    )
    try:
        net.save(path)
    except WriteError as err:  # the download is used all the same; only the cache is lost
        warnings.warn(PlanningWarning("travel.cache_unwritable", problem=err.message), stacklevel=2)
    logger.info(
        "Downloaded %d nodes in %.1f s, cached at %s", net.n_nodes, time.perf_counter() - t0, path
    )
    if progress is not None:
        progress(1.0, MsgStr("progress.road_network_downloaded"))
    return net


def region_polygon(
    region: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    *layers: gpd.GeoDataFrame | None,
) -> BaseGeometry:
    """Return the polygon to load: ``region`` (united) or the convex hull of the points."""
    if region is not None:
        if isinstance(region, gpd.GeoDataFrame | gpd.GeoSeries):
            require_wgs84(region, name=Msg("travel.layer_region"))
            return shapely.union_all(region.geometry.to_numpy()).buffer(0)
        return region
    pts: list[npt.NDArray[np.object_]] = []
    for layer in layers:
        if layer is not None and len(layer):
            lon, lat = lonlat(layer, name=Msg("travel.layer_points"))
            pts.append(np.asarray(shapely.points(lon, lat), dtype=object))
    if not pts:
        raise DataError("travel.nothing_to_download")
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
        with contextlib.suppress(OSError, WriteError):  # a read-only cache only costs time
            net.save(cached)
        return net
    return load_osm_file(path, network_type=network_type, progress=progress)


_MPH = 1.609344


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
