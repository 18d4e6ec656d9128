"""The app on a province (issue 15): regions anywhere in China, whole provinces, the overview.

Small solves only (coarse cells and candidates); AppTest cannot look inside the folium maps
(tests/test_maps.py and test_province.py test the overview map and tables directly).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from planning import i18n, report
from planning.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
COARSE = {"cell_size_m": 15_000, "candidate_spacing_m": 25_000, "time_limit_s": 10}
QUANZHOU = Scenario(region="泉州市", n_facilities=4, **COARSE)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def start(scenario: Scenario | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    if scenario is not None:
        at.session_state["scenario"] = scenario.to_dict()
    return at.run()


def ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def ov(column: str) -> str:
    """A header of the overview tables in Chinese (``regions.ov_col_<column>``)."""
    key = "regions.ov_total" if column == "total" else f"regions.ov_col_{column}"
    return i18n.text(key, "zh")


def texts(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_a_prefecture_with_a_county_without_census_shows_its_counties() -> None:
    """泉州市: 金门县 is left out with one warning, the other counties are shown and planned."""
    at = start(QUANZHOU)
    ok(at)
    assert not at.error
    assert any("金门县" in w and "未纳入方案" in w for w in texts(at))  # before solving
    at.switch_page("ui/page_region.py").run()
    ok(at)
    assert not at.error
    assert at.selectbox(key="rg_city").value == "泉州市"
    table = next(d.value for d in at.dataframe if "常住人口" in d.value.columns)
    assert "金门县" not in set(table["区县"])
    assert "鲤城区" in set(table["区县"])
    assert sum("金门县" in w for w in texts(at)) == 1


def test_any_province_can_be_picked_and_its_capital_planned() -> None:
    """A capital outside Fujian (兰州市): picked by province -> city, patients = census x 4.6 ‰."""
    at = start(Scenario(n_facilities=3, **COARSE))  # the Putian demo, coarse
    at.switch_page("ui/page_region.py").run()
    at.selectbox(key="rg_province").set_value("甘肃省").run()
    ok(at)
    assert "兰州市" in at.selectbox(key="rg_city").options
    at.selectbox(key="rg_city").set_value("兰州市").run()
    ok(at)
    assert not at.error
    scenario = at.session_state["scenario"]
    assert scenario["region"] == "兰州市"
    assert scenario["counties"] is None
    assert "城关区" in at.multiselect(key="rg_counties").value
    table = next(d.value for d in at.dataframe if "常住人口" in d.value.columns)
    population = table["常住人口"].str.replace(",", "").astype(float).sum()
    patients = table["估算患者（人）"].str.replace(",", "").astype(float).sum()
    assert patients == pytest.approx(population * 4.60 / 1000, abs=len(table))
    at.switch_page("ui/page_scenario.py").run()
    ok(at)
    assert "兰州市方案" in at.caption[0].value
    at.button(key="solve").click().run()  # end to end
    ok(at)
    assert not at.error
    plan = at.session_state["plan"]
    assert plan.scenario.region == "兰州市"
    census = plan.counties["population"].sum()
    assert plan.tables.kpis["patients_total"] == pytest.approx(census * 4.60 / 1000)
    assert len(plan.solution.selected_sites) == 3


def test_overview_tab_milestones_left_out_and_downloads() -> None:
    at = start(QUANZHOU)
    at.button(key="solve").click().run()
    ok(at)
    assert not at.error
    plan = at.session_state["plan"]
    assert list(plan.left_out.index) == ["350527"]
    # the left-out county is said with the results, once
    assert sum("金门县" in w for w in texts(at)) == 1
    tables = [d.value for d in at.dataframe]
    milestones = next(t for t in tables if "区县覆盖目标" in t.columns)
    assert list(milestones["年份"].astype(str))[:3] == ["2023", "2024", "2025"]
    assert list(milestones["区县覆盖目标"])[:3] == ["50.0%", "65.0%", "80.0%"]
    assert list(milestones["患者可达目标"])[:3] == ["30.0%", "45.0%", "60.0%"]
    assert "2025（福建省目标）" in set(milestones["年份"].astype(str))  # Fujian's own 80 %
    pref, hub, offering = (ov(k) for k in ("prefecture", "hub", "counties_offering"))
    prefectures = next(t for t in tables if pref in t.columns and hub in t.columns)
    assert list(prefectures[pref]) == ["泉州市", ov("total")]
    n_offering = plan.tables.counties["n_sites"].gt(0).sum()
    assert prefectures[offering].tolist()[-1] == n_offering
    left = next(t for t in tables if ov("reason") in t.columns)
    assert left[ov("county")].tolist() == ["金门县"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["开展社区康复的区县"].startswith(f"{n_offering} / {len(plan.counties)}")
    assert any("福建省自定目标" in c.value for c in at.caption)
    for fmt in ("xlsx", "html", "zip"):
        assert at.get("download_button")  # the buttons are drawn (data built on click)
        assert report.overview_bytes(plan, fmt, lang="zh")  # what the button serves
    data = report.overview_bytes(plan, "xlsx", lang="en")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb["Counties left out"]["B2"].value == "金门县"
    names = zipfile.ZipFile(io.BytesIO(report.overview_bytes(plan, "zip"))).namelist()
    assert {"province_overview.xlsx", "province_overview_map.html", "scenario.json"} <= set(names)


def test_overview_in_english() -> None:
    at = start(QUANZHOU)
    at.radio(key="lang").set_value("en").run()
    at.button(key="solve").click().run()
    ok(at)
    tables = [d.value for d in at.dataframe]
    milestones = next(t for t in tables if {"Year", "County target"} <= set(t.columns))
    assert "2025 (福建省 Fujian target)" in set(milestones["Year"].astype(str))
    left = i18n.text("regions.counties_left_out", "en", counties="", n=1).split(":")[0]
    assert any(left in w.value and "金门县" in w.value for w in at.warning)
    assert any(
        "Province overview: " in s.value or "Province overview" in s.value for s in at.subheader
    )
