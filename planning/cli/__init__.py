"""Command line: ``python -m planning <command> ...`` (also installed as ``kangle``).

Commands
--------
solve
    Site rehab centres for a region (or for your own travel-time tables) and write the plan.
export
    Solve a saved ``scenario.json`` and write the meeting kit: XLSX workbook, GeoPackage,
    GeoJSON, CSV, HTML map, printable PDF/PNG map.
rollout
    Plan which sites open in which year to meet the yearly policy milestones (phased rollout).
overview
    Solve a saved ``scenario.json`` and print and write the province overview: per prefecture
    and county, sites, patients within reach, hubs, against the 2023-2025 milestones.
sensitivity
    Re-solve a saved ``scenario.json`` over prevalences and speed factors: how coverage,
    travel and fairness move, which sites are chosen in every case, and a robust plan.
facilities
    Health and social facilities of a region from OpenStreetMap (download or ``--osm-file``),
    typed and dated, as a facility table to review and use with ``solve --facilities``.
batch
    Plan every prefecture (county, province) of a region at once on Dask, with a roll-up.

Every error the library raises on purpose (:class:`~planning.errors.PlanningError`) is printed
as one message on stderr with exit status 2; nothing else is caught, so bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from planning import i18n, settings
from planning.cli._batch import _add_batch
from planning.cli._common import _language, _Parser, _t, _texts
from planning.cli._kit import (
    _add_export,
    _add_facilities,
    _add_overview,
    _add_rollout,
    _add_sensitivity,
)
from planning.cli._solve import (
    _add_solve,
    _print_summary,
    _scenario_from_args,
    solution_to_json,
    solve_tables_command,
)
from planning.errors import PlanningError, PlanningWarning
from planning.i18n import Lang

__all__ = [
    "_print_summary",
    "_scenario_from_args",
    "_warning_printer",
    "build_parser",
    "main",
    "solution_to_json",
    "solve_tables_command",
]

logger = logging.getLogger(__name__)


COMMANDS: list[Callable[[argparse._SubParsersAction[Any], Lang], None]] = [
    _add_solve,
    _add_export,
    _add_rollout,
    _add_overview,
    _add_facilities,
    _add_batch,
    _add_sensitivity,
]


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    """Return the ``python -m planning`` argument parser, its help in ``lang``.

    ``lang`` is ``"zh"`` or ``"en"``; ``None`` uses :func:`planning.i18n.default_language`
    (``KANGLE_LANG``, else Chinese).
    """
    language = i18n.check_language(lang)
    t = _texts(language)
    parser = _Parser(prog="python -m planning", description=t("cli.description"), lang=language)
    parser.add_argument("-v", "--verbose", action="store_true", help=t("cli.opt_verbose"))
    parser.add_argument("--lang", choices=list(i18n.LANGS), default=None, help=t("cli.opt_lang"))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in COMMANDS:
        add(sub, language)
    return parser


@contextlib.contextmanager
def _default_language(lang: Lang) -> Iterator[None]:
    """Make ``lang`` the default language while the command runs (``str()`` of messages)."""
    before = os.environ.get("KANGLE_LANG")
    os.environ["KANGLE_LANG"] = lang
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("KANGLE_LANG", None)
        else:
            os.environ["KANGLE_LANG"] = before


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input).

    Messages, help and the solve summary are in the language of ``--lang`` (before or after
    the command), else ``KANGLE_LANG``, else Chinese; ``--json`` output is the same in both.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    lang = _language(arguments)
    parser = build_parser(lang)
    args = parser.parse_args(arguments)
    args.ui_lang = i18n.check_language(args.lang) if args.lang else lang
    logging.basicConfig(
        level=logging.INFO if args.verbose else settings.log_level_quiet(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    with warnings.catch_warnings(), _default_language(args.ui_lang):
        warnings.simplefilter("default")
        # third-party deprecations (e.g. pulp's on the CBC interface) are for developers, not
        # planners; the project's own warnings and deprecations are still shown
        for category in (DeprecationWarning, PendingDeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=r"(?!planning\b)")
        warnings.showwarning = _warning_printer(args.ui_lang)
        try:
            return int(args.handler(args))
        except PlanningError as err:
            sys.stderr.write(_t(args, "cli.error", message=err.text(args.ui_lang)) + "\n")
            return 2


def _warning_printer(lang: Lang) -> Callable[..., None]:
    def show(message: Any, category: Any = None, *_: Any, **__: Any) -> None:
        numeric = isinstance(message, RuntimeWarning) or (
            isinstance(category, type) and issubclass(category, RuntimeWarning)
        )
        if numeric and not isinstance(message, PlanningWarning):
            # numpy's "overflow encountered" and the like are for developers (--verbose logs
            # them); inputs are bounded, and what the planner must know is a PlanningWarning
            logger.info("Numerical warning: %s", message)
            return
        text = message.text(lang) if isinstance(message, PlanningWarning) else str(message)
        sys.stderr.write(i18n.text("cli.warning", lang, message=text) + "\n")

    return show
