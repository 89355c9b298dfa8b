"""The loyalty app's tables: the points ledger and member tiers.

* ``LoyaltySettings`` — one row per merchant: earn rate, redemption value and share, expiry
  rule, sign-in / first-order / review points.
* ``PointsEntry`` — the append-only ledger. A positive entry is a *lot* (it may expire at
  ``expires_at``); a negative entry (redeem, expire, take-back, negative adjustment) consumes
  lots, recorded as ``PointsAllocation`` rows (which lot gave how many), earliest-expiring lots
  first. A lot's points left = its points − Σ its allocations; nothing is ever edited.
  ``reference`` is unique per merchant: every write names its cause, so a replay writes nothing.
* ``PointsAccount`` — the cached balance (Σ entries), updated with ``F()`` in the entry's
  transaction, locked by every write of the customer's points; a check keeps it ≥ 0.
* ``SignIn`` — one per customer per local day (unique).
* ``MemberTier`` / ``CustomerTier`` — tiers by 12-month spend or points earned, and each
  customer's current tier with the figures it was decided on.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned

BASIS_POINTS = 10_000


class LoyaltySettings(MerchantOwned):
    class Expiry(models.TextChoices):
        NEVER = "never", _("Never")
        END_OF_NEXT_YEAR = "next_year_end", _("At the end of the following year")
        DAYS = "days", _("A number of days after earning")

    enabled = models.BooleanField(_("points enabled"), default=True)
    earn_per_yuan = models.PositiveIntegerField(_("points per ¥1 paid"), default=1)
    fen_per_point = models.PositiveIntegerField(_("value of one point (fen)"), default=1)
    max_redeem_bp = models.PositiveIntegerField(
        _("most of an order paid with points (basis points)"), default=5000
    )
    expiry = models.CharField(
        _("expiry"), max_length=16, choices=Expiry.choices, default=Expiry.END_OF_NEXT_YEAR
    )
    expiry_days = models.PositiveIntegerField(_("days until expiry"), default=365)
    sign_in_points = models.PositiveIntegerField(_("daily sign-in points"), default=5)
    first_order_points = models.PositiveIntegerField(_("first order points"), default=100)
    review_points = models.PositiveIntegerField(_("review points"), default=10)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("points settings")
        verbose_name_plural = _("points settings")
        constraints = [
            models.UniqueConstraint(fields=["merchant"], name="loyalty_settings_one"),
            models.CheckConstraint(
                condition=models.Q(fen_per_point__gte=1, max_redeem_bp__lte=BASIS_POINTS),
                name="loyalty_settings_valid",
            ),
        ]


class PointsAccount(MerchantOwned):
    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="points_account"
    )
    balance = models.BigIntegerField(_("balance"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="points_account_not_negative"
            )
        ]


class PointsEntry(MerchantOwned):
    class Kind(models.TextChoices):
        EARN_ORDER = "earn_order", _("Earned on an order")
        FIRST_ORDER = "first_order", _("First order")
        SIGN_IN = "sign_in", _("Daily sign-in")
        REVIEW = "review", pgettext_lazy("points for", "Review")
        AWARD = "award", _("Reward")
        REDEEM = "redeem", _("Used on an order")
        REFUND_EARN = "refund_earn", _("Taken back (refund)")
        REFUND_REDEEM = "refund_redeem", _("Returned (order cancelled or refunded)")
        EXPIRE = "expire", _("Expired")
        ADJUST = "adjust", _("Adjusted by staff")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="points_entries"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    points = models.BigIntegerField(_("points"))
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("order"),
    )
    reference = models.CharField(max_length=120)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "reference"], name="points_entry_ref"),
            models.CheckConstraint(condition=~models.Q(points=0), name="points_entry_not_zero"),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="points_entry_customer"),
            models.Index(fields=["order", "kind"], name="points_entry_order"),
            models.Index(fields=["merchant", "kind", "created_at"], name="points_entry_kind"),
            models.Index(fields=["merchant", "expires_at"], name="points_entry_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d}"


class PointsAllocation(MerchantOwned):
    """``points`` of the lot ``lot`` consumed by the negative entry ``debit``."""

    debit = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="allocations")
    lot = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="consumed_by")
    points = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(points__gt=0), name="points_alloc_positive")
        ]


class SignIn(MerchantOwned):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="points_sign_ins"
    )
    day = models.DateField(_("day"))
    streak = models.PositiveIntegerField(_("days in a row"), default=1)
    points = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "day"], name="points_sign_in_once_a_day")
        ]


class MemberTier(MerchantOwned):
    class Basis(models.TextChoices):
        SPEND = "spend", _("Spend in the last 12 months")
        POINTS = "points", _("Points earned in the last 12 months")

    name = models.CharField(_("name"), max_length=40)
    rank = models.PositiveIntegerField(_("rank"), default=1)
    basis = models.CharField(_("basis"), max_length=8, choices=Basis.choices, default=Basis.SPEND)
    threshold = models.BigIntegerField(_("threshold"), default=0)
    discount_bp = models.PositiveIntegerField(_("discount (basis points)"), default=0)
    points_multiplier_bp = models.PositiveIntegerField(
        _("points multiplier (basis points)"), default=BASIS_POINTS
    )
    free_shipping = models.BooleanField(_("free delivery"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("member tier")
        verbose_name_plural = _("member tiers")
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="member_tier_name"),
            models.CheckConstraint(
                condition=models.Q(
                    threshold__gte=0, discount_bp__lte=BASIS_POINTS, points_multiplier_bp__gte=0
                ),
                name="member_tier_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerTier(MerchantOwned):
    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="member_tier"
    )
    tier = models.ForeignKey(
        MemberTier, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    spend_12m = models.BigIntegerField(default=0)
    points_12m = models.BigIntegerField(default=0)
    since = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["merchant", "tier"], name="customer_tier_tier")]


class ProductReview(MerchantOwned):
    """A customer's review of one line of a completed order (once per line); it earns the
    merchant's review points once. ``product_id`` is the line's product snapshot."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="product_reviews"
    )
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    order_line = models.OneToOneField(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="review"
    )
    product_id = models.BigIntegerField(db_index=True)
    rating = models.PositiveSmallIntegerField(_("rating"))
    text = models.CharField(_("review"), max_length=500, blank=True)
    hidden = models.BooleanField(_("hidden"), default=False)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("product review")
        verbose_name_plural = _("product reviews")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="product_review_rating"
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "product_id", "-created_at"], name="review_product")
        ]
