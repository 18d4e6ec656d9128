"""Travel step: minutes from every demand cell to every site, as a sparse id-keyed table.

Takes demand cells and sites (WGS-84, indexed by ``demand_id`` / ``site_id``) and the
scenario's :class:`~planning.scenario.TravelSettings`; gives a :class:`TravelTimes` (pairs
within the cut-off only, with the label every output shows and the road data's date).

* :func:`compute_travel_times` — the one entry point: the estimate or the road network, and
  the labelled fallback to the estimate when no road data can be had;
* :mod:`~planning.travel.estimate` — geodesic distance x detour factor / speed;
* :mod:`~planning.travel.roads` — OpenStreetMap road data: local files, download, cache;
* :mod:`~planning.travel.routing` — speeds, snapping and shortest paths on that network.

Speed defaults (with their sources) live in :mod:`planning.defaults`.
"""

from __future__ import annotations

from planning.travel.estimate import compute_estimated_travel_times
from planning.travel.roads import (
    RoadNetwork,
    download_road_network,
    load_network_for,
    load_osm_file,
    parse_maxspeed,
)
from planning.travel.routing import (
    compute_network_travel_times,
    contract_graph,
    edge_minutes,
    edge_speeds_kmh,
    largest_component_mask,
    snap_points,
    urban_edges_by_density,
    urban_edges_from_areas,
)
from planning.travel.table import (
    ESTIMATED_LABEL,
    TravelTimes,
    travel_label_local,
    travel_label_shown,
)
from planning.travel.times import compute_travel_times

__all__ = [
    "ESTIMATED_LABEL",
    "RoadNetwork",
    "TravelTimes",
    "compute_estimated_travel_times",
    "compute_network_travel_times",
    "compute_travel_times",
    "contract_graph",
    "download_road_network",
    "edge_minutes",
    "edge_speeds_kmh",
    "largest_component_mask",
    "load_network_for",
    "load_osm_file",
    "parse_maxspeed",
    "snap_points",
    "travel_label_local",
    "travel_label_shown",
    "urban_edges_by_density",
    "urban_edges_from_areas",
]
