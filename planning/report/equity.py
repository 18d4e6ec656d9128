"""A plan's equity figures as every output shows them: label, value and one line explaining it.

The command-line summary, the workbook, the app's Scenario and Compare pages and the
sensitivity kit all show the figures of :mod:`planning.results.equity` through
:func:`equity_lines`, in the reader's language, with the privacy rule applied
(:func:`planning.results.privacy.public_equity`: a figure that would give a hidden count back
reads "not shown").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planning import i18n
from planning.results.equity import EQUITY_FIGURES
from planning.results.privacy import count_mask, hidden_kpis, public_equity
from planning.results.tables import ResultTables


@dataclass(frozen=True)
class EquityLine:
    """One equity figure as shown: its label, its value and what it means.

    Attributes
    ----------
    figure
        The figure's name (:data:`~planning.results.equity.EQUITY_FIGURES`).
    label, value, explanation
        Phrases to render in the reader's language (``.text(lang)``).
    number
        The figure as a number for tables and differences (NaN where not shown).
    """

    figure: str
    label: i18n.Msg
    value: i18n.Msg
    explanation: i18n.Msg
    number: float


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _pct(value: float) -> str:
    return "—" if math.isnan(value) else f"{100 * value:.1f}%"


def target_source(figures: Mapping[str, Any]) -> i18n.Msg:
    """Return where a plan's equity target comes from (the scenario, or a milestone)."""
    if figures.get("equity_target_source") == "scenario":
        return i18n.Msg("equity.target_scenario")
    return i18n.Msg("equity.target_milestone", year=figures.get("equity_target_year") or "")


def figure_value(  # noqa: PLR0911 - one return per figure and case
    figure: str, shown: Mapping[str, Any], *, hidden: frozenset[str], n_counties: int
) -> i18n.Msg:
    """Return the value of one equity ``figure`` as shown.

    ``shown``: the figures of :func:`public_equity` (``None`` where hidden); ``hidden``: the
    names hidden (:func:`~planning.results.privacy.hidden_kpis`); ``n_counties``: counties
    with patients.
    """
    none = i18n.Msg("equity.value_none")
    if figure in hidden:
        return i18n.Msg("equity.value_hidden")
    if figure == "travel_gini":
        v = _num(shown.get("travel_gini"))
        if math.isnan(v):
            return none
        bound = bool(shown.get("travel_gini_lower_bound"))
        return i18n.Msg("equity.value_gini_bound" if bound else "equity.value_gini", value=v)
    if figure == "theil_between_county_share":
        v = _num(shown.get(figure))
        return none if math.isnan(v) else i18n.Msg("equity.value_share", value=v)
    if figure == "worst_county_share":
        v = _num(shown.get(figure))
        if shown.get("worst_county_id") is None:
            return none
        return i18n.Msg("equity.value_worst", county=shown.get("worst_county_name"), share=_pct(v))
    if figure == "urban_rural_gap_min":
        v = _num(shown.get(figure))
        if math.isnan(v):
            return i18n.Msg("equity.value_no_group")
        return i18n.Msg(
            "equity.value_gap_min",
            gap=v,
            rural=_num(shown.get("rural_mean_travel_min")),
            urban=_num(shown.get("urban_mean_travel_min")),
        )
    if figure == "urban_rural_share_gap":
        v = _num(shown.get(figure))
        if math.isnan(v):
            return i18n.Msg("equity.value_no_group")
        return i18n.Msg(
            "equity.value_gap_share",
            gap=100 * v,
            urban=_pct(_num(shown.get("urban_share_within"))),
            rural=_pct(_num(shown.get("rural_share_within"))),
        )
    if figure == "counties_below_target":
        n = shown.get(figure)
        if n is None:
            return none
        if int(n) == 0:
            return i18n.Msg("equity.value_below_none", of=n_counties)
        names = shown.get("counties_below_target_names") or shown.get("counties_below_target_ids")
        return i18n.Msg(
            "equity.value_below",
            n=int(n),
            of=n_counties,
            names=i18n.Joined([str(x) for x in names or []], sep="common.comma_sep"),
        )
    msg = f"unknown equity figure {figure!r}"
    raise ValueError(msg)


def equity_lines(tables: ResultTables, *, threshold: int) -> list[EquityLine]:
    """Return the plan's equity figures (:data:`EQUITY_FIGURES`) as every output shows them.

    Parameters
    ----------
    tables
        A plan's result tables.
    threshold
        The scenario's ``privacy_threshold`` (figures that would give a hidden count back
        read "not shown").
    """
    k = tables.kpis
    hidden = hidden_kpis(tables, threshold=threshold)
    shown = dict(public_equity(tables, threshold=threshold))
    names = tables.counties["name"].astype(str)
    ids = shown.get("counties_below_target_ids")
    if ids is not None:
        shown["counties_below_target_names"] = [names.get(c, c) for c in ids]
    n_counties = int((tables.counties["patients"].astype(float) > 0).sum())
    cutoff = _num(k.travel_cutoff_min)
    params: dict[str, dict[str, Any]] = {
        "travel_gini": {"cutoff_min": cutoff},
        "worst_county_share": {"minutes": _num(k.max_travel_min)},
        "counties_below_target": {
            "target": _pct(_num(k.equity_target)).replace(".0%", "%"),
            "source": target_source(k),
        },
    }
    lines = []
    for figure in EQUITY_FIGURES:
        number = _num(shown.get(figure))
        lines.append(
            EquityLine(
                figure=figure,
                label=i18n.Msg(f"equity.label_{figure}"),
                value=figure_value(figure, shown, hidden=hidden, n_counties=n_counties),
                explanation=i18n.Msg(f"equity.explain_{figure}", **params.get(figure, {})),
                number=number,
            )
        )
    return lines


def lower_bound_note(tables: ResultTables, *, threshold: int) -> i18n.Msg | None:
    """Return the note next to a Gini shown as a lower bound (``None`` when it is exact).

    The count of patients beyond the cut-off reads as the plan's privacy mask shows it.
    """
    k = tables.kpis
    if not k.travel_gini_lower_bound:
        return None
    mask = count_mask(tables, threshold=threshold)
    count = mask.kpi_text("patients_beyond_cutoff", _num(k.patients_beyond_cutoff))
    return i18n.Msg("equity.lower_bound_note", count=count, cutoff_min=_num(k.travel_cutoff_min))


def equity_json(tables: ResultTables, *, threshold: int) -> dict[str, Any]:
    """Return the equity figures for ``summary.json``: numbers (``None`` if hidden), texts.

    ``figures`` holds :data:`~planning.results.equity.EQUITY_KPIS` as :func:`public_equity`
    gives them; ``explained`` each figure's label, value and explanation in Chinese and
    English.
    """
    shown = public_equity(tables, threshold=threshold)
    figures = {
        key: (None if isinstance(v, float) and math.isnan(v) else v) for key, v in shown.items()
    }
    explained = {
        line.figure: {
            f"{part}_{lang}": getattr(line, part).text(lang)
            for part in ("label", "value", "explanation")
            for lang in i18n.LANGS
        }
        for line in equity_lines(tables, threshold=threshold)
    }
    return {"figures": figures, "explained": explained}
