"""The printable rollout map (PDF / PNG): a panel per phase year, legend, scale bars, sources.

Fonts, paper sizes and the scale bar are those of the plan's printable map
(:mod:`planning.report.printmap`); colours those of the interactive rollout map
(:mod:`planning.report.rollout_map`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib_scalebar.scalebar import ScaleBar

from planning import i18n
from planning._atomic import replacing
from planning.errors import DataError, ScenarioError
from planning.inputs.regions import utm_crs
from planning.report.labels import Lang, label_group, place_label
from planning.report.printmap import (
    FALLBACK_FAMILIES,
    PAPER_MM,
    check_dpi,
    frame_axes,
    register_cjk_font,
)
from planning.report.rollout_book import _r, differs_note
from planning.report.rollout_map import EXISTING_COLOUR, LATER_COLOUR, year_colours
from planning.report.rollout_tables import rollout_tables
from planning.results.rollout import RolloutResult
from planning.travel.table import travel_label_shown

PRINT_NAME = "rollout_map_{paper}.pdf"
"""The printable rollout map (one panel per year)."""


def render_rollout_print_map(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    travel_label: str | None = None,
    paper: str = "a4",
    lang: Lang = "zh",
    date: str | None = None,
) -> Figure:
    """Draw the printable rollout map: a panel per phase year, legend, scale bars, sources.

    Each panel shows the region as of its year: counties shaded by the year of their first
    site, existing sites, sites opened that year (large) and earlier (small), with the year's
    figures under it. Fonts, paper sizes and the scale bar are those of the plan's printable
    map (:mod:`planning.report.printmap`); the note under the title says why the final
    year's sites may differ from the one-shot plan.
    """
    if paper not in PAPER_MM:
        raise ScenarioError("report.paper_unknown", paper=paper)
    family = register_cjk_font()
    fonts = {"family": [family, *FALLBACK_FAMILIES]}
    w_mm, h_mm = PAPER_MM[paper]
    scale = w_mm / 297.0

    def fs(pt: float) -> float:
        return pt * scale

    txt = label_group("report.rollout_map", lang)
    colours = year_colours(result.years)
    sc = result.scenario
    date = date or dt.datetime.now(dt.UTC).date().isoformat()
    fig = Figure(figsize=(w_mm / 25.4, h_mm / 25.4))
    fig.patch.set_facecolor("white")
    fig.text(
        0.02,
        0.955,
        _r("print_title", lang, region=sc.region),
        fontsize=fs(18),
        va="center",
        fontdict=fonts,
    )
    model = label_group("report.model", lang).get(result.model, result.model)
    fig.text(
        0.02,
        0.915,
        _r("print_subtitle", lang, name=sc.title(lang), model=model, t=sc.max_travel_min),
        fontsize=fs(10),
        va="center",
        color="#333333",
        fontdict=fonts,
    )
    fig.text(
        0.02,
        0.885,
        _wrap_text(differs_note(lang), 150 if lang == "zh" else 190),
        fontsize=fs(7.2),
        va="top",
        color="#444444",
        fontdict=fonts,
    )

    crs = utm_crs(counties)
    cgeo = counties.to_crs(crs)
    sgeo = sites.to_crs(crs)
    minx, miny, maxx, maxy = cgeo.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    cby = result.counties_by_year
    first = cby[cby["has_site"]].groupby("county_id")["year"].min()
    yt = rollout_tables(result, sites=sites, travel_label=travel_label)["years"]
    n = len(result.years)
    gap, left, width_all = 0.015, 0.02, 0.96
    pw = (width_all - gap * (n - 1)) / n
    halo = [patheffects.withStroke(linewidth=2.5 * scale, foreground="white")]
    aspect = (maxy - miny + 2 * pad) / (maxx - minx + 2 * pad)
    ph = min(pw * (w_mm / h_mm) * aspect, 0.58)  # the panels as tall as the region needs
    top = 0.80
    for k, year in enumerate(result.years):
        ax = fig.add_axes((left + k * (pw + gap), top - ph, pw, ph))
        fill = [
            colours.get(int(first[c]), LATER_COLOUR)
            if c in first.index and int(first[c]) <= year
            else "#f2f2f2"
            for c in cgeo.index
        ]
        cgeo.plot(ax=ax, color=fill, alpha=0.45, edgecolor="#555555", linewidth=0.6 * scale)
        cgeo.dissolve().boundary.plot(ax=ax, color="#222222", linewidth=1.2 * scale)
        for cid, geom in cgeo.geometry.items():
            pt = geom.representative_point()
            ax.text(
                pt.x,
                pt.y,
                place_label(str(counties.loc[cid, "name"]), lang),
                ha="center",
                va="center",
                fontsize=fs(6.5),
                path_effects=halo,
                fontdict=fonts,
                zorder=4,
            )
        oy = result.sites["opening_year"]
        for sid in result.sites.index:
            if sid not in sgeo.index:
                continue
            y0 = oy.loc[sid]
            if not pd.isna(y0) and int(y0) > year:
                continue
            g = sgeo.geometry.loc[sid]
            existing = pd.isna(y0)
            colour = EXISTING_COLOUR if existing else colours.get(int(y0), LATER_COLOUR)
            size = (70 if existing or int(y0) == year else 32) * scale**2
            ax.scatter(
                [g.x],
                [g.y],
                s=size,
                c=colour,
                marker="s" if existing else "o",
                edgecolors="white",
                linewidths=0.8 * scale,
                zorder=5,
            )
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        frame_axes(ax, spine_width=None)
        ax.set_title(_r("print_panel", lang, year=year), fontsize=fs(11), fontdict=fonts)
        ax.add_artist(
            ScaleBar(
                1.0,
                "m",
                location="lower left",
                length_fraction=0.3,
                box_alpha=0.85,
                font_properties={"family": fonts["family"], "size": fs(6.5)},
            )
        )
        row: dict[Any, Any] = yt.loc[year].to_dict()
        share = row["patient_share"]
        patient = "—" if pd.isna(share) else f"{100 * float(share):.1f}%"
        figures = _r(
            "print_panel_figures",
            lang,
            n=int(row["sites_open"]),
            c=f"{100 * float(row['county_share']):.0f}%",
            p=patient,
        )
        sep = "：" if lang == "zh" else ": "
        marks = ("；" if lang == "zh" else "; ").join(
            f"{_r(key, lang)}{sep}{_r('met' if bool(row[key]) else 'not_met', lang)}"
            for key in ("county_met", "patient_met")
        )
        ax.text(
            0.5,
            -0.04,
            f"{figures}\n{marks}",
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=fs(7),
            fontdict=fonts,
        )

    handles: list[Any] = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker="s",
            markerfacecolor=EXISTING_COLOUR,
            markeredgecolor="white",
            markersize=7 * scale,
            label=txt["existing"],
        )
    ]
    handles += [
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markerfacecolor=colours[y],
            markeredgecolor="white",
            markersize=7 * scale,
            label=txt["opens"].format(year=y),
        )
        for y in result.years
    ]
    handles += [Patch(facecolor="#f2f2f2", edgecolor="#555555", label=_r("print_no_site", lang))]
    handles += [Line2D([], [], color="#222222", linewidth=1.2, label=_r("print_boundary", lang))]
    leg = fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.02, top - ph - 0.09),
        ncol=min(len(handles), 6),
        frameon=True,
        edgecolor="#888888",
        title=_r("print_legend", lang),
        prop={"family": fonts["family"], "size": fs(7.5)},
        title_fontproperties={"family": fonts["family"], "size": fs(8.5)},
    )
    leg.get_frame().set_linewidth(0.8)
    label = travel_label or sc.travel_label
    sources = [
        _r("print_sources", lang),
        f"{i18n.text('report.source.boundaries', lang)}: "
        + i18n.text("report.source.boundaries_value", lang),
        f"{i18n.text('report.source.travel', lang)}: {travel_label_shown(label, lang=lang)}",
        _r("privacy_text", lang, thr=sc.privacy_threshold),
        _r("print_made", lang, d=date),
    ]
    fig.text(
        0.02,
        0.115,
        "\n".join(sources),
        fontsize=fs(5.8),
        va="top",
        color="#333333",
        linespacing=1.3,
        fontdict=fonts,
    )
    return fig


def _wrap_text(text: str, width: int) -> str:
    """Wrap ``text`` at ``width`` display columns (CJK characters count two)."""
    lines, current, used = [], "", 0
    for ch in text:
        w = 2 if ord(ch) > 0x2E80 else 1
        if used + w > width and (ch == " " or w == 2 or current.endswith(" ")):
            lines.append(current.rstrip())
            current, used = ("" if ch == " " else ch), (0 if ch == " " else w)
            continue
        current += ch
        used += w
    if current:
        lines.append(current)
    return "\n".join(lines)


def export_rollout_print_map(
    result: RolloutResult,
    path: str | Path,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    travel_label: str | None = None,
    paper: str = "a4",
    lang: Lang = "zh",
    dpi: int = 200,
) -> Path:
    """Save :func:`render_rollout_print_map` as PDF or PNG (by the suffix of ``path``)."""
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise DataError("report.print_map_suffix", path=str(p))
    check_dpi(dpi)
    fig = render_rollout_print_map(
        result, sites=sites, counties=counties, travel_label=travel_label, paper=paper, lang=lang
    )
    meta = {
        "Title": _r("print_title", lang, region=result.scenario.region),
        "Creator": "Kangle Planner",
    }
    with replacing(p) as tmp:  # atomic: a failed write keeps the old file
        fig.savefig(
            tmp, format=fmt, dpi=dpi, metadata=meta if fmt == "pdf" else None, facecolor="white"
        )
    return p


def rollout_print_map_bytes(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    travel_label: str | None = None,
    paper: str = "a4",
    lang: Lang = "zh",
) -> bytes:
    """Return the printable rollout map as PDF bytes (the app's download)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = export_rollout_print_map(
            result,
            Path(tmp) / "rollout.pdf",
            sites=sites,
            counties=counties,
            travel_label=travel_label,
            paper=paper,
            lang=lang,
        )
        return path.read_bytes()
