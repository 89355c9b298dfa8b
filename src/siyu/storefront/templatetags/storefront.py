"""Template helpers of the shop pages (``{% load storefront %}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from siyu.core.money import SYMBOLS, minor_units

register = template.Library()


@register.simple_tag
def price(
    amount: int | None, currency: str = "CNY", *, strike: bool = False, bare: bool = False
) -> SafeString:
    """A price as shops show it: a small ``¥``, the yuan large, the fen small (``¥26.00``);
    ``bare``: only what goes inside the price's element."""
    if amount is None:
        return format_html("")
    places = minor_units(currency)
    whole, fraction = divmod(abs(amount), 10**places)
    cents = f".{fraction:0{places}d}" if places else ""
    sign = "-" if amount < 0 else ""
    if bare:
        return format_html(
            "{}<small>{}</small>{}<small>{}</small>",
            sign,
            SYMBOLS.get(currency.upper(), currency.upper() + " "),
            f"{whole:,}",
            cents,
        )
    css = "sf-price sf-price-was" if strike else "sf-price"
    tag = "s" if strike else "span"
    return format_html(
        '<{} class="{}">{}<small>{}</small>{}<small>{}</small></{}>',
        tag,
        css,
        sign,
        SYMBOLS.get(currency.upper(), currency.upper() + " "),
        f"{whole:,}",
        cents,
        tag,
    )


@register.filter
def option_text(options: Any) -> str:
    """``{"Size": "L", "Temperature": "Iced"}`` → ``L / Iced``."""
    if not isinstance(options, dict):
        return ""
    return " / ".join(str(v) for v in options.values() if str(v))


@register.filter
def spaced_code(code: str) -> str:
    """A pickup code read in two halves: ``042917`` → ``042 917``."""
    return f"{code[:3]} {code[3:]}" if len(code) == 6 else code


@register.filter
def stock_text(stock: Any) -> str:
    """What a customer reads of a ``selectors.Stock``."""
    if stock is None:
        return ""
    if stock.state == "sold_out":
        return _("Sold out")
    if stock.state == "low":
        return _("Only %(n)d left") % {"n": stock.left}
    return _("In stock")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ errors|get_item:"store_id" }}``."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None
