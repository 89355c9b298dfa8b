"""Distribution (分销): distributors, who is bound to whom, commission rules, the commission
ledger and withdrawals.

The ledger (:class:`CommissionEntry`) is append-only: an entry is never edited or
deleted, and every balance is a sum of entries (docs/distribution.md, "The ledger").
Nobody pays to become a distributor and nothing is earned for recruiting: commission is
earned only on what bound customers actually paid, on one level, or two when the
merchant switches the second level on.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned


class DistributionSettings(MerchantOwned):
    """One row per merchant (created on first change; the defaults apply until then)."""

    class Enrolment(models.TextChoices):
        OPEN = "open", _("Any customer")
        APPROVAL = "approval", _("On approval")

    class BindingPolicy(models.TextChoices):
        FIRST_LINK = "first_link", _("First link wins for a protection period")
        LAST_LINK = "last_link", _("Last link wins")
        PERMANENT = "permanent", _("Permanent")

    enabled = models.BooleanField(_("distribution on"), default=True)
    enrolment = models.CharField(
        _("who may become a distributor"),
        max_length=10,
        choices=Enrolment.choices,
        default=Enrolment.APPROVAL,
    )
    binding_policy = models.CharField(
        _("binding"), max_length=12, choices=BindingPolicy.choices, default=BindingPolicy.FIRST_LINK
    )
    protection_days = models.PositiveSmallIntegerField(_("protection period (days)"), default=30)
    self_purchase = models.BooleanField(_("commission on own purchases"), default=False)
    settlement_delay_days = models.PositiveSmallIntegerField(
        _("settle after completion (days)"), default=7
    )
    second_level = models.BooleanField(_("second level"), default=False)
    second_level_rate_bp = models.PositiveIntegerField(
        _("second level rate (basis points)"), default=0
    )
    minimum_withdrawal = models.PositiveBigIntegerField(_("minimum withdrawal (fen)"), default=1000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("distribution settings")
        verbose_name_plural = _("distribution settings")
        constraints = [
            models.UniqueConstraint(fields=["merchant"], name="distribution_settings_once"),
            models.CheckConstraint(
                condition=models.Q(second_level_rate_bp__lte=10_000),
                name="distribution_second_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"distribution of {self.merchant_id}"


class Distributor(MerchantOwned):
    """A customer of the merchant who earns commission on what their bound customers buy."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="distributor"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.APPLIED
    )
    invited_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invited",
        verbose_name=_("invited by"),
    )
    share_code = models.CharField(_("share code"), max_length=16)
    applied_at = models.DateTimeField(_("applied"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        ordering = ["-applied_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "share_code"], name="distributor_share_code_unique"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "status"], name="distributor_status")]

    def __str__(self) -> str:
        return self.share_code


class Binding(MerchantOwned):
    """The distributor a customer is bound to now (history in :class:`BindingChange`)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="distribution_binding"
    )
    distributor = models.ForeignKey(Distributor, on_delete=models.PROTECT, related_name="bindings")
    since = models.DateTimeField(_("since"))
    source = models.CharField(_("source"), max_length=24)

    class Meta:
        verbose_name = _("binding")
        verbose_name_plural = _("bindings")
        indexes = [models.Index(fields=["merchant", "distributor", "-since"], name="binding_time")]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.distributor_id}"


class BindingChange(MerchantOwned):
    """A change of a customer's distributor. Append-only."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    from_distributor = models.ForeignKey(
        Distributor, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_distributor = models.ForeignKey(Distributor, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=24)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("binding change")
        verbose_name_plural = _("binding changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_distributor_id} → {self.to_distributor_id}"


class RuleScope(models.TextChoices):
    DEFAULT = "default", _("Default")
    CATEGORY = "category", _("Category")
    PRODUCT = "product", _("Product")


class RuleKind(models.TextChoices):
    PERCENT = "percent", _("Percentage")
    FIXED = "fixed", _("Fixed amount per unit")


def rule_constraints(prefix: str) -> list[models.BaseConstraint]:
    """One rule per target (the default, a category, a product), the target matching the
    scope, and a rate of at most 100 %: the constraints of both rules tables."""
    return [
        models.UniqueConstraint(
            fields=["merchant"],
            condition=models.Q(scope="default"),
            name=f"{prefix}_default_once",
        ),
        models.UniqueConstraint(
            fields=["merchant", "category"],
            condition=models.Q(scope="category"),
            name=f"{prefix}_category_once",
        ),
        models.UniqueConstraint(
            fields=["merchant", "product"],
            condition=models.Q(scope="product"),
            name=f"{prefix}_product_once",
        ),
        models.CheckConstraint(
            condition=(
                models.Q(scope="default", category__isnull=True, product__isnull=True)
                | models.Q(scope="category", category__isnull=False, product__isnull=True)
                | models.Q(scope="product", category__isnull=True, product__isnull=False)
            ),
            name=f"{prefix}_scope_target",
        ),
        models.CheckConstraint(
            condition=models.Q(rate_bp__lte=10_000), name=f"{prefix}_rate_range"
        ),
    ]


class RuleFields(MerchantOwned):
    """What a commission rule is: where it applies and what it pays (a percentage in basis
    points of the paid amount, or fixed fen per unit). Both ledgers' rules tables have it."""

    Scope = RuleScope
    Kind = RuleKind

    scope = models.CharField(_("applies to"), max_length=10, choices=RuleScope.choices)
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=RuleKind.choices)
    rate_bp = models.PositiveIntegerField(_("rate (basis points)"), default=0)
    fixed_fen = models.PositiveBigIntegerField(_("amount per unit (fen)"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class CommissionRule(RuleFields):
    """The level-1 rate: the merchant's default, a category's (and its subcategories'), or a
    product's. A product's rule beats its nearest category's, which beats the default."""

    class Meta:
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        ordering = ["scope", "id"]
        constraints = rule_constraints("commission_rule")

    def __str__(self) -> str:
        return f"{self.scope} {self.kind}"


class CommissionEntry(MerchantOwned):
    """One line of the commission ledger. Append-only: never edited, never deleted.

    * ``pending`` (+) when the order is paid, one per order line and level, carrying the
      basis it was computed on (the rule then and the line's paid amount);
    * ``reversed`` (−) when a refund takes part of it back; ``from_settled`` says whether
      the money had already been settled;
    * ``settled`` (+) moves a line's net pending commission to settled, once, when the
      order was completed more than the settlement delay ago.

    Earned = pending + reversed; settled = settled + reversed from settled; pending
    balance = earned − settled (docs/distribution.md).

    Settlement writes a million of them in one ``INSERT … SELECT`` (bench_distribution), so
    the rows are kept light, as chat messages are: the merchant, distributor, order and line
    have no database constraint (every entry is written from rows read in the same
    transaction, and the ORM's ``PROTECT`` still refuses to delete what an entry points to;
    a constraint's check locked every order row, dirtying the whole orders table) and no
    index of their own (the composite indexes below start with them), and settled entries
    stay out of ``commission_kind_order``.
    """

    class Kind(models.TextChoices):
        PENDING = "pending", pgettext_lazy("commission", "Pending")
        SETTLED = "settled", pgettext_lazy("commission", "Settled")
        REVERSED = "reversed", pgettext_lazy("commission", "Reversed")

    merchant = models.ForeignKey(
        "core.Merchant",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # commission_distributor, commission_kind_order start with it
    )
    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        db_index=False,  # commission_distributor (merchant, distributor, kind)
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # commission_order
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the unique (order_line, level, …) indexes start with it
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount (fen)"))
    from_settled = models.BooleanField(default=False)
    # The basis (on pending entries): the rule as it was and the line's paid amount.
    rule_kind = models.CharField(max_length=8, blank=True)
    rate_bp = models.PositiveIntegerField(default=0)
    fixed_fen = models.PositiveBigIntegerField(default=0)
    quantity = models.PositiveIntegerField(default=0)
    base_amount = models.BigIntegerField(default=0)
    # What made the entry (pending: "paid"; reversed: the refund's reference); unique per
    # line and level, so a replayed event adds nothing. Settled entries have none.
    key = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("commission entry")
        verbose_name_plural = _("commission entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_line", "level", "key"],
                condition=models.Q(key__isnull=False),
                name="commission_entry_key_once",
            ),
            models.UniqueConstraint(
                fields=["order_line", "level"],
                condition=models.Q(kind="pending"),
                name="commission_entry_pending_once",
            ),
            models.UniqueConstraint(
                fields=["order_line", "level"],
                condition=models.Q(kind="settled"),
                name="commission_entry_settled_once",
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=2), name="commission_entry_level"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="pending", amount__gte=0)
                    | models.Q(kind="reversed", amount__lte=0)
                    | models.Q(kind="settled")
                ),
                name="commission_entry_sign",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "distributor", "kind"], name="commission_distributor"),
            models.Index(
                fields=["merchant", "kind", "order"],
                condition=models.Q(kind__in=["pending", "reversed"]),
                name="commission_kind_order",
            ),
            models.Index(fields=["order"], name="commission_order"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.order_line_id}/{self.level})"


class Withdrawal(MerchantOwned):
    """A distributor asking for settled commission to be paid out."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PAID = "paid", _("Paid")

    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="withdrawals"
    )
    amount = models.BigIntegerField(_("amount (fen)"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_at = models.DateTimeField(_("requested"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    payout_method = models.CharField(_("payout method"), max_length=24, blank=True)
    reference = models.CharField(_("payout reference"), max_length=80, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="withdrawal_amount_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "-requested_at"], name="withdrawal_status"),
            models.Index(fields=["distributor", "status"], name="withdrawal_distributor"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.status})"


# --- shopping guides' commission (docs/distribution.md, "Shopping guides' commission") ---------


class WithdrawalKey(MerchantOwned):
    """The client key of a distributor's withdrawal request from the storefront: a retried
    request (a double tap, a resent form) answers the withdrawal its first request made."""

    distributor = models.ForeignKey(Distributor, on_delete=models.PROTECT, related_name="+")
    client_key = models.CharField(max_length=64)
    withdrawal = models.OneToOneField(Withdrawal, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("withdrawal key")
        verbose_name_plural = _("withdrawal keys")
        constraints = [
            models.UniqueConstraint(
                fields=["distributor", "client_key"], name="withdrawal_client_key_once"
            ),
        ]

    def __str__(self) -> str:
        return self.client_key


class GuideCommissionRule(RuleFields):
    """What a shopping guide earns on the orders attributed to them (``Order.guide_id``): the
    merchant's default, a category's (and its subcategories') or a product's, like
    :class:`CommissionRule` but separate from the distributors' rates."""

    class Meta:
        verbose_name = _("guide commission rule")
        verbose_name_plural = _("guide commission rules")
        ordering = ["scope", "id"]
        constraints = rule_constraints("guide_rule")

    def __str__(self) -> str:
        return f"guide {self.scope} {self.kind}"


class GuideCommissionEntry(MerchantOwned):
    """One line of the shopping guides' commission ledger. Append-only, like
    :class:`CommissionEntry`: ``pending`` (+) when the order is paid, ``reversed`` (−) on a
    refund, ``settled`` (+) once the order completed more than the settlement delay ago."""

    Kind = CommissionEntry.Kind

    guide = models.ForeignKey(
        "core.Membership", on_delete=models.PROTECT, related_name="+", verbose_name=_("guide")
    )
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=CommissionEntry.Kind.choices)
    amount = models.BigIntegerField(_("amount (fen)"))
    from_settled = models.BooleanField(default=False)
    rule_kind = models.CharField(max_length=8, blank=True)
    rate_bp = models.PositiveIntegerField(default=0)
    fixed_fen = models.PositiveBigIntegerField(default=0)
    quantity = models.PositiveIntegerField(default=0)
    base_amount = models.BigIntegerField(default=0)
    key = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("guide commission entry")
        verbose_name_plural = _("guide commission entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_line", "key"],
                condition=models.Q(key__isnull=False),
                name="guide_entry_key_once",
            ),
            models.UniqueConstraint(
                fields=["order_line"],
                condition=models.Q(kind="pending"),
                name="guide_entry_pending_once",
            ),
            models.UniqueConstraint(
                fields=["order_line"],
                condition=models.Q(kind="settled"),
                name="guide_entry_settled_once",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="pending", amount__gte=0)
                    | models.Q(kind="reversed", amount__lte=0)
                    | models.Q(kind="settled")
                ),
                name="guide_entry_sign",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "guide", "kind"], name="guide_entry_guide"),
            models.Index(fields=["merchant", "kind", "order"], name="guide_entry_kind_order"),
            models.Index(fields=["order"], name="guide_entry_order"),
        ]

    def __str__(self) -> str:
        return f"guide {self.kind} {self.amount} ({self.order_line_id})"
