"""Privacy applied to a trade-off curve: the figures of each step that may be shown.

A curve (:func:`planning.models.trade_off_curve`, with
:func:`~planning.results.tables.curve_travel_figures`) shows for each number of sites (or
budget) the share of patients within reach and the patient-weighted mean travel. The plan at
the same step hides some of these (:func:`~planning.results.privacy.hidden_kpis`), so the
curve must too, or it would give them back. The curve has no plan mask of its own; it uses
the scenario's input mask (:func:`~planning.results.privacy.scenario_input_mask`), which every
plan of the scenario keeps, and withholds conservatively.
"""

from __future__ import annotations

import pandas as pd

from planning.results.privacy import SHARED_PREFIXES, scenario_input_mask
from planning.results.tables import COUNTED

WITHHELD = "figures_withheld"
"""Column of :func:`public_curve`: ``True`` on a step whose figures were withheld."""

_WEIGHTED = ("mean_travel_min", "objective")
"""Sums of patients x minutes (p-median's objective; MCLP's is a count): withheld when a
counted cell's count is hidden."""
_COUNTS = (
    "coverage_share",
    "covered_patients",
    "patients_beyond_cutoff",
    "share_beyond_cutoff",
    "objective",
)
"""Counts and shares of counts: withheld when any counted cell's or county's count is
hidden (a share x the shown total, or covered counts between steps, give a hidden one back)."""


def public_curve(
    curve: pd.DataFrame,
    *,
    counties: pd.DataFrame,
    demand: pd.DataFrame | None,
    threshold: int,
) -> pd.DataFrame:
    """Return a trade-off curve as it may be shown: withheld figures are NaN.

    Parameters
    ----------
    curve
        From :func:`planning.models.trade_off_curve` (optionally restated by
        :func:`~planning.results.tables.curve_travel_figures`).
    counties
        Index ``county_id``: ``patients`` (and ``prefecture``), as for
        :func:`~planning.results.privacy.scenario_input_mask`.
    demand
        The prepared demand cells (``county``, ``weight``; flag
        :data:`~planning.results.tables.COUNTED` for a table of places).
    threshold
        The scenario's ``privacy_threshold``.

    Returns
    -------
    curve
        A copy. When a counted demand cell's count is hidden (a table of places with small
        counts), ``mean_travel_min`` and ``objective`` are NaN on every step (sums of
        patients x minutes give a hidden count back, as for the plan); when any counted
        cell's or county's count is hidden, ``coverage_share``, ``covered_patients``,
        ``patients_beyond_cutoff`` and ``share_beyond_cutoff`` are NaN too. Column
        :data:`WITHHELD` is ``True`` on steps with a figure withheld. Census plans (estimated
        cells, public arithmetic) hide no cell: their curve is unchanged but for that column
        (all ``False``).
    """
    out = curve.copy()
    mask = scenario_input_mask(counties, threshold=threshold, demand=demand)
    counted = demand is not None and bool(demand.attrs.get(COUNTED))
    cell_hidden = counted and any(k.startswith("cell:") for k in mask.hidden)
    count_hidden = counted and any(k.startswith(SHARED_PREFIXES) for k in mask.hidden)
    withheld = [c for c in _WEIGHTED if cell_hidden] + [c for c in _COUNTS if count_hidden]
    withheld = [c for c in dict.fromkeys(withheld) if c in out.columns]
    before = pd.Series(data=False, index=out.index)
    if withheld:
        before = out[withheld].notna().any(axis=1)
    for column in withheld:
        out[column] = float("nan")
    out[WITHHELD] = before.astype(bool)
    return out
