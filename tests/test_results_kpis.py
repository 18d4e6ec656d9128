"""Typed KPIs: one attribute per figure, read-only mapping view, built from a dict."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle

import pandas as pd
import pytest

from planning import pipeline
from planning.errors import DataError
from planning.report.plan import plan_summary
from planning.results import Kpis, ResultTables
from planning.scenario import Scenario


def _tables(kpis: object) -> ResultTables:
    empty = pd.DataFrame()
    return ResultTables(assignments=empty, sites=empty, counties=empty, kpis=kpis, policy=empty)  # type: ignore[arg-type]


def test_from_a_dict_missing_figures_are_empty_by_type() -> None:
    k = Kpis.from_mapping({"model": "mclp", "patients_total": 12.0, "hubs": ["S2", "S1"]})
    assert k.model == "mclp"
    assert k.patients_total == 12.0
    assert k.hubs == ("S2", "S1")  # a list becomes a tuple (frozen)
    assert k.gap is None  # may be None: None
    assert math.isnan(k.patients_within)  # a float: NaN
    assert k.n_sites == 0
    assert k.travel_label == ""
    assert k.capacitated is False


def test_every_figure_has_an_empty_value() -> None:
    # a new field of any declared type works with a partial dict (tests build those)
    empty = Kpis.from_mapping({})
    assert list(empty) == list(Kpis.names())
    assert repr(pickle.loads(pickle.dumps(empty))) == repr(empty)  # NaN != NaN


def test_unknown_figure_refused_naming_it() -> None:
    with pytest.raises(DataError, match=r"Unknown KPI: bogus, covered\b") as err:
        Kpis.from_mapping({"patients_total": 1.0, "covered": 1.0, "bogus": 2})
    assert "patients_within" in err.value.text("en")  # the known ones are listed
    assert "未知的指标" in err.value.text("zh")
    with pytest.raises(DataError, match="Unknown KPI: covered"):
        _tables({"covered": 1.0})


def test_result_tables_convert_a_dict() -> None:
    tables = _tables({"patients_total": 10.0, "patients_within": 4.0})
    assert isinstance(tables.kpis, Kpis)
    assert tables.kpis.patients_within == 4.0
    assert _tables(tables.kpis).kpis is tables.kpis


def test_mapping_view_reads_like_the_dict_it_was() -> None:
    given = {"patients_total": 10.0, "patients_within": 4.0, "share_within": 0.4}
    k = Kpis.from_mapping(given)
    assert k["share_within"] == k.share_within == 0.4
    assert k.get("share_within") == 0.4
    assert k.get("no_such_figure", "x") == "x"
    assert "patients_total" in k
    assert "no_such_figure" not in k
    with pytest.raises(KeyError):
        k["no_such_figure"]
    assert list(k) == list(Kpis.names()) == [f.name for f in dataclasses.fields(Kpis)]
    assert len(k) == len(Kpis.names())
    assert dict(k) == {name: getattr(k, name) for name in Kpis.names()}
    assert dict(k).items() >= given.items()
    assert k == Kpis.from_mapping(dict(k))


def test_frozen() -> None:
    k = Kpis.from_mapping({"patients_total": 10.0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.patients_total = 3.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        k["patients_total"] = 3.0  # type: ignore[index]


def test_a_plan_s_kpis_are_complete_and_written_in_field_order() -> None:
    plan = pipeline.run(
        Scenario(
            model="mclp",
            n_facilities=2,
            max_travel_min=12,
            region="莆田市",
            counties=("城厢区", "荔城区"),
            cell_size_m=4000,
            candidate_spacing_m=7000,
        )
    )
    k = plan.tables.kpis
    assert isinstance(k, Kpis)
    assert k.model == "mclp"
    assert k.n_sites == len(plan.solution.selected_sites) == 2
    assert k.n_sites_existing + k.n_sites_new == k.n_sites
    assert k.share_within == pytest.approx(k.patients_within / k.patients_total)
    assert isinstance(k.hubs, tuple)
    summary = plan_summary(plan)
    assert list(summary["kpis"]) == list(Kpis.names())
    json.dumps(summary, ensure_ascii=False)  # every figure JSON-ready
