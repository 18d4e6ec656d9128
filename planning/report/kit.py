"""Write a solved plan to files: the meeting kit a planner hands to colleagues.

Formats: a facility plan workbook (XLSX, :mod:`~planning.report.workbook`), GIS layers
(GeoPackage, GeoJSON, CSV: :mod:`~planning.report.layers`), an interactive HTML map
(:func:`export_html_map`) and a printable map (PDF/PNG, :mod:`planning.report.printmap`);
:func:`export` writes any of them plus ``scenario.json`` (with copies of its input files),
which :func:`load_scenario_for_run` reads back to reproduce the plan. :func:`export_bytes`
gives one format as bytes for a download.

Every patient count passes the plan's privacy mask (:mod:`planning.results.privacy`), the same
in every format, and every file carries the travel mode label.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from planning import i18n
from planning.errors import DataError, PlanningWarning, ScenarioError
from planning.report._shared import make_folder
from planning.report.labels import Lang, Paper, check_lang
from planning.report.layers import GPKG_NAME, export_csv, export_geojson, export_gpkg
from planning.report.maps import build_map
from planning.report.printmap import export_print_map
from planning.report.workbook import WORKBOOK_NAME, export_workbook
from planning.scenario import Scenario
from planning.scenario_store import original_name

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from planning.pipeline import Plan


FORMATS: tuple[str, ...] = ("xlsx", "gpkg", "geojson", "csv", "html", "pdf", "png")


HTML_NAME = "map.html"


SCENARIO_NAME = "scenario.json"


INPUTS_DIR = "inputs"


# ------------------------------------------------------------------------ maps
def export_html_map(plan: Plan, path: str | Path, *, lang: Lang = "zh") -> Path:
    """Write the interactive map (:func:`planning.report.maps.build_map`) as one HTML file."""
    p = Path(path)
    make_folder(p.parent)
    m = build_map(plan, lang=lang)
    m.save(str(p))
    return p


def map_file_name(paper: Paper, fmt: Literal["pdf", "png"]) -> str:
    """File name of the printable map, e.g. ``map_a4.pdf``."""
    return f"map_{paper}.{fmt}"


# ------------------------------------------------------------------------ reproducibility
_INPUT_FIELDS = (
    ("facilities_file", "facilities"),
    ("patients_file", "patients"),
    ("weight_layer", "weights"),
)


_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _copy_input(src: Path, inputs: Path, role: str) -> str:
    """Copy ``src`` (and shapefile sidecars) to ``inputs/``; return its path relative to out."""
    if not src.exists():
        role_name = i18n.Msg(f"report.input_role.{role}")
        raise DataError("report.input_file_missing", role=role_name, path=str(src))
    make_folder(inputs)
    own = Path(original_name(src)).stem  # the planner's name, without the library's hash tag
    stem = own if own.startswith(f"{role}_") else f"{role}_{own}"
    if src.suffix.lower() == ".shp":
        for part in src.parent.glob(src.stem + ".*"):
            if part.suffix.lower() in _SHAPEFILE_PARTS:
                shutil.copy2(part, inputs / f"{stem}{part.suffix}")
    else:
        shutil.copy2(src, inputs / f"{stem}{src.suffix}")
    return f"{INPUTS_DIR}/{stem}{src.suffix}"


def export_scenario(
    plan: Plan, out_dir: str | Path, *, include_patient_counts: bool = False
) -> Path:
    """Write ``scenario.json`` into ``out_dir`` so the folder alone reproduces the plan.

    Input files the scenario refers to (``facilities_file``, ``weight_layer``,
    ``travel.osm_file``) are copied into ``out_dir/inputs/`` and the scenario written with
    paths relative to ``out_dir``; read it back with :func:`load_scenario_for_run`. A
    facility layer given to the pipeline directly (an app upload) is written as
    ``inputs/facilities.geojson`` (WGS-84).

    Privacy: a ``patients_file`` holds exact counts, possibly below the privacy threshold, so
    it is copied only with ``include_patient_counts=True`` (for the planner's own archive,
    not for sharing). Otherwise ``scenario.json`` keeps the absolute path of the original,
    which reproduces the plan where that file is readable, and a ``UserWarning`` says so.
    """
    out = make_folder(Path(out_dir))
    sc = plan.scenario
    inputs = out / INPUTS_DIR
    changes: dict[str, Any] = {}
    for field, role in _INPUT_FIELDS:
        value = getattr(sc, field)
        if not value:
            continue
        if field == "patients_file" and not include_patient_counts:
            changes[field] = str(Path(value).resolve())
            warnings.warn(
                PlanningWarning("report.patients_not_copied", file=Path(value).name),
                stacklevel=2,
            )
            continue
        changes[field] = _copy_input(Path(value), inputs, role)
    if not sc.facilities_file and plan.facilities is not None and len(plan.facilities):
        make_folder(inputs)
        fac = plan.facilities.reset_index()
        fac_path = inputs / "facilities.geojson"
        if fac_path.exists():
            fac_path.unlink()
        fac.to_file(fac_path, driver="GeoJSON")
        changes["facilities_file"] = f"{INPUTS_DIR}/facilities.geojson"
        changes["facilities_crs"] = "wgs84"
    if sc.travel.osm_file:
        travel = sc.travel.model_dump(mode="json")
        travel["osm_file"] = _copy_input(Path(sc.travel.osm_file), inputs, "roads")
        changes["travel"] = travel
    scenario = sc.replace(**changes) if changes else sc
    return scenario.save(out / SCENARIO_NAME)


def load_scenario_for_run(path: str | Path) -> Scenario:
    """Read a ``scenario.json`` and resolve its relative input paths against its folder.

    A relative ``facilities_file``, ``patients_file``, ``weight_layer`` or
    ``travel.osm_file`` that exists next to the scenario file is made absolute; otherwise it
    is left as written (relative to the working directory).
    """
    p = Path(path)
    sc = Scenario.load(p)
    base = p.resolve().parent

    def resolve(value: str | None) -> str | None:
        if not value or Path(value).is_absolute():
            return value
        candidate = base / value
        return str(candidate) if candidate.exists() else value

    changes: dict[str, Any] = {}
    for field, _ in _INPUT_FIELDS:
        value = getattr(sc, field)
        new = resolve(value)
        if new != value:
            changes[field] = new
    osm = resolve(sc.travel.osm_file)
    if osm != sc.travel.osm_file:
        travel = sc.travel.model_dump(mode="json")
        travel["osm_file"] = osm
        changes["travel"] = travel
    return sc.replace(**changes) if changes else sc


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
        Resolution of the PNG map.
    include_patient_counts
        Copy the scenario's patient-count file into ``inputs/`` (see :func:`export_scenario`).

    Returns
    -------
    paths
        Every file written (``scenario.json`` last).
    """
    lang = check_lang(lang)
    wanted = parse_formats(formats)
    paper_list = list(dict.fromkeys(papers))
    for paper in paper_list:
        if paper not in ("a4", "a3"):
            raise ScenarioError("report.paper_unknown", paper=paper)
    out = make_folder(Path(out_dir))
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
    logger.info("Exported %s to %s (%d files)", ", ".join(wanted), out, len(written))
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


def scenario_has_inputs(plan: Plan) -> bool:
    """Whether ``scenario.json`` needs input files beside it (:func:`export_scenario` copies).

    Without any, the ``scenario`` download is the JSON file itself; with them, a ZIP of the
    file and its ``inputs/`` folder, so the download alone reproduces the plan.
    """
    sc = plan.scenario
    uploaded = plan.facilities is not None and len(plan.facilities) > 0
    return bool(sc.facilities_file or sc.weight_layer or sc.travel.osm_file or uploaded)


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
