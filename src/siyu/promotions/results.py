"""What a coupon template brought: the figures of its console page (reads only).

* **claimed** — coupons issued (every source); **participants** — customers who hold one;
* **used** — coupons used on an order (an order cancelled or refunded in full gives its coupon
  back, so it no longer counts);
* **orders** and **sales** — the paid orders that used one, and what they were paid net of
  refunds; **discount** — what the coupons took off those orders (the cost of the promotion,
  recorded on each coupon when its order was placed);
* **new customers** — customers whose first paid order used one of its coupons;
* **K-factor** — new customers brought per participant, shown only for templates that spread
  by sharing (coupon cards in groups and chats, referral rewards): for a coupon handed to
  everyone through a poster it says nothing about sharing.

The chart counts claims and uses per day in the merchant's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate

from siyu.core import clock
from siyu.orders.models import Order
from siyu.promotions.models import Coupon, CouponTemplate

SHARING_SOURCES = (Coupon.Source.CARD, Coupon.Source.REFERRAL)
MAX_CHART_DAYS = 120


@dataclass(frozen=True)
class TemplateResults:
    claimed: int
    participants: int
    used: int
    orders: int
    sales: int  # fen, net of refunds
    discount: int  # fen
    new_customers: int
    shared: int  # coupons issued through sharing (cards, referrals)
    by_source: dict[str, int]

    @property
    def use_rate(self) -> float | None:
        return self.used / self.claimed if self.claimed else None

    @property
    def k_factor(self) -> float | None:
        """New customers per participant, when the template spread by sharing."""
        if not self.shared or not self.participants:
            return None
        return round(self.new_customers / self.participants, 2)

    @property
    def use_percent(self) -> int | None:
        rate = self.use_rate
        return None if rate is None else round(rate * 100)


def template_results(template: CouponTemplate) -> TemplateResults:
    coupons = Coupon.objects.filter(template=template)
    counts = coupons.aggregate(
        claimed=Count("id"),
        participants=Count("customer_id", distinct=True),
        used=Count("id", filter=Q(status=Coupon.Status.USED)),
    )
    by_source = dict(
        coupons.values_list("source").annotate(n=Count("id")).order_by().values_list("source", "n")
    )
    paid_uses = coupons.filter(status=Coupon.Status.USED, order__paid_at__isnull=False)
    earlier = Order.objects.filter(
        customer_id=OuterRef("customer_id"),
        paid_at__isnull=False,
        paid_at__lt=OuterRef("order__paid_at"),
    )
    money = paid_uses.aggregate(
        orders=Count("order_id", distinct=True),
        sales=Sum(F("order__total") - F("order__refunded_total")),
        discount=Sum("discount"),
    )
    new_customers = (
        paid_uses.annotate(had_ordered=Exists(earlier))
        .filter(had_ordered=False)
        .values("customer_id")
        .distinct()
        .count()
    )
    return TemplateResults(
        claimed=counts["claimed"],
        participants=counts["participants"],
        used=counts["used"],
        orders=money["orders"] or 0,
        sales=int(money["sales"] or 0),
        discount=int(money["discount"] or 0),
        new_customers=new_customers,
        shared=sum(n for source, n in by_source.items() if source in SHARING_SOURCES),
        by_source=by_source,
    )


@dataclass(frozen=True)
class DayCount:
    day: date
    claimed: int
    used: int


def daily(template: CouponTemplate, time_zone: str, now: datetime | None = None) -> list[DayCount]:
    """Claims and uses per local day, from the first claim to today (or the last use), at most
    the last ``MAX_CHART_DAYS`` days; every day present, zeros included."""
    zone = clock.zone(time_zone)
    now = now or clock.now()
    coupons = Coupon.objects.filter(template=template)
    claims = dict(
        coupons.annotate(day=TruncDate("claimed_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    uses = dict(
        coupons.filter(status=Coupon.Status.USED, used_at__isnull=False)
        .annotate(day=TruncDate("used_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    days = [d for d in (*claims, *uses) if d is not None]
    if not days:
        return []
    today = clock.local(now, time_zone).date()
    last = max(max(days), today) if template.status != CouponTemplate.Status.ENDED else max(days)
    first = max(min(days), last - timedelta(days=MAX_CHART_DAYS - 1))
    span = (last - first).days + 1
    return [
        DayCount(day, claims.get(day, 0), uses.get(day, 0))
        for day in (first + timedelta(days=n) for n in range(span))
    ]
