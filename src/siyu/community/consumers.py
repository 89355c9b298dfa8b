"""The chat websocket: ``/ws/chat/<conversation_id>/``.

Who connects is read from the session (``AuthMiddlewareStack``):

* a customer logged in at the conversation's storefront (``siyu.customers.session``
  keeps ``{merchant id: customer id}``) who may see it (a member of the group, or
  the customer of the 1:1 chat or inbox);
* a staff user with an active membership of the conversation's merchant who may
  see it (``siyu.community.access``: a shopping guide only their groups and chats).

``?as=staff`` or ``?as=customer`` chooses when one browser is both. Anyone else is
closed with code 4403. The socket joins the channel-layer group ``chat.<id>``.

Client → server::

    {"type": "post", "text": "…", "card": {"type": "product", "id": 12}}
    {"type": "read", "up_to": 123}

Server → client::

    {"type": "message", "message": {…}}          every new message of the conversation
    {"type": "posted", "id": 124}                 your post was saved
    {"type": "error", "error": code, "fields": {name: reason}}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from siyu.community import access, chat
from siyu.community.models import Conversation
from siyu.core.errors import DomainError
from siyu.core.models import Membership
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.session import CUSTOMERS_KEY

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403


@dataclass
class Participant:
    conversation: Conversation
    customer: Customer | None = None
    staff: Membership | None = None


def _customer_from_session(session: Any, conversation: Conversation) -> Customer | None:
    if session is None:
        return None
    entries = session.get(CUSTOMERS_KEY) or {}
    customer_id = entries.get(str(conversation.merchant_id)) if isinstance(entries, dict) else None
    if not isinstance(customer_id, int):
        return None
    customer = (
        Customer.unscoped.select_related("merchant")
        .filter(pk=customer_id, merchant_id=conversation.merchant_id, status=Customer.Status.ACTIVE)
        .first()
    )
    if customer is None or not access.customer_may_see(conversation, customer):
        return None
    return customer


def _staff_from_user(user: Any, conversation: Conversation) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = (
        Membership.objects.select_related("user", "merchant")
        .filter(user=user, merchant_id=conversation.merchant_id, is_active=True)
        .first()
    )
    if membership is None or not access.staff_may_see(conversation, membership):
        return None
    return membership


def authenticate(
    scope: dict[str, Any], conversation_id: int, prefer: str = ""
) -> Participant | None:
    """Who this socket is for the conversation, or None (synchronous: run it in a thread)."""
    conversation = (
        Conversation.unscoped.select_related("group", "merchant").filter(pk=conversation_id).first()
    )
    if conversation is None:
        return None
    order = ("staff", "customer") if prefer == "staff" else ("customer", "staff")
    for kind in order:
        if kind == "customer":
            customer = _customer_from_session(scope.get("session"), conversation)
            if customer is not None:
                return Participant(conversation, customer=customer)
        else:
            staff = _staff_from_user(scope.get("user"), conversation)
            if staff is not None:
                return Participant(conversation, staff=staff)
    return None


class ChatConsumer(AsyncJsonWebsocketConsumer):
    participant: Participant | None = None
    group_name = ""

    async def connect(self) -> None:
        try:
            conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        except (KeyError, TypeError, ValueError):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        query = parse_qs((self.scope.get("query_string") or b"").decode())
        prefer = (query.get("as") or [""])[0]
        self.participant = await database_sync_to_async(authenticate)(
            self.scope, conversation_id, prefer
        )
        if self.participant is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group_name = chat.channel_group(conversation_id)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "error": "invalid", "fields": {"type": "?"}})
            return
        kind = content.get("type")
        try:
            if kind == "post":
                message_id = await database_sync_to_async(self._post)(content)
                await self.send_json({"type": "posted", "id": message_id})
            elif kind == "read":
                await database_sync_to_async(self._read)(content.get("up_to"))
            else:
                await self.send_json(
                    {"type": "error", "error": "invalid", "fields": {"type": "post or read"}}
                )
        except DomainError as exc:
            await self.send_json(
                {"type": "error", "error": exc.code, "message": exc.message, "fields": exc.fields}
            )

    def _post(self, content: dict[str, Any]) -> int:
        participant = self.participant
        assert participant is not None
        with merchant_context(participant.conversation.merchant):
            message = chat.post_message(
                participant.conversation,
                text=content.get("text") or "",
                card=content.get("card"),
                sender_customer=participant.customer,
                sender_staff=participant.staff,
            )
        return message.pk

    def _read(self, up_to: Any) -> None:
        participant = self.participant
        assert participant is not None
        with merchant_context(participant.conversation.merchant):
            chat.mark_read(
                participant.conversation,
                customer=participant.customer,
                staff=participant.staff,
                up_to=up_to if up_to is not None else None,
            )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "message": event["message"]})
