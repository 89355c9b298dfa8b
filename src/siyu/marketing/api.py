"""Staff API of targeted messages (``/api/v1/marketing``): broadcasts, sending, the delivery log,
the funnel and the messaging policy.

(No ``from __future__ import annotations``: django-ninja resolves ``Query[...]`` annotations
at run time.)
"""

from datetime import datetime, time
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.permissions import Perm
from siyu.customers import phones
from siyu.marketing import selectors, services
from siyu.marketing.models import Broadcast

router = Router(tags=["marketing"])


class CardIn(Schema):
    type: Literal["product", "store"]
    id: int


class BroadcastIn(Schema):
    name: str = Field(max_length=200, examples=["Autumn latte launch"])
    text: str = Field("", description="At most 2000 characters; text and/or cards.")
    cards: list[CardIn] = Field(default_factory=list, description="Up to 3 product or store cards.")
    audience: Literal["groups", "tag", "segment"]
    group_ids: list[int] = Field(default_factory=list, description="With audience `groups`.")
    tag_id: int | None = Field(None, description="With audience `tag`.")
    segment_id: int | None = Field(None, description="With audience `segment`.")
    delivery: Literal["group_post", "inbox"] = Field(
        description="`group_post` (groups only: one post per group; every member sees it, caps "
        "and opt-outs cannot skip anyone) or `inbox` (1:1 to each customer; caps, quiet hours "
        "and opt-outs apply)."
    )
    is_marketing: bool = Field(
        True, description="False for service messages: no caps, quiet hours or opt-outs."
    )
    scheduled_at: datetime | None = Field(None, description="In the future; empty: a draft.")


class BroadcastOut(Schema):
    id: int
    name: str
    text: str
    cards: list[dict[str, Any]]
    audience: str
    group_ids: list[int]
    tag_id: int | None
    segment_id: int | None
    delivery: str
    is_marketing: bool
    status: str = Field(description="draft, scheduled, sending, sent, cancelled or failed.")
    scheduled_at: datetime | None
    targeted_count: int
    sent_count: int
    skipped_count: int
    progress: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ScheduleIn(Schema):
    scheduled_at: datetime


class FunnelOut(Schema):
    targeted: int
    sent: int
    skipped: int
    read: int
    clicked: int
    ordered: int
    reasons: dict[str, int] = Field(
        description="Skipped customers by reason: blocked, opted_out, quiet_hours, capped."
    )


class DeliveryOut(Schema):
    customer_id: int
    phone: str = Field(description="The middle starred without `customers.manage`.")
    status: str
    skip_reason: str
    sent_at: datetime | None
    read: bool
    clicked_at: datetime | None
    order_id: int | None

    @staticmethod
    def resolve_phone(obj: Any, context: Any) -> str:
        request = (context or {}).get("request")
        actor = getattr(request, "auth", None)
        full = actor is not None and actor.can(Perm.CUSTOMERS_MANAGE)
        return obj.customer.phone if full else phones.masked_e164(obj.customer.phone)

    @staticmethod
    def resolve_read(obj: Any) -> bool:
        return bool(getattr(obj, "was_read", False))


class DeliveryFilter(Schema):
    status: Literal["sent", "skipped", ""] = ""
    reason: Literal["blocked", "opted_out", "quiet_hours", "capped", ""] = ""


class PolicyIO(Schema):
    cap_count: int = Field(description="1–100 marketing messages per customer per period.")
    cap_period: Literal["day", "week", "month"] = Field(
        description="Periods start at midnight in the merchant's time zone (weeks on Monday)."
    )
    quiet_start: time | None = Field(None, description="Quiet hours from (e.g. 21:00).")
    quiet_end: time | None = Field(None, description="Quiet hours until (e.g. 09:00).")


def _values(payload: BroadcastIn) -> dict[str, Any]:
    values = payload.dict()
    values["cards"] = [card.dict() for card in payload.cards]
    return values


def _broadcast(pk: int) -> Broadcast:
    return selectors.broadcast(pk)  # NotFound answers 404


@router.get("/broadcasts", response={200: list[BroadcastOut], **ERROR_RESPONSES})
@paginate(Page)
def list_broadcasts(request: HttpRequest, status: str = "") -> Any:
    """Targeted messages, newest first; `status` keeps one status."""
    actor_of(request, Perm.MARKETING_VIEW)
    return selectors.broadcasts(status=status)


@router.post("/broadcasts", response={201: BroadcastOut, **ERROR_RESPONSES})
def create_broadcast(request: HttpRequest, payload: BroadcastIn) -> Status:
    """A draft, or a scheduled message with `scheduled_at`. 422 names each bad field
    (`group_ids`, `tag_id`, `segment_id`: ids of this merchant; `delivery`; `scheduled_at`)."""
    actor = actor_of(request, Perm.MARKETING_SEND)
    return Status(201, services.create_broadcast(actor, _values(payload)))


@router.get("/broadcasts/{broadcast_id}", response={200: BroadcastOut, **ERROR_RESPONSES})
def get_broadcast(request: HttpRequest, broadcast_id: int) -> Any:
    actor_of(request, Perm.MARKETING_VIEW)
    return _broadcast(broadcast_id)


@router.put("/broadcasts/{broadcast_id}", response={200: BroadcastOut, **ERROR_RESPONSES})
def update_broadcast(request: HttpRequest, broadcast_id: int, payload: BroadcastIn) -> Any:
    """Change a draft or scheduled message (409 `not_editable` once it sends)."""
    actor = actor_of(request, Perm.MARKETING_SEND)
    return services.update_broadcast(actor, _broadcast(broadcast_id), _values(payload))


@router.post("/broadcasts/{broadcast_id}/send", response={202: BroadcastOut, **ERROR_RESPONSES})
def send_broadcast(request: HttpRequest, broadcast_id: int) -> Status:
    """Send now, in the background; poll the message for `status` and `progress`."""
    actor = actor_of(request, Perm.MARKETING_SEND)
    services.send_now(actor, _broadcast(broadcast_id))
    return Status(202, _broadcast(broadcast_id))


@router.post("/broadcasts/{broadcast_id}/schedule", response={200: BroadcastOut, **ERROR_RESPONSES})
def schedule_broadcast(request: HttpRequest, broadcast_id: int, payload: ScheduleIn) -> Any:
    actor = actor_of(request, Perm.MARKETING_SEND)
    return services.schedule_broadcast(actor, _broadcast(broadcast_id), payload.scheduled_at)


@router.post("/broadcasts/{broadcast_id}/cancel", response={200: BroadcastOut, **ERROR_RESPONSES})
def cancel_broadcast(request: HttpRequest, broadcast_id: int) -> Any:
    """Cancel a draft or scheduled message, or stop one while it sends."""
    actor = actor_of(request, Perm.MARKETING_SEND)
    return services.cancel_broadcast(actor, _broadcast(broadcast_id))


@router.get("/broadcasts/{broadcast_id}/stats", response={200: FunnelOut, **ERROR_RESPONSES})
def broadcast_stats(request: HttpRequest, broadcast_id: int) -> Any:
    """The funnel: targeted, sent, skipped by reason, read, clicked, ordered."""
    actor_of(request, Perm.MARKETING_VIEW)
    return selectors.funnel(_broadcast(broadcast_id)).as_dict()


@router.get(
    "/broadcasts/{broadcast_id}/deliveries", response={200: list[DeliveryOut], **ERROR_RESPONSES}
)
@paginate(Page)
def list_deliveries(request: HttpRequest, broadcast_id: int, filters: Query[DeliveryFilter]) -> Any:
    """The delivery log, one line per targeted customer."""
    actor_of(request, Perm.MARKETING_VIEW)
    return selectors.deliveries(
        _broadcast(broadcast_id), status=filters.status, reason=filters.reason
    )


@router.get("/policy", response={200: PolicyIO, **ERROR_RESPONSES})
def get_policy(request: HttpRequest) -> Any:
    actor = actor_of(request, Perm.MARKETING_VIEW)
    return services.messaging_policy(actor.merchant.pk)


@router.put("/policy", response={200: PolicyIO, **ERROR_RESPONSES})
def update_policy(request: HttpRequest, payload: PolicyIO) -> Any:
    """The cap and quiet hours (both quiet times, or neither; 422 naming the field)."""
    actor = actor_of(request, Perm.MARKETING_SEND)
    return services.update_policy(actor, **payload.dict())
