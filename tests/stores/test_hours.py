"""Pure opening-hours logic: validation, open now, next change, summary. No database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from siyu.stores import hours

# 2026-11-23 is a Monday
MON = datetime(2026, 11, 23)


def at(day: int, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return MON + timedelta(days=day, hours=h, minutes=m)


def test_validate_normalizes_to_seven_sorted_days():
    value, errors = hours.validate(
        {"tue": [["16:00", "21:00"], ["07:00", "14:00"]], "sun": [["18:00", "00:00"]]}
    )
    assert errors == {}
    assert list(value) == list(hours.DAYS)
    assert value["tue"] == [["07:00", "14:00"], ["16:00", "21:00"]]
    assert value["sun"] == [["18:00", "24:00"]]  # midnight is written 24:00
    assert value["mon"] == []
    assert hours.validate(None) == (hours.empty(), {})
    assert hours.validate({"mon": None})[0]["mon"] == []


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ([["07:00", "21:00"]], "opening_hours"),
        ({"monday": [["07:00", "21:00"]]}, "opening_hours.monday"),
        ({"mon": "07:00-21:00"}, "opening_hours.mon"),
        ({"mon": [["07:00"]]}, "opening_hours.mon.0"),
        ({"mon": [["07:00", "21:00"], ["7am", "9pm"]]}, "opening_hours.mon.1"),
        ({"mon": [["24:00", "02:00"]]}, "opening_hours.mon.0"),
        ({"mon": [["07:00", "24:30"]]}, "opening_hours.mon.0"),
        ({"mon": [["07:60", "21:00"]]}, "opening_hours.mon.0"),
        ({"mon": [["09:00", "09:00"]]}, "opening_hours.mon.0"),
        ({"mon": [[7, 21]]}, "opening_hours.mon.0"),
        ({"mon": [["07:00", "14:00"], ["13:00", "21:00"]]}, "opening_hours.mon.1"),
        ({"mon": [["07:00", "21:00"]] * 7}, "opening_hours.mon"),
        # Friday's late range runs into Saturday morning's
        ({"fri": [["20:00", "03:00"]], "sat": [["02:00", "10:00"]]}, "opening_hours.sat.0"),
        # Sunday night runs into Monday morning across the week's end
        ({"sun": [["22:00", "02:00"]], "mon": [["01:00", "10:00"]]}, "opening_hours.mon.0"),
    ],
)
def test_invalid_hours_name_the_range(value, field):
    _value, errors = hours.validate(value)
    assert field in errors, errors
    with pytest.raises(ValueError, match=r"."):
        hours.normalize(value)


def test_touching_ranges_are_fine():
    _value, errors = hours.validate(
        {"mon": [["07:00", "12:00"], ["12:00", "18:00"]], "sun": [["20:00", "00:00"]]}
    )
    assert errors == {}


def test_open_now_with_breaks_and_past_midnight():
    h = hours.normalize(
        {
            "mon": [["07:00", "14:00"], ["16:00", "21:00"]],
            "fri": [["18:00", "02:00"]],
            "sun": [["22:00", "01:00"]],
        }
    )
    assert hours.is_open_at(h, at(0, "07:00"))
    assert hours.is_open_at(h, at(0, "13:59"))
    assert not hours.is_open_at(h, at(0, "14:00"))  # the closing minute is closed
    assert not hours.is_open_at(h, at(0, "15:00"))
    assert not hours.is_open_at(h, at(1, "10:00"))  # Tuesday: closed all day
    assert hours.is_open_at(h, at(5, "01:30"))  # Saturday early: Friday's late range
    assert not hours.is_open_at(h, at(5, "02:00"))
    assert hours.is_open_at(h, at(0, "00:30"))  # Monday early: Sunday's late range
    assert not hours.is_open_at(h, at(0, "01:00"))
    assert not hours.is_open_at(hours.empty(), at(2, "12:00"))


def test_next_change():
    h = hours.normalize(
        {"mon": [["07:00", "21:00"]], "wed": [["08:00", "24:00"]], "thu": [["00:00", "02:00"]]}
    )
    assert hours.next_change(h, at(0, "06:15")) == at(0, "07:00")
    assert hours.next_change(h, at(0, "12:00")) == at(0, "21:00")
    assert hours.next_change(h, at(0, "22:00")) == at(2, "08:00")
    # Wednesday 08:00 to Thursday 02:00 is one stretch
    assert hours.next_change(h, at(2, "23:00")) == at(3, "02:00")
    # after Thursday the next opening is next Monday
    assert hours.next_change(h, at(4, "09:00")) == at(7, "07:00")
    always = hours.normalize({d: [["00:00", "24:00"]] for d in hours.DAYS})
    assert hours.next_change(always, at(3, "12:00")) is None
    assert hours.next_change(hours.empty(), at(3, "12:00")) is None


def test_summary_groups_equal_days():
    with translation.override("en"):
        weekdays = {d: [["07:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        h = hours.normalize({**weekdays, "sat": [["08:00", "22:00"]], "sun": [["08:00", "22:00"]]})
        assert hours.summary(h) == [("Mon–Fri", "07:00–21:00"), ("Sat–Sun", "08:00–22:00")]
        assert (
            hours.summary_text(hours.normalize(weekdays)) == "Mon–Fri 07:00–21:00; Sat–Sun Closed"
        )
        assert hours.summary_text(
            hours.normalize({d: [["00:00", "24:00"]] for d in hours.DAYS})
        ) == ("Every day Open 24 hours")
        split = hours.normalize(
            {"mon": [["07:00", "14:00"], ["16:00", "21:00"]], "wed": [["07:00", "21:00"]]}
        )
        assert hours.summary(split) == [
            ("Mon", "07:00–14:00, 16:00–21:00"),
            ("Tue", "Closed"),
            ("Wed", "07:00–21:00"),
            ("Thu–Sun", "Closed"),
        ]
    with translation.override("zh-hans"):
        assert hours.summary(h)[0] == ("周一至周五", "07:00–21:00")


times = st.integers(0, 24 * 60 - 1).map(hours.format_time)
ranges = st.lists(st.tuples(times, times).filter(lambda r: r[0] != r[1]).map(list), max_size=3)
weekly = st.fixed_dictionaries({}, optional=dict.fromkeys(hours.DAYS, ranges))
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1))


@given(weekly)
def test_valid_hours_are_stable_under_normalization(value):
    normalized, errors = hours.validate(value)
    if not errors:
        assert hours.validate(normalized) == (normalized, {})


@given(weekly, moments)
def test_open_now_agrees_with_a_minute_by_minute_walk(value, moment):
    normalized, errors = hours.validate(value)
    if errors:
        return
    moment = moment.replace(second=0, microsecond=0)
    # what the ranges say directly: today's ranges, and yesterday's that run past midnight
    minute = moment.hour * 60 + moment.minute
    today = hours.DAYS[moment.weekday()]
    yesterday = hours.DAYS[(moment.weekday() - 1) % 7]
    expected = False
    for opens, closes in normalized[today]:
        o, c = hours.parse_time(opens), hours.parse_time(closes, closing=True)
        expected |= o <= minute < c if c > o else o <= minute
    for opens, closes in normalized[yesterday]:
        o, c = hours.parse_time(opens), hours.parse_time(closes, closing=True)
        expected |= c < o and minute < c
    assert hours.is_open_at(normalized, moment) is expected


@given(weekly, moments)
def test_next_change_flips_the_state(value, moment):
    normalized, errors = hours.validate(value)
    if errors:
        return
    moment = moment.replace(second=0, microsecond=0)
    change = hours.next_change(normalized, moment)
    state = hours.is_open_at(normalized, moment)
    if change is None:
        return
    assert moment < change <= moment + timedelta(days=7)
    assert hours.is_open_at(normalized, change) is not state
    assert hours.is_open_at(normalized, change - timedelta(minutes=1)) is state
