"""Storefront API of the community (``/api/v1/storefront/{merchant_slug}/community``):
my groups and chats with unread counts, history, posting, read marks, scanning a code.

(No ``from __future__ import annotations``: django-ninja reads the annotations at run time.)
"""

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from siyu.community import access, chat, selectors, services
from siyu.community.api import CardIn, MessageOut
from siyu.core.apikit import ERROR_RESPONSES
from siyu.core.errors import NotFound
from siyu.customers.apikit import CUSTOMER_AUTH, customer_of

router = Router(tags=["storefront: community"], auth=CUSTOMER_AUTH)

MerchantSlug = Annotated[str, Path(description="The merchant's storefront slug.")]


class ConversationOut(Schema):
    id: int
    kind: str = Field(description="`group`, `direct` (my guide) or `inbox` (from the brand).")
    title: str
    group_id: int | None
    unread: int
    last_message: MessageOut | None


class PostIn(Schema):
    text: str = Field("", max_length=2000)
    card: CardIn | None = None


class ScanIn(Schema):
    latitude: float | None = None
    longitude: float | None = None
    store_id: int | None = Field(None, description="A store-finder code without a position.")


class ScanResultOut(Schema):
    outcome: str = Field(
        description="`joined`, `member`, `bound`, `full`, `inactive` or `choose_store`."
    )
    group_id: int | None
    conversation_id: int | None
    welcome_message_id: int | None


def _conversation(request: HttpRequest, pk: int) -> Any:
    customer = customer_of(request)
    conversation = selectors.conversation(pk)
    if not access.customer_may_see(conversation, customer):
        raise NotFound()
    return customer, conversation


@router.get(
    "/conversations",
    response={200: list[ConversationOut], **ERROR_RESPONSES},
    summary="My groups and chats",
)
def conversations(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    rows = selectors.customer_conversations(customer_of(request))
    return [
        {
            "id": r.conversation.pk,
            "kind": r.conversation.kind,
            "title": r.title,
            "group_id": r.conversation.group_id,
            "unread": r.unread,
            "last_message": chat.serialize(r.last_message) if r.last_message else None,
        }
        for r in rows
    ]


@router.get("/unread", response={200: dict[str, int], **ERROR_RESPONSES}, summary="Unread counts")
def unread(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    counts = selectors.customer_unread_counts(customer_of(request))
    return {str(k): v for k, v in counts.items()} | {"total": sum(counts.values())}


@router.get(
    "/conversations/{pk}/messages",
    response={200: list[MessageOut], **ERROR_RESPONSES},
    summary="History",
)
def history(
    request: HttpRequest,
    merchant_slug: MerchantSlug,
    pk: int,
    before_id: int | None = None,
    after_id: int | None = None,
) -> Any:
    _customer, conversation = _conversation(request, pk)
    return [
        chat.serialize(m)
        for m in selectors.history(conversation, before_id=before_id, after_id=after_id)
    ]


@router.post(
    "/conversations/{pk}/messages", response={201: MessageOut, **ERROR_RESPONSES}, summary="Post"
)
def post(request: HttpRequest, merchant_slug: MerchantSlug, pk: int, payload: PostIn) -> Status:
    customer, conversation = _conversation(request, pk)
    card = payload.card.model_dump() if payload.card else None
    message = services.post_message(
        conversation, text=payload.text, card=card, sender_customer=customer
    )
    return Status(201, chat.serialize(message))


@router.post(
    "/conversations/{pk}/read", response={204: None, **ERROR_RESPONSES}, summary="Mark read"
)
def read(
    request: HttpRequest, merchant_slug: MerchantSlug, pk: int, up_to: int | None = None
) -> Status:
    customer, conversation = _conversation(request, pk)
    services.mark_read(conversation, customer=customer, up_to=up_to)
    return Status(204, None)


@router.post(
    "/scan/{token}", response={200: ScanResultOut, **ERROR_RESPONSES}, summary="Scan a join code"
)
def scan(request: HttpRequest, merchant_slug: MerchantSlug, token: str, payload: ScanIn) -> Any:
    customer = customer_of(request)
    code = selectors.code_by_token(token)
    if code is None or code.merchant_id != customer.merchant_id:
        raise NotFound()
    result = services.scan(
        code,
        customer,
        latitude=payload.latitude,
        longitude=payload.longitude,
        store=payload.store_id,
    )
    return {
        "outcome": result.outcome,
        "group_id": result.group.pk if result.group else None,
        "conversation_id": result.conversation.pk if result.conversation else None,
        "welcome_message_id": result.welcome_message.pk if result.welcome_message else None,
    }
