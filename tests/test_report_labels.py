"""Report labels come from the ``report`` catalog: every group complete in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planning import i18n
from planning.errors import ScenarioError
from planning.inputs.columns import FACILITY_TYPES
from planning.report import labels, maps, workbook
from planning.report.labels import label_group

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_site_kinds_and_candidate_types_have_labels(lang: str) -> None:
    assert set(labels.KIND_LABELS[lang]) == {"existing", "new", "hub"}
    assert {"generated", *FACILITY_TYPES} <= set(labels.TYPE_LABELS[lang])
    assert all(v.strip() for v in labels.TYPE_LABELS[lang].values())


def test_every_sheet_column_has_a_header_in_both_languages() -> None:
    assert set(workbook.SITE_COLUMNS_OUT) <= set(labels.SITE_HEADERS)
    for headers in (labels.SITE_HEADERS, labels.COUNTY_HEADERS):
        for column, pair in headers.items():
            assert set(pair) == set(i18n.LANGS), column
            assert all(pair.values()), column


@pytest.mark.parametrize(
    ("module", "prefix", "pattern"),
    [
        ("planning/report/maps.py", "report.map", r"\bt\[[\"'](\w+)[\"']\]"),
        ("planning/report/map_layers.py", "report.map", r"\bt\[[\"'](\w+)[\"']\]"),
        ("planning/report/map_region.py", "report.map", r"\bt\[[\"'](\w+)[\"']\]"),
        ("planning/report/rollout_map.py", "report.rollout_map", r"\btxt\[[\"'](\w+)[\"']\]"),
        ("planning/report/rollout_print.py", "report.rollout_map", r"\btxt\[[\"'](\w+)[\"']\]"),
        ("planning/report/printmap.py", "report.print", r"\b_l\(\s*[\"'](\w+)[\"']"),
    ],
)
def test_every_label_a_module_reads_is_in_both_catalogs(
    module: str, prefix: str, pattern: str
) -> None:
    used = set(re.findall(pattern, (ROOT / module).read_text(encoding="utf-8")))
    assert used
    for lang in i18n.LANGS:
        missing = used - set(label_group(prefix, lang))
        assert not missing, (lang, missing)


def test_map_labels_cover_site_kinds_and_facility_types() -> None:
    for lang in i18n.LANGS:
        assert {"existing", "new", "hub", *FACILITY_TYPES} <= set(maps.TEXT[lang])


def test_models_and_candidate_sources_have_display_names() -> None:
    for model, en in (("mclp", "MCLP"), ("lscp", "LSCP"), ("p_median", "p-median")):
        assert labels.model_name(model, "en") == en
        assert model not in labels.model_name(model, "zh")
    assert labels.model_name("p_center", "zh") == "p-中心模型"
    for source in ("grid", "facilities", "grid+facilities"):
        zh, en = (labels.candidate_source_name(source, lang) for lang in ("zh", "en"))
        assert re.search(r"[\u4e00-\u9fff]", zh) and source not in (zh, en), source
    assert labels.candidate_source_name("grid+facilities", "en") == (
        "generated grid + user facility table"
    )


def test_report_errors_have_codes_rendered_in_each_language() -> None:
    with pytest.raises(ScenarioError, match="Unknown export language 'fr'") as caught:
        labels.check_lang("fr")
    assert caught.value.code == "report.language_unknown"
    assert caught.value.text("zh").startswith("未知的导出语言 'fr'")
