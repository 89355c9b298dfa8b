"""Template filters of the stores pages: ``{% load store_tags %}``."""

from __future__ import annotations

import phonenumbers
from django import template

from siyu.stores import geo
from siyu.stores.roles import ROLE_BADGES

register = template.Library()


@register.filter
def phone_display(e164: str) -> str:
    """``+862162881234`` → ``021 6288 1234`` (Chinese numbers nationally, others internationally)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


@register.filter
def distance(metres: float) -> str:
    return geo.format_distance(metres)


@register.filter
def time_input(value: str) -> str:
    return "00:00" if value == "24:00" else value


@register.filter
def role_badge(role: str) -> str:
    """The badge class of a role: ``<span class="badge {{ m.role|role_badge }}">``."""
    return ROLE_BADGES.get(role, "")
