"""Django admin of stores for platform operators (superusers): deliberately unscoped."""

from __future__ import annotations

from django.contrib import admin

from siyu.core.admin import UnscopedAdmin
from siyu.stores.models import Store, StoreStaff


@admin.register(Store)
class StoreAdmin(UnscopedAdmin):
    list_display = ("code", "name", "merchant", "city", "district", "status", "pickup_enabled")
    list_filter = ("status", "pickup_enabled")
    search_fields = ("code", "name", "address")


@admin.register(StoreStaff)
class StoreStaffAdmin(UnscopedAdmin):
    list_display = ("store", "membership", "merchant", "created_at")
