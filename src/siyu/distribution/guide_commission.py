"""Shopping guides' commission: state changes (docs/distribution.md, "Shopping guides' commission").

A guide earns on the orders attributed to them (``Order.guide_id``, the staff membership
that checkout or the group's owner named) under the merchant's *guide* rules
(:class:`GuideCommissionRule`: a default, per category or per product; percent or fixed per
unit), separately from what a distributor earns on the same order. The ledger
(:class:`GuideCommissionEntry`) works exactly like the distributors' and reuses the same pure
calculator (:mod:`siyu.distribution.commission`) and timing:

* ``pending`` (+) when the order's paid event is consumed, with its basis (the rule then and
  the line's paid amount);
* ``reversed`` (−) on every refund, the difference between what was accrued and what the
  line earns on what is left (``from_settled`` when the line had settled);
* ``settled`` (+) once the order completed more than the merchant's settlement delay ago
  (``DistributionSettings.settlement_delay_days``), by the hourly job, one set-based
  ``INSERT … SELECT`` per merchant.

The sync and the settlement both take the merchant's distribution settings row lock
(``FOR UPDATE``, :func:`siyu.distribution.locks.locked_settings`), so a reversal always
knows whether its line settled. A guide who is no longer an active member earns nothing on
new orders; what they earned stays theirs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import Membership, Merchant
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant, merchant_context
from siyu.distribution import commission, guide_selectors, selectors
from siyu.distribution import guide_events as distribution_events
from siyu.distribution.locks import is_int, locked_settings
from siyu.distribution.models import GuideCommissionEntry, GuideCommissionRule
from siyu.orders.models import Order, OrderLine

Kind = GuideCommissionEntry.Kind
Scope = GuideCommissionRule.Scope
PAID = "paid"
RULE_FIELDS = ["kind", "rate_bp", "fixed_fen"]


# --- rules -------------------------------------------------------------------------------------


@transaction.atomic
def set_guide_rule(
    actor: Actor,
    *,
    scope: str,
    kind: str,
    rate_bp: int = 0,
    fixed_fen: int = 0,
    category_id: int | None = None,
    product_id: int | None = None,
) -> GuideCommissionRule:
    """Set the guides' default rule, a category's or a product's (replacing the one there was).
    Bad input is a 422 naming each bad field; nothing is written."""
    from siyu.catalog.models import Category, Product

    actor.require(Perm.DISTRIBUTION_MANAGE)
    errors: dict[str, str] = {}
    if scope not in Scope.values:
        errors["scope"] = _("One of: default, category, product.")
    if kind not in GuideCommissionRule.Kind.values:
        errors["kind"] = _("One of: percent, fixed.")
    if kind == commission.PERCENT and (not is_int(rate_bp) or not 0 <= rate_bp <= 10_000):
        errors["rate_bp"] = _("Basis points from 0 to 10000 (100 = 1 %).")
    if kind == commission.FIXED and (not is_int(fixed_fen) or not 0 <= fixed_fen <= 100_000_000):
        errors["fixed_fen"] = _("Fen per unit from 0 to 100000000.")
    if scope == Scope.CATEGORY:
        if (
            category_id is None
            or not is_int(category_id)
            or not Category.objects.filter(pk=category_id).exists()
        ):
            errors["category_id"] = _("Not a category of this shop.")
    elif category_id is not None:
        errors["category_id"] = _("Only for a category rule.")
    if scope == Scope.PRODUCT:
        if (
            product_id is None
            or not is_int(product_id)
            or not Product.objects.filter(pk=product_id).exists()
        ):
            errors["product_id"] = _("Not a product of this shop.")
    elif product_id is not None:
        errors["product_id"] = _("Only for a product rule.")
    if errors:
        raise InvalidInput(_("The rule was not saved."), fields=errors)
    target = {"scope": scope, "category_id": category_id, "product_id": product_id}
    rule = GuideCommissionRule.objects.select_for_update().filter(**target).first()
    before = audit.snapshot(rule, RULE_FIELDS) if rule else None
    if rule is None:
        rule = GuideCommissionRule(merchant=current_merchant(), **target)
    rule.kind = kind
    rule.rate_bp = rate_bp if kind == commission.PERCENT else 0
    rule.fixed_fen = fixed_fen if kind == commission.FIXED else 0
    rule.save()
    after = audit.snapshot(rule, RULE_FIELDS)
    audit.record(actor, "distribution.guide_rule.set", rule, before=before, after=after)
    events.emit(
        current_merchant(),
        distribution_events.GUIDE_RULE_CHANGED,
        {"id": rule.pk, **target, **after, "action": "set"},
        aggregate=rule,
    )
    return rule


@transaction.atomic
def delete_guide_rule(actor: Actor, rule_id: int) -> None:
    actor.require(Perm.DISTRIBUTION_MANAGE)
    rule = GuideCommissionRule.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Not found."))
    payload = {"id": rule.pk, "scope": rule.scope, "action": "deleted"}
    audit.record(actor, "distribution.guide_rule.deleted", rule)
    rule.delete()
    events.emit(current_merchant(), distribution_events.GUIDE_RULE_CHANGED, payload)


# --- the ledger --------------------------------------------------------------------------------


def first_bases(order: Order, lines: list[OrderLine]) -> list[commission.Basis]:
    """What each line of a just-paid order earns its guide (empty when nobody does)."""
    if order.guide_id is None:
        return []
    active = Membership.objects.filter(
        pk=order.guide_id, merchant_id=order.merchant_id, is_active=True
    ).exists()
    if not active:
        return []
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
        guide_selectors.rule_set(),
    )


def sync_order_guide_commission(order_id: int, *, cause: str) -> int:
    """Bring the guide ledger of ``order_id`` to what its lines earn now; the fen appended.

    The first call after payment writes the pending entries (basis fixed then); later calls
    append a reversal for every line whose refunds took some back, keyed by ``cause`` (the
    refund's reference). Idempotent: a replay finds nothing to change, and the unique keys
    stop a duplicate if two calls race. An order without a guide is answered before any lock
    (its ``guide_id`` is set at checkout and never changes)."""
    if not Order.objects.filter(pk=order_id, guide_id__isnull=False).exists():
        return 0
    with transaction.atomic():
        locked_settings()
        order = Order.objects.filter(pk=order_id).first()
        if order is None or order.paid_at is None:
            return 0
        lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
        by_line = {line.pk: line for line in lines}
        entries = list(GuideCommissionEntry.objects.filter(order=order))
        now = clock.now()
        new: list[GuideCommissionEntry] = []
        if not entries:
            if cause != PAID:  # a rule added later never reaches back to old orders
                return 0
            guide_id = order.guide_id
            for basis in first_bases(order, lines):
                assert guide_id is not None  # no guide, no bases
                line = by_line[basis.line_id]
                new.append(
                    GuideCommissionEntry(
                        merchant_id=order.merchant_id,
                        guide_id=guide_id,
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
                    )
                )
        else:
            accrued: dict[int, int] = {}
            settled: set[int] = set()
            for e in entries:
                if e.kind == Kind.SETTLED:
                    settled.add(e.order_line_id)
                else:
                    accrued[e.order_line_id] = accrued.get(e.order_line_id, 0) + e.amount
            for e in entries:
                if e.kind != Kind.PENDING:
                    continue
                basis = commission.Basis(
                    e.order_line_id,
                    1,
                    e.rule_kind,
                    e.rate_bp,
                    e.fixed_fen,
                    e.quantity,
                    e.base_amount,
                )
                delta = commission.adjustment(
                    basis, by_line[e.order_line_id].refunded_amount, accrued[e.order_line_id]
                )
                if delta < 0:
                    new.append(
                        GuideCommissionEntry(
                            merchant_id=order.merchant_id,
                            guide_id=e.guide_id,
                            order=order,
                            order_line_id=e.order_line_id,
                            kind=Kind.REVERSED,
                            amount=delta,
                            from_settled=e.order_line_id in settled,
                            key=f"refund:{cause}"[:100],
                            created_at=now,
                        )
                    )
        if not new:
            return 0
        GuideCommissionEntry.objects.bulk_create(new)
        total = sum(e.amount for e in new)
        events.emit(
            current_merchant(),
            distribution_events.GUIDE_COMMISSION_RECORDED,
            {
                "order_id": order.pk,
                "number": order.number,
                "guide_id": order.guide_id,
                "cause": cause,
                "amount": total,
                "entries": [[e.guide_id, e.order_line_id, e.kind, e.amount] for e in new],
            },
            aggregate=order,
        )
        return total


SETTLE_SQL = """
INSERT INTO distribution_guidecommissionentry (
    merchant_id, guide_id, order_id, order_line_id, kind, amount, from_settled,
    rule_kind, rate_bp, fixed_fen, quantity, base_amount, key, created_at
)
SELECT e.merchant_id, e.guide_id, e.order_id, e.order_line_id, 'settled',
       SUM(e.amount), %s, '', 0, 0, 0, 0, NULL, %s
FROM distribution_guidecommissionentry e
JOIN orders_order o ON o.id = e.order_id
WHERE e.merchant_id = %s
  AND e.kind IN ('pending', 'reversed')
  AND o.status = 'completed'
  AND o.completed_at <= %s
  AND NOT EXISTS (
      SELECT 1 FROM distribution_guidecommissionentry s
      WHERE s.order_line_id = e.order_line_id AND s.kind = 'settled'
  )
GROUP BY e.merchant_id, e.guide_id, e.order_id, e.order_line_id
"""


def settle_guides_of(merchant: Merchant, now: datetime | None = None) -> int:
    """Settle the merchant's guide commission of orders completed more than the settlement
    delay before ``now``: one ``settled`` entry per order line, in one statement; how many."""
    now = now or clock.now()
    with merchant_context(merchant), transaction.atomic():
        settings_row = locked_settings()
        cutoff = now - timedelta(days=settings_row.settlement_delay_days)
        ops = connection.ops
        with connection.cursor() as cursor:
            cursor.execute(
                SETTLE_SQL,
                [
                    False,
                    ops.adapt_datetimefield_value(now),
                    merchant.pk,
                    ops.adapt_datetimefield_value(cutoff),
                ],
            )
            count = max(cursor.rowcount, 0)
        if count:
            events.emit(
                merchant,
                distribution_events.GUIDE_COMMISSION_SETTLED,
                {"count": count, "completed_before": cutoff},
            )
        return count


def settle_guides_due(now: datetime | None = None) -> int:
    """Settle every merchant's due guide commission (the hourly job); the entries written."""
    merchant_ids = (
        GuideCommissionEntry.unscoped.filter(kind=Kind.PENDING).values_list(
            "merchant_id", flat=True
        )
    ).distinct()
    total = 0
    for merchant in Merchant.objects.filter(pk__in=merchant_ids):
        total += settle_guides_of(merchant, now)
    return total
