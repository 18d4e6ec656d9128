"""Library errors and warnings by code: real failures read in Chinese, English is unchanged.

Each test provokes a real failure (an unknown coordinate system, a bad facility row, an invalid
scenario option, a missing OSM file, a bad command line) and renders its message in both
languages from the catalogs (planning/locales).
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import warnings
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from planning import cli, i18n
from planning import inputs as io
from planning.defaults import DEFAULT_SPEEDS_KMH
from planning.errors import NetworkError, PlanningWarning, ScenarioError
from planning.scenario import Scenario, _unwrap
from planning.scenario_store import ScenarioStore
from planning.travel import roads
from planning.travel.routing import _role_counts

# three or more English words in a row: an untranslated sentence (quoted names, file names,
# flags and single technical words such as "EPSG:4547" or "WGS-84" are fine)
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){2,}")
QUOTED = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\S+\.(?:csv|pbf|json)|--[a-z-]+")


def is_chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text)) and not ENGLISH_RUN.findall(
        QUOTED.sub(" ", text)
    )


def test_an_unknown_crs_option_reads_in_chinese() -> None:
    with pytest.raises(io.InputFileError) as caught:
        io.load_facilities(b"name,lon,lat\nA,119.0,25.4\n", filename="fac.csv", crs="xyz")
    err = caught.value
    assert err.text("en") == (
        "fac.csv: unknown coordinate system 'xyz'. Use 'wgs84' (GPS, OpenStreetMap), 'gcj02' "
        "(AMap/高德, Tencent), 'bd09' (Baidu/百度), 'cgcs2000', or 'EPSG:<code>' for projected "
        "coordinates in metres (e.g. 'EPSG:4547')."
    )
    zh = err.text("zh")
    assert zh.startswith("fac.csv：未知坐标系 'xyz'。请使用 'wgs84'（GPS、OpenStreetMap）")
    assert is_chinese(zh), zh
    (problem,) = err.problems
    assert problem.msg == i18n.Msg("coords.crs_unknown", crs="xyz")


def test_a_bad_facility_row_reads_in_chinese_with_its_row_and_column() -> None:
    data = "名称,类型,经度,纬度\n甲,现有康复站,abc,25.43\n乙,卫生院,119.1,\n".encode()
    with pytest.raises(io.InputFileError) as caught:
        io.load_facilities(data, filename="fac.csv", crs="wgs84")
    err = caught.value
    assert err.text("en") == (
        "fac.csv: 2 problems; fix them all, then load the file again:\n"
        "  - fac.csv, row 2, column '经度': 'abc' is not a number: enter decimal degrees such "
        "as 119.0071 (not degrees/minutes/seconds).\n"
        "  - fac.csv, row 3, column '纬度': the latitude is empty: enter decimal degrees such "
        "as 119.0071 (not degrees/minutes/seconds), or delete the row."
    )
    zh = err.text("zh")
    hint = "请填写纯数字（不带单位；经纬度用十进制度，如 119.01）"
    assert zh.splitlines() == [
        "fac.csv：共 2 个问题，请全部改正后重新载入文件：",
        f"  - fac.csv，第 2 行，列 '经度'：'abc' 不是数字：{hint}。",
        f"  - fac.csv，第 3 行，列 '纬度'：纬度为空：{hint}，或删除这一行。",
    ]
    first = err.problems[0]
    assert (first.row, first.column) == (2, "经度")
    assert first.describe("zh").startswith("'abc' 不是数字")
    assert first.message == first.describe("en")  # the English text as before codes
    assert str(err) == err.text("en")  # the suite's default language (tests/conftest.py)


def test_file_problems_keep_code_and_parameters_through_pickle() -> None:
    with pytest.raises(io.InputFileError) as caught:
        io.read_table(b"", filename="empty.csv")
    back = pickle.loads(pickle.dumps(caught.value))
    assert type(back) is io.InputFileError
    assert back.problems == caught.value.problems
    assert back.text("zh") == "empty.csv：文件为空。请保存带表头行和至少一行数据的表格。"


def test_person_level_list_is_refused_in_either_language() -> None:
    data = "姓名,身份证号,区县\n张三,350302199001011234,城厢区\n".encode()
    with pytest.raises(io.PersonLevelDataError) as caught:
        io.load_patient_counts(data, filename="list.csv")
    assert "this looks like a person-level list (column(s) '姓名', '身份证号')" in str(caught.value)
    zh = caught.value.text("zh")
    assert "逐人名单" in zh and "张三" not in zh and is_chinese(zh)


def test_a_facility_warning_is_a_planning_warning_with_chinese_text() -> None:
    with pytest.warns(PlanningWarning, match="no type column") as record:
        io.load_facilities(b"name,lon,lat\nA,119.0,25.4\n", filename="fac.csv")
    (warning,) = [w.message for w in record if isinstance(w.message, PlanningWarning)]
    assert warning.code == "files.no_type_column"
    assert warning.text("zh").startswith("fac.csv：没有类型列（类型/type）")


def test_an_invalid_scenario_option_names_option_kind_bounds_and_unit_in_chinese() -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario(max_travel_min=0, in_scope_share=2)
    err = caught.value
    assert err.text("en") == (
        "Scenario is invalid: in_scope_share = 2 is not allowed: use a number greater than 0 "
        "and at most 1 (a share: 0.5 = half, e.g. 1); max_travel_min = 0 is not allowed: use "
        "a number greater than 0 (minutes, e.g. 30)."
    )
    assert err.text("zh") == (
        "方案参数有误：纳入比例 = 2 不允许：请使用大于 0、不大于 1 的数字（比例，0.5 即一半，"
        "例如 1）；最长出行时间 = 0 不允许：请使用大于 0 的数字（分钟，例如 30）。"
    )
    minutes = next(p for p in err.problems if p.field == "max_travel_min")
    assert minutes.allowed_msg is not None and minutes.unit_msg is not None
    assert minutes.allowed_msg.text("zh") == "大于 0 的数字"
    assert minutes.unit_msg.text("zh") == "分钟"
    assert minutes.reword("--max-minutes", "0", "zh") == (
        "--max-minutes 0 不允许：请使用大于 0 的数字（分钟，例如 --max-minutes 30）"
    )


@pytest.mark.parametrize(
    ("changes", "zh"),
    [
        (
            {"model": "kmeans"},
            "模型 = 'kmeans' 不允许：请使用以下之一：'mclp', 'p_median', 'lscp' 或",
        ),
        ({"n_facilities": 0}, "站点数 = 0 不允许：请使用不小于 1 的整数（例如 6）"),
        ({"cell_size_m": 10}, "需求网格边长 = 10 不允许：请使用200 到 50000 之间的数字（米"),
        ({"colour": "red"}, "未知选项 'colour'：请删除或检查拼写"),
        ({"model": "mclp", "n_facilities": None}, "模型 mclp 需要站点数或预算"),
        ({"rollout": {"phases": [{"year": "x"}]}}, "分期阶段[0] 的年份 = 'x' 不允许：请使用整数"),
        ({"travel": {"road_speeds_kmh": {"fast": 3}}}, "未知的道路速度类别 'fast'"),
    ],
)
def test_scenario_option_errors_read_in_chinese(changes: dict[str, Any], zh: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario(**changes)
    shown = caught.value.text("zh")
    assert zh in shown
    technical = ("n_facilities", ", ".join(DEFAULT_SPEEDS_KMH))  # field and OSM class names
    for name in technical:
        shown = shown.replace(name, "")
    assert is_chinese(shown), shown


def _option_paths() -> list[tuple[str, str]]:
    """Every option of the scenario: (dotted path, the last part inside a list item)."""
    found: list[tuple[str, str]] = []

    def walk(model: type[BaseModel], prefix: list[str], item: list[str] | None) -> None:
        for name, info in model.model_fields.items():
            path = [*prefix, name]
            found.append((".".join(path), ".".join([*item, name]) if item is not None else ""))
            inner = _unwrap(info.annotation)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                walk(inner, path, item)
            elif get_origin(inner) in {tuple, list}:
                element = _unwrap(get_args(inner)[0])
                if isinstance(element, type) and issubclass(element, BaseModel):
                    walk(element, path, [])

    walk(Scenario, [], None)
    return found


def test_every_scenario_option_has_a_name_in_both_languages() -> None:
    for path, in_item in _option_paths():
        key = "scenario.option_" + path.replace(".", "_")
        assert i18n.text(key, "en") == (in_item or path), key
        assert is_chinese(i18n.text(key, "zh")) or path.startswith("travel.osm"), key


def test_scenario_json_and_file_errors_read_in_chinese(tmp_path) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_json("{nope")
    assert caught.value.text("zh").startswith("方案文件不是有效的 JSON（")
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict([1])  # type: ignore[arg-type]
    assert caught.value.text("en") == "A scenario must be a JSON object (got list)."
    assert caught.value.text("zh") == "方案必须是 JSON 对象（收到 list）。"
    missing = tmp_path / "none.json"
    with pytest.raises(ScenarioError) as caught:
        Scenario.load(missing)
    assert caught.value.text("en") == (
        f"Cannot read scenario file {str(missing)!r}: No such file or directory."
    )
    assert caught.value.text("zh") == (
        f"无法读取方案文件 {str(missing)!r}（`No such file or directory`）。"
    )


def test_scenario_library_errors_read_in_chinese(tmp_path) -> None:
    store = ScenarioStore(tmp_path)
    with pytest.raises(ScenarioError) as caught:
        store.load("无此方案")
    assert str(caught.value) == (
        "No saved scenario named '无此方案' (saved: none saved yet). Pick one from the list."
    )
    assert caught.value.text("zh") == (
        "没有名为 '无此方案' 的已保存方案（已保存：尚未保存任何方案）。请从列表中选择。"
    )
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    store.list()
    (aside,) = store.set_aside
    assert "not valid JSON" in aside.reason
    assert aside.why.text("zh").startswith("方案文件不是有效的 JSON")


def test_a_missing_osm_file_reads_in_chinese(tmp_path) -> None:
    path = tmp_path / "none.osm.pbf"
    with pytest.raises(NetworkError) as caught:
        roads.load_osm_file(path)
    assert caught.value.text("en") == (
        f"OSM file {str(path)!r} does not exist. Give the path of an .osm.pbf or .osm file "
        "(e.g. a provincial extract from download.geofabrik.de/asia/china.html)."
    )
    assert caught.value.text("zh") == (
        f"OSM 文件 {str(path)!r} 不存在。请给出 .osm.pbf 或 .osm 文件的路径"
        "（例如 download.geofabrik.de/asia/china.html 上的省级数据）。"
    )


def test_unsnapped_point_counts_read_as_in_english_and_in_chinese() -> None:
    counts = _role_counts({"demand": 3, "site": 1})
    assert counts.text("en") == str({"demand": 3, "site": 1})
    assert counts.text("zh") == "需求点 3 个，站点 1 个"


def test_cli_lang_zh_prints_a_chinese_error_and_exits_2(capsys) -> None:
    for argv in (
        ["--lang", "zh", "solve", "--max-minutes", "0"],
        ["solve", "--lang", "zh", "--max-minutes", "0"],
    ):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        allowed = "请使用大于 0 的数字（分钟，例如 --max-minutes 30）"
        assert err == f"错误：--max-minutes 0 不允许：{allowed}。\n"
    assert os.environ["KANGLE_LANG"] == "en"  # the run's language does not leak


def test_cli_lang_en_prints_todays_english(capsys) -> None:
    assert cli.main(["--lang", "en", "solve", "--sites", "0"]) == 2
    assert capsys.readouterr().err == (
        "error: --sites 0 is not allowed: use a whole number of at least 1 (e.g. --sites 6).\n"
    )


def test_cli_file_problem_in_chinese(tmp_path, capsys) -> None:
    f = tmp_path / "facilities.csv"
    f.write_text("名称,类型,经度,纬度\n甲,现有康复站,abc,25.43\n", encoding="utf-8")
    assert cli.main(["--lang", "zh", "solve", "--facilities", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：facilities.csv，第 2 行，列 '经度'：'abc' 不是数字")


def test_cli_help_is_in_the_chosen_language(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--lang", "zh", "solve", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：python -m planning solve")
    assert "显示此帮助信息并退出" in out and "出行时间上限，单位分钟（默认 30）" in out
    with pytest.raises(SystemExit):
        cli.main(["solve", "--help", "--lang", "en"])
    out = capsys.readouterr().out
    assert "travel-time threshold in minutes (default 30)" in out
    assert "show this help message and exit" in out


def test_cli_defaults_to_chinese_without_kangle_lang() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KANGLE_LANG"}
    res = subprocess.run(
        [sys.executable, "-m", "planning", "solve", "--sites", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert res.returncode == 2
    assert res.stderr == "错误：--sites 0 不允许：请使用不小于 1 的整数（例如 --sites 6）。\n"


def test_cli_warning_in_chinese(capsys) -> None:
    with warnings.catch_warnings():
        args = cli.build_parser("zh").parse_args(["solve", "--model", "lscp", "--sites", "3"])
        args.ui_lang = "zh"
        show = cli._warning_printer("zh")
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            cli._scenario_from_args(args)
    (warning,) = record
    show(warning.message)
    assert capsys.readouterr().err.startswith("警告：--sites 3 不起作用：LSCP 自行决定站点数")
