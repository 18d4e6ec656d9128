"""The scenario library with several writers at once, bad files and failing disks (issue #19).

Two processes saving one name: one saves, the other is told, nothing vanishes (60 trials);
temporary files are never listed; a GBK or garbage file never breaks a listing; a full or
read-only disk leaves the saved scenarios byte for byte.
"""

from __future__ import annotations

import errno
import json
import multiprocessing as mp
import os
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from planning import _atomic
from planning.errors import ScenarioError, WriteError
from planning.scenario import Scenario
from planning.scenario_store import ScenarioStore

TRIALS = 60
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _writer(root: str, who: int, barrier: Any, results: Any) -> None:
    """One process of the race: save each trial's name at the moment the other one does."""
    store = ScenarioStore(root)
    for i in range(TRIALS):
        # even trials: the same name; odd trials: two names with one file name ("a/b", "a:b")
        name = f"方案 {i}" if i % 2 == 0 else f"方案{'/' if who == 0 else ':'}{i}"
        scenario = Scenario(name=name, n_facilities=who + 2)
        barrier.wait()
        try:
            store.save(scenario)
        except ScenarioError as err:
            results.put((i, who, "told", err.code))
        else:
            results.put((i, who, "saved", ""))


def test_two_processes_saving_one_name_one_wins_the_other_is_told(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    root = tmp_path / "lib"
    procs = [ctx.Process(target=_writer, args=(str(root), w, barrier, results)) for w in (0, 1)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * TRIALS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    store = ScenarioStore(root)
    saved = {s.name: store.load(s.name) for s in store.list()}
    assert store.set_aside == []
    for i in range(TRIALS):
        mine = sorted((who, what, code) for j, who, what, code in outcomes if j == i)
        if i % 2 == 0:  # the same name: exactly one saved, the other told it is taken
            assert sorted(what for _, what, _ in mine) == ["saved", "told"], mine
            assert next(code for _, what, code in mine if what == "told") == "store.name_taken"
            winner = next(who for who, what, _ in mine if what == "saved")
            assert saved[f"方案 {i}"].n_facilities == winner + 2  # the winner's, whole
        else:  # two names sharing a file name: both kept
            assert [what for _, what, _ in mine] == ["saved", "saved"], mine
            assert saved[f"方案/{i}"].n_facilities == 2
            assert saved[f"方案:{i}"].n_facilities == 3
    assert len(saved) == TRIALS // 2 + TRIALS  # nothing vanished
    assert len(list(root.glob("*.json"))) == len(saved)
    assert not [p for p in root.iterdir() if p.name.startswith(_atomic.TMP_PREFIX)]


def test_temporary_files_are_never_listed_nor_moved(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path / "lib")
    store.save(Scenario(name="甲"))
    half = '{"name": "乙", "model": '  # a save in flight (another process), or a killed one
    for tmp in (f"{_atomic.TMP_PREFIX}0123.json", ".tmp-abc.json", ".~lock.甲.json#"):
        (store.root / tmp).write_text(half, encoding="utf-8")
    (store.root / "notes.txt").write_text("mine", encoding="utf-8")
    (store.root / "folder.json").mkdir()  # a folder named like a scenario
    assert store.names() == ["甲"]
    assert store.set_aside == []
    assert (store.root / f"{_atomic.TMP_PREFIX}0123.json").read_text(encoding="utf-8") == half
    assert not (store.root / ".corrupt").exists()


def test_gbk_and_garbage_files_never_break_a_listing(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path / "lib")
    store.save(Scenario(name="好的"))
    gbk = Scenario(name="记事本保存的方案", n_facilities=3).to_json().encode("gbk")
    (store.root / "gbk.json").write_bytes(gbk)
    (store.root / "utf16.json").write_bytes(Scenario(name="UTF-16").to_json().encode("utf-16"))
    (store.root / "garbage.json").write_bytes(os.urandom(2000))
    (store.root / "empty.json").write_bytes(b"")
    (store.root / "newer.json").write_text(
        json.dumps({"name": "新版本", "format_version": 99, "new_option": 1}), encoding="utf-8"
    )
    names = store.names()
    assert names == sorted(["好的", "记事本保存的方案", "UTF-16"])
    assert store.load("记事本保存的方案").n_facilities == 3
    assert [n.key for n in store.notes] == ["scenario.file_not_utf8"]
    why = {a.original.name: a.why for a in store.set_aside}
    assert set(why) == {"garbage.json", "empty.json", "newer.json"}
    assert why["newer.json"].key == "scenario.format_newer"
    assert "newer release" in why["newer.json"].text("en")
    for aside in store.set_aside:
        assert aside.kept_at.exists()  # moved, never deleted


def test_app_sidebar_survives_bad_library_files(scenario_dir: Path) -> None:
    ScenarioStore().save(Scenario(name="好的"))
    (scenario_dir / "gbk.json").write_bytes(Scenario(name="旧方案").to_json().encode("gbk"))
    (scenario_dir / "garbage.json").write_bytes(b"\x00\xff" * 100)
    (scenario_dir / f"{_atomic.TMP_PREFIX}x.json").write_text("{", encoding="utf-8")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    shown = " ".join(w.value for w in at.sidebar.warning)
    assert "gbk.json" in shown
    assert "garbage.json" in shown


@pytest.mark.parametrize(
    ("number", "words"),
    [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "no permission")],
)
def test_failed_save_keeps_every_saved_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, number: int, words: str
) -> None:
    store = ScenarioStore(tmp_path / "lib")
    path = store.save(Scenario(name="甲", n_facilities=3))
    before = path.read_bytes()

    def fail(*_a: object) -> None:
        raise OSError(number, os.strerror(number))

    monkeypatch.setattr(_atomic, "_replace", fail)
    with pytest.raises(ScenarioError, match=words) as info:
        store.save(Scenario(name="甲", n_facilities=9), overwrite=True)
    assert "Cannot save scenario '甲'" in info.value.text("en")
    with pytest.raises(ScenarioError, match=words):
        store.save(Scenario(name="乙"))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert store.names() == ["甲"]
    assert sorted(p.name for p in store.root.iterdir()) == ["甲.json"]


def test_scenario_save_on_a_full_disk_keeps_the_users_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own scenario.json was left at 0 bytes by a full disk; now it is kept."""
    path = tmp_path / "scenario.json"
    Scenario(name="我的方案", n_facilities=4).save(path)
    before = path.read_bytes()

    def full(*_a: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_atomic, "_fsync", full)
    with pytest.raises(WriteError, match="disk is full"):
        Scenario(name="我的方案", n_facilities=9).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scenario.json"]


def test_lock_is_outside_the_library_and_released(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path / "lib")
    store.save(Scenario(name="甲"))
    other = ScenarioStore(tmp_path / "lib")
    other.save(Scenario(name="乙"))  # the first store released it
    assert sorted(p.name for p in store.root.iterdir()) == ["乙.json", "甲.json"]
