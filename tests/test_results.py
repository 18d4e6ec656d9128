"""Display-ready result tables: small counts '<5', and no share that gives one back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planning.results import count_text, hidden_kpis, public_counties, public_sites


def test_hidden_kpis_hide_the_share_with_either_count() -> None:
    base = {"patients_total": 24.4, "patients_within": 2.4, "patients_beyond_cutoff": 0.0}
    assert hidden_kpis(base, threshold=5) == {"patients_within", "share_within"}
    shown = {"patients_total": 2000.0, "patients_within": 1500.0, "patients_beyond_cutoff": 3.0}
    assert hidden_kpis(shown, threshold=5) == {"patients_beyond_cutoff"}
    assert hidden_kpis({**shown, "patients_beyond_cutoff": 0.0}, threshold=5) == set()


def test_public_counties_leaves_out_revealing_shares_and_marks() -> None:
    counties = pd.DataFrame(
        {
            "name": ["荔城区", "城厢区", "涵江区"],
            "population": [1.0e5, 2.0e5, np.nan],
            "patients": [13.5, 10.9, 1234.4],
            "patients_within": [2.4, 0.0, 800.0],
            "share_within": [2.4 / 13.5, 0.0, 800.0 / 1234.4],
            "n_sites": [1, 0, 2],
            "has_site": [True, False, True],
            "mean_travel_min": [8.0, np.nan, 12.0],
            "max_travel_min": [9.0, np.nan, 20.0],
        },
        index=pd.Index(["350304", "350302", "350303"], name="county_id"),
    )
    out = public_counties(counties, threshold=5)
    assert list(out["patients"]) == ["14", "11", "1,234"]
    assert list(out["patients_within"]) == ["<5", "0", "800"]
    assert np.isnan(out.loc["350304", "share_within"])
    assert out.loc["350302", "share_within"] == 0
    assert out.loc["350303", "share_within"] == 800.0 / 1234.4
    assert out.loc["350304", "patient_target_met_2023"] is None
    assert out.loc["350302", "patient_target_met_2023"] is False
    assert out.loc["350303", "patient_target_met_2025"] is True
    assert counties.loc["350304", "share_within"] > 0  # the input is left as it was


def test_public_sites_hides_the_load_of_a_hidden_count() -> None:
    sites = pd.DataFrame(
        {"assigned_patients": [3.0, 40.0, 0.0], "load_share": [0.15, 0.8, 0.0]},
        index=pd.Index(["a", "b", "c"], name="site_id"),
    )
    out = public_sites(sites, threshold=5)
    assert list(out["assigned_patients"]) == ["<5", "40", "0"]
    assert np.isnan(out.loc["a", "load_share"])
    assert list(out["load_share"].iloc[1:]) == [0.8, 0.0]
    assert list(count_text(pd.Series([np.nan, 4.99, 5.0]), threshold=5)) == ["", "<5", "5"]
