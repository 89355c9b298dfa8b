"""Order windows kept per customer: what they hold, when segments read them, how they stay
current (order events, the daily roll, the nightly rebuild, a change of the catalogue's tree).
The property test in test_segments_properties.py checks them against the pure evaluator."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from siyu.catalog import services as catalog
from siyu.catalog.testing import make_category
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.customers import windows
from siyu.customers.crm_tasks import roll_order_windows
from siyu.customers.models import Customer, OrderWindow, OrderWindowState
from siyu.customers.segments import count_matching
from siyu.customers.testing import make_customer
from siyu.orders.models import Order
from siyu.orders.testing import Shop, make_order, make_shop
from siyu.payments import services as payments
from siyu.payments.testing import deliver_pending, make_paid_order

pytestmark = pytest.mark.django_db

SHANGHAI_NOON = datetime(2026, 6, 15, 4, 0, tzinfo=clock.zone("UTC"))  # 12:00 in Shanghai


def _order(merchant: Merchant, customer: Customer, shop: Shop, placed: datetime) -> Order:
    order = make_order(merchant, status="paid", customer=customer, shop=shop, paid_at=placed)
    Order.unscoped.filter(pk=order.pk).update(placed_at=placed)
    return order


def _state(merchant: Merchant) -> Any:
    return OrderWindowState.objects.filter(merchant=merchant).values_list("as_of", flat=True).get()


def _window(merchant: Merchant, customer: Customer, days: int, category: int = 0) -> Any:
    with merchant_context(merchant):
        return windows.window_of(customer.pk, days, category)


@pytest.fixture
def coffee(merchant: Merchant) -> Any:
    return make_category(merchant, "Coffee")


@pytest.fixture
def beans(merchant: Merchant, coffee: Any) -> Any:
    return make_category(merchant, "Beans", parent=coffee)


def test_a_rebuild_keeps_every_window_and_every_category_up_the_tree(
    merchant: Merchant, coffee: Any, beans: Any
) -> None:
    now = clock.now()
    shop = make_shop(merchant, price=1800, category_id=beans.pk)
    customer, other = make_customer(merchant), make_customer(merchant)
    for days_ago in (0, 20, 60, 200, 500):
        _order(merchant, customer, shop, now - timedelta(days=days_ago))
    _order(merchant, other, shop, now - timedelta(days=3))
    with merchant_context(merchant):
        windows.rebuild(merchant, now=now)
    assert _state(merchant) == windows.local_today(now, merchant.time_zone)
    expected = {7: 1, 30: 2, 90: 3, 180: 3, 365: 4, windows.ALL_TIME: 5}
    for days, orders in expected.items():
        assert _window(merchant, customer, days) == (orders, orders * 1800), days
        # the product's category and every category above it, orders only
        assert _window(merchant, customer, days, beans.pk) == (orders, 0), days
        assert _window(merchant, customer, days, coffee.pk) == (orders, 0), days
    assert _window(merchant, other, 7) == (1, 1800)
    assert OrderWindow.unscoped.filter(customer=other).count() == 6 * 3


def test_a_full_refund_keeps_no_order_and_a_partial_one_the_money_left(
    merchant: Merchant, beans: Any, django_capture_on_commit_callbacks: Any
) -> None:
    shop = make_shop(merchant, price=5000, category_id=beans.pk)
    customer = make_customer(merchant)
    with merchant_context(merchant):
        windows.rebuild(merchant)
    kept, refunded = (make_paid_order(merchant, customer=customer, shop=shop) for _ in "ab")
    dispatch_pending()  # the order events refresh the customer's rows
    assert _window(merchant, customer, 7) == (2, 10_000)
    owner = Actor.system(merchant)
    with django_capture_on_commit_callbacks(execute=True), merchant_context(merchant):
        payments.refund(owner, kept, amount=1200, reason="cold")
        payments.refund(owner, refunded, amount=5000, reason="spilt")
    deliver_pending()
    dispatch_pending()
    assert _window(merchant, customer, 7) == (1, 3800)
    assert _window(merchant, customer, 7, beans.pk)[0] == 1


def test_segments_read_the_rows_only_when_they_describe_today(merchant: Merchant) -> None:
    now = clock.now()
    shop = make_shop(merchant, price=2500)
    buyers = [make_customer(merchant) for _ in range(3)]
    for i, customer in enumerate(buyers):
        _order(merchant, customer, shop, now - timedelta(days=50 * i))
    rule = {"all": [{"field": "spent_in_days", "op": "gte", "value": 2500, "days": 90}]}
    odd = {"all": [{"field": "spent_in_days", "op": "gte", "value": 2500, "days": 91}]}

    def count(rule: dict[str, Any]) -> tuple[int, str]:
        seen: list[str] = []

        def wrapper(execute: Any, sql: str, *args: Any) -> Any:
            seen.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(wrapper), merchant_context(merchant):
            matched = count_matching(rule)
        return matched, seen[-1]

    table = OrderWindow._meta.db_table
    matched, sql = count(rule)  # not built: the orders are grouped
    assert (matched, table in sql) == (2, False)
    with merchant_context(merchant):
        windows.rebuild(merchant)
    matched, sql = count(rule)
    assert (matched, table in sql) == (2, True)
    matched, sql = count(odd)  # a window that is not kept
    assert (matched, table in sql) == (2, False)
    OrderWindowState.objects.filter(merchant=merchant).update(
        as_of=windows.local_today(now, merchant.time_zone) - timedelta(days=1)
    )
    matched, sql = count(rule)  # yesterday's rows: not read
    assert (matched, table in sql) == (2, False)


def test_the_roll_recomputes_only_customers_whose_orders_left_a_window(merchant: Merchant) -> None:
    shop = make_shop(merchant, price=1000)
    leaving, staying = make_customer(merchant), make_customer(merchant)
    monday = SHANGHAI_NOON
    _order(merchant, leaving, shop, monday - timedelta(days=6))  # in "7 days" until Tuesday
    _order(merchant, staying, shop, monday - timedelta(days=1))
    with merchant_context(merchant):
        windows.rebuild(merchant, now=monday)
        assert _window(merchant, leaving, 7) == (1, 1000)
        assert windows.roll(merchant, now=monday + timedelta(hours=11)) == 0  # still Monday
        assert windows.roll(merchant, now=monday + timedelta(hours=12)) == 1  # Tuesday 00:00
    assert _window(merchant, leaving, 7) == (0, 0)
    assert _window(merchant, leaving, 30) == (1, 1000)
    assert _window(merchant, staying, 7) == (1, 1000)
    assert _state(merchant) == (monday + timedelta(days=1)).date()
    with merchant_context(merchant):
        assert windows.roll(merchant, now=monday + timedelta(days=200)) is None  # rebuilt
    assert _window(merchant, staying, 180) == (0, 0)
    assert _window(merchant, staying, windows.ALL_TIME) == (1, 1000)


def test_the_job_builds_missing_windows_then_waits_for_the_next_day(merchant: Merchant) -> None:
    customer = make_customer(merchant)
    make_order(merchant, status="paid", customer=customer, shop=make_shop(merchant, price=700))
    assert roll_order_windows.call() >= 1  # never built: built now
    assert _window(merchant, customer, 30) == (1, 700)
    assert roll_order_windows.call() == 0  # the same day: nothing to do
    with merchant_context(merchant):
        windows.invalidate(merchant)  # e.g. the catalogue's tree changed
    OrderWindow.unscoped.filter(customer=customer).delete()
    assert roll_order_windows.call() >= 1
    assert _window(merchant, customer, 30) == (1, 700)


def test_moving_a_product_to_another_category_rebuilds_the_category_rows(
    merchant: Merchant, coffee: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tea = make_category(merchant, "Tea")
    shop = make_shop(merchant, price=900, category_id=coffee.pk)
    customer = make_customer(merchant)
    make_order(merchant, status="paid", customer=customer, shop=shop)
    with merchant_context(merchant):
        windows.rebuild(merchant)
        with django_capture_on_commit_callbacks(execute=True):
            catalog.update_product(Actor.system(merchant), shop.product, category_id=tea.pk)
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_pending()
    assert _window(merchant, customer, 90, tea.pk) == (1, 0)
    assert _window(merchant, customer, 90, coffee.pk) == (0, 0)
    assert _state(merchant) is not None
    rule = {"field": "category_orders", "op": "gte", "value": 1, "category": tea.pk, "days": 90}
    with merchant_context(merchant):
        assert count_matching(rule) == 1


def test_imported_orders_count_in_the_windows_segments_and_rules(merchant: Merchant) -> None:
    """Orders from the old system (imported sales) count as paid orders without lines: in the
    kept windows, in a window grouped on the fly, in the rules' facts, and in the roll."""
    from siyu.analytics.testing import make_sale
    from siyu.customers.rules import evaluate
    from siyu.customers.segments import customer_facts, matching_customers

    shop = make_shop(merchant, price=1000)
    both, only_imported, refunded = (make_customer(merchant) for _ in range(3))
    monday = SHANGHAI_NOON
    _order(merchant, both, shop, monday - timedelta(days=2))
    make_sale(merchant, both.pk, monday - timedelta(days=40), 3000, imported=True)
    make_sale(merchant, only_imported.pk, monday - timedelta(days=6), 2000, imported=True)
    make_sale(merchant, refunded.pk, monday - timedelta(days=3), 500, refunded=500, imported=True)
    with merchant_context(merchant):
        windows.rebuild(merchant, now=monday)
    assert _window(merchant, both, 7) == (1, 1000)
    assert _window(merchant, both, 90) == (2, 4000)
    assert _window(merchant, only_imported, 7) == (1, 2000)
    assert _window(merchant, refunded, 7) == (0, 0)  # refunded in full: no order, no money
    spent_90 = {"field": "spent_in_days", "op": "gte", "value": 2000, "days": 90}
    orders_7 = {"field": "orders_in_days", "op": "gte", "value": 1, "days": 7}
    orders_60 = {"field": "orders_in_days", "op": "gte", "value": 2, "days": 60}  # not kept
    with merchant_context(merchant):
        facts = customer_facts([both.pk, only_imported.pk, refunded.pk], now=monday)
        for rule, expected in ((spent_90, 2), (orders_7, 2), (orders_60, 1)):
            kept = matching_customers({"all": [rule]}, now=monday).count()
            windows.invalidate(merchant)  # now grouped from the orders and the sales
            grouped = matching_customers({"all": [rule]}, now=monday).count()
            windows.rebuild(merchant, now=monday)
            assert (kept, grouped) == (expected, expected), rule
            assert sum(evaluate(rule, f) for f in facts.values()) == expected
        # Tuesday: the imported sale of six days ago leaves "7 days"; the roll finds it
        assert windows.roll(merchant, now=monday + timedelta(hours=12)) == 1
    assert _window(merchant, only_imported, 7) == (0, 0)
    assert _window(merchant, only_imported, 30) == (1, 2000)


def test_an_import_of_orders_refreshes_the_windows(merchant: Merchant) -> None:
    from siyu.analytics.importer.testing import csv_bytes, run_bytes
    from siyu.customers.models import CustomerIdentity

    with merchant_context(merchant):
        windows.rebuild(merchant)
    yesterday = clock.local(clock.now(), merchant.time_zone) - timedelta(days=1)
    content = csv_bytes(
        ["order_id", "customer_id", "placed_at", "amount"],
        [["W1", "Z1", yesterday.strftime("%Y-%m-%d %H:%M:%S"), "88"]],
    )
    run_bytes(merchant, "orders", content)
    customer = CustomerIdentity.unscoped.get(merchant=merchant, value="Z1").customer
    assert _window(merchant, customer, 7) == (1, 8800)
