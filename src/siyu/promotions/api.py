"""Promotions API (``/api/v1/promotions``): coupon templates and issued coupons, for staff.

Amounts are fen, shares basis points (1500 = 15 %). Bad input is 422 naming each field.
(No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import NotFound
from siyu.core.permissions import Perm
from siyu.promotions import selectors, templates_admin
from siyu.promotions.models import Coupon, CouponTemplate

router = Router(tags=["promotions"])

Kind = Literal["fixed", "percent", "threshold", "free_shipping"]


class TemplateFields(Schema):
    description: str = ""
    amount: int = Field(0, description="Fen off (`fixed`, `threshold`).")
    percent_bp: int = Field(0, description="Basis points off (`percent`): 1500 = 15 %.")
    cap: int | None = Field(None, description="The most a `percent` coupon takes off, fen.")
    threshold: int = Field(0, description="Eligible goods needed, fen (0: none).")
    validity: Literal["dates", "days"] = "days"
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = Field(7, description="Days after claiming (`validity=days`).")
    per_customer_limit: int = 1
    audience: Literal["everyone", "new", "tag", "segment"] = "everyone"
    audience_tag_id: int | None = None
    audience_segment_id: int | None = None
    scope: Literal["all", "categories", "products"] = "all"
    scope_ids: list[int] = Field(default_factory=list, description="Category or product ids.")
    stackable: bool = False
    issue_on_group_join: bool = False
    issue_on_first_order: bool = False


class TemplateIn(TemplateFields):
    name: str
    kind: Kind
    total_quantity: int


class TemplatePatch(Schema):
    name: str | None = None
    description: str | None = None
    total_quantity: int | None = None
    per_customer_limit: int | None = None
    issue_on_group_join: bool | None = None
    issue_on_first_order: bool | None = None
    kind: Kind | None = None
    amount: int | None = None
    percent_bp: int | None = None
    cap: int | None = None
    threshold: int | None = None
    validity: Literal["dates", "days"] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = None
    audience: Literal["everyone", "new", "tag", "segment"] | None = None
    audience_tag_id: int | None = None
    audience_segment_id: int | None = None
    scope: Literal["all", "categories", "products"] | None = None
    scope_ids: list[int] | None = None
    stackable: bool | None = None


class TemplateOut(TemplateFields):
    id: int
    name: str
    kind: str
    total_quantity: int
    remaining: int
    issued_count: int
    used_count: int
    status: str
    starts_at: datetime | None = Field(None, description="When a `scheduled` template starts.")
    summary: str = Field(description="What it gives, in words of the request's language.")
    claim_path: str = Field(description="The storefront's claim page (coupon cards open it).")
    created_at: datetime

    @staticmethod
    def resolve_summary(obj: CouponTemplate) -> str:
        return selectors.summary(obj, obj.merchant.currency)

    @staticmethod
    def resolve_claim_path(obj: CouponTemplate) -> str:
        return f"/s/{obj.merchant.slug}/coupons/{obj.pk}/"


class StatusIn(Schema):
    status: Literal["active", "paused", "ended", "scheduled", "draft"]
    starts_at: datetime | None = Field(
        None, description="With `scheduled`: when it starts (a time in the future)."
    )


class IssueIn(Schema):
    customer_id: int
    client_key: str = Field("", description="A retry with the same key issues once.")


class CouponOut(Schema):
    id: int
    template_id: int
    customer_id: int
    code: str
    source: str
    status: str
    claimed_at: datetime
    valid_from: datetime
    valid_until: datetime
    order_id: int | None
    used_at: datetime | None


class CouponFilters(Schema):
    template_id: int | None = None
    customer_id: int | None = None
    status: Literal["available", "used", "expired", "revoked"] | None = None


def _template(pk: int) -> CouponTemplate:
    template = CouponTemplate.objects.select_related("merchant").filter(pk=pk).first()
    if template is None:
        raise NotFound("Not found.")
    return template


@router.get(
    "/templates",
    response={200: list[TemplateOut], **ERROR_RESPONSES},
    summary="Coupon templates",
    description="Newest first; `status` keeps one status.",
)
@paginate(Page)
def list_templates(request: HttpRequest, status: str | None = None) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    found = CouponTemplate.objects.select_related("merchant")
    if status:
        found = found.filter(status=status)
    return found.order_by("-created_at", "-id")


@router.post(
    "/templates",
    response={201: TemplateOut, **ERROR_RESPONSES},
    summary="Create a coupon template (a draft)",
    description="`fixed`: `amount` off; `percent`: `percent_bp` off, at most `cap`; "
    "`threshold` (满减): `amount` off from `threshold`; `free_shipping`: the delivery fee. "
    "Bad input is 422 naming each field.",
)
def create_template(request: HttpRequest, payload: TemplateIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    template = templates_admin.create_template(actor, payload.dict())
    return Status(201, _template(template.pk))


@router.get(
    "/templates/{template_id}",
    response={200: TemplateOut, **ERROR_RESPONSES},
    summary="A coupon template",
)
def get_template(request: HttpRequest, template_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return _template(template_id)


@router.patch(
    "/templates/{template_id}",
    response={200: TemplateOut, **ERROR_RESPONSES},
    summary="Change a coupon template",
    description="A draft: any field. Once started: `name`, `description`, `total_quantity` "
    "(never below what was issued), `per_customer_limit` and the automatic-issue switches; "
    "other fields are 422.",
)
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    changes = payload.dict(exclude_unset=True)
    templates_admin.update_template(actor, template_id, changes)
    return _template(template_id)


@router.post(
    "/templates/{template_id}/status",
    response={200: TemplateOut, **ERROR_RESPONSES},
    summary="Schedule, start, pause, resume or end a coupon template",
    description="`scheduled` with `starts_at` starts a draft later (claims open then); `draft` "
    "unschedules it; `active` starts a draft or a scheduled one now, or resumes a paused one; "
    "`paused` stops claims and use of its coupons; `ended` stops claims for good (issued "
    "coupons stay usable until their own validity ends). Other moves are 409 `bad_status`.",
)
def set_status(request: HttpRequest, template_id: int, payload: StatusIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    if payload.status == "scheduled":
        templates_admin.schedule(actor, template_id, payload.starts_at)
    else:
        templates_admin.set_status(actor, template_id, payload.status)
    return _template(template_id)


@router.post(
    "/templates/{template_id}/issue",
    response={201: CouponOut, **ERROR_RESPONSES},
    summary="Give a customer a coupon",
    description="Any audience (staff decide), within the quantity (409 `sold_out`) and the "
    "per-customer limit (422 `template_id`).",
)
def issue(request: HttpRequest, template_id: int, payload: IssueIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    coupon = templates_admin.issue(
        actor, template_id, payload.customer_id, client_key=payload.client_key
    )
    return Status(201, coupon)


@router.get(
    "/coupons",
    response={200: list[CouponOut], **ERROR_RESPONSES},
    summary="Issued coupons",
    description="Newest first; filter by `template_id`, `customer_id`, `status`.",
)
@paginate(Page)
def list_coupons(request: HttpRequest, filters: Query[CouponFilters]) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    found = Coupon.objects.all()
    if filters.template_id is not None:
        found = found.filter(template_id=filters.template_id)
    if filters.customer_id is not None:
        found = found.filter(customer_id=filters.customer_id)
    if filters.status:
        found = found.filter(status=filters.status)
    return found.order_by("-claimed_at", "-id")
