"""Province-scale siting (issue 16): Fujian, this project against spopt and plain HiGHS.

    python benchmarks/province.py                     # every row, 120 s per run
    python benchmarks/province.py --time-limit 30     # shorter
    python benchmarks/province.py --rows mclp80 --tools ours,highs

The instance is built once with the project's own pipeline and cached
(``~/.cache/kangle-planner/bench/fujian.npz``): the whole of 福建省 (every county with census
population), 2 km cells, 5 km candidate grid, estimated (straight-line) travel, pairs within
120 minutes (the table of an LSCP at 60 min; p-median and p-center are solved on these pairs,
so a plan is valued at the true minutes as long as every cell has an open site within 120).
Rows: MCLP p = 40 / 80 / 160 at 30 min, LSCP at 60 min (cells without a candidate within 60
min left out, as the project's message says), p-median p = 80, p-center p = 80.

Each run is a separate process (its peak RSS is its own) at the same time limit:

* ``ours``: :func:`planning.models.solve` (HiGHS);
* ``spopt``: PySAL spopt (pulp + HiGHS) from a dense cost matrix (MCLP, LSCP); its p-median
  and p-center need ``n x m`` assignment variables (170 M here) and are not run;
* ``highs``: highspy on the textbook sparse formulation (MCLP: ``z_i <= sum_{N_i} y_j``,
  ``sum y = p``; LSCP: ``sum_{N_i} y_j >= 1``); p-median / p-center likewise not run.

The table: instance, model, p, tool, status, objective, bound, gap, seconds, peak RSS. Then
``province_rows_proven: K of N`` (rows ours proves optimal) and ``province_gap_vs_highs: N.N``
(plain HiGHS's gap over ours, median over the rows both ran; a proven row of ours counts as a
gap of 0.01 %).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = Path(os.environ.get("KANGLE_BENCH_CACHE", Path.home() / ".cache/kangle-planner/bench"))
INSTANCE = CACHE / "fujian.npz"
REGION = "福建省"

#: name -> (model, p, minutes)
ROWS: dict[str, tuple[str, int | None, float]] = {
    "mclp40": ("mclp", 40, 30.0),
    "mclp80": ("mclp", 80, 30.0),
    "mclp160": ("mclp", 160, 30.0),
    "lscp": ("lscp", None, 60.0),
    "pmedian80": ("p_median", 80, 30.0),
    "pcenter80": ("p_center", 80, 30.0),
}
TOOLS = ("ours", "spopt", "highs")


# ---------------------------------------------------------------------------- the instance
def build_instance() -> None:
    """Build Fujian with the pipeline and save ids, weights and pairs (within 120 min)."""
    from planning import pipeline  # noqa: PLC0415
    from planning.inputs import county_units, load_census, resolve_region  # noqa: PLC0415
    from planning.scenario import Scenario  # noqa: PLC0415

    t0 = time.perf_counter()
    units = county_units(resolve_region(REGION))
    census = load_census()
    with_population = set(census.index[census["population"].notna()].astype(str))
    counties = sorted(c for c in units["adcode"].astype(str) if c in with_population)
    sc = Scenario(region=REGION, counties=tuple(counties), model="lscp", max_travel_min=60.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        mi = pipeline.prepare(sc).model_input()
    dids = mi.demand.index.astype(str).to_numpy().astype("U")  # not object: no pickle
    sids = mi.sites.index.astype(str).to_numpy().astype("U")
    tab = mi.travel
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        INSTANCE,
        demand_ids=dids,
        weight=mi.demand["weight"].to_numpy(float),
        site_ids=sids,
        fixed=mi.sites["fixed"].fillna(value=False).astype(bool).to_numpy(),
        pi=pd.Index(dids).get_indexer(tab["demand_id"].astype(str)).astype(np.int32),
        pj=pd.Index(sids).get_indexer(tab["site_id"].astype(str)).astype(np.int32),
        pt=tab["travel_min"].to_numpy(float),
    )
    print(
        f"built {REGION}: {len(counties)} counties, {dids.size:,} cells x {sids.size:,} sites, "
        f"{len(tab):,} pairs within 120 min in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )


def load_instance() -> dict[str, Any]:
    with np.load(INSTANCE, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


# ---------------------------------------------------------------------------- one run
def run_one(row: str, tool: str, time_limit_s: float) -> dict[str, Any]:
    model, p, minutes = ROWS[row]
    inst = load_instance()
    t0 = time.perf_counter()
    if tool == "ours":
        res = _ours(inst, model, p, minutes, time_limit_s)
    elif model not in ("mclp", "lscp"):
        return {"status": "not run", "note": "needs n x m assignment variables (170 M)"}
    elif tool == "spopt":
        res = _spopt(inst, model, p, minutes, time_limit_s)
    else:
        res = _highs(inst, model, p, minutes, time_limit_s)
    res.setdefault("seconds", time.perf_counter() - t0)
    res["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return res


def _coverage(inst: dict[str, Any], minutes: float) -> tuple[sp.csr_matrix, np.ndarray]:
    n, m = inst["weight"].size, inst["site_ids"].size
    ok = inst["pt"] <= minutes + 1e-9
    a = sp.csr_matrix((np.ones(int(ok.sum())), (inst["pi"][ok], inst["pj"][ok])), shape=(n, m))
    a.data[:] = 1.0
    need = np.flatnonzero((np.diff(a.indptr) > 0) & (inst["weight"] > 0))
    return a, need


def _ours(
    inst: dict[str, Any], model: str, p: int | None, minutes: float, limit: float
) -> dict[str, Any]:
    from planning.models import ModelInput, ModelOptions, solve  # noqa: PLC0415

    dids, sids = inst["demand_ids"], inst["site_ids"]
    weight = inst["weight"]
    keep = np.ones(dids.size, dtype=bool)
    if model == "lscp":  # cells without a candidate within the limit are left out
        _, need = _coverage(inst, minutes)
        keep[:] = False
        keep[need] = True
    pairs = keep[inst["pi"]]
    if model in ("mclp", "lscp"):  # the pipeline's table for a coverage model: 2 x minutes
        pairs &= inst["pt"] <= 2 * minutes + 1e-9
    data = ModelInput(
        travel=pd.DataFrame(
            {
                "demand_id": dids[inst["pi"][pairs]],
                "site_id": sids[inst["pj"][pairs]],
                "travel_min": inst["pt"][pairs],
            }
        ),
        demand=pd.DataFrame({"weight": weight[keep]}, index=pd.Index(dids[keep], name="demand_id")),
        sites=pd.DataFrame({"fixed": inst["fixed"]}, index=pd.Index(sids, name="site_id")),
    )
    opts = ModelOptions(kind=model, p=p, max_travel_min=minutes, time_limit_s=limit)  # type: ignore[arg-type]
    t0 = time.perf_counter()  # from the model input on, as the pipeline hands it over
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sol = solve(data, opts)
    return {
        "status": sol.status,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "seconds": time.perf_counter() - t0,
    }


def _spopt(
    inst: dict[str, Any], model: str, p: int | None, minutes: float, limit: float
) -> dict[str, Any]:
    import pulp  # noqa: PLC0415
    from spopt.locate import LSCP, MCLP  # noqa: PLC0415

    a, need = _coverage(inst, minutes)
    rows = np.arange(a.shape[0]) if model == "mclp" else need
    cm = np.full((rows.size, a.shape[1]), 10.0 * minutes)
    sub = a[rows].tocoo()
    cm[sub.row, sub.col] = minutes  # within reach (the exact minutes do not matter here)
    solver = pulp.HiGHS(msg=False, timeLimit=limit)
    if model == "mclp":
        obj = MCLP.from_cost_matrix(cm, inst["weight"], minutes, p_facilities=p)
    else:
        obj = LSCP.from_cost_matrix(cm, minutes)
    obj.solve(solver, results=False)
    prob = obj.problem
    value = pulp.value(prob.objective)
    bound = None
    sm = getattr(prob, "solverModel", None)
    if sm is not None:  # pulp's HiGHS keeps the highspy object: its real status and bound
        info = sm.getInfo()
        flip = -1.0 if model == "mclp" else 1.0  # pulp passes a maximisation negated
        bound = flip * float(info.mip_dual_bound)
        if info.primal_solution_status == 2:
            value = flip * float(info.objective_function_value)
    proven = prob.sol_status == pulp.LpSolutionOptimal
    return _result(model, "optimal" if proven else "feasible", value, bound)


def _highs(
    inst: dict[str, Any], model: str, p: int | None, minutes: float, limit: float
) -> dict[str, Any]:
    import highspy  # noqa: PLC0415

    a, need = _coverage(inst, minutes)
    n, m = a.shape
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)  # noqa: FBT003
    h.setOptionValue("time_limit", float(limit))
    h.setOptionValue("mip_rel_gap", 0.0)
    inf = h.getInfinity()
    if model == "mclp":  # columns y (m), z (n)
        ones = sp.csr_matrix(np.ones((1, m)))
        rows = sp.vstack(
            [sp.hstack([-a, sp.identity(n)]), sp.hstack([ones, sp.csr_matrix((1, n))])]
        ).tocsr()
        cost = np.concatenate([np.zeros(m), inst["weight"]])
        rl, ru = np.concatenate([np.full(n, -inf), [p]]), np.concatenate([np.zeros(n), [p]])
        integ = np.concatenate([np.ones(m), np.zeros(n)]).astype(np.int32)
        sense, ncol = -1, m + n
    else:
        rows = sp.csr_matrix(a[need])
        cost = np.ones(m)
        rl, ru = np.ones(need.size), np.full(need.size, inf)
        integ = np.ones(m, dtype=np.int32)
        sense, ncol = 1, m
    h.passModel(
        ncol, rows.shape[0], rows.nnz, 2, sense, 0.0, cost, np.zeros(ncol), np.ones(ncol),
        rl, ru, rows.indptr.astype(np.int32), rows.indices.astype(np.int32),
        rows.data.astype(float), integ,
    )  # fmt: skip
    h.run()
    info = h.getInfo()
    value = float(info.objective_function_value) if info.primal_solution_status == 2 else None
    proven = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return _result(model, "optimal" if proven else "feasible", value, float(info.mip_dual_bound))


def _result(model: str, status: str, value: float | None, bound: float | None) -> dict[str, Any]:
    if value is not None and model == "lscp":
        value = float(round(value))
    gap = None
    if value not in (None, 0) and bound is not None and math.isfinite(bound):
        gap = abs(bound - value) / abs(value)  # type: ignore[arg-type]
    if value is None:
        status = "no plan"
    return {"status": status, "objective": value, "bound": bound, "gap": gap}


# ---------------------------------------------------------------------------- the table
def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated: " + ",".join(ROWS))
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated: ours,spopt,highs"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached instance")
    parser.add_argument("--one", nargs=2, metavar=("ROW", "TOOL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        row, tool = args.one
        print(json.dumps(run_one(row, tool, args.time_limit)))
        return 0
    if args.rebuild or not INSTANCE.exists():
        build_instance()
    rows = [r for r in args.rows.split(",") if r]
    tools = [t for t in args.tools.split(",") if t]
    print(f"load average before: {os.getloadavg()[0]:.2f}; time limit {args.time_limit:g} s")
    head = f"{'instance':<9}{'model':<10}{'p':>5} {'tool':<7}{'status':<10}"
    print(head + f"{'objective':>12}{'bound':>12}{'gap':>9}{'seconds':>9}{'peak RSS':>10}")
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        model, p, minutes = ROWS[row]
        for tool in tools:
            cmd = [
                sys.executable,
                __file__,
                "--one",
                row,
                tool,
                "--time-limit",
                str(args.time_limit),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if not lines:
                sys.stderr.write(proc.stderr[-2000:])
            res = json.loads(lines[-1]) if lines else {"status": f"error {proc.returncode}"}
            found[(row, tool)] = res
            gap = res.get("gap")
            print(
                f"{'fujian':<9}{model + '@' + format(minutes, 'g'):<10}{p or '-':>5} "
                f"{tool:<7}{res['status']:<10}{_fmt(res.get('objective'), ',.0f'):>12}"
                f"{_fmt(res.get('bound'), ',.0f'):>12}"
                f"{_fmt(None if gap is None else 100 * gap, '.2f') + ' %':>9}"
                f"{_fmt(res.get('seconds'), '.1f'):>9}"
                f"{_fmt(res.get('peak_rss_gb'), '.2f') + ' GB':>10}",
                flush=True,
            )
    ours = [found[(r, "ours")] for r in rows if (r, "ours") in found]
    proven = sum(r.get("status") == "optimal" for r in ours)
    print(f"province_rows_proven: {proven} of {len(ours)}")
    ratios = []
    for row in rows:
        o, h = found.get((row, "ours")), found.get((row, "highs"))
        if not o or not h or h.get("gap") is None or o.get("objective") is None:
            continue
        ours_gap = 1e-4 if o.get("status") == "optimal" else max(o.get("gap") or 0.0, 1e-4)
        ratios.append(h["gap"] / ours_gap)
    median = statistics.median(ratios) if ratios else float("nan")
    print(f"province_gap_vs_highs: {median:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
