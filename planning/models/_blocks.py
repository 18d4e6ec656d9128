"""Blocks every siting model is built from: site columns, side rules, coverage, assignment, radii.

Each model module (:mod:`~planning.models.mclp`, :mod:`~planning.models.lscp`,
:mod:`~planning.models.p_median`, :mod:`~planning.models.p_center`,
:mod:`~planning.models.rollout`) assembles its formulation from these blocks as sparse
matrices (:class:`~planning.models._mip.MipBuilder`); a :class:`Formulation` keeps what is
needed to read the answer back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.models._mip import (
    INF,
    BoolArray,
    FloatArray,
    IntArray,
    Mip,
    MipBuilder,
    sanitize_names,
)
from planning.models._prep import Prepared
from planning.models.options import ModelOptions

#: Kinds of formulation (``cover_check``: "can p sites serve everyone within r minutes?").
FormKind = Literal["mclp", "p_median", "lscp", "cover_check"]

#: Coverage terms (county of the row, column, coefficient) for county coverage targets.
Terms = tuple[npt.NDArray[np.object_], IntArray, FloatArray]

#: Largest (rows x sites) for which dominance reductions build their dense matrices.
MAX_DOMINANCE_CELLS = 4_000_000


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

    kind: FormKind
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


def count_sense(opts: ModelOptions, kind: FormKind) -> Literal["eq", "le"] | None:
    if kind == "lscp" or opts.p is None:
        return None
    if kind == "cover_check":
        return "le"
    return "le" if opts.budget is not None else "eq"


def site_columns(b: MipBuilder, prep: Prepared, *, cost: float | FloatArray) -> int:
    return b.add_cols(
        prep.m,
        cost=cost,
        lb=prep.fixed.astype(float),
        ub=prep.openable.astype(float),
        integer=True,
        names=sanitize_names("y", list(prep.site_ids)),
    )


def add_side(  # noqa: PLR0917 - internal helper
    b: MipBuilder,
    prep: Prepared,
    opts: ModelOptions,
    y0: int,
    kind: FormKind,
    coverage_terms: Terms | None,
) -> int | None:
    """Add count, budget, county, hub and coverage-target rows; return the count row."""
    m = prep.m
    jj = np.arange(m)
    count_row = None
    sense = count_sense(opts, kind)
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
    counties = prep.demand_counties()
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
            coverage_terms = coverage_vars(b, prep, y0)
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


def coverage_vars(b: MipBuilder, prep: Prepared, y0: int) -> Terms:
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


def group_sets(
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


def assignment_block(
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


def integral(values: FloatArray) -> bool:
    return bool(np.all(np.abs(values - np.round(values)) < 1e-9))


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


def radius_block(
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


def keeps_plan_rules(prep: Prepared, opts: ModelOptions, is_open: BoolArray) -> bool:
    """Whether the open sites meet the county and hub rules of ``opts`` (rows of add_side)."""
    counties = prep.demand_counties()
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


def allowed_pairs(prep: Prepared, opts: ModelOptions, max_minutes: float | None) -> BoolArray:
    """Pairs to openable sites within the urban / rural thresholds and ``max_minutes``."""
    thr = prep.threshold if opts.has_thresholds else np.full(prep.n, INF)
    limit = np.minimum(thr, INF if max_minutes is None else max_minutes)
    allowed: BoolArray = prep.openable[prep.pj] & (prep.pt <= limit[prep.pi] + 1e-9)
    return allowed
