"""Shared input checks, run once where a public function starts."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from planning.errors import DataError
from planning.i18n import Msg


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, name: str | Msg) -> None:
    """Raise :class:`DataError` naming every column of ``columns`` missing from ``frame``.

    ``name`` says which table it is (a :class:`~planning.i18n.Msg`, or a plain name).
    """
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        has = ", ".join(map(repr, map(str, frame.columns))) or Msg("common.no_columns")
        raise DataError(
            "common.columns_missing", name=name, missing=", ".join(map(repr, missing)), has=has
        )


def require_unique_index(frame: pd.DataFrame | pd.Series, *, name: str | Msg) -> None:
    """Raise :class:`DataError` if the index of ``frame`` has duplicates, listing a few."""
    dup = frame.index[frame.index.duplicated()]
    if len(dup):
        shown = ", ".join(map(str, pd.unique(dup)[:5]))
        raise DataError("common.ids_duplicate", name=name, ids=shown)


def require_crs(frame: pd.DataFrame, *, name: str | Msg) -> None:
    """Raise :class:`DataError` if the GeoDataFrame ``frame`` has no CRS."""
    if getattr(frame, "crs", None) is None:
        raise DataError("common.no_crs", name=name)
