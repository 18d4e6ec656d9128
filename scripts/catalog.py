"""Edit and check the message catalogs (``planning/locales/<lang>/<domain>.po``).

Developers' tool; the tool itself never needs it at run time.

    python scripts/catalog.py add FILE.json     # {"key": ["中文", "English"], ...}: add or replace
    python scripts/catalog.py check             # every key in both languages, same placeholders
    python scripts/catalog.py used              # keys used in the code but missing from a catalog

"Used" keys are string literals naming a key (``"report.map.legend"``) as a call's first
argument, and in the app (``ui/``, ``app.py``) the names given to ``t("name")``,
``both("name")`` and ``lead="name"``, which are the keys ``ui.<name>``.

Files are written sorted by key (clean merges) with Babel's ``write_po``.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "planning" / "locales"
LANGS = ("zh", "en")
KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def _path(lang: str, domain: str) -> Path:
    return LOCALES / lang / f"{domain}.po"


def load(lang: str, domain: str) -> Catalog:
    """Read one catalog (an empty one if the file does not exist)."""
    path = _path(lang, domain)
    if not path.is_file():
        return Catalog(locale=lang, domain=domain, project="kangle-planner")
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=domain)


def save(cat: Catalog, lang: str, domain: str) -> None:
    """Write one catalog sorted by key (no line wrapping changes meaning)."""
    path = _path(lang, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    cat.project = "kangle-planner"
    with path.open("wb") as f:
        write_po(f, cat, width=100, sort_output=True, omit_header=True, no_location=True)


def add(entries: dict[str, list[str]]) -> None:
    """Add or replace ``{key: [zh, en]}`` entries."""
    by_domain: dict[str, dict[str, list[str]]] = {}
    for key, pair in entries.items():
        if not KEY.fullmatch(key) or len(pair) != 2:
            sys.exit(f"bad entry {key!r}: keys look like 'domain.name', values are [zh, en]")
        by_domain.setdefault(key.split(".", 1)[0], {})[key] = pair
    for domain, items in by_domain.items():
        for i, lang in enumerate(LANGS):
            cat = load(lang, domain)
            for key, pair in items.items():
                if key in cat:
                    del cat[key]
                cat.add(key, string=pair[i])
            save(cat, lang, domain)
    print(f"{len(entries)} entries written")


def _placeholders(text: str) -> set[str]:
    import string  # noqa: PLC0415

    return {
        n.split(".", 1)[0].split("[", 1)[0] for _, n, _, _ in string.Formatter().parse(text) if n
    }


def check() -> int:
    """Print problems; return their number."""
    problems = 0
    domains = {p.stem for lang in LANGS for p in (LOCALES / lang).glob("*.po")}
    for domain in sorted(domains):
        cats = {lang: {m.id: m.string for m in load(lang, domain) if m.id} for lang in LANGS}
        keys = set(cats["zh"]) | set(cats["en"])
        for key in sorted(keys):
            texts = {lang: cats[lang].get(key) for lang in LANGS}
            missing = [lang for lang, t in texts.items() if not t]
            if missing:
                print(f"{key}: no {'/'.join(missing)} text")
                problems += 1
                continue
            if _placeholders(texts["zh"]) != _placeholders(texts["en"]):
                print(f"{key}: placeholders differ: {texts}")
                problems += 1
    return problems


def used_keys() -> dict[str, list[str]]:
    """Catalog keys written as string literals in the code: ``{key: [file:line, ...]}``."""
    found: dict[str, list[str]] = {}
    for base in (ROOT / "planning", ROOT / "ui", ROOT / "app.py"):
        files = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in files:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                first = node.args[0] if node.args else None
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if (
                    isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                    and _called(node) not in NOT_KEY_CALLS
                    and KEY.fullmatch(first.value)
                    and first.value.split(".")[0] in _domains()
                ):
                    found.setdefault(first.value, []).append(where)
                elif path.is_relative_to(ROOT / "planning"):
                    continue
                for name in _app_text_names(node):
                    found.setdefault("ui." + re.sub(r"[^a-z0-9_]", "_", name), []).append(where)
    return found


NOT_KEY_CALLS = {"import_module", "label_group", "_by_lang", "_by_column"}
"""Calls whose first argument looks like a key but is not one: a module, a group of keys
(``label_group("report.kind", lang)``, whose members the report tests check)."""

APP_TEXT_CALLS = {"t", "both"}
"""Functions of the app (``ui.i18n``) whose first argument names a ``ui`` text (``ui.<name>``)."""


def _app_text_names(call: ast.Call) -> list[str]:
    """Names of app texts a call in ``ui/`` uses: ``t("name")``, ``both("name")``, ``lead=``."""
    names = []
    first = call.args[0] if call.args else None
    if (
        _called(call) in APP_TEXT_CALLS
        and isinstance(first, ast.Constant)
        and isinstance(first.value, str)
        and re.fullmatch(r"[a-z0-9_+]+", first.value)
    ):
        names.append(first.value)
    names.extend(
        kw.value.value
        for kw in call.keywords
        if kw.arg == "lead"
        and isinstance(kw.value, ast.Constant)
        and isinstance(kw.value.value, str)
    )
    return names


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _domains() -> set[str]:
    return {p.stem for p in (LOCALES / "zh").glob("*.po")}


def main(argv: list[str]) -> int:
    """Command line of this script."""
    if argv[:1] == ["add"] and len(argv) == 2:
        add(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
        return 0
    if argv == ["check"]:
        return 1 if check() else 0
    if argv == ["used"]:
        known = {m.id for d in _domains() for m in load("zh", d) if m.id}
        missing = {k: v for k, v in used_keys().items() if k not in known}
        for key, where in sorted(missing.items()):
            print(f"{key}: used at {', '.join(where)} but in no catalog")
        return 1 if missing else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
