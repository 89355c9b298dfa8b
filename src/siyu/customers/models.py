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
        indexes = [
            models.Index(fields=["merchant", "-created_at", "-id"], name="customer_merchant_new"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone

    @property
    def is_blocked(self) -> bool:
        return self.status == self.Status.BLOCKED


class CustomerAddress(MerchantOwned):
    """A delivery address in the Chinese shape: recipient, phone, province/city/district, street.

    A customer has at most one default address (a partial unique constraint);
    the services keep exactly one while the customer has any.
    """

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
        ordering = ["-is_default", "-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True),
                name="customer_address_one_default",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.province}{self.city}{self.district}{self.street}"

    @property
    def one_line(self) -> str:
        """The address as a Chinese courier writes it: province, city, district, street."""
        parts = [self.province]
        if self.city != self.province:  # 上海市上海市 reads as a mistake
            parts.append(self.city)
        parts += [self.district, self.street]
        return "".join(p for p in parts if p)


class LoginCode(MerchantOwned):
    """A one-time login code sent by SMS. Only its keyed hash is stored.

    A newer code for the same phone replaces the pending one; a code is used
    at most once (one conditional UPDATE from pending to used) and allows at
    most ``OTP_MAX_ATTEMPTS`` tries.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        USED = "used", _("Used")
        REPLACED = "replaced", _("Replaced by a newer code")

    phone = models.CharField(_("phone"), max_length=20)
    code_hash = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tries"), default=0)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("login code")
        verbose_name_plural = _("login codes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "phone", "-created_at"], name="login_code_phone_time"),
            models.Index(
                fields=["merchant", "ip_address", "-created_at"], name="login_code_ip_time"
            ),
            models.Index(fields=["created_at"], name="login_code_time"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.status}"


class SendLock(MerchantOwned):
    """One row per phone number or IP address that asked for codes.

    Code requests for the same phone or address lock these rows first
    (``SELECT … FOR UPDATE``, in key order), so two requests at the same moment
    cannot both pass the send limits.
    """

    key = models.CharField(max_length=80)  # "phone:+8613812345678" or "ip:203.0.113.9"
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("send lock")
        verbose_name_plural = _("send locks")
        constraints = [models.UniqueConstraint(fields=["merchant", "key"], name="send_lock_once")]

    def __str__(self) -> str:
        return self.key


class SmsMessage(MerchantOwned):
    """An SMS as the built-in ``outbox`` backend keeps it: how operators and the demo read codes."""

    class Status(models.TextChoices):
        OUTBOX = "outbox", _("In the outbox")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Login code")

    to = models.CharField(_("to"), max_length=20)
    text = models.CharField(_("text"), max_length=500)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    backend = models.CharField(_("backend"), max_length=20)
    provider_reference = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "-created_at", "-id"], name="sms_merchant_time"),
            models.Index(fields=["merchant", "to", "-created_at"], name="sms_to_time"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.text[:40]}"
