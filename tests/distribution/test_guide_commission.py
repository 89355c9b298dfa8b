"""Shopping guides' commission: pending on paid, reversed on refunds, settled after the return
window; the staff API and the workbench card."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from siyu.catalog.testing import make_category
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import DomainEvent
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client, login, make_staff
from siyu.distribution import guide_commission, guide_selectors
from siyu.distribution.consumers import order_commission  # noqa: F401  (both consumers run)
from siyu.distribution.guide_consumers import order_guide_commission
from siyu.distribution.models import GuideCommissionEntry
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders import services as orders
from siyu.orders.models import OrderLine
from siyu.orders.testing import make_order, make_shop

pytestmark = pytest.mark.django_db


def guide_ledger(order):
    return [
        (e.guide_id, e.kind, e.amount, e.from_settled)
        for e in GuideCommissionEntry.unscoped.filter(order=order).order_by("id")
    ]


def guided_order(merchant, guide, **fields):
    order = make_order(merchant, attribution={"guide_id": guide.pk}, **fields)
    dispatch_pending()
    return order


def refund(order, amount, reference, *, quantity=0):
    line = OrderLine.unscoped.filter(order=order).get()
    with merchant_context(order.merchant):
        orders.apply_refund(
            order,
            lines=[(line.pk, quantity, amount)],
            amount=amount,
            restock=False,
            reference=reference,
        )
    dispatch_pending()


def set_guide_rate(merchant, **rule):
    with merchant_context(merchant):
        return guide_commission.set_guide_rule(Actor.system(merchant), **rule)


@pytest.fixture
def guide(bound):
    set_guide_rate(bound, scope="default", kind="percent", rate_bp=300)  # 3 %
    return make_staff(bound, Role.SHOPPING_GUIDE)


def test_pay_refund_settle_and_refund_after_settlement(bound, guide):
    order = guided_order(bound, guide, status="completed", shop=make_shop(bound, price=10_000))
    assert guide_ledger(order) == [(guide.pk, "pending", 300, False)]
    paid = DomainEvent.unscoped.get(event_type="orders.order.paid")
    with merchant_context(bound):
        order_guide_commission(paid)  # a replay adds nothing
    assert len(guide_ledger(order)) == 1
    refund(order, 2500, "R1")
    refund(order, 2500, "R1")  # the same refund again: nothing more
    assert guide_ledger(order)[1:] == [(guide.pk, "reversed", -75, False)]
    with merchant_context(bound):
        b = guide_selectors.balances(guide)
    assert (b.earned, b.pending, b.settled) == (225, 225, 0)
    assert guide_commission.settle_guides_of(bound, now=clock.now() + timedelta(days=6)) == 0
    assert guide_commission.settle_guides_due(now=clock.now() + timedelta(days=8)) == 1
    assert guide_commission.settle_guides_due(now=clock.now() + timedelta(days=9)) == 0  # once
    with merchant_context(bound):
        b = guide_selectors.balances(guide)
    assert (b.earned, b.pending, b.settled) == (225, 0, 225)
    refund(order, 7500, "R2")  # the rest, after settlement
    assert guide_ledger(order)[-1] == (guide.pk, "reversed", -225, True)
    with merchant_context(bound):
        b = guide_selectors.balances(guide)
    assert (b.earned, b.pending, b.settled) == (0, 0, 0)


def test_a_guide_and_a_distributor_each_earn_under_their_own_rules(bound, guide):
    set_default_rate(bound, 1000)
    seller = make_distributor(bound)
    order = distributed_order(
        bound,
        seller,
        status="paid",
        shop=make_shop(bound, price=20_000),
        attribution={"guide_id": guide.pk},
    )
    assert guide_ledger(order) == [(guide.pk, "pending", 600, False)]
    from siyu.distribution.testing import ledger

    assert ledger(order) == [(seller.pk, 1, "pending", 2000, False)]


def test_category_product_and_fixed_rules(bound, guide):
    cat = make_category(bound, "Beans")
    shop = make_shop(bound, price=5_000)
    with merchant_context(bound):
        shop.product.category = cat
        shop.product.save(update_fields=["category"])
    set_guide_rate(bound, scope="category", kind="percent", rate_bp=500, category_id=cat.pk)
    order = guided_order(bound, guide, status="paid", shop=shop, quantity=2)
    assert guide_ledger(order) == [(guide.pk, "pending", 500, False)]  # 5 % of ¥100
    set_guide_rate(bound, scope="product", kind="fixed", fixed_fen=120, product_id=shop.product.pk)
    second = guided_order(bound, guide, status="paid", shop=shop, quantity=2)
    assert guide_ledger(second) == [(guide.pk, "pending", 240, False)]
    refund(second, 5_000, "HALF", quantity=1)
    assert guide_ledger(second)[-1] == (guide.pk, "reversed", -120, False)


def test_no_guide_an_inactive_guide_or_no_rule_earns_nothing(bound, guide):
    assert guide_ledger(make_order(bound, status="paid")) == []
    guide.is_active = False
    guide.save(update_fields=["is_active"])
    assert guide_ledger(guided_order(bound, guide, status="paid")) == []


def test_bad_rules_are_422_by_field(bound):
    from siyu.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as bad, merchant_context(bound):
        guide_commission.set_guide_rule(
            Actor.system(bound), scope="category", kind="percent", rate_bp=20_000, category_id=999
        )
    assert set(bad.value.fields) == {"rate_bp", "category_id"}


def test_the_staff_api_sets_rules_and_shows_balances_and_the_ledger(bound):
    client = api_client(bound)
    guide = make_staff(bound, Role.SHOPPING_GUIDE)
    put = client.put(
        "/api/v1/distribution/guide-commission/rules",
        data=json.dumps({"scope": "default", "kind": "percent", "rate_bp": 200}),
        content_type="application/json",
    )
    assert put.status_code == 200, put.json()
    bad = client.put(
        "/api/v1/distribution/guide-commission/rules",
        data=json.dumps({"scope": "product", "kind": "fixed", "fixed_fen": -1}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert {"fixed_fen", "product_id"} <= set(bad.json()["fields"])
    guided_order(bound, guide, status="paid", shop=make_shop(bound, price=10_000))
    balances = client.get("/api/v1/distribution/guide-commission/balances").json()
    assert [(b["guide_id"], b["earned"], b["pending"], b["settled"]) for b in balances] == [
        (guide.pk, 200, 200, 0)
    ]
    entries = client.get(f"/api/v1/distribution/guide-commission/ledger?guide_id={guide.pk}")
    assert [(e["kind"], e["amount"]) for e in entries.json()["items"]] == [("pending", 200)]
    rule_id = put.json()["id"]
    assert (
        client.delete(f"/api/v1/distribution/guide-commission/rules/{rule_id}").status_code == 204
    )
    assert client.get("/api/v1/distribution/guide-commission/rules").json() == []
    viewer = api_client(bound, Role.SHOPPING_GUIDE)
    assert viewer.get("/api/v1/distribution/guide-commission/rules").status_code == 403


def test_the_workbench_shows_the_guides_own_commission(bound, guide):
    guided_order(bound, guide, status="paid", shop=make_shop(bound, price=10_000))
    other = make_staff(bound, Role.SHOPPING_GUIDE)
    page = login(guide).get("/guide/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="guide-commission"' in page
    assert '<b data-testid="guide-pending">¥3.00</b>' in page
    theirs = login(other).get("/guide/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<b data-testid="guide-pending">¥0.00</b>' in theirs
