"""Batch planning on Dask: Fujian's 9 prefectures on 1 and on 2 workers; every prefecture of China.

Default run (``python benchmarks/batch.py``): the batch of Fujian's prefectures
(``planning.batch.run_batch``) on a LocalCluster of 1 worker, then on one of 2 workers, in the
same process, each worker a process with one thread and HiGHS on one thread
(``KANGLE_SOLVER_THREADS=1``), exactly as ``python -m planning batch`` starts them. Each cluster
is started and warmed up (every worker imports the pipeline) before the clock starts, so the
times compare the batch itself: dispatching, planning every unit, writing its folder and the
roll-up. Cluster start and warm-up are printed separately, and for each run how busy the
workers were (sum of unit seconds / workers x batch time: is dispatching the bottleneck?) and
how much of a core each worker got (worker CPU seconds / unit seconds: are other jobs sharing
the cores?). Ends with ``batch_speedup_2_workers: N.N`` (1-worker time / 2-worker time).

``--nation``: every prefecture-level unit of China once (``--region 全国 --by prefecture``) on
``--workers`` (default: one per core), with the nation template; prints the total time, the
units that failed (grouped by reason) and the slowest units, and ends with
``nation_minutes: N.N``.

Templates (``--template FILE`` replaces either):

* Fujian: the demo scenario (MCLP, 6 sites, 30 min, 2 km cells, 5 km candidate grid, HiGHS
  60 s) — what a province runs;
* nation: MCLP, 6 sites, 30 min, **5 km cells, 10 km candidate grid**, HiGHS 60 s: province-
  size prefectures (巴音郭楞 470,000 km²) have ~120,000 2-km cells and ~19,000 candidates,
  too many for a 30-minute national run on 2 cores; at 5 / 10 km they have ~19,000 / ~4,700.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _memory import peak_rss_gib

from planning.batch import BatchResult, open_cluster, run_batch
from planning.report import load_scenario_for_run
from planning.scenario import Scenario

FUJIAN = Scenario(name="福建省批量基准 (demo scenario)")
NATION = Scenario(
    name="全国批量基准",
    cell_size_m=5000,
    candidate_spacing_m=10000,
)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _run(
    template: Scenario, region: str, out: Path, *, workers: int, only: list[str] | None = None
) -> tuple[BatchResult, float, float, list[float], list[float]]:
    """Batch on a fresh, warmed-up LocalCluster.

    Returns result, batch s, start s, peak GiB per worker, CPU s per worker during the batch.
    """
    t0 = time.perf_counter()
    with open_cluster(workers=workers) as client:
        client.run(importlib.import_module, "planning.batch._task")  # imports, once per worker
        started = time.perf_counter() - t0
        cpu0 = client.run(time.process_time)
        t1 = time.perf_counter()
        result = run_batch(
            template, region, "prefecture", out, only=only, client=client, force=True
        )
        elapsed = time.perf_counter() - t1
        cpu1 = client.run(time.process_time)
        peaks = sorted(client.run(peak_rss_gib).values())
    cpu = sorted(cpu1[w] - cpu0[w] for w in cpu1 if w in cpu0)
    return result, elapsed, started, peaks, cpu


def _describe(
    result: BatchResult, elapsed: float, started: float, peaks: list[float], cpu: list[float]
) -> None:
    done, failed = result.n_done, len(result.failed)
    print(
        f"  {len(result.units)} units ({done} planned, {failed} failed) in {elapsed:.1f} s "
        f"(+ {started:.1f} s cluster start and warm-up); worker peak memory "
        f"{', '.join(f'{p:.2f}' for p in peaks)} GiB"
    )
    # busy: the workers always had a unit (dispatch is not the bottleneck); CPU share: how
    # much of a core each worker got while busy (below ~90 %: other jobs share the cores)
    unit_s = sum(u.elapsed_s for u in result.units if not u.reused)
    n = max(len(cpu), 1)
    print(
        f"  unit seconds {unit_s:.1f} (workers busy {unit_s / (n * elapsed):.0%} of the batch "
        f"time); worker CPU seconds {', '.join(f'{c:.1f}' for c in cpu)} "
        f"(CPU share of a core while busy {sum(cpu) / unit_s if unit_s else 0:.0%})"
    )


def _unit_times(result: BatchResult) -> str:
    return ", ".join(
        f"{u.unit.name} {u.elapsed_s:.1f}" + ("" if u.status == "done" else " (failed)")
        for u in sorted(result.units, key=lambda u: -u.elapsed_s)
    )


def fujian(template: Scenario, out: Path) -> None:
    print(f"template: {template.title('en')}: {_template_text(template)}")
    times = {}
    for workers in (1, 2):
        print(f"{workers} worker(s), load before {_load()}:")
        result, elapsed, started, peaks, cpu = _run(
            template, "福建省", out / f"w{workers}", workers=workers
        )
        _describe(result, elapsed, started, peaks, cpu)
        print(f"  unit seconds: {_unit_times(result)}")
        for u in result.failed:
            print(f"  failed {u.unit.name}: {u.message('en')}")
        times[workers] = elapsed
    print(f"load after {_load()}")
    print(f"batch_speedup_2_workers: {times[1] / times[2]:.1f}")


def nation(template: Scenario, out: Path, *, workers: int | None) -> None:
    print(f"template: {template.title('en')}: {_template_text(template)}")
    print(f"load before {_load()}")
    t0 = time.perf_counter()
    with open_cluster(workers=workers) as client:
        n = len(client.nthreads())
        result = run_batch(template, "全国", "prefecture", out, client=client, force=True)
        peaks = sorted(client.run(peak_rss_gib).values())
    total = time.perf_counter() - t0
    print(
        f"{len(result.units)} units on {n} workers: {result.n_done} planned, "
        f"{len(result.failed)} failed, in {total / 60:.1f} min (cluster start included); "
        f"worker peak memory {', '.join(f'{p:.2f}' for p in peaks)} GiB"
    )
    reasons = Counter(u.error.code if u.error else "" for u in result.failed)
    for code, count in reasons.most_common():
        example = next(u for u in result.failed if u.error and u.error.code == code)
        print(f"  failed x{count} ({code}), e.g. {example.unit.name}: {example.message('en')}")
    times = [u.elapsed_s for u in result.units if u.status == "done"]
    if times:
        print(
            f"unit seconds: median {statistics.median(times):.1f}, "
            f"sum {sum(times) / 60:.1f} min over {len(times)} units"
        )
    print("slowest units:")
    for u in sorted(result.units, key=lambda u: -u.elapsed_s)[:10]:
        print(f"  {u.unit.adcode} {u.unit.province}/{u.unit.name}: {u.elapsed_s:.1f} s")
    print(f"load after {_load()}")
    print(f"nation_minutes: {total / 60:.1f}")


def _template_text(s: Scenario) -> str:
    return (
        f"{s.model}, {s.n_facilities} sites, {s.max_travel_min:g} min, "
        f"{s.cell_size_m / 1000:g} km cells, {s.candidate_spacing_m / 1000:g} km candidates, "
        f"{s.solver} {s.time_limit_s:g} s, travel {s.travel.mode}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nation", action="store_true", help="every prefecture of China once")
    parser.add_argument("--template", metavar="FILE", help="template scenario.json")
    parser.add_argument("--workers", type=int, help="--nation: workers (default one per core)")
    parser.add_argument("--out", metavar="DIR", help="keep the batch folders here")
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="kangle-batch-"))
    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}; out {out}")
    try:
        if args.nation:
            template = load_scenario_for_run(args.template) if args.template else NATION
            nation(template, out, workers=args.workers)
        else:
            template = load_scenario_for_run(args.template) if args.template else FUJIAN
            fujian(template, out)
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
