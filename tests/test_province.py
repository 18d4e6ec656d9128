"""The province overview (planning.results.province, planning.report.province, CLI overview)."""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from pathlib import Path
from types import SimpleNamespace

import folium
import openpyxl
import pandas as pd
import pytest

from planning import pipeline, report
from planning.cli import main
from planning.results import ResultTables, province_overview
from planning.scenario import Scenario

COARSE = {"cell_size_m": 10_000, "candidate_spacing_m": 20_000, "time_limit_s": 5}


def _plan(counties: pd.DataFrame, sites: pd.DataFrame, *, threshold: int = 5) -> SimpleNamespace:
    """A solved plan reduced to what the overview reads: result tables, scenario, left out."""
    within = float(counties["patients_within"].sum())
    total = float(counties["patients"].sum())
    counties = counties.assign(
        share_within=counties["patients_within"] / counties["patients"],
        n_sites=[int((sites["county"] == c).sum()) for c in counties.index],
    )
    tables = ResultTables(
        assignments=pd.DataFrame(),
        sites=sites,
        counties=counties,
        kpis={
            "patients_total": total,
            "patients_within": within,
            "patients_beyond_cutoff": total - within,
        },
        policy=pd.DataFrame(),
    )
    return SimpleNamespace(
        tables=tables,
        counties=counties,
        scenario=Scenario(region="测试省", privacy_threshold=threshold),
        left_out=pd.DataFrame({"name": [], "prefecture_name": [], "reason": []}),
    )


def _counties(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["county_id", "name", "prefecture", "patients", "patients_within"]
    ).set_index("county_id")
    frame["prefecture_name"] = frame["prefecture"].map({"A": "甲市", "B": "乙市"})
    return frame


SITES = pd.DataFrame(
    {
        "name": ["站1", "站2", "站3"],
        "kind": ["new", "hub", "existing"],
        "county": ["a1", "b1", "b1"],
        "county_name": ["甲一", "乙一", "乙一"],
    },
    index=pd.Index(["S1", "S2", "S3"], name="site_id"),
)


def test_hand_computed_two_prefectures() -> None:
    counties = _counties(
        [
            ("a1", "甲一", "A", 100.0, 80.0),
            ("a2", "甲二", "A", 50.0, 0.0),
            ("b1", "乙一", "B", 200.0, 150.0),
            ("b2", "乙二", "B", 30.0, 30.0),
        ]
    )
    ov = province_overview(_plan(counties, SITES))
    c = ov.counties
    assert c["offers_rehab"].to_dict() == {"a1": True, "a2": False, "b1": True, "b2": False}
    assert c["reached"].to_dict() == {"a1": True, "a2": False, "b1": True, "b2": True}
    assert c["n_sites"].to_dict() == {"a1": 1, "a2": 0, "b1": 2, "b2": 0}
    assert c.loc["b1", "hub"] == "S2"
    p = ov.prefectures
    assert p.loc["A", ["n_counties", "counties_offering"]].tolist() == [2, 1]
    assert p.loc["A", "county_share"] == 0.5
    assert p.loc["A", ["patients", "patients_within"]].tolist() == [150.0, 80.0]
    assert p.loc["A", "share_within"] == pytest.approx(80 / 150)
    assert p.loc["A", "hub"] == ""  # no hub chosen in 甲市
    assert p.loc["B", ["hub", "hub_name", "hub_county"]].tolist() == ["S2", "站2", "乙一"]
    assert p.loc["B", "share_within"] == pytest.approx(180 / 230)
    # 甲市: counties 50 % (2023 only), patients 53 % (2023, 2024; not 60 % in 2025)
    marks = [p.loc["A", f"{k}_met_{y}"] for y in (2023, 2024, 2025) for k in ("county", "patient")]
    assert marks == [True, True, False, True, False, False]
    t = ov.total
    assert (t["n_counties"], t["counties_offering"], t["county_share"]) == (4, 2, 0.5)
    assert (t["patients"], t["patients_within"]) == (380.0, 260.0)
    assert (t["n_prefectures"], t["prefectures_with_hub"]) == (2, 1)
    m = ov.milestones
    assert m["county_target_met"].tolist() == [True, False, False]
    assert m["patient_target_met"].tolist() == [True, True, True]  # 68 % >= 30, 45, 60 %
    pub = ov.public()
    assert pub["prefectures"]["patients"].tolist() == ["150", "230"]
    assert pub["total"]["patients_within"].tolist() == ["260"]


def _exact(text: object) -> float | None:
    return float(str(text).replace(",", "")) if re.fullmatch(r"[\d,]+", str(text)) else None


def test_small_counts_are_neither_shown_nor_recoverable_from_prefecture_sums() -> None:
    counties = _counties(
        [
            ("a1", "甲一", "A", 100.0, 60.0),
            ("a2", "甲二", "A", 3.0, 3.0),  # below the threshold
            ("b1", "乙一", "B", 200.0, 150.0),
            ("b2", "乙二", "B", 40.0, 40.0),
        ]
    )
    pub = province_overview(_plan(counties, SITES)).public()
    c, p, t = pub["counties"], pub["prefectures"], pub["total"]
    assert c.loc["a2", "patients"] == "<5" and c.loc["a2", "patients_within"] == "<5"
    for col in ("patients", "patients_within"):
        # 甲市 = 甲一 + 甲二: one of 甲市 and 甲一 is not shown exactly, or 甲二 comes back
        assert _exact(p.loc["A", col]) is None or _exact(c.loc["a1", col]) is None
        # the region = every county: the same by subtraction over all of them
        shown = [_exact(v) for v in c[col]]
        assert _exact(t[col].iloc[0]) is None or sum(v is None for v in shown) >= 2
    # a share next to a shown count would give a hidden one back
    assert c.loc[["a1", "a2"], "share_within"].isna().all()
    assert p.loc["A", "share_within"] == pytest.approx(63 / 103)  # 甲市's own counts are shown


def test_one_prefecture_uses_the_region_counts() -> None:
    counties = _counties([("a1", "甲一", "A", 100.0, 97.0), ("a2", "甲二", "A", 50.0, 50.0)])
    pub = province_overview(_plan(counties, SITES.iloc[:1])).public()
    # beyond reach: 3 patients; the within-reach total would give it back
    assert pub["prefectures"].loc["A", "patients_within"] == pub["total"]["patients_within"].iloc[0]
    assert _exact(pub["total"]["patients_within"].iloc[0]) is None


@pytest.fixture(scope="module")
def fujian_plan() -> pipeline.Plan:
    scenario = Scenario(
        region="福建省", n_facilities=30, constraints={"hub_per_prefecture": True}, **COARSE
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 金门县 left out: tested in test_regions
        return pipeline.run(scenario)


def test_fujian_overview_has_every_prefecture_and_a_hub_in_each(fujian_plan) -> None:
    ov = province_overview(fujian_plan)
    assert len(ov.prefectures) == 9
    assert (ov.prefectures["hub"] != "").all()
    assert set(ov.prefectures["hub"]) == set(fujian_plan.tables.kpis["hubs"])
    assert ov.prefectures["n_counties"].sum() == ov.total["n_counties"] == 83
    assert ov.prefectures["patients"].sum() == pytest.approx(ov.total["patients"])
    assert ov.total["patients"] == pytest.approx(fujian_plan.tables.kpis["patients_total"])
    offering = set(fujian_plan.tables.sites["county"])
    assert set(ov.counties.index[ov.counties["offers_rehab"]]) == offering
    assert list(ov.left_out.index) == ["350527"]


def test_overview_files_and_text(fujian_plan, tmp_path: Path) -> None:
    paths = report.export_province_overview(fujian_plan, tmp_path, lang="zh")
    assert {p.name for p in paths} == {
        "province_overview.xlsx",
        "province_prefectures.csv",
        "province_counties.csv",
        "scenario.json",
    }
    prefs = pd.read_csv(tmp_path / "province_prefectures.csv", encoding="utf-8-sig", dtype=str)
    assert prefs["地市"].tolist()[-1] == "合计"
    assert "福州市" in set(prefs["地市"])
    wb = openpyxl.load_workbook(tmp_path / "province_overview.xlsx")
    assert wb.sheetnames == ["地市", "区县", "政策目标", "未纳入的区县", "说明"]
    assert wb["地市"]["A1"].value == "省级概览：福建省方案"
    left = list(wb["未纳入的区县"].iter_rows(values_only=True))
    assert left[1][:2] == ("350527", "金门县")
    text = report.format_overview(fujian_plan, lang="en")
    assert text.splitlines()[0] == "Province overview: 福建省 plan"
    assert "Prefectures with a hub: 9 of 9" in text
    assert "Left out: 金门县 (administered by Taiwan" in text
    assert "registered prevalence 4.60 per mille" in text


def test_cli_overview_prints_and_writes(tmp_path: Path, capsys) -> None:
    scenario = Scenario(region="泉州市", n_facilities=8, **COARSE)
    path = scenario.save(tmp_path / "scenario.json")
    out = tmp_path / "overview"
    code = main(["overview", str(path), "--out", str(out), "--lang", "en"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Province overview: 泉州市 plan" in captured.out
    assert "Prefectures with a hub: 0 of 1" in captured.out
    assert f"Written to {out}" in captured.out
    assert "金门县" in captured.err  # the left-out warning
    assert (out / "province_overview.xlsx").is_file()
    assert json.loads((out / "scenario.json").read_text(encoding="utf-8"))["region"] == "泉州市"


def test_fujian_own_target_beside_the_national_milestones(fujian_plan) -> None:
    """Fujian's 2018 opinion: 80 % of its counties by 2025, shown and checked like the others."""
    ov = province_overview(fujian_plan)
    target = ov.province_target
    assert target is not None
    assert (target["province"], target["year"], target["county_share_target"]) == (
        "福建省",
        2025,
        0.80,
    )
    assert target["county_share"] == pytest.approx(ov.total["county_share"])
    assert target["county_target_met"] == (ov.total["county_share"] >= 0.80)
    milestones = report.overview_tables(fujian_plan, ov, lang="en")["milestones"]
    assert milestones["Year"].astype(str).tolist()[-1] == "2025 (福建省 Fujian target)"
    text = report.format_overview(fujian_plan, lang="en")
    assert "福建省 Fujian's own target for 2025: counties offering rehab 80%" in text
    # a region outside Fujian has none (the hand-made plan's ids name no province)
    assert (
        province_overview(_plan(_counties([("a1", "甲一", "A", 10, 5)]), SITES)).province_target
        is None
    )


def test_overview_map_and_downloads(fujian_plan) -> None:
    ov = province_overview(fujian_plan)
    m = report.build_overview_map(fujian_plan, ov, basemap="none", lang="zh")
    page = report.map_html(m)

    def count(text: str) -> int:  # labels are in the legend, feature properties are JSON
        return page.count(text) + page.count(json.dumps(text)[1:-1])

    for label in ("有站点（开展社区康复）", "地市边界", "未纳入（无普查数据）", "金门县"):
        assert count(label), label
    layers = {getattr(f, "layer_name", "") for f in m._children.values()}
    assert {"区县社区康复服务", "未纳入（无普查数据）"} <= layers
    # every county offering rehab says so in its tooltip, and the legend once more
    assert count("有站点（开展社区康复）") == int(ov.counties["offers_rehab"].sum()) + 1
    (group,) = [f for f in m._children.values() if getattr(f, "layer_name", "") == "地市边界"]
    (outlines,) = [c for c in group._children.values() if isinstance(c, folium.GeoJson)]
    assert len(outlines.data["features"]) == 9
    # the plan's own map draws the same prefecture outlines over a province
    plan_map = report.build_map(fujian_plan, basemap="none", lang="en")
    names = {getattr(f, "layer_name", "") for f in plan_map._children.values()}
    assert "Prefecture boundaries" in names
    xlsx = openpyxl.load_workbook(io.BytesIO(report.overview_bytes(fujian_plan, "xlsx")))
    assert xlsx.sheetnames == ["地市", "区县", "政策目标", "未纳入的区县", "说明"]
    assert any("福建省自定目标" in str(c.value) for c in xlsx["说明"]["A"])
    names = zipfile.ZipFile(io.BytesIO(report.overview_bytes(fujian_plan, "zip"))).namelist()
    assert "province_overview_map.html" in names
    assert report.overview_bytes(fujian_plan, "html").startswith(b"<!DOCTYPE html>")


def test_print_map_of_a_province_outlines_prefectures_and_counts_hubs(fujian_plan) -> None:
    fig = report.render_print_map(fujian_plan, lang="zh", date="2026-12-06")
    texts = [t.get_text() for t in fig.texts]
    assert any("有枢纽站点的地市：9 / 9" in t for t in texts)
    legend_labels = {
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    }
    assert "地市边界" in legend_labels
    fig.savefig(io.BytesIO(), format="png", dpi=60)  # draws without error
