"""The customer timeline: one append-only line per thing that happened to a customer.

Any app writes to it through :func:`record` (one entry, in the caller's
transaction), :func:`record_entries` (a few entries of one customer in one INSERT) or
:func:`record_many` (bulk, for imports and fan-outs). ``data``
carries the ids and names the console needs to describe the entry in either
language without reading other tables:

=============  ==============================================================
kind           data
=============  ==============================================================
created        ``{"channel"}``
scanned        ``{"code_id", "code_name", "group_name"?, "store_name"?}``
joined / left  ``{"group_id", "group_name", "reason"?}`` (left: ``removed``)
ordered, paid  ``{"order_id", "number", "total"}``
refunded       ``{"order_id", "number", "amount", "reference"}``
messaged       ``{"broadcast_id"?, "title"?, "text"?, "channel"?}``
tagged         ``{"tag_id", "tag_name", "group_name"?, "source"?}``
untagged       ``{"tag_id", "tag_name"}``
transferred    ``{"from_guide", "to_guide", "reason"}`` (guide names)
consent        ``{"channel", "status", "source"}``
note           ``{"note_id", "text"}``
profile        ``{"changed": [field, ...], "identity_kind"?, "action"?}``
imported       ``{"import_id", "file_name", "row"}``
=============  ==============================================================

:func:`describe` turns a kind and its data into a translated one-line sentence
(pure: no database). :func:`prune` deletes entries older than
``settings.TIMELINE_DAYS`` (``SIYU_TIMELINE_DAYS``, 730 by default); the
scheduler runs it nightly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from siyu.core import clock, inserts
from siyu.core.audit import json_safe
from siyu.core.money import format_amount
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Consent, Customer, TimelineEntry

Kind = TimelineEntry.Kind
BULK_BATCH = 1024  # entries per INSERT (a power of two: see record_many)
PRUNE_BATCH = 5000
DEFAULT_DAYS = 730


_KINDS = frozenset(Kind.values)


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValueError(f"unknown timeline kind {kind!r}")


def record(
    customer: Customer | int,
    kind: str,
    data: Mapping[str, Any] | None = None,
    *,
    actor: str = "",
    at: datetime | None = None,
) -> TimelineEntry:
    """Append one entry for ``customer`` (a row, or an id of the bound merchant's customer)."""
    return record_entries(customer, [(kind, data)], actor=actor, at=at)[0]


def record_entries(
    customer: Customer | int,
    entries: Sequence[tuple[str, Mapping[str, Any] | None]],
    *,
    actor: str = "",
    at: datetime | None = None,
) -> list[TimelineEntry]:
    """Append ``(kind, data)`` entries for one customer, in this order, in one INSERT."""
    if isinstance(customer, Customer):
        merchant_id, customer_id = customer.merchant_id, customer.pk
    else:
        merchant_id, customer_id = current_merchant().pk, customer
    when = at or clock.now()
    label = actor[:150]
    rows = []
    for kind, data in entries:
        _check_kind(kind)
        rows.append(
            TimelineEntry(
                merchant_id=merchant_id,
                customer_id=customer_id,
                kind=kind,
                data=json_safe(dict(data or {})),
                actor=label,
                occurred_at=when,
            )
        )
    inserts.insert(rows)  # the ORM's create() costs more CPU than the round trip
    return rows


def record_many(
    rows: Iterable[tuple[int, str, Mapping[str, Any]]],
    *,
    actor: str = "",
    at: datetime | None = None,
) -> int:
    """Append ``(customer_id, kind, data)`` entries of the bound merchant in bulk; the count.

    Multi-row INSERTs of ``BULK_BATCH`` entries (:func:`siyu.core.inserts.insert`, several
    times less CPU than ``bulk_create``); a last part of the rows goes in statements of
    halving sizes, so few statements are ever built."""
    merchant_id = current_merchant().pk
    when = at or clock.now()
    label = actor[:150]
    batch: list[TimelineEntry] = []
    written = 0
    for customer_id, kind, data in rows:
        _check_kind(kind)
        batch.append(
            TimelineEntry(
                merchant_id=merchant_id,
                customer_id=customer_id,
                kind=kind,
                data=json_safe(dict(data or {})),
                actor=label,
                occurred_at=when,
            )
        )
        if len(batch) >= BULK_BATCH:
            inserts.insert(batch)
            written += len(batch)
            batch = []
    size = BULK_BATCH
    while batch:
        while size > len(batch):
            size //= 2
        inserts.insert(batch[:size])
        written += size
        batch = batch[size:]
    return written


def exists(customer_id: int, kind: str, key: str) -> bool:
    """Whether the customer already has a ``kind`` entry whose ``data["key"]`` is ``key``.

    Consumers that may see an event twice write a ``key`` and check it first."""
    return TimelineEntry.objects.filter(customer_id=customer_id, kind=kind, data__key=key).exists()


def prune(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete entries (of every merchant) older than ``days``; the number deleted."""
    keep = days if days is not None else int(getattr(settings, "TIMELINE_DAYS", DEFAULT_DAYS))
    cutoff = (now or clock.now()) - timedelta(days=max(1, keep))
    deleted = 0
    while True:  # in batches, so a first prune of a big table does not hold one huge lock
        ids = list(
            TimelineEntry.unscoped.filter(occurred_at__lt=cutoff).values_list("pk", flat=True)[
                :PRUNE_BATCH
            ]
        )
        if not ids:
            return deleted
        deleted += TimelineEntry.unscoped.filter(pk__in=ids).delete()[0]


# --- rendering (pure) ------------------------------------------------------------------


def _money(value: Any, currency: Any = "CNY") -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        return ""
    return format_amount(value, currency if isinstance(currency, str) and currency else "CNY")


def _text(data: Mapping[str, Any], name: str, fallback: str = "") -> str:
    value = data.get(name)
    if value is None or value == "":
        return fallback
    return str(value)


def _channel_label(channel: str) -> str:
    labels = dict(Consent.Channel.choices)
    return str(labels.get(channel, channel))


def _order(data: Mapping[str, Any]) -> str:
    number = _text(data, "number") or (f"#{data['order_id']}" if data.get("order_id") else "")
    return number or _("an order")


def _created(data: Mapping[str, Any]) -> str:
    channel = _text(data, "channel")
    if channel:
        from siyu.customers.selectors import JOIN_CHANNEL_LABELS

        label = str(JOIN_CHANNEL_LABELS.get(channel, channel))
        return _("Became a customer (channel: %(channel)s)") % {"channel": label}
    return _("Became a customer")


def _scanned(data: Mapping[str, Any]) -> str:
    code = _text(data, "code_name", _("a join code"))
    target = _text(data, "group_name") or _text(data, "store_name") or _text(data, "guide_name")
    if target:
        return _("Scanned “%(code)s” → %(target)s") % {"code": code, "target": target}
    return _("Scanned “%(code)s”") % {"code": code}


def _joined(data: Mapping[str, Any]) -> str:
    return _("Joined the group “%(group)s”") % {"group": _text(data, "group_name", "?")}


def _left(data: Mapping[str, Any]) -> str:
    group = _text(data, "group_name", "?")
    if data.get("reason") == "removed":
        return _("Removed from the group “%(group)s”") % {"group": group}
    return _("Left the group “%(group)s”") % {"group": group}


def _ordered(data: Mapping[str, Any]) -> str:
    total = _money(data.get("total"), data.get("currency"))
    if total:
        return _("Placed order %(number)s (%(total)s)") % {"number": _order(data), "total": total}
    return _("Placed order %(number)s") % {"number": _order(data)}


def _paid(data: Mapping[str, Any]) -> str:
    total = _money(data.get("total"), data.get("currency"))
    if total:
        return _("Paid order %(number)s (%(total)s)") % {"number": _order(data), "total": total}
    return _("Paid order %(number)s") % {"number": _order(data)}


def _refunded(data: Mapping[str, Any]) -> str:
    amount = _money(data.get("amount"), data.get("currency"))
    if amount:
        return _("Refund of %(amount)s on order %(number)s") % {
            "amount": amount,
            "number": _order(data),
        }
    return _("Refund on order %(number)s") % {"number": _order(data)}


def _messaged(data: Mapping[str, Any]) -> str:
    title = _text(data, "title") or _text(data, "broadcast_name")
    text = _text(data, "text")
    channel = _text(data, "channel")
    what = title or (text[:60] + ("…" if len(text) > 60 else "") if text else "")
    if what and channel:
        return _("Received “%(what)s” (%(channel)s)") % {
            "what": what,
            "channel": _channel_label(channel),
        }
    if what:
        return _("Received “%(what)s”") % {"what": what}
    return _("Received a message")


def _tag_name(data: Mapping[str, Any]) -> str:
    name = _text(data, "tag_name", "?")
    group = _text(data, "group_name")
    return f"{group}: {name}" if group else name


def _tagged(data: Mapping[str, Any]) -> str:
    return _("Tagged “%(tag)s”") % {"tag": _tag_name(data)}


def _untagged(data: Mapping[str, Any]) -> str:
    return _("Tag “%(tag)s” removed") % {"tag": _tag_name(data)}


def _transferred(data: Mapping[str, Any]) -> str:
    before = _text(data, "from_guide")
    after = _text(data, "to_guide")
    reason = _text(data, "reason")
    if before and after:
        line = _("Guide changed from %(from)s to %(to)s") % {"from": before, "to": after}
    elif after:
        line = _("Now looked after by %(to)s") % {"to": after}
    elif before:
        line = _("No longer looked after by %(from)s") % {"from": before}
    else:
        line = _("Guide changed")
    return f"{line} · {reason}" if reason else line


def _consent(data: Mapping[str, Any]) -> str:
    channel = _channel_label(_text(data, "channel", "?"))
    if data.get("status") == Consent.Status.REFUSED:
        return _("Refused marketing by %(channel)s") % {"channel": channel}
    return _("Agreed to marketing by %(channel)s") % {"channel": channel}


def _note(data: Mapping[str, Any]) -> str:
    return _("Note: %(text)s") % {"text": _text(data, "text")}


PROFILE_FIELD_LABELS = {
    "name": lambda: pgettext("a person's name", "name"),
    "gender": lambda: _("gender"),
    "birthday": lambda: _("birthday"),
    "city": lambda: _("city"),
    "home_store": lambda: _("home store"),
    "identity": lambda: _("identity"),
}


def _profile(data: Mapping[str, Any]) -> str:
    action = data.get("action")
    kind = _text(data, "identity_kind")
    if action == "identity_added":
        return _("Identity added: %(kind)s") % {"kind": kind}
    if action == "identity_removed":
        return _("Identity removed: %(kind)s") % {"kind": kind}
    changed = data.get("changed") or []
    names = [
        str(PROFILE_FIELD_LABELS[name]()) if name in PROFILE_FIELD_LABELS else str(name)
        for name in changed
    ]
    if names:
        return _("Profile changed: %(fields)s") % {"fields": ", ".join(names)}
    return _("Profile changed")


def _imported(data: Mapping[str, Any]) -> str:
    name = _text(data, "file_name")
    if name:
        return _("Imported from %(file)s") % {"file": name}
    return _("Imported")


RENDERERS = {
    Kind.CREATED: _created,
    Kind.SCANNED: _scanned,
    Kind.JOINED: _joined,
    Kind.LEFT: _left,
    Kind.ORDERED: _ordered,
    Kind.PAID: _paid,
    Kind.REFUNDED: _refunded,
    Kind.MESSAGED: _messaged,
    Kind.TAGGED: _tagged,
    Kind.UNTAGGED: _untagged,
    Kind.TRANSFERRED: _transferred,
    Kind.CONSENT: _consent,
    Kind.NOTE: _note,
    Kind.PROFILE: _profile,
    Kind.IMPORTED: _imported,
}


def describe(kind: str, data: Mapping[str, Any] | None) -> str:
    """One translated line for an entry (in the active language)."""
    renderer = RENDERERS.get(kind)  # type: ignore[call-overload]
    if renderer is None:
        return str(kind)
    return renderer(data if isinstance(data, Mapping) else {})
