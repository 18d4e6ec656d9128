r"""Radius probes of a p-center rollout's last year by enumerating its covers.

Used by :func:`planning.models._stages._radius_search` when only the last year's radius is
free (uncapacitated p-center, a new-site limit every year, no budgets). A probe at radius
:math:`r` answers "which plans within the shortfall cap have a last-year radius of at most
:math:`r`, and which of them has the least?" exactly, without a MIP:

1. The rows: every demand point with patients that no existing site reaches within
   :math:`r`, with the candidates that do. Identical rows are kept once and a row whose
   candidates include all of another row's is dropped (covering the smaller covers it).
2. The covers: a depth-first search over the row with the fewest candidates left (each
   branch opens one of them; later branches exclude the earlier candidates, so no set is
   found twice), pruned when more rows than sites left have pairwise disjoint candidate
   sets. Every set of :math:`K` candidates (:math:`K`: the last year's new sites) meeting all
   rows contains a leaf of this search; leaves with fewer than :math:`K` sites are padded
   with every choice of further candidates.
3. The years: sites never hurt a milestone, so each year of a best plan opens its full
   number of sites, and a last-year set :math:`S` is opened in some order
   (:math:`A_1 \subset A_2 \subset \dots \subset A_T = S`, :math:`|A_t| = K_t`). The least
   shortfall over the orders is a recursion over the subsets of :math:`S`:
   :math:`g_t(A) = f_t(A) + \min_{B \subset A, |B| = K_{t-1}} g_{t-1}(B)` with
   :math:`f_t` the year's shortfall (counties and patients within ``max_travel_min``).
4. The covers in increasing radius: the first whose least shortfall is within the cap is the
   best plan with radius :math:`\le r`; none: no plan has one.

A probe that runs out of time or covers decides nothing (``None``); the search then asks the
MIP check. Every plan a probe returns is re-checked with the model's own figures
(:func:`~planning.models._periods.shortfall_of`, :func:`~planning.models._periods.true_values`).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from planning.models._mip import BoolArray, FloatArray, IntArray
from planning.models._periods import Setup, nearest_minutes, shortfall_of, true_values
from planning.models._setcover import minimal_rows

logger = logging.getLogger(__name__)

#: Most covers (after padding) a probe examines before it gives up (decides nothing).
MAX_COVERS = 200_000
#: Most rows (after reduction) the cover search works on.
MAX_ROWS = 3000
#: Covers whose shortfall is evaluated at once (in increasing radius).
CHUNK = 4096
#: Tolerance of the probe's own shortfall sums against the cap (ambiguous ones decide nothing).
SHORT_TOL = 1e-9


def reduce_rows(rows: BoolArray) -> BoolArray:
    """Rows (``rows x candidates``) left after dropping duplicates and dominated rows.

    A row whose candidates include every candidate of another row is met whenever that row
    is: it is dropped (:func:`~planning.models._setcover.minimal_rows`). The rows kept are
    sorted by their number of candidates, then as :func:`numpy.unique` orders them.
    """
    if rows.shape[0] == 0:
        return rows
    kept = minimal_rows(sp.csr_matrix(rows)).toarray() > 0.5
    uniq = np.unique(kept, axis=0)
    order = np.argsort(uniq.sum(axis=1), kind="stable")
    out: BoolArray = uniq[order]
    return out


def enumerate_covers(rows: BoolArray, k: int, *, deadline: float) -> list[tuple[int, ...]] | None:
    """Leaves of the cover search (see the module notes): sets of at most ``k`` candidates.

    Every set of ``k`` candidates meeting every row contains one of them. ``None`` when the
    deadline passes first.
    """
    n_rows, n_cand = rows.shape
    row_bits = [_bits(np.flatnonzero(rows[i])) for i in range(n_rows)]
    col_rows = [_bits(np.flatnonzero(rows[:, j])) for j in range(n_cand)]
    full = (1 << n_rows) - 1
    out: list[tuple[int, ...]] = []
    nodes = 0
    stopped = False

    def packing(open_rows: int, allowed: int) -> int:
        """Rows with pairwise disjoint allowed candidates: each needs its own site."""
        used = count = 0
        x = open_rows
        while x:
            low = x & -x
            x ^= low
            b = row_bits[low.bit_length() - 1] & allowed
            if not b & used:
                used |= b
                count += 1
        return count

    def visit(chosen: tuple[int, ...], covered: int, allowed: int) -> None:
        nonlocal nodes, stopped
        nodes += 1
        if stopped or (nodes & 255 == 0 and time.perf_counter() > deadline):
            stopped = True
            return
        open_rows = full & ~covered
        if not open_rows:
            out.append(chosen)
            return
        left = k - len(chosen)
        if left <= 0:
            return
        if left == 1:  # one site left: it must meet every open row
            inter = allowed
            x = open_rows
            while x and inter:
                low = x & -x
                x ^= low
                inter &= row_bits[low.bit_length() - 1]
            while inter:
                low = inter & -inter
                inter ^= low
                out.append((*chosen, low.bit_length() - 1))
            return
        if packing(open_rows, allowed) > left:
            return
        best, best_n = 0, n_cand + 1
        x = open_rows
        while x:  # the open row with the fewest allowed candidates
            low = x & -x
            x ^= low
            b = row_bits[low.bit_length() - 1] & allowed
            c = b.bit_count()
            if c < best_n:
                best, best_n = b, c
                if c <= 1:
                    break
        while best:
            low = best & -best
            best ^= low
            j = low.bit_length() - 1
            visit((*chosen, j), covered | col_rows[j], allowed)
            allowed &= ~low

    visit((), 0, (1 << n_cand) - 1)
    logger.info("cover search: %d nodes, %d leaves%s", nodes, len(out), " (stopped)" * stopped)
    return None if stopped else out


def _bits(idx: IntArray) -> int:
    """Return a Python integer with the bits ``idx`` set."""
    out = 0
    for v in idx.tolist():
        out |= 1 << int(v)
    return out


@dataclass
class CoverProbe:
    """Radius probes of one rollout (see the module notes); build with :meth:`of`."""

    s: Setup
    shortfall_cap: float
    dem: IntArray  # demand points with patients
    base: FloatArray  # minutes to the nearest existing site (U when none), per demand point
    dist: FloatArray  # dem x candidates minutes (inf: no pair)
    reach: BoolArray  # dem x candidates within the milestone threshold
    base_reach: BoolArray  # dem reached by an existing site within the milestone threshold
    cand_county: IntArray  # candidate -> position in s.county_ids (-1: none)
    fixed_counties: frozenset[int]
    sizes: tuple[int, ...]  # K_t: open new sites by each year
    _short: dict[tuple[int, tuple[int, ...]], float] = field(default_factory=dict)

    @classmethod
    def of(cls, s: Setup, shortfall_cap: float) -> CoverProbe | None:
        """Set up the probes, or ``None`` when they do not apply (see the module notes)."""
        p = s.prep
        dem = np.flatnonzero(p.weight > 0)
        if (
            s.capacitated
            or s.kind != "p_center"
            or s.cap_total_budget is not None
            or any(ph.new_sites is None or ph.budget is not None for ph in s.periods)
            or dem.size * max(s.nc, 1) > 4_000_000
            or s.nc == 0
        ):
            return None
        pos = np.full(p.n, -1, dtype=np.int64)
        pos[dem] = np.arange(dem.size)
        ok = (s.cand_of[p.pj] >= 0) & (pos[p.pi] >= 0)
        dist = np.full((dem.size, s.nc), np.inf)
        dist[pos[p.pi[ok]], s.cand_of[p.pj[ok]]] = p.pt[ok]
        thr = s.milestone_threshold + 1e-9
        fixed_reach = np.zeros(p.n, dtype=bool)
        fx = p.fixed[p.pj] & (p.pt <= thr)
        fixed_reach[p.pi[fx]] = True
        county_pos = {c: k for k, c in enumerate(s.county_ids)}
        cand_county = np.array(
            [county_pos.get(str(c), -1) for c in p.site_county[s.cand]], dtype=np.int64
        )
        fixed_counties = frozenset(
            county_pos[str(c)] for c in p.site_county[p.fixed] if str(c) in county_pos
        )
        n_fixed = int(p.fixed.sum())
        cap_new = math.inf if s.cap_total_sites is None else s.cap_total_sites - n_fixed
        total = 0
        sizes = []
        for ph in s.periods:
            total += int(ph.new_sites or 0)
            sizes.append(int(min(total, cap_new, s.nc)))
        if not sizes or sizes[-1] == 0:
            return None
        return cls(
            s=s,
            shortfall_cap=shortfall_cap,
            dem=dem,
            base=nearest_minutes(s, p.fixed)[dem],
            dist=dist,
            reach=dist <= thr,
            base_reach=fixed_reach[dem],
            cand_county=cand_county,
            fixed_counties=fixed_counties,
            sizes=tuple(sizes),
        )

    def year_shortfall(self, t: int, sites: tuple[int, ...]) -> float:
        """Shortfall of year ``t`` with the candidates ``sites`` open (as ``shortfall_of``)."""
        key = (t, sites)
        got = self._short.get(key)
        if got is not None:
            return got
        s = self.s
        ph = s.periods[t]
        w = s.prep.weight[self.dem]
        total_w = float(s.prep.weight.sum())
        short = 0.0
        if ph.county_share_target > 0 and s.county_ids:
            has = set(self.fixed_counties)
            has.update(int(c) for c in self.cand_county[list(sites)] if c >= 0)
            need = s.county_need(ph.county_share_target)
            short += max(need - len(has), 0) / len(s.county_ids)
        if ph.patient_share_target > 0 and total_w > 0:
            reached = self.base_reach.copy()
            if sites:
                reached |= self.reach[:, list(sites)].any(axis=1)
            covered = float(w[reached].sum())
            short += max(ph.patient_share_target * total_w - covered, 0.0) / total_w
        self._short[key] = short
        return short

    def least_shortfall(self, last: tuple[int, ...]) -> tuple[float, list[tuple[int, ...]]]:
        """Least shortfall over the orders of ``last`` into years, and the sets of one."""
        best: dict[tuple[int, ...], tuple[float, list[tuple[int, ...]]]] = {(): (0.0, [])}
        prev_size = 0
        for t, size in enumerate(self.sizes):
            step: dict[tuple[int, ...], tuple[float, list[tuple[int, ...]]]] = {}
            for a in itertools.combinations(last, size):
                inner = (
                    [best[a]]
                    if size == prev_size
                    else [best[b] for b in itertools.combinations(a, prev_size) if b in best]
                )
                if not inner:
                    continue
                g, chain = min(inner, key=lambda v: v[0])
                step[a] = (g + self.year_shortfall(t, a), [*chain, a])
            best, prev_size = step, size
        return best[tuple(last)]

    def radii(self, covers: IntArray) -> FloatArray:
        """Last-year radius of each cover (rows of candidate positions)."""
        out = np.empty(covers.shape[0])
        big_u = self.s.unserved_penalty_min
        chunk = max(1, 2_000_000 // max(self.dem.size * covers.shape[1], 1))
        for a in range(0, covers.shape[0], chunk):
            part = self.dist[:, covers[a : a + chunk]].min(axis=2)
            near = np.minimum(np.minimum(part, self.base[:, None]), big_u)
            out[a : a + chunk] = near.max(axis=0) if near.shape[0] else 0.0
        return out

    def probe(self, r: float, deadline: float) -> tuple[bool | None, BoolArray | None, float]:
        """Answer whether a plan within the cap has a last-year radius of at most ``r``.

        ``(True, plan, radius)``: the plan has the least radius of all such plans;
        ``(False, None, r)``: none has; ``(None, None, r)``: not decided in time.
        """
        covers = self.covers_at(r, deadline)
        if covers is None or covers.shape[0] == 0:
            return (None if covers is None else False), None, r
        rad = self.radii(covers)
        order = np.argsort(rad, kind="stable")
        idx = -1
        for a in range(0, order.size, CHUNK):
            if time.perf_counter() > deadline:
                return None, None, r
            part = order[a : a + CHUNK]
            ok = np.flatnonzero(
                self.least_shortfalls(covers[part]) <= self.shortfall_cap + SHORT_TOL
            )
            if ok.size:
                idx = int(part[ok[0]])
                break
        if idx < 0:
            return False, None, r
        short, chain = self.least_shortfall(tuple(int(v) for v in covers[idx]))
        y = np.zeros((self.s.n_periods, self.s.nc), dtype=bool)
        for t, sites in enumerate(chain):
            y[t, list(sites)] = True
        values = true_values(self.s, y)
        if (
            short <= self.shortfall_cap + SHORT_TOL
            and values is not None
            and shortfall_of(self.s, y) <= self.shortfall_cap
            and values[-1] <= float(rad[idx]) + 1e-9
        ):
            return True, y, float(values[-1])
        return None, None, r  # the probe's figures and the model's differ: undecided

    def covers_at(self, r: float, deadline: float) -> IntArray | None:
        """Every last-year set meeting radius ``r`` (rows; ``None``: too many or too late)."""
        rows = self.dist[self.base > r + 1e-9] <= r + 1e-9
        if rows.shape[0] and not rows.any(axis=1).all():
            return np.zeros((0, self.sizes[-1]), dtype=np.int64)  # a point out of reach
        rows = np.unique(rows, axis=0)
        if rows.shape[0] > 4 * MAX_ROWS:  # the reduction alone would take too long
            return None
        rows = reduce_rows(rows)
        if rows.shape[0] > MAX_ROWS:
            return None
        leaves = enumerate_covers(rows, self.sizes[-1], deadline=deadline)
        return None if leaves is None else self._padded(leaves, self.sizes[-1])

    def least_shortfalls(self, covers: IntArray) -> FloatArray:
        """:meth:`least_shortfall` of many last-year sets at once (rows of ``covers``).

        The counties alone give a lower bound first (patients add to it); the sets it puts
        above the cap keep that bound (they are out either way), the others get the full sum.
        """
        out = self._least(covers, patients=False)
        left = np.flatnonzero(out <= self.shortfall_cap + SHORT_TOL)
        if left.size:
            out[left] = self._least(covers[left], patients=True)
        return out

    def _least(self, covers: IntArray, *, patients: bool) -> FloatArray:
        n, k = covers.shape
        g = np.zeros((n, 1))
        prev: list[tuple[int, ...]] = [()]
        for t, size in enumerate(self.sizes):
            pos = list(itertools.combinations(range(k), size))
            index = {c: i for i, c in enumerate(prev)}
            sub = np.array(
                [[index[b] for b in itertools.combinations(c, len(prev[0]))] for c in pos],
                dtype=np.int64,
            )
            cols = np.array(pos, dtype=np.int64).reshape(len(pos), size)
            g = g[:, sub].min(axis=2)
            live = g <= self.shortfall_cap + SHORT_TOL  # the others are out already
            f = np.zeros_like(g)
            f[live] = self.year_shortfalls(t, covers[:, cols][live], patients=patients)
            g = g + f
            prev = pos
        return g[:, 0]

    def year_shortfalls(self, t: int, sets: IntArray, *, patients: bool = True) -> FloatArray:
        """:meth:`year_shortfall` of every set in ``sets`` (``n x size``).

        ``patients=False``: the county part alone.
        """
        s = self.s
        ph = s.periods[t]
        n_sets, size = sets.shape
        flat = sets
        out = np.zeros(n_sets)
        total_w = float(s.prep.weight.sum())
        if ph.county_share_target > 0 and s.county_ids:
            n_c = len(s.county_ids)
            has = np.zeros((n_sets, n_c + 1), dtype=bool)
            has[:, list(self.fixed_counties)] = True
            cc = self.cand_county[flat]
            has[np.arange(n_sets)[:, None], np.where(cc >= 0, cc, n_c)] = True
            need = s.county_need(ph.county_share_target)
            out += np.maximum(need - has[:, :n_c].sum(axis=1), 0) / n_c
        if patients and ph.patient_share_target > 0 and total_w > 0:
            uniq, inv = np.unique(flat, axis=0, return_inverse=True)
            w = s.prep.weight[self.dem]
            covered = np.empty(uniq.shape[0])
            chunk = max(1, 4_000_000 // max(self.dem.size, 1))
            for a in range(0, uniq.shape[0], chunk):
                reached = np.repeat(self.base_reach[:, None], min(chunk, uniq.shape[0] - a), axis=1)
                for col in range(size):
                    reached |= self.reach[:, uniq[a : a + chunk, col]]
                covered[a : a + chunk] = w @ reached
            short = np.maximum(ph.patient_share_target * total_w - covered, 0.0) / total_w
            out += short[np.asarray(inv).reshape(-1)]
        return out

    def _padded(self, leaves: list[tuple[int, ...]], k: int) -> IntArray | None:
        """Every set of ``k`` candidates containing a leaf (``None``: more than MAX_COVERS)."""
        full = [lf for lf in leaves if len(lf) == k]
        short = [lf for lf in leaves if len(lf) < k]
        n_cand = self.s.nc
        extra = sum(math.comb(n_cand - len(lf), k - len(lf)) for lf in short)
        if len(full) + extra > MAX_COVERS:
            return None
        sets = {tuple(sorted(lf)) for lf in full}
        for lf in short:
            rest = [j for j in range(n_cand) if j not in lf]
            for more in itertools.combinations(rest, k - len(lf)):
                sets.add(tuple(sorted((*lf, *more))))
        if not sets:
            return np.zeros((0, k), dtype=np.int64)
        return np.array(sorted(sets), dtype=np.int64).reshape(len(sets), k)
