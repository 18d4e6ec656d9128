"""Write a phased rollout plan to files: the data, the presentable kit, the maps.

:func:`export_rollout` writes the whole kit; the parts live beside it and are re-exported here
for the callers (the app's Rollout page, the command line):

* :mod:`~planning.report.rollout_tables` — the tables as written (privacy rule applied,
  travel mode labelled), the data workbook ``rollout.xlsx`` and ``rollout.gpkg``;
* :mod:`~planning.report.rollout_book` — the presentable workbook ``rollout_plan.xlsx``;
* :mod:`~planning.report.rollout_map` — the interactive map (sites by opening year);
* :mod:`~planning.report.rollout_print` — the printable map, one panel per year.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd

from planning._atomic import replacing, replacing_folder
from planning.report.labels import Lang
from planning.report.rollout_book import (
    PLAN_XLSX_NAME,
    build_rollout_workbook,
    differs_note,
    rollout_workbook_bytes,
)
from planning.report.rollout_map import (
    EXISTING_COLOUR,
    LATER_COLOUR,
    YEAR_COLOURS,
    build_rollout_map,
    year_colours,
)
from planning.report.rollout_print import (
    PRINT_NAME,
    export_rollout_print_map,
    render_rollout_print_map,
    rollout_print_map_bytes,
)
from planning.report.rollout_tables import (
    GPKG_NAME,
    PATIENT_COLUMNS,
    XLSX_NAME,
    rollout_gpkg_bytes,
    rollout_layers,
    rollout_tables,
    rollout_xlsx_bytes,
    write_rollout_gpkg,
    write_rollout_xlsx,
)
from planning.results.rollout import RolloutResult

__all__ = [
    "EXISTING_COLOUR",
    "GPKG_NAME",
    "LATER_COLOUR",
    "PATIENT_COLUMNS",
    "PLAN_XLSX_NAME",
    "PRINT_NAME",
    "XLSX_NAME",
    "YEAR_COLOURS",
    "build_rollout_map",
    "build_rollout_workbook",
    "differs_note",
    "export_rollout",
    "export_rollout_print_map",
    "render_rollout_print_map",
    "rollout_gpkg_bytes",
    "rollout_layers",
    "rollout_print_map_bytes",
    "rollout_tables",
    "rollout_workbook_bytes",
    "rollout_xlsx_bytes",
    "write_rollout_gpkg",
    "write_rollout_xlsx",
    "year_colours",
]

logger = logging.getLogger(__name__)


def export_rollout(
    result: RolloutResult,
    out_dir: str | Path,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
    lang: Lang = "zh",
) -> list[Path]:
    """Write ``rollout.xlsx``, ``rollout.gpkg``, ``rollout_*.csv`` and ``scenario.json``.

    Also the presentable kit in ``lang``: ``rollout_plan.xlsx``
    (:func:`build_rollout_workbook`) and, with ``counties``, ``rollout_map_a4.pdf``
    (:func:`render_rollout_print_map`). ``rollout.xlsx`` is the data workbook
    (machine-readable names, for re-use).

    Parameters
    ----------
    out_dir
        Folder, created if needed. Files of the same names are replaced; nothing else in the
        folder is touched.
    sites
        Site layer the plan was solved on (index ``site_id``, Point geometry).
    counties
        County layer (index ``county_id``, polygons) for the ``counties`` GeoPackage layer.

    Returns
    -------
    paths
        The files written.

    Raises
    ------
    DataError
        ``sites`` lacks a site of the plan.
    WriteError
        A file could not be written (disk full, read-only, permissions). Every file is
        written into a temporary folder first, so ``out_dir`` keeps its previous files.
    """
    out = Path(out_dir)
    names = [GPKG_NAME, XLSX_NAME]
    with replacing_folder(out) as staging:
        write_rollout_gpkg(
            result, staging / GPKG_NAME, sites=sites, counties=counties, travel_label=travel_label
        )
        write_rollout_xlsx(result, staging / XLSX_NAME, sites=sites, travel_label=travel_label)
        # the presentable kit: the workbook in ``lang`` and the printable map (one panel a year)
        book = build_rollout_workbook(result, sites=sites, travel_label=travel_label, lang=lang)
        with replacing(staging / PLAN_XLSX_NAME) as tmp:
            book.save(tmp)  # type: ignore[attr-defined]
        names.append(PLAN_XLSX_NAME)
        if counties is not None:
            printed = export_rollout_print_map(
                result,
                staging / PRINT_NAME.format(paper="a4"),
                sites=sites,
                counties=counties,
                travel_label=travel_label,
                lang=lang,
            )
            names.append(printed.name)
        tables = rollout_tables(result, sites=sites, travel_label=travel_label)
        for key, index in (
            ("years", True),
            ("milestones", False),
            ("sites", True),
            ("counties", False),
        ):
            name = f"rollout_{key}.csv"
            with replacing(staging / name) as tmp:
                tables[key].to_csv(tmp, index=index, encoding="utf-8-sig")
            names.append(name)
        names.append(result.scenario.save(staging / "scenario.json").name)
    written = [out / name for name in names]
    logger.info("Exported the rollout (%d files) to %s", len(written), out)
    return written
