"""Issue 20 through the app: a plan with OpenStreetMap candidates, downloaded, re-runs offline.

The app prepares the plan through its cache (pickled copies of the prepared inputs); the
download buttons serve :func:`planning.report.export_bytes`. The kit they give must hold the
OSM facility table (``inputs/osm_facilities.csv``) and re-run alike with no network and an
empty cache (tests/test_reproduce.py tests the library path; its stand-in download is used).
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_reproduce import DATA_DATE, FOUND, _downloaded, _no_download

from planning import _osm, pipeline, report
from planning.scenario import Scenario
from ui import downloads

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def test_app_kit_of_an_osm_candidate_plan_reruns_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KANGLE_OFFLINE", raising=False)
    monkeypatch.setattr(_osm, "download_elements", _downloaded)
    scenario = Scenario(
        name="OSM候选",
        counties=("城厢区", "荔城区"),
        candidate_source="grid+osm",
        n_facilities=2,
        cell_size_m=4000,
        candidate_spacing_m=6000,
    )
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["scenario"] = scenario.to_dict()
    at.run()
    at.button(key="solve").click().run()
    assert not at.exception, [e.message for e in at.exception]
    plan = at.session_state["plan"]
    fac = plan.facilities
    assert (fac["data_source"] == "osm").sum() == len(FOUND)

    # what the app's CSV button serves: the layers, scenario.json and its inputs
    data = downloads._builder(plan, "csv", "zh", "a4")()
    kit = tmp_path / "kit"
    zipfile.ZipFile(io.BytesIO(data)).extractall(kit)
    written = json.loads((kit / "scenario.json").read_text(encoding="utf-8"))
    assert written["osm_facilities_file"] == "inputs/osm_facilities.csv"
    table = pd.read_csv(kit / "inputs" / "osm_facilities.csv", dtype=str, encoding="utf-8-sig")
    assert set(table["数据来源"]) == {"OpenStreetMap"}
    assert set(table["数据日期"]) == {DATA_DATE}

    # offline, empty cache, no download possible: the same plan from the kit alone
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(_osm, "download_elements", _no_download)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "OSM candidates unavailable"
        warnings.filterwarnings("ignore", message=".*outside the planning region")
        again = pipeline.run(report.load_scenario_for_run(kit / "scenario.json"))
    assert list(again.sites.index) == list(plan.sites.index)
    assert again.solution.selected_sites == plan.solution.selected_sites
    assert again.solution.objective == pytest.approx(plan.solution.objective)
    osm_again = again.facilities[again.facilities["data_source"] == "osm"]
    assert list(osm_again.index) == list(fac.index[fac["data_source"] == "osm"])
