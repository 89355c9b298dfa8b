"""The commission ledgers: what an order's lines earn, reversals on refunds, settlement.

Two ledgers work the same way on their own tables: the distributors'
(:class:`CommissionEntry`, one or two levels) and the shopping guides'
(:class:`GuideCommissionEntry`, :mod:`siyu.distribution.guide_commission`). A :class:`Book`
names a ledger's table, who earns in it and its event types; the machinery here serves both:

* :func:`rules_of` — the rate lookup (a product's rule, else its nearest category's, else the
  default) from a rule table;
* :func:`sync_order` — bring an order's entries to what its lines earn now: the pending
  entries on the first call after payment, then the proportional reversal of every refund
  (the outbox consumers call it on paid and refund events);
* :func:`settle_book` / :func:`settle_book_due` — settle, set-based, the entries of orders
  completed more than the settlement delay ago (:func:`settle_sql`, one statement
  parameterised by table).

Both writers take the merchant's settings row lock (``FOR UPDATE``), so a refund's reversal
knows whether its line was settled. Entries are never edited: a change is a new entry.

The distributors' ledger itself is :func:`sync_order_commission`, :func:`settle_merchant`
and :func:`settle_due` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models, transaction

from siyu.core import clock, events
from siyu.core.models import DomainEvent, Merchant
from siyu.core.tenancy import current_merchant, merchant_context
from siyu.distribution import commission, selectors
from siyu.distribution import events as distribution_events
from siyu.distribution.locks import locked_settings as _locked_settings
from siyu.distribution.models import (
    CommissionEntry,
    CommissionRule,
    DistributionSettings,
    Distributor,
)
from siyu.orders import events as order_events
from siyu.orders.models import Order, OrderLine

Kind = CommissionEntry.Kind
Status = Distributor.Status
PAID = "paid"  # the cause of the first entries of an order

Earner = tuple[int, commission.Basis]
"""Who earns (the owner's id: a distributor's or a guide's membership) and on what basis."""


@dataclass(frozen=True)
class Book:
    """One commission ledger: its entry model, the column of who earns, its event types."""

    entry: type[models.Model]  # CommissionEntry or GuideCommissionEntry
    owner: str  # the owner's column: "distributor_id" or "guide_id"
    levels: bool  # entries carry a level (1 or 2); without it every entry is level 1
    recorded: str  # event type of entries written for an order
    settled: str  # event type of a settlement run
    order_field: str | None = None  # an Order column that must be set for the order to earn

    @property
    def slot(self) -> tuple[str, ...]:
        """The columns that name what one pending entry is: a line (and level)."""
        return ("order_line_id", "level") if self.levels else ("order_line_id",)


# --- the rate lookup ---------------------------------------------------------------------------


def rules_of(rule_model: type[models.Model]) -> commission.RuleSet:
    """The bound merchant's rules of ``rule_model`` (``CommissionRule`` or
    ``GuideCommissionRule``: the same columns) as the pure calculator's rule set."""
    default = None
    by_category: dict[int, commission.Rule] = {}
    by_product: dict[int, commission.Rule] = {}
    for row in rule_model.objects.all():  # type: ignore[attr-defined]
        rule = commission.Rule(row.kind, row.rate_bp, row.fixed_fen)
        if row.scope == "default":
            default = rule
        elif row.scope == "category" and row.category_id is not None:
            by_category[row.category_id] = rule
        elif row.product_id is not None:
            by_product[row.product_id] = rule
    return commission.RuleSet(default, by_category, by_product)


def line_bases(
    lines: list[OrderLine], rules: commission.RuleSet, *, second_level_bp: int | None = None
) -> list[commission.Basis]:
    """What each line of a just-paid order earns under ``rules`` (with their category paths)."""
    paths = selectors.category_paths(line.product_id_snapshot for line in lines)
    return commission.bases(
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
        rules,
        second_level_bp=second_level_bp,
    )


def cause_of(event: DomainEvent) -> tuple[int, str] | None:
    """The order and the cause of an ``orders.order.paid`` / ``.refunded`` event for a
    ledger's consumer (a refund's reference), or ``None`` when it names no order."""
    order_id = event.payload.get("id")
    if not isinstance(order_id, int):
        return None
    if event.event_type == order_events.ORDER_REFUNDED:
        refund = event.payload.get("refund") or {}
        return order_id, str(refund.get("reference") or f"event:{event.pk}")
    return order_id, PAID


# --- pay and refund ----------------------------------------------------------------------------

FirstEarners = Callable[[Order, list[OrderLine], DistributionSettings], list[Earner]]


def _pending(
    book: Book,
    order: Order,
    line: OrderLine,
    earner: Earner,
    now: datetime,
) -> Any:
    """The pending entry of one line (and level) of a just-paid order, with its basis."""
    owner, basis = earner
    level = {"level": basis.level} if book.levels else {}
    return book.entry(
        merchant_id=order.merchant_id,
        order=order,
        order_line=line,
        kind=Kind.PENDING,
        amount=commission.commission(basis, line.refunded_amount),
        rule_kind=basis.kind,
        rate_bp=basis.rate_bp,
        fixed_fen=basis.fixed_fen,
        quantity=basis.quantity,
        base_amount=basis.paid,
        key=PAID,
        created_at=now,
        **{book.owner: owner},
        **level,
    )


def _reversals(
    book: Book,
    order: Order,
    lines: dict[int, OrderLine],
    entries: list[Any],
    cause: str,
    now: datetime,
) -> list[Any]:
    """The proportional reversal: for each pending entry, what its line earns on what is left
    after refunds minus what its entries already hold, when that is negative."""
    accrued: dict[tuple[int, int], int] = {}
    settled: set[tuple[int, int]] = set()
    level_of = (lambda e: e.level) if book.levels else (lambda e: 1)
    for e in entries:
        slot = (e.order_line_id, level_of(e))
        if e.kind == Kind.SETTLED:
            settled.add(slot)
        else:
            accrued[slot] = accrued.get(slot, 0) + e.amount
    found = []
    for e in entries:
        if e.kind != Kind.PENDING:
            continue
        slot = (e.order_line_id, level_of(e))
        basis = commission.Basis(
            e.order_line_id, slot[1], e.rule_kind, e.rate_bp, e.fixed_fen, e.quantity, e.base_amount
        )
        delta = commission.adjustment(basis, lines[e.order_line_id].refunded_amount, accrued[slot])
        if delta < 0:
            found.append(
                book.entry(
                    merchant_id=order.merchant_id,
                    order=order,
                    order_line_id=e.order_line_id,
                    kind=Kind.REVERSED,
                    amount=delta,
                    from_settled=slot in settled,
                    key=f"refund:{cause}"[:100],
                    created_at=now,
                    **{book.owner: getattr(e, book.owner)},
                    **({"level": e.level} if book.levels else {}),
                )
            )
    return found


def sync_order(book: Book, order_id: int, *, cause: str, first: FirstEarners) -> int:
    """Bring ``book``'s entries of ``order_id`` to what its lines earn now; the fen appended.

    On the first call after payment it writes the pending entries ``first`` finds (the basis
    fixed then); afterwards it appends a reversal for every line (and level) whose refunds
    took some of it back, keyed by ``cause`` (a refund's reference). Idempotent: a replay
    finds nothing to change, and the unique keys stop a duplicate even if two calls race.
    With ``book.order_field``, an order without it is answered before any lock (the column
    is set at checkout and never changes)."""
    if (
        book.order_field is not None
        and not Order.objects.filter(pk=order_id, **{f"{book.order_field}__isnull": False}).exists()
    ):
        return 0
    manager = book.entry.objects  # type: ignore[attr-defined]
    with transaction.atomic():
        settings_row = _locked_settings()
        order = Order.objects.filter(pk=order_id).first()
        if order is None or order.paid_at is None:
            return 0
        lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
        by_line = {line.pk: line for line in lines}
        entries = list(manager.filter(order=order))
        now = clock.now()
        if entries:
            new = _reversals(book, order, by_line, entries, cause, now)
        elif cause == PAID:  # a rule added later never reaches back to old orders
            new = [
                _pending(book, order, by_line[earner[1].line_id], earner, now)
                for earner in first(order, lines, settings_row)
            ]
        else:
            new = []
        if not new:
            return 0
        manager.bulk_create(new)
        total = sum(e.amount for e in new)
        payload: dict[str, Any] = {"order_id": order.pk, "number": order.number}
        if book.order_field is not None:
            payload[book.order_field] = getattr(order, book.order_field)
        payload.update(
            cause=cause,
            amount=total,
            entries=[
                [getattr(e, book.owner), e.order_line_id]
                + ([e.level] if book.levels else [])
                + [e.kind, e.amount]
                for e in new
            ],
        )
        events.emit(current_merchant(), book.recorded, payload, aggregate=order)
        return total


# --- settlement --------------------------------------------------------------------------------

SETTLE_TEMPLATE = """
INSERT INTO {table} (
    merchant_id, {owner}, order_id, {slot}, kind, amount, from_settled,
    rule_kind, rate_bp, fixed_fen, quantity, base_amount, key, created_at
)
SELECT p.merchant_id, p.{owner}, p.order_id, {p_slot}, 'settled',
       p.amount + COALESCE(r.amount, 0), %s, '', 0, 0, 0, 0, NULL, %s
FROM {table} p
JOIN orders_order o ON o.id = p.order_id
LEFT JOIN (
    SELECT {slot}, SUM(amount) AS amount
    FROM {table}
    WHERE merchant_id = %s AND kind = 'reversed'
    GROUP BY {slot}
) r ON {r_join}
WHERE p.merchant_id = %s
  AND p.kind = 'pending'
  AND o.status = 'completed'
  AND o.completed_at <= %s
  AND NOT EXISTS (
      SELECT 1 FROM {table} s
      WHERE {s_join} AND s.kind = 'settled'
  )
"""
"""One ``settled`` entry per order line (and level): its one pending entry (unique) plus its
reversals so far. No grouping of the million pending rows (the reversals, few, are summed
on their own), and the anti-join runs on the partial unique index of settled entries."""


def settle_sql(book: Book) -> str:
    """:data:`SETTLE_TEMPLATE` for ``book``'s table."""
    return SETTLE_TEMPLATE.format(
        table=book.entry._meta.db_table,
        owner=book.owner,
        slot=", ".join(book.slot),
        p_slot=", ".join(f"p.{c}" for c in book.slot),
        r_join=" AND ".join(f"r.{c} = p.{c}" for c in book.slot),
        s_join=" AND ".join(f"s.{c} = p.{c}" for c in book.slot),
    )


def settle_book(book: Book, merchant: Merchant, now: datetime | None = None) -> int:
    """Settle ``book``'s entries of ``merchant``'s orders completed more than the settlement
    delay before ``now``: one ``settled`` entry per order line (and level), in one statement.
    The number of entries written."""
    now = now or clock.now()
    with merchant_context(merchant), transaction.atomic():
        settings_row = _locked_settings()
        cutoff = now - timedelta(days=settings_row.settlement_delay_days)
        ops = connection.ops
        with connection.cursor() as cursor:
            cursor.execute(
                settle_sql(book),
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
            events.emit(merchant, book.settled, {"count": count, "completed_before": cutoff})
        return count


def settle_book_due(book: Book, now: datetime | None = None) -> int:
    """Settle ``book`` for every merchant with pending entries (the hourly jobs)."""
    merchant_ids = (
        book.entry.unscoped.filter(kind=Kind.PENDING)  # type: ignore[attr-defined]
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    total = 0
    for merchant in Merchant.objects.filter(pk__in=merchant_ids):
        total += settle_book(book, merchant, now)
    return total


# --- the distributors' ledger ------------------------------------------------------------------

DISTRIBUTORS = Book(
    entry=CommissionEntry,
    owner="distributor_id",
    levels=True,
    recorded=distribution_events.COMMISSION_RECORDED,
    settled=distribution_events.COMMISSION_SETTLED,
)
SETTLE_SQL = settle_sql(DISTRIBUTORS)


def _first_entries(
    order: Order, lines: list[OrderLine], settings_row: DistributionSettings
) -> list[Earner]:
    """Who earns what on a just-paid order (empty when nobody does): the order's approved
    distributor by the rules, and their inviter at the second level when it is on."""
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
    found = line_bases(lines, rules_of(CommissionRule), second_level_bp=second or None)
    return [
        (distributor.pk if basis.level == 1 else inviter.pk, basis)  # type: ignore[union-attr]
        for basis in found
    ]


def sync_order_commission(order_id: int, *, cause: str) -> int:
    """Bring the distributors' ledger of ``order_id`` to what its lines earn now (see
    :func:`sync_order`); the fen appended."""
    return sync_order(DISTRIBUTORS, order_id, cause=cause, first=_first_entries)


def settle_merchant(merchant: Merchant, now: datetime | None = None) -> int:
    """Settle ``merchant``'s distributors' commission that is due (see :func:`settle_book`)."""
    return settle_book(DISTRIBUTORS, merchant, now)


def settle_due(now: datetime | None = None) -> int:
    """Settle every merchant's due commission (the hourly job); the entries written."""
    return settle_book_due(DISTRIBUTORS, now)
