"""Bring your own travel times: ``python -m planning solve --travel-times ...``."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.cli import main
from planning.errors import DataError, PlanningError
from planning.models.tables import (
    load_candidate_table,
    load_demand_table,
    load_model_input,
    load_travel_table,
)


def write_tables(tmp_path: Path, *, minutes_b_s1: str = "20") -> list[str]:
    (tmp_path / "tt.csv").write_text(
        f"demand_id,site_id,minutes\na,s1,5\na,s2,12\nb,s1,{minutes_b_s1}\nb,s2,4\nc,s2,9\n",
        encoding="utf-8",
    )
    (tmp_path / "d.csv").write_text("demand_id,weight\na,10\nb,5\nc,3\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text(
        "site_id,cost,cap,fixed\ns1,100,12,false\ns2,50,8,否\n", encoding="utf-8"
    )
    return [
        "solve",
        "--travel-times",
        str(tmp_path / "tt.csv"),
        "--demand",
        str(tmp_path / "d.csv"),
        "--candidates",
        str(tmp_path / "c.csv"),
    ]


def test_p_median_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = write_tables(tmp_path)
    # c's 3 patients shown as a number (and the objective 167 = ... + 3 x 9) need a privacy
    # threshold of at most 3 (issue #19; tests/test_privacy_own_tables.py: the default, 5)
    args += ["--privacy-threshold", "3"]
    assert main([*args, "--model", "p-median", "--sites", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # s2 alone: 10*12 + 5*4 + 3*9 = 167; s1 alone cannot serve c
    assert out["status"] == "optimal"
    assert out["objective"] == pytest.approx(167.0)
    assert out["gap"] == 0.0
    assert out["selected_sites"] == ["s2"]
    assert {r["demand_id"]: r["site_id"] for r in out["assignment"]} == {
        "a": "s2",
        "b": "s2",
        "c": "s2",
    }


def test_capacity_column_makes_model_capacitated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*write_tables(tmp_path), "--privacy-threshold", "3"]  # c's 3 patients as a number
    code = main(
        [*args, "--model", "p-median", "--sites", "2", "--capacity-column", "cap", "--json"]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    load = {r["site_id"]: r for r in out["site_load"]}
    assert load["s2"]["patients"] <= 8 + 1e-6
    assert load["s1"]["patients"] <= 12 + 1e-6
    assert sum(r["patients"] for r in out["assignment"]) == pytest.approx(18.0)
    # a -> s1 (5 min), c -> s2 (9), b split: s2 has room for 5 of b? 8 - 3 = 5 -> b at s2
    assert out["objective"] == pytest.approx(10 * 5 + 5 * 4 + 3 * 9)


def test_mclp_text_output_and_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = write_tables(tmp_path)
    out_dir = tmp_path / "plan"
    assert (
        main(
            [*args, "--model", "mclp", "--sites", "1", "--max-minutes", "10", "--out", str(out_dir)]
        )
        == 0
    )
    assert "mclp: optimal" in capsys.readouterr().out
    result = json.loads((out_dir / "result.json").read_text(encoding="utf-8"))
    # within 10 min s1 reaches a (10 patients), s2 reaches b and c (5 + 3)
    assert result["objective"] == pytest.approx(10.0)
    assert result["selected_sites"] == ["s1"]
    assert (out_dir / "assignment.csv").exists()
    assert (out_dir / "scenario.json").exists()


def test_bad_minutes_names_file_row_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = write_tables(tmp_path, minutes_b_s1="twenty")
    assert main([*args, "--model", "lscp", "--json"]) == 2
    err = capsys.readouterr().err
    assert "tt.csv" in err
    assert "row 4" in err
    assert "minutes" in err
    assert "'twenty' is not a number" in err


def test_lscp_infeasible_is_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = write_tables(tmp_path)
    # 3 patients shown as a number needs a privacy threshold of at most 3 (issue #19: "<5")
    assert main([*args, "--model", "lscp", "--max-minutes", "6", "--privacy-threshold", "3"]) == 2
    err = capsys.readouterr().err
    assert "cannot cover 3 patients" in err
    assert "nearest candidate 9 minutes away" in err
    assert main([*args, "--model", "lscp", "--max-minutes", "6"]) == 2
    assert "cannot cover <5 patients" in capsys.readouterr().err  # the default threshold, 5


def test_travel_times_need_demand_and_candidates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = write_tables(tmp_path)
    assert main([*args[:3], "--model", "lscp"]) == 2
    assert "--travel-times also needs --demand and --candidates" in capsys.readouterr().err


def test_unknown_site_in_travel_table(tmp_path: Path) -> None:
    write_tables(tmp_path)
    (tmp_path / "c.csv").write_text("site_id\ns1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"refer to site_id not in c.csv \(e.g. 's2'\)"):
        load_model_input(tmp_path / "tt.csv", tmp_path / "d.csv", tmp_path / "c.csv")


def test_candidate_table_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("site_id,capacity,fixed\ns1,0,maybe\ns1,5,true\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_candidate_table(path)
    msg = str(info.value)
    assert "must be > 0" in msg
    assert "'maybe' is not true/false" in msg
    assert "duplicate id 's1'" in msg
    with pytest.raises(DataError, match="'size'"):
        load_candidate_table(path, capacity_column="size")


_CELLS = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1", "0", "-1", "1.5", "nan", "inf", "1e400", "a", "s1", "true", "是", ""]),
)
_HEADERS = st.sampled_from(
    [
        "demand_id",
        "site_id",
        "minutes",
        "travel_min",
        "weight",
        "cost",
        "capacity",
        "fixed",
        "county",
        "urban",
        "referral_min",
        "candidate_type",
        "",
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(_HEADERS, min_size=1, max_size=5),
    rows=st.lists(st.lists(_CELLS, max_size=6), max_size=6),
    encoding=st.sampled_from(["utf-8", "gbk"]),
)
def test_fuzz_table_loaders_raise_only_planning_errors(headers, rows, encoding) -> None:
    """Every loader of the own-tables route: only the project's own errors may escape."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in r] for r in rows])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))
        loaders = [
            lambda: load_travel_table(path),
            lambda: load_demand_table(path),
            lambda: load_candidate_table(path),
            lambda: load_candidate_table(path, capacity_column="capacity"),
            lambda: load_model_input(path, path, path),
        ]
        for load in loaders:
            with warnings.catch_warnings(), contextlib.suppress(PlanningError):
                warnings.simplefilter("ignore", UserWarning)
                load()
