"""Opening hours: the JSON format, its validation, "open now" and a readable summary.

Pure: no database. The stored and exchanged format is one list of ranges per
weekday, each range ``[opens, closes]`` as ``"HH:MM"`` in the store's local
time (the merchant's time zone)::

    {"mon": [["07:00", "14:00"], ["16:00", "21:00"]],
     "fri": [["07:00", "02:00"]],          # closes at 02:00 on Saturday
     "sun": [["00:00", "24:00"]]}          # all day

A day that is missing or has an empty list is closed. A range whose closing
time is earlier than its opening time runs past midnight into the next day.
``"24:00"`` is allowed as a closing time only. :func:`validate` returns all
seven days in order, each day's ranges sorted, so equal hours compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
MAX_RANGES_PER_DAY = 6

DAY_NAMES: dict[str, Promise] = {
    "mon": pgettext_lazy("weekday", "Monday"),
    "tue": pgettext_lazy("weekday", "Tuesday"),
    "wed": pgettext_lazy("weekday", "Wednesday"),
    "thu": pgettext_lazy("weekday", "Thursday"),
    "fri": pgettext_lazy("weekday", "Friday"),
    "sat": pgettext_lazy("weekday", "Saturday"),
    "sun": pgettext_lazy("weekday", "Sunday"),
}
DAY_ABBREVIATIONS: dict[str, Promise] = {
    "mon": pgettext_lazy("weekday", "Mon"),
    "tue": pgettext_lazy("weekday", "Tue"),
    "wed": pgettext_lazy("weekday", "Wed"),
    "thu": pgettext_lazy("weekday", "Thu"),
    "fri": pgettext_lazy("weekday", "Fri"),
    "sat": pgettext_lazy("weekday", "Sat"),
    "sun": pgettext_lazy("weekday", "Sun"),
}

WeeklyHours = dict[str, list[list[str]]]
_TIME_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def parse_time(text: object, *, closing: bool = False) -> int | None:
    """Minutes after midnight of ``"HH:MM"``; ``"24:00"`` only as a closing time."""
    if not isinstance(text, str):
        return None
    match = _TIME_RE.match(text.strip())
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and (minutes != 0 or not closing):
        return None
    return hours * 60 + minutes


def format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _canonical_range(opens: int, closes: int) -> list[str]:
    # a range that ends at midnight is written "24:00", never "00:00"
    return [format_time(opens), "24:00" if closes in (0, DAY_MINUTES) else format_time(closes)]


def empty() -> WeeklyHours:
    return {day: [] for day in DAYS}


def validate(value: Any, field: str = "opening_hours") -> tuple[WeeklyHours, dict[str, str]]:
    """``(normalized hours, {field: reason})``; the hours are meaningful only without errors.

    Field names point into the structure (``opening_hours.fri.1``, ranges
    counted from 0), so a form or an API client can show the reason next to
    the range that is wrong.
    """
    errors: dict[str, str] = {}
    result = empty()
    if value is None or value == "":
        return result, errors
    if not isinstance(value, dict):
        errors[field] = _('Expected an object of weekdays, e.g. {"mon": [["07:00", "21:00"]]}.')
        return result, errors
    intervals: list[tuple[int, int, str]] = []  # minutes of the week, with the field to blame
    for key, ranges in value.items():
        day_field = f"{field}.{key}"
        if key not in DAYS:
            errors[day_field] = _("Unknown day: use mon, tue, wed, thu, fri, sat or sun.")
            continue
        if ranges is None:
            continue
        if not isinstance(ranges, list):
            errors[day_field] = _("Expected a list of [opens, closes] ranges.")
            continue
        if len(ranges) > MAX_RANGES_PER_DAY:
            errors[day_field] = _("At most %(n)d ranges a day.") % {"n": MAX_RANGES_PER_DAY}
            continue
        day_start = DAYS.index(key) * DAY_MINUTES
        parsed: list[tuple[int, int]] = []
        for i, pair in enumerate(ranges):
            range_field = f"{day_field}.{i}"
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                errors[range_field] = _('Expected two times, e.g. ["07:00", "21:00"].')
                continue
            opens = parse_time(pair[0])
            closes = parse_time(pair[1], closing=True)
            if opens is None or closes is None:
                errors[range_field] = _("Times are written HH:MM, from 00:00 to 24:00.")
                continue
            if opens == closes:
                errors[range_field] = _("The closing time must differ from the opening time.")
                continue
            closes_at = closes if closes > opens else closes + DAY_MINUTES  # past midnight
            parsed.append((opens, closes))
            intervals.append((day_start + opens, day_start + closes_at, range_field))
        result[key] = [_canonical_range(o, c) for o, c in sorted(parsed)]
    for name in _overlapping(intervals):
        errors.setdefault(name, _("This range overlaps another one."))
    return result, errors


def _overlapping(intervals: list[tuple[int, int, str]]) -> list[str]:
    """Names of ranges that overlap an earlier one, anywhere in the week.

    A late Sunday range spills into Monday morning, so it is also checked
    shifted back by one week.
    """
    unrolled = list(intervals) + [
        (start - WEEK_MINUTES, end - WEEK_MINUTES, name)
        for start, end, name in intervals
        if end > WEEK_MINUTES
    ]
    unrolled.sort()
    found: list[str] = []
    reach, reach_name = -WEEK_MINUTES, ""
    for start, end, name in unrolled:
        if start < reach and name != reach_name:
            found.append(name)
        if end > reach:
            reach, reach_name = end, name
    return found


def normalize(value: Any) -> WeeklyHours:
    """Hours in canonical form; raises ``ValueError`` with the first reason when invalid."""
    hours, errors = validate(value)
    if errors:
        raise ValueError(next(iter(errors.values())))
    return hours


@dataclass(frozen=True)
class Interval:
    start: int  # minutes after the first Monday 00:00
    end: int


def weekly_intervals(hours: WeeklyHours) -> list[Interval]:
    """Open intervals over two consecutive weeks, sorted, merged where they touch."""
    raw: list[tuple[int, int]] = []
    for day_index, day in enumerate(DAYS):
        for opens, closes in _ranges_of(hours, day):
            closes_at = closes if closes > opens else closes + DAY_MINUTES
            start = day_index * DAY_MINUTES + opens
            raw.append((start, day_index * DAY_MINUTES + closes_at))
    # two weeks, so that the next opening is found across the week's end, and the
    # tail of a Sunday-night range also covers the first Monday morning
    raw = (
        raw
        + [(s + WEEK_MINUTES, e + WEEK_MINUTES) for s, e in raw]
        + [(s - WEEK_MINUTES, e - WEEK_MINUTES) for s, e in raw if e > WEEK_MINUTES]
    )
    raw.sort()
    merged: list[Interval] = []
    for start, end in raw:
        if merged and start <= merged[-1].end:
            if end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, end)
        else:
            merged.append(Interval(start, end))
    return merged


def _minute_of_week(moment: datetime) -> int:
    return moment.weekday() * DAY_MINUTES + moment.hour * 60 + moment.minute


def _ranges_of(hours: WeeklyHours, day: str) -> list[tuple[int, int]]:
    parsed = []
    for pair in hours.get(day) or []:
        opens = parse_time(pair[0])
        closes = parse_time(pair[1], closing=True)
        if opens is not None and closes is not None and opens != closes:
            parsed.append((opens, closes))
    return parsed


def is_open_at(hours: WeeklyHours, moment: datetime) -> bool:
    """Whether the hours cover ``moment`` (a datetime in the store's local time).

    Looks only at the day's ranges and at the previous day's ranges that run
    past midnight, so it stays cheap enough to filter thousands of stores.
    """
    now = moment.hour * 60 + moment.minute
    today = moment.weekday()
    for opens, closes in _ranges_of(hours, DAYS[today]):
        if opens <= now < (closes if closes > opens else DAY_MINUTES):
            return True
    return any(
        closes < opens and now < closes for opens, closes in _ranges_of(hours, DAYS[today - 1])
    )


def next_change(hours: WeeklyHours, moment: datetime) -> datetime | None:
    """When the store next opens (if closed) or closes (if open); None if that never happens."""
    now = _minute_of_week(moment)
    base = moment.replace(second=0, microsecond=0)
    for interval in weekly_intervals(hours):
        if interval.start <= now < interval.end:
            if interval.end - now > WEEK_MINUTES:
                return None  # open around the clock
            return base + timedelta(minutes=interval.end - now)
        if interval.start > now:
            return base + timedelta(minutes=interval.start - now)
    return None


def _ranges_text(ranges: list[list[str]]) -> str:
    if not ranges:
        return pgettext("opening hours", "Closed")
    if ranges == [["00:00", "24:00"]]:
        return _("Open 24 hours")
    return ", ".join(f"{opens}–{closes}" for opens, closes in ranges)


def summary(hours: WeeklyHours) -> list[tuple[str, str]]:
    """``[(days, times), ...]`` with consecutive days of equal hours grouped.

    E.g. ``[("Mon–Fri", "07:00–21:00"), ("Sat–Sun", "08:00–22:00")]``.
    """
    days = [(day, hours.get(day) or []) for day in DAYS]
    if all(ranges == days[0][1] for _day, ranges in days):
        return [(_("Every day"), _ranges_text(days[0][1]))]
    groups: list[tuple[str, str, list[list[str]]]] = []
    for day, ranges in days:
        if groups and groups[-1][2] == ranges:
            groups[-1] = (groups[-1][0], day, ranges)
        else:
            groups.append((day, day, ranges))
    lines: list[tuple[str, str]] = []
    for first, last, ranges in groups:
        if first == last:
            label = str(DAY_ABBREVIATIONS[first])
        else:
            label = _("%(first)s–%(last)s") % {
                "first": DAY_ABBREVIATIONS[first],
                "last": DAY_ABBREVIATIONS[last],
            }
        lines.append((label, _ranges_text(ranges)))
    return lines


def summary_text(hours: WeeklyHours) -> str:
    """The summary on one line: ``Mon–Fri 07:00–21:00; Sat–Sun 08:00–22:00``."""
    return "; ".join(f"{days} {times}" for days, times in summary(hours))
