"""What a solve from the planner's own travel tables may show (``solve --travel-times``).

The same small-count rule as a plan's (:mod:`planning.results.privacy`), for the files of the
own-table mode: assignment lines, site loads, MCLP's objective and the share within reach.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from planning.suppression import CountRelation, protect_counts


def solution_count_mask(
    allocation: pd.DataFrame,
    site_load: pd.DataFrame | None,
    *,
    model: str,
    objective: float,
    patients_total: float,
    patients_within: float,
    threshold: int,
) -> dict[str, str]:
    """Decide the counts a solve from the planner's own tables may show (``solve --travel-times``).

    Its files show the assignment lines (``allocation``'s ``patients``, keys ``"line:<row>"``
    by position), each open site's load (``"site:<id>"``), MCLP's objective (the patients
    covered, ``"kpi:patients_within"``) and the share within reach, which with the loads (or
    the objective) gives the patients in all (``"kpi:patients_total"``) and within reach back.
    Returns :func:`~planning.suppression.protect_counts`' texts for the counts that may not be
    shown exactly; a share is left out when ``"kpi:patients_total"`` or
    ``"kpi:patients_within"`` is in it (see :func:`solution_shares_hidden`).

    Examples
    --------
    >>> lines = pd.DataFrame({"site_id": ["s1", "s2", "s2"], "patients": [10.0, 5.0, 3.0]})
    >>> loads = pd.DataFrame({"site_id": ["s1", "s2"], "patients": [10.0, 8.0]})
    >>> hidden = solution_count_mask(
    ...     lines, loads, model="p_median", objective=167.0, patients_total=18.0,
    ...     patients_within=18.0, threshold=5,
    ... )
    >>> hidden["line:2"], "line:1" in hidden or "site:s2" in hidden
    ('<5', True)
    """
    counts: dict[str, float] = {}
    rels: list[CountRelation] = []
    lines = allocation.reset_index(drop=True)
    line_keys = [f"line:{i}" for i in range(len(lines))]
    counts.update(zip(line_keys, lines["patients"].astype(float), strict=True))
    served = float(lines["patients"].astype(float).sum())
    parts: tuple[str, ...] = tuple(line_keys)
    if site_load is not None and len(site_load):
        loads = site_load.set_index(site_load["site_id"].astype(str))["patients"].astype(float)
        s_keys = tuple(f"site:{s}" for s in loads.index)
        counts.update(zip(s_keys, loads, strict=True))
        by_site = lines["site_id"].astype(str).to_numpy()
        weights = lines["patients"].astype(float).to_numpy()
        for sid, load in loads.items():
            members = tuple(k for k, s in zip(line_keys, by_site, strict=True) if s == sid)
            if abs(float(load) - float(weights[by_site == sid].sum())) < 0.5:
                rels.append(CountRelation(f"site:{sid}", members))
        parts = s_keys
    counts["kpi:patients_total"] = float(patients_total)
    counts["kpi:patients_within"] = float(patients_within)
    covered = model == "mclp" and abs(objective - served) < 0.5  # MCLP: the patients covered
    if covered or abs(patients_within - served) < 0.5:
        rels.append(CountRelation("kpi:patients_within", parts))
    if abs(patients_total - served) < 0.5:  # everyone is served
        rels.append(CountRelation("kpi:patients_total", parts))
    else:
        rels.append(CountRelation("kpi:patients_total", parts, rest=True))
    rels.append(CountRelation("kpi:patients_total", ("kpi:patients_within",), rest=True))
    return protect_counts(counts, rels, threshold=threshold)


def solution_shares_hidden(hidden: Mapping[str, str]) -> bool:
    """Whether a mask of :func:`solution_count_mask` leaves the share within reach out."""
    return "kpi:patients_total" in hidden or "kpi:patients_within" in hidden


def solution_lines_hidden(hidden: Mapping[str, str]) -> bool:
    """Whether an assignment line is hidden: then no figure weighted by patients is shown.

    P-median's objective (patient-minutes) and the mean travel time are sums of the lines'
    patients times their (shown) minutes, so with one line hidden they give it back.
    """
    return any(k.startswith("line:") for k in hidden)
