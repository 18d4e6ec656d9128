"""``scenario.json`` and its input files: the exported folder alone reproduces the plan.

:func:`export_scenario` writes the scenario with every input file it refers to copied into
``inputs/`` (paths relative to the folder); :func:`load_scenario_for_run` reads it back with
those paths resolved, so ``python -m planning export OUT/scenario.json`` (or ``solve
--scenario``) re-runs the plan from the folder, offline.

Inputs that exist only in memory or in the cache are written out too:

* a facility layer handed to the pipeline directly (an app upload): ``inputs/facilities.geojson``;
* the facilities a plan took from OpenStreetMap (``candidate_source`` ``osm`` / ``grid+osm``,
  downloaded or read from the cache, or from a ``.osm.pbf``): ``inputs/osm_facilities.csv``,
  the OSM facility table of ``python -m planning facilities`` (typed, with ``数据来源``
  OpenStreetMap, ``数据日期`` and the tags), referred to by the scenario's
  ``osm_facilities_file``. The re-run reads the facilities from that table instead of the
  download cache: the same rows, ids and data date, without a network or the cache. The
  planner's own facility table (``facilities_file``) stays a file of its own beside it.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planning import i18n
from planning._atomic import replacing
from planning.errors import DataError, PlanningWarning
from planning.inputs.osm import osm_table, write_facility_table
from planning.report._shared import make_folder
from planning.scenario import Scenario
from planning.scenario_store import original_name

if TYPE_CHECKING:
    from planning.pipeline import Plan

SCENARIO_NAME = "scenario.json"
INPUTS_DIR = "inputs"
OSM_FACILITIES_NAME = "osm_facilities.csv"
"""The OpenStreetMap facilities a plan used, as a facility table (``inputs/`` of the kit)."""

_INPUT_FIELDS = (
    ("facilities_file", "facilities"),
    ("patients_file", "patients"),
    ("weight_layer", "weights"),
    ("osm_facilities_file", "osm_facilities"),
)


_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _copy_input(src: Path, inputs: Path, role: str) -> str:
    """Copy ``src`` (and shapefile sidecars) to ``inputs/``; return its path relative to out."""
    if not src.exists():
        role_name = i18n.Msg(f"report.input_role.{role}")
        raise DataError("report.input_file_missing", role=role_name, path=str(src))
    make_folder(inputs)
    own = Path(original_name(src)).stem  # the planner's name, without the library's hash tag
    # the kit's own OSM table keeps its name in a kit of a re-run (copied, not renamed);
    # any other file is named after its role ("facilities_<the planner's name>")
    kit_table = role == "osm_facilities" and own == role
    stem = own if kit_table or own.startswith(f"{role}_") else f"{role}_{own}"
    if src.suffix.lower() == ".shp":
        for part in src.parent.glob(src.stem + ".*"):
            if part.suffix.lower() in _SHAPEFILE_PARTS:
                with replacing(inputs / f"{stem}{part.suffix}") as tmp:  # atomic
                    shutil.copy2(part, tmp)
    else:
        with replacing(inputs / f"{stem}{src.suffix}") as tmp:  # atomic
            shutil.copy2(src, tmp)
    return f"{INPUTS_DIR}/{stem}{src.suffix}"


def osm_snapshot_rows(plan: Plan) -> Any:
    """Rows of the plan's facility layer that OpenStreetMap gave this run (else ``None``).

    Those loaded by :func:`planning.inputs.add_osm_facilities` from a download, the cache or
    a ``.osm.pbf`` (they carry their tags, ``osm_tags``); not those of a facility table the
    scenario names (the planner's own, or an OSM table already written).
    """
    fac = plan.facilities
    sc = plan.scenario
    if fac is None or "osm" not in sc.candidate_source or sc.osm_facilities_file:
        return None
    if "osm_tags" not in fac.columns or "data_source" not in fac.columns:
        return None
    rows = fac[fac["osm_tags"].notna() & (fac["data_source"].astype(str) == "osm")]
    return rows if len(rows) else None


def export_scenario(
    plan: Plan, out_dir: str | Path, *, include_patient_counts: bool = False
) -> Path:
    """Write ``scenario.json`` into ``out_dir`` so the folder alone reproduces the plan.

    Input files the scenario refers to (``facilities_file``, ``weight_layer``,
    ``osm_facilities_file``, ``travel.osm_file``) are copied into ``out_dir/inputs/`` and the
    scenario written with paths relative to ``out_dir``; read it back with
    :func:`load_scenario_for_run`. A facility layer given to the pipeline directly (an app
    upload) is written as ``inputs/facilities.geojson`` (WGS-84), and the facilities taken
    from OpenStreetMap as ``inputs/osm_facilities.csv`` (see the module docstring).

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
    osm_rows = osm_snapshot_rows(plan)
    if osm_rows is not None:
        names = plan.counties["name"].astype(str).to_dict()
        table = osm_table(osm_rows, county_names=names)
        write_facility_table(table, inputs / OSM_FACILITIES_NAME)
        changes["osm_facilities_file"] = f"{INPUTS_DIR}/{OSM_FACILITIES_NAME}"
    uploaded = plan.facilities
    if uploaded is not None and osm_rows is not None:
        uploaded = uploaded.drop(index=osm_rows.index)
    if not sc.facilities_file and uploaded is not None and len(uploaded):
        make_folder(inputs)
        fac = uploaded.drop(columns=["osm_tags", "osm_reason"], errors="ignore").reset_index()
        with replacing(inputs / "facilities.geojson") as tmp:  # atomic
            fac.to_file(tmp, driver="GeoJSON")
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

    A relative ``facilities_file``, ``patients_file``, ``weight_layer``,
    ``osm_facilities_file`` or ``travel.osm_file`` that exists next to the scenario file is
    made absolute; otherwise it is left as written (relative to the working directory).
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


def scenario_has_inputs(plan: Plan) -> bool:
    """Whether ``scenario.json`` needs input files beside it (:func:`export_scenario` copies).

    Without any, the ``scenario`` download is the JSON file itself; with them, a ZIP of the
    file and its ``inputs/`` folder, so the download alone reproduces the plan.
    """
    sc = plan.scenario
    uploaded = plan.facilities is not None and len(plan.facilities) > 0
    files = (sc.facilities_file, sc.weight_layer, sc.osm_facilities_file, sc.travel.osm_file)
    return bool(any(files) or uploaded)
