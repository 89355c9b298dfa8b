"""Webhook endpoints, the deliveries made to them, and every HTTP attempt of a delivery."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.models import DomainEvent
from siyu.core.tenancy import MerchantOwned

ALL_EVENTS = "*"


class WebhookEndpoint(MerchantOwned):
    """A URL of an integrator that receives the merchant's domain events, signed."""

    class DisabledReason(models.TextChoices):
        NONE = "", _("Enabled")
        MANUAL = "manual", _("Disabled by staff")
        FAILING = "failing", _("Disabled after repeated failures")

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The signing secret must be kept in clear: Siyu computes HMACs with it.
    # It is never written to the audit log and shown only on create and rotate.
    secret = models.CharField(max_length=80)
    # During the grace period of a rotation deliveries are signed with both.
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(
        _("events"), default=list, help_text=_('Event type names, or ["*"] for every event.')
    )
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(
        max_length=16, choices=DisabledReason.choices, blank=True, default=DisabledReason.NONE
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "is_active"], name="webhook_endpoint_active")]

    def __str__(self) -> str:
        return self.url

    @property
    def subscribes_to_all(self) -> bool:
        return ALL_EVENTS in self.event_types

    def subscribes_to(self, event_type: str) -> bool:
        return self.subscribes_to_all or event_type in self.event_types


class WebhookDelivery(MerchantOwned):
    """One event sent (and re-sent until it succeeds or gives up) to one endpoint."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        DomainEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_type = models.CharField(_("event"), max_length=80)
    # The exact bytes (UTF-8) sent: serialised once, so every retry is identical.
    body = models.TextField()
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(default=1)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while one worker holds the delivery ("sending"); expired leases are recovered.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # the consumer may see an event twice: it still makes one delivery per endpoint
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                condition=models.Q(replay_of__isnull=True, event__isnull=False),
                name="webhook_delivery_once_per_event",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["merchant", "-created_at"], name="webhook_delivery_log"),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} #{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class WebhookAttempt(MerchantOwned):
    """One HTTP request of a delivery and what came back (or why nothing did)."""

    class Error(models.TextChoices):
        NONE = "", _("None")
        HTTP_STATUS = "http_status", _("The endpoint answered with a non-2xx status")
        TIMEOUT = "timeout", _("No answer before the timeout")
        CONNECTION = "connection", _("Could not connect")
        BLOCKED = "blocked", _("Refused: the address is on a private network")
        INTERRUPTED = "interrupted", _("The worker stopped before the answer was recorded")
        ENDPOINT_DISABLED = "endpoint_disabled", _("Not sent: the endpoint is disabled")

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    url = models.CharField(max_length=500)
    request_headers = models.JSONField(default=dict)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=20, choices=Error.choices, blank=True, default="")
    error = models.TextField(blank=True)
    # delay chosen before the next attempt (none after the last)
    retry_in_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300
