"""Template filters of the stores pages: ``{% load store_tags %}``."""

from __future__ import annotations

from django import template

from siyu.stores import geo
from siyu.stores.roles import ROLE_BADGES
from siyu.stores.services import display_phone

register = template.Library()


@register.filter
def phone_display(e164: str) -> str:
    """``+862162881234`` → ``021 6288 1234``."""
    return display_phone(e164)


@register.filter
def distance(metres: float) -> str:
    return geo.format_distance(metres)


@register.filter
def role_badge(role: str) -> str:
    """The badge class of a role: ``<span class="badge {{ m.role|role_badge }}">``."""
    return ROLE_BADGES.get(role, "")
