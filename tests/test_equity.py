"""Equity measures of a plan: hand-computed cases, the definitions, and what may be shown."""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from planning.report.equity import equity_json, equity_lines
from planning.results import hidden_kpis
from planning.results.equity import (
    EQUITY_FIGURES,
    EQUITY_KPIS,
    compute_equity,
    theil_between,
    theil_index,
    weighted_gini,
)
from planning.results.kpis import Kpis
from planning.results.privacy import RANKED_EQUITY, public_equity
from tests.test_results import make_tables

THR = 5


def gini_by_pairs(x: list[float], w: list[float]) -> float:
    """The textbook definition: mean absolute difference over twice the mean.

    Evaluated in exact rationals: in floats the mean of ``[0, 5e-324]`` underflows to 0.
    """
    xs, ws = [Fraction(v) for v in x], [Fraction(v) for v in w]
    total = sum(ws)
    mean = sum(a * b for a, b in zip(xs, ws, strict=True)) / total
    if mean == 0:
        return 0.0
    pairs = list(zip(xs, ws, strict=True))
    mad = sum(wi * wk * abs(xi - xk) for (xi, wi), (xk, wk) in itertools.product(pairs, pairs))
    return float(mad / (2 * total * total * mean))


# ---------------------------------------------------------------- Gini and Theil by hand
def test_gini_hand_cases() -> None:
    # four patients, one travels 10 min, three none: sum |xi-xk| = 2*3*10 = 60, / (2*16*2.5)
    assert weighted_gini(np.array([0.0, 0.0, 0.0, 10.0]), np.ones(4)) == pytest.approx(0.75)
    # 3 patients at 10 min, 1 at 20: mean 12.5, MAD 2*3*1*10/16 = 3.75, G = 3.75/25
    assert weighted_gini(np.array([10.0, 20.0]), np.array([3.0, 1.0])) == pytest.approx(0.15)
    assert weighted_gini(np.array([7.0, 7.0, 7.0]), np.array([1.0, 2.0, 3.0])) == 0.0
    assert weighted_gini(np.array([0.0, 0.0]), np.ones(2)) == 0.0
    assert math.isnan(weighted_gini(np.array([5.0]), np.array([0.0])))


def test_theil_hand_cases() -> None:
    # two equal groups at 0 and 10 minutes: T = 1/2 * 2 ln 2 = ln 2, all of it between groups
    x, w = np.array([0.0, 10.0]), np.ones(2)
    assert theil_index(x, w) == pytest.approx(math.log(2))
    assert theil_between(x, w, ["a", "b"]) == pytest.approx(math.log(2))
    assert theil_between(x, w, ["a", "a"]) == pytest.approx(0.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=120, allow_nan=False),
            st.integers(min_value=1, max_value=6),
        ),
        min_size=1,
        max_size=12,
    )
)
@example([(0.0, 1), (5e-324, 1)])  # found by Hypothesis: the float oracle's mean underflowed
def test_gini_matches_definition_and_replication(rows: list[tuple[float, int]]) -> None:
    x = [r[0] for r in rows]
    w = [float(r[1]) for r in rows]
    g = weighted_gini(np.array(x), np.array(w))
    assert g == pytest.approx(gini_by_pairs(x, w), abs=1e-9)
    # integer weights are the same as repeating the patients
    rep = [v for v, k in rows for _ in range(k)]
    assert g == pytest.approx(weighted_gini(np.array(rep), np.ones(len(rep))), abs=1e-9)
    assert weighted_gini(np.array(x) * 3.5, np.array(w)) == pytest.approx(g, abs=1e-9)
    assert 0.0 <= g < 1.0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=120, allow_nan=False),
            st.floats(min_value=0.1, max_value=50),
            st.sampled_from(["a", "b", "c"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_theil_decomposes_exactly(rows: list[tuple[float, float, str]]) -> None:
    x = np.array([r[0] for r in rows])
    w = np.array([r[1] for r in rows])
    g = [r[2] for r in rows]
    total = theil_index(x, w)
    between = theil_between(x, w, g)
    within = 0.0
    mu = float(np.dot(w, x) / w.sum())
    for name in set(g):
        sel = np.array([gg == name for gg in g])
        mu_g = float(np.dot(w[sel], x[sel]) / w[sel].sum())
        if mu > 0:
            within += w[sel].sum() / w.sum() * (mu_g / mu) * theil_index(x[sel], w[sel])
    assert total == pytest.approx(between + within, abs=1e-9)
    assert between >= -1e-12


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), min_size=2, max_size=10),
    st.floats(min_value=0, max_value=40),
)
def test_raising_the_longest_times_never_lowers_gini_or_theil(
    xs: list[float], extra: float
) -> None:
    """Counting patients beyond the cut-off at the cut-off gives a lower bound (module doc)."""
    x = np.sort(np.array(xs))
    w = np.ones(x.size)
    raised = x.copy()
    raised[-1] += extra
    assert weighted_gini(raised, w) >= weighted_gini(x, w) - 1e-12
    assert theil_index(raised, w) >= theil_index(x, w) - 1e-12


# ---------------------------------------------------------------- a plan's figures by hand
def _cells() -> pd.DataFrame:
    """Two counties: A urban (cells 10 and 20 min, 3 and 1 patients), B rural (40 min, and a
    cell with no open site within the 60-minute cut-off)."""
    return pd.DataFrame(
        {
            "weight": [3.0, 1.0, 2.0, 2.0],
            "county": ["A", "A", "B", "B"],
            "urban": [True, True, False, False],
            "travel_min": [10.0, 20.0, 40.0, np.nan],
            "patients_within": [3.0, 1.0, 0.0, 0.0],  # limit 30 min
        },
        index=pd.Index(["a1", "a2", "b1", "b2"], name="demand_id"),
    )


def _counties() -> pd.DataFrame:
    return pd.DataFrame(
        {"name": ["甲县", "乙县"], "patients": [4.0, 4.0], "share_within": [1.0, 0.0]},
        index=pd.Index(["A", "B"], name="county_id"),
    )


def test_plan_figures_by_hand() -> None:
    f = compute_equity(
        _cells(),
        _counties(),
        cutoff_min=60.0,
        target=0.6,
        target_source="milestone",
        target_year=2025,
    )
    assert set(f) == set(EQUITY_KPIS)
    # times 10 (x3), 20, 40 (x2), 60 (x2, counted at the cut-off): mean 250/8
    x, w = [10.0, 20.0, 40.0, 60.0], [3.0, 1.0, 2.0, 2.0]
    assert f["travel_gini"] == pytest.approx(gini_by_pairs(x, w))
    assert f["travel_gini_lower_bound"] is True
    mu = 250 / 8
    t = sum(wi / 8 * (xi / mu) * math.log(xi / mu) for xi, wi in zip(x, w, strict=True))
    assert f["travel_theil"] == pytest.approx(t)
    mu_a, mu_b = 50 / 4, 200 / 4
    tb = 0.5 * (mu_a / mu) * math.log(mu_a / mu) + 0.5 * (mu_b / mu) * math.log(mu_b / mu)
    assert f["theil_between_county_share"] == pytest.approx(tb / t)
    assert (f["worst_county_id"], f["worst_county_name"], f["worst_county_share"]) == (
        "B",
        "乙县",
        0.0,
    )
    # mean travel over counted patients: urban 50/4, rural 80/2 (the cell beyond is left out)
    assert f["urban_mean_travel_min"] == pytest.approx(12.5)
    assert f["rural_mean_travel_min"] == pytest.approx(40.0)
    assert f["urban_rural_gap_min"] == pytest.approx(27.5)
    # shares count every patient: urban 4/4, rural 0/4
    assert f["urban_rural_share_gap"] == pytest.approx(1.0)
    assert (f["urban_counties"], f["rural_counties"]) == (("A",), ("B",))
    assert (f["counties_below_target"], f["counties_below_target_ids"]) == (1, ("B",))
    assert (f["equity_target"], f["equity_target_year"]) == (0.6, 2025)


def test_no_rural_cells_and_nobody_beyond() -> None:
    cells = _cells().iloc[:2]
    f = compute_equity(
        cells, _counties().iloc[:1], cutoff_min=60.0, target=0.5, target_source="scenario"
    )
    assert f["travel_gini_lower_bound"] is False
    assert f["travel_gini"] == pytest.approx(gini_by_pairs([10.0, 20.0], [3.0, 1.0]))
    assert f["urban_rural_gap_min"] is None
    assert f["urban_rural_share_gap"] is None
    assert f["counties_below_target"] == 0


# ---------------------------------------------------------------- privacy and display
def _with_equity(tables, cells: pd.DataFrame, counties: pd.DataFrame):  # type: ignore[no-untyped-def]
    k = dict(tables.kpis)
    k.update(
        compute_equity(
            cells,
            counties,
            cutoff_min=60.0,
            target=0.6,
            target_source="milestone",
            target_year=2025,
        ),
        travel_cutoff_min=60.0,
        max_travel_min=30.0,
    )
    return dataclasses.replace(tables, kpis=Kpis.from_mapping(k))


def test_a_hidden_county_share_hides_the_ranking_and_its_group() -> None:
    # county C: 20 patients, 3 within reach ("<5"): its share is left out of the county table
    tables = make_tables({"A": (400.0, 380.0), "B": (300.0, 250.0), "C": (20.0, 3.0)})
    cells = pd.DataFrame(
        {
            "weight": [400.0, 300.0, 20.0],
            "county": ["A", "B", "C"],
            "urban": [True, False, False],
            "travel_min": [12.0, 25.0, 45.0],
            "patients_within": [380.0, 250.0, 3.0],
        },
        index=["a", "b", "c"],
    )
    t = _with_equity(tables, cells, tables.counties)
    assert t.kpis["worst_county_id"] == "C"
    hidden = hidden_kpis(t, threshold=THR)
    assert set(RANKED_EQUITY) <= hidden
    assert {"rural_share_within", "urban_rural_share_gap"} <= hidden
    assert "urban_share_within" not in hidden
    assert "travel_gini" not in hidden
    shown = public_equity(t, threshold=THR)
    assert shown["worst_county_share"] is None
    assert shown["counties_below_target"] is None
    assert shown["travel_gini"] == t.kpis["travel_gini"]
    texts = {line.figure: line.value.text("en") for line in equity_lines(t, threshold=THR)}
    assert texts["worst_county_share"].startswith("— (not shown")
    assert texts["urban_rural_share_gap"].startswith("— (not shown")
    assert "county C" not in str(equity_json(t, threshold=THR))


def test_lines_read_in_both_languages() -> None:
    tables = make_tables({"A": (400.0, 380.0), "B": (300.0, 150.0)})
    cells = pd.DataFrame(
        {
            "weight": [400.0, 300.0],
            "county": ["A", "B"],
            "urban": [True, False],
            "travel_min": [12.0, 25.0],
            "patients_within": [380.0, 150.0],
        },
        index=["a", "b"],
    )
    t = _with_equity(tables, cells, tables.counties)
    lines = equity_lines(t, threshold=THR)
    assert [line.figure for line in lines] == list(EQUITY_FIGURES)
    en = {line.figure: line.value.text("en") for line in lines}
    zh = {line.figure: line.value.text("zh") for line in lines}
    assert en["worst_county_share"] == "county B 50.0%"
    assert en["counties_below_target"] == "1 of 2 (county B)"
    assert zh["urban_rural_gap_min"] == "+13.0 分钟（农村 25.0，城市 12.0）"
    assert en["urban_rural_share_gap"] == "+45.0 percentage points (urban 95.0%, rural 50.0%)"
    for line in lines:
        assert line.explanation.text("zh") and line.explanation.text("en")
