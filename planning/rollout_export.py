"""Write a phased rollout plan to files: XLSX (a sheet per year), GeoPackage, CSV, scenario.

Every patient count leaving the library passes :func:`planning.results.suppress_small`, so
counts below the scenario's ``privacy_threshold`` appear as ``"<N"``. Every table carries the
travel mode label (``travel_mode``), so an estimate is never mistaken for road travel times.
"""

from __future__ import annotations

import io
import logging
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planning.errors import DataError
from planning.results import suppress_small
from planning.rollout import RolloutResult

logger = logging.getLogger(__name__)

PATIENT_COLUMNS = ("patients", "patients_within", "patients_total")
XLSX_NAME = "rollout.xlsx"
GPKG_NAME = "rollout.gpkg"


def _suppressed(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    out = frame.copy()
    for col in PATIENT_COLUMNS:
        if col in out.columns:
            out[col] = suppress_small(out[col].astype(float), threshold=threshold)
    return out


def rollout_tables(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
) -> dict[str, pd.DataFrame]:
    """The rollout's tables as they are written (patient counts suppressed, labelled).

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
        year with the sites open that year (``new_this_year`` marks its openings).
    """
    thr = result.scenario.privacy_threshold
    label = travel_label or result.scenario.travel_label
    site_tab = result.sites.copy()
    if sites is not None:
        for col in ("name", "candidate_type", "lon", "lat"):
            if col in sites.columns:
                site_tab[col] = sites[col].reindex(site_tab.index)
    site_tab["travel_mode"] = label
    years = _suppressed(result.years_table, thr).assign(travel_mode=label)
    milestones = result.milestones.drop(columns=["t"], errors="ignore").copy()
    milestones["count"] = milestones["count"].astype(object)
    pat = milestones["measure"] != "counties"
    milestones.loc[pat, "count"] = suppress_small(
        milestones.loc[pat, "count"].astype(float), threshold=thr
    ).to_numpy()
    milestones = milestones.drop(columns=["of", "need"], errors="ignore").assign(
        travel_mode=label
    )
    counties = _suppressed(result.counties_by_year, thr).assign(travel_mode=label)
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
    per-year shares ``share_within_<year>``; both layers are WGS-84.

    Raises
    ------
    DataError
        A site of the plan is missing from ``sites``.
    """
    tables = rollout_tables(result, sites=sites, travel_label=travel_label)
    site_tab = tables["sites"]
    missing = site_tab.index.difference(sites.index)
    if len(missing):
        msg = (f"The site layer lacks {len(missing)} site(s) of the rollout plan "
               f"(e.g. {list(missing[:3])}); pass the layer the plan was solved on.")
        raise DataError(msg)
    pts = sites.geometry.loc[site_tab.index]
    layers = {
        "sites": gpd.GeoDataFrame(site_tab, geometry=pts, crs=sites.crs).to_crs("EPSG:4326"),
    }
    if counties is not None:
        cby = result.counties_by_year
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
) -> None:
    """Write the XLSX workbook: ``summary``, ``milestones``, a sheet per year, ``counties``.

    Each year's sheet lists the sites open that year, then the county figures of that year.
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
            writer.sheets[str(year)].cell(row=start, column=1, value=f"Counties in {year}")
        tables["counties"].to_excel(writer, sheet_name="counties", index=False)
        pd.DataFrame({"scenario_json": [result.scenario.to_json()]}).to_excel(
            writer, sheet_name="scenario", index=False
        )


def rollout_xlsx_bytes(
    result: RolloutResult,
    *,
    sites: gpd.GeoDataFrame | None = None,
    travel_label: str | None = None,
) -> bytes:
    """The XLSX workbook of :func:`write_rollout_xlsx` as bytes (for downloads)."""
    buf = io.BytesIO()
    write_rollout_xlsx(result, buf, sites=sites, travel_label=travel_label)
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
    """The GeoPackage of :func:`write_rollout_gpkg` as bytes (for downloads)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_rollout_gpkg(
            result, Path(tmp) / GPKG_NAME, sites=sites, counties=counties,
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
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"Cannot create output folder {str(out)!r}: {err.strerror}. Choose another --out."
        raise DataError(msg) from None
    written = [
        write_rollout_gpkg(result, out / GPKG_NAME, sites=sites, counties=counties,
                           travel_label=travel_label)
    ]
    xlsx = out / XLSX_NAME
    write_rollout_xlsx(result, xlsx, sites=sites, travel_label=travel_label)
    written.append(xlsx)
    tables = rollout_tables(result, sites=sites, travel_label=travel_label)
    for key, index in (("years", True), ("milestones", False), ("sites", True),
                       ("counties", False)):
        path = out / f"rollout_{key}.csv"
        tables[key].to_csv(path, index=index, encoding="utf-8-sig")
        written.append(path)
    written.append(result.scenario.save(out / "scenario.json"))
    logger.info("Exported the rollout (%d files) to %s", len(written), out)
    return written
