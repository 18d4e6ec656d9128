"""Environment settings: where to cache, how long to wait, how much to log.

Nothing here changes a result; everything that does lives in :class:`planning.scenario.Scenario`.
Each value can be set by an environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Folder for downloaded road networks and other cached inputs.

    ``KANGLE_CACHE_DIR`` if set, else ``~/.cache/kangle-planner``.
    """
    env = os.environ.get("KANGLE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "kangle-planner"


def network_timeout_s() -> float:
    """Seconds to wait for an online download (``KANGLE_NETWORK_TIMEOUT_S``, default 180)."""
    return float(os.environ.get("KANGLE_NETWORK_TIMEOUT_S", "180"))


def log_level() -> str:
    """Log level used by the app and the command line (``KANGLE_LOG_LEVEL``, default INFO)."""
    return os.environ.get("KANGLE_LOG_LEVEL", "INFO").upper()


def scenario_library_dir() -> Path:
    """Folder where the app keeps saved scenarios (``KANGLE_SCENARIO_DIR``)."""
    env = os.environ.get("KANGLE_SCENARIO_DIR")
    return Path(env) if env else Path.home() / ".local" / "share" / "kangle-planner" / "scenarios"


def log_level_quiet() -> str:
    """Log level of the command line without ``--verbose`` (``KANGLE_LOG_LEVEL`` or WARNING)."""
    return os.environ.get("KANGLE_LOG_LEVEL", "WARNING").upper()


def offline() -> bool:
    """Never download OpenStreetMap facilities or place names (``KANGLE_OFFLINE=1``).

    Cached downloads and local files are still used; nothing that needs the internet is tried.
    """
    return os.environ.get("KANGLE_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def tianditu_key() -> str | None:
    """Key of the 天地图 (Tianditu) map tiles, or ``None`` (the basemap is then not offered).

    ``KANGLE_TIANDITU_KEY``; a free "browser" key from https://console.tianditu.gov.cn. The key
    ends up in the map's HTML (the browser fetches the tiles with it), never in a result.
    """
    key = os.environ.get("KANGLE_TIANDITU_KEY", "").strip()
    return key or None


def solver_threads() -> int | None:
    """Threads each HiGHS solve may use (``KANGLE_SOLVER_THREADS``; unset: HiGHS decides).

    Batch workers set it to 1 (:mod:`planning.batch`): HiGHS's thread pool is per process, so
    several worker processes on one machine would otherwise each start one thread per core and
    fight over the cores. A value below 1 means "HiGHS decides" too.
    """
    value = os.environ.get("KANGLE_SOLVER_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else None


def scheduler_timeout_s() -> float:
    """Seconds to wait for a Dask scheduler (``--scheduler``) to answer (default 10)."""
    return float(os.environ.get("KANGLE_SCHEDULER_TIMEOUT_S", "10"))


def batch_dir() -> Path:
    """Default parent folder of the app's batch runs (``KANGLE_BATCH_DIR``)."""
    env = os.environ.get("KANGLE_BATCH_DIR")
    return Path(env) if env else Path.home() / ".local" / "share" / "kangle-planner" / "batches"
