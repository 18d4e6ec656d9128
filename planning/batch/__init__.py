"""Batch planning on ``dask.distributed``: one plan per unit of a region, and a roll-up.

A provincial department plans all its prefectures at once (Fujian: 9; China: about 370
prefecture-level units) against the same milestones, and re-runs them when an assumption
changes::

    from planning.batch import run_batch
    from planning.report import load_scenario_for_run

    result = run_batch(load_scenario_for_run("template.json"), "福建省", "prefecture", "out/")
    result.failed, result.table()

* :mod:`~planning.batch.units` — the units of a region at a level, each unit's scenario (the
  template with its region replaced) and its fingerprint;
* :mod:`~planning.batch.run` — :func:`run_batch`: a ``LocalCluster`` sized to the machine (or
  an existing scheduler, or your ``Client``), one task per unit, largest first, at most one
  unit per worker thread; resume, isolated failures, progress; the roll-up
  (:mod:`planning.report.batch`).

Each task gets only the unit's scenario (JSON) and the batch folder's path: the worker reads
census, boundaries and road caches itself and writes the unit's plan folder there (under a
temporary name, renamed when complete). Each worker process runs one unit at a time with HiGHS
on one thread (``KANGLE_SOLVER_THREADS=1``), so N workers use N cores without fighting.
"""

from __future__ import annotations

from planning.batch.run import (
    BATCH_JSON,
    BatchProgress,
    BatchResult,
    UnitError,
    UnitOutcome,
    default_workers,
    format_elapsed,
    open_cluster,
    read_batch,
    reusable_plan,
    run_batch,
)
from planning.batch.units import (
    LEVELS,
    NATION_NAMES,
    BatchRegion,
    BatchUnit,
    Level,
    batch_units,
    scenario_hash,
    unit_boundaries,
    unit_scenario,
)

__all__ = [
    "BATCH_JSON",
    "LEVELS",
    "NATION_NAMES",
    "BatchProgress",
    "BatchRegion",
    "BatchResult",
    "BatchUnit",
    "Level",
    "UnitError",
    "UnitOutcome",
    "batch_units",
    "default_workers",
    "format_elapsed",
    "open_cluster",
    "read_batch",
    "reusable_plan",
    "run_batch",
    "scenario_hash",
    "unit_boundaries",
    "unit_scenario",
]
