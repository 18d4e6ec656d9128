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
import math
import os
import shutil
import sys
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planning import i18n, settings
from planning._atomic import replacing, replacing_folder, write_text
from planning._json import dumps
from planning.errors import PlanningError, PlanningWarning, ScenarioError
from planning.i18n import Joined, Lang, Msg
from planning.scenario import Scenario

if TYPE_CHECKING:
    from planning.models import Solution

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


def _scenario_from_args(args: argparse.Namespace) -> Scenario:
    """Start from ``--scenario FILE`` (or the defaults) and apply the options given."""
    if args.scenario:
        from planning.report.reproduce import load_scenario_for_run  # noqa: PLC0415

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
            warning = PlanningWarning("cli.sites_ignored_lscp", sites=args.sites)
            warnings.warn(warning, stacklevel=2)
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
    if getattr(args, "single_source", False):  # capacities, each demand point to one site
        constraints = base.constraints.model_dump(mode="json")
        constraints.update(capacitated=True, single_source=True)
        changes["constraints"] = constraints
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
    parts: list[Msg] = []
    for problem in err.problems:
        if problem.field in flags:
            flag, value = flags[problem.field]
            typed = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(problem.reword_message(flag, typed))
        else:
            parts.append(problem.message)
    return ScenarioError("cli.options_invalid", problems=err.problems, details=Joined(parts))


def _print_summary(plan: Any, out: Path | None, lang: str | None = None) -> None:
    from planning.report.labels import count_text  # noqa: PLC0415 - heavy (geopandas, openpyxl)
    from planning.results.privacy import count_mask, hidden_kpis  # noqa: PLC0415
    from planning.results.tables import capacity_advice  # noqa: PLC0415
    from planning.travel.table import travel_label_shown  # noqa: PLC0415

    lang = i18n.check_language(lang)
    k = plan.tables.kpis
    sol = plan.solution
    thr = plan.scenario.privacy_threshold
    gap: Msg | str = "" if sol.gap is None else Msg("cli.summary_gap", gap=sol.gap)
    mask = count_mask(plan.tables, threshold=thr)
    objective = (
        count_text(sol.objective, threshold=thr)
        if sol.model in {"mclp", "max_min"} and 0 < sol.objective < thr
        else f"{sol.objective:,.2f}"
    )
    covered = mask.kpi("patients_within")  # the MCLP objective: the patients within reach
    if (
        sol.model in {"mclp", "max_min"}
        and covered
        and abs(sol.objective - k.patients_within) < 0.5
    ):
        objective = covered
    hidden = mask.kpi_share_hidden()
    share: Msg | str = Msg("cli.share_hidden") if hidden else f"{k.share_within:.1%}"
    lines = [
        Msg(
            "cli.summary_scenario",
            name=plan.scenario.title(lang),
            region=plan.scenario.region,
            model=sol.model,
        ),
        Msg(
            "cli.summary_solver",
            solver=sol.solver,
            status=i18n.status_words(sol.status),
            gap=gap,
            seconds=sol.solve_time_s,
            objective=objective,
        ),
        Msg("cli.summary_travel", label=travel_label_shown(k.travel_label, lang=lang)),
        Msg(
            "cli.summary_sites",
            n=k.n_sites,
            existing=k.n_sites_existing,
            new=k.n_sites_new,
        ),
        Msg(
            "cli.summary_within",
            minutes=k.max_travel_min,
            within=mask.kpi_text("patients_within", k.patients_within),
            total=mask.kpi_text("patients_total", k.patients_total),
            share=share,
        ),
        Msg(
            "cli.summary_counties",
            with_site=k.counties_with_site,
            n=k.n_counties,
            share=k.county_share_with_site,
        ),
        Msg(
            "cli.summary_travel_times",
            mean=k.mean_travel_min,
            max=k.max_travel_min_observed,
        ),
    ]
    n_beyond = mask.kpi_text("patients_beyond_cutoff", k.patients_beyond_cutoff)
    if k.patients_beyond_cutoff > 1e-6:  # every travel figure says whom it leaves out
        if "share_beyond_cutoff" in hidden_kpis(plan.tables, threshold=thr):
            lines.append(Msg("cli.summary_beyond", cutoff=k.travel_cutoff_min, n=n_beyond))
        else:
            lines.append(
                Msg(
                    "cli.summary_beyond_share",
                    cutoff=k.travel_cutoff_min,
                    n=n_beyond,
                    share=f"{k.share_beyond_cutoff:.1%}",
                )
            )
    else:
        lines.append(Msg("cli.summary_all_counted", cutoff=k.travel_cutoff_min))
    lines.extend(_equity_lines(plan))
    lines.extend(_source_lines(plan))
    lines += capacity_advice(plan.tables)  # rendered in the summary's language
    if out is not None:
        lines.append(Msg("cli.written_to", path=str(out)))
    sys.stdout.write("\n".join(line.text(lang) for line in lines) + "\n")


def _equity_lines(plan: Any) -> list[Msg]:
    """How fair the plan is: each equity figure with its one-line explanation."""
    from planning.report.equity import equity_lines, lower_bound_note  # noqa: PLC0415

    thr = plan.scenario.privacy_threshold
    lines = [Msg("equity.cli_heading")]
    for line in equity_lines(plan.tables, threshold=thr):
        lines.append(Msg("equity.cli_line", label=line.label, value=line.value))
        lines.append(Msg("equity.cli_explanation", text=line.explanation))
    note = lower_bound_note(plan.tables, threshold=thr)
    if note is not None:
        lines.append(Msg("equity.cli_explanation", text=note))
    return lines


def _source_lines(plan: Any) -> list[Msg]:
    """Where the facility table and the site place names come from (shown with every plan)."""
    from planning import inputs  # noqa: PLC0415

    lines = []
    if plan.facilities is not None:
        source = inputs.describe_source(plan.facilities, file=plan.scenario.facilities_file)
        lines.append(Msg("osm.cli_facilities_line", source=source))
    lines.append(Msg("osm.cli_places_line", places=inputs.places_label(plan.sites)))
    named = plan.sites["place_source"] == "osm" if "place_source" in plan.sites else []
    if not any(named):  # how to get them
        lines.append(Msg("osm.cli_places_hint", region=plan.scenario.region))
    return lines


def solution_to_json(solution: Solution) -> dict[str, Any]:
    """Return the JSON-ready summary of ``solution`` printed by ``solve --json``.

    Keys: ``model``, ``status``, ``objective``, ``gap``, ``bound``, ``solver``,
    ``solve_time_s``, ``selected_sites``, ``assignment`` (rows ``demand_id``, ``site_id``,
    ``travel_min``, ``patients``), ``site_load`` (rows ``site_id``, ``patients``,
    ``capacity`` or ``null`` when unlimited), ``coverage_share``, ``mean_travel_min``.
    """
    import pandas as pd  # noqa: PLC0415 - heavy import, only for this command

    def num(v: object) -> float | None:
        if v is None:
            return None
        f = float(str(v))
        return f if math.isfinite(f) else None

    alloc = solution.allocation
    load = solution.extras.get("site_load")
    site_load = []
    if isinstance(load, pd.DataFrame):
        site_load = [
            {"site_id": str(r.site_id), "patients": num(r.patients), "capacity": num(r.capacity)}
            for r in load.itertuples()
        ]
    return {
        "model": solution.model,
        "status": solution.status,
        "objective": num(solution.objective),
        "gap": num(solution.gap),
        "bound": num(solution.bound),
        "solver": solution.solver,
        "solve_time_s": round(solution.solve_time_s + solution.build_time_s, 3),
        "selected_sites": list(solution.selected_sites),
        "assignment": [
            {
                "demand_id": str(r.demand_id),
                "site_id": str(r.site_id),
                "travel_min": num(r.travel_min),
                "patients": num(r.patients),
            }
            for r in alloc.itertuples()
        ],
        "site_load": site_load,
        "coverage_share": num(solution.extras.get("coverage_share")),
        "mean_travel_min": num(solution.extras.get("mean_travel_min")),
        "hubs": list(solution.extras.get("hubs", ()) or ()),  # type: ignore[call-overload]
    }


def solve_tables_command(args: Any, scenario: Any) -> int:
    """Run ``python -m planning solve --travel-times ...`` (from the planner's own tables).

    ``args`` is the parsed command line, ``scenario`` the scenario built from its options.
    Prints the JSON summary (``--json``) or a short text summary on stdout; with ``--out DIR``
    also writes ``result.json``, ``assignment.csv`` and ``scenario.json`` there.
    """
    from planning.models import solve  # noqa: PLC0415
    from planning.models.tables import load_model_input  # noqa: PLC0415
    from planning.suppression import protect_error  # noqa: PLC0415

    missing = [
        flag
        for flag, value in (("--demand", args.demand), ("--candidates", args.candidates))
        if not value
    ]
    if missing:
        raise ScenarioError("cli.travel_times_needs", flags=Joined(missing, sep="common.and_sep"))
    if args.capacity_column:
        constraints = scenario.constraints.model_dump(mode="json")
        constraints["capacitated"] = True
        scenario = scenario.replace(constraints=constraints)
    data = load_model_input(
        args.travel_times, args.demand, args.candidates, capacity_column=args.capacity_column
    )
    if (
        not scenario.constraints.capacitated
        and "capacity" in data.sites.columns
        and data.sites["capacity"].notna().any()
    ):  # capacities given but the model would not use them: say so, never silently
        warning = PlanningWarning(
            "models.capacity_unused", file=Path(args.candidates).name, column="capacity"
        )
        warnings.warn(warning, stacklevel=2)
    try:
        solution = solve(data, scenario)
    except PlanningError as err:  # its patient counts as every output shows them ("<5")
        raise protect_error(err, threshold=scenario.privacy_threshold) from None
    result = solution_to_json(solution)
    if args.out:  # written whole into a temporary folder, then swapped in (old kept on failure)
        with replacing_folder(Path(args.out)) as staging:
            write_text(staging / "result.json", dumps(result, indent=2))
            with replacing(staging / "assignment.csv") as tmp:
                solution.allocation.to_csv(tmp, index=False)
            scenario.save(staging / "scenario.json")
    if args.json:
        sys.stdout.write(dumps(result, indent=2) + "\n")
    else:
        gap: Msg | str = "" if solution.gap is None else Msg("cli.summary_gap", gap=solution.gap)
        line = Msg(
            "cli.tables_summary",
            model=solution.model,
            status=i18n.status_words(solution.status),
            gap=gap,
            objective=solution.objective,
            sites=", ".join(solution.selected_sites),
        )
        sys.stdout.write(line.text(args.ui_lang) + "\n")
    return 0


def _cmd_solve(args: argparse.Namespace) -> int:
    from planning import pipeline, report  # noqa: PLC0415

    scenario = _scenario_from_args(args)
    if args.travel_times:  # bring your own travel times: skip region, demand and travel steps
        return solve_tables_command(args, scenario)
    plan = pipeline.run(scenario)
    out = Path(args.out) if args.out else None
    if out is not None:
        report.export_plan(plan, out)
    if args.json:
        sys.stdout.write(dumps(report.plan_summary(plan), indent=2) + "\n")
    else:
        _print_summary(plan, out, args.ui_lang)
    return 0


def _texts(lang: Lang) -> Callable[[str], str]:
    def text(key: str) -> str:
        return i18n.text(key, lang)

    return text


def _add_lang(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--lang`` after the command too (``solve --lang en``); unset unless given."""
    p.add_argument("--lang", choices=list(i18n.LANGS), default=argparse.SUPPRESS, help=help_text)


def _add_solve(sub: argparse._SubParsersAction[Any], lang: Lang) -> None:
    t = _texts(lang)
    p = sub.add_parser(
        "solve",
        help=t("cli.solve_help"),
        description=t("cli.solve_description"),
        lang=lang,
    )
    p.add_argument("--scenario", metavar="FILE", help=t("cli.opt_scenario"))
    p.add_argument("--name", help=t("cli.opt_name"))
    p.add_argument("--region", help=t("cli.opt_region"))
    p.add_argument("--counties", metavar="LIST", help=t("cli.opt_counties"))
    p.add_argument("--model", choices=MODEL_CHOICES, help=t("cli.opt_model"))
    p.add_argument("--sites", type=int, metavar="P", help=t("cli.opt_sites"))
    p.add_argument("--max-minutes", type=float, metavar="T", help=t("cli.opt_max_minutes"))
    p.add_argument("--solver", choices=["highs", "cbc"], help=t("cli.opt_solver"))
    p.add_argument("--time-limit", type=float, metavar="SECONDS", help=t("cli.opt_time_limit"))
    p.add_argument("--mip-gap", type=float, metavar="GAP", help=t("cli.opt_mip_gap"))
    p.add_argument("--single-source", action="store_true", help=t("cli.opt_single_source"))
    p.add_argument("--prevalence", type=float, metavar="PER_MILLE", help=t("cli.opt_prevalence"))
    p.add_argument(
        "--in-scope-share", type=float, metavar="SHARE", help=t("cli.opt_in_scope_share")
    )
    p.add_argument("--cell-size", type=float, metavar="METRES", help=t("cli.opt_cell_size"))
    p.add_argument(
        "--candidate-spacing", type=float, metavar="METRES", help=t("cli.opt_candidate_spacing")
    )
    p.add_argument(
        "--candidate-source",
        choices=["grid", "facilities", "grid+facilities", "osm", "grid+osm"],
        help=t("cli.opt_candidate_source"),
    )
    p.add_argument("--facilities", metavar="FILE", help=t("cli.opt_facilities"))
    p.add_argument("--coords", metavar="SYSTEM", help=t("cli.opt_coords"))
    p.add_argument("--patients", metavar="FILE", help=t("cli.opt_patients"))
    p.add_argument(
        "--privacy-threshold", type=int, metavar="N", help=t("cli.opt_privacy_threshold")
    )
    p.add_argument("--travel", choices=["estimated", "network"], help=t("cli.opt_travel"))
    p.add_argument("--osm-file", metavar="FILE", help=t("cli.opt_osm_file"))
    p.add_argument("--out", metavar="DIR", help=t("cli.opt_out_plan"))
    p.add_argument("--json", action="store_true", help=t("cli.opt_json"))
    _add_lang(p, t("cli.opt_lang"))
    own = p.add_argument_group(t("cli.own_tables_title"), t("cli.own_tables_description"))
    own.add_argument("--travel-times", metavar="TT.csv", help=t("cli.opt_travel_times"))
    own.add_argument("--demand", metavar="D.csv", help=t("cli.opt_demand"))
    own.add_argument("--candidates", metavar="C.csv", help=t("cli.opt_candidates"))
    own.add_argument("--capacity-column", metavar="COL", help=t("cli.opt_capacity_column"))
    p.set_defaults(handler=_cmd_solve)


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
