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
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from planning import i18n

_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


class _Coded(Exception):  # noqa: N818 - a mixin of PlanningError and PlanningWarning
    """Code, parameters and rendering shared by :class:`PlanningError` and warnings.

    Comes first among the bases (``class PlanningError(_Coded, Exception)``), so the
    exception's arguments are the code alone and ``str()`` renders the message.
    """

    code: str
    params: dict[str, Any]

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(_checked(code))
        self.code = code
        self.params = params

    def __str__(self) -> str:
        """Render the message in the default language."""
        return self.text()

    @property
    def message(self) -> i18n.Msg:
        """The message as an unrendered :class:`~planning.i18n.Msg`."""
        return i18n.Msg(self.code, **self.params)

    def text(self, lang: str | None = None) -> str:
        """Render the message in ``lang`` (``"zh"``/``"en"``; ``None``: the default language)."""
        return i18n.text(self.code, lang, **self.params)


def _checked(code: str) -> str:
    """Return ``code`` if it is shaped like a catalog key (``domain.name``), else refuse it.

    A finished sentence in place of a code is a programming error: messages come from the
    catalogs only.
    """
    if not _CODE.fullmatch(code):
        msg = f"a message code must be a catalog key such as 'domain.name', not {code!r}"
        raise ValueError(msg)
    return code


class PlanningError(_Coded, Exception):
    """Base class for errors raised by planning.

    Parameters
    ----------
    code
        Catalog key of the message (``planning/locales/<lang>/<domain>.po``); a sentence in
        its place is refused (``ValueError``: a programming error).
    params
        Values for the message's placeholders (plain values or :class:`~planning.i18n.Msg`).
    """

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
    """One invalid scenario option, as data a caller can word for its own users.

    Attributes
    ----------
    field
        Dotted path of the option (``"max_travel_min"``, ``"travel.detour_factor"``); ``""``
        when the problem concerns several options together.
    value
        The value given (``None`` when it was missing or the problem spans options).
    code
        What is wrong, a catalog key: ``"scenario.option_not_allowed"``,
        ``"scenario.option_missing"``, ``"scenario.option_unknown"``, or the key of a
        validator's own message (``"scenario.model_needs_sites"``, with ``params``).
    option_name
        The option as messages name it: its field path in English, its name in Chinese
        (``最长出行时间``).
    allowed_msg
        What is allowed (kind and bounds, e.g. "a number greater than 0"), or ``None``.
    unit_msg
        Unit of the option (``minutes``), or ``None``.
    example
        A valid value (usually the default), or ``None``.
    params
        Parameters of a validator's own message (``code``).
    """

    field: str
    value: Any
    code: str = "scenario.option_not_allowed"
    option_name: i18n.Msg | str = ""
    allowed_msg: i18n.Msg | None = None
    unit_msg: i18n.Msg | None = None
    example: Any = None
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)

    @property
    def message(self) -> i18n.Msg:
        """The problem naming the option by its scenario field, not yet rendered."""
        if self.code == "scenario.option_unknown":
            return i18n.Msg("scenario.option_unknown", field=self.field)
        if self.code == "scenario.option_missing":
            name = self.option_name or i18n.Msg("scenario.option_a_value")
            return i18n.Msg(
                "scenario.option_missing", field=name, allowed=self.allowed_msg, hint=self._hint()
            )
        if self.code == "scenario.option_not_allowed":
            return i18n.Msg(
                "scenario.option_not_allowed",
                field=self.option_name or i18n.Msg("scenario.option_whole"),
                value=_shown(self.value),
                allowed=self.allowed_msg,
                hint=self._hint(),
            )
        return i18n.Msg(self.code, **self.params)

    def _hint(self) -> i18n.Msg | str:
        if self.unit_msg is not None and self.example is not None:
            return i18n.Msg("scenario.hint_unit_example", unit=self.unit_msg, example=self.example)
        if self.unit_msg is not None:
            return i18n.Msg("scenario.hint_unit", unit=self.unit_msg)
        if self.example is not None:
            return i18n.Msg("scenario.hint_example", example=self.example)
        return ""

    def reword_message(self, option: str, value: str) -> i18n.Msg:
        """Return the problem naming the option as the user entered it, not yet rendered.

        Parameters
        ----------
        option
            The name the user knows, e.g. the command-line flag ``"--max-minutes"``.
        value
            The value as the user typed it.
        """
        example = None if self.example is None else _plain(self.example)
        hint: i18n.Msg | str = ""
        if self.unit_msg is not None and example is not None:
            hint = i18n.Msg(
                "scenario.hint_unit_typed_example",
                unit=self.unit_msg,
                option=option,
                example=example,
            )
        elif self.unit_msg is not None:
            hint = i18n.Msg("scenario.hint_unit", unit=self.unit_msg)
        elif example is not None:
            hint = i18n.Msg("scenario.hint_typed_example", option=option, example=example)
        allowed: i18n.Msg | str = self.message
        if self.allowed_msg is not None:
            allowed = self.allowed_msg
        elif self.code == "scenario.option_unknown":
            allowed = ""
        return i18n.Msg(
            "scenario.typed_not_allowed", option=option, value=value, allowed=allowed, hint=hint
        )

    def reword(self, option: str, value: str, lang: str | None = None) -> str:
        """Return the sentence naming the option as the user entered it, in ``lang``.

        For example ``"--max-minutes 0 is not allowed: use a number greater than 0 (minutes,
        e.g. --max-minutes 30)"`` (see :meth:`reword_message`).
        """
        return self.reword_message(option, value).text(lang)

    # English strings of the time before catalog codes, for callers that still re-word them
    @property
    def allowed(self) -> str:
        """What is allowed, in English (``""`` for an unknown option)."""
        if self.allowed_msg is not None:
            return self.allowed_msg.text("en")
        return "" if self.code == "scenario.option_unknown" else self.message.text("en")

    @property
    def unit(self) -> str:
        """Unit of the option in English (``"minutes"``), or ``""``."""
        return "" if self.unit_msg is None else self.unit_msg.text("en")

    @property
    def text(self) -> str:
        """The whole problem in English, naming the option by its scenario field.

        Render :attr:`message` for another language: ``problem.message.text("zh")``.
        """
        return self.message.text("en")


def _shown(value: Any) -> i18n.Msg | str:
    return i18n.Msg("scenario.value_table") if isinstance(value, dict) else repr(value)


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


class WriteError(PlanningError, RuntimeError):
    """A file or folder could not be written (disk full, read-only, no permission).

    Raised by the atomic writers of :mod:`planning._atomic`; the message says what failed and
    what to do, and the files that were there before are kept unchanged.
    """


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
