"""The province overview as files and text: CSV, a plain XLSX workbook and the printed table.

Built from :func:`planning.results.province_overview` and shown only through its
:meth:`~planning.results.ProvinceOverview.public` tables (counts as ``"<5"``/``"≥N"`` where
the plan's privacy mask says so). Headers and words come from the ``regions`` catalog, in
Chinese or English.
"""

from __future__ import annotations

import io
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from planning import i18n
from planning._atomic import replacing, replacing_folder
from planning.inputs.regions import left_out_items
from planning.inputs.sites import site_names
from planning.report._shared import escape_formulas
from planning.report.labels import (
    Lang,
    check_lang,
    model_name,
    place_label,
    prevalence_citation,
)
from planning.report.map_province import build_overview_map
from planning.report.map_shell import map_html
from planning.report.reproduce import export_scenario
from planning.report.workbook import _autowidth, _put, _sheet_title, _write_table
from planning.results.province import YEARS, ProvinceOverview, province_overview
from planning.results.tables import POLICY_TARGETS
from planning.travel.table import travel_label_shown

if TYPE_CHECKING:
    from planning.pipeline import Plan

OVERVIEW_XLSX = "province_overview.xlsx"
PREFECTURES_CSV = "province_prefectures.csv"
COUNTIES_CSV = "province_counties.csv"
_WHOLE = re.compile(r"\d{1,3}(,\d{3})*")
HIDDEN_MARK = "—"
"""Shown instead of a milestone mark that would give a hidden count back."""


def _t(key: str, lang: Lang, **params: Any) -> str:
    return i18n.text(f"regions.{key}", lang, **params)


def _mark(value: object, lang: Lang) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return HIDDEN_MARK
    return _t("ov_met", lang) if bool(value) else _t("ov_not_met", lang)


def _hub_text(hub: str, names: pd.Series, lang: Lang) -> str:
    if not hub:
        return _t("ov_none", lang)
    return f"{hub} {names.get(hub, '')}".strip()


def overview_tables(
    plan: Plan, overview: ProvinceOverview | None = None, *, lang: Lang = "zh"
) -> dict[str, pd.DataFrame]:
    """Return the overview's tables with headers in ``lang``, as every file shows them.

    Returns
    -------
    tables
        ``"prefectures"`` (one row per prefecture, then the total), ``"counties"``,
        ``"milestones"`` (the whole region per year) and ``"left_out"``. Counts are text
        (privacy rule applied); shares are numbers 0-1 (NaN where left out).
    """
    lang = check_lang(lang)
    ov = overview or province_overview(plan)
    pub = ov.public()
    names = site_names(plan.sites, lang=lang)
    yes, no = _t("ov_yes", lang), _t("ov_no", lang)

    def year_cols(frame: pd.DataFrame) -> dict[str, list[str]]:
        cols: dict[str, list[str]] = {}
        for year in YEARS:
            tgt = POLICY_TARGETS[year]
            head = _t("ov_col_county_met", lang, year=year, target=tgt["county_share"])
            cols[head] = [_mark(v, lang) for v in frame[f"county_met_{year}"]]
            head = _t("ov_col_patient_met", lang, year=year, target=tgt["patient_share"])
            cols[head] = [_mark(v, lang) for v in frame[f"patient_met_{year}"]]
        return cols

    rows = pd.concat([pub["prefectures"], pub["total"]])
    total_name = _t("ov_total", lang)
    hubs = list(pub["prefectures"]["hub"].astype(str))
    total_hub = _t(
        "ov_hubs",
        lang,
        n=int(ov.total["prefectures_with_hub"]),
        total=int(ov.total["n_prefectures"]),
    )
    prefectures = pd.DataFrame(
        {
            _t("ov_col_prefecture", lang): [*pub["prefectures"]["name"], total_name],
            _t("ov_col_prefecture_code", lang): [*pub["prefectures"].index.astype(str), ""],
            _t("ov_col_n_counties", lang): rows["n_counties"].astype(int).to_list(),
            _t("ov_col_counties_offering", lang): rows["counties_offering"].astype(int).to_list(),
            _t("ov_col_county_share", lang): rows["county_share"].astype(float).to_list(),
            _t("ov_col_patients", lang): rows["patients"].to_list(),
            _t("ov_col_patients_within", lang): rows["patients_within"].to_list(),
            _t("ov_col_share_within", lang): rows["share_within"].astype(float).to_list(),
            _t("ov_col_hub", lang): [*(_hub_text(h, names, lang) for h in hubs), total_hub],
            _t("ov_col_hub_county", lang): [*pub["prefectures"]["hub_county"], ""],
            **year_cols(rows),
        }
    )
    c = pub["counties"]
    counties = pd.DataFrame(
        {
            _t("ov_col_county_code", lang): c.index.astype(str),
            _t("ov_col_county", lang): c["name"].to_numpy(),
            _t("ov_col_prefecture", lang): c["prefecture_name"].to_numpy(),
            _t("ov_col_patients", lang): c["patients"].to_numpy(),
            _t("ov_col_patients_within", lang): c["patients_within"].to_numpy(),
            _t("ov_col_share_within", lang): c["share_within"].astype(float).to_numpy(),
            _t("ov_col_n_sites", lang): c["n_sites"].astype(int).to_numpy(),
            _t("ov_col_offers_rehab", lang): [yes if v else no for v in c["offers_rehab"]],
            _t("ov_col_reached", lang): [yes if v else no for v in c["reached"]],
            _t("ov_col_hub", lang): [
                ", ".join(_hub_text(h, names, lang) for h in hub.split(",")) if hub else ""
                for hub in c["hub"]
            ],
        }
    )
    total = pub["total"].iloc[0]
    milestones = pd.DataFrame(
        {
            _t("ov_col_year", lang): list(YEARS),
            _t("ov_col_county_target", lang): [POLICY_TARGETS[y]["county_share"] for y in YEARS],
            _t("ov_col_county_share", lang): [float(total["county_share"])] * len(YEARS),
            _t("ov_col_county_target_met", lang): [
                _mark(total[f"county_met_{y}"], lang) for y in YEARS
            ],
            _t("ov_col_patient_target", lang): [POLICY_TARGETS[y]["patient_share"] for y in YEARS],
            _t("ov_col_share_within", lang): [float(total["share_within"])] * len(YEARS),
            _t("ov_col_patient_target_met", lang): [
                _mark(total[f"patient_met_{y}"], lang) for y in YEARS
            ],
        }
    )
    target = pub.get("province_target")
    if target is not None:  # the province's own target (Fujian: 80 % of counties by 2025)
        r = target.iloc[0]
        own = pd.DataFrame(
            {
                _t("ov_col_year", lang): [
                    _t(
                        "ov_province_target_year",
                        lang,
                        year=r["year"],
                        province=place_label(str(r["province"]), lang),
                    )
                ],
                _t("ov_col_county_target", lang): [float(r["county_share_target"])],
                _t("ov_col_county_share", lang): [float(r["county_share"])],
                _t("ov_col_county_target_met", lang): [_mark(r["county_target_met"], lang)],
                _t("ov_col_patient_target", lang): [float(r["patient_share_target"])],
                _t("ov_col_share_within", lang): [float(r["patient_share"])],
                _t("ov_col_patient_target_met", lang): [_mark(r["patient_target_met"], lang)],
            }
        )
        milestones = pd.concat([milestones, own], ignore_index=True)
    left = ov.left_out
    left_out = pd.DataFrame(
        {
            _t("ov_col_county_code", lang): left.index.astype(str),
            _t("ov_col_county", lang): left["name"].astype(str).to_numpy(),
            _t("ov_col_prefecture", lang): left["prefecture_name"].astype(str).to_numpy(),
            _t("ov_col_reason", lang): [i18n.text(str(r), lang) for r in left["reason"]],
        }
    )
    return {
        "prefectures": prefectures,
        "counties": counties,
        "milestones": milestones,
        "left_out": left_out,
    }


def _notes(plan: Plan, lang: Lang, overview: ProvinceOverview | None = None) -> list[str]:
    sc = plan.scenario
    prevalence = prevalence_citation(sc.prevalence_per_mille, lang=lang)
    own = [] if overview is None else [province_target_note(overview, lang=lang)]
    return [
        _t("ov_note_offers", lang),
        _t("ov_note_reach", lang),
        _t("ov_note_hub", lang),
        _t("ov_note_targets", lang),
        *[line for line in own if line],
        _t("ov_note_prevalence", lang, prevalence=prevalence),
        _t("ov_note_privacy", lang, n=sc.privacy_threshold),
    ]


def province_target_note(overview: ProvinceOverview, *, lang: Lang = "zh") -> str:
    """Return the line citing the province's own target (``""`` when it has none)."""
    r = overview.province_target
    if r is None:
        return ""
    return _t(
        "ov_note_province_target",
        check_lang(lang),
        province=place_label(str(r["province"]), lang),
        year=r["year"],
        since=r["since"],
        county_target=float(r["county_share_target"]),
        patient_target=float(r["patient_share_target"]),
    )


def _subtitle(plan: Plan, lang: Lang) -> str:
    sc = plan.scenario
    return _t(
        "ov_subtitle",
        lang,
        model=model_name(plan.solution.model, lang),
        n_sites=len(plan.solution.selected_sites),
        minutes=sc.max_travel_min,
        travel=travel_label_shown(plan.travel.label, lang=lang),
        prevalence=sc.prevalence_per_mille,
    )


def _cells(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows for a sheet: counts shown exactly become numbers, ``"<5"``/``"≥38"`` stay text."""
    return [
        [int(v.replace(",", "")) if isinstance(v, str) and _WHOLE.fullmatch(v) else v for v in row]
        for row in frame.to_numpy().tolist()
    ]


def build_overview_workbook(
    plan: Plan, overview: ProvinceOverview | None = None, *, lang: Lang = "zh"
) -> Any:
    """Return the overview as an ``openpyxl.Workbook`` (see :func:`export_province_overview`)."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415

    lang = check_lang(lang)
    ov = overview or province_overview(plan)
    tables = overview_tables(plan, ov, lang=lang)
    wb = Workbook()
    taken: set[str] = set()
    pct = "0.0%"
    ws = wb.active
    ws.title = _sheet_title(_t("ov_sheet_prefectures", lang), taken)
    _put(ws, 1, 1, _t("ov_title", lang, title=plan.scenario.title(lang))).font = Font(
        bold=True, size=14
    )
    _put(ws, 2, 1, _subtitle(plan, lang))
    frame = tables["prefectures"]
    _write_table(
        ws,
        list(frame.columns),
        _cells(frame),
        start_row=4,
        number_formats={5: pct, 8: pct},
    )
    last = 4 + len(frame)
    for col in range(1, len(frame.columns) + 1):  # the total row in bold
        ws.cell(row=last, column=col).font = Font(bold=True)
    _autowidth(ws)
    sheets: tuple[tuple[str, str, dict[int, str]], ...] = (
        ("ov_sheet_counties", "counties", {6: pct}),
        ("ov_sheet_milestones", "milestones", {2: pct, 3: pct, 5: pct, 6: pct}),
        ("ov_sheet_left_out", "left_out", {}),
    )
    for title, key, formats in sheets:
        frame = tables[key]
        if key == "left_out" and frame.empty:
            continue
        sheet = wb.create_sheet(_sheet_title(_t(title, lang), taken))
        _write_table(sheet, list(frame.columns), _cells(frame), number_formats=formats)
        sheet.freeze_panes = "A2"
        _autowidth(sheet)
    notes = wb.create_sheet(_sheet_title(_t("ov_sheet_notes", lang), taken))
    for i, line in enumerate(_notes(plan, lang, ov), start=1):
        _put(notes, i, 1, line)
    return wb


def format_overview(
    plan: Plan, overview: ProvinceOverview | None = None, *, lang: str | None = None
) -> str:
    """Return the overview as plain text (the command line prints it).

    One line per prefecture and the total: counties offering rehab, patients within reach,
    the hub, and per milestone year the county and patient marks (``✓``, ``✗``, ``–`` where
    a mark would give a hidden count back); then the left-out counties.
    """
    lng = check_lang(i18n.check_language(lang))
    ov = overview or province_overview(plan)
    pub = ov.public()
    names = site_names(plan.sites, lang=lng)
    rows = pd.concat([pub["prefectures"], pub["total"]])
    label = [*pub["prefectures"]["name"], _t("ov_total", lng)]
    hubs = [*(_hub_text(h, names, lng) for h in pub["prefectures"]["hub"].astype(str)), ""]

    def share(x: float | None) -> str:
        return "" if x is None or pd.isna(x) else f" ({x:.0%})"

    def mark(v: object) -> str:
        return "–" if v is None or (isinstance(v, float) and pd.isna(v)) else "✓" if v else "✗"

    header = [
        _t("ov_col_prefecture", lng),
        _t("ov_col_counties_offering", lng),
        _t("ov_col_patients_within", lng),
        _t("ov_col_hub", lng),
        *(
            f"{y} {POLICY_TARGETS[y]['county_share']:.0%}/{POLICY_TARGETS[y]['patient_share']:.0%}"
            for y in YEARS
        ),
    ]
    body = []
    for (_, r), name, hub in zip(rows.iterrows(), label, hubs, strict=True):
        body.append(
            [
                str(name),
                f"{int(r['counties_offering'])}/{int(r['n_counties'])}"
                + share(float(r["county_share"])),
                f"{r['patients_within']} / {r['patients']}" + share(float(r["share_within"])),
                hub,
                *(mark(r[f"county_met_{y}"]) + mark(r[f"patient_met_{y}"]) for y in YEARS),
            ]
        )
    widths = [max(_width(x) for x in col) for col in zip(header, *body, strict=True)]
    table = [
        "  ".join(_pad(x, w) for x, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *body]
    ]
    lines = [
        _t("ov_title", lng, title=plan.scenario.title(lng)),
        _subtitle(plan, lng),
        "",
        *table,
        "",
        _t(
            "ov_hubs",
            lng,
            n=int(ov.total["prefectures_with_hub"]),
            total=int(ov.total["n_prefectures"]),
        ),
    ]
    target = pub.get("province_target")
    if target is not None:
        r = target.iloc[0]
        lines.append(
            _t(
                "ov_province_target_line",
                lng,
                province=place_label(str(r["province"]), lng),
                year=r["year"],
                county_target=float(r["county_share_target"]),
                county_share=float(r["county_share"]),
                county_met=mark(r["county_target_met"]),
                patient_target=float(r["patient_share_target"]),
                patient_share=share(r["patient_share"]).strip(" ()") or "–",
                patient_met=mark(r["patient_target_met"]),
            )
        )
    if len(ov.left_out):
        items = i18n.join((m.text(lng) for m in left_out_items(ov.left_out)), lng)
        lines.append(_t("ov_left_out_line", lng, counties=items))
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def export_province_overview(
    plan: Plan,
    out_dir: str | Path,
    *,
    lang: Lang = "zh",
    overview: ProvinceOverview | None = None,
) -> list[Path]:
    """Write the province overview: XLSX workbook, two CSV tables and ``scenario.json``.

    Files: ``province_overview.xlsx`` (prefectures with the total, counties, milestones,
    counties left out, notes), ``province_prefectures.csv`` (last row: the total),
    ``province_counties.csv`` and ``scenario.json``. Headers in ``lang``; counts shown by
    the privacy rule; no text cell is a formula.

    Returns
    -------
    paths
        The files written.
    """
    lang = check_lang(lang)
    out = Path(out_dir)
    ov = overview or province_overview(plan)
    tables = overview_tables(plan, ov, lang=lang)
    book = build_overview_workbook(plan, ov, lang=lang)
    names = []
    with replacing_folder(out) as staging:  # a failed write keeps the previous folder whole
        for name, key in ((PREFECTURES_CSV, "prefectures"), (COUNTIES_CSV, "counties")):
            with replacing(staging / name) as tmp:
                escape_formulas(tables[key]).to_csv(tmp, index=False, encoding="utf-8-sig")
            names.append(name)
        with replacing(staging / OVERVIEW_XLSX) as tmp:
            book.save(tmp)
        names.append(OVERVIEW_XLSX)
        names.append(export_scenario(plan, staging).name)
    return [out / name for name in names]


OVERVIEW_MAP_HTML = "province_overview_map.html"
OverviewFormat = Literal["xlsx", "html", "zip"]


def overview_bytes(
    plan: Plan,
    fmt: OverviewFormat,
    *,
    lang: Lang = "zh",
    overview: ProvinceOverview | None = None,
) -> bytes:
    """Return the province overview as one downloadable file (the app's download buttons).

    ``"xlsx"``: the workbook of :func:`build_overview_workbook`; ``"html"``: the overview map
    (:func:`planning.report.map_province.build_overview_map`, standalone page); ``"zip"``:
    every file of :func:`export_province_overview` plus the map.
    """
    lang = check_lang(lang)
    ov = overview or province_overview(plan)
    if fmt == "xlsx":
        buf = io.BytesIO()
        build_overview_workbook(plan, ov, lang=lang).save(buf)
        return buf.getvalue()
    page = map_html(build_overview_map(plan, ov, basemap="cartodb", lang=lang))
    if fmt == "html":
        return page.encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export_province_overview(plan, folder, lang=lang, overview=ov)
        (folder / OVERVIEW_MAP_HTML).write_text(page, encoding="utf-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(folder.iterdir()):
                zf.write(f, f.name)
        return buf.getvalue()
