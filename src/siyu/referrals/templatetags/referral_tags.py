"""Template filters of the referral console pages."""

from __future__ import annotations

from django import template

from siyu.customers.phones import display, mask

register = template.Library()


@register.filter
def shown_phone(e164: str, full: bool) -> str:
    """The number as staff who may see customers read it; masked (``138 **** 5678``) for the
    others (finance sees the programme's results, not the customers' numbers)."""
    return display(e164) if full else mask(e164)
