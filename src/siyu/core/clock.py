"""The one place that reads the time, so tests and simulations can move it."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def local(moment: datetime, time_zone: str) -> datetime:
    return moment.astimezone(zone(time_zone))
