"""A phased rollout's results: year-by-year tables, milestone lines, what may be shown.

:func:`solve_rollout` plans the rollout with :mod:`planning.models.rollout` and turns the plan
into a :class:`RolloutResult`: the open sites with their opening years, a table per year
against the milestones, counties by year, one line per milestone (met, or short with the
smallest change that meets it) and, by :func:`year_count_masks`, which patient counts each
year's figures may show (:mod:`planning.results.privacy`).
"""

from __future__ import annotations

import logging
import math
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planning._progress import Progress
from planning.errors import ScenarioError
from planning.i18n import Joined, Msg, MsgStr, check_language, status_words
from planning.i18n import text as i18n_text
from planning.models import ModelInput, RolloutOptions
from planning.models.rollout import RolloutPlan, counties_needed, smallest_fix, solve_rollout_plan
from planning.results.privacy import CountMask, years_count_masks
from planning.scenario import Scenario
from planning.suppression import hide_revealing_shares

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RolloutResult:
    r"""A phased rollout plan and its year-by-year figures, keyed by ids and years.

    Attributes
    ----------
    scenario
        The scenario solved (its ``rollout`` phases define the years).
    years
        Phase years, increasing.
    status
        ``"optimal"`` when the final solve proved optimality, else ``"feasible"`` (time limit;
        see ``gap``).
    sites
        Every site open in the last year, index ``site_id``: ``name``, ``county``,
        ``county_name``, ``kind`` ("existing" | "new"), ``cost``, ``opening_year`` (Int64; NA
        for existing sites, open from the start).
    years_table
        Index ``year``: ``new_sites`` (count), ``new_site_ids``, ``sites_open`` (cumulative,
        existing included), ``spend`` (opening cost that year), ``cumulative_spend``,
        ``new_sites_limit``, ``budget_limit``, ``counties_with_site``, ``n_counties``,
        ``county_share``, ``county_target``, ``county_met``, ``patients_within``,
        ``patients_total``, ``patient_share``, ``patient_target``, ``patient_met``,
        ``objective`` (the model's value in that year, its own units).
    milestones
        One row per (``year``, ``measure``): ``target``, ``achieved`` (shares 0-1), ``met``,
        ``shortfall`` (share points), ``extra_sites`` (Int64, smallest number of extra sites
        that year), ``extra_budget`` (float), ``where`` (counties of the extra sites),
        ``share_hidden`` (a patient share that, with the patient total, would give a count
        below the scenario's ``privacy_threshold`` back: left out of ``message`` and of the
        exports), ``note`` (why no change meets a missed milestone, in the default language),
        ``message`` (one line, in English; :attr:`milestone_lines` in any language).
    counties_by_year
        Long table ``year``, ``county_id``, ``county_name``, ``n_sites``, ``has_site``,
        ``patients``, ``patients_within``, ``share_within``.
    objective
        Weighted sum over periods of the model's value in each year,
        :math:`\sum_t \omega_t v_t` (``v_t`` in ``years_table["objective"]``: patients covered,
        patient-minutes, minutes, or number of sites).
    milestone_lines
        One line per row of ``milestones`` as a catalog message (met with its figures, or the
        shortfall and the fix), rendered in any language with ``.text(lang)``.
    """

    scenario: Scenario
    model: str
    years: tuple[int, ...]
    status: str
    gap: float | None
    objective: float
    sites: pd.DataFrame
    years_table: pd.DataFrame
    milestones: pd.DataFrame
    counties_by_year: pd.DataFrame
    solve_time_s: float
    solver: str
    extras: dict[str, object] = field(default_factory=dict)
    milestone_lines: tuple[Msg, ...] = ()

    @property
    def messages(self) -> list[str]:
        """One line per milestone in English: met with its figures, or the shortfall and the fix.

        :attr:`milestone_lines` holds the same lines as catalog messages (any language).
        """
        return [str(m) for m in self.milestones["message"]]

    @property
    def all_met(self) -> bool:
        """``True`` when every milestone is met."""
        return bool(self.milestones["met"].all()) if len(self.milestones) else True

    def open_sites(self, year: int) -> tuple[str, ...]:
        """Ids of the sites open in ``year`` (existing included), sorted."""
        if year not in self.years:
            raise ScenarioError("rollout.year_not_a_phase", year=year, years=list(self.years))
        yr = self.sites["opening_year"]
        mask = yr.isna() | (yr <= year)
        return tuple(sorted(map(str, self.sites.index[mask.to_numpy(dtype=bool)])))

    def count_masks(self) -> dict[int, CountMask]:
        """Return each year's counts that may not be shown exactly (:func:`year_count_masks`)."""
        shared = self.extras.get("shared_mask")
        return year_count_masks(
            self.years_table,
            self.counties_by_year,
            threshold=self.scenario.privacy_threshold,
            shared=shared if isinstance(shared, CountMask) else None,
        )


def year_count_masks(
    years: pd.DataFrame,
    counties: pd.DataFrame,
    *,
    threshold: int,
    shared: CountMask | None = None,
) -> dict[int, CountMask]:
    """Return, per year, the counts hidden when a year's county and region figures are shown.

    Parameters
    ----------
    years
        Index ``year``: ``patients_total``, ``patients_within``.
    counties
        Long table ``year``, ``county_id``, ``patients``, ``patients_within``.
    threshold
        The scenario's ``privacy_threshold``.
    shared
        The scenario's input mask (:func:`planning.results.input_count_mask`), so the
        rollout hides the county totals its plan and exports hide, and no other.

    Returns
    -------
    masks
        ``{year: CountMask}`` (:func:`planning.results.privacy.years_count_masks`: every
        year together; counts below the threshold ``"<N"``, counts that would give one back
        by subtraction ``"≥N"``).
    """
    return years_count_masks(years, counties, threshold=threshold, shared=shared)


def solve_rollout(
    data: ModelInput,
    scenario: Scenario,
    *,
    counties: pd.Series | None = None,
    suggest: bool = True,
    progress: Progress | None = None,
    shared_mask: CountMask | None = None,
) -> RolloutResult:
    """Plan which sites open in which year (``scenario.rollout.phases``) for ``scenario.model``.

    Parameters
    ----------
    data
        Model input keyed by ids (see :class:`~planning.models.base.ModelInput`). The demand
        table's ``county`` (adcode) and ``county_name`` columns define the counties of the
        county milestones.
    scenario
        Model, travel threshold (``max_travel_min``, minutes), capacities, solver, time limit
        (per MIP), the rollout phases and the privacy threshold. ``n_facilities`` and
        ``constraints.budget``, when set, cap the total number of sites (existing included)
        and the total opening spend by the last year.
    counties
        Optional ``county_id -> name`` Series of every county in the region (counties without
        demand points count too); default: the counties of the demand table.
    suggest
        Search the smallest extra sites / budget for each missed milestone (one MIP each).
    progress
        Optional callback ``progress(share_done, message)``.
    shared_mask
        The scenario's input mask (:func:`planning.results.input_count_mask`), kept in the
        result's ``extras`` so its files hide what the scenario's other outputs hide.

    Returns
    -------
    RolloutResult
        Opening years, year-by-year figures against the milestones and the shortfalls.

    Raises
    ------
    ScenarioError
        Phases missing, ``n_facilities`` below the number of existing sites.
    DataError
        County milestones without a ``county`` column.
    InfeasibleError
        The solver found no plan within the time limit (raise ``time_limit_s``).
    """
    t0 = time.perf_counter()
    options = RolloutOptions.from_scenario(scenario)
    plan = solve_rollout_plan(data, options, counties=counties, progress=progress)
    tables = _tables(plan)
    thr = scenario.privacy_threshold
    masks = year_count_masks(tables["years"], tables["counties"], threshold=thr, shared=shared_mask)
    milestones = _milestones(plan, tables["years"], threshold=thr, masks=masks)
    notes: dict[Any, Msg] = {}
    if suggest and not milestones["met"].all():
        notes = _suggest(plan, milestones, progress)
    minutes = options.model.max_travel_min
    lines = tuple(
        _milestone_msg(row, minutes=minutes, threshold=thr, note=notes.get(row.Index))
        for row in milestones.itertuples()
    )
    milestones["message"] = [line.text("en") for line in lines]
    logger.info("Rollout planned in %.1f s", time.perf_counter() - t0)
    if progress:
        progress(1.0, MsgStr("progress.rollout_done"))
    return RolloutResult(
        scenario=scenario,
        model=options.model.kind,
        years=plan.years,
        status=plan.status,
        gap=plan.gap,
        objective=plan.objective,
        sites=tables["sites"],
        years_table=tables["years"],
        milestones=milestones,
        counties_by_year=tables["counties"],
        solve_time_s=plan.solve_time_s,
        solver=plan.solver,
        extras={**plan.extras, "shared_mask": shared_mask},
        milestone_lines=lines,
    )


def _tables(plan: RolloutPlan) -> dict[str, pd.DataFrame]:
    """Tabulate ``plan``: the open sites, a row per year, a row per (year, county)."""
    every = plan.sites
    names = plan.counties
    county_ids = list(names.index)
    fixed = every["fixed"].to_numpy(dtype=bool)
    opening = every["opening_year"]
    opened = opening.notna().to_numpy(dtype=bool)
    final = every[fixed | opened]
    sites = pd.DataFrame(
        {
            "county": final["county"].to_numpy(),
            "county_name": [names.get(c, c) for c in final["county"]],
            "kind": np.where(final["fixed"], "existing", "new"),
            "cost": np.where(final["fixed"], 0.0, final["cost"]),
            "opening_year": final["opening_year"].array,
        },
        index=final.index,
    )
    year_of = opening.fillna(-1).to_numpy(dtype=np.int64)
    cost = every["cost"].to_numpy(dtype=float)
    site_county = every["county"].to_numpy(dtype=object)
    weight = plan.demand["weight"].to_numpy(dtype=float)
    total_w = float(weight.sum())
    rows = []
    crow = []
    cum_spend = 0.0
    nc_ = len(county_ids)
    for t, ph in enumerate(plan.options.periods):
        new = opened & (year_of == ph.year)
        spend = float(cost[new].sum())
        cum_spend += spend
        is_open = fixed | (opened & (year_of <= ph.year))
        site_c = pd.Series(site_county[is_open]).value_counts()
        n_sites_c = {c: int(site_c.get(c, 0)) for c in county_ids}
        with_site = sum(v > 0 for v in n_sites_c.values())
        covered = plan.demand[ph.year].to_numpy(dtype=float)
        within = float(covered.sum())
        rows.append(
            {
                "year": ph.year,
                "new_sites": int(new.sum()),
                "new_site_ids": ", ".join(str(v) for v in every.index[new]),
                "sites_open": int(is_open.sum()),
                "spend": spend,
                "cumulative_spend": cum_spend,
                "new_sites_limit": ph.new_sites,
                "budget_limit": ph.budget,
                "counties_with_site": with_site,
                "n_counties": nc_,
                "county_share": with_site / nc_ if nc_ else float("nan"),
                "county_target": ph.county_share_target,
                "county_met": (with_site >= counties_needed(ph.county_share_target, nc_))
                if nc_
                else ph.county_share_target <= 0,
                "patients_within": within,
                "patients_total": total_w,
                "patient_share": within / total_w if total_w > 0 else float("nan"),
                "patient_target": ph.patient_share_target,
                "patient_met": within >= ph.patient_share_target * total_w - 1e-6 * max(total_w, 1),
                "objective": plan.period_values[t],
            }
        )
        if plan.full_coverage_share is not None and t == len(plan.years) - 1:
            rows[-1]["full_coverage_share"] = plan.full_coverage_share
        dem_c = pd.DataFrame(
            {"county": plan.demand["county"].to_numpy(), "w": weight, "cov": covered}
        )
        agg = dem_c.groupby("county")[["w", "cov"]].sum()
        for c in county_ids:
            pts = float(agg["w"].get(c, 0.0))
            cv = float(agg["cov"].get(c, 0.0))
            crow.append(
                {
                    "year": ph.year,
                    "county_id": c,
                    "county_name": names.get(c, c),
                    "n_sites": n_sites_c[c],
                    "has_site": n_sites_c[c] > 0,
                    "patients": pts,
                    "patients_within": cv,
                    "share_within": cv / pts if pts > 0 else float("nan"),
                }
            )
    years_t = pd.DataFrame(rows).set_index("year")
    years_t["new_sites_limit"] = years_t["new_sites_limit"].astype("Int64")
    years_t["budget_limit"] = years_t["budget_limit"].astype(float)
    counties_t = pd.DataFrame(crow)
    if counties_t.empty:
        counties_t = pd.DataFrame(columns=COUNTY_COLUMNS)
    return {"sites": sites.sort_index(), "years": years_t, "counties": counties_t}


COUNTY_COLUMNS = [
    "year",
    "county_id",
    "county_name",
    "n_sites",
    "has_site",
    "patients",
    "patients_within",
    "share_within",
]


def _milestones(
    plan: RolloutPlan,
    years: pd.DataFrame,
    *,
    threshold: int,
    masks: dict[int, CountMask] | None = None,
) -> pd.DataFrame:
    """Return one row per (year, measure) against its target.

    ``share_hidden`` marks a patient share that, with the patient total, would give a count
    below ``threshold`` back (it is never shown): either count is below ``threshold`` or
    hidden in that year's ``masks`` (see :func:`year_count_masks`).
    """
    rows = []
    n_counties = len(plan.counties)
    for t, ph in enumerate(plan.options.periods):
        yr: dict[Any, Any] = years.loc[ph.year].to_dict()
        if ph.county_share_target > 0 and n_counties:
            rows.append(
                {
                    "t": t,
                    "year": ph.year,
                    "measure": "counties",
                    "target": ph.county_share_target,
                    "achieved": float(yr["county_share"]),
                    "met": bool(yr["county_met"]),
                    "count": int(yr["counties_with_site"]),
                    "of": int(yr["n_counties"]),
                    "need": counties_needed(ph.county_share_target, n_counties),
                }
            )
        if ph.patient_share_target > 0:
            rows.append(
                {
                    "t": t,
                    "year": ph.year,
                    "measure": "patients",
                    "target": ph.patient_share_target,
                    "achieved": float(yr["patient_share"]),
                    "met": bool(yr["patient_met"]),
                    "count": float(yr["patients_within"]),
                    "of": float(yr["patients_total"]),
                    "need": ph.patient_share_target * float(yr["patients_total"]),
                }
            )
        if "full_coverage_share" in yr and t == len(plan.years) - 1:
            share = float(yr["full_coverage_share"])
            rows.append(
                {
                    "t": t,
                    "year": ph.year,
                    "measure": "full_coverage",
                    "target": 1.0,
                    "achieved": share,
                    "met": share >= 1 - 1e-6,
                    "count": share,
                    "of": 1.0,
                    "need": 1.0,
                }
            )
    cols = ["t", "year", "measure", "target", "achieved", "met", "count", "of", "need"]
    out = pd.DataFrame(rows, columns=cols)
    out["shortfall"] = np.maximum(out["target"].astype(float) - out["achieved"].astype(float), 0.0)
    out.loc[out["met"].astype(bool), "shortfall"] = 0.0
    out["extra_sites"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["extra_budget"] = np.nan
    out["where"] = ""
    out["note"] = ""
    pat = out["measure"] == "patients"
    counts = out[["count", "of"]].where(pat, 0.0).astype(float)
    out["share_hidden"] = ((counts > 0) & (counts < threshold)).any(axis=1) & pat
    if masks:
        masked = [bool(m is not None and m.kpi_share_hidden()) for m in map(masks.get, out["year"])]
        out["share_hidden"] = out["share_hidden"] | (pd.Series(masked, index=out.index) & pat)
    return out


def _suggest(
    plan: RolloutPlan, milestones: pd.DataFrame, progress: Progress | None
) -> dict[Any, Msg]:
    """Fill, for each missed milestone, the smallest extra sites / budget in its year.

    Writes ``extra_sites``, ``extra_budget``, ``where`` and ``note`` of ``milestones`` in
    place; returns the notes (why no change was found) by row.
    """
    short = list(milestones.index[~milestones["met"].astype(bool)])
    records = milestones.loc[short].to_dict("records")
    notes: dict[Any, Msg] = {}
    for n_done, (idx, rec) in enumerate(zip(short, records, strict=True)):
        measure, year = str(rec["measure"]), int(rec["year"])
        if progress:
            progress(
                0.6 + 0.4 * n_done / max(len(short), 1),
                MsgStr(
                    "progress.rollout_fix", year=year, measure=Msg(f"rollout.measure_{measure}")
                ),
            )
        fix = smallest_fix(plan, year, measure)
        if fix.note is not None:
            notes[idx] = fix.note
            milestones.loc[idx, "note"] = str(fix.note)
            continue
        if fix.extra_sites is not None:
            milestones.loc[idx, "extra_sites"] = fix.extra_sites
        if fix.extra_budget is not None:
            milestones.loc[idx, "extra_budget"] = fix.extra_budget
        milestones.loc[idx, "where"] = ", ".join(fix.where)
    return notes


def _fmt_share(v: float) -> str:
    return f"{v * 100:.0f} %" if abs(v * 100 - round(v * 100)) < 0.05 else f"{v * 100:.1f} %"


def _milestone_msg(row: object, *, minutes: float, threshold: int, note: Msg | None) -> Msg:
    """Return one milestone line as a catalog message.

    A share that would reveal a count below ``threshold`` is left out; ``note`` says why no
    change meets a missed milestone.
    """
    year = int(getattr(row, "year"))  # noqa: B009
    measure = str(getattr(row, "measure"))  # noqa: B009
    target = float(getattr(row, "target"))  # noqa: B009
    achieved = float(getattr(row, "achieved"))  # noqa: B009
    met = bool(getattr(row, "met"))  # noqa: B009
    hidden = bool(getattr(row, "share_hidden", False))
    figure_params: dict[str, object] = {
        "op": "≥" if met else "<",
        "target": _fmt_share(target),
        "minutes": minutes,
        "threshold": threshold,
    }
    if measure == "counties":
        figure_params.update(n=int(getattr(row, "count")), of=int(getattr(row, "of")))  # noqa: B009
    # share x total would give a hidden count back: no share, no shortfall
    if not hidden:
        figure_params["got"] = _fmt_share(achieved)
    figure = Msg(f"rollout.figure_{measure}{'_hidden' if hidden else ''}", **figure_params)
    if met:
        return Msg("rollout.milestone_met", year=year, figure=figure)
    fix: Msg
    if note is not None:
        fix = (
            note
            if hidden
            else Msg("rollout.fix_short_by", gap=_fmt_share(target - achieved), note=note)
        )
        return Msg("rollout.milestone_short", year=year, figure=figure, fix=fix)
    fixes: list[Msg] = []
    extra_sites = getattr(row, "extra_sites")  # noqa: B009
    extra_budget = float(getattr(row, "extra_budget"))  # noqa: B009
    where = str(getattr(row, "where"))  # noqa: B009
    if extra_sites is not pd.NA and extra_sites is not None and int(extra_sites) > 0:
        n = int(extra_sites)
        fixes.append(Msg("rollout.fix_sites" if n > 1 else "rollout.fix_site", n=n, year=year))
    if math.isfinite(extra_budget) and extra_budget > 1e-6:
        fixes.append(Msg("rollout.fix_budget", amount=extra_budget, year=year))
    fix = Joined(fixes, sep="rollout.fix_and") if fixes else Msg("rollout.fix_reorder")
    if where:
        fix = Msg("rollout.fix_where", fix=fix, where=where)
    return Msg("rollout.milestone_short", year=year, figure=figure, fix=fix)


# --------------------------------------------------------------------------- text summary
def _share_or_dash(v: float) -> str:
    return "—" if math.isnan(v) else _fmt_share(v)


def _pad(text: str, width: int, *, left: bool = False) -> str:
    """Pad ``text`` to ``width`` terminal columns (a Chinese character takes two)."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(width - shown, 0)
    return text + fill if left else fill + text


def format_rollout(result: RolloutResult, *, lang: str | None = None) -> str:
    """Year-by-year table and milestone lines as plain text (the CLI prints it).

    Patient numbers appear as shares only, and a share that would give a count below the
    scenario's ``privacy_threshold`` back (with the patient total of the exports) is ``—``.
    In ``lang`` (``"zh"``/``"en"``; ``None``: the default language).
    """
    lang = check_language(lang)
    yt = result.years_table
    masks = result.count_masks()
    hidden = pd.Series(
        [bool(year in masks and masks[year].kpi_share_hidden()) for year in yt.index],
        index=yt.index,
    )
    patient_share = hide_revealing_shares(
        yt["patient_share"],
        yt["patients_within"],
        yt["patients_total"],
        threshold=result.scenario.privacy_threshold,
    ).mask(hidden)
    gap: Msg | str = "" if result.gap is None else Msg("rollout.summary_gap", gap=result.gap)
    head = Msg(
        "rollout.summary_head",
        name=result.scenario.title(lang),
        model=result.model,
        solver=result.solver,
        status=status_words(result.status),
        gap=gap,
        seconds=result.solve_time_s,
    ).text(lang)

    def col(key: str) -> str:
        return i18n_text(f"rollout.col_{key}", lang)

    cols = (
        _pad(col("year"), 6, left=True)
        + _pad(col("new"), 5)
        + _pad(col("open"), 6)
        + _pad(col("spend"), 12)
        + _pad(col("counties"), 10)
        + _pad(col("target"), 8)
        + _pad("", 7)
        + _pad(col("patients"), 10)
        + _pad(col("target"), 8)
        + _pad("", 7)
    )
    lines = [head, cols]
    met_word, short_word = (
        i18n_text("rollout.flag_met", lang),
        i18n_text("rollout.flag_short", lang),
    )

    def flag(met: object) -> str:
        return _pad(met_word if bool(met) else short_word, 7)

    for (year, row), p_share in zip(yt.iterrows(), patient_share, strict=True):
        lines.append(
            f"{year!s:<6}{int(row['new_sites']):>5}{int(row['sites_open']):>6}"
            f"{float(row['spend']):>12,.0f}{_fmt_share(float(row['county_share'])):>10}"
            f"{_fmt_share(float(row['county_target'])):>8}{flag(row['county_met'])}"
            f"{_share_or_dash(float(p_share)):>10}"
            f"{_fmt_share(float(row['patient_target'])):>8}{flag(row['patient_met'])}"
        )
    lines.append("")
    lines.extend(line.text(lang) for line in result.milestone_lines)
    return "\n".join(lines)
