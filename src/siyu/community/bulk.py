"""Fan-out of one message into many customers' inboxes (targeted messages at scale).

Owned by marketing (its send engine is the caller; see ``siyu.marketing.engine``).
Set-based, a handful of statements per call whatever the number of customers: the
missing inboxes are created with one ``INSERT … SELECT … ON CONFLICT DO NOTHING``
(another process creating the same inbox at the same moment is harmless), then each
message is written into every inbox with one ``INSERT … SELECT``. The customer ids
travel as one parameter (:func:`ids_in`: an array on PostgreSQL, a JSON list on SQLite),
never as thousands of placeholders.

The inbox conversations' ``last_message_id``/``last_message_at`` are *not* moved here:
updating a million conversation rows (every update a new row version in all of the
table's indexes) cost as much as writing the messages. The latest message of a
conversation is read from ``Message`` instead (:func:`siyu.community.chat.latest_message_id`,
one backward step on the ``message_conversation`` index), which is what the read marks and
the customer's conversation list use.

No websocket push per customer (a million pushes would cost more than the send): the
inbox page loads its messages when it opens, and the unread counts come from
``ReadState``.
"""

from __future__ import annotations

import json
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


def ids_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """SQL saying ``column`` is one of ``ids``, with its one parameter: ``= ANY(array)`` on
    PostgreSQL, ``IN (SELECT value FROM json_each(…))`` on SQLite. ``column`` is trusted SQL."""
    values = [int(pk) for pk in ids]
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [values]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]  # noqa: S608


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


def create_inboxes(customer_ids: Sequence[int]) -> int:
    """Create the inbox conversations the customers (of the bound merchant) do not have yet:
    one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (an inbox created meanwhile is kept).
    The number created."""
    from siyu.customers.models import Customer

    if not customer_ids:
        return 0
    merchant_id = current_merchant().pk
    conversation = connection.ops.quote_name(Conversation._meta.db_table)
    customer = connection.ops.quote_name(Customer._meta.db_table)
    when = connection.ops.adapt_datetimefield_value(clock.now())
    among, among_params = ids_in("u.id", sorted(set(customer_ids)))
    with connection.cursor() as cursor:
        cursor.execute(
            # table names come from the models, every value is a parameter
            f"INSERT INTO {conversation} (merchant_id, kind, customer_id, "  # noqa: S608
            "last_message_id, created_at) "
            f"SELECT u.merchant_id, %s, u.id, 0, %s FROM {customer} u "
            f"WHERE u.merchant_id = %s AND {among} AND NOT EXISTS "
            f"(SELECT 1 FROM {conversation} c WHERE c.customer_id = u.id AND c.kind = %s) "
            "ON CONFLICT DO NOTHING",
            [INBOX, when, merchant_id, *among_params, INBOX],
        )
        return max(cursor.rowcount, 0)


def _card(card: Any, broadcast_id: int | None) -> dict[str, Any] | None:
    """A card built by the caller (it has a ``url``) as it is, or built now from ``{type, id}``."""
    if card in (None, {}, ""):
        return None
    if isinstance(card, Mapping) and card.get("url"):
        return dict(card)
    via = cards.Via("broadcast" if broadcast_id else "inbox", broadcast_id=broadcast_id)
    return cards.build_card(card, via=via)


def post_inbox_messages(
    customer_ids: Sequence[int],
    parts: Sequence[tuple[str, Any]],
    *,
    broadcast_id: int | None,
    at: datetime | None = None,
) -> int:
    """Post the same system messages (``(text, card)`` each, in order) in each customer's
    inbox; the number of messages written. Inboxes are created once for all the parts.

    The caller has already decided who receives them (caps, opt-outs): this writes, it does
    not filter. A customer listed twice receives them once. ``card``: a built card, or a
    ``{"type", "id"}`` request built here with the broadcast's attribution.
    """
    built: list[tuple[str, dict[str, Any] | None]] = []
    for text, card in parts:
        body = (text or "").strip()
        if len(body) > MAX_TEXT:
            raise chat.fail("text", "At most 2000 characters, please.")
        made = _card(card, broadcast_id)
        if not body and made is None:
            raise chat.fail("text", "Write a message or choose a card.")
        built.append((body, made))
    wanted = sorted(set(customer_ids))
    if not wanted or not built:
        return 0
    merchant_id = current_merchant().pk
    conversation = connection.ops.quote_name(Conversation._meta.db_table)
    message = connection.ops.quote_name(Message._meta.db_table)
    when = connection.ops.adapt_datetimefield_value(at or clock.now())
    card_field = Message._meta.get_field("card")
    among, among_params = ids_in("c.customer_id", wanted)
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        create_inboxes(wanted)
        for body, made in built:
            cursor.execute(
                # table names come from the models, every value is a parameter
                f"INSERT INTO {message} (merchant_id, conversation_id, sender_kind, text, card, "  # noqa: S608
                "broadcast_id, created_at) "
                "SELECT c.merchant_id, c.id, %s, %s, %s, %s, %s "
                f"FROM {conversation} c WHERE c.merchant_id = %s AND c.kind = %s AND {among}",
                [
                    Message.SenderKind.SYSTEM.value,
                    body,
                    card_field.get_db_prep_save(made, connection),
                    broadcast_id,
                    when,
                    merchant_id,
                    INBOX,
                    *among_params,
                ],
            )
            written += cursor.rowcount
    return written


def post_inbox_bulk(
    customer_ids: Sequence[int],
    *,
    text: str,
    card: Any,
    broadcast_id: int | None,
    at: datetime | None = None,
) -> int:
    """Post one system message in each customer's inbox; the number of messages written
    (see :func:`post_inbox_messages`)."""
    return post_inbox_messages(customer_ids, [(text, card)], broadcast_id=broadcast_id, at=at)
