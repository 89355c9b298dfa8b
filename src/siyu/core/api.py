"""API: the calling merchant, its audit log and its event stream."""
# No `from __future__ import annotations` in API modules: django-ninja resolves
# parameter annotations such as Query[...] at run time.

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from siyu.core import selectors
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.events import EVENT_TYPES
from siyu.core.permissions import Perm, permissions_of

router = Router(tags=["merchant"])


class MerchantOut(Schema):
    id: int
    slug: str
    name: str
    currency: str
    time_zone: str
    role: str = Field(description="The caller's role at this merchant.")
    permissions: list[str]


@router.get(
    "",
    response={200: MerchantOut, **ERROR_RESPONSES},
    summary="The merchant this request is bound to",
)
def whoami(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    m = actor.merchant
    return {
        "id": m.pk,
        "slug": m.slug,
        "name": m.name,
        "currency": m.currency,
        "time_zone": m.time_zone,
        "role": actor.role,
        "permissions": sorted(permissions_of(actor.role)),
    }


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor: str = Field(alias="actor_label")
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip_address: str | None


class AuditFilter(Schema):
    action: str = Field("", description="Actions starting with this, e.g. `catalog.product`.")
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None


@router.get("/audit", response={200: list[AuditEntryOut], **ERROR_RESPONSES}, summary="Audit log")
@paginate(Page)
def audit_log(request: HttpRequest, filters: Query[AuditFilter]) -> Any:
    actor = actor_of(request, Perm.AUDIT_VIEW)
    return selectors.audit_entries(
        actor.merchant,
        action=filters.action,
        object_type=filters.object_type,
        object_id=filters.object_id,
        since=filters.since,
        until=filters.until,
    )


class EventOut(Schema):
    id: int
    type: str = Field(alias="event_type")
    occurred_at: datetime
    aggregate_type: str
    aggregate_id: str
    data: dict[str, Any] = Field(alias="payload")


class EventFilter(Schema):
    type: str = Field("", description="Only events of this type.")
    after_id: int = Field(
        0, ge=0, description="Only events after this id (poll with the last id you saw)."
    )


@router.get(
    "/events",
    response={200: list[EventOut], **ERROR_RESPONSES},
    summary="Domain events, oldest first",
)
@paginate(Page)
def event_stream(request: HttpRequest, filters: Query[EventFilter]) -> Any:
    actor_of(request, Perm.WEBHOOKS_VIEW)
    return selectors.events(event_type=filters.type, after_id=filters.after_id)


class EventTypeOut(Schema):
    name: str
    label: str
    description: str


@router.get(
    "/event-types", response={200: list[EventTypeOut], **ERROR_RESPONSES}, summary="Event types"
)
def event_types(request: HttpRequest) -> list[dict[str, str]]:
    actor_of(request)
    return [
        {"name": t.name, "label": str(t.label), "description": str(t.description)}
        for t in sorted(EVENT_TYPES.values(), key=lambda t: t.name)
    ]
