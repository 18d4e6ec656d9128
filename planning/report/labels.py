"""Words and sources every report shows: labels in Chinese and English, data sources.

Shared by the workbook, the maps and the printable map so they say the same thing. The words
live in the ``report`` message catalog (``planning/locales/<lang>/report.po``); the tables
here (:data:`KIND_LABELS`, :data:`SITE_HEADERS`...) are views of it built at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from planning import i18n
from planning.errors import ScenarioError
from planning.inputs.places import places_label
from planning.inputs.provenance import describe_source
from planning.inputs.regions import DATA_DIR, left_out_items
from planning.scenario_store import original_name
from planning.travel.table import travel_label_shown

if TYPE_CHECKING:
    from planning.pipeline import Plan


Lang = Literal["zh", "en"]


Paper = Literal["a4", "a3"]


def label_group(prefix: str, lang: str) -> dict[str, str]:
    """Every catalog text under ``prefix`` in ``lang``, by the key's last part.

    ``label_group("report.kind", "en")`` is ``{"existing": "existing", "new": "new", ...}``.
    The texts live in ``planning/locales/<lang>/report.po``; the tables below are views of
    them, built once at import.
    """
    domain = prefix.split(".", 1)[0]
    head = prefix + "."
    return {
        key.removeprefix(head): value
        for key, value in i18n.catalog(i18n.check_language(lang), domain).items()
        if key.startswith(head) and "." not in key.removeprefix(head)
    }


def _by_lang(prefix: str) -> dict[str, dict[str, str]]:
    return {lang: label_group(prefix, lang) for lang in i18n.LANGS}


def _by_column(prefix: str, columns: tuple[str, ...]) -> dict[str, dict[str, str]]:
    groups = _by_lang(prefix)
    return {c: {lang: groups[lang][c] for lang in i18n.LANGS} for c in columns}


COORD_SYSTEM_NAMES = label_group("report.coord_system", "en")
"""How a facility table's coordinate system is named in the data sources of every export."""

KIND_LABELS: dict[str, dict[str, str]] = _by_lang("report.kind")
"""Kind of an open site (``existing``, ``new``, ``hub``) by language."""

TYPE_LABELS: dict[str, dict[str, str]] = _by_lang("report.candidate_type")
"""Candidate type (``generated`` and the facility types) by language."""

SITE_HEADERS: dict[str, dict[str, str]] = _by_column(
    "report.site_header",
    (
        "site_id",
        "name",
        "kind",
        "candidate_type",
        "county",
        "county_name",
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
        "place",
        "over_capacity",
    ),
)
"""Column headers of the site sheets, ``SITE_HEADERS[column][lang]``."""

COUNTY_HEADERS: dict[str, dict[str, str]] = _by_column(
    "report.county_header",
    (
        "county_id",
        "name",
        "population",
        "patients",
        "patients_within",
        "share_within",
        "n_sites",
        "has_site",
        "mean_travel_min",
        "max_travel_min",
    ),
)
"""Column headers of the county sheet, in sheet order, ``COUNTY_HEADERS[column][lang]``."""

_TEXT: dict[str, dict[str, str]] = {
    key: {lang: group[key] for lang, group in _by_lang("report.plan").items()}
    for key in label_group("report.plan", "zh")
}


def text(key: str, lang: Lang, **params: Any) -> str:
    """Workbook and print-map label ``report.plan.<key>`` in ``lang``."""
    return i18n.text(f"report.plan.{key}", lang, **params)


PLACE_SUFFIXES = (
    "特别行政区",
    "自治县",
    "自治州",
    "自治区",
    "自治旗",
    "县",
    "区",
    "市",
    "省",
    "旗",
    "盟",
)


def place_pinyin(name: str) -> str:
    """Return the pinyin of a place name without its administrative suffix.

    Examples
    --------
    >>> place_pinyin("仙游县"), place_pinyin("莆田市")
    ('Xianyou', 'Putian')
    """
    from pypinyin import lazy_pinyin  # noqa: PLC0415 - only for English labels

    stem = name
    for suffix in PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            stem = name[: -len(suffix)]
            break
    return "".join(lazy_pinyin(stem)).capitalize()


def place_label(name: str, lang: str) -> str:
    """Return a place name as maps label it: in English with its pinyin (``仙游县 Xianyou``)."""
    if lang != "en" or not name or name.isascii():
        return name
    return f"{name} {place_pinyin(name)}"


def model_name(model: str, lang: Lang) -> str:
    """Display name of a siting model (``"p_median"`` -> ``"p-中位模型"`` / ``"p-median"``)."""
    return label_group("report.model", lang).get(model, model)


def candidate_source_name(source: str, lang: Lang) -> str:
    """Display name of a candidate source (``"grid+facilities"`` -> ``"生成网格 + 用户设施表"``)."""
    return label_group("report.candidate_source", lang).get(source.replace("+", "_"), source)


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
    if lang not in i18n.LANGS:
        raise ScenarioError("report.language_unknown", lang=lang)
    return lang


# ------------------------------------------------------------------------ data sources
def prevalence_citation(prevalence_per_mille: float, *, lang: Lang = "en") -> str:
    """Where the scenario's prevalence comes from (``data/smd_prevalence_sources.csv``)."""
    path = DATA_DIR / "smd_prevalence_sources.csv"
    if path.exists():
        table = pd.read_csv(path, dtype=str)
        rate = pd.to_numeric(table["registered_prevalence_per_mille"], errors="coerce")
        hit = table[(rate - prevalence_per_mille).abs() < 1e-9]
        if not hit.empty:
            row = hit.iloc[-1]
            return i18n.text(
                "report.source.prevalence_cited",
                lang,
                rate=prevalence_per_mille,
                scope=row["scope"],
                year=row["year_end"],
                source=row["source"],
            )
    return i18n.text("report.source.prevalence_user", lang, rate=prevalence_per_mille)


def data_sources(plan: Plan, *, lang: Lang = "zh") -> list[tuple[str, str]]:
    """Return the (what, source) pairs every export shows: census, prevalence, boundaries...

    Read from the plan itself (``counties["census_source"]``, ``patients_source``), the
    scenario (prevalence, candidate source) and the travel times' label. The census and
    patient sources are data values (as the census table and the demand step wrote them).
    """
    sc = plan.scenario
    census = "2020 national census"
    if "census_source" in plan.counties.columns:
        vals = plan.counties["census_source"].dropna().astype(str).unique()
        if len(vals):
            census = "; ".join(vals)
    known = {  # the demand step's source values, in words of the report's language
        "census 2020 x prevalence": i18n.text("report.source.patients_census", lang),
        "patient table": i18n.text("report.source.patients_table", lang),
    }
    patients = known["census 2020 x prevalence"]
    if "patients_source" in plan.counties.columns:
        vals = plan.counties["patients_source"].dropna().astype(str).unique()
        if len(vals):
            patients = i18n.join([known.get(v, v) for v in vals], lang)
    cand = i18n.text(
        f"report.source.cand_{sc.candidate_source.replace('+', '_')}",
        lang,
        spacing_km=sc.candidate_spacing_m / 1000,
    )

    def what(key: str) -> str:
        return i18n.text(f"report.source.{key}", lang)

    rows = [
        (what("population"), census),
        (what("patients"), patients),
        (what("prevalence"), prevalence_citation(sc.prevalence_per_mille, lang=lang)),
        (what("boundaries"), i18n.text("report.source.boundaries_value", lang)),
        (what("candidates"), cand),
        (what("travel"), travel_label_shown(plan.travel.label, lang=lang)),
    ]
    if sc.facilities_file or plan.facilities is not None:
        name = original_name(sc.facilities_file) if sc.facilities_file else what("uploaded_table")
        crs = sc.facilities_source_crs
        system = COORD_SYSTEM_NAMES.get(crs.lower(), crs)
        coords = "coords" if crs.lower() == "wgs84" else "coords_converted"
        where = i18n.text(f"report.source.{coords}", lang, system=system)
        rows.append((what("facilities"), f"{name} ({where})"))
    if plan.facilities is not None:  # OpenStreetMap (with its date), edited, or a file
        own = original_name(sc.facilities_file) if sc.facilities_file else None
        source = describe_source(plan.facilities, file=own).text(lang)
        rows.append((what("facility_source"), source))
    rows.append((what("place_names"), places_label(plan.sites).text(lang)))
    if len(plan.left_out):  # no census figures and no patient count
        items = i18n.join((m.text(lang) for m in left_out_items(plan.left_out)), lang)
        rows.append((i18n.text("regions.source_left_out", lang), items))
    return rows


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{x:.1%}"
