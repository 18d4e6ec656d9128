"""Write a solved plan to files: the meeting kit a planner hands to colleagues.

Formats: a facility plan workbook (XLSX, :func:`export_workbook`), GIS layers (GeoPackage,
GeoJSON, CSV: :func:`gis_layers`), an interactive HTML map (:func:`export_html_map`) and a
printable map (PDF/PNG, :mod:`planning.printmap`); :func:`export` writes any of them plus
``scenario.json`` (with copies of its input files), which :func:`load_scenario_for_run` reads
back to reproduce the plan. :func:`export_bytes` gives one format as bytes for a download.

Every patient count leaving the library passes :func:`planning.results.suppress_small` with
the plan's :func:`planning.results.count_mask`, so counts below the scenario's
``privacy_threshold`` appear as ``"<N"`` and counts that would give one back by subtraction
(a county's total less its within-reach count, a region total less the other counties...)
as ``"≥N"``, the same in every format. Every file carries the
travel mode label (``travel_mode`` column or field), so an estimate is never mistaken for
road travel times.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning.errors import DataError, ScenarioError
from planning.results import (
    CountMask,
    count_mask,
    hide_revealing_shares,
    public_policy,
    suppress_columns,
)
from planning.scenario import Scenario
from planning.sites import site_names
from planning.travel import travel_label_shown

if TYPE_CHECKING:
    from planning.pipeline import Plan

logger = logging.getLogger(__name__)

PATIENT_COLUMNS = ("patients", "assigned_patients", "patients_within", "weight")
COORD_SYSTEM_NAMES = {
    "wgs84": "WGS-84",
    "gcj02": "GCJ-02 (AMap/Tencent)",
    "bd09": "BD-09 (Baidu)",
    "cgcs2000": "CGCS2000",
}
"""How a facility table's coordinate system is named in the data sources of every export."""


def _suppressed(
    frame: pd.DataFrame, threshold: int, hidden: dict[str, pd.Series] | None = None
) -> pd.DataFrame:
    return suppress_columns(frame, PATIENT_COLUMNS, threshold=threshold, hidden=hidden)


def _county_hidden(mask: CountMask, index: pd.Index) -> dict[str, pd.Series]:
    """Complementary-suppression text of a county table's count columns."""
    return {c: mask.counties(index, c) for c in ("patients", "patients_within")}


def _site_hidden(mask: CountMask, index: pd.Index) -> dict[str, pd.Series]:
    return {"assigned_patients": mask.sites(index)}


def export_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """Return the plan's tables as they are written to disk (suppressed, labelled, id-keyed).

    Returns a mapping ``{"sites", "assignments", "counties", "demand"}`` of frames; ``sites``,
    ``counties`` and ``demand`` are GeoDataFrames in WGS-84.
    """
    t = plan.tables
    thr = plan.scenario.privacy_threshold
    mask = count_mask(t, threshold=thr)
    label = plan.travel.label
    sites = t.sites.copy()
    sites["source"] = plan.sites.loc[sites.index, "source"]
    sites["travel_mode"] = label
    s_hidden = _site_hidden(mask, sites.index)
    _hide_small_shares(sites, ("assigned_patients",), "load_share", thr, s_hidden)
    sites_g = gpd.GeoDataFrame(
        _suppressed(sites, thr, s_hidden),
        geometry=plan.sites.geometry.loc[sites.index],
        crs="EPSG:4326",
    )
    counties = t.counties.copy()
    counties["travel_mode"] = label
    c_hidden = _county_hidden(mask, counties.index)
    _hide_small_shares(counties, ("patients", "patients_within"), "share_within", thr, c_hidden)
    counties_g = gpd.GeoDataFrame(
        _suppressed(counties, thr, c_hidden),
        geometry=plan.counties.geometry.loc[counties.index],
        crs="EPSG:4326",
    )
    assignments = _suppressed(t.assignments, thr).assign(travel_mode=label)
    demand = plan.demand[["county", "county_name", "weight", "urban", "area_km2"]]
    demand_g = gpd.GeoDataFrame(
        _suppressed(demand, thr), geometry=plan.demand.geometry, crs="EPSG:4326"
    )
    return {
        "sites": sites_g,
        "assignments": assignments,
        "counties": counties_g,
        "demand": demand_g,
    }


def _summary_count(
    value: float | None, threshold: int, hidden: str | None = None
) -> float | str | None:
    """Return a patient count for JSON: ``"<N"`` when 0 < value < N, else rounded to 0.1.

    ``hidden`` (complementary suppression, e.g. ``"≥8"``) replaces the value when given.
    """
    if value is None or pd.isna(value):
        return None
    if hidden is not None:
        return hidden
    if 0 < value < threshold:
        return f"<{threshold}"
    return round(float(value), 1)


def plan_summary(plan: Plan) -> dict[str, Any]:
    """JSON-ready summary: status, objective, gap, chosen sites, KPIs, travel mode.

    Patient counts below the scenario's ``privacy_threshold`` appear as ``"<N"`` and counts
    that would give one back as ``"≥N"`` (:func:`planning.results.count_mask`: KPI counts,
    and the MCLP objective and bound, which are the covered patients); a share whose count is
    hidden is ``None``.
    """
    sol = plan.solution
    thr = plan.scenario.privacy_threshold
    mask = count_mask(plan.tables, threshold=thr)
    k = dict(plan.tables.kpis)
    within = float(k["patients_within"])
    for key in ("patients_total", "patients_within", "patients_beyond_cutoff"):
        k[key] = _summary_count(float(k[key]), thr, mask.kpi(key))
    if mask.kpi_share_hidden():
        k["share_within"] = None  # with the total it would reveal the hidden count
    objective: float | str | None = sol.objective
    bound: float | str | None = sol.bound
    if sol.model == "mclp":  # the objective is a patient count: the patients within reach
        hidden = mask.kpi("patients_within") if abs(sol.objective - within) < 0.5 else None
        objective = _summary_count(sol.objective, thr, hidden)
        bound = _summary_count(sol.bound, thr, hidden)  # the bound with the gap gives it back
        k["objective"] = objective
    return {
        "scenario": plan.scenario.name,
        "model": sol.model,
        "status": sol.status,
        "optimal": sol.is_optimal,
        "objective": objective,
        "gap": sol.gap,
        "bound": bound,
        "solver": sol.solver,
        "solve_time_s": round(sol.solve_time_s, 3),
        "selected_sites": list(sol.selected_sites),
        "travel_mode": plan.travel.label,
        "kpis": k,
    }


def export_plan(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write the plan's sites (GeoJSON, CSV), assignments, counties, summary and scenario.

    Parameters
    ----------
    out_dir
        Folder, created if needed. Existing files of the same names are replaced; nothing
        else in the folder is touched.

    Returns
    -------
    paths
        The files written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"Cannot create output folder {str(out)!r}: {err.strerror}. Choose another --out."
        raise DataError(msg) from None
    tables = export_tables(plan)
    written: list[Path] = []

    def _csv(frame: pd.DataFrame, name: str, *, index: bool = True) -> None:
        path = out / name
        frame = _csv_safe(frame.drop(columns="geometry", errors="ignore"))
        frame.to_csv(path, index=index, encoding="utf-8-sig")
        written.append(path)

    sites_path = out / "sites.geojson"
    gpd.GeoDataFrame(tables["sites"].reset_index()).to_file(sites_path, driver="GeoJSON")
    written.append(sites_path)
    _csv(tables["sites"], "sites.csv")
    _csv(tables["assignments"], "assignments.csv", index=False)
    _csv(tables["counties"], "counties.csv")
    summary = out / "summary.json"
    summary.write_text(
        json.dumps(plan_summary(plan), ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    written.append(summary)
    written.append(export_scenario(plan, out))  # with copies of its input files
    logger.info("Exported %d files to %s", len(written), out)
    return written


# =====================================================================================
# The meeting kit (issue 6): workbook, GIS layers, maps, reproducible scenario, bundles
# =====================================================================================

Lang = Literal["zh", "en"]
Paper = Literal["a4", "a3"]
FORMATS: tuple[str, ...] = ("xlsx", "gpkg", "geojson", "csv", "html", "pdf", "png")
LAYERS: tuple[str, ...] = ("sites", "demand_cells", "counties", "assignments")
WORKBOOK_NAME = "plan.xlsx"
GPKG_NAME = "layers.gpkg"
HTML_NAME = "map.html"
SCENARIO_NAME = "scenario.json"
INPUTS_DIR = "inputs"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

KIND_LABELS: dict[str, dict[str, str]] = {
    "zh": {"existing": "现有", "new": "新建", "hub": "枢纽"},
    "en": {"existing": "existing", "new": "new", "hub": "hub"},
}
TYPE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "generated": "生成网格点",
        "rehab_existing": "现有康复站",
        "psychiatric_hospital": "精神专科医院",
        "community_health_centre": "社区卫生服务中心",
        "community_service_centre": "社区综合服务中心",
        "new_build": "新建",
        "other": "其他",
    },
    "en": {
        "generated": "generated grid point",
        "rehab_existing": "existing rehab site",
        "psychiatric_hospital": "psychiatric hospital",
        "community_health_centre": "community health centre",
        "community_service_centre": "community service centre",
        "new_build": "new build",
        "other": "other",
    },
}
SITE_HEADERS: dict[str, dict[str, str]] = {
    "site_id": {"zh": "站点编号", "en": "Site ID"},
    "name": {"zh": "名称", "en": "Name"},
    "kind": {"zh": "类别", "en": "Kind"},
    "candidate_type": {"zh": "候选类型", "en": "Candidate type"},
    "county": {"zh": "区县代码", "en": "County code"},
    "county_name": {"zh": "区县", "en": "County"},
    "lon": {"zh": "经度 (WGS-84)", "en": "Longitude (WGS-84)"},
    "lat": {"zh": "纬度 (WGS-84)", "en": "Latitude (WGS-84)"},
    "lon_gcj02": {"zh": "经度 (GCJ-02 高德/腾讯)", "en": "Longitude (GCJ-02, AMap/Tencent)"},
    "lat_gcj02": {"zh": "纬度 (GCJ-02 高德/腾讯)", "en": "Latitude (GCJ-02, AMap/Tencent)"},
    "capacity": {"zh": "容量 (人)", "en": "Capacity (patients)"},
    "assigned_patients": {"zh": "服务患者数 (估计)", "en": "Assigned patients (estimated)"},
    "mean_travel_min": {"zh": "平均出行时间 (分钟)", "en": "Mean travel time (min)"},
    "max_travel_min": {"zh": "最长出行时间 (分钟)", "en": "Max travel time (min)"},
    "nearest_hospital": {"zh": "最近精神专科医院", "en": "Nearest psychiatric hospital"},
    "referral_min": {"zh": "转诊时间 (分钟)", "en": "Referral time (min)"},
}
COUNTY_HEADERS: dict[str, dict[str, str]] = {
    "county_id": {"zh": "区县代码", "en": "County code"},
    "name": {"zh": "区县", "en": "County"},
    "population": {"zh": "常住人口 (2020 普查)", "en": "Population (2020 census)"},
    "patients": {"zh": "估计患者数", "en": "Estimated patients"},
    "patients_within": {"zh": "可达患者数", "en": "Patients within threshold"},
    "share_within": {"zh": "可达比例", "en": "Share within threshold"},
    "n_sites": {"zh": "站点数", "en": "Sites"},
    "has_site": {"zh": "有站点", "en": "Has a site"},
    "mean_travel_min": {"zh": "平均出行时间 (分钟)", "en": "Mean travel time (min)"},
    "max_travel_min": {"zh": "最长出行时间 (分钟)", "en": "Max travel time (min)"},
}
_TEXT: dict[str, dict[str, str]] = {
    "summary": {"zh": "方案摘要", "en": "Summary"},
    "counties": {"zh": "区县汇总", "en": "Counties"},
    "scenario_sheet": {"zh": "scenario.json", "en": "scenario.json"},
    "title": {"zh": "康乐家园选址规划 — 设施规划表", "en": "Kangle Planner — facility plan"},
    "sec_scenario": {"zh": "方案设置", "en": "Scenario"},
    "sec_results": {"zh": "主要结果", "en": "Key results"},
    "sec_policy": {
        "zh": "政策目标 (精康融合行动 2023)",
        "en": "Policy targets (精康融合行动 2023)",
    },
    "sec_sources": {"zh": "数据来源", "en": "Data sources"},
    "sec_notes": {"zh": "说明", "en": "Notes"},
    "scenario_name": {"zh": "方案名称", "en": "Scenario name"},
    "region": {"zh": "规划区域", "en": "Region"},
    "counties_opt": {"zh": "区县范围", "en": "Counties"},
    "all": {"zh": "全部", "en": "all"},
    "model": {"zh": "选址模型", "en": "Siting model"},
    "n_facilities": {"zh": "站点数量 (含现有)", "en": "Number of sites (existing included)"},
    "max_travel_min": {"zh": "出行时间阈值 (分钟)", "en": "Travel-time threshold (min)"},
    "travel_mode": {"zh": "出行时间计算方式", "en": "Travel mode"},
    "prevalence": {"zh": "登记患病率 (‰)", "en": "Registered prevalence (per mille)"},
    "in_scope": {"zh": "纳入比例", "en": "In-scope share"},
    "candidate_source": {"zh": "候选点来源", "en": "Candidate source"},
    "capacitated": {"zh": "容量约束", "en": "Capacity constraint"},
    "budget": {"zh": "预算", "en": "Budget"},
    "solver": {"zh": "求解器 / 状态", "en": "Solver / status"},
    "privacy": {"zh": "隐私阈值", "en": "Privacy threshold"},
    "patients_total": {"zh": "估计患者总数", "en": "Estimated patients (total)"},
    "patients_within": {"zh": "阈值内可达患者", "en": "Patients within the threshold"},
    "share_within": {"zh": "可达患者比例", "en": "Share of patients within the threshold"},
    "counties_with_site": {"zh": "有站点的区县", "en": "Counties with a site"},
    "n_sites": {"zh": "站点数 (现有 / 新建)", "en": "Sites (existing / new)"},
    "mean_travel": {"zh": "平均出行时间 (分钟)", "en": "Mean travel time (min)"},
    "year": {"zh": "年份", "en": "Year"},
    "county_target": {"zh": "区县覆盖目标", "en": "County target"},
    "county_share": {"zh": "区县覆盖 (本方案)", "en": "Counties (this plan)"},
    "patient_target": {"zh": "患者服务目标", "en": "Patient target"},
    "patient_share": {"zh": "患者可达 (本方案)", "en": "Patients (this plan)"},
    "met": {"zh": "达标", "en": "met"},
    "not_met": {"zh": "未达标", "en": "not met"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "exported": {"zh": "导出时间", "en": "Exported"},
    "note_proxy": {
        "zh": "“可达”指在出行时间阈值内有开放站点，是“规律服务”的规划代理指标，并非实际服务率。",
        "en": "'Within the threshold' (reach) is a planning proxy for patients in regular "
        "service, not a measure of it.",
    },
    "note_privacy": {
        "zh": "少于 {n} 人的患者数显示为“<{n}”；表中均为网格或区县汇总数，不含任何个人记录。",
        "en": "Patient counts below {n} are shown as '<{n}'; every figure is an aggregate of "
        "grid cells or counties, never a patient record.",
    },
    "note_estimated": {
        "zh": "患者数为估计值 (人口 × 患病率)，不是登记数据。",
        "en": "Patient numbers are estimates (population x prevalence), not registry data.",
    },
}


def text(key: str, lang: Lang) -> str:
    """Localised label ``key`` (see ``_TEXT``) in ``lang``."""
    return _TEXT[key][lang]


def count_text(value: float, *, threshold: int) -> str:
    """One patient count as shown to people: ``"<N"`` when 0 < value < N, else whole number."""
    if pd.isna(value):
        return ""
    if 0 < value < threshold:
        return f"<{threshold}"
    return f"{round(float(value)):,}"


def _count_cell(value: float, threshold: int, hidden: str | None = None) -> int | str | None:
    """Return a patient count for a spreadsheet cell: a number, or the text ``"<N"``/``"≥N"``."""
    if pd.isna(value):
        return None
    if hidden is not None:
        return hidden
    if 0 < value < threshold:
        return f"<{threshold}"
    return round(float(value))


def _check_lang(lang: str) -> Lang:
    if lang not in ("zh", "en"):
        msg = f"Unknown export language {lang!r}; use 'zh' (Chinese) or 'en' (English)."
        raise ScenarioError(msg)
    return lang  # type: ignore[return-value]


def _mkdir(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"Cannot create output folder {str(out)!r}: {err.strerror}. Choose another --out."
        raise DataError(msg) from None
    return out


# ------------------------------------------------------------------------ data sources
def prevalence_citation(prevalence_per_mille: float) -> str:
    """Where the scenario's prevalence comes from (``data/smd_prevalence_sources.csv``)."""
    from planning.data import DATA_DIR  # noqa: PLC0415

    path = DATA_DIR / "smd_prevalence_sources.csv"
    if path.exists():
        table = pd.read_csv(path, dtype=str)
        rate = pd.to_numeric(table["registered_prevalence_per_mille"], errors="coerce")
        hit = table[(rate - prevalence_per_mille).abs() < 1e-9]
        if not hit.empty:
            row = hit.iloc[-1]
            return (
                f"{prevalence_per_mille:.2f} per mille: {row['scope']} {row['year_end']}, "
                f"{row['source']}"
            )
    return f"{prevalence_per_mille:.2f} per mille (set by the user)"


def data_sources(plan: Plan, *, lang: Lang = "zh") -> list[tuple[str, str]]:
    """Return the (what, source) pairs every export shows: census, prevalence, boundaries...

    Read from the plan itself (``counties["census_source"]``, ``patients_source``), the
    scenario (prevalence, candidate source) and the travel times' label.
    """
    from planning.data import BOUNDARY_SOURCE  # noqa: PLC0415

    sc = plan.scenario
    zh = lang == "zh"
    census = "2020 national census"
    if "census_source" in plan.counties.columns:
        vals = plan.counties["census_source"].dropna().astype(str).unique()
        if len(vals):
            census = "; ".join(vals)
    patients = "census 2020 x prevalence"
    if "patients_source" in plan.counties.columns:
        vals = plan.counties["patients_source"].dropna().astype(str).unique()
        if len(vals):
            patients = "; ".join(vals)
    spacing_km = sc.candidate_spacing_m / 1000
    cand = {
        "grid": (
            f"生成网格 (generated), 间距 {spacing_km:g} km"
            if zh
            else f"generated grid, spacing {spacing_km:g} km"
        ),
        "facilities": "用户设施表 (facility table)" if zh else "user facility table",
        "grid+facilities": (
            f"生成网格 (generated, {spacing_km:g} km) + 用户设施表"
            if zh
            else f"generated grid ({spacing_km:g} km) + user facility table"
        ),
    }[sc.candidate_source]
    rows = [
        ("人口" if zh else "Population", census),
        ("患者数" if zh else "Patients", patients),
        ("患病率" if zh else "Prevalence", prevalence_citation(sc.prevalence_per_mille)),
        ("行政边界" if zh else "Boundaries", BOUNDARY_SOURCE),
        ("候选点" if zh else "Candidate sites", cand),
        ("出行时间" if zh else "Travel times", travel_label_shown(plan.travel.label, lang=lang)),
    ]
    if sc.facilities_file or plan.facilities is not None:
        name = Path(sc.facilities_file).name if sc.facilities_file else "uploaded table"
        crs = sc.facilities_source_crs
        system = COORD_SYSTEM_NAMES.get(crs.lower(), crs)
        if crs.lower() == "wgs84":
            where = f"坐标 {system}" if zh else f"coordinates {system}"
        else:
            where = f"坐标 {system}，已转换为 WGS-84" if zh else f"coordinates {system}, to WGS-84"
        rows.append(("设施表" if zh else "Facilities", f"{name} ({where})"))
    return rows


# ------------------------------------------------------------------------ site table
def nearest_hospitals(plan: Plan) -> pd.Series:
    """Name of each open site's nearest psychiatric hospital (straight line), by ``site_id``.

    Empty strings where the plan has no hospital in its facility table.
    """
    from planning.coords import haversine_m  # noqa: PLC0415
    from planning.sites import psychiatric_hospitals  # noqa: PLC0415

    ids = plan.tables.sites.index
    hosp = psychiatric_hospitals(plan.facilities)
    if hosp is None or hosp.empty:
        return pd.Series("", index=ids, dtype=object, name="nearest_hospital")
    s = plan.tables.sites
    d = haversine_m(
        s["lon"].to_numpy()[:, None],
        s["lat"].to_numpy()[:, None],
        hosp.geometry.x.to_numpy()[None, :],
        hosp.geometry.y.to_numpy()[None, :],
    )
    names = hosp["name"].astype(str).to_numpy()
    return pd.Series(names[d.argmin(axis=1)], index=ids, dtype=object, name="nearest_hospital")


def site_table(plan: Plan) -> pd.DataFrame:
    """Open sites with WGS-84 and GCJ-02 coordinates and nearest hospital (unsuppressed).

    Index ``site_id``; columns as :data:`SITE_HEADERS` (raw codes for ``kind`` and
    ``candidate_type``) plus ``source`` and ``load_share``.
    """
    from planning.coords import wgs84_to_gcj02  # noqa: PLC0415

    s = plan.tables.sites.copy()
    g_lon, g_lat = wgs84_to_gcj02(s["lon"].to_numpy(float), s["lat"].to_numpy(float))
    s["lon_gcj02"] = g_lon
    s["lat_gcj02"] = g_lat
    s["nearest_hospital"] = nearest_hospitals(plan)
    s["source"] = plan.sites["source"].reindex(s.index)
    return s


# ------------------------------------------------------------------------ GIS layers
def _hide_small_shares(
    frame: pd.DataFrame,
    count_cols: tuple[str, ...],
    share_col: str,
    thr: int,
    hidden: dict[str, pd.Series] | None = None,
) -> None:
    """Blank a share whose counts are suppressed (a share times a shown count reveals one)."""
    if share_col in frame.columns and all(c in frame.columns for c in count_cols):
        frame[share_col] = hide_revealing_shares(
            frame[share_col],
            *(frame[c] for c in count_cols),
            threshold=thr,
            hidden=tuple((hidden or {}).get(c) for c in count_cols),
        )


def gis_layers(plan: Plan) -> dict[str, gpd.GeoDataFrame]:
    """Return the plan as four WGS-84 layers, patient counts suppressed below the threshold.

    Returns
    -------
    layers
        ``sites`` (open sites, points; WGS-84 and GCJ-02 coordinates), ``demand_cells``
        (grid cells, polygons; ``patients`` and the main serving ``site_id``), ``counties``
        (polygons with coverage metrics) and ``assignments`` (lines from each cell's
        representative point to its serving site; ``patients``, ``travel_min``). Every
        layer has a ``travel_mode`` column; counts are text (``"<5"`` or a whole number).
    """
    thr = plan.scenario.privacy_threshold
    mask = count_mask(plan.tables, threshold=thr)
    label = plan.travel.label
    crs = "EPSG:4326"

    sites = site_table(plan)
    s_hidden = _site_hidden(mask, sites.index)
    _hide_small_shares(sites, ("assigned_patients",), "load_share", thr, s_hidden)
    sites["travel_mode"] = label
    sites_g = gpd.GeoDataFrame(
        _suppressed(sites, thr, s_hidden),
        geometry=plan.sites.geometry.reindex(sites.index),
        crs=crs,
    ).reset_index()

    alloc = plan.tables.assignments
    main = alloc.sort_values(["demand_id", "patients", "site_id"], ascending=[True, False, True])
    main = main.drop_duplicates("demand_id").set_index("demand_id")
    d = plan.demand
    cells = pd.DataFrame(
        {
            "county": d["county"],
            "county_name": d["county_name"],
            "patients": d["weight"].astype(float),
            "urban": d["urban"],
            "area_km2": d["area_km2"] if "area_km2" in d.columns else np.nan,
            "lon": d["lon"],
            "lat": d["lat"],
            "site_id": main["site_id"].reindex(d.index),
            "travel_min": main["travel_min"].reindex(d.index),
        },
        index=d.index,
    )
    cells["travel_mode"] = label
    cells_g = (
        gpd.GeoDataFrame(_suppressed(cells, thr), geometry=d.geometry, crs=crs)
        .rename_axis("demand_id")
        .reset_index()
    )

    counties = plan.tables.counties.copy()
    c_hidden = _county_hidden(mask, counties.index)
    _hide_small_shares(counties, ("patients", "patients_within"), "share_within", thr, c_hidden)
    counties["travel_mode"] = label
    counties_g = (
        gpd.GeoDataFrame(
            _suppressed(counties, thr, c_hidden),
            geometry=plan.counties.geometry.reindex(counties.index),
            crs=crs,
        )
        .rename_axis("county_id")
        .reset_index()
    )

    a = alloc.copy()
    x0 = a["demand_id"].map(d["lon"]).to_numpy(float)
    y0 = a["demand_id"].map(d["lat"]).to_numpy(float)
    x1 = a["site_id"].map(plan.sites["lon"]).to_numpy(float)
    y1 = a["site_id"].map(plan.sites["lat"]).to_numpy(float)
    coords = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
    lines: list[Any] = np.asarray(shapely.linestrings(coords)).tolist() if len(a) else []
    a["travel_mode"] = label
    assign_g = gpd.GeoDataFrame(_suppressed(a, thr).reset_index(drop=True), geometry=lines, crs=crs)
    return {
        "sites": sites_g,
        "demand_cells": cells_g,
        "counties": counties_g,
        "assignments": assign_g,
    }


def export_gpkg(plan: Plan, path: str | Path) -> Path:
    """Write the four :func:`gis_layers` into one GeoPackage (replacing ``path``)."""
    p = Path(path)
    _mkdir(p.parent)
    if p.exists():
        p.unlink()
    for name, layer in gis_layers(plan).items():
        layer.to_file(p, layer=name, driver="GPKG")
    return p


def export_geojson(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write each of :func:`gis_layers` as ``<layer>.geojson`` (WGS-84) into ``out_dir``."""
    out = _mkdir(Path(out_dir))
    paths = []
    for name, layer in gis_layers(plan).items():
        p = out / f"{name}.geojson"
        if p.exists():
            p.unlink()
        layer.to_file(p, driver="GeoJSON")
        paths.append(p)
    return paths


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text starting with = + - @ with an apostrophe so spreadsheets never evaluate it."""
    from planning.io import escape_formulas  # noqa: PLC0415

    return escape_formulas(frame)


def export_csv(plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write each of :func:`gis_layers` without geometry as ``<layer>.csv`` (UTF-8 with BOM).

    ``sites`` and ``demand_cells`` keep ``lon``/``lat``; ``assignments`` gains the cell's and
    the site's coordinates (``from_lon``, ``from_lat``, ``to_lon``, ``to_lat``).
    """
    out = _mkdir(Path(out_dir))
    paths = []
    for name, layer in gis_layers(plan).items():
        frame = pd.DataFrame(layer.drop(columns="geometry"))
        if name == "assignments" and len(layer):
            xy = shapely.get_coordinates(layer.geometry.to_numpy()).reshape(-1, 2, 2)
            frame["from_lon"], frame["from_lat"] = xy[:, 0, 0], xy[:, 0, 1]
            frame["to_lon"], frame["to_lat"] = xy[:, 1, 0], xy[:, 1, 1]
        p = out / f"{name}.csv"
        _csv_safe(frame).to_csv(p, index=False, encoding="utf-8-sig")
        paths.append(p)
    return paths


# ------------------------------------------------------------------------ workbook
_BAD_SHEET_CHARS = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def _sheet_title(name: str, taken: set[str]) -> str:
    base = name.translate(_BAD_SHEET_CHARS).strip("'")[:31] or "sheet"
    title, i = base, 2
    while title.lower() in taken:
        suffix = f" ({i})"
        title = base[: 31 - len(suffix)] + suffix
        i += 1
    taken.add(title.lower())
    return title


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write one cell; text never becomes a formula (data type 's' and Excel's quote prefix)."""
    if isinstance(value, float) and np.isnan(value):
        value = None
    elif isinstance(value, np.generic):
        value = value.item()
    elif value is pd.NA:
        value = None
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(_FORMULA_START):
            cell.quotePrefix = True
    return cell


def _write_table(
    ws: Any,
    header: list[str],
    rows: list[list[Any]],
    *,
    start_row: int = 1,
    number_formats: dict[int, str] | None = None,
) -> None:
    """Write a header row and rows; ``number_formats`` maps 1-based columns to Excel formats."""
    from openpyxl.styles import Font, PatternFill  # noqa: PLC0415

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for j, h in enumerate(header, start=1):
        c = _put(ws, start_row, j, h)
        c.font = bold
        c.fill = fill
    for i, r in enumerate(rows, start=start_row + 1):
        for j, v in enumerate(r, start=1):
            c = _put(ws, i, j, v)
            if number_formats and j in number_formats and isinstance(v, float):
                c.number_format = number_formats[j]


def _autowidth(ws: Any, *, max_width: int = 60) -> None:
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            s = str(c.value)
            w = sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)  # CJK characters are wide
            widths[c.column] = max(widths.get(c.column, 0), w)
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(8, w + 2), max_width)


SITE_COLUMNS_OUT = (
    "site_id",
    "name",
    "kind",
    "candidate_type",
    "county_name",
    "county",
    "lon",
    "lat",
    "lon_gcj02",
    "lat_gcj02",
    "capacity",
    "assigned_patients",
    "mean_travel_min",
    "max_travel_min",
    "nearest_hospital",
    "referral_min",
)


def _site_rows(
    sites: pd.DataFrame, *, lang: Lang, thr: int, mask: CountMask | None = None
) -> list[list[Any]]:
    rows = []
    hidden = mask.sites(sites.index) if mask is not None else pd.Series(None, index=sites.index)
    for (sid, r), h in zip(sites.iterrows(), hidden.tolist(), strict=True):
        rows.append(
            [
                str(sid),
                r["name"],
                KIND_LABELS[lang].get(r["kind"], r["kind"]),
                TYPE_LABELS[lang].get(r["candidate_type"], r["candidate_type"]),
                r["county_name"],
                r["county"],
                round(float(r["lon"]), 6),
                round(float(r["lat"]), 6),
                round(float(r["lon_gcj02"]), 6),
                round(float(r["lat_gcj02"]), 6),
                None if pd.isna(r["capacity"]) else float(r["capacity"]),
                _count_cell(r["assigned_patients"], thr, h),
                None if pd.isna(r["mean_travel_min"]) else round(float(r["mean_travel_min"]), 1),
                None if pd.isna(r["max_travel_min"]) else round(float(r["max_travel_min"]), 1),
                r["nearest_hospital"] or None,
                None if pd.isna(r["referral_min"]) else round(float(r["referral_min"]), 1),
            ]
        )
    return rows


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{x:.1%}"


def build_workbook(plan: Plan, *, lang: Lang = "zh", exported_at: str | None = None) -> Any:
    """Build the facility plan as an ``openpyxl.Workbook`` (see :func:`export_workbook`)."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415

    lang = _check_lang(lang)
    sc = plan.scenario
    thr = sc.privacy_threshold
    k = plan.tables.kpis
    t = plan.tables
    mask = count_mask(t, threshold=thr)
    exported_at = exported_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = _sheet_title(text("summary", lang), taken)
    bold = Font(bold=True)
    row = 1
    _put(ws, row, 1, text("title", lang)).font = Font(bold=True, size=14)
    row += 2

    def section(key: str) -> None:
        nonlocal row
        _put(ws, row, 1, text(key, lang)).font = bold
        row += 1

    def pair(key: str, value: Any) -> None:
        nonlocal row
        _put(ws, row, 1, text(key, lang) if key in _TEXT else key)
        _put(ws, row, 2, value)
        row += 1

    yes, no = text("yes", lang), text("no", lang)
    section("sec_scenario")
    pair("scenario_name", sc.name)
    pair("region", sc.region)
    pair("counties_opt", ", ".join(sc.counties) if sc.counties else text("all", lang))
    pair("model", sc.model)
    pair("n_facilities", sc.n_facilities)
    pair("max_travel_min", sc.max_travel_min)
    pair("travel_mode", travel_label_shown(plan.travel.label, lang=lang))
    pair("prevalence", sc.prevalence_per_mille)
    pair("in_scope", sc.in_scope_share)
    pair("candidate_source", sc.candidate_source)
    pair("capacitated", yes if sc.constraints.capacitated else no)
    pair("budget", sc.constraints.budget)
    gap = "" if k.get("gap") is None else f", gap {k['gap']:.2%}"
    pair("solver", f"{k.get('solver', sc.solver)} / {k.get('status')}{gap}")
    pair("privacy", f"<{thr}")
    pair("exported", exported_at)
    row += 1
    section("sec_results")
    pair("patients_total", _count_cell(k["patients_total"], thr, mask.kpi("patients_total")))
    pair("patients_within", _count_cell(k["patients_within"], thr, mask.kpi("patients_within")))
    hidden = mask.kpi_share_hidden()
    pair("share_within", None if hidden else _pct(k["share_within"]))  # text, as on the map
    pair(
        "counties_with_site",
        f"{k['counties_with_site']} / {k['n_counties']} ({k['county_share_with_site']:.0%})",
    )
    pair("n_sites", f"{k['n_sites']} ({k['n_sites_existing']} / {k['n_sites_new']})")
    pair("mean_travel", None if pd.isna(k["mean_travel_min"]) else round(k["mean_travel_min"], 1))
    row += 1
    section("sec_policy")
    header = [
        text(x, lang)
        for x in (
            "year",
            "county_target",
            "county_share",
            "met",
            "patient_target",
            "patient_share",
            "met",
        )
    ]
    policy_rows = []
    met, not_met = text("met", lang), text("not_met", lang)
    for year, p in public_policy(t, threshold=thr).iterrows():
        patient_met = p["patient_target_met"]
        policy_rows.append(
            [
                int(cast("int", year)),
                float(p["county_share_target"]),
                float(p["county_share"]),
                met if p["county_target_met"] else not_met,
                float(p["patient_share_target"]),
                None if pd.isna(p["patient_share"]) else float(p["patient_share"]),
                None if patient_met is None else met if patient_met else not_met,
            ]
        )
    pct = "0.0%"
    _write_table(
        ws, header, policy_rows, start_row=row, number_formats={2: pct, 3: pct, 5: pct, 6: pct}
    )
    row += len(policy_rows) + 2
    section("sec_sources")
    for what, src in data_sources(plan, lang=lang):
        pair(what, src)
    row += 1
    section("sec_notes")
    for key in ("note_proxy", "note_estimated", "note_privacy"):
        _put(ws, row, 1, text(key, lang).format(n=thr))
        row += 1
    _autowidth(ws)
    ws.column_dimensions["A"].width = 34

    # ---- county summary
    wc = wb.create_sheet(_sheet_title(text("counties", lang), taken))
    ccols = list(COUNTY_HEADERS)
    crow = []
    c_hidden = _county_hidden(mask, t.counties.index)
    county_share = hide_revealing_shares(
        t.counties["share_within"],
        t.counties["patients"],
        t.counties["patients_within"],
        threshold=thr,
        hidden=(c_hidden["patients"], c_hidden["patients_within"]),
    )
    for (cid, r), share, hp, hw in zip(
        t.counties.iterrows(),
        county_share,
        c_hidden["patients"].tolist(),
        c_hidden["patients_within"].tolist(),
        strict=True,
    ):
        crow.append(
            [
                str(cid),
                r["name"],
                None if pd.isna(r["population"]) else int(r["population"]),
                _count_cell(r["patients"], thr, hp),
                _count_cell(r["patients_within"], thr, hw),
                None if pd.isna(share) else float(share),
                int(r["n_sites"]),
                yes if r["has_site"] else no,
                None if pd.isna(r["mean_travel_min"]) else round(float(r["mean_travel_min"]), 1),
                None if pd.isna(r["max_travel_min"]) else round(float(r["max_travel_min"]), 1),
            ]
        )
    _write_table(wc, [COUNTY_HEADERS[c][lang] for c in ccols], crow, number_formats={6: "0.0%"})
    wc.freeze_panes = "A2"
    _autowidth(wc)

    # ---- one sheet per county
    sites = site_table(plan)
    sites["name"] = site_names(plan.sites, lang=lang).reindex(sites.index)
    site_header = [SITE_HEADERS[c][lang] for c in SITE_COLUMNS_OUT]
    for cid, r in t.counties.iterrows():
        ws_c = wb.create_sheet(_sheet_title(str(r["name"]), taken))
        sub = sites[sites["county"] == cid].sort_index()
        _write_table(ws_c, site_header, _site_rows(sub, lang=lang, thr=thr, mask=mask))
        ws_c.freeze_panes = "C2"
        _autowidth(ws_c)

    # ---- the scenario itself, for re-import
    wsj = wb.create_sheet(_sheet_title(text("scenario_sheet", lang), taken))
    for i, line in enumerate(sc.to_json().splitlines(), start=1):
        _put(wsj, i, 1, line)
    return wb


def export_workbook(
    plan: Plan, path: str | Path, *, lang: Lang = "zh", exported_at: str | None = None
) -> Path:
    """Write the facility plan workbook (XLSX).

    Sheets: a summary (scenario options, key results, policy metrics against the
    2023-2025 targets, data sources, notes), a county summary, one sheet per county listing
    its open sites (id, name, kind, candidate type, WGS-84 and GCJ-02 coordinates, capacity,
    assigned patients, mean/max travel minutes, nearest psychiatric hospital and referral
    minutes) and the scenario JSON. Headers are Chinese (``lang="zh"``) or English
    (``"en"``). Patient counts below the privacy threshold are the text ``"<N"``; no text
    cell is ever a formula.
    """
    p = Path(path)
    _mkdir(p.parent)
    build_workbook(plan, lang=lang, exported_at=exported_at).save(p)
    return p


# ------------------------------------------------------------------------ maps
def export_html_map(plan: Plan, path: str | Path, *, lang: Lang = "zh") -> Path:
    """Write the interactive map (:func:`planning.maps.build_map`) as one HTML file."""
    from planning import maps  # noqa: PLC0415

    p = Path(path)
    _mkdir(p.parent)
    m = maps.build_map(plan, lang=lang)
    m.save(str(p))
    return p


def map_file_name(paper: Paper, fmt: Literal["pdf", "png"]) -> str:
    """File name of the printable map, e.g. ``map_a4.pdf``."""
    return f"map_{paper}.{fmt}"


# ------------------------------------------------------------------------ reproducibility
_INPUT_FIELDS = (
    ("facilities_file", "facilities"),
    ("patients_file", "patients"),
    ("weight_layer", "weights"),
)
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _copy_input(src: Path, inputs: Path, role: str) -> str:
    """Copy ``src`` (and shapefile sidecars) to ``inputs/``; return its path relative to out."""
    if not src.exists():
        msg = (
            f"The scenario's {role} file {str(src)!r} does not exist, so the export cannot "
            "include it. Fix the path in the scenario or re-upload the file."
        )
        raise DataError(msg)
    _mkdir(inputs)
    stem = src.stem if src.stem.startswith(f"{role}_") else f"{role}_{src.stem}"
    if src.suffix.lower() == ".shp":
        for part in src.parent.glob(src.stem + ".*"):
            if part.suffix.lower() in _SHAPEFILE_PARTS:
                shutil.copy2(part, inputs / f"{stem}{part.suffix}")
    else:
        shutil.copy2(src, inputs / f"{stem}{src.suffix}")
    return f"{INPUTS_DIR}/{stem}{src.suffix}"


def export_scenario(
    plan: Plan, out_dir: str | Path, *, include_patient_counts: bool = False
) -> Path:
    """Write ``scenario.json`` into ``out_dir`` so the folder alone reproduces the plan.

    Input files the scenario refers to (``facilities_file``, ``weight_layer``,
    ``travel.osm_file``) are copied into ``out_dir/inputs/`` and the scenario written with
    paths relative to ``out_dir``; read it back with :func:`load_scenario_for_run`. A
    facility layer given to the pipeline directly (an app upload) is written as
    ``inputs/facilities.geojson`` (WGS-84).

    Privacy: a ``patients_file`` holds exact counts, possibly below the privacy threshold, so
    it is copied only with ``include_patient_counts=True`` (for the planner's own archive,
    not for sharing). Otherwise ``scenario.json`` keeps the absolute path of the original,
    which reproduces the plan where that file is readable, and a ``UserWarning`` says so.
    """
    out = _mkdir(Path(out_dir))
    sc = plan.scenario
    inputs = out / INPUTS_DIR
    changes: dict[str, Any] = {}
    for field, role in _INPUT_FIELDS:
        value = getattr(sc, field)
        if not value:
            continue
        if field == "patients_file" and not include_patient_counts:
            changes[field] = str(Path(value).resolve())
            warnings.warn(
                f"The patient-count file {Path(value).name!r} was not copied into the export, "
                "because it holds exact counts (some may be below the privacy threshold). "
                "scenario.json refers to the original file; to archive a copy for yourself, "
                "export with include_patient_counts=True (--include-patient-counts).",
                UserWarning,
                stacklevel=2,
            )
            continue
        changes[field] = _copy_input(Path(value), inputs, role)
    if not sc.facilities_file and plan.facilities is not None and len(plan.facilities):
        _mkdir(inputs)
        fac = plan.facilities.reset_index()
        fac_path = inputs / "facilities.geojson"
        if fac_path.exists():
            fac_path.unlink()
        fac.to_file(fac_path, driver="GeoJSON")
        changes["facilities_file"] = f"{INPUTS_DIR}/facilities.geojson"
        changes["facilities_crs"] = "wgs84"
    if sc.travel.osm_file:
        travel = sc.travel.model_dump(mode="json")
        travel["osm_file"] = _copy_input(Path(sc.travel.osm_file), inputs, "roads")
        changes["travel"] = travel
    scenario = sc.replace(**changes) if changes else sc
    return scenario.save(out / SCENARIO_NAME)


def load_scenario_for_run(path: str | Path) -> Scenario:
    """Read a ``scenario.json`` and resolve its relative input paths against its folder.

    A relative ``facilities_file``, ``patients_file``, ``weight_layer`` or
    ``travel.osm_file`` that exists next to the scenario file is made absolute; otherwise it
    is left as written (relative to the working directory).
    """
    p = Path(path)
    sc = Scenario.load(p)
    base = p.resolve().parent

    def resolve(value: str | None) -> str | None:
        if not value or Path(value).is_absolute():
            return value
        candidate = base / value
        return str(candidate) if candidate.exists() else value

    changes: dict[str, Any] = {}
    for field, _ in _INPUT_FIELDS:
        value = getattr(sc, field)
        new = resolve(value)
        if new != value:
            changes[field] = new
    osm = resolve(sc.travel.osm_file)
    if osm != sc.travel.osm_file:
        travel = sc.travel.model_dump(mode="json")
        travel["osm_file"] = osm
        changes["travel"] = travel
    return sc.replace(**changes) if changes else sc


# ------------------------------------------------------------------------ everything
def parse_formats(formats: Iterable[str]) -> list[str]:
    """Normalise requested formats (``"all"`` expands); unknown ones raise ScenarioError."""
    out: list[str] = []
    for f in formats:
        for part in str(f).lower().replace(" ", "").split(","):
            if not part:
                continue
            if part == "all":
                out.extend(FORMATS)
            elif part in FORMATS:
                out.append(part)
            else:
                msg = f"Unknown export format {part!r}; use one of {', '.join(FORMATS)} or 'all'."
                raise ScenarioError(msg)
    return list(dict.fromkeys(out))


def export(
    plan: Plan,
    out_dir: str | Path,
    *,
    formats: Iterable[str] = ("all",),
    papers: Iterable[Paper] = ("a4",),
    lang: Lang = "zh",
    dpi: int = 200,
    include_patient_counts: bool = False,
) -> list[Path]:
    """Write ``plan`` in the requested formats plus ``scenario.json`` (and its inputs).

    Parameters
    ----------
    formats
        Any of ``xlsx``, ``gpkg``, ``geojson``, ``csv``, ``html``, ``pdf``, ``png`` or ``all``.
    papers
        Paper sizes of the printable map (``a4``, ``a3``; landscape).
    lang
        ``"zh"`` (default) or ``"en"`` headers and map text.
    dpi
        Resolution of the PNG map.
    include_patient_counts
        Copy the scenario's patient-count file into ``inputs/`` (see :func:`export_scenario`).

    Returns
    -------
    paths
        Every file written (``scenario.json`` last).
    """
    lang = _check_lang(lang)
    wanted = parse_formats(formats)
    paper_list = list(dict.fromkeys(papers))
    for paper in paper_list:
        if paper not in ("a4", "a3"):
            msg = f"Unknown paper size {paper!r}; use 'a4' or 'a3' (landscape)."
            raise ScenarioError(msg)
    out = _mkdir(Path(out_dir))
    written: list[Path] = []
    for fmt in wanted:
        if fmt == "xlsx":
            written.append(export_workbook(plan, out / WORKBOOK_NAME, lang=lang))
        elif fmt == "gpkg":
            written.append(export_gpkg(plan, out / GPKG_NAME))
        elif fmt == "geojson":
            written.extend(export_geojson(plan, out))
        elif fmt == "csv":
            written.extend(export_csv(plan, out))
        elif fmt == "html":
            written.append(export_html_map(plan, out / HTML_NAME, lang=lang))
        else:
            from planning import printmap  # noqa: PLC0415

            written.extend(
                printmap.export_print_map(
                    plan,
                    out / map_file_name(paper, cast("Literal['pdf', 'png']", fmt)),
                    paper=paper,
                    lang=lang,
                    dpi=dpi,
                )
                for paper in paper_list
            )
    written.append(export_scenario(plan, out, include_patient_counts=include_patient_counts))
    logger.info("Exported %s to %s (%d files)", ", ".join(wanted), out, len(written))
    return written


@dataclass(frozen=True)
class ExportFile:
    """One downloadable file: name, bytes and MIME type."""

    name: str
    data: bytes
    mime: str


MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
    "html": "text/html",
    "pdf": "application/pdf",
    "png": "image/png",
    "zip": "application/zip",
    "json": "application/json",
}


def _zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    return buf.getvalue()


DOWNLOAD_FORMATS: tuple[str, ...] = (*FORMATS, "scenario", "all")


def download_name(plan: Plan, fmt: str, *, paper: Paper = "a4") -> str:
    """File name :func:`export_bytes` gives ``fmt`` (known before the bytes are built)."""
    slug = _slug(plan.scenario.name)
    names = {
        "xlsx": WORKBOOK_NAME,
        "gpkg": GPKG_NAME,
        "html": HTML_NAME,
        "pdf": map_file_name(paper, "pdf"),
        "png": map_file_name(paper, "png"),
    }
    if fmt in names:
        return f"{slug}_{names[fmt]}"
    if fmt in ("geojson", "csv", "scenario", "all"):
        return f"{slug}_{fmt}.zip"
    parse_formats([fmt])  # raises ScenarioError listing the formats
    return f"{slug}_{fmt}"


def download_mime(fmt: str) -> str:
    """MIME type of :func:`export_bytes` for ``fmt``."""
    return MIME.get(fmt, MIME["zip"])


def export_bytes(
    plan: Plan, fmt: str, *, lang: Lang = "zh", paper: Paper = "a4", dpi: int = 200
) -> ExportFile:
    """Return one format as bytes for a download button.

    ``xlsx``, ``gpkg``, ``html``, ``pdf`` and ``png`` give the file itself; ``geojson`` and
    ``csv`` give a ZIP of the four layers with ``scenario.json`` (and its inputs);
    ``scenario`` a ZIP of ``scenario.json`` and its inputs; ``all`` a ZIP of every format.
    """
    name = download_name(plan, fmt, paper=paper)
    with tempfile.TemporaryDirectory(prefix="kangle-export-") as tmp:
        folder = Path(tmp)
        if fmt == "scenario":
            export_scenario(plan, folder)
            return ExportFile(name, _zip_folder(folder), MIME["zip"])
        paths = export(plan, folder, formats=[fmt], papers=[paper], lang=lang, dpi=dpi)
        if fmt in ("geojson", "csv", "all"):
            return ExportFile(name, _zip_folder(folder), MIME["zip"])
        return ExportFile(name, paths[0].read_bytes(), MIME[fmt])


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name).strip("_")
    return keep[:60] or "plan"
