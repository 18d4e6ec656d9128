r"""Compiled inner loops (numba) for the province-scale paths: plumbing, no model logic.

The p-median's functions walk pairs stored row by row (CSR: ``indptr`` by demand point)
whose minutes (and costs ``w_i t_ij``) ascend within a row, so a loop can stop at the first
pair that no longer counts; the p-median's iterated local search (:func:`median_ils`) and the
set cover's (:func:`cover_search`) keep their state in the arrays they are given. Compiled on
first use and cached on disk (``cache=True``); imported lazily by the large-instance paths
only, so the city-scale models never pay numba's import or compile time. Every sum is
float64, pair by pair in the stored order. The tests check each p-median function against
plain numpy and the search's bookkeeping against a fresh count after every move
(``tests/test_models_large_median.py``), the cover search against exact optima
(``tests/test_models_large_cover.py``).
"""

from __future__ import annotations

import numba
import numpy as np

from planning.models._mip import BoolArray, FloatArray, IntArray, SiteArray


@numba.njit(cache=True, nogil=True)
def median_rho(  # noqa: PLR0917 - the arrays of one compiled loop
    indptr: IntArray, cost: FloatArray, site: SiteArray, lam: FloatArray, m: int, stop: IntArray
) -> FloatArray:  # pragma: no cover - compiled
    r""":math:`\rho_j = \sum_i \min(0, c_{ij} - \lambda_i)` over the pairs of each site.

    ``stop[i]`` gets the end of demand point ``i``'s pairs with :math:`c_{ij} < \lambda_i`
    (a prefix: costs ascend), for :func:`median_count`.
    """
    rho = np.zeros(m)
    for i in range(indptr.size - 1):
        li = lam[i]
        k, end = indptr[i], indptr[i + 1]
        while k < end:
            c = cost[k]
            if c >= li:
                break
            rho[site[k]] += c - li
            k += 1
        stop[i] = k
    return rho


@numba.njit(cache=True, nogil=True)
def median_count(
    indptr: IntArray, stop: IntArray, site: SiteArray, chosen: BoolArray
) -> FloatArray:  # pragma: no cover - compiled
    r"""For each demand point, how many ``chosen`` sites have :math:`c_{ij} < \lambda_i`.

    Counts over the prefixes ``indptr[i]:stop[i]`` that :func:`median_rho` found for the
    same multipliers: only the sites are read, not the costs.
    """
    n = indptr.size - 1
    count = np.zeros(n)
    for i in range(n):
        hits = 0
        for k in range(indptr[i], stop[i]):
            if chosen[site[k]]:
                hits += 1
        count[i] = hits
    return count


@numba.njit(cache=True, nogil=True)
def _point_terms(  # noqa: PLR0917 - the arrays of one compiled loop
    u: int,
    sign: float,
    indptr: IntArray,
    mins: FloatArray,
    site: SiteArray,
    w: FloatArray,
    phi1: IntArray,
    d1: FloatArray,
    d2: FloatArray,
    slot_of: IntArray,
    is_open: BoolArray,
    gain: FloatArray,
    loss: FloatArray,
    extra: FloatArray,
    value: FloatArray,
) -> None:  # pragma: no cover - compiled
    """Add (``sign`` 1) or take out (-1) demand point ``u``'s terms of the interchange.

    Walks its pairs nearer than its second-nearest open site ``d2``: ``gain[j]`` gets
    ``w (d1 - t)`` where ``t < d1``; ``extra[slot_of[phi1] * m + j]`` gets
    ``w (d2 - max(t, d1))`` for closed ``j``; ``loss[phi1]`` gets ``w (d2 - d1)`` and
    ``value[0]`` ``w d1`` (``phi1 < 0``: no loss, no extra).
    """
    m = is_open.size
    a, b, f, wi = d1[u], d2[u], phi1[u], w[u]
    value[0] += sign * wi * a
    row = -1
    if f >= 0:
        loss[f] += sign * wi * (b - a)
        row = slot_of[f] * m
    for kk in range(indptr[u], indptr[u + 1]):
        t = mins[kk]
        if t >= b:
            break
        j = site[kk]
        if t < a:
            gain[j] += sign * wi * (a - t)
        if row >= 0 and not is_open[j]:
            extra[row + j] += sign * wi * (b - max(t, a))


@numba.njit(cache=True, nogil=True)
def median_swaps(  # noqa: PLR0917 - the arrays of one compiled loop
    indptr: IntArray,
    mins: FloatArray,
    site: SiteArray,
    w: FloatArray,
    d1: FloatArray,
    d2: FloatArray,
    phi1: IntArray,
    pos_of: IntArray,
    is_open: BoolArray,
    k: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:  # pragma: no cover - compiled
    """Whitaker's ``gain`` (length m), ``extra`` (``k x m``, flat) and ``loss`` (length m).

    Each demand point's terms (:func:`_point_terms`), ``extra`` in row ``pos_of[phi1]``.
    """
    m = is_open.size
    gain, loss, extra, value = np.zeros(m), np.zeros(m), np.zeros(k * m), np.zeros(1)
    for u in range(indptr.size - 1):
        _point_terms(
            u, 1.0, indptr, mins, site, w, phi1, d1, d2, pos_of, is_open, gain, loss, extra,
            value,
        )  # fmt: skip
    return gain, extra, loss


@numba.njit(cache=True, nogil=True)
def nearest_two(
    indptr: IntArray, mins: FloatArray, site: SiteArray, is_open: BoolArray
) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:  # pragma: no cover - compiled
    """Each demand point's nearest and second-nearest open site and minutes (``-1``/``inf``).

    Ties in minutes go to the pair stored first.
    """
    n = indptr.size - 1
    phi1 = np.full(n, -1, dtype=np.int64)
    phi2 = np.full(n, -1, dtype=np.int64)
    d1 = np.full(n, np.inf)
    d2 = np.full(n, np.inf)
    for i in range(n):
        for kk in range(indptr[i], indptr[i + 1]):
            j = site[kk]
            if is_open[j]:
                if phi1[i] < 0:
                    phi1[i], d1[i] = j, mins[kk]
                else:
                    phi2[i], d2[i] = j, mins[kk]
                    break
    return phi1, d1, phi2, d2


@numba.njit(cache=True, nogil=True)
def catchment_costs(  # noqa: PLR0917 - the arrays of one compiled loop
    indptr: IntArray,
    cost: FloatArray,
    site: SiteArray,
    owner: IntArray,
    openable: BoolArray,
    k: int,
) -> tuple[FloatArray, IntArray]:  # pragma: no cover - compiled
    """Sum the pair costs and count the pairs of each catchment to each openable site.

    ``owner[i]`` is the catchment of demand point ``i`` (``-1``: none); entry ``o * m + j``
    of both results covers the pairs from catchment ``o``'s points to site ``j``.
    """
    m = openable.size
    total = np.zeros(k * m)
    count = np.zeros(k * m, dtype=np.int64)
    for i in range(indptr.size - 1):
        o = owner[i]
        if o < 0:
            continue
        base = o * m
        for kk in range(indptr[i], indptr[i + 1]):
            j = site[kk]
            if openable[j]:
                total[base + j] += cost[kk]
                count[base + j] += 1
    return total, count


# --- the p-median's iterated local search: the interchange's bookkeeping kept up to date ---
# ``net`` = (indptr, mins, site, w, col_ptr, col_row, col_min): the pairs by demand point
# (CSR, minutes ascending) and by site (CSC). ``st`` = (is_open, phi1, d1, phi2, d2, slot_of,
# site_of, gain, loss, extra, value): a plan, each demand point's nearest and second-nearest
# open site (``-1`` / ``big[u]`` minutes when none), each open site's slot (a row of ``extra``)
# and Whitaker's sums over every demand point (:func:`_point_terms`, as for the interchange's
# :func:`median_swaps`; ``value[0]``: the plan's value, unserved points at ``big[u]`` minutes).
MedianNet = tuple[IntArray, FloatArray, SiteArray, FloatArray, IntArray, IntArray, FloatArray]
MedianState = tuple[
    BoolArray, IntArray, FloatArray, IntArray, FloatArray, IntArray, IntArray,
    FloatArray, FloatArray, FloatArray, FloatArray,
]  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _median_add(
    u: int, sign: float, net: MedianNet, st: MedianState
) -> None:  # pragma: no cover - compiled
    """Add (``sign`` 1) or take out (-1) demand point ``u``'s terms of the bookkeeping."""
    _point_terms(
        u, sign, net[0], net[1], net[2], net[3], st[1], st[2], st[4], st[5], st[0], st[7],
        st[8], st[9], st[10],
    )  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _median_nearest(
    u: int, net: MedianNet, st: MedianState, big: FloatArray
) -> None:  # pragma: no cover - compiled
    """Demand point ``u``'s nearest and second-nearest open site (ties: stored first)."""
    indptr, mins, site = net[0], net[1], net[2]
    is_open, phi1, d1, phi2, d2 = st[0], st[1], st[2], st[3], st[4]
    phi1[u], phi2[u], d1[u], d2[u] = -1, -1, big[u], big[u]
    for kk in range(indptr[u], indptr[u + 1]):
        j = site[kk]
        if is_open[j]:
            if phi1[u] < 0:
                phi1[u], d1[u] = j, mins[kk]
            else:
                phi2[u], d2[u] = j, mins[kk]
                break


@numba.njit(cache=True, nogil=True)
def _median_flip(
    j: int, net: MedianNet, st: MedianState, big: FloatArray, buf: IntArray
) -> None:  # pragma: no cover - compiled
    """Open or close site ``j``, updating the points it changes (``buf``: scratch, length n).

    Closing changes the points that have ``j`` nearest or second-nearest; opening those whose
    second-nearest is not nearer than ``j`` (a point taken out and added back unchanged is
    harmless). Their terms are taken out, the plan changed, and their terms added back.
    """
    col_ptr, col_row, col_min = net[4], net[5], net[6]
    is_open, phi1, phi2, d2, slot_of, site_of = st[0], st[1], st[3], st[4], st[5], st[6]
    m = is_open.size
    closing = is_open[j]
    na = 0
    for kk in range(col_ptr[j], col_ptr[j + 1]):
        u = col_row[kk]
        if (phi1[u] == j or phi2[u] == j) if closing else col_min[kk] <= d2[u]:
            buf[na] = u
            na += 1
            _median_add(u, -1.0, net, st)
    if closing:
        s = slot_of[j]
        st[9][s * m : (s + 1) * m] = 0.0  # every term of that slot was just taken out
        st[8][j] = 0.0
        site_of[s], slot_of[j], is_open[j] = -1, -1, False
    else:
        s = 0
        while site_of[s] >= 0:
            s += 1
        site_of[s], slot_of[j], is_open[j] = j, s, True
    for q in range(na):
        _median_nearest(buf[q], net, st, big)
        _median_add(buf[q], 1.0, net, st)


@numba.njit(cache=True, nogil=True)
def median_state(
    net: MedianNet, is_open: BoolArray, slots: int, big: FloatArray
) -> MedianState:  # pragma: no cover - compiled
    """Return the bookkeeping of plan ``is_open`` (copied), ``extra`` with ``slots`` rows."""
    n, m = net[0].size - 1, is_open.size
    slot_of = np.full(m, -1, dtype=np.int64)
    site_of = np.full(slots, -1, dtype=np.int64)
    s = 0
    for j in range(m):
        if is_open[j]:
            slot_of[j], site_of[s] = s, j
            s += 1
    st = (
        is_open.copy(), np.full(n, -1, dtype=np.int64), big.copy(),
        np.full(n, -1, dtype=np.int64), big.copy(), slot_of, site_of,
        np.zeros(m), np.zeros(m), np.zeros(slots * m), np.zeros(1),
    )  # fmt: skip
    for u in range(n):
        _median_nearest(u, net, st, big)
        _median_add(u, 1.0, net, st)
    return st


@numba.njit(cache=True, nogil=True)
def _median_best_swap(
    st: MedianState, fixed: BoolArray, openable: BoolArray
) -> tuple[float, int, int]:  # pragma: no cover - compiled
    """Return the swap (close ``r``, open ``j``) of largest profit, and that profit."""
    is_open, site_of, gain, loss, extra = st[0], st[6], st[7], st[8], st[9]
    m = is_open.size
    best, br, bj = 0.0, -1, -1
    for s in range(site_of.size):
        r = site_of[s]
        if r < 0 or fixed[r]:
            continue
        base, lr = s * m, loss[r]
        for j in range(m):
            if not is_open[j] and openable[j]:
                pr = gain[j] - lr + extra[base + j]
                if pr > best:
                    best, br, bj = pr, r, j
    return best, br, bj


@numba.njit(cache=True, nogil=True)
def _median_copy(src: MedianState, dst: MedianState) -> None:  # pragma: no cover - compiled
    dst[0][:] = src[0]
    dst[1][:] = src[1]
    dst[2][:] = src[2]
    dst[3][:] = src[3]
    dst[4][:] = src[4]
    dst[5][:] = src[5]
    dst[6][:] = src[6]
    dst[7][:] = src[7]
    dst[8][:] = src[8]
    dst[9][:] = src[9]
    dst[10][:] = src[10]


@numba.njit(cache=True, nogil=True)
def _median_kick(  # noqa: PLR0917 - the state of one compiled search
    net: MedianNet,
    st: MedianState,
    fixed: BoolArray,
    openable: BoolArray,
    size: int,
    big: FloatArray,
    far: float,
    buf: IntArray,
    cum: FloatArray,
) -> bool:  # pragma: no cover - compiled
    """Close up to ``size`` neighbouring open sites and open as many; False: none to open.

    The closed sites are a random walk from a random movable open site to the
    second-nearest open site of a demand point it serves nearest; each new site is one of
    the three nearest closed sites of a demand point drawn with odds ``w d1^2``.
    """
    indptr, site, w, col_ptr, col_row = net[0], net[2], net[3], net[4], net[5]
    is_open, phi1, d1, phi2 = st[0], st[1], st[2], st[3]
    n, m = d1.size, is_open.size
    movable = 0
    for j in range(m):
        if is_open[j] and not fixed[j]:
            movable += 1
    if movable == 0:
        return False
    close = np.empty(size, dtype=np.int64)
    pick = np.random.randint(movable)  # noqa: NPY002 - numba's generator, seeded per call
    for j in range(m):
        if is_open[j] and not fixed[j]:
            if pick == 0:
                close[0] = j
                break
            pick -= 1
    nc = 1
    while nc < size:
        last, cnt = close[nc - 1], 0
        for kk in range(col_ptr[last], col_ptr[last + 1]):
            u = col_row[kk]
            c = phi2[u]
            if phi1[u] == last and c >= 0 and not fixed[c]:
                fresh = True
                for q in range(nc):
                    fresh = fresh and close[q] != c
                if fresh:
                    buf[cnt] = c
                    cnt += 1
        if cnt == 0:
            break
        close[nc] = buf[np.random.randint(cnt)]  # noqa: NPY002 - numba's generator
        nc += 1
    for q in range(nc):
        _median_flip(close[q], net, st, big, buf)
    for _ in range(nc):
        total = 0.0
        for u in range(n):
            du = min(d1[u], far)  # an unserved point counts as ``far`` minutes
            total += w[u] * du * du
            cum[u] = total
        draw = np.random.random() * total  # noqa: NPY002 - numba's generator, seeded per call
        u = min(int(np.searchsorted(cum, draw, side="right")), n - 1)
        want, got, seen = np.random.randint(3), -1, 0  # noqa: NPY002 - numba's generator
        for kk in range(indptr[u], indptr[u + 1]):
            j = site[kk]
            if not is_open[j] and openable[j]:
                got = j
                if seen == want:
                    break
                seen += 1
        if got < 0:
            return False
        _median_flip(got, net, st, big, buf)
    return True


@numba.njit(cache=True, nogil=True)
def median_ils(  # noqa: PLR0917 - one compiled search
    net: MedianNet,
    work: MedianState,
    best: MedianState,
    fixed: BoolArray,
    openable: BoolArray,
    kicks: int,
    size: int,
    big: FloatArray,
    far: float,
    seed: int,
    tol: float,
) -> int:  # pragma: no cover - compiled
    """Search from plan ``best`` (updated in place) by kicks and swaps; ``work``: scratch.

    Each of ``kicks`` steps copies ``best`` to ``work``, kicks it (:func:`_median_kick`),
    makes the swap of largest profit while one gains more than ``tol``, and keeps the result
    as ``best`` when its value is lower by more than ``tol``. An unserved point counts
    ``w_u big[u]``, more than any plan serving everyone costs
    (:func:`~planning.models._sparse.unserved_minutes`), so from a ``best`` that serves
    every point only such plans are kept. Returns how many were kept.
    """
    np.random.seed(seed)  # noqa: NPY002 - numba's own generator, seeded per call
    n = work[2].size
    buf = np.empty(n, dtype=np.int64)
    cum = np.empty(n)
    kept = 0
    for _ in range(kicks):
        _median_copy(best, work)
        if not _median_kick(net, work, fixed, openable, size, big, far, buf, cum):
            continue
        for _step in range(work[0].size):  # each swap gains more than tol: a cap, not a limit
            profit, r, j = _median_best_swap(work, fixed, openable)
            if profit <= tol:
                break
            _median_flip(r, net, work, big, buf)
            _median_flip(j, net, work, big, buf)
        if work[10][0] < best[10][0] - tol:
            _median_copy(work, best)
            kept += 1
    return kept


@numba.njit(cache=True, nogil=True)
def _cover_flip(  # noqa: PLR0917 - the state of one compiled search
    j: int,
    step: int,
    r_ptr: IntArray,
    r_idx: IntArray,
    c_ptr: IntArray,
    c_idx: IntArray,
    weight: IntArray,
    count: IntArray,
    owner_sum: IntArray,
    score: IntArray,
    free_to_add: BoolArray,
    unserved: IntArray,
    where: IntArray,
    n_unserved: int,
) -> int:  # pragma: no cover - compiled
    """Open (``step = 1``) or close (``-1``) site ``j``; update counts, scores, unserved rows.

    Returns the new number of unserved rows. A row's ``owner_sum`` is the sum of its open
    sites, so the single open site of a row served once is ``owner_sum``.
    """
    score[j] = -score[j]
    add = step > 0
    for k in range(c_ptr[j], c_ptr[j + 1]):
        i = c_idx[k]
        count[i] += step
        owner_sum[i] += step * j
        c = count[i]
        if (add and c == 1) or (not add and c == 0):
            # row i's state as "unserved" changes: every other site's gain changes
            for q in range(r_ptr[i], r_ptr[i + 1]):
                s = r_idx[q]
                free_to_add[s] = True
                if s != j:
                    score[s] += -weight[i] if add else weight[i]
            if add:
                p = where[i]
                last = unserved[n_unserved - 1]
                unserved[p] = last
                where[last] = p
                where[i] = -1
                n_unserved -= 1
            else:
                unserved[n_unserved] = i
                where[i] = n_unserved
                n_unserved += 1
        elif (add and c == 2) or (not add and c == 1):
            # row i's single server changes: it loses (gains) the row's weight on closing
            sole = owner_sum[i] - j if add else owner_sum[i]
            score[sole] += weight[i] if add else -weight[i]
            for q in range(r_ptr[i], r_ptr[i + 1]):
                free_to_add[r_idx[q]] = True
    return n_unserved


@numba.njit(cache=True, nogil=True)
def cover_search(  # noqa: PLR0917 - one compiled search
    r_ptr: IntArray,
    r_idx: IntArray,
    c_ptr: IntArray,
    c_idx: IntArray,
    chosen: BoolArray,
    weight: IntArray,
    stamp: IntArray,
    free_to_add: BoolArray,
    clock: IntArray,
    iterations: int,
    target: int,
    seed: int,
) -> tuple[BoolArray, int]:  # pragma: no cover - compiled
    """Row-weighting local search for unicost set cover (RWLS; Gao, Weise & Li 2015).

    Rows ``r_ptr/r_idx`` (CSR: the sites of each row) and sites ``c_ptr/c_idx`` (CSC: the
    rows of each site) of one 0/1 matrix. The search state lives in the arrays passed, so
    calls continue one search: ``chosen`` (open sites, may leave rows unserved), row
    ``weight`` (start at 1), site ``stamp`` (iteration of its last change), ``free_to_add``
    (configuration checking: a site closed may open again only after a row of it changed)
    and ``clock = [iteration, tabu site]``. Each call first serves any unserved row greedily.

    A site's score is the weight of the unserved rows it would serve (closed) or minus the
    weight of the rows only it serves (open). Whenever every row is served the plan is
    recorded and the open site of highest score closed (the search then looks for a cover
    one site smaller); each step closes the open site of highest score (not the one opened
    last), opens the site of highest score among those allowed in a random unserved row,
    and adds 1 to the weight of every unserved row. Ties go to the site unchanged longest.

    Returns the smallest cover seen in this call and its size (``m + 1``: none), stopping
    early once a cover of at most ``target`` sites is seen.
    """
    n = r_ptr.size - 1
    m = c_ptr.size - 1
    np.random.seed(seed)  # noqa: NPY002 - numba's own generator, seeded per call
    count = np.zeros(n, dtype=np.int64)
    owner_sum = np.zeros(n, dtype=np.int64)
    score = np.zeros(m, dtype=np.int64)
    unserved = np.empty(n, dtype=np.int64)
    where = np.full(n, -1, dtype=np.int64)
    n_unserved = 0
    open_sites = np.empty(m, dtype=np.int64)
    place = np.full(m, -1, dtype=np.int64)
    n_open = 0
    for j in range(m):
        if chosen[j]:
            open_sites[n_open] = j
            place[j] = n_open
            n_open += 1
            for k in range(c_ptr[j], c_ptr[j + 1]):
                count[c_idx[k]] += 1
                owner_sum[c_idx[k]] += j
    for i in range(n):
        if count[i] == 0:
            unserved[n_unserved] = i
            where[i] = n_unserved
            n_unserved += 1
            for q in range(r_ptr[i], r_ptr[i + 1]):
                score[r_idx[q]] += weight[i]
        elif count[i] == 1:
            score[owner_sum[i]] -= weight[i]
    best = chosen.copy()
    best_size = m + 1
    while n_unserved > 0:  # serve every row first: greedy
        pick = -1
        for j in range(m):
            if not chosen[j] and (pick < 0 or score[j] > score[pick]):
                pick = j
        if pick < 0 or score[pick] <= 0:
            return best, best_size  # some row has no site
        chosen[pick] = True
        open_sites[n_open] = pick
        place[pick] = n_open
        n_open += 1
        n_unserved = _cover_flip(
            pick, 1, r_ptr, r_idx, c_ptr, c_idx, weight, count, owner_sum, score,
            free_to_add, unserved, where, n_unserved,
        )  # fmt: skip
    it = clock[0]
    tabu = clock[1]
    steps = 0
    while steps < iterations or n_unserved == 0:
        served = n_unserved == 0
        if served:  # a cover: record it, then look for one a site smaller
            if n_open < best_size:
                best_size = n_open
                best[:] = chosen
            if n_open <= target or n_open == 0 or steps >= iterations:
                break
        else:
            it += 1
            steps += 1
        drop = -1  # the open site of highest score (not the one opened last, in a step)
        for t in range(n_open):
            s = open_sites[t]
            if (served or s != tabu) and (
                drop < 0
                or score[s] > score[drop]
                or (score[s] == score[drop] and stamp[s] < stamp[drop])
            ):
                drop = s
        if drop >= 0:
            chosen[drop] = False
            last = open_sites[n_open - 1]
            open_sites[place[drop]] = last
            place[last] = place[drop]
            place[drop] = -1
            n_open -= 1
            stamp[drop] = it
            n_unserved = _cover_flip(
                drop, -1, r_ptr, r_idx, c_ptr, c_idx, weight, count, owner_sum, score,
                free_to_add, unserved, where, n_unserved,
            )  # fmt: skip
            free_to_add[drop] = False
        if served:
            continue
        row = unserved[np.random.randint(n_unserved)]  # noqa: NPY002 - (numba's generator)
        pick = -1
        for attempt in range(2):  # sites allowed to open first, else any
            allowed_only = attempt == 0
            for q in range(r_ptr[row], r_ptr[row + 1]):
                s = r_idx[q]
                if (free_to_add[s] or not allowed_only) and (
                    pick < 0
                    or score[s] > score[pick]
                    or (score[s] == score[pick] and stamp[s] < stamp[pick])
                ):
                    pick = s
            if pick >= 0:
                break
        chosen[pick] = True
        open_sites[n_open] = pick
        place[pick] = n_open
        n_open += 1
        stamp[pick] = it
        tabu = pick
        n_unserved = _cover_flip(
            pick, 1, r_ptr, r_idx, c_ptr, c_idx, weight, count, owner_sum, score,
            free_to_add, unserved, where, n_unserved,
        )  # fmt: skip
        for t in range(n_unserved):
            i = unserved[t]
            weight[i] += 1
            for q in range(r_ptr[i], r_ptr[i + 1]):
                score[r_idx[q]] += 1
    clock[0], clock[1] = it, tabu
    return best, best_size
