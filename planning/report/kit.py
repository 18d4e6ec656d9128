"""Write a solved plan to files: the meeting kit a planner hands to colleagues.

Formats: a facility plan workbook (XLSX, :mod:`~planning.report.workbook`), GIS layers
(GeoPackage, GeoJSON, CSV: :mod:`~planning.report.layers`), an interactive HTML map
(:func:`export_html_map`) and a printable map (PDF/PNG, :mod:`planning.report.printmap`);
:func:`export` writes any of them plus ``scenario.json`` (with copies of its input files),
which :func:`~planning.report.reproduce.load_scenario_for_run` reads back to reproduce the plan
(:mod:`~planning.report.reproduce`). :func:`export_bytes`
gives one format as bytes for a download.

Every patient count passes the plan's privacy mask (:mod:`planning.results.privacy`), the same
in every format, and every file carries the travel mode label.
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from planning._atomic import replacing, replacing_folder
from planning.errors import ScenarioError
from planning.report.labels import Lang, Paper, check_lang
from planning.report.layers import GPKG_NAME, export_csv, export_geojson, export_gpkg
from planning.report.maps import build_map
from planning.report.printmap import check_dpi, export_print_map
from planning.report.reproduce import (
    SCENARIO_NAME,
    export_scenario,
    load_scenario_for_run,
    scenario_has_inputs,
)
from planning.report.workbook import WORKBOOK_NAME, export_workbook

__all__ = [  # the reproducibility names too: callers read them from the kit
    "DOWNLOAD_FORMATS",
    "FORMATS",
    "HTML_NAME",
    "MIME",
    "SCENARIO_NAME",
    "ExportFile",
    "download_mime",
    "download_name",
    "export",
    "export_bytes",
    "export_html_map",
    "export_scenario",
    "load_scenario_for_run",
    "map_file_name",
    "parse_formats",
    "scenario_download_name",
    "scenario_has_inputs",
]

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from planning.pipeline import Plan


FORMATS: tuple[str, ...] = ("xlsx", "gpkg", "geojson", "csv", "html", "pdf", "png")


HTML_NAME = "map.html"


# ------------------------------------------------------------------------ maps
def export_html_map(plan: Plan, path: str | Path, *, lang: Lang = "zh") -> Path:
    """Write the interactive map (:func:`planning.report.maps.build_map`) as one HTML file."""
    p = Path(path)
    m = build_map(plan, lang=lang)
    with replacing(p) as tmp:  # atomic: a failed write keeps the old file
        m.save(str(tmp))
    return p


def map_file_name(paper: Paper, fmt: Literal["pdf", "png"]) -> str:
    """File name of the printable map, e.g. ``map_a4.pdf``."""
    return f"map_{paper}.{fmt}"


# ------------------------------------------------------------------------ everything
def parse_formats(formats: Iterable[str]) -> list[str]:
    """Normalise requested formats (``"all"`` expands); unknown ones raise ScenarioError."""
    out: list[str] = []
    for f in formats:
        for part in str(f).lower().replace(" ", "").split(","):
            if not part:
                continue
            if part == "all":
                out.extend(FORMATS)
            elif part in FORMATS:
                out.append(part)
            else:
                raise ScenarioError(
                    "report.format_unknown", format=part, choices=", ".join(FORMATS)
                )
    return list(dict.fromkeys(out))


def export(
    plan: Plan,
    out_dir: str | Path,
    *,
    formats: Iterable[str] = ("all",),
    papers: Iterable[Paper] = ("a4",),
    lang: Lang = "zh",
    dpi: int = 200,
    include_patient_counts: bool = False,
) -> list[Path]:
    """Write ``plan`` in the requested formats plus ``scenario.json`` (and its inputs).

    Parameters
    ----------
    formats
        Any of ``xlsx``, ``gpkg``, ``geojson``, ``csv``, ``html``, ``pdf``, ``png`` or ``all``.
    papers
        Paper sizes of the printable map (``a4``, ``a3``; landscape).
    lang
        ``"zh"`` (default) or ``"en"`` headers and map text.
    dpi
        Resolution of the PNG map (dots per inch, 30 to 600).
    include_patient_counts
        Copy the scenario's patient-count file into ``inputs/`` (see :func:`export_scenario`).

    Returns
    -------
    paths
        Every file written (``scenario.json`` last).

    Raises
    ------
    WriteError
        A file could not be written (disk full, read-only, permissions): every file is
        written into a temporary folder first, so ``out_dir`` keeps its old files.
    """
    lang = check_lang(lang)
    wanted = parse_formats(formats)
    check_dpi(dpi)
    paper_list = list(dict.fromkeys(papers))
    for paper in paper_list:
        if paper not in ("a4", "a3"):
            raise ScenarioError("report.paper_unknown", paper=paper)
    out = Path(out_dir)
    with replacing_folder(out) as staging:
        written = _export_into(
            plan,
            staging,
            wanted=wanted,
            papers=paper_list,
            lang=lang,
            dpi=dpi,
            include_patient_counts=include_patient_counts,
        )
    written = [out / p.relative_to(staging) for p in written]
    logger.info("Exported %s to %s (%d files)", ", ".join(wanted), out, len(written))
    return written


def _export_into(
    plan: Plan,
    out: Path,
    *,
    wanted: list[str],
    papers: list[Paper],
    lang: Lang,
    dpi: int,
    include_patient_counts: bool,
) -> list[Path]:
    """Write the formats of :func:`export` into the (temporary) folder ``out``."""
    paper_list = papers
    written: list[Path] = []
    for fmt in wanted:
        if fmt == "xlsx":
            written.append(export_workbook(plan, out / WORKBOOK_NAME, lang=lang))
        elif fmt == "gpkg":
            written.append(export_gpkg(plan, out / GPKG_NAME))
        elif fmt == "geojson":
            written.extend(export_geojson(plan, out))
        elif fmt == "csv":
            written.extend(export_csv(plan, out))
        elif fmt == "html":
            written.append(export_html_map(plan, out / HTML_NAME, lang=lang))
        else:
            written.extend(
                export_print_map(
                    plan,
                    out / map_file_name(paper, cast("Literal['pdf', 'png']", fmt)),
                    paper=paper,
                    lang=lang,
                    dpi=dpi,
                )
                for paper in paper_list
            )
    written.append(export_scenario(plan, out, include_patient_counts=include_patient_counts))
    return written


@dataclass(frozen=True)
class ExportFile:
    """One downloadable file: name, bytes and MIME type."""

    name: str
    data: bytes
    mime: str


MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
    "html": "text/html",
    "pdf": "application/pdf",
    "png": "image/png",
    "zip": "application/zip",
    "json": "application/json",
}


def _zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    return buf.getvalue()


DOWNLOAD_FORMATS: tuple[str, ...] = (*FORMATS, "scenario", "all")


def download_name(plan: Plan, fmt: str, *, paper: Paper = "a4") -> str:
    """File name :func:`export_bytes` gives ``fmt`` (known before the bytes are built)."""
    slug = _slug(plan.scenario.display_name)
    names = {
        "xlsx": WORKBOOK_NAME,
        "gpkg": GPKG_NAME,
        "html": HTML_NAME,
        "pdf": map_file_name(paper, "pdf"),
        "png": map_file_name(paper, "png"),
    }
    if fmt in names:
        return f"{slug}_{names[fmt]}"
    if fmt == "scenario" and not scenario_has_inputs(plan):
        return f"{slug}_{SCENARIO_NAME}"
    if fmt in ("geojson", "csv", "scenario", "all"):
        return f"{slug}_{fmt}.zip"
    parse_formats([fmt])  # raises ScenarioError listing the formats
    return f"{slug}_{fmt}"


def scenario_download_name(plan: Plan) -> str:
    """File name of the plan's ``scenario.json`` alone, e.g. ``莆田市示范方案_scenario.json``."""
    return f"{_slug(plan.scenario.display_name)}_{SCENARIO_NAME}"


def download_mime(fmt: str, plan: Plan | None = None) -> str:
    """MIME type of :func:`export_bytes` for ``fmt`` (of ``plan``: its scenario may be JSON)."""
    if fmt == "scenario" and plan is not None and not scenario_has_inputs(plan):
        return MIME["json"]
    return MIME.get(fmt, MIME["zip"])


def export_bytes(
    plan: Plan, fmt: str, *, lang: Lang = "zh", paper: Paper = "a4", dpi: int = 200
) -> ExportFile:
    """Return one format as bytes for a download button.

    ``xlsx``, ``gpkg``, ``html``, ``pdf`` and ``png`` give the file itself; ``geojson`` and
    ``csv`` give a ZIP of the four layers with ``scenario.json`` (and its inputs);
    ``scenario`` gives ``scenario.json`` (a ZIP with its ``inputs/`` when it has input files,
    see :func:`scenario_has_inputs`); ``all`` a ZIP of every format.
    """
    name = download_name(plan, fmt, paper=paper)
    with tempfile.TemporaryDirectory(prefix="kangle-export-") as tmp:
        folder = Path(tmp)
        if fmt == "scenario":
            path = export_scenario(plan, folder)
            if not scenario_has_inputs(plan):  # the JSON file itself, as the button says
                return ExportFile(name, path.read_bytes(), MIME["json"])
            return ExportFile(name, _zip_folder(folder), MIME["zip"])
        paths = export(plan, folder, formats=[fmt], papers=[paper], lang=lang, dpi=dpi)
        if fmt in ("geojson", "csv", "all"):
            return ExportFile(name, _zip_folder(folder), MIME["zip"])
        return ExportFile(name, paths[0].read_bytes(), MIME[fmt])


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name).strip("_")
    return keep[:60] or "plan"
