"""Shared pieces of the command line: the parser speaking the run's language, flags, texts."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from planning import i18n
from planning.errors import ScenarioError
from planning.i18n import Joined, Lang, Msg

logger = logging.getLogger(__name__)


Handler = Callable[[argparse.Namespace], int]


MODEL_CHOICES = ["mclp", "p-median", "lscp", "p-center"]


class _Formatter(argparse.HelpFormatter):
    """Help in the command line's language: ``usage:`` from the catalog too."""

    lang: Lang = "zh"

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        if prefix is None:
            prefix = i18n.text("cli.usage_prefix", self.lang)
        super().add_usage(usage, actions, groups, prefix)


class _Parser(argparse.ArgumentParser):
    """An argument parser speaking ``lang``: its help option, headings and errors."""

    def __init__(self, *args: Any, lang: Lang = "zh", **kwargs: Any) -> None:
        kwargs.update(add_help=False, formatter_class=_Formatter)
        super().__init__(*args, **kwargs)
        self.lang = lang
        self._positionals.title = i18n.text("cli.heading_positionals", lang)
        self._optionals.title = i18n.text("cli.heading_options", lang)
        self.add_argument("-h", "--help", action="help", help=i18n.text("cli.help_help", lang))

    def _get_formatter(self) -> argparse.HelpFormatter:
        formatter = super()._get_formatter()
        if isinstance(formatter, _Formatter):
            formatter.lang = self.lang
        return formatter

    def error(self, message: str) -> Any:  # exit status 2 with a hint, like argparse
        self.print_usage(sys.stderr)
        self.exit(
            2, i18n.text("cli.usage_error", self.lang, prog=self.prog, message=message) + "\n"
        )


def _language(argv: Sequence[str]) -> Lang:
    """Return the language given with ``--lang`` (anywhere in ``argv``), else the default one."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in i18n.LANGS:
            return i18n.check_language(value)
    return i18n.default_language()


def _t(args: argparse.Namespace, key: str, /, **params: Any) -> str:
    """Return a catalog text in the language of this run."""
    return i18n.text(key, args.ui_lang, **params)


def _flag(dest: str) -> str:
    """Return the flag of an argparse destination (``max_minutes`` -> ``--max-minutes``)."""
    return "--" + dest.replace("_", "-")


def _in_flag_terms(err: ScenarioError, flags: dict[str, tuple[str, Any]]) -> ScenarioError:
    """Re-word a scenario validation error so it names the flags the user typed.

    Each invalid option set from a flag is named by that flag with the value typed and what is
    allowed (``--max-minutes 0 is not allowed: use a number greater than 0 (minutes, e.g.
    --max-minutes 30)``); problems in options that came from ``--scenario FILE`` keep the
    scenario's field names. Errors without per-option problems are returned unchanged.
    """
    if not err.problems or not any(p.field in flags for p in err.problems):
        return err
    parts: list[Msg] = []
    for problem in err.problems:
        if problem.field in flags:
            flag, value = flags[problem.field]
            typed = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(problem.reword_message(flag, typed))
        else:
            parts.append(problem.message)
    return ScenarioError("cli.options_invalid", problems=err.problems, details=Joined(parts))


def _texts(lang: Lang) -> Callable[[str], str]:
    def text(key: str) -> str:
        return i18n.text(key, lang)

    return text


def _add_lang(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--lang`` after the command too (``solve --lang en``); unset unless given."""
    p.add_argument("--lang", choices=list(i18n.LANGS), default=argparse.SUPPRESS, help=help_text)
