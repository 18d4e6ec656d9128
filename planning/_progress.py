"""Progress callbacks: the type long steps accept, and a slice of one for a sub-step."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]
"""``progress(fraction, text)``: fraction of the step done (0-1) and what it is doing."""


def sub_progress(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    """Return a callback that maps a sub-step's 0-1 onto ``lo``-``hi`` of ``progress``."""
    if progress is None:
        return None
    return lambda frac, text: progress(lo + (hi - lo) * frac, text)
