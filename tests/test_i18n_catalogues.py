"""No two apps translate the same message differently.

Django merges the catalogues of all INSTALLED_APPS into one, and for a message
that several apps translate, the app listed first wins everywhere: the other
app silently shows a wording meant for somewhere else ("Open" as a store status
showing on a payment). Where the meaning differs, the app gives its string a
context (``pgettext``, ``{% translate "..." context "..." %}``); where it is the
same, the apps agree on one wording.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polib
import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "siyu"
PO_FILES = sorted(SRC.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))

# (context, msgid, plural msgid)
Key = tuple[str, str, str]


def _translation(entry: polib.POEntry) -> str:
    if entry.msgid_plural:
        return " | ".join(v for _, v in sorted(entry.msgstr_plural.items()))
    return entry.msgstr


def translations(entries: Iterable[polib.POEntry]) -> dict[Key, str]:
    """The catalogue's translated messages, without the header, fuzzy or obsolete entries."""
    out: dict[Key, str] = {}
    for entry in entries:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.translated():
            continue
        if entry.msgid == "" and not entry.msgctxt:
            continue  # the header
        out[(entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")] = _translation(entry)
    return out


def collisions(catalogues: dict[str, dict[Key, str]]) -> dict[Key, dict[str, str]]:
    """Messages that at least two apps translate differently: key -> {app: translation}."""
    by_key: dict[Key, dict[str, str]] = {}
    for app, catalogue in catalogues.items():
        for key, text in catalogue.items():
            by_key.setdefault(key, {})[app] = text
    return {key: apps for key, apps in sorted(by_key.items()) if len(set(apps.values())) > 1}


def describe(found: dict[Key, dict[str, str]]) -> str:
    lines = []
    for (context, msgid, plural), apps in found.items():
        name = repr(msgid) + (f" / {plural!r}" if plural else "")
        if context:
            name += f" (context {context!r})"
        wordings = ", ".join(f"{app}: {text!r}" for app, text in sorted(apps.items()))
        lines.append(f"  {name}: {wordings}")
    return "\n".join(lines)


def _entry(msgid: str, msgstr: str, msgctxt: str | None = None, fuzzy: bool = False):
    entry = polib.POEntry(msgid=msgid, msgstr=msgstr, msgctxt=msgctxt)
    if fuzzy:
        entry.flags.append("fuzzy")
    return entry


def test_collisions_compare_context_and_skip_fuzzy_and_untranslated():
    catalogues = {
        "stores": translations(
            [
                _entry("Open", "正常营业"),
                _entry("Closed", "休息", msgctxt="opening hours"),
                _entry("Name", "名称"),
            ]
        ),
        "payments": translations(
            [
                _entry("Open", "待支付"),
                _entry("Closed", "已关闭"),
                _entry("Name", "姓名", fuzzy=True),
                _entry("Failed", ""),
            ]
        ),
    }
    assert collisions(catalogues) == {
        ("", "Open", ""): {"stores": "正常营业", "payments": "待支付"}
    }


def test_no_two_apps_translate_a_message_differently():
    assert PO_FILES, f"no zh_Hans catalogue under {SRC}"
    catalogues = {path.parts[-5]: translations(polib.pofile(str(path))) for path in PO_FILES}
    found = collisions(catalogues)
    if found:
        pytest.fail(
            f"{len(found)} message(s) translated differently by two apps; Django shows the "
            "wording of the app listed first in INSTALLED_APPS everywhere. Where the meaning "
            "differs, give the string a context (pgettext, {% translate ... context ... %}) in "
            "the app where it differs; where it is the same, use one wording. Then run "
            "./dev i18n.\n" + describe(found),
            pytrace=False,
        )
