"""The presentable rollout workbook: the years against the milestones, a sheet per year, notes.

In the chosen language (headers from the ``report`` catalog), counts stored as numbers where
shown exactly (``"<5"`` / ``"≥N"`` text where hidden), shares as percentages, marks as words.
The data workbook with machine-readable names is :func:`planning.report.rollout_tables.
write_rollout_xlsx`.
"""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd

from planning import i18n
from planning.inputs.sites import site_names
from planning.report.labels import Lang, place_label
from planning.report.rollout_tables import rollout_tables
from planning.results.rollout import RolloutResult
from planning.travel.table import travel_label_shown

PLAN_XLSX_NAME = "rollout_plan.xlsx"
"""The presentable workbook (headers in the chosen language, numbers stored as numbers)."""

SCENARIO_SHEET = "scenario.json"  # the scenario itself, to re-run the rollout
_PCT = "0.0%"
_INT = "#,##0"


def _r(key: str, lang: str, **params: object) -> str:
    """Presentable rollout text ``report.rollout_book.<key>`` in ``lang``."""
    return i18n.text(f"report.rollout_book.{key}", lang, **params)


def _count_value(text: object) -> object:
    """Return a shown count for a cell: a number where exact, else its text (``"<5"``)."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    s = str(text).replace(",", "")
    try:
        value = float(s)
    except ValueError:
        return str(text)
    return round(value) if value == round(value) else value


def _share_value(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if pd.isna(v) else v


def differs_note(lang: str) -> str:
    """Why the final year's sites may differ from the one-shot plan of the same scenario."""
    return _r("differs_note", lang)


def build_rollout_workbook(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
    lang: Lang = "zh",
) -> object:
    """Build the presentable rollout workbook (an ``openpyxl.Workbook``) in ``lang``.

    Sheets: the years against the milestones, the milestones, one sheet per year (its sites,
    then its counties) and notes (why the final sites may differ from the one-shot plan, the
    travel mode, the privacy rule). Headers come from the ``report`` catalog; counts are
    numbers (``"<5"`` / ``"≥N"`` text where hidden), shares numbers formatted as
    percentages, marks words (达标 / 未达标). The data workbook
    (:func:`write_rollout_xlsx`) keeps machine-readable names for re-use.
    """
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    tables = rollout_tables(result, sites=sites, travel_label=travel_label)
    label = travel_label or result.scenario.travel_label
    met, short = _r("met", lang), _r("not_met", lang)
    yes = _r("yes", lang)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()

    def table(
        ws: object, row: int, header: list[str], rows: list[list[object]], fmts: dict[int, str]
    ) -> int:
        for j, h in enumerate(header, start=1):
            c = ws.cell(row=row, column=j, value=h)  # type: ignore[attr-defined]
            c.font, c.fill = bold, fill
            c.alignment = Alignment(wrap_text=True, vertical="center")
        for i, values in enumerate(rows, start=row + 1):
            for j, v in enumerate(values, start=1):
                c = ws.cell(row=i, column=j, value=v)  # type: ignore[attr-defined]
                if j in fmts and isinstance(v, int | float):
                    c.number_format = fmts[j]
        return row + len(rows) + 1

    def widths(ws: object, *, from_row: int = 1) -> None:
        """Column widths from the tables (not the title rows); landscape, a page wide."""
        for col in ws.columns:  # type: ignore[attr-defined]
            longest = max(
                (
                    sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(c.value))
                    for c in col
                    if c.value is not None and c.row >= from_row
                ),
                default=8,
            )
            ws.column_dimensions[get_column_letter(col[0].column)].width = min(  # type: ignore[attr-defined]
                max(8, longest + 2), 30
            )
        ws.page_setup.orientation = "landscape"  # type: ignore[attr-defined]
        ws.page_setup.fitToWidth = 1  # type: ignore[attr-defined]
        ws.page_setup.fitToHeight = 0  # type: ignore[attr-defined]
        ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[attr-defined]

    # ---- the years against the milestones
    ws = wb.active
    ws.title = _r("sheet_years", lang)
    ws.cell(row=1, column=1, value=_r("title", lang, region=result.scenario.region)).font = Font(
        bold=True, size=14
    )
    note = ws.cell(row=2, column=1, value=differs_note(lang))
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=13)
    ws.row_dimensions[2].height = 48
    yt = tables["years"]
    header = [
        _r(k, lang)
        for k in (
            "year",
            "new_sites",
            "sites_open",
            "spend",
            "cumulative_spend",
            "county_share",
            "county_target",
            "county_met",
            "patients_within",
            "patients_total",
            "patient_share",
            "patient_target",
            "patient_met",
        )
    ]
    rows = [
        [
            int(str(y)),
            int(r["new_sites"]),
            int(r["sites_open"]),
            float(r["spend"]),
            float(r["cumulative_spend"]),
            _share_value(r["county_share"]),
            _share_value(r["county_target"]),
            met if bool(r["county_met"]) else short,
            _count_value(r["patients_within"]),
            _count_value(r["patients_total"]),
            _share_value(r["patient_share"]),
            _share_value(r["patient_target"]),
            met if bool(r["patient_met"]) else short,
        ]
        for y, r in yt.iterrows()
    ]
    fmts = {
        2: _INT,
        3: _INT,
        4: _INT,
        5: _INT,
        6: _PCT,
        7: _PCT,
        9: _INT,
        10: _INT,
        11: _PCT,
        12: _PCT,
    }
    table(ws, 4, header, rows, fmts)
    widths(ws, from_row=4)

    # ---- milestones
    ws = wb.create_sheet(_r("sheet_milestones", lang))
    ms = tables["milestones"]
    header = [
        _r(k, lang)
        for k in ("year", "measure", "target", "achieved", "met", "extra_sites", "extra_budget")
    ]
    rows = []
    for _, r in ms.iterrows():
        measure = str(r["measure"])
        rows.append(
            [
                int(r["year"]),
                _r(f"measure_{measure}", lang)
                if measure in ("counties", "patients", "full_coverage")
                else measure,
                _share_value(r["target"]),
                _share_value(r["achieved"]),
                met if bool(r["met"]) else short,
                None if pd.isna(r.get("extra_sites")) else int(r["extra_sites"]),
                _share_value(r.get("extra_budget")),
            ]
        )
    table(ws, 1, header, rows, {3: _PCT, 4: _PCT, 6: _INT, 7: _INT})
    widths(ws)

    # ---- one sheet per year: its sites, then its counties
    names = (
        site_names(sites, lang=lang)
        if sites is not None and {"name", "source"} <= set(sites.columns)
        else None
    )
    for year in result.years:
        ws = wb.create_sheet(_r("sheet_year", lang, year=year))
        tab = tables[str(year)]
        header = [
            _r(k, lang)
            for k in (
                "site_id",
                "name",
                "county",
                "kind",
                "opening_year",
                "new_this_year",
                "cost",
                "lon",
                "lat",
            )
        ]
        rows = []
        for sid, r in tab.iterrows():
            name = names.get(sid, r.get("name")) if names is not None else r.get("name")
            oy = r["opening_year"]
            rows.append(
                [
                    str(sid),
                    None if name is None or pd.isna(name) else str(name),
                    place_label(str(r["county_name"]), lang),
                    _r(f"kind_{r['kind']}", lang)
                    if r["kind"] in ("existing", "new")
                    else str(r["kind"]),
                    None if pd.isna(oy) else int(oy),
                    yes if bool(r["new_this_year"]) else None,
                    float(r["cost"]),
                    None if pd.isna(r.get("lon")) else round(float(r["lon"]), 6),
                    None if pd.isna(r.get("lat")) else round(float(r["lat"]), 6),
                ]
            )
        nxt = table(ws, 1, header, rows, {7: _INT})
        cty = tables["counties"]
        cty = cty[cty["year"] == year]
        ws.cell(row=nxt + 1, column=1, value=_r("counties_in_year", lang, year=year)).font = bold
        header = [
            _r(k, lang)
            for k in ("county", "n_sites", "patients", "patients_within", "share_within")
        ]
        rows = [
            [
                place_label(str(r["county_name"]), lang),
                int(r["n_sites"]),
                _count_value(r["patients"]),
                _count_value(r["patients_within"]),
                _share_value(r["share_within"]),
            ]
            for _, r in cty.iterrows()
        ]
        table(ws, nxt + 2, header, rows, {2: _INT, 3: _INT, 4: _INT, 5: _PCT})
        widths(ws)

    # ---- notes
    ws = wb.create_sheet(_r("sheet_notes", lang))
    notes = [
        (_r("note_differs", lang), differs_note(lang)),
        (_r("note_travel", lang), travel_label_shown(label, lang=lang)),
        (_r("note_limit", lang), f"{result.scenario.max_travel_min:g}"),
        (_r("note_privacy", lang), _r("privacy_text", lang, thr=result.scenario.privacy_threshold)),
        (
            _r("note_status", lang),
            _r(f"status_{result.status}", lang)
            if result.status in ("optimal", "feasible")
            else result.status,
        ),
    ]
    for i, (k, v) in enumerate(notes, start=1):
        ws.cell(row=i, column=1, value=k).font = bold
        ws.cell(row=i, column=2, value=v).alignment = Alignment(wrap_text=True)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 90
    scen = wb.create_sheet(SCENARIO_SHEET)
    scen.cell(row=1, column=1, value=result.scenario.to_json())
    return wb


def rollout_workbook_bytes(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
    lang: Lang = "zh",
) -> bytes:
    """Return :func:`build_rollout_workbook` as XLSX bytes (the app's download)."""
    buf = io.BytesIO()
    build_rollout_workbook(result, sites=sites, travel_label=travel_label, lang=lang).save(buf)  # type: ignore[attr-defined]
    return buf.getvalue()
