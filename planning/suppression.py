"""Small-count suppression: the rule deciding which patient counts an output may show.

Raw counts stay raw in :class:`ResultTables`; only the
presentation helpers here (:func:`count_mask`, :func:`public_counties`, :func:`public_sites`,
:func:`public_kpis`, ...) coarsen them, and every output (app, exports, maps, command line,
rollout) goes through them:

1. *Primary*: a patient count ``0 < n < threshold`` (the scenario's ``privacy_threshold``) is
   shown as ``"<N"``; zero stays ``"0"``.
2. *Complementary*: counts shown together that add up (county totals to the region total,
   county within-reach counts to the region's, within-reach plus beyond-reach to a total,
   the patients beyond the cut-off, per-site loads to the patients served in the region or,
   where they happen to add up exactly, to a county's count) must not give a hidden count
   back by subtraction. Each such set is a :class:`CountRelation` ``total = sum(parts) +
   rest``, where ``rest`` is what is left unshown (e.g. patients beyond reach: 13 shown, 10
   within leaves 3). :func:`protect_counts` finds every count an observer can compute from
   the shown ones (repeatedly solving any relation with one unknown); while that gives back
   a hidden count (or a ``rest`` ``0 < rest < threshold``), it hides one more shown count
   of that relation: the smallest non-zero part (the total only when no part is left).
   When every count left is kept exact by another output (``locked``), it escalates: those
   kept counts (a county's total) and the ones giving them back (the region's sum) may be
   hidden after all, never leaving a hidden count recoverable.
   Such a count is shown as a lower bound, ``"≥L"``, with ``L`` what an observer could work
   out anyway (the total minus the shown parts minus ``threshold`` for each hidden part below
   the threshold, and at least ``threshold``): 13 patients with 10 within reach shows
   ``"≥8"`` within reach; a region of 283 with counties 100, 80, 60, 40 and 3 shows
   ``"<5"`` and ``"≥38"`` for the last two.
3. A share (within-reach share, site load) or a target mark computed from a hidden count is
   left out (NaN / ``None``), since share x the shown total gives the count back.

Ordinary plans (every count >= threshold, every remainder 0 or >= threshold) are shown
exactly. Demand cells and assignment lines (grid-level figures) follow rule 1 only.
"""

from __future__ import annotations

import copy
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from planning.errors import PlanningError
from planning.i18n import Joined, Msg

E = TypeVar("E", bound=PlanningError)

logger = logging.getLogger(__name__)


def _hidden_or_none(hidden: pd.Series | None, index: pd.Index) -> pd.Series:
    if hidden is None:
        return pd.Series(None, index=index, dtype=object)
    return hidden.reindex(index).astype(object)


def suppress_small(
    values: pd.Series, *, threshold: int, hidden: pd.Series | None = None
) -> pd.Series:
    """Return counts as text with any value below ``threshold`` (and above 0) shown as "<N".

    Used for every patient count that leaves the library (tooltips, exports); zero stays "0".
    Values are rounded to whole patients. ``hidden`` (same index; text or ``None``, e.g. from
    :meth:`CountMask.counties`) replaces the counts that complementary suppression hides.
    """
    rounded = values.astype(float).round().to_numpy()
    text = pd.Series(  # whole patients; Python ints, so no count is too large to show
        [str(int(v)) if np.isfinite(v) else "<NA>" if np.isnan(v) else str(v) for v in rounded],
        index=values.index,
        dtype=object,
    )
    small = (values > 0) & (values < threshold)
    out = text.where(~small, f"<{threshold}").astype(object)
    extra = _hidden_or_none(hidden, values.index)
    return out.where(extra.isna(), extra)


def hide_revealing_shares(
    shares: pd.Series,
    *counts: pd.Series,
    threshold: int,
    hidden: Sequence[pd.Series | None] = (),
) -> pd.Series:
    """Return ``shares`` with ``NaN`` wherever one of ``counts`` is suppressed.

    A share next to a shown count gives a suppressed one back (``share_within x patients =
    patients_within``), so a share is left out when any count it relates (same index) is
    below ``threshold`` and above 0, or hidden by complementary suppression (``hidden``:
    series of text or ``None``, see :class:`CountMask`).

    Examples
    --------
    >>> s = hide_revealing_shares(
    ...     pd.Series([0.001, 0.5]), pd.Series([2000.0, 60.0]), pd.Series([2.0, 30.0]), threshold=5
    ... )
    >>> s.isna().tolist()
    [True, False]
    """
    small = pd.Series(data=False, index=shares.index)
    for count in counts:
        c = count.reindex(shares.index).astype(float)
        small |= (c > 0) & (c < threshold)
    for h in hidden:
        small |= _hidden_or_none(h, shares.index).notna()
    return shares.astype(float).mask(small)


def _people_text(text: str) -> str:
    """``"≥1230"`` -> ``"≥1,230"`` (thousands separators for people); other text unchanged."""
    if text.startswith("≥") and text[1:].isdigit():
        return f"≥{int(text[1:]):,}"
    return text


def count_text(values: pd.Series, *, threshold: int, hidden: pd.Series | None = None) -> pd.Series:
    """Return patient counts as text for people: ``"<N"`` when suppressed, else ``"1,234"``.

    NaN gives ``""``. The same rule as :func:`suppress_small`, with thousands separators;
    ``hidden`` (text or ``None``) replaces counts hidden by complementary suppression.
    """
    v = values.astype(float)
    small = (v > 0) & (v < threshold)
    extra = _hidden_or_none(hidden, values.index)
    text = [
        _people_text(str(h))
        if h is not None and not (isinstance(h, float) and math.isnan(h))
        else ""
        if np.isnan(x)
        else f"<{threshold}"
        if s
        else f"{round(x):,}"
        for x, s, h in zip(v.to_numpy(), small.to_numpy(), extra.to_numpy(), strict=True)
    ]
    return pd.Series(text, index=values.index, dtype=object)


# ---------------------------------------------------------------- counts in messages
COUNT_PARAMS = frozenset({"patients", "patients_total", "patients_within", "n_patients"})
"""Message parameters that are patient counts (shown by the rule wherever they appear)."""


@dataclass(frozen=True)
class ShownCount:
    """A patient count in a message, formatted as the rule shows it.

    ``format(ShownCount(2.3, 5), ",.0f")`` is ``"<5"`` (so is a count that rounds to 0);
    a count of 0 or at least the threshold keeps its format: ``"1,234"``. Catalog templates
    keep their format specs (``{patients:,.0f}``).
    """

    value: float
    threshold: int

    def __format__(self, spec: str) -> str:
        """Return ``"<N"`` for ``0 < value < N``, else the value in ``spec`` (``,.0f``)."""
        if 0 < self.value < self.threshold:
            return f"<{self.threshold}"
        return format(self.value, spec or ",.0f")

    def __str__(self) -> str:
        """Return the count as shown: ``"<5"`` or ``"1,234"``."""
        return format(self, "")


@dataclass(frozen=True)
class Withheld:
    """A figure left out because it would give a hidden count back, in a numeric template slot.

    ``format(Withheld(), ".1f")`` is ``"–"`` whatever the format spec (a mean travel time or
    p-median's objective, patients x minutes, when an assignment line's count is hidden).
    """

    text: str = "–"

    def __format__(self, spec: str) -> str:
        """Return the text shown instead of the figure, ignoring ``spec``."""
        return self.text

    def __str__(self) -> str:
        """Return the text shown instead of the figure."""
        return self.text


def _bound_text(bound: float, spec: str, *, up: bool) -> str:
    """``bound`` in ``spec`` rounded outwards (up for an upper bound) at the shown digits."""
    match = re.fullmatch(r".*\.(\d+)%", spec)
    if match is None:
        return format(bound, spec)
    factor = 10.0 ** (int(match.group(1)) + 2)
    rounded = (math.ceil if up else math.floor)(bound * factor - (1e-9 if up else -1e-9)) / factor
    return format(rounded, spec)


@dataclass(frozen=True)
class ShownShare:
    """A share of a shown count in a message (``share = patients_within / patients_total``).

    With the total shown elsewhere (a county's patients), the share gives back the counts it
    splits the total into: the patients within (``share x total``) and the rest (``total -
    within``). It is shown as a number only when neither is hidden by the rule (``0 < n <
    threshold``); otherwise as the bound that a ``"<N"`` count allows anyway: ``"<0.5%"``
    when few are within (``N / total``), ``">99.5%"`` when few are not (``1 - N / total``).

    Examples
    --------
    >>> f"{ShownShare(0.002, 1000.0, 2.0, 5):.1%}", f"{ShownShare(0.5, 100.0, 50.0, 5):.1%}"
    ('<0.5%', '50.0%')
    >>> f"{ShownShare(0.998, 1000.0, 998.0, 5):.1%}"
    '>99.5%'
    """

    value: float
    patients_total: float
    patients_within: float
    threshold: int

    def __format__(self, spec: str) -> str:
        """Return the share in ``spec`` (``.1%``), or a bound when it would give a count back."""
        total, within, thr = self.patients_total, self.patients_within, self.threshold
        beyond = total - within
        if within <= 0:  # none within: the rest is the total, which shows as it shows
            return format(self.value, spec)
        if 0 < within < thr:
            return "<" + _bound_text(min(1.0, thr / total), spec, up=True)
        if 0 < beyond < thr:
            return ">" + _bound_text(max(0.0, 1.0 - thr / total), spec, up=False)
        return format(self.value, spec)

    def __str__(self) -> str:
        """Return the share as shown, in percent with one decimal."""
        return format(self, ".1%")


SHARE_PARAMS = ("share", "patients_total", "patients_within")
"""A message's share of patients with the two counts it relates (see :class:`ShownShare`)."""


def protect_params(params: Mapping[str, Any], *, threshold: int) -> dict[str, Any]:
    """Return message parameters with every patient count (:data:`COUNT_PARAMS`) protected.

    Counts inside nested messages (a list of :class:`~planning.i18n.Msg`, a
    :class:`~planning.i18n.Joined`) are protected too. A ``share`` given with the counts it
    relates (``patients_total``, ``patients_within``) is shown as :class:`ShownShare`.
    """
    out = {k: _protect_value(k, v, threshold) for k, v in params.items()}
    values = [params.get(k) for k in SHARE_PARAMS]
    if all(_is_number(v) for v in values):
        share, total, within = (float(v) for v in values)  # type: ignore[arg-type]
        out["share"] = ShownShare(share, total, within, threshold)
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _protect_value(name: str, value: Any, threshold: int) -> Any:
    if isinstance(value, Msg):
        return _protect_msg(value, threshold)
    if isinstance(value, list | tuple):
        return type(value)(_protect_value(name, v, threshold) for v in value)
    if name in COUNT_PARAMS and isinstance(value, int | float) and not isinstance(value, bool):
        return ShownCount(float(value), threshold)
    return value


def _protect_msg(msg: Msg, threshold: int) -> Msg:
    if isinstance(msg, Joined):
        items = msg.params["items"]
        return Joined([_protect_value("", v, threshold) for v in items], sep=msg.key)
    return Msg(msg.key, **protect_params(msg.params, threshold=threshold))


def protect_error(err: E, *, threshold: int) -> E:
    """Return ``err`` with its patient counts shown by the rule (the same error otherwise).

    Every message the library raises after a solve passes here, so "2 patients in 连江县"
    reads "<5 patients in 连江县" (and a count that rounds to 0 does not read 0).
    """
    params = protect_params(err.params, threshold=threshold)
    if params == err.params:
        return err
    clone = copy.copy(err)
    clone.params = params
    return clone


# ---------------------------------------------------------------- complementary suppression
@dataclass(frozen=True)
class CountRelation:
    """Shown counts that add up: ``total = sum(parts) + rest``.

    ``rest`` is not given: it is ``total - sum(parts)``, the part left unshown (e.g. patients
    beyond reach). With ``rest=False`` the parts add up to the total by construction (a
    difference below half a patient is rounding); with ``rest=True`` an unshown remainder
    exists even when it happens to be 0, so a reader knows it only by subtraction.
    """

    total: str
    parts: tuple[str, ...]
    rest: bool = False


def _secondary_bound(
    key: str,
    vals: Mapping[str, float],
    rels: Sequence[tuple[str, tuple[str, ...], str | None]],
    *,
    hidden: set[str],
    primary: set[str],
    threshold: int,
) -> str:
    """Text of a count hidden to protect another: ``"≥L"`` (``"<N"`` if it is itself small)."""
    value = vals[key]
    if value < threshold:
        return f"<{threshold}"
    bound = float(threshold)
    for total, parts, rest in rels:
        if key == total:
            shown = [vals[p] for p in parts if p not in hidden]
            bound = max(bound, math.floor(sum(shown) + 1e-9))
            continue
        if key not in parts or total in hidden:
            continue
        others = [p for p in parts if p != key] + ([rest] if rest else [])
        known, n_small, bounded = 0.0, 0, True
        for o in others:
            if o not in hidden:
                if o == rest:  # an unshown remainder that may be large: no bound from here
                    bounded = False
                    break
                known += vals[o]
            elif o in primary:
                n_small += 1
            else:
                bounded = False
                break
        if bounded:
            bound = max(bound, math.floor(vals[total] - known - threshold * n_small + 1e-9))
    bound = min(bound, math.floor(value + 1e-9))
    return f"≥{int(bound)}"


def protect_counts(
    counts: Mapping[str, float],
    relations: Sequence[CountRelation],
    *,
    threshold: int,
    fixed: Mapping[str, str] | None = None,
    locked: Iterable[str] = (),
    cover_small: bool = False,
) -> dict[str, str]:
    """Return the text to show instead of each count that may not be shown exactly.

    Parameters
    ----------
    counts
        Every count shown together (patients; NaN counts are left out), keyed by a name.
    relations
        The ways they add up (see :class:`CountRelation`); a relation naming a count not in
        ``counts`` is ignored.
    threshold
        The scenario's ``privacy_threshold``.
    fixed
        Counts already hidden by another output, with the text shown there (``"≥L"``, say):
        they stay hidden here with that text, and are protected like the others (a roll-up
        of plans keeps hidden what each plan's own files hide).
    locked
        Counts another output of the same scenario shows exactly (a county's patients, a
        demand cell): they are hidden here only when nothing else can protect a count, so
        every output shows them alike.
    cover_small
        Also hide, beside the ``"<N"`` parts of a shown total, one part of at least ``N``, so
        that what the total leaves for them is never made of small counts alone (the bounds
        1..N-1 of each would narrow it; the region's counties and a county's cells, which
        every output of a scenario shows, are protected so). Whole counts only (a table
        of patients): bounds never pin an estimate's fractions, so a region of small
        estimated counties still shows its total.

    Returns
    -------
    hidden
        ``{name: "<N"}`` for counts ``0 < n < threshold`` and ``{name: "≥L"}`` for counts
        hidden so that no hidden count (nor a remainder ``0 < rest < threshold``) can be
        worked out from the shown ones: not by a chain of subtractions, not by any sum and
        difference of the relations (linear algebra), and, for whole counts, not by the
        bounds ``1..N-1`` of the ``"<N"`` counts that make up a shown total (two cells of
        ``"<5"`` in a total of 2 are 1 and 1). Counts not in it are shown exactly.

    Examples
    --------
    >>> protect_counts(
    ...     {"total": 13.0, "within": 10.0}, [CountRelation("total", ("within",))], threshold=5
    ... )
    {'within': '≥8'}
    >>> protect_counts(
    ...     {"total": 20.0, "within": 3.0}, [CountRelation("total", ("within",))], threshold=5
    ... )
    {'within': '<5'}
    >>> protect_counts(
    ...     {"a": 40.0, "b": 60.0, "all": 100.0},
    ...     [CountRelation("all", ("a", "b"))],
    ...     threshold=5,
    ...     fixed={"a": "≥30"},
    ... )
    {'a': '≥30', 'b': '≥5'}
    """
    vals = {k: float(v) for k, v in counts.items() if not math.isnan(float(v))}
    shown = set(vals)
    primary = {k for k, v in vals.items() if 0 < v < threshold}
    rels: list[tuple[str, tuple[str, ...], str | None]] = []
    for i, rel in enumerate(relations):
        members = (rel.total, *rel.parts)
        if any(m not in vals for m in members) or len(set(members)) < len(members):
            continue
        rest_raw = vals[rel.total] - sum(vals[p] for p in rel.parts)
        if rest_raw < -0.5:  # the parts exceed the total: they do not add up to it
            continue
        rest_key: str | None = None
        if rel.rest or rest_raw >= 0.5:
            rest_key = f"\0rest{i}"
            seen = round(vals[rel.total]) - sum(round(vals[p]) for p in rel.parts)
            vals[rest_key] = max(rest_raw, 0.0)
            if seen >= 1 and (rest_raw < threshold or seen < threshold):
                primary.add(rest_key)
        rels.append((rel.total, rel.parts, rest_key))
    forced = {k: v for k, v in (fixed or {}).items() if k in shown and k not in primary}
    hidden = set(primary) | set(forced)
    keep = (set(locked) & shown) - hidden
    whole = threshold >= 2 and all(abs(v - round(v)) < 1e-9 for v in vals.values())
    index = _Relations(rels, vals)
    # what the counts kept by other outputs (and the zeros) give back is known whatever this
    # output hides: not protectable here, and no reason to hide more
    settled = index.settled(keep | {k for k in shown - hidden if vals[k] < 0.5}) if keep else set()
    secondary: list[str] = []
    for _ in range(2 * len(vals) + 2):  # each round hides a count or unlocks some
        known, how = index.closure(shown - hidden)
        leaked = [k for k in how if k in hidden and k not in settled]  # the first: others follow
        starts = [how[leaked[0]]] if leaked else index.algebra_leak(known, hidden - settled)
        if starts is None and whole:
            pin = index.pinned(known, hidden, primary, vals, threshold=threshold)
            starts = None if pin is None else [pin]
        if starts is None and whole:
            low = {k: float(threshold) for k in hidden - primary}  # "≥L": at least L
            for key in secondary:
                text = _secondary_bound(
                    key, vals, rels, hidden=hidden, primary=primary, threshold=threshold
                )
                low[key] = float(text[1:]) if text.startswith("≥") else 1.0
            starts = index.interval_leak(known, hidden - settled, primary, low, threshold=threshold)
        if starts is None and cover_small and whole:  # bounds pin whole counts only
            starts = index.small_only(known, hidden - settled, primary)
        if starts is None:
            break
        pick = _pick_secondary(
            starts,
            rels,
            how,
            vals,
            shown=shown,
            hidden=hidden,
            keep=keep,
            index=index,
            useless=settled - keep,  # a count the kept ones give back is no use hidden
        )
        if pick is None:
            # every count that could protect it is kept exact by another output: escalate,
            # the leaking relations' kept counts (a county's total, the region's) may be hidden
            # (and the kept counts that would give those back: a county's total less its
            # kept cells, the region's total less the other counties)
            unlock = keep & {m for j in starts for m in index.members[j]}
            unlock |= keep & {m for u in unlock for j in index.of[u] for m in index.members[j]}
            if not unlock:  # nothing shown is left in them; never loop forever
                logger.warning("No count left to protect a hidden count in %s", rels[starts[0]][0])
                break
            keep -= unlock
            zeros = {k for k in shown - hidden if vals[k] < 0.5}
            settled = index.settled(keep | zeros) if keep else set()
            continue
        hidden.add(pick)
        secondary.append(pick)
    out = dict.fromkeys(sorted(primary & shown), f"<{threshold}")
    out.update(forced)
    for key in secondary:
        out[key] = _secondary_bound(
            key, vals, rels, hidden=hidden, primary=primary, threshold=threshold
        )
    return out


class _Relations:
    """The relations of :func:`protect_counts`, indexed by member, and what they give away."""

    def __init__(
        self,
        rels: Sequence[tuple[str, tuple[str, ...], str | None]],
        values: Mapping[str, float] | None = None,
    ) -> None:
        self.rels = rels
        self.values = values or {}
        self.members = [(t, *p, *([r] if r else [])) for t, p, r in rels]
        self.of: dict[str, list[int]] = {}
        for j, group in enumerate(self.members):
            for m in group:
                self.of.setdefault(m, []).append(j)

    def closure(self, start: set[str]) -> tuple[set[str], dict[str, int]]:
        """Everything worked out from ``start`` by relations with one unknown, and by which."""
        known = set(start)
        how: dict[str, int] = {}
        missing = [sum(m not in known for m in group) for group in self.members]
        queue = [j for j, n in enumerate(missing) if n == 1]
        while queue:
            j = queue.pop()
            if missing[j] != 1:
                continue
            u = next(m for m in self.members[j] if m not in known)
            known.add(u)
            how[u] = j
            for k in self.of[u]:
                missing[k] -= 1
                if missing[k] == 1:
                    queue.append(k)
        return known, how

    def _components(self, known: set[str]) -> list[list[int]]:
        """Relations with unknowns, grouped into parts that share no unknown."""
        rows = [j for j, group in enumerate(self.members) if any(m not in known for m in group)]
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for j in rows:
            unknown = [m for m in self.members[j] if m not in known]
            for m in unknown[1:]:
                parent[find(m)] = find(unknown[0])
        parts: dict[str, list[int]] = {}
        for j in rows:
            first = next(m for m in self.members[j] if m not in known)
            parts.setdefault(find(first), []).append(j)
        return list(parts.values())

    def _determined(
        self, rows: list[int], known: set[str], wanted: set[str]
    ) -> tuple[str, list[int]] | None:
        """Return an unknown of ``wanted`` that ``rows`` determine, and the relations used."""
        cols = sorted({m for j in rows for m in self.members[j] if m not in known})
        if not any(c in wanted for c in cols):
            return None
        where = {c: i for i, c in enumerate(cols)}
        matrix = np.zeros((len(rows), len(cols)))
        for r, j in enumerate(rows):
            total, parts, rest = self.rels[j]
            if total in where:
                matrix[r, where[total]] += 1.0
            for m in (*parts, *([rest] if rest else [])):
                if m in where:
                    matrix[r, where[m]] -= 1.0
        _, sing, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((sing > 1e-9 * max(1.0, float(sing[0]) if len(sing) else 1.0)).sum())
        if rank == 0:
            return None
        length = (vt[:rank] ** 2).sum(axis=0)
        for c, size in zip(cols, length, strict=True):
            if size > 1 - 1e-6 and c in wanted:
                unit = np.zeros(len(cols))
                unit[where[c]] = 1.0
                used = np.linalg.lstsq(matrix.T, unit, rcond=None)[0]  # the sum giving c
                return c, [rows[r] for r in np.flatnonzero(np.abs(used) > 1e-9)]
        return None

    def settled(self, known: set[str]) -> set[str]:
        """Return every count that ``known`` gives back (chains of relations and their sums)."""
        closed, _ = self.closure(known)
        out = set(closed)
        for rows in self._components(closed):
            cols = sorted({m for j in rows for m in self.members[j] if m not in closed})
            where = {c: i for i, c in enumerate(cols)}
            matrix = np.zeros((len(rows), len(cols)))
            for r, j in enumerate(rows):
                total, parts, rest = self.rels[j]
                if total in where:
                    matrix[r, where[total]] += 1.0
                for m in (*parts, *([rest] if rest else [])):
                    if m in where:
                        matrix[r, where[m]] -= 1.0
            _, sing, vt = np.linalg.svd(matrix, full_matrices=False)
            rank = int((sing > 1e-9 * max(1.0, float(sing[0]) if len(sing) else 1.0)).sum())
            length = (vt[:rank] ** 2).sum(axis=0)
            out.update(c for c, size in zip(cols, length, strict=True) if size > 1 - 1e-6)
        return out

    def algebra_leak(self, known: set[str], hidden: set[str]) -> list[int] | None:
        """Return the relations whose sum and difference give a hidden count back, if any.

        The relations left with unknowns form a linear system; an unknown is determined when
        its unit vector lies in the system's row space (its projection on the row space, from
        a singular value decomposition per connected part, has length 1).
        """
        for rows in self._components(known):
            found = self._determined(rows, known, hidden)  # hidden: also a rest 0 < r < N
            if found is not None:
                return found[1]
        return None

    def given_back(self, known: set[str], count: str) -> list[list[int]]:
        """Return the ways ``known`` gives ``count`` back: relations (or sums of them).

        Every single relation with ``count`` as its only unknown; else a chain of them or a
        sum of relations; empty when nothing does.
        """
        direct = [
            [j]
            for j in self.of.get(count, ())
            if all(m in known or m == count for m in self.members[j])
        ]
        if direct:
            return direct
        closed, how = self.closure(known)
        if count in closed:
            return [[how[count]]]
        for rows in self._components(closed):
            if any(count in self.members[j] for j in rows):
                found = self._determined(rows, closed, {count})
                return [] if found is None else [found[1]]
        return []

    def interval_leak(
        self,
        known: set[str],
        hidden: set[str],
        primary: set[str],
        low: Mapping[str, float],
        *,
        threshold: int,
    ) -> list[int] | None:
        """Return relations whose sums, with the bounds shown, fix a ``"<N"`` count (whole counts).

        Each ``"<N"`` count is 1..N-1, a ``"≥L"`` count at least ``L``, any remainder at least 0;
        a hidden small count whose smallest and largest values under the relations (two linear
        programmes) meet at one whole number is given back.
        """
        for rows in self._components(known):
            cols = sorted({m for j in rows for m in self.members[j] if m not in known})
            targets = [c for c in cols if c in hidden and c in primary]
            if not targets or len(cols) > MAX_INTERVAL_COLUMNS:
                continue
            where = {c: i for i, c in enumerate(cols)}
            matrix = np.zeros((len(rows), len(cols)))
            rhs = np.zeros(len(rows))
            for r, j in enumerate(rows):
                total, parts, rest = self.rels[j]
                for m, sign in (
                    (total, 1.0),
                    *((p, -1.0) for p in (*parts, *([rest] if rest else []))),
                ):
                    if m in where:
                        matrix[r, where[m]] += sign
                    else:
                        rhs[r] -= sign * self.values[m]
            bounds = [
                (1.0, threshold - 1.0) if c in primary else (low.get(c, 0.0), None) for c in cols
            ]
            for c in targets:
                goal = np.zeros(len(cols))
                goal[where[c]] = 1.0
                ends = []
                for sign in (1.0, -1.0):
                    res = linprog(sign * goal, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
                    if res.status != 0:
                        break
                    ends.append(sign * res.fun)
                if len(ends) == 2 and math.ceil(ends[0] - 1e-6) >= math.floor(ends[1] + 1e-6):
                    return rows
        return None

    def small_only(self, known: set[str], hidden: set[str], primary: set[str]) -> list[int] | None:
        """Return a shown total whose unknown parts are all hidden ``"<N"`` counts, if any."""
        for j, (total, parts, rest) in enumerate(self.rels):
            if total not in known:
                continue
            unknown = [m for m in (*parts, *([rest] if rest else [])) if m not in known]
            if unknown and all(m in primary and m in hidden for m in unknown):
                return [j]
        return None

    def pinned(
        self,
        known: set[str],
        hidden: set[str],
        primary: set[str],
        vals: Mapping[str, float],
        *,
        threshold: int,
    ) -> int | None:
        """Return a shown total whose unknown parts are all ``"<N"`` and sum to fix each one.

        Whole counts of ``"<N"`` are 1 to N-1; k of them summing to k (or to k(N-1)) are all 1
        (all N-1).
        """
        for j, (total, parts, rest) in enumerate(self.rels):
            if total not in known:
                continue
            unknown = [m for m in (*parts, *([rest] if rest else [])) if m not in known]
            if len(unknown) < 2 or not all(m in primary for m in unknown):
                continue
            if not any(m in hidden for m in unknown):
                continue
            left = sum(vals[m] for m in unknown)
            k = len(unknown)
            if left <= k + 1e-9 or left >= k * (threshold - 1) - 1e-9:
                return j
        return None


MAX_TRIALS = 12
"""Candidates tried (hidden on trial) for each count :func:`protect_counts` adds."""
STUCK = 99
MAX_INTERVAL_COLUMNS = 400
"""Largest part of the relations searched for bounds that fix a count (two LPs a count)."""
"""Score of a candidate that only hiding a kept count would protect."""


def _pick_secondary(
    starts: Sequence[int],
    rels: Sequence[tuple[str, tuple[str, ...], str | None]],
    how: Mapping[str, int],
    vals: Mapping[str, float],
    *,
    shown: set[str],
    hidden: set[str],
    keep: set[str] | None = None,
    index: _Relations | None = None,
    useless: set[str] | None = None,
) -> str | None:
    """Return the shown count to hide next: the smallest non-zero part of the leaking relation.

    ``starts``: the leaking relation (several when a sum of relations leaks); when they have
    no shown count left (their known members were worked out from other relations), the
    relations those came from are searched in turn. Candidates are tried in order (parts
    before the total, smaller first) and the first that stays hidden once hidden is taken;
    one the files would give straight back protects nothing, so it comes after the others,
    and last one that only counts in ``keep`` give back (shown exactly by another output,
    they cannot be hidden in turn). Counts in ``keep`` themselves never are: hidden here and
    exact in another output they protect nothing; nor are counts in ``useless`` (given back
    whatever is hidden).
    """
    locked = keep or set()
    known = shown - hidden

    def score(c: str, extra: frozenset[str] = frozenset(), depth: int = 2) -> int:
        """How hard ``c`` is to keep hidden: 0 it stays hidden; more: counts to hide after it.

        ``STUCK`` when a way back can only be closed by hiding a kept count.
        """
        if index is None:
            return 0
        base = known - extra - {c}
        ways = index.given_back(base, c)
        if not ways:
            return 0
        if index.given_back({m for m in base if m in locked or vals[m] < 0.5}, c):
            return STUCK  # the kept counts alone give it back
        worst = 1
        for way in ways:
            others = {m for j in way for m in index.members[j]} - {c}
            free = sorted(m for m in others if m in base and m not in locked and vals[m] >= 0.5)
            if not free:
                return STUCK
            if depth > 0:
                best_next = min(score(f, extra | {c}, depth - 1) for f in free[:4])
                worst = max(worst, min(STUCK, 1 + best_next))
        return worst

    def best(found: list[tuple[str, bool]]) -> str:
        ordered = sorted(found, key=lambda ct: (ct[1], vals[ct[0]], ct[0]))
        tried = []
        for c, is_total in ordered[:MAX_TRIALS]:
            rank = score(c)
            if rank == 0:
                return c
            tried.append((rank, is_total, vals[c], c))
        return min(tried)[3]

    for avoid in (locked,):  # a kept count, hidden here but exact elsewhere, protects nothing

        def free(c: str, avoid: set[str] = avoid) -> bool:
            return (
                c in shown
                and c not in hidden
                and c not in avoid
                and c not in (useless or ())
                and vals[c] >= 0.5
            )

        first = [
            (c, c == total)
            for total, parts, _ in (rels[j] for j in starts)
            for c in dict.fromkeys((*parts, total))
            if free(c)
        ]
        if first:  # the leaking relations (several when sums of relations leak)
            return best(first)
        queue, seen = list(starts), set(starts)
        while queue:
            total, parts, rest = rels[queue.pop(0)]
            found = [(p, False) for p in parts if free(p)] + (
                [(total, True)] if free(total) else []
            )
            if found:
                return best(found)
            for m in (total, *parts, *([rest] if rest else [])):
                j = how.get(m)
                if j is not None and j not in seen:
                    seen.add(j)
                    queue.append(j)
    return None
