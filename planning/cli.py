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

Every error the library raises on purpose (:class:`~planning.errors.PlanningError`) is printed
as one message on stderr with exit status 2; nothing else is caught, so bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from planning import settings
from planning.errors import PlanningError, ScenarioError
from planning.scenario import Scenario

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]
MODEL_CHOICES = ["mclp", "p-median", "lscp", "p-center"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # exit status 2 with a hint, like argparse
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n(see `{self.prog} --help`)\n")


def _scenario_from_args(args: argparse.Namespace) -> Scenario:
    """Start from ``--scenario FILE`` (or the defaults) and apply the options given."""
    if args.scenario:
        from planning.report.kit import load_scenario_for_run  # noqa: PLC0415

        base = load_scenario_for_run(args.scenario)  # relative input paths: next to the file
    else:
        base = Scenario()
    changes: dict[str, Any] = {}
    simple = {
        "name": "name",
        "region": "region",
        "model": "model",
        "max_minutes": "max_travel_min",
        "solver": "solver",
        "time_limit": "time_limit_s",
        "mip_gap": "mip_gap",
        "prevalence": "prevalence_per_mille",
        "in_scope_share": "in_scope_share",
        "cell_size": "cell_size_m",
        "candidate_spacing": "candidate_spacing_m",
        "candidate_source": "candidate_source",
        "coords": "facilities_crs",
        "privacy_threshold": "privacy_threshold",
    }
    flags: dict[str, tuple[str, Any]] = {}  # scenario field -> (flag, value typed)
    for arg, field in simple.items():
        value = getattr(args, arg, None)
        if value is not None:
            changes[field] = value
            flags[field] = (_flag(arg), value)
    if args.counties:
        changes["counties"] = [c.strip() for c in args.counties.split(",") if c.strip()]
        flags["counties"] = ("--counties", args.counties)
    model = (args.model or base.model).replace("-", "_")
    if model == "lscp":  # LSCP chooses the number of sites itself; p is not part of it
        changes["n_facilities"] = None
        if args.sites is not None:
            msg = (
                f"--sites {args.sites} is ignored: LSCP chooses the number of sites itself "
                "(the fewest that put every patient within --max-minutes). To fix the number "
                "of sites, use --model mclp, p-median or p-center."
            )
            warnings.warn(msg, UserWarning, stacklevel=2)
    elif args.sites is not None:
        changes["n_facilities"] = args.sites
        flags["n_facilities"] = ("--sites", args.sites)
    if args.facilities:
        changes["facilities_file"] = str(Path(args.facilities).resolve())
        changes["facilities_input_crs"] = None  # read in --coords (facilities_crs) as given
        if "candidate_source" not in changes and base.candidate_source == "grid":
            changes["candidate_source"] = "grid+facilities"
    if args.patients:
        changes["patients_file"] = str(Path(args.patients).resolve())
    travel = base.travel.model_dump(mode="json")
    if getattr(args, "travel", None):
        travel["mode"] = args.travel
    if getattr(args, "osm_file", None):
        travel["osm_file"] = str(Path(args.osm_file).resolve())
        travel["mode"] = "network" if not getattr(args, "travel", None) else travel["mode"]
    changes["travel"] = travel
    try:
        return base.replace(**changes)
    except ScenarioError as err:
        raise _in_flag_terms(err, flags) from None


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
    parts = []
    for problem in err.problems:
        if problem.field in flags:
            flag, value = flags[problem.field]
            typed = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(problem.reword(flag, typed))
        else:
            parts.append(problem.text)
    return ScenarioError("; ".join(parts) + ".", problems=err.problems)


def _print_summary(plan: Any, out: Path | None) -> None:
    from planning.report.labels import count_text  # noqa: PLC0415 - heavy (geopandas, openpyxl)
    from planning.results.privacy import count_mask  # noqa: PLC0415

    k = plan.tables.kpis
    sol = plan.solution
    thr = plan.scenario.privacy_threshold
    gap = "" if sol.gap is None else f", gap {sol.gap:.2%}"
    mask = count_mask(plan.tables, threshold=thr)
    objective = (
        count_text(sol.objective, threshold=thr)
        if sol.model == "mclp" and 0 < sol.objective < thr
        else f"{sol.objective:,.2f}"
    )
    covered = mask.kpi("patients_within")  # the MCLP objective: the patients within reach
    if sol.model == "mclp" and covered and abs(sol.objective - k["patients_within"]) < 0.5:
        objective = covered
    hidden = mask.kpi_share_hidden()
    share = "share not shown: small counts" if hidden else f"{k['share_within']:.1%}"
    lines = [
        f"Scenario: {plan.scenario.name} | region {plan.scenario.region} | model {sol.model}",
        (
            f"Solver: {sol.solver} -> {sol.status}{gap} in {sol.solve_time_s:.1f} s; "
            f"objective {objective}"
        ),
        f"Travel: {k['travel_label']}",
        f"Sites: {k['n_sites']} ({k['n_sites_existing']} existing, {k['n_sites_new']} new)",
        (
            f"Patients within {k['max_travel_min']:g} min: "
            f"{mask.kpi_text('patients_within', k['patients_within'])} of "
            f"{mask.kpi_text('patients_total', k['patients_total'])} ({share})"
        ),
        (
            f"Counties with a site: {k['counties_with_site']} of {k['n_counties']} "
            f"({k['county_share_with_site']:.0%})"
        ),
        (
            f"Mean travel to the nearest open site: {k['mean_travel_min']:.1f} min; "
            f"max {k['max_travel_min_observed']:.1f} min"
        ),
    ]
    if k["patients_beyond_cutoff"] > 0.5:
        cutoff = plan.travel.cutoff_min
        lines.append(
            f"Patients with no open site within {cutoff:g} min (not in the mean): "
            f"{mask.kpi_text('patients_beyond_cutoff', k['patients_beyond_cutoff'])}"
        )
    if out is not None:
        lines.append(f"Written to {out}")
    sys.stdout.write("\n".join(lines) + "\n")


def _cmd_solve(args: argparse.Namespace) -> int:
    from planning import pipeline, report  # noqa: PLC0415

    scenario = _scenario_from_args(args)
    if args.travel_times:  # bring your own travel times: skip region, demand and travel steps
        from planning.models.tables import solve_tables_command  # noqa: PLC0415

        return solve_tables_command(args, scenario)
    plan = pipeline.run(scenario)
    out = Path(args.out) if args.out else None
    if out is not None:
        report.export_plan(plan, out)
    if args.json:
        sys.stdout.write(json.dumps(report.plan_summary(plan), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_summary(plan, out)
    return 0


def _add_solve(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "solve",
        help="choose rehab sites for a region and write the plan",
        description=(
            "Choose community rehabilitation sites for a region (default 莆田市) and write the "
            "chosen sites (GeoJSON, CSV), assignments, a per-county summary and scenario.json. "
            "Example: python -m planning solve --region 莆田市 --model mclp --sites 6 "
            "--max-minutes 30 --out plan/"
        ),
    )
    p.add_argument("--scenario", metavar="FILE", help="start from this scenario.json")
    p.add_argument("--name", help="scenario name shown in outputs")
    p.add_argument(
        "--region", help="province, city or county: Chinese name or adcode (default 莆田市)"
    )
    p.add_argument(
        "--counties", metavar="LIST", help="comma-separated subset of the region's counties"
    )
    p.add_argument("--model", choices=MODEL_CHOICES, help="siting model (default mclp)")
    p.add_argument(
        "--sites",
        type=int,
        metavar="P",
        help="number of sites, existing included (lscp chooses it itself and ignores --sites)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        metavar="T",
        help="travel-time threshold in minutes (default 30)",
    )
    p.add_argument("--solver", choices=["highs", "cbc"], help="MIP solver (default highs)")
    p.add_argument(
        "--time-limit", type=float, metavar="SECONDS", help="solver time limit (default 60)"
    )
    p.add_argument(
        "--mip-gap", type=float, metavar="GAP", help="relative MIP gap to stop at (default 0)"
    )
    p.add_argument(
        "--prevalence",
        type=float,
        metavar="PER_MILLE",
        help="registered prevalence per 1,000 residents (default 4.60)",
    )
    p.add_argument(
        "--in-scope-share",
        type=float,
        metavar="SHARE",
        help="share of registered patients counted (default 1.0)",
    )
    p.add_argument(
        "--cell-size", type=float, metavar="METRES", help="demand cell size (default 2000)"
    )
    p.add_argument(
        "--candidate-spacing",
        type=float,
        metavar="METRES",
        help="generated candidate grid spacing (default 5000)",
    )
    p.add_argument(
        "--candidate-source",
        choices=["grid", "facilities", "grid+facilities"],
        help="where candidates come from",
    )
    p.add_argument(
        "--facilities", metavar="FILE", help="facility table (CSV/XLSX/GeoJSON/GPKG/zipped SHP)"
    )
    p.add_argument(
        "--coords",
        metavar="SYSTEM",
        help=(
            "coordinate system of --facilities/--patients: wgs84, gcj02 (AMap), bd09 (Baidu), "
            "cgcs2000 or EPSG:<code>"
        ),
    )
    p.add_argument(
        "--patients",
        metavar="FILE",
        help="patient counts per county or per point, replacing the estimate",
    )
    p.add_argument(
        "--privacy-threshold",
        type=int,
        metavar="N",
        help="counts below N are shown as <N (default 5)",
    )
    p.add_argument(
        "--travel",
        choices=["estimated", "network"],
        help=(
            "travel times: straight-line estimate (default) or OpenStreetMap road network "
            "(downloaded once and cached; falls back to the estimate with a warning when offline)"
        ),
    )
    p.add_argument(
        "--osm-file",
        metavar="FILE",
        help=(
            "local OpenStreetMap extract (.osm.pbf, .osm, .osm.xml) for --travel network, e.g. "
            "fujian-latest.osm.pbf from download.geofabrik.de; implies --travel network"
        ),
    )
    p.add_argument("--out", metavar="DIR", help="write the plan to this folder")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    own = p.add_argument_group(
        "bring your own travel times",
        "solve from your own tables instead of a region (see planning/models/tables.py)",
    )
    own.add_argument(
        "--travel-times",
        metavar="TT.csv",
        help="long table demand_id, site_id, minutes (CSV or XLSX)",
    )
    own.add_argument("--demand", metavar="D.csv", help="table demand_id, weight (patients)")
    own.add_argument(
        "--candidates",
        metavar="C.csv",
        help="table site_id with optional cost, capacity, fixed (true/false)",
    )
    own.add_argument(
        "--capacity-column",
        metavar="COL",
        help="candidate column holding capacities; makes the model capacitated",
    )
    p.set_defaults(handler=_cmd_solve)


def _cmd_export(args: argparse.Namespace) -> int:
    from planning import pipeline, report  # noqa: PLC0415

    scenario = report.load_scenario_for_run(args.scenario_file)
    formats = report.parse_formats(args.format or ["all"])
    plan = pipeline.run(scenario)
    paths = report.export(
        plan,
        Path(args.out),
        formats=formats,
        papers=args.paper or ["a4"],
        lang=args.lang,
        dpi=args.dpi,
        include_patient_counts=args.include_patient_counts,
    )
    sys.stdout.write("\n".join(str(p) for p in paths) + "\n")
    return 0


def _add_export(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "export",
        help="solve a saved scenario and write the meeting kit (XLSX, GIS layers, maps)",
        description=(
            "Run the pipeline for SCENARIO.json and write the chosen formats plus scenario.json "
            "(with copies of its input files) to --out. Formats: xlsx (facility plan "
            "workbook), gpkg (GeoPackage: sites, demand_cells, counties, assignments), geojson, "
            "csv, html (interactive map), pdf and png (printable map), or all. Example: "
            "python -m planning export plan/scenario.json --format xlsx --format pdf "
            "--paper a3 --out meeting/"
        ),
    )
    p.add_argument("scenario_file", metavar="SCENARIO.json", help="a saved scenario")
    p.add_argument(
        "--format",
        action="append",
        metavar="FORMAT",
        help="xlsx, gpkg, geojson, csv, html, pdf, png or all (repeat or comma-separate; "
        "default all)",
    )
    p.add_argument(
        "--paper",
        action="append",
        choices=["a4", "a3"],
        help="printable map size, landscape (repeatable; default a4)",
    )
    p.add_argument(
        "--lang",
        choices=["zh", "en"],
        default="zh",
        help="language of headers and map text (default zh)",
    )
    p.add_argument("--dpi", type=int, default=200, help="PNG map resolution (default 200)")
    p.add_argument(
        "--include-patient-counts",
        action="store_true",
        help="copy the scenario's patient-count file into DIR/inputs (exact counts: keep the "
        "folder private); by default scenario.json refers to the original file",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write to")
    p.set_defaults(handler=_cmd_export)


def _cmd_rollout(args: argparse.Namespace) -> int:
    from planning import pipeline, report  # noqa: PLC0415
    from planning.models import rollout  # noqa: PLC0415

    scenario = report.load_scenario_for_run(args.scenario_file)
    inputs = pipeline.prepare(scenario)
    result = rollout.plan_rollout(inputs, suggest=not args.no_suggest)
    report.export_rollout(
        result,
        Path(args.out),
        sites=inputs.sites,
        counties=inputs.counties,
        travel_label=inputs.travel.label,
    )
    sys.stdout.write(rollout.format_rollout(result) + f"\nWritten to {args.out}\n")
    return 0


def _add_rollout(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "rollout",
        help="plan which sites open in which year to meet the yearly milestones",
        description=(
            "Phased rollout (issue #8): for the years, new sites / budgets and milestone targets "
            "in SCENARIO.json (rollout.phases; default 2023-2025 with 50/65/80 %% of counties "
            "and 30/45/60 %% of patients), choose the opening year of each site. Prints the "
            "year-by-year table with met/SHORT and, for each missed milestone, the smallest "
            "extra sites or budget that would meet it; writes rollout.xlsx (a sheet per year), "
            "rollout.gpkg, rollout_*.csv and scenario.json to --out. Example: "
            "python -m planning rollout scenario.json --out rollout/"
        ),
    )
    p.add_argument("scenario_file", metavar="SCENARIO.json", help="a saved scenario")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write to")
    p.add_argument(
        "--no-suggest",
        action="store_true",
        help="skip the search for the smallest change meeting each missed milestone",
    )
    p.set_defaults(handler=_cmd_rollout)


COMMANDS: list[Callable[[argparse._SubParsersAction[Any]], None]] = [
    _add_solve,
    _add_export,
    _add_rollout,
]


def build_parser() -> argparse.ArgumentParser:
    """Return the ``python -m planning`` argument parser."""
    parser = _Parser(
        prog="python -m planning",
        description="Kangle Planner (康乐家园选址规划): site community rehabilitation services.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else settings.log_level_quiet(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        # third-party deprecations (e.g. pulp's on the CBC interface) are for developers, not
        # planners; the project's own warnings and deprecations are still shown
        for category in (DeprecationWarning, PendingDeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=r"(?!planning\b)")
        warnings.showwarning = _show_warning
        try:
            return int(args.handler(args))
        except PlanningError as err:
            sys.stderr.write(f"error: {err}\n")
            return 2


def _show_warning(message: Any, *_: Any, **__: Any) -> None:
    sys.stderr.write(f"warning: {message}\n")
