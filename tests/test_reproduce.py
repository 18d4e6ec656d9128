"""planning.report.reproduce: the exported folder alone re-runs the plan, also offline.

OpenStreetMap candidates: the facilities a plan took from a download (here a stand-in for the
Overpass answer, cached by the real code path) are written into the kit as the OSM facility
table (``inputs/osm_facilities.csv``, source and date kept) and named by the scenario's
``osm_facilities_file``; the re-run reads them from there, with no cache and no network.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
import shapely

from planning import _osm, cli, pipeline, report
from planning.errors import NetworkError
from planning.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "data" / "facilities_template.csv"
DATA_DATE = "2026-01-15"
# (lon, lat, tags): places in 城厢区 and 荔城区 as OSM maps them
FOUND = [
    (119.000, 25.440, {"amenity": "doctors", "name": "龙桥街道社区卫生服务中心"}),
    (119.020, 25.430, {"amenity": "clinic", "name": "黄石镇卫生院", "addr:street": "黄石大道"}),
    (119.050, 25.450, {"amenity": "doctors", "name": "拱辰街道社区卫生服务中心"}),
    (118.980, 25.420, {"amenity": "clinic", "name": "华亭镇卫生院"}),
    (119.010, 25.455, {"amenity": "community_centre", "name": "凤凰山街道党群服务中心"}),
    (119.030, 25.445, {"amenity": "hospital", "name": "莆田市第一医院"}),
]


def _downloaded(
    polygon: object, tag_filter: object, *, area_keys: frozenset[str] = frozenset()
) -> _osm.OsmElements:
    del polygon, tag_filter, area_keys
    records = [
        {
            "osm_type": "node",
            "osm_id": i + 1,
            "tags": tags,
            "geometry": shapely.Point(lon, lat),
            "keep_area": False,
        }
        for i, (lon, lat, tags) in enumerate(FOUND)
    ]
    return _osm.OsmElements(
        elements=_osm._frame(records),
        source="OpenStreetMap download",
        origin="download",
        data_date=DATA_DATE,
        data_date_source="download date",
    )


def _no_download(*_args: object, **_kwargs: object) -> _osm.OsmElements:
    raise NetworkError("osm.offline", cache="-")


def _run(scenario: Scenario) -> pipeline.Plan:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the template's rows outside the two counties
        return pipeline.run(scenario)


@pytest.mark.parametrize("own_table", [False, True], ids=["osm", "grid+osm_and_own_table"])
def test_kit_with_osm_candidates_reruns_offline_alike(
    own_table: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KANGLE_OFFLINE", raising=False)
    monkeypatch.setattr(_osm, "download_elements", _downloaded)
    scenario = Scenario(
        counties=("城厢区", "荔城区"),
        candidate_source="grid+osm" if own_table else "osm",
        facilities_file=str(TEMPLATE) if own_table else None,
        n_facilities=2,
        cell_size_m=4000,
        candidate_spacing_m=6000,
    )
    plan = _run(scenario)
    fac = plan.facilities
    assert fac is not None
    osm_ids = list(fac.index[fac["data_source"] == "osm"])
    assert len(osm_ids) == len(FOUND)
    out = tmp_path / "kit"
    report.export(plan, out, formats=["csv"])

    # the OSM facility table, typed and dated, in the kit; the scenario names it
    table = pd.read_csv(out / "inputs" / "osm_facilities.csv", dtype=str, encoding="utf-8-sig")
    assert list(table["编号"]) == osm_ids
    assert set(table["数据来源"]) == {"OpenStreetMap"}
    assert set(table["数据日期"]) == {DATA_DATE}
    assert "黄石大道" in set(table["地址"])
    assert all(json.loads(tags)["name"] for tags in table["OSM标签"])
    assert table["分类依据"].str.len().gt(0).all()
    written = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert written["osm_facilities_file"] == "inputs/osm_facilities.csv"
    assert written["candidate_source"] == scenario.candidate_source
    if own_table:  # the planner's own table stays a file of its own
        assert written["facilities_file"] == "inputs/facilities_template.csv"
    else:
        assert written["facilities_file"] is None
        assert not (out / "inputs" / "facilities.geojson").exists()

    # offline, with an empty cache and no download possible: the same plan from the kit alone
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(_osm, "download_elements", _no_download)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "OSM candidates unavailable"
        warnings.filterwarnings("ignore", message=".*outside the planning region")
        again = _run(report.load_scenario_for_run(out / "scenario.json"))
    assert again.facilities is not None
    columns = ["name", "type", "capacity", "address", "county", "data_source", "data_date"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.facilities[columns]), pd.DataFrame(fac[columns])
    )
    assert list(again.sites.index) == list(plan.sites.index)
    assert again.solution.selected_sites == plan.solution.selected_sites
    assert again.solution.objective == pytest.approx(plan.solution.objective)
    assert again.tables.kpis["patients_within"] == pytest.approx(
        plan.tables.kpis["patients_within"]
    )
    # a kit of the re-run names the same table again (copied, not rebuilt)
    second = tmp_path / "kit2"
    report.export(again, second, formats=["csv"])
    copied = json.loads((second / "scenario.json").read_text(encoding="utf-8"))
    assert copied["osm_facilities_file"] == "inputs/osm_facilities.csv"
    assert (second / "inputs" / "osm_facilities.csv").read_bytes() == (
        out / "inputs" / "osm_facilities.csv"
    ).read_bytes()


def test_cli_export_of_the_kit_runs_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KANGLE_OFFLINE", raising=False)
    monkeypatch.setattr(_osm, "download_elements", _downloaded)
    scenario = Scenario(counties=("城厢区",), candidate_source="osm", n_facilities=1)
    path = scenario.save(tmp_path / "scenario.json")
    first = tmp_path / "first"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(["export", str(path), "--format", "csv", "--out", str(first)]) == 0
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(_osm, "download_elements", _no_download)
    second = tmp_path / "second"
    code = cli.main(
        ["export", str(first / "scenario.json"), "--format", "csv", "--out", str(second)]
    )
    assert code == 0
    sites = [pd.read_csv(d / "sites.csv", dtype=str)["site_id"].tolist() for d in (first, second)]
    assert sites[0] == sites[1]
