"""The bargain app's tables: bargains (砍价): a price friends help cut.

A ``BargainActivity`` is what an operator sets up: one SKU whose price friends cut from the
SKU's price down to ``floor_price`` once ``helpers_needed`` helper shares have cut, within
``time_limit_hours`` of starting, between ``starts_at`` and ``ends_at``. ``stock_left`` is the
activity's own stock of bargain purchases, moved by one conditional UPDATE
(``stock_left >= 1``) when a bargain is bought and given back when that order is cancelled
unpaid. ``per_customer_limit`` bounds the bargains one customer may start on it (``slot`` is
unique per activity and customer). ``new_customer_weight`` counts a new customer as that many
helpers (1 = off); ``helpers_must_be_new`` lets only new customers help.

A ``Bargain`` is one customer's run at the price: it snapshots the prices and counts when it
starts, keeps ``current_price`` and the shares cut so far, and a random ``seed`` from which each
cut is drawn (``siyu.bargain.cuts``), so every cut can be re-derived. ``code`` is the share
link's public name. A ``BargainCut`` is one helper's cut, unique per (bargain, helper) and per
(bargain, sequence).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned

MAX_HELPERS = 100
MAX_HOURS = 24 * 30
MAX_WEIGHT = 10
MAX_PER_CUSTOMER = 99


class BargainActivity(MerchantOwned):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", pgettext_lazy("bargain activity status", "Running")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    name = models.CharField(_("name"), max_length=60)
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    floor_price = models.BigIntegerField(_("floor price (fen)"))
    helpers_needed = models.PositiveSmallIntegerField(_("helpers needed"))
    time_limit_hours = models.PositiveSmallIntegerField(_("time limit (hours)"), default=24)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    stock_total = models.PositiveIntegerField(_("activity stock"))
    stock_left = models.PositiveIntegerField(_("stock left"))
    per_customer_limit = models.PositiveSmallIntegerField(_("bargains per customer"), default=1)
    new_customer_weight = models.PositiveSmallIntegerField(
        _("a new customer counts as (helpers)"), default=1
    )
    helpers_must_be_new = models.BooleanField(_("only new customers may help"), default=False)
    buy_before_floor = models.BooleanField(
        _("may buy before reaching the floor price"), default=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bargain activity")
        verbose_name_plural = _("bargain activities")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stock_left__lte=models.F("stock_total")),
                name="bargain_activity_stock_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(floor_price__gte=0), name="bargain_activity_floor_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "status"], name="bargain_activity_status")]

    def __str__(self) -> str:
        return self.name


class Bargain(MerchantOwned):
    class Status(models.TextChoices):
        OPEN = "open", _("Being cut")
        REACHED = "reached", _("Floor price reached")
        BOUGHT = "bought", pgettext_lazy("bargain status", "Bought")
        EXPIRED = "expired", pgettext_lazy("bargain status", "Expired")

    activity = models.ForeignKey(
        BargainActivity,
        on_delete=models.PROTECT,
        related_name="bargains",
        verbose_name=_("activity"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("started by"),
    )
    code = models.CharField(_("code"), max_length=16)
    slot = models.PositiveSmallIntegerField()
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    original_price = models.BigIntegerField(_("original price (fen)"))
    floor_price = models.BigIntegerField(_("floor price (fen)"))
    current_price = models.BigIntegerField(_("current price (fen)"))
    helpers_needed = models.PositiveSmallIntegerField(_("helpers needed"))
    new_customer_weight = models.PositiveSmallIntegerField(default=1)
    shares_cut = models.PositiveSmallIntegerField(default=0)
    helper_count = models.PositiveSmallIntegerField(_("helpers"), default=0)
    seed = models.BigIntegerField()
    started_at = models.DateTimeField(_("started"))
    expires_at = models.DateTimeField(_("expires"))
    reached_at = models.DateTimeField(_("floor reached"), null=True, blank=True)
    bought_at = models.DateTimeField(_("bought"), null=True, blank=True)
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("order"),
    )

    class Meta:
        verbose_name = _("bargain")
        verbose_name_plural = _("bargains")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="bargain_code_unique"),
            models.UniqueConstraint(
                fields=["activity", "customer", "slot"], name="bargain_slot_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(current_price__gte=models.F("floor_price")),
                name="bargain_price_not_below_floor",
            ),
            models.CheckConstraint(
                condition=models.Q(shares_cut__lte=models.F("helpers_needed")),
                name="bargain_shares_within_needed",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="bargain_expiry"),
            models.Index(fields=["merchant", "customer", "status"], name="bargain_customer"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def cut_total(self) -> int:
        return self.original_price - self.current_price

    @property
    def full_cut(self) -> int:
        return self.original_price - self.floor_price


class BargainCut(MerchantOwned):
    bargain = models.ForeignKey(
        Bargain, on_delete=models.CASCADE, related_name="cuts", verbose_name=_("bargain")
    )
    helper = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("helper"),
    )
    sequence = models.PositiveSmallIntegerField()
    amount = models.BigIntegerField(_("cut (fen)"))
    shares = models.PositiveSmallIntegerField(default=1)
    new_customer = models.BooleanField(_("new customer"), default=False)
    created_at = models.DateTimeField(_("cut at"))

    class Meta:
        verbose_name = _("bargain cut")
        verbose_name_plural = _("bargain cuts")
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["bargain", "helper"], name="bargain_cut_once"),
            models.UniqueConstraint(fields=["bargain", "sequence"], name="bargain_cut_sequence"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=1), name="bargain_cut_at_least_one_fen"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "helper"], name="bargain_cut_helper")]

    def __str__(self) -> str:
        return f"{self.bargain_id}#{self.sequence}"
