"""planning.report.maps on the Putian demo: layers, legend, privacy, language, offline HTML, size.

Plans here are built from hand-picked open sites (``results.summarise`` on the nearest open
site), so the map tests do not depend on a solver.
"""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning import pipeline, results
from planning.errors import ScenarioError
from planning.models.base import Solution
from planning.pipeline import Inputs, Plan
from planning.report import map_layers, map_shell, maps
from planning.scenario import Scenario

OPEN = ("G0010", "G0050", "G0080", "G0100", "G0120", "G0140")
FACILITY_TYPES = (
    "rehab_existing",
    "psychiatric_hospital",
    "community_health_centre",
    "community_service_centre",
    "new_build",
    "other",
)


def make_plan(inputs: Inputs, open_ids: tuple[str, ...], *, hubs: tuple[str, ...] = ()) -> Plan:
    scenario = inputs.scenario
    near = results.nearest_open_times(inputs.travel.table, open_ids)
    near["patients"] = near["demand_id"].map(inputs.demand["weight"]).to_numpy()
    solution = Solution(
        model=scenario.model,
        status="optimal",
        selected_sites=tuple(sorted(open_ids)),
        allocation=near,
        objective=float(near["patients"].sum()),
        extras={"hubs": hubs},
    )
    tables = results.summarise(
        solution,
        scenario=scenario,
        demand=inputs.demand,
        sites=inputs.sites,
        counties=inputs.counties,
        travel=inputs.travel,
    )
    return Plan(
        scenario=scenario,
        counties=inputs.counties,
        demand=inputs.demand,
        sites=inputs.sites,
        facilities=inputs.facilities,
        travel=inputs.travel,
        solution=solution,
        tables=tables,
    )


def facility_layer(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    pts = counties.geometry.representative_point()
    rows = []
    for i, (cid, pt) in enumerate(pts.items()):
        kind = FACILITY_TYPES[i % len(FACILITY_TYPES)]
        rows.append(
            {
                "facility_id": f"F{i + 1:04d}",
                "name": f"测试设施{i + 1}",
                "type": kind,
                "capacity": 20.0 if i % 2 else np.nan,
                "address": "示例地址",
                "county": cid,
                "geometry": pt,
            }
        )
    return gpd.GeoDataFrame(rows, crs="EPSG:4326").set_index("facility_id")


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    return pipeline.prepare(Scenario(name="地图测试"))


@pytest.fixture(scope="module")
def plan(inputs: Inputs) -> Plan:
    return make_plan(inputs, OPEN, hubs=("G0080",))


def geojson_layers(m: folium.Map) -> list[folium.GeoJson]:
    found: list[folium.GeoJson] = []

    def walk(el: object) -> None:
        if isinstance(el, folium.GeoJson):
            found.append(el)
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)
    return found


def has_text(html: str, text: str) -> bool:
    """``text`` in the page, literally or JSON-escaped (legend HTML is passed through tojson)."""
    return text in html or json.dumps(text)[1:-1] in html


def feature_groups(m: folium.Map) -> dict[str, folium.FeatureGroup]:
    return {
        child.layer_name: child
        for child in m._children.values()
        if isinstance(child, folium.FeatureGroup) and child.control
    }


def test_plan_map_has_every_layer_in_the_layer_control(plan: Plan) -> None:
    m = maps.build_map(plan, selected_site="G0050")
    groups = feature_groups(m)
    t = maps.TEXT["zh"]
    for name in ("coverage", "demand", "sites", "candidates", "assignments", "catchments"):
        assert t[name] in groups, name
    reach = [g for g in groups if g.startswith(t["reach"])]
    assert reach == [f"{t['reach']}: G0050 (≤30 分钟内)"]
    shown = {name for name, g in groups.items() if g.show}
    assert t["coverage"] in shown
    assert t["sites"] in shown
    assert t["demand"] in shown
    assert t["assignments"] not in shown
    assert t["catchments"] not in shown
    html = maps.map_html(m)
    assert "L.control.layers" in html
    assert has_text(html, "图例")  # legend
    assert not has_text(html, "estimated (straight-line)")  # Chinese only on a Chinese map (#18)
    assert has_text(html, "估算（直线距离×绕行系数）")  # travel-mode label


def test_sites_by_kind_with_chinese_tooltips(plan: Plan) -> None:
    m = maps.build_map(plan, layers=("sites",))
    (layer,) = geojson_layers(feature_groups(m)[maps.TEXT["zh"]["sites"]])
    props = {f["properties"]["site"]: f["properties"] for f in layer.data["features"]}
    assert set(props) == set(OPEN)
    assert props["G0080"]["kind"] == "枢纽站点"
    assert props["G0050"]["kind"] == "新建站点"
    assert props["G0050"]["county"] in set(plan.counties["name"])
    (tooltip,) = [c for c in layer._children.values() if isinstance(c, folium.GeoJsonTooltip)]
    assert list(tooltip.aliases)[:3] == ["站点", "名称", "类型"]


def test_no_tooltip_shows_a_small_count(inputs: Inputs, plan: Plan) -> None:
    thr = plan.scenario.privacy_threshold
    assert (inputs.demand["weight"].between(0.5, thr - 0.5)).any()  # the demo has small cells
    m = maps.build_map(plan, selected_site="G0050")
    count_fields = {"patients", "within", "assigned"}
    seen_suppressed = False
    for layer in geojson_layers(m):
        for feature in layer.data["features"]:
            for key, value in feature["properties"].items():
                if key not in count_fields:
                    continue
                if value == f"<{thr}":
                    seen_suppressed = True
                    continue
                number = int(value.replace(",", ""))
                assert number == 0 or number >= thr, (key, value)
    assert seen_suppressed
    maps.map_html(m)


def test_reach_lists_only_cells_within_the_limit(plan: Plan) -> None:
    m = maps.build_map(plan, layers=("reach",), selected_site="G0050")
    group = next(g for n, g in feature_groups(m).items() if "G0050" in n)
    (layer,) = geojson_layers(group)
    table = plan.travel.table
    expected = table[(table["site_id"] == "G0050") & (table["travel_min"] <= 30)]
    assert len(layer.data["features"]) == len(expected)
    minutes = [int(f["properties"]["travel"]) for f in layer.data["features"]]
    assert max(minutes) <= 30


def test_coverage_shading_follows_the_county_table(plan: Plan) -> None:
    m = maps.build_map(plan, layers=("coverage",))
    (layer,) = geojson_layers(feature_groups(m)[maps.TEXT["zh"]["coverage"]])
    by_name = {f["properties"]["name"]: f["properties"] for f in layer.data["features"]}
    ctab = plan.tables.counties.set_index("name")
    for name, props in by_name.items():
        share = float(ctab.loc[name, "share_within"])
        assert props["share"] == f"{100 * share:.0f}%"
        cls = int(np.searchsorted(maps.COVERAGE_BREAKS, share, side="right"))
        assert props["colour"] == maps.COVERAGE_COLOURS[cls]


def test_assignment_lines_and_catchments(plan: Plan) -> None:
    m = maps.build_map(plan, layers=("assignments", "catchments"))
    groups = feature_groups(m)
    (lines,) = geojson_layers(groups[maps.TEXT["zh"]["assignments"]])
    assert len(lines.data["features"]) == len(plan.tables.assignments)
    (areas,) = geojson_layers(groups[maps.TEXT["zh"]["catchments"]])
    served = set(plan.tables.assignments["site_id"])
    assert {f["properties"]["site"] for f in areas.data["features"]} == served


def legend_html(m: folium.Map) -> str:
    """The legend's HTML (the control in the bottom right corner)."""
    (legend,) = [
        c
        for c in m._children.values()
        if isinstance(c, map_shell._Control) and c.position == "bottomright"
    ]
    return str(legend.html)


def test_legend_has_an_entry_for_each_drawn_layer(plan: Plan) -> None:
    t = maps.TEXT["zh"]
    html = legend_html(
        maps.build_map(
            plan,
            layers=("sites", "candidates", "assignments", "catchments", "reach"),
            selected_site="G0050",
        )
    )
    for name in ("sites", "candidates", "assignments", "catchments", "reach"):
        assert f"<i>{t[name]}</i>" in html, name
    assert "可达网格: G0050 (≤30 分钟)" in html
    assert maps.REACH_COLOUR in html
    assert "每个站点一种颜色" in html
    assert "linear-gradient(90deg," + ",".join(maps.CATCHMENT_COLOURS[:4]) + ")" in html
    # assignment lines: a swatch per line colour drawn; MCLP assigns only trips within 30 min
    assert (plan.tables.assignments["travel_min"] <= 30).all()
    assert f"border-top:3px solid {maps.ASSIGN_WITHIN_COLOUR}" in html
    assert "时限内 (≤30 分钟)" in html
    assert maps.ASSIGN_BEYOND_COLOUR not in html
    assert "候选点" in html


def test_legend_shows_assignment_lines_beyond_the_limit(inputs: Inputs) -> None:
    # p-median serves every cell, so some lines are longer than the limit (drawn red)
    median = Inputs(
        scenario=inputs.scenario.replace(model="p_median"),
        counties=inputs.counties,
        demand=inputs.demand,
        sites=inputs.sites,
        facilities=inputs.facilities,
        travel=inputs.travel,
    )
    plan = make_plan(median, OPEN)
    assert (plan.tables.assignments["travel_min"] > 30).any()
    html = legend_html(maps.build_map(plan, layers=("assignments",)))
    assert f"border-top:3px solid {maps.ASSIGN_WITHIN_COLOUR}" in html
    assert f"border-top:3px solid {maps.ASSIGN_BEYOND_COLOUR}" in html
    assert "超出时限 (&gt;30 分钟)" in html


def test_legend_leaves_out_layers_not_drawn(plan: Plan) -> None:
    t = maps.TEXT["zh"]
    html = legend_html(maps.build_map(plan, layers=("coverage", "sites")))
    assert f"<i>{t['sites']}</i>" in html
    for name in ("candidates", "assignments", "catchments", "reach"):
        assert f"<i>{t[name]}</i>" not in html, name
    # the reach layer needs a selected site: no layer, no legend entry
    html = legend_html(maps.build_map(plan, layers=("sites", "reach")))
    assert f"<i>{t['reach']}</i>" not in html


def test_legend_entries_in_english(plan: Plan) -> None:
    html = legend_html(
        maps.build_map(
            plan,
            layers=("assignments", "catchments", "reach", "candidates"),
            selected_site="G0050",
            lang="en",
        )
    )
    for text in (
        "<i>Assignment lines</i>",
        "Within limit (≤30 min)",
        "<i>Catchments</i>",
        "One colour per site",
        "<i>Reach of selected site</i>",
        "Cells within reach: G0050 (≤30 min)",
        "<i>Candidates not chosen</i>",
    ):
        assert text in html, text
    assert not re.search(r"[\u4e00-\u9fff]", html), html


def test_english_labels(plan: Plan) -> None:
    m = maps.build_map(plan, lang="en")
    groups = feature_groups(m)
    assert "County coverage" in groups
    assert "Rehabilitation sites" in groups
    html = maps.map_html(m)
    assert has_text(html, "Travel times: estimated (straight-line)")
    assert has_text(html, "Legend")


def test_english_map_names_generated_candidates_in_english(plan: Plan) -> None:
    m = maps.build_map(plan, lang="en", selected_site="G0050")
    groups = feature_groups(m)
    (sites_layer,) = geojson_layers(groups["Rehabilitation sites"])
    names = {f["properties"]["site"]: f["properties"]["name"] for f in sites_layer.data["features"]}
    assert names == {sid: f"Generated candidate {sid}" for sid in OPEN}
    for layer_name in ("Candidates not chosen", "Catchments"):
        (layer,) = geojson_layers(groups[layer_name])
        shown = [f["properties"]["name"] for f in layer.data["features"]]
        assert shown
        assert all(n.startswith("Generated candidate G") for n in shown), layer_name
    html = maps.map_html(m)
    assert "Reach of Generated candidate G0050" in html
    assert "生成候选点" not in html
    # Chinese maps keep the Chinese names
    zh = maps.map_html(maps.build_map(plan, layers=("sites",)))
    assert has_text(zh, "生成候选点 G0050")


def test_offline_html_and_size(plan: Plan) -> None:
    html = maps.map_html(maps.build_map(plan, basemap="none", selected_site="G0050"))
    # no script or stylesheet from a CDN: Leaflet is embedded
    assert not re.findall(r'<script[^>]+src="https?://', html)
    assert not re.findall(r'<link[^>]+href="https?://', html)
    assert "data:text/javascript;base64," in html
    assert "tile.openstreetmap" not in html
    assert "cartocdn" not in html
    # reasonable size: simplified polygons, rounded coordinates
    assert len(html) < 1_500_000, len(html)
    assert not re.search(r"\[\d+\.\d{6,}, \d+\.\d{6,}\]", html)


def test_basemaps(plan: Plan) -> None:
    def tiles(m: folium.Map) -> list[str]:
        return [c.tiles for c in m._children.values() if isinstance(c, folium.TileLayer)]

    assert tiles(maps.build_map(plan, layers=(), basemap="none")) == []
    assert "cartocdn" in tiles(maps.build_map(plan, layers=(), basemap="cartodb"))[0]
    assert "openstreetmap" in tiles(maps.build_map(plan, layers=(), basemap="osm"))[0]
    # boundaries and county names are drawn whatever the layers
    html = maps.map_html(maps.build_map(plan, layers=(), basemap="none"))
    for name in plan.counties["name"]:
        assert has_text(html, name)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layers": ("coverage", "heatmap")}, "Unknown map layer"),
        ({"basemap": "google"}, "Unknown basemap 'google'"),
        ({"lang": "fr"}, "Unknown map language 'fr'"),
        ({"selected_site": "NOPE"}, "Site 'NOPE' is not a site of this plan"),
    ],
)
def test_bad_options_raise_scenario_error(plan: Plan, kwargs: dict, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        maps.build_map(plan, **kwargs)


def test_facilities_by_type(inputs: Inputs) -> None:
    fac = facility_layer(inputs.counties)
    with_fac = Inputs(
        scenario=inputs.scenario,
        counties=inputs.counties,
        demand=inputs.demand,
        sites=inputs.sites,
        facilities=fac,
        travel=inputs.travel,
    )
    plan = make_plan(with_fac, OPEN)
    m = maps.build_map(plan, layers=("facilities",))
    (layer,) = geojson_layers(feature_groups(m)[maps.TEXT["zh"]["facilities"]])
    types = {f["properties"]["type"] for f in layer.data["features"]}
    assert types == {maps.TEXT["zh"][k] for k in fac["type"]}
    caps = {f["properties"]["capacity"] for f in layer.data["features"]}
    assert caps == {"20", "未知"}


def test_region_map_before_solving(inputs: Inputs) -> None:
    fac = facility_layer(inputs.counties)
    m = maps.build_region_map(
        inputs.counties,
        demand=inputs.demand,
        facilities=fac,
        travel_label="estimated (straight-line)",
        basemap="none",
    )
    groups = feature_groups(m)
    assert set(groups) == {"区县", maps.TEXT["zh"]["demand"], maps.TEXT["zh"]["facilities"]}
    (counties,) = geojson_layers(groups["区县"])
    props = counties.data["features"][0]["properties"]
    assert set(props) == {"name", "population", "patients"}
    html = maps.map_html(m)
    assert has_text(html, "估算（直线距离×绕行系数）")  # the travel label, in Chinese only (#18)


def test_simplified_geometry_stays_close(inputs: Inputs) -> None:
    data = map_layers._features(
        inputs.counties,
        pd.DataFrame(index=inputs.counties.index),
        tolerance_deg=maps.COUNTY_TOLERANCE_DEG,
    )
    for feature, original in zip(data["features"], inputs.counties.geometry, strict=True):
        simple = shapely.geometry.shape(feature["geometry"])
        assert simple.is_valid
        assert original.hausdorff_distance(simple) < 0.002  # degrees, ~200 m


def test_compact_map_folds_its_controls(plan: Plan) -> None:
    big = maps.map_html(maps.build_map(plan, layers=("coverage", "sites")))
    small = maps.map_html(maps.build_map(plan, layers=("coverage", "sites"), compact=True))
    assert '"collapsed": false' in big
    assert '"collapsed": true' in small
    assert "details" not in big
    assert "\\u003cdetails\\u003e" in small or "<details>" in small


def test_many_cells_are_merged_for_display(inputs: Inputs, monkeypatch: pytest.MonkeyPatch) -> None:
    cells = inputs.demand
    merged = maps.display_cells(cells, max_cells=300)
    assert len(merged) <= 300
    assert merged["weight"].sum() == pytest.approx(cells["weight"].sum())
    by_county = merged.groupby("county")["weight"].sum()
    expected = cells.groupby("county")["weight"].sum()
    pd.testing.assert_series_equal(by_county, expected, check_names=False)
    assert maps.display_cells(cells, max_cells=len(cells)) is cells
    # the map draws the merged blocks when there are too many cells
    monkeypatch.setattr(map_layers, "MAX_MAP_CELLS", 300)
    m = maps.build_region_map(inputs.counties, demand=cells, basemap="none")
    (layer,) = geojson_layers(feature_groups(m)[maps.TEXT["zh"]["demand"]])
    assert len(layer.data["features"]) <= 300
