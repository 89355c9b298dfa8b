"""Stock per SKU and location, its movement ledger, and reservations that expire.

``on_hand`` is what physically sits at the location; ``reserved`` is what unpaid
orders hold. ``available = on_hand - reserved``. Every change is a conditional
UPDATE (see ``siyu.inventory.services``), and the database refuses any row
where a count would go below zero or reserved would exceed on hand.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import MerchantOwned


class Location(MerchantOwned):
    """Where stock is kept: a store (one location per store) or a warehouse."""

    class Kind(models.TextChoices):
        STORE = "store", _("Store")
        WAREHOUSE = "warehouse", _("Warehouse")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    store = models.OneToOneField(
        "stores.Store",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_location",
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    # Delivery orders ship from the location marked here (a warehouse, or a store that ships).
    ships_delivery = models.BooleanField(_("ships delivery orders"), default=False)
    # Available at or below this many units counts as low stock (and emits
    # ``inventory.stock.low`` when a change crosses it); 0 switches the alert off.
    low_stock_threshold = models.PositiveIntegerField(_("low-stock threshold"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="location_code_unique"),
            models.CheckConstraint(
                condition=models.Q(kind="store", store__isnull=False)
                | models.Q(kind="warehouse", store__isnull=True),
                name="location_store_matches_kind",
            ),
            # at most one location per merchant ships delivery orders
            models.UniqueConstraint(
                fields=["merchant"],
                condition=models.Q(ships_delivery=True),
                name="location_one_ships_delivery",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StockLevel(MerchantOwned):
    """How many of one SKU a location has, and how many of those unpaid orders hold."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="levels")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="stock_levels")
    on_hand = models.BigIntegerField(_("on hand"), default=0)
    reserved = models.BigIntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["location", "sku"], name="stock_level_once"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=0), name="stock_on_hand_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__lte=models.F("on_hand")),
                name="stock_reserved_within_on_hand",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "sku"], name="stock_level_sku")]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}: {self.on_hand} ({self.reserved} reserved)"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(MerchantOwned):
    """One append-only line of the ledger. The sum of ``on_hand_delta`` per level is its on_hand."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        SALE = "sale", _("Sale")
        RESERVATION = "reservation", _("Reservation")
        RELEASE = "release", _("Release")
        ADJUSTMENT = "adjustment", _("Adjustment")
        RETURN = "return", _("Return")

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="movements")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    on_hand_delta = models.BigIntegerField(default=0)
    reserved_delta = models.BigIntegerField(default=0)
    on_hand_after = models.BigIntegerField()
    reserved_after = models.BigIntegerField()
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["merchant", "location", "sku", "-created_at"], name="movement_level_time"
            )
        ]
        constraints = [
            # a receipt, adjustment or return with a reference is applied once per level
            models.UniqueConstraint(
                fields=["location", "sku", "kind", "reference"],
                condition=~models.Q(reference="")
                & models.Q(kind__in=["receipt", "adjustment", "return"]),
                name="movement_reference_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.on_hand_delta:+d}/{self.reserved_delta:+d} of {self.sku_id}"


class StockReservation(MerchantOwned):
    """Stock held for an unpaid order; committed when paid, released when cancelled or expired."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMMITTED = "committed", _("Committed")
        RELEASED = "released", _("Released")
        EXPIRED = "expired", _("Expired")

    level = models.ForeignKey(StockLevel, on_delete=models.CASCADE, related_name="reservations")
    quantity = models.PositiveIntegerField()
    reference = models.CharField(max_length=64)  # e.g. "order:123"
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stock reservation")
        verbose_name_plural = _("stock reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "level"], name="reservation_once_per_level"
            ),
        ]
        # lookups by reference use the unique (reference, level) index
        indexes = [
            models.Index(
                fields=["expires_at"],
                name="reservation_active_expiry",
                condition=models.Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.quantity} ({self.status})"
