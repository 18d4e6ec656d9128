"""``batch``: plan every unit of a region on Dask, with a progress bar and a roll-up."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
import unicodedata
from typing import Any

from planning import i18n
from planning.cli._common import (
    _add_lang,
    _t,
    _texts,
)
from planning.errors import ScenarioError
from planning.i18n import Lang
from planning.scenario import Scenario

logger = logging.getLogger(__name__)


def _clip(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` terminal columns (Chinese characters take two)."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used > width:
            return text[:i]
    return text


class _BatchBar:
    """Progress of ``batch`` on stderr: a bar redrawn in place on a terminal, else plain lines."""

    WIDTH = 24
    HEARTBEAT_S = 30.0

    def __init__(self, stream: Any, lang: Lang) -> None:
        self.stream = stream
        self.lang = lang
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.drawn = False
        self.last_line = 0.0

    def __call__(self, p: Any) -> None:
        from planning.batch import format_elapsed  # noqa: PLC0415 - dask is heavy

        if self.drawn:
            self.stream.write("\r\033[K")
            self.drawn = False
        if p.finished is not None:
            o = p.finished
            params = {
                "finished": p.done + p.failed,
                "total": p.total,
                "elapsed": format_elapsed(p.elapsed_s),
                "name": o.unit.name,
                "adcode": o.unit.adcode,
            }
            if o.status == "done":
                line = i18n.text("batch.unit_done", self.lang, seconds=o.elapsed_s, **params)
            else:
                line = i18n.text(
                    "batch.unit_failed", self.lang, message=o.message(self.lang), **params
                )
            self.stream.write(line + "\n")
        if self.tty:
            filled = round(self.WIDTH * p.fraction)
            bar = "█" * filled + "░" * (self.WIDTH - filled)
            width = max(shutil.get_terminal_size().columns - 1, 20)
            self.stream.write(_clip(f"{bar} {p.text(self.lang)}", width))
            self.drawn = True
        elif p.finished is None and time.monotonic() - self.last_line > self.HEARTBEAT_S:
            self.stream.write(p.text(self.lang) + "\n")
            self.last_line = time.monotonic()
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def _cmd_batch(args: argparse.Namespace) -> int:
    from planning import batch  # noqa: PLC0415 - dask is heavy
    from planning.report.kit import load_scenario_for_run  # noqa: PLC0415

    # Dask's own start/stop chatter is for --verbose; its warnings and errors still show
    logging.getLogger("distributed").setLevel(logging.INFO if args.verbose else logging.ERROR)
    if args.workers is not None and args.workers < 1:
        raise ScenarioError("batch.workers_invalid", workers=args.workers)
    template = load_scenario_for_run(args.scenario) if args.scenario else Scenario()
    bar = _BatchBar(sys.stderr, args.ui_lang)
    try:
        result = batch.run_batch(
            template,
            args.region,
            args.by,
            args.out,
            only=[x for x in (args.only or "").split(",") if x.strip()] or None,
            workers=args.workers,
            scheduler=args.scheduler,
            force=args.force,
            progress=bar,
            lang=args.lang or "zh",  # the roll-up is Chinese unless --lang says otherwise
            papers=(args.paper,),
        )
    except KeyboardInterrupt:
        bar.close()
        sys.stderr.write(_t(args, "batch.interrupted", folder=str(args.out)) + "\n")
        return 130
    finally:
        bar.close()
    sys.stdout.write("\n".join(result.summary_lines(lang=args.ui_lang)) + "\n")
    if result.failed:
        csv = result.out_dir / "batch_summary.csv"
        text = _t(
            args,
            "batch.some_failed",
            failed=len(result.failed),
            units=len(result.units),
            csv=str(csv),
        )
        sys.stderr.write(_t(args, "cli.error", message=text) + "\n")
        return 2
    return 0


def _add_batch(sub: argparse._SubParsersAction[Any], lang: Lang) -> None:
    t = _texts(lang)
    p = sub.add_parser(
        "batch", help=t("batch.cli_help"), description=t("batch.cli_description"), lang=lang
    )
    p.add_argument("--region", required=True, help=t("batch.opt_region"))
    p.add_argument(
        "--by",
        choices=["province", "prefecture", "county"],
        default="prefecture",
        help=t("batch.opt_by"),
    )
    p.add_argument("--scenario", metavar="FILE", help=t("batch.opt_scenario"))
    p.add_argument("--out", required=True, metavar="DIR", help=t("batch.opt_out"))
    p.add_argument("--only", metavar="LIST", help=t("batch.opt_only"))
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help=t("batch.opt_workers"))
    where.add_argument("--scheduler", metavar="ADDRESS", help=t("batch.opt_scheduler"))
    p.add_argument("--force", action="store_true", help=t("batch.opt_force"))
    p.add_argument("--paper", choices=["a4", "a3"], default="a4", help=t("batch.opt_paper"))
    _add_lang(p, t("cli.opt_lang_export"))
    p.set_defaults(handler=_cmd_batch)
