"""The daily rollups: kept current by every fact write, equal to a rebuild from the facts, and
giving the same figures as the statements over the facts.

The random histories write sales in any order (a later import of older history included),
then refund some in part or in full, so a customer's chain of kept sales is cut and joined
again; after each history the maintained rollups must equal the rebuilt ones row for row, and
every figure read from them the figure computed from the facts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.analytics import cohorts, facts, metrics, rollups
from siyu.analytics.models import ActivityDay, BuyersDay, CohortDay, RollupState, SalesDay
from siyu.analytics.reference import Filters, Period
from siyu.analytics.testing import make_active_day, make_sale, refund_sale
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant

pytestmark = pytest.mark.django_db

ORIGIN = date(2025, 11, 1)
HYPOTHESIS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def snapshot(merchant: Merchant) -> dict[str, set[tuple[Any, ...]]]:
    """Every non-zero rollup row of ``merchant``, without ids."""
    return {
        "sales": set(
            SalesDay.unscoped.filter(merchant=merchant)
            .exclude(paid_orders=0, gmv=0, refunds=0)
            .values_list(*rollups.SALES_COLUMNS[1:])  # all but the merchant
        ),
        "buyers": set(
            BuyersDay.unscoped.filter(merchant=merchant)
            .exclude(after_prev=0, after_prev2=0)
            .values_list("day", "since", "after_prev", "after_prev2")
        ),
        "cohorts": set(
            CohortDay.unscoped.filter(merchant=merchant)
            .exclude(customers=0, orders=0, net=0)
            .values_list("cohort", "day", "customers", "orders", "net")
        ),
        "activity": set(
            ActivityDay.unscoped.filter(merchant=merchant)
            .exclude(customers=0)
            .values_list("day", "since", "customers")
        ),
    }


def raw(merchant: Merchant, read: Any) -> Any:
    """``read()`` with the rollups marked stale, so it computes from the facts."""
    RollupState.objects.update_or_create(merchant=merchant, defaults={"ready": False})
    try:
        return read()
    finally:
        RollupState.objects.filter(merchant=merchant).update(ready=True)


@st.composite
def history(draw: st.DrawFn) -> list[dict[str, Any]]:
    sales = []
    for _ in range(draw(st.integers(1, 14))):
        amount = draw(st.integers(0, 3000))
        sales.append(
            {
                "customer": draw(st.integers(0, 3)),
                "at": datetime.combine(
                    ORIGIN + timedelta(days=draw(st.integers(0, 120))), datetime.min.time()
                )
                + timedelta(hours=draw(st.sampled_from([0, 9, 23]))),
                "amount": amount,
                "refund": draw(st.sampled_from([None, "part", "full", "later-full", "later-part"])),
                "imported": draw(st.booleans()),
                "store_id": draw(st.one_of(st.none(), st.integers(1, 2))),
                "guide_id": draw(st.one_of(st.none(), st.just(7))),
            }
        )
    return sales


def write(merchant: Merchant, customers: list[int], sales: list[dict[str, Any]]) -> None:
    written = []
    for row in sales:
        refunded = {"part": row["amount"] // 2, "full": row["amount"]}.get(row["refund"], 0)
        written.append(
            (
                row,
                make_sale(
                    merchant,
                    customers[row["customer"]],
                    row["at"],
                    row["amount"],
                    refunded,
                    imported=row["imported"],
                    store_id=row["store_id"],
                    guide_id=row["guide_id"],
                ),
            )
        )
    for row, sale in written:  # refunds after everything is written: chains change again
        if row["refund"] == "later-full":
            refund_sale(sale, sale.amount)
        elif row["refund"] == "later-part":
            refund_sale(sale, sale.amount // 3)


@HYPOTHESIS
@given(sales=history(), start=st.integers(0, 100), days=st.integers(1, 60))
def test_maintained_rollups_equal_a_rebuild_and_the_facts(
    sales: list[dict[str, Any]], start: int, days: int
) -> None:
    merchant = make_merchant()
    customers = [1000 + i for i in range(4)]
    write(merchant, customers, sales)
    kept = snapshot(merchant)
    rollups.rebuild(merchant)
    assert snapshot(merchant) == kept

    period = Period(ORIGIN + timedelta(days=start), ORIGIN + timedelta(days=start + days))
    assert metrics.sale_stats(merchant, period) == raw(
        merchant, lambda: metrics.sale_stats(merchant, period)
    )
    assert metrics.monthly_frequency(merchant, period) == raw(
        merchant, lambda: metrics.monthly_frequency(merchant, period)
    )
    assert metrics.weekly_repurchases(merchant, period) == raw(
        merchant, lambda: metrics.weekly_repurchases(merchant, period)
    )
    shares = {
        k: (s.net_sales, s.orders, share)
        for k, (s, share) in metrics.source_shares(merchant, period).items()
    }
    assert shares == raw(
        merchant,
        lambda: {
            k: (s.net_sales, s.orders, share)
            for k, (s, share) in metrics.source_shares(merchant, period).items()
        },
    )
    as_of = ORIGIN + timedelta(days=start + days)
    for months in (Period(date(2025, 11, 1), date(2026, 3, 1)), Period(date(2025, 11, 1), as_of)):
        assert cohorts.cohort_matrix(merchant, months, as_of) == raw(
            merchant, lambda months=months: cohorts.cohort_matrix(merchant, months, as_of)
        )


@HYPOTHESIS
@given(
    days=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 70)), min_size=1, max_size=25),
    end=st.integers(1, 75),
)
def test_activity_rollup_gives_the_activity_of_the_facts(
    days: list[tuple[int, int]], end: int
) -> None:
    merchant = make_merchant()
    for customer, offset in days:  # any order, repeats included
        day = ORIGIN + timedelta(days=offset)
        if customer == 0:
            facts.record_visit(merchant, 500, day)
        elif not _has(merchant, 500 + customer, day):
            make_active_day(merchant, 500 + customer, day)
    kept = snapshot(merchant)["activity"]
    rollups.rebuild(merchant)
    assert snapshot(merchant)["activity"] == kept
    period = Period(ORIGIN + timedelta(days=max(0, end - 10)), ORIGIN + timedelta(days=end))
    assert metrics.activity(merchant, period) == raw(
        merchant, lambda: metrics.activity(merchant, period)
    )


def _has(merchant: Merchant, customer_id: int, day: date) -> bool:
    from siyu.analytics.models import ActiveDay

    return ActiveDay.unscoped.filter(merchant=merchant, customer_id=customer_id, day=day).exists()


def test_a_hand_computed_history() -> None:
    """c1 buys on 3, 5 and 20 March, c2 on 10 February and 6 March (refunded in full) and
    8 March: in March, 2 buyers, both with two or more kept orders, none new but c1."""
    merchant = make_merchant()
    make_sale(merchant, 2, datetime(2026, 2, 10, 12), 1000)
    refunded = make_sale(merchant, 2, datetime(2026, 3, 6, 12), 500)
    make_sale(merchant, 2, datetime(2026, 3, 8, 12), 700)
    for day in (3, 5, 20):
        make_sale(merchant, 1, datetime(2026, 3, day, 12), 300)
    refund_sale(refunded, 500)
    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    stats = metrics.sale_stats(merchant, march)[None]
    assert (stats.gmv, stats.refunds, stats.paid_orders, stats.orders) == (2100, 500, 5, 4)
    assert (stats.buyers, stats.repeat_buyers, stats.new_buyers) == (2, 1, 1)
    # A period starting on 8 March: c2 once (8th), c1 once (20th): no repeat buyer.
    late = metrics.sale_stats(merchant, Period(date(2026, 3, 8), date(2026, 4, 1)))[None]
    assert (late.buyers, late.repeat_buyers, late.new_buyers) == (2, 0, 0)
    matrix = cohorts.cohort_matrix(
        merchant, Period(date(2026, 2, 1), date(2026, 4, 1)), date(2026, 4, 1)
    )
    assert [(r.key, r.size, [c.buyers for c in r.cells]) for r in matrix.rows] == [
        ("2026-02", 1, [1, 1]),
        ("2026-03", 1, [1]),
    ]


def test_a_stale_merchant_reads_the_facts_until_rebuilt() -> None:
    merchant = make_merchant()
    make_sale(merchant, 1, datetime(2026, 3, 3, 12), 300)
    rollups.suspend(merchant)
    assert not rollups.ready(merchant)
    make_sale(merchant, 1, datetime(2026, 3, 4, 12), 400)  # not rolled up while stale
    assert SalesDay.unscoped.filter(merchant=merchant, dim="", day=date(2026, 3, 4)).count() == 0
    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    assert metrics.sale_stats(merchant, march)[None].gmv == 700  # from the facts
    rollups.rebuild(merchant)
    assert rollups.ready(merchant)
    assert SalesDay.unscoped.get(merchant=merchant, dim="", day=date(2026, 3, 4)).gmv == 400
    assert metrics.sale_stats(merchant, march)[None].gmv == 700


def test_filtered_figures_still_come_from_the_facts() -> None:
    merchant = make_merchant()
    make_sale(merchant, 1, datetime(2026, 3, 3, 12), 300, store_id=5)
    make_sale(merchant, 2, datetime(2026, 3, 4, 12), 400, store_id=6)
    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    stats = metrics.sale_stats(merchant, march, Filters(store_ids=(5,)))[None]
    assert (stats.gmv, stats.buyers) == (300, 1)
    by_store = SalesDay.unscoped.filter(merchant=merchant, dim="store").values_list("key", "gmv")
    assert sorted(by_store) == [("5", 300), ("6", 400)]


@HYPOTHESIS
@given(sales=history(), start=st.integers(0, 100), days=st.integers(1, 30))
def test_the_daily_chart_from_the_rollups_is_the_chart_from_the_facts(
    sales: list[dict[str, Any]], start: int, days: int
) -> None:
    merchant = make_merchant()
    write(merchant, [2000 + i for i in range(4)], sales)
    period = Period(ORIGIN + timedelta(days=start), ORIGIN + timedelta(days=start + days))
    assert metrics.daily(merchant, period) == raw(merchant, lambda: metrics.daily(merchant, period))


@pytest.mark.parametrize("staged", [False, True])
def test_an_import_leaves_the_rollups_ready_and_right(staged: bool, monkeypatch) -> None:
    """An import of orders marks the rollups stale while it writes and rebuilds them at its
    end (also the customers' statistics): the overview then reads the imported sales."""
    from django.db import connection

    from siyu.analytics.importer import runner
    from siyu.analytics.importer.testing import csv_bytes, run_bytes
    from siyu.customers.models import Customer

    if staged and connection.vendor != "postgresql":
        pytest.skip("the staged import path needs PostgreSQL")
    monkeypatch.setattr(runner, "STAGED_ON_POSTGRES", staged)
    merchant = make_merchant()
    make_sale(merchant, 987654, datetime(2025, 3, 1, 12), 1000)  # before the import
    content = csv_bytes(
        ["order_id", "customer_id", "placed_at", "amount"],
        [
            ["A1", "C1", "2025-03-01 09:30:00", "128.50"],
            ["A2", "C1", "2025-03-02 10:00:00", "12"],
            ["A3", "C2", "2025-02-03 10:00:00", "20"],
        ],
    )
    run_bytes(merchant, "orders", content)
    assert rollups.ready(merchant)
    march = Period(date(2025, 3, 1), date(2025, 4, 1))
    stats = metrics.sale_stats(merchant, march)[None]
    assert (stats.gmv, stats.orders, stats.buyers, stats.repeat_buyers) == (15050, 3, 2, 1)
    assert stats == raw(merchant, lambda: metrics.sale_stats(merchant, march))[None]
    c1 = Customer.unscoped.get(merchant=merchant, identities__value="C1")
    assert (c1.order_count, c1.total_spent) == (2, 14050)


@pytest.mark.parametrize("staged", [False, True])
@pytest.mark.parametrize("batch_size", [3, 200])  # small batches; one batch of 120 customers
def test_a_small_import_keeps_the_rollups_batch_by_batch(
    staged: bool, batch_size: int, monkeypatch
) -> None:
    """Against a long history an import keeps the rollups as it writes, never stale and no
    rebuild: afterwards they equal a rebuild, and the customers' statistics are current."""
    from django.db import connection

    from siyu.analytics.importer import runner
    from siyu.analytics.importer.testing import csv_bytes, run_bytes
    from siyu.customers.models import Customer

    if staged and connection.vendor != "postgresql":
        pytest.skip("the staged import path needs PostgreSQL")
    monkeypatch.setattr(runner, "STAGED_ON_POSTGRES", staged)
    merchant = make_merchant()
    from siyu.customers import windows

    with merchant_context(merchant):
        windows.rebuild(merchant)  # built: the import keeps them too
    history = [2000 + i for i in range(30)]
    for n, customer in enumerate(history):  # a history much longer than the file
        for k in range(4):
            make_sale(merchant, customer, datetime(2025, 1 + k, 1 + n % 20, 12), 500 + n)
    rows = [
        [f"B{i}", f"N{i % 120}", f"2025-0{1 + i % 6}-{10 + i % 9} 09:30:00", "10.5", ""]
        for i in range(150)
    ]
    rows[7][4] = "10.5"  # refunded in full
    rows[8][4] = "3"
    content = csv_bytes(["order_id", "customer_id", "placed_at", "amount", "refunded"], rows)
    monkeypatch.setattr(runner, "MIN_ROW_BYTES", len(content))  # as if it were one row
    monkeypatch.setattr(runner, "KEEP_ROLLUPS_FACTOR", 100)
    assert runner.maintains_rollups(merchant, "orders", len(content))

    def no_suspend(merchant: Merchant) -> None:
        raise AssertionError("a small import must not mark the rollups stale")

    rebuilds = []
    monkeypatch.setattr(rollups, "suspend", no_suspend)
    monkeypatch.setattr(rollups, "rebuild", lambda m: rebuilds.append(m))
    outcome = run_bytes(merchant, "orders", content, batch_size=batch_size)
    assert (outcome.rows_written, outcome.rows_rejected) == (150, 0)
    assert rebuilds == []
    monkeypatch.undo()
    assert rollups.ready(merchant)
    kept = snapshot(merchant)
    rollups.rebuild(merchant)
    assert snapshot(merchant) == kept
    n7 = Customer.unscoped.get(merchant=merchant, identities__value="N7")
    assert (n7.order_count, n7.total_spent) == (1, 1050)  # rows 7 (refunded in full) and 127
    n8 = Customer.unscoped.get(merchant=merchant, identities__value="N8")
    assert (n8.order_count, n8.total_spent) == (2, 1050 - 300 + 1050)  # rows 8 and 128
    with merchant_context(merchant):
        assert windows.window_of(n8.pk, windows.ALL_TIME) == (2, 1800)
    assert n8.rfm_frequency > 0


def test_which_imports_keep_the_rollups() -> None:
    """A first import, a large one, or one into stale rollups rebuilds at its end; one small
    against the merchant's history keeps them batch by batch."""
    from siyu.analytics.importer import runner

    merchant = make_merchant()
    assert not runner.maintains_rollups(merchant, "orders", 1000)  # no history yet
    for n in range(60):
        make_sale(merchant, 3000 + n % 7, datetime(2025, 5, 1 + n % 28, 10), 800)
    history = 60 // runner.KEEP_ROLLUPS_FACTOR * runner.MIN_ROW_BYTES  # bytes: 3 rows' worth
    assert runner.maintains_rollups(merchant, "orders", history)
    assert not runner.maintains_rollups(merchant, "orders", history + runner.MIN_ROW_BYTES)
    assert not runner.maintains_rollups(merchant, "orders", None)  # size unknown
    assert not runner.maintains_rollups(merchant, "referrals", 10)
    rollups.suspend(merchant)
    assert not runner.maintains_rollups(merchant, "orders", 10)
