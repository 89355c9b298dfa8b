"""Customer statistics from the analytics sales facts: imported history counts, refunds in full
do not, the numbers follow Siyu's orders through payment and refund, and the RFM scores are
the analytics RFM scores. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from siyu.analytics import customer_totals, rfm
from siyu.analytics.importer.testing import csv_bytes, run_bytes
from siyu.analytics.models import Sale
from siyu.analytics.reference import round_half_up
from siyu.analytics.testing import local_time, make_sale
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.customers import autotag, stats
from siyu.customers.models import Customer, CustomerIdentity, CustomerTag
from siyu.customers.testing import make_customer, make_tag
from siyu.orders.testing import make_shop
from siyu.payments import services as payments
from siyu.payments.testing import deliver_pending, make_paid_order

pytestmark = pytest.mark.django_db

STAT_FIELDS = (
    "order_count",
    "total_spent",
    "average_order_value",
    "first_order_at",
    "last_order_at",
)
RFM = ("rfm_recency", "rfm_frequency", "rfm_monetary")


def _fresh(customer: Customer) -> Customer:
    return Customer.unscoped.get(pk=customer.pk)


def _numbers(customer: Customer) -> tuple[int, int, int]:
    row = _fresh(customer)
    return row.order_count, row.total_spent, row.average_order_value


def _at(merchant: Merchant, day: str, hour: int = 10) -> datetime:
    return local_time(merchant, datetime.fromisoformat(day).replace(hour=hour))


def test_an_imported_customer_counts_orders_net_money_and_aov(merchant: Merchant) -> None:
    person = make_customer(merchant)
    make_sale(merchant, person.pk, _at(merchant, "2025-01-05"), 9900, 9900, imported=True)
    make_sale(merchant, person.pk, _at(merchant, "2025-02-01"), 10000, imported=True)
    make_sale(merchant, person.pk, _at(merchant, "2025-03-01"), 5000, 1000, imported=True)
    make_sale(merchant, person.pk, _at(merchant, "2025-04-01", 21), 2001, imported=True)
    assert _numbers(person) == (0, 0, 0)  # nothing refreshed yet

    assert stats.refresh_customers(merchant, [person.pk]) == 1

    row = _fresh(person)
    # the sale refunded in full is not an order; the partial refund takes 10.00 off
    net = 10000 + (5000 - 1000) + 2001
    assert (row.order_count, row.total_spent) == (3, net)
    assert row.average_order_value == 5334  # 16001 / 3 = 5333.67, rounded half up
    assert row.average_order_value == round_half_up(net, 3)
    assert row.first_order_at == _at(merchant, "2025-02-01")  # not the refunded sale's time
    assert row.last_order_at == _at(merchant, "2025-04-01", 21)
    assert row.stats_updated_at is not None


def test_refunded_in_full_only_is_no_order_and_stale_numbers_go(merchant: Merchant) -> None:
    person = make_customer(merchant)
    make_sale(merchant, person.pk, _at(merchant, "2025-05-01"), 4200, 4200, imported=True)
    Customer.unscoped.filter(pk=person.pk).update(
        order_count=3,
        total_spent=999,
        average_order_value=333,
        last_order_at=clock.now(),
        rfm_recency=4,
        rfm_frequency=4,
        rfm_monetary=4,
    )
    assert stats.refresh_customers(merchant, [person.pk]) == 1  # changed: back to zero
    row = _fresh(person)
    assert (row.order_count, row.total_spent, row.average_order_value) == (0, 0, 0)
    assert (row.first_order_at, row.last_order_at) == (None, None)
    assert (row.rfm_recency, row.rfm_frequency, row.rfm_monetary) == (0, 0, 0)


def test_a_free_order_is_an_order(merchant: Merchant) -> None:
    person = make_customer(merchant)
    make_sale(merchant, person.pk, _at(merchant, "2025-05-01"), 0, imported=True)
    stats.refresh_customers(merchant, [person.pk])
    assert _numbers(person) == (1, 0, 0)


def test_refresh_touches_only_the_listed_customers_of_the_merchant(
    merchant: Merchant, other_merchant: Merchant
) -> None:
    listed, unlisted = make_customer(merchant), make_customer(merchant)
    rival = make_customer(other_merchant)
    for person, owner in ((listed, merchant), (unlisted, merchant), (rival, other_merchant)):
        make_sale(owner, person.pk, _at(owner, "2025-06-01"), 3000, imported=True)
    stats.refresh_customers(merchant, [listed.pk, rival.pk])  # rival is not this merchant's
    assert _numbers(listed) == (1, 3000, 3000)
    assert _numbers(unlisted) == (0, 0, 0)
    assert _numbers(rival) == (0, 0, 0)
    assert stats.refresh_customers(merchant, []) == 0


def test_a_long_list_of_customers_goes_as_one_parameter(merchant: Merchant) -> None:
    people = [make_customer(merchant) for _ in range(3)]
    for n, person in enumerate(people):
        make_sale(merchant, person.pk, _at(merchant, "2025-06-01"), 1000 * (n + 1))
    unknown = list(range(10**9, 10**9 + 600))  # more ids than metrics_sql.LONG_LIST
    assert stats.refresh_customers(merchant, [p.pk for p in people] + unknown) == 3
    assert [_numbers(p)[1] for p in people] == [1000, 2000, 3000]


def _mixed_history(merchant: Merchant) -> list[Customer]:
    """Seven customers: Siyu's and imported sales, partial and full refunds, ties, and one
    customer whose only sale was refunded in full, one with nothing."""
    people = [make_customer(merchant) for _ in range(7)]
    history: list[tuple[int, str, int, int, bool]] = [
        # customer, day, amount, refunded, imported
        (0, "2025-01-10", 5000, 0, True),
        (0, "2025-03-02", 3000, 0, False),
        (1, "2025-03-02", 8000, 8000, False),  # refunded in full: not an order
        (1, "2025-02-01", 8000, 0, True),
        (2, "2025-06-30", 12000, 2000, True),
        (2, "2025-06-01", 1000, 0, True),
        (2, "2025-05-01", 1000, 0, False),
        (3, "2025-06-30", 10000, 0, False),  # the same last day as customer 2
        (3, "2025-01-01", 0, 0, True),
        (3, "2025-02-01", 2000, 2000, True),
        (4, "2025-04-04", 700, 0, True),
        (5, "2025-04-04", 700, 700, True),  # nothing kept
    ]
    for who, day, amount, refunded, imported in history:
        make_sale(merchant, people[who].pk, _at(merchant, day), amount, refunded, imported=imported)
    return people


def _snapshot(merchant: Merchant) -> dict[int, tuple[Any, ...]]:
    rows = Customer.unscoped.filter(merchant=merchant).values_list("pk", *STAT_FIELDS, *RFM)
    return {row[0]: row[1:] for row in rows}


def test_set_based_equals_one_by_one_on_a_mix(merchant: Merchant, other_merchant: Merchant) -> None:
    people = _mixed_history(merchant)
    rival = make_customer(other_merchant)
    make_sale(other_merchant, rival.pk, _at(other_merchant, "2025-01-01"), 100)
    with merchant_context(merchant):
        for person in people:
            stats.recompute(person.pk)
    one_by_one = _snapshot(merchant)
    Customer.unscoped.filter(merchant=merchant).update(
        order_count=99, total_spent=7, average_order_value=1, last_order_at=clock.now()
    )
    assert stats.recompute_all(merchant) == 7  # every row was wrecked: 5 buyers, 2 reset
    assert _snapshot(merchant) == one_by_one
    Customer.unscoped.filter(merchant=merchant).update(order_count=42)
    assert stats.refresh_customers(merchant, [p.pk for p in people]) == 7
    assert _snapshot(merchant) == one_by_one
    # nothing changed: nothing written (the nightly run rewrites only what changed)
    stamps = list(Customer.unscoped.order_by("pk").values_list("stats_updated_at", flat=True))
    assert stats.refresh_merchant(merchant) == (0, 5)  # first scoring of RFM
    assert stats.refresh_merchant(merchant) == (0, 0)
    assert list(Customer.unscoped.order_by("pk").values_list("stats_updated_at", flat=True)) == (
        stamps
    )
    # an average stored by the old rule (rounded down) is corrected although nothing else moved
    Customer.unscoped.filter(pk=people[0].pk).update(average_order_value=3999)
    assert stats.recompute_all(merchant) == 1
    expected = {
        people[0].pk: (2, 8000, 4000),
        people[1].pk: (1, 8000, 8000),
        people[2].pk: (3, 12000, 4000),
        people[3].pk: (2, 10000, 5000),
        people[4].pk: (1, 700, 700),
        people[5].pk: (0, 0, 0),
        people[6].pk: (0, 0, 0),
    }
    assert {p.pk: _numbers(p) for p in people} == expected
    assert _numbers(rival) == (0, 0, 0)  # the other merchant waits for its own run


def test_rfm_scores_over_a_mix_by_hand_and_as_analytics_scores_them(merchant: Merchant) -> None:
    people = _mixed_history(merchant)
    assert stats.refresh_merchant(merchant) == (5, 5)
    scores = {p.pk: tuple(getattr(_fresh(p), f) for f in RFM) for p in people}
    # five buyers; score = 1 + 5 × (buyers strictly worse) ÷ 5
    # last days: 0 Mar 2, 1 Feb 1, 2 Jun 30, 3 Jun 30, 4 Apr 4 → worse: 1, 0, 3, 3, 2
    # orders:    2, 1, 3, 2, 1 → worse: 2, 0, 4, 2, 0
    # net:       8000, 8000, 12000, 10000, 700 → worse: 1, 1, 4, 3, 0
    assert scores == {
        people[0].pk: (2, 3, 2),
        people[1].pk: (1, 1, 2),
        people[2].pk: (4, 5, 5),
        people[3].pk: (4, 3, 4),
        people[4].pk: (3, 1, 1),
        people[5].pk: (0, 0, 0),
        people[6].pk: (0, 0, 0),
    }
    # the same scores as the analytics RFM (whose cell the customer page shows next to them)
    tomorrow = datetime.now(ZoneInfo(merchant.time_zone)).date() + timedelta(days=1)
    cells = rfm.rfm_cells(merchant, tomorrow)
    assert {c: (s.recency, s.frequency, s.monetary) for c, s in cells.items()} == {
        pk: score for pk, score in scores.items() if score != (0, 0, 0)
    }


def test_rfm_of_four_buyers_uses_the_count_not_the_percent_rank(merchant: Merchant) -> None:
    people = [make_customer(merchant) for _ in range(4)]
    for n, person in enumerate(people):
        for k in range(n + 1):
            make_sale(merchant, person.pk, _at(merchant, f"2025-0{n + 1}-0{k + 1}"), 1000)
    stats.refresh_merchant(merchant)
    # worse 0..3 of 4: 1 + 5w/4 → 1, 2, 3, 4 (PERCENT_RANK would have given 1, 2, 4, 5)
    assert [_fresh(p).rfm_frequency for p in people] == [1, 2, 3, 4]
    assert [_fresh(p).rfm_recency for p in people] == [1, 2, 3, 4]
    assert [_fresh(p).rfm_monetary for p in people] == [1, 2, 3, 4]


def test_scores_go_to_zero_when_the_last_order_is_refunded_in_full(merchant: Merchant) -> None:
    people = [make_customer(merchant) for _ in range(2)]
    sales = [make_sale(merchant, p.pk, _at(merchant, "2025-07-01"), 1500) for p in people]
    stats.refresh_merchant(merchant)
    assert _fresh(people[0]).rfm_frequency == 1
    Sale.unscoped.filter(pk=sales[0].pk).update(refunded=1500)
    assert stats.score_rfm(merchant) == 1  # before the statistics: scores read the facts
    assert tuple(getattr(_fresh(people[0]), f) for f in RFM) == (0, 0, 0)
    assert stats.refresh_merchant(merchant) == (1, 0)  # the scores were already right
    assert _numbers(people[0]) == (0, 0, 0)


def test_a_siyu_order_paid_then_refunded_moves_the_numbers(
    merchant: Merchant, owner: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    person = make_customer(merchant)
    make_sale(merchant, person.pk, _at(merchant, "2024-12-01"), 6000, imported=True)
    stats.refresh_customers(merchant, [person.pk])
    assert _numbers(person) == (1, 6000, 6000)

    order = make_paid_order(merchant, customer=person, shop=make_shop(merchant, price=5000))
    dispatch_pending()  # the analytics consumer writes the sale, then refreshes the customer
    assert _numbers(person) == (2, 11000, 5500)
    assert _fresh(person).last_order_at == order.placed_at

    with django_capture_on_commit_callbacks(execute=True), merchant_context(merchant):
        payments.refund(owner, order, amount=1500, reason="one cup short")
    deliver_pending()
    dispatch_pending()
    assert _numbers(person) == (2, 9500, 4750)

    order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True), merchant_context(merchant):
        payments.refund(owner, order, amount=order.total - order.refunded_total, reason="closed")
    deliver_pending()
    dispatch_pending()
    # refunded in full: no longer an order; the imported one is what is left
    assert _numbers(person) == (1, 6000, 6000)
    assert _fresh(person).last_order_at == _at(merchant, "2024-12-01")


def test_auto_tag_rules_see_the_numbers_of_the_sale_just_written(
    merchant: Merchant, owner: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    buyer = make_tag(merchant, "买过")
    autotag.create_rule(
        owner, name="买过", tag=buyer, rule={"field": "order_count", "op": "gte", "value": 1}
    )
    person = make_customer(merchant)
    dispatch_pending()

    def tagged() -> bool:
        return CustomerTag.unscoped.filter(customer=person, tag=buyer).exists()

    assert not tagged()
    order = make_paid_order(merchant, customer=person, shop=make_shop(merchant, price=3000))
    dispatch_pending()
    assert _numbers(person) == (1, 3000, 3000)
    assert tagged()  # on the payment's events, not the nightly run
    with django_capture_on_commit_callbacks(execute=True), merchant_context(merchant):
        payments.refund(owner, order, amount=3000, reason="wrong shop")
    deliver_pending()
    dispatch_pending()
    assert _numbers(person) == (0, 0, 0)
    assert not tagged()  # refunded in full: no longer a buyer, the rule takes its tag back


def test_an_orders_import_then_refresh_merchant(merchant: Merchant) -> None:
    content = csv_bytes(
        ["order_id", "customer_id", "placed_at", "amount", "refunded"],
        [
            ["A1", "C1", "2025-03-01 09:30:00", "128.50", "0"],
            ["A2", "C1", "2025-03-09 12:00:00", "71.50", "10"],
            ["A3", "C2", "2025-03-03 10:00:00", "30", "30"],
        ],
    )
    run_bytes(merchant, "orders", content)
    stats.refresh_merchant(merchant)  # what the import calls once it has finished
    with merchant_context(merchant):
        ids = dict(
            CustomerIdentity.objects.filter(kind="external").values_list("value", "customer_id")
        )
    first, second = Customer.unscoped.get(pk=ids["C1"]), Customer.unscoped.get(pk=ids["C2"])
    assert _numbers(first) == (2, 12850 + 7150 - 1000, 9500)
    assert _numbers(second) == (0, 0, 0)
    assert tuple(getattr(_fresh(first), f) for f in RFM) == (1, 1, 1)  # the only buyer


def test_the_customer_page_shows_an_imported_customers_numbers(merchant: Merchant) -> None:
    person = make_customer(merchant, name="陈静")
    make_sale(merchant, person.pk, _at(merchant, "2025-02-01"), 12000, imported=True)
    make_sale(merchant, person.pk, _at(merchant, "2025-03-01"), 8050, 50, imported=True)
    stats.refresh_merchant(merchant)
    client = staff_client(merchant, Role.OWNER)
    body = client.get(f"/console/customers/{person.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = body.content.decode()
    assert body.status_code == 200
    assert "¥200.00" in text  # 120.00 + 80.50 − 0.50
    assert "¥100.00" in text  # AOV
    assert "first 2025-02-01" in text
    assert 'id="imported-orders-note"' in text
    listing = client.get("/console/customers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "¥200.00" in listing


def test_totals_of_one_customer_agree_with_the_set(merchant: Merchant) -> None:
    people = _mixed_history(merchant)
    for person in people:
        one = customer_totals.totals_of(merchant.pk, person.pk)
        stats.recompute(person.pk)
        row = _fresh(person)
        assert (one.orders, one.net, one.first_at, one.last_at) == (
            row.order_count,
            row.total_spent,
            row.first_order_at,
            row.last_order_at,
        )


def test_an_import_runs_the_merchants_auto_tag_rules(merchant: Merchant, owner: Actor) -> None:
    """An import emits no event per customer, so it runs the merchant's rules once at its
    end: a customer it gave a second order is tagged at once, not at night."""
    regular = make_tag(merchant, "常客")
    autotag.create_rule(
        owner, name="常客", tag=regular, rule={"field": "order_count", "op": "gte", "value": 2}
    )
    content = csv_bytes(
        ["order_id", "customer_id", "placed_at", "amount"],
        [
            ["T1", "R1", "2025-03-01 09:30:00", "20"],
            ["T2", "R1", "2025-04-01 09:30:00", "25"],
            ["T3", "R2", "2025-04-02 09:30:00", "25"],
        ],
    )
    run_bytes(merchant, "orders", content)
    tagged = set(
        CustomerTag.unscoped.filter(tag=regular).values_list(
            "customer__identities__value", flat=True
        )
    )
    assert tagged == {"R1"}
    run_bytes(merchant, "orders", content, dry_run=True)  # a dry run tags nobody more
    assert CustomerTag.unscoped.filter(tag=regular).count() == 1
