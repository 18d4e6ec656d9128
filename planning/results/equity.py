r"""How fair a plan is: inequality of travel, the worst-off county, the urban-rural gap.

Every plan's headline figures (:func:`~planning.results.summarise`, ``kpis``) carry the
measures of :func:`compute_equity`; each has a one-line explanation in both languages
(catalog ``equity.explain_<figure>``, :data:`EQUITY_FIGURES`). What may be shown of them
(a figure that would give a hidden patient count back is left out) is decided with the other
headline figures by :func:`planning.results.privacy.hidden_kpis`.

Measures
--------
*Gini of travel time* (``travel_gini``): the patient-weighted Gini coefficient of each
patient's travel time to the nearest open site, 0 when everyone travels equally long, towards
1 when a few travel very long while most travel little. With values :math:`x_i` (minutes of
demand cell :math:`i`, every patient of a cell sharing the cell's time) and patients
:math:`w_i`, :math:`W = \sum w_i`, :math:`\mu = \sum w_i x_i / W`:

.. math::

    G = \frac{\sum_i \sum_k w_i w_k |x_i - x_k|}{2 W^2 \mu}
      = 1 - \sum_i \frac{w_i}{W} (L_{i-1} + L_i)

(cells sorted by time, :math:`L_i` the share of all patient-minutes of the first :math:`i`
cells: the Lorenz curve, exact for grouped data). The Gini is chosen as the headline because
planners know it (from income statistics) and it reads on a fixed 0-1 scale; it says nothing
about how long the trips are (everyone at 50 minutes is "perfectly equal"), so it is always
shown next to the worst-off county and the urban-rural gaps.

*Theil index and its between-county share* (``travel_theil``,
``theil_between_county_share``): :math:`T = \sum_i \frac{w_i}{W} \frac{x_i}{\mu}
\ln\frac{x_i}{\mu}` (:math:`0 \ln 0 = 0`) splits exactly into a between-county part
:math:`T_B = \sum_c \frac{W_c}{W} \frac{\mu_c}{\mu} \ln\frac{\mu_c}{\mu}` and a within-county
part; the share :math:`T_B / T` tells whether the inequality lies between counties (a county
left behind: site another county) or inside them (villages far from their county's sites).
The Gini has no such exact split, which is why both are given.

*Patients beyond the travel table's reach.* The travel figures of every plan (mean and
longest travel) count only patients with an open site within the cut-off (twice the travel
limit, :func:`~planning.results.tables.reach_cutoff_min`) and count the others separately.
Leaving those patients out of an inequality measure would hide exactly the inequality it is
meant to show, so the Gini and the Theil index count them **at the cut-off** (their true time
is longer, or there is no road at all). Raising the longest times (those beyond the cut-off
are longer than every counted one) moves the Lorenz curve down everywhere, and any measure
that follows the Lorenz curve (Gini, Theil) can only rise: with patients beyond the cut-off
the figures are **lower bounds** of the true ones (``travel_gini_lower_bound``), and outputs
say so ("≥ 0.31").

*Worst-off county* (``worst_county_share``, ``worst_county_id``, ``worst_county_name``): the
county with the smallest share of its patients within reach (within each patient's travel
limit of an open site, within capacity when capacities bind), and that share. Counties
without patients are not ranked.

*Urban-rural gap* (``urban_rural_gap_min``, ``urban_rural_share_gap``): rural minus urban
mean travel (minutes; over the patients counted in every mean travel figure, see above) and
urban minus rural share within reach (counting every patient); positive when rural patients
are worse off. Urban and rural are the tool's own split, the one the urban / rural travel
limits use: a demand cell is urban when its county's 2020 census urban population share is at
least 50 % (:data:`planning.inputs.demand.URBAN_THRESHOLD`), so the split is by county (the
census does not say where in a county its urban residents live). NaN when the region has no
urban or no rural cells.

*Counties below the target* (``counties_below_target``): counties whose share within reach
is below the scenario's target: ``constraints.county_coverage_target`` when set, else the
patient-share milestone of the scenario's last rollout phase (60 % in 2025 by default;
``equity_target``, ``equity_target_source``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

EQUITY_FIGURES = (
    "travel_gini",
    "theil_between_county_share",
    "worst_county_share",
    "urban_rural_gap_min",
    "urban_rural_share_gap",
    "counties_below_target",
)
"""The equity figures every output shows, in order; each has ``equity.label_<figure>`` and
``equity.explain_<figure>`` in the catalog."""

EQUITY_KPIS = (
    "travel_gini",
    "travel_gini_lower_bound",
    "travel_theil",
    "theil_between_county_share",
    "worst_county_id",
    "worst_county_name",
    "worst_county_share",
    "urban_mean_travel_min",
    "rural_mean_travel_min",
    "urban_rural_gap_min",
    "urban_share_within",
    "rural_share_within",
    "urban_rural_share_gap",
    "urban_counties",
    "rural_counties",
    "equity_target",
    "equity_target_source",
    "equity_target_year",
    "counties_below_target",
    "counties_below_target_ids",
)
"""Keys :func:`compute_equity` adds to a plan's headline figures."""


def weighted_gini(values: FloatArray, weights: FloatArray) -> float:
    """Return the weighted Gini coefficient of ``values`` (``weights`` >= 0).

    The population Gini of the discrete distribution putting mass ``weights`` on ``values``
    (mean absolute difference over twice the mean): 0 when all values are equal, NaN without
    weight, 0 when every value is 0.

    Examples
    --------
    >>> weighted_gini(np.array([0.0, 0.0, 0.0, 10.0]), np.ones(4))
    0.75
    >>> weighted_gini(np.array([10.0, 20.0]), np.array([3.0, 1.0]))
    0.15
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    x, w = x[keep], w[keep]
    total_w = float(w.sum())
    if total_w <= 0:
        return math.nan
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    wx = w * x
    total = float(wx.sum())
    if total <= 0:
        return 0.0
    lorenz = np.cumsum(wx) / total
    before = np.concatenate([[0.0], lorenz[:-1]])
    gini = 1.0 - float(np.sum((w / total_w) * (before + lorenz)))
    return round(min(max(gini, 0.0), 1.0), 12)


def theil_index(values: FloatArray, weights: FloatArray) -> float:
    r"""Return the weighted Theil T index of ``values`` (>= 0), ``0 ln 0 = 0``.

    :math:`T = \sum_i p_i (x_i/\mu) \ln(x_i/\mu)`, :math:`p_i` the weight shares; 0 when all
    values are equal (or all 0), NaN without weight.

    Examples
    --------
    >>> round(theil_index(np.array([0.0, 10.0]), np.ones(2)), 6)  # ln 2
    0.693147
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    x, w = x[keep], w[keep]
    total_w = float(w.sum())
    if total_w <= 0:
        return math.nan
    mu = float(np.dot(w, x)) / total_w
    if mu <= 0:
        return 0.0
    r = x / mu
    terms = np.zeros_like(r)
    pos = r > 0
    terms[pos] = r[pos] * np.log(r[pos])
    return max(float(np.dot(w / total_w, terms)), 0.0)


def theil_between(values: FloatArray, weights: FloatArray, groups: npt.ArrayLike) -> float:
    r"""Return the between-group part of the Theil T index of ``values``.

    :math:`T_B = \sum_g P_g (\mu_g/\mu) \ln(\mu_g/\mu)`; :math:`T - T_B` is the weighted
    within-group part :math:`\sum_g P_g (\mu_g/\mu) T_g` (an exact decomposition).
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    g = np.asarray(groups, dtype=object)
    keep = w > 0
    x, w, g = x[keep], w[keep], g[keep]
    total_w = float(w.sum())
    if total_w <= 0:
        return math.nan
    mu = float(np.dot(w, x)) / total_w
    if mu <= 0:
        return 0.0
    frame = pd.DataFrame({"g": g, "w": w, "wx": w * x})
    by = frame.groupby("g", sort=True)[["w", "wx"]].sum()
    share = by["w"].to_numpy() / total_w
    ratio = (by["wx"].to_numpy() / by["w"].to_numpy()) / mu
    terms = np.zeros_like(ratio)
    pos = ratio > 0
    terms[pos] = ratio[pos] * np.log(ratio[pos])
    return float(np.dot(share, terms))


def _mean(frame: pd.DataFrame) -> float:
    """Patient-weighted mean travel over the patients counted (with a time)."""
    counted = frame[frame["travel_min"].notna()]
    w = float(counted["weight"].sum())
    if w <= 0:
        return math.nan
    return float((counted["weight"] * counted["travel_min"]).sum() / w)


def _share(frame: pd.DataFrame) -> float:
    w = float(frame["weight"].sum())
    return float(frame["patients_within"].sum() / w) if w > 0 else math.nan


def compute_equity(
    cells: pd.DataFrame,
    counties: pd.DataFrame,
    *,
    cutoff_min: float,
    target: float,
    target_source: str,
    target_year: int | None = None,
) -> dict[str, Any]:
    """Return the equity figures of a plan (keys :data:`EQUITY_KPIS`; see the module doc).

    A figure that is not defined (no rural cells, no county with patients...) is ``None``.

    Parameters
    ----------
    cells
        One row per demand cell with patients: ``weight`` (patients), ``county``, ``urban``
        (bool; optional), ``travel_min`` (minutes to the nearest open site; NaN where no
        open site is within ``cutoff_min``) and ``patients_within`` (patients within reach).
    counties
        The plan's county table (index ``county_id``): ``name``, ``patients``,
        ``share_within``.
    cutoff_min
        The travel figures' cut-off (:func:`~planning.results.tables.reach_cutoff_min`).
    target, target_source, target_year
        The share each county should reach and where it comes from (``"scenario"``: the
        scenario's county coverage target; ``"milestone"``: the milestone of
        ``target_year``).
    """
    cells = cells[cells["weight"] > 0]
    w = cells["weight"].to_numpy(dtype=float)
    t = cells["travel_min"].to_numpy(dtype=float)
    beyond = ~np.isfinite(t) | (t > cutoff_min + 1e-9)
    censored = np.where(beyond, float(cutoff_min), t)
    out: dict[str, Any] = dict.fromkeys(EQUITY_KPIS, math.nan)
    out["travel_gini"] = weighted_gini(censored, w)
    out["travel_gini_lower_bound"] = bool((w[beyond] > 0).any())
    theil = theil_index(censored, w)
    out["travel_theil"] = theil
    between = theil_between(censored, w, cells["county"].astype(str).to_numpy(dtype=object))
    out["theil_between_county_share"] = (
        min(max(between / theil, 0.0), 1.0) if theil > 1e-12 else math.nan
    )

    # ---- worst-off county and counties below the target
    ranked = counties[counties["patients"].astype(float) > 0]
    ranked = ranked[ranked["share_within"].notna()]
    out["worst_county_id"] = None
    out["worst_county_name"] = None
    if len(ranked):
        order = ranked.assign(_id=ranked.index.astype(str)).sort_values(["share_within", "_id"])
        worst = order.index[0]
        out["worst_county_id"] = str(worst)
        out["worst_county_name"] = str(ranked.loc[worst, "name"])
        out["worst_county_share"] = float(ranked.loc[worst, "share_within"])
    below = ranked[ranked["share_within"] < target - 1e-9]
    out["equity_target"] = float(target)
    out["equity_target_source"] = target_source
    out["equity_target_year"] = target_year
    out["counties_below_target"] = len(below)
    out["counties_below_target_ids"] = tuple(sorted(str(c) for c in below.index))

    # ---- urban and rural
    out["urban_counties"] = ()
    out["rural_counties"] = ()
    if "urban" in cells.columns:
        counted = cells.assign(travel_min=np.where(beyond, np.nan, t))
        urban = counted["urban"].fillna(value=False).astype(bool)
        for name, part in (("urban", counted[urban]), ("rural", counted[~urban])):
            out[f"{name}_mean_travel_min"] = _mean(part)
            out[f"{name}_share_within"] = _share(part)
            out[f"{name}_counties"] = tuple(sorted({str(c) for c in part["county"]}))
        out["urban_rural_gap_min"] = out["rural_mean_travel_min"] - out["urban_mean_travel_min"]
        out["urban_rural_share_gap"] = out["urban_share_within"] - out["rural_share_within"]
    # undefined figures are None (not NaN, which equals nothing: plans compare by their KPIs)
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in out.items()}
