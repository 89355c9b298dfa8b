"""Phone numbers of customers: parse, store (E.164), show and mask. Pure: no database access.

Chinese numbers are the default (+86): ``138 1234 5678``, ``+86 138-1234-5678``,
``008613812345678`` and full-width digits all become ``+8613812345678``.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

DEFAULT_REGION = "CN"
MAX_INPUT_LENGTH = 40  # longer input is not a phone number; refuse before parsing

MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class PhoneProblem(StrEnum):
    """Why a text is not an acceptable phone number (the service turns it into a message)."""

    EMPTY = "empty"
    INVALID = "invalid"
    NOT_MOBILE = "not_mobile"


def parse(raw: str, region: str = DEFAULT_REGION, *, mobile: bool = False) -> str | PhoneProblem:
    """The E.164 form of ``raw``, or why it is refused (``mobile``: only mobile numbers)."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        return PhoneProblem.EMPTY
    if len(text) > MAX_INPUT_LENGTH:
        return PhoneProblem.INVALID
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return PhoneProblem.INVALID
    if not phonenumbers.is_valid_number(number):
        return PhoneProblem.INVALID
    if mobile and phonenumbers.number_type(number) not in MOBILE_TYPES:
        return PhoneProblem.NOT_MOBILE
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """As people dial it: ``+8613812345678`` → ``138 1234 5678``; other countries in full."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        PhoneNumberFormat.NATIONAL if number.country_code == 86 else PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def mask(e164: str) -> str:
    """Shown to staff who may not see full numbers: ``138 **** 5678``.

    The last four digits stay (what customers quote at the counter), and so do
    the first three of a Chinese number (carrier or area code) or the country
    code of a foreign one; the digits between are starred, keeping the layout.
    """
    shown = display(e164)
    positions = [i for i, ch in enumerate(shown) if ch.isdigit()]
    head = len(shown.split(" ", 1)[0]) - 1 if shown.startswith("+") else 3
    hidden = set(positions[head:-4]) if len(positions) > head + 4 else set()
    return "".join("*" if i in hidden else ch for i, ch in enumerate(shown))


def masked_e164(e164: str) -> str:
    """The E.164 form with the middle starred: ``+86138****5678`` (for API answers)."""
    try:
        country = str(phonenumbers.parse(e164, None).country_code)
    except phonenumbers.NumberParseException:
        return e164
    head = 1 + len(country) + (3 if country == "86" else 0)
    if len(e164) <= head + 4:
        return e164
    return e164[:head] + "*" * (len(e164) - head - 4) + e164[-4:]


def digits_for_search(text: str) -> str:
    """The digits a staff member typed to find a customer by phone (prefix 0086/+86 dropped).

    ``"138 1234"`` → ``"1381234"``; ``"+86 138…"`` → ``"138…"``. Empty when the
    text has letters (then it is a name search).
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned or any(ch.isalpha() for ch in cleaned):
        return ""
    digits = "".join(ch for ch in cleaned if ch.isdigit())
    if cleaned.startswith("+86"):
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits
