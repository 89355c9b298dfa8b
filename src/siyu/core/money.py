"""Money is an integer count of minor units (fen for CNY). Decimal only for display and input.

No float ever touches an amount. ``parse_amount("12.3")`` is ``1230``;
``format_amount(1230)`` is ``"¥12.30"``.
"""

from __future__ import annotations

import re
from decimal import Decimal

# ISO 4217 minor-unit exponents for the currencies a merchant is likely to use.
MINOR_UNITS: dict[str, int] = {
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "MYR": 2,
    "AUD": 2,
    "CAD": 2,
    "THB": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
}
SYMBOLS: dict[str, str] = {
    "CNY": "¥",
    "HKD": "HK$",
    "TWD": "NT$",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "SGD": "S$",
    "JPY": "JP¥",
    "KRW": "₩",
    "AUD": "A$",
    "CAD": "C$",
    "THB": "฿",
}

_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")

MAX_AMOUNT = 10**13  # ¥100 billion in fen: far above any real order, far below BIGINT


class AmountError(ValueError):
    """Text that is not a valid amount; the message says why."""


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2)


def to_decimal(amount: int, currency: str = "CNY") -> Decimal:
    exponent = minor_units(currency)
    return Decimal(amount).scaleb(-exponent)


def format_amount(amount: int | None, currency: str = "CNY") -> str:
    """``1230`` → ``¥12.30``; negative amounts keep their sign before the symbol."""
    if amount is None:
        return ""
    exponent = minor_units(currency)
    symbol = SYMBOLS.get(currency.upper(), currency.upper() + " ")
    value = to_decimal(abs(amount), currency)
    text = f"{value:,.{exponent}f}"
    return f"-{symbol}{text}" if amount < 0 else f"{symbol}{text}"


def parse_amount(
    text: str | int | Decimal, currency: str = "CNY", *, allow_negative: bool = False
) -> int:
    """Parse ``"12.3"`` / ``"¥12.30"`` / ``Decimal("12.3")`` into minor units, exactly."""
    if isinstance(text, bool):
        raise AmountError("not an amount")
    if isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, Decimal):
        value = text
    else:
        cleaned = text.strip()
        for symbol in sorted([*SYMBOLS.values(), "￥", "元"], key=len, reverse=True):
            cleaned = cleaned.replace(symbol, "")
        cleaned = cleaned.strip()
        if not cleaned:
            raise AmountError("empty amount")
        if "," in cleaned:
            # a comma is only a thousands separator ("1,280.00"); "30,5" is not ¥305
            if not _GROUPED.match(cleaned):
                raise AmountError("use a dot for decimals; commas only between thousands")
            cleaned = cleaned.replace(",", "")
        if not _PLAIN.match(cleaned):
            raise AmountError(f"{text!r} is not a number")
        value = Decimal(cleaned)
    if not value.is_finite():
        raise AmountError("not a finite number")
    exponent = minor_units(currency)
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise AmountError(f"at most {exponent} decimal places")
    minor = int(scaled)
    if minor < 0 and not allow_negative:
        raise AmountError("must not be negative")
    if abs(minor) > MAX_AMOUNT:
        raise AmountError("too large")
    return minor
