"""Every app's zh-Hans catalogue is complete, and its compiled .mo matches the .po.

`./dev i18n` (scripts/i18n.py) extracts new strings and compiles the catalogues.
"""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "siyu"
PO_FILES = sorted(SRC.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))
SHOWN = 5

Catalogue = dict[tuple[str, str, str], object]


def _catalogue(entries: list[polib._BaseEntry]) -> Catalogue:
    """(context, msgid, plural msgid) -> translation, without the header entry."""
    out: Catalogue = {}
    for entry in entries:
        if entry.msgid == "" and not entry.msgctxt:
            continue
        key = (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")
        if entry.msgid_plural:
            out[key] = tuple(sorted((int(k), v) for k, v in entry.msgstr_plural.items()))
        else:
            out[key] = entry.msgstr
    return out


def _name(path: Path) -> str:
    return str(path.relative_to(SRC.parent.parent))


def _first(msgids: list[str]) -> str:
    shown = ", ".join(repr(m) for m in msgids[:SHOWN])
    more = f" and {len(msgids) - SHOWN} more" if len(msgids) > SHOWN else ""
    return shown + more


def test_the_apps_have_catalogues():
    assert PO_FILES, f"no zh_Hans catalogue under {SRC}"


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: p.parts[-5])
def test_catalogue_is_complete_and_compiled(po_path: Path):
    po = polib.pofile(str(po_path))
    live = [e for e in po if not e.obsolete]
    untranslated = [e.msgid for e in live if not e.translated() and "fuzzy" not in e.flags]
    fuzzy = [e.msgid for e in live if "fuzzy" in e.flags]
    assert not untranslated, (
        f"{_name(po_path)}: {len(untranslated)} untranslated message(s): {_first(untranslated)}. "
        "Translate them, then run ./dev i18n."
    )
    assert not fuzzy, (
        f"{_name(po_path)}: {len(fuzzy)} fuzzy message(s) (a guess by msgmerge, not a "
        f"translation): {_first(fuzzy)}. Check each, remove the fuzzy flag, run ./dev i18n."
    )
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{_name(mo_path)} is missing: run ./dev i18n"
    expected = _catalogue(polib.mofile(po.to_binary()).translated_entries())
    compiled = _catalogue(polib.mofile(str(mo_path)).translated_entries())
    stale = sorted(
        k[1] for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)
    )
    assert not stale, (
        f"{_name(mo_path)} is out of date with its .po: {len(stale)} message(s) differ: "
        f"{_first(stale)}. Run ./dev i18n."
    )
    plural_forms = po.metadata.get("Plural-Forms", "")
    assert plural_forms, f"{_name(po_path)} has no Plural-Forms header"
    assert polib.mofile(str(mo_path)).metadata.get("Plural-Forms", "") == plural_forms, (
        f"{_name(mo_path)}: Plural-Forms differs from the .po. Run ./dev i18n."
    )
