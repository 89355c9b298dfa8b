"""The points ledger's low-level writes, for :mod:`siyu.loyalty.services` (in its transaction).

Every write of a customer's points first locks their ``PointsAccount`` row (:func:`lock`),
so writes of one customer queue there; a write touching several customers locks their
accounts in primary-key order. Then :func:`write` appends one entry: a positive one is a lot;
a negative one consumes lots earliest-expiring first (``PointsAllocation`` rows) and is
refused by the caller before it would take the balance below zero (the account's check
constraint is the last guard). Lots already past their expiry are expired
(:func:`expire_due_lots`) before a debit, so points that have lapsed are never spent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce

from siyu.core import events
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.loyalty import events as loyalty_events
from siyu.loyalty.models import PointsAccount, PointsAllocation, PointsEntry
from siyu.loyalty.rules import Lot, fifo

Kind = PointsEntry.Kind


class Shortfall(Exception):
    """A debit larger than the balance (the caller turns it into ``InvalidInput``)."""

    def __init__(self, balance: int) -> None:
        self.balance = balance
        super().__init__(f"only {balance} points")


def lock(customer: Customer | int) -> PointsAccount:
    """The customer's account row, created on first use, locked for the transaction."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    account = PointsAccount.objects.select_for_update().filter(customer_id=customer_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            PointsAccount.objects.create(customer_id=customer_id, balance=0)
    except IntegrityError:
        pass  # created by a concurrent writer: lock theirs
    return PointsAccount.objects.select_for_update().get(customer_id=customer_id)


def lots(customer_id: int, *, due_by: datetime | None = None) -> list[Lot]:
    """The customer's lots with points left (only those expiring by ``due_by`` when given)."""
    found = PointsEntry.objects.filter(customer_id=customer_id, points__gt=0)
    if due_by is not None:
        found = found.filter(expires_at__lte=due_by)
    rows = (
        found.annotate(used=Coalesce(Sum("consumed_by__points"), Value(0)))
        .filter(points__gt=F("used"))
        .values_list("pk", "points", "used", "expires_at")
    )
    return [Lot(pk, points - used, expires_at) for pk, points, used, expires_at in rows]


def customers_with_due_lots(now: datetime) -> list[int]:
    """Customers of the bound merchant with points left in lots due by ``now``."""
    rows = (
        PointsEntry.objects.filter(points__gt=0, expires_at__lte=now)
        .annotate(used=Coalesce(Sum("consumed_by__points"), Value(0)))
        .filter(points__gt=F("used"))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    return sorted(set(rows))


def by_reference(reference: str) -> PointsEntry | None:
    return PointsEntry.objects.filter(reference=reference).first()


def write(
    account: PointsAccount,
    kind: str,
    points: int,
    *,
    reference: str,
    now: datetime,
    order_id: int | None = None,
    reason: str = "",
    actor_label: str = "",
    expires_at: datetime | None = None,
    from_lots: list[tuple[int, int]] | None = None,
) -> PointsEntry:
    """Append one entry to the locked ``account`` and move its balance. A negative entry
    consumes ``from_lots`` when given (a take-back from the order's own lot first), otherwise
    the earliest-expiring lots; it raises :class:`Shortfall` beyond the balance."""
    if points == 0:
        raise ValueError("an entry moves at least one point")
    if points < 0 and account.balance + points < 0:
        raise Shortfall(account.balance)
    entry = PointsEntry.objects.create(
        customer_id=account.customer_id,
        kind=kind,
        points=points,
        order_id=order_id,
        reference=reference[:120],
        reason=reason[:200],
        actor_label=actor_label[:150],
        expires_at=expires_at if points > 0 else None,
        created_at=now,
    )
    if points < 0:
        taken = list(from_lots or [])
        want = -points - sum(p for _l, p in taken)
        if want > 0:
            used = dict(taken)
            left = [
                Lot(lot.entry_id, lot.left - used.get(lot.entry_id, 0), lot.expires_at)
                for lot in lots(account.customer_id)
            ]
            taken.extend(fifo(left, want))
        if sum(p for _l, p in taken) != -points:
            raise Shortfall(account.balance)  # the lots disagree with the balance: refuse
        PointsAllocation.objects.bulk_create(
            [
                PointsAllocation(merchant_id=account.merchant_id, debit=entry, lot_id=lot, points=p)
                for lot, p in taken
                if p > 0
            ]
        )
    PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + points)
    account.balance += points
    events.emit(
        current_merchant(),
        loyalty_events.POINTS_RECORDED,
        {
            "customer_id": account.customer_id,
            "entry_id": entry.pk,
            "kind": kind,
            "points": points,
            "balance": account.balance,
            "order_id": order_id,
            "reference": entry.reference,
        },
        aggregate=entry,
    )
    return entry


def expire_due_lots(account: PointsAccount, now: datetime) -> list[PointsEntry]:
    """Write an ``expire`` entry for what is left of each of the customer's lots due by
    ``now`` (one per lot, referenced by the lot: a second run writes nothing)."""
    written = []
    for lot in sorted(lots(account.customer_id, due_by=now), key=lambda x: x.entry_id):
        written.append(
            write(
                account,
                Kind.EXPIRE,
                -lot.left,
                reference=f"expire:{lot.entry_id}",
                now=now,
                from_lots=[(lot.entry_id, lot.left)],
            )
        )
    return written


def derived_balance(customer_id: int) -> int:
    """The balance re-derived from the entries (it equals the cached one)."""
    total = PointsEntry.objects.filter(customer_id=customer_id).aggregate(s=Sum("points"))["s"]
    return int(total or 0)


def order_figures(order_id: int) -> dict[str, int]:
    """Points an order earned, took back, spent and got returned (all positive numbers)."""
    sums: dict[str, Any] = PointsEntry.objects.filter(order_id=order_id).aggregate(
        earned=Sum("points", filter=Q(kind=Kind.EARN_ORDER)),
        taken=Sum("points", filter=Q(kind=Kind.REFUND_EARN)),
        spent=Sum("points", filter=Q(kind=Kind.REDEEM)),
        returned=Sum("points", filter=Q(kind=Kind.REFUND_REDEEM)),
    )
    return {
        "earned": int(sums["earned"] or 0),
        "taken": -int(sums["taken"] or 0),
        "spent": -int(sums["spent"] or 0),
        "returned": int(sums["returned"] or 0),
    }
