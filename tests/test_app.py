"""The Streamlit app through AppTest (widgets by key): every page, solve, library, languages.

Most tests run a small scenario (two counties of Putian, coarse cells) so a solve takes well
under a second; the scenario library is an empty temporary folder (tests/conftest.py).
AppTest cannot look inside the folium map (a custom component); tests/test_maps.py tests
the maps and tests/test_browser.py checks that the map renders in a real browser.
"""

from __future__ import annotations

import ast
import json
import re
import socket
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from planning import i18n as planning_i18n
from planning import pipeline
from planning.inputs.columns import FACILITY_TYPES, KIND_FIELDS
from planning.scenario import Scenario
from planning.scenario_store import ScenarioStore, scenario_json_bytes
from ui import i18n

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SMALL = Scenario(
    name="测试方案",
    counties=("城厢区", "荔城区"),
    cell_size_m=4000,
    candidate_spacing_m=6000,
    n_facilities=2,
)
TEMPLATE = ROOT / "data" / "facilities_template.csv"


def page_scenario_options(name: str) -> list[str]:
    """A list constant of ui/page_scenario.py (read, not imported: the page runs on import)."""
    tree = ast.parse((ROOT / "ui" / "page_scenario.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return list(ast.literal_eval(node.value))
    raise AssertionError(name)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def start(scenario: Scenario | None = SMALL) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if scenario is not None:
        at.session_state["scenario"] = scenario.to_dict()
    return at.run()


def ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def solve(at: AppTest) -> AppTest:
    at.button(key="solve").click().run()
    ok(at)
    return at


# ------------------------------------------------------------------------ scenario page
def test_opens_on_the_putian_demo() -> None:
    at = start(scenario=None)
    ok(at)
    assert at.title[0].value == "康乐家园选址方案"
    assert "莆田市" in at.caption[0].value
    shown = metrics(at)
    assert shown["区县数"] == "5"
    assert shown["常住人口（2020）"].replace(",", "").isdigit()
    assert at.info[0].value.startswith("已载入区域数据")
    assert at.selectbox(key="sc_model").value == "mclp"
    assert at.number_input(key="sc_n_facilities").value == 6
    assert at.radio(key="lang").value == "zh"


def test_solve_shows_metrics_tables_and_travel_label() -> None:
    at = solve(start())
    shown = metrics(at)
    share = shown["30 分钟内患者占比"]
    assert share.endswith("%")
    assert 0 < float(share[:-1]) <= 100
    assert shown["有站点的区县"].endswith("/ 2")
    assert shown["平均出行时间"].endswith("分钟")
    assert shown["最长出行时间"].endswith("分钟")
    assert any("已证明最优" in md.value for md in at.markdown)
    assert any("估算（直线距离×绕行系数）" in c.value for c in at.caption)  # Chinese only (#18)
    # policy targets, per-county table against targets, site list
    tables = [d.value for d in at.dataframe]
    policy = next(t for t in tables if "区县目标" in t.columns)
    assert list(policy.index) == ["2023", "2024", "2025"]
    assert list(policy["区县目标"]) == ["50%", "65%", "80%"]
    assert list(policy["患者目标"]) == ["30%", "45%", "60%"]
    counties = next(t for t in tables if "时限内比例" in t.columns)
    assert set(counties["区县"]) == {"城厢区", "荔城区"}
    assert {"2023 患者目标 30%", "2024 患者目标 45%", "2025 患者目标 60%"} <= set(counties.columns)
    sites = next(t for t in tables if "服务患者（人）" in t.columns)
    assert len(sites) == 2
    plan = at.session_state["plan"]
    assert isinstance(plan, pipeline.Plan)
    assert plan.scenario.n_facilities == 2


def test_county_table_leaves_out_a_share_that_would_reveal_a_hidden_count() -> None:
    """荔城区: 13 patients shown, 2.4 within 10 min shown '<5': share x 13 would give it back."""
    scenario = SMALL.replace(
        prevalence_per_mille=0.02,
        max_travel_min=10,
        cell_size_m=3000,
        candidate_spacing_m=5000,
        n_facilities=1,
    )
    at = solve(start(scenario))
    c = at.session_state["plan"].tables.counties
    assert c.loc["350304", "patients"] >= 5 > c.loc["350304", "patients_within"] > 0
    assert c.loc["350302", "patients_within"] == 0 < c.loc["350302", "patients"]
    tables = [d.value for d in at.dataframe]
    counties = next(t for t in tables if "时限内比例" in t.columns).set_index("区县")
    assert counties.loc["荔城区", "时限内患者（人）"] == "<5"
    assert counties.loc["荔城区", "时限内比例"] == "—"
    for year in ("2023 患者目标 30%", "2024 患者目标 45%", "2025 患者目标 60%"):
        assert counties.loc["荔城区", year] == "—"  # met / not met would bound the count
        assert counties.loc["城厢区", year] == "未达标"
    assert counties.loc["城厢区", "时限内比例"] == "0.0%"  # nothing hidden: shown
    assert counties.loc["城厢区", "估算患者（人）"] == str(round(c.loc["350302", "patients"]))
    # the headline share as well: the region's within-reach count is '<5' too
    shown = metrics(at)
    assert shown["10 分钟内患者占比"] == "—"
    assert shown["10 分钟内患者（人）"] == "<5"


def test_travel_label_in_the_chosen_language() -> None:
    """Issue 4: the road-network label with its data date, in Chinese or English."""
    import dataclasses  # noqa: PLC0415

    at = solve(start())
    label = "road network (OpenStreetMap, data 2026-11-01)"
    plan = at.session_state["plan"]
    travel = dataclasses.replace(plan.travel, mode="network", label=label, data_date="2026-11-01")
    at.session_state["plan"] = pipeline.solve(dataclasses.replace(plan.inputs, travel=travel))
    at.run()
    ok(at)
    caption = next(c.value for c in at.caption if "directions_car" in c.value)
    assert caption.endswith("出行时间：路网（OpenStreetMap，数据日期 2026-11-01）")  # (#18)
    assert label not in caption  # no English fragment in Chinese
    at.radio(key="lang").set_value("en").run()
    ok(at)
    caption = next(c.value for c in at.caption if "directions_car" in c.value)
    assert caption.endswith(f"Travel times: {label}")
    assert "路网" not in caption
    at.session_state["plan"] = plan  # the estimate keeps its English label in English
    at.run()
    caption = next(c.value for c in at.caption if "directions_car" in c.value)
    assert caption.endswith("Travel times: estimated (straight-line)")


def test_resolve_after_one_change_reuses_prepared_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = pipeline.prepare

    def counting(scenario: Scenario, **kwargs: object) -> pipeline.Inputs:
        calls.append(scenario.name)
        return real(scenario, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "prepare", counting)
    at = solve(start())
    first = at.session_state["plan"]
    assert len(calls) == 1
    at.number_input(key="sc_n_facilities").set_value(3).run()
    ok(at)
    assert any("参数已修改" in w.value for w in at.warning)  # stale results are flagged
    solve(at)
    second = at.session_state["plan"]
    assert len(calls) == 1  # travel times not recomputed
    assert second.scenario.n_facilities == 3
    assert len(second.solution.selected_sites) == 3
    assert second.travel is first.travel or second.travel.table.equals(first.travel.table)
    assert not any("参数已修改" in w.value for w in at.warning)
    # a change of an input field prepares again
    at.number_input(key="sc_cell_km").set_value(5.0).run()
    solve(at)
    assert len(calls) == 2


def test_fresh_preparation_reports_progress_and_a_cache_hit_is_a_copy() -> None:
    from ui import cache  # noqa: PLC0415

    seen: list[tuple[float, str]] = []
    plan, _ = cache.solve_plan(SMALL, progress=lambda f, m: seen.append((f, m)))
    steps = [m for _, m in seen]
    assert "loading region" in steps
    assert "estimating straight-line travel times" in steps
    assert steps[-1] == "done"
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)  # the bar only moves forward
    seen.clear()
    again, _ = cache.solve_plan(
        SMALL.replace(n_facilities=3), progress=lambda f, m: seen.append((f, m))
    )
    assert "loading region" not in [m for _, m in seen]  # inputs reused
    assert again.travel is not plan.travel  # each caller gets its own copy
    assert again.travel.table.equals(plan.travel.table)


def test_bad_parameters_show_an_error_not_a_traceback() -> None:
    at = start()
    at.selectbox(key="sc_model").set_value("p_median").run()
    at.number_input(key="sc_n_facilities").set_value(None).run()
    ok(at)
    assert at.error, "expected an in-page error"
    assert at.error[0].value.startswith("**参数有误")
    assert "模型 p_median 需要站点数或预算" in at.error[0].value
    assert "needs a number of sites" not in at.error[0].value
    at.radio(key="lang").set_value("en").run()
    assert "needs a number of sites (n_facilities / --sites) or a budget" in at.error[0].value


def test_unsolvable_scenario_says_what_to_change() -> None:
    at = start()
    at.number_input(key="sc_n_facilities").set_value(400).run()
    solve(at)
    assert at.error
    text = at.error[0].value
    assert text.startswith("**无法求解该方案")
    assert "要求 400 个站点，但总共只有" in text
    assert "sites requested" not in text
    assert at.session_state["plan"] is None if "plan" in at.session_state else True


def test_lscp_disables_the_number_of_sites() -> None:
    at = start(SMALL.replace(max_travel_min=60))
    at.selectbox(key="sc_model").set_value("lscp").run()
    ok(at)
    assert at.number_input(key="sc_n_facilities").disabled
    solve(at)
    assert not at.error
    assert at.session_state["scenario"]["n_facilities"] is None
    assert "集合覆盖" in " ".join(md.value for md in at.markdown)


def test_language_switch_translates_the_page() -> None:
    at = solve(start())
    at.radio(key="lang").set_value("en").run()
    ok(at)
    assert at.title[0].value == "Community rehabilitation siting scenario"
    shown = metrics(at)
    assert {
        "Patients within 30 min",
        "Counties with a site",
        "Mean travel time",
        "Longest travel time",
    } <= set(shown)
    assert shown["Mean travel time"].endswith("min")
    assert at.button(key="solve").label == "Solve"
    assert at.button(key="lib_save").label == "Save current scenario"
    assert any("Proven optimal" in md.value for md in at.markdown)
    policy = next(d.value for d in at.dataframe if "County target" in d.value.columns)
    assert set(policy["County target met"]) <= {"met", "not met"}
    # nothing Chinese left in the widget labels of the scenario page (names of places aside)
    labels = [w.label for w in [*at.number_input, *at.selectbox, *at.checkbox, *at.button]]
    assert not [x for x in labels if any("\u4e00" <= ch <= "\u9fff" for ch in x)], labels
    # generated candidates are named in English in the site table and the reach picker
    sites = next(d.value for d in at.dataframe if "Patients served" in d.value.columns)
    assert list(sites["Name"]) == [f"Generated candidate {sid}" for sid in sites.index]
    reach = at.selectbox(key="sc_reach").options
    assert reach == [f"{sid} · Generated candidate {sid}" for sid in sites.index], reach
    at.radio(key="lang").set_value("zh").run()
    assert at.title[0].value == "康乐家园选址方案"


def test_every_translated_choice_keeps_its_value_on_a_language_switch() -> None:
    """Each select box / radio with translated option labels is in TRANSLATED_CHOICES.

    The browser reports a choice by its label: one left out shows (and keeps) the other
    language's label after a switch, e.g. the rollout basemap read "无底图（离线）" in English.
    """
    from ui.sidebar import TRANSLATED_CHOICES  # noqa: PLC0415

    translated: set[str] = set()
    for path in sorted((ROOT / "ui").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            kw = {k.arg: k.value for k in node.keywords}
            if name == "basemap_picker" and node.args and isinstance(node.args[0], ast.Constant):
                translated.add(str(node.args[0].value))
            fmt = kw.get("format_func")
            key = kw.get("key")
            if (
                isinstance(fmt, ast.Call)
                and getattr(fmt.func, "id", "") in {"labels", "_city_label"}
                and isinstance(key, ast.Constant)
            ):
                translated.add(str(key.value))
    assert {"sc_model", "ro_basemap", "to_axis"} <= translated
    assert translated <= set(TRANSLATED_CHOICES), sorted(translated - set(TRANSLATED_CHOICES))


def test_every_text_key_is_translated() -> None:
    used: set[str] = set()
    for path in [ROOT / "app.py", *(ROOT / "ui").glob("*.py")]:
        used |= set(re.findall(r"\bt\(\s*\"([a-z0-9_+]+)\"", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r"lead=\"([a-z_]+)\"", path.read_text(encoding="utf-8")))
    # choice labels built from a prefix (format_func=labels("model_"), f"kind_{k}" ...)
    used |= {f"model_{m}" for m in page_scenario_options("MODELS")}
    used |= {f"source_{x}" for x in page_scenario_options("SOURCES")}
    used |= {f"travel_{m}" for m in ("estimated", "network")}
    used |= {f"network_{m}" for m in ("drive", "walk")}
    used |= {f"basemap_{b}" for b in ("cartodb", "osm", "none")}
    used |= {f"crs_{c}" for c in ("wgs84", "gcj02", "bd09", "cgcs2000")}
    used |= {f"kind_{k}" for k in ("existing", "new", "hub")}
    used |= {f"solstatus_{k}" for k in ("optimal", "feasible", "infeasible", "error")}
    used |= {f"ftype_{k}" for k in FACILITY_TYPES}
    used |= {f"field_{k}" for k in (*KIND_FIELDS["facilities"], *KIND_FIELDS["patients"])}
    used |= {
        f"m_{k}"
        for k in (
            "share_within",
            "counties_with_site",
            "mean_travel_min",
            "max_travel_min",
            "n_sites",
            "patients_within",
        )
    }
    missing = sorted(k for k in used if k not in i18n.STRINGS)
    assert not missing
    for key, (zh, en) in i18n.STRINGS.items():
        assert zh.strip(), key
        assert en.strip(), key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_every_progress_message_of_the_library_is_translated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every progress message in planning/ is coded (a catalog key, no English sentence to
    # translate back) and reads in Chinese on the progress bar
    calls = 0
    for path in (ROOT / "planning").rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        for call in re.findall(r"\bprogress\(\s*[^,()]+(?:\([^()]*\))?[^,()]*,\s*(\S+)", src):
            calls += 1
            assert not call.startswith(('"', 'f"')), f"{path.name}: progress(..., {call})"
    assert calls >= 20
    samples = {
        "model": "MCLP",
        "n": 3,
        "budget": 1000.0,
        "year": 2024,
        "measure": planning_i18n.Msg("rollout.measure_counties"),
        "minutes": 32.5,
        "file": "Helsinki.osm.pbf",
        "network_type": "drive",
        "status": planning_i18n.Msg("progress.status_optimal"),
        "objective": 10600.3,
        "elapsed_s": 12.0,
        "gap_pct": 3.1,
    }
    monkeypatch.setitem(st.session_state, "lang", "zh")
    keys = planning_i18n.catalog("en", "progress")
    assert len(keys) >= 20
    untranslated = []
    for key, template in keys.items():
        params = {k: v for k, v in samples.items() if "{" + k in template}
        shown = i18n.progress_text(planning_i18n.MsgStr(key, **params))
        if not re.search(r"[\u4e00-\u9fff]", shown):
            untranslated.append(key)
    assert not untranslated
    assert i18n.progress_text(planning_i18n.MsgStr("progress.pmedian_round", n=3)) == (
        "p-median 第 3 轮…"
    )
    status = planning_i18n.Msg("progress.status_optimal")
    shown = i18n.progress_text(
        planning_i18n.MsgStr("progress.objective", status=status, objective=10600.3)
    )
    assert shown == "已证明最优：目标值 10,600.3"


# ------------------------------------------------------------------------ scenario library
def test_save_load_rename_duplicate_delete(scenario_dir: Path) -> None:
    at = start()
    at.text_input(key="lib_name").set_value("方案甲").run()
    at.button(key="lib_save").click().run()
    ok(at)
    assert any("已保存方案“方案甲”" in s.value for s in at.success)
    store = ScenarioStore(scenario_dir)
    assert store.names() == ["方案甲"]
    assert store.load("方案甲").n_facilities == 2

    # change the scenario, then load the saved one back: widgets follow
    at.number_input(key="sc_n_facilities").set_value(5).run()
    assert at.session_state["scenario"]["n_facilities"] == 5
    at.selectbox(key="lib_pick").set_value("方案甲").run()
    at.button(key="lib_load").click().run()
    ok(at)
    assert at.number_input(key="sc_n_facilities").value == 2
    assert any("已载入方案“方案甲”" in s.value for s in at.success)

    # saving under an existing name needs the overwrite box
    at.button(key="lib_save").click().run()
    assert any("已有名为 '方案甲' 的方案" in e.value for e in at.error)
    at.checkbox(key="lib_overwrite").check().run()
    at.button(key="lib_save").click().run()
    assert any("已保存方案" in s.value for s in at.success)

    at.selectbox(key="lib_pick").set_value("方案甲").run()
    at.button(key="lib_duplicate").click().run()
    assert sorted(store.names()) == ["方案甲", "方案甲 (copy)"]
    at.text_input(key="lib_new_name").set_value("方案乙").run()
    at.button(key="lib_rename").click().run()
    ok(at)
    assert sorted(store.names()) == ["方案乙", "方案甲"]
    assert at.selectbox(key="lib_pick").value == "方案乙"

    at.button(key="lib_delete").click().run()  # not confirmed: nothing deleted
    assert any("确认删除" in w.value for w in at.warning)
    assert sorted(store.names()) == ["方案乙", "方案甲"]
    at.checkbox(key="lib_confirm_delete").check().run()
    at.button(key="lib_delete").click().run()
    ok(at)
    assert store.names() == ["方案甲"]
    assert list((scenario_dir / ".deleted").glob("*.json"))


def test_saved_scenarios_survive_a_new_session() -> None:
    at = start()
    at.text_input(key="lib_name").set_value("持久方案").run()
    at.button(key="lib_save").click().run()
    again = start(scenario=None)  # a browser reload: new session, same library
    assert "持久方案" in again.selectbox(key="lib_pick").options
    again.selectbox(key="lib_pick").set_value("持久方案").run()
    again.button(key="lib_load").click().run()
    ok(again)
    assert again.session_state["scenario"]["counties"] == ["城厢区", "荔城区"]


def test_scenario_json_download_and_upload(scenario_dir: Path) -> None:
    at = start()
    assert at.get("download_button")  # the current scenario as JSON
    uploaded = SMALL.replace(name="上传的方案", n_facilities=3, max_travel_min=20)
    at.file_uploader(key="lib_upload").upload(
        "plan.json", scenario_json_bytes(uploaded), "application/json"
    ).run()
    at.button(key="lib_import").click().run()
    ok(at)
    assert any("已导入并保存方案“上传的方案”" in s.value for s in at.success)
    assert at.number_input(key="sc_n_facilities").value == 3
    assert at.number_input(key="sc_max_travel_min").value == 20
    assert ScenarioStore(scenario_dir).names() == ["上传的方案"]


def test_bad_scenario_upload_is_an_error_message(scenario_dir: Path) -> None:
    at = start()
    bad = json.dumps({"name": "x", "colour": "red"}).encode()
    at.file_uploader(key="lib_upload").upload("bad.json", bad, "application/json").run()
    at.button(key="lib_import").click().run()
    ok(at)
    assert any("未知选项 'colour'" in e.value for e in at.error)
    assert ScenarioStore(scenario_dir).names() == []


def test_corrupted_library_file_is_reported(scenario_dir: Path) -> None:
    scenario_dir.mkdir(parents=True, exist_ok=True)
    (scenario_dir / "broken.json").write_text("{oops", encoding="utf-8")
    at = start()
    ok(at)
    assert any("broken.json" in w.value and "未删除" in w.value for w in at.warning)
    assert list((scenario_dir / ".corrupt").glob("broken*.json"))


# ------------------------------------------------------------------------ region page
def test_region_page_pickers_update_the_scenario() -> None:
    at = start()
    at.switch_page("ui/page_region.py").run()
    ok(at)
    assert at.title[0].value == "区域与数据"
    assert at.selectbox(key="rg_province").value == "福建省"
    assert at.selectbox(key="rg_city").value == "莆田市"
    assert sorted(at.multiselect(key="rg_counties").value) == ["城厢区", "荔城区"]
    table = next(d.value for d in at.dataframe if "常住人口" in d.value.columns)
    assert set(table["区县"]) == {"城厢区", "荔城区"}
    at.multiselect(key="rg_counties").set_value(["城厢区", "涵江区", "荔城区", "秀屿区", "仙游县"])
    at.run()
    ok(at)
    assert at.session_state["scenario"]["counties"] is None  # all counties of the city
    at.selectbox(key="rg_city").set_value("厦门市").run()
    ok(at)
    assert at.session_state["scenario"]["region"] == "厦门市"
    assert "思明区" in at.multiselect(key="rg_counties").options
    at.multiselect(key="rg_counties").set_value([]).run()
    assert any("至少选择一个区县" in e.value for e in at.error)


def test_facility_upload_with_template(scenario_dir: Path) -> None:
    at = start(SMALL.replace(counties=None))
    at.switch_page("ui/page_region.py").run()
    at.file_uploader(key="rg_fac_upload").upload(
        "facilities.csv", TEMPLATE.read_bytes(), "text/csv"
    ).run()
    ok(at)
    at.button(key="rg_fac_use").click().run()
    ok(at)
    assert any("已载入 6 个设施" in s.value for s in at.success)
    scenario = at.session_state["scenario"]
    stored = Path(scenario["facilities_file"])
    assert stored.parent == scenario_dir / "files"
    assert scenario["candidate_source"] == "grid+facilities"
    clean = pd.read_csv(stored, encoding="utf-8-sig")
    assert set(clean["type"]) >= {"rehab_existing", "psychiatric_hospital"}
    # facilities per county in the overview; the scenario page solves with them
    at.run()
    table = next(d.value for d in at.dataframe if "常住人口" in d.value.columns)
    assert "现有康复站" in table.columns
    at.switch_page("ui/page_scenario.py").run()
    at.number_input(key="sc_n_facilities").set_value(6).run()
    solve(at)
    plan = at.session_state["plan"]
    assert plan.facilities is not None
    assert len(plan.facilities) == 6
    assert plan.tables.kpis["n_sites_existing"] == 1


@pytest.mark.usefixtures("scenario_dir")
def test_facility_upload_records_its_coordinate_system() -> None:
    """A table copied from AMap (GCJ-02): stored converted, the scenario says where it came from."""
    from planning.inputs.coords import wgs84_to_gcj02  # noqa: PLC0415

    table = pd.read_csv(TEMPLATE, encoding="utf-8-sig")
    gcj_lon, gcj_lat = wgs84_to_gcj02(table["经度"].to_numpy(), table["纬度"].to_numpy())
    table["经度"], table["纬度"] = gcj_lon, gcj_lat
    at = start(SMALL.replace(counties=None))
    at.switch_page("ui/page_region.py").run()
    data = table.to_csv(index=False).encode("utf-8-sig")
    at.file_uploader(key="rg_fac_upload").upload("amap.csv", data, "text/csv").run()
    at.selectbox(key="rg_fac_crs").set_value("gcj02").run()
    at.button(key="rg_fac_use").click().run()
    ok(at)
    scenario = at.session_state["scenario"]
    assert (scenario["facilities_crs"], scenario["facilities_input_crs"]) == ("wgs84", "gcj02")
    stored = pd.read_csv(scenario["facilities_file"], encoding="utf-8-sig")
    original = pd.read_csv(TEMPLATE, encoding="utf-8-sig")
    assert (stored["lon"] - original["经度"]).abs().max() < 1e-6  # back on WGS-84
    assert Scenario.from_dict(scenario).facilities_source_crs == "gcj02"


def test_facility_upload_asks_for_columns_it_cannot_guess() -> None:
    at = start()
    at.switch_page("ui/page_region.py").run()
    data = "机构,东西,南北\n甲,119.0071,25.4316\n".encode()
    at.file_uploader(key="rg_fac_upload").upload("odd.csv", data, "text/csv").run()
    ok(at)
    assert any("未能识别全部必需的列" in w.value for w in at.warning)
    keys = [s.key for s in at.selectbox if s.key and s.key.startswith("rg_map_")]
    lon_key = next(k for k in keys if k.startswith("rg_map_facilities_lon_"))
    lat_key = next(k for k in keys if k.startswith("rg_map_facilities_lat_"))
    at.selectbox(key=lon_key).set_value("东西")
    at.selectbox(key=lat_key).set_value("南北").run()
    at.button(key="rg_fac_use").click().run()
    ok(at)
    assert any("已载入 1 个设施" in s.value for s in at.success)


def test_bad_facility_file_lists_its_problems() -> None:
    at = start()
    at.switch_page("ui/page_region.py").run()
    data = "名称,类型,经度,纬度\n甲,现有康复站,abc,25.43\n乙,卫生院,,\n".encode()
    at.file_uploader(key="rg_fac_upload").upload("bad.csv", data, "text/csv").run()
    at.button(key="rg_fac_use").click().run()
    ok(at)
    assert at.error[0].value.startswith("**上传的文件无法使用")
    problems = next(d.value for d in at.dataframe if "问题与修改方法" in d.value.columns)
    assert len(problems) >= 2
    shown = list(problems["问题与修改方法"])
    assert "'abc' 不是数字：请填写纯数字（不带单位；经纬度用十进制度，如 119.01）。" in shown
    assert not any("not a number" in m for m in shown)
    assert at.session_state["scenario"]["facilities_file"] is None


def test_bad_facility_file_problems_in_english_are_the_library_messages() -> None:
    at = start()
    at.radio(key="lang").set_value("en").run()
    at.switch_page("ui/page_region.py").run()
    data = "名称,类型,经度,纬度\n甲,现有康复站,abc,25.43\n".encode()
    at.file_uploader(key="rg_fac_upload").upload("bad.csv", data, "text/csv").run()
    at.button(key="rg_fac_use").click().run()
    ok(at)
    problems = next(d.value for d in at.dataframe if "Problem and fix" in d.value.columns)
    assert any(m.startswith("'abc' is not a number") for m in problems["Problem and fix"])


def test_infeasible_lscp_in_chinese_names_the_county_and_the_fix() -> None:
    at = start(Scenario(**{**SMALL.to_dict(), "model": "lscp", "max_travel_min": 1.0}))
    solve(at)
    assert at.error
    text = at.error[0].value
    assert text.startswith("**无法求解该方案")
    assert "LSCP 要求每位患者都在 1 分钟内，但无法覆盖" in text
    assert "请提高最长出行时间" in text
    assert "cannot cover" not in text
    at.radio(key="lang").set_value("en").run()
    solve(at)
    assert "LSCP at 1 minutes cannot cover" in at.error[0].value


def test_option_error_in_chinese_names_the_option(scenario_dir: Path) -> None:
    at = start()
    bad = json.dumps(SMALL.to_dict() | {"max_travel_min": 0}).encode()
    at.file_uploader(key="lib_upload").upload("bad.json", bad, "application/json").run()
    at.button(key="lib_import").click().run()
    ok(at)
    text = next(e.value for e in at.error if "0" in e.value)
    assert "最长出行时间 = 0 不允许：请使用大于 0 的数字（分钟" in text
    assert "is not allowed" not in text
    assert ScenarioStore(scenario_dir).names() == []


# ------------------------------------------------------------------------ compare page
def test_compare_two_saved_scenarios(scenario_dir: Path) -> None:
    store = ScenarioStore(scenario_dir)
    store.save(SMALL.replace(name="两个站点"))
    store.save(SMALL.replace(name="三个站点", n_facilities=3))
    at = start()
    at.switch_page("ui/page_compare.py").run()
    ok(at)
    assert at.title[0].value == "方案对比"
    assert set(at.multiselect(key="cmp_pick").options) == {"两个站点", "三个站点"}
    at.multiselect(key="cmp_pick").set_value(["两个站点", "三个站点"]).run()
    ok(at)
    table = at.dataframe[0].value
    assert list(table.columns) == ["两个站点", "三个站点", "与基准相比：三个站点"]
    assert table.loc["站点数（现有＋新建）", "三个站点"].startswith("3")
    assert table.loc["站点数（现有＋新建）", "与基准相比：三个站点"] == "+1"
    subheaders = [h.value for h in at.subheader]
    assert {"主要指标", "地图对照", "站点增减"} <= set(subheaders)
    added = [md.value for md in at.markdown if md.value.startswith("新增站点")]
    assert added
    assert added[0] != "新增站点：0 个"


def test_scenario_page_and_compare_show_how_fair_the_plans_are(scenario_dir: Path) -> None:
    at = solve(start())
    plan = at.session_state["plan"]
    fair = next(d.value for d in at.dataframe if "含义" in d.value.columns)
    assert list(fair.index) == [
        "出行时间基尼系数",
        "区县之间的差距占比（泰尔指数）",
        "可及率最低的区县",
        "城乡平均出行时间差",
        "城乡可及率差",
        "可及率未达目标的区县",
    ]
    gini = float(fair.loc["出行时间基尼系数", "数值"].lstrip("≥ "))
    assert gini == pytest.approx(plan.tables.kpis["travel_gini"], abs=0.005)
    worst = plan.tables.kpis["worst_county_name"]
    assert fair.loc["可及率最低的区县", "数值"].startswith(worst)
    store = ScenarioStore(scenario_dir)
    store.save(SMALL.replace(name="两个站点"))
    store.save(SMALL.replace(name="三个站点", n_facilities=3))
    at.switch_page("ui/page_compare.py").run()
    at.multiselect(key="cmp_pick").set_value(["两个站点", "三个站点"]).run()
    ok(at)
    table = at.dataframe[0].value
    assert {"出行时间基尼系数", "可及率最低的区县", "可及率未达目标的区县"} <= set(table.index)
    two, three = (
        pipeline.run(SMALL.replace(n_facilities=n)).tables.kpis["counties_below_target"]
        for n in (2, 3)
    )
    diff = table.loc["可及率未达目标的区县", "与基准相比：三个站点"]
    assert diff == ("±0" if two == three else f"{'+' if three > two else '−'}{abs(three - two)}")
    assert any(e.label == "公平性指标的含义" for e in at.expander)


def test_compare_needs_two_saved_scenarios() -> None:
    at = start()
    at.switch_page("ui/page_compare.py").run()
    ok(at)
    assert "至少两个方案" in at.info[0].value


# ------------------------------------------------------------------------ sensitivity page
def test_sensitivity_page_shows_cases_stability_and_the_robust_plan() -> None:
    at = start()
    at.switch_page("ui/page_sensitivity.py").run()
    ok(at)
    at.text_input(key="sens_prevalence").set_value("3.80, 5.29")
    at.text_input(key="sens_speeds").set_value("0.8, 1.2")
    at.radio(key="sens_robust").set_value("coverage")
    at.run()
    assert "4 种情形" in at.info[0].value
    at.button(key="sens_run").click().run()
    ok(at)
    cases, sites, robust = (d.value for d in at.dataframe)
    assert list(cases["患病率（‰）"]) == [3.8, 3.8, 5.29, 5.29]
    assert list(cases["速度系数"]) == [0.8, 1.2, 0.8, 1.2]
    assert set(cases["求解状态"]) <= {"已证明最优", "未证明最优，时限内找到的最好方案"}
    chosen = [s for row in cases["选中的站点"] for s in row.split(";")]
    assert sites["被选中次数"].sum() == len(chosen)
    assert (robust["稳健方案占比"] <= robust["自身最优方案占比"] + 1e-9).all()
    assert any(md.value.startswith("- 共 4 种情形") for md in at.markdown)
    assert any(c.value.startswith("站点稳定性地图") for c in at.caption)
    assert list(sites[["经度（WGS-84）", "纬度（WGS-84）"]].notna().all()) == [True, True]
    at.text_input(key="sens_speeds").set_value("0.8, x").run()
    assert "逗号分隔的数字" in at.error[0].value


# ------------------------------------------------------------------------ trade-off page
def test_trade_off_curve_and_opening_a_point() -> None:
    models = pytest.importorskip("planning.models")
    if not hasattr(models, "trade_off_curve"):
        pytest.skip("planning.models.trade_off_curve is not available yet")
    at = start()
    at.switch_page("ui/page_tradeoff.py").run()
    ok(at)
    at.number_input(key="to_p_min").set_value(1)
    at.number_input(key="to_p_max").set_value(4).run()
    at.button(key="to_run").click().run()
    ok(at)
    table = at.dataframe[0].value
    assert list(table.index) == [1, 2, 3, 4]
    shares = [float(v.rstrip("%")) for v in table["时限内患者占比（%）"]]
    assert shares == sorted(shares)  # more sites never cover fewer patients
    at.selectbox(key="to_pick").set_value(3).run()
    ok(at)
    assert metrics(at)["站点数（现有＋新建）"].startswith("3")
    at.button(key="to_open").click().run()
    ok(at)
    assert at.title[0].value == "康乐家园选址方案"
    assert at.session_state["scenario"]["n_facilities"] == 3
    assert at.number_input(key="sc_n_facilities").value == 3
    assert len(at.session_state["plan"].solution.selected_sites) == 3


def chart_clicks(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, float]]]:
    """Make ``st.altair_chart`` report a click: AppTest cannot click inside a Vega chart.

    The chart is still drawn by Streamlit (so its spec and selection wiring can be checked);
    the event returned is the one the browser sends after a click on a point, as
    ``{"selection": {"pick": [{"p": 3}]}}``. Set ``clicks[chart_key]`` to the selected rows.
    """
    real = st.altair_chart
    clicks: dict[str, list[dict[str, float]]] = {}

    def clicking(chart: object, **kwargs: object) -> dict[str, object]:
        real(chart, **kwargs)  # type: ignore[call-overload]
        assert kwargs["on_select"] == "rerun"
        return {"selection": {"pick": clicks.get(str(kwargs["key"]), [])}}

    monkeypatch.setattr(st, "altair_chart", clicking)
    return clicks


def test_clicking_a_point_on_the_curve_opens_that_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    clicks = chart_clicks(monkeypatch)
    at = start()
    at.switch_page("ui/page_tradeoff.py").run()
    at.number_input(key="to_p_min").set_value(1)
    at.number_input(key="to_p_max").set_value(4).run()
    at.button(key="to_run").click().run()
    ok(at)
    charts = {c.key: c for c in at.get("vega_lite_chart")}
    assert set(charts) == {"to_chart_coverage", "to_chart_travel"}
    for chart in charts.values():
        spec = json.loads(chart.proto.spec)
        (param,) = spec["params"]
        assert param["name"] == "pick"
        assert param["select"] == {"type": "point", "fields": ["p"], "on": "click"}
        assert list(chart.proto.selection_mode) == ["pick"]
    assert any("点击曲线上的点" in c.value for c in at.caption)
    # a number of sites outside the curve is ignored
    clicks["to_chart_coverage"] = [{"p": 99}]
    at.run()
    ok(at)
    assert at.title[0].value == "站点数与覆盖率、出行时间的权衡"
    # a click on the 3-site point of the travel curve opens that plan on the Scenario page
    clicks["to_chart_travel"] = [{"p": 3}]
    at.run()
    ok(at)
    assert at.title[0].value == "康乐家园选址方案"
    assert at.session_state["scenario"]["n_facilities"] == 3
    assert at.number_input(key="sc_n_facilities").value == 3
    assert len(at.session_state["plan"].solution.selected_sites) == 3
    # back on the trade-off page the same (remembered) selection does not open it again
    at.switch_page("ui/page_tradeoff.py").run()
    at.button(key="to_run").click().run()
    ok(at)
    assert at.title[0].value == "站点数与覆盖率、出行时间的权衡"
    assert len(at.get("vega_lite_chart")) == 2


def test_opening_a_plan_from_the_trade_off_page_keeps_the_language() -> None:
    # st.switch_page drops the interrupted run's widget values, the language switch's too
    at = start()
    at.radio(key="lang").set_value("en").run()
    at.switch_page("ui/page_tradeoff.py").run()
    at.number_input(key="to_p_min").set_value(1)
    at.number_input(key="to_p_max").set_value(3).run()
    at.button(key="to_run").click().run()
    at.button(key="to_open").click().run()
    ok(at)
    assert at.title[0].value == "Community rehabilitation siting scenario"
    assert at.radio(key="lang").value == "en"
    assert at.session_state["scenario"]["n_facilities"] == 2


def test_trade_off_over_budget_steps() -> None:
    # every generated candidate costs 1: a budget of b opens at most b sites
    costly = SMALL.replace(candidate_types=[{"name": "generated", "opening_cost": 1.0}])
    at = start(costly)
    at.switch_page("ui/page_tradeoff.py").run()
    ok(at)
    at.radio(key="to_axis").set_value("budget").run()
    ok(at)
    at.number_input(key="to_b_min").set_value(1.0)
    at.number_input(key="to_b_max").set_value(3.0)
    at.number_input(key="to_b_n").set_value(3).run()
    at.button(key="to_run").click().run()
    ok(at)
    table = at.dataframe[0].value
    assert list(table.index) == ["1", "2", "3"]
    assert [int(v) for v in table["站点数"]] == [1, 2, 3]
    shares = [float(v.rstrip("%")) for v in table["时限内患者占比（%）"]]
    assert shares == sorted(shares)
    at.button(key="to_open_budget").click().run()
    ok(at)
    assert at.session_state["scenario"]["constraints"]["budget"] == 3.0
    assert at.session_state["scenario"]["n_facilities"] is None


def test_clicking_a_budget_point_opens_that_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    clicks = chart_clicks(monkeypatch)
    costly = SMALL.replace(candidate_types=[{"name": "generated", "opening_cost": 1.0}])
    at = start(costly)
    at.switch_page("ui/page_tradeoff.py").run()
    at.radio(key="to_axis").set_value("budget").run()
    at.number_input(key="to_b_min").set_value(1.0)
    at.number_input(key="to_b_max").set_value(3.0)
    at.number_input(key="to_b_n").set_value(3).run()
    at.button(key="to_run").click().run()
    ok(at)
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["params"][0]["select"]["fields"] == ["budget"]
    clicks["to_chart_coverage"] = [{"budget": 2.0}]
    at.run()
    ok(at)
    assert at.title[0].value == "康乐家园选址方案"
    assert at.session_state["scenario"]["constraints"]["budget"] == 2.0
    assert at.session_state["scenario"]["n_facilities"] is None
    assert len(at.session_state["plan"].solution.selected_sites) == 2


def test_trade_off_refuses_a_bad_range() -> None:
    at = start()
    at.switch_page("ui/page_tradeoff.py").run()
    at.number_input(key="to_p_min").set_value(5)
    at.number_input(key="to_p_max").set_value(2).run()
    ok(at)
    assert any("不能小于" in e.value for e in at.error)


# ------------------------------------------------------------------------ rollout page
def test_rollout_page_is_registered_when_present() -> None:
    if not (ROOT / "ui" / "rollout_page.py").exists():
        pytest.skip("ui/rollout_page.py (issue 8) is not in this checkout")
    at = start()
    at.switch_page("ui/page_rollout.py").run()
    ok(at)
    assert at.title
    assert at.title[0].value != "康乐家园选址方案"


def test_patient_count_upload_replaces_the_estimate(scenario_dir: Path) -> None:
    at = start()
    at.switch_page("ui/page_region.py").run()
    data = "区县,在册患者数\n城厢区,2000\n荔城区,3\n".encode()
    at.file_uploader(key="rg_pat_upload").upload("counts.csv", data, "text/csv").run()
    ok(at)
    at.button(key="rg_pat_use").click().run()
    ok(at)
    assert any("已载入患者数" in s.value for s in at.success)
    stored = Path(at.session_state["scenario"]["patients_file"])
    assert stored.parent == scenario_dir / "files"
    table = next(d.value for d in at.dataframe if "常住人口" in d.value.columns)
    shown = dict(zip(table["区县"], table["估算患者（人）"], strict=True))
    # small counts never shown, nor given back by the region total (2,003) less the others
    assert shown == {"城厢区": "≥1,998", "荔城区": "<5"}
    at.switch_page("ui/page_scenario.py").run()
    solve(at)
    plan = at.session_state["plan"]
    assert plan.counties["patients"].to_dict() == {"350302": 2000.0, "350304": 3.0}


def test_person_level_patient_list_is_refused(scenario_dir: Path) -> None:
    at = start()
    at.switch_page("ui/page_region.py").run()
    data = "姓名,身份证号,区县\n张三,350302199001011234,城厢区\n".encode()
    at.file_uploader(key="rg_pat_upload").upload("list.csv", data, "text/csv").run()
    at.button(key="rg_pat_use").click().run()
    ok(at)
    assert at.error
    assert at.session_state["scenario"]["patients_file"] is None
    assert not (scenario_dir / "files").exists()
    page_text = " ".join(str(d.value.to_dict()) for d in at.dataframe)
    assert "张三" not in page_text
    assert "350302199001011234" not in page_text


def test_region_without_census_keeps_the_uploads_usable() -> None:
    at = start(scenario=None)
    at.switch_page("ui/page_region.py").run()
    at.selectbox(key="rg_province").set_value("香港特别行政区").run()  # outside the census
    ok(at)
    assert any("没有人口数据（2020 年人口普查无数据）" in e.value for e in at.error)
    assert at.file_uploader(key="rg_pat_upload")
    assert at.file_uploader(key="rg_fac_upload")


def test_whole_province_leaves_out_counties_without_census() -> None:
    at = start()
    at.switch_page("ui/page_region.py").run()
    at.selectbox(key="rg_city").set_value("__whole__").run()
    ok(at)
    scenario = at.session_state["scenario"]
    assert scenario["region"] == "福建省"
    picked = at.multiselect(key="rg_counties").value
    assert "350300" not in picked  # city codes are not counties
    assert "350302" in picked  # 城厢区
    # every county with census figures picked: the whole province, as `--region 福建省`
    assert scenario["counties"] is None
    assert len(picked) > 80
    assert any("金门县" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "常住人口" in d.value.columns)
    assert len(table) == len(picked)
    assert not at.error


# ------------------------------------------------------------------------------ privacy
def test_streamlit_usage_statistics_are_off_in_the_project_config() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorLinks"] is False
    assert config["server"]["address"] == "localhost"  # no public-IP look-up at start-up


def test_starting_the_server_looks_up_nothing_online(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the project's config, the start-up banner does not ask for the public IP."""
    from streamlit import config as st_config  # noqa: PLC0415
    from streamlit import net_util  # noqa: PLC0415
    from streamlit.web import bootstrap  # noqa: PLC0415

    print_url = getattr(bootstrap, "_print_url", None) or getattr(bootstrap, "_print_urls", None)
    if print_url is None:
        pytest.skip("this Streamlit release prints its URLs elsewhere (private function renamed)")
    asked: list[str] = []
    monkeypatch.setattr(net_util, "get_external_ip", lambda: asked.append("external") or None)
    monkeypatch.chdir(ROOT)
    st_config.get_config_options(force_reparse=True)
    try:
        assert st_config.get_option("server.address") == "localhost"
        print_url(is_running_hello=False)  # what `streamlit run` prints at start-up
    finally:
        st_config.get_config_options(force_reparse=True)
    assert asked == []


def test_the_app_makes_no_network_call_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Open every page and solve with outgoing connections blocked: none may be attempted."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            msg = f"network call attempted: {address!r}"
            raise OSError(msg)
        real_connect(self, address)  # type: ignore[arg-type]

    def guarded_getaddrinfo(host: object, *_args: object, **_kwargs: object) -> list[object]:
        attempts.append(host)
        msg = f"name lookup attempted: {host!r}"
        raise OSError(msg)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    with pytest.raises(OSError, match="attempted"):  # the guard works
        socket.create_connection(("127.0.0.1", 9))
    attempts.clear()
    at = solve(start())
    for page in ("ui/page_region.py", "ui/page_compare.py", "ui/page_tradeoff.py"):
        at.switch_page(page).run()
        ok(at)
    assert attempts == []
