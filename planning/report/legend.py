"""Legend classes shared by every map: the screen (folium) and the print (matplotlib) alike.

One function decides each set of classes, so a county or a demand cell has the same colour and
the same legend entry on screen, in the HTML export, on the printable map and on the rollout
map:

* :func:`coverage_class` / :func:`coverage_labels`: the share of a county's patients within
  reach, in classes at the policy's milestones (30 / 45 / 60 % of patients in regular service
  for 2023 / 2024 / 2025, and 80 %);
* :func:`count_breaks` / :func:`count_labels`: patients per demand cell, in round classes
  (1-2-5 steps: ``<5, 5–10, 10–20, ≥20``) placed near the quintiles; no class edge is below
  the privacy threshold, so a legend never tells a cell holds 1-2 patients.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

COVERAGE_BREAKS: tuple[float, ...] = (0.30, 0.45, 0.60, 0.80)
"""Inner class edges of the within-reach share (the milestones 30/45/60 % and 80 %)."""

COVERAGE_COLOURS: tuple[str, ...] = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")
"""One colour per coverage class, lowest first (red: far from the target; green: above it)."""

NICE_STEPS: tuple[float, ...] = (1.0, 2.0, 5.0)
FINE_STEPS: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


def classify(values: pd.Series | Sequence[float], breaks: Sequence[float]) -> npt.NDArray[np.intp]:
    """Class of each value: 0 below ``breaks[0]``, ``i`` in ``[breaks[i-1], breaks[i])``."""
    arr = np.asarray(values, dtype=float)
    out: npt.NDArray[np.intp] = np.searchsorted(np.asarray(breaks, dtype=float), arr, side="right")
    return out


def coverage_class(share: float) -> int:
    """Class of a within-reach share (0-1) in :data:`COVERAGE_BREAKS` (NaN: class 0)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return 0
    return int(classify([share], COVERAGE_BREAKS)[0])


def _pct(x: float) -> str:
    return f"{100 * x:.0f}"


def coverage_labels() -> list[str]:
    """Legend labels of the coverage classes: ``["<30%", "30–45%", ..., "≥80%"]``."""
    b = COVERAGE_BREAKS
    labels = [f"<{_pct(b[0])}%"]
    labels += [f"{_pct(lo)}–{_pct(hi)}%" for lo, hi in itertools.pairwise(b)]
    labels.append(f"≥{_pct(b[-1])}%")
    return labels


def _nice(value: float, steps: Sequence[float]) -> float:
    """Return the number of the form ``step x 10^k`` nearest to ``value`` (``value > 0``)."""
    exp = math.floor(math.log10(value))
    candidates = [s * 10.0**e for e in (exp - 1, exp, exp + 1) for s in steps]
    return min(candidates, key=lambda c: (abs(math.log(c / value)), c))


def count_breaks(values: pd.Series | Sequence[float], *, threshold: int = 0) -> tuple[float, ...]:
    """Round class edges for counts (patients per cell), near the quintiles of the positives.

    Edges are ``1, 2, 5 x 10^k`` (finer steps when those collapse into fewer than two edges),
    strictly increasing, and none below ``threshold`` (the privacy threshold): the lowest class
    reads ``"<threshold"``.

    Examples
    --------
    >>> count_breaks([5.08, 9.05, 10.51, 16.66, 42.98, 3.0, 7.0, 12.0, 30.0, 11.0], threshold=5)
    (5.0, 10.0, 20.0)
    """
    arr = np.asarray(values, dtype=float)
    positive = arr[np.isfinite(arr) & (arr > 0)]
    if positive.size == 0:
        return (float(max(threshold, 1)),)
    qs = np.quantile(positive, [0.2, 0.4, 0.6, 0.8])
    floor = float(max(threshold, 0))
    out: list[float] = []
    for steps in (NICE_STEPS, FINE_STEPS):
        edges = sorted({max(_nice(float(q), steps), floor) for q in qs if q > 0})
        out = [e for e in edges if e > 0]
        if len(out) >= 2 or float(positive.max()) <= (out[0] if out else 1.0):
            break
    if not out:
        out = [max(floor, 1.0)]
    return tuple(float(e) for e in out)


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def count_labels(breaks: Sequence[float]) -> list[str]:
    """Legend labels of count classes: ``["<5", "5–10", "10–20", "≥20"]``."""
    b = list(breaks)
    labels = [f"<{_num(b[0])}"]
    labels += [f"{_num(lo)}–{_num(hi)}" for lo, hi in itertools.pairwise(b)]
    labels.append(f"≥{_num(b[-1])}")
    return labels


def ramp(colours: Sequence[str], n: int) -> list[str]:
    """``n`` colours spread over the ramp ``colours`` (the ends kept)."""
    if n <= 1:
        return [colours[-1]]
    idx = np.round(np.linspace(0, len(colours) - 1, n)).astype(int)
    return [colours[i] for i in idx]
