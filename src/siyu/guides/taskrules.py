"""The rules of guides' daily follow-up tasks and their completion rate (pure: no database).

For one merchant-local ``today`` and the facts of a guide's customer, the rules say
which tasks exist and on which day each is due:

* ``new_customer`` — bound to the guide in the last 24 hours and the guide has not
  written to them in their 1:1 chat yet. Due the local day 24 hours after the
  binding (one task per binding, however often the generator runs).
* ``birthday`` — the birthday (month and day) falls in this week, Monday to Sunday
  in the merchant's time zone. Due on the birthday itself; a 29 February birthday
  is kept on 28 February in other years.
* ``dormant`` — the last order was at least ``dormant_days`` ago (or the customer has
  never ordered and has been the guide's for ``dormant_days``), and the guide had no
  dormant task for them in the last :data:`DORMANT_REPEAT_DAYS` days (whatever its
  status: a customer is not chased every day). Due today. At most
  :data:`DORMANT_DAILY_CAP` a day per guide, the customers who spent most first.

The completion rate of a guide over a period is ``done / (done + skipped + open
past due)``; open tasks not yet due do not count; ``None`` when there is nothing to
count.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

NEW_CUSTOMER = "new_customer"
BIRTHDAY = "birthday"
DORMANT = "dormant"
NEW_WINDOW = timedelta(hours=24)
DORMANT_REPEAT_DAYS = 7
DORMANT_DAILY_CAP = 10


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: int
    guide_id: int
    owner_since: datetime | None = None
    birthday: date | None = None
    last_order_at: datetime | None = None
    total_spent: int = 0
    guide_has_written: bool = False  # the guide sent a message in their 1:1 chat
    dormant_task_recently: bool = False  # a dormant task due in the last 7 days


@dataclass(frozen=True)
class DueTask:
    guide_id: int
    customer_id: int
    kind: str
    due_on: date


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week of ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def birthday_in_year(birthday: date, year: int) -> date:
    """The birthday's date in ``year`` (29 February → 28 February in common years)."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def birthday_this_week(birthday: date | None, today: date) -> date | None:
    """The day of the birthday when it falls in ``today``'s week (Monday–Sunday), else None."""
    if birthday is None:
        return None
    monday, sunday = week_of(today)
    for year in {monday.year, sunday.year}:  # a week may span New Year
        day = birthday_in_year(birthday, year)
        if monday <= day <= sunday:
            return day
    return None


def local_date(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def is_new_customer(facts: CustomerFacts, now: datetime) -> bool:
    return (
        facts.owner_since is not None
        and now - NEW_WINDOW <= facts.owner_since <= now
        and not facts.guide_has_written
    )


def is_dormant(facts: CustomerFacts, now: datetime, dormant_days: int) -> bool:
    if facts.dormant_task_recently:
        return False
    cutoff = now - timedelta(days=dormant_days)
    if facts.last_order_at is not None:
        return facts.last_order_at <= cutoff
    return facts.owner_since is not None and facts.owner_since <= cutoff


def due_tasks(
    customers: Iterable[CustomerFacts],
    *,
    now: datetime,
    zone: tzinfo,
    dormant_days: int,
    dormant_cap: int = DORMANT_DAILY_CAP,
) -> list[DueTask]:
    """Every task the rules ask for at ``now`` (the merchant's local day in ``zone``)."""
    today = local_date(now, zone)
    tasks: list[DueTask] = []
    dormant: dict[int, list[CustomerFacts]] = {}
    for facts in customers:
        if is_new_customer(facts, now):
            assert facts.owner_since is not None
            due = local_date(facts.owner_since + NEW_WINDOW, zone)
            tasks.append(DueTask(facts.guide_id, facts.customer_id, NEW_CUSTOMER, due))
        birthday = birthday_this_week(facts.birthday, today)
        if birthday is not None:
            tasks.append(DueTask(facts.guide_id, facts.customer_id, BIRTHDAY, birthday))
        if is_dormant(facts, now, dormant_days):
            dormant.setdefault(facts.guide_id, []).append(facts)
    for guide_id, candidates in dormant.items():
        candidates.sort(key=lambda f: (-f.total_spent, f.customer_id))
        tasks.extend(
            DueTask(guide_id, f.customer_id, DORMANT, today) for f in candidates[:dormant_cap]
        )
    return tasks


def completion_rate(done: int, skipped: int, open_past_due: int) -> float | None:
    """Done over done + skipped + open past due, from 0 to 1; None when nothing counts."""
    counted = done + skipped + open_past_due
    if counted <= 0:
        return None
    return done / counted


def period_start(today: date, period: str) -> date:
    """First day of a period ending ``today``: ``today``, ``7d``, ``30d`` or ``month``."""
    if period == "today":
        return today
    if period == "7d":
        return today - timedelta(days=6)
    if period == "30d":
        return today - timedelta(days=29)
    if period == "month":
        return today.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


PERIODS = ("today", "7d", "30d", "month")
