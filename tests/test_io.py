"""Tests for planning.inputs: readers, validation, coordinate systems, privacy (issue #7).

Input files are generated in memory or in ``tmp_path``; nothing is downloaded.
"""

from __future__ import annotations

import csv
import io
import stat
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning import inputs as pio
from planning.errors import DataError, PlanningError
from planning.inputs import InputFileError, PatientCounts, PersonLevelDataError, coords
from planning.report import _shared as report_shared

HEADER = ["名称", "类型", "经度", "纬度", "容量", "地址", "区县"]
ROWS = [
    ["示例站A", "现有康复站", 119.0071, 25.4316, 30, "示例地址1", "城厢区"],
    ["示例中心B", "社区卫生服务中心", 119.0965, 25.4552, 20, "示例地址2", "涵江区"],
    ["示例中心C", "日间照料中心", 119.0228, 25.4401, None, "示例地址3", "城厢区"],
    ["示例医院D", "精神卫生中心", 119.0102, 25.4458, None, "", "城厢区"],
]
EXPECTED_TYPES = [
    "rehab_existing",
    "community_health_centre",
    "community_service_centre",
    "psychiatric_hospital",
]


# ------------------------------------------------------------------------------- helpers
def csv_bytes(
    rows: list[list[Any]],
    header: list[str] | None = None,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER if header is None else header)
    for r in rows:
        writer.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode(encoding)


def xlsx_bytes(
    rows: list[list[Any]], header: list[str] | None = None, title: str | None = None
) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(HEADER if header is None else header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def facilities_gdf(rows: list[list[Any]] = ROWS, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=HEADER)
    return gpd.GeoDataFrame(
        frame.drop(columns=["经度", "纬度"]),
        geometry=gpd.points_from_xy(frame["经度"], frame["纬度"]),
        crs="EPSG:4326",
    ).to_crs(crs)


def spatial_bytes(gdf: gpd.GeoDataFrame, driver: str, tmp_path: Path) -> bytes:
    suffix = {"GeoJSON": ".geojson", "GPKG": ".gpkg"}[driver]
    path = tmp_path / f"layer{suffix}"
    gdf.to_file(path, driver=driver)
    return path.read_bytes()


def shp_zip_bytes(gdf: gpd.GeoDataFrame, tmp_path: Path) -> bytes:
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    gdf.to_file(folder / "sites.shp", encoding="UTF-8")
    return zip_bytes({p.name: p.read_bytes() for p in sorted(folder.iterdir())})


def _region() -> gpd.GeoDataFrame:
    """Two square 'counties' around Putian (not real boundaries)."""
    return gpd.GeoDataFrame(
        {"name": ["城厢区", "涵江区"]},
        index=pd.Index(["350302", "350303"], name="county_id"),
        geometry=[shapely.box(118.9, 25.3, 119.05, 25.6), shapely.box(119.05, 25.3, 119.2, 25.6)],
        crs="EPSG:4326",
    )


REGION = _region()


@pytest.fixture
def region() -> gpd.GeoDataFrame:
    return _region()


def _load(kind: str, data: bytes, filename: str, **kwargs: Any) -> Any:
    if kind == "facilities":
        return pio.load_facilities(data, filename=filename, **kwargs)
    if kind == "patients":
        return pio.load_patient_counts(data, filename=filename, **kwargs)
    return pio.read_table(data, filename=filename, **kwargs)


# ------------------------------------------------------------------- malformed inputs table
@dataclass
class Bad:
    id: str
    make: Callable[[Path], bytes]
    fragment: str
    kind: str = "facilities"
    filename: str = "input.csv"
    error: type[Exception] = InputFileError
    kwargs: dict[str, Any] = field(default_factory=dict)


def _gpkg_3857(tmp: Path) -> bytes:
    return spatial_bytes(facilities_gdf(crs="EPSG:3857"), "GPKG", tmp)


def _geojson_null_geometry(_: Path) -> bytes:
    return (
        b'{"type":"FeatureCollection","features":['
        b'{"type":"Feature","properties":{"name":"A"},"geometry":null},'
        b'{"type":"Feature","properties":{"name":"B"},'
        b'"geometry":{"type":"Point","coordinates":[119.0,25.4]}}]}'
    )


def _two_shapefiles(tmp: Path) -> bytes:
    blob = zipfile.ZipFile(io.BytesIO(shp_zip_bytes(facilities_gdf(), tmp)))
    members = {n: blob.read(n) for n in blob.namelist()}
    members.update({n.replace("sites", "more"): b for n, b in list(members.items())})
    return zip_bytes(members)


def _shp_without_dbf(tmp: Path) -> bytes:
    blob = zipfile.ZipFile(io.BytesIO(shp_zip_bytes(facilities_gdf(), tmp)))
    return zip_bytes({n: blob.read(n) for n in blob.namelist() if not n.endswith(".dbf")})


def _bomb(_: Path) -> bytes:
    return zip_bytes({"big.csv": b"0" * 30_000_000})


def _formula(_: Path) -> bytes:
    return xlsx_bytes([["A", "现有康复站", "=118+1", 25.4, 1, "", ""]])


BAD: list[Bad] = [
    Bad("empty-file", lambda _: b"", "the file is empty"),
    Bad("blank-file", lambda _: b" \r\n\r\n ", "the file is empty"),
    Bad("header-only", lambda _: csv_bytes([]), "no data rows"),
    Bad(
        "utf16-without-bom",
        lambda _: csv_bytes(ROWS, encoding="utf-16-le"),
        "binary data, not text",
    ),
    Bad("binary-garbage", lambda _: b"\x00\x01\x02\xff" * 10, "binary data"),
    Bad(
        "missing-lon",
        lambda _: csv_bytes([r[:2] + r[3:] for r in ROWS], [h for h in HEADER if h != "经度"]),
        "no 经度/lon column found",
    ),
    Bad(
        "missing-name",
        lambda _: csv_bytes([r[1:] for r in ROWS], HEADER[1:]),
        "no 名称/name column found",
    ),
    Bad(
        "text-in-lon",
        lambda _: csv_bytes([["A", "", "abc", 25.4, 1, "", ""]]),
        "'abc' is not a number",
    ),
    Bad(
        "text-in-capacity",
        lambda _: csv_bytes([["A", "", 119.0, 25.4, "二十", "", ""]]),
        "'二十' is not a number: enter the number of places",
    ),
    Bad(
        "unit-in-capacity",
        lambda _: csv_bytes([["A", "", 119.0, 25.4, "20床", "", ""]]),
        "no units",
    ),
    Bad(
        "negative-capacity",
        lambda _: csv_bytes([["A", "", 119.0, 25.4, -3, "", ""]]),
        "capacity -3 is negative",
    ),
    Bad(
        "empty-coordinate",
        lambda _: csv_bytes([["A", "", "", 25.4, 1, "", ""]]),
        "the longitude is empty",
    ),
    Bad(
        "nan-coordinate",
        lambda _: csv_bytes([["A", "", 119.0, "NaN", 1, "", ""]]),
        "the latitude is empty",
    ),
    Bad(
        "inf-coordinate",
        lambda _: csv_bytes([["A", "", "inf", 25.4, 1, "", ""]]),
        "'inf' is not a number",
    ),
    Bad(
        "outside-china",
        lambda _: csv_bytes([["Paris", "", 2.35, 48.85, 1, "", ""]]),
        "is outside China",
    ),
    Bad(
        "row-swapped",
        lambda _: csv_bytes([ROWS[0], ["B", "", 25.45, 119.1, 1, "", ""]]),
        "row 3, column '经度': longitude and latitude look swapped",
    ),
    Bad(
        "metres-as-degrees",
        lambda _: csv_bytes([["A", "", 560000.0, 2810000.0, 1, "", ""]]),
        "look like metres of a projected coordinate system",
    ),
    Bad(
        "degrees-with-projected-crs",
        lambda _: csv_bytes(ROWS),
        "look like longitude/latitude degrees, but the coordinate system given is EPSG:4547",
        kwargs={"crs": "EPSG:4547"},
    ),
    Bad(
        "duplicate-ids",
        lambda _: csv_bytes(
            [["1", "A", 119.0, 25.4], ["1", "B", 119.1, 25.4]], ["编号", "名称", "经度", "纬度"]
        ),
        "row 3, column '编号': the id '1' is also used in row 2",
    ),
    Bad(
        "duplicate-rows", lambda _: csv_bytes([ROWS[0], ROWS[0]]), "same name and location as row 2"
    ),
    Bad("empty-name", lambda _: csv_bytes([["", "", 119.0, 25.4, 1, "", ""]]), "the name is empty"),
    Bad(
        "duplicate-header",
        lambda _: csv_bytes([["A", "B", 119.0, 25.4]], ["名称", "名称", "经度", "纬度"]),
        "the header '名称' appears twice (columns A and B)",
    ),
    Bad(
        "ragged-row",
        lambda _: b"name,lon,lat\r\nA,119.0,25.4,extra\r\n",
        "more cells than the header",
    ),
    Bad(
        "old-xls",
        lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
        "(.xls) are not read",
        filename="sites.xls",
    ),
    Bad(
        "lone-shp",
        lambda _: b"\x00\x00\x27\x0a" + b"\x00" * 96,
        "several files",
        filename="sites.shp",
    ),
    Bad(
        "unsupported-suffix",
        lambda _: b"<kml></kml>",
        "files ending in '.kml' are not read",
        filename="sites.kml",
    ),
    Bad(
        "csv-named-xlsx", lambda _: csv_bytes(ROWS), "not an .xlsx workbook", filename="sites.xlsx"
    ),
    Bad("text-named-gpkg", lambda _: b"hello", "not a GeoPackage", filename="sites.gpkg"),
    Bad("damaged-zip", lambda _: b"PK\x03\x04" + b"junk" * 20, "damaged", filename="s.zip"),
    Bad(
        "zip-traversal",
        lambda _: zip_bytes({"../../evil.csv": csv_bytes(ROWS)}),
        "unsafe path '../../evil.csv'",
        filename="s.zip",
    ),
    Bad(
        "zip-absolute",
        lambda _: zip_bytes({"/etc/cron.d/x.csv": csv_bytes(ROWS)}),
        "unsafe path",
        filename="s.zip",
    ),
    Bad(
        "zip-symlink",
        lambda _: zip_bytes({"a.csv": csv_bytes(ROWS)}, symlink="link.csv"),
        "symbolic link 'link.csv'",
        filename="s.zip",
    ),
    Bad("zip-bomb-ratio", _bomb, "looks like a zip bomb", filename="s.zip"),
    Bad(
        "zip-bomb-total",
        lambda _: zip_bytes({"a.csv": csv_bytes(ROWS * 500)}),
        "more than the 0 MB limit",
        filename="s.zip",
        kind="read",
        kwargs={"max_unzipped_bytes": 1000},
    ),
    Bad(
        "zip-too-many-members",
        lambda _: zip_bytes({f"f{i}.txt": b"x" for i in range(250)}),
        "250 members",
        filename="s.zip",
    ),
    Bad("zip-two-shapefiles", _two_shapefiles, "holds 2 shapefiles", filename="s.zip"),
    Bad("zip-shp-without-dbf", _shp_without_dbf, ".dbf missing from the zip", filename="s.zip"),
    Bad(
        "zip-nothing-readable",
        lambda _: zip_bytes({"readme.txt": b"hi", "b.doc": b"x"}),
        "must hold one shapefile",
        filename="s.zip",
    ),
    Bad(
        "zip-in-zip",
        lambda _: zip_bytes({"inner.zip": zip_bytes({"a.csv": b"a"})}),
        "must hold one shapefile",
        filename="s.zip",
    ),
    Bad(
        "too-large",
        lambda _: csv_bytes(ROWS * 20),
        "more than the 0 MB limit",
        kind="read",
        kwargs={"max_bytes": 500},
    ),
    Bad(
        "formula-without-value",
        _formula,
        "cell C2 holds a formula without a saved result",
        filename="s.xlsx",
    ),
    Bad("mixed-crs-gpkg", _gpkg_3857, "stores its coordinates in EPSG:3857", filename="s.gpkg"),
    Bad(
        "mixed-crs-explicit",
        _gpkg_3857,
        "the coordinate system given is EPSG:32650",
        filename="s.gpkg",
        kwargs={"crs": "EPSG:32650"},
    ),
    Bad(
        "bad-geojson",
        lambda _: b'{"type": "FeatureCollection", "features": [',
        "cannot read the file as a GeoJSON",
        filename="s.geojson",
    ),
    Bad(
        "null-geometry",
        _geojson_null_geometry,
        "feature 1: the feature has no geometry",
        filename="s.geojson",
    ),
    Bad(
        "unknown-crs",
        lambda _: csv_bytes(ROWS),
        "unknown coordinate system 'utm50'",
        kwargs={"crs": "utm50"},
    ),
    Bad(
        "unknown-epsg",
        lambda _: csv_bytes(ROWS),
        "EPSG:99999 is not a known",
        kwargs={"crs": "EPSG:99999"},
    ),
    Bad(
        "column-map-missing-header",
        lambda _: csv_bytes(ROWS),
        "no such column",
        kwargs={"column_map": {"lon": "X坐标"}},
    ),
    Bad(
        "column-map-bad-key",
        lambda _: csv_bytes(ROWS),
        "column_map key 'longitude'",
        kwargs={"column_map": {"longitude": "经度"}},
    ),
    Bad(
        "person-level-name",
        lambda _: csv_bytes([["张三", "城厢区", "男"]], ["姓名", "区县", "性别"]),
        "person-level list (column(s) '姓名')",
        kind="patients",
        error=PersonLevelDataError,
    ),
    Bad(
        "person-level-idcard-values",
        lambda _: csv_bytes([["350302", "35030219800101123X", 1]], ["区县", "备注", "人数"]),
        "column(s) '备注'",
        kind="patients",
        error=PersonLevelDataError,
    ),
    Bad(
        "person-level-no-count",
        lambda _: csv_bytes([["350302", "男", 40]] * 8, ["区县", "性别", "年龄"]),
        "person-level list",
        kind="patients",
        error=PersonLevelDataError,
    ),
    Bad(
        "person-level-geocoded-list",
        lambda _: csv_bytes(
            [[119.0 + i / 1000, 25.4, 1] for i in range(6)], ["经度", "纬度", "人数"]
        ),
        "every row of column '人数' is 1, i.e. one row per patient",
        kind="patients",
        error=PersonLevelDataError,
    ),
    Bad(
        "patients-no-count-column",
        lambda _: csv_bytes([["350302"]] * 8, ["区县"]),
        "no count column (人数/count) found",
        kind="patients",
        error=PersonLevelDataError,
    ),
    Bad(
        "patients-text-count",
        lambda _: csv_bytes([["350302", "很多"]], ["区县", "人数"]),
        "row 2, column '人数': the cell is not a number",
        kind="patients",
    ),
    Bad(
        "patients-negative-count",
        lambda _: csv_bytes([["350302", -4]], ["区县", "人数"]),
        "the count is negative",
        kind="patients",
    ),
    Bad(
        "patients-names-without-region",
        lambda _: csv_bytes([["城厢区", 40]], ["区县", "人数"]),
        "enter the 6-digit adcode",
        kind="patients",
    ),
    Bad(
        "patients-no-location",
        lambda _: csv_bytes([["x", 40]], ["备注", "人数"]),
        "no location",
        kind="patients",
    ),
]


def test_table_has_at_least_30_cases():
    assert len(BAD) >= 30
    assert len({b.id for b in BAD}) == len(BAD)


@pytest.mark.parametrize("case", BAD, ids=[b.id for b in BAD])
def test_malformed_input_is_refused_with_a_clear_message(case: Bad, tmp_path: Path):
    data = case.make(tmp_path)
    with pytest.raises(case.error) as info:
        _load(case.kind, data, case.filename, **case.kwargs)
    err = info.value
    assert isinstance(err, DataError)
    assert case.fragment in str(err), str(err)
    assert err.problems, "every error lists its problems for the app"
    assert all(p.file == case.filename for p in err.problems)
    assert "Traceback" not in str(err)


def test_nonexistent_path_names_the_file(tmp_path: Path):
    with pytest.raises(InputFileError, match="file not found") as info:
        pio.load_facilities(tmp_path / "missing.csv")
    assert info.value.problems[0].file == "missing.csv"
    with pytest.raises(InputFileError, match="is a folder"):
        pio.read_table(tmp_path)


def test_all_problems_of_a_file_are_reported_at_once():
    rows = [
        ["A", "", "abc", 25.4, 1, "", ""],  # row 2: text in number
        ["", "", 119.0, 25.4, 1, "", ""],  # row 3: empty name
        ["C", "", 119.0, 25.4, -1, "", ""],  # row 4: negative capacity
        ["D", "", 2.35, 48.85, 1, "", ""],  # row 5: outside China
    ]
    with pytest.raises(InputFileError) as info:
        pio.load_facilities(csv_bytes(rows), filename="sites.csv")
    problems = info.value.problems
    assert [(p.row, p.column) for p in problems] == [
        (2, "经度"),
        (5, "经度"),
        (3, "名称"),
        (4, "容量"),
    ] or sorted((p.row, p.column) for p in problems) == [
        (2, "经度"),
        (3, "名称"),
        (4, "容量"),
        (5, "经度"),
    ]
    text = str(info.value)
    assert text.startswith("sites.csv: 4 problems")
    for fragment in (
        "row 2, column '经度'",
        "row 3, column '名称'",
        "row 4, column '容量'",
        "row 5, column '经度'",
    ):
        assert fragment in text


def test_long_problem_lists_are_capped():
    rows = [[f"S{i}", "", "x", 25.4, 1, "", ""] for i in range(30)]
    with pytest.raises(InputFileError) as info:
        pio.load_facilities(csv_bytes(rows), filename="sites.csv")
    assert len(info.value.problems) == 30
    text = str(info.value)
    assert "... and 10 more" in text
    assert text.count("\n") == 21  # heading + 20 problems + "and N more"


# -------------------------------------------------------------------------- facilities
def test_load_facilities_shape_and_types(region):
    fac = pio.load_facilities(csv_bytes(ROWS), filename="sites.csv", region=region)
    assert fac.crs == "EPSG:4326"
    assert fac.index.name == "facility_id"
    assert list(fac.index) == ["F0001", "F0002", "F0003", "F0004"]
    assert list(fac["type"]) == EXPECTED_TYPES
    assert list(fac["type_original"]) == [r[1] for r in ROWS]
    assert fac["capacity"].tolist()[:2] == [30.0, 20.0]
    assert fac["capacity"].isna().tolist() == [False, False, True, True]
    assert list(fac["county"]) == ["350302", "350303", "350302", "350302"]
    assert list(fac["source_row"]) == [2, 3, 4, 5]
    assert fac.geometry.x.tolist() == [r[2] for r in ROWS]
    assert fac.geometry.y.tolist() == [r[3] for r in ROWS]


def test_template_file_loads():
    path = Path(__file__).resolve().parents[1] / "data" / "facilities_template.csv"
    fac = pio.load_facilities(path)
    assert len(fac) >= 5
    assert all(n.startswith("示例") for n in fac["name"])
    assert set(fac["type"]) >= {"rehab_existing", "psychiatric_hospital", "new_build"}


def test_facilities_outside_region_are_left_out_with_warning(region):
    rows = [*ROWS, ["远处站", "新建", 118.5, 25.0, 5, "", ""]]
    with pytest.warns(
        UserWarning,
        match=r"1 facility outside the planning region left out, "
        r"rows 6 \(远处站\)",
    ):
        fac = pio.load_facilities(csv_bytes(rows), filename="sites.csv", region=region)
    assert "远处站" not in set(fac["name"])
    assert len(fac) == 4


def test_point_just_outside_boundary_is_kept(region):
    rows = [["海边站", "新建", 119.2 + 0.005, 25.45, 5, "", ""]]  # ~500 m east of the box
    fac = pio.load_facilities(csv_bytes(rows), filename="sites.csv", region=region)
    assert list(fac["county"]) == ["350303"]


def test_no_facility_in_region_is_an_error(region):
    rows = [["远处站", "新建", 110.0, 30.0, 5, "", ""]]
    with pytest.raises(InputFileError, match="none of the 1 facilities lies in the planning"):
        pio.load_facilities(csv_bytes(rows), filename="sites.csv", region=region)


def test_swapped_columns_are_fixed_with_warning():
    rows = [[r[0], r[1], r[3], r[2], r[4], r[5], r[6]] for r in ROWS]
    with pytest.warns(UserWarning, match="look swapped"):
        fac = pio.load_facilities(csv_bytes(rows), filename="sites.csv")
    assert fac.geometry.x.tolist() == [r[2] for r in ROWS]


def test_id_column_is_used_and_kept_as_text():
    rows = [[1, "A", 119.0, 25.4, "新建"], [2.0, "B", 119.1, 25.4, "新建"]]
    fac = pio.load_facilities(
        xlsx_bytes(rows, ["编号", "名称", "经度", "纬度", "类型"]), filename="s.xlsx"
    )
    assert list(fac.index) == ["1", "2"]


def test_missing_type_column_warns_and_uses_other():
    with pytest.warns(UserWarning, match="no type column"):
        fac = pio.load_facilities(
            csv_bytes([["A", 119.0, 25.4]], ["名称", "经度", "纬度"]), filename="s.csv"
        )
    assert list(fac["type"]) == ["other"]


def test_header_naming_another_system_warns():
    header = ["名称", "经度（百度）", "纬度（百度）", "类型"]
    with pytest.warns(UserWarning, match="suggests BD09 coordinates"):
        pio.load_facilities(csv_bytes([["A", 119.0, 25.4, "新建"]], header), filename="s.csv")
    # No warning when the option agrees with the header.
    fac = pio.load_facilities(
        csv_bytes([["A", 119.0, 25.4, "新建"]], header), filename="s.csv", crs="baidu"
    )
    assert len(fac) == 1


def test_column_map_overrides_guess():
    header = ["站名", "甲", "乙", "类型"]
    fac = pio.load_facilities(
        csv_bytes([["A", 119.0, 25.4, "新建"]], header),
        filename="s.csv",
        column_map={"name": "站名", "lon": "甲", "lat": "乙"},
    )
    assert fac["name"].tolist() == ["A"]
    assert fac.geometry.x.tolist() == [119.0]


def test_dataframe_source_and_file_object(tmp_path: Path):
    frame = pio.read_table(csv_bytes(ROWS), filename="a.csv")
    fac = pio.load_facilities(frame)
    assert len(fac) == 4
    path = tmp_path / "sites.csv"
    path.write_bytes(csv_bytes(ROWS))
    with path.open("rb") as fh:
        fac2 = pio.load_facilities(fh)
    assert_geodataframe_equal(fac, fac2)
    plain = pd.DataFrame(ROWS, columns=HEADER)
    with pytest.raises(InputFileError, match="row 3"):
        pio.load_facilities(plain.assign(经度=[119.0, "x", 119.0, 119.0]))


def test_title_row_above_header_keeps_excel_row_numbers():
    data = xlsx_bytes([["A", "", "abc", 25.4, 1, "", ""]], title="莆田市康复机构名单")
    with pytest.raises(InputFileError, match=r"row 3, column '经度'"):
        pio.load_facilities(data, filename="s.xlsx")


def test_thousands_separator_full_width_digits_and_degree_sign():
    rows = [["A", "", "１１９.０", "25.4°", "1,200", "", ""]]
    fac = pio.load_facilities(csv_bytes(rows), filename="s.csv")
    assert fac.geometry.x.iloc[0] == 119.0
    assert fac.geometry.y.iloc[0] == 25.4
    assert fac["capacity"].iloc[0] == 1200.0


def test_csv_cells_that_look_like_formulas_are_plain_text():
    rows = [['=HYPERLINK("http://x")', "+cmd", 119.0, 25.4, 1, "@SUM(A1)", "-1"]]
    fac = pio.load_facilities(csv_bytes(rows), filename="s.csv")
    assert fac["name"].iloc[0] == '=HYPERLINK("http://x")'
    assert fac["address"].iloc[0] == "@SUM(A1)"
    assert fac["type"].iloc[0] == "other"


def test_escape_formulas_for_exports():
    frame = pd.DataFrame(
        {
            "name": ["=cmd|' /C calc'!A0", "+1", "-x", "@SUM(1)", "站A", None],
            "value": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    safe = report_shared.escape_formulas(frame)
    assert safe["name"].tolist()[:5] == ["'=cmd|' /C calc'!A0", "'+1", "'-x", "'@SUM(1)", "站A"]
    assert pd.isna(safe["name"].iloc[5])
    assert safe["value"].tolist() == frame["value"].tolist()
    assert frame["name"].iloc[0].startswith("=")  # input unchanged


def test_xlsx_formula_uses_saved_value():
    data = xlsx_bytes([["A", "现有康复站", "=118+1", 25.4, 1, "", ""]])
    # Put a saved result into the formula cell, as Excel does when it saves the workbook.
    src = zipfile.ZipFile(io.BytesIO(data))
    members = {n: src.read(n) for n in src.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    members[sheet] = members[sheet].replace(b"<f>118+1</f><v />", b"<f>118+1</f><v>119</v>")
    assert b"<v>119</v>" in members[sheet]
    fac = pio.load_facilities(zip_bytes(members), filename="s.xlsx")
    assert fac.geometry.x.iloc[0] == 119.0


# ----------------------------------------------------------------------- types & columns
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("康复站", "rehab_existing"),
        ("现有康复站", "rehab_existing"),
        ("Rehab", "rehab_existing"),
        ("康乐家园", "rehab_existing"),
        ("精神专科医院", "psychiatric_hospital"),
        ("市精神卫生中心", "psychiatric_hospital"),
        ("Psychiatric hospital", "psychiatric_hospital"),
        ("社区卫生服务中心", "community_health_centre"),
        ("乡镇卫生院", "community_health_centre"),
        ("卫生院", "community_health_centre"),
        ("社区综合服务中心", "community_service_centre"),
        ("民政服务站", "community_service_centre"),
        ("养老院", "community_service_centre"),
        ("日间照料中心", "community_service_centre"),
        ("新建", "new_build"),
        ("新建康复站", "new_build"),
        ("new_build", "new_build"),
        ("community_health_centre", "community_health_centre"),
        ("学校", "other"),
        ("", "other"),
        (None, "other"),
        (float("nan"), "other"),
    ],
)
def test_canonical_type(text, expected):
    assert pio.canonical_type(text) == expected


@pytest.mark.parametrize(
    ("headers", "kind", "expected"),
    [
        (
            ["名称", "类型", "经度", "纬度", "容量", "地址", "区县"],
            "facilities",
            {
                "name": "名称",
                "type": "类型",
                "lon": "经度",
                "lat": "纬度",
                "capacity": "容量",
                "address": "地址",
                "county": "区县",
                "id": None,
            },
        ),
        (
            ["Name", "Type", "Longitude", "Latitude", "Beds", "Address", "District", "ID"],
            "facilities",
            {
                "name": "Name",
                "type": "Type",
                "lon": "Longitude",
                "lat": "Latitude",
                "capacity": "Beds",
                "address": "Address",
                "county": "District",
                "id": "ID",
            },
        ),
        (
            ["机构名称", "经度(GCJ-02)", "纬度(GCJ-02)", "床位数（张）", "所属区县"],
            "facilities",
            {
                "name": "机构名称",
                "lon": "经度(GCJ-02)",
                "lat": "纬度(GCJ-02)",
                "capacity": "床位数（张）",
                "county": "所属区县",
                "type": None,
                "address": None,
                "id": None,
            },
        ),
        (
            ["x", "y", "name"],
            "facilities",
            {
                "lon": "x",
                "lat": "y",
                "name": "name",
                "type": None,
                "capacity": None,
                "address": None,
                "county": None,
                "id": None,
            },
        ),
        (
            ["区县名称", "在册患者人数"],
            "patients",
            {"county": "区县名称", "count": "在册患者人数", "lon": None, "lat": None},
        ),
        (
            ["adcode", "patients"],
            "patients",
            {"county": "adcode", "count": "patients", "lon": None, "lat": None},
        ),
        (
            ["lng", "lat", "n"],
            "patients",
            {"lon": "lng", "lat": "lat", "count": "n", "county": None},
        ),
        (
            ["platform", "translation"],
            "patients",
            {"lon": None, "lat": None, "count": None, "county": None},
        ),
    ],
)
def test_guess_columns(headers, kind, expected):
    frame = pd.DataFrame(columns=headers)
    assert pio.guess_columns(frame, kind=kind) == expected


@settings(max_examples=100, deadline=None)
@given(
    headers=st.lists(st.text(max_size=10), max_size=8, unique=True),
    kind=st.sampled_from(["facilities", "patients"]),
)
def test_fuzz_guess_columns(headers, kind):
    mapping = pio.guess_columns(pd.DataFrame(columns=headers), kind=kind)
    used = [h for h in mapping.values() if h is not None]
    assert len(used) == len(set(used))
    assert set(used) <= set(headers)


def test_guess_columns_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind must be"):
        pio.guess_columns(pd.DataFrame(), kind="roads")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "offset", "epsg"),
    [
        ("wgs84", "wgs84", None),
        ("WGS-84", "wgs84", None),
        ("EPSG:4326", "wgs84", None),
        ("gcj02", "gcj02", None),
        ("高德", "gcj02", None),
        ("AMap", "gcj02", None),
        ("bd09", "bd09", None),
        ("百度", "bd09", None),
        ("cgcs2000", "wgs84", None),
        ("EPSG:4490", "wgs84", None),
        ("EPSG:4547", None, 4547),
        ("epsg:32650", None, 32650),
        ("3857", None, 3857),
    ],
)
def test_parse_crs(text, offset, epsg):
    system = pio.parse_crs(text)
    assert system.offset == offset
    assert (system.crs.to_epsg() if system.crs is not None else None) == epsg


def test_cgcs2000_label_says_it_is_treated_as_wgs84():
    assert "used as WGS-84" in pio.parse_crs("cgcs2000").label


# ------------------------------------------------------------------- coordinate systems
WGS = (121.5272106, 31.1774276)
GCJ = (121.531541859215, 31.17530398364597)


def _one_point_csv(lon: float, lat: float) -> bytes:
    return csv_bytes([["A", "新建", repr(lon), repr(lat), 1, "", ""]])


def _distance_to(fac: gpd.GeoDataFrame, lon: float, lat: float) -> float:
    return float(coords.haversine_m(fac.geometry.x.iloc[0], fac.geometry.y.iloc[0], lon, lat))


def test_gcj02_input_lands_within_a_metre_of_wgs84_truth():
    fac = pio.load_facilities(_one_point_csv(*GCJ), filename="amap.csv", crs="gcj02")
    assert _distance_to(fac, *WGS) < 1.0
    raw = pio.load_facilities(_one_point_csv(*GCJ), filename="amap.csv")
    assert _distance_to(raw, *WGS) > 100  # not converting would be hundreds of metres off


def test_bd09_input_lands_within_a_metre_of_wgs84_truth():
    bd = coords.gcj02_to_bd09(*GCJ)
    fac = pio.load_facilities(
        _one_point_csv(float(bd[0]), float(bd[1])), filename="baidu.csv", crs="bd09"
    )
    assert _distance_to(fac, *WGS) < 1.0
    gcj = coords.bd09_to_gcj02(116.41036949371029, 39.92133699351021)
    assert float(coords.haversine_m(gcj[0], gcj[1], 116.404, 39.915)) < 1.0


def test_geojson_declared_wgs84_holding_gcj02_coordinates(tmp_path: Path):
    gdf = gpd.GeoDataFrame(
        {"name": ["A"], "type": ["新建"]}, geometry=[shapely.Point(*GCJ)], crs="EPSG:4326"
    )
    data = spatial_bytes(gdf, "GeoJSON", tmp_path)
    fac = pio.load_facilities(data, filename="amap.geojson", crs="gcj02")
    assert _distance_to(fac, *WGS) < 1.0


def test_projected_epsg_table_and_gpkg(tmp_path: Path):
    truth = facilities_gdf()
    utm = truth.to_crs("EPSG:32650")
    rows = [
        [n, t, x, y]
        for n, t, x, y in zip(utm["名称"], utm["类型"], utm.geometry.x, utm.geometry.y, strict=True)
    ]
    fac = pio.load_facilities(
        csv_bytes(rows, ["名称", "类型", "X坐标", "Y坐标"]), filename="utm.csv", crs="EPSG:32650"
    )
    err = coords.haversine_m(fac.geometry.x, fac.geometry.y, truth.geometry.x, truth.geometry.y)
    assert err.max() < 0.01
    fac2 = pio.load_facilities(
        spatial_bytes(utm, "GPKG", tmp_path), filename="utm.gpkg", crs="EPSG:32650"
    )
    err2 = coords.haversine_m(fac2.geometry.x, fac2.geometry.y, truth.geometry.x, truth.geometry.y)
    assert err2.max() < 0.01


def test_survey_x_northing_y_easting_is_recognised():
    truth = facilities_gdf()
    gk = truth.to_crs("EPSG:4549")  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
    rows = [
        [n, t, y, x]
        for n, t, x, y in zip(gk["名称"], gk["类型"], gk.geometry.x, gk.geometry.y, strict=True)
    ]
    with pytest.warns(UserWarning, match="surveying convention X = north"):
        fac = pio.load_facilities(
            csv_bytes(rows, ["名称", "类型", "X坐标", "Y坐标"]), filename="gk.csv", crs="EPSG:4549"
        )
    err = coords.haversine_m(fac.geometry.x, fac.geometry.y, truth.geometry.x, truth.geometry.y)
    assert err.max() < 0.01


def test_empty_first_sheet_names_the_other_sheets():
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    ws = wb.create_sheet("数据")
    ws.append(HEADER)
    ws.append(ROWS[0])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(InputFileError, match=r"first sheet '说明' is empty .*'数据'"):
        pio.load_facilities(buf.getvalue(), filename="s.xlsx")


def test_projected_point_outside_china_after_conversion():
    with pytest.raises(InputFileError, match="after conversion from EPSG:32650"):
        pio.load_facilities(
            csv_bytes([["A", "", 500000.0, 7_000_000.0]], ["名称", "类型", "x", "y"]),
            filename="utm.csv",
            crs="EPSG:32650",
        )


def test_cgcs2000_geographic_file_is_accepted(tmp_path: Path):
    gdf = facilities_gdf().set_crs("EPSG:4490", allow_override=True)
    fac = pio.load_facilities(
        spatial_bytes(gdf, "GPKG", tmp_path), filename="c.gpkg", crs="cgcs2000"
    )
    assert fac.geometry.x.tolist() == pytest.approx([r[2] for r in ROWS], abs=1e-9)


def test_polygons_become_points_with_warning(tmp_path: Path):
    gdf = gpd.GeoDataFrame(
        {"name": ["A"], "type": ["新建"]},
        geometry=[shapely.box(119.0, 25.4, 119.01, 25.41)],
        crs="EPSG:4326",
    )
    with pytest.warns(UserWarning, match="not points"):
        fac = pio.load_facilities(spatial_bytes(gdf, "GeoJSON", tmp_path), filename="p.geojson")
    assert shapely.box(119.0, 25.4, 119.01, 25.41).contains(fac.geometry.iloc[0])


# ---------------------------------------------------------------------------- round trips
def _write_all_formats(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    gdf = facilities_gdf()
    out = {
        enc: (csv_bytes(ROWS, encoding=enc), f"sites-{enc}.csv")
        for enc in ("utf-8", "utf-8-sig", "gbk", "gb18030")
    }
    out["utf-16-tab"] = (
        b"\xff\xfe" + csv_bytes(ROWS, encoding="utf-16-le", delimiter="\t"),
        "sites.txt",
    )
    out["semicolon"] = (csv_bytes(ROWS, delimiter=";"), "sites.csv")
    out["xlsx"] = (xlsx_bytes(ROWS), "sites.xlsx")
    out["geojson"] = (spatial_bytes(gdf, "GeoJSON", tmp_path), "sites.geojson")
    out["gpkg"] = (spatial_bytes(gdf, "GPKG", tmp_path), "sites.gpkg")
    out["shp-zip"] = (shp_zip_bytes(gdf, tmp_path), "sites.zip")
    out["csv-in-zip"] = (zip_bytes({"sites.csv": csv_bytes(ROWS)}), "bundle.zip")
    return out


def test_every_format_round_trips_to_the_same_layer(tmp_path: Path, region):
    reference = pio.load_facilities(csv_bytes(ROWS), filename="ref.csv", region=region)
    reference = reference.drop(columns="source_row")
    formats = _write_all_formats(tmp_path)
    assert pio.read_table(*formats["gbk"][:1], filename="x.csv").attrs["encoding"] == "gb18030"
    for label, (data, filename) in formats.items():
        loaded = pio.load_facilities(data, filename=filename, region=region)
        pd.testing.assert_frame_equal(
            pd.DataFrame(loaded.drop(columns=["source_row", "geometry"])),
            pd.DataFrame(reference.drop(columns="geometry")),
            check_dtype=False,
            obj=label,
        )
        err = coords.haversine_m(
            loaded.geometry.x, loaded.geometry.y, reference.geometry.x, reference.geometry.y
        )
        assert err.max() < 1e-3, label


def test_patient_counts_round_trip_csv_xlsx(region):
    header = ["区县", "人数"]
    rows = [["城厢区", 120], ["350303", 3]]
    for data, name in [
        (csv_bytes(rows, header, encoding="gbk"), "p.csv"),
        (xlsx_bytes(rows, header), "p.xlsx"),
    ]:
        counts = pio.load_patient_counts(data, filename=name, region=region)
        assert counts.points is None
        assert counts.by_county is not None
        assert counts.by_county.to_dict() == {"350302": 120.0, "350303": 3.0}
        assert counts.by_county.index.name == "county_id"


def test_patient_counts_round_trip_every_format(tmp_path: Path, region):
    header, rows = ["区县", "人数"], [["城厢区", 120], ["350303", 3]]
    tables = {
        enc: (csv_bytes(rows, header, encoding=enc), "p.csv")
        for enc in ("utf-8", "utf-8-sig", "gbk", "gb18030")
    }
    tables["utf-16-tab"] = (
        b"\xff\xfe" + csv_bytes(rows, header, encoding="utf-16-le", delimiter="\t"),
        "p.txt",
    )
    tables["xlsx"] = (xlsx_bytes(rows, header), "p.xlsx")
    tables["csv-in-zip"] = (zip_bytes({"p.csv": csv_bytes(rows, header, encoding="gbk")}), "p.zip")
    for label, (data, name) in tables.items():
        counts = pio.load_patient_counts(data, filename=name, region=region)
        assert counts.by_county is not None, label
        assert counts.by_county.to_dict() == {"350302": 120.0, "350303": 3.0}, label
    gdf = gpd.GeoDataFrame(
        {"人数": [12, 30]},
        geometry=[shapely.Point(119.0, 25.4), shapely.Point(119.1, 25.5)],
        crs="EPSG:4326",
    )
    xy = [[119.0, 25.4, 12], [119.1, 25.5, 30]]
    places = {
        "geojson": (spatial_bytes(gdf, "GeoJSON", tmp_path), "p.geojson"),
        "gpkg": (spatial_bytes(gdf, "GPKG", tmp_path), "p.gpkg"),
        "shp-zip": (shp_zip_bytes(gdf, tmp_path), "p.zip"),
        "csv": (csv_bytes(xy, ["经度", "纬度", "人数"], encoding="gbk"), "p.csv"),
        "xlsx": (xlsx_bytes(xy, ["lon", "lat", "count"]), "p.xlsx"),
    }
    for label, (data, name) in places.items():
        counts = pio.load_patient_counts(data, filename=name, region=region)
        assert counts.points is not None, label
        assert counts.points["count"].tolist() == [12.0, 30.0], label
        assert counts.points["county"].tolist() == ["350302", "350303"], label
        lon, lat = counts.points.geometry.x.to_numpy(), counts.points.geometry.y.to_numpy()
        err = coords.haversine_m(lon, lat, np.array([119.0, 119.1]), np.array([25.4, 25.5]))
        assert np.max(err) < 1e-3, label


# ------------------------------------------------------------------------------- patients
def test_patients_by_adcode_without_region():
    counts = pio.load_patient_counts(
        csv_bytes([[350302, 40], ["350303", 7]], ["adcode", "n"]), filename="p.csv"
    )
    assert counts.by_county is not None
    assert counts.by_county.to_dict() == {"350302": 40.0, "350303": 7.0}


def test_patients_duplicates_summed_and_unknown_county_dropped(region):
    rows = [["城厢", 10], ["城厢区", 2], ["仙游县", 9], ["涵江区", 1]]
    with pytest.warns(UserWarning, match="p.csv") as record:
        counts = pio.load_patient_counts(
            csv_bytes(rows, ["区县", "人数"]), filename="p.csv", region=region
        )
    messages = " | ".join(str(w.message) for w in record)
    assert "added up (rows 2, 3)" in messages
    assert "not in the planning region and were left out (row 4)" in messages
    assert counts.by_county is not None
    assert counts.by_county.to_dict() == {"350302": 12.0, "350303": 1.0}


def test_patient_points_and_display_suppression(region):
    rows = [[119.0, 25.4, 3], [119.1, 25.5, 40], [119.01, 25.41, 0]]
    counts = pio.load_patient_counts(
        csv_bytes(rows, ["经度", "纬度", "人数"]), filename="p.csv", region=region
    )
    assert counts.by_county is None
    pts = counts.points
    assert pts is not None
    assert pts["count"].tolist() == [3.0, 40.0, 0.0]  # exact in memory
    assert pts["county"].tolist() == ["350302", "350303", "350302"]
    assert pts.index.name == "point_id"
    shown = counts.display_table()
    assert shown["count"].tolist() == ["<5", "40", "0"]
    assert counts.total == 43.0
    assert "43" in repr(counts)


def test_patient_repr_and_county_display_hide_small_counts():
    counts = pio.load_patient_counts(
        csv_bytes([["350302", 3]], ["区县", "人数"]), filename="p.csv", privacy_threshold=5
    )
    assert "3" not in repr(counts).replace("350302", "")
    assert "<5" in repr(counts)
    assert counts.display_table()["patients"].tolist() == ["<5"]
    assert isinstance(counts, PatientCounts)


def test_patient_messages_never_repeat_cell_values():
    rows = [["350302", "王小明"], ["350303", 5]]
    with pytest.raises(InputFileError) as info:
        pio.load_patient_counts(csv_bytes(rows, ["区县", "人数"]), filename="p.csv")
    assert "王小明" not in str(info.value)
    rows2 = [[2.35, 48.85, 4]]
    with pytest.raises(InputFileError) as info2:
        pio.load_patient_counts(csv_bytes(rows2, ["经度", "纬度", "人数"]), filename="p.csv")
    assert "48.85" not in str(info2.value)
    assert "outside China" in str(info2.value)


def test_person_level_refusal_keeps_nothing(caplog):
    rows = [["张三", "350302", "13812345678"]] * 3
    with caplog.at_level("DEBUG"), pytest.raises(PersonLevelDataError) as info:
        pio.load_patient_counts(csv_bytes(rows, ["姓名", "区县", "联系电话"]), filename="p.csv")
    text = str(info.value)
    assert "张三" not in text
    assert "13812345678" not in text
    assert "PivotTable" in text
    assert "张三" not in caplog.text
    assert "13812345678" not in caplog.text
    assert info.value.__cause__ is None


def test_patient_spatial_file_points(tmp_path: Path, region):
    gdf = gpd.GeoDataFrame(
        {"count": [12, 30]},
        geometry=[shapely.Point(119.0, 25.4), shapely.Point(119.1, 25.5)],
        crs="EPSG:4326",
    )
    counts = pio.load_patient_counts(
        spatial_bytes(gdf, "GPKG", tmp_path), filename="p.gpkg", region=region
    )
    assert counts.points is not None
    assert counts.points["count"].tolist() == [12.0, 30.0]


# ---------------------------------------------------------------------------- fuzzing
_SUFFIXES = ["csv", "txt", "xlsx", "geojson", "json", "gpkg", "zip", "xls", ""]


def _only_planning_errors(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            return call()
        except PlanningError:
            return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=400),
    suffix=st.sampled_from(_SUFFIXES),
    prefix=st.sampled_from(
        [
            b"",
            b"PK\x03\x04",
            b"SQLite format 3\x00",
            b"\xef\xbb\xbf",
            b'{"type":"FeatureCollection","features":[',
            b"\xff\xfe",
        ]
    ),
)
def test_fuzz_random_bytes_every_loader(data: bytes, suffix: str, prefix: bytes):
    blob = prefix + data
    name = f"f.{suffix}" if suffix else "f"
    _only_planning_errors(lambda: pio.read_table(blob, filename=name))
    _only_planning_errors(lambda: pio.load_facilities(blob, filename=name))
    _only_planning_errors(lambda: pio.load_patient_counts(blob, filename=name))


_CELLS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "119.0",
            "25.4",
            "119,0",
            "1e400",
            "-",
            "nan",
            "=1+1",
            "１２",
            "350302",
            "城厢区",
            "新建",
            "康复站",
            '"',
            "\n",
            "\t",
            "\u3000",
        ]
    ),
    st.floats(min_value=18, max_value=130),
)
_HEADERS = st.sampled_from(
    [
        "名称",
        "类型",
        "经度",
        "纬度",
        "容量",
        "地址",
        "区县",
        "人数",
        "lon",
        "lat",
        "x",
        "y",
        "id",
        "编号",
        "count",
        "姓名",
        "备注",
        "",
    ]
)


_VALID: dict[str, st.SearchStrategy[Any]] = {
    "名称": st.sampled_from(["示例站A", "示例站B", "C", "D"]),
    "类型": st.sampled_from(["现有康复站", "卫生院", "新建", "学校", ""]),
    "经度": st.floats(min_value=118.95, max_value=119.15),
    "纬度": st.floats(min_value=25.35, max_value=25.55),
    "容量": st.one_of(st.none(), st.integers(0, 80)),
    "地址": st.text(max_size=8),
    "区县": st.sampled_from(["城厢区", "涵江区", "350302", "350303", "仙游县"]),
    "人数": st.integers(0, 500),
}


@st.composite
def _near_valid_tables(draw: st.DrawFn) -> tuple[list[str], list[list[Any]]]:
    """Tables that are often valid, with a little damage, so both outcomes are exercised."""
    pool = [h for h in _VALID if h != "地址"] if draw(st.booleans()) else list(_VALID)
    headers = draw(st.permutations(pool))[: draw(st.integers(3, len(pool)))]
    if draw(st.integers(0, 3)) == 0:
        headers[draw(st.integers(0, len(headers) - 1))] = draw(_HEADERS)
    n = draw(st.integers(1, 6))
    damage = draw(st.sampled_from([0, 0, 10, 40]))  # percent of damaged cells
    rows = [
        [
            draw(_CELLS if h not in _VALID or draw(st.integers(0, 99)) < damage else _VALID[h])
            for h in headers
        ]
        for _ in range(n)
    ]
    return headers, rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.one_of(
        st.tuples(
            st.lists(_HEADERS, min_size=1, max_size=6),
            st.lists(st.lists(_CELLS, min_size=0, max_size=7), max_size=8),
        ),
        _near_valid_tables(),
        _near_valid_tables(),
    ),
    fmt=st.sampled_from(["csv", "xlsx"]),
    crs=st.sampled_from(["wgs84", "gcj02", "bd09", "cgcs2000"]),
)
def test_fuzz_random_tables(table, fmt, crs):
    headers, rows = table
    region = REGION
    if fmt == "csv":
        blob = csv_bytes(rows, headers)
    else:
        clean = [
            [v if not isinstance(v, str) else "".join(c for c in v if c.isprintable()) for v in r]
            for r in rows
        ]
        blob = xlsx_bytes(
            [
                [None if isinstance(v, float) and not np.isfinite(v) else v for v in r]
                for r in clean
            ],
            headers,
        )
    name = f"t.{fmt}"
    fac = _only_planning_errors(
        lambda: pio.load_facilities(blob, filename=name, crs=crs, region=region)
    )
    if fac is not None:
        assert fac.index.is_unique
        assert set(fac["type"]) <= set(pio.FACILITY_TYPES)
        assert fac.crs == "EPSG:4326"
        assert fac.geometry.notna().all()
        assert np.isfinite(fac.geometry.x).all()
    counts = _only_planning_errors(
        lambda: pio.load_patient_counts(blob, filename=name, crs=crs, region=region)
    )
    if counts is not None:
        assert (counts.by_county is None) != (counts.points is None)
        assert counts.total >= 0


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(
        st.sampled_from(
            [
                "a.csv",
                "../x.csv",
                "/abs.csv",
                "d/../../e.csv",
                "C:/win.csv",
                "ok/b.geojson",
                "s.shp",
                "s.dbf",
                "s.shx",
                "__MACOSX/._a.csv",
                "x\\..\\y.csv",
            ]
        ),
        min_size=0,
        max_size=4,
        unique=True,
    ),
    body=st.binary(max_size=64),
)
def test_fuzz_random_zip_archives(names, body):
    blob = zip_bytes(dict.fromkeys(names, body))
    _only_planning_errors(lambda: pio.load_facilities(blob, filename="z.zip"))


# ---------------------------------------------------------------------------- command line
def test_cli_bad_facilities_file_exits_2_without_traceback(tmp_path: Path, capsys):
    cli = pytest.importorskip("planning.cli")
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["A", "", "abc", 25.4, 1, "", ""]]))
    status = cli.main(["solve", "--facilities", str(path)])
    err = capsys.readouterr().err
    assert status == 2
    assert "bad.csv, row 2, column '经度': 'abc' is not a number" in err
    assert "Traceback" not in err


def test_cli_person_level_patients_file_exits_2(tmp_path: Path, capsys):
    cli = pytest.importorskip("planning.cli")
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes([["张三", "城厢区"]] * 3, ["姓名", "区县"]))
    status = cli.main(["solve", "--patients", str(path)])
    err = capsys.readouterr().err
    assert status == 2
    assert "person-level" in err
    assert "张三" not in err


def test_cli_geocoded_patient_list_exits_2_and_writes_nothing(tmp_path: Path, capsys):
    cli = pytest.importorskip("planning.cli")
    path = tmp_path / "homes.csv"
    rows = [[119.01 + i / 1000, 25.45, 1] for i in range(8)]
    path.write_bytes(csv_bytes(rows, ["经度", "纬度", "人数"]))
    out = tmp_path / "plan"
    status = cli.main(["solve", "--patients", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert "one row per patient" in err
    assert "119.01" not in err
    assert "Traceback" not in err
    assert not out.exists()
