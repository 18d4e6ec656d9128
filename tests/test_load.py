"""Five app sessions at once, solving and saving: nothing lost, no cross-talk (issue #19).

Each session is the real app (AppTest) in its own thread; they share the process, its caches
and the scenario library, as sessions of one Streamlit server do. They solve different
scenarios at the same moment, save them under their own names, then all try to save under
one shared name at the same moment.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.scriptrunner import script_cache
from streamlit.testing.v1 import AppTest

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
    """Compile the app's pages one at a time, as the server's shared script cache does.

    Each AppTest has a script cache of its own, and CPython 3.11's ``ast.parse`` is not safe
    in several threads at once ("AST constructor recursion depth mismatch").
    """
    lock = threading.Lock()
    compile_page = script_cache.ScriptCache.get_bytecode

    def locked(self: script_cache.ScriptCache, path: str) -> object:
        with lock:
            return compile_page(self, path)

    monkeypatch.setattr(script_cache.ScriptCache, "get_bytecode", locked)


@pytest.mark.usefixtures("_one_compile_at_a_time")
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
