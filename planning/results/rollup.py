"""The roll-up of a batch: one row per unit plan and the total, against the policy milestones.

Each unit (a prefecture, say) contributes its headline figures (:func:`unit_figures`): sites,
counties with a site, patients and patients within reach. :func:`rollup_table` adds shares,
and for each milestone year of :data:`~planning.results.tables.POLICY_TARGETS` (50 / 65 / 80 %
of counties with a site, 30 / 45 / 60 % of patients within reach) whether it is met and by how
much it is missed, per unit and for the units together (the ``"total"`` row; failed units are
not in it). :func:`public_rollup` applies the privacy rule of :mod:`planning.suppression`:
unit counts add up to the total and a unit's within-reach count is part of its patients, so
these relations are protected together, and anything a unit's own plan files hide (its
``hidden`` texts) stays hidden in the roll-up too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from planning.results.privacy import count_mask
from planning.results.tables import POLICY_TARGETS, ResultTables
from planning.suppression import CountRelation, count_text, hide_revealing_shares, protect_counts

TOTAL = "total"
"""Index of the total row of :func:`rollup_table`."""

COUNT_FIGURES = ("patients_total", "patients_within")
"""The unit figures that are patient counts (shown under the privacy rule)."""

FIGURES = (
    "n_sites",
    "n_sites_existing",
    "n_sites_new",
    "n_counties",
    "counties_with_site",
    *COUNT_FIGURES,
)
"""Unit figures that add up to the total."""


def unit_figures(tables: ResultTables, *, threshold: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Return a plan's roll-up figures and the texts its own outputs show for hidden counts.

    Returns
    -------
    figures
        Plain values: :data:`FIGURES` (patient counts unrounded) and ``solver_status``,
        ``optimal``, ``gap``, ``mean_travel_min``, ``max_travel_min`` (the threshold),
        ``model`` and ``travel_label``.
    hidden
        ``{figure: text}`` for patient counts the plan's files show as ``"<N"`` / ``"≥L"``
        (:func:`planning.results.count_mask`); empty for most plans.
    """
    k = tables.kpis
    figures: dict[str, Any] = {
        "n_sites": int(k["n_sites"]),
        "n_sites_existing": int(k["n_sites_existing"]),
        "n_sites_new": int(k["n_sites_new"]),
        "n_counties": int(k["n_counties"]),
        "counties_with_site": int(k["counties_with_site"]),
        "patients_total": float(k["patients_total"]),
        "patients_within": float(k["patients_within"]),
        "solver_status": str(k["status"]),
        "optimal": bool(k["optimal"]),
        "gap": None if k["gap"] is None else float(k["gap"]),
        "mean_travel_min": _plain(k["mean_travel_min"]),
        "max_travel_min": float(k["max_travel_min"]),
        "model": str(k["model"]),
        "travel_label": str(k["travel_label"]),
    }
    mask = count_mask(tables, threshold=threshold)
    hidden = {key: text for key in COUNT_FIGURES if (text := mask.kpi(key)) is not None}
    return figures, hidden


def _plain(value: Any) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v


def rollup_table(units: pd.DataFrame) -> pd.DataFrame:
    """Shares and milestones per unit, and the total over the units that were planned.

    Parameters
    ----------
    units
        One row per unit, index ``adcode``: ``status`` (``"done"`` / ``"failed"``) and, for
        done units, the :data:`FIGURES` (NaN for failed ones); other columns are kept.

    Returns
    -------
    table
        ``units`` plus the row :data:`TOTAL` (sums over done units; ``n_units`` and
        ``n_failed`` in it) and the columns ``county_share``, ``share_within`` and, per year
        of ``POLICY_TARGETS``, ``county_target_met_<year>``, ``counties_short_<year>`` (how
        many more counties need a site), ``patient_target_met_<year>`` and
        ``patient_share_short_<year>`` (0-1 below the target; 0 when met). NaN / ``None``
        where a unit failed.
    """
    table = units.copy()
    done = table[table["status"] == "done"]
    total: dict[str, Any] = {c: float(done[c].astype(float).sum()) for c in FIGURES}
    total.update(status="done" if len(done) else "failed", n_units=len(table))
    total["n_failed"] = int((table["status"] != "done").sum())
    table = pd.concat(
        [table, pd.DataFrame([total], index=pd.Index([TOTAL], name=table.index.name))]
    )
    ok = table["status"] == "done"
    n_counties = table["n_counties"].astype(float)
    with_site = table["counties_with_site"].astype(float)
    patients = table["patients_total"].astype(float)
    within = table["patients_within"].astype(float)
    table["county_share"] = (with_site / n_counties).where(ok & (n_counties > 0))
    table["share_within"] = (within / patients).where(ok & (patients > 0))
    for year, target in POLICY_TARGETS.items():
        c_t, p_t = target["county_share"], target["patient_share"]
        needed = pd.Series(np.ceil(c_t * n_counties.to_numpy() - 1e-9), index=table.index)
        table[f"county_target_met_{year}"] = _flags(table["county_share"] >= c_t - 1e-12, ok)
        table[f"counties_short_{year}"] = (needed - with_site).clip(lower=0).where(ok)
        p_ok = ok & table["share_within"].notna()
        table[f"patient_target_met_{year}"] = _flags(table["share_within"] >= p_t - 1e-12, p_ok)
        table[f"patient_share_short_{year}"] = (p_t - table["share_within"]).clip(lower=0)
    return table


def _flags(values: pd.Series, known: pd.Series) -> pd.Series:
    return pd.Series(
        [bool(v) if k else None for v, k in zip(values, known, strict=True)],
        index=values.index,
        dtype=object,
    )


def rollup_hidden(
    table: pd.DataFrame, *, threshold: int, hidden: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """Which patient counts of a roll-up may not be shown exactly, and their text.

    Parameters
    ----------
    table
        From :func:`rollup_table`.
    threshold
        The scenario's ``privacy_threshold``.
    hidden
        ``{adcode: {figure: text}}``: what each unit's own plan files hide
        (:func:`unit_figures`).

    Returns
    -------
    hidden
        ``{"<adcode>:<figure>": text}`` (``"total:<figure>"`` for the total row), as
        :func:`planning.suppression.protect_counts` gives it.
    """
    ok = table[(table["status"] == "done") & (table.index != TOTAL)]
    counts: dict[str, float] = {}
    rels: list[CountRelation] = []
    fixed: dict[str, str] = {}
    pairs = zip(
        ok.index,
        ok["patients_total"].astype(float),
        ok["patients_within"].astype(float),
        strict=True,
    )
    for adcode, patients, within in pairs:
        p, w = f"{adcode}:patients_total", f"{adcode}:patients_within"
        counts[p], counts[w] = float(patients), float(within)
        rels.append(CountRelation(p, (w,), rest=True))
        for figure, text in hidden.get(str(adcode), {}).items():
            fixed[f"{adcode}:{figure}"] = text
    if len(ok):
        tp, tw = f"{TOTAL}:patients_total", f"{TOTAL}:patients_within"
        total = table.loc[TOTAL].to_dict()
        counts[tp], counts[tw] = float(total["patients_total"]), float(total["patients_within"])
        rels.append(CountRelation(tp, tuple(f"{a}:patients_total" for a in ok.index)))
        rels.append(CountRelation(tw, tuple(f"{a}:patients_within" for a in ok.index)))
        rels.append(CountRelation(tp, (tw,), rest=True))
    return protect_counts(counts, rels, threshold=threshold, fixed=fixed)


def public_rollup(
    table: pd.DataFrame, *, threshold: int, hidden: Mapping[str, Mapping[str, str]]
) -> pd.DataFrame:
    """Return the roll-up as it may be shown (files, map, app, command line).

    ``patients_total`` and ``patients_within`` become text (``"1,234"``, ``"<5"``,
    ``"≥L"``; ``""`` for failed units); ``share_within`` is NaN and the patient milestone
    columns are ``None`` / NaN where they would give a hidden count back. Other columns are
    unchanged. ``hidden``: see :func:`rollup_hidden`.
    """
    texts = rollup_hidden(table, threshold=threshold, hidden=hidden)
    out = table.copy()
    masks = {}
    for figure in COUNT_FIGURES:
        mask = pd.Series(
            [texts.get(f"{a}:{figure}") for a in table.index], index=table.index, dtype=object
        )
        masks[figure] = mask
        out[figure] = count_text(table[figure].astype(float), threshold=threshold, hidden=mask)
    share = hide_revealing_shares(
        table["share_within"],
        table["patients_total"],
        table["patients_within"],
        threshold=threshold,
        hidden=(masks["patients_total"], masks["patients_within"]),
    )
    gone = share.isna() & table["share_within"].notna()
    out["share_within"] = share
    for year in POLICY_TARGETS:
        met = out[f"patient_target_met_{year}"].astype(object)
        out[f"patient_target_met_{year}"] = met.where(~gone, None)
        out[f"patient_share_short_{year}"] = out[f"patient_share_short_{year}"].mask(gone)
    return out
