"""Report step: maps, printable maps and files a planner brings to a meeting.

Takes a solved :class:`~planning.pipeline.Plan` (or a rollout result); gives the meeting kit:
the plan folder of ``solve --out`` (:mod:`~planning.report.plan`), the workbook
(:mod:`~planning.report.workbook`), GIS layers (:mod:`~planning.report.layers`), interactive
maps (:mod:`~planning.report.maps`), the printable map (:mod:`~planning.report.printmap`),
the rollout kit (:mod:`~planning.report.rollout`), the province overview
(:mod:`~planning.report.province`) and :func:`export`, which writes any of them
with a re-runnable ``scenario.json``. Every count passes the plan's privacy mask and every file
carries the travel-mode label.
"""

from __future__ import annotations

from planning.report.kit import (
    DOWNLOAD_FORMATS,
    FORMATS,
    download_mime,
    download_name,
    export,
    export_bytes,
    export_html_map,
    parse_formats,
    scenario_download_name,
)
from planning.report.labels import data_sources
from planning.report.layers import LAYERS, export_csv, export_geojson, export_gpkg, gis_layers
from planning.report.map_province import build_overview_map
from planning.report.maps import build_map, build_region_map, map_html
from planning.report.plan import export_plan, export_tables, plan_summary
from planning.report.printmap import export_print_map, render_print_map
from planning.report.province import (
    build_overview_workbook,
    export_province_overview,
    format_overview,
    overview_bytes,
    overview_tables,
    province_target_note,
)
from planning.report.reproduce import export_scenario, load_scenario_for_run
from planning.report.rollout import export_rollout, rollout_tables
from planning.report.workbook import build_workbook, export_workbook

__all__ = [
    "DOWNLOAD_FORMATS",
    "FORMATS",
    "LAYERS",
    "build_map",
    "build_overview_map",
    "build_overview_workbook",
    "build_region_map",
    "build_workbook",
    "data_sources",
    "download_mime",
    "download_name",
    "export",
    "export_bytes",
    "export_csv",
    "export_geojson",
    "export_gpkg",
    "export_html_map",
    "export_plan",
    "export_print_map",
    "export_province_overview",
    "export_rollout",
    "export_scenario",
    "export_tables",
    "export_workbook",
    "format_overview",
    "gis_layers",
    "load_scenario_for_run",
    "map_html",
    "overview_bytes",
    "overview_tables",
    "parse_formats",
    "plan_summary",
    "province_target_note",
    "render_print_map",
    "rollout_tables",
    "scenario_download_name",
]
