"""The one exception hierarchy of :mod:`planning`.

Every error the library raises on purpose derives from :class:`PlanningError`, so callers
(the app, the command line) catch exactly this class and show its message. Anything else
escaping the library is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class PlanningError(Exception):
    """Base class for errors raised by planning."""


class DataError(PlanningError, ValueError):
    """Input data is missing, malformed, or in an unusable CRS."""


@dataclass(frozen=True)
class OptionProblem:
    """One invalid scenario option, in terms a caller can re-word for its own users.

    Attributes
    ----------
    field
        Dotted path of the option (``"max_travel_min"``, ``"travel.detour_factor"``); ``""``
        when the problem concerns several options together.
    value
        The value given (``None`` when it was missing or the problem spans options).
    allowed
        What is allowed, in plain words, to follow "use": ``"a number greater than 0"``.
    unit
        Unit of the option (``"minutes"``), or ``""``.
    example
        A valid value (usually the default), or ``None``.
    text
        The whole sentence, naming the option by its scenario field.
    """

    field: str
    value: Any
    allowed: str
    unit: str = ""
    example: Any = None
    text: str = ""

    def reword(self, option: str, value: str) -> str:
        """Return the sentence naming the option as the user entered it.

        Parameters
        ----------
        option
            The name the user knows, e.g. the command-line flag ``"--max-minutes"``.
        value
            The value as the user typed it.

        Returns
        -------
        sentence
            For example ``"--max-minutes 0 is not allowed: use a number greater than 0
            (minutes, e.g. --max-minutes 30)"``.
        """
        hints = [self.unit] if self.unit else []
        if self.example is not None:
            hints.append(f"e.g. {option} {_plain(self.example)}")
        hint = f" ({', '.join(hints)})" if hints else ""
        return f"{option} {value} is not allowed: use {self.allowed}{hint}"


def _plain(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class ScenarioError(PlanningError, ValueError):
    """A scenario option is invalid or options contradict each other.

    Parameters
    ----------
    message
        What is wrong and what to enter instead.
    problems
        One :class:`OptionProblem` per invalid option when the error comes from validating
        the options (empty otherwise), so a caller can name options in its own terms (the
        command line names its flags).
    """

    def __init__(self, message: str, *, problems: tuple[OptionProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


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
