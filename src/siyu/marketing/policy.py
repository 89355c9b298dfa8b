"""The messaging policy as pure calculations: cap periods, quiet hours, the skip decision.

No database access: the send engine (:mod:`siyu.marketing.engine`) turns the same
rules into SQL, and the tests hold the two against each other.

**Precedence of skip reasons** (the first that applies is recorded):

1. ``blocked`` — a blocked customer gets nothing, marketing or not;
2. ``opted_out`` — the customer refused marketing on the channel (marketing only:
   service messages such as "your order is ready" ignore opt-outs, caps and quiet hours);
3. ``quiet_hours`` — the send happens inside the merchant's quiet hours (marketing only;
   the same for every customer, so it outranks the per-customer cap);
4. ``capped`` — the customer already received ``cap_count`` marketing messages since the
   start of the current period (day, week from Monday, month) in the merchant's time zone.

A customer refusing a channel is reported as opted out even during quiet hours: the
refusal is the lasting reason, quiet hours a passing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = "day"
WEEK = "week"
MONTH = "month"
PERIODS = (DAY, WEEK, MONTH)
MIN_CAP = 1
MAX_CAP = 100

BLOCKED = "blocked"
OPTED_OUT = "opted_out"
QUIET_HOURS = "quiet_hours"
CAPPED = "capped"
REASONS = (BLOCKED, OPTED_OUT, QUIET_HOURS, CAPPED)  # in order of precedence


def period_start(now: datetime, period: str, time_zone: str | ZoneInfo) -> datetime:
    """The start of the cap period containing ``now`` (aware), as an aware datetime in UTC terms.

    Day: local midnight. Week: local midnight of the Monday. Month: local midnight of the 1st.
    Computed on the local calendar date, so daylight-saving changes do not shift it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    local_day = now.astimezone(zone).date()
    if period == DAY:
        start_day = local_day
    elif period == WEEK:
        start_day = local_day - timedelta(days=local_day.weekday())
    elif period == MONTH:
        start_day = local_day.replace(day=1)
    else:
        raise ValueError(f"unknown cap period {period!r}")
    return datetime.combine(start_day, time(0), tzinfo=zone)


def in_quiet_hours(local_time: time, start: time | None, end: time | None) -> bool:
    """Whether ``local_time`` (the merchant's wall clock) falls in quiet hours [start, end).

    ``start < end``: the same day (13:00–14:00). ``start > end``: across midnight
    (21:00–09:00 is quiet from 21:00 to 08:59:59). ``start == end`` or either missing: none.
    """
    if start is None or end is None or start == end:
        return False
    moment = local_time.replace(tzinfo=None)
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def quiet_now(
    now: datetime, start: time | None, end: time | None, time_zone: str | ZoneInfo
) -> bool:
    """:func:`in_quiet_hours` for an aware ``now``, read on the merchant's wall clock."""
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    return in_quiet_hours(now.astimezone(zone).time(), start, end)


@dataclass(frozen=True)
class Recipient:
    """What the skip decision needs to know of one customer."""

    blocked: bool = False
    opted_out: bool = False
    sent_in_period: int = 0  # marketing messages sent to them since the period start


def skip_reason(
    recipient: Recipient, *, is_marketing: bool, quiet: bool, cap_count: int
) -> str | None:
    """Why ``recipient`` is skipped, or None when the message goes to them."""
    if recipient.blocked:
        return BLOCKED
    if not is_marketing:
        return None
    if recipient.opted_out:
        return OPTED_OUT
    if quiet:
        return QUIET_HOURS
    if recipient.sent_in_period >= cap_count:
        return CAPPED
    return None


def policy_problems(
    cap_count: object, cap_period: object, quiet_start: object, quiet_end: object
) -> dict[str, str]:
    """Field → problem code of a policy change (messages are added by the service)."""
    problems: dict[str, str] = {}
    if (
        not isinstance(cap_count, int)
        or isinstance(cap_count, bool)
        or not MIN_CAP <= cap_count <= MAX_CAP
    ):
        problems["cap_count"] = "range"
    if cap_period not in PERIODS:
        problems["cap_period"] = "choice"
    for name, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if value is not None and not isinstance(value, time):
            problems[name] = "time"
    if (quiet_start is None) != (quiet_end is None):
        problems["quiet_end" if quiet_end is None else "quiet_start"] = "pair"
    return problems


def funnel(counts: Sequence[int]) -> list[int]:
    """Widths in percent (0–100) of funnel bars, relative to the first (targeted) count."""
    if not counts or counts[0] <= 0:
        return [0 for _ in counts]
    top = counts[0]
    return [max(0, min(100, round(100 * n / top))) for n in counts]
