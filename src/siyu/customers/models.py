"""Customers of a merchant (the start of the CRM), their addresses, login codes and SMS outbox."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import MerchantOwned


class Customer(MerchantOwned):
    """A shopper of one merchant, identified by phone (E.164). Not a staff ``User``."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")

    phone = models.CharField(_("phone"), max_length=20)  # E.164, e.g. +8613812345678
    name = models.CharField(_("name"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    # Where the customer first came from (filled by later capabilities: join codes, guides...).
    join_channel = models.CharField(_("join channel"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "phone"], name="customer_phone_unique")
        ]

    def __str__(self) -> str:
        return self.name or self.phone


class CustomerAddress(MerchantOwned):
    """A delivery address in the Chinese shape: recipient, phone, province/city/district, street."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    recipient = models.CharField(_("recipient"), max_length=40)
    phone = models.CharField(_("phone"), max_length=20)
    province = models.CharField(_("province"), max_length=40)
    city = models.CharField(_("city"), max_length=40)
    district = models.CharField(_("district"), max_length=40, blank=True)
    street = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "-updated_at"]

    def __str__(self) -> str:
        return f"{self.recipient} {self.city}{self.district}{self.street}"
