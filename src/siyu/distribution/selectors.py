"""Reads of distribution shared by the API, pages and services."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, Sum

from siyu.catalog.models import Category, Product
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.distribution import commission
from siyu.distribution.models import (
    Binding,
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
    default = None
    by_category: dict[int, commission.Rule] = {}
    by_product: dict[int, commission.Rule] = {}
    for row in CommissionRule.objects.all():
        rule = commission.Rule(row.kind, row.rate_bp, row.fixed_fen)
        if row.scope == CommissionRule.Scope.DEFAULT:
            default = rule
        elif row.scope == CommissionRule.Scope.CATEGORY and row.category_id is not None:
            by_category[row.category_id] = rule
        elif row.product_id is not None:
            by_product[row.product_id] = rule
    return commission.RuleSet(default, by_category, by_product)


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
