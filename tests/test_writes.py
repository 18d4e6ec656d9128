"""Failed writes through the command line: the old files stay byte for byte, one message (#19).

A full disk, a read-only disk and a missing permission are injected where the files are
renamed into place (the tests run as root, so a read-only folder cannot be made for real);
every output folder (``solve --out``, ``export``, ``rollout``, the own-travel-table
``--out``) must keep the previous run whole and say what failed and what to do.
"""

from __future__ import annotations

import errno
import io
import json
import os
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from planning import _atomic, cli
from planning._json import dumps
from planning.cli import main
from planning.errors import WriteError
from planning.inputs import osm
from planning.report import batch as report_batch

FAST = ["--region", "莆田市", "--counties", "城厢区", "--cell-size", "5000"]
FAST += ["--candidate-spacing", "10000", "--sites", "1", "--max-minutes", "30"]
FAULTS = [
    (errno.ENOSPC, "the disk is full"),
    (errno.EROFS, "read-only"),
    (errno.EACCES, "no permission"),
]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--lang", "en", *argv])
    return code, out.getvalue(), err.getvalue()


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def fail_after(monkeypatch: pytest.MonkeyPatch, number: int, *, calls: int) -> None:
    """Let ``calls`` renames through, then fail every one with ``number`` (disk full...)."""
    real = _atomic._replace
    seen = [0]

    def replace(src: Path, dst: Path) -> None:
        seen[0] += 1
        if seen[0] > calls:
            raise OSError(number, os.strerror(number))
        real(src, dst)

    monkeypatch.setattr(_atomic, "_replace", replace)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("first")
    code, _, err = run("solve", *FAST, "--out", str(folder / "plan"))
    assert code == 0, err
    return folder / "plan" / "scenario.json"


@pytest.mark.parametrize(("number", "words"), FAULTS)
@pytest.mark.parametrize("calls", [0, 3])  # the first file, or one after several
def test_solve_out_keeps_the_previous_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, number: int, words: str, calls: int
) -> None:
    out = tmp_path / "plan"
    assert run("solve", *FAST, "--out", str(out))[0] == 0
    before = tree(out)
    fail_after(monkeypatch, number, calls=calls)
    code, _, err = run("solve", *FAST, "--sites", "2", "--out", str(out))
    assert code == 2, err
    assert words in err and "previous files were kept" in err
    assert "Traceback" not in err
    assert tree(out) == before  # not a mix of the old and the new run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]  # no temporary left


@pytest.mark.parametrize(("number", "words"), FAULTS)
def test_export_keeps_the_previous_kit(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scenario_file: Path,
    number: int,
    words: str,
) -> None:
    kit = tmp_path / "kit"
    args = ["export", str(scenario_file), "--format", "csv,geojson,gpkg", "--out", str(kit)]
    assert run(*args)[0] == 0
    before = tree(kit)
    fail_after(monkeypatch, number, calls=5)
    code, _, err = run(*args)
    assert code == 2 and words in err, err
    assert tree(kit) == before


def test_rollout_keeps_the_previous_kit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario_file: Path
) -> None:
    out = tmp_path / "rollout"
    args = ["rollout", str(scenario_file), "--no-suggest", "--out", str(out)]
    assert run(*args)[0] == 0
    before = tree(out)
    fail_after(monkeypatch, errno.ENOSPC, calls=2)
    code, _, err = run(*args)
    assert code == 2 and "the disk is full" in err, err
    assert tree(out) == before


def test_own_tables_out_keeps_the_previous_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tt.csv").write_text("demand_id,site_id,minutes\nd1,s1,5\nd2,s1,8\nd2,s2,3\n")
    (tmp_path / "d.csv").write_text("demand_id,weight\nd1,10\nd2,20\n")
    (tmp_path / "c.csv").write_text("site_id\ns1\ns2\n")
    args = ["solve", "--travel-times", str(tmp_path / "tt.csv"), "--demand"]
    args += [str(tmp_path / "d.csv"), "--candidates", str(tmp_path / "c.csv")]
    args += ["--model", "p-median", "--sites", "1", "--out", str(tmp_path / "o")]
    assert run(*args)[0] == 0
    before = tree(tmp_path / "o")
    fail_after(monkeypatch, errno.EROFS, calls=1)
    code, _, err = run(*args[:-3], "2", "--out", str(tmp_path / "o"))
    assert code == 2 and "read-only" in err, err
    assert tree(tmp_path / "o") == before


def test_out_naming_a_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_bytes(b"my notes")
    code, _, err = run("solve", *FAST, "--out", str(mine))
    assert code == 2 and "not a folder" in err, err
    assert mine.read_bytes() == b"my notes"


def test_the_planners_own_files_in_the_out_folder_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    out.mkdir()
    (out / "会议纪要.docx").write_bytes(b"minutes of the meeting")
    assert run("solve", *FAST, "--out", str(out))[0] == 0
    assert (out / "会议纪要.docx").read_bytes() == b"minutes of the meeting"
    assert (out / "summary.json").is_file()


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


def test_json_written_is_standard(tmp_path: Path) -> None:
    """NaN and Infinity were written (inf minutes); every JSON is standard now."""
    code, out, _ = run("solve", *FAST, "--json", "--out", str(tmp_path / "plan"))
    assert code == 0
    _strict(out)
    _strict((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert dumps({"a": float("nan"), "b": [float("inf")]}) == '{"a": null, "b": [null]}'


def test_infinite_minutes_are_refused(tmp_path: Path) -> None:
    code, _, err = run("solve", *FAST, "--max-minutes", "inf", "--out", str(tmp_path / "p"))
    assert code == 2 and "finite" in err
    assert not (tmp_path / "p").exists()


def test_numerical_warnings_are_not_shown_raw(capsys: pytest.CaptureFixture[str]) -> None:
    show = cli._warning_printer("en")
    show(RuntimeWarning("overflow encountered in multiply"), RuntimeWarning, "x.py", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        show("overflow encountered in reduce", RuntimeWarning, "x.py", 1)
    assert capsys.readouterr().err == ""
    show(UserWarning("a note for the planner"), UserWarning, "x.py", 1)
    assert "a note for the planner" in capsys.readouterr().err


def test_overview_keeps_the_previous_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario_file: Path
) -> None:
    out = tmp_path / "overview"
    args = ["overview", str(scenario_file), "--out", str(out)]
    assert run(*args)[0] == 0
    before = tree(out)
    assert {"province_overview.xlsx", "scenario.json"} <= set(before)
    fail_after(monkeypatch, errno.ENOSPC, calls=2)
    code, _, err = run(*args)
    assert code == 2 and "the disk is full" in err, err
    assert "Traceback" not in err
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overview"]  # no temporary left


@pytest.mark.parametrize("name", ["fac.csv", "fac.xlsx"])
def test_osm_facility_table_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = osm.write_facility_table(pd.DataFrame({"名称": ["甲"], "容量": [20]}), tmp_path / name)
    before = path.read_bytes()
    fail_after(monkeypatch, errno.EROFS, calls=0)
    with pytest.raises(WriteError, match="read-only") as info:
        osm.write_facility_table(pd.DataFrame({"名称": ["乙"], "容量": [5]}), path)
    assert "previous files were kept" in info.value.text("en")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_batch_rollup_files_keep_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch roll-up (rollup.csv, .xlsx, map) and batch.json go through planning._atomic."""
    target = tmp_path / "rollup.csv"
    report_batch._atomic(target, lambda p: p.write_bytes(b"adcode,patients\n350100,120\n"))
    before = target.read_bytes()
    fail_after(monkeypatch, errno.ENOSPC, calls=0)
    with pytest.raises(WriteError, match="the disk is full"):
        report_batch._atomic(target, lambda p: p.write_bytes(b"adcode,patients\n"))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["rollup.csv"]
