r"""The radius chain: a client's distance to its nearest open site, by distinct-distance levels.

For client :math:`i` with distinct distances :math:`D_i^0 < \dots < D_i^{K_i-1}` to the sites
it may use and :math:`z_i^k \ge 0` ("no open site within :math:`D_i^k`")::

    z_i^0 + sum_{j: d_ij = D_i^0} y_j >= 1
    z_i^k - z_i^{k-1} + sum_{j: d_ij = D_i^k} y_j >= 0      k = 1..L_i-2
    (full list only) -z_i^{K-2} + sum_{j: d_ij = D_i^{K-1}} y_j >= 0

    distance_i = D_i^0 + sum_k (D_i^{k+1} - D_i^k) z_i^k

Used by the p-median (cost :math:`\sum_i w_i \, \mathrm{distance}_i`), the single-MIP
p-center (:math:`r \ge \mathrm{distance}_i`, :func:`center_rows`) and each period of a
rollout. A site open throughout (:data:`~planning.models._blocks.OPEN`, e.g. an existing site
in a rollout, or the "unserved" penalty distance) ends its client's chain: its level's row
always holds and is left out, so the client's distance never exceeds that level's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planning.models._mip import INF, FloatArray, IntArray, MipBuilder

#: A site open throughout, as a site column (``site_col[j] == OPEN``): a constant 1.
OPEN = -1
#: A site that may not open, as a site column: a constant 0.
CLOSED = -2


@dataclass
class Radius:
    """Per-client distance levels (pairs sorted by client, distance, site)."""

    client: IntArray  # client of each level pair
    site: IntArray  # site of each level pair (a position in the site columns)
    dist: FloatArray  # minutes of each level pair
    level: IntArray  # level of each pair within its client (0 = nearest distance)
    n_levels: IntArray  # K_i per client (0 = client has no pair)
    level_dist: list[FloatArray]  # distinct distances per client
    keep: IntArray  # L_i: levels currently modelled (1..K_i)


def radius_levels(pi: IntArray, pj: IntArray, pt: FloatArray, n: int) -> Radius:
    """Distinct-distance levels of ``n`` clients from pairs sorted by (client, minutes, site)."""
    new_client = np.r_[True, pi[1:] != pi[:-1]] if pi.size else np.zeros(0, bool)
    new_level = new_client | np.r_[True, pt[1:] != pt[:-1]] if pi.size else new_client
    lvl_global = np.cumsum(new_level) - 1
    first_lvl = (
        np.maximum.accumulate(np.where(new_client, lvl_global, 0)) if pi.size else lvl_global
    )
    level = lvl_global - first_lvl
    n_levels = np.zeros(n, dtype=np.int64)
    if pi.size:
        np.maximum.at(n_levels, pi, level + 1)
    level_dist: list[FloatArray] = [np.zeros(0)] * n
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
    return Radius(pi, pj, pt, level.astype(np.int64), n_levels, level_dist, n_levels.copy())


@dataclass(frozen=True)
class Chain:
    """The z columns of a radius block and what each costs per unit of weight.

    The z columns of client ``i``'s levels ``0..L_i-2`` are ``cols[start[i]:start[i + 1]]``
    (shared columns repeat); ``step`` is :math:`D^{k+1} - D^k` of each, ``base`` the
    client's :math:`D^0` (0 without levels) and ``clients`` the clients with levels.
    """

    start: IntArray
    cols: IntArray
    step: FloatArray
    base: FloatArray
    clients: IntArray


def radius_block(
    b: MipBuilder,
    rad: Radius,
    site_col: IntArray,
    *,
    share: bool = False,
    z_ub: float = INF,
    prefix: str = "z",
    family: str = "radius",
) -> Chain:
    """Add the z columns (cost 0) and chain rows of ``rad``; return them as a :class:`Chain`.

    ``site_col`` maps a site to its column (or :data:`OPEN` / :data:`CLOSED`). With ``share``,
    clients whose level sets are the same set of sites share one variable ``z_S`` (its cost
    the sum of theirs) and identical rows are added once. That is exact: every row stays
    valid for ``z_S = [no site of S open]``, and with binary ``y`` each client's chain still
    forces ``z_S >= [no site of S open]``; grid cells near each other share most of their
    nearest-site sets, so the model shrinks several-fold (Putian: 18,592 client levels ->
    ~3,000 sets). The caller prices the columns (:func:`weigh_chain`, :func:`center_rows`).
    """
    n = rad.n_levels.size
    clients = np.flatnonzero(rad.n_levels > 0)
    keep, k_all = rad.keep[clients], rad.n_levels[clients]
    full = keep == k_all
    nz = keep - 1  # z variables per client
    nrows = np.where(full, k_all, keep - 1)  # rows per client
    per_client = np.zeros(n, dtype=np.int64)
    per_client[clients] = nz
    start = np.r_[0, np.cumsum(per_client)].astype(np.int64)
    z_off = np.cumsum(nz) - nz
    r_off = np.cumsum(nrows) - nrows
    total_z, total_r = int(nz.sum()), int(nrows.sum())
    step = np.zeros(total_z)
    base = np.zeros(n)
    for c, i in enumerate(clients.tolist()):
        dist = rad.level_dist[i]
        base[i] = dist[0]
        if nz[c]:
            step[z_off[c] : z_off[c] + nz[c]] = np.diff(dist[: keep[c]])
    # y entries: pair at level l of client c goes to row r_off[c] + l, if that row exists
    pc = np.searchsorted(clients, rad.client)
    row_exists = rad.level < nrows[pc]
    y_rows = r_off[pc[row_exists]] + rad.level[row_exists]
    y_cols = site_col[rad.site[row_exists]]
    # z entries: z^k (+1) in row k for k < nz; z^{k-1} (-1) in row k for 1 <= k < nrows
    zc = np.repeat(np.arange(clients.size), nz)
    zk = np.arange(total_z) - np.repeat(z_off, nz)
    plus_rows = r_off[zc] + zk
    minus_ok = zk + 1 < np.repeat(nrows, nz)
    minus_rows = r_off[zc[minus_ok]] + zk[minus_ok] + 1
    rlb = np.zeros(total_r)
    rlb[r_off[nrows > 0]] = 1.0
    if share and total_z:
        zid = _level_set_ids(rad, clients, nz)
        z0 = b.add_cols(int(zid.max()) + 1, lb=0.0, ub=z_ub, prefix=prefix)
        zcols = z0 + zid
    else:
        z0 = b.add_cols(total_z, lb=0.0, ub=z_ub, prefix=prefix)
        zcols = z0 + np.arange(total_z)
    rows = np.concatenate([y_rows, plus_rows, minus_rows])
    cols = np.concatenate([y_cols, zcols, zcols[minus_ok]])
    vals = np.concatenate([np.ones(y_rows.size), np.ones(total_z), -np.ones(int(minus_ok.sum()))])
    # a row with a site open throughout always holds: leave it out (and the site's entries)
    always = np.zeros(total_r, dtype=bool)
    always[y_rows[y_cols == OPEN]] = True
    live = ~always[rows] & (cols >= 0)
    if always.any():
        renumber = np.cumsum(~always) - 1
        rows, cols, vals = renumber[rows[live]], cols[live], vals[live]
        rlb = rlb[~always]
    else:
        rows, cols, vals = rows[live], cols[live], vals[live]
    if share and rlb.size:
        rows, rlb = _unique_rows(rows, cols, vals, rlb)
        keep_rows = rows >= 0
        rows, cols, vals = rows[keep_rows], cols[keep_rows], vals[keep_rows]
    b.add_rows(rlb.size, rows, cols, vals, lb=rlb, family=family)
    z_cols = np.zeros(total_z, dtype=np.int64)
    z_step = np.zeros(total_z)
    for c, i in enumerate(clients.tolist()):  # client order == start order
        z_cols[start[i] : start[i + 1]] = zcols[z_off[c] : z_off[c] + nz[c]]
        z_step[start[i] : start[i + 1]] = step[z_off[c] : z_off[c] + nz[c]]
    return Chain(start, z_cols, z_step, base, clients)


def weigh_chain(chain: Chain, weight: FloatArray) -> tuple[IntArray, FloatArray, float]:
    """Return the chain's distances weighted by ``weight`` as columns, costs and a constant.

    ``sum_i weight_i * distance_i = costs @ x[cols] + constant``.
    """
    per_level = np.repeat(np.arange(weight.size), np.diff(chain.start))
    constant = 0.0
    for i in chain.clients.tolist():
        constant += weight[i] * chain.base[i]
    return chain.cols, weight[per_level] * chain.step, constant


def center_rows(b: MipBuilder, chain: Chain, radius_col: int, *, family: str) -> None:
    """Add ``r >= distance_i`` for every client of ``chain`` (``r`` = column ``radius_col``)."""
    clients = chain.clients
    if clients.size == 0:
        return
    counts = np.diff(chain.start)[clients]
    rows = np.concatenate([np.arange(clients.size), np.repeat(np.arange(clients.size), counts)])
    levels = np.concatenate([np.arange(chain.start[i], chain.start[i + 1]) for i in clients])
    cols = np.concatenate([np.full(clients.size, radius_col), chain.cols[levels]])
    vals = np.concatenate([np.ones(clients.size), -chain.step[levels]])
    b.add_rows(clients.size, rows, cols, vals, lb=chain.base[clients], family=family)


def _level_set_ids(rad: Radius, clients: IntArray, nz: IntArray) -> IntArray:
    """Give each (client, level < nz) the id of the set of sites within that level's distance."""
    ids: dict[bytes, int] = {}
    out = np.zeros(int(nz.sum()), dtype=np.int64)
    pc = np.searchsorted(clients, rad.client)
    bounds = np.searchsorted(pc, np.arange(clients.size + 1))
    at = 0
    for c in range(clients.size):
        js, lv = rad.site[bounds[c] : bounds[c + 1]], rad.level[bounds[c] : bounds[c + 1]]
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
