"""The whole ``siyu demo`` build (every app's generator, a small year of history), checked app
by app: orders and payments, community, distribution's ledger, group-buys, bargains, the
analytics facts.

The demo is built once for this module (``whole_demo``, in a transaction rolled back after the
module's last test; each test runs in its own savepoint, rolled back after it): building it is
the slow part, and every test here reads the same build. The generators' own tests, on small
hand-made shops, stay beside each app (``tests/<app>/test_demo.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

import pytest
from django.core.cache import cache
from django.db.models import Q, Sum
from django.test import TestCase, override_settings

from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink, Sale
from siyu.community.models import GroupMember
from siyu.core import clock
from siyu.core.demo import Login
from siyu.core.management.commands.demo import build_demo
from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.core.testing import shared_rows
from siyu.customers import windows
from siyu.customers.models import Customer, CustomerAddress
from siyu.customers.segments import count_matching
from siyu.distribution import commission, guide_commission, ledger, selectors
from siyu.distribution.models import (
    Binding,
    BindingChange,
    CommissionEntry,
    Distributor,
    GuideCommissionEntry,
    Withdrawal,
)
from siyu.orders.models import Order, OrderLine, ShippingSettings
from siyu.payments.models import Refund
from siyu.referrals.models import Referral

from .bargain.test_demo import check as check_bargains
from .groupbuy.test_demo import check as check_group_buys
from .orders.test_demo import check_invariants

pytestmark = pytest.mark.django_db

SEED = 5
CUSTOMERS = 400


@dataclass(frozen=True)
class Built:
    merchant_id: int
    logins: list[Login]


@pytest.fixture(scope="module")
def whole_demo(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    media = tmp_path_factory.mktemp("whole-demo") / "media"

    def build() -> Built:
        cache.clear()
        # as tests/conftest.py's _isolated_media_and_cache sets for each test: media in a
        # temporary directory, payment notifications to a closed port. `siyu demo` commits,
        # which runs what the generators left for after the commit (refunds sent to the
        # sandbox provider): so does this build.
        with (
            override_settings(MEDIA_ROOT=media, PUBLIC_URL="http://127.0.0.1:9"),
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            merchant, logins, _seconds = build_demo(
                seed=SEED, progress=False, options={"customers": CUSTOMERS}
            )
        # What the worker does next: the events of that after-commit work (the refunds'
        # completion) reach their consumers (the sales facts, the order windows). Waking the
        # dispatcher is throttled to once a second, so some are left to the worker's sweep.
        while dispatch_pending().dispatched:
            pass
        return Built(merchant.pk, logins)

    with shared_rows(django_db_blocker, build) as built:
        yield built


@pytest.fixture
def demo(whole_demo: Built) -> Merchant:
    """The demo merchant, read afresh by each test."""
    return Merchant.objects.get(pk=whole_demo.merchant_id)


# --- customers, orders, payments -------------------------------------------------------------


def test_the_demo_writes_customers_and_a_year_of_orders(demo: Merchant) -> None:
    merchant = demo
    with merchant_context(merchant):
        # the bargain demo adds a few people who signed up to help cut a friend's price
        signed_up = Customer.objects.filter(join_channel="bargain").count()
        assert 0 < signed_up <= 10
        generated = Customer.objects.exclude(phone__startswith="+861380000000").exclude(
            join_channel="bargain"
        )
        assert generated.count() == CUSTOMERS
        orders = Order.objects.count()
        assert 4 * CUSTOMERS <= orders <= 12 * CUSTOMERS  # about 7.5 each
        statuses = Counter(Order.objects.values_list("status", flat=True))
        assert statuses["completed"] > 0.9 * orders
        assert statuses["cancelled"] > 0
        assert statuses["paid"] + statuses["preparing"] + statuses["ready_for_pickup"] >= 8
        assert Refund.objects.count() > 0
        channels = set(generated.values_list("join_channel", flat=True))
        assert channels == {"store_qr", "storefront", "group", "guide"}
        assert CustomerAddress.objects.filter(customer__in=generated).exists()
        rule = ShippingSettings.objects.get()
        assert (rule.flat_fee, rule.free_over) == (600, 5_000)
        # the kept order windows are built, and agree with grouping the orders
        today = windows.local_today(clock.now(), merchant.time_zone)
        assert windows.state_day(merchant.pk) == today
        recent = {"field": "spent_in_days", "op": "gte", "value": 1, "days": 30}
        kept = count_matching(recent)
        with mock.patch.object(windows, "kept", return_value=False):
            assert count_matching(recent) == kept > 0
    check_invariants(merchant)


# --- distribution ----------------------------------------------------------------------------


def recomputed(model, earner):
    """Each earner's (earned, settled) from the raw entries, and every slot checked against the
    calculator: a line's pending + reversals = the commission of what was finally kept."""
    refunded = dict(OrderLine.unscoped.values_list("pk", "refunded_amount"))
    slots = defaultdict(int)
    bases = {}
    sums = defaultdict(lambda: [0, 0])
    for e in model.unscoped.all():
        who = getattr(e, earner)
        if e.kind == "pending":
            bases[e.order_line_id] = commission.Basis(
                e.order_line_id, 1, e.rule_kind, e.rate_bp, e.fixed_fen, e.quantity, e.base_amount
            )
        if e.kind != "settled":
            slots[e.order_line_id] += e.amount
            sums[who][0] += e.amount
        if e.kind == "settled" or e.from_settled:
            sums[who][1] += e.amount
    for line_id, total in slots.items():
        assert total == commission.commission(bases[line_id], refunded[line_id]), line_id
    return sums


def test_the_demo_builds_distribution_with_a_ledger_the_real_code_agrees_with(
    demo: Merchant, whole_demo: Built
) -> None:
    merchant, logins = demo, whole_demo.logins
    assert any(login.role == "customer" and "/distributor/" in login.note for login in logins)
    with merchant_context(merchant):
        statuses = set(Distributor.objects.values_list("status", flat=True))
        assert statuses == {"approved", "applied", "rejected", "suspended"}
        assert Distributor.objects.count() >= 20
        assert Binding.objects.exists()
        # attributed as checkout would: a bound customer's order placed since the binding
        bound = {b.customer_id: b for b in Binding.objects.select_related("distributor")}
        attributed = list(Order.objects.filter(distributor_id__isnull=False))
        assert attributed
        for order in attributed:
            binding = bound[order.customer_id]
            assert order.distributor_id == binding.distributor_id
            assert order.placed_at >= binding.since
        first = Distributor.objects.order_by("pk").first()
        assert first is not None
        assert first.status == "approved"

        sums = recomputed(CommissionEntry, "distributor_id")
        kinds = set(CommissionEntry.objects.values_list("kind", flat=True))
        assert kinds == {"pending", "settled", "reversed"}
        for distributor in Distributor.objects.all():
            b = selectors.balances(distributor)
            earned, settled = sums.get(distributor.pk, (0, 0))
            assert (b.earned, b.settled) == (earned, settled)
            assert b.available >= 0
        # the real code finds nothing to add: no reversal missing, nothing left to settle
        for order in attributed:
            assert ledger.sync_order_commission(order.pk, cause="replay") == 0
        assert ledger.settle_merchant(merchant, now=clock.now()) == 0
        assert set(Withdrawal.objects.values_list("status", flat=True)) == {
            "requested",
            "approved",
            "rejected",
            "paid",
        }

        recomputed(GuideCommissionEntry, "guide_id")
        guided = GuideCommissionEntry.objects.values_list("order_id", flat=True).distinct()
        assert guided.exists()
        for order_id in guided:
            assert guide_commission.sync_order_guide_commission(order_id, cause="replay") == 0
        assert guide_commission.settle_guides_of(merchant, now=clock.now()) == 0
        settled = GuideCommissionEntry.objects.filter(
            Q(kind="settled") | Q(kind="reversed", from_settled=True)
        ).aggregate(s=Sum("amount"))["s"]
        assert settled is not None
        assert settled > 0


# --- group-buys and bargains -----------------------------------------------------------------


def test_the_whole_demo_builds_with_group_buys(demo: Merchant) -> None:
    check_group_buys(demo)


def test_the_whole_demo_builds_with_bargains(demo: Merchant) -> None:
    check_bargains(demo)


# --- analytics -------------------------------------------------------------------------------


def test_the_demo_writes_the_facts_of_its_history(demo: Merchant) -> None:
    merchant = demo
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
