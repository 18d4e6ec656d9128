"""Blocks every siting model is built from: site columns, side rules, coverage, assignment.

Each model module (:mod:`~planning.models.mclp`, :mod:`~planning.models.lscp`,
:mod:`~planning.models.p_median`, :mod:`~planning.models.p_center`,
:mod:`~planning.models.rollout`) assembles its formulation from these blocks and the radius
chain (:mod:`~planning.models._radius`) as sparse matrices
(:class:`~planning.models._mip.MipBuilder`); a :class:`Formulation` keeps what is needed to
read the answer back.

A block reaches the sites through a *site column map* ``site_col``: ``site_col[j]`` is the
column of site ``j``'s "open" variable, or :data:`~planning.models._radius.OPEN` (open
throughout: a constant 1, e.g. an existing site in a rollout period) or
:data:`~planning.models._radius.CLOSED` (a constant 0). The one-shot models give every site a
column (:func:`site_columns`; existing sites have a lower bound of 1); a rollout maps each
period's candidate columns.
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
from planning.models._radius import CLOSED, OPEN, Chain, Radius, radius_levels
from planning.models.options import ModelOptions

#: Kinds of formulation (``cover_check``: "can p sites serve everyone within r minutes?").
FormKind = Literal["mclp", "p_median", "lscp", "cover_check"]

#: Coverage terms (county of the row, column, coefficient) for county coverage targets.
Terms = tuple[npt.NDArray[np.object_], IntArray, FloatArray]

#: Largest (rows x sites) for which dominance reductions build their dense matrices.
MAX_DOMINANCE_CELLS = 4_000_000


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
    chain: Chain | None = None  # radius formulation: the z columns of each client
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
    site_col = y0 + jj
    count_row = None
    sense = count_sense(opts, kind)
    if sense is not None and opts.p is not None:
        lb = float(opts.p) if sense == "eq" else -INF
        count_row = b.add_rows(
            1,
            np.zeros(m, dtype=np.int64),
            site_col,
            1.0,
            lb=lb,
            ub=float(opts.p),
            family="n_facilities",
            names=["n_facilities"],
        )
    if opts.budget is not None:
        new = ~prep.fixed
        b.add_rows(
            1,
            np.zeros(int(new.sum()), dtype=np.int64),
            site_col[new],
            prep.cost[new],
            ub=float(opts.budget),
            family="budget",
            names=["budget"],
        )
    counties = prep.demand_counties()
    if opts.site_in_every_county and counties:
        _one_open_each(b, counties, prep.site_county, site_col, family="site_in_every_county")
    if opts.min_county_share is not None and counties:
        need = math.ceil(opts.min_county_share * len(counties) - 1e-9)
        h, _ = county_links(
            b,
            counties,
            prep.site_county,
            site_col,
            integer=True,
            prefix="county_open",
            family="min_county_share_with_site",
            names=True,
        )
        b.add_rows(
            1,
            np.zeros(h.size, dtype=np.int64),
            h,
            1.0,
            lb=float(need),
            family="min_county_share_with_site",
            names=["county_share"],
        )
    prefs = prep.demand_prefectures()
    if opts.hub_per_prefecture and prefs:
        _one_open_each(b, prefs, prep.site_prefecture, site_col, family="hub_per_prefecture")
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


_GROUP_NAMES = {"site_in_every_county": "county_site", "hub_per_prefecture": "hub"}


def _one_open_each(
    b: MipBuilder,
    groups: list[str],
    site_group: npt.NDArray[np.object_],
    site_col: IntArray,
    *,
    family: str,
) -> None:
    """Add ``sum_{j in g} y_j >= 1`` for each group ``g`` (a county, a prefecture)."""
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for r, g in enumerate(groups):
        js = np.flatnonzero(site_group == g)
        rows.append(np.full(js.size, r))
        cols.append(site_col[js])
    b.add_rows(
        len(groups),
        np.concatenate(rows),
        np.concatenate(cols),
        1.0,
        lb=1.0,
        family=family,
        names=sanitize_names(_GROUP_NAMES[family], groups),
    )


def coverage_vars(b: MipBuilder, prep: Prepared, y0: int) -> Terms:
    """Add ``u_i <= sum_{j covers i} y_j`` and return (county, column, weight) terms."""
    cover = prep.covering_pairs()
    pos = np.flatnonzero(prep.weight > 0)
    site_col = y0 + np.arange(prep.m)
    cols, _, _ = cover_link(
        b,
        site_col,
        prep.pi[cover],
        prep.pj[cover],
        pos,
        prefix="covered",
        family="coverage_link",
    )
    return prep.county[pos], cols, prep.weight[pos]


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


def cover_link(
    b: MipBuilder,
    site_col: IntArray,
    pi: IntArray,
    pj: IntArray,
    demand: IntArray,
    *,
    prefix: str,
    family: str,
    cost: float | FloatArray = 0.0,
) -> tuple[IntArray, IntArray, BoolArray]:
    """Add ``z_d <= sum_{(d, j) paired} y_j`` for each ``d`` of ``demand`` (sorted ids).

    ``(pi, pj)`` are the pairs that cover (demand id, site position). A demand paired with a
    site open throughout is covered whatever the plan and gets no column. Returns the new
    columns, the demand ids they belong to, and which of ``demand`` is covered throughout.
    """
    col = site_col[pj]
    live = col != CLOSED
    pi, col = pi[live], col[live]
    always = np.isin(demand, pi[col == OPEN])
    dem = demand[~always]
    z0 = b.add_cols(dem.size, cost=cost, lb=0.0, ub=1.0, prefix=prefix)
    at = np.searchsorted(dem, pi)
    mine = (at < dem.size) & (col >= 0)
    mine[mine] &= dem[at[mine]] == pi[mine]
    rows = np.concatenate([np.arange(dem.size), at[mine]])
    cols = np.concatenate([z0 + np.arange(dem.size), col[mine]])
    vals = np.concatenate([np.ones(dem.size), -np.ones(int(mine.sum()))])
    b.add_rows(dem.size, rows, cols, vals, ub=0.0, family=family)
    return z0 + np.arange(dem.size, dtype=np.int64), dem, always


def county_links(
    b: MipBuilder,
    counties: list[str],
    site_county: npt.NDArray[np.object_],
    site_col: IntArray,
    *,
    integer: bool,
    prefix: str,
    family: str,
    names: bool = False,
) -> tuple[IntArray, float]:
    """Add ``h_c <= sum_{j in c} y_j`` ("county ``c`` has an open site") for ``counties``.

    A county with a site open throughout counts as a constant 1 and one where no site may
    open as 0; neither gets a column. Returns the new columns and the constant.
    """
    h_cols: list[int] = []
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    constant = 0.0
    kept: list[str] = []
    for c in counties:
        col = site_col[np.flatnonzero(site_county == c)]
        if (col == OPEN).any():
            constant += 1.0
        elif (col >= 0).any():
            kept.append(c)
            rows.append(np.full(int((col >= 0).sum()), len(h_cols)))
            cols.append(col[col >= 0])
            h_cols.append(len(h_cols))
    if not kept:
        return np.zeros(0, dtype=np.int64), constant
    h0 = b.add_cols(
        len(kept),
        ub=1.0,
        integer=integer,
        names=sanitize_names(prefix, kept) if names else None,
        prefix=prefix,
    )
    h = h0 + np.arange(len(kept), dtype=np.int64)
    b.add_rows(
        len(kept),
        np.concatenate([np.arange(len(kept)), *rows]),
        np.concatenate([h, *cols]),
        np.concatenate([np.ones(len(kept)), -np.ones(sum(r.size for r in rows))]),
        ub=0.0,
        family=family,
        names=sanitize_names(f"{prefix}_link", kept) if names else None,
    )
    return h, constant


@dataclass(frozen=True)
class Assignment:
    """Columns of an assignment block: shares ``x`` of the pairs, unserved shares ``u``."""

    x0: int  # first x column (the x columns are contiguous, in pair order)
    x: IntArray
    u: IntArray
    demand: IntArray  # the demand point of each assignment row (and of each u)


def assignment_block(
    b: MipBuilder,
    prep: Prepared,
    site_col: IntArray,
    pi: IntArray,
    pj: IntArray,
    *,
    demand_rows: Literal["eq", "le"],
    cost: float | FloatArray = 0.0,
    demand: IntArray | None = None,
    unserved: str | None = None,
    link_all: bool = False,
    tag: str = "",
    names: bool = False,
    single_source: bool = False,
) -> Assignment:
    """Add shares ``x_ij`` of demand ``i`` served by site ``j`` for the pairs ``(pi, pj)``.

    Rows: ``sum_j x_ij (+ u_i) = 1`` (``demand_rows="eq"``) or ``<= 1`` for each demand
    point of ``demand`` (default: the paired ones), with an unserved share ``u_i`` (columns
    named ``unserved``) when given; capacity ``sum_i w_i x_ij <= C_j y_j`` for each paired
    site of finite capacity (``<= C_j`` when open throughout); ``x_ij <= y_j`` for pairs to
    unlimited sites, or to every site with a column (``link_all``, a tighter relaxation).
    ``single_source``: the shares are 0/1 (each demand point served by one site only).
    """
    dem = np.unique(pi) if demand is None else demand
    u = np.zeros(0, dtype=np.int64)
    if unserved is not None:
        u = b.add_cols(dem.size, lb=0.0, ub=1.0, prefix=unserved) + np.arange(dem.size)
    x0 = b.add_cols(pi.size, cost=cost, lb=0.0, ub=1.0, integer=single_source, prefix=f"x{tag}")
    x = x0 + np.arange(pi.size, dtype=np.int64)
    local = np.searchsorted(dem, pi)
    b.add_rows(
        dem.size,
        np.concatenate([local, np.arange(u.size)]),
        np.concatenate([x, u]),
        1.0,
        lb=1.0 if demand_rows == "eq" else -INF,
        ub=1.0,
        family=f"assign{tag}",
        names=sanitize_names(f"assign{tag}", list(prep.demand_ids[dem])) if names else None,
    )
    cap = prep.capacity
    col = site_col[pj]
    limited = np.isfinite(cap[pj])
    sites = np.unique(pj[limited])
    if sites.size:
        with_col = site_col[sites] >= 0
        b.add_rows(
            sites.size,
            np.concatenate([np.searchsorted(sites, pj[limited]), np.flatnonzero(with_col)]),
            np.concatenate([x[limited], site_col[sites[with_col]]]),
            np.concatenate([prep.weight[pi[limited]], -cap[sites[with_col]]]),
            ub=np.where(with_col, 0.0, cap[sites]),
            family=f"capacity{tag}",
            names=sanitize_names(f"capacity{tag}", list(prep.site_ids[sites])) if names else None,
        )
    linked = np.flatnonzero((col >= 0) & (link_all | ~limited))
    if linked.size:
        b.add_rows(
            linked.size,
            np.concatenate([np.arange(linked.size), np.arange(linked.size)]),
            np.concatenate([x[linked], col[linked]]),
            np.concatenate([np.ones(linked.size), -np.ones(linked.size)]),
            ub=0.0,
            family=f"open_link{tag}",
        )
    return Assignment(x0, x, u, dem)


def client_levels(prep: Prepared, allowed: BoolArray) -> Radius:
    """Distinct-distance levels per client over ``allowed`` pairs (positive demand only)."""
    pairs = np.flatnonzero(allowed & (prep.weight[prep.pi] > 0))
    return radius_levels(prep.pi[pairs], prep.pj[pairs], prep.pt[pairs], prep.n)


def integral(values: FloatArray) -> bool:
    return bool(np.all(np.abs(values - np.round(values)) < 1e-9))


def start_vector(form: Formulation, prep: Prepared, is_open: BoolArray) -> FloatArray | None:
    """Return a start point for ``form`` from open sites (uncapacitated)."""
    if form.x0 is not None:
        return None
    mip = form.mip
    x = np.zeros(mip.n_cols)
    x[form.y0 : form.y0 + prep.m] = is_open
    if form.kind == "p_median" and form.radius is not None and form.chain is not None:
        rad = form.radius
        start, zcols = form.chain.start, form.chain.cols
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
