"""Cached wrappers around :mod:`planning` for the app (the library itself never caches).

* ``@st.cache_data`` for frames: each caller gets its own copy.
* Prepared inputs (region, patients, cells, sites, travel times) are kept in a small LRU
  store (``st.cache_resource``, a pickled copy per caller, so preparing can show progress)
  keyed by the scenario fields that change them (:func:`inputs_key`), so changing a model
  option (number of sites, solver, constraints...) re-solves on the same inputs via
  :func:`planning.pipeline.solve`.
* Road networks are loaded and cached on disk by :mod:`planning.travel` inside ``prepare``;
  the prepared travel-time table, not the graph, is what the app keeps.
"""

from __future__ import annotations

import json
import pickle
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from planning import pipeline, results
from planning.errors import PlanningWarning
from planning.i18n import MsgStr
from planning.inputs import demand as demand_step
from planning.inputs import regions as data_step
from planning.pipeline import Inputs, Plan
from planning.scenario import Scenario

Progress = Callable[[float, str], None]

INPUT_FIELDS = (
    "region",
    "counties",
    "prevalence_per_mille",
    "in_scope_share",
    "cell_size_m",
    "weight_layer",
    "patients_file",
    "candidate_source",
    "candidate_spacing_m",
    "facilities_file",
    "facilities_crs",
    "osm_facilities_file",
    "travel",
    "candidate_types",
    "privacy_threshold",
)
"""Scenario fields that change the prepared inputs (everything else only changes the model)."""


def _file_stamp(path: str | None) -> list[Any] | None:
    if not path:
        return None
    p = Path(path)
    try:
        st_ = p.stat()
    except OSError:
        return [path, None]
    return [path, st_.st_mtime_ns, st_.st_size]


def inputs_key(scenario: Scenario) -> str:
    """Cache key of the prepared inputs of ``scenario`` (JSON text).

    Input fields, the files they name (path, modification time, size) and the travel-time
    cut-off (which depends on the model and its thresholds).
    """
    data = scenario.to_dict()
    key: dict[str, Any] = {k: data[k] for k in INPUT_FIELDS}
    key["cutoff_min"] = pipeline.travel_cutoff_min(scenario)
    key["files"] = [
        _file_stamp(scenario.facilities_file),
        _file_stamp(scenario.patients_file),
        _file_stamp(scenario.weight_layer),
        _file_stamp(scenario.osm_facilities_file),
        _file_stamp(scenario.travel.osm_file),
    ]
    return json.dumps(key, sort_keys=True, ensure_ascii=False)


Warns = tuple[Warning, ...]
"""UserWarnings raised while preparing, kept as objects: the page renders each in its language."""


def _warnings(caught: list[warnings.WarningMessage]) -> Warns:
    out: dict[str, Warning] = {}
    for w in caught:
        if issubclass(w.category, UserWarning):
            message = w.message if isinstance(w.message, Warning) else UserWarning(str(w.message))
            out.setdefault(str(message), message)
    return tuple(out.values())


class _InputsStore:
    """Prepared inputs by key, least recently used dropped beyond ``max_entries``.

    Kept with ``st.cache_resource`` rather than ``st.cache_data`` so that preparing can
    report progress to the page (a cached function must not draw elements); callers get a
    pickled copy, as ``st.cache_data`` would give them.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> tuple[Inputs, Warns] | None:
        with self._lock:
            blob = self._items.get(key)
            if blob is None:
                return None
            self._items.move_to_end(key)
        value: tuple[Inputs, Warns] = pickle.loads(blob)  # noqa: S301 - our own bytes
        return value

    def put(self, key: str, value: tuple[Inputs, Warns]) -> None:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._items[key] = blob
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _inputs_store() -> _InputsStore:
    return _InputsStore(max_entries=6)


def prepared_inputs(
    scenario: Scenario, *, progress: Progress | None = None
) -> tuple[Inputs, Warns]:
    """Prepared inputs of ``scenario`` and the warnings raised while preparing them.

    Reused while the input fields (:func:`inputs_key`) stay the same; ``progress`` hears
    about the steps of a fresh preparation (region, cells, travel times).
    """
    key = inputs_key(scenario)
    store = _inputs_store()
    hit = store.get(key)
    if hit is not None:
        return hit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        inputs = pipeline.prepare(scenario, progress=progress)
    value = (inputs, _warnings(caught))
    store.put(key, value)
    return value


def solve_plan(scenario: Scenario, *, progress: Progress | None = None) -> tuple[Plan, Warns]:
    """Solve ``scenario``, reusing prepared inputs when only model options changed."""
    if progress:
        progress(0.0, MsgStr("progress.preparing_inputs"))
    inputs, warns = prepared_inputs(scenario, progress=progress)
    return pipeline.solve(inputs, scenario, progress=progress), warns


@st.cache_data(show_spinner=False, max_entries=16)
def _solved(key: str, _scenario_json: str) -> tuple[Plan, Warns]:
    del key
    return solve_plan(Scenario.from_json(_scenario_json))


def solved_plan(scenario: Scenario) -> tuple[Plan, Warns]:
    """Cached plan of a saved scenario (compare and trade-off pages)."""
    text = scenario.to_json()
    key = json.dumps([json.loads(text), json.loads(inputs_key(scenario))], sort_keys=True)
    return _solved(key, text)


@st.cache_data(show_spinner=False, max_entries=8)
def _curve(key: str, _scenario_json: str, p_values: tuple[int, ...]) -> pd.DataFrame:
    del key
    from planning import models  # noqa: PLC0415

    scenario = Scenario.from_json(_scenario_json)
    inputs, _ = prepared_inputs(scenario)
    curve: pd.DataFrame = models.trade_off_curve(inputs.model_input(), scenario, list(p_values))
    # travel figures on every plan's basis (nearest open site, who is left out)
    curve = results.curve_travel_figures(
        curve, inputs.travel.table, inputs.demand["weight"], scenario
    )
    return public_curve(curve, inputs, scenario)


def public_curve(curve: pd.DataFrame, inputs: Inputs, scenario: Scenario) -> pd.DataFrame:
    """The curve as it may be shown: figures a plan's privacy mask hides are withheld (NaN)."""
    return results.public_curve(
        curve,
        counties=pd.DataFrame(inputs.counties.drop(columns="geometry", errors="ignore")),
        demand=inputs.demand,
        threshold=scenario.privacy_threshold,
    )


def trade_off(scenario: Scenario, p_values: tuple[int, ...]) -> pd.DataFrame:
    """Coverage and mean travel against the number of sites (see ``models.trade_off_curve``)."""
    text = scenario.to_json()
    key = json.dumps([json.loads(text), json.loads(inputs_key(scenario))], sort_keys=True)
    return _curve(key, text, p_values)


# ----------------------------------------------------------------------------- region pickers
@st.cache_data(show_spinner=False)
def units(parent: str | None) -> pd.DataFrame:
    """Administrative units below ``parent`` (provinces when ``None``)."""
    return data_step.list_units(parent)


@st.cache_data(show_spinner=False)
def region_ref(query: str) -> data_step.RegionRef:
    """The unit ``query`` names (adcode, name, level, province, prefecture)."""
    return data_step.resolve_region(query)


@st.cache_data(show_spinner=False)
def province_counties(province: str) -> pd.DataFrame:
    """County-level units of a province: ``adcode``, ``name``, ``city``, ``has_census``."""
    ref = data_step.resolve_region(province)
    units = data_step.county_units(ref)
    census = data_step.load_census()
    out = pd.DataFrame(
        {
            "adcode": units["adcode"].astype(str).to_numpy(),
            "name": units["name"].astype(str).to_numpy(),
            "city": units["city"].fillna("").astype(str).to_numpy(),
        }
    )
    out["has_census"] = out["adcode"].isin(census.index)
    return out.sort_values("adcode").reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=16)
def region_counties(region: str, counties: tuple[str, ...] | None) -> gpd.GeoDataFrame:
    """County boundaries of the region with census population (where known)."""
    return data_step.load_counties(region, counties=counties)


@st.cache_data(show_spinner=False, max_entries=16)
def _county_overview(
    region: str,
    counties: tuple[str, ...] | None,
    prevalence_per_mille: float,
    in_scope_share: float,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    layer = data_step.load_counties(region, counties=counties)
    with warnings.catch_warnings():  # the left-out counties are returned, said by the caller
        warnings.simplefilter("ignore", PlanningWarning)
        return demand_step.region_patients(
            layer, prevalence_per_mille=prevalence_per_mille, in_scope_share=in_scope_share
        )


def county_overview(
    region: str,
    counties: tuple[str, ...] | None,
    prevalence_per_mille: float,
    in_scope_share: float,
) -> tuple[gpd.GeoDataFrame, Warns]:
    """Counties of the region with census population and estimated patients.

    Counties without census figures (金门县...) are left out as a plan leaves them out
    (:func:`planning.inputs.region_patients`); the warning naming them is returned, so the
    page says it on every run, also when the counties come from the cache.
    """
    kept, left_out = _county_overview(region, counties, prevalence_per_mille, in_scope_share)
    return kept, left_out_warnings(left_out)


def left_out_warnings(left_out: pd.DataFrame) -> Warns:
    """The library's warning naming the counties left out of a region (none when none)."""
    if left_out.empty:
        return ()
    items = data_step.left_out_items(left_out)
    return (PlanningWarning("regions.counties_left_out", counties=items, n=len(items)),)


@st.cache_data(show_spinner=False, max_entries=8)
def facilities(
    path: str, crs: str, region: str, counties: tuple[str, ...] | None, stamp: str
) -> tuple[gpd.GeoDataFrame, Warns]:
    """The scenario's facility file, loaded and checked against the region."""
    del stamp  # part of the key only (file modification time and size)
    from planning import inputs as io  # noqa: PLC0415

    layer = data_step.load_counties(region, counties=counties)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        fac = io.load_facilities(Path(path), crs=crs, region=layer)
    return fac, _warnings(caught)


def scenario_facilities(scenario: Scenario) -> tuple[gpd.GeoDataFrame | None, Warns]:
    """The facility layer of ``scenario`` (``None`` without a facility file)."""
    if not scenario.facilities_file:
        return None, ()
    return facilities(
        scenario.facilities_file,
        scenario.facilities_crs,
        scenario.region,
        scenario.counties,
        json.dumps(_file_stamp(scenario.facilities_file)),
    )
