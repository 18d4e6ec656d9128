"""Write a phased rollout plan to files: XLSX (a sheet per year), GeoPackage, CSV, scenario.

Every patient count leaving the library passes :func:`planning.results.suppress_small` with
the year's :meth:`planning.results.rollout.RolloutResult.count_masks`, so counts below the
scenario's ``privacy_threshold`` appear as ``"<N"``, counts that would give one back by
subtraction (a region total less the other counties, a total less the within-reach count) as
``"≥N"``, and a share that would give such a count back (share x a shown total) is left out
(:func:`planning.results.hide_revealing_shares`). Every table carries the travel mode label
(``travel_mode``), so an estimate is never mistaken for road travel times.
"""

from __future__ import annotations

import html
import io
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
from matplotlib.figure import Figure

from planning import i18n
from planning.errors import DataError, ScenarioError
from planning.inputs.sites import site_names
from planning.report._shared import make_folder
from planning.report.labels import Lang, label_group, place_label
from planning.report.maps import build_region_map, display_coords, display_geojson, display_latlon
from planning.results.privacy import CountMask, suppress_columns
from planning.results.rollout import RolloutResult
from planning.suppression import hide_revealing_shares, suppress_small
from planning.travel.table import travel_label_shown

if TYPE_CHECKING:
    import folium

logger = logging.getLogger(__name__)

PATIENT_COLUMNS = ("patients", "patients_within", "patients_total")
XLSX_NAME = "rollout.xlsx"
GPKG_NAME = "rollout.gpkg"


def _suppressed(
    frame: pd.DataFrame, threshold: int, hidden: dict[str, pd.Series] | None = None
) -> pd.DataFrame:
    return suppress_columns(frame, PATIENT_COLUMNS, threshold=threshold, hidden=hidden)


def _county_hidden(result: RolloutResult, masks: dict[int, CountMask]) -> dict[str, pd.Series]:
    """Complementary-suppression text of ``counties_by_year``'s counts (row by row)."""
    cby = result.counties_by_year
    out: dict[str, pd.Series] = {}
    for col in ("patients", "patients_within"):
        texts = [
            masks[int(y)].hidden.get(f"county:{c}:{col}") if int(y) in masks else None
            for y, c in zip(cby["year"], cby["county_id"], strict=True)
        ]
        out[col] = pd.Series(texts, index=cby.index, dtype=object)
    return out


def _public_counties_by_year(
    result: RolloutResult, masks: dict[int, CountMask] | None = None
) -> pd.DataFrame:
    """Return ``counties_by_year`` as shown: counts as text, revealing shares NaN."""
    masks = result.count_masks() if masks is None else masks
    hidden = _county_hidden(result, masks)
    cby = result.counties_by_year.copy()
    thr = result.scenario.privacy_threshold
    cby["share_within"] = hide_revealing_shares(
        cby["share_within"],
        cby["patients"],
        cby["patients_within"],
        threshold=thr,
        hidden=(hidden["patients"], hidden["patients_within"]),
    )
    return suppress_columns(cby, ("patients", "patients_within"), threshold=thr, hidden=hidden)


def rollout_tables(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Return the rollout's tables as they are written (patient counts suppressed, labelled).

    Parameters
    ----------
    result
        A solved rollout.
    sites
        Site layer (index ``site_id``; optional ``name``, ``lon``, ``lat``) adding names and
        coordinates to the site table.
    travel_label
        Travel mode label written in every table; default the scenario's.

    Returns
    -------
    tables
        ``{"years", "milestones", "sites", "counties"}``; plus one ``"<year>"`` frame per phase
        year with the sites open that year (``new_this_year`` marks its openings). Patient
        counts are text (``"<5"`` below the threshold; the MCLP ``objective``, a patient count,
        too); a share that would give a hidden count back (``patient_share``,
        ``share_within``, a milestone's ``achieved`` and ``shortfall``) is NaN.
    """
    thr = result.scenario.privacy_threshold
    label = travel_label or result.scenario.travel_label
    site_tab = result.sites.copy()
    if sites is not None:
        for col in ("name", "candidate_type", "lon", "lat"):
            if col in sites.columns:
                site_tab[col] = sites[col].reindex(site_tab.index)
    site_tab["travel_mode"] = label
    masks = result.count_masks()
    yt = result.years_table.copy()
    y_hidden = {
        col: pd.Series(
            [masks[int(y)].kpi(col) if int(y) in masks else None for y in yt.index],
            index=yt.index,
            dtype=object,
        )
        for col in ("patients_within", "patients_total")
    }
    yt["patient_share"] = hide_revealing_shares(
        yt["patient_share"],
        yt["patients_within"],
        yt["patients_total"],
        threshold=thr,
        hidden=tuple(y_hidden.values()),
    )
    if result.model == "mclp":  # the objective is the patients covered: a count
        covered = (yt["objective"].astype(float) - yt["patients_within"].astype(float)).abs()
        yt["objective"] = suppress_small(
            yt["objective"].astype(float),
            threshold=thr,
            hidden=y_hidden["patients_within"].where(covered < 0.5),
        )
    years = _suppressed(yt, thr, y_hidden).assign(travel_mode=label)
    milestones = result.milestones.drop(columns=["t"], errors="ignore").copy()
    milestones["count"] = milestones["count"].astype(object)
    pat = milestones["measure"] == "patients"  # full_coverage's count is a share, not a count
    m_hidden = pd.Series(
        [
            masks[int(y)].kpi("patients_within") if int(y) in masks else None
            for y in milestones["year"]
        ],
        index=milestones.index,
        dtype=object,
    )
    milestones.loc[pat, "count"] = suppress_small(
        milestones.loc[pat, "count"].astype(float), threshold=thr, hidden=m_hidden[pat]
    ).to_numpy()
    if "share_hidden" in milestones.columns:
        hidden = milestones["share_hidden"].astype(bool)
        milestones.loc[hidden, ["achieved", "shortfall"]] = float("nan")
    milestones = milestones.drop(columns=["of", "need", "share_hidden"], errors="ignore").assign(
        travel_mode=label
    )
    counties = _public_counties_by_year(result, masks).assign(travel_mode=label)
    out: dict[str, pd.DataFrame] = {
        "years": years,
        "milestones": milestones,
        "sites": site_tab,
        "counties": counties,
    }
    for year in result.years:
        open_ids = list(result.open_sites(year))
        tab = site_tab.loc[open_ids].copy()
        tab["new_this_year"] = (tab["opening_year"] == year).fillna(value=False).astype(bool)
        out[str(year)] = tab
    return out


def rollout_layers(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """GeoPackage layers: ``sites`` (points, ``opening_year``) and ``counties`` (polygons).

    ``counties`` (index ``county_id``) gets ``first_year_with_site`` (Int64, NA never) and the
    per-year shares ``share_within_<year>`` (NaN where the share would give a count below the
    privacy threshold back); both layers are WGS-84.

    Raises
    ------
    DataError
        A site of the plan is missing from ``sites``.
    """
    tables = rollout_tables(result, sites=sites, travel_label=travel_label)
    site_tab = tables["sites"]
    missing = site_tab.index.difference(sites.index)
    if len(missing):
        raise DataError("report.rollout_sites_missing", n=len(missing), examples=list(missing[:3]))
    pts = sites.geometry.loc[site_tab.index]
    layers = {
        "sites": gpd.GeoDataFrame(site_tab, geometry=pts, crs=sites.crs).to_crs("EPSG:4326"),
    }
    if counties is not None:
        cby = _public_counties_by_year(result)
        first = cby[cby["has_site"]].groupby("county_id")["year"].min()
        ctab = pd.DataFrame(index=counties.index.astype(str))
        ctab["name"] = counties["name"].to_numpy() if "name" in counties.columns else ""
        ctab["first_year_with_site"] = first.reindex(ctab.index).astype("Int64")
        for year in result.years:
            share = cby[cby["year"] == year].set_index("county_id")["share_within"]
            ctab[f"share_within_{year}"] = share.reindex(ctab.index).astype(float)
        ctab["travel_mode"] = tables["years"]["travel_mode"].iloc[0]
        layers["counties"] = gpd.GeoDataFrame(
            ctab, geometry=counties.geometry.to_numpy(), crs=counties.crs
        ).to_crs("EPSG:4326")
    return layers


def write_rollout_xlsx(
    result: RolloutResult,
    target: str | Path | io.BytesIO,
    *,
    sites: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
    lang: Lang = "en",
) -> None:
    """Write the XLSX workbook: ``summary``, ``milestones``, a sheet per year, ``counties``.

    Each year's sheet lists the sites open that year, then the county figures of that year
    under a caption in ``lang``. Sheet names and columns are machine-readable (data).
    """
    tables = rollout_tables(result, sites=sites, travel_label=travel_label)
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        tables["years"].to_excel(writer, sheet_name="summary")
        tables["milestones"].to_excel(writer, sheet_name="milestones", index=False)
        for year in result.years:
            tab = tables[str(year)]
            tab.to_excel(writer, sheet_name=str(year))
            cty = tables["counties"]
            cty_year = cty[cty["year"] == year].drop(columns="year")
            start = len(tab) + 3
            cty_year.to_excel(writer, sheet_name=str(year), startrow=start, index=False)
            caption = i18n.text("report.rollout.counties_in_year", lang, year=year)
            writer.sheets[str(year)].cell(row=start, column=1, value=caption)
        tables["counties"].to_excel(writer, sheet_name="counties", index=False)
        pd.DataFrame({"scenario_json": [result.scenario.to_json()]}).to_excel(
            writer, sheet_name="scenario", index=False
        )


def rollout_xlsx_bytes(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
    lang: Lang = "en",
) -> bytes:
    """Return the XLSX workbook of :func:`write_rollout_xlsx` as bytes (for downloads)."""
    buf = io.BytesIO()
    write_rollout_xlsx(result, buf, sites=sites, travel_label=travel_label, lang=lang)
    return buf.getvalue()


def write_rollout_gpkg(
    result: RolloutResult,
    path: str | Path,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
) -> Path:
    """Write the GeoPackage (layers ``sites`` and, with ``counties``, ``counties``)."""
    p = Path(path)
    p.unlink(missing_ok=True)
    for name, layer in rollout_layers(
        result, sites=sites, counties=counties, travel_label=travel_label
    ).items():
        layer.reset_index().to_file(p, layer=name, driver="GPKG")
    return p


def rollout_gpkg_bytes(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
) -> bytes:
    """Return the GeoPackage of :func:`write_rollout_gpkg` as bytes (for downloads)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_rollout_gpkg(
            result,
            Path(tmp) / GPKG_NAME,
            sites=sites,
            counties=counties,
            travel_label=travel_label,
        )
        return path.read_bytes()


def export_rollout(
    result: RolloutResult,
    out_dir: str | Path,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
    lang: Lang = "zh",
) -> list[Path]:
    """Write ``rollout.xlsx``, ``rollout.gpkg``, ``rollout_*.csv`` and ``scenario.json``.

    Also the presentable kit in ``lang``: ``rollout_plan.xlsx``
    (:func:`build_rollout_workbook`) and, with ``counties``, ``rollout_map_a4.pdf``
    (:func:`render_rollout_print_map`). ``rollout.xlsx`` is the data workbook
    (machine-readable names, for re-use).

    Parameters
    ----------
    out_dir
        Folder, created if needed. Files of the same names are replaced; nothing else in the
        folder is touched.
    sites
        Site layer the plan was solved on (index ``site_id``, Point geometry).
    counties
        County layer (index ``county_id``, polygons) for the ``counties`` GeoPackage layer.

    Returns
    -------
    paths
        The files written.

    Raises
    ------
    DataError
        The folder cannot be created, or ``sites`` lacks a site of the plan.
    """
    out = make_folder(Path(out_dir))
    written = [
        write_rollout_gpkg(
            result, out / GPKG_NAME, sites=sites, counties=counties, travel_label=travel_label
        )
    ]
    xlsx = out / XLSX_NAME
    write_rollout_xlsx(result, xlsx, sites=sites, travel_label=travel_label)
    written.append(xlsx)
    # the presentable kit: the workbook in ``lang`` and the printable map (one panel a year)
    book = out / PLAN_XLSX_NAME
    build_rollout_workbook(result, sites=sites, travel_label=travel_label, lang=lang).save(book)  # type: ignore[attr-defined]
    written.append(book)
    if counties is not None:
        written.append(
            export_rollout_print_map(
                result,
                out / PRINT_NAME.format(paper="a4"),
                sites=sites,
                counties=counties,
                travel_label=travel_label,
                lang=lang,
            )
        )
    tables = rollout_tables(result, sites=sites, travel_label=travel_label)
    for key, index in (
        ("years", True),
        ("milestones", False),
        ("sites", True),
        ("counties", False),
    ):
        path = out / f"rollout_{key}.csv"
        tables[key].to_csv(path, index=index, encoding="utf-8-sig")
        written.append(path)
    written.append(result.scenario.save(out / "scenario.json"))
    logger.info("Exported the rollout (%d files) to %s", len(written), out)
    return written


# --------------------------------------------------------------------------- map
EXISTING_COLOUR = "#1f4e9c"
YEAR_COLOURS = ("#b30000", "#e34a33", "#fc8d59", "#fdbb84", "#fdd49e", "#fee8c8")
LATER_COLOUR = "#969696"


def year_colours(years: tuple[int, ...]) -> dict[int, str]:
    """Colour of each phase year: darkest first (the sites that matter most open first)."""
    n = len(YEAR_COLOURS)
    return {y: YEAR_COLOURS[min(k, n - 1)] for k, y in enumerate(years)}


def build_rollout_map(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    year: int | None = None,
    travel_label: str | None = None,
    basemap: str = "cartodb",
    lang: str = "zh",
) -> folium.Map:
    """Map the rollout: sites coloured by opening year, counties by their first site's year.

    Parameters
    ----------
    sites, counties
        The layers the plan was solved on (WGS-84; index ``site_id`` / ``county_id``).
    year
        Show the plan as of this year: later openings are drawn hollow and grey. Default:
        the last year.
    basemap, lang
        As :func:`planning.report.maps.build_region_map` (``"none"``, ``"tianditu"``,
        ``"amap"``, ``"cartodb"``, ``"osm"``; ``"zh"`` or ``"en"``).

    Raises
    ------
    ScenarioError
        ``year`` is not a phase year, or an unknown basemap.
    """
    year = result.years[-1] if year is None else year
    result.open_sites(year)  # raises ScenarioError for a year outside the phases
    txt = label_group("report.rollout_map", "zh" if lang == "zh" else "en")
    colours = year_colours(result.years)
    with display_coords(basemap):  # drawn in GCJ-02 on an AMap basemap, like every layer
        cgroup, sgroup = _rollout_layers(
            result, sites=sites, counties=counties, year=year, colours=colours, txt=txt, lang=lang
        )
    rows = [(EXISTING_COLOUR, txt["existing"], "circle")]
    rows += [(colours[y], txt["opens"].format(year=y), "circle") for y in result.years if y <= year]
    if year < result.years[-1]:
        rows.append((LATER_COLOUR, txt["later"], "circle"))
    head = f"{txt['legend']} · {txt['upto'].format(year=year)}"
    return build_region_map(
        counties[["name", "geometry"]],
        travel_label=travel_label,
        basemap=basemap,
        lang=lang,
        overlays=[cgroup, sgroup],
        overlay_legend=[(head, rows)],
    )


def _rollout_layers(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    year: int,
    colours: dict[int, str],
    txt: dict[str, str],
    lang: str,
) -> tuple[folium.FeatureGroup, folium.FeatureGroup]:
    import folium  # noqa: PLC0415 - only for maps

    cby = result.counties_by_year
    first = cby[cby["has_site"] & (cby["year"] <= year)].groupby("county_id")["year"].min()
    cgroup = folium.FeatureGroup(name=txt["counties"], show=True)
    for cid, yr in first.items():
        if cid not in counties.index:
            continue
        colour = colours.get(int(yr), LATER_COLOUR)
        folium.GeoJson(
            display_geojson(counties.geometry.loc[cid], tolerance_deg=0.0005),
            style_function=lambda _f, c=colour: {
                "color": c,
                "weight": 0.5,
                "fillColor": c,
                "fillOpacity": 0.18,
            },
            tooltip=f"{counties.loc[cid, 'name']}: {int(yr)}",
        ).add_to(cgroup)
    sgroup = folium.FeatureGroup(name=txt["sites"], show=True)
    pts = sites.geometry.to_crs("EPSG:4326")
    if {"name", "source"} <= set(sites.columns):  # generated candidates named in ``lang``
        names = site_names(sites, lang="zh" if lang == "zh" else "en")
    elif "name" in sites.columns:
        names = sites["name"].astype(str)
    else:
        names = pd.Series(sites.index.astype(str), index=sites.index)
    name_of = names.to_dict()
    for sid, row in result.sites.sort_values("opening_year", na_position="first").iterrows():
        if sid not in pts.index:
            continue
        pt = pts.loc[sid]
        oy = row["opening_year"]
        existing = pd.isna(oy)
        later = not existing and int(oy) > year
        colour = EXISTING_COLOUR if existing else colours.get(int(oy), LATER_COLOUR)
        name = str(name_of.get(sid, sid))
        when = txt["existing"] if existing else txt["opens"].format(year=int(oy))
        tip = (
            f"<b>{html.escape(name)}</b> ({html.escape(str(sid))})<br>"
            f"{txt['county']}: {html.escape(str(row['county_name']))}<br>{html.escape(when)}"
        )
        folium.CircleMarker(
            display_latlon(pt.y, pt.x),
            radius=6 if later else 8,
            color=LATER_COLOUR if later else "#ffffff",
            weight=2,
            dash_array="3" if later else None,
            fill=not later,
            fill_color=colour,
            fill_opacity=0.0 if later else 0.95,
            tooltip=tip,
        ).add_to(sgroup)
    return cgroup, sgroup


# --------------------------------------------------------------------------- presentable kit
PLAN_XLSX_NAME = "rollout_plan.xlsx"
"""The presentable workbook (headers in the chosen language, numbers stored as numbers)."""

PRINT_NAME = "rollout_map_{paper}.pdf"
"""The printable rollout map (one panel per year)."""

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
    import datetime as dt  # noqa: PLC0415

    from matplotlib import patheffects  # noqa: PLC0415
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415
    from matplotlib_scalebar.scalebar import ScaleBar  # noqa: PLC0415

    from planning.inputs.regions import utm_crs  # noqa: PLC0415
    from planning.report.printmap import (  # noqa: PLC0415
        FALLBACK_FAMILIES,
        PAPER_MM,
        register_cjk_font,
    )

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
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        for spine in ax.spines.values():
            spine.set_color("#888888")
        ax.set_facecolor("#eef4f8")
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
    make_folder(p.parent)
    fig = render_rollout_print_map(
        result, sites=sites, counties=counties, travel_label=travel_label, paper=paper, lang=lang
    )
    meta = {
        "Title": _r("print_title", lang, region=result.scenario.region),
        "Creator": "Kangle Planner",
    }
    fig.savefig(p, format=fmt, dpi=dpi, metadata=meta if fmt == "pdf" else None, facecolor="white")
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
