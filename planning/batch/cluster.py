"""The Dask cluster a batch runs on: a ``LocalCluster`` sized to the machine, or one you have.

:func:`open_cluster` yields the client (yours, one of a running scheduler, or a
``LocalCluster`` of :func:`default_workers` processes with one thread each) and closes what it
opened.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import dask
from distributed import Client, LocalCluster, WorkerPlugin

from planning import settings
from planning.batch._task import SOLVER_THREADS
from planning.errors import NetworkError

WORKER_MEMORY_BYTES = 3 * 2**30
"""Memory a worker should have for the largest prefecture: Fujian's peak at 0.6 GiB with the
demo scenario (benchmarks/README.md, "Batch"); province-size prefectures (巴音郭楞) have
several times their cells and candidates."""


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


def _not_heartbeat_race(record: logging.LogRecord) -> bool:
    """Drop (logging filter) a worker's "Failed to communicate with scheduler during heartbeat".

    On a local cluster the scheduler closes with the batch; a heartbeat in flight then fails
    with a traceback on the planner's terminal (a known shutdown race of distributed, seen in
    the test suite on a loaded machine). Every other record passes.
    """
    return "during heartbeat" not in record.getMessage()


class _QuietShutdown(WorkerPlugin):
    """Installs :func:`_not_heartbeat_race` on each local worker's ``distributed.worker`` log."""

    def setup(self, worker: object) -> None:
        """Add the filter (once) in the worker's process."""
        del worker
        log = logging.getLogger("distributed.worker")
        if _not_heartbeat_race not in log.filters:
            log.addFilter(_not_heartbeat_race)


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
        local.register_plugin(_QuietShutdown(), name="kangle-quiet-shutdown")
        yield local
    finally:
        local.close()
        cluster.close()


def worker_threads(client: Client) -> int:
    """Worker threads the cluster has now (0 while it has no worker)."""
    return int(sum(client.nthreads().values()))
