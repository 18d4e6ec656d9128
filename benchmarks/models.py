"""Benchmark the siting models against PySAL spopt, in one run.

    python benchmarks/models.py            # all 40 OR-Library pmed + MCLP/LSCP instances
    python benchmarks/models.py --quick    # a subset that runs in a few minutes

Instances come from ``../shared/bench`` (see the README files there). For every instance this
project (HiGHS) and spopt 0.7 (HiGHS and CBC through pulp) are run on the same data; the table
shows wall time (build + solve; runs under 1 s are repeated 5 times on both sides and the
median is shown), objective and whether optimality was *proven* (pulp ``sol_status`` for
spopt). The speed-up is spopt's faster proven time divided by ours,
over the instances spopt proves optimal within its time limit; the last line,
``median_speedup_vs_spopt: N.N``, is for machines to read.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _instances import BENCH, matrix_tables, pmed_optima, read_pmed, read_sjc

from planning.models import ModelInput, solve
from planning.models._mip import cbc_command  # the CBC build the library itself runs
from planning.scenario import Scenario


@dataclass
class Instance:
    name: str
    model: str  # mclp | lscp | p_median
    d: np.ndarray  # dense cost matrix (inf = no pair)
    weight: np.ndarray
    p: int | None
    radius: float | None
    reference: float | None  # published / known optimum


@dataclass
class Run:
    time_s: float
    objective: float | None
    proven: bool
    note: str = ""


def pmed_instances(names: list[str]) -> list[Instance]:
    opt = pmed_optima()
    out = []
    for name in names:
        d, p = read_pmed(BENCH / "orlib-pmed" / f"{name}.txt")
        out.append(Instance(name, "p_median", d, np.ones(len(d)), p, None, float(opt[name])))
    return out


def sf_instances() -> list[Instance]:
    base = BENCH / "spopt-fixtures"
    long = pd.read_csv(
        base / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
        dtype={"DestinationName": str, "name": str},
    )
    dem = pd.read_csv(base / "SF_demand_205_centroid_uniform_weight.csv", dtype={"NAME": str})
    piv = long.pivot_table(values="distance", index="DestinationName", columns="name")
    dem = dem.set_index("NAME").loc[piv.index]
    d = piv.to_numpy(dtype=float)
    w = dem["POP2000"].to_numpy(dtype=float)
    return [
        Instance("SF-mclp-r5000-p4", "mclp", d, w, 4, 5000.0, 875247.0),
        Instance("SF-lscp-r8000", "lscp", d, w, None, 8000.0, None),
    ]


def sjc_instances(names: list[str], settings: list[tuple[float, int]]) -> list[Instance]:
    out = []
    for name in names:
        xy, w = read_sjc(BENCH / "mclp-sjc" / f"{name}.txt")
        d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
        for radius, p in settings:
            out.append(Instance(f"{name}-mclp-S{radius:g}-p{p}", "mclp", d, w, p, radius, None))
    return out


def sjc_lscp(names: list[str], radii: list[float]) -> list[Instance]:
    out = []
    for name in names:
        xy, w = read_sjc(BENCH / "mclp-sjc" / f"{name}.txt")
        d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
        out += [Instance(f"{name}-lscp-S{r:g}", "lscp", d, w, None, r, None) for r in radii]
    return out


def run_ours(inst: Instance, time_limit_s: float) -> Run:
    travel, demand, sites = matrix_tables(inst.d, inst.weight)
    data = ModelInput(travel=travel, demand=demand, sites=sites)
    scenario = Scenario(
        name=inst.name,
        model=inst.model,
        n_facilities=inst.p,
        max_travel_min=inst.radius if inst.radius is not None else 30.0,
        time_limit_s=time_limit_s,
    )
    t0 = time.perf_counter()
    sol = solve(data, scenario)
    elapsed = time.perf_counter() - t0
    return Run(
        elapsed,
        sol.objective,
        sol.status == "optimal",
        f"gap={sol.gap}" if sol.status != "optimal" else "",
    )


def run_spopt(inst: Instance, solver_name: str, time_limit_s: float) -> Run:
    import pulp  # noqa: PLC0415
    from spopt.locate import LSCP, MCLP, PMedian  # noqa: PLC0415

    solver = (
        pulp.HiGHS(msg=False, timeLimit=time_limit_s)
        if solver_name == "highs"
        else cbc_command(msg=False, timeLimit=time_limit_s)
    )
    d = np.where(np.isfinite(inst.d), inst.d, 1e9)
    t0 = time.perf_counter()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if inst.model == "p_median":
            model = PMedian.from_cost_matrix(d, inst.weight, p_facilities=inst.p)
        elif inst.model == "mclp":
            model = MCLP.from_cost_matrix(
                d, inst.weight, service_radius=inst.radius, p_facilities=inst.p
            )
        else:
            model = LSCP.from_cost_matrix(d, service_radius=inst.radius)
        try:
            model = model.solve(solver, results=False)
        except Exception as err:  # noqa: BLE001 - report any spopt failure as a row
            return Run(time.perf_counter() - t0, None, proven=False, note=f"error: {err}"[:60])
    elapsed = time.perf_counter() - t0
    prob = model.problem
    proven = prob.sol_status == pulp.LpSolutionOptimal
    return Run(
        elapsed,
        float(pulp.value(prob.objective)),
        proven,
        "" if proven else f"sol_status={prob.sol_status}",
    )


#: Runs shorter than this are repeated (each side alike) and the median time is reported:
#: a single run of a few milliseconds mostly measures whatever else the process was doing.
REPEAT_BELOW_S = 1.0
REPEATS = 5


def repeated(run: Callable[[], Run]) -> Run:
    """Run once; if it took under REPEAT_BELOW_S, run REPEATS times and keep the median."""
    first = run()
    if first.time_s >= REPEAT_BELOW_S:
        return first
    runs = sorted([first] + [run() for _ in range(REPEATS - 1)], key=lambda r: r.time_s)
    return runs[len(runs) // 2]


def fmt(run: Run | None) -> str:
    if run is None:
        return f"{'-':>9} {'-':>12} {'-':>3}"
    obj = "-" if run.objective is None else f"{run.objective:.6g}"
    return f"{run.time_s:9.2f} {obj:>12} {'yes' if run.proven else 'NO':>3}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a subset (a few minutes)")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="our time limit per instance, seconds (default 60)",
    )
    parser.add_argument(
        "--spopt-time-limit",
        type=float,
        default=120.0,
        help="spopt's time limit per solver and instance (default 120)",
    )
    parser.add_argument(
        "--spopt-max-n",
        type=int,
        default=300,
        help="run spopt only on instances with at most this many demand "
        "points (default 300: larger pmed ones exceed its time limit)",
    )
    parser.add_argument("--no-spopt", action="store_true", help="only run this project")
    args = parser.parse_args(argv)
    if not BENCH.exists():
        print(f"benchmark data not found at {BENCH}", file=sys.stderr)
        return 2

    if args.quick:
        instances = pmed_instances(["pmed1", "pmed2", "pmed4", "pmed7", "pmed8"])
        instances += sf_instances()
        instances += sjc_instances(["SJC324"], [(800.0, 10), (1200.0, 10)])
        instances += sjc_lscp(["SJC324"], [1200.0])
    else:
        instances = pmed_instances([f"pmed{i}" for i in range(1, 41)])
        instances += sf_instances()
        instances += sjc_instances(
            ["SJC324", "SJC402", "SJC500", "SJC708", "SJC818"],
            [(800.0, 10), (800.0, 20), (1200.0, 10), (1200.0, 20)],
        )
        instances += sjc_lscp(["SJC324", "SJC818"], [800.0, 1200.0])

    head = (
        f"{'instance':<24} {'n':>4} {'p':>4} | {'ours_s':>9} {'objective':>12} {'opt':>3} | "
        f"{'spH_s':>9} {'objective':>12} {'opt':>3} | {'spC_s':>9} {'objective':>12} "
        f"{'opt':>3} | {'ratio':>6} {'check':>6}"
    )
    print(head)
    print("-" * len(head))
    ratios: dict[str, list[float]] = {"p_median": [], "mclp": [], "lscp": []}
    failures = 0
    for inst in instances:
        ours = repeated(lambda inst=inst: run_ours(inst, args.time_limit))
        highs = cbc = None
        small = inst.model != "p_median" or len(inst.d) <= args.spopt_max_n
        if not args.no_spopt and small:
            highs = repeated(lambda inst=inst: run_spopt(inst, "highs", args.spopt_time_limit))
            cbc = repeated(lambda inst=inst: run_spopt(inst, "cbc", args.spopt_time_limit))
        proven = [r for r in (highs, cbc) if r is not None and r.proven]
        ratio = min(r.time_s for r in proven) / ours.time_s if proven else math.nan
        if proven and ours.proven:
            ratios[inst.model].append(ratio)
        ref = inst.reference
        if ref is None and proven:
            ref = proven[0].objective
        ok = ours.proven and (ref is None or abs((ours.objective or 0) - ref) < 1e-6 * max(1, ref))
        failures += not ok
        check = "ok" if ok else "FAIL"
        p = "-" if inst.p is None else str(inst.p)
        print(
            f"{inst.name:<24} {len(inst.d):>4} {p:>4} | {fmt(ours)} | {fmt(highs)} | "
            f"{fmt(cbc)} | {ratio:6.1f} {check:>6}",
            flush=True,
        )
    print()
    for model, vals in ratios.items():
        if vals:
            print(
                f"{model}: median speed-up {statistics.median(vals):.1f} over {len(vals)} "
                f"instances spopt proved (min {min(vals):.1f}, max {max(vals):.1f})"
            )
    print(f"instances not proven optimal or not matching the reference: {failures}")
    allr = [r for vals in ratios.values() for r in vals]
    print(f"median_speedup_vs_spopt: {statistics.median(allr) if allr else float('nan'):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
