"""A plan's headline figures (KPIs) as one frozen, typed object.

:class:`Kpis` has one typed attribute per figure; library code reads them as attributes
(``kpis.share_within``). It also reads as a read-only mapping (``kpis["share_within"]``,
``kpis.get(...)``, iteration in field order, ``dict(kpis)``), which is how the figures are
written to ``summary.json``.

Adding a figure is a one-place change: declare the field here (with its numpydoc line); the
mapping view, :meth:`Kpis.from_mapping` and the JSON summary follow from the declaration, and
:func:`planning.results.summarise` computes it.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from planning.errors import DataError


@dataclass(frozen=True, kw_only=True, eq=False)
class Kpis(Mapping[str, Any]):
    """Headline figures of a plan, from :func:`planning.results.summarise`.

    Counts of patients are estimates (floats); the privacy rule for showing them lives in
    :mod:`planning.results.privacy`. Equality is the mapping's (same keys, same values).

    Attributes
    ----------
    model
        Model that was solved (``"p_median"``, ``"mclp"``, ``"lscp"``, ``"p_center"``).
    status
        Solver status of the solution (``"optimal"``, ``"feasible"``, ...).
    optimal
        ``True`` when the solution is proven optimal.
    gap
        Relative MIP gap (0.01 = 1 %); ``None`` when the solver reports none.
    objective
        The model's objective value (its unit depends on the model: patients for MCLP,
        patient-minutes for p-median, minutes for p-center, sites for LSCP).
    solver
        Solver that found the solution (``"highs"``, ...).
    solve_time_s
        Seconds the solver took.
    max_travel_min
        The scenario's travel limit, minutes.
    travel_label
        How travel times were obtained (road network, estimate; see
        :func:`planning.travel.travel_label_shown`).
    patients_total
        Estimated patients in the region.
    patients_within
        Patients within their travel limit of an open site (within capacity when sites are
        capacitated).
    share_within
        ``patients_within / patients_total`` (0-1).
    patients_beyond_cutoff
        Patients with no open site within :attr:`travel_cutoff_min`: left out of the mean and
        longest travel.
    share_beyond_cutoff
        ``patients_beyond_cutoff / patients_total`` (0-1).
    travel_cutoff_min
        Cut-off of the travel figures, minutes (see
        :func:`planning.results.reach_cutoff_min`).
    n_counties
        Counties in the plan.
    counties_with_site
        Counties with at least one open site.
    county_share_with_site
        ``counties_with_site / n_counties`` (0-1).
    mean_travel_min
        Patient-weighted mean travel to the nearest open site, minutes, over the patients
        with one within the cut-off (NaN when there are none).
    max_travel_min_observed
        Longest travel to the nearest open site over the same patients, minutes.
    n_sites
        Open sites.
    n_sites_existing
        Open sites that exist today.
    n_sites_new
        Open sites that are new.
    hubs
        ``site_id`` of the hub sites, sorted (empty without hubs).
    n_sites_over_capacity
        Open sites whose load is above a known capacity.
    n_existing_with_capacity
        Existing open sites with a known capacity.
    capacitated
        ``True`` when the model respected capacities.
    travel_gini
        Patient-weighted Gini of travel time to the nearest open site (0-1; patients beyond
        :attr:`travel_cutoff_min` counted at it); ``None`` when undefined. See
        :mod:`planning.results.equity` for every equity figure below.
    travel_gini_lower_bound
        ``True`` when patients lie beyond the cut-off: the Gini and Theil figures are then
        lower bounds of the true ones.
    travel_theil
        Theil T index of the same travel times.
    theil_between_county_share
        Share of the Theil index that lies between counties (0-1).
    worst_county_id, worst_county_name, worst_county_share
        The county with the smallest share of its patients within reach, and that share.
    urban_mean_travel_min, rural_mean_travel_min, urban_rural_gap_min
        Mean travel of urban and rural patients (minutes) and rural minus urban.
    urban_share_within, rural_share_within, urban_rural_share_gap
        Share within reach of urban and rural patients and urban minus rural.
    urban_counties, rural_counties
        ``county_id`` of the urban and rural counties (the tool's urban split).
    equity_target, equity_target_source, equity_target_year
        The share within reach each county is held to, where it comes from (the scenario's
        county coverage target, or the milestone of that year).
    counties_below_target, counties_below_target_ids
        Counties whose share within reach is below the target: how many, which.
    """

    model: str
    status: str
    optimal: bool
    gap: float | None
    objective: float
    solver: str
    solve_time_s: float
    max_travel_min: float
    travel_label: str
    patients_total: float
    patients_within: float
    share_within: float
    patients_beyond_cutoff: float
    share_beyond_cutoff: float
    travel_cutoff_min: float
    n_counties: int
    counties_with_site: int
    county_share_with_site: float
    mean_travel_min: float
    max_travel_min_observed: float
    n_sites: int
    n_sites_existing: int
    n_sites_new: int
    hubs: tuple[str, ...]
    n_sites_over_capacity: int
    n_existing_with_capacity: int
    capacitated: bool
    travel_gini: float | None
    travel_gini_lower_bound: bool
    travel_theil: float | None
    theil_between_county_share: float | None
    worst_county_id: str | None
    worst_county_name: str | None
    worst_county_share: float | None
    urban_mean_travel_min: float | None
    rural_mean_travel_min: float | None
    urban_rural_gap_min: float | None
    urban_share_within: float | None
    rural_share_within: float | None
    urban_rural_share_gap: float | None
    urban_counties: tuple[str, ...]
    rural_counties: tuple[str, ...]
    equity_target: float
    equity_target_source: Literal["scenario", "milestone"]
    equity_target_year: int | None
    counties_below_target: int
    counties_below_target_ids: tuple[str, ...]

    _EMPTY: ClassVar[dict[type, object]] = {
        float: math.nan,
        int: 0,
        str: "",
        bool: False,
        tuple: (),
    }
    """Value of a figure not given to :meth:`from_mapping`, by its type (``None`` if it may
    be ``None``)."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Return the figures' names in field order (the order of ``summary.json``)."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Kpis:
        """Build from a mapping of figures (e.g. a dict).

        A figure not given takes its declared default if it has one, else the empty value of
        its type: ``None`` where ``None`` is allowed, NaN for a float, 0, ``""``, ``False``,
        ``()``, a ``Literal``'s first value. A list becomes a tuple.

        Raises
        ------
        DataError
            ``report.kpi_unknown``: a key is not a figure (names them and the known ones).
        """
        if isinstance(values, Kpis):
            return values
        known = cls.names()
        unknown = sorted(str(k) for k in values if k not in known)
        if unknown:
            raise DataError("report.kpi_unknown", keys=", ".join(unknown), known=", ".join(known))
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in values:
                value = values[f.name]
                kwargs[f.name] = tuple(value) if isinstance(value, list) else value
            elif f.default is not dataclasses.MISSING:
                kwargs[f.name] = f.default
            else:
                kwargs[f.name] = cls._empty(hints[f.name])
        return cls(**kwargs)

    @classmethod
    def _empty(cls, hint: Any) -> object:
        args = typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            if type(None) in args:
                return None
            hint = args[0]
        origin = typing.get_origin(hint) or hint
        if origin is typing.Literal:  # e.g. Literal["scenario", "milestone"]: its first value
            return typing.get_args(hint)[0]
        if origin not in cls._EMPTY:
            msg = f"Kpis: give the field of type {hint!r} a default"  # a developer's slip
            raise TypeError(msg)
        return cls._EMPTY[origin]

    # ---- read-only mapping view
    def __getitem__(self, key: str) -> Any:
        """Return figure ``key`` (``KeyError`` if there is no such figure)."""
        if key not in self.names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the figures' names in field order."""
        return iter(self.names())

    def __len__(self) -> int:
        """Return the number of figures."""
        return len(self.names())
