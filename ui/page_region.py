"""Region and data page: province -> city -> counties; people and facilities per county; upload.

The picked region and counties are written into the current scenario. An uploaded facility
table is checked by :func:`planning.inputs.load_facilities` (with a column-mapping step when the
headers are not recognised), kept in the scenario library as a clean WGS-84 CSV and referred
to by the scenario's ``facilities_file``, so it survives reloads and restarts.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from planning import inputs as io
from planning.errors import PlanningError, PlanningWarning
from planning.inputs.columns import KIND_FIELDS
from planning.report import maps
from planning.results import CountMask, region_input_overview, scenario_input_mask
from planning.scenario import Scenario
from planning.scenario_store import original_name
from ui import cache, mapview, state
from ui.i18n import labels, lang, t
from ui.messages import problem_message

WHOLE = "__whole__"
CRS_OPTIONS = ["wgs84", "gcj02", "bd09", "cgcs2000"]
UPLOAD_TYPES = ["csv", "xlsx", "geojson", "json", "gpkg", "zip"]


def _city_label() -> Callable[[str], str]:
    code = lang()
    return lambda c: t("whole_province", in_lang=code) if c == WHOLE else c


def _on_province() -> None:
    for key in ("rg_city", "rg_counties"):
        st.session_state.pop(key, None)


def _on_city() -> None:
    st.session_state.pop("rg_counties", None)


def _initial_picks(s: dict[str, Any]) -> tuple[str, str, list[str] | None]:
    """Province, city (or WHOLE) and counties of the scenario's region."""
    ref = cache.region_ref(s["region"])
    if ref.level == "province":
        return ref.province, WHOLE, list(s["counties"]) if s["counties"] else None
    if ref.level == "prefecture":
        return ref.province, ref.name, list(s["counties"]) if s["counties"] else None
    # a single county: its city, with that county picked
    return ref.province, ref.prefecture or ref.name, [ref.name]


def _pickers(s: dict[str, Any]) -> tuple[str, tuple[str, ...] | None]:
    """Draw the pickers; return (region, counties) for the scenario."""
    with state.planning_errors():
        province0, city0, counties0 = _initial_picks(s)
        provinces = cache.units(None)["name"].tolist()
    state.init_widget("rg_province", province0 if province0 in provinces else provinces[0])
    c1, c2 = st.columns(2)
    province = c1.selectbox(t("province"), provinces, key="rg_province", on_change=_on_province)
    cities = cache.units(province)["name"].tolist()
    options = [WHOLE, *cities]
    if "rg_city" not in st.session_state:
        fallback = cities[0] if cities else WHOLE
        st.session_state["rg_city"] = city0 if city0 in options else fallback
    city = c2.selectbox(
        t("city"),
        options,
        key="rg_city",
        on_change=_on_city,
        format_func=_city_label(),
    )
    if city == WHOLE:
        same = province == province0 and city0 == WHOLE  # else a fresh pick: all counties
        return province, _province_counties(province, counties0 if same else None)
    region = city
    with state.planning_errors():
        if cache.region_ref(city).province != province:  # same city name in two provinces
            region = f"{province}/{city}"
        names = cache.units(region)["name"].tolist()
    if not names:
        st.caption(t("no_counties", city=city))
        return region, None
    if "rg_counties" not in st.session_state:
        picked = counties0 if counties0 and set(counties0) <= set(names) else names
        st.session_state["rg_counties"] = list(picked)
    chosen = st.multiselect(t("counties"), names, key="rg_counties", help=t("counties_help"))
    if not chosen:
        st.error(t("pick_a_county"))
        st.stop()
    counties = None if set(chosen) == set(names) else tuple(n for n in names if n in chosen)
    return region, counties


def _province_counties(province: str, counties0: list[str] | None) -> tuple[str, ...] | None:
    """County picker for a whole province (values are adcodes: names repeat across cities)."""
    with state.planning_errors():
        units = cache.province_counties(province)
    codes = units["adcode"].tolist()
    label = dict(zip(units["adcode"], units["city"] + " " + units["name"], strict=True))
    if "rg_counties" not in st.session_state:
        by_name = dict(zip(units["name"], units["adcode"], strict=False))
        wanted = [c if c in label else by_name.get(c, "") for c in counties0 or []]
        picked = [c for c in wanted if c in label]
        if not picked:  # default: every county with a census population
            with_census = units.loc[units["has_census"], "adcode"].tolist()
            picked = with_census or codes
        st.session_state["rg_counties"] = picked
    missing = units.loc[~units["has_census"], "name"].tolist()
    if missing and units["has_census"].any():
        st.caption(t("no_census_left_out", names=t("name_sep").join(missing)))
    chosen = st.multiselect(
        t("counties"),
        codes,
        key="rg_counties",
        help=t("counties_help"),
        format_func=lambda code: label.get(code, code),
    )
    if not chosen:
        st.error(t("pick_a_county"))
        st.stop()
    # every county with census figures: the whole province (a plan leaves the others out and
    # says so), as the command line plans ``--region 福建省``
    with_census = set(units.loc[units["has_census"], "adcode"])
    return None if with_census <= set(chosen) else tuple(c for c in codes if c in chosen)


def _update_scenario(s: dict[str, Any], **changes: Any) -> Scenario:
    with state.planning_errors(lead="err_params"):
        scenario = Scenario.from_dict({**s, **changes})
    if scenario.to_dict() != s:
        state.set_scenario(scenario)
    return scenario


def _overview_table(overview: pd.DataFrame) -> pd.DataFrame:
    """The county overview as shown: headers in the app's language, numbers formatted."""
    table = pd.DataFrame(index=overview.index)
    table[t("col_county")] = overview["name"]
    table[t("col_population")] = overview["population"].map(
        lambda v: "—" if pd.isna(v) else f"{v:,.0f}"
    )
    table[t("col_patients")] = overview["patients"].replace("", "—")
    for column in overview.columns:
        if column.startswith("n_"):
            table[t(f"ftype_{column.removeprefix('n_')}")] = overview[column]
    table.index.name = t("col_adcode")
    return table


def _overview(
    scenario: Scenario,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, CountMask | None]:
    """The county overview; returns the counties, the facilities and the input mask for the map."""
    with state.planning_errors():
        boundaries = cache.region_counties(scenario.region, scenario.counties)
    demand = None
    try:
        fac, warns = cache.scenario_facilities(scenario)
        if scenario.patients_file:  # known counts, exactly as Solve will use them
            inputs = cache.prepared_inputs(scenario)[0]
            counties, left = inputs.counties, cache.left_out_warnings(inputs.left_out)
            demand = inputs.demand  # its counted cells: the mask of the plan's files
        else:  # counties without census figures (金门县...) are left out, as a plan does
            counties, left = cache.county_overview(
                scenario.region,
                scenario.counties,
                scenario.prevalence_per_mille,
                scenario.in_scope_share,
            )
    except PlanningError as err:
        # e.g. no census outside Fujian: say so, and keep the uploads below usable
        state.show_error(err)
        return boundaries, None, None
    state.show_warnings((*left, *warns))
    thr = scenario.privacy_threshold
    mask = scenario_input_mask(counties, threshold=thr, demand=demand)
    overview = region_input_overview(counties, scenario, facilities=fac, demand=demand)
    table = _overview_table(overview)
    st.subheader(t("overview_title"))
    if scenario.patients_file:
        st.caption(t("overview_caption_counts", file=original_name(scenario.patients_file)))
    else:
        st.caption(
            t(
                "overview_caption",
                prevalence=f"{scenario.prevalence_per_mille:g}",
                share=f"{100 * scenario.in_scope_share:g}",
            )
        )
    st.dataframe(table, width="stretch")
    if counties["population"].isna().any():
        st.warning(t("no_census"))
    return counties, fac, mask


def _column_mapping(frame: pd.DataFrame, token: str, *, kind: str = "facilities") -> dict[str, str]:
    guess = io.guess_columns(frame, kind=kind)  # type: ignore[arg-type]
    spatial = isinstance(frame, gpd.GeoDataFrame)
    if kind == "facilities":
        needed = ["name"] if spatial else ["name", "lon", "lat"]
        unsure = any(guess.get(f) is None for f in needed)
    else:  # patient counts: a count, and a county or coordinates
        needed = ["count"]
        located = spatial or guess.get("county") or (guess.get("lon") and guess.get("lat"))
        unsure = guess.get("count") is None or not located
    headers = [str(c) for c in frame.columns if str(c) != "geometry"]
    if unsure:
        st.warning(t("mapping_unsure"))
    chosen: dict[str, str] = {}
    with st.expander(t("mapping_title"), expanded=unsure):
        cols = st.columns(4)
        for i, field in enumerate(KIND_FIELDS[kind]):
            key = f"rg_map_{kind}_{field}_{token}"
            state.init_widget(key, guess.get(field))
            value = cols[i % 4].selectbox(
                t(f"field_{field}") + (" *" if field in needed else ""),
                headers,
                index=None,
                key=key,
                placeholder=t("mapping_none"),
            )
            if value:
                chosen[field] = value
    return chosen


def _store_facilities(fac: gpd.GeoDataFrame, *, name: str) -> Path:
    """Keep the checked facility table as a WGS-84 CSV in the library; return its path."""
    clean = pd.DataFrame(
        {
            "id": fac.index.astype(str),
            "name": fac["name"].astype(str),
            "type": fac["type"].astype(str),
            "lon": fac.geometry.x.round(7),
            "lat": fac.geometry.y.round(7),
            "capacity": fac["capacity"],
            "address": fac["address"].fillna("").astype(str) if "address" in fac else "",
            "county": fac["county"].astype(object).where(fac["county"].notna(), ""),
        }
    )
    if "data_source" in fac:  # OSM rows (and the planner's edits) keep their source and date
        clean["data_source"] = fac["data_source"].astype(str)
        clean["data_date"] = fac["data_date"].astype(object).where(fac["data_date"].notna(), "")
    data = clean.to_csv(index=False).encode("utf-8-sig")
    # kept under the planner's own file name: exports name it in their data sources
    return state.store().store_file(data, suffix=".csv", stem=Path(name).stem)


def _upload(scenario: Scenario, counties: gpd.GeoDataFrame) -> None:
    st.subheader(t("upload_title"))
    st.caption(t("upload_caption"))
    state.show_notice(where="page")
    if scenario.facilities_file:
        c1, c2 = st.columns([3, 1])
        c1.info(t("facilities_in_use", file=original_name(scenario.facilities_file)))
        if c2.button(t("facilities_remove"), key="rg_fac_remove"):
            _update_scenario(
                state.scenario_dict(),
                facilities_file=None,
                facilities_input_crs=None,
                candidate_source="grid",
            )
            st.session_state.pop("sc_candidate_source", None)
            state.set_plan(None)
            st.rerun()
    upload = st.file_uploader(t("upload_label"), type=UPLOAD_TYPES, key="rg_fac_upload")
    if upload is None:
        return
    data = upload.getvalue()
    token = hashlib.sha256(data).hexdigest()[:10]
    state.init_widget("rg_fac_crs", "wgs84")
    crs = st.selectbox(
        t("coord_system"),
        CRS_OPTIONS,
        key="rg_fac_crs",
        format_func=labels("crs_"),
        help=t("coord_help"),
    )
    try:
        frame = io.read_table(data, filename=upload.name)
    except io.InputFileError as err:
        _problems(err)
        return
    column_map = _column_mapping(frame, token)
    st.dataframe(frame.drop(columns="geometry", errors="ignore").head(8), width="stretch")
    if not st.button(t("facilities_use"), key="rg_fac_use", type="primary"):
        return
    try:
        with state.shown_warnings():
            fac = io.load_facilities(
                frame, filename=upload.name, crs=crs, region=counties, column_map=column_map
            )
    except io.InputFileError as err:
        _problems(err)
        return
    except PlanningError as err:
        state.show_error(err, lead="err_upload")
        return
    path = _store_facilities(fac, name=upload.name)
    source = scenario.candidate_source
    if source == "grid" and (fac["type"] != "rehab_existing").any():
        source = "grid+facilities"
    _update_scenario(
        state.scenario_dict(),
        facilities_file=str(path),
        facilities_crs="wgs84",  # the stored copy is converted to WGS-84
        facilities_input_crs=crs,  # the system the planner's table came in (AMap: gcj02)
        candidate_source=source,
    )
    state.set_plan(None)
    st.session_state.pop("sc_candidate_source", None)
    state.notify("success", t("facilities_loaded", n=len(fac), file=upload.name), where="page")
    st.rerun()  # redraw the overview and the map with the facilities


def _store_counts(counts: io.PatientCounts, *, name: str) -> Path:
    """Keep checked patient counts as a WGS-84 CSV in the library; return its path."""
    if counts.by_county is not None:
        clean = pd.DataFrame(
            {"county": counts.by_county.index.astype(str), "count": counts.by_county.to_numpy()}
        )
    else:
        pts = counts.points
        assert pts is not None  # noqa: S101 - load_patient_counts returns one of the two
        clean = pd.DataFrame(
            {
                "lon": pts.geometry.x.round(7),
                "lat": pts.geometry.y.round(7),
                "count": pts["count"].to_numpy(),
            }
        )
    data = clean.to_csv(index=False).encode("utf-8-sig")
    # kept under the planner's own file name: exports name it in their data sources
    return state.store().store_file(data, suffix=".csv", stem=Path(name).stem)


def _upload_patients(scenario: Scenario, counties: gpd.GeoDataFrame) -> None:
    st.subheader(t("patients_title"))
    st.caption(t("patients_caption", thr=scenario.privacy_threshold))
    state.show_notice(where="patients")
    if scenario.patients_file:
        c1, c2 = st.columns([3, 1])
        c1.info(t("patients_in_use", file=original_name(scenario.patients_file)))
        if c2.button(t("facilities_remove"), key="rg_pat_remove"):
            _update_scenario(state.scenario_dict(), patients_file=None)
            state.set_plan(None)
            st.rerun()
    upload = st.file_uploader(t("upload_label"), type=UPLOAD_TYPES, key="rg_pat_upload")
    if upload is None:
        return
    data = upload.getvalue()
    token = hashlib.sha256(data).hexdigest()[:10]
    state.init_widget("rg_pat_crs", "wgs84")
    crs = st.selectbox(
        t("coord_system"),
        CRS_OPTIONS,
        key="rg_pat_crs",
        format_func=labels("crs_"),
        help=t("coord_help"),
    )
    try:
        frame = io.read_table(data, filename=upload.name)
    except io.InputFileError as err:
        _problems(err)
        return
    column_map = _column_mapping(frame, token, kind="patients")
    if not st.button(t("patients_use"), key="rg_pat_use", type="primary"):
        return
    try:
        with state.shown_warnings():
            counts = io.load_patient_counts(
                frame,
                filename=upload.name,
                crs=crs,
                region=counties,
                column_map=column_map,
                privacy_threshold=scenario.privacy_threshold,
            )
    except io.InputFileError as err:
        _problems(err)
        return
    except PlanningError as err:
        state.show_error(err, lead="err_upload")
        return
    path = _store_counts(counts, name=upload.name)
    _update_scenario(state.scenario_dict(), patients_file=str(path), facilities_crs="wgs84")
    state.set_plan(None)
    state.notify("success", t("patients_loaded", file=upload.name), where="patients")
    st.rerun()


def _problems(err: io.InputFileError) -> None:
    st.error(f"**{t('err_upload')}** {t('upload_fix')}")
    rows = [
        {
            t("col_file"): p.file,
            t("col_row"): p.row,
            t("col_column"): p.column,
            t("col_problem"): problem_message(p, lang=lang()),
        }
        for p in err.problems
    ]
    st.dataframe(pd.DataFrame(rows), width="stretch", hide_index=True)


def _osm_facilities(
    scenario: Scenario, counties: gpd.GeoDataFrame, fac: gpd.GeoDataFrame | None
) -> None:
    """Facilities from OpenStreetMap: where the table in use comes from, and a fetch button."""
    st.subheader(t("osm_title"))
    st.caption(t("osm_caption"))
    state.show_notice(where="osm")
    if fac is not None:
        source = io.describe_source(
            fac, file=original_name(scenario.facilities_file) if scenario.facilities_file else None
        ).text(lang())
        st.caption(t("osm_source_in_use", source=source))
        if scenario.facilities_file and (fac.get("data_source", pd.Series()) != "file").any():
            st.download_button(
                t("osm_download"),
                Path(scenario.facilities_file).read_bytes(),
                file_name="facilities_osm.csv",
                mime="text/csv",
                key="rg_osm_download",
            )
    if not st.button(t("osm_fetch"), key="rg_osm_fetch"):
        return
    osm_file = scenario.travel.osm_file
    if osm_file and not osm_file.lower().endswith(".pbf"):
        osm_file = None
    with st.spinner(t("osm_fetching")), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            result = io.load_osm_facilities(counties, osm_file=osm_file)
            # the region's place names too, cached: plans name their sites without a download
            io.find_places(counties, osm_file=osm_file, download=True)
        except PlanningError as err:
            st.warning(f"**{t('warn_lead')}** {err.text(lang())}")
            return
    for w in caught:
        text = w.message.text(lang()) if isinstance(w.message, PlanningWarning) else str(w.message)
        st.warning(f"**{t('warn_lead')}** {text}")
    if result.table.empty:
        return
    data = result.table.to_csv(index=False).encode("utf-8-sig")
    path = state.store().store_file(data, suffix=".csv")
    source = "grid+osm" if scenario.candidate_source == "grid" else scenario.candidate_source
    _update_scenario(
        state.scenario_dict(),
        facilities_file=str(path),
        facilities_crs="wgs84",
        facilities_input_crs=None,
        candidate_source=source,
    )
    state.set_plan(None)
    st.session_state.pop("sc_candidate_source", None)
    label = result.label.text(lang())
    state.notify("success", t("osm_loaded", n=len(result.table), source=label), where="osm")
    st.rerun()


def render() -> None:
    """Draw the page."""
    st.title(t("page_region"))
    s = state.scenario_dict()
    region, counties = _pickers(s)
    scenario = _update_scenario(s, region=region, counties=counties)
    c_map, c_table = st.columns([3, 2])
    with c_table:
        layer, fac, mask = _overview(scenario)
    with c_map:
        basemap = mapview.basemap_picker("rg_basemap")
        m = maps.build_region_map(
            layer,
            facilities=fac,
            privacy_threshold=scenario.privacy_threshold,
            travel_label=scenario.travel_label,
            basemap=basemap,
            lang=mapview.map_lang(),
            collapsed_layers=True,  # a map in a column: the region gets the room
            input_mask=mask,  # the overview's: the counted cells decide it, as in the plan
        )
        mapview.show(m, key="map_region", height=560)
    _upload(scenario, layer)
    _osm_facilities(scenario, layer, fac)
    _upload_patients(scenario, layer)


render()
