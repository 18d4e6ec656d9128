"""The MCLP objective (the exact patients covered) stays out of progress texts and logs (#19).

The plan's outputs may show the covered patients as "<5", or hide them as "≥L" to protect
another count; the progress bar and INFO logs must not print the exact figure beside them.
"""

from __future__ import annotations

import logging

import pytest
from _model_fixtures import make_input

from planning import i18n
from planning.models import ModelInput, solve
from planning.scenario import Scenario


def _input() -> ModelInput:
    """Two far-apart places of 1,234 and 3 patients, each with a candidate on the spot."""
    travel = {("d0", "s0"): 0.0, ("d1", "s1"): 0.0, ("d0", "s1"): 90.0, ("d1", "s0"): 90.0}
    return make_input(travel, {"d0": 1234.0, "d1": 3.0}, ["s0", "s1"])


def _run(model: str, caplog: pytest.LogCaptureFixture) -> tuple[float, list[str], list[str]]:
    texts: list[str] = []

    def progress(_fraction: float, message: object) -> None:
        assert isinstance(message, i18n.MsgStr)
        texts.extend(message.text(lang) for lang in ("en", "zh"))

    sc = Scenario(model=model, n_facilities=2, max_travel_min=30)
    with caplog.at_level(logging.DEBUG, logger="planning"):
        sol = solve(_input(), sc, progress=progress)
    logs = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    return sol.objective, texts, logs


def test_mclp_objective_is_not_in_progress_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    objective, texts, logs = _run("mclp", caplog)
    assert objective == pytest.approx(1237.0)  # 1,234 + 3: the "<5" place given back
    for shown in ("1237", "1,237", "1.237e+03"):
        assert not any(shown in t for t in texts), texts
        assert not any(shown in line for line in logs), logs
    assert any("optimal: the patients covered are in the plan's results" in t for t in texts)
    assert any("mclp solved: optimal, gap 0.00%" in line for line in logs)


def test_other_objectives_are_still_shown(caplog: pytest.LogCaptureFixture) -> None:
    objective, texts, logs = _run("p_median", caplog)  # patient-minutes, not a count
    assert objective == pytest.approx(0.0)
    assert any(t.endswith(": objective 0") for t in texts), texts
    assert any("p_median solved: optimal, objective 0," in line for line in logs), logs
