"""Every change of marketing state: the messaging policy and targeted messages (broadcasts).

Staff changes take an :class:`Actor`, check ``marketing.send``, validate everything
first (422 naming each field, nothing written), then change and audit in one
transaction. Status changes of a broadcast are conditional UPDATEs
(``WHERE status IN (...)``), so two requests or two workers never both move it.
The send itself is :func:`siyu.marketing.engine.send_broadcast` (re-exported here).

Decisions (also in the console help and ``docs/community.md``):

* **Group posts** (``delivery=group_post``) post once per group; every active member sees
  the post, so per-customer caps and opt-outs cannot hold it back from anyone. The delivery
  log still lists every member: blocked customers as skipped, everyone else as sent (and the
  post counts towards their cap for later 1:1 messages). Quiet hours hold back the whole post.
* **1:1 messages** (``delivery=inbox``) go to each customer's inbox; caps, quiet hours and
  opt-outs skip customers one by one (see :mod:`siyu.marketing.policy`).
* **Service messages** (``is_marketing=False``) ignore caps, quiet hours and opt-outs (they
  are not marketing); blocked customers are still skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput
from siyu.core.permissions import Perm
from siyu.marketing import policy
from siyu.marketing.engine import send_broadcast
from siyu.marketing.models import Broadcast, MessagingPolicy

__all__ = [
    "cancel_broadcast",
    "create_broadcast",
    "messaging_policy",
    "schedule_broadcast",
    "send_broadcast",
    "send_now",
    "update_broadcast",
    "update_policy",
]

MAX_NAME = 80
MAX_TEXT = 2000
MAX_CARDS = 3
MAX_GROUPS = 10_000
CARD_TYPES = ("product", "store")
EDITABLE = (Broadcast.Status.DRAFT, Broadcast.Status.SCHEDULED)
SENDABLE = (Broadcast.Status.DRAFT, Broadcast.Status.SCHEDULED, Broadcast.Status.FAILED)
POLICY_FIELDS = ("cap_count", "cap_period", "quiet_start", "quiet_end")
BROADCAST_FIELDS = (
    "name",
    "text",
    "cards",
    "audience",
    "group_ids",
    "tag",
    "segment",
    "delivery",
    "is_marketing",
    "scheduled_at",
    "status",
)


# --- the messaging policy --------------------------------------------------------------


def messaging_policy(merchant_id: int) -> MessagingPolicy:
    """The merchant's policy, created with the defaults (one a day, no quiet hours) on first use."""
    found = MessagingPolicy.unscoped.filter(merchant_id=merchant_id).first()
    if found is not None:
        return found
    policy_row, _created = MessagingPolicy.unscoped.get_or_create(merchant_id=merchant_id)
    return policy_row


def update_policy(
    actor: Actor,
    *,
    cap_count: int,
    cap_period: str,
    quiet_start: time | None,
    quiet_end: time | None,
) -> MessagingPolicy:
    """Change the cap and the quiet hours (both quiet times, or neither)."""
    actor.require(Perm.MARKETING_SEND)
    problems = policy.policy_problems(cap_count, cap_period, quiet_start, quiet_end)
    if problems:
        messages = {
            "range": _("Between %(low)d and %(high)d.")
            % {"low": policy.MIN_CAP, "high": policy.MAX_CAP},
            "choice": _("Choose per day, per week or per month."),
            "time": _("Give a time of day, e.g. 21:00."),
            "pair": _("Give both the start and the end of the quiet hours, or neither."),
        }
        raise InvalidInput(
            _("The messaging policy could not be saved."),
            fields={name: messages[code] for name, code in problems.items()},
        )
    merchant_id = actor.merchant.pk
    messaging_policy(merchant_id)
    with transaction.atomic():
        row = MessagingPolicy.unscoped.select_for_update().get(merchant_id=merchant_id)
        before = audit.snapshot(row, POLICY_FIELDS)
        row.cap_count, row.cap_period = cap_count, cap_period
        row.quiet_start, row.quiet_end = quiet_start, quiet_end
        row.save(update_fields=list(POLICY_FIELDS))
        audit.record(
            actor,
            "marketing.policy.update",
            row,
            before=before,
            after=audit.snapshot(row, POLICY_FIELDS),
            object_repr=str(_("Messaging policy")),
        )
    return row


# --- broadcasts --------------------------------------------------------------------------


def _ids(value: Any) -> list[int] | None:
    if not isinstance(value, (list, tuple)):
        return None
    out: list[int] = []
    for item in value:
        if isinstance(item, str) and item.isdigit():
            item = int(item)
        if not isinstance(item, int) or isinstance(item, bool) or item <= 0:
            return None
        out.append(item)
    return list(dict.fromkeys(out))


def _one_id(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _clean_cards(raw: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    from siyu.catalog.models import Product
    from siyu.stores.models import Store

    if raw in (None, ""):
        return []
    if not isinstance(raw, (list, tuple)) or len(raw) > MAX_CARDS:
        errors["cards"] = _("At most %(n)d cards.") % {"n": MAX_CARDS}
        return []
    cards: list[dict[str, Any]] = []
    for index, card in enumerate(raw):
        name = f"cards.{index}"
        if not isinstance(card, Mapping) or card.get("type") not in CARD_TYPES:
            errors[name] = _("A card is a product or a store.")
            continue
        pk = _one_id(card.get("id"))
        model: Any = Product if card["type"] == "product" else Store
        if pk is None or not model.objects.filter(pk=pk).exists():
            errors[name] = (
                _("There is no such product.")
                if card["type"] == "product"
                else _("There is no such store.")
            )
            continue
        cards.append({"type": card["type"], "id": pk})
    return cards


def _clean(values: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The broadcast's fields from ``values``, or 422 naming every bad field."""
    from siyu.community.models import CommunityGroup
    from siyu.customers.models import Segment, Tag

    errors: dict[str, str] = {}
    name = values.get("name")
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        errors["name"] = _("Give the message a name.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("At most %(n)d characters.") % {"n": MAX_NAME}
    text = values.get("text") or ""
    if not isinstance(text, str):
        errors["text"] = _("Enter text.")
        text = ""
    text = text.strip()
    if len(text) > MAX_TEXT:
        errors["text"] = _("At most %(n)d characters.") % {"n": MAX_TEXT}
    cards = _clean_cards(values.get("cards"), errors)
    if not text and not cards and "text" not in errors and "cards" not in errors:
        errors["text"] = _("Write a text or add a card.")
    audience = values.get("audience")
    group_ids: list[int] = []
    tag = segment = None
    if audience == Broadcast.Audience.GROUPS:
        ids = _ids(values.get("group_ids"))
        if not ids:
            errors["group_ids"] = _("Choose at least one group.")
        elif len(ids) > MAX_GROUPS:
            errors["group_ids"] = _("At most %(n)d groups.") % {"n": MAX_GROUPS}
        else:
            found = set(
                CommunityGroup.objects.filter(
                    pk__in=ids, status=CommunityGroup.Status.ACTIVE
                ).values_list("pk", flat=True)
            )
            if missing := [i for i in ids if i not in found]:
                errors["group_ids"] = _("There is no active group %(id)s.") % {"id": missing[0]}
            group_ids = ids
    elif audience == Broadcast.Audience.TAG:
        tag_id = _one_id(values.get("tag_id"))
        tag = Tag.objects.filter(pk=tag_id).first() if tag_id else None
        if tag is None:
            errors["tag_id"] = _("Choose a tag.")
    elif audience == Broadcast.Audience.SEGMENT:
        segment_id = _one_id(values.get("segment_id"))
        segment = Segment.objects.filter(pk=segment_id).first() if segment_id else None
        if segment is None:
            errors["segment_id"] = _("Choose a segment.")
    else:
        errors["audience"] = _("Choose groups, a tag or a segment.")
    delivery = values.get("delivery")
    if delivery not in Broadcast.Delivery.values:
        errors["delivery"] = _("Choose a group post or 1:1 messages.")
    elif delivery == Broadcast.Delivery.GROUP_POST and audience != Broadcast.Audience.GROUPS:
        errors["delivery"] = _("Only messages to groups can be posted in the groups.")
    is_marketing = values.get("is_marketing", True)
    if not isinstance(is_marketing, bool):
        errors["is_marketing"] = _("Say yes or no.")
    scheduled_at = values.get("scheduled_at")
    if scheduled_at is not None and (
        not isinstance(scheduled_at, datetime) or scheduled_at.tzinfo is None
    ):
        errors["scheduled_at"] = _("Give a date and time.")
    elif scheduled_at is not None and scheduled_at <= now:
        errors["scheduled_at"] = _("Choose a time in the future.")
    if errors:
        raise InvalidInput(_("The message could not be saved."), fields=errors)
    return {
        "name": name,
        "text": text,
        "cards": cards,
        "audience": audience,
        "group_ids": group_ids,
        "tag": tag,
        "segment": segment,
        "delivery": delivery,
        "is_marketing": is_marketing,
        "scheduled_at": scheduled_at,
    }


def create_broadcast(actor: Actor, values: Mapping[str, Any]) -> Broadcast:
    """A new message: a draft, or scheduled when ``scheduled_at`` is given (in the future).

    ``values``: name, text, cards ``[{"type": "product"|"store", "id"}]``, audience
    (``groups`` with ``group_ids``, ``tag`` with ``tag_id``, ``segment`` with ``segment_id``),
    delivery (``group_post`` — groups only — or ``inbox``), is_marketing, scheduled_at.
    """
    actor.require(Perm.MARKETING_SEND)
    fields = _clean(values, now=clock.now())
    status = Broadcast.Status.SCHEDULED if fields["scheduled_at"] else Broadcast.Status.DRAFT
    with transaction.atomic():
        broadcast = Broadcast.objects.create(
            merchant=actor.merchant, status=status, created_by=actor.label[:150], **fields
        )
        audit.record(
            actor,
            "marketing.broadcast.create",
            broadcast,
            after=audit.snapshot(broadcast, BROADCAST_FIELDS),
        )
    return broadcast


def _locked(broadcast: Broadcast) -> Broadcast:
    return Broadcast.objects.select_for_update().get(pk=broadcast.pk)


def update_broadcast(actor: Actor, broadcast: Broadcast, values: Mapping[str, Any]) -> Broadcast:
    """Change a draft or scheduled message (all fields, as for :func:`create_broadcast`).

    A scheduled message stays scheduled at the new time; without ``scheduled_at`` it
    becomes a draft again.
    """
    actor.require(Perm.MARKETING_SEND)
    fields = _clean(values, now=clock.now())
    with transaction.atomic():
        row = _locked(broadcast)
        if row.status not in EDITABLE:
            raise Conflict(
                _("Only drafts and scheduled messages can be changed."), code="not_editable"
            )
        before = audit.snapshot(row, BROADCAST_FIELDS)
        for name, value in fields.items():
            setattr(row, name, value)
        row.status = Broadcast.Status.SCHEDULED if row.scheduled_at else Broadcast.Status.DRAFT
        row.save()
        audit.record(
            actor,
            "marketing.broadcast.update",
            row,
            before=before,
            after=audit.snapshot(row, BROADCAST_FIELDS),
        )
    return row


def schedule_broadcast(actor: Actor, broadcast: Broadcast, at: Any) -> Broadcast:
    """Send the draft (or move the scheduled message) at ``at``, a time in the future."""
    actor.require(Perm.MARKETING_SEND)
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise InvalidInput(
            _("Give a date and time."), fields={"scheduled_at": _("Give a date and time.")}
        )
    if at <= clock.now():
        raise InvalidInput(
            _("Choose a time in the future."),
            fields={"scheduled_at": _("Choose a time in the future.")},
        )
    with transaction.atomic():
        before = {"status": broadcast.status, "scheduled_at": broadcast.scheduled_at}
        moved = Broadcast.objects.filter(pk=broadcast.pk, status__in=EDITABLE).update(
            status=Broadcast.Status.SCHEDULED, scheduled_at=at
        )
        if not moved:
            raise Conflict(
                _("Only drafts and scheduled messages can be scheduled."), code="not_editable"
            )
        row = Broadcast.objects.get(pk=broadcast.pk)
        audit.record(
            actor,
            "marketing.broadcast.schedule",
            row,
            before=before,
            after={"status": row.status, "scheduled_at": at},
        )
    return row


def cancel_broadcast(actor: Actor, broadcast: Broadcast) -> Broadcast:
    """Cancel a draft or scheduled message, or stop one while it sends (after the batch at hand:
    the customers already reached keep their message)."""
    actor.require(Perm.MARKETING_SEND)
    cancellable = (*EDITABLE, Broadcast.Status.SENDING)
    with transaction.atomic():
        before = {"status": broadcast.status}
        moved = Broadcast.objects.filter(pk=broadcast.pk, status__in=cancellable).update(
            status=Broadcast.Status.CANCELLED, finished_at=clock.now()
        )
        if not moved:
            raise Conflict(_("This message can no longer be cancelled."), code="not_cancellable")
        row = Broadcast.objects.get(pk=broadcast.pk)
        audit.record(
            actor, "marketing.broadcast.cancel", row, before=before, after={"status": row.status}
        )
    return row


def send_now(actor: Actor, broadcast: Broadcast) -> Broadcast:
    """Send now: the message is due at once and a background task sends it after commit.

    If the task is lost, the every-minute job (:func:`siyu.marketing.tasks.send_due`) picks the
    due message up; the send's conditional status change means it goes out once. A failed
    send can be sent again: customers already in the delivery log are not messaged twice.
    """
    from siyu.marketing.tasks import send_broadcast_task

    actor.require(Perm.MARKETING_SEND)
    now = clock.now()
    with transaction.atomic():
        before = {"status": broadcast.status, "scheduled_at": broadcast.scheduled_at}
        moved = Broadcast.objects.filter(pk=broadcast.pk, status__in=SENDABLE).update(
            status=Broadcast.Status.SCHEDULED, scheduled_at=now
        )
        if not moved:
            raise Conflict(_("This message has already been sent."), code="not_sendable")
        row = Broadcast.objects.get(pk=broadcast.pk)
        audit.record(
            actor,
            "marketing.broadcast.send",
            row,
            before=before,
            after={"status": row.status, "scheduled_at": now},
        )
        merchant_id, pk = actor.merchant.pk, row.pk
        transaction.on_commit(lambda: send_broadcast_task.enqueue(merchant_id, pk))
    return row
