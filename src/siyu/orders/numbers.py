"""Order numbers and pickup codes. Pure: no database.

An order number is the merchant's local date and ten random digits,
``2026112204718265093`` style (18 digits, the length Chinese shoppers know
from marketplaces): readable aloud, sortable by day, and revealing nothing
about how many orders a merchant takes. It is unique per merchant by a
database constraint; the rare collision is retried with fresh digits.

A pickup code is six digits, unique among the open pickup orders of a store
(also a database constraint, retried the same way).
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Protocol

NUMBER_RANDOM_DIGITS = 10
PICKUP_CODE_DIGITS = 6
NUMBER_RE = re.compile(rf"^\d{{8}}\d{{{NUMBER_RANDOM_DIGITS}}}$")
PICKUP_CODE_RE = re.compile(rf"^\d{{{PICKUP_CODE_DIGITS}}}$")


class RandomSource(Protocol):
    def randrange(self, stop: int, /) -> int: ...


_SYSTEM = secrets.SystemRandom()


def order_number(local_date: date, rng: RandomSource | None = None) -> str:
    """``YYYYMMDD`` of the merchant's local date + 10 random digits."""
    source: RandomSource = rng or _SYSTEM
    return (
        f"{local_date:%Y%m%d}{source.randrange(10**NUMBER_RANDOM_DIGITS):0{NUMBER_RANDOM_DIGITS}d}"
    )


def pickup_code(rng: RandomSource | None = None) -> str:
    """Six digits, leading zeros kept (``004217``)."""
    source: RandomSource = rng or _SYSTEM
    return f"{source.randrange(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


def clean_code(text: str) -> str:
    """What staff typed, without spaces or dashes and with full-width digits made ASCII."""
    text = text.translate({0xFF10 + i: ord("0") + i for i in range(10)})
    return re.sub(r"[\s\-]", "", text)


def is_pickup_code(text: str) -> bool:
    return bool(PICKUP_CODE_RE.match(text))


def is_order_number(text: str) -> bool:
    return bool(NUMBER_RE.match(text))


def number_date(number: str) -> date | None:
    """The day an order number was issued, or None when it is not one."""
    if not is_order_number(number):
        return None
    try:
        return date(int(number[:4]), int(number[4:6]), int(number[6:8]))
    except ValueError:
        return None
