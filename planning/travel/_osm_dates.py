"""When OSM data was current: dates read from ``.osm.pbf`` headers and ``.osm`` XML files.

The readers live in :mod:`planning._osm` (shared with the OSM facilities and place names of
:mod:`planning.inputs`); this module keeps the travel step's names for them.
"""

from __future__ import annotations

from planning._osm import _iso_utc, _pbf_date, _xml_date, pbf_replication_timestamp

__all__ = ["_iso_utc", "_pbf_date", "_xml_date", "pbf_replication_timestamp"]
