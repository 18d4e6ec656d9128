"""Library errors, warnings and upload problems in the app's language.

The library's errors (:class:`~planning.errors.PlanningError`, including
:class:`~planning.inputs.read.InputFileError`), its warnings
(:class:`~planning.errors.PlanningWarning`) and the problems found in an uploaded file carry a
catalog code and parameters; the app renders them with ``.text(lang)`` in its own language,
from the same catalogs as the command line and the exports.

Anything without a code (a third-party warning, a plain string) is shown as it is: no
message of the library is translated back from English.
"""

from __future__ import annotations

import re
import warnings

from planning import i18n
from planning.errors import PlanningError, PlanningWarning
from planning.inputs.read import Problem

_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")

Shown = PlanningError | PlanningWarning | Warning | Problem | i18n.Msg | str


def _coded(item: object) -> i18n.Msg | None:
    """The catalog message ``item`` carries, or ``None`` for text without a code."""
    if isinstance(item, Problem):
        return _coded(item.message)
    if isinstance(item, warnings.WarningMessage):
        return _coded(item.message)
    if isinstance(item, PlanningError | PlanningWarning):
        msg = i18n.Msg(item.code, **item.params)
    elif isinstance(item, i18n.Msg):
        msg = item
    else:
        return None
    if not _KEY.fullmatch(msg.key):
        return None
    try:
        i18n.template(msg.key, "en")
    except KeyError:  # a code without catalog text: fall back to the sentence
        return None
    return msg


def coded_text(item: object, *, lang: str) -> str | None:
    """``item`` rendered from the catalogs in ``lang`` when it has a code, else ``None``.

    ``item``: a PlanningError / PlanningWarning whose code is a catalog key, an
    :class:`~planning.i18n.Msg`, or a file :class:`~planning.inputs.read.Problem` whose message
    is one.
    """
    msg = _coded(item)
    return None if msg is None else msg.text(lang)


def message(item: Shown, *, lang: str) -> str:
    """Any library message (error, warning, problem, phrase or sentence) in ``lang``."""
    shown = coded_text(item, lang=lang)
    return shown if shown is not None else str(item)


def error_message(err: PlanningError, *, lang: str) -> str:
    """A planning error's message in ``lang`` (Markdown).

    Parameters
    ----------
    err
        Any :class:`~planning.errors.PlanningError`, rendered from its code.
    lang
        ``"zh"`` or ``"en"``.
    """
    return message(err, lang=lang)


def problem_message(problem: Problem, *, lang: str) -> str:
    """The message of one input-file problem in ``lang`` (the table's "problem" column)."""
    return message(problem, lang=lang)


def warning_message(warning: Warning | str, *, lang: str) -> str:
    """A library warning's message in ``lang`` (a PlanningWarning from its code)."""
    return message(warning, lang=lang)
