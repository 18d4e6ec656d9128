"""A phased rollout's tables as written: years, milestones, sites, counties; data XLSX, GeoPackage.

Every patient count leaving the library passes :func:`planning.results.suppress_small` with
the year's :meth:`planning.results.rollout.RolloutResult.count_masks`, so counts below the
scenario's ``privacy_threshold`` appear as ``"<N"``, counts that would give one back by
subtraction (a region total less the other counties, a total less the within-reach count) as
``"≥N"``, and a share that would give such a count back (share x a shown total) is left out
(:func:`planning.results.hide_revealing_shares`). Every table carries the travel mode label
(``travel_mode``), so an estimate is never mistaken for road travel times.

The data workbook here keeps machine-readable names (for re-use); the presentable one is
:mod:`planning.report.rollout_book`.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planning import i18n
from planning._atomic import replacing, write_bytes
from planning.errors import DataError
from planning.report.labels import Lang
from planning.results.privacy import CountMask, suppress_columns
from planning.results.rollout import RolloutResult
from planning.suppression import hide_revealing_shares, suppress_small

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
        ``share_within``, a milestone's ``achieved`` and ``shortfall``) is NaN, and so is
        p-median's yearly ``objective`` (patient-minutes) when a counted cell is hidden.
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
    if result.model == "p_median" and any(
        key.startswith(("cell:", "line:")) for mask in masks.values() for key in mask.hidden
    ):  # patients x minutes: with a counted cell hidden, the plan's lines would give it back
        yt["objective"] = float("nan")
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
    if not isinstance(target, io.BytesIO):  # a file: written atomically
        buf = io.BytesIO()
        write_rollout_xlsx(result, buf, sites=sites, travel_label=travel_label, lang=lang)
        write_bytes(Path(target), buf.getvalue())
        return
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
    layers = rollout_layers(result, sites=sites, counties=counties, travel_label=travel_label)
    with replacing(p) as tmp:  # atomic: a failed write keeps the old file
        for name, layer in layers.items():
            layer.reset_index().to_file(tmp, layer=name, driver="GPKG")
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
