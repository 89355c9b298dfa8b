"""Fan-out of one message to many customers' inboxes (targeted messages at scale).

:func:`post_inbox_bulk` creates the missing inbox conversations and one message per
customer with ``bulk_create`` (a few queries per thousand customers), moves each
conversation's ``last_message_id``, and pushes to open websockets after commit.
Timeline entries and delivery logs are the caller's (marketing records them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When

from siyu.community import cards, chat
from siyu.community.models import Conversation, Message
from siyu.core import clock
from siyu.core.tenancy import current_merchant

CHUNK = 1000


def post_inbox_bulk(
    customer_ids: Sequence[int],
    *,
    text: str,
    card: Any,
    broadcast_id: int | None,
    at: datetime | None = None,
) -> int:
    """One message from the brand in each customer's inbox; the number written."""
    merchant = current_merchant()
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    body = (text or "").strip()
    if len(body) > 2000:
        raise chat.fail("text", "At most 2000 characters, please.")
    via = cards.Via("broadcast" if broadcast_id else "inbox", broadcast_id=broadcast_id)
    built = cards.build_card(card, via=via) if card not in (None, {}, "") else None
    if not body and built is None:
        raise chat.fail("text", "Write a message or choose a card.")
    moment = at or clock.now()
    written = 0
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            existing = dict(
                Conversation.unscoped.filter(
                    merchant=merchant, kind=Conversation.Kind.INBOX, customer_id__in=chunk
                ).values_list("customer_id", "pk")
            )
            missing = [cid for cid in chunk if cid not in existing]
            Conversation.unscoped.bulk_create(
                [
                    Conversation(merchant=merchant, kind=Conversation.Kind.INBOX, customer_id=cid)
                    for cid in missing
                ],
                ignore_conflicts=True,
            )
            if missing:
                existing.update(
                    Conversation.unscoped.filter(
                        merchant=merchant, kind=Conversation.Kind.INBOX, customer_id__in=missing
                    ).values_list("customer_id", "pk")
                )
            messages = Message.unscoped.bulk_create(
                [
                    Message(
                        merchant=merchant,
                        conversation_id=existing[cid],
                        sender_kind=Message.SenderKind.SYSTEM,
                        text=body,
                        card=built,
                        broadcast_id=broadcast_id,
                        created_at=moment,
                    )
                    for cid in chunk
                    if cid in existing
                ]
            )
            if messages and messages[0].pk is None:  # backends that return no ids
                by_conv = dict(
                    Message.unscoped.filter(
                        conversation_id__in=list(existing.values()),
                        broadcast_id=broadcast_id,
                        created_at=moment,
                    ).values_list("conversation_id", "pk")
                )
            else:
                by_conv = {m.conversation_id: m.pk for m in messages}
            if by_conv:
                Conversation.unscoped.filter(pk__in=list(by_conv)).update(
                    last_message_id=Case(
                        *[When(pk=c, then=Value(m)) for c, m in by_conv.items()],
                        output_field=IntegerField(),
                    ),
                    last_message_at=moment,
                )
            written += len(messages)
            pushed = list(by_conv.items())
            transaction.on_commit(
                lambda pushed=pushed: _push_all(pushed, body, built, broadcast_id, moment)
            )
    return written


def _push_all(
    pairs: list[tuple[int, int]], text: str, card: Any, broadcast_id: int | None, at: datetime
) -> None:
    for conversation_id, message_id in pairs:
        chat._push(
            conversation_id,
            {
                "id": message_id,
                "conversation_id": conversation_id,
                "sender_kind": "system",
                "sender": {"kind": "system", "id": None, "name": ""},
                "text": text,
                "card": card,
                "broadcast_id": broadcast_id,
                "created_at": at.isoformat(),
            },
        )
