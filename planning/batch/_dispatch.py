"""The dispatch loop: send the units to the cluster, at most one per worker thread, collect them.

:func:`run_units` opens the cluster, orders the units largest first and feeds them to it
(:class:`_Dispatch`): a worker takes the next unit as soon as it finishes one, the stages of the
units in flight come back as Dask events, and a unit whose worker died, or that no worker took
within :data:`NO_WORKERS_TIMEOUT_S`, becomes a failed outcome with its reason. Each finished
unit's record becomes a :class:`~planning.batch.result.UnitOutcome`; progress is reported as
units finish and about twice a second.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from distributed import CancelledError, Client, KilledWorker

from planning import i18n
from planning.batch._task import MARKER, solve_unit
from planning.batch.cluster import open_cluster, worker_threads
from planning.batch.folders import drop_stale, remember_raw
from planning.batch.result import BatchProgress, UnitError, UnitOutcome
from planning.batch.units import BatchUnit
from planning.errors import NetworkError
from planning.scenario import Scenario

logger = logging.getLogger(__name__)

NO_WORKERS_TIMEOUT_S = 120.0
"""Fail the remaining units when the cluster has had no worker for this long."""
POLL_S = 0.5


def run_units(
    todo: list[BatchUnit],
    *,
    scenarios: Mapping[str, Scenario],
    digests: Mapping[str, str],
    out: Path,
    outlines: Callable[[], gpd.GeoDataFrame],
    outcomes: dict[str, UnitOutcome],
    total: int,
    t0: float,
    client: Client | None,
    workers: int | None,
    scheduler: str | None,
    progress: Callable[[BatchProgress], None] | None,
) -> int:
    """Send ``todo`` to the cluster, largest units first; fill ``outcomes``; return threads.

    The cluster is opened first (an unreachable scheduler fails before anything is read), then
    the unit outlines are read: their areas order the work, the largest units first, so none
    of them is left for the end.
    """
    run_id = uuid.uuid4().hex[:12]
    jobs = [
        _Job(
            unit=u,
            digest=digests[u.adcode],
            payload={
                "adcode": u.adcode,
                "name": u.name,
                "folder": u.folder,
                "out_dir": str(out),
                "scenario": scenarios[u.adcode].to_json(),
                "hash": digests[u.adcode],
                "run_id": run_id,
                "topic": f"kangle-batch-{run_id}",
            },
        )
        for u in todo
    ]
    last_tick = [0.0]

    def report(running: Sequence[tuple[str, str]], finished: UnitOutcome | None) -> None:
        if progress is None:
            return
        now = time.perf_counter()
        if finished is None and now - last_tick[0] < 0.5:
            return
        last_tick[0] = now
        values = list(outcomes.values())
        progress(
            BatchProgress(
                total=total,
                done=sum(o.status == "done" for o in values),
                failed=sum(o.status != "done" for o in values),
                reused=sum(o.reused for o in values),
                elapsed_s=now - t0,
                running=tuple(running),
                finished=finished,
            )
        )

    def on_done(job: _Job, record: dict[str, Any]) -> None:
        outcome = _outcome(job, record, out)
        outcomes[job.unit.adcode] = outcome
        if outcome.status == "done" and outcome.hidden and outcome.figures:
            remember_raw(job.digest, str(record.get("run_id")), outcome.figures)
        if outcome.status != "done":
            drop_stale(out, job.unit, job.digest)
            logger.info("%s %s failed: %s", job.unit.adcode, job.unit.name, outcome.message("en"))
        report([], outcome)

    with open_cluster(client=client, workers=workers, scheduler=scheduler) as c:
        boundaries = outlines()
        area = boundaries["area_km2"] if "area_km2" in boundaries else pd.Series(dtype=float)
        jobs.sort(key=lambda j: (-float(area.get(j.unit.adcode, 0.0)), j.unit.adcode))
        threads = worker_threads(c)
        if threads == 0:
            try:
                c.wait_for_workers(1, timeout=NO_WORKERS_TIMEOUT_S)
            except TimeoutError:
                raise NetworkError(
                    "batch.no_workers_at_start",
                    address=scheduler or "",
                    seconds=round(NO_WORKERS_TIMEOUT_S),
                ) from None
            threads = worker_threads(c)
        report([], None)
        _Dispatch(c, topic=jobs[0].payload["topic"], out=out).run(
            jobs, on_done=on_done, on_tick=lambda running: report(running, None)
        )
    return threads


@dataclass
class _Job:
    unit: BatchUnit
    digest: str
    payload: dict[str, Any]


class _Dispatch:
    """Feed jobs to the cluster, at most one per worker thread, and collect their records."""

    def __init__(self, client: Client, *, topic: str, out: Path) -> None:
        self.client = client
        self.topic = topic
        self.out = out
        self.stages: dict[str, str] = {}
        self.lock = threading.Lock()

    def _on_event(self, event: tuple[float, Any]) -> None:
        _, msg = event
        if isinstance(msg, dict):
            with self.lock:
                self.stages[str(msg.get("adcode"))] = str(msg.get("stage"))

    def run(
        self,
        jobs: Sequence[_Job],
        *,
        on_done: Callable[[_Job, dict[str, Any]], None],
        on_tick: Callable[[list[tuple[str, str]]], None],
    ) -> None:
        """Run every job; ``on_done(job, record)`` per job, ``on_tick(running)`` as time passes."""
        self.client.subscribe_topic(self.topic, self._on_event)
        queue = deque(jobs)
        in_flight: dict[str, tuple[Any, _Job]] = {}  # key -> (future, job)
        finished = threading.Event()  # set by any future as it completes
        slots = max(1, worker_threads(self.client))
        slots_at = time.monotonic()
        no_workers_since: float | None = None
        try:
            while queue or in_flight:
                now = time.monotonic()
                if now - slots_at > 5.0:  # the cluster may have grown, shrunk or lost workers
                    slots, slots_at = worker_threads(self.client), now
                    if slots == 0:
                        no_workers_since = no_workers_since or now
                        if now - no_workers_since > NO_WORKERS_TIMEOUT_S:
                            self._abandon(queue, in_flight, on_done)
                            return
                    else:
                        no_workers_since = None
                while queue and len(in_flight) < max(slots, 1):
                    job = queue.popleft()
                    fut = self.client.submit(
                        solve_unit,
                        job.payload,
                        key=f"kangle-unit-{job.payload['run_id']}-{job.unit.adcode}",
                        pure=False,
                    )
                    fut.add_done_callback(lambda _: finished.set())
                    in_flight[str(fut.key)] = (fut, job)
                # back as soon as a unit finishes (its worker takes the next at once), else
                # after POLL_S for the clock and the stages of the units being solved
                finished.wait(POLL_S)
                finished.clear()
                for key in [k for k, (f, _) in in_flight.items() if f.done()]:
                    fut, job = in_flight.pop(key)
                    record = self._record(fut, job)
                    fut.release()
                    with self.lock:
                        self.stages.pop(job.unit.adcode, None)
                    on_done(job, record)
                with self.lock:
                    running = [
                        (j.unit.name, self.stages.get(j.unit.adcode, "waiting"))
                        for _, j in in_flight.values()
                    ]
                on_tick(running)
        finally:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.topic)

    def _abandon(
        self,
        queue: deque[_Job],
        in_flight: dict[str, tuple[Any, _Job]],
        on_done: Callable[[_Job, dict[str, Any]], None],
    ) -> None:
        error = _error("no_workers", "batch.no_workers", seconds=round(NO_WORKERS_TIMEOUT_S))
        for fut, _ in in_flight.values():
            fut.cancel()
        for job in [*(j for _, j in in_flight.values()), *queue]:
            on_done(job, _failed_record(job, error))
        queue.clear()
        in_flight.clear()

    @staticmethod
    def _record(fut: Any, job: _Job) -> dict[str, Any]:
        try:
            record = fut.result()
        except KilledWorker:
            return _failed_record(job, _error("worker_lost", "batch.worker_lost"))
        except CancelledError:
            return _failed_record(job, _error("worker_lost", "batch.cancelled"))
        except Exception as err:  # noqa: BLE001 - anything the task could not even report
            text = f"{type(err).__name__}: {err}"
            return _failed_record(
                job,
                UnitError(kind="bug", code=type(err).__name__, texts={"zh": text, "en": text}),
            )
        return dict(record)


def _failed_record(job: _Job, error: UnitError) -> dict[str, Any]:
    return {
        "adcode": job.unit.adcode,
        "status": "failed",
        "error": {"kind": error.kind, "code": error.code, **error.texts},
        "warnings": [],
        "elapsed_s": 0.0,
    }


def _outcome(job: _Job, record: Mapping[str, Any], out: Path) -> UnitOutcome:
    """Turn a task's record into an outcome (checking the folder is where the client looks)."""
    warnings_ = tuple(record.get("warnings") or ())
    elapsed = float(record.get("elapsed_s") or 0.0)
    if record.get("status") == "done":
        folder = out / job.unit.folder
        if not (folder / MARKER).is_file():  # workers wrote somewhere this machine cannot see
            error = _error("output_missing", "batch.output_missing", folder=str(folder))
            return UnitOutcome(
                unit=job.unit, status="failed", error=error, warnings=warnings_, elapsed_s=elapsed
            )
        return UnitOutcome(
            unit=job.unit,
            status="done",
            folder=folder,
            figures=dict(record.get("figures") or {}),
            hidden=dict(record.get("hidden") or {}),
            warnings=warnings_,
            elapsed_s=elapsed,
        )
    err = dict(record.get("error") or {})
    error = UnitError(
        kind=str(err.get("kind", "bug")),
        code=str(err.get("code", "")),
        texts={lang: str(err.get(lang, err.get("en", ""))) for lang in i18n.LANGS},
        traceback=str(err.get("traceback", "")),
    )
    return UnitOutcome(
        unit=job.unit, status="failed", error=error, warnings=warnings_, elapsed_s=elapsed
    )


def _error(kind: str, code: str, **params: Any) -> UnitError:
    return UnitError(
        kind=kind,
        code=code,
        texts={lang: i18n.text(code, lang, **params) for lang in i18n.LANGS},
    )
