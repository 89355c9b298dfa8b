"""Reads of distribution shared by the API, pages and services."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from siyu.catalog.models import Category, Product
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.distribution import commission
from siyu.distribution.models import (
    Binding,
    BindingChange,
    CommissionEntry,
    CommissionRule,
    DistributionSettings,
    Distributor,
    Withdrawal,
)

Kind = CommissionEntry.Kind
HELD = (Withdrawal.Status.REQUESTED, Withdrawal.Status.APPROVED)


def settings_of() -> DistributionSettings:
    """The bound merchant's settings (unsaved defaults until an operator changes them)."""
    found = DistributionSettings.objects.first()
    return found if found is not None else DistributionSettings(merchant=current_merchant())


@dataclass(frozen=True)
class Balances:
    """A distributor's money in fen, all sums of the ledger and the withdrawals."""

    earned: int  # pending + reversed entries: what the orders earned net of refunds
    pending: int  # earned but not yet settled
    settled: int  # settled, net of refunds after settlement
    withdrawn: int  # paid out
    held: int  # requested or approved withdrawals
    available: int  # settled − withdrawn − held: what may be withdrawn now


def balances(distributor: Distributor | int) -> Balances:
    pk = distributor.pk if isinstance(distributor, Distributor) else distributor
    sums = CommissionEntry.objects.filter(distributor_id=pk).aggregate(
        earned=Sum("amount", filter=Q(kind__in=[Kind.PENDING, Kind.REVERSED]), default=0),
        settled=Sum(
            "amount",
            filter=Q(kind=Kind.SETTLED) | Q(kind=Kind.REVERSED, from_settled=True),
            default=0,
        ),
    )
    money = Withdrawal.objects.filter(distributor_id=pk).aggregate(
        withdrawn=Sum("amount", filter=Q(status=Withdrawal.Status.PAID), default=0),
        held=Sum("amount", filter=Q(status__in=HELD), default=0),
    )
    earned, settled = int(sums["earned"]), int(sums["settled"])
    withdrawn, held = int(money["withdrawn"]), int(money["held"])
    return Balances(
        earned=earned,
        pending=earned - settled,
        settled=settled,
        withdrawn=withdrawn,
        held=held,
        available=settled - withdrawn - held,
    )


def rule_set() -> commission.RuleSet:
    """The distributors' commission rules (the lookup both ledgers share)."""
    from siyu.distribution.ledger import rules_of  # ledger imports this module

    return rules_of(CommissionRule)


def category_paths(product_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """Each product's category and its ancestors, nearest first (the tree is ≤ 3 deep)."""
    products = dict(
        Product.objects.filter(pk__in=set(product_ids)).values_list("pk", "category_id")
    )
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    paths: dict[int, tuple[int, ...]] = {}
    for product_id, leaf in products.items():
        path: list[int] = []
        node: int | None = leaf
        while node is not None and node not in path:
            path.append(node)
            node = parents.get(node)
        paths[product_id] = tuple(path)
    return paths


def distributor_for_checkout(customer: Customer) -> int | None:
    """The distributor an order of ``customer`` is attributed to: their bound distributor
    while approved, else themselves when they are an approved distributor and the merchant
    pays commission on own purchases; ``None`` when distribution is off.

    Reads by the customer's merchant (it may run with no merchant bound: two queries)."""
    merchant_id = customer.merchant_id
    found = DistributionSettings.unscoped.filter(merchant_id=merchant_id).first()
    if found is not None and not found.enabled:
        return None
    bound = (
        Binding.unscoped.filter(
            merchant_id=merchant_id,
            customer_id=customer.pk,
            distributor__status=Distributor.Status.APPROVED,
        )
        .values_list("distributor_id", flat=True)
        .first()
    )
    if bound is not None or found is None or not found.self_purchase:
        return bound
    return (
        Distributor.unscoped.filter(
            merchant_id=merchant_id, customer_id=customer.pk, status=Distributor.Status.APPROVED
        )
        .values_list("pk", flat=True)
        .first()
    )


WITHDRAWAL_CSV_HEADER = [
    "withdrawal_id",
    "distributor_id",
    "share_code",
    "customer_phone",
    "amount_fen",
    "amount_yuan",
    "status",
    "requested_at",
    "decided_at",
    "decided_by",
    "payout_method",
    "reference",
    "paid_at",
]


def _iso(value: object) -> str:
    return value.isoformat() if value is not None else ""  # type: ignore[attr-defined]


def withdrawals_csv(status: str | None = None) -> str:
    """Withdrawals for accounting, oldest first (amounts in fen and in yuan)."""
    rows = Withdrawal.objects.select_related("distributor__customer").order_by("requested_at", "pk")
    if status:
        rows = rows.filter(status=status)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(WITHDRAWAL_CSV_HEADER)
    for w in rows:
        writer.writerow(
            [
                w.pk,
                w.distributor_id,
                w.distributor.share_code,
                w.distributor.customer.phone,
                w.amount,
                f"{w.amount // 100}.{w.amount % 100:02d}",
                w.status,
                _iso(w.requested_at),
                _iso(w.decided_at),
                w.decided_by,
                w.payout_method,
                w.reference,
                _iso(w.paid_at),
            ]
        )
    return out.getvalue()


# --- the console: overview, lists, the ledger export ---------------------------------------------

KFACTOR_DAYS = 30


@dataclass(frozen=True)
class Overview:
    """The distribution overview's numbers (money in fen)."""

    distributors: int  # approved
    applied: int  # waiting for a decision
    bound_customers: int
    attributed_orders: int  # paid orders with a distributor
    attributed_sales: int  # what they paid, net of refunds
    pending: int  # earned, not yet settled
    settled: int  # settled, net of refunds after settlement
    reversed: int  # taken back by refunds (a positive number)
    withdrawn: int  # paid out
    new_customers: int  # first bound to a distributor in the last KFACTOR_DAYS days
    active_distributors: int  # approved, with a new customer or an order in that window
    k_factor: float | None  # new_customers / active_distributors


def overview(now: datetime) -> Overview:
    from siyu.orders.models import Order

    since = now - timedelta(days=KFACTOR_DAYS)
    statuses = {
        row["status"]: row["n"]
        for row in Distributor.objects.order_by().values("status").annotate(n=Count("id"))
    }
    orders = Order.objects.filter(distributor_id__isnull=False, paid_at__isnull=False).aggregate(
        n=Count("id"),
        sales=Sum(F("total") - F("refunded_total"), default=0),
    )
    sums = CommissionEntry.objects.aggregate(
        earned=Sum("amount", filter=Q(kind__in=[Kind.PENDING, Kind.REVERSED]), default=0),
        settled=Sum(
            "amount",
            filter=Q(kind=Kind.SETTLED) | Q(kind=Kind.REVERSED, from_settled=True),
            default=0,
        ),
        reversed=Sum("amount", filter=Q(kind=Kind.REVERSED), default=0),
    )
    withdrawn = Withdrawal.objects.filter(status=Withdrawal.Status.PAID).aggregate(
        n=Sum("amount", default=0)
    )["n"]
    new_customers = BindingChange.objects.filter(
        from_distributor__isnull=True, at__gte=since
    ).values("customer_id")
    new_count = new_customers.distinct().count()
    approved = Distributor.objects.filter(status=Distributor.Status.APPROVED)
    recent_orders = Order.objects.filter(paid_at__gte=since, distributor_id__isnull=False)
    active = approved.filter(
        Q(pk__in=BindingChange.objects.filter(at__gte=since).values("to_distributor_id"))
        | Q(pk__in=recent_orders.values("distributor_id"))
    ).count()
    earned, settled = int(sums["earned"]), int(sums["settled"])
    return Overview(
        distributors=statuses.get(Distributor.Status.APPROVED, 0),
        applied=statuses.get(Distributor.Status.APPLIED, 0),
        bound_customers=Binding.objects.count(),
        attributed_orders=int(orders["n"]),
        attributed_sales=int(orders["sales"]),
        pending=earned - settled,
        settled=settled,
        reversed=-int(sums["reversed"]),
        withdrawn=int(withdrawn),
        new_customers=new_count,
        active_distributors=active,
        k_factor=round(new_count / active, 2) if active else None,
    )


@dataclass(frozen=True)
class MonthCommission:
    month: date
    earned: int  # pending entries written that month
    settled: int  # settled entries written that month
    reversed: int  # reversals written that month (a positive number)


def commission_by_month(now: datetime, months: int = 12) -> list[MonthCommission]:
    """The last ``months`` months (the current time zone's), oldest first, empty ones too."""
    local_now = timezone.localtime(now)
    first = date(local_now.year, local_now.month, 1)
    starts = [first]
    for _n in range(months - 1):
        previous = starts[-1] - timedelta(days=1)
        starts.append(date(previous.year, previous.month, 1))
    starts.reverse()
    begin = timezone.make_aware(datetime.combine(starts[0], time.min))
    rows = (
        CommissionEntry.objects.filter(created_at__gte=begin)
        .annotate(month=TruncMonth("created_at"))
        .order_by()
        .values("month", "kind")
        .annotate(total=Sum("amount"))
    )
    found: dict[tuple[date, str], int] = {}
    for row in rows:
        month = row["month"]
        key = month.date() if isinstance(month, datetime) else month
        found[(key, row["kind"])] = int(row["total"] or 0)
    return [
        MonthCommission(
            month=m,
            earned=found.get((m, Kind.PENDING), 0),
            settled=found.get((m, Kind.SETTLED), 0),
            reversed=-found.get((m, Kind.REVERSED), 0),
        )
        for m in starts
    ]


def distributors(search: str = "", status: str = "") -> QuerySet[Distributor]:
    """Distributors for the console list, newest applications first, with their counts."""
    rows = Distributor.objects.select_related("customer", "invited_by").annotate(
        bound=Count("bindings", distinct=True)
    )
    if status:
        rows = rows.filter(status=status)
    text = search.strip()
    if text:
        rows = rows.filter(
            Q(share_code__iexact=text)
            | Q(customer__phone__icontains=text)
            | Q(customer__name__icontains=text)
        )
    return rows.order_by("-applied_at", "-id")


@dataclass(frozen=True)
class EntryFilters:
    distributor: Distributor | None = None
    kind: str = ""
    order_number: str = ""
    since: date | None = None
    until: date | None = None


def entries(filters: EntryFilters) -> QuerySet[CommissionEntry]:
    """Ledger entries, newest first; dates are whole days of the current time zone."""
    rows = CommissionEntry.objects.select_related("distributor", "order").order_by(
        "-created_at", "-id"
    )
    if filters.distributor is not None:
        rows = rows.filter(distributor=filters.distributor)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.order_number:
        rows = rows.filter(order__number=filters.order_number.strip())
    if filters.since:
        rows = rows.filter(
            created_at__gte=timezone.make_aware(datetime.combine(filters.since, time.min))
        )
    if filters.until:
        rows = rows.filter(
            created_at__lt=timezone.make_aware(
                datetime.combine(filters.until + timedelta(days=1), time.min)
            )
        )
    return rows


LEDGER_CSV_HEADER = [
    "entry_id",
    "created_at",
    "distributor_id",
    "share_code",
    "order_number",
    "order_line_id",
    "level",
    "kind",
    "amount_fen",
    "amount_yuan",
    "from_settled",
]


def _yuan(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}{amount // 100}.{amount % 100:02d}"


def entries_csv(filters: EntryFilters) -> Iterator[str]:
    """The filtered ledger as CSV lines, oldest first (times in the current time zone)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEDGER_CSV_HEADER)
    yield out.getvalue()
    rows = entries(filters).order_by("created_at", "id")
    for e in rows.iterator(chunk_size=2000):
        out.seek(0)
        out.truncate()
        writer.writerow(
            [
                e.pk,
                timezone.localtime(e.created_at).isoformat(),
                e.distributor_id,
                e.distributor.share_code,
                e.order.number,
                e.order_line_id,
                e.level,
                e.kind,
                e.amount,
                _yuan(e.amount),
                "yes" if e.from_settled else "no",
            ]
        )
        yield out.getvalue()
