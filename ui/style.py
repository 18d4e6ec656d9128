"""Page styling that depends on the language: Streamlit's own texts in the planner's language.

Streamlit 1.67 writes two texts of its file uploader in English in its front end, with no
option to translate them: the button ("Upload") and the limit line ("50MB per file • CSV, ...").
:func:`apply` hides those two texts and shows the catalog's (``ui.uploader_button``,
``ui.uploader_limit``) in their place, by CSS only: the uploader keeps working as before, and the
file dialog still filters by the accepted types. English pages keep Streamlit's own texts.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import lang, t

_BUTTON = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
_LIMIT = '[data-testid="stFileUploaderDropzoneInstructions"] span'


def _css_string(text: str) -> str:
    """``text`` as a CSS string (quotes and backslashes escaped, other characters as they are)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{escaped}"'


def uploader_css(button: str, limit: str) -> str:
    """CSS replacing the uploader's button text and limit line with ``button`` and ``limit``."""
    return (
        f"{_BUTTON} {{display: none;}}\n"
        f'[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]'
        f"::after {{content: {_css_string(button)};}}\n"
        f"{_LIMIT} {{display: none;}}\n"
        f'[data-testid="stFileUploaderDropzoneInstructions"] > div::after '
        f"{{content: {_css_string(limit)}; font-size: 0.875rem;}}\n"
    )


def apply() -> None:
    """Style the current page for the current language (call once per run, before the pages).

    In English nothing changes: Streamlit's texts are English already, and its limit line also
    lists the accepted types.
    """
    if lang() == "en":
        return
    mb = int(st.get_option("server.maxUploadSize"))
    css = uploader_css(t("uploader_button"), t("uploader_limit", mb=mb))
    st.html(f"<style>\n{css}</style>")
