"""Inputs and outputs shared by every siting model.

A model never sees geometry: it works from a sparse travel-time table, demand weights and a
site table, all keyed by ids (``demand_id``, ``site_id``), and returns a :class:`Solution`
keyed by the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from planning._validate import require_columns, require_unique_index
from planning.errors import DataError

Status = Literal["optimal", "feasible", "infeasible", "error"]

DEMAND_COLUMNS = ("weight",)
SITE_COLUMNS = ("fixed",)
TRAVEL_COLUMNS = ("demand_id", "site_id", "travel_min")


@dataclass(frozen=True, kw_only=True)
class ModelInput:
    """Everything a siting model needs, keyed by ids.

    Attributes
    ----------
    travel
        Long table with columns ``demand_id``, ``site_id``, ``travel_min`` (minutes). Sparse:
        a missing pair means "farther than the cut-off / unreachable".
    demand
        Index ``demand_id``. Required column ``weight`` (estimated patients, >= 0). Optional:
        ``county`` (adcode str), ``prefecture`` (adcode str), ``urban`` (bool).
    sites
        Index ``site_id``. Required column ``fixed`` (bool: an existing site kept open).
        Optional: ``cost`` (opening cost, default 0), ``capacity`` (patients, NaN = unlimited),
        ``county``, ``prefecture``, ``candidate_type`` (str), ``referral_min`` (minutes to the
        nearest psychiatric hospital, NaN = unknown).
    """

    travel: pd.DataFrame
    demand: pd.DataFrame
    sites: pd.DataFrame

    def __post_init__(self) -> None:
        """Check required columns, unique ids, weights and that the tables share ids."""
        require_columns(self.travel, TRAVEL_COLUMNS, name="travel-time table")
        require_columns(self.demand, DEMAND_COLUMNS, name="demand table")
        require_columns(self.sites, SITE_COLUMNS, name="site table")
        require_unique_index(self.demand, name="demand table")
        require_unique_index(self.sites, name="site table")
        if (self.demand["weight"] < 0).any() or self.demand["weight"].isna().any():
            raise DataError("models.weights_invalid")
        unknown_d = ~self.travel["demand_id"].isin(self.demand.index)
        unknown_s = ~self.travel["site_id"].isin(self.sites.index)
        if unknown_d.any() or unknown_s.any():
            raise DataError(
                "models.travel_unknown_ids",
                demand_ids=list(self.travel.loc[unknown_d, "demand_id"][:3]),
                site_ids=list(self.travel.loc[unknown_s, "site_id"][:3]),
            )


@dataclass(frozen=True, kw_only=True)
class Solution:
    """A solved (or failed) siting model, keyed by ids.

    Attributes
    ----------
    model
        ``"mclp"``, ``"p_median"``, ``"lscp"``, ``"p_center"`` or ``"max_min"``.
    status
        ``"optimal"`` only when the solver proved optimality; ``"feasible"`` for a time-limited
        incumbent (see ``gap``); ``"infeasible"`` or ``"error"`` otherwise.
    selected_sites
        Ids of the open sites (fixed existing sites included), sorted.
    allocation
        Columns ``demand_id``, ``site_id``, ``travel_min``, ``patients``: which site serves how
        many of each demand point's patients. Uncovered demand has no row. Capacitated models
        may split a demand point over several sites.
    objective
        The model's objective value in its own units (patients covered, patient-minutes,
        number of sites, or minutes).
    gap
        Relative MIP gap ``|objective - bound| / |objective|``; 0 when optimal, ``None`` unknown.
    bound
        Best proven bound on the objective, when known.
    """

    model: str
    status: Status
    selected_sites: tuple[str, ...]
    allocation: pd.DataFrame
    objective: float
    gap: float | None = None
    bound: float | None = None
    solve_time_s: float = 0.0
    build_time_s: float = 0.0
    solver: str = ""
    message: str = ""
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def is_optimal(self) -> bool:
        """``True`` only for a proven optimum."""
        return self.status == "optimal"

    @property
    def assignment(self) -> pd.Series:
        """Main serving site of each served demand point (``demand_id`` -> ``site_id``).

        Where a demand point is split, the site serving most of its patients (ties: lowest
        site id) is reported.
        """
        if self.allocation.empty:
            return pd.Series(dtype="object", name="site_id").rename_axis("demand_id")
        alloc = self.allocation.sort_values(
            ["demand_id", "patients", "site_id"], ascending=[True, False, True]
        )
        return alloc.drop_duplicates("demand_id").set_index("demand_id")["site_id"]
