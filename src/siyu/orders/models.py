"""Carts, orders with their lines and timeline.

Money is integer fen. An order keeps a snapshot of every line (name, SKU,
options, price) so later catalog changes never rewrite history, and records
where it came from (channel and the ids of group, guide, join code,
distributor, campaign or live room) so attribution never needs a schema change.
The state machine is in ``siyu.orders.states`` (pure); changes go through
``siyu.orders.services``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned


class Cart(MerchantOwned):
    """One cart per customer and merchant."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="cart"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self) -> str:
        return f"cart of {self.customer_id}"


class CartLine(MerchantOwned):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="cart_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_id}"


class Order(MerchantOwned):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Pending payment")
        PAID = "paid", _("Paid")
        PREPARING = "preparing", _("Preparing")
        SHIPPED = "shipped", _("Shipped")
        READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class Fulfilment(models.TextChoices):
        DELIVERY = "delivery", _("Delivery")
        PICKUP = "pickup", _("Pickup in store")

    class RefundState(models.TextChoices):
        NONE = "none", _("Not refunded")
        PARTIAL = "partial", _("Partly refunded")
        FULL = "full", _("Refunded")

    number = models.CharField(_("order number"), max_length=24)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT
    )
    refund_state = models.CharField(
        _("refunds"), max_length=8, choices=RefundState.choices, default=RefundState.NONE
    )
    fulfilment = models.CharField(_("fulfilment"), max_length=10, choices=Fulfilment.choices)
    store = models.ForeignKey(
        "stores.Store",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The pickup store, or the store the order is attributed to."),
    )
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Where the stock is reserved and shipped or collected from."),
    )
    shipping_address = models.JSONField(_("shipping address"), null=True, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    subtotal = models.BigIntegerField(_("subtotal"))
    discount_total = models.BigIntegerField(_("discounts"), default=0)
    shipping_fee = models.BigIntegerField(_("shipping fee"), default=0)
    total = models.BigIntegerField(_("total"))
    refunded_total = models.BigIntegerField(_("refunded"), default=0)
    pricing = models.JSONField(_("pricing explanation"), default=dict, blank=True)
    note = models.CharField(_("customer note"), max_length=200, blank=True)
    pickup_code = models.CharField(_("pickup code"), max_length=8, blank=True)
    carrier = models.CharField(_("carrier"), max_length=40, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    # Why the order may not be prepared, shipped or collected yet (a code another app
    # registered with ``services.register_hold``, e.g. a group-buy team still filling).
    fulfilment_hold = models.CharField(_("fulfilment on hold"), max_length=40, blank=True)
    payment_deadline = models.DateTimeField(_("pay before"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=80, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    # Attribution: where the order came from. Later capabilities fill these ids.
    channel = models.CharField(_("channel"), max_length=24, default="storefront", db_index=True)
    group_id = models.BigIntegerField(null=True, blank=True)
    guide_id = models.BigIntegerField(null=True, blank=True)
    join_code_id = models.BigIntegerField(null=True, blank=True)
    distributor_id = models.BigIntegerField(null=True, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    live_room_id = models.BigIntegerField(null=True, blank=True)
    attribution = models.JSONField(_("more attribution"), default=dict, blank=True)
    placed_at = models.DateTimeField(_("placed"), db_index=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = pgettext_lazy("the model", "orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "number"], name="order_number_unique"),
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="order_total_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_total__gte=0, refunded_total__lte=models.F("total")),
                name="order_refund_within_total",
            ),
            # A pickup code identifies one open order at the counter of its store.
            models.UniqueConstraint(
                fields=["store", "pickup_code"],
                name="order_pickup_code_open_unique",
                condition=models.Q(
                    fulfilment="pickup",
                    status__in=["pending_payment", "paid", "preparing", "ready_for_pickup"],
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "-placed_at"], name="order_status_time"),
            models.Index(fields=["merchant", "customer", "-placed_at"], name="order_customer_time"),
            models.Index(fields=["merchant", "store", "-placed_at"], name="order_store_time"),
            models.Index(fields=["merchant", "-placed_at"], name="order_merchant_time"),
            # Segments' order windows ("spent / orders in the last N days"): the window is
            # a range of this index, read without the table (docs/segments.md).
            # (The trailing key columns stand in for INCLUDE, which SQLite does not have.)
            models.Index(
                fields=[
                    *("merchant", "placed_at"),
                    *("customer", "id", "total", "refunded_total", "refund_state"),
                ],
                condition=models.Q(paid_at__isnull=False),
                name="order_paid_window",
            ),
            models.Index(
                fields=["payment_deadline"],
                name="order_unpaid_deadline",
                condition=models.Q(status="pending_payment"),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(MerchantOwned):
    """A snapshot of what was bought: it does not change when the catalog does."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    product_id_snapshot = models.BigIntegerField()
    product_name = models.CharField(max_length=120)
    sku_code = models.CharField(max_length=64)
    options = models.JSONField(default=dict, blank=True)
    unit_price = models.BigIntegerField()
    list_price = models.BigIntegerField(null=True, blank=True)
    quantity = models.PositiveIntegerField()
    discount = models.BigIntegerField(default=0)
    line_total = models.BigIntegerField()
    refunded_quantity = models.PositiveIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_quantity__lte=models.F("quantity")),
                name="order_line_refund_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    refunded_amount__gte=0, refunded_amount__lte=models.F("line_total")
                ),
                name="order_line_refund_within_total",
            ),
        ]
        indexes = [
            # Segments' category_orders: a category's lines without reading the table.
            models.Index(
                fields=["product_id_snapshot", "order", "quantity", "refunded_quantity"],
                name="order_line_product",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"


class OrderEvent(MerchantOwned):
    """The order's timeline: placed, paid, prepared, shipped, collected, refunded... Append-only."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.kind}"


class OrderRefund(MerchantOwned):
    """A refund applied to an order, once per refund reference of the payments app."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds_applied")
    reference = models.CharField(max_length=80)
    amount = models.BigIntegerField()
    lines = models.JSONField(default=list, blank=True)  # [[order_line_id, quantity, amount], ...]
    restocked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("applied refund")
        verbose_name_plural = _("applied refunds")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "reference"], name="order_refund_once"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="order_refund_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.reference}"


class ShippingSettings(MerchantOwned):
    """A merchant's delivery fee rule (one row per merchant; none means free delivery)."""

    flat_fee = models.PositiveBigIntegerField(_("delivery fee (fen)"), default=0)
    free_over = models.PositiveBigIntegerField(_("free delivery from (fen)"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shipping settings")
        verbose_name_plural = _("shipping settings")
        constraints = [
            models.UniqueConstraint(fields=["merchant"], name="shipping_settings_once"),
        ]

    def __str__(self) -> str:
        return f"shipping of {self.merchant_id}"
