"""The region's inputs before solving and plans side by side: privacy applied in planning."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from planning import pipeline
from planning.errors import DataError
from planning.results import (
    compare,
    kpi_differences,
    public_kpi_numbers,
    region_input_overview,
    region_input_totals,
)
from planning.scenario import Scenario

SCENARIO = Scenario(privacy_threshold=5)


def counties() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["甲区", "乙县", "丙县"],
            "population": [1_200_000.0, 3000.0, float("nan")],
            "patients": [5520.0, 3.0, 40.0],
        },
        index=pd.Index(["350302", "350303", "350304"], name="county_id"),
    )


def test_overview_hides_small_counts_and_what_gives_them_back() -> None:
    out = region_input_overview(counties(), SCENARIO)
    assert list(out.index) == ["350302", "350303", "350304"]
    assert out.loc["350303", "patients"] == "<5"
    # the three add up to the region total shown with them: one more count is hidden
    hidden = [v for v in out["patients"] if v.startswith("≥")]
    assert len(hidden) == 1
    assert out.loc["350302", "population"] == 1_200_000.0
    assert math.isnan(out.loc["350304", "population"])
    assert out["name"].tolist() == ["甲区", "乙县", "丙县"]


def test_overview_counts_facilities_by_type() -> None:
    fac = pd.DataFrame(
        {
            "county": ["350302", "350302", "350304"],
            "type": ["rehab_existing", "psychiatric_hospital", "rehab_existing"],
        }
    )
    out = region_input_overview(counties(), SCENARIO, facilities=fac)
    assert out["n_rehab_existing"].tolist() == [1, 0, 1]
    assert out["n_psychiatric_hospital"].tolist() == [1, 0, 0]
    assert "n_rehab_existing" not in region_input_overview(counties(), SCENARIO).columns


def test_overview_needs_patients() -> None:
    with pytest.raises(DataError):
        region_input_overview(counties().drop(columns="patients"), SCENARIO)


def test_region_totals() -> None:
    totals = region_input_totals(counties(), SCENARIO)
    assert totals.n_counties == 3
    assert totals.population == 1_203_000.0
    assert totals.patients == "5,563"
    small = region_input_totals(counties().iloc[[1]], SCENARIO)
    assert small.patients == "<5"
    no_census = counties().assign(population=float("nan"))
    assert region_input_totals(no_census, SCENARIO).population is None


@pytest.fixture(scope="module")
def plans() -> tuple[pipeline.Plan, pipeline.Plan]:
    small = Scenario(
        counties=("城厢区", "荔城区"), cell_size_m=4000, candidate_spacing_m=6000, n_facilities=2
    )
    return pipeline.run(small), pipeline.run(small.replace(n_facilities=3))


def test_kpi_differences_follow_the_privacy_rule(plans: tuple[pipeline.Plan, ...]) -> None:
    base, other = plans
    numbers = public_kpi_numbers(base.tables, threshold=5)
    assert numbers["n_sites"] == 2
    diff = kpi_differences(base.tables, other.tables, base_threshold=5, other_threshold=5)
    assert diff["n_sites"].delta == 1 and diff["n_sites"].below is None
    within = diff["patients_within"]
    expected = float(other.tables.kpis["patients_within"] - base.tables.kpis["patients_within"])
    assert within.delta == pytest.approx(expected)
    # a huge threshold hides every count: the difference of hidden figures is not shown
    hidden = kpi_differences(base.tables, other.tables, base_threshold=5, other_threshold=10**9)
    assert math.isnan(hidden["patients_within"].delta)
    assert math.isnan(public_kpi_numbers(base.tables, threshold=10**9)["patients_total"])


def test_a_small_patient_difference_shows_only_as_below_the_threshold(
    plans: tuple[pipeline.Plan, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, other = plans
    figures = {
        id(base.tables): {"patients_within": 100.0, "patients_total": 200.0, "n_sites": 2.0},
        id(other.tables): {"patients_within": 103.0, "patients_total": 230.0, "n_sites": 2.0},
    }
    monkeypatch.setattr(compare, "KPI_FIGURES", dict.fromkeys(figures[id(base.tables)], ""))

    def numbers(tables: object, threshold: int) -> dict[str, float]:
        assert threshold in (4, 5)
        return figures[id(tables)]

    monkeypatch.setattr(compare, "public_kpi_numbers", numbers)
    diff = kpi_differences(base.tables, other.tables, base_threshold=5, other_threshold=4)
    assert diff["patients_within"] == compare.KpiDifference(3.0, below=5)  # the larger threshold
    assert diff["patients_total"] == compare.KpiDifference(30.0)
    assert diff["n_sites"] == compare.KpiDifference(0.0)
