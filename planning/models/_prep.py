"""Turn a :class:`ModelInput` and :class:`ModelOptions` into positional arrays for the builders.

Everything here is deterministic: demand points and sites are ordered by id, pairs by
(demand, minutes, site), so the same input always gives the same model and the same answer.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.errors import DataError, InfeasibleError, PlanningWarning, ScenarioError
from planning.models._mip import INF, BoolArray, FloatArray, IntArray
from planning.models.base import ModelInput
from planning.models.options import ModelOptions

StrArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Prepared:
    """Positional view of a model input (``i`` indexes demand, ``j`` sites)."""

    demand_ids: StrArray
    site_ids: StrArray
    weight: FloatArray
    fixed: BoolArray
    openable: BoolArray  # False: the site may not open (e.g. referral time too long)
    cost: FloatArray
    capacity: FloatArray  # inf = unlimited
    pi: IntArray  # pairs, sorted by (i, minutes, j)
    pj: IntArray
    pt: FloatArray
    threshold: FloatArray  # per demand: coverage / maximum travel minutes
    county: StrArray  # per demand ("" unknown)
    county_name: StrArray
    prefecture: StrArray
    site_county: StrArray
    site_prefecture: StrArray
    referral: FloatArray  # per site, NaN unknown

    @property
    def n(self) -> int:
        """Number of demand points."""
        return len(self.demand_ids)

    @property
    def m(self) -> int:
        """Number of sites."""
        return len(self.site_ids)

    def covering_pairs(self) -> BoolArray:
        """Mask of pairs within the demand point's threshold."""
        return self.pt <= self.threshold[self.pi] + 1e-9

    def cover_matrix(self, mask: BoolArray) -> BoolArray:
        """Dense ``n x m`` matrix: ``True`` where a pair of ``mask`` joins demand and site."""
        cover = np.zeros((self.n, self.m), dtype=bool)
        cover[self.pi[mask], self.pj[mask]] = True
        return cover

    def demand_counties(self) -> list[str]:
        """Counties (adcodes) of the demand points with patients, sorted."""
        return sorted({c for c in self.county[self.weight > 0] if c})

    def demand_prefectures(self) -> list[str]:
        """Prefectures of the demand points with patients, sorted."""
        return sorted({p for p in self.prefecture[self.weight > 0] if p})

    def relaxed(self, families: frozenset[str], max_travel_min: float) -> Prepared:
        """Return the data without the data-level rule families in ``families``.

        ``max_referral_min``: every site may open; ``travel_thresholds``: one threshold,
        ``max_travel_min``, for every demand point; ``max_travel_min``: no threshold.
        """
        changes: dict[str, object] = {}
        if "max_referral_min" in families:
            changes["openable"] = np.ones(self.m, dtype=bool)
        if "travel_thresholds" in families:
            changes["threshold"] = np.full(self.n, float(max_travel_min))
        if "max_travel_min" in families:
            changes["threshold"] = np.full(self.n, INF)
        return dataclasses.replace(self, **changes) if changes else self  # type: ignore[arg-type]

    def nearest_open(
        self, is_open: BoolArray, mask: BoolArray | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Per demand point, the nearest open site among pairs (``mask``) and its minutes.

        Returns ``(site, minutes)``; ``-1`` / ``inf`` where no open site is paired.
        """
        ok = is_open[self.pj]
        if mask is not None:
            ok &= mask
        best = np.full(self.n, -1, dtype=np.int64)
        best_t = np.full(self.n, np.inf)
        idx = np.flatnonzero(ok)
        if idx.size:
            # pairs are sorted by (i, minutes, j): the first pair per i is the nearest
            first_i, first = np.unique(self.pi[idx], return_index=True)
            best[first_i] = self.pj[idx[first]]
            best_t[first_i] = self.pt[idx[first]]
        return best, best_t


def _str_col(frame: pd.DataFrame, col: str, n: int) -> StrArray:
    if col not in frame.columns:
        return np.full(n, "", dtype=object)
    vals = frame[col]
    return np.array(["" if pd.isna(v) else str(v) for v in vals], dtype=object)


def _num_col(frame: pd.DataFrame, col: str) -> FloatArray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _positions(values: pd.Series, ids: StrArray) -> IntArray:
    """Position of each value in ``ids`` (factorised first: long tables repeat few ids)."""
    codes, uniques = pd.factorize(values, sort=False)
    at = {v: k for k, v in enumerate(ids.tolist())}  # plain dict: no string Index to build
    # ids are matched as strings; converting the uniques at once avoids iterating arrow strings
    names = pd.Index(uniques).astype(str).to_numpy(dtype=object).tolist()
    where = np.fromiter((at.get(u, -1) for u in names), dtype=np.int64, count=len(names))
    out: IntArray = where[codes] if codes.size else np.zeros(0, dtype=np.int64)
    return out


def _pair_order(d_pos: IntArray, t: FloatArray, s_pos: IntArray, n: int) -> IntArray:
    """``np.lexsort((s_pos, t, d_pos))`` (minutes ``t >= 0``, no NaN), faster on long tables.

    One stable sort of an ``int64`` key: the demand position in the high bits, the leading
    bits of the minutes' IEEE pattern below it (monotone for non-negative floats); runs of
    equal keys (minutes equal in those bits) are then ordered exactly by ``(t, s_pos)``.
    Tables arrive grouped by demand, nearly sorted, which the stable sort (timsort) exploits.
    """
    if t.size < 2 or n >= 2**31:
        return np.lexsort((s_pos, t, d_pos)).astype(np.int64)
    bits = max(int(n).bit_length(), 1)
    minutes = np.array(t, dtype=np.float64)  # in place below: few fresh table-long arrays
    minutes += 0.0  # -0.0 -> 0.0
    key: IntArray = minutes.view(np.int64)
    key >>= bits
    key |= d_pos.astype(np.int64) << (63 - bits)
    order: IntArray = np.argsort(key, kind="stable").astype(np.int64, copy=False)
    ks = key[order]
    tie = ks[1:] == ks[:-1]
    if tie.any():
        in_run = np.zeros(ks.size, dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        at = np.flatnonzero(in_run)  # positions (in sorted order) inside runs of equal keys
        run = np.cumsum(~np.concatenate(([False], tie)))[at]  # run number of each
        sub = order[at]  # increasing original index within each run (stable sort)
        fix = np.lexsort((s_pos[sub], t[sub], run))
        order[at] = sub[fix]
    return order


def _first_copies(pi: IntArray, pj: IntArray, m: int) -> IntArray | None:
    """``np.unique(pi * m + pj, return_index=True)[1]`` when some pair repeats, else ``None``.

    ``pi`` must be non-decreasing (pairs grouped by demand). Blocks of demand rows are checked
    with a byte map of at most 4 MiB, reused, instead of one of ``n x m`` bytes; on the first
    repeat, or when ``pi`` is not grouped, ``np.unique`` decides.
    """
    if pi.size == 0:
        return None
    grouped = bool((pi[1:] >= pi[:-1]).all())
    if grouped and m > 0 and int(pi[0]) >= 0 and int(pj.min()) >= 0 and int(pj.max()) < m:
        rows = max(1, (1 << 22) // m)
        seen = np.zeros(rows * m, dtype=bool)
        starts = np.arange(int(pi[0]), int(pi[-1]) + rows + 1, rows)
        cuts = np.searchsorted(pi, starts)
        repeat = False
        for lo, hi, row0 in zip(cuts[:-1], cuts[1:], starts[:-1], strict=True):
            if hi == lo:
                continue
            local = (pi[lo:hi] - row0) * m + pj[lo:hi]
            seen[local] = True
            repeat = int(np.count_nonzero(seen)) != hi - lo
            seen[local] = False
            if repeat:
                break
        if not repeat:
            return None
    _, first = np.unique(pi * m + pj, return_index=True)
    out: IntArray = first.astype(np.int64)
    return None if out.size == pi.size else out


def prepare(data: ModelInput, opts: ModelOptions) -> Prepared:
    """Order, validate and combine ``data`` with the options ``opts``.

    Raises
    ------
    DataError
        Travel minutes missing or negative.
    ScenarioError
        Options that contradict the data (p too large, too few sites for the existing ones).
    """
    demand = data.demand.sort_index(key=lambda s: s.astype(str))
    sites = data.sites.sort_index(key=lambda s: s.astype(str))
    demand_ids = demand.index.astype(str).to_numpy(dtype=object)  # vectorised: arrow strings
    site_ids = sites.index.astype(str).to_numpy(dtype=object)
    n, m = len(demand_ids), len(site_ids)
    if m == 0:
        raise DataError("models.site_table_empty")
    weight = demand["weight"].to_numpy(dtype=float)
    fixed = sites["fixed"].fillna(value=False).astype(bool).to_numpy()

    # ---- costs and capacities: site columns first, then the candidate type, then defaults
    ctype = _str_col(sites, "candidate_type", m)
    type_cost = np.array([opts.type_costs.get(t, np.nan) for t in ctype], dtype=float)
    type_cap = np.array([opts.type_capacities.get(t, np.nan) for t in ctype], dtype=float)
    site_cost = _num_col(sites, "cost")
    cost = np.where(np.isnan(site_cost), type_cost, site_cost)
    cost = np.where(np.isnan(cost), 0.0, cost)
    site_cap = _num_col(sites, "capacity")
    capacity = np.where(np.isnan(site_cap), type_cap, site_cap)
    default_cap = opts.default_capacity if opts.default_capacity is not None else math.inf
    capacity = np.where(np.isnan(capacity), default_cap, capacity)
    if (capacity <= 0).any():
        raise DataError("models.capacity_not_positive", sites=list(site_ids[capacity <= 0][:5]))

    # ---- referral limit
    referral = _num_col(sites, "referral_min")
    openable = np.ones(m, dtype=bool)
    if opts.max_referral_min is not None:
        limit = opts.max_referral_min
        unknown = np.isnan(referral) & ~fixed
        if unknown.any():
            warnings.warn(
                PlanningWarning(
                    "models.referral_unknown",
                    count=int(unknown.sum()),
                    sites=list(site_ids[unknown][:3]),
                    max_referral_min=limit,
                ),
                stacklevel=3,
            )
        too_far = referral > limit
        if (too_far & fixed).any():
            warnings.warn(
                PlanningWarning(
                    "models.referral_existing_far",
                    sites=list(site_ids[too_far & fixed][:5]),
                    max_referral_min=limit,
                ),
                stacklevel=3,
            )
        openable = fixed | ~(unknown | too_far)

    # ---- travel pairs
    travel = data.travel
    t = pd.to_numeric(travel["travel_min"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(t).any() or (t < 0).any():
        raise DataError("models.travel_minutes_invalid")
    d_pos = _positions(travel["demand_id"], demand_ids)
    s_pos = _positions(travel["site_id"], site_ids)
    order = _pair_order(d_pos, t, s_pos, n)
    pi, pj, pt = d_pos[order].astype(np.int64), s_pos[order].astype(np.int64), t[order]
    if pi.size > 1:
        first = _first_copies(pi, pj, m)
        if first is not None:
            warnings.warn(
                PlanningWarning("models.travel_duplicate_pairs", count=pi.size - first.size),
                stacklevel=3,
            )
            keep = np.sort(first)  # within (i, t, j) order the first copy is the shortest
            pi, pj, pt = pi[keep], pj[keep], pt[keep]

    # ---- urban and rural thresholds
    threshold = np.full(n, float(opts.max_travel_min))
    if opts.urban_max_travel_min is not None or opts.rural_max_travel_min is not None:
        if "urban" not in demand.columns:
            raise DataError("models.urban_column_missing")
        urban = demand["urban"].fillna(value=False).astype(bool).to_numpy()
        if opts.urban_max_travel_min is not None:
            threshold[urban] = opts.urban_max_travel_min
        if opts.rural_max_travel_min is not None:
            threshold[~urban] = opts.rural_max_travel_min

    prep = Prepared(
        demand_ids=demand_ids,
        site_ids=site_ids,
        weight=weight,
        fixed=fixed,
        openable=openable,
        cost=cost,
        capacity=capacity,
        pi=pi,
        pj=pj,
        pt=pt,
        threshold=threshold,
        county=_str_col(demand, "county", n),
        county_name=_str_col(demand, "county_name", n),
        prefecture=_str_col(demand, "prefecture", n),
        site_county=_str_col(sites, "county", m),
        site_prefecture=_str_col(sites, "prefecture", m),
        referral=referral,
    )
    check_counts(prep, opts)
    return prep


def check_counts(prep: Prepared, opts: ModelOptions) -> None:
    """Refuse a number of sites ``p`` that the sites cannot give.

    Raises
    ------
    ScenarioError
        More sites than there are, or fewer than the existing ones.
    InfeasibleError
        More sites than may open (``max_referral_min`` excludes the rest).
    """
    p = opts.p
    n_fixed = int(prep.fixed.sum())
    n_open = int(prep.openable.sum())
    if opts.kind == "lscp" or p is None:
        return
    if p > prep.m:
        raise ScenarioError(
            "models.too_many_sites",
            model=opts.kind,
            p=p,
            sites=prep.m,
            candidates=prep.m - n_fixed,
            existing=n_fixed,
        )
    if p > n_open and opts.budget is None:
        raise InfeasibleError(
            "models.too_few_openable",
            culprit="max_referral_min",
            model=opts.kind,
            p=p,
            openable=n_open,
            excluded=prep.m - n_open,
        )
    if p < n_fixed:
        raise ScenarioError("models.fewer_than_existing", model=opts.kind, p=p, existing=n_fixed)
