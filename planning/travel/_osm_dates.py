"""When OSM data was current: dates read from ``.osm.pbf`` headers and ``.osm`` XML files."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from defusedxml.ElementTree import ParseError, iterparse


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
