"""Library messages in the app's language (ui/messages.py): real messages read in Chinese.

The tests feed real messages of the library (option errors, upload problems, model hints and
diagnoses) through :mod:`ui.messages`; every one is rendered from its code, none is translated
back from English (the regular-expression table of ``ui/legacy_messages.py`` is gone).
"""

from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import pandas as pd
import pytest

from planning import i18n
from planning import inputs as io
from planning.errors import InfeasibleError, PlanningError, PlanningWarning, ScenarioError
from planning.models import ModelInput, _diagnose, solve
from planning.models.options import FAMILIES
from planning.scenario import Scenario
from ui import messages

# the diagnosis hints as English sentences, by rule family (they are catalog messages now)
_api = SimpleNamespace(
    _HINTS={family: hint.text("en") for family, hint in _diagnose.HINTS.items()},
    FAMILIES=FAMILIES,
)

# three or more English words in a row: an untranslated sentence (ids, quoted names, file
# names, numbers and single technical words such as "EPSG:4547" or "HiGHS" are fine)
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){2,}")
QUOTED = re.compile(
    r"`[^`]*`|'[^']*'|\"[^\"]*\"|\[[^\]]*\]|\S+\.(?:csv|xlsx|gpkg|json|shp|zip|pbf|graphml)"
)


def english_left(text: str) -> list[str]:
    """Runs of English words left in ``text`` once quoted names and file names are removed."""
    return ENGLISH_RUN.findall(QUOTED.sub(" ", text))


def is_chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text)) and not english_left(text)


def lscp_uncovered() -> InfeasibleError:
    """A real LSCP failure: 7 patients in 秀屿区 with their nearest candidate 33 minutes away."""
    data = ModelInput(
        travel=pd.DataFrame(
            {"demand_id": ["D0001", "D0002"], "site_id": ["S1", "S1"], "travel_min": [33.0, 40.0]}
        ),
        demand=pd.DataFrame(
            {"weight": [4.0, 3.0], "county": ["秀屿区", "秀屿区"]},
            index=pd.Index(["D0001", "D0002"], name="demand_id"),
        ),
        sites=pd.DataFrame(
            {"cost": [0.0], "fixed": [False]}, index=pd.Index(["S1"], name="site_id")
        ),
    )
    scenario = Scenario(model="lscp", n_facilities=None, max_travel_min=30)
    with pytest.raises(InfeasibleError) as caught:
        solve(data, scenario)
    return caught.value


def test_ids_names_and_numbers_are_carried_over() -> None:
    err = lscp_uncovered()
    assert err.culprit == "max_travel_min"
    shown = messages.error_message(err, lang="zh")
    for kept in ("30", "秀屿区", "7", "33", "D0001, D0002", "MCLP"):
        assert kept in shown
    assert is_chinese(shown), english_left(shown)


def test_text_without_a_code_is_shown_as_it_is() -> None:
    text = "Something entirely new went wrong; do X."  # e.g. a third-party warning
    assert messages.message(text, lang="zh") == text
    assert messages.warning_message(UserWarning(text), lang="zh") == text


def test_every_hint_and_family_of_the_infeasibility_diagnosis_is_translated() -> None:
    assert set(_diagnose.HINTS) == set(FAMILIES)
    for family in FAMILIES:
        err = InfeasibleError(
            "models.infeasible_culprit",
            culprit=family,
            model="MCLP",
            family=_diagnose.family_name(family),
            hint=_diagnose.HINTS[family],
        )
        assert is_chinese(messages.error_message(err, lang="zh"))
        assert _api._HINTS[family] in messages.error_message(err, lang="en")


def test_option_errors_are_reworded_from_their_option_problems() -> None:
    data = Scenario().to_dict() | {"max_travel_min": 0, "colour": "red"}
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict(data)
    shown = messages.error_message(caught.value, lang="zh")
    assert "最长出行时间 = 0 不允许：请使用大于 0 的数字（分钟，例如 30）" in shown
    assert "未知选项 'colour'" in shown
    assert is_chinese(shown), english_left(shown)
    assert messages.error_message(caught.value, lang="en") == str(caught.value)


def test_a_missing_number_of_sites_is_an_option_error_in_chinese() -> None:
    data = Scenario().to_dict() | {"model": "p_median", "n_facilities": None}
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict(data)
    shown = messages.error_message(caught.value, lang="zh")
    assert "模型 p_median 需要站点数或预算" in shown
    assert is_chinese(shown), english_left(shown)


@pytest.mark.parametrize(
    "data",
    [
        "名称,类型,经度,纬度\n甲,现有康复站,abc,25.43\n乙,卫生院,,\n丙,卫生院,11.9,25.4\n",
        "名称,类型,经度,纬度\n甲,现有康复站,25.43,119.01\n乙,卫生院,119.0,25.4\n",
        "名称,编号,经度,纬度\n甲,F1,119.0,25.4\n,F1,119.1,25.5\n",
        "名称,地址\n甲,城厢区\n",
        "名称,类型,经度,纬度,容量\n甲,现有康复站,119.0,25.4,-3\n",
    ],
)
def test_facility_upload_problems_read_in_chinese(data: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(io.InputFileError) as caught:
            io.load_facilities(data.encode(), filename="fac.csv", crs="wgs84")
    for problem in caught.value.problems:
        shown = messages.problem_message(problem, lang="zh")
        assert is_chinese(shown), (problem.message, shown)
        assert messages.problem_message(problem, lang="en") == problem.message
    assert is_chinese(messages.error_message(caught.value, lang="zh").replace("fac.csv", ""))


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"", "a.csv"),
        ("名称,经度\n甲,1\n".encode("utf-16"), "a.csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100, "a.xls"),
        (b"a,b\n", "a.txt"),
        ("姓名,身份证号,区县\n张三,350302199001011234,城厢区\n".encode(), "list.csv"),
    ],
)
def test_whole_file_problems_read_in_chinese(data: bytes, filename: str) -> None:
    load = io.load_patient_counts if filename == "list.csv" else io.load_facilities
    with pytest.raises(io.InputFileError) as caught:
        load(data, filename=filename)
    for problem in caught.value.problems:
        shown = messages.problem_message(problem, lang="zh")
        assert is_chinese(shown), (problem.message, shown)


def test_file_too_large_reads_in_chinese() -> None:
    with pytest.raises(io.InputFileError) as caught:
        io.read_table(b"a,b\n" + b"1,2\n" * 1000, filename="big.csv", max_bytes=100)
    (problem,) = caught.value.problems
    assert is_chinese(messages.problem_message(problem, lang="zh")), problem.message


def test_infeasible_error_reads_in_chinese_and_english_is_unchanged() -> None:
    err: PlanningError = lscp_uncovered()
    assert is_chinese(messages.error_message(err, lang="zh"))
    assert messages.error_message(err, lang="en") == str(err)
    assert str(err).startswith("LSCP at 30 minutes cannot cover 7 patients in 秀屿区")


def test_upload_problem_message_keeps_the_values_it_names() -> None:
    problem = io.Problem("fac.csv", 3, "经度", i18n.Msg("models.not_a_number", value="abc"))
    assert messages.problem_message(problem, lang="zh").startswith("'abc' 不是数字")
    assert messages.problem_message(problem, lang="en") == problem.message


# ------------------------------------------------------------------------ messages by code
def test_a_coded_error_is_rendered_from_the_catalog_in_the_apps_language() -> None:
    err = ScenarioError("report.paper_unknown", paper="b5")
    shown = messages.error_message(err, lang="en")
    assert shown == "Unknown paper size 'b5'; use 'a4' or 'a3' (landscape)."
    assert messages.error_message(err, lang="zh") == err.text("zh")
    assert is_chinese(messages.error_message(err, lang="zh"))


def test_a_coded_warning_and_problem_are_rendered_from_the_catalog() -> None:
    warning = PlanningWarning("report.patients_not_copied", file="counts.csv")
    assert messages.warning_message(warning, lang="zh") == warning.text("zh")
    assert messages.warning_message(warning, lang="en").startswith("The patient-count file")
    coded = i18n.Msg("report.paper_unknown", paper="x")
    problem = io.Problem("fac.csv", 3, "经度", coded)  # type: ignore[arg-type]
    assert messages.problem_message(problem, lang="zh") == coded.text("zh")
    assert messages.problem_message(problem, lang="en") == coded.text("en")


def test_a_sentence_is_no_message_code() -> None:
    text = "Something entirely new went wrong; do X."
    with pytest.raises(ValueError, match="catalog key"):
        PlanningError(text)
    with pytest.raises(ValueError, match="catalog key"):
        PlanningWarning(text)
    # a code-shaped string that is no catalog key is shown as it is
    assert messages.message("report.no_such_key", lang="en") == "report.no_such_key"
