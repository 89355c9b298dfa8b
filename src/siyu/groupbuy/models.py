"""The groupbuy app's tables: group-buys (拼团): activities on SKUs, teams that fill by paying.

* ``GroupBuy`` — the activity: one product, a team size N (2–50), how long a team may take to
  fill, when it runs, a per-customer limit, whether joiners must be new customers and whether
  coupons combine with the group price.
* ``GroupBuySku`` — one SKU of the activity: its group price and the activity's own stock
  (``stock_left`` is taken with one conditional UPDATE when an order is placed and given back
  when the order is cancelled unpaid or its payment refunded).
* ``Team`` — a team opened by a leader's payment; ``seats_taken`` moves by one conditional
  UPDATE (``seats_taken < size``) and a check constraint keeps it within ``size``.
* ``Member`` — one group-buy order: ``pending`` while unpaid, ``seated`` in a team once paid
  (``seat`` 1..N, unique per team), ``cancelled`` when the order was cancelled unpaid,
  ``refunded`` when the payment went back (no seat could be found, or the team failed).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned

MIN_TEAM_SIZE = 2
MAX_TEAM_SIZE = 50
MAX_FILL_HOURS = 24 * 30
MAX_PER_CUSTOMER = 99


class GroupBuy(MerchantOwned):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", pgettext_lazy("group-buy", "Scheduled")
        RUNNING = "running", pgettext_lazy("group-buy", "Running")
        PAUSED = "paused", pgettext_lazy("group-buy", "Paused")
        ENDED = "ended", pgettext_lazy("group-buy", "Ended")

    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    team_size = models.PositiveSmallIntegerField(_("team size"))
    fill_hours = models.PositiveSmallIntegerField(_("hours to fill a team"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    per_customer_limit = models.PositiveSmallIntegerField(_("per customer"), default=1)
    new_customers_only = models.BooleanField(_("joiners must be new customers"), default=False)
    allow_coupons = models.BooleanField(_("coupons combine"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group-buy")
        verbose_name_plural = _("group-buys")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team_size__gte=MIN_TEAM_SIZE, team_size__lte=MAX_TEAM_SIZE),
                name="groupbuy_team_size_range",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="groupbuy_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "status", "ends_at"], name="groupbuy_status")]

    def __str__(self) -> str:
        return self.name


class GroupBuySku(MerchantOwned):
    activity = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="skus")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    group_price = models.PositiveBigIntegerField(_("group price (fen)"))
    stock_total = models.PositiveIntegerField(_("activity stock"))
    stock_left = models.PositiveIntegerField(_("stock left"))

    class Meta:
        verbose_name = _("group-buy SKU")
        verbose_name_plural = _("group-buy SKUs")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "sku"], name="groupbuy_sku_once"),
            models.CheckConstraint(
                condition=models.Q(group_price__gte=1), name="groupbuy_sku_price_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(stock_left__lte=models.F("stock_total")),
                name="groupbuy_sku_stock_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}: {self.sku_id}"


class Team(MerchantOwned):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("group-buy team", "Filling")
        SUCCEEDED = "succeeded", pgettext_lazy("group-buy team", "Succeeded")
        FAILED = "failed", pgettext_lazy("group-buy team", "Failed")

    activity = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="teams")
    leader = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    size = models.PositiveSmallIntegerField(_("team size"))
    seats_taken = models.PositiveSmallIntegerField(_("members"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    opened_at = models.DateTimeField(_("opened"))
    deadline = models.DateTimeField(_("fill before"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("group-buy team")
        verbose_name_plural = _("group-buy teams")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(seats_taken__lte=models.F("size")),
                name="groupbuy_team_never_over_size",
            ),
        ]
        indexes = [
            models.Index(fields=["activity", "status", "deadline"], name="groupbuy_team_open"),
            models.Index(fields=["status", "deadline"], name="groupbuy_team_due"),
        ]

    @property
    def seats_left(self) -> int:
        return max(0, self.size - self.seats_taken)

    def __str__(self) -> str:
        return f"team {self.pk} of {self.activity_id}"


class Member(MerchantOwned):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        SEATED = "seated", pgettext_lazy("group-buy member", "In a team")
        CANCELLED = "cancelled", pgettext_lazy("group-buy member", "Cancelled")
        REFUNDED = "refunded", pgettext_lazy("group-buy member", "Refunded")

    activity = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="members")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    wanted_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The team the customer chose to join; none: open a new team."),
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    group_price = models.PositiveBigIntegerField()
    normal_price = models.PositiveBigIntegerField()
    discount = models.BigIntegerField(default=0)  # fen the group price took off the order
    is_leader = models.BooleanField(default=False)
    is_new_customer = models.BooleanField(default=False)  # no paid order before this one
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    seat = models.PositiveSmallIntegerField(null=True, blank=True)
    placed_at = models.DateTimeField()
    seated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("group-buy member")
        verbose_name_plural = _("group-buy members")
        ordering = ["seat", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "seat"],
                condition=models.Q(seat__isnull=False),
                name="groupbuy_member_seat_once",
            ),
            models.UniqueConstraint(
                fields=["team", "customer"],
                condition=models.Q(team__isnull=False),
                name="groupbuy_member_once_per_team",
            ),
            models.CheckConstraint(
                condition=models.Q(seat__isnull=True) | models.Q(seat__gte=1),
                name="groupbuy_member_seat_from_one",
            ),
        ]
        indexes = [
            models.Index(fields=["activity", "customer", "status"], name="groupbuy_member_cust"),
            models.Index(fields=["activity", "status"], name="groupbuy_member_status"),
        ]

    def __str__(self) -> str:
        return f"member {self.pk} ({self.status})"
