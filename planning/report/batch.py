"""The roll-up of a batch: CSV, workbook and printable map of every unit's plan and the total.

``batch_summary.csv`` (machine-readable column names), ``batch_summary.xlsx`` (headers in the
chosen language; a sheet of units with the total, and one describing the batch) and
``batch_map_<paper>.pdf`` / ``.png`` (units shaded by their share of patients within reach,
classes at the policy milestones; units without a plan hatched). Per unit and in total: sites,
counties with a site, patients within reach, solver status and gap, and each milestone year
(50 / 65 / 80 % of counties, 30 / 45 / 60 % of patients) met or how far short.

Patient counts pass :func:`planning.results.rollup.public_rollup` (the project's privacy
rule, with whatever each unit's own plan hides kept hidden). Each file is written under a
temporary name and renamed when complete, so an interrupted write never leaves a partial one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from planning import i18n
from planning._atomic import replacing
from planning.report._shared import escape_formulas
from planning.report.labels import Lang, Paper, check_lang, model_name
from planning.report.labels import text as label_text
from planning.report.printmap import (
    COVERAGE_COLOURS,
    FALLBACK_FAMILIES,
    PAPER_MM,
    SITE_STYLE,
    _coverage_colour,
    _coverage_labels,
    _wrap,
    frame_axes,
    register_cjk_font,
)
from planning.report.workbook import _autowidth, _put, _sheet_title, _write_table
from planning.results.rollup import TOTAL, public_rollup, rollup_table
from planning.results.tables import POLICY_SOURCE, POLICY_TARGETS
from planning.scenario import Scenario
from planning.travel.table import travel_label_shown

logger = logging.getLogger(__name__)

ROLLUP_CSV = "batch_summary.csv"
ROLLUP_XLSX = "batch_summary.xlsx"
FAILED_COLOUR = "#bdbdbd"
MAX_LABELS = 60
"""Units are labelled on the map when there are at most this many."""


def template_title(template: Scenario, lang: Lang) -> str:
    """Return the template's name, or "unnamed scenario" in ``lang``.

    A nameless template's own title follows its region (莆田市示范方案), which every unit of
    the batch replaced, so it would name the wrong place on the roll-up.
    """
    if template.name and template.name.strip():
        return template.name
    return i18n.text("batch.template_unnamed", lang)


def map_name(paper: Paper, fmt: str) -> str:
    """File name of the roll-up map, e.g. ``batch_map_a4.pdf``."""
    return f"batch_map_{paper}.{fmt}"


@dataclass(frozen=True, kw_only=True)
class RollupInfo:
    """What the roll-up says about the batch itself.

    Attributes
    ----------
    region
        Name of the region planned (``"福建省"``, ``"全国"``).
    by
        Level of the units: ``"province"``, ``"prefecture"`` or ``"county"``.
    template
        The template scenario (every unit's scenario is it with the region replaced).
    workers
        Dask worker threads the batch ran on (0 when every unit was reused).
    elapsed_s
        Wall time of the batch.
    made_at
        When the roll-up was made (ISO text; default now, UTC).
    """

    region: str
    by: str
    template: Scenario
    workers: int
    elapsed_s: float
    made_at: str = ""

    def stamp(self) -> str:
        """``made_at`` or now (UTC), as ``YYYY-MM-DD HH:MM UTC``."""
        return self.made_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# ------------------------------------------------------------------------ tables
YEARS = tuple(POLICY_TARGETS)
CSV_COLUMNS = (
    "adcode",
    "name",
    "province",
    "status",
    "reused",
    "solver_status",
    "mip_gap",
    "n_sites",
    "n_sites_existing",
    "n_sites_new",
    "n_counties",
    "counties_with_site",
    "county_share",
    "patients_total",
    "patients_within",
    "share_within",
    *(
        f"{col}_{year}"
        for year in YEARS
        for col in (
            "county_target_met",
            "counties_short",
            "patient_target_met",
            "patient_share_short",
        )
    ),
    "elapsed_s",
    "folder",
    "message",
    "notes",
)
"""Columns of ``batch_summary.csv``, in order."""


def public_table(
    units: pd.DataFrame, *, threshold: int, hidden: Mapping[str, Mapping[str, str]]
) -> pd.DataFrame:
    """Return the roll-up as shown: every unit and the total row, counts under the privacy rule.

    Parameters
    ----------
    units
        One row per unit, index ``adcode``: ``name``, ``province``, ``status``, ``reused``,
        ``solver_status``, ``gap``, the figures of :func:`planning.results.rollup.unit_figures`
        (raw; NaN for failed units), ``elapsed_s``, ``folder``, ``message`` and ``notes``.
    threshold, hidden
        The scenario's ``privacy_threshold``, and what each unit's own plan hides.
    """
    table = rollup_table(units)
    out = public_rollup(table, threshold=threshold, hidden=hidden)
    out = out.rename(columns={"gap": "mip_gap"})
    out.index = out.index.rename("adcode")
    return out


def csv_frame(public: pd.DataFrame, *, lang: Lang) -> pd.DataFrame:
    """``batch_summary.csv`` as a frame: :data:`CSV_COLUMNS`, the total row named."""
    frame = public.reset_index()
    total = frame["adcode"] == TOTAL
    frame.loc[total, "name"] = _total_name(public, lang)
    for col in CSV_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    return escape_formulas(frame[list(CSV_COLUMNS)])


def _total_name(public: pd.DataFrame, lang: Lang) -> str:
    row = public.loc[TOTAL].to_dict()
    n_units = int(row["n_units"])
    return i18n.text("batch.total", lang, done=n_units - int(row["n_failed"]), units=n_units)


def _met(value: Any, lang: Lang) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return i18n.text("batch.met" if value else "batch.short", lang)


def _num(value: Any, digits: int | None = None) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    v = float(value)
    if digits is None:
        return round(v) if abs(v - round(v)) < 1e-9 else v
    return round(v, digits)


def _headers(info: RollupInfo, lang: Lang) -> list[str]:
    minutes = info.template.max_travel_min
    heads = [
        i18n.text("batch.col_adcode", lang),
        i18n.text("batch.col_name", lang),
        i18n.text("batch.col_province", lang),
        i18n.text("batch.col_status", lang),
        i18n.text("batch.col_reused", lang),
        i18n.text("batch.col_solver", lang),
        i18n.text("batch.col_gap", lang),
        i18n.text("batch.col_sites", lang),
        i18n.text("batch.col_sites_existing", lang),
        i18n.text("batch.col_sites_new", lang),
        i18n.text("batch.col_counties", lang),
        i18n.text("batch.col_counties_with_site", lang),
        i18n.text("batch.col_county_share", lang),
        i18n.text("batch.col_patients", lang),
        i18n.text("batch.col_patients_within", lang, minutes=minutes),
        i18n.text("batch.col_share_within", lang, minutes=minutes),
    ]
    for year, target in POLICY_TARGETS.items():
        heads += [
            i18n.text("batch.col_county_met", lang, year=year, target=target["county_share"]),
            i18n.text("batch.col_counties_short", lang, year=year),
            i18n.text("batch.col_patient_met", lang, year=year, target=target["patient_share"]),
            i18n.text("batch.col_patient_short", lang, year=year),
        ]
    heads += [
        i18n.text("batch.col_elapsed", lang),
        i18n.text("batch.col_folder", lang),
        i18n.text("batch.col_message", lang),
        i18n.text("batch.col_notes", lang),
    ]
    return heads


def _solver_text(status: str, lang: Lang) -> str:
    if status in ("optimal", "feasible"):
        return i18n.text(f"batch.solver_{status}", lang)
    return status


def _status_text(row: pd.Series, lang: Lang) -> str:
    return i18n.text(
        "batch.status_done" if row["status"] == "done" else "batch.status_failed", lang
    )


def _rows(public: pd.DataFrame, lang: Lang) -> list[list[Any]]:
    yes, no = i18n.text("common.yes", lang), i18n.text("common.no", lang)
    rows = []
    for adcode, r in public.iterrows():
        is_total = adcode == TOTAL
        solver = r.get("solver_status")
        row: list[Any] = [
            None if is_total else str(adcode),
            _total_name(public, lang) if is_total else r["name"],
            None if is_total else r.get("province"),
            None if is_total else _status_text(r, lang),
            None if is_total else (yes if bool(r.get("reused")) else no),
            None if is_total or not isinstance(solver, str) else _solver_text(solver, lang),
            None if is_total else _num(r.get("mip_gap"), 6),
            _num(r["n_sites"]),
            _num(r["n_sites_existing"]),
            _num(r["n_sites_new"]),
            _num(r["n_counties"]),
            _num(r["counties_with_site"]),
            _num(r["county_share"], 4),
            r["patients_total"] or None,
            r["patients_within"] or None,
            _num(r["share_within"], 4),
        ]
        for year in YEARS:
            row += [
                _met(r[f"county_target_met_{year}"], lang),
                _num(r[f"counties_short_{year}"]),
                _met(r[f"patient_target_met_{year}"], lang),
                _num(r[f"patient_share_short_{year}"], 4),
            ]
        row += [
            None if is_total else _num(r.get("elapsed_s"), 1),
            None if is_total else r.get("folder"),
            None if is_total else r.get("message") or None,
            None if is_total else r.get("notes") or None,
        ]
        rows.append(row)
    return rows


def build_rollup_workbook(public: pd.DataFrame, info: RollupInfo, *, lang: Lang = "zh") -> Any:
    """Build the roll-up workbook: a sheet of units (and total), one about the batch."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415

    lang = check_lang(lang)
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = _sheet_title(i18n.text("batch.sheet_units", lang), taken)
    heads = _headers(info, lang)
    share_cols = [7, 13, 16, *(16 + 4 * i + 4 for i in range(len(YEARS)))]  # 1-based columns
    pct = dict.fromkeys(share_cols, "0.0%")
    _write_table(ws, heads, _rows(public, lang), number_formats=pct)
    last = len(public) + 1
    for col in range(1, len(heads) + 1):
        ws.cell(row=last, column=col).font = Font(bold=True)
    ws.freeze_panes = "C2"
    _autowidth(ws, max_width=48)

    wa = wb.create_sheet(_sheet_title(i18n.text("batch.sheet_about", lang), taken))
    row = 1
    _put(wa, row, 1, i18n.text("batch.title", lang)).font = Font(bold=True, size=14)
    row += 2
    for key, value in _about(public, info, lang):
        _put(wa, row, 1, key)
        _put(wa, row, 2, value)
        row += 1
    row += 1
    for note in _notes(info, lang):
        _put(wa, row, 1, note)
        row += 1
    _autowidth(wa, max_width=90)
    wa.column_dimensions["A"].width = 30
    wj = wb.create_sheet(_sheet_title("template.json", taken))
    for i, line in enumerate(info.template.to_json().splitlines(), start=1):
        _put(wj, i, 1, line)
    return wb


def _about(public: pd.DataFrame, info: RollupInfo, lang: Lang) -> list[tuple[str, Any]]:
    sc = info.template
    total = public.loc[TOTAL].to_dict()
    units = public[public.index != TOTAL]
    n_failed = int(total["n_failed"])
    n_reused = int(units["reused"].fillna(value=False).astype(bool).sum())
    t = i18n.text
    return [
        (t("batch.about_region", lang), info.region),
        (t("batch.about_level", lang), t(f"batch.level_{info.by}", lang)),
        (t("batch.about_units", lang), len(units)),
        (t("batch.about_done", lang), len(units) - n_failed),
        (t("batch.about_failed", lang), n_failed),
        (t("batch.about_reused", lang), n_reused),
        (t("batch.about_template", lang), template_title(sc, lang)),
        (label_text("model", lang), model_name(sc.model, lang)),
        (label_text("n_facilities", lang), sc.n_facilities),
        (label_text("max_travel_min", lang), sc.max_travel_min),
        (t("batch.about_travel", lang), travel_label_shown(sc.travel_label, lang=lang)),
        (t("batch.about_cells", lang), f"{sc.cell_size_m:g} m / {sc.candidate_spacing_m:g} m"),
        (label_text("privacy", lang), f"<{sc.privacy_threshold}"),
        (t("batch.about_workers", lang), info.workers),
        (t("batch.about_elapsed", lang), round(info.elapsed_s, 1)),
        (label_text("exported", lang), info.stamp()),
        (t("batch.about_policy", lang), POLICY_SOURCE),
    ]


def _notes(info: RollupInfo, lang: Lang) -> list[str]:
    thr = info.template.privacy_threshold
    notes = [i18n.text("batch.note_total", lang), i18n.text("batch.note_files", lang)]
    notes += [label_text(k, lang, n=thr) for k in ("note_proxy", "note_estimated", "note_privacy")]
    return notes


# ------------------------------------------------------------------------ map
def render_rollup_map(
    public: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    info: RollupInfo,
    *,
    sites: gpd.GeoDataFrame | None = None,
    paper: Paper = "a4",
    lang: Lang = "zh",
) -> Figure:
    """Draw the roll-up map on a landscape ``paper`` sheet (A4 / A3).

    Units are shaded by their share of patients within reach (classes at the 30 / 45 / 60 /
    80 % milestones; grey where the share is hidden by the privacy rule), hatched where the
    unit has no plan; ``sites`` (WGS-84 points with ``kind``) drawn on top; key figures of the
    total and the milestones on the right.
    """
    from matplotlib_scalebar.scalebar import ScaleBar  # noqa: PLC0415

    lang = check_lang(lang)
    family = register_cjk_font()
    w_mm, h_mm = PAPER_MM[paper]
    scale = w_mm / 297.0
    fig = Figure(figsize=(w_mm / 25.4, h_mm / 25.4))
    fig.patch.set_facecolor("white")
    fonts = {"family": [family, *FALLBACK_FAMILIES]}
    t = i18n.text
    sc = info.template

    def fs(pt: float) -> float:
        return pt * scale

    level = t(f"batch.level_{info.by}", lang)
    fig.text(
        0.02,
        0.955,
        t("batch.map_title", lang, region=info.region, level=level),
        fontsize=fs(19),
        va="center",
        fontdict=fonts,
    )
    fig.text(
        0.02,
        0.915,
        t(
            "batch.map_subtitle",
            lang,
            name=template_title(sc, lang),
            model=model_name(sc.model, lang),
            minutes=sc.max_travel_min,
            units=int((public.index != TOTAL).sum()),
        ),
        fontsize=fs(10.5),
        va="center",
        color="#333333",
        fontdict=fonts,
    )
    ax = fig.add_axes((0.02, 0.10, 0.665, 0.79))
    units = public[public.index != TOTAL]
    geo = boundaries[boundaries.index.isin(units.index)]
    if len(geo):
        crs = _map_crs(geo)
        g = geo.to_crs(crs)
        shares = units["share_within"].reindex(g.index)
        done = (units["status"] == "done").reindex(g.index).fillna(value=False).astype(bool)
        colours = [
            _coverage_colour(s) if ok else FAILED_COLOUR for s, ok in zip(shares, done, strict=True)
        ]
        g.plot(ax=ax, color=colours, edgecolor="#4d4d4d", linewidth=0.6 * scale)
        if (~done).any():
            g[~done].plot(
                ax=ax, facecolor="none", edgecolor="#555555", hatch="///", linewidth=0.6 * scale
            )
        outline = shapely.union_all(shapely.make_valid(g.geometry.to_numpy()))
        gpd.GeoSeries([outline], crs=crs).boundary.plot(
            ax=ax, color="#222222", linewidth=1.2 * scale
        )
        if sites is not None and len(sites):
            pts = sites.to_crs(crs)
            size = (14 if len(pts) <= 200 else 4) * scale**2
            for kind, style in SITE_STYLE.items():
                sel = pts[pts["kind"] == kind] if "kind" in pts else pts.iloc[0:0]
                if len(sel):
                    ax.scatter(
                        sel.geometry.x,
                        sel.geometry.y,
                        marker=style["marker"],
                        c=style["color"],
                        s=size * (2.5 if kind == "hub" else 1.0),
                        edgecolors="white",
                        linewidths=0.3 * scale,
                        zorder=3,
                    )
        if len(g) <= MAX_LABELS:
            halo = [patheffects.withStroke(linewidth=3 * scale, foreground="white")]
            size = fs(8 if len(g) <= 20 else 6)
            for adcode, geom in g.geometry.items():
                pt = geom.representative_point()
                share = shares.get(adcode)
                label = str(units.loc[adcode, "name"])
                if not done.get(adcode, False):
                    label += "\n" + t("batch.map_no_plan", lang)
                elif share is not None and not pd.isna(share):
                    label += f"\n{share:.0%}"
                for colour, effects in (("white", halo), ("#111111", None)):
                    ax.text(
                        pt.x,
                        pt.y,
                        label,
                        ha="center",
                        va="center",
                        fontsize=size,
                        color=colour,
                        path_effects=effects,
                        fontdict=fonts,
                        zorder=4,
                    )
        minx, miny, maxx, maxy = g.total_bounds
        pad = 0.03 * max(maxx - minx, maxy - miny)
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        ax.add_artist(
            ScaleBar(
                1.0,
                "m",
                fixed_units="km",  # not "1 Mm" on a map of China
                location="lower left",
                length_fraction=0.25,
                box_alpha=0.85,
                font_properties={"family": fonts["family"], "size": fs(8)},
            )
        )
    frame_axes(ax)

    legend_ax = fig.add_axes((0.705, 0.60, 0.275, 0.29))
    legend_ax.set_axis_off()
    handles: list[Any] = [
        Patch(facecolor=c, edgecolor="#4d4d4d", label=lab)
        for c, lab in zip(COVERAGE_COLOURS, _coverage_labels(lang), strict=True)
    ]
    if sites is not None and len(sites):
        handles += [
            Line2D(
                [],
                [],
                linestyle="none",
                marker=style["marker"],
                markerfacecolor=style["color"],
                markeredgecolor="white",
                markersize=6 * scale,
                label=i18n.text(f"batch.map_site_{kind}", lang),
            )
            for kind, style in SITE_STYLE.items()
            if "kind" in sites and (sites["kind"] == kind).any()
        ]
    handles.append(
        Patch(
            facecolor=FAILED_COLOUR,
            edgecolor="#555555",
            hatch="///",
            label=t("batch.map_failed", lang),
        )
    )
    leg = legend_ax.legend(
        handles=handles,
        loc="upper left",
        frameon=True,
        fancybox=False,
        edgecolor="#888888",
        title=t("batch.map_legend", lang, minutes=sc.max_travel_min),
        prop={"family": fonts["family"], "size": fs(8.5)},
        title_fontproperties={"family": fonts["family"], "size": fs(9.5)},
        alignment="left",
    )
    leg.get_frame().set_linewidth(0.8)
    fig.text(0.705, 0.575, t("batch.map_key", lang), fontsize=fs(10), va="top", fontdict=fonts)
    body = "\n".join(_wrap(line, 54) for line in key_lines(public, info, lang=lang))
    fig.text(0.705, 0.535, body, fontsize=fs(8), va="top", linespacing=1.45, fontdict=fonts)
    footer = [*_notes(info, lang), t("batch.map_made", lang, date=info.stamp())]
    fig.text(
        0.02,
        0.085,
        "\n".join(_wrap(line, 200) for line in footer),
        fontsize=fs(5.8),
        va="top",
        color="#333333",
        linespacing=1.3,
        fontdict=fonts,
    )
    return fig


def _map_crs(geo: gpd.GeoDataFrame) -> str:
    """Return a projection for the units: UTM, or a China-wide Albers for large extents."""
    minx, miny, maxx, maxy = geo.total_bounds
    lon0 = (minx + maxx) / 2
    if maxy - miny > 8 or maxx - minx > 8:
        return f"+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0={lon0:.2f} +datum=WGS84 +units=m"
    return str(geo.estimate_utm_crs().to_string())


def key_lines(public: pd.DataFrame, info: RollupInfo, *, lang: Lang = "zh") -> list[str]:
    """Key figures of the total and the milestones, as lines of text (map, command line)."""
    t = i18n.text
    total = public.loc[TOTAL].to_dict()
    n_units, n_failed = int(total["n_units"]), int(total["n_failed"])
    share = total["share_within"]
    lines = [
        t("batch.key_units", lang, done=n_units - n_failed, units=n_units, failed=n_failed),
        t(
            "batch.key_sites",
            lang,
            sites=int(total["n_sites"]),
            existing=int(total["n_sites_existing"]),
            new=int(total["n_sites_new"]),
        ),
        t(
            "batch.key_counties",
            lang,
            with_site=int(total["counties_with_site"]),
            counties=int(total["n_counties"]),
            share="—" if pd.isna(total["county_share"]) else f"{total['county_share']:.0%}",
        ),
        t(
            "batch.key_within",
            lang,
            minutes=info.template.max_travel_min,
            within=total["patients_within"] or "—",
            patients=total["patients_total"] or "—",
            share="—" if pd.isna(share) else f"{share:.1%}",
        ),
    ]
    for year, target in POLICY_TARGETS.items():
        c_met, p_met = total[f"county_target_met_{year}"], total[f"patient_target_met_{year}"]
        short = _num(total[f"counties_short_{year}"]) or 0
        counties = (
            t("batch.counties_short_by", lang, counties=short)
            if c_met is False and short
            else _met(c_met, lang) or "—"
        )
        lines.append(
            t(
                "batch.key_milestone",
                lang,
                year=year,
                county_target=target["county_share"],
                patient_target=target["patient_share"],
                counties=counties,
                patients=_met(p_met, lang) or "—",
            )
        )
    return lines


# ------------------------------------------------------------------------ files
def _save(fig: Figure, path: Path, *, fmt: str, dpi: int, meta: dict[str, str]) -> None:
    fig.savefig(
        path, format=fmt, dpi=dpi, metadata=meta if fmt == "pdf" else None, facecolor="white"
    )


def _atomic(path: Path, write: Callable[[Path], Any]) -> Path:
    """Write ``path`` through a temporary file in the same folder, flushed and renamed.

    :func:`planning._atomic.replacing`: a failed write is a ``WriteError`` saying what failed,
    and the old file is kept.
    """
    with replacing(path) as tmp:
        write(tmp)
    return path


def export_rollup(
    units: pd.DataFrame,
    out_dir: str | Path,
    *,
    info: RollupInfo,
    hidden: Mapping[str, Mapping[str, str]],
    boundaries: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    lang: Lang = "zh",
    papers: Iterable[Paper] = ("a4",),
    dpi: int = 150,
) -> list[Path]:
    """Write ``batch_summary.csv``, ``batch_summary.xlsx`` and the map (PDF and PNG per paper).

    Parameters
    ----------
    units
        One row per unit (see :func:`public_table`).
    out_dir
        The batch folder (exists).
    info
        Region, level, template and run figures of the batch.
    hidden
        ``{adcode: {figure: text}}``: what each unit's own plan files hide.
    boundaries
        Unit outlines (WGS-84, index ``adcode``); no map without them.
    sites
        Open sites of every unit (WGS-84 points, column ``kind``), drawn on the map.

    Returns
    -------
    paths
        The files written.
    """
    lang = check_lang(lang)
    out = Path(out_dir)
    public = public_table(units, threshold=info.template.privacy_threshold, hidden=hidden)
    frame = csv_frame(public, lang=lang)
    written = [
        _atomic(out / ROLLUP_CSV, lambda p: frame.to_csv(p, index=False, encoding="utf-8-sig")),
        _atomic(
            out / ROLLUP_XLSX, lambda p: build_rollup_workbook(public, info, lang=lang).save(p)
        ),
    ]
    if boundaries is not None and len(boundaries):
        meta = {"Title": i18n.text("batch.title", lang), "Creator": "Kangle Planner"}
        for paper in papers:
            fig = render_rollup_map(public, boundaries, info, sites=sites, paper=paper, lang=lang)
            written += [
                _atomic(
                    out / map_name(paper, fmt), partial(_save, fig, fmt=fmt, dpi=dpi, meta=meta)
                )
                for fmt in ("pdf", "png")
            ]
    logger.info("Batch roll-up: %d files in %s", len(written), out)
    return written
