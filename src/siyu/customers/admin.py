"""Django admin of customers for platform operators (superusers): deliberately unscoped.

Login codes are not listed: they are hashes, useful to nobody here.
"""

from __future__ import annotations

from django.contrib import admin

from siyu.core.admin import UnscopedAdmin
from siyu.customers.models import Customer, CustomerAddress, SmsMessage


@admin.register(Customer)
class CustomerAdmin(UnscopedAdmin):
    list_display = ("phone", "name", "merchant", "status", "join_channel", "created_at")
    list_filter = ("status",)
    search_fields = ("phone", "name")


@admin.register(CustomerAddress)
class CustomerAddressAdmin(UnscopedAdmin):
    list_display = ("recipient", "customer", "merchant", "city", "district", "is_default")


@admin.register(SmsMessage)
class SmsMessageAdmin(UnscopedAdmin):
    list_display = ("to", "purpose", "status", "merchant", "created_at")
    list_filter = ("purpose", "status")
