"""The facility plan workbook (XLSX): a summary sheet, a sheet per county, the scenario."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from planning import i18n
from planning._atomic import replacing
from planning.inputs.sites import site_names
from planning.report._shared import FORMULA_START, county_hidden, site_table, travel_means
from planning.report.equity import equity_lines, lower_bound_note
from planning.report.labels import (
    _TEXT,
    COUNTY_HEADERS,
    KIND_LABELS,
    SITE_HEADERS,
    TYPE_LABELS,
    Lang,
    _count_cell,
    _pct,
    candidate_source_name,
    check_lang,
    data_sources,
    model_name,
    text,
)
from planning.results.privacy import (
    CountMask,
    count_mask,
    hidden_kpis,
    public_policy,
    travel_left_out,
)
from planning.results.tables import capacity_advice
from planning.suppression import hide_revealing_shares
from planning.travel.table import travel_label_shown

if TYPE_CHECKING:
    from planning.pipeline import Plan


WORKBOOK_NAME = "plan.xlsx"

LABEL_WIDTH = 32
EXPLANATION_WIDTH = 70
"""Characters of the summary sheet's first and third columns (equity labels and explanations
wrap in them)."""


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK characters are wide


STATUS_NAMES = ("optimal", "feasible")
"""Solver statuses with a name of their own in the catalog (``report.status.*``)."""


# ------------------------------------------------------------------------ workbook
_BAD_SHEET_CHARS = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def _sheet_title(name: str, taken: set[str]) -> str:
    base = name.translate(_BAD_SHEET_CHARS).strip("'")[:31] or "sheet"
    title, i = base, 2
    while title.lower() in taken:
        suffix = f" ({i})"
        title = base[: 31 - len(suffix)] + suffix
        i += 1
    taken.add(title.lower())
    return title


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write one cell; text never becomes a formula (data type 's' and Excel's quote prefix)."""
    if isinstance(value, float) and np.isnan(value):
        value = None
    elif isinstance(value, np.generic):
        value = value.item()
    elif value is pd.NA:
        value = None
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    return cell


def _write_table(
    ws: Any,
    header: list[str],
    rows: list[list[Any]],
    *,
    start_row: int = 1,
    number_formats: dict[int, str] | None = None,
) -> None:
    """Write a header row and rows; ``number_formats`` maps 1-based columns to Excel formats."""
    from openpyxl.styles import Font, PatternFill  # noqa: PLC0415

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for j, h in enumerate(header, start=1):
        c = _put(ws, start_row, j, h)
        c.font = bold
        c.fill = fill
    for i, r in enumerate(rows, start=start_row + 1):
        for j, v in enumerate(r, start=1):
            c = _put(ws, i, j, v)
            if number_formats and j in number_formats and isinstance(v, float):
                c.number_format = number_formats[j]


def _autowidth(ws: Any, *, max_width: int = 60) -> None:
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            s = str(c.value)
            w = sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)  # CJK characters are wide
            widths[c.column] = max(widths.get(c.column, 0), w)
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(8, w + 2), max_width)


SITE_COLUMNS_OUT = (
    "site_id",
    "name",
    "kind",
    "candidate_type",
    "county_name",
    "county",
    "lon",
    "lat",
    "lon_gcj02",
    "lat_gcj02",
    "capacity",
    "assigned_patients",
    "mean_travel_min",
    "max_travel_min",
    "nearest_hospital",
    "referral_min",
    "place",
    "over_capacity",
)


def _site_rows(
    sites: pd.DataFrame, *, lang: Lang, thr: int, mask: CountMask | None = None
) -> list[list[Any]]:
    rows = []
    hidden = mask.sites(sites.index) if mask is not None else pd.Series(None, index=sites.index)
    for (sid, r), h in zip(sites.iterrows(), hidden.tolist(), strict=True):
        rows.append(
            [
                str(sid),
                r["name"],
                KIND_LABELS[lang].get(r["kind"], r["kind"]),
                TYPE_LABELS[lang].get(r["candidate_type"], r["candidate_type"]),
                r["county_name"],
                r["county"],
                round(float(r["lon"]), 6),
                round(float(r["lat"]), 6),
                round(float(r["lon_gcj02"]), 6),
                round(float(r["lat_gcj02"]), 6),
                None if pd.isna(r["capacity"]) else float(r["capacity"]),
                _count_cell(r["assigned_patients"], thr, h),
                None if pd.isna(r["mean_travel_min"]) else round(float(r["mean_travel_min"]), 1),
                None if pd.isna(r["max_travel_min"]) else round(float(r["max_travel_min"]), 1),
                r["nearest_hospital"] or None,
                None if pd.isna(r["referral_min"]) else round(float(r["referral_min"]), 1),
                r.get("place") or r["county_name"],
                i18n.text("report.capacity.flag", lang) if r.get("over_capacity") else None,
            ]
        )
    return rows


def _equity_section(ws: Any, row: int, tables: Any, *, lang: Lang, threshold: int) -> int:
    """Write the plan's equity figures (label, value, what it means); return the next row."""
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    _put(ws, row, 1, i18n.text("equity.title", lang)).font = Font(bold=True)
    row += 1
    header = [i18n.text(f"equity.col_{c}", lang) for c in ("figure", "value", "explanation")]
    rows = [
        [line.label.text(lang), line.value.text(lang), line.explanation.text(lang)]
        for line in equity_lines(tables, threshold=threshold)
    ]
    _write_table(ws, header, rows, start_row=row)
    for r, line in enumerate(rows, start=row + 1):
        for col in (1, 2, 3):
            ws.cell(row=r, column=col).alignment = Alignment(wrap_text=col != 2, vertical="top")
        n_lines = max(
            -(-_display_width(text) // width)
            for text, width in ((line[0], LABEL_WIDTH), (line[2], EXPLANATION_WIDTH))
        )
        ws.row_dimensions[r].height = 15 * max(1, n_lines)
    row += len(rows) + 1
    note = lower_bound_note(tables, threshold=threshold)
    if note is not None:
        _put(ws, row, 1, note.text(lang))
        row += 1
    return row + 1


def build_workbook(plan: Plan, *, lang: Lang = "zh", exported_at: str | None = None) -> Any:
    """Build the facility plan as an ``openpyxl.Workbook`` (see :func:`export_workbook`)."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415

    lang = check_lang(lang)
    sc = plan.scenario
    thr = sc.privacy_threshold
    k = plan.tables.kpis
    t = plan.tables
    mask = count_mask(t, threshold=thr)
    exported_at = exported_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = _sheet_title(text("summary", lang), taken)
    bold = Font(bold=True)
    row = 1
    _put(ws, row, 1, text("title", lang)).font = Font(bold=True, size=14)
    row += 2

    def section(key: str) -> None:
        nonlocal row
        _put(ws, row, 1, text(key, lang)).font = bold
        row += 1

    def pair(key: str, value: Any) -> None:
        nonlocal row
        _put(ws, row, 1, text(key, lang) if key in _TEXT else key)  # data sources as they are
        _put(ws, row, 2, value)
        row += 1

    yes, no = text("yes", lang), text("no", lang)
    section("sec_scenario")
    pair("scenario_name", sc.title(lang))
    pair("region", sc.region)
    pair("counties_opt", ", ".join(sc.counties) if sc.counties else text("all", lang))
    pair("model", model_name(sc.model, lang))
    pair("n_facilities", sc.n_facilities)
    pair("max_travel_min", sc.max_travel_min)
    pair("travel_mode", travel_label_shown(plan.travel.label, lang=lang))
    pair("prevalence", sc.prevalence_per_mille)
    pair("in_scope", f"{100 * sc.in_scope_share:g}%")  # a share, as the app shows it
    pair("candidate_source", candidate_source_name(sc.candidate_source, lang))
    pair("capacitated", yes if sc.constraints.capacitated else no)
    pair("budget", sc.constraints.budget)
    gap = "" if k.gap is None else text("solver_gap", lang, gap=k.gap)
    solver = str(k.solver or sc.solver).upper()
    status = k.status
    status_text = i18n.text(
        f"report.status.{status}" if status in STATUS_NAMES else "report.status.other",
        lang,
        status=status,
    )
    pair("solver", f"{solver} · {status_text}{gap}")
    pair("privacy", f"<{thr}")
    pair("exported", exported_at)
    row += 1
    section("sec_results")
    pair("patients_total", _count_cell(k.patients_total, thr, mask.kpi("patients_total")))
    pair("patients_within", _count_cell(k.patients_within, thr, mask.kpi("patients_within")))
    hidden = mask.kpi_share_hidden()
    pair("share_within", None if hidden else _pct(k.share_within))  # text, as on the map
    pair(
        "counties_with_site",
        f"{k.counties_with_site} / {k.n_counties} ({k.county_share_with_site:.0%})",
    )
    pair("n_sites", f"{k.n_sites} ({k.n_sites_existing} / {k.n_sites_new})")
    mean = k.mean_travel_min  # left out when a hidden line's patients x minutes are in it
    hidden_mean = "mean_travel_min" in hidden_kpis(t, threshold=thr)
    pair("mean_travel", None if hidden_mean or pd.isna(mean) else round(mean, 1))
    longest = k.max_travel_min_observed
    pair("longest_travel", None if pd.isna(longest) else round(float(longest), 1))
    for advice in capacity_advice(t):
        pair("capacity_note", advice.text(lang))
    left_out = travel_left_out(t, threshold=thr)
    pair(
        "travel_counted",
        left_out.text(lang)
        if left_out is not None
        else i18n.text("report.travel_all_counted", lang),
    )
    row += 1
    row = _equity_section(ws, row, t, lang=lang, threshold=thr)
    section("sec_policy")
    header = [
        text(x, lang)
        for x in (
            "year",
            "county_target",
            "county_share",
            "met",
            "patient_target",
            "patient_share",
            "met",
        )
    ]
    policy_rows = []
    met, not_met = text("met", lang), text("not_met", lang)
    for year, p in public_policy(t, threshold=thr).iterrows():
        patient_met = p["patient_target_met"]
        policy_rows.append(
            [
                int(cast("int", year)),
                float(p["county_share_target"]),
                float(p["county_share"]),
                met if p["county_target_met"] else not_met,
                float(p["patient_share_target"]),
                None if pd.isna(p["patient_share"]) else float(p["patient_share"]),
                None if patient_met is None else met if patient_met else not_met,
            ]
        )
    pct = "0.0%"
    _write_table(
        ws, header, policy_rows, start_row=row, number_formats={2: pct, 3: pct, 5: pct, 6: pct}
    )
    row += len(policy_rows) + 2
    section("sec_sources")
    for what, src in data_sources(plan, lang=lang):
        pair(what, src)
    row += 1
    section("sec_notes")
    for key in ("note_proxy", "note_estimated", "note_privacy"):
        _put(ws, row, 1, text(key, lang, n=thr))
        row += 1
    _autowidth(ws)
    ws.column_dimensions["A"].width = LABEL_WIDTH + 2
    ws.column_dimensions["C"].width = EXPLANATION_WIDTH + 2  # the equity explanations wrap
    ws.page_setup.orientation = "landscape"  # printable: a page wide
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    # ---- county summary
    wc = wb.create_sheet(_sheet_title(text("counties", lang), taken))
    ccols = list(COUNTY_HEADERS)
    crow = []
    c_hidden = county_hidden(mask, t.counties.index)
    county_share = hide_revealing_shares(
        t.counties["share_within"],
        t.counties["patients"],
        t.counties["patients_within"],
        threshold=thr,
        hidden=(c_hidden["patients"], c_hidden["patients_within"]),
    )
    county_mean = travel_means(t.counties, mask, t, "county")  # NaN: a hidden count in it
    for (cid, r), share, hp, hw, mean in zip(
        t.counties.iterrows(),
        county_share,
        c_hidden["patients"].tolist(),
        c_hidden["patients_within"].tolist(),
        county_mean.tolist(),
        strict=True,
    ):
        crow.append(
            [
                str(cid),
                r["name"],
                None if pd.isna(r["population"]) else int(r["population"]),
                _count_cell(r["patients"], thr, hp),
                _count_cell(r["patients_within"], thr, hw),
                None if pd.isna(share) else float(share),
                int(r["n_sites"]),
                yes if r["has_site"] else no,
                None if pd.isna(mean) else round(float(mean), 1),
                None if pd.isna(r["max_travel_min"]) else round(float(r["max_travel_min"]), 1),
            ]
        )
    _write_table(wc, [COUNTY_HEADERS[c][lang] for c in ccols], crow, number_formats={6: "0.0%"})
    wc.freeze_panes = "A2"
    _autowidth(wc)

    # ---- one sheet per county
    sites = site_table(plan)
    sites["mean_travel_min"] = travel_means(sites, mask, t, "site_id")  # a hidden line in it
    sites["name"] = site_names(plan.sites, lang=lang).reindex(sites.index)
    site_header = [SITE_HEADERS[c][lang] for c in SITE_COLUMNS_OUT]
    for cid, r in t.counties.iterrows():
        ws_c = wb.create_sheet(_sheet_title(str(r["name"]), taken))
        sub = sites[sites["county"] == cid].sort_index()
        _write_table(ws_c, site_header, _site_rows(sub, lang=lang, thr=thr, mask=mask))
        ws_c.freeze_panes = "C2"
        _autowidth(ws_c)

    # ---- the scenario itself, for re-import
    wsj = wb.create_sheet(_sheet_title(text("scenario_sheet", lang), taken))
    for i, line in enumerate(sc.to_json().splitlines(), start=1):
        _put(wsj, i, 1, line)
    return wb


def export_workbook(
    plan: Plan, path: str | Path, *, lang: Lang = "zh", exported_at: str | None = None
) -> Path:
    """Write the facility plan workbook (XLSX).

    Sheets: a summary (scenario options, key results, policy metrics against the
    2023-2025 targets, data sources, notes), a county summary, one sheet per county listing
    its open sites (id, name, kind, candidate type, WGS-84 and GCJ-02 coordinates, capacity,
    assigned patients, mean/max travel minutes, nearest psychiatric hospital and referral
    minutes) and the scenario JSON. Headers are Chinese (``lang="zh"``) or English
    (``"en"``). Patient counts below the privacy threshold are the text ``"<N"``; no text
    cell is ever a formula.
    """
    p = Path(path)
    workbook = build_workbook(plan, lang=lang, exported_at=exported_at)
    with replacing(p) as tmp:  # atomic: a failed write keeps the old file
        workbook.save(tmp)
    return p
