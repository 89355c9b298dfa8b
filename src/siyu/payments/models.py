"""Payments through gateway adapters, the notifications they send, and refunds.

A ``Payment`` is one attempt to collect an order's total through one gateway
(``out_trade_no`` is our id, known to the provider; ``provider_reference`` is
theirs). Every notification received is logged once per provider notification
id (a unique constraint), so the same notification ten times moves the order
once. A ``Refund`` returns part or all of a paid order through the same gateway.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import MerchantOwned


class Payment(MerchantOwned):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        CLOSED = "closed", _("Closed")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(_("gateway"), max_length=24)
    out_trade_no = models.CharField(_("payment number"), max_length=40, unique=True)
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    amount = models.BigIntegerField(_("amount"))
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    pay_url = models.CharField(max_length=400, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_total = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="payment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_total__gte=0, refunded_total__lte=models.F("amount")),
                name="payment_refund_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "order"], name="payment_order")]

    def __str__(self) -> str:
        return self.out_trade_no


class PaymentNotification(MerchantOwned):
    """A verified notification from a gateway, recorded once per provider notification id."""

    gateway = models.CharField(max_length=24)
    notification_id = models.CharField(max_length=80)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    kind = models.CharField(max_length=24)  # payment.succeeded, payment.failed, refund.succeeded...
    payload = models.JSONField(default=dict)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        constraints = [
            models.UniqueConstraint(fields=["gateway", "notification_id"], name="notification_once")
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.notification_id}"


class Refund(MerchantOwned):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        PROCESSING = "processing", _("Processing")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    number = models.CharField(_("refund number"), max_length=40, unique=True)
    amount = models.BigIntegerField(_("amount"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED
    )
    restock = models.BooleanField(_("restock"), default=True)
    requested_by_customer = models.BooleanField(default=False)
    actor_label = models.CharField(max_length=150, blank=True)
    provider_reference = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return self.number


class RefundLine(MerchantOwned):
    """Which order line (and how many of it) a refund returns; empty for an amount-only refund."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="refund_line_quantity_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"


class SandboxTransaction(MerchantOwned):
    """The sandbox gateway's own record, as a provider would keep it (not our payment)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        CLOSED = "closed", _("Closed")

    token = models.CharField(max_length=40, unique=True)  # the payment page's secret address
    transaction_id = models.CharField(max_length=40, unique=True)  # the provider reference
    out_trade_no = models.CharField(max_length=40)
    amount = models.BigIntegerField()
    refunded = models.BigIntegerField(default=0)
    description = models.CharField(max_length=200, blank=True)
    notify_url = models.CharField(max_length=400)
    return_url = models.CharField(max_length=400, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.transaction_id
