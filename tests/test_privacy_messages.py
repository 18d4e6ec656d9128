"""Patient counts in messages follow the privacy rule, as every output does (issue #19).

The LSCP infeasibility message printed "2 patients in 连江县" and "0 patients in 东山县" where
every table shows "<5"; a count that rounds to 0 must not read 0 either.
"""

from __future__ import annotations

import pytest

from planning.errors import InfeasibleError
from planning.i18n import Msg
from planning.suppression import ShownCount, protect_error


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
