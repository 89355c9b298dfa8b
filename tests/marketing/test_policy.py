"""The pure policy rules: cap periods in the merchant's time zone, quiet hours, precedence."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siyu.marketing import policy
from siyu.marketing.policy import Recipient, skip_reason

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("now", "period", "start"),
    [
        # 2026-03-10 17:00 UTC is 01:00 on Wednesday the 11th in Shanghai
        (datetime(2026, 3, 10, 17, 0, tzinfo=UTC), "day", datetime(2026, 3, 11, tzinfo=SHANGHAI)),
        (datetime(2026, 3, 10, 15, 59, tzinfo=UTC), "day", datetime(2026, 3, 10, tzinfo=SHANGHAI)),
        (datetime(2026, 3, 10, 17, 0, tzinfo=UTC), "week", datetime(2026, 3, 9, tzinfo=SHANGHAI)),
        # Sunday 23:59 local is still the week that began on Monday the 2nd
        (
            datetime(2026, 3, 8, 23, 59, tzinfo=SHANGHAI),
            "week",
            datetime(2026, 3, 2, tzinfo=SHANGHAI),
        ),
        (
            datetime(2026, 3, 9, 0, 0, tzinfo=SHANGHAI),
            "week",
            datetime(2026, 3, 9, tzinfo=SHANGHAI),
        ),
        # 31 March 16:30 UTC is already 1 April in Shanghai
        (datetime(2026, 3, 31, 16, 30, tzinfo=UTC), "month", datetime(2026, 4, 1, tzinfo=SHANGHAI)),
        (datetime(2026, 3, 31, 15, 59, tzinfo=UTC), "month", datetime(2026, 3, 1, tzinfo=SHANGHAI)),
        (
            datetime(2026, 1, 1, 0, 0, tzinfo=SHANGHAI),
            "week",
            datetime(2025, 12, 29, tzinfo=SHANGHAI),
        ),
    ],
)
def test_period_start_in_the_merchant_time_zone(
    now: datetime, period: str, start: datetime
) -> None:
    assert policy.period_start(now, period, SHANGHAI) == start


def test_period_start_across_daylight_saving() -> None:
    # Berlin springs forward on 29 March 2026: the day still starts at local midnight (+01:00)
    now = datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)
    assert policy.period_start(now, "day", BERLIN).utcoffset().total_seconds() == 3600
    assert policy.period_start(now, "day", "Europe/Berlin") == datetime(2026, 3, 29, tzinfo=BERLIN)


def test_period_start_refuses_naive_times_and_unknown_periods() -> None:
    with pytest.raises(ValueError, match="aware"):
        policy.period_start(datetime(2026, 1, 1), "day", SHANGHAI)
    with pytest.raises(ValueError, match="period"):
        policy.period_start(datetime(2026, 1, 1, tzinfo=UTC), "year", SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "start", "end", "quiet"),
    [
        (time(21, 0), time(21), time(9), True),
        (time(23, 59), time(21), time(9), True),
        (time(0, 0), time(21), time(9), True),
        (time(8, 59, 59), time(21), time(9), True),
        (time(9, 0), time(21), time(9), False),
        (time(20, 59), time(21), time(9), False),
        (time(12, 0), time(21), time(9), False),
        (time(13, 0), time(13), time(14), True),
        (time(13, 59), time(13), time(14), True),
        (time(14, 0), time(13), time(14), False),
        (time(12, 59), time(13), time(14), False),
        (time(3, 0), time(22), time(22), False),  # start == end: no quiet hours
        (time(3, 0), None, None, False),
        (time(3, 0), time(1), None, False),
    ],
)
def test_quiet_hours(moment: time, start: time | None, end: time | None, quiet: bool) -> None:
    assert policy.in_quiet_hours(moment, start, end) is quiet


def test_quiet_now_reads_the_merchant_wall_clock() -> None:
    # 14:30 UTC is 22:30 in Shanghai: quiet there, not at 14:30
    now = datetime(2026, 3, 11, 14, 30, tzinfo=UTC)
    assert policy.quiet_now(now, time(21), time(9), SHANGHAI)
    assert not policy.quiet_now(now, time(21), time(9), UTC)


@given(
    moment=st.times(),
    start=st.times(),
    end=st.times(),
)
def test_quiet_hours_cross_midnight_is_the_complement_of_the_day_window(
    moment: time, start: time, end: time
) -> None:
    if start == end:
        assert not policy.in_quiet_hours(moment, start, end)
    elif start > end:  # 21–9 is quiet exactly when 9–21 is not
        assert policy.in_quiet_hours(moment, start, end) != policy.in_quiet_hours(
            moment, end, start
        )


def test_precedence_blocked_opted_out_quiet_capped() -> None:
    everything = Recipient(blocked=True, opted_out=True, sent_in_period=9)
    assert skip_reason(everything, is_marketing=True, quiet=True, cap_count=1) == "blocked"
    no_block = Recipient(opted_out=True, sent_in_period=9)
    assert skip_reason(no_block, is_marketing=True, quiet=True, cap_count=1) == "opted_out"
    capped = Recipient(sent_in_period=9)
    assert skip_reason(capped, is_marketing=True, quiet=True, cap_count=1) == "quiet_hours"
    assert skip_reason(capped, is_marketing=True, quiet=False, cap_count=1) == "capped"
    assert skip_reason(capped, is_marketing=True, quiet=False, cap_count=10) is None
    assert (
        skip_reason(Recipient(sent_in_period=1), is_marketing=True, quiet=False, cap_count=1)
        == "capped"
    )
    assert skip_reason(Recipient(), is_marketing=True, quiet=False, cap_count=1) is None


def test_service_messages_skip_only_the_blocked() -> None:
    assert (
        skip_reason(
            Recipient(opted_out=True, sent_in_period=5), is_marketing=False, quiet=True, cap_count=1
        )
        is None
    )
    assert (
        skip_reason(Recipient(blocked=True), is_marketing=False, quiet=False, cap_count=1)
        == "blocked"
    )


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ((1, "day", None, None), {}),
        ((100, "month", time(21), time(9)), {}),
        ((0, "day", None, None), {"cap_count": "range"}),
        ((101, "day", None, None), {"cap_count": "range"}),
        ((True, "day", None, None), {"cap_count": "range"}),
        ((1, "year", None, None), {"cap_period": "choice"}),
        ((1, "day", time(21), None), {"quiet_end": "pair"}),
        ((1, "day", None, time(9)), {"quiet_start": "pair"}),
        ((1, "day", "21:00", time(9)), {"quiet_start": "time"}),
    ],
)
def test_policy_problems(values: tuple, fields: dict[str, str]) -> None:
    assert policy.policy_problems(*values) == fields


def test_funnel_widths() -> None:
    assert policy.funnel([200, 100, 50, 0]) == [100, 50, 25, 0]
    assert policy.funnel([0, 0]) == [0, 0]
