"""The distribution demo: distributors in every state, bindings, orders attributed as checkout
would, and a ledger (distributors' and guides') that the real code recomputes to the fen."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db.models import Q, Sum

from siyu.core import clock
from siyu.core.management.commands.demo import build_demo
from siyu.core.tenancy import merchant_context
from siyu.distribution import commission, guide_commission, ledger, selectors
from siyu.distribution.models import (
    Binding,
    CommissionEntry,
    Distributor,
    GuideCommissionEntry,
    Withdrawal,
)
from siyu.orders.models import Order, OrderLine

pytestmark = pytest.mark.django_db


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


def test_the_demo_builds_distribution_with_a_ledger_the_real_code_agrees_with(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    merchant, logins, _seconds = build_demo(seed=5, progress=False, options={"customers": 400})
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
