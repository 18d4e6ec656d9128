"""The plain options a siting model reads: what to solve, under which rules, with which solver.

A model never sees the whole :class:`~planning.scenario.Scenario` (regions, travel settings,
privacy...): the caller builds a frozen :class:`ModelOptions` (or, for a phased plan,
:class:`RolloutOptions`) holding only what the model needs, usually with
:meth:`ModelOptions.from_scenario`. That method reads the scenario by its attribute names
(:class:`ScenarioLike`), so this package never imports :mod:`planning.scenario`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, cast

ModelKind = Literal["mclp", "lscp", "p_median", "p_center", "max_min"]
SolverName = Literal["highs", "cbc"]

#: How messages name each model.
MODEL_LABELS: dict[str, str] = {
    "mclp": "MCLP",
    "lscp": "LSCP",
    "p_median": "p-median",
    "p_center": "p-center",
    "max_min": "max-min",
}

#: Constraint families that infeasibility diagnosis relaxes one at a time (most specific first).
FAMILIES = (
    "county_coverage_target",
    "site_in_every_county",
    "min_county_share_with_site",
    "hub_per_prefecture",
    "budget",
    "capacity",
    "max_referral_min",
    "travel_thresholds",
    "max_travel_min",
    "n_facilities",
)

#: Rules that only say which sets of open sites are allowed (not what a plan is worth).
PLAN_RULES = ("site_in_every_county", "min_county_share_with_site", "hub_per_prefecture")


# ---------------------------------------------------------------------------- what is read
class ConstraintsLike(Protocol):
    """The constraint options read from a scenario (:class:`planning.scenario.Constraints`)."""

    @property
    def capacitated(self) -> bool: ...  # noqa: D102
    @property
    def default_capacity(self) -> float | None: ...  # noqa: D102
    @property
    def single_source(self) -> bool: ...  # noqa: D102
    @property
    def budget(self) -> float | None: ...  # noqa: D102
    @property
    def site_in_every_county(self) -> bool: ...  # noqa: D102
    @property
    def min_county_share_with_site(self) -> float | None: ...  # noqa: D102
    @property
    def county_coverage_target(self) -> float | None: ...  # noqa: D102
    @property
    def hub_per_prefecture(self) -> bool: ...  # noqa: D102
    @property
    def max_referral_min(self) -> float | None: ...  # noqa: D102
    @property
    def urban_max_travel_min(self) -> float | None: ...  # noqa: D102
    @property
    def rural_max_travel_min(self) -> float | None: ...  # noqa: D102
    @property
    def worst_county_first(self) -> bool: ...  # noqa: D102


class CandidateTypeLike(Protocol):
    """A candidate type: opening cost and capacity by name."""

    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def opening_cost(self) -> float: ...  # noqa: D102
    @property
    def capacity(self) -> float | None: ...  # noqa: D102


class PhaseLike(Protocol):
    """One rollout phase (:class:`planning.scenario.Phase`)."""

    @property
    def year(self) -> int: ...  # noqa: D102
    @property
    def new_sites(self) -> int | None: ...  # noqa: D102
    @property
    def budget(self) -> float | None: ...  # noqa: D102
    @property
    def county_share_target(self) -> float: ...  # noqa: D102
    @property
    def patient_share_target(self) -> float: ...  # noqa: D102


class RolloutLike(Protocol):
    """Rollout settings (:class:`planning.scenario.RolloutSettings`)."""

    @property
    def phases(self) -> Sequence[PhaseLike]: ...  # noqa: D102
    @property
    def early_year_weight(self) -> float: ...  # noqa: D102


class ScenarioLike(Protocol):
    """The attributes of a :class:`planning.scenario.Scenario` that model options are read from."""

    @property
    def name(self) -> str | None: ...  # noqa: D102
    @property
    def model(self) -> str: ...  # noqa: D102
    @property
    def n_facilities(self) -> int | None: ...  # noqa: D102
    @property
    def max_travel_min(self) -> float: ...  # noqa: D102
    @property
    def constraints(self) -> ConstraintsLike: ...  # noqa: D102
    @property
    def candidate_types(self) -> Sequence[CandidateTypeLike]: ...  # noqa: D102
    @property
    def solver(self) -> str: ...  # noqa: D102
    @property
    def time_limit_s(self) -> float: ...  # noqa: D102
    @property
    def mip_gap(self) -> float: ...  # noqa: D102


class RolloutScenarioLike(ScenarioLike, Protocol):
    """A scenario with rollout settings."""

    @property
    def rollout(self) -> RolloutLike: ...  # noqa: D102


# ---------------------------------------------------------------------------- options
@dataclass(frozen=True, kw_only=True)
class ModelOptions:
    """Everything a siting model reads besides the data (units in the names).

    Attributes
    ----------
    kind
        ``"mclp"``, ``"lscp"``, ``"p_median"``, ``"p_center"`` or ``"max_min"`` (the
        worst-off county's share first, :mod:`~planning.models.max_min`).
    p
        Number of open sites, existing ones included (``None``: no count, e.g. LSCP or a
        budget alone).
    max_travel_min
        Coverage threshold T (minutes) of MCLP / LSCP.
    urban_max_travel_min, rural_max_travel_min
        Per-demand thresholds replacing ``max_travel_min`` for urban / rural demand points.
    budget
        Total opening cost of the new sites (``None``: no budget).
    capacitated, default_capacity
        Whether site capacities bind; capacity (patients) of sites without one.
    single_source
        With capacities: each demand point is served by one site only (a referral
        catchment), instead of being split over several sites.
    site_in_every_county, min_county_share, county_target, hub_per_prefecture
        County and prefecture rules: a site in every county, in at least a share of the
        counties, a share of each county's patients covered, a hub per prefecture.
    max_referral_min
        Candidates farther (minutes) from a psychiatric hospital may not open.
    type_costs, type_capacities
        Opening cost and capacity by ``candidate_type`` (site columns take precedence).
    solver, time_limit_s, mip_gap
        MIP solver, wall-clock limit (seconds) and relative gap accepted as optimal.
    name
        Name of the plan (names the built :class:`pulp.LpProblem`).
    relaxed
        Families of :data:`FAMILIES` switched off (infeasibility diagnosis).
    """

    kind: ModelKind = "mclp"
    p: int | None = None
    max_travel_min: float = 30.0
    urban_max_travel_min: float | None = None
    rural_max_travel_min: float | None = None
    budget: float | None = None
    capacitated: bool = False
    default_capacity: float | None = None
    single_source: bool = False
    site_in_every_county: bool = False
    min_county_share: float | None = None
    county_target: float | None = None
    hub_per_prefecture: bool = False
    max_referral_min: float | None = None
    type_costs: Mapping[str, float] = field(default_factory=dict)
    type_capacities: Mapping[str, float] = field(default_factory=dict)
    solver: SolverName = "highs"
    time_limit_s: float = 60.0
    mip_gap: float = 0.0
    name: str = ""
    relaxed: frozenset[str] = frozenset()

    @classmethod
    def from_scenario(cls, scenario: ScenarioLike) -> ModelOptions:
        """Read the model options of a scenario (:class:`planning.scenario.Scenario`).

        An MCLP scenario with ``constraints.worst_county_first`` is the fairest plan
        (``kind="max_min"``, :mod:`~planning.models.max_min`).
        """
        c = scenario.constraints
        types = scenario.candidate_types
        kind = "max_min" if c.worst_county_first and scenario.model == "mclp" else scenario.model
        return cls(
            kind=cast("ModelKind", kind),
            p=scenario.n_facilities,
            max_travel_min=float(scenario.max_travel_min),
            urban_max_travel_min=c.urban_max_travel_min,
            rural_max_travel_min=c.rural_max_travel_min,
            budget=c.budget,
            capacitated=c.capacitated,
            default_capacity=c.default_capacity,
            single_source=c.single_source,
            site_in_every_county=c.site_in_every_county,
            min_county_share=c.min_county_share_with_site,
            county_target=c.county_coverage_target,
            hub_per_prefecture=c.hub_per_prefecture,
            max_referral_min=c.max_referral_min,
            type_costs={t.name: float(t.opening_cost) for t in types},
            type_capacities={t.name: float(t.capacity) for t in types if t.capacity is not None},
            solver=cast("SolverName", scenario.solver),
            time_limit_s=float(scenario.time_limit_s),
            mip_gap=float(scenario.mip_gap),
            name=scenario.name or "",
        )

    def replace(self, **changes: object) -> ModelOptions:
        """Return a copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def relax(self, families: Iterable[str]) -> ModelOptions:
        """Return the options without the rule families ``families`` (:data:`FAMILIES`).

        ``max_referral_min``, ``travel_thresholds`` and ``max_travel_min`` change the data
        (which sites may open, which pairs count): see
        :meth:`~planning.models._prep.Prepared.relaxed`.
        """
        drop = frozenset(families)
        return self.replace(
            p=None if "n_facilities" in drop else self.p,
            budget=None if "budget" in drop else self.budget,
            capacitated=self.capacitated and "capacity" not in drop,
            site_in_every_county=self.site_in_every_county and "site_in_every_county" not in drop,
            min_county_share=None
            if "min_county_share_with_site" in drop
            else self.min_county_share,
            county_target=None if "county_coverage_target" in drop else self.county_target,
            hub_per_prefecture=self.hub_per_prefecture and "hub_per_prefecture" not in drop,
            relaxed=self.relaxed | drop,
        )

    def without_plan_rules(self) -> ModelOptions:
        """Return the options without :data:`PLAN_RULES` (a relaxation, same objective)."""
        return self.replace(
            site_in_every_county=False,
            min_county_share=None,
            hub_per_prefecture=False,
            relaxed=self.relaxed | frozenset(PLAN_RULES),
        )

    @property
    def has_thresholds(self) -> bool:
        """Whether urban / rural thresholds are set (and not relaxed)."""
        given = self.urban_max_travel_min is not None or self.rural_max_travel_min is not None
        return given and "travel_thresholds" not in self.relaxed

    @property
    def has_plan_rules(self) -> bool:
        """Whether a county or hub rule restricts the sets of open sites."""
        return (
            self.site_in_every_county
            or self.min_county_share is not None
            or self.hub_per_prefecture
        )

    @property
    def pure_cover(self) -> bool:
        """Whether set-cover reductions are exact: nothing but the cover rows uses the sites."""
        return (
            self.county_target is None
            and self.budget is None
            and not self.capacitated
            and not self.has_plan_rules
        )

    @property
    def pure_p_median(self) -> bool:
        """Whether only ``p``, existing sites and allowed pairs constrain the plan."""
        return (
            self.p is not None
            and self.budget is None
            and not self.capacitated
            and self.county_target is None
            and not self.has_plan_rules
        )


def as_options(given: ModelOptions | ScenarioLike) -> ModelOptions:
    """``given`` if it already is :class:`ModelOptions`, else the options read from a scenario.

    The public entry points (:func:`planning.models.solve`, ``build_*``,
    :func:`~planning.models.trade_off_curve`) accept either.
    """
    return given if isinstance(given, ModelOptions) else ModelOptions.from_scenario(given)


@dataclass(frozen=True, kw_only=True)
class Period:
    """One phase (year) of a rollout: its limits and milestone targets.

    ``new_sites`` / ``budget``: new sites / opening spend allowed that year (``None``: no
    limit); ``county_share_target`` / ``patient_share_target``: shares (0-1) of counties with a
    site and of patients within ``max_travel_min`` to reach by that year.
    """

    year: int
    new_sites: int | None = None
    budget: float | None = None
    county_share_target: float = 0.0
    patient_share_target: float = 0.0


@dataclass(frozen=True, kw_only=True)
class RolloutOptions:
    r"""Options of a phased rollout (:mod:`planning.models.rollout`).

    ``model`` holds the siting model (``kind``), the overall caps (``p``: total sites,
    ``budget``: total spend by the last year), thresholds, capacities, solver and time limit
    (per MIP); ``periods`` the years, increasing; ``early_year_weight`` the factor
    :math:`\gamma \ge 1` making early years count more.
    """

    model: ModelOptions
    periods: tuple[Period, ...]
    early_year_weight: float = 1.0

    @classmethod
    def from_scenario(cls, scenario: RolloutScenarioLike) -> RolloutOptions:
        """Read the rollout options of a scenario (its ``rollout`` phases and weight)."""
        periods = tuple(
            Period(
                year=int(ph.year),
                new_sites=ph.new_sites,
                budget=ph.budget,
                county_share_target=float(ph.county_share_target),
                patient_share_target=float(ph.patient_share_target),
            )
            for ph in scenario.rollout.phases
        )
        return cls(
            model=ModelOptions.from_scenario(scenario),
            periods=periods,
            early_year_weight=float(scenario.rollout.early_year_weight),
        )
