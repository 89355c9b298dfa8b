"""Turning one row's text into values (pure: no database): times, amounts, ids.

Every parser returns the value or raises :class:`Bad` with the reason; a row's problems
become report lines (row, field, reason) and the row is left out, the others go in.

* Times: ISO 8601 with or without an offset (``2025-03-01T09:30:00+08:00``, ``…Z``), or
  ``YYYY-MM-DD HH:MM[:SS]`` (also with ``/``); a time without an offset is the merchant's
  local time. A bare date is midnight local time.
* Amounts: a decimal in the currency's main unit (``128.50``, ``1,280.00``, ``¥12``),
  converted exactly to minor units: CNY/USD have 2 decimals, JPY/KRW 0, KWD/BHD 3. An
  amount that needs more decimals than its currency has is refused (``12.345`` in CNY);
  trailing zeros are not (``12.500`` is ``1250`` fen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from siyu.core import money

# ISO 4217 exponents: the core table plus the three-decimal dinars.
MINOR_UNITS: dict[str, int] = {
    **money.MINOR_UNITS,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "IQD": 3,
    "LYD": 3,
    "ISK": 0,
    "CLP": 0,
    "IDR": 2,
    "PHP": 2,
    "INR": 2,
    "CHF": 2,
    "NZD": 2,
    "AED": 2,
    "SAR": 2,
    "MOP": 2,
}
MAX_AMOUNT = money.MAX_AMOUNT
ID_MAX = 64
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


class Bad(ValueError):
    """A value that cannot be imported; the message is the reason shown in the report."""


def minor_units(currency: str) -> int:
    """The currency's decimals; :class:`Bad` for a currency Siyu does not know."""
    try:
        return MINOR_UNITS[currency.upper()]
    except KeyError:
        raise Bad(_("Unknown currency “%(code)s”.") % {"code": currency[:8]}) from None


def amount(text: str, exponent: int) -> int:
    """``"128.50"`` with exponent 2 → ``12850``; refuses negatives and excess decimals."""
    whole, dot, fraction = text.partition(".")
    if whole.isdigit() and (fraction.isdigit() or not dot) and len(fraction) <= exponent:
        # the common case, without Decimal: digits, a dot, at most ``exponent`` digits
        minor = int(whole) * 10**exponent + (int(fraction.ljust(exponent, "0")) if fraction else 0)
        if minor <= MAX_AMOUNT and whole.isascii() and fraction.isascii():
            return minor
    return _amount(text, exponent)


def _amount(text: str, exponent: int) -> int:
    cleaned = text.strip()
    if not cleaned[:1].isdigit():
        for symbol in ("¥", "￥", "$", "€", "£", "₩", "JP¥", "KD", "BD"):
            cleaned = cleaned.removeprefix(symbol).strip()
    cleaned = cleaned.removesuffix("元").strip()
    if "," in cleaned:
        head, _sep, tail = cleaned.partition(".")
        groups = head.split(",")
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise Bad(_("Use a dot for decimals; commas only between thousands."))
        cleaned = "".join(groups) + (f".{tail}" if _sep else "")
    if not cleaned or cleaned[0] in "+-" or cleaned.lower() != cleaned.upper():
        raise Bad(_("“%(value)s” is not an amount.") % {"value": text[:40]})
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise Bad(_("“%(value)s” is not an amount.") % {"value": text[:40]}) from None
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise Bad(
            _("At most %(n)d decimal places in this currency.") % {"n": exponent}
            if exponent
            else _("No decimal places in this currency.")
        )
    minor = int(scaled)
    if minor > MAX_AMOUNT:
        raise Bad(_("The amount is too large."))
    return minor


def timestamp(text: str, zone: tzinfo, *, now: datetime | None = None) -> datetime:
    """An aware datetime; a naive time is ``zone``'s local time."""
    try:
        value = datetime.fromisoformat(text) if len(text) > 10 else _other_time(text)
    except ValueError:
        try:
            value = _other_time(text)
        except ValueError:
            value = None
    if value is None:
        raise Bad(
            _("Write a time as YYYY-MM-DD HH:MM:SS or ISO 8601, e.g. 2025-03-01 09:30:00.")
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    if value < EARLIEST:
        raise Bad(_("A time before 1990 is not plausible."))
    if now is not None and value > now:
        raise Bad(_("The time is in the future."))
    return value


def _other_time(text: str) -> datetime:
    cleaned = text.strip().replace("/", "-")
    if cleaned.endswith(("z", "Z")):
        cleaned = cleaned[:-1] + "+00:00"
    if len(cleaned) == 10:
        return datetime.combine(date.fromisoformat(cleaned), time())
    return datetime.fromisoformat(cleaned)


def external_id(text: str) -> str:
    if len(text) > ID_MAX:
        raise Bad(_("At most %(n)d characters.") % {"n": ID_MAX})
    return text


def positive_id(text: str) -> int:
    """A Siyu id (a positive integer)."""
    if not text.isdigit() or int(text) <= 0 or len(text) > 18:
        raise Bad(_("Give the Siyu id (a whole number)."))
    return int(text)


@dataclass
class Problems:
    """The (field, reason) pairs of one row."""

    items: list[tuple[str, str]]

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, column: str, reason: str) -> None:
        self.items.append((column, reason))
