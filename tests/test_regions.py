"""Every county of China: region names, the census by today's boundaries, left-out counties.

The fast tests read the census tables and the boundaries' index only (no geometry of all
China); the runs use coarse cells, a coarse candidate grid and short time limits.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from planning import pipeline, report
from planning.cli import main
from planning.errors import DataError, PlanningWarning
from planning.inputs import regions
from planning.scenario import Scenario

DATA = Path(__file__).resolve().parent.parent / "data"
COARSE = {"cell_size_m": 10_000, "candidate_spacing_m": 20_000, "time_limit_s": 5}


def _units() -> pd.DataFrame:
    codes = {"prefecture_code_2020": str}
    return pd.read_csv(DATA / "china_county_population_2020.csv", dtype=codes)


# ------------------------------------------------------------------------------ names
@pytest.mark.parametrize(
    ("query", "adcode", "level"),
    [
        ("福建", "350000", "province"),
        ("浙江省", "330000", "province"),
        ("广西", "450000", "province"),  # 广西壮族自治区
        ("内蒙古", "150000", "province"),
        ("北京", "110000", "province"),  # the municipality, not its city row 110100
        ("重庆市", "500000", "province"),  # province and city share the code
        ("620000", "620000", "province"),
        ("泉州", "350500", "prefecture"),
        ("兰州市", "620100", "prefecture"),
        ("延边州", "222400", "prefecture"),  # 延边朝鲜族自治州
        ("黔东南", "522600", "prefecture"),
        ("东莞市", "441900", "prefecture"),  # a city without counties: its own county too
        ("济源", "419001", "prefecture"),  # county-level city under the province
        ("330106", "330106", "county"),
        ("福州市/鼓楼区", "350102", "county"),
        ("江苏省/南京市/鼓楼区", "320106", "county"),
        ("开封/鼓楼区", "410204", "county"),
        ("鄂温克旗", "150724", "county"),  # 鄂温克族自治旗
        ("浦东新区", "310115", "county"),
    ],
)
def test_any_unit_of_china_by_name_code_or_path(query: str, adcode: str, level: str) -> None:
    ref = regions.resolve_region(query)
    assert (ref.adcode, ref.level) == (adcode, level)


def test_a_shared_name_is_refused_with_every_choice() -> None:
    with pytest.raises(DataError) as info:
        regions.resolve_region("鼓楼区")
    text = str(info.value)
    assert info.value.code == "regions.region_ambiguous"
    for path, code in [
        ("福建省/福州市/鼓楼区", "350102"),
        ("江苏省/南京市/鼓楼区", "320106"),
        ("江苏省/徐州市/鼓楼区", "320302"),
        ("河南省/开封市/鼓楼区", "410204"),
    ]:
        assert f"{path} ({code})" in text
    assert "path like 江苏省/南京市/鼓楼区" in text
    zh = info.value.text("zh")
    assert "福建省/福州市/鼓楼区（350102）" in zh and "4 个行政区" in zh


@pytest.mark.parametrize(
    ("query", "codes"),
    [("江苏/鼓楼区", {"320106", "320302"}), ("吉林", {"220000", "220200"}), ("鼓楼", None)],
)
def test_a_parent_narrows_the_choices(query: str, codes: set[str] | None) -> None:
    with pytest.raises(DataError, match="is used by") as info:
        regions.resolve_region(query)
    listed = {m.params["adcode"] for m in info.value.params["choices"]}
    assert listed == (codes or {"350102", "320106", "320302", "410204"})


def test_a_wrong_parent_says_where_the_unit_is() -> None:
    with pytest.raises(DataError, match=r"'杭州市' is not in 福建省.*浙江省/杭州市 \(330100\)"):
        regions.resolve_region("福建省/杭州市")


def test_unknown_region_lists_close_matches_across_china() -> None:
    with pytest.raises(DataError, match=r"Unknown region '兰洲市'. Close matches: .*兰州市"):
        regions.resolve_region("兰洲市")
    with pytest.raises(DataError, match=r"Unknown region '蒲田市'. Close matches: 莆田市"):
        regions.resolve_region("福建省/蒲田市")


def test_short_names() -> None:
    pairs = {
        "福建省": "福建",
        "新疆维吾尔自治区": "新疆",
        "恩施土家族苗族自治州": "恩施",
        "双江拉祜族佤族布朗族傣族自治县": "双江",
        "内蒙古自治区": "内蒙古",  # 蒙古 is a nationality, but 内 alone is no name
        "城区": "城区",
    }
    assert {n: regions.short_name(n) for n in pairs} == pairs


# ---------------------------------------------------------------------------- county lists
def test_a_parent_region_resolves_a_shared_county_name() -> None:
    _, table = regions.county_table("福州市", counties=["鼓楼区"])
    assert list(table.index) == ["350102"]
    _, table = regions.county_table("江苏省", counties=["徐州市/鼓楼区", "320106"])
    assert list(table.index) == ["320106", "320302"]


def test_a_county_name_shared_inside_the_region_is_refused_with_choices() -> None:
    with pytest.raises(DataError, match=r"used by 2 counties of 江苏省.*320106.*320302") as info:
        regions.county_table("江苏省", counties=["鼓楼区"])
    assert "e.g. 南京市/鼓楼区" in str(info.value)


def test_a_county_list_mixing_provinces_is_one_error() -> None:
    with pytest.raises(DataError, match="mixes provinces") as info:
        regions.county_table("莆田市", counties=["仙游县", "余杭区", "城厢区"])
    text = str(info.value)
    assert "福建省: 仙游县, 城厢区" in text and "浙江省: 余杭区" in text


def test_counties_outside_the_region_are_named_with_where_they_are() -> None:
    with pytest.raises(DataError) as info:
        regions.county_table("莆田市", counties=["西湖区", "火星区"])
    text = str(info.value)
    assert info.value.code == "regions.counties_not_in_region"
    assert "County '西湖区' is not in 莆田市: it is in 浙江省/杭州市 (330106)" in text
    assert "江西省/南昌市 (360103)" in text
    assert "County '火星区' is not in 莆田市" in text
    assert "5 counties: 城厢区, 涵江区, 荔城区, 秀屿区, 仙游县" in text


# ---------------------------------------------------------------------------- census
def test_every_province_adds_up_to_its_official_total_less_the_listed_gaps() -> None:
    """County tables of all 34 provincial units, from the census and the boundaries' index."""
    official = regions.load_province_totals()
    not_covered = regions.load_not_covered()
    provinces = regions.list_units()
    assert len(provinces) == 34
    mainland = 0
    for p in provinces.itertuples():
        ref, table = regions.county_table(p.adcode)
        assert ref.level == "province"
        lacking = set(table.index[table["population"].isna()])
        assert lacking == set(not_covered.index[not_covered["province"] == p.name]), p.name
        if p.adcode in official.index:
            assert table["population"].sum() == official[p.adcode], p.name
            mainland += 1
        else:  # Taiwan, Hong Kong, Macau: no county has census figures
            assert table["population"].isna().all(), p.name
    assert mainland == len(official) == 31


def test_census_by_boundary_keeps_fujian_as_the_project_table() -> None:
    """The Putian demo does not change by one person: Fujian equals its own 2020 table."""
    fujian = pd.read_csv(DATA / "fujian_county_population_2020.csv", dtype=str)
    fujian = fujian[fujian["level"] == "county"]
    cols = {"pop_total_2020": "population", "pop_urban": "pop_urban", "pop_60plus": "pop_60plus"}
    expected = fujian.astype(dict.fromkeys(cols, int)).groupby("adcode_current")[list(cols)].sum()
    census = regions.load_census()
    got = census[census.index.str.startswith("35")][list(cols.values())]
    pd.testing.assert_frame_equal(
        got, expected.rename(columns=cols), check_names=False, check_index_type=False
    )
    assert (census["pop_rural"] == census["population"] - census["pop_urban"]).all()
    assert census.loc["350404", "census_units"] == "梅列区+三元区"


def test_hangzhou_split_districts_use_the_crosswalk_shares() -> None:
    census = regions.load_census()
    units = _units()
    assert (
        census.loc[census["prefecture"] == "330100", "population"].sum()
        == units.loc[units["prefecture_code_2020"] == "330100", "population"].sum()
    )
    assert census.loc["330114", "census_units"] == "江干区+萧山区"  # 钱塘区, new in 2021


def test_counties_without_census_are_listed_with_their_reason() -> None:
    counties = pd.DataFrame(
        {"name": ["金门县", "思明区", "中西区"], "population": [float("nan"), 1.0, float("nan")]},
        index=pd.Index(["350527", "350203", "810001"], name="county_id"),
    )
    gaps = regions.census_gaps(counties)
    assert gaps["reason"].to_dict() == {
        "350527": "regions.reason_taiwan_administered",
        "810001": "regions.reason_hong_kong",
    }
    assert list(regions.census_gaps(counties, covered=["350527"]).index) == ["810001"]


# ---------------------------------------------------------------------------- whole regions
def _left_out_warnings(caught: list[warnings.WarningMessage]) -> list[PlanningWarning]:
    return [
        w.message
        for w in caught
        if isinstance(w.message, PlanningWarning) and w.message.code == "regions.counties_left_out"
    ]


def test_quanzhou_leaves_out_kinmen_with_one_warning_and_runs() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = pipeline.run(Scenario(region="泉州市", n_facilities=8, **COARSE))
    left = _left_out_warnings(caught)
    assert len(left) == 1
    assert left[0].params["n"] == 1
    assert "金门县 (administered by Taiwan: no 2020 census figures)" in str(left[0])
    assert "金门县（由台湾地区管辖" in left[0].text("zh")
    assert list(plan.left_out.index) == ["350527"]
    assert "350527" not in plan.counties.index
    assert len(plan.counties) == len(regions.county_units(regions.resolve_region("泉州市"))) - 1
    expected = plan.counties["population"].sum() * 4.6 / 1000
    assert plan.tables.kpis["patients_total"] == pytest.approx(expected)
    summary = report.plan_summary(plan)
    assert [c["county_id"] for c in summary["left_out"]] == ["350527"]
    assert summary["left_out"][0]["reason"] == "regions.reason_taiwan_administered"
    sources = dict(report.data_sources(plan, lang="en"))
    assert sources["Counties left out"].startswith("金门县 (administered by Taiwan")
    assert "未纳入的区县" in dict(report.data_sources(plan, lang="zh"))
    assert plan.scenario.display_name == "泉州市 plan"
    assert plan.scenario.title("zh") == "泉州市方案"


def test_a_patient_table_keeps_a_county_without_census_in(tmp_path: Path) -> None:
    table = tmp_path / "patients.csv"
    rows = ["区县,人数", "金门县,120", "思明区,3000", "湖里区,2500"]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    sc = Scenario(
        region="福建省",
        counties=("金门县", "思明区", "湖里区"),
        patients_file=str(table),
        **COARSE,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = pipeline.prepare(sc)
    assert not _left_out_warnings(caught)
    assert inputs.left_out.empty
    assert inputs.counties["patients"].to_dict() == {
        "350203": 3000.0,
        "350206": 2500.0,
        "350527": 120.0,
    }
    assert inputs.counties.loc["350527", "patients_source"] == "patient table"


def test_a_region_with_no_census_at_all_is_one_error() -> None:
    with pytest.raises(DataError, match=r"No county of the region has 2020 census population"):
        pipeline.prepare(Scenario(region="澳门", **COARSE))


@pytest.mark.parametrize("city", ["杭州市", "兰州市"])
def test_a_provincial_capital_runs_end_to_end(city: str) -> None:
    """Patients = the city's 2020 census (the census table) x prevalence."""
    ref = regions.resolve_region(city)
    units = _units()
    census = units.loc[units["prefecture_code_2020"] == ref.adcode, "population"].sum()
    prevalence = 4.6
    plan = pipeline.run(
        Scenario(region=city, n_facilities=5, prevalence_per_mille=prevalence, **COARSE)
    )
    assert plan.left_out.empty
    assert plan.tables.kpis["patients_total"] == pytest.approx(census * prevalence / 1000)
    assert plan.counties["patients"].sum() == pytest.approx(census * prevalence / 1000)
    assert plan.solution.selected_sites
    assert plan.scenario.title("zh") == f"{city}方案"


def test_scenario_name_follows_the_region_and_putian_keeps_its_demo_name() -> None:
    assert Scenario().display_name == "莆田市示范方案"
    assert Scenario().title("zh") == "莆田市示范方案"
    fujian = Scenario().replace(region="福建省")
    assert fujian.name is None
    assert (fujian.title("zh"), fujian.title("en")) == ("福建省方案", "福建省 plan")
    assert Scenario(region="福建省/福州市/鼓楼区").title("zh") == "福建省福州市鼓楼区方案"
    assert Scenario(name="我的方案", region="福建省").display_name == "我的方案"
    assert Scenario(counties=("仙游县",)).title("zh") == "莆田市方案"


# ---------------------------------------------------------------------------- command line
def test_fujian_runs_by_default_and_says_what_was_left_out(tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan"
    args = ["solve", "--region", "福建省", "--model", "mclp", "--sites", "80"]
    args += ["--max-minutes", "30", "--cell-size", "10000", "--candidate-spacing", "20000"]
    code = main([*args, "--time-limit", "5", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "金门县 (administered by Taiwan" in captured.err
    assert captured.err.count("left out of the plan") == 1
    assert "Scenario: 福建省 plan | region 福建省" in captured.out
    assert "of 83 (" in captured.out  # counties with a site: of the 83 with census
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["kpis"]["n_counties"] == 83
    assert [c["name"] for c in summary["left_out"]] == ["金门县"]
    assert summary["prevalence_per_mille"] == 4.6
    assert "2020" in summary["prevalence_source"]
    counties = pd.read_csv(out / "counties.csv", dtype={"county_id": str})
    assert "350527" not in set(counties["county_id"])
    scenario = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert scenario["name"] is None and scenario["region"] == "福建省"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--region", "兰洲市"], ["Unknown region '兰洲市'. Close matches: ", "兰州市"]),
        (["--region", "鼓楼区"], ["is used by 4 units", "福建省/福州市/鼓楼区 (350102)"]),
        (["--region", "江苏省", "--counties", "鼓楼区"], ["南京市/鼓楼区 (320106)"]),
        (["--region", "莆田市", "--counties", "仙游县,余杭区"], ["mixes provinces", "浙江省"]),
        (["--region", "莆田市", "--counties", "西湖区"], ["浙江省/杭州市 (330106)"]),
    ],
)
def test_bad_regions_are_one_message_exit_2(args: list[str], fragments: list[str], capsys) -> None:
    code = main(["solve", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("error:") == 1
    for fragment in fragments:
        assert fragment in err
    assert "Traceback" not in err


def test_a_patient_table_of_another_region_is_one_message_exit_2(tmp_path: Path, capsys) -> None:
    counties = tmp_path / "counties.csv"
    counties.write_text("区县,人数\n西湖区,300\n余杭区,200\n", encoding="utf-8")
    places = tmp_path / "places.csv"
    places.write_text("经度,纬度,人数\n120.15,30.28,40\n", encoding="utf-8")  # 杭州
    for table, fragment in ((counties, "no row names a county"), (places, "no place")):
        code = main(["solve", "--region", "莆田市", "--patients", str(table), "--time-limit", "5"])
        err = capsys.readouterr().err
        assert code == 2, err
        assert fragment in err
        assert "Traceback" not in err
