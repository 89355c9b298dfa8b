"""Reads of the distributor centre in the storefront: what one distributor sees of their own
earnings, orders, customers and team. Shared by the pages (``views_storefront``) and the
customer API (``storefront_api``).

Everything here starts from the distributor, so another distributor's rows are never in
reach; customers are shown masked (a name's first character, the phone's middle starred).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum

from siyu.customers import phones
from siyu.customers.models import Customer
from siyu.distribution import selectors
from siyu.distribution.models import (
    Binding,
    CommissionEntry,
    DistributionSettings,
    Distributor,
    Withdrawal,
)
from siyu.orders.models import Order

Status = Distributor.Status


def distributor_of(customer: Customer) -> Distributor | None:
    """The customer's distributor row (any status), or ``None`` when they never applied."""
    return Distributor.objects.filter(customer_id=customer.pk).first()


def active_distributor(customer: Customer | None) -> Distributor | None:
    """The customer's distributor row when it is approved (the centre's pages need one)."""
    if customer is None:
        return None
    found = distributor_of(customer)
    return found if found is not None and found.status == Status.APPROVED else None


def masked_name(customer: Customer) -> str:
    """``张*`` for 张三, ``L***`` for Lily; the masked phone when there is no name."""
    name = (customer.name or "").strip()
    if not name:
        return phones.mask(customer.phone) if customer.phone else "—"
    return name[0] + "*" * min(max(len(name) - 1, 1), 3)


def masked_phone(customer: Customer) -> str:
    return phones.mask(customer.phone) if customer.phone else ""


@dataclass(frozen=True)
class Centre:
    """The centre's home: the distributor, their balances and the counts of their lists."""

    distributor: Distributor
    balances: selectors.Balances
    settings: DistributionSettings
    orders: int
    customers: int
    team: int


def centre(distributor: Distributor) -> Centre:
    return Centre(
        distributor=distributor,
        balances=selectors.balances(distributor),
        settings=selectors.settings_of(),
        orders=attributed_orders(distributor).count(),
        customers=Binding.objects.filter(distributor=distributor).count(),
        team=Distributor.objects.filter(invited_by=distributor).count(),
    )


def attributed_orders(distributor: Distributor) -> QuerySet[Order]:
    """Paid orders attributed to the distributor, or that earn them second-level commission,
    newest first."""
    earning = CommissionEntry.objects.filter(distributor=distributor).values("order_id")
    return (
        Order.objects.filter(Q(distributor_id=distributor.pk) | Q(pk__in=earning))
        .filter(paid_at__isnull=False)
        .select_related("customer")
        .order_by("-placed_at", "-pk")
    )


@dataclass(frozen=True)
class OrderRow:
    order_id: int
    number: str
    placed_at: datetime
    customer: str  # masked
    status: str
    status_label: str
    total: int
    refunded: int
    commission: int  # fen: what the order earns the distributor now (pending + reversed)
    settled: bool  # every line of it settled
    level: int  # 1: their own customer's order; 2: their invitee's customer's


def order_rows(distributor: Distributor, orders: list[Order]) -> list[OrderRow]:
    """The rows of a page of :func:`attributed_orders`, with the commission of each (one query)."""
    ids = [o.pk for o in orders]
    sums: dict[int, tuple[int, bool, int]] = {}
    for row in (
        CommissionEntry.objects.filter(distributor=distributor, order_id__in=ids)
        .values("order_id")
        .annotate(
            earned=Sum(
                "amount",
                filter=Q(kind__in=[CommissionEntry.Kind.PENDING, CommissionEntry.Kind.REVERSED]),
                default=0,
            ),
            pending_lines=Count("pk", filter=Q(kind=CommissionEntry.Kind.PENDING)),
            settled_lines=Count("pk", filter=Q(kind=CommissionEntry.Kind.SETTLED)),
            level_two=Count("pk", filter=Q(level=2)),
        )
    ):
        sums[row["order_id"]] = (
            int(row["earned"]),
            row["pending_lines"] > 0 and row["settled_lines"] >= row["pending_lines"],
            2 if row["level_two"] else 1,
        )
    return [
        OrderRow(
            order_id=o.pk,
            number=o.number,
            placed_at=o.placed_at,
            customer=masked_name(o.customer),
            status=o.status,
            status_label=o.get_status_display(),
            total=o.total,
            refunded=o.refunded_total,
            commission=sums.get(o.pk, (0, False, 1))[0],
            settled=sums.get(o.pk, (0, False, 1))[1],
            level=sums.get(o.pk, (0, False, 1))[2] if o.distributor_id != distributor.pk else 1,
        )
        for o in orders
    ]


@dataclass(frozen=True)
class CustomerRow:
    name: str
    phone: str
    since: datetime
    source: str


def bound_customers(distributor: Distributor) -> QuerySet[Binding]:
    return (
        Binding.objects.filter(distributor=distributor)
        .select_related("customer")
        .order_by("-since", "-pk")
    )


def customer_rows(bindings: list[Binding]) -> list[CustomerRow]:
    return [
        CustomerRow(masked_name(b.customer), masked_phone(b.customer), b.since, b.source)
        for b in bindings
    ]


@dataclass(frozen=True)
class TeamRow:
    name: str
    phone: str
    status: str
    status_label: str
    applied_at: datetime


def team(distributor: Distributor) -> QuerySet[Distributor]:
    """The distributors this one invited (shown, never paid for: nothing is earned for
    recruiting)."""
    return (
        Distributor.objects.filter(invited_by=distributor)
        .select_related("customer")
        .order_by("-applied_at", "-pk")
    )


def team_rows(members: list[Distributor]) -> list[TeamRow]:
    return [
        TeamRow(
            masked_name(m.customer),
            masked_phone(m.customer),
            m.status,
            m.get_status_display(),
            m.applied_at,
        )
        for m in members
    ]


def withdrawals(distributor: Distributor) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(distributor=distributor).order_by("-requested_at", "-pk")


def withdrawal(distributor: Distributor, withdrawal_id: int) -> Withdrawal | None:
    """One of the distributor's own withdrawals (another's is ``None``: a 404)."""
    return Withdrawal.objects.filter(distributor=distributor, pk=withdrawal_id).first()
