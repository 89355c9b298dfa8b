"""Django admin of inventory for platform operators (superusers): unscoped and read-only.

Stock changes only through the services (conditional UPDATEs with their ledger
line); an edit here would put a level out of step with its movements.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from siyu.core.admin import UnscopedAdmin
from siyu.inventory.models import Location, StockLevel, StockMovement, StockReservation


class ReadOnlyAdmin(UnscopedAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "merchant", "kind", "ships_delivery", "active")
    list_filter = ("kind", "ships_delivery", "active")
    search_fields = ("code", "name")


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("sku", "location", "merchant", "on_hand", "reserved", "updated_at")
    search_fields = ("sku__code", "location__code")
    list_select_related = ("sku", "location", "merchant")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "sku", "location", "on_hand_delta", "reserved_delta")
    list_filter = ("kind",)
    search_fields = ("reference", "sku__code")
    list_select_related = ("sku", "location")


@admin.register(StockReservation)
class StockReservationAdmin(ReadOnlyAdmin):
    list_display = ("reference", "level", "quantity", "status", "expires_at")
    list_filter = ("status",)
    search_fields = ("reference",)
