"""The shop speaks with its own words: every message of the storefront's zh-Hans catalogue is
what a shopper sees at run time. Another app's catalogue wins for a message id it shares
(Django prefers the app listed first), so a shared id with another translation — "Delivery
fee" is 运费设置 for an operator, 运费 for a shopper — must carry the "shop" context."""

from __future__ import annotations

from pathlib import Path

import polib
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext

import siyu.storefront

CATALOGUE = Path(siyu.storefront.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def test_every_storefront_message_shows_as_translated_here():
    differing = []
    with translation.override("zh-hans"):
        for entry in polib.pofile(str(CATALOGUE)):
            if entry.obsolete or not entry.msgid:
                continue
            if entry.msgid_plural:
                shown = ngettext(entry.msgid, entry.msgid_plural, 1)
                wanted = entry.msgstr_plural[0]
            elif entry.msgctxt:
                shown = pgettext(entry.msgctxt, entry.msgid)
                wanted = entry.msgstr
            else:
                shown = gettext(entry.msgid)
                wanted = entry.msgstr
            if shown != wanted:
                differing.append(f"{entry.msgid!r}: shows {shown!r}, the catalogue says {wanted!r}")
    assert not differing, "\n".join(differing)


def test_shopper_words_for_shared_message_ids():
    with translation.override("zh-hans"):
        assert pgettext("shop", "Delivery fee") == "运费"
        assert pgettext("shop", "Payment received") == "支付成功"
        assert gettext("Ready for pickup") == "待自提"
