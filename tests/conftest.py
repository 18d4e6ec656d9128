"""Shared pytest fixtures (keep this small and generic; add fixtures with targeted edits)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Messages render in the default language (KANGLE_LANG, else Chinese). The suite checks the
# library's and the command line's words in English; tests of Chinese output choose zh
# explicitly (the app has its own language switch). Set here, before any test runs, so
# subprocesses (the CLI, streamlit) inherit it.
os.environ["KANGLE_LANG"] = "en"
# No test downloads OpenStreetMap facilities or place names (network tests opt back in): plans
# name their sites by county unless a test gives OSM data (planning.settings.offline).
os.environ["KANGLE_OFFLINE"] = "1"

SHARED_DIR = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_scenario_library(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own empty scenario library (never a user's ~/.local/share one)."""
    folder = tmp_path_factory.mktemp("scenario-library")
    monkeypatch.setenv("KANGLE_SCENARIO_DIR", str(folder))
    return folder


@pytest.fixture
def scenario_dir(_isolated_scenario_library: Path) -> Path:
    """The test's scenario library folder (``KANGLE_SCENARIO_DIR``)."""
    return _isolated_scenario_library


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` next to the repository; skips the test when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"{SHARED_DIR} is not available (shared data folder of the project)")
    return SHARED_DIR
