"""Reads of guides' work shared by the workbench, the console and the API.

A guide sees only their own customers (``Customer.owner_guide``), groups
(``CommunityGroup.owner``) and tasks: another guide's row is a 404 here, the
same as another merchant's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from siyu.core import clock
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import Membership, Merchant
from siyu.core.permissions import Role
from siyu.customers.models import Customer, CustomerTag, Segment, Tag
from siyu.guides import taskrules
from siyu.guides.models import (
    GuideTask,
    Material,
    MaterialShare,
    OwnershipChange,
    Transfer,
)

PAID_STATUSES = ("paid", "preparing", "shipped", "ready_for_pickup", "completed")


def today_for(merchant: Merchant, now: datetime | None = None) -> date:
    return clock.local(now or clock.now(), merchant.time_zone).date()


def day_start(merchant: Merchant, day: date) -> datetime:
    """The moment the merchant's local ``day`` begins."""
    return datetime.combine(day, time.min, tzinfo=clock.zone(merchant.time_zone))


# --- customers -------------------------------------------------------------------------


def my_customers(
    guide: Membership, *, q: str = "", tag_id: Any = None, segment_id: Any = None
) -> QuerySet[Customer]:
    """The guide's customers, searched by name or phone, filtered by tag and segment."""
    rows = Customer.objects.filter(owner_guide=guide)
    q = (q or "").strip()
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        match = Q(name__icontains=q)
        if len(digits) >= 3:
            match |= Q(phone__contains=digits)
        rows = rows.filter(match)
    if tag_id not in (None, ""):
        tag = _pk(tag_id, "tag")
        rows = rows.filter(pk__in=CustomerTag.objects.filter(tag_id=tag).values("customer_id"))
    if segment_id not in (None, ""):
        from siyu.customers.segments import segment_customers

        segment = Segment.objects.filter(pk=_pk(segment_id, "segment")).first()
        if segment is None:
            raise NotFound(_("No such segment."), fields={"segment": _("No such segment.")})
        rows = rows.filter(pk__in=segment_customers(segment).values("pk"))
    return rows.order_by("-owner_since", "-id")


def _pk(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            _("Choose from the list."), fields={field: _("Choose from the list.")}
        ) from None


def my_customer(guide: Membership, pk: Any) -> Customer:
    """One of the guide's customers (anyone else's: 404)."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such customer.")) from None
    customer = (
        Customer.objects.select_related("home_store", "owner_guide__user")
        .filter(pk=key, owner_guide=guide)
        .first()
    )
    if customer is None:
        raise NotFound(_("No such customer."))
    return customer


def customer_tags(customer: Customer) -> list[Tag]:
    return list(
        Tag.objects.filter(customer_links__customer=customer)
        .select_related("group")
        .order_by("group__position", "name")
    )


def tag_choices() -> list[Tag]:
    return list(Tag.objects.select_related("group"))


def segment_choices() -> list[Segment]:
    return list(Segment.objects.all())


# --- tasks -----------------------------------------------------------------------------


def my_tasks(guide: Membership, today: date) -> dict[str, list[GuideTask]]:
    """Open tasks due today or earlier (overdue apart), and those finished today."""
    rows = GuideTask.objects.filter(guide=guide).select_related("customer")
    open_rows = list(
        rows.filter(status=GuideTask.Status.OPEN, due_on__lte=today + timedelta(days=6))
    )
    return {
        "overdue": [t for t in open_rows if t.due_on < today],
        "today": [t for t in open_rows if t.due_on == today],
        "soon": [t for t in open_rows if t.due_on > today],
        "finished": list(
            rows.exclude(status=GuideTask.Status.OPEN)
            .filter(finished_at__gte=day_start(guide.merchant, today))
            .order_by("-finished_at")
        ),
    }


def task_counts(
    guide_ids: list[int], start: date, end: date, today: date
) -> dict[int, dict[str, Any]]:
    """Per guide: done, skipped and open past due among tasks due in [start, end]."""
    rows = (
        GuideTask.objects.filter(guide_id__in=guide_ids, due_on__gte=start, due_on__lte=end)
        .values("guide_id")
        .annotate(
            done=Count("id", filter=Q(status="done")),
            skipped=Count("id", filter=Q(status="skipped")),
            overdue=Count("id", filter=Q(status="open", due_on__lt=today)),
            open_today=Count("id", filter=Q(status="open", due_on=today)),
        )
    )
    result: dict[int, dict[str, Any]] = {
        pk: {"done": 0, "skipped": 0, "overdue": 0, "open_today": 0, "rate": None}
        for pk in guide_ids
    }
    for row in rows:
        entry = result[row["guide_id"]]
        entry.update({k: row[k] for k in ("done", "skipped", "overdue", "open_today")})
        entry["rate"] = taskrules.completion_rate(row["done"], row["skipped"], row["overdue"])
    return result


# --- performance -----------------------------------------------------------------------


@dataclass(frozen=True)
class Performance:
    period: str
    start: date
    end: date
    customers_owned: int
    customers_added: int
    active_customers: int
    attributed_orders: int
    attributed_sales: int  # fen: paid minus refunded
    tasks_done: int
    tasks_skipped: int
    tasks_overdue: int
    completion_rate: float | None


def performance(
    guide: Membership, period: str = "7d", *, now: datetime | None = None
) -> Performance:
    """The guide's numbers over ``period`` (today, 7d, 30d or month), in the merchant's days."""
    from siyu.community.models import Message
    from siyu.orders.models import Order

    if period not in taskrules.PERIODS:
        raise InvalidInput(_("Unknown period."), fields={"period": _("Unknown period.")})
    merchant = guide.merchant
    today = today_for(merchant, now)
    start = taskrules.period_start(today, period)
    since = day_start(merchant, start)
    added = OwnershipChange.objects.filter(to_guide=guide, changed_at__gte=since).exclude(
        kind=OwnershipChange.Kind.RELEASED
    )
    owned = Customer.objects.filter(owner_guide=guide)
    buyers = Order.objects.filter(customer__owner_guide=guide, placed_at__gte=since).values(
        "customer_id"
    )
    writers = Message.objects.filter(
        sender_customer__owner_guide=guide, created_at__gte=since
    ).values("sender_customer_id")
    active = owned.filter(Q(pk__in=buyers) | Q(pk__in=writers)).count()
    sales = Order.objects.filter(
        guide_id=guide.pk, paid_at__gte=since, status__in=PAID_STATUSES
    ).aggregate(n=Count("id"), total=Sum(F("total") - F("refunded_total")))
    counts = task_counts([guide.pk], start, today, today)[guide.pk]
    return Performance(
        period=period,
        start=start,
        end=today,
        customers_owned=owned.count(),
        customers_added=added.values("customer_id").distinct().count(),
        active_customers=active,
        attributed_orders=sales["n"] or 0,
        attributed_sales=sales["total"] or 0,
        tasks_done=counts["done"],
        tasks_skipped=counts["skipped"],
        tasks_overdue=counts["overdue"],
        completion_rate=counts["rate"],
    )


# --- console: guides -------------------------------------------------------------------


@dataclass
class GuideRow:
    guide: Membership
    stores: list[str]
    customers: int = 0
    groups: int = 0
    tasks_done_today: int = 0
    tasks_open_today: int = 0
    completion_rate: float | None = None
    sales_30d: int = 0


def guides(merchant: Merchant, *, now: datetime | None = None) -> list[GuideRow]:
    """Every shopping guide and anyone else who owns customers, with their numbers."""
    from siyu.community.models import CommunityGroup
    from siyu.orders.models import Order
    from siyu.stores.models import StoreStaff

    owners = Customer.objects.filter(owner_guide__isnull=False).values("owner_guide_id")
    memberships = list(
        Membership.objects.filter(merchant=merchant)
        .filter(Q(role=Role.SHOPPING_GUIDE) | Q(pk__in=owners.distinct()))
        .select_related("user")
        .order_by("-is_active", "user__display_name", "user__username")
    )
    ids = [m.pk for m in memberships]
    today = today_for(merchant, now)
    customer_counts = dict(
        Customer.objects.filter(owner_guide_id__in=ids)
        .values_list("owner_guide_id")
        .annotate(n=Count("id"))
    )
    group_counts = dict(
        CommunityGroup.objects.filter(owner_id__in=ids)
        .values_list("owner_id")
        .annotate(n=Count("id"))
    )
    since = day_start(merchant, today - timedelta(days=29))
    sales = dict(
        Order.objects.filter(guide_id__in=ids, paid_at__gte=since, status__in=PAID_STATUSES)
        .values_list("guide_id")
        .annotate(total=Sum(F("total") - F("refunded_total")))
    )
    month = task_counts(ids, today - timedelta(days=29), today, today)
    day = task_counts(ids, today, today, today)
    stores: dict[int, list[str]] = {}
    for membership_id, name in StoreStaff.objects.filter(membership_id__in=ids).values_list(
        "membership_id", "store__name"
    ):
        stores.setdefault(membership_id, []).append(name)
    return [
        GuideRow(
            guide=m,
            stores=stores.get(m.pk, []),
            customers=customer_counts.get(m.pk, 0),
            groups=group_counts.get(m.pk, 0),
            tasks_done_today=day[m.pk]["done"],
            tasks_open_today=day[m.pk]["open_today"],
            completion_rate=month[m.pk]["rate"],
            sales_30d=sales.get(m.pk) or 0,
        )
        for m in memberships
    ]


def guide(merchant: Merchant, pk: Any) -> Membership:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such guide.")) from None
    found = (
        Membership.objects.select_related("user", "merchant")
        .filter(merchant=merchant, pk=key)
        .first()
    )
    if found is None:
        raise NotFound(_("No such guide."))
    return found


def guide_choices(merchant: Merchant) -> list[Membership]:
    """Staff who can receive customers: active members (guides first)."""
    rows = Membership.objects.filter(merchant=merchant, is_active=True).select_related("user")
    return sorted(rows, key=lambda m: (m.role != Role.SHOPPING_GUIDE, str(m.user).lower()))


def ownership_history(
    *, customer: Customer | None = None, guide: Membership | None = None, limit: int = 50
) -> list[OwnershipChange]:
    rows = OwnershipChange.objects.select_related("customer", "from_guide__user", "to_guide__user")
    if customer is not None:
        rows = rows.filter(customer=customer)
    if guide is not None:
        rows = rows.filter(Q(to_guide=guide) | Q(from_guide=guide))
    return list(rows[:limit])


# --- transfers and materials -----------------------------------------------------------


def transfers() -> QuerySet[Transfer]:
    return Transfer.objects.select_related("from_guide__user", "to_guide__user")


def transfer(pk: Any) -> Transfer:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such transfer.")) from None
    found = transfers().filter(pk=key).first()
    if found is None:
        raise NotFound(_("No such transfer."))
    return found


def materials(*, published_only: bool = False) -> QuerySet[Material]:
    rows = Material.objects.prefetch_related("images").select_related("product")
    return rows.filter(is_active=True) if published_only else rows


def material(pk: Any, *, published_only: bool = False) -> Material:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such material.")) from None
    found = materials(published_only=published_only).filter(pk=key).first()
    if found is None:
        raise NotFound(_("No such material."))
    return found


def material_usage(material: Material) -> list[dict[str, Any]]:
    """Shares of one material per guide: how many days, and the last one."""
    from django.db.models import Max

    rows = (
        MaterialShare.objects.filter(material=material)
        .values("guide_id")
        .annotate(shares=Count("id"), last=Max("shared_at"))
        .order_by("-shares")
    )
    names = {
        m.pk: str(m.user)
        for m in Membership.objects.filter(pk__in=[r["guide_id"] for r in rows]).select_related(
            "user"
        )
    }
    return [{**row, "guide_name": names.get(row["guide_id"], "?")} for row in rows]


def shared_today(guide: Membership, today: date) -> set[int]:
    return set(
        MaterialShare.objects.filter(guide=guide, shared_on=today).values_list(
            "material_id", flat=True
        )
    )
