"""OpenStreetMap elements by tag: local ``.osm.pbf`` files, Overpass download, on-disk cache.

Plumbing shared by the OSM facilities (:mod:`planning.inputs.osm`) and place names
(:mod:`planning.inputs.places`); road networks have their own reader in
:mod:`planning.travel.roads`, which uses the file dates below.

:func:`load_elements` returns the elements matching a tag filter inside a polygon as an
:class:`OsmElements` (one point per element, its tags, optionally its area), from

1. a local ``.osm.pbf`` file when one is given (read with pyrosm, clipped to the polygon's
   bounding box; the result is cached, keyed by the file's path, size and modification time);
2. else the cache of an earlier download of the same polygon and filter
   (``planning.settings.cache_dir() / "osm"``), so a second run works offline and gives the
   same elements with the same date;
3. else a download from the Overpass API with ``osmnx.features_from_polygon`` (skipped when
   :func:`planning.settings.offline` is set).

Data date
---------
For a download, the UTC date of the download (kept in the cache); for a ``.osm.pbf`` file, the
header's ``osmosis_replication_timestamp`` when present, else the newest edit timestamp among
the elements read, else the file's modification time; for ``.osm`` XML (roads only), the
``<meta osm_base>`` or ``<osm timestamp>`` header, else the newest way timestamp, else the file's
modification time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import logging
import socket
import struct
import urllib.request
import warnings
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from defusedxml.ElementTree import ParseError, iterparse
from shapely.geometry.base import BaseGeometry

from planning import i18n
from planning import settings as env_settings
from planning._atomic import replacing, write_text
from planning.errors import DataError, NetworkError, PlanningError, WriteError

logger = logging.getLogger(__name__)

CACHE_VERSION = 1

BoolArray = npt.NDArray[np.bool_]

TagFilter = Mapping[str, bool | list[str]]
"""OSM tag filter: key -> ``True`` (any value) or the values wanted; elements match any key."""

ElementSource = Literal["file", "cache", "download"]


# --------------------------------------------------------------------------- file dates
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


def _pbf_header(path: str | Path) -> dict[int, int | bytes] | None:
    """Fields of an ``.osm.pbf`` file's HeaderBlock, or ``None`` when unreadable."""
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
        return dict(_protobuf_fields(data))
    except (OSError, struct.error, zlib.error, IndexError):
        return None


def pbf_replication_timestamp(path: str | Path) -> int | None:
    """``osmosis_replication_timestamp`` (Unix seconds) from an ``.osm.pbf`` header, if any."""
    header = _pbf_header(path)
    ts = None if header is None else header.get(32)
    return ts if isinstance(ts, int) and ts > 0 else None


def pbf_bounds(path: str | Path) -> tuple[float, float, float, float] | None:
    """Bounding box ``(lon_min, lat_min, lon_max, lat_max)`` an ``.osm.pbf`` header declares.

    ``None`` when the file declares none (the header's ``bbox`` is optional) or is unreadable.
    """
    header = _pbf_header(path)
    box = None if header is None else header.get(1)
    if not isinstance(box, bytes):
        return None
    try:
        fields = dict(_protobuf_fields(box))
    except IndexError:
        return None
    if not all(isinstance(fields.get(k), int) for k in (1, 2, 3, 4)):
        return None

    def degrees(k: int) -> float:
        n = int(fields[k])
        return ((n >> 1) ^ -(n & 1)) / 1e9  # sint64 (zig-zag) nanodegrees

    return degrees(1), degrees(4), degrees(2), degrees(3)


def _iso_utc(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date().isoformat()


def _pbf_date(p: Path, elements: pd.DataFrame | None) -> tuple[str, str]:
    """Return the data date of a ``.pbf`` file and how it was found (module docstring)."""
    ts = pbf_replication_timestamp(p)
    if ts is not None:
        return _iso_utc(ts), "pbf header osmosis_replication_timestamp"
    if elements is not None and "timestamp" in elements and len(elements):
        newest = pd.to_numeric(elements["timestamp"], errors="coerce").max()
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


def reason_of(err: PlanningError) -> i18n.Msg | str:
    """Return an error as a message parameter: its :class:`~planning.i18n.Msg`, or its text.

    Errors not yet converted to catalog codes carry a sentence as their code; those are
    passed as the sentence they render to.
    """
    try:
        i18n.template(err.code, "en")
    except KeyError:
        return err.text()
    return err.message


# --------------------------------------------------------------------------- osmnx access
@contextlib.contextmanager
def osmnx_settings() -> Iterator[Any]:
    """``osmnx`` with the project's cache folder and timeout; its settings restored after."""
    import osmnx as ox  # noqa: PLC0415 - heavy, only for downloads

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


def check_reachable(url: str, timeout_s: float) -> None:
    """Fail fast (instead of osmnx's 60 s pause) when the Overpass host is unreachable."""
    if urllib.request.getproxies():  # behind a proxy only requests knows the way: let it try
        return
    parsed = urlparse(url)
    host = parsed.hostname or url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    with socket.create_connection((host, port), timeout=min(timeout_s, 10.0)):
        pass


def buffer_polygon(region: BaseGeometry, *, buffer_m: float) -> BaseGeometry:
    """Buffer a WGS-84 polygon by ``buffer_m`` metres (in its UTM zone) and return WGS-84."""
    if buffer_m <= 0:
        return region
    gs = gpd.GeoSeries([region], crs="EPSG:4326")
    out: BaseGeometry = gs.to_crs(gs.estimate_utm_crs()).buffer(buffer_m).to_crs(4326).iloc[0]
    return out


# --------------------------------------------------------------------------- elements
@dataclass(frozen=True, kw_only=True, eq=False)
class OsmElements:
    """OSM elements matching a tag filter inside an area, one row each.

    Attributes
    ----------
    elements
        GeoDataFrame in WGS-84, index ``osm_key`` (``"n123"``, ``"w45"``, ``"r6"``: node, way,
        relation and its OSM id), columns ``osm_type``, ``osm_id``, ``tags`` (a ``dict`` of
        every tag), ``area`` (the element's polygon, or ``None``: kept only when asked for),
        geometry a Point (the node, or a point inside the way or relation).
    source
        ``"OpenStreetMap download"`` or the path of the file read.
    origin
        ``"file"``, ``"cache"`` (an earlier download) or ``"download"`` (now).
    data_date, data_date_source
        ISO date of the data and how it was found (see the module docstring).
    cache_path
        Where the elements are cached (``None`` when the cache could not be written).
    covered_share
        Share of the polygon inside the file's declared bounding box (files only; ``None``
        when the file declares none or for downloads).
    """

    elements: gpd.GeoDataFrame
    source: str
    origin: ElementSource
    data_date: str | None
    data_date_source: str
    cache_path: Path | None = None
    covered_share: float | None = None

    @property
    def from_file(self) -> bool:
        """Whether the elements were read from a local file (else downloaded, now or before)."""
        return self.origin == "file"


_STRUCTURAL = frozenset(
    {"id", "lon", "lat", "tags", "visible", "version", "timestamp", "changeset", "geometry"}
    | {"osm_type", "element", "nodes", "members", "ways", "changeset", "uid", "user"}
)


def _scalar_tags(row: Mapping[str, Any], extra: Any) -> dict[str, str]:
    """All tags of one element: the frame's tag columns plus pyrosm's JSON ``tags`` column."""
    tags: dict[str, str] = {}
    if isinstance(extra, str) and extra:
        with contextlib.suppress(ValueError):
            loaded = json.loads(extra)
            if isinstance(loaded, dict):
                tags.update({str(k): str(v) for k, v in loaded.items() if _is_scalar(v)})
    elif isinstance(extra, dict):
        tags.update({str(k): str(v) for k, v in extra.items() if _is_scalar(v)})
    for k, v in row.items():
        if k in _STRUCTURAL or not _is_scalar(v):
            continue
        tags[str(k)] = _tag_text(v)
    return tags


def _is_scalar(v: Any) -> bool:
    if v is None or isinstance(v, list | tuple | dict | set | np.ndarray | BaseGeometry):
        return False
    return not (isinstance(v, float) and np.isnan(v))


def _tag_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _frame(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Build the :class:`OsmElements` frame from ``{osm_type, osm_id, tags, geometry}``."""
    keys = [f"{r['osm_type'][0]}{r['osm_id']}" for r in records]
    points = []
    areas: list[BaseGeometry | None] = []
    for r in records:
        geom = r["geometry"]
        if geom.geom_type == "Point":
            points.append(geom)
            areas.append(None)
        else:
            points.append(shapely.point_on_surface(geom))
            polygonal = geom.geom_type in {"Polygon", "MultiPolygon"}
            areas.append(geom if polygonal and r.get("keep_area") else None)
    frame = gpd.GeoDataFrame(
        {
            "osm_type": [r["osm_type"] for r in records],
            "osm_id": np.array([int(r["osm_id"]) for r in records], dtype=np.int64),
            "tags": pd.Series([r["tags"] for r in records], dtype=object).to_numpy(),
            "area": pd.Series(areas, dtype=object).to_numpy(),
        },
        index=pd.Index(keys, name="osm_key", dtype=object),
        geometry=gpd.GeoSeries(points, crs="EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )
    return frame[~frame.index.duplicated()].sort_index()


def _keep_area(tags: Mapping[str, str], area_keys: frozenset[str]) -> bool:
    return any(k in tags for k in area_keys)


def read_pbf_elements(
    path: str | Path,
    tag_filter: TagFilter,
    *,
    polygon: BaseGeometry | None = None,
    area_keys: frozenset[str] = frozenset(),
) -> OsmElements:
    """Read the elements matching ``tag_filter`` from a local ``.osm.pbf`` file.

    Parameters
    ----------
    path
        An ``.osm.pbf`` extract (e.g. ``fujian-latest.osm.pbf`` from Geofabrik).
    tag_filter
        Keys and values wanted (an element matching any key is kept).
    polygon
        WGS-84 area: only elements within its bounding box are read (``None``: the whole file).
    area_keys
        Elements with one of these tag keys keep their polygon in ``area``.

    Raises
    ------
    DataError
        The file does not exist, is not an ``.osm.pbf`` file or cannot be parsed.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("osm.file_missing", file=str(p))
    if not p.name.lower().endswith(".pbf"):
        raise DataError("osm.file_not_pbf", file=p.name)
    import pyrosm  # noqa: PLC0415 - heavy, only for files

    bbox = None if polygon is None else shapely.box(*polygon.bounds)
    try:
        osm = pyrosm.OSM(str(p), bounding_box=bbox)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyrosm/pandas chatter, not ours
            found = osm.get_data_by_custom_criteria(
                custom_filter=dict(tag_filter),
                tags_as_columns=["name"],
                keep_nodes=True,
                keep_ways=True,
                keep_relations=True,
            )
    except Exception as err:  # pyrosm raises bare Exceptions / ValueErrors on bad files
        raise DataError("osm.file_unreadable", file=p.name, detail=str(err)) from err
    records: list[dict[str, Any]] = []
    if found is not None and len(found):
        tag_cols = [c for c in found.columns if c not in _STRUCTURAL]
        extra = found["tags"] if "tags" in found else pd.Series(None, index=found.index)
        for row, more, geom, kind, osm_id in zip(
            found[tag_cols].to_dict("records"),
            extra,
            found.geometry,
            found["osm_type"],
            found["id"],
            strict=True,
        ):
            if geom is None or geom.is_empty:
                continue
            tags = _scalar_tags(row, more)
            records.append(
                {
                    "osm_type": str(kind),
                    "osm_id": int(osm_id),
                    "tags": tags,
                    "geometry": geom,
                    "keep_area": _keep_area(tags, area_keys),
                }
            )
    date, date_src = _pbf_date(p, found)
    if date_src.startswith("newest road"):
        date_src = "newest edit timestamp in the file"
    bounds = pbf_bounds(p)
    covered = None
    if bounds is not None and polygon is not None and polygon.area > 0:
        covered = float(polygon.intersection(shapely.box(*bounds)).area / polygon.area)
    elements = _frame(records)
    if polygon is not None and len(elements):
        elements = elements[elements.intersects(polygon) | _area_intersects(elements, polygon)]
    return OsmElements(
        elements=elements,
        source=str(p),
        origin="file",
        data_date=date,
        data_date_source=date_src,
        covered_share=covered,
    )


def _area_intersects(elements: gpd.GeoDataFrame, polygon: BaseGeometry) -> BoolArray:
    areas = elements["area"].to_numpy()
    has = np.array([a is not None for a in areas], dtype=bool)
    out = np.zeros(len(areas), dtype=bool)
    if has.any():
        out[has] = shapely.intersects(np.array(list(areas[has]), dtype=object), polygon)
    return out


def download_elements(
    polygon: BaseGeometry, tag_filter: TagFilter, *, area_keys: frozenset[str] = frozenset()
) -> OsmElements:
    """Download the elements matching ``tag_filter`` in ``polygon`` (Overpass, via osmnx).

    An area without any matching element gives an empty result, not an error.

    Raises
    ------
    NetworkError
        The Overpass API could not be reached or answered with an error.
    """
    tags = {k: (v if isinstance(v, bool) else list(v)) for k, v in tag_filter.items()}
    try:
        with osmnx_settings() as ox:
            check_reachable(str(ox.settings.overpass_url), float(ox.settings.requests_timeout))
            try:
                found = ox.features_from_polygon(polygon, tags)
            except ox._errors.InsufficientResponseError:  # noqa: SLF001 - osmnx's "nothing found"
                found = None
    except Exception as err:  # requests/osmnx/socket errors: all mean "no data"
        raise NetworkError("osm.download_failed", error=f"{type(err).__name__}: {err}") from err
    records: list[dict[str, Any]] = []
    if found is not None and len(found):
        tag_cols = [c for c in found.columns if c != "geometry"]
        for (kind, osm_id), row, geom in zip(
            found.index, found[tag_cols].to_dict("records"), found.geometry, strict=True
        ):
            if geom is None or geom.is_empty:
                continue
            tags_of = _scalar_tags(row, None)
            records.append(
                {
                    "osm_type": str(kind),
                    "osm_id": int(osm_id),
                    "tags": tags_of,
                    "geometry": geom,
                    "keep_area": _keep_area(tags_of, area_keys),
                }
            )
    return OsmElements(
        elements=_frame(records),
        source="OpenStreetMap download",
        origin="download",
        data_date=dt.datetime.now(tz=dt.UTC).date().isoformat(),
        data_date_source="download date",
    )


# --------------------------------------------------------------------------- cache
def _filter_text(tag_filter: TagFilter) -> str:
    return json.dumps(
        {k: (v if isinstance(v, bool) else sorted(v)) for k, v in tag_filter.items()},
        sort_keys=True,
    )


def cache_key(kind: str, polygon: BaseGeometry, tag_filter: TagFilter) -> str:
    """Stable key of a download: hash of the kind, the filter and the rounded polygon."""
    wkt = shapely.to_wkt(shapely.normalize(polygon), rounding_precision=5)
    digest = hashlib.sha256(f"{kind}|{_filter_text(tag_filter)}|{wkt}".encode()).hexdigest()
    return f"{kind}-{digest[:20]}"


def cached_elements_path(kind: str, polygon: BaseGeometry, tag_filter: TagFilter) -> Path:
    """Where a download of ``kind`` for this polygon and filter is kept."""
    return env_settings.cache_dir() / "osm" / f"{cache_key(kind, polygon, tag_filter)}.json.gz"


def _file_cache_path(
    kind: str, path: Path, polygon: BaseGeometry | None, tag_filter: TagFilter
) -> Path:
    st = path.stat()
    box = "all" if polygon is None else ",".join(f"{v:.5f}" for v in polygon.bounds)
    stamp = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{kind}|{_filter_text(tag_filter)}"
    digest = hashlib.sha256(f"{stamp}|{box}".encode()).hexdigest()[:20]
    return env_settings.cache_dir() / "osm" / f"file-{kind}-{digest}.json.gz"


def save_elements(found: OsmElements, path: Path) -> Path:
    """Write ``found`` to ``path`` (gzipped JSON, no pickles; atomically) and return it.

    See :func:`load_elements` for the index that finds a download for a smaller area.
    """
    rows = []
    for key, r in zip(found.elements.index, found.elements.itertuples(), strict=True):
        area = r.area
        rows.append(
            {
                "key": key,
                "type": r.osm_type,
                "id": int(r.osm_id),
                "tags": r.tags,
                "lon": float(r.geometry.x),
                "lat": float(r.geometry.y),
                "area": None if area is None else shapely.to_wkb(area, hex=True),
            }
        )
    doc = {
        "version": CACHE_VERSION,
        "source": found.source,
        "data_date": found.data_date,
        "data_date_source": found.data_date_source,
        "covered_share": found.covered_share,
        "elements": rows,
    }
    with replacing(path) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as fh:  # atomic
        json.dump(doc, fh, ensure_ascii=False)
    return path


INDEX_NAME = "index.json"
"""Downloads in the cache folder: file, kind, filter and the area each covers (WKT)."""


def _read_index(folder: Path) -> list[dict[str, str]]:
    try:
        entries = json.loads((folder / INDEX_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _index_download(path: Path, kind: str, tag_filter: TagFilter, area: BaseGeometry) -> None:
    """Record a cached download and its area, so a smaller area inside it is found too."""
    folder = path.parent
    entries = [e for e in _read_index(folder) if e.get("file") != path.name]
    entries.append(
        {
            "file": path.name,
            "kind": kind,
            "filter": _filter_text(tag_filter),
            "area": shapely.to_wkt(area, rounding_precision=6),
        }
    )
    write_text(folder / INDEX_NAME, json.dumps(entries, ensure_ascii=False))  # atomic


def _covering_download(kind: str, polygon: BaseGeometry, tag_filter: TagFilter) -> Path | None:
    """Return the smallest cached download of ``kind`` and ``tag_filter`` covering ``polygon``."""
    folder = env_settings.cache_dir() / "osm"
    wanted = _filter_text(tag_filter)
    best: tuple[float, Path] | None = None
    for e in _read_index(folder):
        path = folder / str(e.get("file", ""))
        if e.get("kind") != kind or e.get("filter") != wanted or not path.is_file():
            continue
        try:
            area = shapely.from_wkt(str(e["area"]))
        except (KeyError, shapely.errors.GEOSException):
            continue
        if area.buffer(1e-5).covers(polygon) and (best is None or area.area < best[0]):
            best = (float(area.area), path)
    return None if best is None else best[1]


def _clip(found: OsmElements, polygon: BaseGeometry) -> OsmElements:
    elements = found.elements
    inside = elements.intersects(polygon).to_numpy() | _area_intersects(elements, polygon)
    return OsmElements(**{**found.__dict__, "elements": elements[inside]})


def load_cached_elements(path: Path, *, origin: ElementSource) -> OsmElements:
    """Read elements written by :func:`save_elements`.

    Raises
    ------
    DataError
        The file is unreadable or of another format version (delete it: it is rebuilt).
    """
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
        if doc.get("version") != CACHE_VERSION:
            msg = f"cache format {doc.get('version')} != {CACHE_VERSION}"
            raise ValueError(msg)  # noqa: TRY301 - converted below
        records = [
            {
                "osm_type": r["type"],
                "osm_id": r["id"],
                "tags": dict(r["tags"]),
                "geometry": shapely.from_wkb(r["area"])
                if r["area"]
                else shapely.Point(r["lon"], r["lat"]),
                "keep_area": bool(r["area"]),
            }
            for r in doc["elements"]
        ]
        frame = _frame(records)
        # the stored point is the one computed when the elements were read: keep it exactly
        pts = {r["key"]: (r["lon"], r["lat"]) for r in doc["elements"]}
        xy = np.array([pts[k] for k in frame.index], dtype=np.float64).reshape(-1, 2)
        frame = frame.set_geometry(gpd.points_from_xy(xy[:, 0], xy[:, 1], crs="EPSG:4326"))
        return OsmElements(
            elements=frame,
            source=str(doc["source"]),
            origin=origin,
            data_date=doc["data_date"],
            data_date_source=str(doc["data_date_source"]),
            cache_path=path,
            covered_share=doc.get("covered_share"),
        )
    except (OSError, ValueError, KeyError, TypeError, EOFError, zlib.error) as err:
        raise DataError("osm.cache_unreadable", file=str(path), detail=str(err)) from None


def _file_elements(
    kind: str,
    tag_filter: TagFilter,
    polygon: BaseGeometry | None,
    path: Path,
    *,
    area_keys: frozenset[str],
) -> OsmElements:
    """Elements from a local file, through the cache of an earlier read of the same file."""
    if not path.is_file():
        raise DataError("osm.file_missing", file=str(path))
    cached = _file_cache_path(kind, path, polygon, tag_filter)
    if cached.is_file():
        with contextlib.suppress(DataError):  # unreadable: read the file again
            found = load_cached_elements(cached, origin="file")
            return OsmElements(**{**found.__dict__, "origin": "file"})
    found = read_pbf_elements(path, tag_filter, polygon=polygon, area_keys=area_keys)
    try:
        save_elements(found, cached)
    except (OSError, WriteError):  # a read-only or full cache only costs time
        return found
    return OsmElements(**{**found.__dict__, "cache_path": cached})


def load_elements(
    kind: str,
    tag_filter: TagFilter,
    polygon: BaseGeometry | None,
    *,
    osm_file: str | Path | None = None,
    refresh: bool = False,
    download: bool = True,
    area_keys: frozenset[str] = frozenset(),
) -> OsmElements:
    """Elements of ``kind`` (``"facilities"``, ``"places"``) in ``polygon``: file, cache, download.

    Parameters
    ----------
    kind
        Name of the filter, part of the cache key.
    tag_filter
        Keys and values wanted.
    polygon
        WGS-84 area. ``None`` reads the whole of ``osm_file`` (and needs one).
    osm_file
        Local ``.osm.pbf`` file; when given, nothing is downloaded.
    refresh
        Download again even when a cached copy exists.
    download
        Whether a download may be made at all (``False``: only the file or the cache; an
        earlier download of a larger area that covers ``polygon`` is used too).
    area_keys
        Elements with one of these tag keys keep their polygon.

    Raises
    ------
    DataError
        The file is missing or unreadable.
    NetworkError
        No file, no cached copy, and the download failed (``osm.download_failed``), or
        :func:`planning.settings.offline` is set (``osm.offline``), or ``download`` is
        ``False`` (``osm.not_cached``).
    """
    if osm_file is not None:
        return _file_elements(kind, tag_filter, polygon, Path(osm_file), area_keys=area_keys)
    if polygon is None:
        raise DataError("osm.no_area")
    path = cached_elements_path(kind, polygon, tag_filter)
    if not refresh:
        if path.is_file():
            logger.info("OSM %s from cache %s", kind, path)
            return load_cached_elements(path, origin="cache")
        larger = _covering_download(kind, polygon, tag_filter)
        if larger is not None:  # e.g. the whole city downloaded, two of its counties planned
            logger.info("OSM %s from the cached download %s", kind, larger)
            return _clip(load_cached_elements(larger, origin="cache"), polygon)
    if not download:
        raise NetworkError("osm.not_cached")
    if env_settings.offline():
        raise NetworkError("osm.offline", cache=str(path))
    found = download_elements(polygon, tag_filter, area_keys=area_keys)
    logger.info("Downloaded %d OSM %s elements", len(found.elements), kind)
    try:
        save_elements(found, path)
        _index_download(path, kind, tag_filter, polygon)
    except (OSError, WriteError):  # a read-only or full cache: the download is used all the same
        return found
    return OsmElements(**{**found.__dict__, "cache_path": path})
