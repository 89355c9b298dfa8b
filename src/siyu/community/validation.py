"""Checks of the community's inputs: each raises ``InvalidInput`` naming the field. No writes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from siyu.community import cards
from siyu.community.models import MAX_CAPACITY
from siyu.core.errors import InvalidInput
from siyu.core.models import Membership, Merchant
from siyu.stores.models import Store

MAX_TEXT = 2000
MAX_BANNED_WORDS = 200
MAX_BANNED_WORD = 40
STATE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def fail(field: str, reason: str) -> InvalidInput:
    return InvalidInput(reason, fields={field: reason})


def name(value: Any, *, field: str = "name", max_length: int = 60) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise fail(field, _("Enter a name."))
    if len(text) > max_length:
        raise fail(field, _("At most %(n)d characters, please.") % {"n": max_length})
    return text


def capacity(value: Any, *, field: str = "capacity") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAPACITY:
        raise fail(field, _("A group holds 1 to %(max)d members.") % {"max": MAX_CAPACITY})
    return value


def text(value: Any, *, field: str = "text", max_length: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise fail(field, _("Enter text."))
    value = value.strip()
    if len(value) > max_length:
        raise fail(field, _("At most %(n)d characters, please.") % {"n": max_length})
    return value


def state(value: Any, *, field: str = "state") -> str:
    raw = value.strip() if isinstance(value, str) else ""
    if not raw:
        raise fail(field, _("Enter the channel state, e.g. store_door."))
    if not STATE_RE.match(raw):
        raise fail(
            field,
            _("Use lowercase letters, digits, - and _ (up to 60), e.g. store_door."),
        )
    return raw


def banned_words(value: Any, *, field: str = "banned_words") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = list(re.split(r"[\n,，]", value))
    if not isinstance(value, list | tuple):
        raise fail(field, _("A list of words."))
    words: list[str] = []
    for raw in value:
        if not isinstance(raw, str):
            raise fail(field, _("A list of words."))
        word = raw.strip()
        if not word:
            continue
        if len(word) > MAX_BANNED_WORD:
            raise fail(
                field,
                _("A banned word has at most %(n)d characters: %(word)s")
                % {"n": MAX_BANNED_WORD, "word": word[:20]},
            )
        if word.casefold() not in {w.casefold() for w in words}:
            words.append(word)
    if len(words) > MAX_BANNED_WORDS:
        raise fail(field, _("At most %(n)d banned words.") % {"n": MAX_BANNED_WORDS})
    return words


def welcome(value: Any, *, field: str = "welcome") -> dict[str, Any]:
    """``{"text": ..., "card": {"type", "id"}}`` or ``{}``; the card must exist now."""
    if value in (None, {}, ""):
        return {}
    if not isinstance(value, Mapping):
        raise fail(field, _("A welcome message is a text and an optional card."))
    body = text(value.get("text"), field=f"{field}.text")
    card = value.get("card")
    result: dict[str, Any] = {}
    if body:
        result["text"] = body
    if card not in (None, {}, ""):
        try:
            built = cards.build_card(card)
        except InvalidInput as exc:
            raise fail(f"{field}.card", exc.message) from exc
        assert built is not None
        result["card"] = {"type": built["type"], "id": built["id"]}
    return result


def store_of(merchant: Merchant, value: Any, *, field: str = "store") -> Store | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, Store):
        if value.merchant_id != merchant.pk:
            raise fail(field, _("There is no such store."))
        return value
    pk = int(value) if isinstance(value, int | str) and str(value).isdigit() else None
    store = Store.unscoped.filter(pk=pk, merchant=merchant).first() if pk else None
    if store is None:
        raise fail(field, _("There is no such store."))
    return store


def staff_of(merchant: Merchant, value: Any, *, field: str = "owner") -> Membership | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, Membership):
        membership: Membership | None = value
    else:
        pk = int(value) if isinstance(value, int | str) and str(value).isdigit() else None
        membership = Membership.objects.select_related("user").filter(pk=pk).first() if pk else None
    if membership is None or membership.merchant_id != merchant.pk or not membership.is_active:
        raise fail(field, _("Choose an active staff member of this merchant."))
    return membership
