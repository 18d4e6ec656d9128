"""Words and sources every report shows: labels in Chinese and English, data sources.

Shared by the workbook, the maps and the printable map so they say the same thing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from planning.errors import ScenarioError
from planning.inputs.regions import BOUNDARY_SOURCE, DATA_DIR
from planning.travel.table import travel_label_shown

if TYPE_CHECKING:
    from planning.pipeline import Plan


COORD_SYSTEM_NAMES = {
    "wgs84": "WGS-84",
    "gcj02": "GCJ-02 (AMap/Tencent)",
    "bd09": "BD-09 (Baidu)",
    "cgcs2000": "CGCS2000",
}
"""How a facility table's coordinate system is named in the data sources of every export."""


Lang = Literal["zh", "en"]


Paper = Literal["a4", "a3"]


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


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if it is a report language (``"zh"``, ``"en"``), else raise ScenarioError."""
    if lang not in ("zh", "en"):
        msg = f"Unknown export language {lang!r}; use 'zh' (Chinese) or 'en' (English)."
        raise ScenarioError(msg)
    return lang  # type: ignore[return-value]


# ------------------------------------------------------------------------ data sources
def prevalence_citation(prevalence_per_mille: float) -> str:
    """Where the scenario's prevalence comes from (``data/smd_prevalence_sources.csv``)."""
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


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{x:.1%}"
