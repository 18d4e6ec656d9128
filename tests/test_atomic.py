"""Atomic writes (planning._atomic): a failed write keeps the old file, byte for byte.

Faults are injected (a full disk, a read-only disk, no permission) by making the write or the
final rename fail with the operating system's error, since the tests run as root on one disk.
"""

from __future__ import annotations

import errno
import os
import resource
from pathlib import Path

import pytest

from planning import _atomic
from planning.errors import WriteError

FAULTS = [
    (errno.ENOSPC, "disk is full"),
    (errno.EROFS, "read-only"),
    (errno.EACCES, "no permission"),
    (errno.EPERM, "no permission"),
    (errno.EIO, "Check the disk"),
]


def _failing(number: int):
    def fail(*_a: object, **_k: object) -> None:
        raise OSError(number, os.strerror(number))

    return fail


@pytest.mark.parametrize(("number", "words"), FAULTS)
def test_failed_rename_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, number: int, words: str
) -> None:
    target = tmp_path / "scenario.json"
    target.write_bytes(b'{"old": 1}\n')
    monkeypatch.setattr(_atomic, "_replace", _failing(number))
    with pytest.raises(WriteError, match=words) as info:
        _atomic.write_text(target, '{"new": 2}\n')
    assert target.read_bytes() == b'{"old": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.json"]  # no temporary left
    assert str(target) in info.value.text("en")
    assert "原有文件未作改动" in info.value.text("zh") or "文件夹" in info.value.text("zh")


def test_failure_inside_the_writer_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_bytes(b"a\n1\n")

    def write() -> None:
        with _atomic.replacing(target) as tmp:
            tmp.write_bytes(b"a\n2\n3")  # half written, then the disk fills up
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(WriteError, match="disk is full"):
        write()
    assert target.read_bytes() == b"a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_a_bug_in_the_writer_is_not_reworded(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    with pytest.raises(ZeroDivisionError), _atomic.replacing(target):
        _ = 1 / 0
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_writer_error_on_a_full_disk_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GDAL or openpyxl say it their way; the folder is checked and the cause named."""
    monkeypatch.setattr(_atomic, "diagnose", lambda _folder: "ENOSPC")
    gdal_says = RuntimeError("sqlite3_exec(CREATE TABLE) failed: database or disk is full")
    with pytest.raises(WriteError, match="disk is full"), _atomic.replacing(tmp_path / "x.gpkg"):
        raise gdal_says


def test_real_file_size_limit_keeps_the_old_file(tmp_path: Path) -> None:
    """A real failing write (RLIMIT_FSIZE: the kernel refuses bytes past 64 KiB)."""
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (65536, hard))
    try:
        with pytest.raises(WriteError, match="disk is full"):
            _atomic.write_bytes(target, b"x" * 200_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["big.bin"]


def test_mode_of_the_replaced_file_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "s.json"
    target.write_text("{}")
    target.chmod(0o640)
    _atomic.write_text(target, "[]")
    assert target.read_text() == "[]"
    assert (target.stat().st_mode & 0o777) == 0o640


def test_file_where_a_folder_is_needed(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file")
    with pytest.raises(WriteError, match="it is a file, not a folder"):
        _atomic.write_text(blocker / "summary.json", "{}")
    with pytest.raises(WriteError, match="it is a file, not a folder"):
        _write_folder(blocker, {})
    with pytest.raises(WriteError, match="a folder of that name"):
        _atomic.write_text(tmp_path, "{}")


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write_folder(out: Path, files: dict[str, bytes], fail: OSError | None = None) -> None:
    with _atomic.replacing_folder(out) as tmp:
        for name, data in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(data)
            if fail is not None:
                raise fail


def _old_plan(tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    (out / "inputs").mkdir(parents=True)
    (out / "sites.csv").write_bytes(b"old sites")
    (out / "summary.json").write_bytes(b"old summary")
    (out / "inputs" / "facilities.csv").write_bytes(b"old facilities")
    return out


@pytest.mark.parametrize(("number", "words"), FAULTS[:3])
def test_failed_folder_write_leaves_the_old_folder(tmp_path: Path, number: int, words: str) -> None:
    out = _old_plan(tmp_path)
    before = _tree(out)
    fault = OSError(number, os.strerror(number))  # the second file fails
    with pytest.raises(WriteError, match=words):
        _write_folder(out, {"sites.csv": b"new sites", "summary.json": b"new"}, fault)
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_failed_swap_leaves_the_old_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _old_plan(tmp_path)
    before = _tree(out)
    real = _atomic._replace
    calls: list[Path] = []

    def second_rename_fails(src: Path, dst: Path) -> None:
        calls.append(dst)
        if len(calls) == 2:  # old folder moved aside, the new one cannot take its place
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(_atomic, "_replace", second_rename_fails)
    new = {"sites.csv": b"new", "summary.json": b"new", "inputs/facilities.csv": b"new"}
    with pytest.raises(WriteError):
        _write_folder(out, new)
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_folder_swap_replaces_the_whole_run(tmp_path: Path) -> None:
    out = _old_plan(tmp_path)
    with _atomic.replacing_folder(out) as tmp:
        (tmp / "sites.csv").write_bytes(b"new sites")
        (tmp / "summary.json").write_bytes(b"new summary")
        (tmp / "inputs").mkdir()
        (tmp / "inputs" / "facilities.csv").write_bytes(b"new facilities")
    assert _tree(out) == {
        "inputs/facilities.csv": b"new facilities",
        "sites.csv": b"new sites",
        "summary.json": b"new summary",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_other_files_in_the_folder_are_untouched(tmp_path: Path) -> None:
    out = _old_plan(tmp_path)
    (out / "my notes.txt").write_bytes(b"mine")
    with _atomic.replacing_folder(out) as tmp:
        (tmp / "sites.csv").write_bytes(b"new sites")
        (tmp / "inputs").mkdir()
        (tmp / "inputs" / "weights.gpkg").write_bytes(b"w")
    assert _tree(out) == {
        "inputs/facilities.csv": b"old facilities",
        "inputs/weights.gpkg": b"w",
        "my notes.txt": b"mine",
        "sites.csv": b"new sites",
        "summary.json": b"old summary",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_current_folder_is_never_swapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _old_plan(tmp_path)
    monkeypatch.chdir(out)
    inode = out.stat().st_ino
    with _atomic.replacing_folder(".") as tmp:
        for name in ("sites.csv", "summary.json"):
            (tmp / name).write_bytes(b"new")
        (tmp / "inputs").mkdir()
    assert out.stat().st_ino == inode
    assert (out / "sites.csv").read_bytes() == b"new"
    assert Path.cwd() == out


def test_new_folder_and_parents_are_created(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "plan"
    with _atomic.replacing_folder(out) as tmp:
        (tmp / "x.txt").write_text("x")
    assert (out / "x.txt").read_text() == "x"
    assert (out.stat().st_mode & 0o777) == (0o777 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_clean_leftovers_removes_only_old_temporaries(tmp_path: Path) -> None:
    old = tmp_path / f"{_atomic.TMP_PREFIX}dead.json"
    fresh = tmp_path / f"{_atomic.TMP_PREFIX}live.json"
    mine = tmp_path / "mine.json"
    for p in (old, fresh, mine):
        p.write_text("{}")
    os.utime(old, (1_000_000, 1_000_000))
    assert _atomic.clean_leftovers(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, mine.name])


def test_a_failed_write_in_a_folder_names_the_planners_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the temporary folder the planner never sees (a real 300 KiB disk said it so)."""
    out = tmp_path / "plan"
    with _atomic.replacing_folder(out) as staging:
        _atomic.write_text(staging / "summary.json", "{}")
    monkeypatch.setattr(_atomic, "_replace", _failing(errno.ENOSPC))
    with pytest.raises(WriteError) as info, _atomic.replacing_folder(out) as staging:
        _atomic.write_text(staging / "layers.gpkg", "x")
    for lang in ("en", "zh"):
        text = info.value.text(lang)
        assert str(out / "layers.gpkg") in text
        assert _atomic.TMP_PREFIX not in text
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]
