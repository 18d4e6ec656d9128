"""Benchmark the phased rollout on the Putian demo with every model, in one run.

    python benchmarks/rollout.py                  # mclp, lscp, p_median, p_center
    python benchmarks/rollout.py --models mclp --time-limit 30

The demo scenario (``Scenario()``: Putian, 2 km cells, 30 min, 6 sites, the policy phases
2023/2024/2025 with 2 new sites a year) is prepared once with the project's pipeline; then
``pipeline.rollout`` plans it with each model (``suggest=False``: the smallest-fix searches for
missed milestones are not timed). The table shows status (``optimal`` only when proven),
objective (the period values summed with the period weights), the best bound and the gap
(for LSCP the gap is the MIP's, in its lexicographic units, so no bound is shown) and the wall
time of the rollout (both stages). The last line, ``rollout_models_proven_10s: K of 4``, counts
the models proven optimal within 10 s.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planning import pipeline
from planning.scenario import Scenario

MODELS = ("mclp", "lscp", "p_median", "p_center")
TARGET_S = 10.0


def run(inputs: pipeline.Inputs, model: str, time_limit_s: float) -> dict[str, object]:
    """Plan the demo rollout with ``model``; return its figures."""
    scenario = inputs.scenario.replace(model=model, time_limit_s=time_limit_s)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pipeline.rollout(inputs, scenario, suggest=False)
    seconds = time.perf_counter() - t0
    bound: float | None = None
    if res.gap is not None and model != "lscp":
        sign = 1.0 if model == "mclp" else -1.0
        bound = res.objective * (1.0 + sign * res.gap)
    return {
        "model": model,
        "status": res.status,
        "objective": res.objective,
        "bound": bound,
        "gap": res.gap,
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated models")
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="time limit per MIP (the scenario's)"
    )
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    t0 = time.perf_counter()
    inputs = pipeline.prepare(Scenario())
    print(f"Putian demo prepared in {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"{'model':<10} {'status':<9} {'objective':>14} {'bound':>14} {'gap':>8} {'seconds':>8}")
    proven = 0
    for model in models:
        row = run(inputs, model, args.time_limit)
        bound = "-" if row["bound"] is None else f"{row['bound']:,.2f}"
        gap = "-" if row["gap"] is None else f"{100 * float(row['gap']):.2f}%"  # type: ignore[arg-type]
        print(
            f"{model:<10} {row['status']!s:<9} {row['objective']:>14,.2f} {bound:>14} "
            f"{gap:>8} {row['seconds']:>8.2f}",
            flush=True,
        )
        if row["status"] == "optimal" and float(row["seconds"]) <= TARGET_S:  # type: ignore[arg-type]
            proven += 1
    print(f"rollout_models_proven_10s: {proven} of {len(models)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
