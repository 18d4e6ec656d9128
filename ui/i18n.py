"""App texts in Simplified Chinese (default) and English, from the ``ui`` message catalog.

Every label, unit, metric and message of the app lives in ``planning/locales/<lang>/ui.po``
(key ``ui.<name>``), next to the library's catalogs, so the app, the command line and the
exports speak from one set of catalogs and a missing translation is a test failure rather than
a mixed-language screen. :func:`t` renders a text in the app's language. The library's errors
and warnings are rendered in the same language by :mod:`ui.messages`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import streamlit as st

from planning import i18n

DOMAIN = "ui"
DEFAULT_LANG = i18n.DEFAULT_LANG
KEPT_LANG = "_lang"  # copy of the language switch (key "lang") that survives st.switch_page


def key_of(name: str) -> str:
    """Catalog key of the app text ``name``: ``ui.<name>``, ``+`` read as ``_``.

    Choice labels are named after the value they label (``source_grid+facilities``); a
    catalog key holds only lower-case letters, digits and ``_``.
    """
    return f"{DOMAIN}." + re.sub(r"[^a-z0-9_]", "_", name)


class _Strings(Mapping[str, tuple[str, str]]):
    """Read-only view of the ``ui`` catalog: ``{name: (zh, en)}`` (edit the ``.po`` files)."""

    def _pairs(self) -> dict[str, tuple[str, str]]:
        zh, en = i18n.catalog("zh", DOMAIN), i18n.catalog("en", DOMAIN)
        prefix = DOMAIN + "."
        return {k.removeprefix(prefix): (v, en.get(k, "")) for k, v in zh.items()}

    def __getitem__(self, name: str) -> tuple[str, str]:
        return self._pairs()[key_of(name).removeprefix(DOMAIN + ".")]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pairs())

    def __len__(self) -> int:
        return len(self._pairs())


STRINGS: Mapping[str, tuple[str, str]] = _Strings()
"""Every app text as ``{name: (zh, en)}``, read from the catalogs (for tests and tools)."""

LANGS: dict[str, str] = {code: i18n.text("ui.lang_name", code) for code in i18n.LANGS}
"""Each language's name in itself, for the language switch (``{"zh": "中文", ...}``)."""


def lang() -> str:
    """Current language code (``"zh"`` or ``"en"``)."""
    value = st.session_state.get("lang", st.session_state.get(KEPT_LANG, DEFAULT_LANG))
    return value if value in LANGS else DEFAULT_LANG


def t(key: str, *, in_lang: str | None = None, **values: Any) -> str:
    """The text ``ui.<key>`` in the current language (or ``in_lang``), formatted with ``values``."""
    code = in_lang or lang()
    try:
        template = i18n.template(key_of(key), i18n.check_language(code))
    except KeyError:  # a missing key is a bug (tests fail); show the key rather than break
        return key
    return i18n.text(key_of(key), code, **values) if values else template


def both(key: str, *, sep: str = " / ", **values: Any) -> str:
    """The text ``key`` in Chinese and English, e.g. ``"导出语言 / Language"``."""
    return sep.join(t(key, in_lang=code, **values) for code in i18n.LANGS)


def labels(prefix: str) -> Callable[[Any], str]:
    """A ``format_func`` for choices: ``value -> t(prefix + value)`` in today's language.

    The language is fixed when the widget is drawn, so a widget's labels never change under
    it between runs (Streamlit matches the browser's choice by its label).
    """
    code = lang()
    return lambda value: t(f"{prefix}{value}", in_lang=code)


def progress_text(message: str | i18n.Msg) -> str:
    """A library progress message in the app's language.

    The library reports progress as :class:`planning.i18n.MsgStr` (a string that keeps its
    catalog message), rendered here in the app's language, as is a :class:`planning.i18n.Msg`;
    any other text is shown as it is.
    """
    if isinstance(message, i18n.MsgStr | i18n.Msg):
        return message.text(lang())
    return message
