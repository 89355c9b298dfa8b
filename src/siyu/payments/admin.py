"""Django admin of payments for platform operators (unscoped; read-mostly: money moves through services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from siyu.core.admin import UnscopedAdmin
from siyu.payments.models import (
    Payment,
    PaymentNotification,
    Refund,
    RefundLine,
    SandboxNotification,
    SandboxTransaction,
)


class ReadOnlyAdmin(UnscopedAdmin):
    """Rows that record money: looked at here, changed only by the services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "out_trade_no",
        "merchant",
        "gateway",
        "amount",
        "status",
        "paid_order",
        "created_at",
    )
    list_filter = ("status", "gateway")
    search_fields = ("out_trade_no", "provider_reference")
    raw_id_fields = ("order",)


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ("notification_id", "merchant", "gateway", "kind", "outcome", "received_at")
    list_filter = ("gateway", "kind")
    search_fields = ("notification_id",)
    raw_id_fields = ("payment", "refund")


class RefundLineInline(admin.TabularInline):
    model = RefundLine
    extra = 0
    raw_id_fields = ("order_line",)
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "merchant",
        "amount",
        "status",
        "requested_by_customer",
        "automatic",
        "created_at",
    )
    list_filter = ("status", "requested_by_customer", "automatic")
    search_fields = ("number", "provider_reference")
    raw_id_fields = ("order", "payment")
    inlines = [RefundLineInline]


@admin.register(SandboxTransaction)
class SandboxTransactionAdmin(ReadOnlyAdmin):
    list_display = ("transaction_id", "merchant", "out_trade_no", "amount", "refunded", "status")
    list_filter = ("status",)
    exclude = ("token",)  # the pay page's secret address


@admin.register(SandboxNotification)
class SandboxNotificationAdmin(ReadOnlyAdmin):
    list_display = ("notification_id", "merchant", "kind", "status", "attempts", "last_status_code")
    list_filter = ("status", "kind")
    raw_id_fields = ("transaction",)
