"""Tenancy, people, keys, audit, the domain-event outbox and idempotency records."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.permissions import Role
from siyu.core.tenancy import MerchantOwned


class User(AbstractUser):
    """A staff account. One person may work for several merchants (Membership)."""

    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Merchant(models.Model):
    """A brand: the tenant. Every business row carries one."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A staff user's role at one merchant."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="membership_user_merchant")
        ]
        ordering = ["merchant__name"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"


class ApiKey(MerchantOwned):
    """A merchant's key for integrators. Only a SHA-256 of the secret is stored."""

    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OPERATOR)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEntry(MerchantOwned):
    """Who did what, when, with the object's state before and after. Append-only."""

    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="audit_merchant_time")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_repr}"


class DomainEvent(MerchantOwned):
    """An outbox row, written in the same transaction as the change it reports."""

    event_type = models.CharField(max_length=80, db_index=True)
    aggregate_type = models.CharField(max_length=60, blank=True)
    aggregate_id = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(auto_now_add=True)
    # Set once every consumer has seen the event; the partial index keeps the
    # dispatcher's "what is pending" query cheap however long the outbox grows.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("domain event")
        verbose_name_plural = _("domain events")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["merchant", "event_type", "id"], name="event_merchant_type"),
            models.Index(
                fields=["id"], name="event_pending", condition=models.Q(dispatched_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type}"


class ConsumerFailure(models.Model):
    """An event a consumer failed on, retried with backoff until it succeeds or gives up."""

    consumer = models.CharField(max_length=80)
    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="failures")
    attempts = models.PositiveIntegerField(default=1)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event"], name="consumer_failure_once")
        ]

    def __str__(self) -> str:
        return f"{self.consumer} failed on {self.event_id} ({self.attempts}x)"


class IdempotencyRecord(MerchantOwned):
    """The stored answer to a POST that carried an ``Idempotency-Key``."""

    class State(models.TextChoices):
        PROCESSING = "processing"
        DONE = "done"

    principal = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=400)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PROCESSING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    location = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "principal", "key"], name="idempotency_key_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.principal}:{self.key}"


class ScheduledJob(models.Model):
    """A periodic job; the conditional update on ``next_run_at`` lets one scheduler win."""

    name = models.CharField(max_length=80, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
