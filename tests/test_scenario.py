import json

import pytest

from planning.errors import ScenarioError
from planning.scenario import Constraints, Scenario


def test_defaults_are_the_putian_demo_and_policy():
    s = Scenario()
    assert s.region == "莆田市" and s.prevalence_per_mille == 4.60 and s.in_scope_share == 1.0
    assert [p.year for p in s.rollout.phases] == [2023, 2024, 2025]
    assert [p.county_share_target for p in s.rollout.phases] == [0.5, 0.65, 0.8]
    assert [p.patient_share_target for p in s.rollout.phases] == [0.3, 0.45, 0.6]
    assert s.travel_label == "estimated (straight-line)"


def test_json_round_trip_with_nested_options(tmp_path):
    s = Scenario(
        name="测试",
        model="p-center",
        n_facilities=3,
        constraints=Constraints(budget=100, site_in_every_county=True),
    )
    assert Scenario.from_json(s.to_json()) == s
    path = s.save(tmp_path / "scenario.json")
    assert Scenario.load(path) == s
    assert json.loads(path.read_text(encoding="utf-8"))["name"] == "测试"


def test_unknown_keys_are_named():
    with pytest.raises(ScenarioError, match="unknown option 'n_sites'"):
        Scenario.from_dict({"n_sites": 3})
    with pytest.raises(ScenarioError, match=r"unknown option 'travel\.speed'"):
        Scenario.from_dict({"travel": {"speed": 3}})


def test_facility_coordinate_system_is_recorded():
    assert Scenario(facilities_crs="gcj02").facilities_source_crs == "gcj02"
    app = Scenario(facilities_crs="wgs84", facilities_input_crs="bd09")
    assert app.facilities_source_crs == "bd09"
    assert Scenario.from_json(app.to_json()).facilities_input_crs == "bd09"


def test_road_speeds_are_scenario_parameters_with_checked_keys():
    speeds = {"primary": 50.0, "urban:residential": 15.0, "rural:track": 8.0, "walk": 4.0}
    s = Scenario(travel={"mode": "network", "network_type": "walk", "road_speeds_kmh": speeds})
    assert Scenario.from_json(s.to_json()).travel.road_speeds_kmh == speeds
    for typo in ("primry", "rual:primary", "urban:walk", "urban:"):
        with pytest.raises(ScenarioError, match=rf"unknown road speed key\(s\) '{typo}'.*'road'"):
            Scenario(travel={"road_speeds_kmh": {typo: 30.0}})
    with pytest.raises(ScenarioError, match=r"travel\.road_speeds_kmh"):
        Scenario(travel={"road_speeds_kmh": {"primary": 0}})


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"max_travel_min": 0}, "max_travel_min"),
        ({"max_travel_min": -5}, "max_travel_min"),
        ({"model": "kmeans"}, "model"),
        ({"prevalence_per_mille": 0}, "prevalence_per_mille"),
        ({"n_facilities": 0}, "n_facilities"),
        ({"model": "mclp", "n_facilities": None}, "needs a number of sites"),
    ],
)
def test_invalid_values_say_which_field(changes, fragment):
    with pytest.raises(ScenarioError, match=fragment):
        Scenario(**changes)


def test_replace_validates():
    s = Scenario()
    assert s.replace(n_facilities=4).n_facilities == 4
    with pytest.raises(ScenarioError, match="max_travel_min"):
        s.replace(max_travel_min=-1)


def test_bad_json_text():
    with pytest.raises(ScenarioError, match="not valid JSON"):
        Scenario.from_json("{nope")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"max_travel_min": 0},
            "max_travel_min = 0 is not allowed: use a number greater than 0 (minutes, e.g. 30)",
        ),
        ({"n_facilities": 0}, "n_facilities = 0 is not allowed: use a whole number of at least 1"),
        ({"prevalence_per_mille": 200}, "use a number greater than 0 and at most 100"),
        ({"cell_size_m": 10}, "cell_size_m = 10 is not allowed: use a number from 200 to 50000"),
        ({"model": "kmeans"}, "use one of 'mclp', 'p_median', 'lscp' or 'p_center'"),
        ({"travel": {"detour_factor": 0.5}}, "travel.detour_factor = 0.5 is not allowed"),
        ({"time_limit_s": "soon"}, "time_limit_s = 'soon' is not allowed: use a number"),
    ],
)
def test_invalid_values_are_explained_in_plain_words(changes, expected):
    """Field, value given and what is allowed, without pydantic's "Input should be"."""
    with pytest.raises(ScenarioError) as info:
        Scenario(**changes)
    assert expected in str(info.value)
    assert "Input should" not in str(info.value)
    assert "Value error" not in str(info.value)


def test_validation_error_lists_one_problem_per_option():
    with pytest.raises(ScenarioError) as info:
        Scenario(max_travel_min=-1, in_scope_share=2)
    problems = {p.field: p for p in info.value.problems}
    assert set(problems) == {"max_travel_min", "in_scope_share"}
    minutes = problems["max_travel_min"]
    assert minutes.value == -1 and minutes.unit == "minutes" and minutes.example == 30.0
    assert minutes.allowed == "a number greater than 0"
    assert minutes.reword("--max-minutes", "-1") == (
        "--max-minutes -1 is not allowed: use a number greater than 0 "
        "(minutes, e.g. --max-minutes 30)"
    )
    assert problems["in_scope_share"].allowed == "a number greater than 0 and at most 1"


def test_cross_option_error_has_no_pydantic_prefix():
    with pytest.raises(ScenarioError) as info:
        Scenario(model="mclp", n_facilities=None)
    assert str(info.value) == (
        "Scenario is invalid: model 'mclp' needs a number of sites (n_facilities / --sites) "
        "or a budget."
    )
