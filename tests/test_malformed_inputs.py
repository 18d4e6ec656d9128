"""Malformed input through the real command line: a clear message, never a traceback (#19).

Every case writes its files, runs ``python -m planning`` (in-process through
:func:`planning.cli.main`; a few through a real subprocess at the end) and expects either exit
status 2 with one message naming what to fix (the file, row, column or option, and words that
say what to do), or exit status 0 (with a warning where the input was repaired or partly
used). No case may raise: an exception escaping ``main`` is a bug. The cases cover every file
a planner gives (facility tables as CSV/XLSX/GeoJSON/GeoPackage/zipped shapefile, patient
tables, scenario.json, own travel tables TT/D/C, an OSM file, a weight layer) and every
option with bounds.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.cli import main
from planning.scenario import Scenario

# --------------------------------------------------------------------------- the base run
FAST = ["--region", "莆田市", "--counties", "城厢区", "--cell-size", "5000"]
FAST += ["--candidate-spacing", "10000", "--sites", "1", "--max-minutes", "30"]
FAC_HEAD = "名称,类型,经度,纬度,容量\n"
FAC_ROW = "康复站甲,现有康复站,119.0071,25.4316,30\n"
GOOD_FAC = FAC_HEAD + FAC_ROW + "卫生院乙,乡镇卫生院,118.98,25.45,20\n"
GOOD_PAT = "区县,人数\n城厢区,120\n"
TT = "demand_id,site_id,minutes\nd1,s1,5\nd1,s2,10\nd2,s1,8\nd2,s2,3\n"
D = "demand_id,weight\nd1,10\nd2,20\n"
C = "site_id\ns1\ns2\n"

Maker = Callable[[Path], bytes]
Content = str | bytes | Maker


@dataclass
class Case:
    """One malformed (or usable) input: files, the command line, and what must be said."""

    id: str
    argv: list[str]
    files: dict[str, Content] = field(default_factory=dict)
    code: int = 2
    says: tuple[str, ...] = ()  # words the message must contain (case-insensitive)
    warns: bool = False  # exit 0 with a warning


def solve(*extra: str) -> list[str]:
    return ["solve", *FAST, *extra]


# --------------------------------------------------------------------------- file makers
def xlsx(rows: list[list[object]], *, sheets: int = 1, empty_first: bool = False) -> Maker:
    def make(_tmp: Path) -> bytes:
        wb = openpyxl.Workbook()
        ws = wb.active
        if not empty_first:
            for r in rows:
                ws.append(r)
        for i in range(1, sheets):
            extra = wb.create_sheet(f"第{i + 1}页")
            if empty_first:
                for r in rows:
                    extra.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    return make


def xlsx_formula(_tmp: Path) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "经度", "纬度", "容量"])
    ws.append(["甲", 119.0071, 25.4316, "=10*3"])  # no cached value: never opened in Excel
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def geo(features: list[dict[str, object]], crs: str | None = None) -> bytes:
    data: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def point(lon: float, lat: float, **props: object) -> dict[str, object]:
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def layer_file(frames: dict[str, gpd.GeoDataFrame], driver: str, suffix: str) -> Maker:
    def make(tmp: Path) -> bytes:
        path = tmp / f"_build{suffix}"
        for name, frame in frames.items():
            frame.to_file(path, layer=name, driver=driver)
        return path.read_bytes()

    return make


def fac_frame(n: int = 2, **extra: object) -> gpd.GeoDataFrame:
    data = {"名称": [f"站{i}" for i in range(n)], "类型": ["乡镇卫生院"] * n}
    data.update({k: [v] * n for k, v in extra.items()})
    pts = [shapely.Point(119.0 + 0.01 * i, 25.43) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=pts, crs="EPSG:4326")


def weights(values: list[float], crs: str = "EPSG:4326") -> Maker:
    frame = gpd.GeoDataFrame(
        {"weight": values},
        geometry=[shapely.Point(119.0 + 0.01 * i, 25.43) for i in range(len(values))],
        crs=crs,
    )
    return layer_file({"w": frame}, "GPKG", ".gpkg")


def shapefile_zip(parts: tuple[str, ...] = (".shp", ".shx", ".dbf", ".prj", ".cpg")) -> Maker:
    def make(tmp: Path) -> bytes:
        folder = tmp / "_shp"
        folder.mkdir(exist_ok=True)
        fac_frame().to_file(folder / "fac.shp", encoding="utf-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for p in sorted(folder.iterdir()):
                if p.suffix in parts:
                    zf.write(p, p.name)
        return buf.getvalue()

    return make


def zip_of(members: dict[str, bytes]) -> Maker:
    def make(_tmp: Path) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return buf.getvalue()

    return make


def scenario(**changes: object) -> Maker:
    """A scenario.json of the fast base scenario with ``changes`` written over it."""

    def make(_tmp: Path) -> bytes:
        base = Scenario(
            region="莆田市",
            counties=("城厢区",),
            cell_size_m=5000,
            candidate_spacing_m=10000,
            n_facilities=1,
        ).to_dict()
        base.update(changes)
        return json.dumps(base, ensure_ascii=False).encode("utf-8")

    return make


def scenario_text(text: str, encoding: str = "utf-8") -> Maker:
    return lambda _tmp: text.encode(encoding)


def good_scenario_as(encoding: str) -> Maker:
    def make(tmp: Path) -> bytes:
        return scenario()(tmp).decode("utf-8").encode(encoding)

    return make


def big(size: int) -> Maker:
    return lambda _tmp: b"a" * size


# --------------------------------------------------------------------------- the cases
CASES: list[Case] = []


def add(*cases: Case) -> None:
    CASES.extend(cases)


# facility tables: CSV ------------------------------------------------------------------
F = "f.csv"
fac = ["--facilities", "{tmp}/f.csv"]
add(
    Case("fac-empty-file", solve(*fac), {F: b""}, says=("f.csv", "empty")),
    Case("fac-header-only", solve(*fac), {F: FAC_HEAD}, says=("f.csv", "header")),
    Case("fac-binary", solve(*fac), {F: bytes(range(256)) * 8}, says=("f.csv",)),
    Case("fac-nul-bytes", solve(*fac), {F: FAC_HEAD.encode() + b"\x00\x00"}, says=("f.csv",)),
    Case("fac-gbk", solve(*fac), {F: GOOD_FAC.encode("gbk")}, code=0),
    Case("fac-utf16", solve(*fac), {F: GOOD_FAC.encode("utf-16")}, code=0),
    Case("fac-utf8-bom", solve(*fac), {F: b"\xef\xbb\xbf" + GOOD_FAC.encode()}, code=0),
    Case("fac-tabs", solve(*fac), {F: GOOD_FAC.replace(",", "\t")}, code=0),
    Case("fac-semicolons", solve(*fac), {F: GOOD_FAC.replace(",", ";")}, code=0),
    Case("fac-title-row", solve(*fac), {F: "莆田市康复机构名单\n" + GOOD_FAC}, code=0),
    Case(
        "fac-lon-text",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,东经119,25.43,30\n"},
        says=("row 2", "经度"),
    ),
    Case(
        "fac-lat-95",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,119.0,95,30\n"},
        says=("row 2", "degrees"),
    ),
    Case(
        "fac-swapped",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,25.43,119.0,30\n"},
        code=0,
        warns=True,
        says=("swapped",),
    ),
    Case(
        "fac-outside-china",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,0,0,30\n"},
        says=("row 2",),
    ),
    Case(
        "fac-lon-inf",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,inf,25.43,30\n"},
        says=("row 2", "经度"),
    ),
    Case(
        "fac-lon-1e400",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,1e400,25.43,30\n"},
        says=("row 2", "经度"),
    ),
    Case(
        "fac-lon-nan",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,NaN,25.43,30\n"},
        says=("row 2",),
    ),
    Case(
        "fac-lon-empty",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,,25.43,30\n"},
        says=("row 2",),
    ),
    Case("fac-no-lon-column", solve(*fac), {F: "名称,纬度\n甲,25.43\n"}, says=("f.csv",)),
    Case(
        "fac-header-twice",
        solve(*fac),
        {F: "名称,经度,经度,纬度\n甲,119,119,25.43\n"},
        says=("f.csv", "经度"),
    ),
    Case(
        "fac-capacity-negative",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,119.0071,25.4316,-3\n"},
        says=("row 2", "容量", "negative"),
    ),
    Case(
        "fac-capacity-1e19",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,119.0071,25.4316,1e19\n"},
        says=("row 2", "容量", "more than"),
    ),
    Case(
        "fac-capacity-inf",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,119.0071,25.4316,inf\n"},
        says=("row 2", "容量"),
    ),
    Case(
        "fac-capacity-text",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,119.0071,25.4316,二十\n"},
        says=("row 2", "容量"),
    ),
    Case(
        "fac-huge-cell",
        solve(*fac),
        {F: FAC_HEAD + "甲" * 100_000 + ",现有康复站,119.0071,25.4316,30\n"},
        code=0,
    ),
    Case(
        "fac-formula-name",
        solve(*fac),
        {F: FAC_HEAD + "=HYPERLINK(1),现有康复站,119.0071,25.4316,30\n"},
        code=0,
    ),
    Case(
        "fac-same-row-twice",
        solve(*fac),
        {F: FAC_HEAD + FAC_ROW + FAC_ROW},
        says=("row 3",),
    ),
    Case(
        "fac-cells-beyond-header",
        solve(*fac),
        {F: FAC_HEAD + "甲,现有康复站,119.0071,25.4316,30,多余\n"},
        says=("f.csv",),
    ),
    Case(
        "fac-outside-region",
        solve(*fac),
        {F: FAC_HEAD + FAC_ROW + "北京站,现有康复站,116.40,39.90,10\n"},
        code=0,
        warns=True,
    ),
    Case(
        "fac-all-outside-region",
        solve(*fac, "--candidate-source", "facilities"),
        {F: FAC_HEAD + "北京站,现有康复站,116.40,39.90,10\n"},
        says=("f.csv",),
    ),
    Case("fac-missing-file", solve("--facilities", "{tmp}/nope.csv"), says=("nope.csv",)),
    Case("fac-is-folder", solve("--facilities", "{tmp}"), says=("tmp",)),
    Case("fac-too-large", solve(*fac), {F: big(51 * 1024 * 1024)}, says=("f.csv", "MB")),
    Case("fac-coords-unknown", solve(*fac, "--coords", "mars"), {F: GOOD_FAC}, says=("mars",)),
    Case("fac-coords-gcj02", solve(*fac, "--coords", "gcj02"), {F: GOOD_FAC}, code=0),
    Case("fac-coords-bd09", solve(*fac, "--coords", "bd09"), {F: GOOD_FAC}, code=0),
    Case("fac-unknown-type", solve(*fac), {F: GOOD_FAC.replace("乡镇卫生院", "神秘")}, code=0),
    Case(
        "fac-only-candidates-none",
        solve("--candidate-source", "facilities"),
        says=("facilit",),
    ),
)
# facility tables: XLSX, GeoJSON, GeoPackage, zipped shapefile ---------------------------
X = ["名称", "类型", "经度", "纬度", "容量"]
add(
    Case(
        "xlsx-good",
        solve("--facilities", "{tmp}/f.xlsx"),
        {"f.xlsx": xlsx([X, ["甲", "现有康复站", 119.0071, 25.4316, 30]])},
        code=0,
    ),
    Case(
        "xlsx-two-sheets",
        solve("--facilities", "{tmp}/f.xlsx"),
        {"f.xlsx": xlsx([X, ["甲", "现有康复站", 119.0071, 25.4316, 30]], sheets=2)},
        code=0,
        warns=True,
        says=("only the first sheet",),
    ),
    Case(
        "xlsx-first-sheet-empty",
        solve("--facilities", "{tmp}/f.xlsx"),
        {"f.xlsx": xlsx([X, ["甲", "现有康复站", 119.0, 25.43, 30]], sheets=2, empty_first=True)},
        says=("f.xlsx", "sheet"),
    ),
    Case(
        "xlsx-formula-unsaved",
        solve("--facilities", "{tmp}/f.xlsx"),
        {"f.xlsx": xlsx_formula},
        says=("f.xlsx", "D2"),
    ),
    Case(
        "xlsx-corrupt",
        solve("--facilities", "{tmp}/f.xlsx"),
        {"f.xlsx": b"PK\x03\x04" + b"\x00" * 200},
        says=("f.xlsx",),
    ),
    Case(
        "xlsx-is-xls",
        solve("--facilities", "{tmp}/f.xls"),
        {"f.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600},
        says=("f.xls", "xlsx"),
    ),
    Case(
        "xlsx-text-numbers",
        solve("--facilities", "{tmp}/f.xlsx"),
        {"f.xlsx": xlsx([X, ["甲", "现有康复站", "119.0071", "25.4316", "30"]])},
        code=0,
    ),
    Case(
        "xlsx-dates-as-coords",
        solve("--facilities", "{tmp}/f.xlsx"),
        {"f.xlsx": xlsx([X, ["甲", "现有康复站", "2024-01-01", 25.43, 30]])},
        says=("row 2",),
    ),
    Case(
        "geojson-good",
        solve("--facilities", "{tmp}/f.geojson"),
        {"f.geojson": geo([point(119.0071, 25.4316, 名称="甲", 类型="现有康复站")])},
        code=0,
    ),
    Case(
        "geojson-not-json",
        solve("--facilities", "{tmp}/f.geojson"),
        {"f.geojson": b'{"type": "FeatureCollection", "features": [}'},
        says=("f.geojson",),
    ),
    Case(
        "geojson-no-features",
        solve("--facilities", "{tmp}/f.geojson"),
        {"f.geojson": geo([])},
        says=("f.geojson",),
    ),
    Case(
        "geojson-polygons",
        solve("--facilities", "{tmp}/f.geojson"),
        {
            "f.geojson": geo(
                [
                    {
                        "type": "Feature",
                        "properties": {"名称": "甲"},
                        "geometry": shapely.geometry.mapping(
                            shapely.box(119.0, 25.43, 119.01, 25.44)
                        ),
                    }
                ]
            )
        },
        code=0,
        warns=True,
    ),
    Case(
        "geojson-null-geometry",
        solve("--facilities", "{tmp}/f.geojson"),
        {"f.geojson": geo([{"type": "Feature", "properties": {"名称": "甲"}, "geometry": None}])},
        says=("f.geojson",),
    ),
    Case(
        "geojson-web-mercator",
        solve("--facilities", "{tmp}/f.geojson"),
        {"f.geojson": geo([point(13247000.0, 2929000.0, 名称="甲")], "EPSG:3857")},
        says=("f.geojson",),
    ),
    Case(
        "geojson-array",
        solve("--facilities", "{tmp}/f.geojson"),
        {"f.geojson": b"[1, 2, 3]"},
        says=("f.geojson",),
    ),
    Case(
        "gpkg-garbage",
        solve("--facilities", "{tmp}/f.gpkg"),
        {"f.gpkg": b"SQLite format 3\x00" + b"\x01" * 500},
        says=("f.gpkg",),
    ),
    Case(
        "gpkg-good",
        solve("--facilities", "{tmp}/f.gpkg"),
        {"f.gpkg": layer_file({"sites": fac_frame()}, "GPKG", ".gpkg")},
        code=0,
    ),
    Case(
        "gpkg-two-layers",
        solve("--facilities", "{tmp}/f.gpkg"),
        {"f.gpkg": layer_file({"a": fac_frame(), "b": fac_frame(1)}, "GPKG", ".gpkg")},
        code=0,
        warns=True,
    ),
    Case(
        "gpkg-capacity-huge",
        solve("--facilities", "{tmp}/f.gpkg"),
        {"f.gpkg": layer_file({"a": fac_frame(容量=1e19)}, "GPKG", ".gpkg")},
        says=("f.gpkg", "容量"),
    ),
    Case(
        "zip-shapefile-good",
        solve("--facilities", "{tmp}/f.zip"),
        {"f.zip": shapefile_zip()},
        code=0,
    ),
    Case(
        "zip-shapefile-utf8-no-cpg",
        solve("--facilities", "{tmp}/f.zip"),
        {"f.zip": shapefile_zip((".shp", ".shx", ".dbf", ".prj"))},
        code=0,
    ),
    Case(
        "zip-shapefile-no-dbf",
        solve("--facilities", "{tmp}/f.zip"),
        {"f.zip": shapefile_zip((".shp", ".shx"))},
        says=("f.zip",),
    ),
    Case("zip-empty", solve("--facilities", "{tmp}/f.zip"), {"f.zip": zip_of({})}, says=("f.zip",)),
    Case(
        "zip-path-traversal",
        solve("--facilities", "{tmp}/f.zip"),
        {"f.zip": zip_of({"../evil.shp": b"x", "a.dbf": b"x"})},
        says=("f.zip",),
    ),
    Case(
        "zip-bomb",
        solve("--facilities", "{tmp}/f.zip"),
        {"f.zip": zip_of({"a.shp": b"\x00" * (40 * 1024 * 1024), "a.dbf": b"x", "a.shx": b"x"})},
        says=("f.zip",),
    ),
    Case(
        "zip-only-csv-inside",
        solve("--facilities", "{tmp}/f.zip"),
        {"f.zip": zip_of({"f.csv": GOOD_FAC.encode()})},
        code=0,
    ),
    Case(
        "zip-not-a-zip",
        solve("--facilities", "{tmp}/f.zip"),
        {"f.zip": b"PK\x05\x06corrupt"},
        says=("f.zip",),
    ),
)
# patient tables ---------------------------------------------------------------------------
P = "p.csv"
pat = ["--patients", "{tmp}/p.csv"]
add(
    Case("pat-good-county", solve(*pat), {P: GOOD_PAT}, code=0),
    Case("pat-good-adcode", solve(*pat), {P: "区县,人数\n350302,120\n"}, code=0),
    Case("pat-gbk", solve(*pat), {P: GOOD_PAT.encode("gbk")}, code=0),
    Case(
        "pat-person-level",
        solve(*pat),
        {P: "姓名,区县,人数\n张三,城厢区,1\n"},
        says=("p.csv", "姓名"),
    ),
    Case(
        "pat-id-numbers",
        solve(*pat),
        {P: "编号,区县,人数\n350302198001011234,城厢区,1\n"},
        says=("p.csv",),
    ),
    Case(
        "pat-all-ones-places",
        solve(*pat),
        {P: "经度,纬度,人数\n119.00,25.43,1\n119.01,25.44,1\n"},
        says=("p.csv",),
    ),
    Case("pat-negative", solve(*pat), {P: "区县,人数\n城厢区,-5\n"}, says=("row 2", "人数")),
    Case("pat-1e19", solve(*pat), {P: "区县,人数\n城厢区,1e19\n"}, says=("row 2", "more than")),
    Case(
        "pat-1e19-out",
        solve(*pat, "--out", "{tmp}/o"),
        {P: "区县,人数\n城厢区,1e19\n"},
        says=("row 2",),
    ),
    Case("pat-inf", solve(*pat), {P: "区县,人数\n城厢区,inf\n"}, says=("row 2", "人数")),
    Case("pat-text", solve(*pat), {P: "区县,人数\n城厢区,很多\n"}, says=("row 2", "人数")),
    Case("pat-no-count", solve(*pat), {P: "区县,备注\n城厢区,无\n"}, says=("p.csv",)),
    Case(
        "pat-unknown-county",
        solve(*pat),
        {P: "区县,人数\n火星区,10\n"},
        says=("p.csv",),
    ),
    Case(
        "pat-county-twice",
        solve(*pat),
        {P: "区县,人数\n城厢区,10\n城厢区,20\n"},
        code=0,
        warns=True,
    ),
    Case(
        "pat-places-good",
        solve(*pat),
        {P: "经度,纬度,人数\n119.00,25.43,12\n119.01,25.44,3\n"},
        code=0,
    ),
    Case(
        "pat-place-outside",
        solve(*pat),
        {P: "经度,纬度,人数\n119.00,25.43,12\n116.40,39.90,3\n"},
        code=0,
        warns=True,
    ),
    Case("pat-empty", solve(*pat), {P: b""}, says=("p.csv",)),
    Case("pat-decimal", solve(*pat), {P: "区县,人数\n城厢区,12.5\n"}, code=0),
    Case("pat-at-the-limit", solve(*pat), {P: "区县,人数\n城厢区,1000000\n"}, code=0),
    Case(
        "pat-xlsx",
        solve("--patients", "{tmp}/p.xlsx"),
        {"p.xlsx": xlsx([["区县", "人数"], ["城厢区", 120]])},
        code=0,
    ),
    Case(
        "pat-geojson",
        solve("--patients", "{tmp}/p.geojson"),
        {"p.geojson": geo([point(119.0, 25.43, 人数=12), point(119.01, 25.44, 人数=3)])},
        code=0,
    ),
    Case(
        "pat-no-location",
        solve(*pat),
        {P: "人数\n12\n"},
        says=("p.csv",),
    ),
    Case("pat-missing-file", solve("--patients", "{tmp}/nope.csv"), says=("nope.csv",)),
)
# scenario.json ----------------------------------------------------------------------------
S = "s.json"
scen = ["--scenario", "{tmp}/s.json"]


def scen_case(name: str, content: Content, code: int = 2, *says: str, warns: bool = False) -> Case:
    return Case(f"scenario-{name}", ["solve", *scen], {S: content}, code, says, warns)


add(
    scen_case("good", scenario(), 0),
    scen_case("gbk", good_scenario_as("gbk"), 0, "not UTF-8", warns=True),
    scen_case(
        "gbk-chinese-name",
        lambda t: scenario(name="城厢区方案甲")(t).decode("utf-8").encode("gbk"),
        0,
        warns=True,
    ),
    scen_case("utf16", good_scenario_as("utf-16"), 0),
    scen_case("utf8-bom", lambda t: b"\xef\xbb\xbf" + scenario()(t), 0),
    scen_case("binary", bytes(range(256)) * 4, 2, "s.json", "UTF-8"),
    scen_case("empty", b"", 2, "not valid JSON"),
    scen_case("not-json", scenario_text("{name: 1"), 2, "not valid JSON"),
    scen_case("array", scenario_text("[1, 2]"), 2, "JSON object"),
    scen_case("unknown-option", scenario(colour="red"), 2, "colour"),
    scen_case("newer-version", scenario(format_version=9, new_option=1), 2, "newer release"),
    scen_case("version-0", scenario(format_version=0), 2, "format_version"),
    scen_case("version-text", scenario(format_version="x"), 2, "format_version"),
    scen_case("infinity-token", scenario_text('{"max_travel_min": Infinity}'), 2, "Infinity"),
    scen_case("nan-token", scenario_text('{"mip_gap": NaN}'), 2, "NaN"),
    scen_case("1e999", scenario_text('{"max_travel_min": 1e999}'), 2, "max_travel_min", "finite"),
    scen_case("minutes-negative", scenario(max_travel_min=-5), 2, "max_travel_min"),
    scen_case("sites-0", scenario(n_facilities=0), 2, "n_facilities"),
    scen_case("model-unknown", scenario(model="xyz"), 2, "model"),
    scen_case("region-unknown", scenario(region="火星市", counties=None), 2, "火星市"),
    scen_case("county-unknown", scenario(counties=["火星区"]), 2, "火星区"),
    scen_case("prevalence-1000", scenario(prevalence_per_mille=1000), 2, "prevalence"),
    scen_case("privacy-negative", scenario(privacy_threshold=-1), 2, "privacy_threshold"),
    scen_case("detour-10", scenario(travel={"detour_factor": 10}), 2, "detour"),
    scen_case(
        "road-speed-key", scenario(travel={"road_speeds_kmh": {"motorwy": 90}}), 2, "motorwy"
    ),
    scen_case(
        "phases-decreasing",
        scenario(rollout={"phases": [{"year": 2025}, {"year": 2023}]}),
        2,
        "year",
    ),
    scen_case(
        "type-cost-negative",
        scenario(candidate_types=[{"name": "x", "opening_cost": -1}]),
        2,
        "opening_cost",
    ),
    scen_case("time-limit-0", scenario(time_limit_s=0), 2, "time_limit_s"),
    scen_case("mip-gap-1", scenario(mip_gap=1), 2, "mip_gap"),
    scen_case("cell-10m", scenario(cell_size_m=10), 2, "cell_size_m"),
    scen_case("nested-deep", scenario_text("[" * 100_000), 2, "not valid JSON"),
    scen_case("too-large", big(2 * 1024 * 1024), 2, "MiB"),
    scen_case("name-control-chars", scenario(name="方案\u0000\u0007甲"), 0),
    scen_case("facilities-missing", scenario(facilities_file="/no/such/f.csv"), 2, "f.csv"),
    scen_case("patients-missing", scenario(patients_file="/no/such/p.csv"), 2, "p.csv"),
    scen_case("weight-layer-csv", scenario(weight_layer="{tmp}/w.csv"), 2, "spatial"),
    scen_case("weight-layer-missing", scenario(weight_layer="/no/such/w.gpkg"), 2, "w.gpkg"),
    Case("scenario-is-folder", ["solve", "--scenario", "{tmp}"], says=("scenario",)),
    Case("scenario-missing", ["solve", "--scenario", "{tmp}/nope.json"], says=("nope.json",)),
)
W = {"w.csv": "weight,lon,lat\n1,119,25.43\n"}
for case in CASES:
    if case.id == "scenario-weight-layer-csv":
        case.files.update(W)
wl = ["--scenario", "{tmp}/s.json"]
add(
    Case(
        "weights-good",
        ["solve", *wl],
        {S: scenario(weight_layer="{tmp}/w.gpkg"), "w.gpkg": weights([5.0, 10.0])},
        code=0,
    ),
    Case(
        "weights-inf",
        ["solve", *wl],
        {S: scenario(weight_layer="{tmp}/w.gpkg"), "w.gpkg": weights([5.0, float("inf")])},
        says=("weight",),
    ),
    Case(
        "weights-1e308",
        ["solve", *wl],
        {S: scenario(weight_layer="{tmp}/w.gpkg"), "w.gpkg": weights([5.0, 1e308])},
        says=("weight", "above"),
    ),
    Case(
        "weights-negative",
        ["solve", *wl],
        {S: scenario(weight_layer="{tmp}/w.gpkg"), "w.gpkg": weights([5.0, -1.0])},
        says=("weight",),
    ),
    Case(
        "weights-no-column",
        ["solve", *wl],
        {
            S: scenario(weight_layer="{tmp}/w.gpkg"),
            "w.gpkg": layer_file({"w": fac_frame()}, "GPKG", ".gpkg"),
        },
        says=("weight",),
    ),
    Case(
        "weights-not-spatial-text",
        ["solve", *wl],
        {S: scenario(weight_layer="{tmp}/w.gpkg"), "w.gpkg": b"just some text"},
        says=("w.gpkg",),
    ),
    Case(
        "weights-zip-garbage",
        ["solve", *wl],
        {S: scenario(weight_layer="{tmp}/w.zip"), "w.zip": b"garbage"},
        says=("w.zip",),
    ),
    Case(
        "weights-outside",
        ["solve", *wl],
        {S: scenario(weight_layer="{tmp}/w.gpkg"), "w.gpkg": weights([5.0, 10.0], crs="EPSG:4326")},
        code=0,
    ),
)
# export and rollout of a scenario file ------------------------------------------------------
exp = ["export", "{tmp}/s.json", "--format", "csv", "--out", "{tmp}/kit"]
add(
    Case("export-good", exp, {S: scenario()}, code=0),
    Case("export-gbk", exp, {S: good_scenario_as("gbk")}, code=0, warns=True),
    Case("export-utf16", exp, {S: good_scenario_as("utf-16")}, code=0),
    Case("export-newer", exp, {S: scenario(format_version=2)}, says=("newer release",)),
    Case("export-dpi-0", [*exp, "--dpi", "0"], {S: scenario()}, says=("0 dpi", "30 to 600")),
    Case("export-dpi-100000", [*exp, "--dpi", "100000"], {S: scenario()}, says=("100000 dpi",)),
    Case("export-dpi-negative", [*exp, "--dpi", "-5"], {S: scenario()}, says=("-5 dpi",)),
    Case("export-dpi-text", [*exp, "--dpi", "high"], {S: scenario()}, says=("--dpi",)),
    Case("export-format-unknown", [*exp, "--format", "docx"], {S: scenario()}, says=("docx",)),
    Case("export-paper-unknown", [*exp, "--paper", "a5"], {S: scenario()}, says=("--paper",)),
    Case("export-missing", exp, says=("s.json",)),
    Case(
        "export-out-is-file",
        ["export", "{tmp}/s.json", "--format", "csv", "--out", "{tmp}/s.json"],
        {S: scenario()},
        says=("not a folder",),
    ),
    Case("export-binary", exp, {S: bytes(range(256))}, says=("s.json",)),
    Case(
        "export-png",
        ["export", "{tmp}/s.json", "--format", "png", "--dpi", "30", "--out", "{tmp}/kit"],
        {S: scenario()},
        code=0,
    ),
    Case(
        "rollout-good",
        ["rollout", "{tmp}/s.json", "--no-suggest", "--out", "{tmp}/r"],
        {S: scenario()},
        code=0,
    ),
    Case(
        "rollout-missing", ["rollout", "{tmp}/nope.json", "--out", "{tmp}/r"], says=("nope.json",)
    ),
    Case(
        "rollout-gbk",
        ["rollout", "{tmp}/s.json", "--no-suggest", "--out", "{tmp}/r"],
        {S: good_scenario_as("gbk")},
        code=0,
        warns=True,
    ),
    Case(
        "rollout-out-is-file",
        ["rollout", "{tmp}/s.json", "--out", "{tmp}/s.json"],
        {S: scenario()},
        says=("not a folder",),
    ),
    Case(
        "rollout-phases-bad",
        ["rollout", "{tmp}/s.json", "--out", "{tmp}/r"],
        {S: scenario(rollout={"phases": [{"year": 2023, "new_sites": -1}]})},
        says=("new_sites",),
    ),
)
# own travel tables ---------------------------------------------------------------------------
own = ["solve", "--travel-times", "{tmp}/tt.csv", "--demand", "{tmp}/d.csv"]
own += ["--candidates", "{tmp}/c.csv", "--model", "p-median", "--sites", "1"]
OWN = {"tt.csv": TT, "d.csv": D, "c.csv": C}


def own_case(
    name: str,
    code: int = 2,
    *says: str,
    warns: bool = False,
    argv: list[str] | None = None,
    **files: Content,
) -> Case:
    merged: dict[str, Content] = {**OWN, **{k.replace("_", "."): v for k, v in files.items()}}
    return Case(f"own-{name}", argv or own, merged, code, says, warns)


add(
    own_case("good", 0),
    own_case("json", 0, argv=[*own, "--json"]),
    own_case("lscp", 0, argv=[*own[:-4], "--model", "lscp", "--max-minutes", "10"]),
    own_case("tt-no-minutes", 2, "tt.csv", "minutes", tt_csv="demand_id,site_id,time\nd1,s1,5\n"),
    own_case("tt-inf", 2, "tt.csv", "row 6", "finite", tt_csv=TT + "d3,s1,inf\n"),
    own_case("tt-negative", 2, "tt.csv", "row 6", tt_csv=TT + "d3,s1,-1\n"),
    own_case("tt-text", 2, "tt.csv", "row 6", "not a number", tt_csv=TT + "d3,s1,abc\n"),
    own_case("tt-too-large", 2, "tt.csv", "row 6", "more than", tt_csv=TT + "d3,s1,1e9\n"),
    own_case("tt-1e400", 2, "tt.csv", "row 6", tt_csv=TT + "d3,s1,1e400\n"),
    own_case("tt-nan", 2, "tt.csv", "row 6", tt_csv=TT + "d3,s1,nan\n"),
    own_case("tt-empty-minutes", 2, "tt.csv", "row 6", tt_csv=TT + "d3,s1,\n"),
    own_case("tt-pair-twice", 2, "tt.csv", "more than once", tt_csv=TT + "d1,s1,7\n"),
    own_case("tt-unknown-demand", 2, "d.csv", tt_csv=TT + "d9,s1,7\n"),
    own_case("tt-unknown-site", 2, "c.csv", tt_csv=TT + "d1,s9,7\n"),
    own_case("tt-empty", 2, "tt.csv", tt_csv=b""),
    own_case("tt-gbk", 0, tt_csv=TT.encode("gbk")),
    own_case(
        "tt-xlsx",
        0,
        argv=["solve", "--travel-times", "{tmp}/tt.xlsx", *own[3:]],
        tt_xlsx=xlsx(
            [["demand_id", "site_id", "minutes"], ["d1", "s1", 5], ["d1", "s2", 9], ["d2", "s2", 3]]
        ),
    ),
    own_case("tt-id-empty", 2, "tt.csv", "empty id", tt_csv=TT + ",s1,4\n"),
    own_case("d-inf", 2, "d.csv", "weight", d_csv="demand_id,weight\nd1,10\nd2,inf\n"),
    own_case(
        "d-1e308", 2, "d.csv", "weight", "more than", d_csv="demand_id,weight\nd1,10\nd2,1e308\n"
    ),
    own_case("d-negative", 2, "d.csv", "weight", d_csv="demand_id,weight\nd1,10\nd2,-3\n"),
    own_case("d-duplicate", 2, "d.csv", "duplicate", d_csv="demand_id,weight\nd1,10\nd1,20\n"),
    own_case("d-no-weight", 2, "d.csv", "weight", d_csv="demand_id,w\nd1,10\n"),
    own_case(
        "d-urban-maybe",
        2,
        "d.csv",
        "urban",
        d_csv="demand_id,weight,urban\nd1,10,maybe\nd2,20,yes\n",
    ),
    own_case(
        "d-1e9-p-center",
        0,
        argv=[*own[:-4], "--model", "p-center", "--sites", "1"],
        d_csv="demand_id,weight\nd1,1e9\nd2,20\n",
    ),
    own_case(  # issue #19: an AssertionError in the engine with p-center
        "d-inf-p-center",
        2,
        "d.csv",
        "weight",
        argv=[*own[:-4], "--model", "p-center", "--sites", "1"],
        d_csv="demand_id,weight\nd1,10\nd2,inf\n",
    ),
    own_case(
        "d-1e308-p-center",
        2,
        "d.csv",
        "weight",
        "more than",
        argv=[*own[:-4], "--model", "p-center", "--sites", "1"],
        d_csv="demand_id,weight\nd1,10\nd2,1e308\n",
    ),
    own_case(  # the largest weight allowed is solved, by each model
        "d-at-the-limit",
        0,
        d_csv="demand_id,weight\nd1,1000000000\nd2,1000000000\n",
    ),
    own_case(
        "d-at-the-limit-p-center",
        0,
        argv=[*own[:-4], "--model", "p-center", "--sites", "1"],
        d_csv="demand_id,weight\nd1,1000000000\nd2,1\n",
    ),
    own_case(
        "d-at-the-limit-mclp",
        0,
        argv=[*own[:-4], "--model", "mclp", "--sites", "1", "--max-minutes", "6"],
        d_csv="demand_id,weight\nd1,1000000000\nd2,1000000000\n",
    ),
    own_case("c-capacity-0", 2, "c.csv", "capacity", c_csv="site_id,capacity\ns1,0\ns2,5\n"),
    own_case("c-capacity-inf", 2, "c.csv", "capacity", c_csv="site_id,capacity\ns1,inf\ns2,5\n"),
    own_case("c-cost-negative", 2, "c.csv", "cost", c_csv="site_id,cost\ns1,-5\ns2,5\n"),
    own_case("c-fixed-maybe", 2, "c.csv", "fixed", c_csv="site_id,fixed\ns1,maybe\ns2,no\n"),
    own_case("c-duplicate", 2, "c.csv", "duplicate", c_csv="site_id\ns1\ns1\ns2\n"),
    own_case(
        "c-capacity-unused", 0, "capacity", warns=True, c_csv="site_id,capacity\ns1,100\ns2,100\n"
    ),
    own_case("capacity-column-missing", 2, "cap", argv=[*own, "--capacity-column", "cap"]),
    own_case(
        "capacity-column-good",
        0,
        argv=[*own, "--capacity-column", "cap"],
        c_csv="site_id,cap\ns1,100\ns2,100\n",
    ),
    own_case("out-existing-file", 2, "not a folder", argv=[*own, "--out", "{tmp}/tt.csv"]),
    own_case("out-good", 0, argv=[*own, "--out", "{tmp}/o"]),
    own_case("no-demand", 2, "--demand", argv=["solve", "--travel-times", "{tmp}/tt.csv"]),
    own_case("unreachable", 2, "d3", d_csv=D + "d3,5\n"),
    own_case("sites-too-many", 2, "sites", argv=[*own[:-1], "5"]),
)
# OSM file -------------------------------------------------------------------------------------
osm = ["--travel", "network", "--osm-file"]
add(
    Case("osm-missing", solve(*osm, "{tmp}/nope.osm.pbf"), says=("nope.osm.pbf",)),
    Case(
        "osm-garbage-pbf",
        solve(*osm, "{tmp}/x.osm.pbf"),
        {"x.osm.pbf": b"\x00garbage" * 100},
        says=("x.osm.pbf", "valid .osm.pbf"),
    ),
    Case(
        "osm-empty-xml",
        solve(*osm, "{tmp}/x.osm"),
        {"x.osm": "<osm version='0.6'></osm>"},
        says=("x.osm", "OSM XML"),
    ),
    Case("osm-text", solve(*osm, "{tmp}/x.osm"), {"x.osm": "not xml"}, says=("x.osm", "OSM XML")),
    Case("osm-folder", solve(*osm, "{tmp}"), says=("OSM file",)),
    Case("osm-xlsx", solve(*osm, "{tmp}/x.xlsx"), {"x.xlsx": b"PK\x03\x04"}, says=("x.xlsx",)),
)
# options ---------------------------------------------------------------------------------------
bad_number = [
    ("--max-minutes", "inf", "finite"),
    ("--max-minutes", "nan", "--max-minutes"),
    ("--max-minutes", "-1", "greater than 0"),
    ("--max-minutes", "1e309", "--max-minutes"),
    ("--max-minutes", "abc", "--max-minutes"),
    ("--sites", "0", "--sites"),
    ("--sites", "-1", "--sites"),
    ("--sites", "100000", "candidate"),
    ("--sites", "2.5", "--sites"),
    ("--time-limit", "0", "--time-limit"),
    ("--time-limit", "inf", "--time-limit"),
    ("--mip-gap", "1.5", "--mip-gap"),
    ("--mip-gap", "nan", "--mip-gap"),
    ("--prevalence", "0", "--prevalence"),
    ("--prevalence", "1e6", "--prevalence"),
    ("--in-scope-share", "2", "--in-scope-share"),
    ("--cell-size", "1", "--cell-size"),
    ("--cell-size", "inf", "--cell-size"),
    ("--candidate-spacing", "0", "--candidate-spacing"),
    ("--privacy-threshold", "-1", "--privacy-threshold"),
    ("--privacy-threshold", "five", "--privacy-threshold"),
]
for flag, value, word in bad_number:
    add(Case(f"option{flag}={value}", solve(flag, value), says=(word,)))
add(
    Case("option-region-unknown", ["solve", "--region", "火星市"], says=("火星市",)),
    Case(
        "option-counties-unknown",
        ["solve", "--region", "莆田市", "--counties", "火星区"],
        says=("火星区",),
    ),
    Case("option-model-unknown", solve("--model", "xyz"), says=("--model",)),
    Case("option-solver-unknown", solve("--solver", "gurobi"), says=("--solver",)),
    Case(
        "option-out-is-file", solve("--out", "{tmp}/f.csv"), {F: GOOD_FAC}, says=("not a folder",)
    ),
    Case("option-lang-unknown", ["--lang", "fr", "solve"], says=("--lang",)),
    Case("option-no-command", [], says=("command",)),
    Case("option-unknown-command", ["optimise"], says=("optimise",)),
    Case("option-unknown-flag", solve("--colour", "red"), says=("--colour",)),
    Case("option-long-name", solve("--name", "方" * 5000), code=0),
    Case("option-empty-name", solve("--name", ""), code=0),
    Case("option-time-limit-tiny", solve("--time-limit", "1e-9"), code=0),
    Case("option-privacy-threshold-huge", solve("--privacy-threshold", str(10**12)), code=0),
    Case("option-lscp-sites", solve("--model", "lscp"), warns=True, says=("cannot cover",)),
    Case("option-lscp-60", solve("--model", "lscp", "--max-minutes", "60"), code=0, warns=True),
)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_gets_a_message_not_a_traceback(case: Case, tmp_path: Path) -> None:
    for name, content in case.files.items():
        data = content(tmp_path) if callable(content) else content
        if isinstance(data, str):
            data = data.replace("{tmp}", str(tmp_path)).encode("utf-8")
        else:
            data = data.replace(b"{tmp}", str(tmp_path).encode())
        (tmp_path / name).write_bytes(data)
    argv = ["--lang", "en", *(a.replace("{tmp}", str(tmp_path)) for a in case.argv)]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own usage errors
            code = int(exit_.code or 0)
    stderr = err.getvalue()
    assert "Traceback" not in stderr, stderr
    assert code == case.code, f"exit {code}, stderr: {stderr}"
    said = stderr.lower()
    for word in case.says:
        assert word.lower() in said, f"{word!r} not in: {stderr}"
    if case.code == 2:
        assert stderr.strip(), "exit 2 without a message"
    if case.warns:
        assert "warning" in said, stderr


SUBPROCESS = [
    "scenario-gbk",
    "export-dpi-0",
    "own-tt-inf",
    "pat-1e19-out",
    "weights-not-spatial-text",
    "own-out-existing-file",
]


@pytest.mark.parametrize("case_id", SUBPROCESS)
def test_no_traceback_reaches_stderr_of_a_real_process(case_id: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == case_id)
    for name, content in case.files.items():
        data = content(tmp_path) if callable(content) else content
        if isinstance(data, str):
            data = data.replace("{tmp}", str(tmp_path)).encode("utf-8")
        (tmp_path / name).write_bytes(data)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in case.argv]
    env = {**os.environ, "KANGLE_LANG": "en"}
    res = subprocess.run(
        [sys.executable, "-m", "planning", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == case.code, res.stderr
    for word in case.says:
        assert word.lower() in res.stderr.lower(), res.stderr


def test_the_suite_is_large_enough() -> None:
    assert len(CASES) >= 150
    kinds = {c.id.split("-")[0] for c in CASES}
    assert {"fac", "xlsx", "geojson", "gpkg", "zip", "pat", "scenario", "weights"} <= kinds
    assert {"export", "rollout", "own", "osm"} <= kinds


_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, 1e9, 1e9 + 1, 1e12, 1e19, 1e308, -0.0, 5e-324]),
    st.integers(-5, 10**6),
)


def _cell(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    minutes=st.lists(_NUMBERS, min_size=1, max_size=6),
    weights=st.lists(_NUMBERS, min_size=1, max_size=3),
    capacities=st.one_of(st.none(), st.lists(_NUMBERS, min_size=2, max_size=2)),
    model=st.sampled_from(["p-median", "p-center", "mclp", "lscp"]),
    sites=st.integers(1, 2),
)
def test_fuzz_the_own_travel_table_solve_path(
    *,
    tmp_path_factory: pytest.TempPathFactory,
    minutes: list[float],
    weights: list[float],
    capacities: list[float] | None,
    model: str,
    sites: int,
) -> None:
    """Any numbers in the three tables, through the loaders and every model's solve."""
    tmp = tmp_path_factory.mktemp("fuzz")
    demand = [f"d{i}" for i in range(len(weights))]
    pairs = [(d, s) for d in demand for s in ("s1", "s2")][: len(minutes)]
    tt = "demand_id,site_id,minutes\n" + "".join(
        f"{d},{s},{_cell(m)}\n" for (d, s), m in zip(pairs, minutes, strict=False)
    )
    (tmp / "tt.csv").write_text(tt, encoding="utf-8")
    rows = "".join(f"{d},{_cell(w)}\n" for d, w in zip(demand, weights, strict=True))
    (tmp / "d.csv").write_text("demand_id,weight\n" + rows, encoding="utf-8")
    cand = "site_id\ns1\ns2\n"
    if capacities is not None:
        cand = "site_id,capacity\n" + "".join(
            f"{s},{_cell(c)}\n" for s, c in zip(("s1", "s2"), capacities, strict=True)
        )
    (tmp / "c.csv").write_text(cand, encoding="utf-8")
    argv = ["--lang", "en", "solve", "--travel-times", str(tmp / "tt.csv")]
    argv += ["--demand", str(tmp / "d.csv"), "--candidates", str(tmp / "c.csv")]
    argv += ["--model", model, "--sites", str(sites), "--max-minutes", "10", "--time-limit", "5"]
    if capacities is not None:
        argv += ["--capacity-column", "capacity"]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are printed by the CLI, not raised here
        code = main(argv)
    stderr = err.getvalue()
    assert "Traceback" not in stderr, stderr
    assert code in (0, 2), stderr
    if code == 2:
        assert stderr.strip(), "exit 2 without a message"
