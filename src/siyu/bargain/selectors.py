"""Reads of bargains that pages and the API share: an activity's shown status and results,
a bargain's share-page view, a customer's bargains, the running bargain of a product."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from siyu.bargain import services
from siyu.bargain.cuts import progress_permille
from siyu.bargain.models import Bargain, BargainActivity, BargainCut
from siyu.core import clock
from siyu.customers.models import Customer

A = BargainActivity
B = Bargain
SHOWN_STATUSES = ("draft", "scheduled", "running", "paused", "ended")


def shown_status(activity: BargainActivity, now: datetime | None = None) -> str:
    """``draft``, ``scheduled`` (started by staff, its start still ahead), ``running``,
    ``paused`` or ``ended`` (ended by staff or past its end)."""
    now = now or clock.now()
    if activity.status == A.Status.ENDED or (
        activity.status != A.Status.DRAFT and activity.ends_at <= now
    ):
        return "ended"
    if activity.status == A.Status.ACTIVE:
        return "scheduled" if activity.starts_at > now else "running"
    return str(activity.status)


def shown_status_label(status: str) -> str:
    return {
        "draft": _("Draft"),
        "scheduled": _("Scheduled"),
        "running": pgettext("bargain activity status", "Running"),
        "paused": _("Paused"),
        "ended": _("Ended"),
    }[status]


def bargain_status(bargain: Bargain, now: datetime | None = None) -> str:
    """The bargain's status as a customer sees it: a live bargain past its time is expired
    even before the job marks it."""
    now = now or clock.now()
    if bargain.status in services.LIVE and bargain.expires_at <= now:
        return B.Status.EXPIRED
    return str(bargain.status)


def bargain_status_label(status: str) -> str:
    return str(B.Status(status).label)


def activities(status: str = "") -> QuerySet[BargainActivity]:
    """Activities, newest first; ``status`` one of :data:`SHOWN_STATUSES` (or all)."""
    now = clock.now()
    found = A.objects.select_related("sku__product")
    if status == "draft":
        found = found.filter(status=A.Status.DRAFT)
    elif status == "scheduled":
        found = found.filter(status=A.Status.ACTIVE, starts_at__gt=now, ends_at__gt=now)
    elif status == "running":
        found = found.filter(status=A.Status.ACTIVE, starts_at__lte=now, ends_at__gt=now)
    elif status == "paused":
        found = found.filter(status=A.Status.PAUSED, ends_at__gt=now)
    elif status == "ended":
        found = found.filter(
            Q(status=A.Status.ENDED) | (~Q(status=A.Status.DRAFT) & Q(ends_at__lte=now))
        )
    return found.order_by("-created_at", "-id")


def running_for_product(product_id: int) -> BargainActivity | None:
    """The running activity (soonest to end) on one of the product's SKUs, with stock left."""
    now = clock.now()
    return (
        A.objects.filter(
            sku__product_id=product_id,
            status=A.Status.ACTIVE,
            starts_at__lte=now,
            ends_at__gt=now,
            stock_left__gt=0,
        )
        .select_related("sku")
        .order_by("ends_at", "pk")
        .first()
    )


@dataclass(frozen=True)
class Results:
    """What an activity brought. ``participants``: distinct starters and helpers;
    ``new_customers``: distinct helpers who were new to a bargain they cut (signed up after it
    started, no paid order); ``cost``: the total cut on bargains bought; ``sales``: what their
    paid orders brought (less refunds); ``k_factor``: new customers per participant."""

    participants: int
    starters: int
    helpers: int
    started: int
    completed: int
    bought: int
    expired: int
    orders: int
    paid_orders: int
    sales: int
    cost: int
    new_customers: int
    cuts: int

    @property
    def k_factor(self) -> Decimal:
        if not self.participants:
            return Decimal("0.00")
        return (Decimal(self.new_customers) / Decimal(self.participants)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "participants": self.participants,
            "starters": self.starters,
            "helpers": self.helpers,
            "started": self.started,
            "completed": self.completed,
            "bought": self.bought,
            "expired": self.expired,
            "orders": self.orders,
            "paid_orders": self.paid_orders,
            "sales": self.sales,
            "cost": self.cost,
            "new_customers": self.new_customers,
            "cuts": self.cuts,
            "k_factor": str(self.k_factor),
        }


def results(activity: BargainActivity) -> Results:
    """The activity's results, from its bargains, cuts and orders (a handful of queries)."""
    from siyu.orders.models import Order

    bargains = B.objects.filter(activity=activity)
    counts = bargains.aggregate(
        started=Count("pk"),
        completed=Count("pk", filter=Q(reached_at__isnull=False)),
        bought=Count("pk", filter=Q(status=B.Status.BOUGHT)),
        expired=Count("pk", filter=Q(status=B.Status.EXPIRED)),
        cost=Sum(F("original_price") - F("current_price"), filter=Q(status=B.Status.BOUGHT)),
    )
    starter_ids = set(bargains.values_list("customer_id", flat=True).distinct())
    cut_rows = BargainCut.objects.filter(bargain__activity=activity)
    helper_ids = set(cut_rows.values_list("helper_id", flat=True).distinct())
    new_ids = set(cut_rows.filter(new_customer=True).values_list("helper_id", flat=True).distinct())
    order_ids = list(
        bargains.filter(status=B.Status.BOUGHT, order__isnull=False).values_list(
            "order_id", flat=True
        )
    )
    paid = Order.objects.filter(pk__in=order_ids, paid_at__isnull=False).aggregate(
        n=Count("pk"), sales=Sum(F("total") - F("refunded_total"))
    )
    return Results(
        participants=len(starter_ids | helper_ids),
        starters=len(starter_ids),
        helpers=len(helper_ids),
        started=counts["started"],
        completed=counts["completed"],
        bought=counts["bought"],
        expired=counts["expired"],
        orders=len(order_ids),
        paid_orders=paid["n"],
        sales=int(paid["sales"] or 0),
        cost=int(counts["cost"] or 0),
        new_customers=len(new_ids),
        cuts=cut_rows.count(),
    )


def cover_of(product: Any) -> Any:
    """The product's first picture (or None)."""
    return product.images.order_by("position", "id").first()


def masked_name(customer: Customer) -> str:
    """How a helper is shown to others: their name's first character, or the phone's last 4."""
    if customer.name:
        return customer.name[:1] + "**"
    return "*" + customer.phone[-4:]


@dataclass(frozen=True)
class HelperRow:
    name: str
    amount: int
    new_customer: bool
    at: datetime


@dataclass(frozen=True)
class BargainView:
    """What the share page and the API show of one bargain."""

    bargain: Bargain
    activity: BargainActivity
    status: str
    status_label: str
    progress_permille: int
    cut_total: int
    left_to_cut: int
    shares_left: int
    seconds_left: int
    helpers: list[HelperRow]
    is_starter: bool
    has_helped: bool
    can_help: bool
    help_problem: str
    can_buy: bool
    buy_problem: str

    @property
    def progress_percent(self) -> str:
        return f"{self.progress_permille / 10:g}"


def bargain_view(bargain: Bargain, viewer: Customer | None) -> BargainView:
    now = clock.now()
    activity = bargain.activity
    rows = list(
        BargainCut.objects.filter(bargain=bargain).select_related("helper").order_by("sequence")
    )
    status = bargain_status(bargain, now)
    is_starter = viewer is not None and viewer.pk == bargain.customer_id
    has_helped = viewer is not None and any(r.helper_id == viewer.pk for r in rows)
    help_problem = ""
    if is_starter:
        help_problem = _("You cannot help cut your own bargain: share it with friends.")
    elif has_helped:
        help_problem = _("You have already helped cut this bargain.")
    else:
        problem = services.cut_problem(bargain, now)
        help_problem = problem[1] if problem else ""
    buy_problem = ""
    if is_starter and viewer is not None:
        found = services.buy_problem(bargain, viewer, now)
        buy_problem = found[1] if found else ""
        if not buy_problem and activity.stock_left <= 0:
            buy_problem = services.sold_out_reason()
    return BargainView(
        bargain=bargain,
        activity=activity,
        status=status,
        status_label=bargain_status_label(status),
        progress_permille=progress_permille(
            bargain.original_price, bargain.floor_price, bargain.current_price
        ),
        cut_total=bargain.cut_total,
        left_to_cut=bargain.current_price - bargain.floor_price,
        shares_left=bargain.helpers_needed - bargain.shares_cut,
        seconds_left=max(int((bargain.expires_at - now).total_seconds()), 0)
        if status in services.LIVE
        else 0,
        helpers=[
            HelperRow(masked_name(r.helper), r.amount, r.new_customer, r.created_at) for r in rows
        ],
        is_starter=is_starter,
        has_helped=has_helped,
        can_help=not help_problem,
        help_problem=help_problem,
        can_buy=is_starter and not buy_problem,
        buy_problem=buy_problem,
    )


def customer_bargains(customer: Customer) -> QuerySet[Bargain]:
    """The customer's bargains: live ones first, then newest."""
    return (
        B.objects.filter(customer=customer)
        .select_related("activity__sku__product")
        .order_by("-started_at", "-id")
    )


def bargain_by_code(code: str) -> Bargain | None:
    if not isinstance(code, str) or not code.isalnum() or len(code) > 16:
        return None
    return B.objects.select_related("activity__sku__product", "customer").filter(code=code).first()
