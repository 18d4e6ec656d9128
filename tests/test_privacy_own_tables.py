"""Own-travel-table mode (``solve --travel-times``) hides small counts like the plan (#19).

Its ``result.json``, ``assignment.csv``, ``--json`` and text summary showed every line, load
and MCLP objective exactly, so a demand point of 3 patients read "3".
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from planning.cli import main
from tests.test_models_tables import write_tables


def _number(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) else None


def _attack(result: dict[str, object], threshold: int) -> None:
    """Every hidden line or load stays hidden: no subtraction of shown counts gives it."""
    lines = result["assignment"]
    loads = result["site_load"]
    assert isinstance(lines, list) and isinstance(loads, list)
    for load in loads:
        members = [r for r in lines if r["site_id"] == load["site_id"]]
        hidden = [r for r in members if _number(r["patients"]) is None]
        total = _number(load["patients"])
        if total is not None and len(hidden) == 1:  # the one hidden line = load - the rest
            rest = total - sum(float(r["patients"]) for r in members if r not in hidden)
            assert not 0 < rest < threshold, (load, members)
    for r in lines:  # no exact count below the threshold anywhere
        v = _number(r["patients"])
        assert v is None or not 0 < v < threshold, r
    for load in loads:
        v = _number(load["patients"])
        assert v is None or not 0 < v < threshold, load


@pytest.mark.parametrize(
    "model",
    [
        ["--model", "p-median", "--sites", "1"],
        ["--model", "p-median", "--sites", "2", "--capacity-column", "cap"],
        ["--model", "lscp", "--max-minutes", "10"],
        ["--model", "p-center", "--sites", "2"],
    ],
)
def test_own_tables_hide_small_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: list[str]
) -> None:
    args = write_tables(tmp_path)  # demand a: 10, b: 5, c: 3 patients
    out = tmp_path / "plan"
    assert main([*args, *model, "--json", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert printed == written
    _attack(written, 5)
    shown = {r["demand_id"]: r["patients"] for r in written["assignment"]}
    assert shown["c"] == "<5"  # 3 patients
    assert shown["a"] == 10.0
    with (out / "assignment.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["demand_id"]: r["patients"] for r in rows} == {
        d: v if isinstance(v, str) else str(round(v)) for d, v in shown.items()
    }
    # figures weighted by the lines' patients would give c's 3 back (167 - 10 x 12 - 5 x 4)
    assert written["mean_travel_min"] is None
    if model[1] == "p-median":
        assert written["objective"] is None
        assert written["bound"] is None
    # with a threshold the counts meet, everything is exact as before
    assert main([*args, *model, "--json", "--privacy-threshold", "3"]) == 0
    exact = json.loads(capsys.readouterr().out)
    assert {r["demand_id"]: r["patients"] for r in exact["assignment"]}["c"] == 3.0
    assert isinstance(exact["objective"], float)


def test_own_tables_mclp_objective_of_a_small_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = write_tables(tmp_path)
    (tmp_path / "d.csv").write_text("demand_id,weight\na,0\nb,0\nc,3\n", encoding="utf-8")
    out = tmp_path / "plan"
    run = [*args, "--model", "mclp", "--sites", "1", "--max-minutes", "10", "--out", str(out)]
    assert main(run) == 0
    text = capsys.readouterr().out
    assert "objective <5" in text  # not "objective 3"
    assert "objective 3" not in text
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["objective"] == "<5"
    assert result["bound"] == "<5"  # the bound with a gap of 0 is the objective
    assert result["coverage_share"] is None  # 100%: with the loads it is the total, 3
    assert [r["patients"] for r in result["assignment"] if r["patients"] != 0] == ["<5"]
    assert all(r["patients"] == "<5" for r in result["site_load"])
    csv_text = (out / "assignment.csv").read_text(encoding="utf-8")
    assert ",3.0" not in csv_text and ",3\n" not in csv_text


def test_own_tables_mclp_beyond_reach_few(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = write_tables(tmp_path)
    (tmp_path / "d.csv").write_text("demand_id,weight\na,3\nb,50\nc,40\n", encoding="utf-8")
    run = [*args, "--model", "mclp", "--sites", "1", "--max-minutes", "10", "--json"]
    assert main(run) == 0
    result = json.loads(capsys.readouterr().out)
    # s2 covers b and c (90 patients); a's 3 are beyond reach: the objective 90 with the
    # share 90/93 would give the 3 back (90 / share - 90), so the share is left out
    assert result["selected_sites"] == ["s2"]
    assert result["coverage_share"] is None
    assert result["objective"] == 90.0  # without the share, the total (93) is not known
