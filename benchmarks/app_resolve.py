"""App responsiveness on Putian: re-solve after changing one model parameter vs a full run.

The app keeps prepared inputs (region, patients, demand cells, sites, travel times) in a
small store (``ui.cache.prepared_inputs``) keyed by the input fields of the scenario
(``ui.cache.inputs_key``), so a change of a model option (number of sites, a constraint, the
solver...) only re-runs the model and the result tables (``pipeline.solve(inputs, scenario)``);
a change of an input field (e.g. the minutes, which set the travel cut-off) prepares once.
This script measures, in one process:

1. a full run (``pipeline.run``: prepare + solve) of the Putian demo (MCLP, 6 sites, 30 min);
2. for each one-parameter change: a full run of the changed scenario, and its re-solve
   through the app's cached wrapper (``ui.cache.solve_plan``: cache hit for the inputs, then
   ``pipeline.solve``), split into solver time and everything else (cache hit, tables);

and prints both with their ratio. Run: ``python benchmarks/app_resolve.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

logging.getLogger("streamlit").setLevel(logging.ERROR)

from planning import pipeline  # noqa: E402
from planning.scenario import Scenario  # noqa: E402

CHANGES: dict[str, dict[str, object]] = {
    "n_facilities 6 -> 7": {"n_facilities": 7},
    "n_facilities 6 -> 5": {"n_facilities": 5},
    "n_facilities 6 -> 10": {"n_facilities": 10},
    "max_travel_min 30 -> 20": {"max_travel_min": 20.0},
    "max_travel_min 30 -> 45": {"max_travel_min": 45.0},
    "site_in_every_county on": {"constraints": {"site_in_every_county": True}},
    "min_county_share 80 %": {"constraints": {"min_county_share_with_site": 0.8}},
    "county_coverage_target 50 %": {"constraints": {"county_coverage_target": 0.5}},
    "hub_per_prefecture on": {"constraints": {"hub_per_prefecture": True}},
    "urban_max_travel_min 20": {"constraints": {"urban_max_travel_min": 20.0}},
    "mip_gap 0 -> 1 %": {"mip_gap": 0.01},
    "model -> p_center": {"model": "p_center"},
    "model -> p_median": {"model": "p_median"},
    "model -> lscp": {"model": "lscp", "n_facilities": None},
    "solver -> cbc": {"solver": "cbc"},
}


def _quiet_streamlit() -> None:
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="re-solves per change")
    args = parser.parse_args()

    base = Scenario(name="莆田市示范方案")
    t0 = time.perf_counter()
    full = pipeline.run(base)
    full_s = time.perf_counter() - t0
    full_solver = full.solution.solve_time_s + full.solution.build_time_s
    print(
        f"full run (prepare + solve), Putian MCLP p=6 T=30: {full_s:.2f} s "
        f"(solver {full_solver:.2f} s, status {full.solution.status})"
    )

    from ui import cache  # noqa: PLC0415 - imports streamlit

    _quiet_streamlit()
    t0 = time.perf_counter()
    cache.prepared_inputs(base)  # the app's first Solve fills the cache
    print(f"first prepare through ui.cache (fills the cache): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    cache.prepared_inputs(base)
    hit_s = time.perf_counter() - t0
    print(f"prepared-inputs cache hit: {hit_s * 1000:.0f} ms")

    from planning.errors import InfeasibleError  # noqa: PLC0415

    resolve_times: dict[str, list[float]] = {}
    full_times: list[float] = []
    for label, change in CHANGES.items():
        data = base.to_dict()
        for key, value in change.items():
            data[key] = {**data[key], **value} if isinstance(value, dict) else value
        scenario = Scenario.from_dict(data)
        same_inputs = cache.inputs_key(scenario) == cache.inputs_key(base)
        for k in range(args.repeat):
            t0 = time.perf_counter()
            with contextlib.suppress(InfeasibleError):  # timed to the message
                pipeline.run(scenario)
            full_changed = time.perf_counter() - t0
            t0 = time.perf_counter()
            try:
                plan, _ = cache.solve_plan(scenario)
            except InfeasibleError as err:
                total = time.perf_counter() - t0
                resolve_times.setdefault(label, []).append(total)
                print(f"{label}: re-solve {total:.2f} s to the message: {err}")
                continue
            total = time.perf_counter() - t0
            solver = plan.solution.solve_time_s + plan.solution.build_time_s
            resolve_times.setdefault(label, []).append(total)
            full_times.append(full_changed)
            inputs = (
                "cached inputs"
                if same_inputs or k > 0
                else "new inputs (travel cut-off changes: prepared once)"
            )
            print(
                f"{label}: full run {full_changed:.2f} s; re-solve {total:.2f} s "
                f"(solver {solver:.2f} s, other {total - solver:.2f} s; {inputs}; "
                f"ratio {full_changed / total:.1f}; status {plan.solution.status}, "
                f"share within {100 * plan.tables.kpis.share_within:.1f} %)"
            )
    every = [t for times in resolve_times.values() for t in times]
    median = statistics.median(every)
    median_full = statistics.median(full_times)
    slow = {k: max(v) for k, v in resolve_times.items() if max(v) > 2.0}
    print(
        f"median re-solve: {median:.2f} s; median full run of the same scenarios: "
        f"{median_full:.2f} s; ratio full/re-solve: {median_full / median:.1f}; "
        f"slowest: {max(every):.2f} s"
    )
    print(
        f"changes re-solved within 2 s: {len(resolve_times) - len(slow)} of {len(resolve_times)}"
        + ("; over 2 s: " + ", ".join(f"{k} ({v:.1f} s)" for k, v in slow.items()) if slow else "")
    )


if __name__ == "__main__":
    main()
