"""Every word the tool shows, in Chinese (default) and English, from one catalog per language.

Texts are looked up by a stable *key* (``"inputs.county_unknown"``) and rendered with named
parameters (``{county}``). The library's errors and warnings carry a key and parameters
(:class:`Msg`), never a finished sentence, so the command line, the exports and the app render
the same words in the user's language, and nothing is translated back from English.

Catalogs are gettext ``.po`` files, one per language and *domain* (the key's first part):
``planning/locales/<lang>/<domain>.po``, with the key as ``msgid`` and the text as ``msgstr``.
``.po`` is the format translators' tools (Poedit, Weblate, Crowdin) edit and review; Babel
(``babel.messages.pofile``), the pallets project's well-kept i18n library, reads them, so no
compile step is needed and a catalog edit shows at the next start. Placeholders use
:meth:`str.format` syntax (``{count:,}``); a parameter that is itself a :class:`Msg` (or a list
of them) is rendered in the same language first. The tests check that every key has a Chinese
and an English text with the same placeholders, and that every key used in the code exists.

The language is chosen by whoever shows the text: ``msg.text("en")``. Where nobody chose
(``str(error)``, a warning printed by Python), :func:`default_language` applies: the
``KANGLE_LANG`` environment variable, else Chinese.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal, Self, get_args

from babel.messages.pofile import read_po

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "zh"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"

_FORMATTER = string.Formatter()


def default_language() -> Lang:
    """Language used when the caller chose none: ``KANGLE_LANG`` (``zh``/``en``), else ``zh``."""
    env = os.environ.get("KANGLE_LANG", "").strip().lower()
    return check_language(env) if env in LANGS else DEFAULT_LANG


def check_language(lang: str | None) -> Lang:
    """Return ``lang`` as a :data:`Lang` (``None``: :func:`default_language`).

    Raises
    ------
    ValueError
        ``lang`` is not ``"zh"`` or ``"en"`` (a programming error, not a user's).
    """
    if lang is None:
        return default_language()
    if lang in LANGS:
        return lang
    msg = f"unknown language {lang!r}: use 'zh' or 'en'"
    raise ValueError(msg)


@cache
def catalog(lang: Lang, domain: str) -> Mapping[str, str]:
    """All texts of ``domain`` in ``lang``: ``{key: template}`` (empty if the file is absent)."""
    path = LOCALES_DIR / lang / f"{domain}.po"
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


def domains() -> tuple[str, ...]:
    """Names of the catalog domains (the ``.po`` files of the default language)."""
    return tuple(sorted(p.stem for p in (LOCALES_DIR / DEFAULT_LANG).glob("*.po")))


def template(key: str, lang: Lang) -> str:
    """Return the catalog text of ``key`` in ``lang``.

    Raises
    ------
    KeyError
        ``key`` has no text in ``lang`` (the catalog tests make this a test failure).
    """
    domain = key.split(".", 1)[0]
    try:
        return catalog(lang, domain)[key]
    except KeyError:
        msg = f"no {lang} text for message key {key!r} in locales/{lang}/{domain}.po"
        raise KeyError(msg) from None


def placeholders(text: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` of a catalog text."""
    return frozenset(
        name.split(".", 1)[0].split("[", 1)[0] for _, name, _, _ in _FORMATTER.parse(text) if name
    )


def _render_value(value: Any, lang: Lang) -> Any:
    if isinstance(value, Msg):
        return value.text(lang)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Msg) for v in value):
        return text("common.list_sep", lang).join(v.text(lang) for v in value)
    return value


def text(key: str, lang: str | None = None, /, **params: Any) -> str:
    """Render catalog text ``key`` in ``lang`` with ``params``.

    Parameters
    ----------
    key
        Catalog key; its first part names the domain (``planning/locales/<lang>/<domain>.po``).
    lang
        ``"zh"`` or ``"en"``; ``None`` uses :func:`default_language`.
    params
        Values for the placeholders. A :class:`Msg` (or a list of them, joined by the
        language's list separator) is rendered in ``lang`` first.

    Examples
    --------
    >>> text("common.list_sep", "en")
    '; '
    """
    lang = check_language(lang)
    rendered = {k: _render_value(v, lang) for k, v in params.items()}
    return template(key, lang).format(**rendered)


def join(parts: Iterable[str], lang: str | None = None) -> str:
    """Join already rendered phrases with the language's list separator."""
    return text("common.list_sep", lang).join(parts)


class Msg:
    """A text not yet rendered: a catalog key and its parameters.

    Errors, warnings, problems found in a file and any phrase passed between layers are
    ``Msg`` objects, so each caller renders them in its own language.

    Examples
    --------
    >>> Msg("common.list_sep").text("zh")
    '；'
    """

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params: dict[str, Any] = params

    def text(self, lang: str | None = None) -> str:
        """Render in ``lang`` (``None``: :func:`default_language`)."""
        return text(self.key, lang, **self.params)

    def __str__(self) -> str:
        """Render in :func:`default_language`."""
        return self.text()

    def __repr__(self) -> str:
        """``Msg('key', name=value, ...)``."""
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Msg({self.key!r}{args})"

    def __eq__(self, other: object) -> bool:
        """Equal when key and parameters are."""
        if not isinstance(other, Msg):
            return NotImplemented
        return self.key == other.key and self.params == other.params

    def __hash__(self) -> int:
        """Hash of the key (parameters may be unhashable)."""
        return hash(self.key)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as key and parameters (messages travel between processes in a batch)."""
        return (_rebuild_msg, (self.key, self.params))


def _rebuild_msg(key: str, params: dict[str, Any]) -> Msg:
    return Msg(key, **params)


def texts(keys: Sequence[str], lang: str | None = None) -> dict[str, str]:
    """Render several parameterless keys at once: ``{key: text}``."""
    return {k: text(k, lang) for k in keys}


class Joined(Msg):
    """Several texts joined by a language's separator (``common.list_sep`` by default).

    Each item is a :class:`Msg` (rendered in the same language) or a plain value (shown as
    written); the separator is itself a catalog text, so a list reads ``a; b`` in English and
    ``a；b`` in Chinese, or ``a, b`` / ``a，b`` with ``sep="common.comma_sep"``.

    Examples
    --------
    >>> Joined([Msg("common.yes"), Msg("common.no")]).text("zh")
    '是；否'
    """

    __slots__ = ()

    def __init__(self, items: Iterable[Any], /, *, sep: str = "common.list_sep") -> None:
        super().__init__(sep, items=tuple(items))

    def text(self, lang: str | None = None) -> str:
        """Render every item in ``lang`` and join them with the separator of ``lang``."""
        lang = check_language(lang)
        parts = (v.text(lang) if isinstance(v, Msg) else str(v) for v in self.params["items"])
        return template(self.key, lang).join(parts)

    def __repr__(self) -> str:
        """Return ``Joined([...], sep='key')``."""
        return f"Joined({list(self.params['items'])!r}, sep={self.key!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as items and separator."""
        return (_rebuild_joined, (self.params["items"], self.key))


def _rebuild_joined(items: tuple[Any, ...], sep: str) -> Joined:
    return Joined(items, sep=sep)


def status_words(status: str) -> Msg | str:
    """Return a solver status as people read it (``optimal``; 最优), or as it is if unknown.

    Examples
    --------
    >>> status_words("optimal").text("zh"), status_words("paused")
    ('最优', 'paused')
    """
    if status in {"optimal", "feasible", "infeasible", "error"}:
        return Msg(f"common.status_{status}")
    return status


class MsgStr(str):  # noqa: SLOT000 - a str subclass cannot have non-empty __slots__
    """A message as a ``str`` in the default language that keeps its key and parameters.

    For callbacks typed ``str``, such as progress (``progress(fraction, text)``): a caller
    that only wants text (a notebook's tqdm, a log) uses it as the string it is, rendered in
    :func:`default_language`; one with a language of its own (the app) renders :attr:`msg`
    with :meth:`text`.

    Examples
    --------
    >>> said = MsgStr("common.yes")
    >>> said.text("zh"), said.msg
    ('是', Msg('common.yes'))
    """

    msg: Msg
    """The message (catalog key and parameters)."""

    def __new__(cls, key: str, /, **params: Any) -> Self:
        """Render ``Msg(key, **params)`` in the default language, keeping the message."""
        msg = Msg(key, **params)
        obj = super().__new__(cls, msg.text())
        obj.msg = msg
        return obj

    def text(self, lang: str | None = None) -> str:
        """Render in ``lang`` (``None``: :func:`default_language`)."""
        return self.msg.text(lang)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as key and parameters."""
        return (_rebuild_msg_str, (self.msg.key, self.msg.params))


def _rebuild_msg_str(key: str, params: dict[str, Any]) -> MsgStr:
    return MsgStr(key, **params)
