"""Coupons: templates operators define, and the coupons customers hold.

A ``CouponTemplate`` says what a coupon takes off (``kind`` with ``amount``, ``percent_bp``,
``cap``, ``threshold`` in fen or basis points), for how long (fixed dates, or ``valid_days``
after claiming), how many exist (``total_quantity``; ``remaining`` is the counter claims move
with one conditional UPDATE, ``remaining > 0``), how many one customer may hold
(``per_customer_limit``), who may claim it (``audience``) and on what (``scope``).

A ``Coupon`` is one issued coupon of a customer. ``slot`` numbers a customer's coupons of one
template from 1 to the template's per-customer limit and is unique per (template, customer),
so concurrent claims by one customer can never exceed the limit: the loser of a race hits the
constraint and retries with the next slot, or is refused. ``client_key`` makes a claim
idempotent per customer. A coupon is used on at most one order; cancelling that order unpaid,
or refunding it while the coupon is still valid, makes it available again.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import MerchantOwned

MAX_PER_CUSTOMER = 99
MAX_VALID_DAYS = 3650


class CouponTemplate(MerchantOwned):
    class Kind(models.TextChoices):
        FIXED = "fixed", _("Fixed amount")
        PERCENT = "percent", _("Percentage off")
        THRESHOLD = "threshold", _("Spend and save")
        FREE_SHIPPING = "free_shipping", _("Free delivery")

    class Validity(models.TextChoices):
        DATES = "dates", _("Between two dates")
        DAYS = "days", _("Days after claiming")

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        NEW = "new", _("New customers (no paid order)")
        TAG = "tag", _("Customers with a tag")
        SEGMENT = "segment", _("Customers of a segment")

    class Scope(models.TextChoices):
        ALL = "all", _("All products")
        CATEGORIES = "categories", _("Some categories")
        PRODUCTS = "products", _("Some products")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount (fen)"), default=0)
    percent_bp = models.PositiveIntegerField(_("share off (basis points)"), default=0)
    cap = models.BigIntegerField(_("at most (fen)"), null=True, blank=True)
    threshold = models.BigIntegerField(_("minimum spend (fen)"), default=0)
    validity = models.CharField(
        _("validity"), max_length=8, choices=Validity.choices, default=Validity.DAYS
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(_("valid days"), null=True, blank=True)
    total_quantity = models.PositiveIntegerField(_("quantity"))
    remaining = models.PositiveIntegerField(_("remaining"))
    per_customer_limit = models.PositiveSmallIntegerField(_("per customer"), default=1)
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.EVERYONE
    )
    audience_tag = models.ForeignKey(
        "customers.Tag",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tag"),
    )
    audience_segment = models.ForeignKey(
        "customers.Segment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("segment"),
    )
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices, default=Scope.ALL)
    scope_ids = models.JSONField(_("categories or products"), default=list, blank=True)
    stackable = models.BooleanField(_("stackable with other coupons"), default=False)
    issue_on_group_join = models.BooleanField(_("issue on joining a group"), default=False)
    issue_on_first_order = models.BooleanField(_("issue after the first order"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    issued_count = models.PositiveIntegerField(_("issued"), default=0)
    used_count = models.PositiveIntegerField(_("used"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__lte=models.F("total_quantity")),
                name="coupon_template_remaining_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0, threshold__gte=0, percent_bp__lte=10_000),
                name="coupon_template_amounts_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status"], name="coupon_template_status"),
            models.Index(
                fields=["starts_at"],
                name="coupon_template_due",
                condition=models.Q(status="scheduled"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Coupon(MerchantOwned):
    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    class Source(models.TextChoices):
        CLAIM_PAGE = "claim_page", _("Claim page")
        CARD = "card", _("Coupon card")
        GROUP_JOIN = "group_join", _("Joined a group")
        FIRST_ORDER = "first_order", _("First order")
        REFERRAL = "referral", _("Referral")
        STAFF = "staff", _("Issued by staff")

    template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("template")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="coupons",
        verbose_name=_("customer"),
    )
    code = models.CharField(_("code"), max_length=16)
    slot = models.PositiveSmallIntegerField()
    client_key = models.CharField(max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.AVAILABLE
    )
    claimed_at = models.DateTimeField(_("claimed"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("order"),
    )
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    discount = models.BigIntegerField(_("discount given (fen)"), default=0)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-claimed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="coupon_code_unique"),
            models.UniqueConstraint(
                fields=["template", "customer", "slot"], name="coupon_slot_unique"
            ),
            models.UniqueConstraint(
                fields=["customer", "client_key"],
                condition=~models.Q(client_key=""),
                name="coupon_client_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "customer", "status"], name="coupon_customer_status"),
            models.Index(fields=["status", "valid_until"], name="coupon_expiry"),
            models.Index(fields=["template", "status"], name="coupon_template_use"),
        ]

    def __str__(self) -> str:
        return self.code
