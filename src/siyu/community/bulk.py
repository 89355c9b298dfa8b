"""Fan-out of one message into many customers' inboxes (targeted messages at scale).

Owned by marketing (its send engine is the caller; see ``siyu.marketing.engine``).
Set-based, a handful of statements per 5,000 customers whatever the audience: the
inboxes that exist are read in one query, the missing ones created in one
``INSERT … ON CONFLICT DO NOTHING`` (another process creating the same inbox at the
same moment is harmless) and read back, the messages written in one bulk INSERT, and
every conversation's ``last_message_id``/``last_message_at`` moved in one UPDATE.

No websocket push per customer (a million pushes would cost more than the send): the
inbox page loads its messages when it opens, and the unread counts come from
``ReadState``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from siyu.community import cards, chat
from siyu.community.models import Conversation, Message
from siyu.core import clock
from siyu.core.tenancy import current_merchant

BATCH_SIZE = 5000
MAX_TEXT = 2000
INBOX = Conversation.Kind.INBOX.value


def _existing(merchant_id: int, customer_ids: Sequence[int]) -> dict[int, int]:
    rows = Conversation.unscoped.filter(
        merchant_id=merchant_id, kind=INBOX, customer_id__in=customer_ids
    ).values_list("customer_id", "id")
    return {customer_id: pk for customer_id, pk in rows if customer_id is not None}


def inbox_ids(customer_ids: Sequence[int]) -> dict[int, int]:
    """customer id → inbox conversation id, creating the missing inboxes (bound merchant)."""
    create_inboxes(customer_ids)
    merchant_id = current_merchant().pk
    wanted = sorted(set(customer_ids))
    found: dict[int, int] = {}
    for start in range(0, len(wanted), BATCH_SIZE):
        found.update(_existing(merchant_id, wanted[start : start + BATCH_SIZE]))
    return found


def create_inboxes(customer_ids: Sequence[int]) -> None:
    """Create the inbox conversations the customers do not have yet: one INSERT … SELECT per
    5,000 customers, ``ON CONFLICT DO NOTHING`` (an inbox created meanwhile is kept)."""
    from siyu.customers.models import Customer

    merchant_id = current_merchant().pk
    wanted = sorted(set(customer_ids))
    conversation = connection.ops.quote_name(Conversation._meta.db_table)
    customer = connection.ops.quote_name(Customer._meta.db_table)
    when = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), BATCH_SIZE):
            chunk = wanted[start : start + BATCH_SIZE]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {conversation} (merchant_id, kind, customer_id, "  # noqa: S608
                "last_message_id, created_at) "
                f"SELECT u.merchant_id, %s, u.id, 0, %s FROM {customer} u "
                f"WHERE u.merchant_id = %s AND u.id IN ({marks}) AND NOT EXISTS "
                f"(SELECT 1 FROM {conversation} c WHERE c.customer_id = u.id AND c.kind = %s) "
                "ON CONFLICT DO NOTHING",
                [INBOX, when, merchant_id, *chunk, INBOX],
            )


def _card(card: Any, broadcast_id: int | None) -> dict[str, Any] | None:
    """A card built by the caller (it has a ``url``) as it is, or built now from ``{type, id}``."""
    if card in (None, {}, ""):
        return None
    if isinstance(card, Mapping) and card.get("url"):
        return dict(card)
    via = cards.Via("broadcast" if broadcast_id else "inbox", broadcast_id=broadcast_id)
    return cards.build_card(card, via=via)


def post_inbox_bulk(
    customer_ids: Sequence[int],
    *,
    text: str,
    card: Any,
    broadcast_id: int | None,
    at: datetime | None = None,
) -> int:
    """Post the same system message in each customer's inbox; the number of messages written.

    The caller has already decided who receives it (caps, opt-outs): this writes, it does
    not filter. A customer listed twice receives it once. ``card``: a built card, or a
    ``{"type", "id"}`` request built here with the broadcast's attribution.
    """
    body = (text or "").strip()
    if len(body) > MAX_TEXT:
        raise chat.fail("text", "At most 2000 characters, please.")
    built = _card(card, broadcast_id)
    if not body and built is None:
        raise chat.fail("text", "Write a message or choose a card.")
    moment = at or clock.now()
    merchant_id = current_merchant().pk
    wanted = sorted(set(customer_ids))
    conversation = connection.ops.quote_name(Conversation._meta.db_table)
    message = connection.ops.quote_name(Message._meta.db_table)
    when = connection.ops.adapt_datetimefield_value(moment)
    card_value = Message._meta.get_field("card").get_db_prep_save(built, connection)
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        create_inboxes(wanted)
        for start in range(0, len(wanted), BATCH_SIZE):
            chunk = wanted[start : start + BATCH_SIZE]
            marks = ", ".join(["%s"] * len(chunk))
            # table names come from the models, every value is a parameter
            cursor.execute(
                f"INSERT INTO {message} (merchant_id, conversation_id, sender_kind, text, card, "  # noqa: S608
                "broadcast_id, created_at) "
                "SELECT c.merchant_id, c.id, %s, %s, %s, %s, %s "
                f"FROM {conversation} c WHERE c.merchant_id = %s AND c.kind = %s "
                f"AND c.customer_id IN ({marks})",
                [
                    Message.SenderKind.SYSTEM.value,
                    body,
                    card_value,
                    broadcast_id,
                    when,
                    merchant_id,
                    INBOX,
                    *chunk,
                ],
            )
            written += cursor.rowcount
            cursor.execute(
                f"UPDATE {conversation} SET last_message_at = %s, last_message_id = "  # noqa: S608
                f"(SELECT MAX(m.id) FROM {message} m WHERE m.conversation_id = {conversation}.id) "
                f"WHERE merchant_id = %s AND kind = %s AND customer_id IN ({marks})",
                [when, merchant_id, INBOX, *chunk],
            )
    return written
