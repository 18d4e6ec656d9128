"""Sensitivity runs (planning/sensitivity.py): identical to separate solves, stability, robust."""

from __future__ import annotations

import pandas as pd
import pytest

from planning import pipeline
from planning.errors import ScenarioError
from planning.scenario import Scenario
from planning.sensitivity import CASE_FIGURES, _fixed_plan, run_sensitivity, vary

SMALL = Scenario(
    counties=("城厢区", "荔城区"), cell_size_m=4000, candidate_spacing_m=6000, n_facilities=2
)


def test_vary_scales_every_speed_and_keeps_the_rest() -> None:
    s = vary(SMALL, prevalence_per_mille=3.8, speed_factor=1.25)
    assert s.prevalence_per_mille == 3.8
    assert s.travel.urban_speed_kmh == pytest.approx(1.25 * SMALL.travel.urban_speed_kmh)
    assert s.travel.rural_speed_kmh == pytest.approx(1.25 * SMALL.travel.rural_speed_kmh)
    assert s.replace(prevalence_per_mille=SMALL.prevalence_per_mille, travel=SMALL.travel) == SMALL
    assert vary(SMALL, prevalence_per_mille=None, speed_factor=1.0) == SMALL
    road = SMALL.replace(travel={"mode": "network", "road_speeds_kmh": {"primary": 50}})
    fast = vary(road, prevalence_per_mille=None, speed_factor=2.0).travel.road_speeds_kmh
    assert fast["urban:primary"] == fast["rural:primary"] == 100.0  # the scenario's own
    assert fast["urban:motorway"] == 120.0  # the default (60, 100) x 2
    assert fast["walk"] == pytest.approx(2 * road.travel.access_speed_kmh)
    with pytest.raises(ScenarioError, match="above 0"):
        vary(SMALL, prevalence_per_mille=None, speed_factor=0.0)


def test_estimated_travel_times_scale_with_the_speed_factor() -> None:
    base = pipeline.prepare(SMALL).travel.table.set_index(["demand_id", "site_id"])["travel_min"]
    slow = pipeline.prepare(vary(SMALL, prevalence_per_mille=None, speed_factor=0.8))
    times = slow.travel.table.set_index(["demand_id", "site_id"])["travel_min"]
    both = base.index.intersection(times.index)
    assert len(both) > 0
    assert (times[both] * 0.8).to_numpy() == pytest.approx(base[both].to_numpy())


def test_every_case_is_the_separate_solve_and_stability_counts_them() -> None:
    res = run_sensitivity(SMALL, prevalence_per_mille=[3.8, 5.29], speed_factors=[0.8, 1.2])
    assert len(res.cases) == 4
    assert list(zip(res.cases["prevalence_per_mille"], res.cases["speed_factor"], strict=True)) == [
        (3.8, 0.8),
        (3.8, 1.2),
        (5.29, 0.8),
        (5.29, 1.2),
    ]
    counts: dict[str, int] = {}
    for (_, row), plan in zip(res.cases.iterrows(), res.plans, strict=True):
        alone = pipeline.run(
            vary(
                SMALL,
                prevalence_per_mille=row["prevalence_per_mille"],
                speed_factor=row["speed_factor"],
            )
        )
        assert plan.solution.selected_sites == alone.solution.selected_sites
        assert row["sites"] == ";".join(alone.solution.selected_sites)
        for fig in CASE_FIGURES:
            assert row[fig] == alone.tables.kpis[fig] or (
                isinstance(row[fig], float) and row[fig] == pytest.approx(alone.tables.kpis[fig])
            )
        for s in alone.solution.selected_sites:
            counts[s] = counts.get(s, 0) + 1
    assert res.stability["times_chosen"].to_dict() == counts
    assert set(res.safe_sites) == {s for s, n in counts.items() if n == 4}
    # a uniform prevalence scales the patients, not the uncapacitated plan
    low, high = res.cases.iloc[0], res.cases.iloc[2]
    assert low["sites"] == high["sites"]
    assert high["patients_total"] / low["patients_total"] == pytest.approx(5.29 / 3.8, rel=1e-3)
    assert high["share_within"] == pytest.approx(low["share_within"], abs=1e-3)


def test_robust_plan_is_never_worse_in_its_worst_case_than_any_case_plan() -> None:
    res = run_sensitivity(SMALL, speed_factors=[0.6, 1.0, 1.4], robust="coverage")
    rob = res.robust
    assert rob is not None and rob.status == "optimal"
    table = res.robust_cases
    assert table is not None
    assert (table["robust_within"] <= table["own_within"] + 1e-6).all()
    assert table["robust_share"].min() == pytest.approx(rob.worst, abs=1e-6)
    # each case's own plan, judged over every case, has a worst share no better
    for own in res.plans:
        worst = min(
            _fixed_plan(p.inputs, p.scenario, own.solution.selected_sites).tables.kpis[
                "share_within"
            ]
            for p in res.plans
        )
        assert worst <= rob.worst + 1e-9
    assert res.stability["robust"].sum() == len(rob.selected_sites)


def test_command_line_writes_the_tables_and_the_workbook(tmp_path, capsys) -> None:
    from openpyxl import load_workbook  # noqa: PLC0415

    from planning.cli import main  # noqa: PLC0415

    scenario = tmp_path / "plan" / "scenario.json"
    scenario.parent.mkdir()
    scenario.write_text(SMALL.to_json(), encoding="utf-8")
    out = tmp_path / "sens"
    args = ["sensitivity", str(scenario), "--prevalence", "3.80,5.29", "--speed-factor", "0.8,1.2"]
    assert main([*args, "--robust", "coverage", "--out", str(out), "--lang", "en"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("4 cases: prevalence 3.80 – 5.29 ‰, speed factor 0.80 – 1.20.")
    assert "Robust plan (proven optimal)" in shown
    cases = pd.read_csv(out / "cases.csv", encoding="utf-8-sig", index_col="case")
    assert list(cases["prevalence_per_mille"]) == [3.8, 3.8, 5.29, 5.29]
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", index_col="site_id")
    chosen = [s for row in cases["sites"] for s in row.split(";")]
    assert sites["times_chosen"].sum() == len(chosen)
    robust = pd.read_csv(out / "robust.csv", encoding="utf-8-sig", index_col="case")
    assert (robust["robust_share"] <= robust["own_share"] + 1e-9).all()
    book = load_workbook(out / "sensitivity.xlsx")
    assert book.sheetnames == ["Cases", "Site stability", "Robust plan"]
    assert book["Cases"]["B1"].value == "Prevalence (‰)"
    assert book["Cases"]["D2"].value == "proven optimal"  # words, not codes
    assert set(cases["status"]) == {"optimal"}  # the CSV keeps the codes
    assert Scenario.from_json((out / "scenario.json").read_text(encoding="utf-8")) == SMALL
    assert (out / "summary.txt").read_text(encoding="utf-8").strip() in shown


def test_cases_solved_in_separate_processes_are_the_same() -> None:
    one = run_sensitivity(SMALL, speed_factors=[0.8, 1.2])
    two = run_sensitivity(SMALL, speed_factors=[0.8, 1.2], workers=2)
    pd.testing.assert_frame_equal(one.cases, two.cases)
    pd.testing.assert_frame_equal(one.stability, two.stability)


def test_robust_status_names_the_gap_when_not_proven() -> None:
    from planning.report.sensitivity import _status  # noqa: PLC0415

    assert _status("optimal", 0.0, "en") == "proven optimal"
    assert _status("feasible", 0.034, "en").endswith("at most 3.4% from the best possible")
    assert _status("feasible", None, "zh") == "未证明最优，时限内找到的最好方案"
