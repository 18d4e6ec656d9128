"""The one exception hierarchy of :mod:`planning`.

Every error the library raises on purpose derives from :class:`PlanningError`, so callers
(the app, the command line) catch exactly this class and show its message. Anything else
escaping the library is a bug.
"""

from __future__ import annotations


class PlanningError(Exception):
    """Base class for errors raised by planning."""


class DataError(PlanningError, ValueError):
    """Input data is missing, malformed, or in an unusable CRS."""


class ScenarioError(PlanningError, ValueError):
    """A scenario option is invalid or options contradict each other."""


class NetworkError(PlanningError, RuntimeError):
    """Road network data could not be downloaded, read or used."""


class SolverError(PlanningError, RuntimeError):
    """The solver failed or is not available."""


class InfeasibleError(PlanningError, ValueError):
    """No plan satisfies every requirement of the scenario.

    Parameters
    ----------
    message
        What cannot be met and what to change.
    culprit
        Short machine-readable name of the requirement most likely to blame
        (for example ``"max_travel_min"`` or ``"budget"``), or ``None`` if unknown.
    """

    def __init__(self, message: str, *, culprit: str | None = None) -> None:
        super().__init__(message)
        self.culprit = culprit
