"""Capacitated p-median, single-source: the OR-Library instances of Osman & Christofides.

    python benchmarks/pmedcap.py                 # pmedcap01-20, 60 s each
    python benchmarks/pmedcap.py --quick         # pmedcap01-05, 20 s each

Instances from ``../shared/bench/orlib-pmedcap`` (see its README: distances are Euclidean
rounded down, every point is a client and a candidate, one capacity for every median; the
published optima are for single-source assignment; the objective counts distance alone,
which the project's weighted one gives with minutes ``d_ij / q_i``). Each is solved by this
project's capacitated p-median with ``single_source=True`` (HiGHS); the table shows the published
optimum, ours, the status (``optimal`` only with a proof), the bound, the gap to the published
optimum and the wall time. The last line, ``pmedcap_proven: K of N``, is for machines to read.
Without the instance folder the script says so and exits with status 0.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _instances import BENCH

from planning.models import ModelInput, ModelOptions, solve

FOLDER = BENCH / "orlib-pmedcap"


def read_pmedcap(path: Path) -> tuple[ModelInput, int, float]:
    """Return the model input, ``p`` and the published optimum of one ``pmedcapNN.zip``."""
    with zipfile.ZipFile(path) as z:
        text = z.read(z.namelist()[0]).decode()
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    best = float(lines[0][1])
    n, p, cap = int(lines[1][0]), int(lines[1][1]), float(lines[1][2])
    pts = np.array([[float(v) for v in ln[1:4]] for ln in lines[2 : 2 + n]])
    xy, demand = pts[:, :2], pts[:, 2]
    dist = np.floor(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)))
    ids = [f"p{k + 1}" for k in range(n)]
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    # the published objective counts distance alone (demand only loads the medians); the
    # project's counts weight x minutes: minutes d_ij / q_i with weight q_i give d_ij
    # (every demand here is positive)
    travel = pd.DataFrame(
        {
            "demand_id": np.array(ids)[i.ravel()],
            "site_id": np.array(ids)[j.ravel()],
            "travel_min": (dist / demand[:, None]).ravel(),
        }
    )
    dem = pd.DataFrame({"weight": demand}, index=pd.Index(ids, name="demand_id"))
    sites = pd.DataFrame({"fixed": False, "capacity": cap}, index=pd.Index(ids, name="site_id"))
    return ModelInput(travel=travel, demand=dem, sites=sites), p, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="pmedcap01-05, 20 s each")
    parser.add_argument("--time-limit", type=float, help="seconds per instance")
    args = parser.parse_args(argv)
    if not FOLDER.is_dir():
        print(f"skipped: {FOLDER} not found (the OR-Library pmedcap instances)")
        return 0
    names = [f"pmedcap{k:02d}" for k in range(1, 6 if args.quick else 21)]
    limit = args.time_limit or (20.0 if args.quick else 60.0)
    print(
        f"{'instance':<11}{'n':>5}{'p':>4}{'published':>11}{'ours':>10}{'status':>10}"
        f"{'bound':>10}{'vs pub.':>9}{'seconds':>9}"
    )
    proven = 0
    for name in names:
        data, p, best = read_pmedcap(FOLDER / f"{name}.zip")
        opts = ModelOptions(
            kind="p_median", p=p, capacitated=True, single_source=True, time_limit_s=limit
        )
        t0 = time.perf_counter()
        sol = solve(data, opts)
        took = time.perf_counter() - t0
        proven += sol.status == "optimal"
        bound = "-" if sol.bound is None or not math.isfinite(sol.bound) else f"{sol.bound:.0f}"
        diff = round(100.0 * (sol.objective - best) / best, 2) + 0.0  # no "-0.00"
        print(
            f"{name:<11}{len(data.demand):>5}{p:>4}{best:>11.0f}{sol.objective:>10.0f}"
            f"{sol.status:>10}{bound:>10}{diff:>8.2f}%{took:>9.1f}"
        )
    print(f"pmedcap_proven: {proven} of {len(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
