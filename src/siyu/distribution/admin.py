"""Django admin for platform operators: distribution of every merchant, read-only.

Everything changes only through ``siyu.distribution.services`` (audit, events, locks);
the ledger is append-only, so the admin shows rows and never adds, edits or deletes them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from siyu.core.admin import UnscopedAdmin
from siyu.distribution.models import (
    Binding,
    CommissionEntry,
    CommissionRule,
    DistributionSettings,
    Distributor,
    Withdrawal,
)


class ReadOnlyAdmin(UnscopedAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # every field read-only: no form field queries a merchant-scoped table
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None  # open the page, but every field is read-only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DistributionSettings)
class DistributionSettingsAdmin(ReadOnlyAdmin):
    list_display = ("merchant", "enabled", "enrolment", "binding_policy", "second_level")


@admin.register(Distributor)
class DistributorAdmin(ReadOnlyAdmin):
    list_display = ("share_code", "merchant", "customer", "status", "applied_at")
    list_filter = ("status",)
    search_fields = ("share_code", "customer__phone")


@admin.register(Binding)
class BindingAdmin(ReadOnlyAdmin):
    list_display = ("customer", "distributor", "merchant", "since", "source")


@admin.register(CommissionRule)
class CommissionRuleAdmin(ReadOnlyAdmin):
    list_display = ("merchant", "scope", "kind", "rate_bp", "fixed_fen", "updated_at")


@admin.register(CommissionEntry)
class CommissionEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "merchant", "distributor", "order", "level", "kind", "amount")
    list_filter = ("kind", "level")


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ("id", "merchant", "distributor", "amount", "status", "requested_at")
    list_filter = ("status",)
