"""The batch folder: made ready, cleared of what killed runs left, and the unit folders kept.

A run prepares the folder (:func:`prepare_out`: created and checked writable, or a
``DataError`` before anything else happens), clears ``.partial-*`` / ``.replaced-*`` leftovers
(:func:`clean_partial`), keeps every unit folder that holds a complete plan for the same
scenario (:func:`reusable_plan`: the resume), and moves aside the old folder of a unit that
failed (:func:`drop_stale`). Exact patient counts that a unit's own files hide are kept in the
cache, not in the batch folder (:func:`remember_raw`), so a resumed roll-up can still add up.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from planning import settings
from planning.batch._task import MARKER, MARKER_FORMAT, PARTIAL_PREFIX, REPLACED_PREFIX
from planning.batch.result import UnitOutcome
from planning.batch.units import BatchUnit
from planning.errors import DataError


def prepare_out(out: Path) -> list[Path]:
    """Create ``out`` (and missing parents) and check it is writable; return what was created.

    Raises
    ------
    DataError
        ``out`` is a file, or cannot be created or written; anything created is removed.
    """
    if out.exists() and not out.is_dir():
        raise DataError("batch.out_not_folder", path=str(out))
    missing = []
    p = out
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    created: list[Path] = []
    try:
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
        probe = out / f".write-test-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        remove_created(created)
        raise DataError(
            "batch.out_not_writable",
            path=str(out),
            reason=err.strerror or str(err),
        ) from None
    return created


def remove_created(created: Sequence[Path]) -> None:
    """Remove folders this run created, deepest first, if they are still empty."""
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()


def clean_partial(out: Path) -> None:
    """Remove what killed runs left behind: ``.partial-*`` / ``.replaced-*`` folders, temp files."""
    for child in out.iterdir():
        name = child.name
        if child.is_dir() and name.startswith((PARTIAL_PREFIX, REPLACED_PREFIX)):
            shutil.rmtree(child, ignore_errors=True)
        elif child.is_file() and name.startswith(".") and name.endswith(".tmp"):
            child.unlink(missing_ok=True)


def _raw_path(digest: str) -> Path:
    return settings.cache_dir() / "batch" / f"{digest}.json"


def remember_raw(digest: str, run_id: str, figures: Mapping[str, Any]) -> None:
    """Keep a unit's exact patient counts out of the batch folder, for a resumed roll-up.

    Only for units whose own files hide a count: the roll-up needs the exact value to add
    up the total, and the batch folder (shared with others) must not hold it.
    """
    path = _raw_path(digest)
    data = {"run_id": run_id, **{k: figures[k] for k in ("patients_total", "patients_within")}}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")


def _recall_raw(digest: str, run_id: str) -> dict[str, float] | None:
    try:
        data = json.loads(_raw_path(digest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("run_id") != run_id:
        return None
    return {k: float(data[k]) for k in ("patients_total", "patients_within")}


def reusable_plan(out: Path, unit: BatchUnit, digest: str) -> UnitOutcome | None:
    """Return the unit's plan in ``out`` if complete and for the same scenario, else ``None``.

    Complete: its folder has ``batch_unit.json`` (written last, just before the folder got
    its final name) with the same scenario fingerprint, and every file listed there exists.
    A folder being written (``.partial-*``), one without the record or missing a file, or
    one for another scenario is not reused.
    """
    folder = out / unit.folder
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT:
        return None
    if data.get("scenario_hash") != digest or data.get("adcode") != unit.adcode:
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all((folder / str(f)).is_file() for f in files):
        return None
    figures = dict(data.get("figures") or {})
    hidden = {str(k): str(v) for k, v in (data.get("hidden") or {}).items()}
    if hidden:
        raw = _recall_raw(digest, str(data.get("run_id")))
        if raw is None:  # the exact counts are not known here: plan it again
            return None
        figures.update(raw)
    return UnitOutcome(
        unit=unit,
        status="done",
        reused=True,
        folder=folder,
        figures=figures,
        hidden=hidden,
        warnings=tuple(data.get("warnings") or ()),
        elapsed_s=float(data.get("elapsed_s") or 0.0),
    )


def drop_stale(out: Path, unit: BatchUnit, digest: str) -> None:
    """Remove a failed unit's old folder: a plan for another scenario, or half-written.

    A complete plan for the same scenario (planned again with ``force``) is kept.
    """
    folder = out / unit.folder
    if folder.is_dir() and reusable_plan(out, unit, digest) is None:
        aside = folder.with_name(f"{REPLACED_PREFIX}{folder.name}-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(OSError):
            folder.rename(aside)
            shutil.rmtree(aside, ignore_errors=True)
