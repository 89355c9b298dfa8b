"""Background work of promotions (django.tasks): expiring coupons past their validity,
starting scheduled coupon templates."""

from __future__ import annotations

from django.tasks import task

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.promotions.models import Coupon


@task()
def expire_coupons() -> int:
    """Every 10 minutes: unused coupons past their validity become expired, per merchant."""
    from siyu.promotions.services import expire_due

    now = clock.now()
    merchant_ids = (
        Coupon.unscoped.filter(status=Coupon.Status.AVAILABLE, valid_until__lte=now)
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    expired = 0
    for merchant in Merchant.objects.filter(pk__in=list(merchant_ids)).order_by("pk"):
        with merchant_context(merchant):
            expired += expire_due(now)
    return expired


@task()
def start_scheduled_templates() -> int:
    """Every minute: scheduled coupon templates whose start time has come start, per merchant."""
    from siyu.promotions.models import CouponTemplate
    from siyu.promotions.templates_admin import start_due

    now = clock.now()
    merchant_ids = (
        CouponTemplate.unscoped.filter(status=CouponTemplate.Status.SCHEDULED, starts_at__lte=now)
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    started = 0
    for merchant in Merchant.objects.filter(pk__in=list(merchant_ids)).order_by("pk"):
        with merchant_context(merchant):
            started += start_due(now)
    return started
