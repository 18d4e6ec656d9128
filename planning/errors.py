"""The one exception hierarchy of :mod:`planning`, and its user-facing warnings.

Every error the library raises on purpose derives from :class:`PlanningError`, so callers
(the app, the command line) catch exactly this class and show its message. Anything else
escaping the library is a bug.

An error carries a stable *code* (a catalog key such as ``"inputs.county_unknown"``) and its
parameters, never a finished sentence: :meth:`PlanningError.text` renders it in Chinese or
English from the catalogs of :mod:`planning.i18n`; ``str(error)`` uses the default language
(``KANGLE_LANG``, else Chinese). Warnings the user should read are :class:`PlanningWarning`
(a ``UserWarning``) with a code and parameters too. Both pickle with their parameters, so
they survive the trip from a batch worker to the scheduler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from planning import i18n

_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


class _Coded:
    """Code, parameters and rendering shared by :class:`PlanningError` and warnings."""

    code: str
    params: dict[str, Any]

    @property
    def message(self) -> i18n.Msg:
        """The message as an unrendered :class:`~planning.i18n.Msg`."""
        return i18n.Msg(self.code, **self.params)

    def text(self, lang: str | None = None) -> str:
        """Render the message in ``lang`` (``"zh"``/``"en"``; ``None``: the default language)."""
        if not _CODE.fullmatch(self.code):  # not yet a catalog key: a sentence as it was written
            return self.code
        return i18n.text(self.code, lang, **self.params)


class PlanningError(_Coded, Exception):
    """Base class for errors raised by planning.

    Parameters
    ----------
    code
        Catalog key of the message (``planning/locales/<lang>/<domain>.po``).
    params
        Values for the message's placeholders (plain values or :class:`~planning.i18n.Msg`).
    """

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        """Render the message in the default language."""
        return self.text()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle code, parameters and any extra attributes (``culprit``, ``problems``...)."""
        extra = {k: v for k, v in self.__dict__.items() if k not in {"code", "params"}}
        return (_rebuild, (type(self), self.code, self.params, extra))


def _rebuild(
    cls: type[PlanningError], code: str, params: dict[str, Any], extra: dict[str, Any]
) -> PlanningError:
    err = cls.__new__(cls)
    Exception.__init__(err, code)
    err.code, err.params = code, params
    err.__dict__.update(extra)
    return err


class PlanningWarning(_Coded, UserWarning):
    """A warning for the user (something was left out, replaced or assumed), with a code.

    ``warnings.warn(PlanningWarning("travel.fallback_estimate", reason=...), stacklevel=2)``;
    callers that show warnings render ``warning.text(lang)``.
    """

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        """Render the message in the default language."""
        return self.text()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle code and parameters."""
        return (_rebuild_warning, (type(self), self.code, self.params))


def _rebuild_warning(
    cls: type[PlanningWarning], code: str, params: dict[str, Any]
) -> PlanningWarning:
    return cls(code, **params)


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
    code, params
        Message key and parameters (see :class:`PlanningError`).
    problems
        One :class:`OptionProblem` per invalid option when the error comes from validating
        the options (empty otherwise), so a caller can name options in its own terms (the
        command line names its flags).
    """

    def __init__(
        self, code: str, /, *, problems: tuple[OptionProblem, ...] = (), **params: Any
    ) -> None:
        super().__init__(code, **params)
        self.problems = problems


class NetworkError(PlanningError, RuntimeError):
    """Road network data could not be downloaded, read or used."""


class SolverError(PlanningError, RuntimeError):
    """The solver failed or is not available."""


class InfeasibleError(PlanningError, ValueError):
    """No plan satisfies every requirement of the scenario.

    Parameters
    ----------
    code, params
        Message key and parameters (see :class:`PlanningError`).
    culprit
        Short machine-readable name of the requirement most likely to blame
        (for example ``"max_travel_min"`` or ``"budget"``), or ``None`` if unknown.
    """

    def __init__(self, code: str, /, *, culprit: str | None = None, **params: Any) -> None:
        super().__init__(code, **params)
        self.culprit = culprit
