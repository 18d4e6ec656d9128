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
* :mod:`~planning.batch.run` — :func:`run_batch`: the units, resume, the cluster's work, the
  roll-up (:mod:`planning.report.batch`);
* :mod:`~planning.batch.cluster` — :func:`open_cluster`: a ``LocalCluster`` sized to the
  machine (:func:`default_workers`), or an existing scheduler, or your ``Client``;
* :mod:`~planning.batch.folders` — the batch folder: made ready, leftovers cleared, complete
  unit plans reused (:func:`reusable_plan`);
* :mod:`~planning.batch.result` — what a batch hands back: :class:`UnitOutcome`,
  :class:`BatchProgress`, :class:`BatchResult`;
* :mod:`~planning.batch.record` — ``batch.json``, the record of the last run
  (:func:`read_batch`);
* underneath, ``_dispatch`` (one task per unit, largest first, at most one unit per worker
  thread; isolated failures, progress) and ``_task`` (what a worker does for one unit).

Each task gets only the unit's scenario (JSON) and the batch folder's path: the worker reads
census, boundaries and road caches itself and writes the unit's plan folder there (under a
temporary name, renamed when complete). Each worker process runs one unit at a time with HiGHS
on one thread (``KANGLE_SOLVER_THREADS=1``), so N workers use N cores without fighting.
"""

from __future__ import annotations

from planning.batch.cluster import default_workers, open_cluster
from planning.batch.folders import reusable_plan
from planning.batch.record import BATCH_JSON, read_batch
from planning.batch.result import (
    BatchProgress,
    BatchResult,
    UnitError,
    UnitOutcome,
    format_elapsed,
)
from planning.batch.run import run_batch
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
