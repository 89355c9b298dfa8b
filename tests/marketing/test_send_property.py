"""Property: for random customers and a random policy, the send skips exactly the customers the
pure rules of ``siyu.marketing.policy`` say, with the reason they give."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.core.models import Merchant
from siyu.customers.models import Customer
from siyu.marketing import engine, policy
from siyu.marketing.models import Broadcast, Delivery, MessagingPolicy
from siyu.marketing.testing import (
    make_broadcast,
    make_customers,
    make_group_with,
    past_deliveries,
    refuse,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 11, 22, 30, tzinfo=SHANGHAI)  # a Wednesday evening

customer = st.fixed_dictionaries(
    {
        "blocked": st.booleans(),
        "refused_inbox": st.booleans(),
        "refused_other": st.booleans(),
        # hours before now of earlier marketing messages: today, this week, this month, older
        "earlier": st.lists(st.sampled_from([1, 20, 50, 200, 24 * 40]), max_size=4),
        "earlier_service": st.lists(st.sampled_from([1, 20]), max_size=2),
    }
)
quiet = st.sampled_from(
    [(None, None), (time(21), time(9)), (time(9), time(12)), (time(22), time(22))]
)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(customer, min_size=1, max_size=12),
    cap_count=st.integers(min_value=1, max_value=3),
    cap_period=st.sampled_from(policy.PERIODS),
    quiet_hours=quiet,
    is_marketing=st.booleans(),
)
def test_send_skips_exactly_whom_the_rules_say(
    merchant: Merchant,
    monkeypatch: pytest.MonkeyPatch,
    people: list[dict],
    cap_count: int,
    cap_period: str,
    quiet_hours: tuple[time | None, time | None],
    is_marketing: bool,
) -> None:
    monkeypatch.setattr("siyu.core.clock.now", lambda: NOW)
    MessagingPolicy.unscoped.update_or_create(
        merchant=merchant,
        defaults={
            "cap_count": cap_count,
            "cap_period": cap_period,
            "quiet_start": quiet_hours[0],
            "quiet_end": quiet_hours[1],
        },
    )
    ids = make_customers(merchant, len(people))
    start = policy.period_start(NOW, cap_period, SHANGHAI)
    expected: dict[int, str] = {}
    quiet_now = policy.quiet_now(NOW, *quiet_hours, SHANGHAI)
    for pk, person in zip(ids, people, strict=True):
        if person["blocked"]:
            Customer.unscoped.filter(pk=pk).update(status=Customer.Status.BLOCKED)
        if person["refused_inbox"]:
            refuse(merchant, [pk])
        if person["refused_other"]:
            refuse(merchant, [pk], channel="sms")
        for hours in person["earlier"]:
            past_deliveries(merchant, [pk], at=NOW - timedelta(hours=hours))
        for hours in person["earlier_service"]:
            past_deliveries(merchant, [pk], at=NOW - timedelta(hours=hours), is_marketing=False)
        recipient = policy.Recipient(
            blocked=person["blocked"],
            opted_out=person["refused_inbox"],
            sent_in_period=sum(NOW - timedelta(hours=h) >= start for h in person["earlier"]),
        )
        reason = policy.skip_reason(
            recipient, is_marketing=is_marketing, quiet=quiet_now, cap_count=cap_count
        )
        expected[pk] = reason or "sent"
    group = make_group_with(merchant, ids)
    broadcast = make_broadcast(
        merchant, audience="groups", group_ids=[group.pk], is_marketing=is_marketing
    )

    done = engine.send_broadcast(broadcast)

    got = {
        d.customer_id: d.skip_reason or d.status
        for d in Delivery.unscoped.filter(broadcast=broadcast)
    }
    assert got == expected
    assert done.status == Broadcast.Status.SENT
    assert done.sent_count == sum(r == "sent" for r in expected.values())
