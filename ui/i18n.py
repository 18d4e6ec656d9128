"""App texts in Simplified Chinese (default) and English.

Every label, unit, metric and message of the app is here, under one key with both languages,
so a missing translation is a test failure rather than a mixed-language screen. Planning error
messages come from the library in English; the app shows them after a translated lead-in
(``err_*`` keys), re-worded in Chinese by :mod:`ui.messages`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

LANGS = {"zh": "中文", "en": "English"}
DEFAULT_LANG = "zh"
KEPT_LANG = "_lang"  # copy of the language switch (key "lang") that survives st.switch_page

STRINGS: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- navigation
    "page_scenario": ("方案与求解", "Scenario"),
    "page_region": ("区域与数据", "Region and data"),
    "page_compare": ("方案对比", "Compare"),
    "page_tradeoff": ("站点数权衡", "Trade-off"),
    "page_rollout": ("分期推进", "Rollout"),
    # ---------------------------------------------------------------- messages
    "err_lead": ("出现问题，请按以下说明修改：", "Something needs changing:"),
    "err_params": ("参数有误，请修改后重试：", "A parameter needs changing:"),
    "err_solve": (
        "无法求解该方案，请按以下说明调整：",
        "This scenario could not be solved; change the following:",
    ),
    "err_upload": ("上传的文件无法使用：", "The uploaded file cannot be used:"),
    "err_compare": ("该方案无法求解：", "This scenario could not be solved:"),
    "warn_lead": ("提示：", "Note:"),
    "upload_fix": (
        "请在文件中修改以下各处后重新上传。",
        "Fix each of the problems below in the file and upload it again.",
    ),
    "progress_start": ("开始求解…", "Starting…"),
    "solving": ("正在求解…", "Solving…"),
    "preparing": (
        "正在准备区域数据（患者网格、候选点、出行时间）…",
        "Preparing the region (patient cells, candidates, travel times)…",
    ),
    "press_solve": (
        "已载入区域数据。请在左侧设置参数后点击“求解”。",
        "Region loaded. Set the parameters on the left, then press Solve.",
    ),
    "stale_plan": (
        "参数已修改，下方仍是上一次求解的结果。请点击“求解”更新。",
        "Parameters changed since the results below were computed. Press Solve to update them.",
    ),
    # ---------------------------------------------------------------- sidebar / library
    "lib_title": ("方案库", "Scenario library"),
    "lib_saved": ("已保存的方案", "Saved scenarios"),
    "lib_none": ("尚无保存的方案", "No saved scenario yet"),
    "lib_choose": ("选择一个方案", "Choose a scenario"),
    "lib_load": ("载入所选方案", "Load selected"),
    "lib_name": ("方案名称", "Scenario name"),
    "lib_overwrite": ("同名时覆盖", "Replace a scenario of the same name"),
    "lib_save": ("保存当前方案", "Save current scenario"),
    "lib_manage": ("管理方案库", "Manage the library"),
    "lib_new_name": ("新名称（用于重命名）", "New name (for rename)"),
    "lib_rename": ("重命名所选方案", "Rename selected"),
    "lib_duplicate": ("复制所选方案", "Duplicate selected"),
    "lib_confirm_delete": ("确认删除所选方案", "Yes, delete the selected scenario"),
    "lib_delete": ("删除所选方案", "Delete selected"),
    "lib_download": ("下载当前方案（JSON）", "Download current scenario (JSON)"),
    "lib_upload": ("上传方案文件（JSON）", "Upload a scenario file (JSON)"),
    "lib_import": ("导入上传的方案", "Import uploaded scenario"),
    "lib_folder": ("方案保存在：{path}", "Scenarios are stored in: {path}"),
    "lib_pick_first": ("请先在“已保存的方案”中选择一个方案。", "Choose a saved scenario first."),
    "lib_confirm_first": (
        "请先勾选“确认删除所选方案”。",
        "Tick “Yes, delete the selected scenario” first.",
    ),
    "lib_upload_first": ("请先选择要上传的方案文件。", "Choose a scenario file to upload first."),
    "lib_loaded": ("已载入方案“{name}”。", "Loaded scenario “{name}”."),
    "lib_saved_msg": ("已保存方案“{name}”。", "Saved scenario “{name}”."),
    "lib_renamed": ("已将“{old}”重命名为“{new}”。", "Renamed “{old}” to “{new}”."),
    "lib_duplicated": ("已将“{name}”复制为“{new}”。", "Duplicated “{name}” as “{new}”."),
    "lib_deleted": (
        "已删除方案“{name}”（文件移至 {path}，可恢复）。",
        "Deleted scenario “{name}” (file moved to {path}; it can be restored).",
    ),
    "lib_imported": ("已导入并保存方案“{name}”。", "Imported and saved scenario “{name}”."),
    "lib_set_aside": (
        "方案文件 {file} 无法读取，已移至 {kept}（未删除）。原因：{reason}",
        "Scenario file {file} could not be read and was moved to {kept} (not deleted). Reason: {reason}",
    ),
    # ---------------------------------------------------------------- scenario page
    "scenario_title": ("康乐家园选址方案", "Community rehabilitation siting scenario"),
    "scenario_caption": (
        "方案：{name} ｜ 区域：{region}（{counties}）",
        "Scenario: {name} | Region: {region} ({counties})",
    ),
    "all_counties": ("全部区县", "all counties"),
    "n_counties": ("{n} 个区县", "{n} counties"),
    "solve": ("求解", "Solve"),
    "params_title": ("方案参数", "Scenario parameters"),
    "grp_model": ("模型", "Model"),
    "grp_travel": ("出行时间", "Travel time"),
    "grp_constraints": ("约束条件", "Constraints"),
    "grp_candidates": ("候选站点与网格", "Candidate sites and grid"),
    "grp_demand": ("患者估算与隐私", "Patient estimate and privacy"),
    "grp_solver": ("求解器", "Solver"),
    "model": ("选址模型", "Siting model"),
    "model_help": (
        "MCLP：在给定站点数下覆盖尽可能多的患者；p-中位：总出行时间最短；LSCP：覆盖全部患者所需最少站点；p-中心：最长出行时间最短。",
        "MCLP: most patients within the time limit with p sites; p-median: least total travel; LSCP: fewest sites covering everyone; p-center: shortest longest trip.",
    ),
    "model_mclp": ("最大覆盖（MCLP）", "Maximal covering (MCLP)"),
    "model_p_median": ("p-中位（总出行最短）", "p-median (least total travel)"),
    "model_lscp": ("集合覆盖（LSCP，最少站点）", "Set covering (LSCP, fewest sites)"),
    "model_p_center": ("p-中心（最长出行最短）", "p-center (shortest longest trip)"),
    "n_facilities": ("站点数（含现有站点）", "Number of sites (existing included)"),
    "n_facilities_help": (
        "LSCP 自行决定站点数，此项不适用。设置了预算时可留空，由预算限制站点数。",
        "LSCP chooses the number of sites itself; not used there. With a budget it may be left empty: the budget then limits the sites.",
    ),
    "max_travel_min": ("出行时限（分钟）", "Travel time limit (minutes)"),
    "max_travel_help": (
        "患者到站点的出行时间在此范围内视为“可及”。",
        "Patients within this many minutes of a site count as reached.",
    ),
    "travel_mode": ("出行时间计算方式", "Travel times"),
    "travel_mode_help": (
        "估算：直线距离×绕行系数÷车速（离线、快速）；路网：OpenStreetMap 道路最短路径（需下载路网）。",
        "Estimated: straight-line distance × detour factor ÷ speed (offline, fast); network: shortest paths on OpenStreetMap roads (downloads the network).",
    ),
    "travel_estimated": ("估算（直线距离）", "Estimated (straight-line)"),
    "travel_network": ("道路网络（OpenStreetMap）", "Road network (OpenStreetMap)"),
    "urban_speed": ("城区车速（公里/小时）", "Urban speed (km/h)"),
    "rural_speed": ("乡村车速（公里/小时）", "Rural speed (km/h)"),
    "detour": ("绕行系数", "Detour factor"),
    "detour_help": (
        "道路距离与直线距离之比，文献平均约 1.4。",
        "Road distance ÷ straight-line distance; about 1.4 on average in the literature.",
    ),
    "network_type": ("路网类型", "Network type"),
    "network_drive": ("机动车", "Driving"),
    "network_walk": ("步行", "Walking"),
    "capacitated": ("考虑站点容量", "Respect site capacities"),
    "default_capacity": (
        "默认站点容量（人，可留空）",
        "Default site capacity (patients, optional)",
    ),
    "budget": ("建设预算（可留空）", "Budget (optional)"),
    "budget_help": (
        "与下方各类候选点的建设成本同一单位。留空表示不限。",
        "Same unit as the opening costs below. Empty means no budget limit.",
    ),
    "every_county": ("每个区县至少一个站点", "At least one site in every county"),
    "min_county_share": (
        "有站点区县的最低比例（%，可留空）",
        "Minimum share of counties with a site (%, optional)",
    ),
    "county_target": ("区县覆盖目标（%，可留空）", "County coverage target (%, optional)"),
    "county_target_help": (
        "每个区县时限内患者占比至少达到该值。",
        "Each county must reach this share of its patients within the time limit.",
    ),
    "hub": ("每个地市设一个枢纽站点", "One hub site per prefecture"),
    "hub_help": ("枢纽站点负责转介与培训。", "Hubs handle referrals and training."),
    "max_referral": (
        "到精神专科医院的最长转介时间（分钟，可留空）",
        "Longest referral time to a psychiatric hospital (min, optional)",
    ),
    "max_referral_help": (
        "需要在设施表中提供精神专科医院。",
        "Needs psychiatric hospitals in the facility table.",
    ),
    "urban_max": ("城区出行时限（分钟，可留空）", "Urban travel limit (min, optional)"),
    "rural_max": ("乡村出行时限（分钟，可留空）", "Rural travel limit (min, optional)"),
    "optional_help": ("留空表示不设此约束。", "Leave empty for no such constraint."),
    "candidate_source": ("候选站点来源", "Candidate sites"),
    "source_grid": ("自动生成网格点", "Generated grid points"),
    "source_grid+facilities": ("网格点＋设施表", "Grid points + facility table"),
    "source_facilities": ("仅设施表", "Facility table only"),
    "spacing_km": ("候选网格间距（公里）", "Candidate grid spacing (km)"),
    "cell_km": ("需求网格边长（公里）", "Demand cell size (km)"),
    "candidate_types_help": (
        "各类候选点的建设成本与容量（用于预算和容量约束；容量留空表示不限）。",
        "Opening cost and capacity per candidate type (used by budget and capacity constraints; empty capacity = unlimited).",
    ),
    "opening_cost": ("建设成本", "Opening cost"),
    "capacity": ("容量（人）", "Capacity (patients)"),
    "prevalence": ("登记患病率（‰）", "Registered prevalence (per mille)"),
    "prevalence_help": (
        "默认 4.60‰：2020 年底全国在册严重精神障碍患者 643 万 ÷ 总人口。",
        "Default 4.60‰: 6.43 million registered patients with severe mental disorders in China at the end of 2020 ÷ population.",
    ),
    "in_scope": ("纳入服务的比例（%）", "Share in scope (%)"),
    "in_scope_help": (
        "预计需要社区康复服务的在册患者比例，默认 100%。",
        "Share of registered patients expected to need community rehabilitation; default 100%.",
    ),
    "privacy": ("隐私阈值（人）", "Privacy threshold (patients)"),
    "privacy_help": (
        "少于该人数的患者数一律显示为“<N”。",
        "Any patient count below this shows as “<N”.",
    ),
    "solver": ("求解器", "Solver"),
    "time_limit": ("时间上限（秒）", "Time limit (seconds)"),
    "mip_gap": ("允许的最优性差距（%）", "Accepted optimality gap (%)"),
    "status_line": (
        "{status} ｜ 模型：{model} ｜ 求解器：{solver} ｜ 用时 {seconds} 秒",
        "{status} | model: {model} | solver: {solver} | {seconds} s",
    ),
    "status_optimal": (":material/verified: 已证明最优", ":material/verified: Proven optimal"),
    "status_feasible": (
        ":material/warning: 时间上限内的最好方案（差距 {gap}，未证明最优）",
        ":material/warning: Best found within the time limit (gap {gap}; not proven optimal)",
    ),
    "status_other": (
        ":material/error: 求解状态：{status}",
        ":material/error: Solver status: {status}",
    ),
    "solstatus_optimal": ("最优", "optimal"),
    "solstatus_feasible": ("可行（未证明最优）", "feasible (not proven optimal)"),
    "solstatus_infeasible": ("无可行解", "infeasible"),
    "solstatus_error": ("出错", "error"),
    # metrics
    "m_share_within": ("{T} 分钟内患者占比", "Patients within {T} min"),
    "m_counties_with_site": ("有站点的区县", "Counties with a site"),
    "m_mean_travel_min": ("平均出行时间", "Mean travel time"),
    "m_max_travel_min": ("最长出行时间", "Longest travel time"),
    "m_n_sites": ("站点数（现有＋新建）", "Sites (existing + new)"),
    "m_patients_within": ("{T} 分钟内患者（人）", "Patients within {T} min"),
    "m_patients_total": ("估算患者总数（人）", "Estimated patients"),
    "m_counties": ("区县数", "Counties"),
    "m_population": ("常住人口（2020）", "Population (2020)"),
    "unit_min": ("分钟", "min"),
    "unit_pct_points": ("个百分点", "pct. points"),
    "basemap": ("底图", "Basemap"),
    "basemap_help": (
        "默认“无底图”：不联网，区县边界始终显示。选择底图后，浏览器会从 CARTO 或 OpenStreetMap 下载地图瓦片。",
        (
            "Default “No tiles”: no network use, county boundaries always drawn. A tile basemap "
            "makes the browser download map tiles from CARTO or OpenStreetMap."
        ),
    ),
    "basemap_cartodb": ("浅色底图", "Light map"),
    "basemap_osm": ("OpenStreetMap", "OpenStreetMap"),
    "basemap_none": ("无底图（离线）", "No tiles (offline)"),
    "reach_site": ("显示某站点的可达范围", "Show the reach of a site"),
    "reach_none": ("不显示", "None"),
    "tab_policy": ("政策目标", "Policy targets"),
    "tab_counties": ("各区县", "Counties"),
    "tab_sites": ("站点清单", "Sites"),
    "tab_downloads": ("下载", "Downloads"),
    "policy_note": (
        "精康融合行动（2023）：2023/2024/2025 年开展服务的区县比例 50/65/80%，在册患者接受服务比例 30/45/60%。此处以“时限内可及”作为接受服务的规划近似值。",
        "精康融合行动 (2023): 50/65/80 % of counties offering services and 30/45/60 % of registered patients in regular service in 2023/2024/2025. Reach within the time limit stands in for “in service” here.",
    ),
    "col_year": ("年份", "Year"),
    "col_county_target": ("区县目标", "County target"),
    "col_county_achieved": ("有站点区县比例", "Counties with a site"),
    "col_county_met": ("区县达标", "County target met"),
    "col_patient_target": ("患者目标", "Patient target"),
    "col_patient_achieved": ("时限内患者比例", "Patients within limit"),
    "col_patient_met": ("患者达标", "Patient target met"),
    "col_county": ("区县", "County"),
    "col_adcode": ("行政区划代码", "Adcode"),
    "col_population": ("常住人口", "Population"),
    "col_patients": ("估算患者（人）", "Estimated patients"),
    "col_within": ("时限内患者（人）", "Patients within limit"),
    "col_share": ("时限内比例", "Share within limit"),
    "col_sites": ("站点数", "Sites"),
    "col_service": ("有站点", "Has a site"),
    "col_mean": ("平均出行", "Mean travel"),
    "col_max": ("最长出行", "Longest travel"),
    "col_target_year": ("{year} 患者目标 {pct}%", "{year} patient target {pct}%"),
    "col_name": ("名称", "Name"),
    "col_kind": ("类型", "Kind"),
    "col_served": ("服务患者（人）", "Patients served"),
    "col_load": ("负荷率", "Load"),
    "col_lonlat": ("经度, 纬度（WGS-84）", "Lon, lat (WGS-84)"),
    "col_site": ("站点编号", "Site id"),
    "col_metric": ("指标", "Metric"),
    "col_diff": ("与基准相比：{name}", "Change: {name}"),
    "col_status": ("求解状态", "Status"),
    "col_gap": ("差距", "Gap"),
    "col_file": ("文件", "File"),
    "col_row": ("行", "Row"),
    "col_column": ("列", "Column"),
    "col_problem": ("问题与修改方法", "Problem and fix"),
    "yes_met": ("达标", "met"),
    "no_met": ("未达标", "not met"),
    "yes": ("有", "yes"),
    "no": ("无", "no"),
    "kind_existing": ("现有站点（保留）", "Existing (kept)"),
    "kind_new": ("新建站点", "New"),
    "kind_hub": ("枢纽站点", "Hub"),
    # ---------------------------------------------------------------- region page
    "region_title": ("区域与数据", "Region and data"),
    "province": ("省份", "Province"),
    "city": ("地市", "City"),
    "whole_province": ("（全省）", "(whole province)"),
    "counties": ("区县", "Counties"),
    "counties_help": ("删除不需要规划的区县。", "Remove the counties you do not plan for."),
    "no_census_left_out": (
        "没有人口普查数据的区县默认不选：{names}（可上传已知患者数后再加入）。",
        "Counties without census data are left out by default: {names} (add them after uploading known patient counts).",
    ),
    "pick_a_county": ("请至少选择一个区县。", "Pick at least one county."),
    "no_counties": (
        "{city} 下没有区县级单位，按整个城市规划。",
        "{city} has no county-level units; it is planned as one unit.",
    ),
    "overview_title": ("各区县人口与估算患者", "Population and estimated patients per county"),
    "overview_caption": (
        "估算患者 = 2020 年人口普查常住人口 × 登记患病率 {prevalence}‰ × 纳入比例 {share}%。",
        "Estimated patients = 2020 census population × registered prevalence {prevalence}‰ × share in scope {share}%.",
    ),
    "no_census": (
        "部分区县没有 2020 年人口普查数据（目前内置福建省数据），无法估算患者。",
        "Some counties have no 2020 census population (Fujian is built in), so their patients cannot be estimated.",
    ),
    "upload_title": ("上传设施表", "Upload a facility table"),
    "upload_caption": (
        "CSV、Excel、GeoJSON、GeoPackage 或压缩的 Shapefile；需要名称、类型、经度、纬度，可选容量、地址、区县。现有康复站在所有模型中保留。",
        "CSV, Excel, GeoJSON, GeoPackage or a zipped shapefile with name, type, longitude, latitude and optionally capacity, address, county. Existing rehab sites are kept open by every model.",
    ),
    "upload_label": ("选择文件", "Choose a file"),
    "coord_system": ("坐标系", "Coordinate system"),
    "coord_help": (
        "从高德/腾讯地图复制的坐标选 GCJ-02，从百度地图复制的选 BD-09。",
        "Coordinates copied from AMap/Tencent are GCJ-02, from Baidu BD-09.",
    ),
    "crs_wgs84": ("WGS-84（GPS、OpenStreetMap）", "WGS-84 (GPS, OpenStreetMap)"),
    "crs_gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (AMap, Tencent)"),
    "crs_bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "crs_cgcs2000": ("CGCS2000（国家 2000）", "CGCS2000"),
    "mapping_title": ("列对应关系", "Column mapping"),
    "mapping_unsure": (
        "未能识别全部必需的列（带 * 的项），请在下方指定对应的列。",
        "Some required columns (marked *) were not recognised; choose them below.",
    ),
    "mapping_none": ("（无）", "(none)"),
    "field_id": ("编号", "Id"),
    "field_name": ("名称", "Name"),
    "field_type": ("类型", "Type"),
    "field_lon": ("经度", "Longitude"),
    "field_lat": ("纬度", "Latitude"),
    "field_capacity": ("容量", "Capacity"),
    "field_address": ("地址", "Address"),
    "field_county": ("区县", "County"),
    "facilities_use": ("检查并使用该设施表", "Check and use this table"),
    "facilities_loaded": (
        "已载入 {n} 个设施（{file}），并保存到方案中。",
        "Loaded {n} facilities from {file} into the scenario.",
    ),
    "facilities_in_use": ("当前方案使用的设施表：{file}", "Facility table in use: {file}"),
    "facilities_remove": ("不再使用", "Stop using it"),
    "patients_title": ("上传已知患者数（可选）", "Upload known patient counts (optional)"),
    "patients_caption": (
        "按区县（区县名称或代码＋人数）或按地点（经度、纬度＋人数）汇总的人数表，替代普查×患病率的估算。不接受个人名单；少于 {thr} 人的数字只显示为“<{thr}”。",
        "Counts per county (county name or code + count) or per place (longitude, latitude + count) replace the census × prevalence estimate. Person-level lists are refused; counts below {thr} show only as “<{thr}”.",
    ),
    "patients_use": ("检查并使用该患者数表", "Check and use these counts"),
    "patients_in_use": ("当前方案使用的患者数表：{file}", "Patient counts in use: {file}"),
    "patients_loaded": (
        "已载入患者数（{file}），并保存到方案中。",
        "Loaded patient counts from {file} into the scenario.",
    ),
    "overview_caption_counts": (
        "患者数来自上传的表格 {file}。",
        "Patients from the uploaded counts {file}.",
    ),
    "field_count": ("人数", "Count"),
    "ftype_rehab_existing": ("现有康复站", "Existing rehab sites"),
    "ftype_psychiatric_hospital": ("精神专科医院", "Psychiatric hospitals"),
    "ftype_community_health_centre": ("社区卫生服务中心", "Community health centres"),
    "ftype_community_service_centre": ("社区综合服务中心", "Community service centres"),
    "ftype_new_build": ("新建", "New builds"),
    "ftype_other": ("其他", "Other"),
    # ---------------------------------------------------------------- compare page
    "compare_title": ("方案对比", "Compare scenarios"),
    "compare_need_two": (
        "请先在左侧方案库中保存至少两个方案。",
        "Save at least two scenarios in the library (left) first.",
    ),
    "compare_pick": (
        "选择 2–4 个已保存的方案（第一个为基准）",
        "Pick 2–4 saved scenarios (the first is the baseline)",
    ),
    "compare_pick_help": (
        "差值和增减站点均相对于第一个方案。",
        "Differences and site changes are relative to the first one.",
    ),
    "compare_pick_two": ("请至少选择两个方案。", "Pick at least two scenarios."),
    "compare_solving": (
        "正在求解所选方案（已求解的直接复用）…",
        "Solving the scenarios (solved ones are reused)…",
    ),
    "compare_failed": (
        "方案“{name}”未参与对比。",
        "Scenario “{name}” is left out of the comparison.",
    ),
    "compare_metrics": ("主要指标", "Headline figures"),
    "compare_baseline": ("基准方案：{name}", "Baseline: {name}"),
    "compare_maps": ("地图对照", "Maps side by side"),
    "compare_sites": ("站点增减", "Sites added and removed"),
    "compare_vs": ("**{name}** 相对于 **{base}**：", "**{name}** compared with **{base}**:"),
    "sites_added": ("新增站点：{n} 个", "Added: {n} sites"),
    "sites_removed": ("减少站点：{n} 个", "Removed: {n} sites"),
    # ---------------------------------------------------------------- trade-off page
    "tradeoff_title": ("站点数与覆盖率、出行时间的权衡", "Sites against coverage and travel time"),
    "tradeoff_caption": (
        "模型：{model} ｜ 出行时限 {T} 分钟 ｜ 区域：{region}",
        "Model: {model} | time limit {T} min | region: {region}",
    ),
    "tradeoff_lscp": (
        "LSCP 自行确定最少站点数，无需权衡曲线。请在“方案与求解”页选择 MCLP 或 p-中位模型。",
        "LSCP finds the fewest sites itself, so there is no curve. Choose MCLP or p-median on the Scenario page.",
    ),
    "p_min": ("最少站点数", "Fewest sites"),
    "p_max": ("最多站点数", "Most sites"),
    "p_step": ("步长", "Step"),
    "p_range_bad": (
        "“最多站点数”不能小于“最少站点数”。",
        "“Most sites” must not be smaller than “Fewest sites”.",
    ),
    "p_range_long": (
        "共 {n} 个点，超过上限 {max}；请缩小范围或增大步长。",
        "{n} points is more than {max}; narrow the range or raise the step.",
    ),
    "tradeoff_run": ("计算权衡曲线", "Compute the curve"),
    "tradeoff_press": (
        "设置站点数范围后点击“计算权衡曲线”。",
        "Set the range of site numbers, then press “Compute the curve”.",
    ),
    "tradeoff_solving": ("正在逐个求解 {n} 个站点数…", "Solving {n} numbers of sites…"),
    "curve_coverage": ("{T} 分钟内患者占比", "Patients within {T} min"),
    "curve_coverage_axis": ("时限内患者占比（%）", "Patients within limit (%)"),
    "curve_travel": (
        "平均出行时间（模型服务的患者）",
        "Mean travel time (patients the model serves)",
    ),
    "curve_travel_axis": ("平均出行时间（分钟）", "Mean travel time (min)"),
    "curve_travel_note": (
        "曲线中的平均出行时间按模型服务的患者计算（覆盖模型只计时限内的患者）；下方方案的指标按每位患者到最近站点计算。",
        "Mean travel on the curve is over the patients the model serves (coverage models: only those within the limit); the plan below reports every patient's trip to the nearest site.",
    ),
    "p_axis": ("站点数", "Number of sites"),
    "tradeoff_click_hint": (
        "点击曲线上的点，即在“方案与求解”页打开该方案；也可在下方列表中选择后点按钮打开。",
        "Click a point on a curve to open that plan on the Scenario page, or pick it from the list below and press the button.",
    ),
    "tradeoff_pick_title": ("查看某一站点数的方案", "Open the plan for a number of sites"),
    "tradeoff_pick": ("站点数", "Number of sites"),
    "tradeoff_none_feasible": ("该范围内没有可行方案。", "No feasible plan in this range."),
    "tradeoff_open": (
        "在“方案与求解”页打开 {p} 个站点的方案",
        "Open the {p}-site plan on the Scenario page",
    ),
    "travel_mode_label": ("出行时间", "Travel times"),
    "tradeoff_axis": ("横轴", "Vary"),
    "tradeoff_axis_sites": ("站点数", "Number of sites"),
    "tradeoff_axis_budget": ("预算", "Budget"),
    "budget_min": ("最低预算", "Lowest budget"),
    "budget_max": ("最高预算", "Highest budget"),
    "budget_steps": ("预算档数", "Budget steps"),
    "budget_range_bad": (
        "“最高预算”必须大于“最低预算”。",
        "“Highest budget” must be larger than “Lowest budget”.",
    ),
    "budget_axis": ("预算（与开办费用同单位）", "Budget (unit of the opening costs)"),
    "budget_spent": ("新建站点开办费用", "Opening cost of new sites"),
    "tradeoff_press_budget": (
        "设置预算范围后点击“计算权衡曲线”。每一档预算下新建站点数量不限，只要开办费用合计不超过预算（需在“方案与求解”页为候选类型设置开办费用）。",
        "Set the budget range, then press “Compute the curve”. Each budget opens any number of new sites whose opening costs add up to at most the budget (set candidate opening costs on the Scenario page).",
    ),
    "tradeoff_solving_budget": ("正在逐个求解 {n} 档预算…", "Solving {n} budget steps…"),
    "tradeoff_pick_title_budget": ("查看某一预算的方案", "Open the plan for a budget"),
    "tradeoff_open_budget": (
        "在“方案与求解”页打开预算 {b} 的方案",
        "Open the plan for budget {b} on the Scenario page",
    ),
}

# Progress messages of the library (English) -> keys above
PROGRESS: dict[str, tuple[str, str]] = {
    "preparing inputs": (
        "准备数据（区域、患者、出行时间）…",
        "Preparing inputs (region, patients, travel times)…",
    ),
    "loading region": ("载入区域边界…", "Loading the region…"),
    "building demand cells": ("生成需求网格…", "Building demand cells…"),
    "solving the siting model": ("求解选址模型…", "Solving the siting model…"),
    "summarising results": ("汇总结果…", "Summarising results…"),
    "done": ("完成", "Done"),
    "preparing model data": ("整理模型数据…", "Preparing model data…"),
    "estimating straight-line travel times": (
        "估算直线出行时间…",
        "Estimating straight-line travel times…",
    ),
    "road network loaded from cache": ("已从缓存载入路网", "Road network loaded from cache"),
    "building the road graph": ("构建路网图…", "Building the road graph…"),
    "road network downloaded": ("路网已下载", "Road network downloaded"),
    "snapping points to the road network": (
        "将各点接入路网…",
        "Snapping points to the road network…",
    ),
    "routing on the road network": ("计算路网出行时间…", "Routing on the road network…"),
    "road travel times done": ("路网出行时间已完成", "Road travel times done"),
    "trade-off curve done": ("权衡曲线已完成", "Trade-off curve done"),
    "rollout: optimising the opening order": (
        "分期计划：优化开设顺序…",
        "Rollout: optimising the opening order…",
    ),
    "rollout: finding the smallest milestone shortfall": (
        "分期计划：计算未达标所需的最小调整…",
        "Rollout: finding the smallest milestone shortfall…",
    ),
    "rollout: year-by-year figures": ("分期计划：逐年汇总…", "Rollout: year-by-year figures…"),
    "rollout: done": ("分期计划已完成", "Rollout done"),
}

#: Progress messages with figures in them: (pattern, zh template, en template).
PROGRESS_PATTERNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"solving (?P<m>.+)"), "求解 {m}…", "Solving {m}…"),
    (re.compile(r"p-median round (?P<k>\d+)"), "p-median 第 {k} 轮…", "p-median round {k}…"),
    (
        re.compile(r"p-center: testing (?P<v>[\d.]+) min"),
        "p-center：检验 {v} 分钟…",
        "p-center: testing {v} min…",
    ),
    (re.compile(r"reading (?P<f>.+)"), "读取 {f}…", "Reading {f}…"),
    (
        re.compile(r"read (?P<n>\d+) nodes from (?P<f>.+)"),
        "已从 {f} 读取 {n} 个节点",
        "Read {n} nodes from {f}",
    ),
    (
        re.compile(r"downloading the (?P<t>\w+) road network from OpenStreetMap"),
        "正在从 OpenStreetMap 下载路网（{t}）…",
        "Downloading the {t} road network from OpenStreetMap…",
    ),
    (
        re.compile(r"(?P<s>optimal|feasible): objective (?P<v>.+)"),
        "{s}：目标值 {v}",
        "{s}: objective {v}",
    ),
    (re.compile(r"(?P<m>.+) with (?P<k>\d+) sites"), "{m}：{k} 个站点", "{m} with {k} sites"),
)


def lang() -> str:
    """Current language code (``"zh"`` or ``"en"``)."""
    value = st.session_state.get("lang", st.session_state.get(KEPT_LANG, DEFAULT_LANG))
    return value if value in LANGS else DEFAULT_LANG


def t(key: str, *, in_lang: str | None = None, **values: Any) -> str:
    """The text ``key`` in the current language (or ``in_lang``), formatted with ``values``."""
    pair = STRINGS.get(key)
    if pair is None:  # a missing key is a bug; show the key rather than break the page
        return key
    text = pair[0] if (in_lang or lang()) == "zh" else pair[1]
    return text.format(**values) if values else text


def labels(prefix: str) -> Callable[[Any], str]:
    """A ``format_func`` for choices: ``value -> t(prefix + value)`` in today's language.

    The language is fixed when the widget is drawn, so a widget's labels never change under
    it between runs (Streamlit matches the browser's choice by its label).
    """
    code = lang()
    return lambda value: t(f"{prefix}{value}", in_lang=code)


def progress_text(message: str) -> str:
    """Translate a library progress message when known (else show it as it is)."""
    zh = lang() == "zh"
    pair = PROGRESS.get(message)
    if pair is not None:
        return pair[0] if zh else pair[1]
    for pattern, zh_text, en_text in PROGRESS_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            values = dict(found.groupdict())
            if zh and "s" in values:
                values["s"] = {"optimal": "已证明最优", "feasible": "可行解"}[values["s"]]
            return (zh_text if zh else en_text).format(**values)
    return message
