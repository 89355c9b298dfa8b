"""Storefront API of coupons (``/api/v1/storefront/{merchant_slug}/coupons``): a coupon's claim
view, claiming it, and my coupons (the ones usable at checkout first).
(No ``from __future__ import annotations``: django-ninja reads the annotations at run time.)
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from siyu.core.apikit import ERROR_RESPONSES
from siyu.core.errors import NotFound
from siyu.customers.apikit import CUSTOMER_AUTH, customer_of
from siyu.promotions import selectors, services
from siyu.promotions.models import Coupon, CouponTemplate

router = Router(tags=["storefront: coupons"], auth=CUSTOMER_AUTH)

MerchantSlug = Annotated[str, Path(description="The merchant's storefront slug.")]


class OfferOut(Schema):
    template_id: int
    name: str
    description: str
    summary: str = Field(description="What it gives, in the request's language.")
    kind: str
    validity: str
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None
    held: int = Field(description="How many of it I hold.")
    can_claim: bool
    problem: str = Field(description="Why I cannot claim it now (empty when I can).")


class ClaimIn(Schema):
    client_key: str = Field("", max_length=64, description="A retry with the same key claims once.")


class MyCouponOut(Schema):
    id: int
    template_id: int
    name: str
    summary: str
    code: str
    status: str = Field(description="`available`, `used`, `expired` or `revoked`.")
    valid_from: datetime
    valid_until: datetime
    order_id: int | None


class MyCouponsQuery(Schema):
    status: Literal["available", "used", "expired", "revoked"] | None = None


def _my_coupon(coupon: Coupon) -> dict[str, Any]:
    template = coupon.template
    return {
        "id": coupon.pk,
        "template_id": template.pk,
        "name": template.name,
        "summary": selectors.summary(template, template.merchant.currency),
        "code": coupon.code,
        "status": selectors.shown_status(coupon),
        "valid_from": coupon.valid_from,
        "valid_until": coupon.valid_until,
        "order_id": coupon.order_id,
    }


@router.get(
    "/offers/{template_id}",
    response={200: OfferOut, **ERROR_RESPONSES},
    summary="A coupon I may claim",
    description="What it gives, its validity, how many I hold and why I cannot claim it now.",
)
def offer(request: HttpRequest, merchant_slug: MerchantSlug, template_id: int) -> Any:
    customer = customer_of(request)
    template = CouponTemplate.objects.select_related("merchant").filter(pk=template_id).first()
    if template is None or template.status == CouponTemplate.Status.DRAFT:
        raise NotFound()
    view = selectors.claim_view(template, customer, template.merchant.currency)
    return {
        "template_id": template.pk,
        "name": template.name,
        "description": template.description,
        "summary": view.summary,
        "kind": template.kind,
        "validity": template.validity,
        "valid_from": template.valid_from,
        "valid_until": template.valid_until,
        "valid_days": template.valid_days,
        "held": view.held,
        "can_claim": view.can_claim,
        "problem": view.problem,
    }


@router.post(
    "/offers/{template_id}/claim",
    response={201: MyCouponOut, **ERROR_RESPONSES},
    summary="Claim a coupon",
    description="None left is 409 `sold_out`; not offered to me, my limit reached or ended is 422 "
    "on `template_id`. The same `client_key` answers the coupon its first claim issued.",
)
def claim(
    request: HttpRequest, merchant_slug: MerchantSlug, template_id: int, payload: ClaimIn
) -> Any:
    customer = customer_of(request)
    coupon = services.claim(template_id, customer, client_key=payload.client_key)
    coupon = Coupon.objects.select_related("template__merchant").get(pk=coupon.pk)
    return Status(201, _my_coupon(coupon))


@router.get(
    "",
    response={200: list[MyCouponOut], **ERROR_RESPONSES},
    summary="My coupons",
    description="Usable ones first, by the soonest to expire (at most 200). Use one at checkout "
    "with `coupon_id` on `POST …/cart/preview` and `POST …/orders`.",
)
def my_coupons(
    request: HttpRequest, merchant_slug: MerchantSlug, filters: Query[MyCouponsQuery]
) -> Any:
    customer = customer_of(request)
    found = selectors.customer_coupons(customer, filters.status).select_related(
        "template__merchant"
    )
    return [_my_coupon(c) for c in found[:200]]
