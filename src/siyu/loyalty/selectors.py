"""Reads of loyalty that pages, the APIs and checkout share (the bound merchant's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from siyu.core import clock
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.loyalty import rules
from siyu.loyalty.models import (
    BASIS_POINTS,
    CustomerTier,
    LoyaltySettings,
    MemberTier,
    PointsAccount,
    PointsEntry,
)

Kind = PointsEntry.Kind
# Kinds that count as "points earned" for a tier by points (refund take-backs subtract).
EARNING_KINDS = (
    Kind.EARN_ORDER,
    Kind.FIRST_ORDER,
    Kind.SIGN_IN,
    Kind.REVIEW,
    Kind.AWARD,
    Kind.REFUND_EARN,
)
YEAR = timedelta(days=365)


def settings_for() -> LoyaltySettings:
    """The bound merchant's settings (defaults, unsaved, until an operator saves them)."""
    found = LoyaltySettings.objects.filter().first()
    return found or LoyaltySettings(merchant=current_merchant())


def balance_of(customer: Customer | int) -> int:
    customer_id = customer if isinstance(customer, int) else customer.pk
    value = (
        PointsAccount.objects.filter(customer_id=customer_id)
        .values_list("balance", flat=True)
        .first()
    )
    return int(value or 0)


def lapsed_of(customer_id: int, now: datetime) -> int:
    """Points of lots past their expiry that the expiry job has not written off yet."""
    rows = (
        PointsEntry.objects.filter(customer_id=customer_id, points__gt=0, expires_at__lte=now)
        .annotate(used=Coalesce(Sum("consumed_by__points"), Value(0)))
        .filter(points__gt=F("used"))
        .values_list("points", "used")
    )
    return sum(points - used for points, used in rows)


def available_of(customer: Customer | int, now: datetime | None = None) -> int:
    """Points the customer can spend now (the balance less lots already past their expiry)."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    balance = balance_of(customer_id)
    if balance <= 0:
        return 0
    return max(0, balance - lapsed_of(customer_id, now or clock.now()))


def short_text(balance: int) -> str:
    return ngettext("You have only %(n)d point.", "You have only %(n)d points.", balance) % {
        "n": balance
    }


def multiplier_of(customer_id: int) -> int:
    tier = CustomerTier.objects.filter(customer_id=customer_id).select_related("tier").first()
    if tier is None or tier.tier is None:
        return BASIS_POINTS
    return tier.tier.points_multiplier_bp


@dataclass(frozen=True)
class RedeemQuote:
    """What points can pay of ``goods_amount``: ``balance`` spendable now, ``max_points`` usable
    on that amount (whole points, at most the merchant's share), worth ``max_amount`` fen."""

    balance: int
    max_points: int
    fen_per_point: int
    max_amount: int


def redeem_quote(customer: Customer, goods_amount: int) -> RedeemQuote:
    """How many points ``customer`` may use on ``goods_amount`` fen of goods."""
    from siyu.loyalty.offers import usable_points

    conf = settings_for()
    balance = available_of(customer)
    if not conf.enabled:
        return RedeemQuote(balance, 0, conf.fen_per_point, 0)
    points = usable_points(balance, max(0, goods_amount), conf.fen_per_point, conf.max_redeem_bp)
    return RedeemQuote(balance, points, conf.fen_per_point, points * conf.fen_per_point)


def history(customer: Customer) -> QuerySet[PointsEntry]:
    return (
        PointsEntry.objects.filter(customer=customer)
        .select_related("order")
        .order_by("-created_at", "-id")
    )


REASON_LABELS = {
    "referral_inviter": lambda: _("Invited a friend"),
    "referral_invitee": lambda: _("Joined through a friend's invitation"),
}


def entry_label(entry: PointsEntry) -> str:
    """What an entry was for, in the active language."""
    if entry.kind == Kind.AWARD:
        label = REASON_LABELS.get(entry.reason)
        return str(label()) if label else _("Reward: %(reason)s") % {"reason": entry.reason}
    text = str(Kind(entry.kind).label)
    if entry.order is not None:
        return f"{text} · {entry.order.number}"
    if entry.kind == Kind.ADJUST and entry.reason:
        return f"{text} · {entry.reason}"
    return text


@dataclass(frozen=True)
class Expiring:
    expires_at: datetime
    points: int


def expiring(customer: Customer, *, limit: int = 6) -> list[Expiring]:
    """What of the balance expires when, soonest first (lots with points left)."""
    rows = (
        PointsEntry.objects.filter(customer=customer, points__gt=0, expires_at__isnull=False)
        .annotate(used=Coalesce(Sum("consumed_by__points"), Value(0)))
        .filter(points__gt=F("used"))
        .values_list("expires_at", "points", "used")
        .order_by("expires_at")
    )
    by_moment: dict[datetime, int] = {}
    for expires_at, points, used in rows:
        if expires_at is None:
            continue
        by_moment[expires_at] = by_moment.get(expires_at, 0) + points - used
    return [Expiring(at, n) for at, n in sorted(by_moment.items())][:limit]


# --- tiers ---------------------------------------------------------------------------------


def tiers() -> list[MemberTier]:
    return list(MemberTier.objects.order_by("rank", "id"))


def tier_rules(found: list[MemberTier] | None = None) -> list[rules.TierRule]:
    return [
        rules.TierRule(t.pk, t.rank, t.name, t.basis, t.threshold)
        for t in (found if found is not None else tiers())
    ]


def figures_of(customer_id: int, now: datetime) -> tuple[int, int]:
    """(spend in fen, points earned) over the 12 months before ``now``."""
    from siyu.orders.models import Order

    since = now - YEAR
    spend = Order.objects.filter(
        customer_id=customer_id, paid_at__gte=since, paid_at__lte=now
    ).aggregate(s=Sum(F("total") - F("refunded_total")))["s"]
    points = PointsEntry.objects.filter(
        customer_id=customer_id, kind__in=EARNING_KINDS, created_at__gte=since
    ).aggregate(s=Sum("points"))["s"]
    return int(spend or 0), int(points or 0)


@dataclass(frozen=True)
class TierView:
    tier: MemberTier | None
    spend_12m: int
    points_12m: int
    next: rules.Progress | None
    next_tier: MemberTier | None


def tier_view(customer: Customer, now: datetime | None = None) -> TierView:
    now = now or clock.now()
    found = tiers()
    current = CustomerTier.objects.filter(customer=customer).first()
    spend, points = figures_of(customer.pk, now)
    tier = next((t for t in found if current is not None and t.pk == current.tier_id), None)
    ruled = tier_rules(found)
    mine = next((r for r in ruled if tier is not None and r.id == tier.pk), None)
    progress = rules.next_tier(ruled, mine, spend, points)
    upcoming = next((t for t in found if progress is not None and t.pk == progress.tier.id), None)
    return TierView(tier, spend, points, progress, upcoming)


def customer_tier(customer: Customer) -> MemberTier | None:
    row = CustomerTier.objects.filter(customer=customer).select_related("tier").first()
    return row.tier if row is not None else None


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    issued: int
    redeemed: int
    expired: int
    taken_back: int
    outstanding: int
    liability: int  # fen: outstanding × fen_per_point
    accounts: int
    members: list[tuple[str, int]]  # (tier name or "", customers)


def results(since: datetime | None = None) -> Results:
    """Points issued, redeemed, expired, taken back (since ``since``, or ever), the points
    outstanding and what they are worth, and customers per tier."""
    entries = PointsEntry.objects.all()
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    sums: dict[str, Any] = entries.aggregate(
        issued=Sum("points", filter=Q(points__gt=0) & ~Q(kind=Kind.REFUND_REDEEM)),
        redeemed=Sum("points", filter=Q(kind=Kind.REDEEM)),
        returned=Sum("points", filter=Q(kind=Kind.REFUND_REDEEM)),
        expired=Sum("points", filter=Q(kind=Kind.EXPIRE)),
        taken=Sum("points", filter=Q(kind=Kind.REFUND_EARN) | Q(kind=Kind.ADJUST, points__lt=0)),
    )
    outstanding = PointsAccount.objects.aggregate(s=Sum("balance"), n=Count("pk"))
    conf = settings_for()
    counted = dict(
        CustomerTier.objects.filter(tier__isnull=False)
        .values_list("tier_id")
        .annotate(n=Count("pk"))
        .values_list("tier_id", "n")
    )
    members = [(t.name, int(counted.get(t.pk, 0))) for t in tiers()]
    balance = int(outstanding["s"] or 0)
    return Results(
        issued=int(sums["issued"] or 0),
        redeemed=-int(sums["redeemed"] or 0) - int(sums["returned"] or 0),
        expired=-int(sums["expired"] or 0),
        taken_back=-int(sums["taken"] or 0),
        outstanding=balance,
        liability=balance * conf.fen_per_point,
        accounts=int(outstanding["n"] or 0),
        members=members,
    )


def members_chart(members: list[tuple[str, int]], series_name: str) -> dict[str, Any]:
    """The ECharts option of customers per tier (pure)."""
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 12, "top": 16, "bottom": 32},
        "xAxis": {"type": "category", "data": [name for name, _n in members]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": series_name,
                "type": "bar",
                "data": [n for _name, n in members],
                "itemStyle": {"color": "#b45309"},
            }
        ],
    }


# --- the customer's points page -------------------------------------------------------------


@dataclass(frozen=True)
class PointsOverview:
    balance: int
    available: int
    worth: int  # fen the available points are worth
    expiring: list[Expiring]
    tier: TierView
    signed_in_today: bool
    streak: int
    settings: LoyaltySettings


def points_overview(customer: Customer, now: datetime | None = None) -> PointsOverview:
    from siyu.loyalty.models import SignIn

    now = now or clock.now()
    conf = settings_for()
    today = clock.local(now, current_merchant().time_zone).date()
    last = SignIn.objects.filter(customer=customer).order_by("-day").first()
    signed_today = last is not None and last.day == today
    streak = last.streak if last is not None and last.day >= today - timedelta(days=1) else 0
    available = available_of(customer, now)
    return PointsOverview(
        balance=balance_of(customer),
        available=available,
        worth=available * conf.fen_per_point,
        expiring=expiring(customer),
        tier=tier_view(customer, now),
        signed_in_today=signed_today,
        streak=streak,
        settings=conf,
    )


def basis_text(basis: str, amount: int, currency: str = "CNY") -> str:
    """A tier figure in words: ``¥1,200.00`` of spend or ``1200 points``."""
    from siyu.core.money import format_amount

    if basis == MemberTier.Basis.SPEND:
        return format_amount(amount, currency)
    return ngettext("%(n)d point", "%(n)d points", amount) % {"n": amount}


def benefits_text(tier: MemberTier) -> list[str]:
    """A tier's benefits in words, in the active language."""
    found = []
    if tier.discount_bp:
        found.append(
            _("%(percent)s%% off every order") % {"percent": f"{tier.discount_bp / 100:g}"}
        )
    if tier.points_multiplier_bp != BASIS_POINTS:
        found.append(
            _("%(times)s× points") % {"times": f"{tier.points_multiplier_bp / BASIS_POINTS:g}"}
        )
    if tier.free_shipping:
        found.append(_("Free delivery"))
    return found


# --- reviews ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductReviews:
    count: int
    average: float | None  # stars, one decimal
    latest: list[Any]


def product_reviews(product_id: int, *, limit: int = 10) -> ProductReviews:
    """A product's reviews shown to customers (not hidden by staff): how many, the average
    rating, the latest ``limit``."""
    from django.db.models import Avg, Window

    from siyu.loyalty.models import ProductReview

    # one query: the count and average over all of them ride on each of the latest rows
    latest = list(
        ProductReview.objects.filter(product_id=product_id, hidden=False)
        .select_related("customer")
        .annotate(n=Window(Count("pk")), avg=Window(Avg("rating")))
        .order_by("-created_at", "-id")[:limit]
    )
    if not latest:
        return ProductReviews(0, None, [])
    first: Any = latest[0]
    return ProductReviews(int(first.n), round(float(first.avg), 1), latest)


def reviewer_name(review: Any) -> str:
    """The reviewer as shown to other customers: a name's first character, or a masked phone."""
    name = (review.customer.name or "").strip()
    if name:
        return name[:1] + "**"
    phone = review.customer.phone or ""
    return f"{phone[-4:]:*>8}" if phone else "***"


def order_reviews(customer: Customer, order: Any) -> list[tuple[Any, Any]]:
    """``(line, review or None)`` for each line of the customer's order."""
    from siyu.loyalty.models import ProductReview
    from siyu.orders.models import OrderLine

    lines = list(OrderLine.objects.filter(order=order, order__customer=customer).order_by("pk"))
    done = {r.order_line_id: r for r in ProductReview.objects.filter(order_line__in=lines)}
    return [(line, done.get(line.pk)) for line in lines]
