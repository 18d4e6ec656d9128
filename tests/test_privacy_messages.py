"""Patient counts in messages follow the privacy rule, as every output does (issue #19).

The LSCP infeasibility message printed "2 patients in 连江县" and "0 patients in 东山县" where
every table shows "<5"; a count that rounds to 0 must not read 0 either.
"""

from __future__ import annotations

import pytest

from planning.errors import InfeasibleError
from planning.i18n import Msg
from planning.models import ModelInput, solve
from planning.scenario import Scenario
from planning.suppression import ShownCount, protect_error
from tests.test_models_constraints import two_county_input


@pytest.mark.parametrize(
    ("value", "shown"),
    [(2.0, "<5"), (0.3, "<5"), (4.99, "<5"), (0.0, "0"), (5.0, "5"), (1234.4, "1,234")],
)
def test_a_count_is_shown_by_the_rule(value: float, shown: str) -> None:
    assert format(ShownCount(value, 5), ",.0f") == shown
    assert str(ShownCount(value, 5)) == shown


def _lscp_error(near: float, far: float) -> InfeasibleError:
    parts = [
        Msg("models.patients_near_in_county", patients=near, county="连江县", minutes=41),
        Msg("models.patients_unreached_in_county", patients=far, county="东山县"),
    ]
    return InfeasibleError(
        "models.lscp_uncovered",
        culprit="travel_table",
        minutes=30,
        parts=parts,
        ids="350122-0001, 350626-0004",
        fix=Msg("models.fix_lscp_uncovered"),
    )


def test_the_lscp_message_of_the_issue_hides_small_counts() -> None:
    raw = _lscp_error(2, 0.4)
    assert "2 patients in 连江县" in raw.text("en")  # as it was
    shown = protect_error(raw, threshold=5)
    for lang in ("en", "zh"):
        text = shown.text(lang)
        assert "连江县" in text and "东山县" in text
        assert "<5" in text
        assert "2 " not in text.replace("350122", "").replace("350626", "")
    assert "<5 patients in 连江县" in shown.text("en")
    assert "<5 patients in 东山县" in shown.text("en")
    assert "0 patients" not in shown.text("en")
    assert isinstance(shown, InfeasibleError) and shown.culprit == "travel_table"
    assert raw.text("en") != shown.text("en")  # the original is not changed in place


def test_large_counts_and_other_numbers_are_kept() -> None:
    shown = protect_error(_lscp_error(312, 27), threshold=5)
    text = shown.text("en")
    assert "312 patients in 连江县: nearest candidate 41 minutes away" in text
    assert "27 patients in 东山县" in text
    assert "LSCP at 30 minutes" in text


def test_a_higher_threshold_hides_more() -> None:
    text = protect_error(_lscp_error(7, 12), threshold=10).text("en")
    assert "<10 patients in 连江县" in text
    assert "12 patients in 东山县" in text


def _target_error(total: float, within: float) -> InfeasibleError:
    return InfeasibleError(
        "models.county_target_unreachable",
        culprit="county_coverage_target",
        target=0.8,
        county="连江县 (350122)",
        share=within / total,
        patients_total=total,
        patients_within=within,
    )


@pytest.mark.parametrize(
    ("total", "within", "shown"),
    [
        (1000.0, 2.0, "only <0.5% of its patients"),  # 2 within: the share gave 2 back
        (1000.0, 997.0, "only >99.5% of its patients"),  # 3 beyond reach: 1000 - 997
        (3.0, 1.0, "only <100.0% of its patients"),  # a county of 3 (itself "<5")
        (200.0, 0.0, "only 0.0% of its patients"),  # 0 is shown as 0 ...
        (3.0, 0.0, "only 0.0% of its patients"),  # (the rest is the total, shown "<5")
        (200.0, 100.0, "only 50.0% of its patients"),  # ... and so is a share of shown counts
        (1000.0, 5.0, "only 0.5% of its patients"),
    ],
)
def test_the_county_target_share_never_gives_a_hidden_count_back(
    total: float, within: float, shown: str
) -> None:
    text = protect_error(_target_error(total, within), threshold=5).text("en")
    assert shown in text
    assert "county coverage target 80% cannot hold in 连江县 (350122)" in text
    assert "are within the travel threshold" in text
    zh = protect_error(_target_error(total, within), threshold=5).text("zh")
    assert shown.split()[1] in zh  # the same figure in Chinese
    assert "无法达到" in zh
    # shown exactly with a threshold the counts meet
    exact = protect_error(_target_error(total, within), threshold=0).text("en")
    assert f"only {within / total:.1%} of its patients" in exact


def test_the_county_target_message_of_a_solve_hides_the_share() -> None:
    data = two_county_input()  # county 乙县: 2 patients, 1 within 5 minutes of a candidate
    sites = data.sites.assign(referral_min=[50.0, 10.0, 20.0, 10.0, 90.0])
    data = ModelInput(travel=data.travel, demand=data.demand, sites=sites)
    sc = Scenario(
        model="mclp",
        n_facilities=2,
        max_travel_min=5,
        constraints={"county_coverage_target": 0.6, "max_referral_min": 30},
    )
    with pytest.raises(InfeasibleError) as info:
        solve(data, sc)
    assert info.value.code == "models.county_target_unreachable"
    raw = info.value.text("en")
    shown = protect_error(info.value, threshold=sc.privacy_threshold).text("en")
    assert "50.0%" not in shown
    assert "only <100.0% of its patients" in shown
    assert raw.replace("50.0%", "<100.0%") == shown  # the rest word for word
