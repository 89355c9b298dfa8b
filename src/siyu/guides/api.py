"""Guides API (``/api/v1/guides``): the workbench's data for the signed-in guide (my
customers, tasks, performance) and the operators' transfers, materials and settings.

The workbench endpoints act as the calling staff member's own membership (an API key
has none: 403). (No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import Forbidden
from siyu.core.models import Membership
from siyu.core.permissions import Perm
from siyu.guides import followups, selectors, services
from siyu.guides.models import GuideTask, Transfer

router = Router(tags=["guides"])


def _me(request: HttpRequest) -> Membership:
    actor = actor_of(request, Perm.WORKBENCH_USE)
    if actor.membership is None:
        raise Forbidden("The workbench is for staff members, not API keys.", code="not_staff")
    return actor.membership


class MyCustomerOut(Schema):
    id: int
    name: str
    phone: str
    owner_since: datetime | None
    order_count: int
    total_spent: int = Field(description="Paid minus refunded, in fen.")
    last_order_at: datetime | None


class CustomerFilters(Schema):
    q: str = Field("", description="Name, or three digits or more of the phone.")
    tag: int | None = None
    segment: int | None = None


@router.get(
    "/me/customers", response={200: list[MyCustomerOut], **ERROR_RESPONSES}, summary="My customers"
)
@paginate(Page)
def my_customers(request: HttpRequest, filters: Query[CustomerFilters]) -> Any:
    return selectors.my_customers(
        _me(request), q=filters.q, tag_id=filters.tag, segment_id=filters.segment
    )


class TaskOut(Schema):
    id: int
    customer_id: int
    kind: str = Field(description="`new_customer`, `birthday` or `dormant`.")
    due_on: date
    status: str = Field(description="`open`, `done` or `skipped`.")
    note: str
    finished_at: datetime | None


@router.get("/me/tasks", response={200: list[TaskOut], **ERROR_RESPONSES}, summary="My open tasks")
def my_tasks(request: HttpRequest) -> Any:
    me = _me(request)
    tasks = selectors.my_tasks(me, selectors.today_for(me.merchant))
    return tasks["overdue"] + tasks["today"] + tasks["soon"]


class FinishIn(Schema):
    status: Literal["done", "skipped"]
    note: str = Field("", max_length=200)


@router.post(
    "/me/tasks/{task_id}/finish",
    response={200: TaskOut, **ERROR_RESPONSES},
    summary="Mark a task done or skipped",
)
def finish_task(request: HttpRequest, task_id: int, body: FinishIn) -> GuideTask:
    return followups.finish_task(_me(request), task_id, body.status, body.note)


class PerformanceOut(Schema):
    period: str
    start: date
    end: date
    customers_owned: int
    customers_added: int
    active_customers: int
    attributed_orders: int
    attributed_sales: int = Field(description="Paid minus refunded, in fen.")
    tasks_done: int
    tasks_skipped: int
    tasks_overdue: int
    completion_rate: float | None


@router.get(
    "/me/performance",
    response={200: PerformanceOut, **ERROR_RESPONSES},
    summary="My performance over a period",
)
def my_performance(
    request: HttpRequest, period: Literal["today", "7d", "30d", "month"] = "7d"
) -> Any:
    return selectors.performance(_me(request), period)


@router.post(
    "/me/materials/{material_id}/shared",
    response={200: dict[str, bool], **ERROR_RESPONSES},
    summary="Mark a material as shared today",
)
def material_shared(request: HttpRequest, material_id: int) -> dict[str, bool]:
    from siyu.guides import materials

    return {"counted": materials.mark_shared(_me(request), material_id)}


# --- operators -------------------------------------------------------------------------


class TransferIn(Schema):
    from_guide: int
    to_guide: int
    kind: Literal["departure", "in_service"]
    reason: str = Field(max_length=200)
    message: str = Field("", max_length=500)
    customer_ids: list[int] | None = Field(None, description="Empty: all the guide's customers.")
    include_groups: bool = True


class TransferOut(Schema):
    id: int
    from_guide_id: int
    to_guide_id: int
    kind: str
    reason: str
    message: str
    status: str = Field(description="`queued`, `running` or `done`.")
    total: int
    processed: int
    customers_moved: int
    customers_refused: int
    groups_moved: int
    refused: list[dict[str, Any]] = Field(
        description="Refused customers: `customer_id`, `name`, `transfers` in the window, "
        "`reason` (`transfer_limit`), `released` (left without a guide on departure)."
    )
    created_by: str
    created_at: datetime
    finished_at: datetime | None


@router.post(
    "/transfers",
    response={201: TransferOut, **ERROR_RESPONSES},
    summary="Transfer a guide's customers and groups",
)
def create_transfer(request: HttpRequest, body: TransferIn) -> Status:
    actor = actor_of(request, Perm.GUIDES_MANAGE)
    transfer = services.transfer_customers(
        actor,
        from_guide=services.find_guide(actor.merchant, body.from_guide, "from_guide"),
        to_guide=services.find_guide(actor.merchant, body.to_guide, "to_guide"),
        kind=body.kind,
        reason=body.reason,
        message=body.message,
        customer_ids=body.customer_ids,
        include_groups=body.include_groups,
    )
    return Status(201, transfer)


@router.get("/transfers", response={200: list[TransferOut], **ERROR_RESPONSES}, summary="Transfers")
@paginate(Page)
def list_transfers(request: HttpRequest) -> Any:
    actor_of(request, Perm.GUIDES_MANAGE)
    return selectors.transfers()


@router.get(
    "/transfers/{transfer_id}",
    response={200: TransferOut, **ERROR_RESPONSES},
    summary="One transfer and its progress",
)
def get_transfer(request: HttpRequest, transfer_id: int) -> Transfer:
    actor_of(request, Perm.GUIDES_MANAGE)
    return selectors.transfer(transfer_id)


class MaterialOut(Schema):
    id: int
    title: str
    text: str
    product_id: int | None
    is_active: bool
    share_count: int
    images: list[str] = Field(description="Image URLs, in order.")
    created_at: datetime

    @staticmethod
    def resolve_images(obj: Any) -> list[str]:
        return [img.image.url for img in obj.images.all()]


@router.get("/materials", response={200: list[MaterialOut], **ERROR_RESPONSES}, summary="Materials")
@paginate(Page)
def list_materials(request: HttpRequest) -> Any:
    actor = actor_of(request, Perm.WORKBENCH_USE)
    return selectors.materials(published_only=not actor.can(Perm.GUIDES_MANAGE))


class MaterialUsageOut(Schema):
    guide_id: int
    guide_name: str
    shares: int = Field(description="Days the guide shared it.")
    last: datetime


@router.get(
    "/materials/{material_id}/usage",
    response={200: list[MaterialUsageOut], **ERROR_RESPONSES},
    summary="Which guides shared a material",
)
def material_usage(request: HttpRequest, material_id: int) -> Any:
    actor_of(request, Perm.GUIDES_MANAGE)
    return selectors.material_usage(selectors.material(material_id))


class SettingsIO(Schema):
    attribution_window_days: int
    transfer_limit: int
    transfer_window_days: int
    dormant_days: int


@router.get("/settings", response={200: SettingsIO, **ERROR_RESPONSES}, summary="Guide settings")
def get_settings(request: HttpRequest) -> Any:
    actor = actor_of(request, Perm.GUIDES_MANAGE)
    return services.guide_settings(actor.merchant)


@router.put(
    "/settings", response={200: SettingsIO, **ERROR_RESPONSES}, summary="Change guide settings"
)
def put_settings(request: HttpRequest, body: SettingsIO) -> Any:
    actor = actor_of(request, Perm.GUIDES_MANAGE)
    return services.update_settings(actor, body.model_dump())
