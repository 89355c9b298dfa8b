"""The demo fills the fact tables from its year of history (a small demo, as other demo tests)."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink, Sale
from siyu.community.models import GroupMember
from siyu.core import clock
from siyu.core.management.commands.demo import build_demo
from siyu.distribution.models import BindingChange
from siyu.orders.models import Order
from siyu.referrals.models import Referral

pytestmark = pytest.mark.django_db


def test_the_demo_writes_the_facts_of_its_history(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    merchant, _logins, _seconds = build_demo(seed=7, progress=False, options={"customers": 200})
    paid = Order.unscoped.filter(merchant=merchant, paid_at__isnull=False)
    assert paid.count() > 200
    sales = Sale.unscoped.filter(merchant=merchant)
    assert sales.count() == paid.count()
    assert sales.aggregate(a=Sum("amount"), r=Sum("refunded")) == {
        "a": paid.aggregate(s=Sum("total"))["s"],
        "r": paid.aggregate(s=Sum("refunded_total"))["s"],
    }
    assert sales.filter(refunded__gt=0).exists()
    ordered_days = {
        (customer_id, clock.local(placed_at, merchant.time_zone).date())
        for customer_id, placed_at in paid.values_list("customer_id", "placed_at")
    }
    flagged = set(
        ActiveDay.unscoped.filter(merchant=merchant, kinds__in=range(1, 16, 2)).values_list(
            "customer_id", "day"
        )
    )
    assert flagged == ordered_days
    members = GroupMember.unscoped.filter(merchant=merchant)
    assert members.exists()
    assert GroupSpan.unscoped.filter(merchant=merchant).count() == members.count()
    invitees = set(
        Referral.unscoped.filter(merchant=merchant)
        .exclude(status="blocked")
        .values_list("invitee_id", flat=True)
    ) | set(BindingChange.unscoped.filter(merchant=merchant).values_list("customer_id", flat=True))
    links = set(
        ReferralLink.unscoped.filter(merchant=merchant).values_list("invitee_id", flat=True)
    )
    assert links
    assert links == invitees
