"""Batch planning on Dask: a small batch on a 2-worker LocalCluster, resume, failures, the CLI.

Coarse cells and candidate grid and short time limits keep each unit under a second; the
cluster is shared by the library tests (the command-line tests start their own, as a user's
run does). Unit failures: 20 sites in 厦门市, which has 18 candidates on a 10 km grid; 5 sites
in 城厢区 and 荔城区 (4 candidates each). 泉州市 is planned without 金门县 (no census), with a
note.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dask
import pandas as pd
import pytest
import shapely
from distributed import Client, LocalCluster, WorkerPlugin

from planning import cli, pipeline, report, settings
from planning.batch import (
    BatchProgress,
    batch_units,
    read_batch,
    reusable_plan,
    run_batch,
    scenario_hash,
    unit_boundaries,
    unit_scenario,
)
from planning.batch._task import MARKER, PARTIAL_PREFIX, move_into_place
from planning.errors import DataError
from planning.report.batch import template_title
from planning.results.rollup import public_rollup, rollup_table
from planning.scenario import Scenario

TEMPLATE = Scenario(
    name="batch test",
    cell_size_m=5000,
    candidate_spacing_m=10000,
    time_limit_s=10,
    n_facilities=20,
)
UNITS = ["厦门市", "莆田市", "泉州市"]  # 厦门市: 20 sites > 18 candidates; 泉州市: 金门县 no census
PLAN_FILES = {
    "sites.geojson",
    "sites.csv",
    "assignments.csv",
    "counties.csv",
    "summary.json",
    "scenario.json",
}


@pytest.fixture(scope="module")
def client():
    # one failure marks a task as lost (the batch's own LocalCluster allows one retry)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # no fixed port: batches can run side by side
            silence_logs=logging.ERROR,
        )
    c = Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANGLE_CACHE_DIR", str(tmp_path / "cache"))


def _run(out: Path, client: Client, **kw):
    return run_batch(TEMPLATE, "福建省", "prefecture", out, only=UNITS, client=client, **kw)


@pytest.fixture(scope="module")
def finished(client: Client, tmp_path_factory: pytest.TempPathFactory):
    """The small batch, run once: (folder, result, progress reports)."""
    base = tmp_path_factory.mktemp("batch")
    seen: list[BatchProgress] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KANGLE_CACHE_DIR", str(base / "cache"))
        result = _run(base / "fujian", client, progress=seen.append, lang="en")
    return base / "fujian", result, seen


@pytest.fixture
def copied(finished, tmp_path: Path) -> Path:
    """A copy of the finished batch folder, for a test to change and run again."""
    out = tmp_path / "fujian"
    shutil.copytree(finished[0], out)
    return out


def _status(result) -> dict[str, tuple[str, bool]]:
    return {u.unit.name: (u.status, u.reused) for u in result.units}


def _run_ids(out: Path) -> dict[str, str]:
    return {
        p.parent.name: json.loads(p.read_text(encoding="utf-8"))["run_id"]
        for p in out.glob(f"*/{MARKER}")
    }


# ------------------------------------------------------------------------ units
def test_units_of_a_province_the_nation_and_a_city() -> None:
    fujian = batch_units("福建省", "prefecture")
    assert [u.name for u in fujian.units][:3] == ["福州市", "厦门市", "莆田市"]
    assert len(fujian.units) == 9 and fujian.name == "福建省"
    assert fujian.units[2].folder == "350300-莆田市"
    nation = batch_units("全国", "province")
    assert len(nation.units) == 34 and nation.name == "全国"
    prefectures = batch_units("全国", "prefecture")
    names = {u.name for u in prefectures.units}
    assert len(prefectures.units) >= 330
    assert {"福州市", "五指山市", "仙桃市", "北京市"} <= names  # province-administered too
    assert [u.name for u in batch_units("莆田市", "county").units] == [
        "城厢区",
        "涵江区",
        "荔城区",
        "秀屿区",
        "仙游县",
    ]
    assert [u.adcode for u in batch_units("福建省", "prefecture", only=["莆田"]).units] == [
        "350300"
    ]
    with pytest.raises(DataError, match="莆田市 has no units at the province level"):
        batch_units("莆田市", "province")
    with pytest.raises(DataError, match="not a unit of 福建省"):
        batch_units("福建省", "prefecture", only=["杭州市"])


def test_unit_scenario_and_fingerprint(tmp_path: Path) -> None:
    unit = batch_units("福建省", "prefecture", only=["莆田市"]).units[0]
    sc = unit_scenario(TEMPLATE.replace(counties=["城厢区"]), unit)
    assert (sc.region, sc.counties, sc.name) == ("350300", None, "batch test · 莆田市")
    assert scenario_hash(sc) == scenario_hash(unit_scenario(TEMPLATE, unit))
    assert scenario_hash(sc) != scenario_hash(sc.replace(time_limit_s=9))
    # the name changes no figure: a nameless template's units are named in the run's language
    nameless = TEMPLATE.replace(name=None)
    named: dict[str, Scenario] = {}
    with pytest.MonkeyPatch.context() as mp:
        for lang in ("zh", "en"):
            mp.setenv("KANGLE_LANG", lang)
            named[lang] = unit_scenario(nameless, unit)
    assert (named["zh"].name, named["en"].name) == ("莆田市方案", "莆田市 plan")
    assert scenario_hash(named["zh"]) == scenario_hash(named["en"]) == scenario_hash(sc)
    table = tmp_path / "facilities.csv"
    table.write_text("name,lon,lat\nA,119.0,25.4\n", encoding="utf-8")
    with_file = sc.replace(facilities_file=str(table))
    before = scenario_hash(with_file)
    table.write_text("name,lon,lat\nA,119.1,25.4\n", encoding="utf-8")
    assert scenario_hash(with_file) != before  # same path, other content: plan again


def test_unit_outlines_are_clean_polygons_and_the_template_is_named() -> None:
    outlines = unit_boundaries(batch_units("福建省", "prefecture"))
    assert len(outlines) == 9 and outlines.is_valid.all()
    assert set(outlines.geom_type) <= {"Polygon", "MultiPolygon"}
    # counties simplified one by one left 519 slivers between them (stray strokes on the
    # map); no prefecture of Fujian has an enclave, so no hole is left
    holes = [
        ring for geom in outlines.geometry for p in shapely.get_parts(geom) for ring in p.interiors
    ]
    assert not holes
    assert 12_000 < outlines.loc["350100", "area_km2"] < 12_500  # 福州市, from the full outline
    # a nameless template's title follows its region (莆田市示范方案), which each unit replaced
    assert template_title(Scenario(), "en") == "unnamed scenario"
    assert template_title(TEMPLATE, "zh") == "batch test"


def test_solver_threads_setting_reaches_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    from planning.models._mip import HighsSession, MipBuilder  # noqa: PLC0415

    b = MipBuilder()
    b.add_cols(2, cost=1.0, ub=1.0, integer=True)
    monkeypatch.setenv("KANGLE_SOLVER_THREADS", "1")
    assert settings.solver_threads() == 1
    assert HighsSession(b.build()).h.getOptionValue("threads")[1] == 1
    monkeypatch.setenv("KANGLE_SOLVER_THREADS", "0")
    assert settings.solver_threads() is None


# ------------------------------------------------------------------------ batch
def test_small_batch_isolates_a_failure_and_writes_the_rollup(finished) -> None:
    out, result, seen = finished
    assert _status(result) == {
        "厦门市": ("failed", False),
        "莆田市": ("done", False),
        "泉州市": ("done", False),
    }
    (xiamen,) = result.failed
    assert xiamen.error is not None and xiamen.error.kind == "planning"
    assert "20 sites requested but there are only 18 sites" in xiamen.message("en")
    assert not (out / "350200-厦门市").exists()
    # each unit: the files of `solve --out`, the same plan as a single run, and the record
    putian = out / "350300-莆田市"
    assert {p.name for p in putian.iterdir()} == {*PLAN_FILES, MARKER}
    single = pipeline.run(unit_scenario(TEMPLATE, result.units[1].unit))
    summary = json.loads((putian / "summary.json").read_text(encoding="utf-8"))
    assert summary == json.loads(json.dumps(report.plan_summary(single), default=str)) | {
        "solve_time_s": summary["solve_time_s"]
    }
    assert not list(out.glob(f"{PARTIAL_PREFIX}*"))
    # progress: counts, elapsed time, the units being worked on
    assert seen[-1].fraction == 1.0 and (seen[-1].done, seen[-1].failed) == (2, 1)
    assert [p.elapsed_s for p in seen] == sorted(p.elapsed_s for p in seen)
    stages = {stage for p in seen for _, stage in p.running}
    assert stages & {"preparing", "solving", "writing", "waiting"}
    assert "3 of 3 units finished (1 failed, 0 reused)" in seen[-1].text("en")
    # roll-up: per unit and in total, against the milestones
    csv = pd.read_csv(out / "batch_summary.csv", dtype={"adcode": str}, encoding="utf-8-sig")
    assert csv["adcode"].tolist() == ["350200", "350300", "350500", "total"]
    # a county without census (金门县) is left out of its unit with a note, the unit planned
    quanzhou = result.units[2]
    assert quanzhou.status == "done" and "金门县" in quanzhou.notes("en")
    assert "金门县" in csv.loc[2, "notes"]
    assert csv["name"].iloc[-1] == "Total (2 of 3 units)"
    done = [
        json.loads((out / f / "summary.json").read_text())
        for f in ("350300-莆田市", "350500-泉州市")
    ]
    total = sum(s["kpis"]["patients_total"] for s in done)
    assert float(csv["patients_total"].iloc[-1].replace(",", "")) == pytest.approx(total, abs=1)
    assert csv["n_sites"].iloc[-1] == 40
    assert csv.loc[0, "status"] == "failed" and "18 sites" in csv.loc[0, "message"]
    for year in (2023, 2024, 2025):
        assert {f"county_target_met_{year}", f"patient_share_short_{year}"} <= set(csv.columns)
    from openpyxl import load_workbook  # noqa: PLC0415

    wb = load_workbook(out / "batch_summary.xlsx")
    ws = wb.worksheets[0]
    assert ws.cell(1, 2).value == "Unit" and ws.cell(5, 2).value == "Total (2 of 3 units)"
    assert {ws.cell(1, c).value for c in range(1, ws.max_column + 1)} >= {
        "2025 county target 80%",
        "2025 patient target 60%",
        "Why it failed",
    }
    import pypdfium2 as pdfium  # noqa: PLC0415

    page = pdfium.PdfDocument(out / "batch_map_a4.pdf")[0]
    text = page.get_textpage().get_text_range()
    assert "莆田市" in text and "no plan" in text and "2025 targets" in text
    assert (out / "batch_map_a4.png").stat().st_size > 10_000
    again = read_batch(out)
    assert _status(again) == _status(result)
    assert (
        again.table()["patients_total"].tolist()
        == result.table(lang="en")["patients_total"].tolist()
    )


def test_resume_skips_complete_plans_and_redoes_the_rest(copied: Path, client: Client) -> None:
    out = copied
    first = _run_ids(out)
    resumed = _run(out, client)
    assert _status(resumed) == {
        "厦门市": ("failed", False),  # failed units are tried again
        "莆田市": ("done", True),
        "泉州市": ("done", True),
    }
    assert _run_ids(out) == first
    assert "2 unit(s) reused" in "\n".join(resumed.summary_lines(lang="en"))
    # one plan deleted, another half-written (a file missing): both planned again
    shutil.rmtree(out / "350300-莆田市")
    (out / "350500-泉州市" / "sites.csv").unlink()
    redone = _run(out, client)
    assert _status(redone)["莆田市"] == ("done", False)
    assert _status(redone)["泉州市"] == ("done", False)
    assert (out / "350500-泉州市" / "sites.csv").is_file()
    # --force plans everything again
    ids = _run_ids(out)
    forced = _run(out, client, force=True)
    assert not any(u.reused for u in forced.units)
    assert set(_run_ids(out).values()).isdisjoint(ids.values())
    # another scenario: nothing is reused
    for unit in (u.unit for u in forced.units if u.status == "done"):
        assert reusable_plan(out, unit, scenario_hash(unit_scenario(TEMPLATE, unit)))
        other = unit_scenario(TEMPLATE.replace(time_limit_s=9), unit)
        assert reusable_plan(out, unit, scenario_hash(other)) is None


def test_a_killed_run_leaves_nothing_that_looks_finished(copied: Path, client: Client) -> None:
    out = copied
    putian = batch_units("福建省", "prefecture", only=["莆田市"]).units[0]
    digest = scenario_hash(unit_scenario(TEMPLATE, putian))
    assert reusable_plan(out, putian, digest) is not None
    # killed while writing: a temporary folder with some files, never taken as the plan
    partial = out / f"{PARTIAL_PREFIX}350300-莆田市-0badf00d"
    shutil.copytree(out / "350300-莆田市", partial)
    (partial / MARKER).unlink()
    # killed between the two renames of a replacement: the final folder is missing
    shutil.rmtree(out / "350300-莆田市")
    assert reusable_plan(out, putian, digest) is None
    # a folder with every file but no completion record is not complete either
    shutil.copytree(partial, out / "350300-莆田市")
    assert reusable_plan(out, putian, digest) is None
    result = _run(out, client)
    assert _status(result)["莆田市"] == ("done", False)
    assert _status(result)["泉州市"] == ("done", True)
    assert not partial.exists()
    assert reusable_plan(out, putian, digest) is not None


def test_local_workers_drop_only_the_heartbeat_shutdown_race() -> None:
    # a heartbeat in flight when the local scheduler closes printed a traceback on the
    # planner's terminal (seen once in the suite: the CLI batch test's "no Traceback" check)
    from planning.batch.cluster import _not_heartbeat_race, open_cluster  # noqa: PLC0415

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, msg, None, None)

    assert not _not_heartbeat_race(record("Failed to communicate with scheduler during heartbeat."))
    assert _not_heartbeat_race(record("Compute Failed"))
    with open_cluster(workers=1) as local:
        filters = local.run(
            lambda: [f.__name__ for f in logging.getLogger("distributed.worker").filters]
        )
    assert list(filters.values()) == [["_not_heartbeat_race"]]


def test_move_into_place_replaces_an_old_plan_whole(tmp_path: Path) -> None:
    final, tmp = tmp_path / "350300-莆田市", tmp_path / ".partial-x"
    final.mkdir()
    (final / "old.csv").write_text("old")
    tmp.mkdir()
    (tmp / "new.csv").write_text("new")
    move_into_place(tmp, final)
    assert [p.name for p in final.iterdir()] == ["new.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["350300-莆田市"]


def test_a_lost_worker_fails_its_unit_only(tmp_path: Path, client: Client) -> None:
    class KillOn(WorkerPlugin):
        """Kill the worker process when it starts the unit's task (like an out-of-memory kill)."""

        name = "kill-on-unit"

        def __init__(self, suffix: str) -> None:
            self.suffix = suffix

        def transition(self, key, start, finish, **kwargs) -> None:  # noqa: ARG002
            if finish == "executing" and str(key).endswith(self.suffix):
                os._exit(1)

    client.register_plugin(KillOn("-350300"))
    try:
        result = _run(tmp_path / "fujian", client, lang="en")
    finally:
        client.unregister_worker_plugin("kill-on-unit")
        client.wait_for_workers(2, timeout=60)
    assert _status(result) == {
        "厦门市": ("failed", False),
        "莆田市": ("failed", False),
        "泉州市": ("done", False),
    }
    lost = result.units[1]
    assert lost.error is not None and lost.error.kind == "worker_lost"
    assert "died" in lost.message("en")
    csv = pd.read_csv(tmp_path / "fujian" / "batch_summary.csv", dtype={"adcode": str})
    assert "died" in csv.loc[csv["adcode"] == "350300", "message"].item()


def test_a_running_scheduler_is_the_same_code_path(tmp_path: Path, client: Client) -> None:
    # --scheduler tcp://HOST:PORT: the batch connects as a client of its own, runs, disconnects
    address = client.scheduler.address
    assert address.startswith("tcp://")
    seen: list[BatchProgress] = []
    result = run_batch(
        TEMPLATE,
        "福建省",
        "prefecture",
        tmp_path / "remote",
        only=["莆田市"],
        scheduler=address,
        progress=seen.append,
    )
    assert _status(result) == {"莆田市": ("done", False)}
    assert result.workers == 2 and seen[-1].fraction == 1.0
    assert reusable_plan(
        tmp_path / "remote",
        result.units[0].unit,
        scenario_hash(unit_scenario(TEMPLATE, result.units[0].unit)),
    )
    assert len(client.nthreads()) == 2  # the cluster is left running for its other clients


def test_rollup_keeps_hidden_what_a_unit_hides() -> None:
    units = pd.DataFrame(
        {
            "status": ["done", "done", "failed"],
            "name": ["a", "b", "c"],
            "n_sites": [3, 4, None],
            "n_sites_existing": [0, 1, None],
            "n_sites_new": [3, 3, None],
            "n_counties": [5, 6, None],
            "counties_with_site": [3, 6, None],
            "patients_total": [1000.0, 2000.0, None],
            "patients_within": [997.0, 1500.0, None],
        },
        index=pd.Index(["1", "2", "3"], name="adcode"),
    )
    table = rollup_table(units)
    assert table.loc["total", "n_sites"] == 7 and table.loc["total", "n_failed"] == 1
    assert table.loc["1", "counties_short_2025"] == 1  # 80 % of 5 counties is 4
    assert table.loc["1", "county_target_met_2023"] is True
    assert table.loc["3", "county_target_met_2023"] is None
    shown = public_rollup(table, threshold=5, hidden={"2": {"patients_within": "≥1200"}})
    # unit 1: 3 beyond reach would be given away; unit 2 hides what its own files hide
    assert shown.loc["1", "patients_within"].startswith("≥")
    assert shown.loc["2", "patients_within"] == "≥1,200"
    assert shown.loc["total", "patients_total"] == "3,000"
    assert pd.isna(shown.loc["1", "share_within"])
    assert shown.loc["1", "patient_target_met_2025"] is None
    within = [shown.loc[i, "patients_within"] for i in ("1", "2", "total")]
    assert sum(not str(w).startswith(("≥", "<")) for w in within) <= 1


# ------------------------------------------------------------------------ command line
def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "planning", "batch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _done(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def test_cli_batch_by_county_reports_failures_and_resumes(tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    TEMPLATE.replace(n_facilities=5).save(template)
    out = tmp_path / "putian"
    args = ("--region", "莆田市", "--by", "county", "--scenario", str(template))
    code, stdout, stderr = _done(_cli(*args, "--out", str(out), "--workers", "2"))
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert "error: 2 of 5 units failed" in stderr and "batch_summary.csv" in stderr
    assert "failed 城厢区: mclp: 5 sites requested but there are only 4 sites" in stderr
    assert "done 仙游县" in stderr
    assert "Batch: 莆田市 by county, 5 units on 2 worker(s)" in stdout
    assert "Failed 350302 城厢区" in stdout
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        "350303-涵江区",
        "350305-秀屿区",
        "350322-仙游县",
    ]
    # the units that have a plan: all kept, no cluster needed, exit 0
    done = "涵江区,秀屿区,仙游县"
    code, stdout, stderr = _done(_cli(*args, "--out", str(out), "--only", done))
    assert code == 0, stderr
    assert "3 unit(s) reused from an earlier run" in stdout
    assert "on 0 worker(s)" in stdout and "done 仙游县" not in stderr
    summary = pd.read_csv(out / "batch_summary.csv", dtype={"adcode": str})
    assert summary["adcode"].tolist() == ["350303", "350305", "350322", "total"]


def test_cli_bad_input_is_one_message_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": "mclp", "max_travel_min": -3}', encoding="utf-8")
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    # the unreachable scheduler as a user meets it (a process of its own), the rest in this one
    scheduler = _cli(
        "--region",
        "莆田市",
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--out",
        str(tmp_path / "o3"),
        env={"KANGLE_SCHEDULER_TIMEOUT_S": "3"},
    )
    runs = {
        "template": ["--region", "福建省", "--scenario", str(bad), "--out", str(tmp_path / "o1")],
        "no units": ["--region", "莆田市", "--by", "province", "--out", str(tmp_path / "o2")],
        "not writable": ["--region", "莆田市", "--out", str(a_file / "out")],
        "workers": ["--region", "莆田市", "--workers", "0", "--out", str(tmp_path / "o5")],
    }
    expected = {
        "template": "max_travel_min",
        "no units": "莆田市 has no units at the province level",
        "scheduler": "Cannot reach the Dask scheduler at tcp://127.0.0.1:9",
        "not writable": "Cannot write to the output folder",
        "workers": "--workers 0 is not allowed: use a whole number of at least 1",
    }
    results = {}
    for what, args in runs.items():
        code = cli.main(["batch", *args])
        results[what] = (code, capsys.readouterr().err)
    code, _, stderr = _done(scheduler)
    results["scheduler"] = (code, stderr)
    for what, (code, stderr) in results.items():
        assert code == 2, (what, stderr)
        assert expected[what] in stderr, (what, stderr)
        assert "Traceback" not in stderr, what
        assert len([line for line in stderr.splitlines() if "error:" in line]) == 1, what
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "bad.json"]  # no o1...o5


# ------------------------------------------------------------------------ app
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _batch_page(scenario: Scenario):
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["scenario"] = scenario.to_dict()
    at.run()
    at.switch_page("ui/page_batch.py").run()
    at.radio(key="lang").set_value("en").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_app_batch_page_shows_a_batch_and_opens_a_unit(finished) -> None:
    out, _, _ = finished
    at = _batch_page(TEMPLATE)
    at.text_input(key="bt_folder_福建省_prefecture").set_value(str(out)).run()
    assert not at.exception, [e.message for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Units": "3", "Planned": "2", "Failed": "1", "Reused": "0"}
    assert "厦门市" in at.warning[0].value and "18 sites" in at.warning[0].value
    table = at.dataframe[0].value
    assert table["Unit"].tolist() == ["厦门市", "莆田市", "泉州市", "Total (2 of 3 units)"]
    assert set(table["2025 county target 80%"]) <= {"met", "short", "—"}
    at.selectbox(key="bt_unit").set_value("350500").run()
    at.button(key="bt_open").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["scenario"]["region"] == "350500"
    assert at.session_state["scenario"]["name"] == "batch test · 泉州市"


def test_app_batch_page_runs_a_batch(tmp_path: Path) -> None:
    # 宁夏: five prefectures, started from the page
    at = _batch_page(TEMPLATE.replace(n_facilities=3))
    at.selectbox(key="bt_region").set_value("宁夏回族自治区").run()
    at.text_input(key="bt_folder_宁夏回族自治区_prefecture").set_value(str(tmp_path / "nx")).run()
    at.number_input(key="bt_workers").set_value(2)
    at.button(key="bt_start").click().run()
    assert not at.exception, [e.message for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Units"] == "5"
    assert int(metrics["Planned"]) + int(metrics["Failed"]) == 5
    assert (tmp_path / "nx" / "batch_summary.xlsx").is_file()
