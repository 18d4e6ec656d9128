"""Formulate, solve and decode every siting model (shared by the public model modules).

See :mod:`planning.models.mclp`, :mod:`~planning.models.lscp`, :mod:`~planning.models.p_median`
and :mod:`~planning.models.p_center` for the formulations; this module assembles them as sparse
matrices (:class:`~planning.models._mip.MipBuilder`) together with the side constraints every
model can take (:data:`FAMILIES`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.models._branch import branch_and_bound
from planning.models._heuristic import MAX_DENSE_CELLS, dense_costs, p_median_heuristic
from planning.models._mip import (
    INF,
    BoolArray,
    FloatArray,
    HighsSession,
    IntArray,
    Mip,
    MipBuilder,
    RawResult,
    proven_optimal,
    sanitize_names,
    solve_mip,
)
from planning.models._prep import Prepared
from planning.models.base import Status
from planning.scenario import Scenario

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
ModelKind = Literal["mclp", "p_median", "lscp", "p_center", "cover_check"]

#: Constraint families that infeasibility diagnosis relaxes one at a time (most specific first).
FAMILIES = (
    "county_coverage_target",
    "site_in_every_county",
    "min_county_share_with_site",
    "hub_per_prefecture",
    "budget",
    "capacity",
    "max_referral_min",
    "travel_thresholds",
    "max_travel_min",
    "n_facilities",
)


#: Coverage terms (county of the row, column, coefficient) for county coverage targets.
Terms = tuple[npt.NDArray[np.object_], IntArray, FloatArray]


# ============================================================================ options
@dataclass(frozen=True)
class Options:
    """Model options read from a scenario, with some families possibly relaxed."""

    p: int | None
    budget: float | None
    capacitated: bool
    site_in_every_county: bool
    min_county_share: float | None
    county_target: float | None
    hub_per_prefecture: bool
    relaxed: frozenset[str] = frozenset()

    @classmethod
    def from_scenario(cls, scenario: Scenario, relax: frozenset[str] = frozenset()) -> Options:
        """Read the options (``relax``: families to drop)."""
        c = scenario.constraints
        return cls(
            p=None if "n_facilities" in relax else scenario.n_facilities,
            budget=None if "budget" in relax else c.budget,
            capacitated=c.capacitated and "capacity" not in relax,
            site_in_every_county=c.site_in_every_county and "site_in_every_county" not in relax,
            min_county_share=None
            if "min_county_share_with_site" in relax
            else c.min_county_share_with_site,
            county_target=None if "county_coverage_target" in relax else c.county_coverage_target,
            hub_per_prefecture=c.hub_per_prefecture and "hub_per_prefecture" not in relax,
            relaxed=relax,
        )


def relax_prep(prep: Prepared, scenario: Scenario, relax: frozenset[str]) -> Prepared:
    """Return ``prep`` with the data-level families in ``relax`` removed."""
    changes: dict[str, object] = {}
    if "max_referral_min" in relax:
        changes["openable"] = np.ones(prep.m, dtype=bool)
    if "travel_thresholds" in relax:
        changes["threshold"] = np.full(prep.n, float(scenario.max_travel_min))
    if "max_travel_min" in relax:
        changes["threshold"] = np.full(prep.n, INF)
    return dataclasses.replace(prep, **changes) if changes else prep  # type: ignore[arg-type]


# ============================================================================ formulation
@dataclass
class Radius:
    """Per-client distance levels of the p-median radius formulation (allowed pairs only)."""

    pairs: IntArray  # indices into prep pair arrays, sorted by (i, t, j)
    level: IntArray  # level of each pair within its client (0 = nearest distance)
    n_levels: IntArray  # K_i per client (0 = client has no allowed pair)
    level_dist: list[FloatArray]  # distinct distances per client
    keep: IntArray  # L_i: levels currently modelled (1..K_i)


@dataclass
class Formulation:
    """A built model and what is needed to read its answer back."""

    kind: ModelKind
    mip: Mip
    y0: int
    x0: int | None = None
    xpairs: IntArray | None = None  # prep pair index of each assignment column
    count_row: int | None = None
    radius: Radius | None = None
    #: radius formulation: client i's z columns are cols[start[i]:start[i + 1]] (start, cols)
    radius_z: tuple[IntArray, IntArray] | None = None
    allowed: BoolArray | None = None  # pair mask a demand point may be assigned along
    notes: dict[str, object] = field(default_factory=dict)


def _count_sense(opts: Options, kind: ModelKind) -> Literal["eq", "le"] | None:
    if kind == "lscp" or opts.p is None:
        return None
    if kind == "cover_check":
        return "le"
    return "le" if opts.budget is not None else "eq"


def _y_cols(b: MipBuilder, prep: Prepared, *, cost: float | FloatArray) -> int:
    return b.add_cols(
        prep.m,
        cost=cost,
        lb=prep.fixed.astype(float),
        ub=prep.openable.astype(float),
        integer=True,
        names=sanitize_names("y", list(prep.site_ids)),
    )


def _demand_counties(prep: Prepared) -> list[str]:
    pos = prep.weight > 0
    return sorted({c for c in prep.county[pos] if c})


def _add_side(  # noqa: PLR0917 - internal helper
    b: MipBuilder,
    prep: Prepared,
    opts: Options,
    y0: int,
    kind: ModelKind,
    coverage_terms: Terms | None,
) -> int | None:
    """Add count, budget, county, hub and coverage-target rows; return the count row."""
    m = prep.m
    jj = np.arange(m)
    count_row = None
    sense = _count_sense(opts, kind)
    if sense is not None and opts.p is not None:
        lb = float(opts.p) if sense == "eq" else -INF
        count_row = b.add_rows(
            1,
            np.zeros(m, dtype=np.int64),
            y0 + jj,
            1.0,
            lb=lb,
            ub=float(opts.p),
            family="n_facilities",
            names=["n_facilities"],
        )
    if opts.budget is not None:
        new = ~prep.fixed
        bcols = y0 + jj[new]
        b.add_rows(
            1,
            np.zeros(bcols.size, dtype=np.int64),
            bcols,
            prep.cost[new],
            ub=float(opts.budget),
            family="budget",
            names=["budget"],
        )
    counties = _demand_counties(prep)
    site_c = prep.site_county
    if opts.site_in_every_county and counties:
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        for r, c in enumerate(counties):
            js = np.flatnonzero(site_c == c)
            rows.append(np.full(js.size, r))
            cols.append(y0 + js)
        b.add_rows(
            len(counties),
            np.concatenate(rows),
            np.concatenate(cols),
            1.0,
            lb=1.0,
            family="site_in_every_county",
            names=sanitize_names("county_site", counties),
        )
    if opts.min_county_share is not None and counties:
        need = math.ceil(opts.min_county_share * len(counties) - 1e-9)
        v0 = b.add_cols(
            len(counties), ub=1.0, integer=True, names=sanitize_names("county_open", counties)
        )
        rows2: list[IntArray] = []
        cols2: list[IntArray] = []
        vals2: list[FloatArray] = []
        for r, c in enumerate(counties):
            js = np.flatnonzero(site_c == c)
            rows2 += [np.full(js.size + 1, r)]
            cols2 += [np.concatenate([[v0 + r], y0 + js])]
            vals2 += [np.concatenate([[1.0], -np.ones(js.size)])]
        b.add_rows(
            len(counties),
            np.concatenate(rows2),
            np.concatenate(cols2),
            np.concatenate(vals2),
            ub=0.0,
            family="min_county_share_with_site",
            names=sanitize_names("county_open_link", counties),
        )
        b.add_rows(
            1,
            np.zeros(len(counties), dtype=np.int64),
            v0 + np.arange(len(counties)),
            1.0,
            lb=float(need),
            family="min_county_share_with_site",
            names=["county_share"],
        )
    if opts.hub_per_prefecture:
        prefs = sorted({p for p in prep.prefecture[prep.weight > 0] if p})
        rows3: list[IntArray] = []
        cols3: list[IntArray] = []
        for r, pf in enumerate(prefs):
            js = np.flatnonzero(prep.site_prefecture == pf)
            rows3.append(np.full(js.size, r))
            cols3.append(y0 + js)
        if prefs:
            b.add_rows(
                len(prefs),
                np.concatenate(rows3),
                np.concatenate(cols3),
                1.0,
                lb=1.0,
                family="hub_per_prefecture",
                names=sanitize_names("hub", prefs),
            )
    if opts.county_target is not None and kind != "lscp" and counties:
        if coverage_terms is None:
            coverage_terms = _coverage_vars(b, prep, y0)
        county_of, col, coef = coverage_terms
        c_index = {c: k for k, c in enumerate(counties)}
        total = pd.Series(prep.weight).groupby(prep.county).sum()
        rr = np.array([c_index.get(c, -1) for c in county_of], dtype=np.int64)
        ok = rr >= 0
        rhs = np.array([opts.county_target * float(total.get(c, 0.0)) for c in counties])
        b.add_rows(
            len(counties),
            rr[ok],
            col[ok],
            coef[ok],
            lb=rhs - 1e-7,
            family="county_coverage_target",
            names=sanitize_names("county_target", counties),
        )
    return count_row


def _coverage_vars(b: MipBuilder, prep: Prepared, y0: int) -> Terms:
    """Add ``u_i <= sum_{j covers i} y_j`` and return (county, column, weight) terms."""
    cover = prep.covering_pairs()
    pos = np.flatnonzero(prep.weight > 0)
    u0 = b.add_cols(pos.size, ub=1.0, prefix="covered")
    local = np.full(prep.n, -1)
    local[pos] = np.arange(pos.size)
    sel = cover & (local[prep.pi] >= 0)
    rows = np.concatenate([np.arange(pos.size), local[prep.pi[sel]]])
    cols = np.concatenate([u0 + np.arange(pos.size), y0 + prep.pj[sel]])
    vals = np.concatenate([np.ones(pos.size), -np.ones(int(sel.sum()))])
    b.add_rows(pos.size, rows, cols, vals, ub=0.0, family="coverage_link")
    return prep.county[pos], u0 + np.arange(pos.size), prep.weight[pos]


def _group_sets(
    prep: Prepared, mask: BoolArray, demand: IntArray, *, by_county: bool
) -> tuple[IntArray, list[IntArray]]:
    """Group demand points by identical site sets (within ``mask``); return (group, sets)."""
    sel = mask & np.isin(prep.pi, demand)
    pi, pj = prep.pi[sel], prep.pj[sel]
    order = np.lexsort((pj, pi))
    pi, pj = pi[order], pj[order]
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]]) if pi.size else np.zeros(0, int)
    ends = np.r_[starts[1:], pi.size] if starts.size else np.zeros(0, int)
    keys: dict[tuple[str, bytes], int] = {}
    group = np.full(prep.n, -1, dtype=np.int64)
    sets: list[IntArray] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        i = int(pi[s])
        js = pj[s:e]
        key = (prep.county[i] if by_county else "", js.tobytes())
        g = keys.get(key)
        if g is None:
            g = len(sets)
            keys[key] = g
            sets.append(js)
        group[i] = g
    return group, sets


def _pure_cover(opts: Options) -> bool:
    """Whether set-cover reductions are exact: nothing but the cover rows uses the sites."""
    return (
        opts.county_target is None
        and opts.budget is None
        and not opts.capacitated
        and not opts.site_in_every_county
        and opts.min_county_share is None
        and not opts.hub_per_prefecture
    )


MAX_DOMINANCE_CELLS = 4_000_000


def reduce_cover(
    sets: list[IntArray], m: int, *, fixed: BoolArray
) -> tuple[list[IntArray], BoolArray]:
    """Exact set-cover reductions: drop satisfied and dominated rows, dominated sites.

    A row already met by an existing site, or whose site set contains another row's set, is
    redundant. A non-existing site whose rows are a subset of another site's rows (ties: the
    lower position stays) can be dropped: swapping it for the other never loses coverage.
    Returns the kept rows and the mask of dropped sites.
    """
    dropped = np.zeros(m, dtype=bool)
    sets = [s for s in sets if not fixed[s].any()]
    if not sets or len(sets) * m > MAX_DOMINANCE_CELLS:
        return sets, dropped
    for _ in range(3):
        g = len(sets)
        r = np.zeros((g, m), dtype=np.float32)
        for k, js in enumerate(sets):
            r[k, js] = 1.0
        r[:, dropped] = 0.0
        size = r.sum(axis=1)
        inter = r @ r.T  # |S_a & S_b|
        sub = inter >= size[:, None] - 0.5  # a subset of b
        np.fill_diagonal(sub, val=False)
        same = sub & sub.T  # rows made identical by dropped sites: keep the first
        redundant = (sub & ~same).any(axis=0) | np.triu(same, k=1).any(axis=0)
        keep_rows = ~redundant
        r = r[keep_rows]
        col_size = r.sum(axis=0)
        cinter = r.T @ r  # |C_j & C_k|
        csub = cinter >= col_size[:, None] - 0.5  # column j within column k
        np.fill_diagonal(csub, val=False)
        alive = ~dropped
        csub &= alive[None, :] & alive[:, None]
        equal = csub & csub.T
        strict = csub & ~equal
        lower_twin = np.triu(equal, k=1).any(axis=0)  # an equal column with a lower index
        new_drop = (strict.any(axis=1) | lower_twin | (col_size == 0)) & ~fixed & alive
        sets = [js[~(dropped | new_drop)[js]] for js, ok in zip(sets, keep_rows, strict=True) if ok]
        if not new_drop.any() and keep_rows.all():
            break
        dropped |= new_drop
    return sets, dropped


def swap_labels(prep: Prepared, opts: Options) -> npt.NDArray[np.object_] | None:
    """Labels of sites that may replace each other under ``opts`` (``None``: any site).

    A site can only stand in for another in the same county when a county rule is on (a
    site in every county, in X % of counties) and in the same prefecture when the hub rule
    is on, so that the swap keeps those rules satisfied.
    """
    county = opts.site_in_every_county or opts.min_county_share is not None
    if not county and not opts.hub_per_prefecture:
        return None
    parts = [prep.site_county if county else np.full(prep.m, "", dtype=object)]
    if opts.hub_per_prefecture:
        parts.append(prep.site_prefecture)
    return np.array(["\x1f".join(map(str, t)) for t in zip(*parts, strict=True)], dtype=object)


def reduce_mclp(
    sets: list[IntArray],
    gw: FloatArray,
    m: int,
    *,
    fixed: BoolArray,
    openable: BoolArray,
    exact_count: int | None,
    labels: npt.NDArray[np.object_] | None = None,
    cost: FloatArray | None = None,
) -> tuple[list[IntArray], FloatArray, BoolArray, float]:
    """Exact MCLP reductions: groups met by existing sites, dominated sites, merged groups.

    ``sets`` are the site sets of demand groups of weight ``gw`` (all positive). A group
    covered by an existing (always open) site adds its weight whatever the plan: it leaves
    the model as a constant. A candidate ``j`` is *dominated* by another openable site ``k``
    when ``k`` covers every remaining group of ``j``, has the same ``labels`` entry (same
    county / prefecture when county or hub rules are on, see :func:`swap_labels`) and, with
    a budget, costs no more (``cost``). Dominated candidates are dropped (ties: the lower
    position stays): in any feasible plan with ``j`` open, opening ``k`` instead (or, if
    ``k`` is open already, closing ``j`` and, when the count is exact (``exact_count``
    sites), opening any closed site) keeps every rule and never covers less. With an exact
    count the reduction is skipped if too few candidates would remain. Groups whose sets
    become identical are merged (weights summed); groups left without sites cover nothing.

    Returns the kept sets, their weights, the mask of dropped sites and the constant.
    """
    dropped = np.zeros(m, dtype=bool)
    met = np.array([bool(fixed[js].any()) for js in sets], dtype=bool)
    constant = float(gw[met].sum())
    sets = [js for js, ok in zip(sets, met, strict=True) if not ok]
    gw = gw[~met]
    if sets and len(sets) * m <= MAX_DOMINANCE_CELLS:
        r = np.zeros((len(sets), m), dtype=np.float32)
        for k, js in enumerate(sets):
            r[k, js] = 1.0
        size = r.sum(axis=0)
        inter = r.T @ r  # |C_j & C_k|
        sub = inter >= size[:, None] - 0.5  # column j within column k
        np.fill_diagonal(sub, val=False)
        sub &= openable[None, :]  # the dominating site must be able to open
        if labels is not None:
            sub &= labels[:, None] == labels[None, :]
        if cost is not None:
            sub &= cost[None, :] <= cost[:, None] + 1e-12
        equal = sub & sub.T
        strict = sub & ~equal
        lower_twin = np.triu(equal, k=1).any(axis=0)
        drop = strict.any(axis=1) | lower_twin
        if labels is None and cost is None:
            drop |= size == 0  # covers nothing: any other site does as well
        drop &= ~fixed & openable
        free_left = int((openable & ~fixed & ~drop).sum())
        if exact_count is None or free_left >= exact_count - int(fixed.sum()):
            dropped = drop
    if dropped.any():
        merged: dict[bytes, int] = {}
        new_sets: list[IntArray] = []
        new_w: list[float] = []
        for js, wg in zip(sets, gw.tolist(), strict=True):
            kept = js[~dropped[js]]
            if kept.size == 0:
                continue
            key = kept.tobytes()
            at = merged.get(key)
            if at is None:
                merged[key] = len(new_sets)
                new_sets.append(kept)
                new_w.append(wg)
            else:
                new_w[at] += wg
        sets, gw = new_sets, np.asarray(new_w, dtype=float)
    return sets, gw, dropped, constant


def _assignment_block(
    b: MipBuilder,
    prep: Prepared,
    y0: int,
    pairs: IntArray,
    *,
    cost: FloatArray,
    demand_rows: Literal["eq", "le"],
) -> int:
    """Add x_ij (share of i served by j) for ``pairs`` with demand and capacity rows."""
    pi, pj = prep.pi[pairs], prep.pj[pairs]
    x0 = b.add_cols(pairs.size, cost=cost, ub=1.0, prefix="x")
    xcols = x0 + np.arange(pairs.size)
    dem = np.unique(pi)
    local = np.searchsorted(dem, pi)
    b.add_rows(
        dem.size,
        local,
        xcols,
        1.0,
        lb=1.0 if demand_rows == "eq" else -INF,
        ub=1.0,
        family="assign",
        names=sanitize_names("assign", list(prep.demand_ids[dem])),
    )
    cap = prep.capacity
    finite = np.flatnonzero(np.isfinite(cap))
    if finite.size:
        loc = np.full(prep.m, -1)
        loc[finite] = np.arange(finite.size)
        sel = loc[pj] >= 0
        rows = np.concatenate([loc[pj[sel]], np.arange(finite.size)])
        cols = np.concatenate([xcols[sel], y0 + finite])
        vals = np.concatenate([prep.weight[pi[sel]], -cap[finite]])
        b.add_rows(
            finite.size,
            rows,
            cols,
            vals,
            ub=0.0,
            family="capacity",
            names=sanitize_names("capacity", list(prep.site_ids[finite])),
        )
    inf_sel = ~np.isfinite(cap[pj])
    k = int(inf_sel.sum())
    if k:
        rows = np.concatenate([np.arange(k), np.arange(k)])
        cols = np.concatenate([xcols[inf_sel], y0 + pj[inf_sel]])
        vals = np.concatenate([np.ones(k), -np.ones(k)])
        b.add_rows(k, rows, cols, vals, ub=0.0, family="open_link")
    return x0


def _integral(values: FloatArray) -> bool:
    return bool(np.all(np.abs(values - np.round(values)) < 1e-9))


def formulate(
    prep: Prepared,
    scenario: Scenario,
    kind: ModelKind,
    *,
    opts: Options,
    radius_keep: IntArray | None = None,
    max_minutes: float | None = None,
    reduce: bool = True,
) -> Formulation:
    """Build the matrix model of ``kind`` with every side constraint in ``opts``.

    ``reduce=False`` skips the exact reductions (for tests): MCLP (:func:`reduce_mclp`) and
    p-median level sets shared between clients (:func:`_radius_block`).
    """
    b = MipBuilder(sense="max" if kind == "mclp" else "min")
    w = prep.weight
    pos_demand = np.flatnonzero(w > 0)
    if kind == "mclp":
        y0 = _y_cols(b, prep, cost=0.0)
        cover = prep.covering_pairs() & prep.openable[prep.pj]
        if opts.capacitated:
            pairs = np.flatnonzero(cover & (w[prep.pi] > 0))
            x0 = _assignment_block(b, prep, y0, pairs, cost=w[prep.pi[pairs]], demand_rows="le")
            terms: Terms = (
                prep.county[prep.pi[pairs]],
                x0 + np.arange(pairs.size),
                w[prep.pi[pairs]],
            )
            count_row = _add_side(b, prep, opts, y0, kind, terms)
            mip = b.build(integral_objective=_integral(w))
            return Formulation(
                kind, mip, y0, x0=x0, xpairs=pairs, count_row=count_row, allowed=cover
            )
        group, sets = _group_sets(prep, cover, pos_demand, by_county=opts.county_target is not None)
        gw = np.bincount(group[group >= 0], weights=w[group >= 0], minlength=len(sets)).astype(
            float
        )
        notes: dict[str, object] = {"groups": len(sets)}
        if reduce and opts.county_target is None:
            sets, gw, dropped, constant = reduce_mclp(
                sets,
                gw,
                prep.m,
                fixed=prep.fixed,
                openable=prep.openable,
                exact_count=opts.p if _count_sense(opts, kind) == "eq" else None,
                labels=swap_labels(prep, opts),
                cost=prep.cost if opts.budget is not None else None,
            )
            b.fix_zero(y0 + np.flatnonzero(dropped))
            b.offset += constant
            notes.update(
                reduced_groups=len(sets), sites_dominated=int(dropped.sum()), constant=constant
            )
        z0 = b.add_cols(len(sets), cost=gw, ub=1.0, prefix="covered")
        rows = np.concatenate(
            [np.arange(len(sets))] + [np.full(s.size, g) for g, s in enumerate(sets)]
        )
        cols = np.concatenate([z0 + np.arange(len(sets))] + [y0 + s for s in sets])
        vals = np.concatenate([np.ones(len(sets))] + [-np.ones(s.size) for s in sets])
        b.add_rows(len(sets), rows, cols, vals, ub=0.0, family="cover")
        gcounty = np.full(len(sets), "", dtype=object)
        if opts.county_target is not None:  # groups unreduced: group ids still valid
            has = group >= 0
            gcounty[group[has]] = prep.county[has]
        terms = (gcounty, (z0 + np.arange(len(sets))).astype(np.int64), gw)
        count_row = _add_side(b, prep, opts, y0, kind, terms)
        mip = b.build(integral_objective=_integral(w))
        return Formulation(kind, mip, y0, count_row=count_row, allowed=cover, notes=notes)

    has_thresholds = (
        scenario.constraints.urban_max_travel_min is not None
        or scenario.constraints.rural_max_travel_min is not None
    ) and "travel_thresholds" not in opts.relaxed
    if kind in ("lscp", "cover_check"):
        y0 = _y_cols(b, prep, cost=1.0 if kind == "lscp" else 0.0)
        if kind == "lscp":
            limit = prep.threshold
        else:  # p-center check: the tested radius, within urban/rural limits if any
            thr = prep.threshold if has_thresholds else np.full(prep.n, INF)
            limit = np.minimum(thr, INF if max_minutes is None else max_minutes)
        cover = (prep.pt <= limit[prep.pi] + 1e-9) & prep.openable[prep.pj]
        xc: int | None = None
        xpairs: IntArray | None = None
        if opts.capacitated:
            xpairs = np.flatnonzero(cover & (w[prep.pi] > 0))
            xc = _assignment_block(
                b, prep, y0, xpairs, cost=np.zeros(xpairs.size), demand_rows="eq"
            )
        else:
            _, sets = _group_sets(prep, cover, pos_demand, by_county=False)
            if _pure_cover(opts):
                sets, dropped = reduce_cover(sets, prep.m, fixed=prep.fixed)
                b.fix_zero(y0 + np.flatnonzero(dropped))
            rows = (
                np.concatenate([np.full(s.size, g) for g, s in enumerate(sets)])
                if sets
                else np.zeros(0, dtype=np.int64)
            )
            cols = np.concatenate([y0 + s for s in sets]) if sets else np.zeros(0, np.int64)
            b.add_rows(len(sets), rows, cols, 1.0, lb=1.0, family="cover")
        count_row = _add_side(b, prep, opts, y0, kind, None)
        mip = b.build(integral_objective=True)
        if xc is None and _pure_cover(opts):
            # rows and sites already reduced: HiGHS presolve finds little and costs more
            # (SJC818 LSCP at 800 m: 0.22 -> 0.03 s; spopt's San Francisco LSCP 7 -> 3 ms)
            mip.presolve = False
        return Formulation(kind, mip, y0, x0=xc, xpairs=xpairs, count_row=count_row, allowed=cover)

    # p-median (p-center's final step is a p-median restricted to pairs <= its optimum)
    thr = prep.threshold if has_thresholds else np.full(prep.n, INF)
    limit = np.minimum(thr, INF if max_minutes is None else max_minutes)
    allowed = prep.openable[prep.pj].copy()
    if has_thresholds or max_minutes is not None:
        allowed &= prep.pt <= limit[prep.pi] + 1e-9
    y0 = _y_cols(b, prep, cost=0.0)
    if opts.capacitated:
        pairs = np.flatnonzero(allowed & (w[prep.pi] > 0))
        xm = _assignment_block(
            b, prep, y0, pairs, cost=w[prep.pi[pairs]] * prep.pt[pairs], demand_rows="eq"
        )
        count_row = _add_side(b, prep, opts, y0, "p_median", None)
        mip = b.build(integral_objective=_integral(w) and _integral(prep.pt[pairs]))
        return Formulation(
            "p_median", mip, y0, x0=xm, xpairs=pairs, count_row=count_row, allowed=allowed
        )
    radius = radius_levels(prep, allowed)
    if radius_keep is not None:
        radius.keep = np.minimum(np.maximum(radius_keep, 1), radius.n_levels)
    radius_z = _radius_block(b, prep, y0, radius, share=reduce)
    # a truncated chain leaves out the client's "must be served" row; where the client
    # cannot reach every site (e.g. the p-center tie-break, pairs within the optimal
    # radius) keep it as sum_{j allowed} y_j >= 1, valid for the full model
    n_pairs = np.bincount(prep.pi[radius.pairs], minlength=prep.n)
    cut = np.flatnonzero(
        (radius.keep < radius.n_levels)
        & (radius.n_levels > 0)
        & (n_pairs < int(prep.openable.sum()))
    )
    if cut.size:
        sel = np.isin(prep.pi[radius.pairs], cut)
        rows = np.searchsorted(cut, prep.pi[radius.pairs[sel]])
        b.add_rows(cut.size, rows, y0 + prep.pj[radius.pairs[sel]], 1.0, lb=1.0, family="served")
    count_row = _add_side(b, prep, opts, y0, "p_median", None)
    mip = b.build(integral_objective=_integral(w) and _integral(prep.pt[radius.pairs]))
    return Formulation(
        "p_median", mip, y0, count_row=count_row, radius=radius, radius_z=radius_z, allowed=allowed
    )


def radius_levels(prep: Prepared, allowed: BoolArray) -> Radius:
    """Distinct-distance levels per client over ``allowed`` pairs (positive demand only)."""
    pairs = np.flatnonzero(allowed & (prep.weight[prep.pi] > 0))
    pi, pt = prep.pi[pairs], prep.pt[pairs]
    new_client = np.r_[True, pi[1:] != pi[:-1]] if pi.size else np.zeros(0, bool)
    new_level = new_client | np.r_[True, pt[1:] != pt[:-1]] if pi.size else new_client
    lvl_global = np.cumsum(new_level) - 1
    first_lvl = (
        np.maximum.accumulate(np.where(new_client, lvl_global, 0)) if pi.size else lvl_global
    )
    level = lvl_global - first_lvl
    n_levels = np.zeros(prep.n, dtype=np.int64)
    if pi.size:
        np.maximum.at(n_levels, pi, level + 1)
    level_dist: list[FloatArray] = [np.zeros(0)] * prep.n
    starts = np.flatnonzero(new_level)
    lv_client = pi[starts]
    lv_dist = pt[starts]
    bounds = (
        np.flatnonzero(np.r_[True, lv_client[1:] != lv_client[:-1]])
        if starts.size
        else np.zeros(0, int)
    )
    ends = np.r_[bounds[1:], lv_client.size] if bounds.size else np.zeros(0, int)
    for s, e in zip(bounds.tolist(), ends.tolist(), strict=True):
        level_dist[int(lv_client[s])] = lv_dist[s:e]
    return Radius(pairs, level.astype(np.int64), n_levels, level_dist, n_levels.copy())


def _radius_block(
    b: MipBuilder, prep: Prepared, y0: int, rad: Radius, *, share: bool = False
) -> tuple[IntArray, IntArray]:
    """Add z variables and the chain rows of the radius formulation.

    Chain (levels ``k = 0..L_i-1`` kept, ``D_i^k`` the k-th distinct distance of client i,
    ``S_i^k = {j: d_ij <= D_i^k}``; ``z_i^k = 1`` when no site of ``S_i^k`` is open)::

        z_i^0 + sum_{j: d_ij = D_i^0} y_j >= 1
        z_i^k - z_i^{k-1} + sum_{j: d_ij = D_i^k} y_j >= 0      k = 1..L_i-2
        (full list only) -z_i^{K-2} + sum_{j: d_ij = D_i^{K-1}} y_j >= 0

    With ``share``, clients whose level sets are the same set of sites share one variable
    ``z_S`` (its cost the sum of theirs) and identical rows are added once. That is exact:
    every row stays valid for ``z_S = [no site of S open]``, and with binary ``y`` each
    client's chain still forces ``z_S >= [no site of S open]``; grid cells near each other
    share most of their nearest-site sets, so the model shrinks several-fold (Putian: 18,592
    client levels -> ~3,000 sets). Returns ``(start, cols)``: the z columns of client ``i``'s
    levels ``0..L_i-2`` are ``cols[start[i]:start[i + 1]]``.
    """
    w = prep.weight
    clients = np.flatnonzero(rad.n_levels > 0)
    keep, k_all = rad.keep[clients], rad.n_levels[clients]
    full = keep == k_all
    nz = keep - 1  # z variables per client
    nrows = np.where(full, k_all, keep - 1)  # rows per client
    per_client = np.zeros(prep.n, dtype=np.int64)
    per_client[clients] = nz
    start = np.r_[0, np.cumsum(per_client)].astype(np.int64)
    z_off = np.cumsum(nz) - nz
    r_off = np.cumsum(nrows) - nrows
    total_z, total_r = int(nz.sum()), int(nrows.sum())
    costs = np.zeros(total_z)
    offset = 0.0
    for c, i in enumerate(clients.tolist()):
        dist = rad.level_dist[i]
        offset += w[i] * dist[0]
        if nz[c]:
            costs[z_off[c] : z_off[c] + nz[c]] = w[i] * np.diff(dist[: keep[c]])
    b.offset += offset
    # y entries: pair at level l of client c goes to row r_off[c] + l, if that row exists
    pc = np.searchsorted(clients, prep.pi[rad.pairs])
    lvl = rad.level
    row_exists = lvl < nrows[pc]
    y_rows = r_off[pc[row_exists]] + lvl[row_exists]
    y_cols = y0 + prep.pj[rad.pairs[row_exists]]
    # z entries: z^k (+1) in row k for k < nz; z^{k-1} (-1) in row k for 1 <= k < nrows
    zc = np.repeat(np.arange(clients.size), nz)
    zk = np.arange(total_z) - np.repeat(z_off, nz)
    plus_rows = r_off[zc] + zk
    minus_ok = zk + 1 < np.repeat(nrows, nz)
    minus_rows = r_off[zc[minus_ok]] + zk[minus_ok] + 1
    rlb = np.zeros(total_r)
    rlb[r_off[nrows > 0]] = 1.0
    if share and total_z:
        zid = _level_set_ids(prep, rad, clients, nz)
        n_sets = int(zid.max()) + 1
        set_cost = np.bincount(zid, weights=costs, minlength=n_sets).astype(float)
        z0 = b.add_cols(n_sets, cost=set_cost, lb=0.0, ub=INF, prefix="z")
        zcols = z0 + zid
    else:
        z0 = b.add_cols(total_z, cost=costs, lb=0.0, ub=INF, prefix="z")
        zcols = z0 + np.arange(total_z)
    rows = np.concatenate([y_rows, plus_rows, minus_rows])
    cols = np.concatenate([y_cols, zcols, zcols[minus_ok]])
    vals = np.concatenate([np.ones(y_rows.size), np.ones(total_z), -np.ones(int(minus_ok.sum()))])
    if share and total_r:
        rows, rlb = _unique_rows(rows, cols, vals, rlb)
        keep_rows = rows >= 0
        rows, cols, vals = rows[keep_rows], cols[keep_rows], vals[keep_rows]
    b.add_rows(rlb.size, rows, cols, vals, lb=rlb, family="radius")
    z_cols = np.zeros(total_z, dtype=np.int64)
    for c, i in enumerate(clients.tolist()):  # client order == start order
        z_cols[start[i] : start[i + 1]] = zcols[z_off[c] : z_off[c] + nz[c]]
    return start, z_cols


def _level_set_ids(prep: Prepared, rad: Radius, clients: IntArray, nz: IntArray) -> IntArray:
    """Give each (client, level < nz) the id of the set of sites within that level's distance."""
    ids: dict[bytes, int] = {}
    out = np.zeros(int(nz.sum()), dtype=np.int64)
    pc = np.searchsorted(clients, prep.pi[rad.pairs])
    bounds = np.searchsorted(pc, np.arange(clients.size + 1))
    sites = prep.pj[rad.pairs]
    at = 0
    for c in range(clients.size):
        js, lv = sites[bounds[c] : bounds[c + 1]], rad.level[bounds[c] : bounds[c + 1]]
        ends = np.searchsorted(lv, np.arange(int(nz[c])), side="right")
        for k, e in enumerate(ends.tolist()):  # pairs are sorted by level: S^k is a prefix
            key = np.sort(js[:e]).tobytes()
            out[at + k] = ids.setdefault(key, len(ids))
        at += int(nz[c])
    return out


def _unique_rows(
    rows: IntArray, cols: IntArray, vals: FloatArray, lb: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Renumber rows so that identical rows (same entries and bound) keep one copy.

    Returns the new row of every entry (``-1``: its row is a duplicate, drop the entry) and
    the bounds of the kept rows.
    """
    order = np.lexsort((vals, cols, rows))
    r_sorted = rows[order]
    bounds = np.searchsorted(r_sorted, np.arange(lb.size + 1))
    c_sorted, v_sorted = cols[order], vals[order]
    ids: dict[bytes, int] = {}
    new_id = np.empty(lb.size, dtype=np.int64)
    keep_lb: list[float] = []
    for r in range(lb.size):
        s, e = bounds[r], bounds[r + 1]
        key = np.float64(lb[r]).tobytes() + c_sorted[s:e].tobytes() + v_sorted[s:e].tobytes()
        got = ids.get(key)
        if got is None:
            got = len(ids)
            ids[key] = got
            keep_lb.append(float(lb[r]))
            new_id[r] = got
        else:
            new_id[r] = -1 - got  # duplicate
    first = new_id >= 0
    mapped = np.where(first[rows], new_id[rows], -1)
    return mapped, np.asarray(keep_lb, dtype=float)


# ============================================================================ solving
@dataclass
class Outcome:
    """A solved formulation: open sites and how they were found."""

    is_open: BoolArray
    x: FloatArray
    raw: RawResult
    objective: float
    bound: float | None
    status: Status
    gap: float | None
    solve_time_s: float
    build_time_s: float
    extras: dict[str, object] = field(default_factory=dict)


class Deadline:
    """Remaining share of the scenario's time limit."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        """Seconds left (at least a sliver, so the solver can report an incumbent)."""
        return max(self.end - time.perf_counter(), 0.05)

    def expired(self) -> bool:
        """Whether the time limit has passed."""
        return time.perf_counter() >= self.end


def start_vector(form: Formulation, prep: Prepared, is_open: BoolArray) -> FloatArray | None:
    """Return a start point for ``form`` from open sites (uncapacitated)."""
    if form.x0 is not None:
        return None
    mip = form.mip
    x = np.zeros(mip.n_cols)
    x[form.y0 : form.y0 + prep.m] = is_open
    if form.kind == "p_median" and form.radius is not None and form.radius_z is not None:
        rad = form.radius
        start, zcols = form.radius_z
        _, served = prep.nearest_open(is_open, form.allowed)
        for i in np.flatnonzero(rad.n_levels > 0).tolist():
            nz = int(start[i + 1] - start[i])
            if nz <= 0:
                continue
            # z_i^k = 1 while no open site within D_i^k (shared z: the same value)
            x[zcols[start[i] : start[i + 1]]] = (rad.level_dist[i][:nz] < served[i] - 1e-9).astype(
                float
            )
        return x
    # coverage models: the y values fix the rest; let the solver complete z / u
    r = mip.a @ x
    bad = (r < mip.row_lb - 1e-9) | (r > mip.row_ub + 1e-9)
    if form.kind == "mclp":
        ycols = np.zeros(mip.n_cols, dtype=bool)
        ycols[form.y0 : form.y0 + prep.m] = True
        zs = np.flatnonzero(~ycols)
        # z_g = min(1, covered), county_open_c = [county c has a site]: 1 where the rows allow
        x2 = x.copy()
        x2[zs] = 1.0
        viol = (mip.a @ x2) > mip.row_ub + 1e-9
        rows = np.flatnonzero(viol)
        if rows.size:
            sub = mip.a[rows][:, zs]
            x2[zs[np.unique(sub.nonzero()[1])]] = 0.0
        r2 = mip.a @ x2
        ok = bool(((r2 >= mip.row_lb - 1e-9) & (r2 <= mip.row_ub + 1e-9)).all())
        return x2 if ok else None
    return None if bad.any() else x


def run_solver(
    form: Formulation,
    scenario: Scenario,
    deadline: Deadline,
    *,
    start: FloatArray | None = None,
    session: HighsSession | None = None,
) -> RawResult:
    """Solve ``form.mip`` within the remaining time."""
    if scenario.solver == "highs":
        sess = session or HighsSession(form.mip)
        return sess.solve(time_limit_s=deadline.left(), mip_gap=scenario.mip_gap, start=start)
    return solve_mip(
        form.mip, solver="cbc", time_limit_s=deadline.left(), mip_gap=scenario.mip_gap, start=start
    )


def heuristic_open(prep: Prepared, p: int, allowed: BoolArray) -> BoolArray | None:
    """Heuristic p-median open-site mask (dense instances only)."""
    d = dense_costs(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed], prep.pt[allowed])
    if d is None:
        return None
    return p_median_heuristic(d, prep.weight, p, fixed=prep.fixed, openable=prep.openable)


#: Above this many distance levels the radius model starts truncated (then extended).
MAX_FULL_LEVELS = 30_000

#: Share of the time left that the Lagrangian branch-and-bound may use before the radius MIP
#: takes over (it proves most OR-Library instances alone; the MIP keeps the rest of the time).
BRANCH_SHARE = 0.5

#: HiGHS options for a p-median whose heuristic / Lagrangian plan is the warm start: the
#: plan is usually optimal, so sub-MIP heuristics, restarts and symmetry detection cost
#: more than they find (Putian, p = 6: 25 s -> 19 s); the proof is unchanged.
P_MEDIAN_WARM_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_allow_restart": False,
    "mip_detect_symmetry": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}


#: Rules that only say which sets of open sites are allowed (not what a plan is worth).
PLAN_RULES = ("site_in_every_county", "min_county_share_with_site", "hub_per_prefecture")


def without_plan_rules(opts: Options) -> Options:
    """``opts`` with the :data:`PLAN_RULES` dropped (a relaxation with the same objective)."""
    return dataclasses.replace(
        opts,
        site_in_every_county=False,
        min_county_share=None,
        hub_per_prefecture=False,
        relaxed=opts.relaxed | frozenset(PLAN_RULES),
    )


def keeps_plan_rules(prep: Prepared, opts: Options, is_open: BoolArray) -> bool:
    """Whether the open sites meet the county and hub rules of ``opts`` (rows of _add_side)."""
    counties = _demand_counties(prep)
    with_site = set(prep.site_county[is_open].tolist())
    if opts.site_in_every_county and any(c not in with_site for c in counties):
        return False
    if opts.min_county_share is not None and counties:
        need = math.ceil(opts.min_county_share * len(counties) - 1e-9)
        if sum(c in with_site for c in counties) < need:
            return False
    if opts.hub_per_prefecture:
        prefs = {p for p in prep.prefecture[prep.weight > 0] if p}
        if not prefs <= set(prep.site_prefecture[is_open].tolist()):
            return False
    return True


def _pure_p_median(opts: Options) -> bool:
    """Whether only ``p``, existing sites and allowed pairs constrain the plan."""
    return (
        opts.p is not None
        and opts.budget is None
        and not opts.capacitated
        and not opts.site_in_every_county
        and opts.min_county_share is None
        and opts.county_target is None
        and not opts.hub_per_prefecture
    )


def _allowed_pairs(
    prep: Prepared, scenario: Scenario, opts: Options, max_minutes: float | None
) -> BoolArray:
    has_thresholds = (
        scenario.constraints.urban_max_travel_min is not None
        or scenario.constraints.rural_max_travel_min is not None
    ) and "travel_thresholds" not in opts.relaxed
    thr = prep.threshold if has_thresholds else np.full(prep.n, INF)
    limit = np.minimum(thr, INF if max_minutes is None else max_minutes)
    allowed: BoolArray = prep.openable[prep.pj] & (prep.pt <= limit[prep.pi] + 1e-9)
    return allowed


def solve_p_median_radius(
    prep: Prepared,
    scenario: Scenario,
    opts: Options,
    deadline: Deadline,
    *,
    max_minutes: float | None = None,
    initial_open: BoolArray | None = None,
    initial_keep: IntArray | None = None,
    progress: Progress | None = None,
) -> tuple[Outcome, Formulation]:
    """Uncapacitated p-median: heuristic, Lagrangian fixing, then the radius MIP.

    1. A greedy + vertex-substitution plan gives an upper bound ``UB`` (dense instances).
    2. Lagrangian relaxation of the assignment rows gives a lower bound; sites that cannot be
       in any plan better than ``UB`` are fixed closed (or open). If the bound reaches ``UB``
       the plan is proven optimal without a MIP.
    3. The radius formulation over the remaining sites (lazily truncated radii when large)
       either finds a better plan or proves none exists; both prove optimality.
    """
    t_build = time.perf_counter()
    allowed = _allowed_pairs(prep, scenario, opts, max_minutes)
    work = prep
    incumbent: BoolArray | None = initial_open
    inc_val = INF
    lag_info: dict[str, object] = {}
    d = None
    if opts.p is not None:
        d = dense_costs(prep.n, prep.m, prep.pi[allowed], prep.pj[allowed], prep.pt[allowed])
    if d is not None and opts.p is not None:
        from planning.models._heuristic import (  # noqa: PLC0415
            lagrangian_fixing,
            p_median_value,
        )

        heur = p_median_heuristic(
            d,
            prep.weight,
            opts.p,
            fixed=prep.fixed,
            openable=prep.openable,
            time_limit_s=min(1.0, 0.05 * deadline.left()),
        )
        if incumbent is not None and heur is not None:
            if p_median_value(d, prep.weight, heur) < p_median_value(d, prep.weight, incumbent):
                incumbent = heur
        elif heur is not None:
            incumbent = heur
        if incumbent is not None:
            inc_val = p_median_value(d, prep.weight, incumbent)
        if _pure_p_median(opts) and math.isfinite(inc_val):
            integral = _integral(prep.weight) and _integral(prep.pt[allowed])
            lb, fix0, fix1, plan, val, lam = lagrangian_fixing(
                d,
                prep.weight,
                opts.p,
                fixed=prep.fixed,
                openable=prep.openable,
                upper=inc_val,
                integral=integral,
                time_limit_s=max(0.5, 0.25 * deadline.left()),
            )
            if plan is not None and val < inc_val:
                incumbent, inc_val = plan, val
            margin = (1.0 - 1e-6) if integral else -1e-9 * max(1.0, abs(inc_val))
            lag_info = {
                "lagrangian_bound": lb,
                "sites_fixed_closed": int(fix0.sum()),
                "sites_fixed_open": int(fix1.sum()),
            }
            if lb > inc_val - margin:
                assert incumbent is not None  # noqa: S101
                return _decided_without_mip(
                    incumbent,
                    inc_val,
                    bound=lb,
                    raw_bound=lb,
                    status="optimal",
                    gap=0.0,
                    message="proven optimal by the Lagrangian bound",
                    scenario=scenario,
                    allowed=allowed,
                    build_time_s=time.perf_counter() - t_build,
                    extras={**lag_info, "radius_rounds": 0},
                )
            assert incumbent is not None  # noqa: S101 - inc_val is finite
            bb = branch_and_bound(
                d,
                prep.weight,
                opts.p,
                fixed=prep.fixed | fix1,
                openable=prep.openable & ~fix0,
                plan=incumbent,
                lam=lam,
                integral=integral,
                time_limit_s=BRANCH_SHARE * deadline.left(),
                rel_gap=scenario.mip_gap,
            )
            lag_info["branch_nodes"] = bb.nodes
            if bb.value < inc_val:
                incumbent, inc_val = bb.plan, bb.value
            lb = max(lb, bb.bound)
            lag_info["lagrangian_bound"] = lb
            if bb.finished:
                bb_proven = proven_optimal(inc_val, lb, integral=integral)
                bb_gap = 0.0 if bb_proven else max(0.0, inc_val - lb) / max(abs(inc_val), 1e-10)
                bb_status: Status = "optimal" if bb_proven else "feasible"
                note = "proven optimal" if bb_proven else f"within the {scenario.mip_gap:.2%} gap"
                return _decided_without_mip(
                    incumbent,
                    inc_val,
                    bound=inc_val if bb_proven else lb,
                    raw_bound=lb,
                    status=bb_status,
                    gap=bb_gap,
                    message=f"{note} by Lagrangian branch-and-bound ({bb.nodes} nodes)",
                    scenario=scenario,
                    allowed=allowed,
                    build_time_s=time.perf_counter() - t_build,
                    extras={**lag_info, "radius_rounds": 0},
                )
            # restrict the MIP to sites that may still improve on the incumbent
            openable = prep.openable & ~fix0
            fixed = prep.fixed | fix1
            work = dataclasses.replace(prep, openable=openable, fixed=fixed)
            if incumbent is not None and not (
                bool(incumbent[fixed].all()) and not bool(incumbent[~openable].any())
            ):
                incumbent_for_mip = None
            else:
                incumbent_for_mip = incumbent
            initial_open = incumbent_for_mip
    # pairs beyond a client's nearest always-open site never matter
    w_allowed = _allowed_pairs(work, scenario, opts, max_minutes)
    if work.fixed.any():
        _, near_fixed = work.nearest_open(work.fixed, w_allowed)
        w_allowed &= work.pt <= near_fixed[work.pi] + 1e-9
    work = dataclasses.replace(
        work, pi=work.pi[w_allowed], pj=work.pj[w_allowed], pt=work.pt[w_allowed]
    )
    if initial_keep is None:
        rad0 = radius_levels(work, np.ones(work.pi.size, dtype=bool))
        if int(rad0.n_levels.sum()) <= MAX_FULL_LEVELS:
            initial_keep = rad0.n_levels
    build_time = time.perf_counter() - t_build
    try:
        out, _ = _radius_loop(
            work,
            scenario,
            opts,
            deadline,
            start_open=initial_open,
            initial_keep=initial_keep,
            progress=progress,
        )
    except _NoSolution:
        if incumbent is None or not _pure_p_median(opts):
            raise
        out = Outcome(
            incumbent,
            np.zeros(0),
            RawResult(
                "feasible",
                None,
                inc_val,
                None,
                None,
                0.0,
                scenario.solver,
                "time limit: heuristic plan",
            ),
            inc_val,
            lag_info.get("lagrangian_bound"),  # type: ignore[arg-type]
            "feasible",
            None,
            0.0,
            0.0,
        )
    except _Infeasible:
        if incumbent is None or not lag_info:
            raise
        # nothing better than the incumbent exists among the remaining sites: it is optimal
        out = Outcome(
            incumbent,
            np.zeros(0),
            RawResult(
                "optimal",
                None,
                inc_val,
                inc_val,
                0.0,
                0.0,
                scenario.solver,
                "incumbent proven optimal",
            ),
            inc_val,
            inc_val,
            "optimal",
            0.0,
            0.0,
            0.0,
        )
    if _pure_p_median(opts) and incumbent is not None and inc_val < out.objective - 1e-9:
        # the reduced MIP only searches plans better than the incumbent; none found
        bound = out.bound
        proven = out.status == "optimal"
        gap = (
            0.0
            if proven
            else (None if bound is None else abs(inc_val - bound) / max(abs(inc_val), 1e-10))
        )
        out = dataclasses.replace(
            out, is_open=incumbent, objective=inc_val, bound=inc_val if proven else bound, gap=gap
        )
    lag_bound = lag_info.get("lagrangian_bound")
    if out.status != "optimal" and isinstance(lag_bound, float) and math.isfinite(lag_bound):
        # the Lagrangian / branch-and-bound bound is valid too: report the tighter one
        bound = lag_bound if out.bound is None else max(out.bound, lag_bound)
        gap = abs(out.objective - bound) / max(abs(out.objective), 1e-10)
        out = dataclasses.replace(out, bound=bound, gap=gap)
    form = Formulation("p_median", MipBuilder().build(), 0, allowed=allowed)
    out = dataclasses.replace(
        out, build_time_s=out.build_time_s + build_time, extras={**out.extras, **lag_info}
    )
    return out, form


def _decided_without_mip(
    is_open: BoolArray,
    value: float,
    *,
    bound: float,
    raw_bound: float,
    status: Status,
    gap: float,
    message: str,
    scenario: Scenario,
    allowed: BoolArray,
    build_time_s: float,
    extras: dict[str, object],
) -> tuple[Outcome, Formulation]:
    """Outcome of a p-median settled before the radius MIP (Lagrangian bound or search)."""
    raw = RawResult(status, None, value, raw_bound, gap, 0.0, scenario.solver, message)
    out = Outcome(
        is_open, np.zeros(0), raw, value, bound, status, gap, 0.0, build_time_s, extras=extras
    )
    return out, Formulation("p_median", MipBuilder().build(), 0, allowed=allowed)


def _radius_loop(
    prep: Prepared,
    scenario: Scenario,
    opts: Options,
    deadline: Deadline,
    *,
    start_open: BoolArray | None,
    initial_keep: IntArray | None,
    progress: Progress | None = None,
) -> tuple[Outcome, Formulation]:
    """Solve the radius formulation, extending truncated radii until proven (see module)."""
    t_build = time.perf_counter()
    full_allowed = np.ones(prep.pi.size, dtype=bool)
    rad = radius_levels(prep, full_allowed)
    if initial_keep is None:
        if start_open is not None:
            _, near_t = prep.nearest_open(start_open)
            keep = np.ones(prep.n, dtype=np.int64)
            for i in np.flatnonzero(rad.n_levels > 0).tolist():
                if not math.isfinite(near_t[i]):
                    keep[i] = rad.n_levels[i]
                    continue
                keep[i] = int(np.searchsorted(rad.level_dist[i], near_t[i] + 1e-9))
            # slack: one level past the start plan, and at least the levels of the client's
            # ~2p nearest sites, keeps most clients' optimal distance inside the model (one
            # round on Putian for p = 3..15; p = 6: 4.2 s against 5.5 s with ~3p levels, 14.7 s
            # and 5 rounds with ~p levels, 20 s with every level)
            floor = 2 * opts.p + 2 if opts.p is not None else 8
            initial_keep = np.minimum(np.maximum(keep + 1, floor), rad.n_levels)
        else:
            initial_keep = np.minimum(rad.n_levels, 8)
    form = formulate(prep, scenario, "p_median", opts=opts, radius_keep=initial_keep)
    rad = form.radius  # type: ignore[assignment]
    assert rad is not None  # noqa: S101
    build_time = time.perf_counter() - t_build
    solve_time = 0.0
    iterations = 0
    best_open: BoolArray | None = None
    best_val = INF
    outside = np.zeros(0, dtype=np.int64)
    while True:
        iterations += 1
        start = start_vector(form, prep, start_open) if start_open is not None else None
        if start is not None and _pure_p_median(opts):
            form.mip.highs_options.update(P_MEDIAN_WARM_OPTIONS)
        t0 = time.perf_counter()
        raw = run_solver(form, scenario, deadline, start=start)
        solve_time += time.perf_counter() - t0
        if raw.x is None:
            if raw.status == "infeasible":
                raise _Infeasible(raw)
            if best_open is None:
                raise _NoSolution(raw)
            break
        is_open = raw.x[form.y0 : form.y0 + prep.m] > 0.5
        _, served_t = prep.nearest_open(is_open)
        pos = np.flatnonzero(rad.n_levels > 0)
        true_val = float(np.dot(prep.weight[pos], served_t[pos]))
        if true_val < best_val:
            best_val, best_open = true_val, is_open
        limit = np.array([rad.level_dist[i][rad.keep[i] - 1] for i in pos.tolist()])
        outside = pos[served_t[pos] > limit + 1e-9]
        if progress is not None:
            progress(min(0.9, 0.2 + 0.1 * iterations), f"p-median round {iterations}")
        logger.info(
            "p-median radius round %d: relaxation %.6g, plan %.6g, %d clients outside",
            iterations,
            raw.objective or 0.0,
            true_val,
            outside.size,
        )
        if outside.size == 0 or raw.status != "optimal" or deadline.expired():
            break
        new_keep = rad.keep.copy()
        for i in outside.tolist():
            lv = int(np.searchsorted(rad.level_dist[i], served_t[i] + 1e-9))
            new_keep[i] = min(int(rad.n_levels[i]), max(lv, 2 * int(rad.keep[i])))
        t_b = time.perf_counter()
        form = formulate(prep, scenario, "p_median", opts=opts, radius_keep=new_keep)
        rad = form.radius  # type: ignore[assignment]
        assert rad is not None  # noqa: S101
        build_time += time.perf_counter() - t_b
        start_open = best_open
    assert best_open is not None  # noqa: S101
    # the truncated model is a relaxation: its bound is valid for the full problem, and when
    # every client is served within its modelled radius the relaxation optimum is attained
    bound = raw.bound
    proven = raw.status == "optimal" and outside.size == 0
    if bound is not None:
        gap: float | None = 0.0 if proven else abs(best_val - bound) / max(abs(best_val), 1e-10)
    else:
        gap = 0.0 if proven else None
    status: Status = "optimal" if proven else "feasible"
    if proven:
        bound = best_val if bound is None else min(bound, best_val)
    out = Outcome(
        best_open,
        np.zeros(0),
        raw,
        best_val,
        bound,
        status,
        gap,
        solve_time,
        build_time,
        extras={
            "radius_rounds": iterations,
            "radius_levels_modelled": int(rad.keep[rad.n_levels > 0].sum()),
            "radius_levels_total": int(rad.n_levels.sum()),
        },
    )
    return out, form


class _Infeasible(Exception):  # noqa: N818 - internal signal
    def __init__(self, raw: RawResult) -> None:
        super().__init__(raw.message)
        self.raw = raw


class _NoSolution(Exception):  # noqa: N818 - internal signal
    def __init__(self, raw: RawResult) -> None:
        super().__init__(raw.message)
        self.raw = raw


def solve_plain(
    form: Formulation,
    prep: Prepared,
    scenario: Scenario,
    deadline: Deadline,
    *,
    build_time_s: float,
    start_open: BoolArray | None = None,
) -> Outcome:
    """Solve a formulation that needs no iteration (coverage models, capacitated ones)."""
    start = start_vector(form, prep, start_open) if start_open is not None else None
    raw = run_solver(form, scenario, deadline, start=start)
    if raw.x is None:
        if raw.status == "infeasible":
            raise _Infeasible(raw)
        raise _NoSolution(raw)
    is_open = raw.x[form.y0 : form.y0 + prep.m] > 0.5
    obj = float(raw.objective if raw.objective is not None else 0.0)
    if form.kind == "lscp":
        obj = float(is_open.sum())
    status: Status = "optimal" if raw.status == "optimal" else "feasible"
    return Outcome(
        is_open, raw.x, raw, obj, raw.bound, status, raw.gap, raw.solve_time_s, build_time_s
    )


def quick_cover_check(prep: Prepared, pairs: BoolArray, p: int | None) -> BoolArray | bool | None:
    """Settle "can ``p`` sites serve every patient along ``pairs``?" without a MIP, if easy.

    A greedy cover (most unserved demand points first) that needs at most ``p`` sites,
    existing ones included, proves *yes* and is returned as the plan. A set of demand points
    no two of which share a free site (picked greedily, fewest sites first), more numerous
    than the free places left, proves *no* (``False``): each needs a site of its own.
    Otherwise ``None``: the MIP decides. ``pairs`` must only hold pairs to openable sites.
    """
    if p is None:
        return None
    cover = prep.cover_matrix(pairs)
    need = (prep.weight > 0) & ~cover[:, prep.fixed].any(axis=1)
    free = np.flatnonzero(prep.openable & ~prep.fixed)
    k = p - int(prep.fixed.sum())
    c = cover[np.ix_(np.flatnonzero(need), free)]
    if c.shape[0] == 0:
        return prep.fixed.copy()
    if k <= 0 or not c.any(axis=1).all():
        return False
    left = np.ones(c.shape[0], dtype=bool)
    plan = prep.fixed.copy()
    for _ in range(k):
        counts = c[left].sum(axis=0)
        j = int(np.argmax(counts))
        if counts[j] == 0:
            break
        plan[free[j]] = True
        left &= ~c[:, j]
        if not left.any():
            return plan
    used = np.zeros(free.size, dtype=bool)
    apart = 0
    for r in np.argsort(c.sum(axis=1), kind="stable").tolist():
        if not (c[r] & used).any():
            apart += 1
            if apart > k:
                return False
            used |= c[r]
    return None


def solve_p_center(
    prep: Prepared,
    scenario: Scenario,
    opts: Options,
    deadline: Deadline,
    *,
    progress: Progress | None = None,
    upper_min: float | None = None,
) -> tuple[Outcome, Formulation]:
    """p-center by bisection over distinct travel times, then a p-median tie-break.

    ``upper_min``: a radius known to be feasible (e.g. the optimum with fewer sites).
    """
    t0 = time.perf_counter()
    allowed = prep.openable[prep.pj] & (prep.weight[prep.pi] > 0)
    has_thr = (
        scenario.constraints.urban_max_travel_min is not None
        or scenario.constraints.rural_max_travel_min is not None
    )
    if has_thr and "travel_thresholds" not in opts.relaxed:
        allowed &= prep.pt <= prep.threshold[prep.pi] + 1e-9
    pos = np.flatnonzero(prep.weight > 0)
    nearest = np.full(prep.n, INF)
    np.minimum.at(nearest, prep.pi[allowed], prep.pt[allowed])
    lower = float(nearest[pos].max()) if pos.size else 0.0
    values = np.unique(prep.pt[allowed])
    values = values[values >= lower - 1e-9]
    if upper_min is not None:
        values = values[values <= upper_min + 1e-9]
    if values.size == 0:  # no patients: any plan serves everyone within 0 minutes
        values = np.array([lower])
    lo, hi = 0, len(values) - 1  # answer index in [lo, hi]
    # without side rules a radius is often settled without a MIP (quick_cover_check)
    quick_checks = (
        opts.p is not None
        and _pure_cover(opts)
        and "n_facilities" not in opts.relaxed
        and prep.n * prep.m <= MAX_DENSE_CELLS
    )
    inconclusive = False
    checks = 0
    solve_time = 0.0
    feasible_hi = False
    first_probe: int | None = None

    def radius_index(plan: BoolArray, at_most: int) -> int:
        """Return the position in ``values`` of the plan's own radius.

        A feasible plan often serves everyone within less than the radius it was found for
        (capacities aside).
        """
        if opts.capacitated or not pos.size:
            return at_most
        _, served = prep.nearest_open(plan, allowed)
        radius = float(served[pos].max())
        return min(at_most, int(np.searchsorted(values, radius - 1e-9)))

    if quick_checks:
        # greedy covers first: the smallest radius they settle is feasible (and usually the
        # optimum or close), so the MIP checks start just below it
        a, b = lo, hi
        while a <= b:
            mid = (a + b) // 2
            quick = quick_cover_check(prep, allowed & (prep.pt <= values[mid] + 1e-9), opts.p)
            if isinstance(quick, np.ndarray):
                hi = hi_val = radius_index(quick, mid)
                feasible_hi, hi_plan = True, quick
                b = hi - 1
            else:
                if quick is False:  # proven: no radius up to values[mid] admits a plan
                    lo = max(lo, mid + 1)
                a = mid + 1
        first_probe = hi - 1 if feasible_hi else None
    build_time = time.perf_counter() - t0
    # bisection for the smallest feasible value; values[hi] must be checked too
    while lo <= hi and not deadline.expired():
        if feasible_hi and lo == hi_val:
            break  # the smallest feasible radius is pinned
        if first_probe is not None and first_probe >= lo:
            mid, first_probe = first_probe, None
        else:
            mid = (lo + hi) // 2
        checks += 1
        if progress is not None:
            progress(min(0.8, 0.1 + 0.05 * checks), f"p-center: testing {values[mid]:g} min")
        quick = (
            quick_cover_check(prep, allowed & (prep.pt <= values[mid] + 1e-9), opts.p)
            if quick_checks
            else None
        )
        if quick is None:
            tb = time.perf_counter()
            chk = formulate(
                prep, scenario, "cover_check", opts=opts, max_minutes=float(values[mid])
            )
            build_time += time.perf_counter() - tb
            raw = run_solver(chk, scenario.replace(mip_gap=0.0), deadline)
            solve_time += raw.solve_time_s
            found = None if raw.x is None else raw.x[chk.y0 : chk.y0 + prep.m] > 0.5
        else:
            found = quick if isinstance(quick, np.ndarray) else None
            raw = RawResult("infeasible", None, None, None, None, 0.0, "heuristic", "")
        if found is not None:
            feasible_hi = True
            hi_val = radius_index(found, mid)
            hi_plan = found
            if hi_val == lo:
                break
            hi = hi_val
        else:
            if raw.status != "infeasible":
                inconclusive = True
            lo = mid + 1
            if lo > hi:
                break
    if not feasible_hi:
        if inconclusive or deadline.expired():
            raise _NoSolution(
                RawResult(
                    "no_solution",
                    None,
                    None,
                    None,
                    None,
                    solve_time,
                    scenario.solver,
                    "time limit during p-center search",
                )
            )
        raise _Infeasible(
            RawResult(
                "infeasible",
                None,
                None,
                None,
                None,
                solve_time,
                scenario.solver,
                "no radius admits a plan",
            )
        )
    best = float(values[hi_val])
    lower_bound = float(values[lo]) if inconclusive else best
    # final step: the p-median among plans within `best` minutes (ties: least patient-minutes)
    if opts.capacitated:
        form = formulate(prep, scenario, "p_median", opts=opts, max_minutes=best)
        tb = time.perf_counter()
        out = solve_plain(form, prep, scenario, deadline, build_time_s=0.0)
        build_time += time.perf_counter() - tb - out.solve_time_s
    else:
        # the last feasible check's plan serves everyone within `best`: the warm start,
        # topped up to the p sites the p-median needs (a check may use fewer; more sites
        # never lengthen a trip)
        start: BoolArray | None = None
        if opts.p is not None and int(hi_plan.sum()) <= opts.p:
            start = hi_plan.copy()
            extra = np.flatnonzero(prep.openable & ~start)[: opts.p - int(start.sum())]
            start[extra] = True
            if int(start.sum()) != opts.p:
                start = None
        out, form = solve_p_median_radius(
            prep, scenario, opts, deadline, max_minutes=best, initial_open=start
        )
        build_time += out.build_time_s
    solve_time += out.solve_time_s
    status: Status = "feasible" if inconclusive else "optimal"
    gap = (best - lower_bound) / best if best > 0 else 0.0
    out = dataclasses.replace(
        out,
        objective=best,
        bound=lower_bound,
        status=status,
        gap=gap,
        solve_time_s=solve_time,
        build_time_s=build_time,
        extras={"bisection_checks": checks, "tie_break_status": out.status},
    )
    return out, form
