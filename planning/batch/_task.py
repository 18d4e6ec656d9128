"""What a worker does for one unit: solve, write the plan folder, move it into place.

Runs in a Dask worker process (or anywhere: nothing here needs a worker). The worker gets the
unit's scenario as JSON and the batch folder's path, reads census, boundaries and road caches
itself, and returns a small JSON-ready record; the plan never travels back. The folder is
written under a temporary name (``.partial-...``) and renamed to ``<adcode>-<name>`` only once
every file and the completion record (``batch_unit.json``, written last) are there, so a
killed worker leaves nothing that looks finished.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import os
import shutil
import time
import traceback
import uuid
import warnings
from pathlib import Path
from typing import Any

from planning import pipeline
from planning.errors import PlanningError
from planning.report import export_plan
from planning.results.rollup import unit_figures
from planning.scenario import Scenario

logger = logging.getLogger(__name__)

MARKER = "batch_unit.json"
"""Completion record of a unit's plan folder, written last."""
MARKER_FORMAT = 1
PARTIAL_PREFIX = ".partial-"
"""Folders being written: never taken as complete, removed by the next run."""
REPLACED_PREFIX = ".replaced-"
"""An older plan folder moved aside while its replacement moves in."""
SOLVER_THREADS = "1"
"""HiGHS threads per worker process (``KANGLE_SOLVER_THREADS``)."""


def _emit(topic: str | None, adcode: str, stage: str) -> None:
    """Tell the client which stage the unit is in (a Dask event; nothing outside a worker)."""
    if not topic:
        return
    try:
        from distributed import get_worker  # noqa: PLC0415 - only inside a worker

        get_worker().log_event(topic, {"adcode": adcode, "stage": stage})
    except (ImportError, ValueError):  # not running in a Dask worker
        return


def _stage(fraction: float) -> str:
    if fraction < 0.6:
        return "preparing"
    if fraction < 0.95:
        return "solving"
    return "summarising"


def _texts(item: PlanningError | Warning | str) -> dict[str, str]:
    """Render a message in both languages (plain text where it has no catalog key)."""
    if isinstance(item, PlanningError):
        return {"zh": item.text("zh"), "en": item.text("en")}
    text_of = getattr(item, "text", None)
    if callable(text_of):  # PlanningWarning
        return {"zh": str(text_of("zh")), "en": str(text_of("en"))}
    return {"zh": str(item), "en": str(item)}


def move_into_place(tmp: Path, final: Path) -> None:
    """Rename the finished folder ``tmp`` to ``final``, replacing an older ``final``.

    Renames within one folder are atomic: at no time does ``final`` hold a mix of old and new
    files. If the process dies between the two renames, the old plan is left as
    ``.replaced-...`` and ``final`` is missing, so the unit is redone.
    """
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f"{REPLACED_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def solve_unit(job: dict[str, Any]) -> dict[str, Any]:
    """Plan one unit and write its folder; return its record (never raises for the unit).

    Parameters
    ----------
    job
        ``adcode``, ``name``, ``folder`` (name of the plan folder), ``out_dir`` (the batch
        folder, as seen by the worker), ``scenario`` (the unit's scenario JSON), ``hash``
        (:func:`~planning.batch.units.scenario_hash`), ``run_id`` and ``topic`` (Dask event
        topic for progress, or ``None``).

    Returns
    -------
    record
        ``status`` ``"done"`` with ``figures``, ``hidden`` and ``files``, or ``"failed"``
        with ``error`` (``kind``: ``"planning"`` for a planning error, ``"bug"`` for anything
        else, with the traceback; ``code``; the message as ``zh`` and ``en``); and in both
        cases ``warnings`` (each ``{"zh", "en"}``), ``elapsed_s`` and ``worker`` (process).
    """
    os.environ.setdefault("KANGLE_SOLVER_THREADS", SOLVER_THREADS)
    t0 = time.perf_counter()
    adcode, topic = str(job["adcode"]), job.get("topic")
    _emit(topic, adcode, "preparing")
    out = Path(job["out_dir"])
    tmp = out / f"{PARTIAL_PREFIX}{job['folder']}-{uuid.uuid4().hex[:8]}"
    record: dict[str, Any] = {"adcode": adcode, "status": "failed", "run_id": job["run_id"]}
    last = ["preparing"]

    def progress(fraction: float, _text: str) -> None:
        stage = _stage(fraction)
        if stage != last[0]:
            last[0] = stage
            _emit(topic, adcode, stage)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            scenario = Scenario.from_json(job["scenario"])
            plan = pipeline.run(scenario, progress=progress)
            _emit(topic, adcode, "writing")
            figures, hidden = unit_figures(plan.tables, threshold=scenario.privacy_threshold)
            written = export_plan(plan, tmp)
            del plan
            files = sorted(str(p.relative_to(tmp)) for p in written)
            elapsed = time.perf_counter() - t0
            marker = {
                "format": MARKER_FORMAT,
                "adcode": adcode,
                "name": job["name"],
                "scenario_hash": job["hash"],
                "run_id": job["run_id"],
                "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "elapsed_s": round(elapsed, 2),
                "files": files,
                # patient counts as the plan's own files show them (summary.json)
                "figures": _public(figures, hidden),
                "hidden": hidden,
                "warnings": _warning_texts(caught),
            }
            (tmp / MARKER).write_text(
                json.dumps(marker, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            move_into_place(tmp, out / job["folder"])
            record.update(status="done", figures=figures, hidden=hidden, files=files)
        except PlanningError as err:
            record["error"] = {"kind": "planning", "code": err.code, **_texts(err)}
        except Exception as err:  # noqa: BLE001 - one unit's bug must not stop the others
            text = f"{type(err).__name__}: {err}"
            record["error"] = {
                "kind": "bug",
                "code": type(err).__name__,
                "zh": text,
                "en": text,
                "traceback": traceback.format_exc(),
            }
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    record["warnings"] = _warning_texts(caught)
    record["elapsed_s"] = round(time.perf_counter() - t0, 3)
    record["worker"] = f"pid {os.getpid()}"
    gc.collect()  # the next unit starts from a clean heap
    return record


def _warning_texts(caught: list[warnings.WarningMessage]) -> list[dict[str, str]]:
    """Return the user warnings caught, each in both languages, without repeats."""
    seen: dict[str, dict[str, str]] = {}
    for w in caught:
        if issubclass(w.category, UserWarning):
            texts = _texts(w.message)
            seen.setdefault(texts["en"], texts)
    return list(seen.values())


def _public(figures: dict[str, Any], hidden: dict[str, str]) -> dict[str, Any]:
    return {**figures, **hidden}
