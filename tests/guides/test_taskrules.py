"""The task rules and the completion rate: pure functions, dates and time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from siyu.guides import taskrules
from siyu.guides.taskrules import CustomerFacts, DueTask

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 2026-03-11, 10:00 in Shanghai
NOW = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)


def kinds(facts, now=NOW, zone=SHANGHAI, dormant_days=30, **kw):
    return [
        (t.kind, t.due_on)
        for t in taskrules.due_tasks(facts, now=now, zone=zone, dormant_days=dormant_days, **kw)
    ]


def test_week_is_monday_to_sunday():
    assert taskrules.week_of(date(2026, 3, 11)) == (date(2026, 3, 9), date(2026, 3, 15))
    assert taskrules.week_of(date(2026, 3, 9)) == (date(2026, 3, 9), date(2026, 3, 15))
    assert taskrules.week_of(date(2026, 3, 15)) == (date(2026, 3, 9), date(2026, 3, 15))


@pytest.mark.parametrize(
    ("birthday", "today", "expected"),
    [
        (date(1990, 3, 9), date(2026, 3, 11), date(2026, 3, 9)),  # Monday, already past
        (date(1990, 3, 15), date(2026, 3, 11), date(2026, 3, 15)),  # Sunday
        (date(1990, 3, 16), date(2026, 3, 11), None),  # next Monday
        (date(1990, 3, 8), date(2026, 3, 11), None),  # last Sunday
        (date(1985, 1, 2), date(2025, 12, 31), date(2026, 1, 2)),  # week across New Year
        (date(1985, 12, 29), date(2026, 1, 1), date(2025, 12, 29)),
        (date(1996, 2, 29), date(2026, 2, 25), date(2026, 2, 28)),  # not a leap year
        (date(1996, 2, 29), date(2028, 3, 1), date(2028, 2, 29)),
        (None, date(2026, 3, 11), None),
    ],
)
def test_birthday_this_week(birthday, today, expected):
    assert taskrules.birthday_this_week(birthday, today) == expected


def test_birthday_week_follows_the_merchant_time_zone():
    # Sunday 2026-03-15 20:00 UTC is already Monday 16 March in Shanghai: a new week
    sunday_night = datetime(2026, 3, 15, 20, 0, tzinfo=UTC)
    facts = [CustomerFacts(1, 7, birthday=date(1990, 3, 16))]
    assert kinds(facts, now=sunday_night) == [("birthday", date(2026, 3, 16))]
    assert kinds(facts, now=sunday_night, zone=ZoneInfo("UTC")) == []


def test_new_customer_within_24_hours_until_the_guide_writes():
    bound = NOW - timedelta(hours=5)
    fresh = CustomerFacts(1, 7, owner_since=bound)
    assert kinds([fresh]) == [("new_customer", date(2026, 3, 12))]
    written = CustomerFacts(1, 7, owner_since=bound, guide_has_written=True)
    assert kinds([written]) == []
    old = CustomerFacts(1, 7, owner_since=NOW - timedelta(hours=24, minutes=1))
    assert kinds([old]) == []


def test_new_customer_due_date_is_stable_across_runs():
    bound = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai on the 10th
    facts = [CustomerFacts(1, 7, owner_since=bound)]
    first = kinds(facts, now=bound + timedelta(minutes=10))
    later = kinds(facts, now=bound + timedelta(hours=20))
    assert first == later == [("new_customer", date(2026, 3, 11))]


def test_dormant_rules():
    days = 30
    old_order = CustomerFacts(1, 7, last_order_at=NOW - timedelta(days=30))
    recent_order = CustomerFacts(2, 7, last_order_at=NOW - timedelta(days=29))
    never_old = CustomerFacts(3, 7, owner_since=NOW - timedelta(days=31))
    never_new = CustomerFacts(4, 7, owner_since=NOW - timedelta(days=3))
    reminded = CustomerFacts(
        5, 7, last_order_at=NOW - timedelta(days=90), dormant_task_recently=True
    )
    result = taskrules.due_tasks(
        [old_order, recent_order, never_old, never_new, reminded],
        now=NOW,
        zone=SHANGHAI,
        dormant_days=days,
    )
    assert sorted(t.customer_id for t in result) == [1, 3]
    assert {t.due_on for t in result} == {date(2026, 3, 11)}


def test_dormant_tasks_capped_per_guide_best_customers_first():
    facts = [
        CustomerFacts(i, 7 if i <= 5 else 8, last_order_at=NOW - timedelta(days=60), total_spent=i)
        for i in range(1, 9)
    ]
    result = taskrules.due_tasks(facts, now=NOW, zone=SHANGHAI, dormant_days=30, dormant_cap=2)
    assert sorted((t.guide_id, t.customer_id) for t in result) == [(7, 4), (7, 5), (8, 7), (8, 8)]


def test_one_customer_can_have_several_kinds():
    facts = CustomerFacts(1, 7, owner_since=NOW - timedelta(hours=1), birthday=date(2000, 3, 12))
    assert set(taskrules.due_tasks([facts], now=NOW, zone=SHANGHAI, dormant_days=30)) == {
        DueTask(7, 1, "new_customer", date(2026, 3, 12)),
        DueTask(7, 1, "birthday", date(2026, 3, 12)),
    }


@pytest.mark.parametrize(
    ("done", "skipped", "overdue", "rate"),
    [(3, 1, 0, 0.75), (1, 1, 2, 0.25), (0, 0, 0, None), (0, 0, 4, 0.0), (5, 0, 0, 1.0)],
)
def test_completion_rate(done, skipped, overdue, rate):
    assert taskrules.completion_rate(done, skipped, overdue) == rate


def test_period_starts():
    today = date(2026, 3, 11)
    assert taskrules.period_start(today, "today") == today
    assert taskrules.period_start(today, "7d") == date(2026, 3, 5)
    assert taskrules.period_start(today, "30d") == date(2026, 2, 10)
    assert taskrules.period_start(today, "month") == date(2026, 3, 1)
    with pytest.raises(ValueError, match="period"):
        taskrules.period_start(today, "year")
