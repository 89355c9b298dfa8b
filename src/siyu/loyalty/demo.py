"""Demo data of loyalty: points settings, three member tiers, the points every paid order of the
demo's year earned (and what refunds took back), first-order points, a month of daily sign-ins
for some customers, the accounts' balances and every customer's tier.

The ledger is what the real code would have written for these orders with the demo's settings
(the same pure :mod:`siyu.loyalty.rules`), except that orders earn at 1× (the tier a customer
held on each day is not replayed). Earned lots expire at the end of the following year; a
take-back consumes the order's own lot, as :func:`siyu.loyalty.services.sync_order` does. The
demo's orders were priced without points, so there are no redemptions. Everything is written in
bulk (:class:`siyu.core.demo.BulkInsert`): a few seconds for a year of orders.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from siyu.core import clock
from siyu.core.demo import BulkInsert, DemoContext, Login
from siyu.core.tenancy import merchant_context
from siyu.customers import phones, timeline
from siyu.customers.models import Customer
from siyu.loyalty import rules, tiers
from siyu.loyalty.models import (
    CustomerTier,
    PointsAccount,
    PointsAllocation,
    PointsEntry,
    SignIn,
)
from siyu.orders.models import Order, OrderRefund

STEPS = 5
REFERRAL_REWARD = 200
SIGN_IN_DAYS = 30
SIGN_IN_SHARE = 0.08  # customers who sign in now and then
TIERS = [
    # name, basis, threshold (fen), discount bp, multiplier bp, free shipping
    ("银卡 Silver", "spend", 30_000, 0, 10_000, False),
    ("金卡 Gold", "spend", 150_000, 500, 15_000, False),
    ("黑金 Black Gold", "spend", 500_000, 1_000, 20_000, True),
]
SETTINGS: dict[str, Any] = {
    "enabled": True,
    "earn_per_yuan": 1,
    "fen_per_point": 1,
    "max_redeem_bp": 5_000,
    "expiry": "next_year_end",
    "expiry_days": 365,
    "sign_in_points": 5,
    "first_order_points": 100,
    "review_points": 10,
}


class _Times:
    """Database text of moments for SQLite's bulk INSERTs (a repeated moment converted once:
    most lots share a few expiry moments); PostgreSQL's COPY takes the datetimes."""

    def __init__(self) -> None:
        self.text = connection.vendor == "sqlite"
        self.cache: dict[datetime, str] = {}

    def __call__(self, moment: datetime | None) -> Any:
        if moment is None or not self.text:
            return moment
        found = self.cache.get(moment)
        if found is None:
            found = str(connection.ops.adapt_datetimefield_value(moment))
            self.cache[moment] = found
        return found


def seed(ctx: DemoContext) -> None:
    with merchant_context(ctx.merchant), transaction.atomic():
        _seed(ctx)


def _seed(ctx: DemoContext) -> None:
    now = clock.now()
    merchant = ctx.merchant
    tz = merchant.time_zone
    tiers.save_settings(ctx.owner, dict(SETTINGS))
    made = [
        tiers.create_tier(
            ctx.owner,
            {
                "name": name,
                "basis": basis,
                "threshold": threshold,
                "discount_bp": discount,
                "points_multiplier_bp": multiplier,
                "free_shipping": free,
            },
        )
        for name, basis, threshold, discount, multiplier, free in TIERS
    ]
    for customer in ctx.shared.get("customers", [])[:1]:
        ctx.logins.append(
            Login(
                "customer",
                phones.display(customer.phone),
                "",
                f"storefront points, tier and daily sign-in (/s/{merchant.slug}/points/)",
            )
        )
    ctx.advance(1)

    orders: list[tuple[int, int, int, int, str, Any]] = list(
        Order.objects.filter(paid_at__isnull=False)
        .order_by("paid_at", "pk")
        .values_list("pk", "customer_id", "total", "refunded_total", "refund_state", "paid_at")
    )
    refunded_at: dict[int, datetime] = {}
    for order_id, created in OrderRefund.objects.values_list("order_id", "created_at"):
        if order_id not in refunded_at or created > refunded_at[order_id]:
            refunded_at[order_id] = created
    rows: list[tuple[Any, ...]] = []
    balances: dict[int, int] = defaultdict(int)
    earned_12m: dict[int, int] = defaultdict(int)
    spend_12m: dict[int, int] = defaultdict(int)
    takebacks: dict[str, tuple[str, int]] = {}  # refund reference → (earn reference, points)
    first_seen: set[int] = set()
    since = now - timedelta(days=365)
    rate = SETTINGS["earn_per_yuan"]
    for pk, customer_id, total, refunded, state, paid_at in orders:
        if paid_at >= since:
            spend_12m[customer_id] += total - refunded
        expires = rules.expiry_of(paid_at, rules.END_OF_NEXT_YEAR, 365, tz)
        if customer_id not in first_seen:
            first_seen.add(customer_id)
            points = int(SETTINGS["first_order_points"])
            rows.append(
                (
                    customer_id,
                    "first_order",
                    points,
                    pk,
                    f"first_order:{customer_id}",
                    expires,
                    paid_at,
                )
            )
            balances[customer_id] += points
            if paid_at >= since:
                earned_12m[customer_id] += points
        earned = rules.earned_on(total, int(rate))
        if earned <= 0:
            continue
        rows.append((customer_id, "earn_order", earned, pk, f"earn:{pk}", expires, paid_at))
        balances[customer_id] += earned
        kept = 0 if state == "full" else rules.kept_share(earned, total - refunded, total)
        taken = earned - kept
        if paid_at >= since:
            earned_12m[customer_id] += kept
        if taken > 0:
            reference = f"refund_earn:{pk}:{taken}"
            at = max(paid_at, refunded_at.get(pk, paid_at))
            rows.append((customer_id, "refund_earn", -taken, pk, reference, None, at))
            takebacks[reference] = (f"earn:{pk}", taken)
            balances[customer_id] -= taken
    ctx.advance(1)

    # a month of sign-ins for some customers
    customer_ids = sorted(first_seen) or list(
        Customer.objects.order_by("pk").values_list("pk", flat=True)[:500]
    )
    named = [c.pk for c in ctx.shared.get("customers", [])[:1]]
    signers = [c for c in customer_ids if ctx.rng.random() < SIGN_IN_SHARE and c not in named]
    today = clock.local(now, tz).date()
    sign_ins: list[tuple[Any, ...]] = []
    points = int(SETTINGS["sign_in_points"])
    for customer_id in named + signers:  # the demo's login signed in the last six days
        streak = 0
        for back in range(SIGN_IN_DAYS, 0, -1):
            day = today - timedelta(days=back)
            if ctx.rng.random() < 0.45 and not (customer_id in named and back <= 6):
                streak = 0
                continue
            streak += 1
            at = datetime(day.year, day.month, day.day, 9, tzinfo=clock.zone(tz)) + timedelta(
                minutes=ctx.rng.randrange(600)
            )
            sign_ins.append((customer_id, day, streak, points, at))
            rows.append(
                (
                    customer_id,
                    "sign_in",
                    points,
                    None,
                    f"sign_in:{customer_id}:{day.isoformat()}",
                    rules.expiry_of(at, rules.END_OF_NEXT_YEAR, 365, tz),
                    at,
                )
            )
            balances[customer_id] += points
            earned_12m[customer_id] += points
    m = merchant.pk
    columns = [
        "merchant_id",
        "customer_id",
        "kind",
        "points",
        "order_id",
        "reference",
        "expires_at",
        "created_at",
    ]
    times = _Times()
    BulkInsert(PointsEntry, columns, now, times_as_text=times.text).write(
        (m, *row[:5], times(row[5]), times(row[6])) for row in rows
    )
    awards = []
    for customer_id in named:  # the demo's login invited friends (a referral reward)
        at = now - timedelta(days=3)
        expires = times(rules.expiry_of(at, rules.END_OF_NEXT_YEAR, 365, tz))
        awards.append(
            (
                m,
                customer_id,
                "award",
                REFERRAL_REWARD,
                f"award:demo:{customer_id}",
                "referral_inviter",
                expires,
                times(at),
            )
        )
        balances[customer_id] += REFERRAL_REWARD
        earned_12m[customer_id] += REFERRAL_REWARD
    BulkInsert(
        PointsEntry,
        [
            "merchant_id",
            "customer_id",
            "kind",
            "points",
            "reference",
            "reason",
            "expires_at",
            "created_at",
        ],
        now,
        times_as_text=times.text,
    ).write(awards)
    BulkInsert(
        SignIn, ["merchant_id", "customer_id", "day", "streak", "points", "created_at"], now
    ).write((m, *row) for row in sign_ins)
    ctx.advance(1)

    # take-backs consume the order's own lot
    if takebacks:
        ids = dict(
            PointsEntry.objects.filter(kind__in=["earn_order", "refund_earn"]).values_list(
                "reference", "pk"
            )
        )
        BulkInsert(PointsAllocation, ["merchant_id", "debit_id", "lot_id", "points"], now).write(
            (m, ids[ref], ids[lot], taken) for ref, (lot, taken) in takebacks.items()
        )
    BulkInsert(PointsAccount, ["merchant_id", "customer_id", "balance", "updated_at"], now).write(
        (m, c, b, now) for c, b in sorted(balances.items()) if b >= 0
    )
    ctx.advance(1)

    ruled = [rules.TierRule(t.pk, t.rank, t.name, t.basis, t.threshold) for t in made]
    by_id = {t.pk: t for t in made}
    tier_rows = []
    notes = []
    for customer_id in sorted(set(spend_12m) | set(earned_12m)):
        spend, earned = spend_12m.get(customer_id, 0), earned_12m.get(customer_id, 0)
        rule = rules.tier_for(ruled, spend, earned)
        tier_rows.append(
            (customer_id, rule.id if rule else None, spend, earned, now if rule else None, now)
        )
        if rule is not None:
            notes.append(
                (
                    customer_id,
                    "note",
                    {
                        "text": f"Member tier: none → {by_id[rule.id].name}",
                        "source": "loyalty.tier",
                        "to_tier_id": rule.id,
                        "to_tier": by_id[rule.id].name,
                        "direction": "up",
                    },
                )
            )
    BulkInsert(
        CustomerTier,
        [
            "merchant_id",
            "customer_id",
            "tier_id",
            "spend_12m",
            "points_12m",
            "since",
            "evaluated_at",
        ],
        now,
    ).write((m, *row) for row in tier_rows)
    timeline.record_many(notes, actor="loyalty", at=now)
    ctx.advance(1)
