"""The benchmarks' peak-memory figure (benchmarks/_memory.py) counts the process's own memory.

The province benchmark runs each row in a child process and prints its peak RSS beside the
p-median's 4 GiB goal. ``ru_maxrss`` is carried across fork and exec on Linux, so a child of
a large driver reported the driver's memory as its own; the figure must not.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

MEMORY = Path(__file__).resolve().parents[1] / "benchmarks" / "_memory.py"
peak_rss_bytes = runpy.run_path(str(MEMORY))["peak_rss_bytes"]  # a script's helper, not a package

MIB = 2**20


def _child_peak() -> int:
    code = f"import runpy; print(runpy.run_path({str(MEMORY)!r})['peak_rss_bytes']())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_child_does_not_report_its_parents_memory() -> None:
    alone = _child_peak()
    held = np.ones(400 * MIB // 8)  # 400 MiB, touched: resident in this process at the fork
    beside = _child_peak()
    assert held.sum() > 0
    assert alone < 200 * MIB  # a bare interpreter
    assert beside < alone + 100 * MIB  # not the parent's 400 MiB (ru_maxrss gave >= 400 MiB)


def test_the_peak_covers_memory_this_process_touched() -> None:
    before = peak_rss_bytes()
    block = np.ones(200 * MIB // 8)
    assert block.sum() > 0
    assert peak_rss_bytes() >= before
    assert peak_rss_bytes() >= 200 * MIB
