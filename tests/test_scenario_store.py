from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from planning.errors import ScenarioError
from planning.scenario import Scenario
from planning.scenario_store import ScenarioStore, parse_upload, scenario_json_bytes


@pytest.fixture
def store(tmp_path: Path) -> ScenarioStore:
    return ScenarioStore(tmp_path / "lib")


def test_default_folder_is_the_setting(scenario_dir: Path) -> None:
    assert ScenarioStore().root == scenario_dir


def test_save_list_load_round_trip(store: ScenarioStore) -> None:
    a = Scenario(name="莆田 6 站 30 分钟", n_facilities=6)
    b = Scenario(name="莆田 p-中位", model="p_median", n_facilities=4)
    store.save(a)
    store.save(b)
    assert store.names() == sorted([a.name, b.name])
    assert store.load(a.name) == a
    assert store.load(b.name) == b
    # what is on disk is the scenario JSON (readable by the CLI)
    path = next(s.path for s in store.list() if s.name == a.name)
    assert Scenario.load(path) == a


def test_save_under_another_name(store: ScenarioStore) -> None:
    path = store.save(Scenario(name="旧名"), name="新名")
    assert store.names() == ["新名"]
    assert Scenario.load(path).name == "新名"


def test_existing_name_needs_overwrite(store: ScenarioStore) -> None:
    store.save(Scenario(name="甲", n_facilities=5))
    with pytest.raises(ScenarioError, match="already saved"):
        store.save(Scenario(name="甲", n_facilities=7))
    assert store.load("甲").n_facilities == 5
    store.save(Scenario(name="甲", n_facilities=7), overwrite=True)
    assert store.load("甲").n_facilities == 7
    assert len(list(store.root.glob("*.json"))) == 1


def test_empty_and_long_names_are_refused(store: ScenarioStore) -> None:
    with pytest.raises(ScenarioError, match="needs a name"):
        store.save(Scenario(name="x"), name="   ")
    with pytest.raises(ScenarioError, match="at most 80"):
        store.save(Scenario(name="x"), name="长" * 81)


def test_names_that_are_not_file_names(store: ScenarioStore) -> None:
    tricky = ["a/b", "a\\b", "../上级", "a:b*c?", "a b", "A/B"]
    for name in tricky:
        store.save(Scenario(name=name))
    assert sorted(store.names()) == sorted(tricky)
    for path in store.root.glob("*.json"):
        assert path.parent == store.root
    for name in tricky:
        assert store.load(name).name == name


def test_rename(store: ScenarioStore) -> None:
    store.save(Scenario(name="甲", n_facilities=3))
    store.save(Scenario(name="乙"))
    store.rename("甲", "丙")
    assert store.names() == sorted(["乙", "丙"])
    assert store.load("丙").n_facilities == 3
    with pytest.raises(ScenarioError, match="already saved"):
        store.rename("丙", "乙")
    with pytest.raises(ScenarioError, match="No saved scenario named '甲'"):
        store.rename("甲", "丁")


def test_duplicate_names_copies(store: ScenarioStore) -> None:
    store.save(Scenario(name="甲", n_facilities=3))
    store.duplicate("甲")
    store.duplicate("甲")
    assert store.names() == sorted(["甲", "甲 (copy)", "甲 (copy 2)"])
    assert store.load("甲 (copy 2)").n_facilities == 3
    store.duplicate("甲", "副本")
    assert "副本" in store.names()


def test_delete_moves_the_file_aside(store: ScenarioStore) -> None:
    store.save(Scenario(name="甲", n_facilities=3))
    kept = store.delete("甲")
    assert store.names() == []
    assert kept.exists()
    assert kept.parent.name == ".deleted"
    assert Scenario.load(kept).n_facilities == 3
    with pytest.raises(ScenarioError, match="No saved scenario"):
        store.delete("甲")


def test_corrupted_file_is_reported_and_kept(store: ScenarioStore) -> None:
    store.save(Scenario(name="好的"))
    bad = store.root / "broken.json"
    bad.write_text('{"name": "坏的", "model": ', encoding="utf-8")
    unknown = store.root / "old.json"
    unknown.write_text(json.dumps({"name": "旧版", "no_such_option": 1}), encoding="utf-8")
    assert store.names() == ["好的"]
    reasons = {a.original.name: a for a in store.set_aside}
    assert set(reasons) == {"broken.json", "old.json"}
    assert "not valid JSON" in reasons["broken.json"].reason
    assert "no_such_option" in reasons["old.json"].reason
    for aside in store.set_aside:
        assert aside.kept_at.exists()
        assert aside.kept_at.parent.name == ".corrupt"
    kept = reasons["broken.json"].kept_at.read_text(encoding="utf-8")
    assert kept == '{"name": "坏的", "model": '
    assert not bad.exists()


def test_two_files_with_one_name_keep_the_newer(store: ScenarioStore) -> None:
    older = store.root / "a.json"
    newer = store.root / "b.json"
    store.root.mkdir(parents=True)
    older.write_text(Scenario(name="同名", n_facilities=3).to_json(), encoding="utf-8")
    newer.write_text(Scenario(name="同名", n_facilities=9).to_json(), encoding="utf-8")
    os.utime(older, (1_000_000, 1_000_000))
    assert store.names() == ["同名"]
    assert store.load("同名").n_facilities == 9
    assert [a.original.name for a in store.set_aside] == ["a.json"]


def test_writes_leave_no_temporary_files(store: ScenarioStore) -> None:
    for i in range(3):
        store.save(Scenario(name="甲", n_facilities=i + 1), overwrite=True)
    assert sorted(p.name for p in store.root.iterdir()) == ["甲.json"]


def test_unwritable_folder_is_a_scenario_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ScenarioError, match="Cannot save scenario"):
        ScenarioStore(blocker / "lib").save(Scenario(name="甲"))


def test_json_download_and_upload(store: ScenarioStore) -> None:
    s = Scenario(name="上传", model="lscp", n_facilities=None)
    data = scenario_json_bytes(s)
    assert parse_upload(data) == s
    assert parse_upload(b"\xef\xbb\xbf" + data) == s  # BOM from Windows editors
    assert store.import_json(data) == s
    assert store.names() == ["上传"]
    with pytest.raises(ScenarioError, match="already saved"):
        store.import_json(data)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (json.dumps({"name": "x", "colour": "red"}).encode(), "unknown option 'colour'"),
        (json.dumps({"name": "x", "max_travel_min": -5}).encode(), "max_travel_min"),
    ],
)
def test_bad_uploads_say_what_is_wrong(data: bytes, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        parse_upload(data)


def test_store_file_is_content_addressed(store: ScenarioStore) -> None:
    a = store.store_file(b"name,lon,lat\n", suffix=".csv")
    b = store.store_file(b"name,lon,lat\n", suffix=".csv")
    c = store.store_file(b"other\n", suffix="../../x.csv")
    assert a == b
    assert a.read_bytes() == b"name,lon,lat\n"
    assert c != a
    assert c.parent == a.parent == store.root / "files"
