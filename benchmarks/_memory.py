"""Peak resident memory of the calling process, for the benchmarks' tables."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss_bytes() -> int:
    """Highest resident memory this process has had, in bytes.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: the high-water mark of the
    process's own memory since it started. ``getrusage(...).ru_maxrss`` is not used there
    because the kernel carries it across ``fork`` and ``exec``: a benchmark run in a child
    process would report at least the parent's resident memory at the fork (a driver holding
    1 GB made every child report 0.96 GB). Elsewhere ``ru_maxrss`` is the only measure, in
    bytes on macOS and KiB on other systems.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # "VmHWM:  123456 kB"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def peak_rss_gib() -> float:
    """:func:`peak_rss_bytes` in GiB."""
    return peak_rss_bytes() / 2**30
