"""A sensitivity run as the planner reads it: a summary, CSV tables and one workbook.

:func:`export_sensitivity` writes, for a :class:`~planning.sensitivity.SensitivityResult`:
``cases.csv`` (one row per case: prevalence, speed factor, coverage, travel, equity),
``sites.csv`` (site stability: how often each site is chosen, safe in every case),
``robust.csv`` (with a robust plan: its figures in each case against the case's own plan),
``sensitivity.xlsx`` (the same tables, headed in the reader's language), ``summary.txt``
(:func:`format_sensitivity`) and ``scenario.json`` (the base scenario). Patient counts are
already masked by the privacy rule in the case table (``None``: not shown).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from planning import i18n
from planning.i18n import Lang

if TYPE_CHECKING:
    from planning.sensitivity import SensitivityResult

CASE_COLUMNS = (
    "prevalence_per_mille",
    "speed_factor",
    "status",
    "n_sites",
    "patients_total",
    "patients_within",
    "share_within",
    "mean_travel_min",
    "max_travel_min_observed",
    "travel_gini",
    "worst_county_name",
    "worst_county_share",
    "urban_rural_gap_min",
    "urban_rural_share_gap",
    "counties_below_target",
    "sites",
)
SITE_COLUMNS = (
    "name",
    "county_name",
    "existing",
    "times_chosen",
    "share_chosen",
    "every_case",
    "lon",
    "lat",
)
ROBUST_COLUMNS = (
    "prevalence_per_mille",
    "speed_factor",
    "own_within",
    "robust_within",
    "regret",
    "own_share",
    "robust_share",
)


STATUSES = ("optimal", "feasible", "infeasible", "error")


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _span(values: pd.Series, fmt: str) -> str:
    nums = [v for v in (_num(x) for x in values) if not math.isnan(v)]
    if not nums:
        return "—"
    lo, hi = min(nums), max(nums)
    return format(lo, fmt) if abs(hi - lo) < 1e-12 else f"{lo:{fmt}} – {hi:{fmt}}"


def _status(status: str, gap: float | None, lang: Lang) -> str:
    if status == "feasible" and gap is not None and math.isfinite(gap):
        return i18n.text("sensitivity.status_feasible_gap", lang, gap=100 * gap)
    return i18n.text(f"sensitivity.status_{status}", lang)


def format_sensitivity(result: SensitivityResult, *, lang: Lang) -> str:
    """Return the run's summary: ranges over the cases, safe sites, the robust plan."""
    c = result.cases
    text = i18n.text
    lines = [
        text(
            "sensitivity.summary_cases",
            lang,
            cases=len(c),
            prevalence=_span(c["prevalence_per_mille"], ".2f"),
            speed=_span(c["speed_factor"], ".2f"),
        ),
        text(
            "sensitivity.summary_share",
            lang,
            span=_span(100 * c["share_within"].astype(float), ".1f"),
        ),
        text("sensitivity.summary_travel", lang, span=_span(c["mean_travel_min"], ".1f")),
        text("sensitivity.summary_gini", lang, span=_span(c["travel_gini"], ".2f")),
        text(
            "sensitivity.summary_worst",
            lang,
            span=_span(100 * pd.to_numeric(c["worst_county_share"], errors="coerce"), ".1f"),
        ),
    ]
    s = result.stability
    safe = s[s["every_case"]]
    names = i18n.Joined([f"{n} ({i})" for i, n in safe["name"].items()], sep="common.comma_sep")
    lines.append(
        text("sensitivity.summary_safe", lang, n=len(safe), of=len(s), names=names)
        if len(safe)
        else text("sensitivity.summary_no_safe", lang)
    )
    rob = result.robust
    if rob is not None and result.robust_cases is not None:
        r = result.robust_cases
        lines.append(
            text(
                "sensitivity.summary_robust",
                lang,
                sites=i18n.Joined(list(rob.selected_sites), sep="common.comma_sep"),
                regret=100 * float(r["regret"].max()),
                share=100 * float(r["robust_share"].min()),
                status=_status(rob.status, rob.gap, lang),
            )
        )
    return "\n".join(lines)


def sensitivity_tables(result: SensitivityResult) -> dict[str, pd.DataFrame]:
    """Return the run's tables (``cases``, ``sites`` and, with a robust plan, ``robust``)."""
    out = {
        "cases": result.cases[list(CASE_COLUMNS)],
        "sites": result.stability[[*SITE_COLUMNS, *(["robust"] if result.robust else [])]],
    }
    if result.robust_cases is not None:
        r = result.robust_cases.join(result.cases[["prevalence_per_mille", "speed_factor"]])
        out["robust"] = r[list(ROBUST_COLUMNS)]
    return out


def headed(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Return ``frame`` for people: columns, index and solver status in ``lang``.

    Column and index names from the catalog (``sensitivity.col_*``), the status in words
    (``sensitivity.status_*``); the CSV files keep the codes.
    """
    if "status" in frame.columns:
        words = {s: i18n.text(f"sensitivity.status_{s}", lang) for s in STATUSES}
        frame = frame.assign(status=frame["status"].map(lambda s: words.get(s, s)))
    named = frame.rename(columns=lambda col: i18n.text(f"sensitivity.col_{col}", lang))
    return named.rename_axis(i18n.text(f"sensitivity.col_{frame.index.name}", lang))


def export_sensitivity(result: SensitivityResult, out: Path, *, lang: Lang = "zh") -> list[Path]:
    """Write the run's tables, workbook, summary and scenario into folder ``out``.

    Returns the paths written. The folder is created when missing.
    """
    out.mkdir(parents=True, exist_ok=True)
    tables = sensitivity_tables(result)
    paths: list[Path] = []
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        frame.to_csv(path, encoding="utf-8-sig")
        paths.append(path)
    book = out / "sensitivity.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        for name, frame in tables.items():
            sheet = i18n.text(f"sensitivity.sheet_{name}", lang)
            headed(frame, lang).to_excel(writer, sheet_name=sheet)
            ws = writer.sheets[sheet]
            for column in ws.columns:
                ws.column_dimensions[column[0].column_letter].width = 16
    paths.append(book)
    summary = out / "summary.txt"
    summary.write_text(format_sensitivity(result, lang=lang) + "\n", encoding="utf-8")
    paths.append(summary)
    scenario = out / "scenario.json"
    scenario.write_text(
        json.dumps(result.scenario.to_dict(), ensure_ascii=False, indent=2, sort_keys=True),
        encoding="utf-8",
    )
    paths.append(scenario)
    return paths
