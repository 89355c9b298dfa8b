"""The coupon demo generator: templates of every kind and status, a year of claims, historical
uses not attached to orders, and real orders placed with coupons whose discount is in their
pricing."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.permissions import Role
from siyu.core.testing import make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.orders.models import Order
from siyu.orders.testing import make_shop
from siyu.promotions import demo, results
from siyu.promotions.checkout import discounts_by_code
from siyu.promotions.models import Coupon, CouponTemplate

pytestmark = pytest.mark.django_db


def test_demo_seeds_templates_a_year_of_claims_and_real_orders_with_coupons(bound):
    merchant = bound
    owner = Actor.for_membership(make_staff(merchant, Role.OWNER))
    make_shop(merchant, price=3000, quantity=300)
    for _n in range(80):
        make_customer(merchant)
    Customer.objects.update(created_at=clock.now() - timedelta(days=400))
    steps: list[int] = []
    demo.seed(DemoContext(merchant, owner, random.Random(7), advance=steps.append))
    assert sum(steps) == demo.STEPS

    statuses = sorted(CouponTemplate.objects.values_list("status", flat=True))
    assert statuses == ["active", "active", "active", "ended", "paused", "scheduled"]
    assert set(CouponTemplate.objects.values_list("kind", flat=True)) == {
        "fixed",
        "threshold",
        "percent",
        "free_shipping",
    }
    coupons = Coupon.objects.all()
    oldest = min(coupons.values_list("claimed_at", flat=True))
    assert oldest < clock.now() - timedelta(days=150)  # spread over the year
    for template in CouponTemplate.objects.all():
        mine = coupons.filter(template=template)
        assert template.issued_count == mine.count()
        assert template.used_count == mine.filter(status="used").count()
        assert template.remaining == template.total_quantity - template.issued_count
        assert mine.values("customer_id").distinct().count() == mine.count()
    # historical uses: used after they were claimed, within their validity, no order
    history = coupons.filter(status="used", order__isnull=True)
    assert history.exists()
    for coupon in history:
        assert coupon.claimed_at <= coupon.used_at <= coupon.valid_until
        assert coupon.discount == 0
    # real orders: the coupon's discount is the one in the order's pricing, and they are paid
    real = list(coupons.filter(status="used", order__isnull=False).select_related("order"))
    assert len(real) == demo.REAL_ORDERS
    for coupon in real:
        given = discounts_by_code(coupon.order)
        assert coupon.discount == given[f"coupon:{coupon.pk}"] > 0
        assert coupon.order.discount_total >= coupon.discount
        assert coupon.order.paid_at is not None
    running = CouponTemplate.objects.get(name="满100减20")
    figures = results.template_results(running)
    assert figures.orders > 0
    assert figures.sales > 0
    assert figures.discount == 2000 * figures.orders
    assert CouponTemplate.objects.get(status="scheduled").starts_at > clock.now()
    # a new-customer coupon was claimed before its holder's first paid order
    for coupon in coupons.filter(template__audience="new"):
        first = (
            Order.objects.filter(customer_id=coupon.customer_id, paid_at__isnull=False)
            .order_by("paid_at")
            .first()
        )
        assert first is None or coupon.claimed_at < first.paid_at
