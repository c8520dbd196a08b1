"""Translation catalog chores: extract, update, fill, check, compile.

Usage (from the repo root, with the virtualenv's python):
  python scripts/i18n.py update          # extract msgids from code/templates, merge into the Chinese catalog
  python scripts/i18n.py fill FILE.json  # add translations {"msgid": "译文"}
  python scripts/i18n.py missing         # list msgids without a Chinese translation (exit 1 if any)
  python scripts/i18n.py compile         # .po → .mo (the set-up does this; .mo files are not committed)

msgids are English; zh_CN is the default locale and must be complete (a test checks it).
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
# Babel parses the UI locale "zh_CN" as zh_Hans_CN and looks the catalog up under that name.
LOCALES = ("zh_Hans_CN",)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extract() -> Catalog:
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    template = Catalog(project="agent-academy")
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="agent-academy")
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


def save(catalog: Catalog, locale: str) -> None:
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, omit_header=False, sort_output=True, include_previous=False)
    path.write_bytes(buffer.getvalue())


def update() -> None:
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        # Obsolete entries are dropped: the code no longer uses them.
        catalog.obsolete.clear()
        save(catalog, locale)


def missing(locale: str = "zh_Hans_CN") -> list[str]:
    template = extract()
    catalog = load(locale)
    gaps = []
    for message in template:
        if not message.id:
            continue
        key = message.id
        found = catalog.get(key, context=message.context)
        if found is None or not found.string or found.fuzzy or (
                isinstance(found.string, tuple) and not all(found.string)):
            gaps.append(key if isinstance(key, str) else key[0])
    return gaps


def fill(json_file: str, locale: str = "zh_Hans_CN") -> None:
    update()
    translations = json.loads(Path(json_file).read_text(encoding="utf-8"))
    catalog = load(locale)
    for msgid, text in translations.items():
        message = catalog.get(msgid)
        if message is None:
            print(f"not used in code, skipped: {msgid}", file=sys.stderr)
            continue
        if message.pluralizable:  # ngettext: one text for every plural form (Chinese has one), or a list
            text = tuple(text) if isinstance(text, list) else (text,) * catalog.num_plurals
        message.string = text
        message.flags.discard("fuzzy")
    save(catalog, locale)


def compile_all() -> None:
    for locale in LOCALES:
        catalog = load(locale)
        with open(po_path(locale).with_suffix(".mo"), "wb") as handle:
            write_mo(handle, catalog)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "update":
        update()
    elif command == "fill" and len(sys.argv) == 3:
        fill(sys.argv[2])
    elif command == "missing":
        gaps = missing()
        print("\n".join(gaps))
        sys.exit(1 if gaps else 0)
    elif command == "compile":
        compile_all()
    else:
        print(__doc__)
        sys.exit(2)
