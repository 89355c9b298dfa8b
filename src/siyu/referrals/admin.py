"""Django admin for platform operators: referrals of every merchant, read-only.

Everything changes only through ``siyu.referrals.services`` (locks, guards, rewards, events);
the admin shows rows and never adds, edits or deletes them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from siyu.core.admin import UnscopedAdmin
from siyu.referrals.models import InviteCode, Referral, ReferralProgramme, ReferralReward


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


@admin.register(ReferralProgramme)
class ReferralProgrammeAdmin(ReadOnlyAdmin):
    list_display = ("merchant", "status", "invitee_reward", "inviter_reward", "updated_at")


@admin.register(InviteCode)
class InviteCodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "merchant", "customer", "created_at")
    search_fields = ("code",)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("id", "merchant", "inviter", "invitee", "status", "block_reason", "created_at")
    list_filter = ("status", "block_reason")


@admin.register(ReferralReward)
class ReferralRewardAdmin(ReadOnlyAdmin):
    list_display = ("id", "merchant", "referral", "side", "kind", "status", "created_at")
    list_filter = ("side", "kind", "status")
