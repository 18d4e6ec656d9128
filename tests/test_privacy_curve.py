"""A trade-off curve hides what the plans at its steps hide (issue 19: one privacy rule).

With a table of places (counted cells) a small cell's count is hidden ("<5") in every plan,
so the plans withhold their patient-weighted mean travel and the shares that would give a
hidden count back; the curve (one plan per number of sites) must withhold them too. Census
estimates are public arithmetic: their curve stays as it is.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from planning.results import public_curve, scenario_input_mask
from planning.results.curve_privacy import WITHHELD
from planning.results.tables import COUNTED

THRESHOLD = 5
ROOT = Path(__file__).resolve().parent.parent


def _inputs(*, counted: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    demand = pd.DataFrame(
        {"county": ["A", "A", "A", "B", "B"], "weight": [2.0, 40.0, 31.0, 25.0, 18.0]},
        index=pd.Index(["d1", "d2", "d3", "d4", "d5"], name="demand_id"),
    )
    if counted:
        demand.attrs[COUNTED] = True
    counties = pd.DataFrame(
        {"patients": demand.groupby("county")["weight"].sum(), "name": ["甲县", "乙县"]}
    )
    counties.index.name = "county_id"
    return counties, demand


def _curve() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "p": [1, 2, 3],
            "objective": [900.0, 600.0, 400.0],
            "coverage_share": [0.5, 0.8, 1.0],
            "covered_patients": [58.0, 92.8, 116.0],
            "mean_travel_min": [30.0, 20.0, 12.5],
            "max_travel_min": [70.0, 45.0, 30.0],
            "patients_beyond_cutoff": [2.0, 0.0, 0.0],
            "share_beyond_cutoff": [2 / 116, 0.0, 0.0],
            "status": ["optimal", "optimal", "infeasible"],
            "gap": [0.0, 0.0, float("nan")],
        }
    )


def test_place_table_withholds_mean_travel_and_coverage() -> None:
    counties, demand = _inputs(counted=True)
    mask = scenario_input_mask(counties, threshold=THRESHOLD, demand=demand)
    assert mask.hidden.get("cell:d1") == "<5"  # the premise: a counted cell is hidden
    curve = _curve()
    out = public_curve(curve, counties=counties, demand=demand, threshold=THRESHOLD)
    for column in (
        "mean_travel_min",
        "coverage_share",
        "covered_patients",
        "patients_beyond_cutoff",
        "share_beyond_cutoff",
        "objective",
    ):
        assert out[column].isna().all(), column
    # figures with no patient count in them stay, and the input is not changed
    pd.testing.assert_series_equal(out["max_travel_min"], curve["max_travel_min"])
    assert list(out["status"]) == list(curve["status"])
    assert curve["mean_travel_min"].notna().all()
    assert list(out[WITHHELD]) == [True, True, True]


def test_census_curve_is_unchanged() -> None:
    counties, demand = _inputs(counted=False)
    curve = _curve()
    out = public_curve(curve, counties=counties, demand=demand, threshold=THRESHOLD)
    pd.testing.assert_frame_equal(out.drop(columns=WITHHELD), curve)
    assert not out[WITHHELD].any()
    # and before the cells are prepared (counties only)
    out = public_curve(curve, counties=counties, demand=None, threshold=THRESHOLD)
    pd.testing.assert_frame_equal(out.drop(columns=WITHHELD), curve)


def test_place_table_with_no_small_count_keeps_the_curve() -> None:
    counties, demand = _inputs(counted=True)
    demand.loc["d1", "weight"] = 12.0
    counties["patients"] = demand.groupby("county")["weight"].sum()
    assert not scenario_input_mask(counties, threshold=THRESHOLD, demand=demand).hidden
    curve = _curve()
    out = public_curve(curve, counties=counties, demand=demand, threshold=THRESHOLD)
    pd.testing.assert_frame_equal(out.drop(columns=WITHHELD), curve)


@pytest.mark.parametrize("counted", [True, False])
def test_failed_steps_are_not_marked_withheld(counted: bool) -> None:
    counties, demand = _inputs(counted=counted)
    curve = _curve()
    figures = ["objective", "coverage_share", "covered_patients", "mean_travel_min"]
    figures += ["patients_beyond_cutoff", "share_beyond_cutoff"]
    curve.loc[2, figures] = math.nan
    out = public_curve(curve, counties=counties, demand=demand, threshold=THRESHOLD)
    assert list(out[WITHHELD]) == [counted, counted, False]


def test_trade_off_page_withholds_with_a_place_table(tmp_path: Path) -> None:
    """App: a table of places with a small count; the curve shows "—" and says why."""
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    from planning.scenario import Scenario  # noqa: PLC0415

    places = tmp_path / "patients.csv"
    rows = ["lon,lat,count", "119.00,25.43,50", "119.02,25.44,65", "118.99,25.41,2"]
    places.write_text("\n".join(rows) + "\n", encoding="utf-8")
    scenario = Scenario(
        name="测试方案",
        counties=("城厢区", "荔城区"),
        cell_size_m=4000,
        candidate_spacing_m=6000,
        n_facilities=2,
        patients_file=str(places),
    )
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["scenario"] = scenario.to_dict()
    at.run()
    at.switch_page("ui/page_tradeoff.py").run()
    at.number_input(key="to_p_min").set_value(1)
    at.number_input(key="to_p_max").set_value(3).run()
    at.button(key="to_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    table = at.dataframe[0].value
    assert list(table.index) == [1, 2, 3]
    assert set(table["时限内患者占比（%）"]) == {"—"}
    travel = next(c for c in table.columns if "出行" in c)
    assert set(table[travel]) == {"—"}
    assert any("保护小数字" in c.value for c in at.caption)
