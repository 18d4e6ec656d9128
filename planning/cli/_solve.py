"""``solve``: site rehab centres for a region (or own travel-time tables), write the plan."""

from __future__ import annotations

import argparse
import logging
import math
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planning import i18n
from planning._atomic import replacing, replacing_folder, write_text
from planning._json import dumps
from planning.errors import PlanningError, PlanningWarning, ScenarioError
from planning.i18n import Joined, Lang, Msg
from planning.scenario import Scenario

if TYPE_CHECKING:
    from planning.models import Solution

from planning.cli._common import MODEL_CHOICES, _add_lang, _flag, _in_flag_terms, _texts

logger = logging.getLogger(__name__)


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


def _print_summary(plan: Any, out: Path | None, lang: str | None = None) -> None:
    from planning.report.labels import count_text  # noqa: PLC0415 - heavy (geopandas, openpyxl)
    from planning.results.privacy import count_mask, hidden_kpis  # noqa: PLC0415
    from planning.results.tables import capacity_advice  # noqa: PLC0415
    from planning.suppression import Withheld  # noqa: PLC0415
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
    figures = hidden_kpis(plan.tables, threshold=thr)
    if "objective" in figures:  # p-median's patients x minutes would give a hidden line back
        objective = "–"
    mean: float | Withheld = Withheld() if "mean_travel_min" in figures else k.mean_travel_min
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
            mean=mean,
            max=k.max_travel_min_observed,
        ),
    ]
    n_beyond = mask.kpi_text("patients_beyond_cutoff", k.patients_beyond_cutoff)
    if k.patients_beyond_cutoff > 1e-6:  # every travel figure says whom it leaves out
        if "share_beyond_cutoff" in figures:
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


def solution_to_json(
    solution: Solution, *, threshold: int | None = None, patients_total: float | None = None
) -> dict[str, Any]:
    """Return the JSON-ready summary of ``solution`` printed by ``solve --json``.

    Keys: ``model``, ``status``, ``objective``, ``gap``, ``bound``, ``solver``,
    ``solve_time_s``, ``selected_sites``, ``assignment`` (rows ``demand_id``, ``site_id``,
    ``travel_min``, ``patients``), ``site_load`` (rows ``site_id``, ``patients``,
    ``capacity`` or ``null`` when unlimited), ``coverage_share``, ``mean_travel_min``.

    With ``threshold`` (the scenario's ``privacy_threshold``) and ``patients_total`` (the
    demand table's patients), patient counts follow the privacy rule as the plan's outputs
    do (:func:`planning.results.solution_count_mask`): ``"<N"`` or ``"≥L"`` instead of the
    number (lines, loads, MCLP's objective and bound), ``null`` for a share or a figure
    weighted by patients that would give a hidden count back.
    """
    import pandas as pd  # noqa: PLC0415 - heavy import, only for this command

    def num(v: object) -> float | None:
        if v is None:
            return None
        f = float(str(v))
        return f if math.isfinite(f) else None

    alloc = solution.allocation
    load = solution.extras.get("site_load")
    hidden = _solution_mask(solution, threshold, patients_total)

    def count(key: str, v: object) -> float | str | None:
        return hidden.get(key, num(v))

    site_load = []
    if isinstance(load, pd.DataFrame):
        site_load = [
            {
                "site_id": str(r.site_id),
                "patients": count(f"site:{r.site_id}", r.patients),
                "capacity": num(r.capacity),
            }
            for r in load.itertuples()
        ]
    objective: float | str | None = num(solution.objective)
    bound: float | str | None = num(solution.bound)
    share = num(solution.extras.get("coverage_share"))
    mean = num(solution.extras.get("mean_travel_min"))
    if threshold is not None:
        from planning.results import own_tables  # noqa: PLC0415

        if solution.model == "mclp" and "kpi:patients_within" in hidden:  # covered patients
            objective = bound = hidden["kpi:patients_within"]  # the bound + gap give it back
        if own_tables.solution_lines_hidden(hidden):  # figures weighted by the lines' patients
            mean = None
            if solution.model == "p_median":
                objective = bound = None
        if own_tables.solution_shares_hidden(hidden):
            share = None
    return {
        "model": solution.model,
        "status": solution.status,
        "objective": objective,
        "gap": num(solution.gap),
        "bound": bound,
        "solver": solution.solver,
        "solve_time_s": round(solution.solve_time_s + solution.build_time_s, 3),
        "selected_sites": list(solution.selected_sites),
        "assignment": [
            {
                "demand_id": str(r.demand_id),
                "site_id": str(r.site_id),
                "travel_min": num(r.travel_min),
                "patients": count(f"line:{i}", r.patients),
            }
            for i, r in enumerate(alloc.itertuples())
        ],
        "site_load": site_load,
        "coverage_share": share,
        "mean_travel_min": mean,
        "hubs": list(solution.extras.get("hubs", ()) or ()),  # type: ignore[call-overload]
    }


def _solution_mask(
    solution: Solution, threshold: int | None, patients_total: float | None
) -> dict[str, str]:
    """Return the privacy mask of a solve from own tables (empty without a threshold)."""
    if threshold is None or patients_total is None:
        return {}
    import pandas as pd  # noqa: PLC0415 - heavy import, only for this command

    from planning.results import own_tables  # noqa: PLC0415

    load = solution.extras.get("site_load")
    share = float(str(solution.extras.get("coverage_share", math.nan)))
    return own_tables.solution_count_mask(
        solution.allocation,
        load if isinstance(load, pd.DataFrame) else None,
        model=solution.model,
        objective=float(solution.objective),
        patients_total=patients_total,
        patients_within=share * patients_total,
        threshold=threshold,
    )


class _Shown(str):  # noqa: SLOT000 - a str subclass cannot have non-empty __slots__
    """A figure already shown as text (``"<5"``, ``"≥8"``) in a numeric template slot."""

    def __format__(self, spec: str) -> str:
        return str(self)


def solve_tables_command(args: Any, scenario: Any) -> int:
    """Run ``python -m planning solve --travel-times ...`` (from the planner's own tables).

    ``args`` is the parsed command line, ``scenario`` the scenario built from its options.
    Prints the JSON summary (``--json``) or a short text summary on stdout; with ``--out DIR``
    also writes ``result.json``, ``assignment.csv`` and ``scenario.json`` there.
    """
    import pandas as pd  # noqa: PLC0415 - heavy import, only for this command

    from planning.models import solve  # noqa: PLC0415
    from planning.models.tables import load_model_input  # noqa: PLC0415
    from planning.suppression import protect_error, suppress_small  # noqa: PLC0415

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
    thr = scenario.privacy_threshold
    result = solution_to_json(
        solution, threshold=thr, patients_total=float(data.demand["weight"].sum())
    )
    if args.out:  # written whole into a temporary folder, then swapped in (old kept on failure)
        alloc = solution.allocation.copy()  # the lines as result.json shows them
        shown = [r["patients"] for r in result["assignment"]]
        alloc["patients"] = suppress_small(
            alloc["patients"].astype(float),
            threshold=thr,
            hidden=pd.Series([v if isinstance(v, str) else None for v in shown], index=alloc.index),
        )
        with replacing_folder(Path(args.out)) as staging:
            write_text(staging / "result.json", dumps(result, indent=2))
            with replacing(staging / "assignment.csv") as tmp:
                alloc.to_csv(tmp, index=False)
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
            objective=_Shown("–")
            if result["objective"] is None
            else _Shown(result["objective"])
            if isinstance(result["objective"], str)
            else solution.objective,
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
