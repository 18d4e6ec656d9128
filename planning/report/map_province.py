"""The province overview's map: which counties offer community rehab, prefectures, sites.

Counties are filled by what the overview says of them (:func:`planning.results.province_overview`):
a site of their own (they count towards the 50 / 65 / 80 % of counties), patients within reach
of a site elsewhere only, or neither; counties left out of the plan (no census figures, e.g.
金门县) are grey and say why. Prefecture outlines are drawn thick over the county boundaries,
so a whole province reads at a glance. Tooltips show counts as the overview's public tables do
(privacy rule applied).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import pandas as pd

from planning import i18n
from planning.inputs.sites import site_names
from planning.report.map_layers import (
    PREFECTURE_COLOUR,
    SITE_COLOURS,
    _boundaries,
    _county_labels,
    _features,
    _fmt_share,
    _point_layer,
    _prefecture_outlines,
    _tooltip,
)
from planning.report.map_shell import (
    COUNTY_TOLERANCE_DEG,
    Basemap,
    Lang,
    _base_map,
    _finish,
    _texts,
    display_coords,
)
from planning.results.province import ProvinceOverview, province_overview

if TYPE_CHECKING:
    from planning.pipeline import Plan

OFFERS_COLOUR = "#238b45"
REACHED_COLOUR = "#a1d99b"
NONE_COLOUR = "#fdae6b"
LEFT_OUT_COLOUR = "#bdbdbd"


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.text(f"regions.{key}", lang, **params)


def build_overview_map(
    plan: Plan,
    overview: ProvinceOverview | None = None,
    *,
    basemap: Basemap | str = "cartodb",
    lang: Lang | str = "zh",
) -> folium.Map:
    """Map the province overview: counties by service, prefecture outlines, open sites.

    Parameters
    ----------
    plan
        A solved :class:`~planning.pipeline.Plan` (layers in WGS-84).
    overview
        Its :func:`~planning.results.province_overview` (computed when not given).
    basemap, lang
        As for :func:`planning.report.maps.build_map`.

    Raises
    ------
    ScenarioError
        Unknown basemap or language.
    """
    with display_coords(basemap):
        return _overview_map(plan, overview or province_overview(plan), basemap, lang)


def _overview_map(plan: Plan, ov: ProvinceOverview, basemap: str, lang: str) -> folium.Map:
    t = _texts(lang)
    counties = plan.counties
    left_out = plan.left_out
    shapes = [counties.geometry]
    if len(left_out) and "geometry" in left_out:
        shapes.append(left_out.geometry)
    everything = gpd.GeoSeries(pd.concat(shapes), crs=counties.crs)
    m = _base_map(tuple(everything.total_bounds), basemap=basemap, lang=lang)
    pub = ov.public()["counties"].reindex(counties.index)
    state = [
        "offers" if o else "reached" if r else "none"
        for o, r in zip(
            pub["offers_rehab"].fillna(value=False), pub["reached"].fillna(value=False), strict=True
        )
    ]
    colours = {"offers": OFFERS_COLOUR, "reached": REACHED_COLOUR, "none": NONE_COLOUR}
    labels = {k: _t(f"ov_map_{k}", lang) for k in ("offers", "reached", "none")}
    yes, no = _t("ov_yes", lang), _t("ov_no", lang)
    props = pd.DataFrame(
        {
            "name": counties["name"].astype(str),
            "prefecture": pub["prefecture_name"].fillna("").astype(str),
            "state": [labels[s] for s in state],
            "patients": pub["patients"].fillna("").astype(str),
            "within": pub["patients_within"].fillna("").astype(str),
            "share": _fmt_share(pub["share_within"].astype(float)),
            "n_sites": pub["n_sites"].fillna(0).astype(int).astype(str),
            "offers": [yes if s == "offers" else no for s in state],
            "colour": [colours[s] for s in state],
        },
        index=counties.index,
    )
    group = folium.FeatureGroup(name=_t("ov_map_counties", lang), show=True)
    folium.GeoJson(
        _features(counties, props, tolerance_deg=COUNTY_TOLERANCE_DEG),
        style_function=lambda f: {
            "color": "#555555",
            "weight": 0.5,
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.55,
        },
        tooltip=_tooltip(
            ["name", "prefecture", "state", "patients", "within", "share", "n_sites"],
            [
                _t("ov_col_county", lang),
                _t("ov_col_prefecture", lang),
                _t("ov_col_offers_rehab", lang),
                _t("ov_col_patients", lang),
                _t("ov_col_patients_within", lang),
                _t("ov_col_share_within", lang),
                _t("ov_col_n_sites", lang),
            ],
        ),
    ).add_to(group)
    group.add_to(m)
    rows = [(colours[k], labels[k], "square") for k in ("offers", "reached", "none")]
    if len(left_out) and "geometry" in left_out:
        reason = [i18n.text(str(r), lang) for r in left_out["reason"]]
        lprops = pd.DataFrame(
            {"name": left_out["name"].astype(str), "reason": reason}, index=left_out.index
        )
        lgroup = folium.FeatureGroup(name=_t("ov_map_left_out", lang), show=True)
        folium.GeoJson(
            _features(
                gpd.GeoDataFrame(left_out[["geometry"]], geometry="geometry", crs=left_out.crs),
                lprops,
                tolerance_deg=COUNTY_TOLERANCE_DEG,
            ),
            style_function=lambda _f: {
                "color": "#777777",
                "weight": 0.8,
                "dashArray": "4 3",
                "fillColor": LEFT_OUT_COLOUR,
                "fillOpacity": 0.6,
            },
            tooltip=_tooltip(
                ["name", "reason"], [_t("ov_col_county", lang), _t("ov_col_reason", lang)]
            ),
        ).add_to(lgroup)
        lgroup.add_to(m)
        rows.append((LEFT_OUT_COLOUR, _t("ov_map_left_out", lang), "square"))
    legend: list[tuple[str, list[tuple[str, str, str]]]] = [(_t("ov_map_counties", lang), rows)]
    sites = plan.tables.sites
    if len(sites):
        names = site_names(plan.sites, lang=lang)
        sprops = pd.DataFrame(
            {
                "site": sites.index.astype(str),
                "name": names.reindex(sites.index).astype(str),
                "kind_key": sites["kind"].astype(str),
                "kind": sites["kind"].map(lambda k: t.get(str(k), str(k))),
                "county": sites["county_name"].astype(str),
            },
            index=sites.index,
        )
        _point_layer(
            plan.sites.loc[sites.index],
            sprops,
            lambda k: SITE_COLOURS.get(k, "#000000"),
            colour_field="kind_key",
            name=t["sites"],
            show=True,
            radius=6,
            fields=["site", "name", "kind", "county"],
            aliases=[t["site"], t["name"], t["kind"], t["county"]],
        ).add_to(m)
        present = [k for k in ("existing", "new", "hub") if (sites["kind"] == k).any()]
        legend.append((t["sites"], [(SITE_COLOURS[k], t[k], "circle") for k in present]))
    _boundaries(counties, t).add_to(m)
    _prefecture_outlines(counties, name=_t("ov_map_prefectures", lang), always=True).add_to(m)
    legend.append(
        (
            _t("ov_map_prefectures", lang),
            [(PREFECTURE_COLOUR, _t("ov_col_prefecture", lang), "line")],
        )
    )
    _county_labels(counties, lang=lang).add_to(m)
    _finish(m, legend, plan.travel.label, t, lang=lang, basemap=basemap)
    return m
