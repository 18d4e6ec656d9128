"""Issue 18: figures that cannot mislead a meeting (library side of the browser test).

Travel figures on one basis for every model, Compare judging plans like with like, capacity
flags, legend classes shared by screen and print, basemaps and their coordinate systems, and
the presentable rollout workbook.
"""

from __future__ import annotations

import io
import json
import math
import re

import numpy as np
import openpyxl
import pytest

from planning import pipeline, report, results
from planning.errors import ScenarioError
from planning.inputs.coords import wgs84_to_gcj02
from planning.report import legend, maps, rollout_book
from planning.report import rollout as rollout_export
from planning.scenario import Scenario

SMALL = Scenario(
    counties=("城厢区", "荔城区", "涵江区"), cell_size_m=4000, candidate_spacing_m=6000
)


def has(html: str, text: str) -> bool:
    """``text`` in a map's HTML, literally or JSON-escaped (controls pass through tojson)."""
    return text in html or json.dumps(text)[1:-1] in html


@pytest.fixture(scope="module")
def inputs() -> pipeline.Inputs:
    return pipeline.prepare(SMALL.replace(max_travel_min=15, n_facilities=2))


@pytest.fixture(scope="module")
def plans(inputs: pipeline.Inputs) -> dict[str, pipeline.Plan]:
    return {  # each model on the inputs prepared for it (p-median needs farther pairs)
        "mclp": pipeline.solve(inputs),
        "p_median": pipeline.run(inputs.scenario.replace(model="p_median")),
    }


# ------------------------------------------------------------------ 1. travel figures
def test_every_model_counts_every_patient_in_or_out_of_the_travel_figures(
    plans: dict[str, pipeline.Plan],
) -> None:
    cutoffs = set()
    for plan in plans.values():
        k = plan.tables.kpis
        cutoffs.add(k["travel_cutoff_min"])
        figs = results.compute_travel_figures(
            plan.travel.table,
            plan.demand["weight"],
            plan.solution.selected_sites,
            cutoff_min=k["travel_cutoff_min"],
        )
        # the headline figures are those of the one definition, and nobody is lost
        assert k["mean_travel_min"] == pytest.approx(figs.mean_travel_min)
        assert k["max_travel_min_observed"] == pytest.approx(figs.max_travel_min)
        assert figs.patients_counted + k["patients_beyond_cutoff"] == pytest.approx(
            k["patients_total"]
        )
        assert k["max_travel_min_observed"] <= k["travel_cutoff_min"]
        assert k["share_beyond_cutoff"] == pytest.approx(
            k["patients_beyond_cutoff"] / k["patients_total"]
        )
    # p-median and MCLP with the same limit: the same cut-off, the same basis
    assert cutoffs == {results.reach_cutoff_min(SMALL.replace(max_travel_min=15))} == {30.0}


def test_the_left_out_patients_are_said_next_to_the_figures(
    plans: dict[str, pipeline.Plan],
) -> None:
    plan = plans["mclp"]
    k = plan.tables.kpis
    assert k["patients_beyond_cutoff"] > 5  # 2 sites, 15 minutes: many farther than 30
    note = results.travel_left_out(plan.tables, threshold=5)
    assert note is not None
    assert f"{k['patients_beyond_cutoff']:,.0f}" in note.text("en")
    assert "30 min" in note.text("en") and "30 分钟" in note.text("zh")
    assert f"{100 * k['share_beyond_cutoff']:.1f}%" in note.text("zh")
    # a county whose patients are partly left out carries the mark
    c = plan.tables.counties
    assert c["beyond_cutoff"].any()
    # nobody left out: no phrase
    full = pipeline.solve(
        pipeline.prepare(SMALL.replace(max_travel_min=60, n_facilities=3)),
    )
    assert full.tables.kpis["patients_beyond_cutoff"] == 0
    assert results.travel_left_out(full.tables, threshold=5) is None


def test_trade_off_curve_travel_on_the_plans_basis(
    inputs: pipeline.Inputs, plans: dict[str, pipeline.Plan]
) -> None:
    from planning import models  # noqa: PLC0415

    sc = inputs.scenario.replace(model="mclp")
    curve = models.trade_off_curve(inputs.model_input(), sc, [2, 3])
    restated = results.curve_travel_figures(curve, inputs.travel.table, inputs.demand["weight"], sc)
    two = restated.set_index("p").loc[2]
    assert two["mean_travel_min"] == pytest.approx(plans["mclp"].tables.kpis["mean_travel_min"])
    assert two["patients_beyond_cutoff"] == pytest.approx(
        plans["mclp"].tables.kpis["patients_beyond_cutoff"]
    )


# ------------------------------------------------------------------ 2. compare like with like
def test_compare_differences_only_like_with_like() -> None:
    a = SMALL.replace(max_travel_min=30, n_facilities=2)
    b = SMALL.replace(max_travel_min=20, n_facilities=2)
    pa, pb = pipeline.run(a), pipeline.run(b)
    ba = results.PlanBasis.of(a, travel_label=pa.travel.label)
    bb = results.PlanBasis.of(b, travel_label=pb.travel.label)
    like = results.comparable_figures(ba, bb)
    assert "share_within" not in like and "mean_travel_min" not in like
    assert {"n_sites", "counties_with_site"} <= like
    diff = results.kpi_differences(
        pa.tables, pb.tables, base_threshold=5, other_threshold=5, base_basis=ba, other_basis=bb
    )
    assert math.isnan(diff["share_within"].delta)
    assert diff["n_sites"].delta == 0
    warns = results.basis_warnings([ba, bb], ["A", "B"])
    assert len(warns) == 1
    assert "A 30 min" in warns[0].text("en") and "B 20 min" in warns[0].text("en")
    assert "B 20 分钟" in warns[0].text("zh")
    # same limits and region: everything compares
    assert results.comparable_figures(ba, ba) == frozenset(results.compare.KPI_FIGURES)
    other_region = results.PlanBasis.of(
        a.replace(counties=("仙游县",)), travel_label=pa.travel.label
    )
    assert results.comparable_figures(ba, other_region) == frozenset({"n_sites"})


# ------------------------------------------------------------------ 3. capacities
def test_over_capacity_is_flagged_and_the_capacitated_model_proposed(
    inputs: pipeline.Inputs, plans: dict[str, pipeline.Plan]
) -> None:
    plan = plans["mclp"]
    sites = inputs.sites.copy()
    some = plan.solution.selected_sites[0]
    sites.loc[some, ["fixed", "capacity"]] = [True, 30.0]
    solved = pipeline.solve(
        pipeline.Inputs(
            scenario=inputs.scenario,
            counties=inputs.counties,
            demand=inputs.demand,
            sites=sites,
            facilities=None,
            travel=inputs.travel,
        ),
        inputs.scenario,
    )
    s = solved.tables.sites
    assert bool(s.loc[some, "over_capacity"]) and s.loc[some, "load_share"] > 1
    assert solved.tables.kpis["n_sites_over_capacity"] == 1
    advice = results.capacity_advice(solved.tables)
    keys = [m.key for m in advice]
    assert keys == ["report.capacity.over", "report.capacity.suggest_capacitated"]
    html = maps.map_html(maps.build_map(solved, basemap="none"))
    assert has(html, "超出容量")
    capped = pipeline.solve(
        pipeline.Inputs(
            scenario=inputs.scenario,
            counties=inputs.counties,
            demand=inputs.demand,
            sites=sites,
            facilities=None,
            travel=inputs.travel,
        ),
        inputs.scenario.replace(constraints={"capacitated": True, "default_capacity": 10_000}),
    )
    assert not capped.tables.sites["over_capacity"].any()
    assert results.capacity_advice(capped.tables) == []


# ------------------------------------------------------------------ 5. legends and basemaps
def test_legend_classes_are_round_and_never_below_the_threshold() -> None:
    values = np.random.default_rng(3).lognormal(2.3, 0.8, 800)
    breaks = legend.count_breaks(values, threshold=5)
    assert breaks == tuple(sorted(set(breaks))) and breaks[0] >= 5
    for b in breaks:
        mantissa = b / 10 ** math.floor(math.log10(b))
        assert mantissa in (1.0, 2.0, 5.0) or mantissa in legend.FINE_STEPS
    labels = legend.count_labels(breaks)
    assert labels[0] == f"<{breaks[0]:.0f}" and labels[-1] == f"≥{breaks[-1]:.0f}"
    assert legend.coverage_labels() == ["<30%", "30–45%", "45–60%", "60–80%", "≥80%"]
    # screen and print shade a county alike
    from planning.report import printmap  # noqa: PLC0415

    for share in (0.1, 0.3, 0.5, 0.7, 0.95):
        cls = legend.coverage_class(share)
        assert printmap._coverage_colour(share) == maps.COVERAGE_COLOURS[cls]


def test_basemaps_state_their_coordinates_and_amap_shifts_every_layer(
    plans: dict[str, pipeline.Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plans["mclp"]
    wgs = maps.build_map(plan, basemap="none", layers=("sites",))
    gcj = maps.build_map(plan, basemap="amap", layers=("sites",))
    html_wgs, html_gcj = maps.map_html(wgs), maps.map_html(gcj)
    assert has(html_wgs, "坐标系：WGS-84")
    assert "GCJ-02" in html_gcj and "webrd0" in html_gcj
    site = plan.tables.sites.iloc[0]
    lon, _ = wgs84_to_gcj02(np.array([site["lon"]]), np.array([site["lat"]]))
    assert f"{round(float(lon[0]), 5)}" in html_gcj  # the site drawn where AMap's street is
    assert f"{round(float(site['lon']), 5)}" in html_wgs
    monkeypatch.delenv("KANGLE_TIANDITU_KEY", raising=False)
    assert not maps.tianditu_available()
    with pytest.raises(ScenarioError, match="KANGLE_TIANDITU_KEY"):
        maps.build_map(plan, basemap="tianditu")
    monkeypatch.setenv("KANGLE_TIANDITU_KEY", "test-key")
    html_tdt = maps.map_html(maps.build_map(plan, basemap="tianditu", lang="en"))
    assert "tianditu.gov.cn/vec_w" in html_tdt and "eva_w" in html_tdt  # English names
    assert "CGCS2000" in html_tdt


def test_english_maps_give_place_names_in_pinyin(plans: dict[str, pipeline.Plan]) -> None:
    html = maps.map_html(maps.build_map(plans["mclp"], basemap="none", lang="en"))
    assert has(html, "城厢区 Chengxiang") and has(html, "荔城区 Licheng")


# ------------------------------------------------------------------ 4. presentable rollout
def test_rollout_workbook_in_the_chosen_language_with_numbers(inputs: pipeline.Inputs) -> None:
    sc = inputs.scenario.replace(model="mclp", max_travel_min=15)
    res = pipeline.rollout(inputs, sc)
    for lang, met, header in (("zh", "达标", "年份"), ("en", "met", "Year")):
        data = rollout_export.rollout_workbook_bytes(
            res, sites=inputs.sites, travel_label=inputs.travel.label, lang=lang
        )
        wb = openpyxl.load_workbook(io.BytesIO(data))
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(min_row=4, values_only=True))
        assert rows[0][0] == header
        years = [r for r in rows[1:] if r[0] is not None]
        assert [r[0] for r in years] == list(res.years)
        for r in years:
            assert all(isinstance(v, int | float) for v in r[1:7])  # counts and shares
            assert r[7] in (met, rollout_book._r("not_met", lang))
            assert not any(isinstance(v, bool) for v in r)
        share_cell = ws.cell(row=5, column=6)
        assert share_cell.number_format == "0.0%"
        text = " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c)
        assert rollout_export.differs_note(lang)[:10] in text
        if lang == "zh":
            assert not re.search(r"\b(year|new_sites|True|False)\b", text)
    pdf = rollout_export.rollout_print_map_bytes(
        res, sites=inputs.sites, counties=inputs.counties, lang="zh"
    )
    import pypdfium2 as pdfium  # noqa: PLC0415

    doc = pdfium.PdfDocument(pdf)
    page_text = doc[0].get_textpage().get_text_range().replace("\n", "")
    for year in res.years:
        assert f"截至 {year} 年" in page_text
    assert "图例" in page_text and "制图日期" in page_text


# ------------------------------------------------------------------ 6. the scenario download
def test_the_scenario_download_is_a_json_file(plans: dict[str, pipeline.Plan]) -> None:
    plan = plans["mclp"]
    f = report.export_bytes(plan, "scenario")
    assert f.name.endswith("scenario.json") and f.mime == "application/json"
    assert Scenario.from_dict(json.loads(f.data.decode("utf-8"))) == plan.scenario
    assert report.scenario_download_name(plan).endswith("_scenario.json")


def test_workbook_speaks_words_not_codes(plans: dict[str, pipeline.Plan], tmp_path) -> None:
    path = report.export(plans["p_median"], tmp_path, formats=["xlsx"], lang="zh")[0]
    ws = openpyxl.load_workbook(path).worksheets[0]
    values = {str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None}
    assert not {v for v in values if "p_median" in v or "/ optimal" in v}
    assert "100%" in values  # the in-scope share, not "1"
    assert any("已证明最优" in v or "时间上限内" in v for v in values)
    assert not any(v.isascii() and "grid+facilities" in v for v in values)
