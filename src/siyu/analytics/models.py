"""The analytics app's tables: facts about a merchant's history, from Siyu and from imports.

Analytics reads its own fact tables, never the operational ones directly, so history a
merchant brings from its old system and Siyu's own orders are measured the same way
(ADR 0007). Siyu's events keep the facts current; ``siyu import`` writes imported history
into the same tables with ``source = "import"``.

* ``Sale`` — one paid order: who, when (``placed_at`` and the merchant's local ``day``), what
  was paid and refunded (fen, or the currency's minor unit), and where it came from (store,
  channel, group, guide, distributor, campaign, live room). A Siyu order is keyed by
  ``order_id``, an imported one by ``external_id``; both unique per merchant, so writing a
  sale again updates it (idempotent re-import, replayed events).
* ``ActiveDay`` — a customer was active on a day: ordered, messaged, visited or joined (bit
  flags), one row per merchant, customer and day. MAU/WAU/DAU count these.
* ``GroupSpan`` — a customer's membership of a community group, from ``joined_at`` to
  ``left_at`` (open while a member). ``group_id`` names a Siyu group; imported memberships of
  groups Siyu never had carry ``group_key`` only.
* ``ReferralLink`` — an inviter brought an invitee at ``invited_at`` (from the referrals app, a
  distributor binding, or imported), with the activity it came through when known.
* ``ImportRun`` — one ``siyu import`` (CLI or API): kind, file, counts, progress and the
  validation report (row, field, reason).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned


class Fact(MerchantOwned):
    """A table written row by row in bulk (imports, ``siyu analytics rebuild``): its
    merchant is not checked by a foreign-key trigger and has no index of its own.

    On PostgreSQL every row of a table with a deferred foreign key fires a check at commit
    (measured: 9 µs a row, a fifth of an import's time), and every index of these tables
    already leads with the merchant. The writers only ever write the bound merchant's id,
    and deleting a merchant still deletes its rows (Django follows the relation itself)."""

    merchant = models.ForeignKey(
        "core.Merchant",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        abstract = True


class Source(models.TextChoices):
    SIYU = "siyu", _("Siyu")
    IMPORT = "import", _("Imported")


class Sale(Fact):
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SIYU)
    order_id = models.BigIntegerField(null=True, blank=True)
    external_id = models.CharField(max_length=64, blank=True)
    customer_id = models.BigIntegerField()
    placed_at = models.DateTimeField()
    day = models.DateField()  # placed_at in the merchant's time zone
    amount = models.BigIntegerField()  # paid, minor units of the merchant's currency
    refunded = models.BigIntegerField(default=0)
    store_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=24, blank=True)
    group_id = models.BigIntegerField(null=True, blank=True)
    guide_id = models.BigIntegerField(null=True, blank=True)
    distributor_id = models.BigIntegerField(null=True, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    live_room_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "order_id"],
                condition=models.Q(order_id__isnull=False),
                name="sale_order_once",
            ),
            models.UniqueConstraint(
                fields=["merchant", "external_id"],
                condition=~models.Q(external_id=""),
                name="sale_external_once",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    amount__gte=0, refunded__gte=0, refunded__lte=models.F("amount")
                ),
                name="sale_refund_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "day"], name="sale_merchant_day"),
            models.Index(
                fields=["merchant", "customer_id", "placed_at"], name="sale_customer_time"
            ),
        ]

    @property
    def net(self) -> int:
        return self.amount - self.refunded


class ActiveDay(Fact):
    ORDERED = 1
    MESSAGED = 2
    VISITED = 4
    JOINED = 8

    customer_id = models.BigIntegerField()
    day = models.DateField()
    kinds = models.PositiveSmallIntegerField(default=0)  # bit flags above

    class Meta:
        verbose_name = _("active day")
        verbose_name_plural = _("active days")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "day", "customer_id"], name="active_day_once"
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "customer_id", "day"], name="active_day_customer")
        ]


class GroupSpan(MerchantOwned):
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SIYU)
    customer_id = models.BigIntegerField()
    group_id = models.BigIntegerField(null=True, blank=True)
    group_key = models.CharField(max_length=64, blank=True)  # imported group's own id
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=60, blank=True)

    class Meta:
        verbose_name = _("group membership span")
        verbose_name_plural = _("group membership spans")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "customer_id", "group_id", "group_key", "joined_at"],
                name="group_span_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["merchant", "customer_id", "joined_at"], name="group_span_customer"
            ),
        ]


class ReferralLink(MerchantOwned):
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SIYU)
    inviter_id = models.BigIntegerField()
    invitee_id = models.BigIntegerField()
    invited_at = models.DateTimeField()
    kind = models.CharField(max_length=16, blank=True)  # referral, distributor, groupbuy, bargain
    activity_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral link")
        verbose_name_plural = _("referral links")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "invitee_id"], name="referral_link_once")
        ]
        indexes = [models.Index(fields=["merchant", "inviter_id"], name="referral_link_inviter")]


class ImportRun(MerchantOwned):
    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        ORDERS = "orders", _("Orders")
        MEMBERSHIPS = "memberships", _("Group memberships")
        REFERRALS = "referrals", _("Referrals")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField(max_length=200, blank=True)
    file_format = models.CharField(max_length=8, blank=True)  # csv, jsonl
    rows_read = models.BigIntegerField(default=0)
    rows_written = models.BigIntegerField(default=0)
    rows_rejected = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)  # [{row, field, reason}], first 1,000
    error = models.CharField(max_length=400, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-created_at", "-id"]


class LifetimeRun(MerchantOwned):
    """One refresh of the lifetime-value models (``analytics.lifetime.refresh``): as of which
    day, in which time unit, the fitted parameters and log-likelihood, how many customers were
    scored and, when asked, the calibration/holdout check."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        NO_DATA = "no_data", _("No sales to fit")

    as_of = models.DateField()
    unit = models.CharField(max_length=8)  # days, weeks
    horizon_days = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DONE)
    sales = models.BigIntegerField(default=0)
    customers = models.BigIntegerField(default=0)
    repeat_customers = models.BigIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    log_likelihood = models.FloatField(null=True, blank=True)
    converged = models.BooleanField(default=False)
    holdout = models.JSONField(null=True, blank=True)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lifetime-value run")
        verbose_name_plural = _("lifetime-value runs")
        ordering = ["-created_at", "-id"]


class HoldoutRun(MerchantOwned):
    """A calibration/holdout check run in the background (``analytics.holdout_runs``): fit
    as of ``as_of`` on the sales before it, compare with the purchases up to ``end``
    (exclusive). Too long a history to check while a page or a request waits."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Stage(models.TextChoices):
        WAITING = "", pgettext_lazy("holdout stage", "Waiting")
        COUNTING = "counting", _("Counting the sales")
        READING = "reading", _("Reading the sales")
        FITTING = "fitting", _("Fitting the model")

    as_of = models.DateField()
    end = models.DateField()
    unit = models.CharField(max_length=8)  # days, weeks
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=8, choices=Stage.choices, blank=True, default="")
    sales_total = models.BigIntegerField(default=0)
    sales_read = models.BigIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("holdout check")
        verbose_name_plural = _("holdout checks")
        ordering = ["-created_at", "-id"]


# --- rollups (analytics.rollups, ADR 0008) -------------------------------------------------------
# Kept current by every write of the facts above (``rollups.maintained``) and rebuilt from them by
# ``rollups.rebuild``. ``NONE_DAY`` (0001-01-01) in a ``since`` column means "no earlier day".


class RollupState(models.Model):
    """Whether a merchant's rollups agree with its facts. No row: they do (a merchant starts
    with no facts and empty rollups). A large import marks them stale while it writes, and
    the rebuild at its end marks them ready; readers fall back to the facts meanwhile."""

    merchant = models.OneToOneField(
        "core.Merchant", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    ready = models.BooleanField(default=True)
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"rollups of merchant {self.merchant_id}: {'ready' if self.ready else 'stale'}"


class SalesDay(Fact):
    """The additive sales figures of one local day, for the whole merchant (``dim`` and
    ``key`` empty) or one value of a dimension (store, group, guide, distributor, campaign:
    the id as text; source: its name)."""

    day = models.DateField()
    dim = models.CharField(max_length=12, blank=True)
    key = models.CharField(max_length=64, blank=True)
    gmv = models.BigIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    paid_orders = models.BigIntegerField(default=0)
    refund_count = models.BigIntegerField(default=0)
    full_refunds = models.BigIntegerField(default=0)
    orders = models.BigIntegerField(default=0)  # kept
    first_orders = models.BigIntegerField(default=0)  # kept, the customer's first ever

    class Meta:
        verbose_name = _("sales of a day")
        verbose_name_plural = _("sales of days")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "dim", "key", "day"], name="sales_day_once")
        ]


class BuyersDay(Fact):
    """Kept sales of a day by the day of the same customer's previous kept sale
    (``after_prev``) and of the one before it (``after_prev2``), under ``since``. The
    buyers of any period ``[s, e)`` are the period's sales whose previous one is before
    ``s``; those with two or more sales, the sales whose second-previous is before ``s``
    minus the buyers (docs/metrics.md, "Rollups")."""

    day = models.DateField()
    since = models.DateField()
    after_prev = models.BigIntegerField(default=0)
    after_prev2 = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("buyers of a day")
        verbose_name_plural = _("buyers of days")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "day", "since"], name="buyers_day_once")
        ]


class CohortDay(Fact):
    """Kept sales of a day by the month of the customer's first kept sale (``cohort``, its
    first day): net sales, orders, and the customers for whom it was the first kept sale
    of its calendar month (so a sum over a month's days counts each customer once)."""

    cohort = models.DateField()
    day = models.DateField()
    customers = models.BigIntegerField(default=0)
    orders = models.BigIntegerField(default=0)
    net = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("cohort sales of a day")
        verbose_name_plural = _("cohort sales of days")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "cohort", "day"], name="cohort_day_once")
        ]


class ActivityDay(Fact):
    """Active customers of a day by the customer's previous active day (``since``): the
    active customers of any window are its rows whose previous day is before the window."""

    day = models.DateField()
    since = models.DateField()
    customers = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("activity of a day")
        verbose_name_plural = _("activity of days")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "day", "since"], name="activity_day_once")
        ]
