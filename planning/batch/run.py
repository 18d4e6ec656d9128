"""Run a batch on ``dask.distributed``: one task per unit, progress, resume, the roll-up.

:func:`run_batch` lists the units, reuses every unit folder that already holds a complete plan
for the same scenario, sends the others to a Dask cluster (a ``LocalCluster`` sized to the
machine, an existing scheduler, or a ``Client`` you pass), collects one small record per unit
as it completes, and writes the roll-up. The client keeps at most one unit per worker thread in
flight: a worker holds one unit's inputs at a time, the largest units start first, and a worker
that dies (out of memory, killed) takes down only the units it was running. Those are retried
once on another worker (the LocalCluster sets ``distributed.scheduler.allowed-failures`` to 1)
and then reported as failed with the reason.

The steps live beside it: the batch folder and resume in :mod:`~planning.batch.folders`, the
cluster in :mod:`~planning.batch.cluster`, the dispatch loop in ``_dispatch``, ``batch.json``
in :mod:`~planning.batch.record`, the values handed back in :mod:`~planning.batch.result`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
from distributed import Client

from planning.batch._dispatch import run_units
from planning.batch.folders import clean_partial, prepare_out, remove_created, reusable_plan
from planning.batch.record import write_record
from planning.batch.result import BatchProgress, BatchResult, UnitOutcome, units_frame
from planning.batch.units import (
    BatchUnit,
    batch_units,
    scenario_hash,
    unit_boundaries,
    unit_scenario,
)
from planning.report.batch import export_rollup
from planning.report.labels import Lang, Paper
from planning.scenario import Scenario

logger = logging.getLogger(__name__)


def run_batch(
    template: Scenario,
    region: str,
    by: str = "prefecture",
    out_dir: str | Path = "batch",
    *,
    only: Iterable[str] | None = None,
    client: Client | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[BatchProgress], None] | None = None,
    lang: Lang = "zh",
    papers: Sequence[Paper] = ("a4",),
) -> BatchResult:
    """Plan every unit of ``region`` at level ``by`` with ``template``, on Dask; write the roll-up.

    Parameters
    ----------
    template
        The scenario each unit runs with its region replaced (:func:`unit_scenario`).
    region, by, only
        Units: see :func:`planning.batch.batch_units` (``"全国"`` for the whole country).
    out_dir
        The batch folder: ``<adcode>-<name>/`` per unit (the files of ``solve --out`` plus
        ``batch_unit.json``), and the roll-up (``batch_summary.csv`` / ``.xlsx``,
        ``batch_map_<paper>.pdf`` / ``.png``, ``batch.json``). With ``scheduler``, workers
        write the unit folders themselves, so it must be the same path on every worker
        (a shared file system). One batch per folder at a time: a run clears what killed
        runs left behind there (``.partial-*`` folders).
    client
        An existing ``distributed.Client`` to run on (left open).
    workers
        Size of the ``LocalCluster`` started otherwise: worker processes, one thread each
        (default :func:`default_workers`).
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``) instead of a local cluster;
        start its workers with one thread each (``dask worker ADDRESS --nthreads 1``).
    force
        Plan every unit again, even those with a complete plan for the same scenario.
    progress
        Called with a :class:`BatchProgress` when a unit finishes, and about twice a second.
    lang, papers
        Language of the roll-up (``"zh"``/``"en"``) and paper sizes of its map.

    Returns
    -------
    result
        Every unit's outcome; failed units carry their message, the others keep theirs.

    Raises
    ------
    PlanningError
        Only for the batch as a whole, before anything is written: no units at that level
        (``DataError``), a batch folder that cannot be written (``DataError``), an
        unreachable scheduler (``NetworkError``). A unit's failure is its outcome instead.
    """
    t0 = time.perf_counter()
    batch = batch_units(region, by, only=only)
    out = Path(out_dir).expanduser().resolve()
    scenarios = {u.adcode: unit_scenario(template, u) for u in batch.units}
    digests = {a: scenario_hash(s) for a, s in scenarios.items()}
    created = prepare_out(out)
    outcomes: dict[str, UnitOutcome] = {}
    try:
        clean_partial(out)
        todo: list[BatchUnit] = []
        for unit in batch.units:
            kept = None if force else reusable_plan(out, unit, digests[unit.adcode])
            if kept is None:
                todo.append(unit)
            else:
                outcomes[unit.adcode] = kept
        outlines = functools.cache(lambda: unit_boundaries(batch))
        workers_used = 0
        if todo:
            workers_used = run_units(
                todo,
                scenarios=scenarios,
                digests=digests,
                out=out,
                outlines=outlines,
                outcomes=outcomes,
                total=len(batch.units),
                t0=t0,
                client=client,
                workers=workers,
                scheduler=scheduler,
                progress=progress,
            )
    except BaseException:
        remove_created(created)
        raise
    ordered = tuple(outcomes[u.adcode] for u in batch.units)
    result = BatchResult(
        region=batch.name,
        by=batch.by,
        out_dir=out,
        template=template,
        units=ordered,
        elapsed_s=time.perf_counter() - t0,
        workers=workers_used,
    )
    record = write_record(result, batch, digests, result.table(lang=lang))
    files = export_rollup(
        units_frame(ordered, lang=lang),
        out,
        info=result.rollup_info(),
        hidden={u.unit.adcode: u.hidden for u in ordered},
        boundaries=outlines(),
        sites=_unit_sites(ordered),
        lang=lang,
        papers=papers,
    )
    files.append(record)
    clean_partial(out)
    logger.info(
        "Batch %s by %s: %d done (%d reused), %d failed in %.1f s",
        batch.name,
        batch.by,
        result.n_done,
        result.n_reused,
        len(result.failed),
        result.elapsed_s,
    )
    return BatchResult(
        region=result.region,
        by=result.by,
        out_dir=out,
        template=template,
        units=ordered,
        files=tuple(files),
        elapsed_s=time.perf_counter() - t0,
        workers=workers_used,
    )


def _unit_sites(outcomes: Iterable[UnitOutcome]) -> gpd.GeoDataFrame | None:
    """Open sites of every planned unit (its ``sites.geojson``), for the roll-up map."""
    frames = []
    for o in outcomes:
        path = o.folder / "sites.geojson" if o.folder else None
        if path is None or not path.is_file():
            continue
        try:
            frames.append(gpd.read_file(path, columns=["kind"]))
        except (OSError, ValueError) as err:  # the map goes without this unit's sites
            logger.info("No sites of %s on the map: %s", o.unit.name, err)
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
