"""Template helpers available in every template (registered as builtins)."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from siyu.core.money import format_amount

register = template.Library()

# Simple line icons (24×24, stroke) drawn for Siyu's navigation.
ICONS: dict[str, str] = {
    "home": "M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z",
    "store": "M4 9l1.5-5h13L20 9M4 9h16M4 9v11h16V9M9 20v-6h6v6",
    "box": "M3 7l9-4 9 4-9 4-9-4zm0 0v10l9 4 9-4V7M12 11v10",
    "tree": "M12 3v4M6 11h12M6 11v4M18 11v4M12 7v4M4 15h4v5H4zM16 15h4v5h-4zM10 3h4v4h-4z",
    "receipt": "M6 3h12v18l-3-2-3 2-3-2-3 2zM9 8h6M9 12h6M9 16h4",
    "stack": "M4 7h16v4H4zM4 13h16v4H4zM7 9h.01M7 15h.01",
    "users": "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21v-1a6 6 0 0 1 12 0v1M16 3.5a4 4 0 0 1 0 7.5M18 21v-1a6 6 0 0 0-3-5.2",
    "chat": "M4 5h16v11H9l-5 4z",
    "guide": "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM5 21a7 7 0 0 1 14 0M17 14l2 2 3-3",
    "send": "M3 11l18-8-8 18-2-7z",
    "tag": "M3 12V4h8l10 10-8 8zM7.5 7.5h.01",
    "share": "M18 8a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM6 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM18 22a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM8.6 13.5l6.8 4M15.4 6.5l-6.8 4",
    "live": "M3 7h13v10H3zM16 10l5-3v10l-5-3",
    "team": "M8 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM16 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM2 20a6 6 0 0 1 12 0M10 20a6 6 0 0 1 12 0",
    "scissors": "M6 8a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM6 22a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM8.1 7.1L20 19M8.1 16.9L20 5",
    "star": "M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2-5.5-2.9-5.5 2.9 1-6.2L3 9.6l6.2-.9z",
    "invite": "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21a7 7 0 0 1 14 0M19 8v6M16 11h6",
    "chart": "M4 20V10M10 20V4M16 20v-7M22 20H2",
    "id": "M3 5h18v14H3zM8 11a2 2 0 1 0 0-4 2 2 0 0 0 0 4zM5 16a3 3 0 0 1 6 0M14 9h4M14 13h4",
    "key": "M15 8a4 4 0 1 1-3.9 5H4v3H2v-5h9.1A4 4 0 0 1 15 8z",
    "hook": "M8 4v7a4 4 0 0 0 8 0M16 11l-2-2M16 11l2-2M12 19a3 3 0 1 0 0-.01",
    "log": "M5 3h14v18H5zM9 7h6M9 11h6M9 15h3",
    "gear": "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-1-3-2 .3-1.5-1.5L17 5l-3-1-1 2h-2l-1-2-3 1 .5 2.3L6 8.8 4 8.5l-1 3 2 1v1l-2 1 1 3 2-.3 1.5 1.5L7 20l3 1 1-2h2l1 2 3-1-.5-2.3 1.5-1.5 2 .3 1-3-2-1z",
    "wallet": "M3 7h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H3zM3 7l13-4v4M17 13.5h.01",
    "menu": "M3 6h18M3 12h18M3 18h18",
    "globe": "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM3 12h18M12 3a14 14 0 0 1 0 18M12 3a14 14 0 0 0 0 18",
    "plus": "M12 5v14M5 12h14",
    "search": "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM21 21l-5-5",
    "pin": "M12 21s-7-6.5-7-12a7 7 0 0 1 14 0c0 5.5-7 12-7 12zM12 11a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
    "logout": "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h11",
    # storefront tab bar (customers app)
    "cart": "M3 4h2l2.4 11h10.8L21 7H6.2M10 20a1 1 0 1 0 0-.01M17 20a1 1 0 1 0 0-.01",
    "grid": "M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z",
    "user": "M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zM4 21a8 8 0 0 1 16 0",
    # storefront shop pages
    "minus": "M5 12h14",
    "chevron": "M9 5l7 7-7 7",
    "truck": "M3 6h11v10H3zM14 10h4l3 3v3h-7M7 19a2 2 0 1 0 0-.01M17 19a2 2 0 1 0 0-.01",
    "check": "M5 12l5 5 9-10",
    "clock": "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2",
    "locate": "M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM12 2v3M12 19v3M2 12h3M19 12h3",
}


@register.simple_tag
def icon(name: str, size: int = 20) -> SafeString:
    path = ICONS.get(name, ICONS["box"])
    return format_html(
        '<svg class="icon" width="{}" height="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">'
        '<path d="{}"/></svg>',
        size,
        size,
        path,
    )


@register.filter
def money(amount: int | None, currency: str = "CNY") -> str:
    """``{{ sku.price|money }}`` → ``¥12.30``."""
    return format_amount(amount, currency or "CNY")


@register.filter
def yuan(amount: int | None) -> str:
    """Fen as a plain decimal for form inputs: ``1230`` → ``12.30``."""
    if amount is None:
        return ""
    return f"{amount // 100}.{amount % 100:02d}" if amount >= 0 else f"-{yuan(-amount)}"


@register.filter
def can(actor: Any, permission: str) -> bool:
    """``{% if actor|can:"analytics.import" %}``: whether the console's actor holds it."""
    return bool(actor is not None and actor.can(permission))


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@register.inclusion_tag("web/field.html")
def field(bound: BoundField, **attrs: Any) -> dict[str, Any]:
    """A labelled form field with its help text and errors."""
    widget_attrs = {k.replace("_", "-"): v for k, v in attrs.items()}
    if bound.errors:
        widget_attrs["aria-invalid"] = "true"
    return {"field": bound, "widget": mark_safe(bound.as_widget(attrs=widget_attrs))}  # noqa: S308


@register.simple_tag(takes_context=True)
def query(context: template.Context, **changes: Any) -> str:
    """The current query string with ``changes`` applied (``None`` removes a key)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
