"""API: webhook endpoints, their delivery log, replays and test events.

No ``from __future__ import annotations`` here: django-ninja resolves the
``Query[...]`` of paginated handlers at run time.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of, get_or_404
from siyu.core.permissions import Perm
from siyu.webhooks import selectors, services
from siyu.webhooks.models import WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])

DeliveryStatus = Literal["pending", "sending", "succeeded", "failed"]


class EndpointIn(Schema):
    url: str = Field(
        max_length=500,
        description="http(s) URL that receives a POST per event (https in production).",
    )
    event_types: list[str] = Field(
        description='Event type names (see `GET /merchant/event-types`), or `["*"]` for all.'
    )
    description: str = Field("", max_length=200)
    is_active: bool = True


class EndpointPatch(Schema):
    url: str | None = Field(None, max_length=500)
    event_types: list[str] | None = None
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    disabled_reason: str = Field(description='"", "manual" or "failing" (switched off by Siyu).')
    disabled_at: datetime | None
    consecutive_failures: int = Field(
        description="Deliveries in a row that failed for good; 20 disables the endpoint."
    )
    success_rate_7d: float | None = Field(
        description="Share of the last 7 days' finished deliveries that succeeded (0–1)."
    )
    secret_rotated_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_success_rate_7d(obj: WebhookEndpoint) -> float | None:
        return selectors.success_rate(
            getattr(obj, "recent_succeeded", 0), getattr(obj, "recent_failed", 0)
        )


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="The signing secret. Shown in this answer only: store it now.")
    previous_secret_expires_at: datetime | None = Field(
        None, description="Until then deliveries are also signed with the previous secret."
    )


class RotateIn(Schema):
    grace_hours: int = Field(
        0,
        ge=0,
        le=services.MAX_GRACE_HOURS,
        description="Hours the previous secret keeps signing too (0: dropped at once).",
    )


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_id: int | None
    event_type: str
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_response_status: int | None
    replay_of_id: int | None
    created_at: datetime
    finished_at: datetime | None


class AttemptOut(Schema):
    number: int
    attempted_at: datetime
    url: str
    request_headers: dict[str, str]
    response_status: int | None
    response_headers: dict[str, str]
    response_body: str = Field(description="The first 4 KB of the answer.")
    duration_ms: int
    error_code: str
    error: str
    retry_in_seconds: int | None


class DeliveryDetailOut(DeliveryOut):
    body: str = Field(description="The exact JSON body sent (identical on every attempt).")
    attempt_log: list[AttemptOut] = Field(alias="attempt_log")


class DeliveryFilter(Schema):
    endpoint: int | None = Field(None, description="Only deliveries to this endpoint id.")
    status: DeliveryStatus | None = None
    event_type: str = ""
    since: date | None = Field(None, description="Created on or after this day.")
    until: date | None = Field(None, description="Created on or before this day.")


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    return get_or_404(selectors.endpoints(), pk=endpoint_id)


def _with_secret(issued: services.IssuedEndpoint) -> WebhookEndpoint:
    """The endpoint as answered by create and rotate: the only answers with the secret."""
    endpoint = _endpoint(issued.endpoint.pk)
    endpoint.secret = issued.secret
    return endpoint


@router.get(
    "/endpoints",
    response={200: list[EndpointOut], **ERROR_RESPONSES},
    summary="Webhook endpoints",
)
@paginate(Page)
def list_endpoints(request: HttpRequest) -> Any:
    actor_of(request, Perm.WEBHOOKS_VIEW)
    return selectors.endpoints()


@router.post(
    "/endpoints",
    response={201: EndpointWithSecretOut, **ERROR_RESPONSES},
    summary="Add an endpoint (the answer carries its secret, once)",
)
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Status:
    actor = actor_of(request, Perm.WEBHOOKS_MANAGE)
    issued = services.create_endpoint(actor, **payload.dict())
    return Status(201, _with_secret(issued))


@router.get(
    "/endpoints/{endpoint_id}",
    response={200: EndpointOut, **ERROR_RESPONSES},
    summary="One endpoint",
)
def get_endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    actor_of(request, Perm.WEBHOOKS_VIEW)
    return _endpoint(endpoint_id)


@router.patch(
    "/endpoints/{endpoint_id}",
    response={200: EndpointOut, **ERROR_RESPONSES},
    summary="Change an endpoint (only the fields sent)",
)
def update_endpoint(
    request: HttpRequest, endpoint_id: int, payload: EndpointPatch
) -> WebhookEndpoint:
    actor = actor_of(request, Perm.WEBHOOKS_MANAGE)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    services.update_endpoint(actor, endpoint_id, **changes)
    return _endpoint(endpoint_id)


@router.delete(
    "/endpoints/{endpoint_id}",
    response={204: None, **ERROR_RESPONSES},
    summary="Delete an endpoint and its delivery log",
)
def delete_endpoint(request: HttpRequest, endpoint_id: int) -> Status:
    actor = actor_of(request, Perm.WEBHOOKS_MANAGE)
    services.delete_endpoint(actor, endpoint_id)
    return Status(204, None)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    response={200: EndpointWithSecretOut, **ERROR_RESPONSES},
    summary="Issue a new signing secret (the answer carries it, once)",
)
def rotate_secret(
    request: HttpRequest, endpoint_id: int, payload: RotateIn | None = None
) -> WebhookEndpoint:
    actor = actor_of(request, Perm.WEBHOOKS_MANAGE)
    grace = payload.grace_hours if payload is not None else 0
    return _with_secret(services.rotate_secret(actor, endpoint_id, grace_hours=grace))


@router.post(
    "/endpoints/{endpoint_id}/ping",
    response={202: DeliveryOut, **ERROR_RESPONSES},
    summary="Send a test event (webhooks.ping) to this endpoint now",
)
def ping_endpoint(request: HttpRequest, endpoint_id: int) -> Status:
    actor = actor_of(request, Perm.WEBHOOKS_MANAGE)
    return Status(202, services.send_test_event(actor, endpoint_id))


@router.get(
    "/deliveries",
    response={200: list[DeliveryOut], **ERROR_RESPONSES},
    summary="Delivery log, newest first",
)
@paginate(Page)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilter]) -> Any:
    actor = actor_of(request, Perm.WEBHOOKS_VIEW)
    return selectors.deliveries(
        actor.merchant,
        endpoint_id=filters.endpoint,
        status=filters.status or "",
        event_type=filters.event_type,
        since=filters.since,
        until=filters.until,
    )


@router.get(
    "/deliveries/{delivery_id}",
    response={200: DeliveryDetailOut, **ERROR_RESPONSES},
    summary="One delivery with every attempt",
)
def get_delivery(request: HttpRequest, delivery_id: int) -> WebhookDelivery:
    actor_of(request, Perm.WEBHOOKS_VIEW)
    delivery = selectors.delivery_with_attempts(delivery_id)
    if delivery is None:
        raise Http404
    return delivery


@router.post(
    "/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut, **ERROR_RESPONSES},
    summary="Send a delivery's body again now, as a new delivery",
)
def replay_delivery(request: HttpRequest, delivery_id: int) -> Status:
    actor = actor_of(request, Perm.WEBHOOKS_MANAGE)
    return Status(202, services.replay_delivery(actor, delivery_id))
