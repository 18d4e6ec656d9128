"""Headline figures of plans side by side: what may be shown of each, and of their differences.

The compare page shows each plan's headline figures and their differences from a baseline.
A figure shown suppressed (``"<5"``, ``"≥8"``, or a share left out) must not come back through
a difference, and a difference in patients smaller than the privacy threshold is itself a
small count: both rules are applied here, once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from planning.results.privacy import hidden_kpis
from planning.results.tables import ResultTables

KPI_FIGURES: dict[str, str] = {
    "share_within": "share_within",
    "counties_with_site": "counties_with_site",
    "mean_travel_min": "mean_travel_min",
    "max_travel_min": "max_travel_min_observed",
    "n_sites": "n_sites",
    "patients_within": "patients_within",
    "patients_total": "patients_total",
}
"""Headline figure -> its key in :attr:`ResultTables.kpis`."""

PATIENT_FIGURES = frozenset({"patients_within", "patients_total"})


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def public_kpi_numbers(tables: ResultTables, *, threshold: int) -> dict[str, float]:
    """Headline figures as numbers, keyed as :data:`KPI_FIGURES`, for differences.

    A figure that is shown suppressed (see :func:`planning.results.hidden_kpis`) is NaN, so
    a difference never gives it back.
    """
    hidden = hidden_kpis(tables, threshold=threshold)
    k = tables.kpis
    return {
        figure: math.nan if figure in hidden else _num(k.get(key))
        for figure, key in KPI_FIGURES.items()
    }


@dataclass(frozen=True)
class KpiDifference:
    """One headline figure of a plan against the baseline's.

    Attributes
    ----------
    delta
        Plan minus baseline; NaN when either figure is not shown.
    below
        For a patient figure whose difference is smaller than the privacy threshold: that
        threshold (the difference shows only as ``"<N"``); else ``None``.
    """

    delta: float
    below: int | None = None


def kpi_differences(
    base: ResultTables, other: ResultTables, *, base_threshold: int, other_threshold: int
) -> dict[str, KpiDifference]:
    """Each headline figure of ``other`` against ``base`` (privacy applied).

    Parameters
    ----------
    base, other
        The baseline plan's tables and the compared plan's.
    base_threshold, other_threshold
        Each plan's privacy threshold; the larger one protects the difference.
    """
    a = public_kpi_numbers(base, threshold=base_threshold)
    b = public_kpi_numbers(other, threshold=other_threshold)
    threshold = max(base_threshold, other_threshold)
    out: dict[str, KpiDifference] = {}
    for figure in KPI_FIGURES:
        delta = b[figure] - a[figure]
        small = figure in PATIENT_FIGURES and 1e-9 <= abs(delta) < threshold
        out[figure] = KpiDifference(delta, threshold if small else None)
    return out
