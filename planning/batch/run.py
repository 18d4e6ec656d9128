"""Run a batch on ``dask.distributed``: one task per unit, progress, resume, the roll-up.

:func:`run_batch` lists the units, reuses every unit folder that already holds a complete plan
for the same scenario, sends the others to a Dask cluster (a ``LocalCluster`` sized to the
machine, an existing scheduler, or a ``Client`` you pass), collects one small record per unit
as it completes, and writes the roll-up. The client keeps at most one unit per worker thread in
flight: a worker holds one unit's inputs at a time, the largest units start first, and a worker
that dies (out of memory, killed) takes down only the units it was running. Those are retried
once on another worker (the LocalCluster sets ``distributed.scheduler.allowed-failures`` to 1)
and then reported as failed with the reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import math
import os
import shutil
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dask
import geopandas as gpd
import pandas as pd
from distributed import CancelledError, Client, KilledWorker, LocalCluster

from planning import i18n, settings
from planning.batch._task import (
    MARKER,
    MARKER_FORMAT,
    PARTIAL_PREFIX,
    REPLACED_PREFIX,
    SOLVER_THREADS,
    solve_unit,
)
from planning.batch.units import (
    BatchRegion,
    BatchUnit,
    batch_units,
    scenario_hash,
    unit_boundaries,
    unit_scenario,
)
from planning.errors import DataError, NetworkError
from planning.report.batch import RollupInfo, export_rollup, key_lines, public_table
from planning.report.labels import Lang, Paper
from planning.results.rollup import FIGURES
from planning.scenario import Scenario

logger = logging.getLogger(__name__)

BATCH_JSON = "batch.json"
"""Record of the last run in the batch folder (units, messages, public figures)."""
BATCH_FORMAT = 1
WORKER_MEMORY_BYTES = 3 * 2**30
"""Memory a worker should have for the largest prefecture: Fujian's peak at 0.6 GiB with the
demo scenario (benchmarks/README.md, "Batch"); province-size prefectures (巴音郭楞) have
several times their cells and candidates."""
NO_WORKERS_TIMEOUT_S = 120.0
"""Fail the remaining units when the cluster has had no worker for this long."""
POLL_S = 0.5

Stage = Literal["waiting", "preparing", "solving", "summarising", "writing"]


# ------------------------------------------------------------------------ records
@dataclass(frozen=True, kw_only=True)
class UnitError:
    """Why a unit has no plan.

    Attributes
    ----------
    kind
        ``"planning"`` (the library's message: no census, infeasible, solver error...),
        ``"worker_lost"``, ``"no_workers"``, ``"output_missing"`` (workers cannot write the
        batch folder) or ``"bug"`` (an unexpected exception; ``traceback`` holds it).
    code
        Message key (or exception name).
    texts
        The message in each language: ``{"zh": ..., "en": ...}``.
    """

    kind: str
    code: str
    texts: Mapping[str, str]
    traceback: str = ""

    def text(self, lang: str | None = None) -> str:
        """Return the message in ``lang`` (``None``: the default language)."""
        return self.texts.get(i18n.check_language(lang), self.texts.get("en", self.code))


def _error(kind: str, code: str, **params: Any) -> UnitError:
    return UnitError(
        kind=kind,
        code=code,
        texts={lang: i18n.text(code, lang, **params) for lang in i18n.LANGS},
    )


@dataclass(frozen=True, kw_only=True)
class UnitOutcome:
    """What became of one unit.

    Attributes
    ----------
    unit
        The unit.
    status
        ``"done"`` (its folder holds a complete plan) or ``"failed"``.
    reused
        The plan was written by an earlier run for the same scenario and kept.
    folder
        The unit's plan folder (``None`` when failed).
    figures
        Roll-up figures (:func:`planning.results.rollup.unit_figures`); exact counts when
        this process knows them, else the counts as the unit's files show them.
    hidden
        Patient counts the unit's own files hide, with the text they show.
    error
        Why it failed (``None`` when done).
    warnings
        Warnings of its run, each ``{"zh": ..., "en": ...}``.
    elapsed_s
        Wall time of its task.
    """

    unit: BatchUnit
    status: Literal["done", "failed"]
    reused: bool = False
    folder: Path | None = None
    figures: Mapping[str, Any] | None = None
    hidden: Mapping[str, str] = field(default_factory=dict)
    error: UnitError | None = None
    warnings: tuple[Mapping[str, str], ...] = ()
    elapsed_s: float = 0.0

    def message(self, lang: str | None = None) -> str:
        """Why it failed, in ``lang`` (``""`` when done)."""
        return self.error.text(lang) if self.error else ""

    def notes(self, lang: str | None = None) -> str:
        """Its warnings in ``lang``, joined."""
        code = i18n.check_language(lang)
        return i18n.join((w.get(code, w.get("en", "")) for w in self.warnings), code)


@dataclass(frozen=True, kw_only=True)
class BatchProgress:
    """How far a batch is: counts, elapsed time and the units being worked on.

    Attributes
    ----------
    total, done, failed, reused
        Units in the batch; finished with a plan (reused ones included); failed; reused.
    elapsed_s
        Seconds since the batch started.
    running
        ``(unit name, stage)`` of each unit in flight; stage is ``"waiting"`` (sent, not
        started), ``"preparing"``, ``"solving"``, ``"summarising"`` or ``"writing"``.
    finished
        The unit that finished last (``None`` when the update is a clock tick).
    """

    total: int
    done: int
    failed: int
    reused: int
    elapsed_s: float
    running: tuple[tuple[str, str], ...] = ()
    finished: UnitOutcome | None = None

    @property
    def fraction(self) -> float:
        """Share of the units finished (done or failed), 0-1."""
        return (self.done + self.failed) / self.total if self.total else 1.0

    def text(self, lang: str | None = None) -> str:
        """One line: ``3 of 9 units done (1 failed) · 01:23 · now: 三明市 (solving)``."""
        line = i18n.text(
            "batch.progress",
            lang,
            finished=self.done + self.failed,
            total=self.total,
            failed=self.failed,
            reused=self.reused,
            elapsed=format_elapsed(self.elapsed_s),
        )
        if self.running:
            units = [
                i18n.text(
                    "batch.running_unit",
                    lang,
                    name=name,
                    stage=i18n.text(f"batch.stage_{st}", lang),
                )
                for name, st in self.running
            ]
            line += i18n.text("batch.progress_running", lang, units=i18n.join(units, lang))
        return line


def format_elapsed(seconds: float) -> str:
    """``mm:ss``, or ``h:mm:ss`` from an hour on."""
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """A finished batch: every unit's outcome and the roll-up files.

    Attributes
    ----------
    region, by
        Region name (``"福建省"``, ``"全国"``) and unit level.
    out_dir
        The batch folder.
    template
        The template scenario.
    units
        One outcome per unit, by adcode.
    files
        The roll-up files (``batch_summary.csv``, ``.xlsx``, maps, ``batch.json``).
    elapsed_s
        Wall time.
    workers
        Worker threads used (0 when every unit was reused).
    rollup
        The roll-up as shown, when read back from ``batch.json`` (:func:`read_batch`);
        otherwise :meth:`table` computes it.
    """

    region: str
    by: str
    out_dir: Path
    template: Scenario
    units: tuple[UnitOutcome, ...]
    files: tuple[Path, ...] = ()
    elapsed_s: float = 0.0
    workers: int = 0
    rollup: pd.DataFrame | None = None

    @property
    def failed(self) -> tuple[UnitOutcome, ...]:
        """Units without a plan."""
        return tuple(u for u in self.units if u.status != "done")

    @property
    def n_done(self) -> int:
        """Units with a plan (reused ones included)."""
        return sum(u.status == "done" for u in self.units)

    @property
    def n_reused(self) -> int:
        """Units whose plan was kept from an earlier run."""
        return sum(u.reused for u in self.units)

    @property
    def ok(self) -> bool:
        """Every unit has a plan."""
        return not self.failed

    def table(self, *, lang: Lang = "zh") -> pd.DataFrame:
        """Return the roll-up as shown (privacy rule applied): units and the ``"total"`` row."""
        if self.rollup is not None:
            return self.rollup.copy()
        return public_table(
            _units_frame(self.units, lang=lang),
            threshold=self.template.privacy_threshold,
            hidden={u.unit.adcode: u.hidden for u in self.units},
        )

    def summary_lines(self, *, lang: str | None = None) -> list[str]:
        """Return what the command line prints at the end: counts, totals, milestones, files."""
        code = i18n.check_language(lang)
        lines = [
            i18n.text(
                "batch.summary_head",
                code,
                region=self.region,
                level=i18n.text(f"batch.level_{self.by}", code),
                units=len(self.units),
                workers=self.workers,
                elapsed=format_elapsed(self.elapsed_s),
            )
        ]
        lines += key_lines(self.table(lang=code), self.rollup_info(), lang=code)
        if self.n_reused:
            lines.append(i18n.text("batch.summary_reused", code, reused=self.n_reused))
        lines += [
            i18n.text("batch.summary_failed_unit", code, **_unit_params(u), message=u.message(code))
            for u in self.failed
        ]
        noted = sum(bool(u.warnings) for u in self.units)
        if noted:
            lines.append(i18n.text("batch.summary_notes", code, units=noted))
        if self.files:
            lines.append(i18n.text("batch.summary_files", code, folder=str(self.out_dir)))
        return lines

    def rollup_info(self) -> RollupInfo:
        """Region, level, template and run figures, as the roll-up files state them."""
        return RollupInfo(
            region=self.region,
            by=self.by,
            template=self.template,
            workers=self.workers,
            elapsed_s=self.elapsed_s,
        )


def _unit_params(outcome: UnitOutcome) -> dict[str, str]:
    return {"adcode": outcome.unit.adcode, "name": outcome.unit.name}


def _units_frame(outcomes: Iterable[UnitOutcome], *, lang: Lang) -> pd.DataFrame:
    """One row per unit for :func:`planning.report.batch.public_table`."""
    rows = []
    for o in outcomes:
        f = dict(o.figures or {})
        rows.append(
            {
                "adcode": o.unit.adcode,
                "name": o.unit.name,
                "province": o.unit.province,
                "status": o.status,
                "reused": o.reused,
                "solver_status": f.get("solver_status"),
                "gap": f.get("gap"),
                **{k: _count(f.get(k)) for k in FIGURES},
                "elapsed_s": o.elapsed_s,
                "folder": o.folder.name if o.folder else None,
                "message": o.message(lang),
                "notes": o.notes(lang),
            }
        )
    frame = pd.DataFrame(rows).set_index("adcode")
    frame.index = frame.index.astype(str)
    return frame


def _count(value: Any) -> float:
    """Return a figure as a number (NaN when missing or hidden text)."""
    if value is None or isinstance(value, str):
        return float("nan")
    return float(value)


# ------------------------------------------------------------------------ machine
def default_workers() -> int:
    """Workers for a local batch: one per core, fewer if memory is short.

    Each worker needs about :data:`WORKER_MEMORY_BYTES` for the largest prefecture with
    the default scenario; one thread each (see :mod:`planning.batch`).
    """
    import psutil  # noqa: PLC0415 - a dependency of distributed

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    memory = int(psutil.virtual_memory().total)
    return max(1, min(cores, memory // WORKER_MEMORY_BYTES))


@contextlib.contextmanager
def open_cluster(
    *, client: Client | None = None, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Client]:
    """Yield the Dask client a batch runs on, and close what was opened for it.

    ``client`` as given (left open); else a client of the running ``scheduler``; else a
    ``LocalCluster`` of ``workers`` processes (default :func:`default_workers`) with one
    thread each, HiGHS on one thread (``KANGLE_SOLVER_THREADS=1``), a dashboard on a free
    port, and one retry for a unit whose worker died
    (``distributed.scheduler.allowed-failures=1``).

    Raises
    ------
    NetworkError
        ``scheduler`` cannot be reached within ``KANGLE_SCHEDULER_TIMEOUT_S`` seconds.
    """
    if client is not None:
        yield client
        return
    if scheduler:
        try:
            remote = Client(scheduler, timeout=settings.scheduler_timeout_s(), set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise NetworkError(
                "batch.scheduler_unreachable",
                address=scheduler,
                reason=str(err) or type(err).__name__,
            ) from None
        try:
            yield remote
        finally:
            remote.close()
        return
    n = workers or default_workers()
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # no fixed port: batches can run side by side
            silence_logs=logging.ERROR,
            env={"KANGLE_SOLVER_THREADS": SOLVER_THREADS},
        )
    local = Client(cluster, set_as_default=False)
    try:
        yield local
    finally:
        local.close()
        cluster.close()


def _worker_threads(client: Client) -> int:
    return int(sum(client.nthreads().values()))


# ------------------------------------------------------------------------ folders
def _prepare_out(out: Path) -> list[Path]:
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
        _remove_created(created)
        raise DataError(
            "batch.out_not_writable",
            path=str(out),
            reason=err.strerror or str(err),
        ) from None
    return created


def _remove_created(created: Sequence[Path]) -> None:
    """Remove folders this run created, deepest first, if they are still empty."""
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()


def _clean_partial(out: Path) -> None:
    """Remove what killed runs left behind: ``.partial-*`` / ``.replaced-*`` folders, temp files."""
    for child in out.iterdir():
        name = child.name
        if child.is_dir() and name.startswith((PARTIAL_PREFIX, REPLACED_PREFIX)):
            shutil.rmtree(child, ignore_errors=True)
        elif child.is_file() and name.startswith(".") and name.endswith(".tmp"):
            child.unlink(missing_ok=True)


def _raw_path(digest: str) -> Path:
    return settings.cache_dir() / "batch" / f"{digest}.json"


def _remember_raw(digest: str, run_id: str, figures: Mapping[str, Any]) -> None:
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


# ------------------------------------------------------------------------ running
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
        slots = max(1, _worker_threads(self.client))
        slots_at = time.monotonic()
        no_workers_since: float | None = None
        try:
            while queue or in_flight:
                now = time.monotonic()
                if now - slots_at > 5.0:  # the cluster may have grown, shrunk or lost workers
                    slots, slots_at = _worker_threads(self.client), now
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


def _drop_stale(out: Path, unit: BatchUnit, digest: str) -> None:
    """Remove a failed unit's old folder: a plan for another scenario, or half-written.

    A complete plan for the same scenario (planned again with ``force``) is kept.
    """
    folder = out / unit.folder
    if folder.is_dir() and reusable_plan(out, unit, digest) is None:
        aside = folder.with_name(f"{REPLACED_PREFIX}{folder.name}-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(OSError):
            folder.rename(aside)
            shutil.rmtree(aside, ignore_errors=True)


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
    created = _prepare_out(out)
    outcomes: dict[str, UnitOutcome] = {}
    try:
        _clean_partial(out)
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
            workers_used = _run_units(
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
        _remove_created(created)
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
    record = _write_record(result, batch, digests, result.table(lang=lang))
    files = export_rollup(
        _units_frame(ordered, lang=lang),
        out,
        info=result.rollup_info(),
        hidden={u.unit.adcode: u.hidden for u in ordered},
        boundaries=outlines(),
        sites=_unit_sites(ordered),
        lang=lang,
        papers=papers,
    )
    files.append(record)
    _clean_partial(out)
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


def _run_units(
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
            _remember_raw(job.digest, str(record.get("run_id")), outcome.figures)
        if outcome.status != "done":
            _drop_stale(out, job.unit, job.digest)
            logger.info("%s %s failed: %s", job.unit.adcode, job.unit.name, outcome.message("en"))
        report([], outcome)

    with open_cluster(client=client, workers=workers, scheduler=scheduler) as c:
        boundaries = outlines()
        area = boundaries["area_km2"] if "area_km2" in boundaries else pd.Series(dtype=float)
        jobs.sort(key=lambda j: (-float(area.get(j.unit.adcode, 0.0)), j.unit.adcode))
        threads = _worker_threads(c)
        if threads == 0:
            try:
                c.wait_for_workers(1, timeout=NO_WORKERS_TIMEOUT_S)
            except TimeoutError:
                raise NetworkError(
                    "batch.no_workers_at_start",
                    address=scheduler or "",
                    seconds=round(NO_WORKERS_TIMEOUT_S),
                ) from None
            threads = _worker_threads(c)
        report([], None)
        _Dispatch(c, topic=jobs[0].payload["topic"], out=out).run(
            jobs, on_done=on_done, on_tick=lambda running: report(running, None)
        )
    return threads


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return value


def _write_record(
    result: BatchResult, batch: BatchRegion, digests: Mapping[str, str], public: pd.DataFrame
) -> Path:
    """Write ``batch.json``: the run, each unit (status, message, figures as shown), the roll-up.

    Hidden counts are written as the unit's own files show them (``"<5"``, ``"≥L"``).
    """
    units = []
    for o in result.units:
        figures = {**dict(o.figures or {}), **o.hidden}
        units.append(
            {
                "adcode": o.unit.adcode,
                "name": o.unit.name,
                "level": o.unit.level,
                "province": o.unit.province,
                "folder": o.unit.folder,
                "scenario_hash": digests[o.unit.adcode],
                "status": o.status,
                "reused": o.reused,
                "elapsed_s": round(o.elapsed_s, 2),
                "figures": figures if o.status == "done" else None,
                "hidden": dict(o.hidden),
                "error": None
                if o.error is None
                else {
                    "kind": o.error.kind,
                    "code": o.error.code,
                    **o.error.texts,
                    **({"traceback": o.error.traceback} if o.error.traceback else {}),
                },
                "warnings": [dict(w) for w in o.warnings],
            }
        )
    data = {
        "format": BATCH_FORMAT,
        "region": batch.name,
        "region_adcode": batch.adcode,
        "by": batch.by,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(result.elapsed_s, 2),
        "workers": result.workers,
        "template": result.template.to_dict(),
        "units": units,
        "rollup": [
            {"adcode": str(a), **{str(k): _jsonable(v) for k, v in row.items()}}
            for a, row in public.iterrows()
        ],
    }
    path = result.out_dir / BATCH_JSON
    tmp = path.with_name(f".{BATCH_JSON}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_batch(out_dir: str | Path) -> BatchResult:
    """Read the last run of a batch folder (its ``batch.json``), e.g. to show it again.

    Figures are as the roll-up shows them (hidden counts stay hidden).

    Raises
    ------
    DataError
        The folder has no readable ``batch.json``.
    """
    out = Path(out_dir).expanduser().resolve()
    try:
        data = json.loads((out / BATCH_JSON).read_text(encoding="utf-8"))
        template = Scenario.from_dict(data["template"])
        units = []
        for u in data["units"]:
            unit = BatchUnit(
                adcode=str(u["adcode"]),
                name=str(u["name"]),
                level=str(u["level"]),
                province=str(u["province"]),
            )
            err = u.get("error")
            units.append(
                UnitOutcome(
                    unit=unit,
                    status="done" if u["status"] == "done" else "failed",
                    reused=bool(u.get("reused")),
                    folder=out / unit.folder if u["status"] == "done" else None,
                    figures=u.get("figures"),
                    hidden=dict(u.get("hidden") or {}),
                    error=None
                    if not err
                    else UnitError(
                        kind=str(err.get("kind")),
                        code=str(err.get("code")),
                        texts={lang: str(err.get(lang, "")) for lang in i18n.LANGS},
                        traceback=str(err.get("traceback", "")),
                    ),
                    warnings=tuple(u.get("warnings") or ()),
                    elapsed_s=float(u.get("elapsed_s") or 0.0),
                )
            )
        rollup = pd.DataFrame.from_records(data["rollup"]).set_index("adcode")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError("batch.record_unreadable", folder=str(out), reason=str(err)) from None
    files = [
        p
        for p in sorted(out.iterdir())
        if p.is_file() and p.name.startswith(("batch_summary", "batch_map", BATCH_JSON))
    ]
    return BatchResult(
        region=str(data["region"]),
        by=str(data["by"]),
        out_dir=out,
        template=template,
        units=tuple(units),
        files=tuple(files),
        elapsed_s=float(data.get("elapsed_s") or 0.0),
        workers=int(data.get("workers") or 0),
        rollup=rollup,
    )
