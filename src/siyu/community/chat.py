"""The built-in chat: conversations, messages, read marks, auto-replies and the websocket push.

Every message goes through :func:`post_message`, which validates (text ≤ 2000 or a
card; the sender may post here; banned words and mutes for customers), writes the
``Message``, moves the conversation's ``last_message_id`` (the inbox fan-out of
:mod:`siyu.community.bulk` does not: :func:`latest_message_id`), marks the sender as
having read it, and after commit pushes ``{"type": "chat.message", "message": …}``
to the channel-layer group ``chat.<conversation id>`` (a push failure is logged and
never undoes the write: the HTTP history is the source of truth).

Conversations are created on first use and are race-safe: the unique constraints
(one per group, one direct per customer and staff member, one inbox per customer)
turn a second concurrent creation into a read of the first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from siyu.community import access, cards
from siyu.community.models import AutoReply, CommunityGroup, Conversation, Message, ReadState
from siyu.community.validation import MAX_TEXT, fail
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import Forbidden, InvalidInput
from siyu.core.models import Membership
from siyu.core.permissions import Perm
from siyu.customers.models import Customer

logger = logging.getLogger(__name__)

CHANNEL_GROUP = "chat.{}"


def channel_group(conversation_id: int) -> str:
    return CHANNEL_GROUP.format(conversation_id)


# --- conversations ---------------------------------------------------------------------


def _get_or_create(lookup: dict[str, Any], create: Callable[[], Conversation]) -> Conversation:
    found = Conversation.unscoped.filter(**lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:  # another request created it a moment ago
        return Conversation.unscoped.get(**lookup)


def group_conversation(group: CommunityGroup) -> Conversation:
    """The group's chat (created with the group; made here if an older group has none)."""
    return _get_or_create(
        {"group_id": group.pk},
        lambda: Conversation.unscoped.create(
            merchant_id=group.merchant_id, kind=Conversation.Kind.GROUP, group=group
        ),
    )


def direct_conversation(customer: Customer, staff: Membership) -> Conversation:
    """The 1:1 chat of ``customer`` and a staff member (a guide), created on first use."""
    if staff.merchant_id != customer.merchant_id:
        raise fail("staff", _("Choose a staff member of this merchant."))
    return _get_or_create(
        {"kind": Conversation.Kind.DIRECT, "customer_id": customer.pk, "staff_id": staff.pk},
        lambda: Conversation.unscoped.create(
            merchant_id=customer.merchant_id,
            kind=Conversation.Kind.DIRECT,
            customer=customer,
            staff=staff,
        ),
    )


def inbox_conversation(customer: Customer) -> Conversation:
    """The customer's inbox of messages from the brand (targeted messages)."""
    return _get_or_create(
        {"kind": Conversation.Kind.INBOX, "customer_id": customer.pk},
        lambda: Conversation.unscoped.create(
            merchant_id=customer.merchant_id, kind=Conversation.Kind.INBOX, customer=customer
        ),
    )


# --- serialising -----------------------------------------------------------------------


def customer_label(customer: Customer | None) -> str:
    if customer is None:
        return ""
    if customer.name:
        return customer.name
    from siyu.customers import phones

    return phones.mask(customer.phone)


def serialize(message: Message) -> dict[str, Any]:
    """A message as pages, the API and the websocket see it."""
    sender: dict[str, Any] | None = None
    if message.sender_kind == Message.SenderKind.CUSTOMER and message.sender_customer_id:
        sender = {
            "kind": "customer",
            "id": message.sender_customer_id,
            "name": customer_label(message.sender_customer),
        }
    elif message.sender_kind == Message.SenderKind.STAFF:
        staff = message.sender_staff
        sender = {
            "kind": "staff",
            "id": message.sender_staff_id,
            "name": str(staff.user) if staff is not None else _("Staff"),
        }
    else:
        sender = {"kind": "system", "id": None, "name": pgettext("chat sender", "Automatic")}
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "sender_kind": message.sender_kind,
        "sender": sender,
        "text": message.text,
        "card": message.card,
        "broadcast_id": message.broadcast_id,
        "created_at": message.created_at.isoformat(),
    }


def _push(conversation_id: int, payload: dict[str, Any]) -> None:
    """Hand a new message to the channel layer (websockets); never raises."""
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        async_to_sync(layer.group_send)(
            channel_group(conversation_id), {"type": "chat.message", "message": payload}
        )
    except Exception:  # the write stands; clients catch up through the history
        logger.exception("could not push message %s to websockets", payload.get("id"))


def _push_after_commit(message: Message) -> None:
    payload = serialize(message)
    transaction.on_commit(lambda: _push(message.conversation_id, payload))


# --- posting ---------------------------------------------------------------------------


def _via_for(conversation: Conversation, broadcast_id: int | None) -> cards.Via:
    if conversation.kind == Conversation.Kind.GROUP:
        return cards.Via("group", group_id=conversation.group_id, broadcast_id=broadcast_id)
    if conversation.kind == Conversation.Kind.DIRECT:
        return cards.Via("guide", guide_id=conversation.staff_id, broadcast_id=broadcast_id)
    return cards.Via("broadcast" if broadcast_id else "inbox", broadcast_id=broadcast_id)


def banned_word_in(text: str, words: Iterable[str]) -> str | None:
    folded = text.casefold()
    for word in words:
        if word and word.casefold() in folded:
            return word
    return None


def _check_customer_may_post(conversation: Conversation, customer: Customer, text: str) -> None:
    if conversation.kind == Conversation.Kind.INBOX:
        raise Forbidden(_("Messages from the brand cannot be answered here."))
    if conversation.kind == Conversation.Kind.DIRECT:
        if conversation.customer_id != customer.pk:
            raise Forbidden(_("This is not your conversation."))
        return
    from siyu.community.models import GroupMember

    member = (
        GroupMember.unscoped.filter(
            group_id=conversation.group_id, customer_id=customer.pk, left_at__isnull=True
        )
        .select_related("group")
        .first()
    )
    if member is None:
        raise Forbidden(_("Join the group to post in it."))
    now = clock.now()
    if member.muted_until is not None and member.muted_until > now:
        reason = _("You are muted in this group until %(until)s.") % {
            "until": clock.local(member.muted_until, customer.merchant.time_zone).strftime(
                "%Y-%m-%d %H:%M"
            )
        }
        raise Forbidden(reason, fields={"text": reason}, code="muted")
    if member.group.status != CommunityGroup.Status.ACTIVE:
        raise Forbidden(_("This group is archived."), code="archived")
    word = banned_word_in(text, member.group.banned_words or [])
    if word is not None:
        raise InvalidInput(
            _("contains a banned word: %(word)s") % {"word": word},
            fields={"text": _("contains a banned word: %(word)s") % {"word": word}},
        )


def _mark(conversation_id: int, merchant_id: int, message_id: int, **who: Any) -> None:
    """Move one participant's read mark forward to ``message_id`` (never back)."""
    moved = ReadState.unscoped.filter(
        conversation_id=conversation_id, last_read_message_id__lt=message_id, **who
    ).update(last_read_message_id=message_id, updated_at=clock.now())
    if moved:
        return
    if ReadState.unscoped.filter(conversation_id=conversation_id, **who).exists():
        return
    try:
        with transaction.atomic():
            ReadState.unscoped.create(
                merchant_id=merchant_id,
                conversation_id=conversation_id,
                last_read_message_id=message_id,
                **who,
            )
    except IntegrityError:  # created concurrently: move it forward instead
        ReadState.unscoped.filter(
            conversation_id=conversation_id, last_read_message_id__lt=message_id, **who
        ).update(last_read_message_id=message_id)


def post_message(
    conversation: Conversation,
    *,
    text: str = "",
    card: Any = None,
    sender_customer: Customer | None = None,
    sender_staff: Membership | None = None,
    system: bool = False,
    broadcast_id: int | None = None,
    at: datetime | None = None,
) -> Message:
    """Write one message (see the module's docstring); 422/403 naming the reason when refused."""
    if sum((sender_customer is not None, sender_staff is not None, system)) != 1:
        raise ValueError("a message has exactly one sender: a customer, a staff member or system")
    body = text.strip() if isinstance(text, str) else ""
    if text is not None and not isinstance(text, str):
        raise fail("text", _("Enter text."))
    if len(body) > MAX_TEXT:
        raise fail("text", _("At most %(n)d characters, please.") % {"n": MAX_TEXT})
    if not body and card in (None, {}, ""):
        raise fail("text", _("Write a message or choose a card."))
    if sender_customer is not None:
        if sender_customer.merchant_id != conversation.merchant_id:
            raise Forbidden(_("This is not your conversation."))
        _check_customer_may_post(conversation, sender_customer, body)
    if sender_staff is not None and not access.staff_may_post(conversation, sender_staff):
        raise Forbidden(_("You may not post in this conversation."))
    via = _via_for(conversation, broadcast_id)
    built = cards.build_card(card, via=via) if card not in (None, {}, "") else None
    now = at or clock.now()
    with transaction.atomic():
        message = Message.unscoped.create(
            merchant_id=conversation.merchant_id,
            conversation=conversation,
            sender_kind=(
                Message.SenderKind.CUSTOMER
                if sender_customer is not None
                else Message.SenderKind.STAFF
                if sender_staff is not None
                else Message.SenderKind.SYSTEM
            ),
            sender_customer=sender_customer,
            sender_staff=sender_staff,
            text=body,
            card=built,
            broadcast_id=broadcast_id,
            created_at=now,
        )
        if built is not None:  # the link names this message now that it has an id
            message.card = cards.with_message(
                built,
                cards.Via(
                    via.source,
                    group_id=via.group_id,
                    guide_id=via.guide_id,
                    broadcast_id=via.broadcast_id,
                    message_id=message.pk,
                ),
            )
            Message.unscoped.filter(pk=message.pk).update(card=message.card)
        Conversation.unscoped.filter(pk=conversation.pk, last_message_id__lt=message.pk).update(
            last_message_id=message.pk, last_message_at=now
        )
        conversation.last_message_id, conversation.last_message_at = message.pk, now
        if sender_customer is not None:
            _mark(conversation.pk, conversation.merchant_id, message.pk, customer=sender_customer)
        elif sender_staff is not None:
            _mark(conversation.pk, conversation.merchant_id, message.pk, staff=sender_staff)
        if conversation.kind != Conversation.Kind.GROUP and sender_customer is None:
            _record_messaged(conversation, message)
        _push_after_commit(message)
        if sender_customer is not None and conversation.kind == Conversation.Kind.GROUP:
            _auto_reply(conversation, body)
    return message


def _record_messaged(conversation: Conversation, message: Message) -> None:
    from siyu.customers import timeline

    if conversation.customer_id is None:
        return
    data: dict[str, Any] = {
        "channel": "guide" if conversation.kind == Conversation.Kind.DIRECT else "inbox",
        "text": message.text[:200],
    }
    if message.broadcast_id:
        data["broadcast_id"] = message.broadcast_id
    if message.card:
        data["title"] = str(message.card.get("title", ""))[:100]
    actor = str(message.sender_staff.user) if message.sender_staff is not None else "system"
    timeline.record(conversation.customer_id, "messaged", data, actor=actor, at=message.created_at)


def matching_auto_reply(group_id: int, text: str) -> AutoReply | None:
    """The reply for ``text``: the group's own first, then the merchant-wide ones."""
    if not text:
        return None
    folded = text.strip().casefold()
    replies = AutoReply.objects.filter(is_active=True).filter(
        Q(group_id=group_id) | Q(group__isnull=True)
    )
    ranked = sorted(replies, key=lambda r: (r.group_id is None, r.keyword, r.pk))
    for reply in ranked:
        keyword = reply.keyword.strip().casefold()
        if not keyword:
            continue
        if reply.match == AutoReply.Match.EXACT and folded == keyword:
            return reply
        if reply.match == AutoReply.Match.CONTAINS and keyword in folded:
            return reply
    return None


def _auto_reply(conversation: Conversation, text: str) -> None:
    assert conversation.group_id is not None
    reply = matching_auto_reply(conversation.group_id, text)
    if reply is None:
        return
    body = reply.reply or {}
    post_message(conversation, text=str(body.get("text", "")), card=body.get("card"), system=True)


def post_to_groups(
    actor: Actor,
    groups: Sequence[CommunityGroup],
    *,
    text: str = "",
    card: Any = None,
    broadcast_id: int | None = None,
) -> list[Message]:
    """Staff post the same message to many groups at once (all or nothing)."""
    actor.require(Perm.COMMUNITY_CHAT)
    if not groups:
        raise fail("groups", _("Choose at least one group."))
    staff = actor.membership
    messages: list[Message] = []
    fresh = CommunityGroup.unscoped.in_bulk([g.pk for g in groups])  # current status
    with transaction.atomic():
        for given in groups:
            group = fresh[given.pk]
            if group.merchant_id != actor.merchant.pk:
                raise fail("groups", _("There is no such group."))
            if group.status != CommunityGroup.Status.ACTIVE:
                raise fail("groups", _("%(name)s is archived.") % {"name": group.name})
            if staff is not None and not access.staff_may_see_group(staff, group):
                raise Forbidden(_("You may not post in %(name)s.") % {"name": group.name})
            conversation = group_conversation(group)
            messages.append(
                post_message(
                    conversation,
                    text=text,
                    card=card,
                    sender_staff=staff,
                    system=staff is None,
                    broadcast_id=broadcast_id,
                )
            )
    return messages


# --- read marks ------------------------------------------------------------------------


def latest_message_id(conversation_id: int) -> int:
    """The id of the conversation's latest message (0: none). Read from ``Message`` (one step
    on the ``message_conversation`` index), not from ``Conversation.last_message_id``, which
    the bulk inbox fan-out (:mod:`siyu.community.bulk`) leaves behind."""
    return (
        Message.unscoped.filter(conversation_id=conversation_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def mark_read(
    conversation: Conversation,
    *,
    customer: Customer | None = None,
    staff: Membership | None = None,
    up_to: int | None = None,
) -> None:
    """Mark the conversation read up to ``up_to`` (default: its last message) for one reader."""
    if (customer is None) == (staff is None):
        raise ValueError("mark_read needs exactly one reader: a customer or a staff member")
    if up_to is not None and (isinstance(up_to, bool) or not isinstance(up_to, int) or up_to < 0):
        raise fail("up_to", _("A message id."))
    last = latest_message_id(conversation.pk)
    target = min(up_to, last) if up_to is not None else last
    if target <= 0:
        return
    who: dict[str, Any] = {"customer": customer} if customer is not None else {"staff": staff}
    _mark(conversation.pk, conversation.merchant_id, target, **who)
