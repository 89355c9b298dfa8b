"""The SQL metrics agree with the pure reference calculators on random small histories.

Each example is a fresh merchant with a few customers (join channels "a", "b" or none) and
random sales: Siyu's or imported, any time of day (midnight edges included), refunded not,
in part or in full, with random attributions. Every metric is computed both ways.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.analytics import cohorts, metrics, rfm
from siyu.analytics import reference as ref
from siyu.analytics.testing import make_sale, sale_rows
from siyu.core.testing import make_merchant
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db

ORIGIN = date(2025, 12, 1)
attribution = st.one_of(st.none(), st.integers(1, 2))


@st.composite
def sale(draw: st.DrawFn) -> dict:
    amount = draw(st.integers(0, 5000))
    refund = draw(st.sampled_from(["none", "part", "full"]))
    refunded = {"none": 0, "full": amount}.get(refund, draw(st.integers(0, amount)))
    at = datetime.combine(ORIGIN + timedelta(days=draw(st.integers(0, 150))), datetime.min.time())
    at += timedelta(
        hours=draw(st.sampled_from([0, 7, 8, 12, 15, 16, 23])),
        minutes=draw(st.sampled_from([0, 1, 30, 59])),
        seconds=draw(st.sampled_from([0, 59])),
    )
    return {
        "customer": draw(st.integers(0, 4)),
        "at": at,
        "amount": amount,
        "refunded": refunded,
        "imported": draw(st.booleans()),
        "store_id": draw(attribution),
        "group_id": draw(attribution),
        "guide_id": draw(attribution),
        "distributor_id": draw(attribution),
        "campaign_id": draw(attribution),
        "live_room_id": draw(st.one_of(st.none(), st.just(1))),
    }


FILTERS = st.sampled_from(["none", "store", "guide", "channel", "segment", "campaign+channel"])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sales=st.lists(sale(), max_size=14),
    start=st.integers(0, 140),
    length=st.integers(1, 75),
    months=st.integers(1, 3),
    which=FILTERS,
)
def test_sql_agrees_with_the_reference(
    sales: list[dict], start: int, length: int, months: int, which: str
) -> None:
    merchant = make_merchant()
    channels_by_index = ["a", "b", "a", "", "b"]
    customers = [make_customer(merchant, join_channel=ch).pk for ch in channels_by_index]
    channels = dict(zip(customers, channels_by_index, strict=True))
    for s in sales:
        fields = dict(s)
        make_sale(merchant, customers[fields.pop("customer")], fields.pop("at"),
                  fields.pop("amount"), fields.pop("refunded"), **fields)  # fmt: skip
    rows = sale_rows(merchant)
    filters = {
        "none": ref.Filters(),
        "store": ref.Filters(store_ids=(1,)),
        "guide": ref.Filters(guide_ids=(1, 2)),
        "channel": ref.Filters(join_channels=("a",)),
        "segment": ref.Filters(customer_ids=frozenset(customers[:2])),
        "campaign+channel": ref.Filters(campaign_ids=(2,), join_channels=("b", "")),
    }[which]
    period = ref.Period(ORIGIN + timedelta(days=start), ORIGIN + timedelta(days=start + length))

    for by in (None, *ref.DIMENSIONS):
        expected = ref.sale_stats(rows, period, filters, by, channels)
        if by is None:
            expected = {None: expected.get(None, ref.SaleStats())}
        assert metrics.sale_stats(merchant, period, filters, by) == expected, by

    for boundaries, got in [
        (ref.month_boundaries(period), metrics.monthly_frequency(merchant, period, filters)),
        (ref.week_boundaries(period), metrics.weekly_repurchases(merchant, period, filters)),
    ]:
        expected_buckets = ref.bucket_stats(rows, boundaries, filters, None, channels)
        assert got == [(b, expected_buckets.get(b, ref.SaleStats())) for b in boundaries[:-1]]

    window = period.end - timedelta(days=ref.ACTIVE_MONTH_DAYS)
    pairs = [
        (s.day, s.customer_id)
        for s in rows
        if min(window, period.start) <= s.day < period.end and ref.matches(s, filters, channels)
    ]
    expected_activity = ref.activity(pairs, period)
    got_activity = metrics.activity(merchant, period, filters)
    assert got_activity == ref.Activity(
        expected_activity.active, expected_activity.dau, expected_activity.wau,
        expected_activity.mau, from_sales=True,
    )  # fmt: skip

    as_of = period.end
    customer_filters = ref.Filters(customer_ids=filters.customer_ids)
    for by in cohorts.COHORT_KEYS:
        matrix = cohorts.cohort_matrix(merchant, period, as_of, by, customer_filters)
        visible = [s for s in rows if ref.matches(s, customer_filters, channels)]
        assert matrix.rows == ref.cohort_matrix(visible, period, as_of, by, channels), by
    month = ref.month_start(period.start)
    assert cohorts.cohort_repurchase(merchant, month, months, as_of) == ref.cohort_repurchase(
        rows, month, months, as_of
    )
    assert rfm.rfm_inputs(merchant, as_of) == ref.rfm_inputs(rows, as_of)
