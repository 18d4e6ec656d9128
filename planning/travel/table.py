"""The travel step's result: a sparse table of minutes and how it was obtained."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from planning import i18n

ESTIMATED_LABEL = "estimated (straight-line)"
"""The travel label of estimated travel times: a data value (``travel_mode`` columns)."""
_NETWORK_LABEL = re.compile(r"(road|walking) network \(OpenStreetMap(?:, data ([^)]+))?\)")


def travel_label_local(label: str, *, lang: Literal["zh", "en"] = "zh") -> str:
    """Return the travel-mode ``label`` in ``lang`` only.

    English is the label itself; Chinese renders the labels the library writes
    (:data:`ESTIMATED_LABEL`, ``road network (OpenStreetMap, data 2026-11-01)``, the walking
    network) from the ``report.travel.*`` catalog texts; any other label is returned
    unchanged.

    Examples
    --------
    >>> travel_label_local("road network (OpenStreetMap, data 2026-11-01)")
    '路网（OpenStreetMap，数据日期 2026-11-01）'
    >>> travel_label_local("estimated (straight-line)", lang="en")
    'estimated (straight-line)'
    """
    if lang != "zh":
        return label
    if label == ESTIMATED_LABEL:
        return i18n.text("report.travel.estimated", lang)
    match = _NETWORK_LABEL.fullmatch(label)
    if match is None:
        return label
    kind, date = match.group(1), match.group(2)
    if date:
        return i18n.text(f"report.travel.{kind}_dated", lang, date=date)
    return i18n.text(f"report.travel.{kind}", lang)


def travel_label_shown(label: str, *, lang: Literal["zh", "en"] = "zh") -> str:
    """Return the travel-mode ``label`` as shown to people in ``lang`` (app, reports, maps).

    English shows the label; Chinese its catalog text alone (``"估算（直线距离×绕行系数）"``,
    ``"路网（OpenStreetMap，数据日期 2026-11-01）"``): a Chinese page, map or report carries no
    English fragment, and the Chinese words say as plainly that an estimate is an estimate.
    Data columns (``travel_mode`` of the GIS layers and CSVs) keep the label itself, so it
    stays searchable in any language.

    Examples
    --------
    >>> travel_label_shown("estimated (straight-line)")
    '估算（直线距离×绕行系数）'
    """
    return travel_label_local(label, lang=lang)


@dataclass(frozen=True, kw_only=True)
class TravelTimes:
    """A sparse travel-time table and how it was obtained.

    Attributes
    ----------
    table
        Columns ``demand_id``, ``site_id``, ``travel_min`` (float minutes). Only pairs with
        ``travel_min <= cutoff_min`` are stored; a missing pair is farther or unreachable.
    cutoff_min
        The cut-off in minutes, or ``inf`` when every pair is stored.
    mode
        ``"estimated"`` or ``"network"``.
    label
        What every map, table and export shows about the travel mode, e.g.
        ``"estimated (straight-line)"`` or ``"road network (OpenStreetMap, data 2026-11-01)"``.
    data_date
        Date of the road data (ISO), ``None`` for estimated travel.
    referral_min
        Index ``site_id``: minutes from each site to the nearest psychiatric hospital, when
        hospitals are known; otherwise ``None``.
    unsnapped
        Points (ids and distances to the nearest road, metres) too far from any road to use;
        empty for estimated travel.
    """

    table: pd.DataFrame
    cutoff_min: float
    mode: Literal["estimated", "network"]
    label: str
    data_date: str | None = None
    referral_min: pd.Series | None = None
    unsnapped: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["point_id", "role", "distance_m"])
    )
