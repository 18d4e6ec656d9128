r"""Bring your own travel times: solve a siting model from three plain tables.

Planners who already have an origin-destination matrix (from GIS software, a routing service
or a survey) skip the region, demand and travel steps::

    python -m planning solve --travel-times TT.csv --demand D.csv --candidates C.csv \\
        --model p-median --sites 5 --json

* travel times (long format): ``demand_id``, ``site_id``, ``minutes`` (``travel_min`` is
  accepted too). Missing pairs mean "not reachable / too far".
* demand: ``demand_id``, ``weight`` (patients); optional ``county``, ``county_name``,
  ``prefecture``, ``urban``.
* candidates: ``site_id``; optional ``cost``, ``capacity`` (or the column named by
  ``capacity_column``), ``fixed`` (existing site kept open: true/false, 1/0, yes/no, 是/否),
  ``county``, ``prefecture``, ``candidate_type``, ``referral_min``.

Files are CSV (UTF-8 or GB18030) or XLSX; every problem is reported with its file, row (as Excel
shows it) and column.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from planning.errors import DataError
from planning.i18n import Msg
from planning.inputs.read import InputFileError, Problem, read_table
from planning.models.base import ModelInput

TRUE = {"true", "1", "yes", "y", "t", "是", "1.0"}
FALSE = {"false", "0", "no", "n", "f", "否", "", "0.0", "none", "nan"}
MAX_TRAVEL_BYTES = 1_000_000_000
MAX_MINUTES = 100_000.0
"""Longest travel time accepted (minutes, about 69 days): a longer one is a typo or a code."""
MAX_PATIENTS = 1e9
"""Largest demand weight or capacity accepted (patients)."""
MAX_COST = 1e15
"""Largest opening cost accepted."""


def _rownum(value: object) -> int:
    return int(str(value))


def _read(path: str | Path, *, max_bytes: int = 50_000_000) -> tuple[pd.DataFrame, str]:
    p = Path(path)
    frame = read_table(p, max_bytes=max_bytes)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, p.name


def _need(frame: pd.DataFrame, file: str, columns: list[str], what: Msg) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = Msg(
            "models.columns_missing",
            what=what,
            missing=", ".join(map(repr, missing)),
            have=", ".join(map(repr, frame.columns)) or Msg("models.no_columns"),
        )
        raise InputFileError(file, [Problem(file, None, c, msg) for c in missing])


def _ids(frame: pd.DataFrame, file: str, column: str, problems: list[Problem]) -> pd.Series:
    ids = frame[column].map(
        lambda v: (
            ""
            if v is None or (isinstance(v, float) and math.isnan(v))
            else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip())
        )
    )
    problems.extend(
        Problem(file, _rownum(row), column, Msg("models.id_empty"))
        for row in ids.index[ids == ""][:20]
    )
    return ids


def _numbers(
    frame: pd.DataFrame,
    file: str,
    column: str,
    problems: list[Problem],
    *,
    required: bool,
    minimum: float | None = 0.0,
    strict_min: bool = False,
    maximum: float,
) -> pd.Series:
    """Numbers of ``column``: finite, from ``minimum`` to ``maximum``, each problem named."""
    raw = frame[column]
    text = raw.map(lambda v: "" if v is None else str(v).strip())
    with np.errstate(over="ignore"):  # "1e999" is refused below, not shown as a warning
        values = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(float)
    bad = values.isna() & (text != "")
    problems.extend(
        Problem(file, _rownum(row), column, Msg("models.not_a_number", value=text[row]))
        for row in values.index[bad][:20]
    )
    infinite = values.isin([np.inf, -np.inf])
    problems.extend(
        Problem(file, _rownum(row), column, Msg("models.not_finite", value=text[row]))
        for row in values.index[infinite][:20]
    )
    values = values.mask(infinite)
    if required:
        problems.extend(
            Problem(file, _rownum(row), column, Msg("models.number_empty"))
            for row in values.index[text == ""][:20]
        )
    if minimum is not None:
        low = values < minimum if not strict_min else values <= minimum
        key = "models.number_not_above" if strict_min else "models.number_below"
        problems.extend(
            Problem(file, _rownum(row), column, Msg(key, value=values[row], minimum=minimum))
            for row in values.index[low.fillna(value=False)][:20]
        )
    high = (values > maximum).fillna(value=False)
    problems.extend(
        Problem(file, _rownum(row), column, Msg("models.number_too_large", limit=maximum))
        for row in values.index[high][:20]
    )
    return values


def _flags(frame: pd.DataFrame, file: str, column: str, problems: list[Problem]) -> pd.Series:
    out = []
    for row, v in frame[column].items():
        text = "" if v is None else str(v).strip().lower()
        if text in TRUE:
            out.append(True)
        elif text in FALSE:
            out.append(False)
        else:
            out.append(False)
            problems.append(
                Problem(file, _rownum(row), column, Msg("models.flag_invalid", value=v))
            )
    return pd.Series(out, index=frame.index, dtype=bool)


def _duplicates(ids: pd.Series, file: str, column: str, problems: list[Problem]) -> None:
    dup = ids[ids.duplicated(keep="first") & (ids != "")]
    for row, value in list(dup.items())[:20]:
        problems.append(
            Problem(file, _rownum(row), column, Msg("models.id_duplicate", value=value))
        )


def load_travel_table(path: str | Path) -> pd.DataFrame:
    """Read a long travel-time table.

    Returns
    -------
    travel
        Columns ``demand_id``, ``site_id`` (str), ``travel_min`` (float minutes, >= 0).

    Raises
    ------
    InputFileError
        (a :class:`~planning.errors.DataError`) naming file, row and column of each problem.
    """
    frame, file = _read(path, max_bytes=MAX_TRAVEL_BYTES)
    has = set(frame.columns)  # either name; "minutes" named when neither is there
    minutes = "travel_min" if "travel_min" in has and "minutes" not in has else "minutes"
    _need(frame, file, ["demand_id", "site_id", minutes], Msg("models.table_travel"))
    problems: list[Problem] = []
    d = _ids(frame, file, "demand_id", problems)
    s = _ids(frame, file, "site_id", problems)
    t = _numbers(frame, file, minutes, problems, required=True, maximum=MAX_MINUTES)
    if problems:
        raise InputFileError(file, problems)
    pair = d + "\x00" + s
    dup = pair.duplicated(keep="first")
    if dup.any():
        rows = [
            Problem(file, _rownum(r), None, Msg("models.pair_duplicate", demand=d[r], site=s[r]))
            for r in pair.index[dup][:20]
        ]
        raise InputFileError(file, rows)
    return pd.DataFrame(
        {
            "demand_id": d.to_numpy(dtype=object),
            "site_id": s.to_numpy(dtype=object),
            "travel_min": t.to_numpy(dtype=float),
        }
    )


def load_demand_table(path: str | Path) -> pd.DataFrame:
    """Read a demand table (``demand_id``, ``weight``; optional county / prefecture / urban).

    Returns
    -------
    demand
        Index ``demand_id``; ``weight`` (float patients) and the optional columns.
    """
    frame, file = _read(path)
    _need(frame, file, ["demand_id", "weight"], Msg("models.table_demand"))
    problems: list[Problem] = []
    ids = _ids(frame, file, "demand_id", problems)
    _duplicates(ids, file, "demand_id", problems)
    weight = _numbers(frame, file, "weight", problems, required=True, maximum=MAX_PATIENTS)
    urban = _flags(frame, file, "urban", problems) if "urban" in frame.columns else None
    if problems:
        raise InputFileError(file, problems)
    out = pd.DataFrame(
        {"weight": weight.to_numpy(dtype=float)},
        index=pd.Index(ids.to_numpy(dtype=object), name="demand_id"),
    )
    for col in ("county", "county_name", "prefecture", "prefecture_name"):
        if col in frame.columns:
            out[col] = [None if v is None else str(v).strip() or None for v in frame[col]]
    if urban is not None:
        out["urban"] = urban.to_numpy()
    return out


def load_candidate_table(path: str | Path, *, capacity_column: str | None = None) -> pd.DataFrame:
    """Read a candidate-site table (``site_id``; optional cost, capacity, fixed, ...).

    Parameters
    ----------
    path
        CSV or XLSX file.
    capacity_column
        Column holding each site's capacity (patients); default ``capacity`` when present.
        Empty cells mean "unlimited".

    Returns
    -------
    sites
        Index ``site_id``; ``fixed`` (bool), ``cost`` (float, 0 when missing), ``capacity``
        (float, NaN unlimited) and the optional columns present.
    """
    frame, file = _read(path)
    _need(frame, file, ["site_id"], Msg("models.table_candidates"))
    if capacity_column is not None:
        _need(
            frame,
            file,
            [capacity_column],
            Msg("models.table_capacity_column", column=capacity_column),
        )
    problems: list[Problem] = []
    ids = _ids(frame, file, "site_id", problems)
    _duplicates(ids, file, "site_id", problems)
    fixed = (
        _flags(frame, file, "fixed", problems)
        if "fixed" in frame.columns
        else pd.Series(data=False, index=frame.index)
    )
    cost = (
        _numbers(frame, file, "cost", problems, required=False, maximum=MAX_COST)
        if "cost" in frame.columns
        else pd.Series(np.nan, index=frame.index)
    )
    cap_col = capacity_column or ("capacity" if "capacity" in frame.columns else None)
    capacity = (
        _numbers(
            frame, file, cap_col, problems, required=False, strict_min=True, maximum=MAX_PATIENTS
        )
        if cap_col
        else pd.Series(np.nan, index=frame.index)
    )
    referral = (
        _numbers(frame, file, "referral_min", problems, required=False, maximum=MAX_MINUTES)
        if "referral_min" in frame.columns
        else None
    )
    if problems:
        raise InputFileError(file, problems)
    out = pd.DataFrame(
        {
            "fixed": fixed.to_numpy(dtype=bool),
            "cost": cost.fillna(0.0).to_numpy(dtype=float),
            "capacity": capacity.to_numpy(dtype=float),
        },
        index=pd.Index(ids.to_numpy(dtype=object), name="site_id"),
    )
    for col in ("name", "county", "prefecture", "candidate_type"):
        if col in frame.columns:
            out[col] = [None if v is None else str(v).strip() or None for v in frame[col]]
    if referral is not None:
        out["referral_min"] = referral.to_numpy(dtype=float)
    return out


def load_model_input(
    travel_times: str | Path,
    demand: str | Path,
    candidates: str | Path,
    *,
    capacity_column: str | None = None,
) -> ModelInput:
    """Read the three tables and check they refer to the same ids.

    Raises
    ------
    DataError
        A file problem (file, row, column named) or ids of the travel table missing from the
        demand or candidate table.
    """
    travel = load_travel_table(travel_times)
    dem = load_demand_table(demand)
    sites = load_candidate_table(candidates, capacity_column=capacity_column)
    file = Path(travel_times).name
    for col, table, name in (
        ("demand_id", dem, Path(demand).name),
        ("site_id", sites, Path(candidates).name),
    ):
        unknown = ~travel[col].isin(table.index)
        if unknown.any():
            raise DataError(
                "models.travel_ids_not_in_table",
                file=file,
                rows=int(unknown.sum()),
                column=col,
                table=name,
                shown=", ".join(map(repr, pd.unique(travel.loc[unknown, col])[:5])),
            )
    return ModelInput(travel=travel, demand=dem, sites=sites)
