"""Keeping the catalogs complete: extract every message of web/ and list the ones a catalog lacks.

`python -m web.catalogs` lists what still needs a translation; `python -m web.catalogs update` adds
every new message to web/translations/LANG/LC_MESSAGES/messages.po (keeping the translations there) so
it can be translated in the file (no compile step: the app reads the .po files).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).resolve().parent
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extracted() -> set[str | tuple[str, str]]:
    """Every message id used in web/ (plural messages as (singular, plural))."""
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(WEB), METHODS, options_map=OPTIONS,
                                                                      keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def _path(language: str) -> Path:
    return WEB / "translations" / language / "LC_MESSAGES" / "messages.po"


def update() -> None:
    """Merge the extracted messages into both catalogs: new ones get an empty translation, gone ones are dropped."""
    template = Catalog(project="Belblok", charset="utf-8")
    for file, line, message, comments, context in extract_from_dir(str(WEB), METHODS, options_map=OPTIONS,
                                                                 keywords=KEYWORDS):
        template.add(message, None, [(f"web/{file}", line)], auto_comments=comments, context=context)
    for language in ("nl", "en"):
        with _path(language).open("rb") as po:
            catalog = read_po(po, locale=language)
        catalog.update(template, no_fuzzy_matching=True)
        with _path(language).open("wb") as po:
            write_po(po, catalog, sort_output=True, width=120, include_lineno=False, ignore_obsolete=True)


def missing(language: str) -> list[str | tuple[str, str]]:
    """Messages without a translation in `language`'s catalog (English may leave msgstr empty)."""
    with _path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    result: list[str | tuple[str, str]] = []
    for message_id in sorted(extracted(), key=str):
        key = message_id[0] if isinstance(message_id, tuple) else message_id
        entry = catalog.get(key)
        if entry is None:
            result.append(message_id)
        elif language != "en" and (not entry.string or (isinstance(entry.string, tuple) and not all(entry.string))):
            result.append(message_id)
    return result


if __name__ == "__main__":
    if sys.argv[1:] == ["update"]:
        update()
    gaps = {lang: missing(lang) for lang in ("nl", "en")}
    for lang, ids in gaps.items():
        for message_id in ids:
            print(f"{lang}: {message_id!r}")
    sys.exit(1 if any(gaps.values()) else 0)
