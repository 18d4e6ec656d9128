"""The command line, run as a user would (python -m planning ...)."""

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from planning.cli import main


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "planning", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_putian_mclp_writes_the_plan(tmp_path):
    out = tmp_path / "plan"
    res = run_cli(
        "solve",
        "--region",
        "莆田市",
        "--model",
        "mclp",
        "--sites",
        "6",
        "--max-minutes",
        "30",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    assert "estimated (straight-line)" in res.stdout
    assert "Running HiGHS" not in res.stdout  # the solver's banner is not the library's output
    for name in (
        "sites.geojson",
        "sites.csv",
        "assignments.csv",
        "counties.csv",
        "summary.json",
        "scenario.json",
    ):
        assert (out / name).is_file(), name
    sites = gpd.read_file(out / "sites.geojson")
    assert len(sites) == 6 and (sites["travel_mode"] == "estimated (straight-line)").all()
    counties = pd.read_csv(out / "counties.csv", encoding="utf-8-sig", dtype={"county_id": str})
    census = {
        "350302": 547422,
        "350303": 479605,
        "350304": 673935,
        "350305": 604684,
        "350322": 905068,
    }
    for cid, patients in zip(counties["county_id"], counties["patients"], strict=True):
        assert int(patients) == round(census[cid] * 4.6 / 1000)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] in {"optimal", "feasible"}
    scenario = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert scenario["n_facilities"] == 6 and scenario["model"] == "mclp"


def test_json_output_is_only_json():
    res = run_cli("solve", "--cell-size", "5000", "--sites", "4", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)  # nothing else on stdout (HiGHS prints a banner)
    assert summary["status"] == "optimal"
    assert len(summary["selected_sites"]) == 4


def test_help_documents_every_option():
    res = run_cli("solve", "--help")
    assert res.returncode == 0
    for opt in (
        "--region",
        "--model",
        "--sites",
        "--max-minutes",
        "--out",
        "--solver",
        "--time-limit",
    ):
        assert opt in res.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--region", "蒲田市"], "Unknown region '蒲田市'. Close matches: 莆田市"),
        (["--max-minutes", "0"], "--max-minutes 0 is not allowed"),
        (["--max-minutes", "-5"], "--max-minutes -5 is not allowed"),
        (["--sites", "100000"], "candidate"),
        (["--model", "lscp", "--max-minutes", "1", "--cell-size", "5000"], "cannot"),
    ],
)
def test_bad_input_is_one_message_exit_2(args, fragment, capsys):
    code = main(["solve", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--max-minutes", "0"],
            (
                "error: --max-minutes 0 is not allowed: use a number greater than 0 "
                "(minutes, e.g. --max-minutes 30).\n"
            ),
        ),
        (
            ["--sites", "0"],
            (
                "error: --sites 0 is not allowed: use a whole number of at least 1 "
                "(e.g. --sites 6).\n"
            ),
        ),
        (
            ["--time-limit", "-1"],
            (
                "error: --time-limit -1 is not allowed: use a number greater than 0 "
                "(seconds, e.g. --time-limit 60).\n"
            ),
        ),
        (
            ["--cell-size", "10", "--mip-gap", "1"],
            (
                "error: --cell-size 10 is not allowed: use a number from 200 to 50000 "
                "(metres, e.g. --cell-size 2000); --mip-gap 1 is not allowed: use a number of at "
                "least 0 and less than 1 (e.g. --mip-gap 0).\n"
            ),
        ),
        (
            ["--in-scope-share", "1.5"],
            (
                "error: --in-scope-share 1.5 is not allowed: use a number greater than 0 and at "
                "most 1 (a share: 0.5 = half, e.g. --in-scope-share 1).\n"
            ),
        ),
    ],
)
def test_invalid_numbers_name_the_flag_and_the_allowed_range(args, expected, capsys):
    code = main(["solve", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err == expected  # the flag, not the scenario field (max_travel_min) or pydantic


def test_invalid_value_from_scenario_file_keeps_the_field_name(tmp_path, capsys):
    """Only options typed as flags are re-worded; a bad file names its own keys."""
    path = tmp_path / "scenario.json"
    path.write_text('{"max_travel_min": 0}', encoding="utf-8")
    code = main(["solve", "--scenario", str(path), "--sites", "3"])
    err = capsys.readouterr().err
    assert code == 2
    assert "max_travel_min = 0 is not allowed" in err and "--max-minutes" not in err


def test_empty_facility_table(tmp_path, capsys):
    f = tmp_path / "facilities.csv"
    f.write_text("name,type,lon,lat\n", encoding="utf-8")
    code = main(["solve", "--facilities", str(f), "--cell-size", "5000"])
    err = capsys.readouterr().err
    assert code == 2
    assert "facilit" in err.lower() and "Traceback" not in err


def test_facility_outside_region_warns(tmp_path, capsys):
    f = tmp_path / "facilities.csv"
    f.write_text(
        "name,type,lon,lat\n示例康复站,rehab_existing,119.0,25.45\n示例福州站,rehab_existing,119.30,26.08\n",
        encoding="utf-8",
    )
    code = main(["solve", "--facilities", str(f), "--cell-size", "5000", "--sites", "3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "outside" in captured.err.lower()


def test_cbc_run_shows_no_third_party_deprecation_warnings(capsys):
    code = main(["solve", "--cell-size", "5000", "--sites", "3", "--solver", "cbc"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Solver: cbc" in captured.out
    assert "deprecated" not in captured.err


def test_lscp_warns_that_sites_is_ignored(tmp_path, capsys):
    out = tmp_path / "plan"
    args = [
        "solve",
        "--model",
        "lscp",
        "--sites",
        "3",
        "--max-minutes",
        "60",
        "--cell-size",
        "5000",
    ]
    code = main([*args, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err.startswith("warning: --sites 3 is ignored: LSCP chooses the number")
    assert "error" not in captured.err
    assert "model lscp" in captured.out
    scenario = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert scenario["model"] == "lscp" and scenario["n_facilities"] is None


def test_sites_with_p_center_is_used_without_warning(capsys):
    code = main(["solve", "--model", "p-center", "--sites", "3", "--cell-size", "5000"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "ignored" not in captured.err
    assert "Sites: 3 " in captured.out
