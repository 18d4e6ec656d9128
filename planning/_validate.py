"""Shared input checks, run once where a public function starts."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from planning.errors import DataError


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, name: str) -> None:
    """Raise :class:`DataError` naming every column of ``columns`` missing from ``frame``."""
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        msg = (
            f"{name} is missing column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, map(str, frame.columns))) or 'no columns'}. "
            "Add or rename the columns."
        )
        raise DataError(msg)


def require_unique_index(frame: pd.DataFrame | pd.Series, *, name: str) -> None:
    """Raise :class:`DataError` if the index of ``frame`` has duplicates, listing a few."""
    dup = frame.index[frame.index.duplicated()]
    if len(dup):
        shown = ", ".join(map(str, pd.unique(dup)[:5]))
        msg = f"{name} has duplicate id(s): {shown}. Every row needs its own id."
        raise DataError(msg)


def require_crs(frame: pd.DataFrame, *, name: str) -> None:
    """Raise :class:`DataError` if the GeoDataFrame ``frame`` has no CRS."""
    if getattr(frame, "crs", None) is None:
        msg = (
            f"{name} has no CRS. Export it with one, or call `gdf.set_crs('EPSG:4326')` "
            "if the coordinates are longitude/latitude (WGS-84)."
        )
        raise DataError(msg)
