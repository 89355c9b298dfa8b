"""The commission ledger: what an order's lines earn, reversals on refunds, settlement.

* :func:`sync_order_commission` brings an order's ledger to what its lines earn now (the
  outbox consumers call it on paid and refund events).
* :func:`settle_merchant` / :func:`settle_due` settle, set-based, the commission of orders
  completed more than the settlement delay ago.

Both take the merchant's settings row lock (``FOR UPDATE``), so a refund's reversal knows
whether its line was settled. Entries are never edited: a change is a new entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction

from siyu.core import clock, events
from siyu.core.models import Merchant
from siyu.core.tenancy import current_merchant, merchant_context
from siyu.distribution import commission, selectors
from siyu.distribution import events as distribution_events
from siyu.distribution.locks import locked_settings as _locked_settings
from siyu.distribution.models import CommissionEntry, DistributionSettings, Distributor
from siyu.orders.models import Order, OrderLine

Kind = CommissionEntry.Kind
Status = Distributor.Status
PAID = "paid"  # the cause of the first entries of an order


def _first_entries(
    order: Order, lines: list[OrderLine], settings_row: DistributionSettings
) -> list[tuple[Distributor, commission.Basis]]:
    """Who earns what on a just-paid order (empty when nobody does)."""
    if order.distributor_id is None:
        return []
    distributor = (
        Distributor.objects.select_related("invited_by").filter(pk=order.distributor_id).first()
    )
    if distributor is None or distributor.status != Status.APPROVED:
        return []
    if distributor.customer_id == order.customer_id and not settings_row.self_purchase:
        return []
    inviter = distributor.invited_by
    second = (
        settings_row.second_level_rate_bp
        if settings_row.second_level
        and inviter is not None
        and inviter.status == Status.APPROVED
        and inviter.customer_id != order.customer_id
        else None
    )
    paths = selectors.category_paths(line.product_id_snapshot for line in lines)
    found = commission.bases(
        [
            commission.Line(
                line.pk,
                line.product_id_snapshot,
                line.quantity,
                line.line_total,
                paths.get(line.product_id_snapshot, ()),
            )
            for line in lines
        ],
        selectors.rule_set(),
        second_level_bp=second or None,
    )
    return [(distributor if basis.level == 1 else inviter, basis) for basis in found]  # type: ignore[misc]


def sync_order_commission(order_id: int, *, cause: str) -> int:
    """Bring the ledger of ``order_id`` to what its lines earn now; the fen appended.

    On the first call after payment it writes the pending entries (the basis fixed then);
    afterwards it appends a reversal for every line and level whose refunds took some of it
    back, keyed by ``cause`` (a refund's reference). Idempotent: a replay finds nothing to
    change, and the unique keys stop a duplicate even if two calls race."""
    with transaction.atomic():
        settings_row = _locked_settings()
        order = Order.objects.filter(pk=order_id).first()
        if order is None or order.paid_at is None:
            return 0
        lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
        by_line = {line.pk: line for line in lines}
        entries = list(CommissionEntry.objects.filter(order=order))
        now = clock.now()
        new: list[CommissionEntry] = []
        if not entries:
            if cause != PAID:  # a rule added later never reaches back to old orders
                return 0
            for distributor, basis in _first_entries(order, lines, settings_row):
                line = by_line[basis.line_id]
                new.append(
                    CommissionEntry(
                        merchant_id=order.merchant_id,
                        distributor=distributor,
                        order=order,
                        order_line=line,
                        level=basis.level,
                        kind=Kind.PENDING,
                        amount=commission.commission(basis, line.refunded_amount),
                        rule_kind=basis.kind,
                        rate_bp=basis.rate_bp,
                        fixed_fen=basis.fixed_fen,
                        quantity=basis.quantity,
                        base_amount=basis.paid,
                        key="paid",
                        created_at=now,
                    )
                )
        else:
            accrued: dict[tuple[int, int], int] = {}
            settled: set[tuple[int, int]] = set()
            for e in entries:
                slot = (e.order_line_id, e.level)
                if e.kind == Kind.SETTLED:
                    settled.add(slot)
                else:
                    accrued[slot] = accrued.get(slot, 0) + e.amount
            for e in entries:
                if e.kind != Kind.PENDING:
                    continue
                slot = (e.order_line_id, e.level)
                basis = commission.Basis(
                    e.order_line_id,
                    e.level,
                    e.rule_kind,
                    e.rate_bp,
                    e.fixed_fen,
                    e.quantity,
                    e.base_amount,
                )
                delta = commission.adjustment(
                    basis, by_line[e.order_line_id].refunded_amount, accrued[slot]
                )
                if delta < 0:
                    new.append(
                        CommissionEntry(
                            merchant_id=order.merchant_id,
                            distributor_id=e.distributor_id,
                            order=order,
                            order_line_id=e.order_line_id,
                            level=e.level,
                            kind=Kind.REVERSED,
                            amount=delta,
                            from_settled=slot in settled,
                            key=f"refund:{cause}"[:100],
                            created_at=now,
                        )
                    )
        if not new:
            return 0
        CommissionEntry.objects.bulk_create(new)
        total = sum(e.amount for e in new)
        events.emit(
            current_merchant(),
            distribution_events.COMMISSION_RECORDED,
            {
                "order_id": order.pk,
                "number": order.number,
                "cause": cause,
                "amount": total,
                "entries": [
                    [e.distributor_id, e.order_line_id, e.level, e.kind, e.amount] for e in new
                ],
            },
            aggregate=order,
        )
        return total


SETTLE_SQL = """
INSERT INTO distribution_commissionentry (
    merchant_id, distributor_id, order_id, order_line_id, level, kind, amount, from_settled,
    rule_kind, rate_bp, fixed_fen, quantity, base_amount, key, created_at
)
SELECT p.merchant_id, p.distributor_id, p.order_id, p.order_line_id, p.level, 'settled',
       p.amount + COALESCE(r.amount, 0), %s, '', 0, 0, 0, 0, NULL, %s
FROM distribution_commissionentry p
JOIN orders_order o ON o.id = p.order_id
LEFT JOIN (
    SELECT order_line_id, level, SUM(amount) AS amount
    FROM distribution_commissionentry
    WHERE merchant_id = %s AND kind = 'reversed'
    GROUP BY order_line_id, level
) r ON r.order_line_id = p.order_line_id AND r.level = p.level
WHERE p.merchant_id = %s
  AND p.kind = 'pending'
  AND o.status = 'completed'
  AND o.completed_at <= %s
  AND NOT EXISTS (
      SELECT 1 FROM distribution_commissionentry s
      WHERE s.order_line_id = p.order_line_id AND s.level = p.level AND s.kind = 'settled'
  )
"""
"""One ``settled`` entry per order line and level: its one pending entry (unique) plus its
reversals so far. No grouping of the million pending rows (the reversals, few, are summed
on their own), and the anti-join runs on the partial unique index of settled entries."""


def settle_merchant(merchant: Merchant, now: datetime | None = None) -> int:
    """Settle the bound merchant's commission of orders completed more than the settlement
    delay before ``now``: one ``settled`` entry per order line and level, in one statement.
    The number of entries written."""
    now = now or clock.now()
    with merchant_context(merchant), transaction.atomic():
        settings_row = _locked_settings()
        cutoff = now - timedelta(days=settings_row.settlement_delay_days)
        ops = connection.ops
        with connection.cursor() as cursor:
            cursor.execute(
                SETTLE_SQL,
                [
                    False,
                    ops.adapt_datetimefield_value(now),
                    merchant.pk,
                    merchant.pk,
                    ops.adapt_datetimefield_value(cutoff),
                ],
            )
            count = max(cursor.rowcount, 0)
        if count:
            events.emit(
                merchant,
                distribution_events.COMMISSION_SETTLED,
                {"count": count, "completed_before": cutoff},
            )
        return count


def settle_due(now: datetime | None = None) -> int:
    """Settle every merchant's due commission (the hourly job); the entries written."""
    merchant_ids = (
        CommissionEntry.unscoped.filter(kind=Kind.PENDING).values_list("merchant_id", flat=True)
    ).distinct()
    total = 0
    for merchant in Merchant.objects.filter(pk__in=merchant_ids):
        total += settle_merchant(merchant, now)
    return total
