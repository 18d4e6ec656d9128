"""planning.models: one module per model, plain options, messages by code, arrows down only."""

from __future__ import annotations

import ast
from pathlib import Path

import pulp
import pytest
from _model_fixtures import line_input, make_input

from planning import i18n
from planning.errors import InfeasibleError, ScenarioError
from planning.models import ModelOptions, RolloutOptions, solve
from planning.models import rollout as model_rollout
from planning.models._diagnose import HINTS, family_name
from planning.models.options import FAMILIES
from planning.scenario import Scenario

MODELS_DIR = Path(__file__).resolve().parents[1] / "planning" / "models"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


@pytest.mark.parametrize("path", sorted(MODELS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_models_import_nothing_above_them(path: Path) -> None:
    # models take plain options: no scenario, pipeline, results, report or ui, not even lazily
    above = ("planning.scenario", "planning.pipeline", "planning.results", "planning.report")
    bad = [m for m in _imports(path) if m.startswith(above) or m.startswith("ui")]
    assert not bad, f"{path.name} imports {bad}"


def test_options_read_from_a_scenario_solve_like_the_scenario() -> None:
    scenario = Scenario(model="p_median", n_facilities=1, max_travel_min=10)
    options = ModelOptions.from_scenario(scenario)
    assert options.kind == "p_median"
    assert options.p == 1
    assert options.max_travel_min == 10
    by_options, by_scenario = solve(line_input(), options), solve(line_input(), scenario)
    assert by_options.objective == by_scenario.objective == pytest.approx(80.0)
    assert by_options.selected_sites == by_scenario.selected_sites


def test_rollout_options_read_the_phases() -> None:
    scenario = Scenario(model="mclp", rollout={"phases": [{"year": 2024, "new_sites": 1}]})
    options = RolloutOptions.from_scenario(scenario)
    assert [p.year for p in options.periods] == [2024]
    assert options.periods[0].new_sites == 1
    assert options.model.kind == "mclp"


def test_every_rule_family_has_a_name_and_a_hint_in_both_languages() -> None:
    for family in FAMILIES:
        assert family_name(family).text("en") == family
        assert family_name(family).text("zh") != family
        assert HINTS[family].text("zh") != HINTS[family].text("en")


def test_model_errors_render_in_chinese_and_english() -> None:
    data = line_input()
    with pytest.raises(ScenarioError) as caught:
        solve(data, Scenario(model="mclp", n_facilities=9, max_travel_min=10))
    err = caught.value
    assert err.code == "models.too_many_sites"
    assert err.text("en").startswith("mclp: 9 sites requested but there are only 5 sites")
    assert "要求 9 个站点" in err.text("zh")
    far = make_input({("a", "s1"): 5.0, ("b", "s1"): 30.0}, {"a": 1, "b": 2}, ["s1"])
    with pytest.raises(InfeasibleError) as infeasible:
        solve(far, Scenario(model="lscp", max_travel_min=10))
    assert infeasible.value.code == "models.lscp_uncovered"
    assert "LSCP 要求每位患者都在 10 分钟内" in infeasible.value.text("zh")
    assert "最近的候选站点也要 30 分钟" in infeasible.value.text("zh")
    assert infeasible.value.text("en").startswith(
        "LSCP at 10 minutes cannot cover 2 patients: nearest candidate 30 minutes away"
    )


def test_a_culprit_found_by_diagnosis_is_named_in_each_language() -> None:
    # two sites each needed by one point, a budget for one: without the budget a plan exists
    data = line_input()
    scenario = Scenario(
        model="lscp",
        max_travel_min=10,
        constraints={"budget": 1.0},
        candidate_types=[{"name": "grid", "opening_cost": 1.0}],
    )
    sites = data.sites.assign(candidate_type="grid")
    data = type(data)(travel=data.travel, demand=data.demand, sites=sites)
    with pytest.raises(InfeasibleError) as caught:
        solve(data, scenario)
    err = caught.value
    assert err.culprit == "budget"
    assert "without 'budget' a plan exists" in err.text("en")
    assert "去掉“预算”即有可行方案" in err.text("zh")
    assert i18n.text("models.hint_budget", "zh") in err.text("zh")


def test_build_rollout_returns_an_unsolved_problem() -> None:
    options = RolloutOptions.from_scenario(
        Scenario(
            model="mclp",
            n_facilities=2,
            max_travel_min=10,
            rollout={"phases": [{"year": 2024, "new_sites": 1}, {"year": 2025, "new_sites": 1}]},
        )
    )
    prob = model_rollout.build_rollout(line_input(), options, stage="plan")
    assert isinstance(prob, pulp.LpProblem)
    assert prob.status == pulp.LpStatusNotSolved
    names = {v.name for v in prob.variables()}
    assert {"y_s0_2024", "y_s0_2025"} <= names
