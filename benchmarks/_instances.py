"""Readers for the benchmark instances in ../shared/bench (OR-Library pmed, SJC, spopt SF)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import shortest_path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BENCH = SHARED / "bench"


def read_pmed(path: Path) -> tuple[np.ndarray, int]:
    """All-pairs shortest-path matrix and p of an OR-Library pmed file (last edge wins)."""
    tokens = path.read_text().split()
    n, n_edges, p = int(tokens[0]), int(tokens[1]), int(tokens[2])
    e = np.array(tokens[3 : 3 + 3 * n_edges], dtype=np.int64).reshape(-1, 3)
    w = np.full((n, n), np.inf)
    for i, j, c in e:  # last one read stands (Beasley's convention)
        w[i - 1, j - 1] = c
        w[j - 1, i - 1] = c
    np.fill_diagonal(w, 0)
    d = shortest_path(np.where(np.isinf(w), 0, w), method="D", directed=False)
    return d, p


def pmed_optima() -> dict[str, int]:
    """Published optimum of each instance."""
    frame = pd.read_csv(BENCH / "orlib-pmed" / "optimal.csv")
    return dict(zip(frame["instance"], frame["optimal"].astype(int), strict=True))


def read_sjc(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (metres) and demand of an SJC instance."""
    lines = path.read_text().split("\n")[1:]
    vals = np.array([ln.split() for ln in lines if ln.strip()], dtype=float)
    return vals[:, :2], vals[:, 2]


def matrix_tables(
    d: np.ndarray, weight: np.ndarray, *, cutoff: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Long travel table, demand and site frames (ids d0001 / s0001) from a dense matrix."""
    n, m = d.shape
    dw = max(4, len(str(n)))
    demand_ids = [f"d{i:0{dw}d}" for i in range(n)]
    site_ids = [f"s{j:0{dw}d}" for j in range(m)]
    ii, jj = np.nonzero(np.isfinite(d) if cutoff is None else d <= cutoff)
    travel = pd.DataFrame(
        {
            "demand_id": np.array(demand_ids, dtype=object)[ii],
            "site_id": np.array(site_ids, dtype=object)[jj],
            "travel_min": d[ii, jj],
        }
    )
    demand = pd.DataFrame({"weight": weight}, index=pd.Index(demand_ids, name="demand_id"))
    sites = pd.DataFrame(
        {"fixed": np.zeros(m, dtype=bool)}, index=pd.Index(site_ids, name="site_id")
    )
    return travel, demand, sites
