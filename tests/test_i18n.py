"""The message catalogs: every key in both languages, every key used in the code present."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import pytest

from planning import i18n
from planning.errors import DataError, InfeasibleError, PlanningWarning, ScenarioError

ROOT = Path(__file__).resolve().parents[1]


def _catalog_script():  # scripts/catalog.py, the developers' tool that edits the catalogs
    spec = importlib.util.spec_from_file_location("catalog", ROOT / "scripts" / "catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_key_has_chinese_and_english_with_the_same_placeholders(capsys) -> None:
    assert _catalog_script().check() == 0, capsys.readouterr().out


def test_every_key_used_in_the_code_is_in_a_catalog() -> None:
    script = _catalog_script()
    known = {key for d in i18n.domains() for key in i18n.catalog("zh", d)}
    missing = {k: v for k, v in script.used_keys().items() if k not in known}
    assert not missing, missing


def test_text_renders_each_language_and_nested_messages() -> None:
    assert i18n.text("common.list_sep", "zh") == "；"
    assert i18n.text("common.list_sep", "en") == "; "
    assert i18n.Msg("common.yes").text("zh") == "是"
    with pytest.raises(KeyError, match="no en text"):
        i18n.text("common.no_such_key", "en")
    with pytest.raises(ValueError, match="unknown language"):
        i18n.text("common.yes", "fr")


def test_default_language_is_chinese_unless_kangle_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KANGLE_LANG", raising=False)
    assert i18n.default_language() == "zh"
    assert str(i18n.Msg("common.yes")) == "是"
    monkeypatch.setenv("KANGLE_LANG", "en")
    assert str(i18n.Msg("common.yes")) == "yes"


def test_errors_and_warnings_keep_code_and_parameters_through_pickle() -> None:
    err = InfeasibleError("common.yes", culprit="budget", extra=i18n.Msg("common.no"))
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is InfeasibleError
    assert (back.code, back.params, back.culprit) == (err.code, err.params, "budget")
    assert back.text("zh") == "是"
    scen = pickle.loads(pickle.dumps(ScenarioError("common.no", problems=())))
    assert scen.problems == () and scen.text("en") == "no"
    warn = pickle.loads(pickle.dumps(PlanningWarning("common.yes")))
    assert isinstance(warn, UserWarning) and warn.text("en") == "yes"
    assert isinstance(DataError("common.yes"), ValueError)
