"""Django admin for platform operators (superusers): deliberately unscoped."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from siyu.core.models import ApiKey, AuditEntry, DomainEvent, Membership, Merchant, User


class UnscopedAdmin(admin.ModelAdmin):
    """Admin for merchant-owned models: superusers see every merchant."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model.unscoped.all()


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Siyu", {"fields": ("display_name", "phone")}))  # type: ignore[misc]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "currency", "time_zone", "status", "created_at")
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant", "role", "is_active")
    list_filter = ("role", "is_active")


@admin.register(ApiKey)
class ApiKeyAdmin(UnscopedAdmin):
    list_display = ("name", "merchant", "prefix", "role", "created_at", "revoked_at")
    readonly_fields = ("key_hash", "prefix")


@admin.register(AuditEntry)
class AuditEntryAdmin(UnscopedAdmin):
    list_display = ("created_at", "merchant", "actor_label", "action", "object_repr")
    list_filter = ("action",)


@admin.register(DomainEvent)
class DomainEventAdmin(UnscopedAdmin):
    list_display = ("id", "merchant", "event_type", "occurred_at", "dispatched_at")
    list_filter = ("event_type",)
