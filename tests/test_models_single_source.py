"""Capacitated models with single-source assignment: each demand point served by one site."""

from __future__ import annotations

import itertools
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from _model_fixtures import line_input, make_input

from planning.errors import InfeasibleError
from planning.models import ModelInput, ModelOptions, solve
from planning.scenario import Scenario

MAX_MIN = 15.0


def _brute_single_source(
    travel: dict[tuple[str, str], float],
    weights: dict[str, float],
    cap: dict[str, float],
    kind: str,
    p: int,
) -> float | None:
    """Best plan of ``p`` sites and one site per demand point, by trying every assignment."""
    sites = sorted(cap)
    demand = [d for d in weights if weights[d] > 0]
    best: float | None = None
    for plan in itertools.combinations(sites, p):
        options = []
        for d in demand:
            near = [s for s in plan if (d, s) in travel]
            if kind == "mclp":
                near = [s for s in near if travel[(d, s)] <= MAX_MIN] + [None]  # type: ignore[list-item]
            options.append(near)
        for choice in itertools.product(*options):
            load = dict.fromkeys(plan, 0.0)
            for d, s in zip(demand, choice, strict=True):
                if s is not None:
                    load[s] += weights[d]
            if any(load[s] > cap[s] + 1e-9 for s in plan):
                continue
            if kind == "mclp":
                val = sum(weights[d] for d, s in zip(demand, choice, strict=True) if s is not None)
                best = val if best is None else max(best, val)
            else:
                val = sum(weights[d] * travel[(d, s)] for d, s in zip(demand, choice, strict=True))
                best = val if best is None else min(best, val)
    return best


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", ["p_median", "mclp"])
def test_single_source_equals_enumeration(kind: str, seed: int) -> None:
    rng = np.random.default_rng(900 + seed)
    n, m = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    sites = [f"s{j}" for j in range(m)]
    travel = {
        (f"d{i}", sites[j]): float(rng.integers(1, 25))
        for i in range(n)
        for j in range(m)
        if rng.random() < 0.7 or j == i % m
    }
    weights = {f"d{i}": float(rng.integers(0, 7)) for i in range(n)}
    cap = {s: float(rng.choice([5.0, 8.0, 12.0, math.inf])) for s in sites}
    p = int(rng.integers(1, min(3, m) + 1))
    data = make_input(
        travel,
        weights,
        sites,
        capacity={s: (np.nan if math.isinf(c) else c) for s, c in cap.items()},
    )
    opts = ModelOptions(
        kind=kind,  # type: ignore[arg-type]
        p=p,
        max_travel_min=MAX_MIN,
        capacitated=True,
        single_source=True,
        time_limit_s=20,
    )
    expected = _brute_single_source(travel, weights, cap, kind, p)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve(data, opts)
        return
    sol = solve(data, opts)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected, abs=1e-6)
    served = sol.allocation[sol.allocation["patients"] > 1e-9]
    assert served.groupby("demand_id")["site_id"].nunique().max() <= 1
    load = sol.extras["site_load"].set_index("site_id")  # type: ignore[attr-defined]
    assert (load["patients"] <= load["capacity"].fillna(np.inf) + 1e-6).all()


def test_single_source_can_cost_more_than_a_split() -> None:
    # five villages on a line, 1,2,3,2,1 patients; two sites of capacity 5 at s1 and s3
    data = line_input()
    sites = data.sites.assign(capacity=[5.0, 5.0, 5.0, 5.0, 5.0])
    data = ModelInput(travel=data.travel, demand=data.demand, sites=sites)
    split = solve(data, ModelOptions(kind="p_median", p=2, capacitated=True))
    whole = solve(data, ModelOptions(kind="p_median", p=2, capacitated=True, single_source=True))
    assert split.status == whole.status == "optimal"
    # open s1 and s3: the middle village's 3 patients split 2 + 1 (loads 5 and 4); whole,
    # they overfill either site, so the single-source plan costs more
    assert split.objective == pytest.approx(1 * 10 + 2 * 10 + 1 * 10 + 1 * 10)
    assert whole.objective > split.objective + 1e-6
    assert whole.objective == pytest.approx(
        _brute_single_source(
            {(d, s): t for d, s, t in data.travel.itertuples(index=False)},
            data.demand["weight"].to_dict(),
            dict.fromkeys(data.sites.index, 5.0),
            "p_median",
            2,
        )
    )


def test_single_source_round_trips_and_reaches_the_model() -> None:
    sc = Scenario(model="p_median", constraints={"capacitated": True, "single_source": True})
    again = Scenario.from_json(sc.to_json())
    assert again.constraints.single_source
    assert ModelOptions.from_scenario(again).single_source
    assert not ModelOptions.from_scenario(Scenario()).single_source


def test_cli_single_source_flag_turns_capacities_on() -> None:
    from planning import cli  # noqa: PLC0415

    parser = cli.build_parser()
    args = parser.parse_args(["solve", "--single-source"])
    sc = cli._scenario_from_args(args)
    assert sc.constraints.capacitated
    assert sc.constraints.single_source


PMEDCAP = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "orlib-pmedcap"


@pytest.mark.skipif(
    not PMEDCAP.is_dir(), reason=f"OR-Library pmedcap instances not found at {PMEDCAP}"
)
@pytest.mark.parametrize("name", ["pmedcap02", "pmedcap04"])
def test_orlib_pmedcap_published_single_source_optimum(name: str) -> None:
    with zipfile.ZipFile(PMEDCAP / f"{name}.zip") as z:
        lines = [ln.split() for ln in z.read(z.namelist()[0]).decode().splitlines() if ln.strip()]
    best = float(lines[0][1])
    n, p, cap = int(lines[1][0]), int(lines[1][1]), float(lines[1][2])
    pts = np.array([[float(v) for v in ln[1:4]] for ln in lines[2 : 2 + n]])
    dist = np.floor(np.sqrt(((pts[:, None, :2] - pts[None, :, :2]) ** 2).sum(-1)))
    ids = [f"p{k}" for k in range(n)]
    # the published objective counts distance alone: minutes d_ij / q_i with weight q_i
    travel = {(ids[i], ids[j]): dist[i, j] / pts[i, 2] for i in range(n) for j in range(n)}
    data = make_input(
        travel, dict(zip(ids, pts[:, 2], strict=True)), ids, capacity=dict.fromkeys(ids, cap)
    )
    opts = ModelOptions(kind="p_median", p=p, capacitated=True, single_source=True, time_limit_s=60)
    sol = solve(data, opts)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best, abs=1e-6)
