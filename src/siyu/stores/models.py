"""Physical stores (O2O, LBS) and which staff work at which store."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned


class Store(MerchantOwned):
    """A shop, kiosk or warehouse-front of the merchant, with a position for "nearest store"."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        TEMPORARILY_CLOSED = "temporarily_closed", _("Temporarily closed")
        CLOSED = "closed", _("Closed for good")

    code = models.CharField(_("store code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    province = models.CharField(_("province"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=40)
    district = models.CharField(_("district"), max_length=40, blank=True)
    address = models.CharField(_("street address"), max_length=255)
    # Coordinates as given by the merchant (in mainland China usually GCJ-02, the
    # system of Chinese map apps); nearest-store distances only compare stores
    # with each other, so one consistent system is all that matters.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    phone = models.CharField(
        pgettext_lazy("a store's telephone", "phone"), max_length=32, blank=True
    )
    # {"mon": [["07:00", "21:00"]], "tue": [...], ...}; a missing or empty day is closed.
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    pickup_enabled = models.BooleanField(_("in-store pickup"), default=True)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.OPEN
    )
    closed_at = models.DateTimeField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="store_code_unique")
        ]
        indexes = [
            models.Index(fields=["merchant", "latitude", "longitude"], name="store_position"),
            models.Index(fields=["merchant", "status"], name="store_status"),
        ]

    def __str__(self) -> str:
        return self.name


class StoreStaff(MerchantOwned):
    """A staff member (membership) assigned to a store: store managers and shopping guides."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="assignments")
    membership = models.ForeignKey(
        "core.Membership", on_delete=models.CASCADE, related_name="store_assignments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("store assignment")
        verbose_name_plural = _("store assignments")
        constraints = [
            models.UniqueConstraint(fields=["store", "membership"], name="store_staff_once")
        ]

    def __str__(self) -> str:
        return f"{self.membership} → {self.store}"
