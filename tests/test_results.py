"""Display-ready result tables: small counts '<5', no share that gives one back, and no hidden
count recoverable by subtraction (complementary suppression)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from planning.results import (
    POLICY_TARGETS,
    CountRelation,
    ResultTables,
    count_mask,
    count_text,
    county_count_mask,
    hidden_kpis,
    protect_counts,
    public_counties,
    public_policy,
    public_sites,
)

THR = 5


def make_tables(
    counties: dict[str, tuple[float, float]],
    *,
    sites: dict[str, tuple[str, float]] | None = None,
    beyond_cutoff: float = 0.0,
    total: float | None = None,
) -> ResultTables:
    """Result tables with ``counties = {id: (patients, within)}``, ``sites = {id: (county,
    assigned)}``; region figures are the sums unless ``total`` is given."""
    ids = list(counties)
    patients = np.array([counties[c][0] for c in ids], dtype=float)
    within = np.array([counties[c][1] for c in ids], dtype=float)
    ctab = pd.DataFrame(
        {
            "name": [f"county {c}" for c in ids],
            "population": patients * 200.0,
            "patients": patients,
            "patients_within": within,
            "share_within": within / patients,
            "n_sites": 1,
            "has_site": True,
            "mean_travel_min": 10.0,
            "max_travel_min": 20.0,
        },
        index=pd.Index(ids, name="county_id"),
    )
    sites = sites or {}
    stab = pd.DataFrame(
        {
            "name": list(sites),
            "county": [v[0] for v in sites.values()],
            "capacity": 100.0,
            "assigned_patients": [v[1] for v in sites.values()],
        },
        index=pd.Index(list(sites), name="site_id"),
    )
    stab["load_share"] = stab["assigned_patients"] / stab["capacity"]
    t = float(patients.sum()) if total is None else total
    w = float(within.sum())
    kpis: dict[str, Any] = {
        "model": "mclp",
        "patients_total": t,
        "patients_within": w,
        "share_within": w / t,
        "patients_beyond_cutoff": beyond_cutoff,
    }
    policy = pd.DataFrame(
        [
            {
                "year": year,
                "county_share_target": tgt["county_share"],
                "county_share": 1.0,
                "county_target_met": True,
                "patient_share_target": tgt["patient_share"],
                "patient_share": w / t,
                "patient_target_met": w / t >= tgt["patient_share"],
            }
            for year, tgt in POLICY_TARGETS.items()
        ]
    ).set_index("year")
    return ResultTables(
        assignments=pd.DataFrame(), sites=stab, counties=ctab, kpis=kpis, policy=policy
    )


def shown_number(text: object) -> int | None:
    """The exact number a displayed count gives away; ``None`` for '<5', '≥8', '' or NaN."""
    s = str(text).replace(",", "")
    return int(s) if s.isdigit() else None


def recovered(shown: dict[str, int | None], relations: list[tuple[str, list[str]]]) -> dict:
    """What an observer works out: solve every 'total = sum(parts)' with one unknown, repeatedly.

    Returns the values worked out (the unknown member of a relation), never the shown ones.
    """
    known = {k: v for k, v in shown.items() if v is not None}
    out: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            members = [total, *parts]
            unknown = [m for m in members if m not in known]
            if len(unknown) != 1:
                continue
            u = unknown[0]
            if u == total:
                value = sum(known[p] for p in parts)
            else:
                value = known[total] - sum(known[p] for p in parts if p != u)
            known[u] = out[u] = value
            changed = True
    return out


def assert_nothing_recoverable(
    raw: dict[str, float], shown: dict[str, int | None], relations: list[tuple[str, list[str]]]
) -> None:
    """No hidden count, and no remainder 0 < rest < threshold, can be worked out."""
    for key, value in recovered(shown, relations).items():
        if key.startswith("rest"):
            assert value == 0 or value >= THR, (key, value)
        else:
            assert not (0 < raw[key] < THR), (key, value)
            assert shown[key] is None or shown[key] == value
    for key, value in shown.items():  # a shown number is the real one
        assert value is None or value == round(raw[key]), key


def plan_relations(tables: ResultTables) -> list[tuple[str, list[str]]]:
    """The sums a reader of the app or of the exports can form (remainders named rest:*)."""
    ids = list(tables.counties.index)
    rels: list[tuple[str, list[str]]] = [
        ("total", [f"{c}:patients" for c in ids]),
        ("within", [f"{c}:within" for c in ids]),
        ("total", ["within", "rest:region"]),
        ("within", [f"site:{s}" for s in tables.sites.index]),
    ]
    rels += [(f"{c}:patients", [f"{c}:within", f"rest:{c}"]) for c in ids]
    for cid, group in tables.sites.groupby("county"):
        rels.append((f"{cid}:patients", [f"site:{s}" for s in group.index]))
    return rels


def displayed(tables: ResultTables) -> tuple[dict[str, float], dict[str, int | None]]:
    """Raw values and what the public helpers show of them, keyed as in plan_relations."""
    c, k = tables.counties, tables.kpis
    pc = public_counties(tables, threshold=THR)
    ps = public_sites(tables, threshold=THR)
    mask = count_mask(tables, threshold=THR)
    raw = {"total": k["patients_total"], "within": k["patients_within"]}
    shown = {
        "total": shown_number(mask.kpi_text("patients_total", k["patients_total"])),
        "within": shown_number(mask.kpi_text("patients_within", k["patients_within"])),
    }
    for cid in c.index:
        raw[f"{cid}:patients"] = c.loc[cid, "patients"]
        raw[f"{cid}:within"] = c.loc[cid, "patients_within"]
        shown[f"{cid}:patients"] = shown_number(pc.loc[cid, "patients"])
        shown[f"{cid}:within"] = shown_number(pc.loc[cid, "patients_within"])
        share = pc.loc[cid, "share_within"]
        if not np.isnan(share):  # a shown share with a shown count gives the other back
            assert shown[f"{cid}:patients"] is not None
            assert shown[f"{cid}:within"] is not None
    for sid in tables.sites.index:
        raw[f"site:{sid}"] = tables.sites.loc[sid, "assigned_patients"]
        shown[f"site:{sid}"] = shown_number(ps.loc[sid, "assigned_patients"])
    return raw, shown


# (name, counties {id: (patients, within)}, sites {id: (county, assigned)}, expected texts)
CASES = [
    (
        "13 total, 10 within: within as a bound",
        {"A": (13.0, 10.0), "B": (200.0, 150.0)},
        {},
        {"A:within": "≥8"},
    ),
    (
        "region of 283 with one county of 3",
        {"C1": (100.0, 100.0), "C2": (80.0, 80.0), "C3": (60.0, 60.0), "C4": (40.0, 40.0)}
        | {"C5": (3.0, 3.0)},
        {},
        {"C5:patients": "<5", "C5:within": "<5", "C4:patients": "≥38", "C4:within": "≥38"},
    ),
    (
        "sites adding up to a county",
        {"A": (40.0, 40.0), "B": (300.0, 250.0)},
        {"a1": ("A", 3.0), "a2": ("A", 37.0), "b1": ("B", 250.0)},
        {"site:a1": "<5", "site:a2": "≥35"},
    ),
    (
        "within below the threshold, total shown (existing rule)",
        {"A": (20.0, 3.0), "B": (200.0, 150.0)},
        {},
        {"A:within": "<5"},
    ),
]
ORDINARY = [
    ("every remainder 0 or >= threshold", {"A": (13.0, 13.0), "B": (60.0, 55.0)}, {}),
    (
        "sites and counties all large",
        {"A": (400.0, 300.0), "B": (120.0, 100.0), "C": (60.0, 0.0)},
        {"a": ("A", 300.0), "b": ("B", 100.0)},
    ),
]


@pytest.mark.parametrize(
    ("name", "counties", "sites", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_no_hidden_count_is_recoverable(
    name: str,
    counties: dict[str, tuple[float, float]],
    sites: dict[str, tuple[str, float]],
    expected: dict[str, str],
) -> None:
    tables = make_tables(counties, sites=sites)
    raw, shown = displayed(tables)
    assert_nothing_recoverable(raw, shown, plan_relations(tables))
    pc = public_counties(tables, threshold=THR)
    ps = public_sites(tables, threshold=THR)
    for key, text in expected.items():
        if key.startswith("site:"):
            assert ps.loc[key[5:], "assigned_patients"] == text, name
        else:
            cid, col = key.split(":")
            column = "patients" if col == "patients" else "patients_within"
            assert pc.loc[cid, column] == text, name
            if text.startswith("≥"):  # a bound is true, and leaves the share out
                assert raw[key] >= int(text[1:])
                assert np.isnan(pc.loc[cid, "share_within"])
                assert pc.loc[cid, "patient_target_met_2025"] is None
    assert tables.counties["patients"].dtype == float  # the library keeps the raw numbers


@pytest.mark.parametrize(("name", "counties", "sites"), ORDINARY, ids=[c[0] for c in ORDINARY])
def test_ordinary_plans_are_shown_exactly(
    name: str, counties: dict[str, tuple[float, float]], sites: dict[str, tuple[str, float]]
) -> None:
    tables = make_tables(counties, sites=sites)
    assert count_mask(tables, threshold=THR).hidden == {}, name
    pc = public_counties(tables, threshold=THR)
    assert list(pc["patients"]) == [f"{round(v[0]):,}" for v in counties.values()]
    assert list(pc["patients_within"]) == [f"{round(v[1]):,}" for v in counties.values()]
    assert pc["share_within"].notna().all()
    assert hidden_kpis(tables, threshold=THR) == frozenset()
    assert public_policy(tables, threshold=THR)["patient_share"].notna().all()


PROTECT_CASES = [  # counts, relations (total, parts), texts shown instead
    ({"t": 13.0, "w": 10.0}, [("t", ("w",))], {"w": "≥8"}),
    ({"t": 13.0, "w": 13.0}, [("t", ("w",))], {}),
    ({"t": 20.0, "w": 15.0}, [("t", ("w",))], {}),
    ({"t": 20.0, "w": 3.0}, [("t", ("w",))], {"w": "<5"}),
    ({"t": 20.0, "w": 0.0}, [("t", ("w",))], {}),
    ({"t": 13.4, "w": 12.8}, [("t", ("w",))], {}),  # rounding, not a remainder
    ({"t": 3.0, "w": 3.0}, [("t", ("w",))], {"t": "<5", "w": "<5"}),
    (
        {"t": 50.0, "a": 30.0, "b": 17.0, "c": 3.0},
        [("t", ("a", "b", "c"))],
        {"c": "<5", "b": "≥15"},
    ),
    ({"t": 52.0, "a": 40.0, "b": 3.0, "c": 2.0}, [("t", ("a", "b", "c"))], {"b": "<5", "c": "<5"}),
    # 4 left over is b + c + the rest, no single one of them
    ({"t": 48.0, "a": 40.0, "b": 2.0, "c": 2.0}, [("t", ("a", "b", "c"))], {"b": "<5", "c": "<5"}),
]


@pytest.mark.parametrize(("counts", "relations", "hidden"), PROTECT_CASES)
def test_protect_counts(
    counts: dict[str, float], relations: list[tuple[str, tuple[str, ...]]], hidden: dict[str, str]
) -> None:
    rels = [CountRelation(t, p) for t, p in relations]
    assert protect_counts(counts, rels, threshold=THR) == hidden


def test_the_threshold_is_the_scenarios() -> None:
    tables = make_tables({"A": (13.0, 10.0), "B": (200.0, 150.0)})
    assert count_mask(tables, threshold=3).hidden == {}  # remainder 3 >= 3: shown exactly
    assert count_mask(tables, threshold=10).kpi("patients_total") is None
    texts = public_counties(tables, threshold=10)["patients_within"]
    assert texts["A"] == "≥10"  # at least the threshold, at most the shown total less 10


def test_region_within_and_beyond_reach() -> None:
    """Region 213 patients, 210 within: the within count is a bound, share and marks left out."""
    tables = make_tables({"A": (13.0, 13.0), "B": (200.0, 197.0)})
    mask = count_mask(tables, threshold=THR)
    assert mask.kpi("patients_total") is None
    assert mask.kpi_text("patients_within", 210.0) == "≥208"
    assert hidden_kpis(tables, threshold=THR) == {"patients_within", "share_within"}
    policy = public_policy(tables, threshold=THR)
    assert policy["patient_share"].isna().all()
    assert policy["patient_target_met"].isna().all()
    assert tables.policy["patient_share"].notna().all()  # the input is left as it was
    # the beyond-cutoff count with the within count: 213 = 190 + 20 + 3 assigned beyond reach
    tables = make_tables({"A": (13.0, 13.0), "B": (200.0, 177.0)}, beyond_cutoff=20.0)
    mask = count_mask(tables, threshold=THR)
    texts = {
        k: mask.kpi(k) for k in ("patients_total", "patients_within", "patients_beyond_cutoff")
    }
    assert sum(v is not None for v in texts.values()) == 1
    # the county table alone: 200 with 177 within leaves 23, nothing to hide
    assert county_count_mask(tables.counties, threshold=THR).hidden == {}


def test_public_counties_leaves_out_revealing_shares_and_marks() -> None:
    counties = {"350304": (13.5, 2.4), "350302": (10.9, 0.0), "350303": (1234.4, 800.0)}
    tables = make_tables(counties)
    out = public_counties(tables, threshold=5)
    assert list(out["patients"]) == ["14", "11", "1,234"]
    # the region's 802 within reach less 800 would give the hidden 2.4 back: 800 as a bound
    assert list(out["patients_within"]) == ["<5", "0", "≥797"]
    assert np.isnan(out.loc["350304", "share_within"])
    assert out.loc["350302", "share_within"] == 0
    assert np.isnan(out.loc["350303", "share_within"])
    assert out.loc["350304", "patient_target_met_2023"] is None
    assert out.loc["350302", "patient_target_met_2023"] is False
    assert out.loc["350303", "patient_target_met_2025"] is None
    big = public_counties(make_tables({**counties, "350305": (90.0, 40.0)}), threshold=5)
    assert big.loc["350303", "patients_within"] == "800"  # 802.4 + 40: two counts hide 2.4
    assert big.loc["350303", "share_within"] == 800.0 / 1234.4
    assert big.loc["350303", "patient_target_met_2025"] is True
    assert tables.counties.loc["350304", "share_within"] > 0  # the input is left as it was


def test_public_sites_hides_the_load_of_a_hidden_count() -> None:
    tables = make_tables(
        {"A": (100.0, 43.0)}, sites={"a": ("A", 3.0), "b": ("A", 40.0), "c": ("A", 0.0)}
    )
    out = public_sites(tables, threshold=5)
    assert list(out["assigned_patients"]) == ["<5", "≥38", "0"]  # 43 within = a + b + c
    assert out["load_share"].iloc[:2].isna().all()
    assert out.loc["c", "load_share"] == 0.0
    assert list(count_text(pd.Series([np.nan, 4.99, 5.0]), threshold=5)) == ["", "<5", "5"]
