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
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from planning import i18n
from planning.errors import DataError
from planning.inputs.sites import site_names
from planning.report._shared import make_folder
from planning.report.labels import Lang, label_group
from planning.report.maps import build_region_map, display_coords, display_geojson, display_latlon
from planning.results.privacy import CountMask, suppress_columns
from planning.results.rollout import RolloutResult
from planning.suppression import hide_revealing_shares, suppress_small

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
) -> list[Path]:
    """Write ``rollout.xlsx``, ``rollout.gpkg``, ``rollout_*.csv`` and ``scenario.json``.

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
