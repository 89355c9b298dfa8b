"""Coupons issued automatically: on joining a group, after the first paid order."""

from __future__ import annotations

import pytest

from siyu.community import services as community_services
from siyu.community.testing import make_group
from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.testing import make_customer
from siyu.orders.testing import make_order, make_shop
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.testing import make_template

pytestmark = pytest.mark.django_db


def test_joining_groups_issues_the_marked_templates_once(merchant: Merchant) -> None:
    owner = actor_for(merchant, Role.OWNER)
    welcome = make_template(merchant, name="Welcome", issue_on_group_join=True)
    make_template(merchant, name="Not marked")
    make_template(
        merchant, name="Paused", issue_on_group_join=True, status=CouponTemplate.Status.PAUSED
    )
    customer = make_customer(merchant)
    first, second = make_group(owner), make_group(owner)
    with merchant_context(merchant):
        community_services.join_group(customer, first)
        community_services.join_group(customer, second)
    dispatch_pending()
    dispatch_pending()
    with merchant_context(merchant):
        coupons = list(Coupon.objects.filter(customer=customer))
        assert [(c.template_id, c.source) for c in coupons] == [(welcome.pk, "group_join")]


def test_the_first_paid_order_issues_the_marked_template(merchant: Merchant) -> None:
    reward = make_template(merchant, name="Come back", issue_on_first_order=True, quantity=1)
    shop = make_shop(merchant)
    customer, other = make_customer(merchant), make_customer(merchant)
    make_order(merchant, status="pending_payment", customer=customer, shop=shop)
    dispatch_pending()
    with merchant_context(merchant):
        assert not Coupon.objects.exists()  # placed is not paid
    make_order(merchant, status="paid", customer=customer, shop=shop)
    make_order(merchant, status="paid", customer=customer, shop=shop)
    dispatch_pending()
    make_order(merchant, status="paid", customer=other, shop=shop)  # none left for them
    dispatch_pending()
    with merchant_context(merchant):
        coupons = list(Coupon.objects.all())
        assert [(c.customer_id, c.template_id, c.source) for c in coupons] == [
            (customer.pk, reward.pk, "first_order")
        ]
