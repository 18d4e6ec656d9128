"""A printable map of a plan (PDF / PNG, A4 or A3 landscape) for coordination meetings.

Drawn with matplotlib only, offline (no web tiles): counties shaded by the share of their
patients within the travel-time threshold (classes at the 30 / 45 / 60 / 80 % policy
milestones), county boundaries, open sites by kind (existing / new / hub), a title, a legend,
key figures, a scale bar (matplotlib-scalebar), a north arrow, and the data sources and date.
Chinese text is set in Noto Sans CJK SC, shipped by the PyPI package ``noto-cjk-sans-otc``
(SIL Open Font License 1.1), registered with matplotlib on first use.

The map is drawn in the region's UTM zone (metres), so the scale bar is true and grid north
is within a degree or two of true north at county scale.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from planning import i18n
from planning._atomic import replacing
from planning.errors import DataError, PlanningWarning, ScenarioError
from planning.inputs.regions import utm_crs
from planning.report import legend as legend_classes
from planning.report.labels import data_sources, model_name, place_label, text
from planning.report.map_layers import PREFECTURE_COLOUR, spans_prefectures
from planning.results.privacy import count_mask, hidden_kpis, travel_left_out
from planning.results.province import province_overview
from planning.results.tables import capacity_advice
from planning.suppression import Withheld
from planning.travel.table import travel_label_local

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from planning.pipeline import Plan

logger = logging.getLogger(__name__)

Paper = Literal["a4", "a3"]
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (297.0, 210.0), "a3": (420.0, 297.0)}
CJK_FAMILY = "Noto Sans CJK SC"
FALLBACK_FAMILIES = ["DejaVu Sans"]

# Layout in figure fractions (left, bottom, width, height); tests look for the legend here.
MAP_BOX = (0.02, 0.165, 0.665, 0.725)
PANEL_BOX = (0.705, 0.165, 0.275, 0.725)
FOOTER_TOP = 0.148
LEGEND_BOX = (0.705, 0.60, 0.275, 0.29)

# Coverage classes: share of a county's patients within the threshold.
COVERAGE_BREAKS = (0.0, *legend_classes.COVERAGE_BREAKS, 1.0000001)  # as on screen
COVERAGE_COLOURS = legend_classes.COVERAGE_COLOURS
NO_DATA_COLOUR = "#dddddd"
OVER_CAPACITY_COLOUR = "#e31a1c"
SITE_STYLE: dict[str, dict[str, Any]] = {
    "existing": {"marker": "s", "color": "#1f4e9c", "size": 70},
    "new": {"marker": "o", "color": "#d7301f", "size": 80},
    "hub": {"marker": "*", "color": "#6a1b9a", "size": 260},
}


MIN_DPI = 30
MAX_DPI = 600
"""Resolution range of the PNG map (dots per inch): 30 is a preview, A3 at 600 dpi 70 megapixels."""


def check_dpi(dpi: object) -> int:
    """Return ``dpi`` if it is a whole number from :data:`MIN_DPI` to :data:`MAX_DPI`.

    Raises
    ------
    ScenarioError
        Any other value (0, 100000, 1.5...), naming the range and the usual values.
    """
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not MIN_DPI <= dpi <= MAX_DPI:
        raise ScenarioError("report.dpi_out_of_range", dpi=dpi, low=MIN_DPI, high=MAX_DPI)
    return dpi


def _l(key: str, lang: str, **kw: Any) -> str:
    """Print-map label ``report.print.<key>`` in ``lang``."""
    return i18n.text(f"report.print.{key}", lang, **kw)


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the project's CJK font with matplotlib and return its family name.

    The font file comes from the ``noto-cjk-sans-otc`` package (a runtime dependency),
    located with :mod:`importlib.resources`. When it is missing a ``UserWarning`` says how to
    install it and the fallback family is returned (Chinese text then shows as boxes).
    """
    from matplotlib import font_manager  # noqa: PLC0415

    try:
        from importlib.resources import as_file, files  # noqa: PLC0415

        resource = files("noto_cjk_sans_otc").joinpath("NotoSansCJK-Regular.ttc")
        with as_file(resource) as path:
            font_manager.fontManager.addfont(str(path))
    except (ModuleNotFoundError, FileNotFoundError, OSError) as err:
        warnings.warn(PlanningWarning("report.cjk_font_missing", error=str(err)), stacklevel=2)
        return FALLBACK_FAMILIES[0]
    # matplotlib >= 3.10 registers every face of the collection; older ones only the first
    names = {f.name for f in font_manager.fontManager.ttflist if "Noto Sans CJK" in f.name}
    if CJK_FAMILY in names:
        return CJK_FAMILY
    return min(names) if names else FALLBACK_FAMILIES[0]


def _display_width(s: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in s)


def _wrap(line: str, width: int) -> str:
    """Wrap ``line`` to ``width`` columns, counting CJK characters as two columns."""
    out: list[str] = []
    current = ""
    for word in line.replace("\n", " ").split(" "):
        # CJK runs have no spaces: split them into characters so they can wrap anywhere
        pieces = [word] if _display_width(word) == len(word) else list(word)
        for j, piece in enumerate(pieces):
            sep = " " if current and (j == 0) else ""
            cand = current + sep + piece
            if current and _display_width(cand) > width:
                out.append(current)
                current = piece
            else:
                current = cand
    if current:
        out.append(current)
    return "\n".join(out)


def _coverage_colour(share: float) -> str:
    if pd.isna(share):
        return NO_DATA_COLOUR
    return COVERAGE_COLOURS[legend_classes.coverage_class(float(share))]


def _coverage_labels(lang: str) -> list[str]:
    del lang  # numbers and % read the same in both languages
    return legend_classes.coverage_labels()


def _policy_line(plan: Plan, lang: str) -> list[str]:
    lines = []
    for year, p in plan.tables.policy.iterrows():
        c_ok, p_ok = bool(p["county_target_met"]), bool(p["patient_target_met"])
        res = (
            "met_both"
            if c_ok and p_ok
            else "met_county"
            if c_ok
            else "met_patient"
            if p_ok
            else "met_none"
        )
        lines.append(
            _l(
                "k_policy",
                lang,
                y=year,
                ct=p["county_share_target"],
                pt=p["patient_share_target"],
                res=_l(res, lang),
            )
        )
    return lines


def frame_axes(ax: Axes, *, spine_width: float | None = 0.8) -> None:
    """Style a print map's axes: equal scale, no ticks or labels, grey frame, sea-blue ground."""
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_color("#888888")
        if spine_width is not None:
            spine.set_linewidth(spine_width)
    ax.set_facecolor("#eef4f8")


def render_print_map(
    plan: Plan,
    *,
    paper: Paper = "a4",
    lang: Literal["zh", "en"] = "zh",
    date: str | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the printable map of ``plan`` on a landscape ``paper`` sheet.

    Parameters
    ----------
    paper
        ``"a4"`` (297 x 210 mm) or ``"a3"`` (420 x 297 mm), landscape.
    lang
        ``"zh"`` or ``"en"`` for every label.
    date
        Date printed in the footer (ISO); default today (UTC).
    title
        Replaces the default title (region name + "社区精神康复服务站点规划图").

    Returns
    -------
    figure
        A matplotlib ``Figure`` (not attached to pyplot); save it with ``savefig``.
    """
    from matplotlib_scalebar.scalebar import ScaleBar  # noqa: PLC0415

    if paper not in PAPER_MM:
        raise ScenarioError("report.paper_unknown", paper=paper)
    if lang not in i18n.LANGS:
        raise ScenarioError("report.print_language_unknown", lang=lang)
    family = register_cjk_font()
    w_mm, h_mm = PAPER_MM[paper]
    scale = w_mm / 297.0  # text grows with the sheet
    fig = Figure(figsize=(w_mm / 25.4, h_mm / 25.4))
    fig.patch.set_facecolor("white")
    fonts = {"family": [family, *FALLBACK_FAMILIES]}

    def fs(pt: float) -> float:
        return pt * scale

    sc = plan.scenario
    k = plan.tables.kpis
    thr = sc.privacy_threshold
    mask = count_mask(plan.tables, threshold=thr)
    t_max = sc.max_travel_min
    date = date or dt.datetime.now(dt.UTC).date().isoformat()

    # ---- title
    fig.text(
        0.02,
        0.955,
        title or _l("title", lang, region=sc.region),
        fontsize=fs(19),
        va="center",
        fontdict=fonts,
    )
    fig.text(
        0.02,
        0.915,
        _l(
            "subtitle",
            lang,
            name=sc.title(lang),
            model=model_name(k.model, lang),
            n=k.n_sites,
            t=t_max,
        ),
        fontsize=fs(10.5),
        va="center",
        color="#333333",
        fontdict=fonts,
    )

    # ---- map
    ax = fig.add_axes(MAP_BOX)
    counties = plan.counties
    crs = utm_crs(counties)
    cgeo = counties.to_crs(crs)
    share = plan.tables.counties["share_within"].reindex(cgeo.index)
    small = plan.tables.counties["patients"].reindex(cgeo.index)
    share = share.where(~((small > 0) & (small < thr)))
    colours = [_coverage_colour(s) for s in share]
    cgeo.plot(ax=ax, color=colours, edgecolor="#4d4d4d", linewidth=0.8 * scale)
    cgeo.dissolve().boundary.plot(ax=ax, color="#222222", linewidth=1.6 * scale)
    several = spans_prefectures(cgeo)
    if several:  # a province: its prefecture cities outlined
        outlines = cgeo[["prefecture", "geometry"]].dissolve(by="prefecture").boundary
        outlines.plot(ax=ax, color=PREFECTURE_COLOUR, linewidth=1.3 * scale)
    halo = [patheffects.withStroke(linewidth=3 * scale, foreground="white")]
    sites = plan.tables.sites
    sgeo = plan.sites.loc[sites.index].to_crs(crs) if len(sites) else None
    minx, miny, maxx, maxy = cgeo.total_bounds
    extent = max(maxx - minx, maxy - miny)

    def label(x: float, y: float, s: str, **kw: Any) -> None:
        # a white halo (drawn as outlines) under plain text, so labels stay searchable in PDF
        ax.text(x, y, s, color="white", path_effects=halo, **kw)
        ax.text(x, y, s, color="#111111", **kw)

    for cid, geom in cgeo.geometry.items():
        pt = geom.representative_point()
        x, y = pt.x, pt.y
        if sgeo is not None and len(sgeo):
            near = np.hypot(sgeo.geometry.x - x, sgeo.geometry.y - y).min()
            if near < 0.04 * extent:  # keep the label clear of a site marker
                y -= 0.05 * extent
        share_c = share.get(cid)
        text_c = place_label(str(counties.loc[cid, "name"]), lang)
        if not pd.isna(share_c):
            text_c += f"\n{share_c:.0%}"
        label(x, y, text_c, ha="center", va="center", fontsize=fs(9), fontdict=fonts, zorder=4)

    if sgeo is not None and len(sgeo):
        for kind, style in SITE_STYLE.items():
            sel = sites.index[sites["kind"] == kind]
            if len(sel) == 0:
                continue
            g = sgeo.loc[sel]
            ax.scatter(
                g.geometry.x,
                g.geometry.y,
                marker=style["marker"],
                c=style["color"],
                s=style["size"] * scale**2,
                edgecolors="white",
                linewidths=0.9 * scale,
                zorder=5,
            )
        flags = sites.get("over_capacity", pd.Series(data=False, index=sites.index))
        over = sites.index[flags.astype(bool)]
        if len(over):  # a red ring: the site's load is over its known capacity
            g = sgeo.loc[over]
            ax.scatter(
                g.geometry.x,
                g.geometry.y,
                marker="o",
                s=260 * scale**2,
                facecolors="none",
                edgecolors=OVER_CAPACITY_COLOUR,
                linewidths=2.0 * scale,
                zorder=6,
            )
        offset = 0.008 * extent
        for sid, geom in sgeo.geometry.items():
            label(
                geom.x + offset,
                geom.y + offset,
                str(sid),
                fontsize=fs(6.5),
                zorder=6,
                fontdict=fonts,
                ha="left",
                va="bottom",
            )

    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    frame_axes(ax)
    ax.add_artist(
        ScaleBar(
            1.0,
            "m",
            location="lower left",
            length_fraction=0.25,
            box_alpha=0.85,
            font_properties={"family": fonts["family"], "size": fs(8)},
        )
    )
    ax.annotate(
        "",
        xy=(0.955, 0.95),
        xytext=(0.955, 0.84),
        xycoords="axes fraction",
        arrowprops={
            "facecolor": "black",
            "edgecolor": "black",
            "width": 5 * scale,
            "headwidth": 14 * scale,
            "headlength": 14 * scale,
        },
    )
    ax.text(
        0.955,
        0.81,
        _l("north", lang),
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=fs(11),
        fontdict=fonts,
    )

    # ---- right panel: legend, key figures
    legend_ax = fig.add_axes(LEGEND_BOX)
    legend_ax.set_axis_off()
    handles: list[Any] = [
        Patch(facecolor=c, edgecolor="#4d4d4d", label=lab)
        for c, lab in zip(COVERAGE_COLOURS, _coverage_labels(lang), strict=True)
    ]
    cov_title = _l("coverage", lang, t=t_max)
    site_handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=st["marker"],
            markerfacecolor=st["color"],
            markeredgecolor="white",
            markersize=(st["size"] ** 0.5) * 0.9 * scale,
            label=_l(kind, lang),
        )
        for kind, st in SITE_STYLE.items()
    ]
    boundary = Line2D([], [], color="#4d4d4d", linewidth=1.0, label=_l("boundary", lang))
    if several:
        site_handles.append(
            Line2D(
                [],
                [],
                color=PREFECTURE_COLOUR,
                linewidth=1.6,
                label=i18n.text("report.map.prefectures", lang),
            )
        )
    if bool(plan.tables.sites.get("over_capacity", pd.Series(dtype=bool)).any()):
        site_handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markerfacecolor="none",
                markeredgecolor=OVER_CAPACITY_COLOUR,
                markeredgewidth=2.0,
                markersize=9 * scale,
                label=i18n.text("report.capacity.flag", lang),
            )
        )
    leg = legend_ax.legend(
        handles=[*handles, *site_handles, boundary],
        loc="upper left",
        bbox_to_anchor=(0.0, 1.0),
        frameon=True,
        fancybox=False,
        edgecolor="#888888",
        title=f"{_l('legend', lang)} — {cov_title}",
        prop={"family": fonts["family"], "size": fs(8.5)},
        title_fontproperties={"family": fonts["family"], "size": fs(9.5)},
        borderpad=0.8,
        labelspacing=0.55,
        alignment="left",
    )
    leg.get_frame().set_linewidth(0.8)

    key_lines = [
        _l("k_sites", lang, n=k.n_sites, e=k.n_sites_existing, w=k.n_sites_new),
        _l(
            "k_within",
            lang,
            t=t_max,
            share="—" if mask.kpi_share_hidden() else f"{k.share_within:.1%}",
            p=mask.kpi_text("patients_within", k.patients_within),
            tot=mask.kpi_text("patients_total", k.patients_total),
        ),
        _l(
            "k_counties",
            lang,
            c=k.counties_with_site,
            n=k.n_counties,
            s=k.county_share_with_site,
        ),
    ]
    if not pd.isna(k.mean_travel_min):
        hidden = "mean_travel_min" in hidden_kpis(plan.tables, threshold=thr)  # lines x minutes
        mean = Withheld("—") if hidden else k.mean_travel_min
        key_lines.append(_l("k_mean_max", lang, m=mean, x=k.max_travel_min_observed))
        left_out = travel_left_out(plan.tables, threshold=thr)
        key_lines.append(
            left_out.text(lang)
            if left_out is not None
            else i18n.text("report.travel_all_counted", lang)
        )
    key_lines += [advice.text(lang) for advice in capacity_advice(plan.tables)]
    key_lines += _policy_line(plan, lang)
    if several:  # the province overview's hub line (one comprehensive site per prefecture)
        overview = province_overview(plan)
        key_lines.append(
            i18n.text(
                "regions.ov_hubs",
                lang,
                n=int(overview.total["prefectures_with_hub"]),
                total=int(overview.total["n_prefectures"]),
            )
        )
    key_lines.append(_l("travel", lang, label=travel_label_local(plan.travel.label, lang=lang)))
    body = "\n".join(_wrap(line, 58) for line in key_lines)
    fig.text(
        PANEL_BOX[0],
        LEGEND_BOX[1] - 0.025,
        _l("key", lang),
        fontsize=fs(10),
        va="top",
        fontdict=fonts,
    )
    fig.text(
        PANEL_BOX[0],
        LEGEND_BOX[1] - 0.065,
        body,
        fontsize=fs(8),
        va="top",
        linespacing=1.45,
        fontdict=fonts,
    )

    # ---- footer: sources (left), notes and date (right)
    src_lines = [f"{what}: {where}" for what, where in data_sources(plan, lang=lang)]
    src_lines[0] = f"{_l('sources', lang)} — {src_lines[0]}"
    left = "\n".join(_wrap(line, 180) for line in src_lines)
    fig.text(
        0.02,
        FOOTER_TOP,
        left,
        fontsize=fs(5.8),
        va="top",
        color="#333333",
        linespacing=1.3,
        fontdict=fonts,
    )
    notes = [text(key, lang, n=thr) for key in ("note_proxy", "note_estimated", "note_privacy")]
    notes.append(_l("made", lang, d=date))
    right = "\n".join(_wrap(line, 64) for line in notes)
    fig.text(
        PANEL_BOX[0],
        FOOTER_TOP,
        right,
        fontsize=fs(5.8),
        va="top",
        color="#333333",
        linespacing=1.3,
        fontdict=fonts,
    )
    return fig


def export_print_map(
    plan: Plan,
    path: str | Path,
    *,
    paper: Paper = "a4",
    lang: Literal["zh", "en"] = "zh",
    dpi: int = 200,
    date: str | None = None,
) -> Path:
    """Save :func:`render_print_map` to ``path``; the suffix (``.pdf`` / ``.png``) picks the format.

    The PDF embeds the CJK font (TrueType/OpenType subset), so text stays selectable and
    searchable; ``dpi`` applies to PNG.
    """
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise DataError("report.print_map_suffix", path=str(p))
    check_dpi(dpi)
    fig = render_print_map(plan, paper=paper, lang=lang, date=date)
    meta = (
        {"Title": _l("title", lang, region=plan.scenario.region), "Creator": "Kangle Planner"}
        if fmt == "pdf"
        else None
    )
    with replacing(p) as tmp:  # atomic: a failed write keeps the old file
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta, facecolor="white")
    logger.info("Printable map (%s, %s) written to %s", paper, fmt, p)
    return p
