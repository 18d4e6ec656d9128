"""Headline figures of plans side by side: what may be shown of each, and of their differences.

The compare page shows each plan's headline figures and their differences from a baseline.
A figure shown suppressed (``"<5"``, ``"≥8"``, or a share left out) must not come back through
a difference, and a difference in patients smaller than the privacy threshold is itself a
small count: both rules are applied here, once.

Plans are also compared only where like is compared with like (:class:`PlanBasis`): each is
judged at its own travel limit, and a difference is given only where both plans were judged
the same way. The share and the count within reach need the same limits; mean and longest
travel the same cut-off (:func:`~planning.results.tables.reach_cutoff_min`) and the same
travel times; every patient figure the same region. :func:`basis_warnings` says what differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from planning import i18n
from planning.results.equity import EQUITY_FIGURES
from planning.results.privacy import hidden_kpis
from planning.results.tables import ResultTables, equity_target
from planning.scenario import Scenario

KPI_FIGURES: dict[str, str] = {
    "share_within": "share_within",
    "counties_with_site": "counties_with_site",
    "mean_travel_min": "mean_travel_min",
    "max_travel_min": "max_travel_min_observed",
    "n_sites": "n_sites",
    "patients_within": "patients_within",
    "patients_total": "patients_total",
    **{figure: figure for figure in EQUITY_FIGURES},
}
"""Headline figure -> its field of :class:`~planning.results.kpis.Kpis` (the equity figures
of :mod:`planning.results.equity` included)."""

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
        figure: math.nan if figure in hidden else _num(k[key])
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


@dataclass(frozen=True)
class PlanBasis:
    """What a plan's headline figures depend on besides its sites.

    Attributes
    ----------
    region
        The region and its county selection (``None``: every county).
    limits_min
        Travel limits: ``max_travel_min``, then the urban and rural limits (``None`` unset).
    travel
        How travel times were obtained: the travel label (mode and road-data date) and the
        travel settings (speeds, detour factor, network type).
    equity_target
        The share within reach each county is held to (:func:`equity_target`; ``None``:
        unknown): counties below different targets are not compared.
    """

    region: tuple[str, tuple[str, ...] | None]
    limits_min: tuple[float | None, ...]
    travel: str
    equity_target: float | None = None

    @classmethod
    def of(cls, scenario: Scenario, *, travel_label: str) -> PlanBasis:
        """Return the basis of a plan solved for ``scenario`` with travel times ``travel_label``."""
        c = scenario.constraints
        tr = scenario.travel.model_dump(mode="json", exclude={"osm_file"})
        travel = travel_label + "|" + "|".join(f"{k}={tr[k]}" for k in sorted(tr))
        return cls(
            region=(scenario.region, tuple(scenario.counties) if scenario.counties else None),
            limits_min=(scenario.max_travel_min, c.urban_max_travel_min, c.rural_max_travel_min),
            travel=travel,
            equity_target=equity_target(scenario)[0],
        )

    @property
    def cutoff_min(self) -> float:
        """The cut-off of the plan's travel figures (as :func:`reach_cutoff_min`)."""
        return 2.0 * max(float(x) for x in self.limits_min if x is not None)


LIMIT_FIGURES = frozenset(
    {
        "share_within",
        "patients_within",
        "worst_county_share",
        "urban_rural_share_gap",
        "counties_below_target",
    }
)
"""Figures judged at the plan's travel limits."""

TRAVEL_FIGURES = frozenset(
    {
        "mean_travel_min",
        "max_travel_min",
        "travel_gini",
        "theil_between_county_share",
        "urban_rural_gap_min",
    }
)
"""Figures computed over the patients within the cut-off (or counted at it), from the travel
times."""

REGION_FIGURES = frozenset(KPI_FIGURES) - {"n_sites"}
"""Figures that depend on the region's patients and counties."""


def comparable_figures(base: PlanBasis, other: PlanBasis) -> frozenset[str]:
    """Headline figures (keys of :data:`KPI_FIGURES`) that compare like with like."""
    out = set(KPI_FIGURES)
    if base.region != other.region:
        out -= REGION_FIGURES
    if base.limits_min != other.limits_min:
        out -= LIMIT_FIGURES
    if base.cutoff_min != other.cutoff_min or base.travel != other.travel:
        out -= TRAVEL_FIGURES | LIMIT_FIGURES
    if base.equity_target != other.equity_target:
        out.discard("counties_below_target")
    return frozenset(out)


def basis_warnings(bases: list[PlanBasis], names: list[str]) -> list[i18n.Msg]:
    """Return what differs between the plans' bases, one phrase each (empty: nothing).

    The first plan is the baseline; each phrase names the plans and what differs: travel
    limits, region, or travel times.
    """
    base = bases[0]
    out: list[i18n.Msg] = []

    def differing(attr: str) -> list[str]:
        return [
            n
            for b, n in zip(bases[1:], names[1:], strict=True)
            if getattr(b, attr) != getattr(base, attr)
        ]

    if diff := differing("limits_min"):
        limits = [
            i18n.Msg("report.compare.limit_of", plan=n, minutes=b.limits_min[0])
            for b, n in zip(bases, names, strict=True)
        ]
        out.append(i18n.Msg("report.compare.limits_differ", plans=", ".join(diff), limits=limits))
    if diff := differing("region"):
        out.append(i18n.Msg("report.compare.region_differs", plans=", ".join(diff)))
    if diff := differing("travel"):
        out.append(i18n.Msg("report.compare.travel_differs", plans=", ".join(diff)))
    return out


def kpi_differences(
    base: ResultTables,
    other: ResultTables,
    *,
    base_threshold: int,
    other_threshold: int,
    base_basis: PlanBasis | None = None,
    other_basis: PlanBasis | None = None,
) -> dict[str, KpiDifference]:
    """Each headline figure of ``other`` against ``base`` (privacy applied).

    Parameters
    ----------
    base, other
        The baseline plan's tables and the compared plan's.
    base_threshold, other_threshold
        Each plan's privacy threshold; the larger one protects the difference.
    base_basis, other_basis
        Each plan's :class:`PlanBasis`; when given, a figure that does not compare like with
        like (:func:`comparable_figures`) has no difference (NaN).
    """
    a = public_kpi_numbers(base, threshold=base_threshold)
    b = public_kpi_numbers(other, threshold=other_threshold)
    threshold = max(base_threshold, other_threshold)
    like = (
        comparable_figures(base_basis, other_basis)
        if base_basis is not None and other_basis is not None
        else frozenset(KPI_FIGURES)
    )
    out: dict[str, KpiDifference] = {}
    for figure in KPI_FIGURES:
        delta = b[figure] - a[figure] if figure in like else math.nan
        small = figure in PATIENT_FIGURES and 1e-9 <= abs(delta) < threshold
        out[figure] = KpiDifference(delta, threshold if small else None)
    return out
