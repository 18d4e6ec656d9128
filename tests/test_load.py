"""Five app sessions at once, solving and saving: nothing lost, no cross-talk (issue #19).

Each session is the real app (AppTest) in its own thread; they share the process, its caches
and the scenario library, as sessions of one Streamlit server do. They solve different
scenarios at the same moment, save them under their own names, then all try to save under
one shared name at the same moment.
"""

from __future__ import annotations

import ast
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
import streamlit as st
from streamlit import config
from streamlit.components.v2.component_manager import BidiComponentManager
from streamlit.runtime import Runtime
from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.scriptrunner import script_cache
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module
from streamlit.testing.v1.util import build_mock_config_get_option

from planning import pipeline
from planning.scenario import Scenario
from planning.scenario_store import ScenarioStore

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SESSIONS = 5
BASE = Scenario(
    name="负载",
    counties=("城厢区", "荔城区"),
    cell_size_m=4000,
    candidate_spacing_m=6000,
    n_facilities=1,
)


def _session(i: int, barrier: threading.Barrier, out: dict[int, dict[str, object]]) -> None:
    try:
        at = AppTest.from_file(APP, default_timeout=180)
        at.session_state["scenario"] = BASE.replace(name=f"会话 {i}").to_dict()
        at.run()
        at.number_input(key="sc_n_facilities").set_value(i + 1).run()
        barrier.wait(timeout=300)  # every session solves at the same moment
        at.button(key="solve").click().run()
        plan = at.session_state["plan"]
        barrier.wait(timeout=300)
        at.text_input(key="lib_name").set_value(f"会话 {i}").run()
        at.button(key="lib_save").click().run()
        saved = [s.value for s in at.success]
        barrier.wait(timeout=300)  # and all save under one name at the same moment
        at.text_input(key="lib_name").set_value("共同的名字").run()
        at.button(key="lib_save").click().run()
        out[i] = {
            "plan": plan,
            "saved": saved,
            "shared_ok": any("共同的名字" in s.value for s in at.success),
            "shared_told": [e.value for e in at.error],
            "exceptions": [e.message for e in at.exception],
        }
    except BaseException as err:  # noqa: BLE001 - reported by the test, not lost in a thread
        out[i] = {"error": repr(err)}
        barrier.abort()


@pytest.fixture
def _one_compile_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compile the app's pages, and parse any Python, one at a time.

    Each AppTest has a script cache of its own (a server shares one), and CPython 3.11's
    ``ast.parse`` and ``compile`` of a tree are not safe in several threads at once ("AST
    constructor recursion depth mismatch", CPython gh-106905): a page compiled under a lock
    still failed when another thread parsed at the same moment (a traceback's caret
    positions, pandas' ``eval``), so every ``ast.parse`` takes the same lock.
    """
    lock = threading.RLock()
    compile_page = script_cache.ScriptCache.get_bytecode
    parse = ast.parse

    def locked(self: script_cache.ScriptCache, path: str) -> object:
        with lock:
            return compile_page(self, path)

    def locked_parse(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return parse(*args, **kwargs)

    monkeypatch.setattr(script_cache.ScriptCache, "get_bytecode", locked)
    monkeypatch.setattr(ast, "parse", locked_parse)


class _OneServer:
    """Stands in for ``Runtime`` inside AppTest: its per-run swaps of the runtime go here."""

    _instance: object = None


@pytest.fixture
def _one_server_for_every_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold AppTest's process-wide settings for the whole test, as one server holds them.

    For each run, ``AppTest`` swaps process-wide state and puts it back when the run ends:
    ``config.get_option`` (a mock saying ``global.appTest``) and ``Runtime._instance`` (a mock
    runtime, then ``None``). With five sessions' runs overlapping, one run's end undoes what
    another run still uses: its widgets are not recorded for the test (``KeyError:
    '$$ID-...-downloads-lang'``), its caches and media lose their runtime, and a page comes
    back empty - about one test in five failed so. That is the test harness, not the app: a
    Streamlit server has one runtime and one config for all its sessions. So they are set
    once here, shared by the five sessions as a server's are, and AppTest's swaps are turned
    into no-ops.
    """

    @contextlib.contextmanager
    def already_set(_overrides: dict[str, object]) -> Iterator[None]:
        yield

    monkeypatch.setattr(
        config, "get_option", build_mock_config_get_option({"global.appTest": True})
    )
    monkeypatch.setattr(app_test_module, "patch_config_options", already_set)
    server = MagicMock(spec=Runtime)
    server.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    server.dataframe_source_mgr = DataframeSourceManager()
    server.cache_storage_manager = MemoryCacheStorageManager()
    components = BidiComponentManager()
    components.discover_and_register_components(start_file_watching=False)
    server.bidi_component_registry = components
    monkeypatch.setattr(Runtime, "_instance", server)
    monkeypatch.setattr(app_test_module, "Runtime", _OneServer)


@pytest.mark.usefixtures("_one_compile_at_a_time", "_one_server_for_every_session")
def test_five_sessions_solving_and_saving_at_once(scenario_dir: Path) -> None:
    st.cache_data.clear()
    barrier = threading.Barrier(SESSIONS)
    out: dict[int, dict[str, object]] = {}
    threads = [threading.Thread(target=_session, args=(i, barrier, out)) for i in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert sorted(out) == list(range(SESSIONS))
    for i, result in out.items():
        assert "error" not in result, result
        assert result["exceptions"] == [], result
        plan = result["plan"]
        assert isinstance(plan, pipeline.Plan)
        # no cross-talk: each session's plan is its own scenario's
        assert plan.scenario.n_facilities == i + 1
        assert plan.scenario.name == f"会话 {i}"
        assert len(plan.solution.selected_sites) == i + 1
        assert any(f"会话 {i}" in s for s in result["saved"]), result["saved"]  # type: ignore[union-attr]
    store = ScenarioStore(scenario_dir)
    names = store.names()
    assert sorted(names) == sorted([*(f"会话 {i}" for i in range(SESSIONS)), "共同的名字"])
    for i in range(SESSIONS):  # nothing lost: every session's own scenario, whole
        assert store.load(f"会话 {i}").n_facilities == i + 1
    winners = [i for i, r in out.items() if r["shared_ok"]]
    assert len(winners) == 1  # one saved, every other one was told
    for i, result in out.items():
        if i not in winners:
            assert any("共同的名字" in e for e in result["shared_told"]), result  # type: ignore[union-attr]
    assert store.load("共同的名字").n_facilities == winners[0] + 1
    assert store.set_aside == []
