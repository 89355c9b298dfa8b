"""Pure checks of catalog values: prices in fen, SKU codes, barcodes (GTIN check digits).

Each ``*_problem`` function answers ``None`` when the value is fine, or the
reason it is not, ready to put next to the field.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

MAX_PRICE = 10**9  # fen
MAX_WEIGHT_GRAMS = 1_000_000
SKU_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
BARCODE_RE = re.compile(r"^[A-Za-z0-9\-]{1,32}$")
GTIN_LENGTHS = frozenset({8, 12, 13, 14})


def price_problem(value: object, *, required: bool = True) -> str | None:
    """Prices are whole fen: integers from 0 to 10^9."""
    if value is None:
        return _("This field is required.") if required else None
    if isinstance(value, bool) or not isinstance(value, int):
        return _("Give a whole number of fen.")
    if value < 0:
        return _("A price cannot be negative.")
    if value > MAX_PRICE:
        return _("At most %(max)s fen.") % {"max": f"{MAX_PRICE:,}"}
    return None


def list_price_problem(price: int | None, list_price: int | None) -> str | None:
    problem = price_problem(list_price, required=False)
    if problem:
        return problem
    if list_price is not None and isinstance(price, int) and list_price < price:
        return _("The list price cannot be below the price.")
    return None


def weight_problem(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return _("Give a whole number of grams.")
    if value < 0 or value > MAX_WEIGHT_GRAMS:
        return _("Between 0 and %(max)s grams.") % {"max": f"{MAX_WEIGHT_GRAMS:,}"}
    return None


def sku_code_problem(code: str) -> str | None:
    if not code:
        return _("This field is required.")
    if not SKU_CODE_RE.match(code):
        return _(
            "1–64 letters, digits, dots, dashes, slashes or underscores, starting with a letter or digit."
        )
    return None


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of the digits before it (EAN-8, UPC-A, EAN-13, GTIN-14)."""
    if not body.isdigit():
        raise ValueError("digits only")
    total = 0
    for position, digit in enumerate(reversed(body)):
        total += int(digit) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return (
        code.isdigit()
        and len(code) in GTIN_LENGTHS
        and gtin_check_digit(code[:-1]) == int(code[-1])
    )


def make_ean13(body12: str) -> str:
    """Append the check digit to 12 digits."""
    if len(body12) != 12 or not body12.isdigit():
        raise ValueError("an EAN-13 body is 12 digits")
    return body12 + str(gtin_check_digit(body12))


def barcode_problem(barcode: str) -> str | None:
    """Blank is fine. GTIN-length numbers must carry a correct check digit (a typo catcher);
    other letters-and-digits codes (a shop's own labels) are accepted as they are."""
    if not barcode:
        return None
    if not BARCODE_RE.match(barcode):
        return _("1–32 letters, digits or dashes.")
    if barcode.isdigit() and len(barcode) in GTIN_LENGTHS and not is_valid_gtin(barcode):
        return _("The check digit is wrong: expected %(digit)d.") % {
            "digit": gtin_check_digit(barcode[:-1])
        }
    return None


def price_range(prices: list[int]) -> tuple[int, int] | None:
    """The lowest and highest of ``prices``, or ``None`` when there are none."""
    if not prices:
        return None
    return min(prices), max(prices)
