"""Plumbing shared by the report writers: privacy masks per table, safe cells, output folders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from planning import _atomic
from planning.inputs.coords import haversine_m, wgs84_to_gcj02
from planning.inputs.sites import psychiatric_hospitals
from planning.results.privacy import CountMask, suppress_columns
from planning.results.tables import ResultTables
from planning.suppression import hide_revealing_shares

if TYPE_CHECKING:
    from planning.pipeline import Plan

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet cell a formula."""


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy safe to open in Excel: text cells that look like formulas are quoted.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return (for example a
    facility name copied from an upload) would be run as a formula when a CSV/XLSX export is
    opened in Excel or WPS ("CSV injection"). Such cells get a leading apostrophe, which Excel
    shows as plain text. Numbers (also negative ones) are left alone; the input is not changed.

    Examples
    --------
    >>> import pandas as pd
    >>> escape_formulas(pd.DataFrame({"name": ["=1+1", "站A"], "x": [-1.5, 2.0]}))["name"].tolist()
    ["'=1+1", '站A']
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = values.map(
                lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_START) else v
            )
    return out


PATIENT_COLUMNS = ("patients", "assigned_patients", "patients_within", "weight")


def suppressed(
    frame: pd.DataFrame, threshold: int, hidden: dict[str, pd.Series] | None = None
) -> pd.DataFrame:
    return suppress_columns(frame, PATIENT_COLUMNS, threshold=threshold, hidden=hidden)


def county_hidden(mask: CountMask, index: pd.Index) -> dict[str, pd.Series]:
    """Complementary-suppression text of a county table's count columns."""
    return {c: mask.counties(index, c) for c in ("patients", "patients_within")}


def site_hidden(mask: CountMask, index: pd.Index) -> dict[str, pd.Series]:
    return {"assigned_patients": mask.sites(index)}


def travel_means(frame: pd.DataFrame, mask: CountMask, tables: ResultTables, by: str) -> pd.Series:
    """``frame``'s ``mean_travel_min`` as shown: NaN where a hidden count is in the mean.

    ``frame`` is indexed by site (``by="site_id"``) or county (``by="county"``); see
    :meth:`~planning.results.privacy.CountMask.travel_hidden`.
    """
    hidden = frame.index.astype(str).isin(mask.travel_hidden(tables, by))
    return frame["mean_travel_min"].astype(float).where(~hidden)  # NaN: left out


# ------------------------------------------------------------------------ site table
def nearest_hospitals(plan: Plan) -> pd.Series:
    """Name of each open site's nearest psychiatric hospital (straight line), by ``site_id``.

    Empty strings where the plan has no hospital in its facility table.
    """
    ids = plan.tables.sites.index
    hosp = psychiatric_hospitals(plan.facilities)
    if hosp is None or hosp.empty:
        return pd.Series("", index=ids, dtype=object, name="nearest_hospital")
    s = plan.tables.sites
    d = haversine_m(
        s["lon"].to_numpy()[:, None],
        s["lat"].to_numpy()[:, None],
        hosp.geometry.x.to_numpy()[None, :],
        hosp.geometry.y.to_numpy()[None, :],
    )
    names = hosp["name"].astype(str).to_numpy()
    return pd.Series(names[d.argmin(axis=1)], index=ids, dtype=object, name="nearest_hospital")


def site_table(plan: Plan) -> pd.DataFrame:
    """Open sites with WGS-84 and GCJ-02 coordinates and nearest hospital (unsuppressed).

    Index ``site_id``; columns as :data:`SITE_HEADERS` (raw codes for ``kind`` and
    ``candidate_type``) plus ``source`` and ``load_share``.
    """
    s = plan.tables.sites.copy()
    g_lon, g_lat = wgs84_to_gcj02(s["lon"].to_numpy(float), s["lat"].to_numpy(float))
    s["lon_gcj02"] = g_lon
    s["lat_gcj02"] = g_lat
    s["nearest_hospital"] = nearest_hospitals(plan)
    s["source"] = plan.sites["source"].reindex(s.index)
    return s


# ------------------------------------------------------------------------ GIS layers
def hide_small_shares(
    frame: pd.DataFrame,
    count_cols: tuple[str, ...],
    share_col: str,
    thr: int,
    hidden: dict[str, pd.Series] | None = None,
) -> None:
    """Blank a share whose counts are suppressed (a share times a shown count reveals one)."""
    if share_col in frame.columns and all(c in frame.columns for c in count_cols):
        frame[share_col] = hide_revealing_shares(
            frame[share_col],
            *(frame[c] for c in count_cols),
            threshold=thr,
            hidden=tuple((hidden or {}).get(c) for c in count_cols),
        )


def make_folder(out: Path) -> Path:
    """Create ``out`` if needed (a :class:`~planning.errors.WriteError` says why it cannot)."""
    return _atomic.make_folder(out)
