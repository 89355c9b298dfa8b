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
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned


class Payment(MerchantOwned):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        SUCCEEDED = "succeeded", pgettext_lazy("payment status", "Paid")
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
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(_("pay before"), null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # True for the payment that paid the order; a second payment of the same order
    # (or one that arrived after the order was cancelled) is refunded automatically.
    paid_order = models.BooleanField(default=False)
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
            # start_payment reuses the open payment of a gateway: at most one per order
            models.UniqueConstraint(
                fields=["order", "gateway"],
                condition=models.Q(status="pending"),
                name="payment_one_open_per_gateway",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "order"], name="payment_order"),
            models.Index(fields=["merchant", "status", "-created_at"], name="payment_status_time"),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class PaymentNotification(MerchantOwned):
    """A verified notification from a gateway, recorded once per provider notification id."""

    gateway = models.CharField(max_length=24)
    notification_id = models.CharField(max_length=80)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    refund = models.ForeignKey(
        "Refund", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
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
    currency = models.CharField(max_length=3, default="CNY")
    restock = models.BooleanField(_("restock"), default=True)
    # full: everything left of the payment (lines and shipping), recomputed when approved
    full = models.BooleanField(_("full refund"), default=False)
    requested_by_customer = models.BooleanField(default=False)
    # automatic: a payment that arrived for an order already cancelled or already paid
    automatic = models.BooleanField(default=False)
    actor_label = models.CharField(max_length=150, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    decision_note = models.CharField(_("rejection reason"), max_length=200, blank=True)
    provider_reference = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # while processing: when the provider may be asked (again); a claim moves it forward
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "-created_at"], name="refund_status_time"),
            models.Index(
                fields=["next_attempt_at"],
                name="refund_processing_due",
                condition=models.Q(status="processing"),
            ),
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
        OPEN = "open", pgettext_lazy("payment status", "Open")
        PAID = "paid", pgettext_lazy("payment status", "Paid")
        FAILED = "failed", _("Failed")
        CLOSED = "closed", _("Closed")

    token = models.CharField(max_length=40, unique=True)  # the payment page's secret address
    transaction_id = models.CharField(max_length=40, unique=True)  # the provider reference
    out_trade_no = models.CharField(max_length=40, unique=True)  # one transaction per payment
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    refunded = models.BigIntegerField(default=0)
    description = models.CharField(max_length=200, blank=True)
    notify_url = models.CharField(max_length=400)
    return_url = models.CharField(max_length=400, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox transaction")
        verbose_name_plural = _("sandbox transactions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded__gte=0, refunded__lte=models.F("amount")),
                name="sandbox_refund_within_amount",
            )
        ]

    def __str__(self) -> str:
        return self.transaction_id


class SandboxRefund(MerchantOwned):
    """A refund as the sandbox provider records it: at most one per refund number."""

    transaction = models.ForeignKey(
        SandboxTransaction, on_delete=models.CASCADE, related_name="refunds"
    )
    out_refund_no = models.CharField(max_length=40, unique=True)  # our Refund.number
    refund_id = models.CharField(max_length=40, unique=True)  # the provider's reference
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox refund")
        verbose_name_plural = _("sandbox refunds")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="sandbox_refund_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return self.refund_id


class SandboxNotification(MerchantOwned):
    """A notification the sandbox provider sends to a notify URL, retried until it gets a 2xx."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be delivered")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    transaction = models.ForeignKey(
        SandboxTransaction, on_delete=models.CASCADE, related_name="notifications"
    )
    notification_id = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=24)
    url = models.CharField(max_length=400)
    body = models.TextField()  # the exact bytes sent on every attempt (UTF-8 JSON)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # when the next attempt is due; claiming an attempt moves it past the request's timeout
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox notification")
        verbose_name_plural = _("sandbox notifications")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="sandbox_notification_due",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.notification_id}"
