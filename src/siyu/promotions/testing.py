"""Test factories of promotions."""

from __future__ import annotations

from typing import Any

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.promotions.models import CouponTemplate


def make_template(
    merchant: Merchant,
    *,
    kind: str = CouponTemplate.Kind.FIXED,
    amount: int = 500,
    quantity: int = 100,
    per_customer_limit: int = 1,
    status: str = CouponTemplate.Status.ACTIVE,
    **fields: Any,
) -> CouponTemplate:
    """An active template of ``quantity`` coupons (¥5 off, valid 7 days after claiming)."""
    fields.setdefault("name", "¥5 off")
    fields.setdefault("validity", CouponTemplate.Validity.DAYS)
    if fields["validity"] == CouponTemplate.Validity.DAYS:
        fields.setdefault("valid_days", 7)
    with merchant_context(merchant):
        return CouponTemplate.objects.create(
            kind=kind,
            amount=amount,
            total_quantity=quantity,
            remaining=quantity,
            per_customer_limit=per_customer_limit,
            status=status,
            **fields,
        )
