"""What the reusable chat include (``community/chat_panel.html``) needs, built once per page.

A page builds a :class:`ChatPanel` with :func:`for_customer` (storefront pages: the
customer API under ``/api/v1/storefront/<slug>/community/``) or :func:`for_staff`
(console and guide workbench: the staff API under ``/api/v1/community/``) and includes
the template with ``chat=panel``. The panel carries the latest page of messages so the
page shows them without JavaScript; ``chat.js`` then loads earlier ones, follows new
ones (websocket, or polling while the socket is down), posts and marks read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from siyu.community import chat, selectors
from siyu.community.models import Conversation, Message
from siyu.core.models import Membership
from siyu.customers.models import Customer

API = "/api/v1"


@dataclass(frozen=True)
class ChatPanel:
    conversation_id: int
    history_url: str  # GET ?before_id= / ?after_id= → a list of messages, oldest first
    post_url: str  # POST {"text", "card"} → 201 the message, or 4xx {"error","message","fields"}
    read_url: str  # POST ?up_to=<message id> → 204
    websocket_url: str  # absolute ws(s)://… (WEBSOCKET_URL) or a path on this origin
    me_kind: str  # "customer" or "staff"
    me_id: int
    read_only: bool = False
    form_action: str = ""  # a page that takes a POST of ``text`` when JavaScript is off
    post_with_form: bool = False  # send through ``form_action`` (a page reload), not the API
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    has_earlier: bool = False
    placeholder: str = ""

    @property
    def last_id(self) -> int:
        return self.messages[-1]["id"] if self.messages else 0


def websocket_url(conversation_id: int, who: str) -> str:
    """``WEBSOCKET_URL`` + ``/ws/chat/<id>/`` when set, else the path on the page's origin."""
    path = f"/ws/chat/{conversation_id}/?as={who}"
    base = (getattr(settings, "WEBSOCKET_URL", "") or "").rstrip("/")
    return f"{base}{path}" if base else path


def _shown(messages: list[Message], me_kind: str, me_id: int) -> list[dict[str, Any]]:
    rows = []
    for message in messages:
        row = chat.serialize(message)
        sender = row.get("sender") or {}
        row["mine"] = sender.get("kind") == me_kind and sender.get("id") == me_id
        row["time"] = timezone.localtime(message.created_at).strftime("%H:%M")
        rows.append(row)
    return rows


def _panel(
    conversation: Conversation,
    *,
    base: str,
    me_kind: str,
    me_id: int,
    read_only: bool,
    form_action: str,
    placeholder: str,
    post_with_form: bool = False,
) -> ChatPanel:
    latest = selectors.history(conversation)
    return ChatPanel(
        conversation_id=conversation.pk,
        history_url=f"{base}/conversations/{conversation.pk}/messages",
        post_url=f"{base}/conversations/{conversation.pk}/messages",
        read_url=f"{base}/conversations/{conversation.pk}/read",
        websocket_url=websocket_url(conversation.pk, me_kind),
        me_kind=me_kind,
        me_id=me_id,
        read_only=read_only,
        form_action=form_action,
        post_with_form=post_with_form and bool(form_action),
        messages=_shown(latest, me_kind, me_id),
        has_earlier=len(latest) >= selectors.PAGE,
        placeholder=placeholder,
    )


def for_customer(
    conversation: Conversation,
    customer: Customer,
    *,
    merchant_slug: str,
    read_only: bool = False,
    form_action: str = "",
    placeholder: str = "",
) -> ChatPanel:
    """The panel of a storefront page (the caller checked ``access.customer_may_see``)."""
    return _panel(
        conversation,
        base=f"{API}/storefront/{merchant_slug}/community",
        me_kind="customer",
        me_id=customer.pk,
        read_only=read_only,
        form_action=form_action,
        placeholder=placeholder,
    )


def for_staff(
    conversation: Conversation,
    staff: Membership,
    *,
    read_only: bool = False,
    form_action: str = "",
    placeholder: str = "",
    post_with_form: bool = False,
) -> ChatPanel:
    """The panel of a console or workbench page (the caller checked ``access.staff_may_see``).

    ``post_with_form``: the composer posts to ``form_action`` (the page's own handler, e.g.
    when the page does more than post — the workbench closes the guide's follow-up task).
    """
    return _panel(
        conversation,
        base=f"{API}/community",
        me_kind="staff",
        me_id=staff.pk,
        read_only=read_only,
        form_action=form_action,
        placeholder=placeholder,
        post_with_form=post_with_form,
    )
