"""Django admin for platform operators: orders of every merchant, read-only.

Orders change only through ``siyu.orders.services`` (stock, timeline, events);
the admin shows them and never edits them. Lines and the timeline are shown as
text (inline formsets would query the merchant-scoped managers with no merchant
bound).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.admin import UnscopedAdmin
from siyu.core.money import format_amount
from siyu.orders.models import Order, OrderEvent, OrderLine, ShippingSettings


@admin.register(Order)
class OrderAdmin(UnscopedAdmin):
    list_display = ("number", "merchant", "status", "fulfilment", "total", "placed_at")
    list_filter = ("status", "fulfilment", "refund_state")
    search_fields = ("number", "customer__phone")
    date_hierarchy = "placed_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # every field read-only: no form field queries a merchant-scoped table
        return [field.name for field in Order._meta.fields] + ["line_summary", "timeline"]

    @admin.display(description=_("Items"))
    def line_summary(self, order: Order) -> SafeString:
        lines = OrderLine.unscoped.filter(order=order).order_by("id")
        return format_html_join(
            "",
            "<div>{} × {} <code>{}</code> = {}</div>",
            (
                (
                    ln.quantity,
                    ln.product_name,
                    ln.sku_code,
                    format_amount(ln.line_total, order.currency),
                )
                for ln in lines
            ),
        )

    @admin.display(description=pgettext_lazy("of an order", "Timeline"))
    def timeline(self, order: Order) -> SafeString:
        events = OrderEvent.unscoped.filter(order=order).order_by("created_at", "id")
        return format_html_join(
            "",
            "<div>{:%Y-%m-%d %H:%M:%S} {} ({})</div>",
            ((e.created_at, e.kind, e.actor_label) for e in events),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None  # open the page, but every field is read-only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ShippingSettings)
class ShippingSettingsAdmin(UnscopedAdmin):
    list_display = ("merchant", "flat_fee", "free_over", "updated_at")
