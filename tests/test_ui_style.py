"""ui.style: Streamlit's own uploader texts replaced by the catalog's, by CSS only."""

from __future__ import annotations

from ui.i18n import t
from ui.style import _css_string, uploader_css


def test_css_string_escapes_quotes_backslashes_and_newlines() -> None:
    assert _css_string('a"b\\c') == '"a\\"b\\\\c"'
    assert _css_string("两行\n文字") == '"两行\\a 文字"'


def test_uploader_css_hides_streamlit_texts_and_shows_the_catalogs() -> None:
    button = t("uploader_button", in_lang="zh")
    limit = t("uploader_limit", in_lang="zh", mb=50)
    css = uploader_css(button, limit)
    assert button == "上传"
    assert limit == "每个文件不超过 50 MB"
    # both of Streamlit's texts are hidden, and each replacement is shown after its container
    assert css.count("display: none;") == 2
    assert f'content: "{button}";' in css
    assert f'content: "{limit}";' in css
    assert '[data-testid="stFileUploaderDropzoneInstructions"]' in css
