"""Small model inputs and brute-force reference answers for the model tests."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from planning.models import ModelInput

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def make_input(
    travel: dict[tuple[str, str], float],
    weights: dict[str, float],
    sites: list[str],
    *,
    fixed: tuple[str, ...] = (),
    **site_columns: dict[str, object],
) -> ModelInput:
    rows = [(d, s, t) for (d, s), t in travel.items()]
    table = pd.DataFrame(rows, columns=["demand_id", "site_id", "travel_min"])
    demand = pd.DataFrame(
        {"weight": [float(weights[d]) for d in weights]},
        index=pd.Index(list(weights), name="demand_id"),
    )
    frame = pd.DataFrame(
        {"fixed": [s in fixed for s in sites]}, index=pd.Index(sites, name="site_id")
    )
    for col, values in site_columns.items():
        frame[col] = [values.get(s, np.nan) for s in sites]
    return ModelInput(travel=table, demand=demand, sites=frame)


def line_input() -> ModelInput:
    """Five villages on a road 10 minutes apart, a site possible in each; 1,2,3,2,1 patients."""
    travel = {(f"d{a}", f"s{b}"): abs(a - b) * 10.0 for a in range(5) for b in range(5)}
    weights = {f"d{i}": w for i, w in enumerate([1, 2, 3, 2, 1])}
    return make_input(travel, weights, [f"s{i}" for i in range(5)])


def subsets(sites: list[str], fixed: set[str], size: int | None):
    free = [s for s in sites if s not in fixed]
    sizes = range(len(free) + 1) if size is None else [size - len(fixed)]
    for k in sizes:
        if k < 0 or k > len(free):
            continue
        for combo in itertools.combinations(free, k):
            yield set(combo) | fixed


def brute_force(
    travel: dict[tuple[str, str], float],
    weights: dict[str, float],
    sites: list[str],
    model: str,
    *,
    p: int | None,
    max_min: float,
    fixed: set[str] = frozenset(),  # type: ignore[assignment]
) -> float | None:
    """Optimal objective by enumeration (None if infeasible)."""
    best: float | None = None
    for chosen in subsets(sites, set(fixed), None if model == "lscp" else p):
        near = {}
        for d in weights:
            times = [travel[(d, s)] for s in chosen if (d, s) in travel]
            near[d] = min(times) if times else math.inf
        pos = [d for d in weights if weights[d] > 0]
        if model == "mclp":
            val = sum(weights[d] for d in pos if near[d] <= max_min)
            best = val if best is None else max(best, val)
        elif model == "lscp":
            if all(near[d] <= max_min for d in pos):
                val = float(len(chosen))
                best = val if best is None else min(best, val)
        elif model == "p_median":
            if all(math.isfinite(near[d]) for d in pos):
                val = sum(weights[d] * near[d] for d in pos)
                best = val if best is None else min(best, val)
        elif model == "p_center" and all(math.isfinite(near[d]) for d in pos):
            val = max((near[d] for d in pos), default=0.0)
            best = val if best is None else min(best, val)
    return best


# ------------------------------------------------------------------ constrained brute force
def _transport(
    pairs: list[tuple[str, str, float]],
    weights: dict[str, float],
    cap: dict[str, float],
    *,
    sense: str,
    exact: bool,
    county_rows: list[tuple[list[str], float]] = (),  # type: ignore[assignment]
) -> float | None:
    """Best split assignment over ``pairs`` (None if infeasible) via an LP."""
    from scipy.optimize import linprog  # noqa: PLC0415

    demand = [d for d in weights if weights[d] > 0]
    if not pairs:
        if exact and demand:
            return None
        if any(need > 1e-9 for _, need in county_rows):
            return None
        return 0.0
    k = len(pairs)
    if sense == "cover":
        c = np.array([-weights[d] for d, _, _ in pairs])
    else:
        c = np.array([weights[d] * t for d, _, t in pairs])
    a_ub, b_ub, a_eq, b_eq = [], [], [], []
    for d in demand:
        row = np.array([1.0 if pd_ == d else 0.0 for pd_, _, _ in pairs])
        if exact:
            a_eq.append(row)
            b_eq.append(1.0)
        else:
            a_ub.append(row)
            b_ub.append(1.0)
    for s, cj in cap.items():
        if math.isfinite(cj):
            a_ub.append(np.array([weights[d] if ps == s else 0.0 for d, ps, _ in pairs]))
            b_ub.append(cj)
    for members, need in county_rows:
        a_ub.append(np.array([-weights[d] if d in members else 0.0 for d, _, _ in pairs]))
        b_ub.append(-need + 1e-7)
    res = linprog(
        c,
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=b_ub or None,
        A_eq=np.array(a_eq) if a_eq else None,
        b_eq=b_eq or None,
        bounds=[(0, 1)] * k,
        method="highs",
    )
    if res.status != 0:
        return None
    return float(-res.fun) if sense == "cover" else float(res.fun)


def brute_force_constrained(
    travel: dict[tuple[str, str], float],
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    model: str,
    *,
    p: int | None,
    max_min: float,
    con: dict[str, object],
) -> float | None:
    """Optimal objective by enumeration with the side constraints of ``Constraints``."""
    weights = {str(d): float(w) for d, w in demand["weight"].items()}
    site_ids = [str(s) for s in sites.index]
    fixed = {s for s in site_ids if bool(sites.loc[s, "fixed"])}
    cost = {s: float(sites.loc[s, "cost"]) for s in site_ids}
    cap = {
        s: (
            float(sites.loc[s, "capacity"])
            if not math.isnan(sites.loc[s, "capacity"])
            else math.inf
        )
        for s in site_ids
    }
    openable = set(site_ids)
    if con.get("max_referral_min") is not None:
        lim = float(con["max_referral_min"])  # type: ignore[arg-type]
        openable = {
            s
            for s in site_ids
            if s in fixed
            or (
                not math.isnan(sites.loc[s, "referral_min"]) and sites.loc[s, "referral_min"] <= lim
            )
        }
    thr = dict.fromkeys(weights, max_min)
    has_thr = (
        con.get("urban_max_travel_min") is not None or con.get("rural_max_travel_min") is not None
    )
    if has_thr:
        for d in weights:
            urban = bool(demand.loc[d, "urban"])
            key = "urban_max_travel_min" if urban else "rural_max_travel_min"
            if con.get(key) is not None:
                thr[d] = float(con[key])  # type: ignore[arg-type]
    pos = [d for d in weights if weights[d] > 0]
    counties = sorted({str(demand.loc[d, "county"]) for d in pos})
    prefs = sorted({str(demand.loc[d, "prefecture"]) for d in pos})
    budget = con.get("budget")
    capacitated = bool(con.get("capacitated"))
    target = con.get("county_coverage_target")
    best: float | None = None
    free = [s for s in site_ids if s not in fixed and s in openable]
    for r in range(len(free) + 1):
        for combo in itertools.combinations(free, r):
            chosen = set(combo) | fixed
            if model != "lscp":
                assert p is not None
                if budget is None and len(chosen) != p:
                    continue
                if len(chosen) > p:
                    continue
            if budget is not None and sum(cost[s] for s in chosen - fixed) > float(budget) + 1e-9:  # type: ignore[arg-type]
                continue
            open_c = {str(sites.loc[s, "county"]) for s in chosen}
            if con.get("site_in_every_county") and not set(counties) <= open_c:
                continue
            share = con.get("min_county_share_with_site")
            if share is not None and counties:
                need = math.ceil(float(share) * len(counties) - 1e-9)  # type: ignore[arg-type]
                if sum(c in open_c for c in counties) < need:
                    continue
            if con.get("hub_per_prefecture"):
                open_p = {str(sites.loc[s, "prefecture"]) for s in chosen}
                if not set(prefs) <= open_p:
                    continue
            near = {}
            for d in weights:
                ts = [travel[(d, s)] for s in chosen if (d, s) in travel]
                near[d] = min(ts) if ts else math.inf
            covered = {d for d in pos if near[d] <= thr[d] + 1e-9}
            county_rows = []
            if target is not None and model != "lscp":
                ok = True
                for c in counties:
                    members = [d for d in pos if str(demand.loc[d, "county"]) == c]
                    need_w = float(target) * sum(weights[d] for d in members)  # type: ignore[arg-type]
                    county_rows.append((members, need_w))
                    if (
                        not (model == "mclp" and capacitated)
                        and sum(weights[d] for d in members if d in covered) < need_w - 1e-7
                    ):
                        ok = False
                if not ok:
                    continue
            val: float | None
            if not capacitated:
                if model == "mclp":
                    val = sum(weights[d] for d in covered)
                elif model == "lscp":
                    val = float(len(chosen)) if len(covered) == len(pos) else None
                else:
                    lim_d = {d: (thr[d] if has_thr else math.inf) for d in weights}
                    nn = {}
                    for d in pos:
                        ts = [
                            travel[(d, s)]
                            for s in chosen
                            if (d, s) in travel and travel[(d, s)] <= lim_d[d] + 1e-9
                        ]
                        nn[d] = min(ts) if ts else math.inf
                    if any(not math.isfinite(nn[d]) for d in pos):
                        val = None
                    elif model == "p_median":
                        val = sum(weights[d] * nn[d] for d in pos)
                    else:
                        val = max((nn[d] for d in pos), default=0.0)
            else:
                capc = {s: cap[s] for s in chosen}
                if model in ("mclp", "lscp"):
                    prs = [
                        (d, s, travel[(d, s)])
                        for d in pos
                        for s in chosen
                        if (d, s) in travel and travel[(d, s)] <= thr[d] + 1e-9
                    ]
                    if model == "mclp":
                        val = _transport(
                            prs,
                            weights,
                            capc,
                            sense="cover",
                            exact=False,
                            county_rows=county_rows if target is not None else [],
                        )
                    else:
                        val = (
                            float(len(chosen))
                            if _transport(prs, weights, capc, sense="cost", exact=True) is not None
                            else None
                        )
                else:
                    lim_d = {d: (thr[d] if has_thr else math.inf) for d in weights}
                    prs = [
                        (d, s, travel[(d, s)])
                        for d in pos
                        for s in chosen
                        if (d, s) in travel and travel[(d, s)] <= lim_d[d] + 1e-9
                    ]
                    if model == "p_median":
                        val = _transport(prs, weights, capc, sense="cost", exact=True)
                    else:
                        val = None
                        for dmax in sorted({t for _, _, t in prs}):
                            sub = [x for x in prs if x[2] <= dmax]
                            if _transport(sub, weights, capc, sense="cost", exact=True) is not None:
                                val = dmax
                                break
                        if not pos:
                            val = 0.0
            if val is None:
                continue
            if best is None:
                best = val
            elif model == "mclp":
                best = max(best, val)
            else:
                best = min(best, val)
    return best


def read_pmed(path: Path) -> tuple[np.ndarray, int]:
    """All-pairs shortest paths and p of an OR-Library pmed file (the last edge read wins)."""
    from scipy.sparse.csgraph import shortest_path  # noqa: PLC0415

    tokens = path.read_text().split()
    n, n_edges, p = int(tokens[0]), int(tokens[1]), int(tokens[2])
    edges = np.array(tokens[3 : 3 + 3 * n_edges], dtype=np.int64).reshape(-1, 3)
    w = np.zeros((n, n))
    for i, j, c in edges:
        w[i - 1, j - 1] = w[j - 1, i - 1] = c
    return shortest_path(w, method="D", directed=False), p


def dense_input(d: np.ndarray, weight: np.ndarray) -> ModelInput:
    """Model input from a dense matrix (every pair present), ids d0000 / s0000."""
    n, m = d.shape
    ii, jj = np.nonzero(np.isfinite(d))
    demand_ids = np.array([f"d{i:04d}" for i in range(n)], dtype=object)
    site_ids = np.array([f"s{j:04d}" for j in range(m)], dtype=object)
    travel = pd.DataFrame(
        {"demand_id": demand_ids[ii], "site_id": site_ids[jj], "travel_min": d[ii, jj]}
    )
    demand = pd.DataFrame({"weight": weight}, index=pd.Index(demand_ids, name="demand_id"))
    sites = pd.DataFrame(
        {"fixed": np.zeros(m, dtype=bool)}, index=pd.Index(site_ids, name="site_id")
    )
    return ModelInput(travel=travel, demand=demand, sites=sites)
