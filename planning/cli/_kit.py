"""``export``, ``rollout``, ``overview``, ``sensitivity``, ``facilities``: on a scenario."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from planning.cli._common import _add_lang, _t, _texts
from planning.errors import PlanningError, ScenarioError
from planning.i18n import Lang, Msg
from planning.scenario import Scenario

logger = logging.getLogger(__name__)


def _cmd_export(args: argparse.Namespace) -> int:
    from planning import pipeline, report  # noqa: PLC0415
    from planning.report.printmap import check_dpi  # noqa: PLC0415

    scenario = report.load_scenario_for_run(args.scenario_file)
    formats = report.parse_formats(args.format or ["all"])
    check_dpi(args.dpi)  # before the solve, not after it
    plan = pipeline.run(scenario)
    paths = report.export(
        plan,
        Path(args.out),
        formats=formats,
        papers=args.paper or ["a4"],
        lang=args.lang or "zh",  # the kit is Chinese unless --lang says otherwise
        dpi=args.dpi,
        include_patient_counts=args.include_patient_counts,
    )
    sys.stdout.write("\n".join(str(p) for p in paths) + "\n")
    return 0


def _add_export(sub: argparse._SubParsersAction[Any], lang: Lang) -> None:
    t = _texts(lang)
    p = sub.add_parser(
        "export",
        help=t("cli.export_help"),
        description=t("cli.export_description"),
        lang=lang,
    )
    p.add_argument("scenario_file", metavar="SCENARIO.json", help=t("cli.arg_scenario_file"))
    p.add_argument("--format", action="append", metavar="FORMAT", help=t("cli.opt_format"))
    p.add_argument("--paper", action="append", choices=["a4", "a3"], help=t("cli.opt_paper"))
    _add_lang(p, t("cli.opt_lang_export"))
    p.add_argument("--dpi", type=int, default=200, help=t("cli.opt_dpi"))
    p.add_argument(
        "--include-patient-counts",
        action="store_true",
        help=t("cli.opt_include_patient_counts"),
    )
    p.add_argument("--out", required=True, metavar="DIR", help=t("cli.opt_out_folder"))
    p.set_defaults(handler=_cmd_export)


def _cmd_rollout(args: argparse.Namespace) -> int:
    from planning import pipeline, report  # noqa: PLC0415
    from planning.results import rollout  # noqa: PLC0415

    scenario = report.load_scenario_for_run(args.scenario_file)
    inputs = pipeline.prepare(scenario)
    result = pipeline.rollout(inputs, suggest=not args.no_suggest)
    report.export_rollout(
        result,
        Path(args.out),
        sites=inputs.sites,
        counties=inputs.counties,
        travel_label=inputs.travel.label,
    )
    written = _t(args, "cli.written_to", path=args.out)
    sys.stdout.write(rollout.format_rollout(result, lang=args.ui_lang) + f"\n{written}\n")
    return 0


def _add_rollout(sub: argparse._SubParsersAction[Any], lang: Lang) -> None:
    t = _texts(lang)
    p = sub.add_parser(
        "rollout",
        help=t("cli.rollout_help"),
        description=t("cli.rollout_description"),
        lang=lang,
    )
    p.add_argument("scenario_file", metavar="SCENARIO.json", help=t("cli.arg_scenario_file"))
    p.add_argument("--out", required=True, metavar="DIR", help=t("cli.opt_out_folder"))
    p.add_argument("--no-suggest", action="store_true", help=t("cli.opt_no_suggest"))
    _add_lang(p, t("cli.opt_lang"))
    p.set_defaults(handler=_cmd_rollout)


def _cmd_overview(args: argparse.Namespace) -> int:
    from planning import pipeline, report  # noqa: PLC0415

    scenario = report.load_scenario_for_run(args.scenario_file)
    plan = pipeline.run(scenario)
    text = report.format_overview(plan, lang=args.ui_lang)
    if args.out:
        report.export_province_overview(plan, Path(args.out), lang=args.ui_lang)
        text += "\n" + _t(args, "cli.written_to", path=args.out)
    sys.stdout.write(text + "\n")
    return 0


def _add_overview(sub: argparse._SubParsersAction[Any], lang: Lang) -> None:
    t = _texts(lang)
    p = sub.add_parser(
        "overview",
        help=t("cli.overview_help"),
        description=t("cli.overview_description"),
        lang=lang,
    )
    p.add_argument("scenario_file", metavar="SCENARIO.json", help=t("cli.arg_scenario_file"))
    p.add_argument("--out", metavar="DIR", help=t("cli.opt_out_overview"))
    _add_lang(p, t("cli.opt_lang"))
    p.set_defaults(handler=_cmd_overview)


def _floats(text: str) -> list[float]:
    """``"3.80,4.60,5.29"`` -> ``[3.8, 4.6, 5.29]`` (for ``sensitivity``)."""
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        msg = f"not a comma-separated list of numbers: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from planning import report, sensitivity  # noqa: PLC0415
    from planning.report.sensitivity import (  # noqa: PLC0415
        export_sensitivity,
        format_sensitivity,
    )

    scenario = report.load_scenario_for_run(args.scenario_file)
    result = sensitivity.run_sensitivity(
        scenario,
        prevalence_per_mille=args.prevalence or (),
        speed_factors=args.speed_factor or (),
        robust=None if args.robust == "none" else args.robust,
        workers=args.workers,
    )
    text = format_sensitivity(result, lang=args.ui_lang)
    if args.out:
        export_sensitivity(result, Path(args.out), lang=args.ui_lang)
        text += "\n" + _t(args, "cli.written_to", path=args.out)
    sys.stdout.write(text + "\n")
    return 0


def _add_sensitivity(sub: argparse._SubParsersAction[Any], lang: Lang) -> None:
    t = _texts(lang)
    p = sub.add_parser(
        "sensitivity",
        help=t("cli.sensitivity_help"),
        description=t("cli.sensitivity_description"),
        lang=lang,
    )
    p.add_argument("scenario_file", metavar="SCENARIO.json", help=t("cli.arg_scenario_file"))
    p.add_argument("--prevalence", type=_floats, metavar="P1,P2,...", help=t("cli.opt_prevalence"))
    p.add_argument(
        "--speed-factor", type=_floats, metavar="F1,F2,...", help=t("cli.opt_speed_factor")
    )
    p.add_argument(
        "--robust",
        choices=["regret", "coverage", "none"],
        default="regret",
        help=t("cli.opt_robust"),
    )
    p.add_argument("--workers", type=int, default=1, help=t("cli.opt_workers"))
    p.add_argument("--out", metavar="DIR", help=t("cli.opt_out_sensitivity"))
    _add_lang(p, t("cli.opt_lang"))
    p.set_defaults(handler=_cmd_sensitivity)


def _facilities_region(args: argparse.Namespace) -> tuple[Any, tuple[float, ...] | None]:
    """Return the area to read: counties, a bounding box, or ``None`` (the whole file)."""
    import shapely  # noqa: PLC0415

    from planning import inputs  # noqa: PLC0415

    text = args.region
    if text is None and args.osm_file:
        return None, None
    parts = [p.strip() for p in (text or "").split(",")]
    if len(parts) == 4:  # lon_min,lat_min,lon_max,lat_max
        try:
            box = tuple(float(p) for p in parts)
        except ValueError:
            box = ()
        if box:
            if not (box[0] < box[2] and box[1] < box[3]):
                raise ScenarioError("osm.cli_bbox_invalid", bbox=text)
            return shapely.box(*box), box
    counties = [c.strip() for c in args.counties.split(",")] if args.counties else None
    return inputs.load_counties(text or Scenario().region, counties=counties), None


def _cmd_facilities(args: argparse.Namespace) -> int:
    from planning import inputs  # noqa: PLC0415
    from planning._osm import pbf_bounds  # noqa: PLC0415
    from planning.errors import NetworkError  # noqa: PLC0415

    region, box = _facilities_region(args)
    bounds = inputs.CHINA_BOUNDS
    if box is not None:  # test data from elsewhere: its own box, never a planner's upload
        bounds = (box[0], box[1], box[2], box[3])
    elif region is None:
        bounds = pbf_bounds(args.osm_file) or (-180.0, -90.0, 180.0, 90.0)
    try:
        result = inputs.load_osm_facilities(
            region, osm_file=args.osm_file, refresh=args.refresh, bounds=bounds
        )
    except NetworkError as err:  # offline, no cache, no file: say so and carry on
        sys.stderr.write(_t(args, "cli.warning", message=err.text(args.ui_lang)) + "\n")
        sys.stdout.write(_t(args, "osm.cli_nothing_written") + "\n")
        return 0
    if result.table.empty:  # the warnings said why; an empty table would only overwrite
        sys.stdout.write(_t(args, "osm.cli_nothing_written") + "\n")
        return 0
    out = inputs.write_facility_table(result, args.out)
    counts = result.table["类型"].value_counts()
    by_type = _t(args, "common.list_sep").join(f"{t} {n}" for t, n in counts.items())
    origin: Msg | str = Path(result.source).name
    if result.source == "OpenStreetMap download":
        origin = Msg("osm.cli_cached" if result.from_cache else "osm.cli_downloaded")
    lines = [_t(args, "osm.cli_found", count=len(result.table), source=result.label, origin=origin)]
    if by_type:
        lines.append(f"  {by_type}")
    if len(result.left_out):
        lines.append(_t(args, "osm.cli_left_out", count=len(result.left_out)))
    try:  # the region's place names too, cached for its plans (site names without a grid id)
        found = inputs.load_osm_places(region, osm_file=args.osm_file, refresh=args.refresh)
        lines.append(_t(args, "osm.cli_places", count=len(found.points) + len(found.areas)))
    except PlanningError as err:
        sys.stderr.write(_t(args, "cli.warning", message=err.text(args.ui_lang)) + "\n")
    lines.append(_t(args, "osm.cli_written", file=str(out)))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _add_facilities(sub: argparse._SubParsersAction[Any], lang: Lang) -> None:
    t = _texts(lang)
    p = sub.add_parser(
        "facilities",
        help=t("osm.cli_help"),
        description=t("osm.cli_description"),
        lang=lang,
    )
    p.add_argument("--region", help=t("osm.cli_opt_region"))
    p.add_argument("--counties", metavar="LIST", help=t("cli.opt_counties"))
    p.add_argument("--osm-file", metavar="FILE", help=t("osm.cli_opt_osm_file"))
    p.add_argument("--out", default="facilities.csv", metavar="FILE", help=t("osm.cli_opt_out"))
    p.add_argument("--refresh", action="store_true", help=t("osm.cli_opt_refresh"))
    _add_lang(p, t("cli.opt_lang"))
    p.set_defaults(handler=_cmd_facilities)
