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

The machinery is the distributors' (:mod:`siyu.distribution.ledger`: the rate lookup, the
sync with its proportional reversal, the settle statement, parameterised by the
:data:`GUIDES` book) and the rules are written by :func:`siyu.distribution.services.save_rule`;
this module says only who earns. The sync and the settlement both take the merchant's
distribution settings row lock (``FOR UPDATE``, :func:`siyu.distribution.locks.locked_settings`),
so a reversal always knows whether its line settled. A guide who is no longer an active member
earns nothing on new orders; what they earned stays theirs.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from siyu.core.actors import Actor
from siyu.core.models import Membership, Merchant
from siyu.distribution import commission, guide_selectors, ledger, services
from siyu.distribution import guide_events as distribution_events
from siyu.distribution.models import DistributionSettings, GuideCommissionEntry, GuideCommissionRule
from siyu.orders.models import Order, OrderLine

Kind = GuideCommissionEntry.Kind
Scope = GuideCommissionRule.Scope
PAID = ledger.PAID
RULE_FIELDS = services.RULE_FIELDS

GUIDES = ledger.Book(
    entry=GuideCommissionEntry,
    owner="guide_id",
    levels=False,
    recorded=distribution_events.GUIDE_COMMISSION_RECORDED,
    settled=distribution_events.GUIDE_COMMISSION_SETTLED,
    order_field="guide_id",
)


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
    return services.save_rule(
        actor,
        GuideCommissionRule,
        scope=scope,
        kind=kind,
        rate_bp=rate_bp,
        fixed_fen=fixed_fen,
        category_id=category_id,
        product_id=product_id,
        action="distribution.guide_rule.set",
        event_type=distribution_events.GUIDE_RULE_CHANGED,
    )


@transaction.atomic
def delete_guide_rule(actor: Actor, rule_id: int) -> None:
    """Remove a guides' rule (404 when there is none with that id); paid orders keep theirs."""
    services.remove_rule(
        actor,
        GuideCommissionRule,
        rule_id,
        action="distribution.guide_rule.deleted",
        event_type=distribution_events.GUIDE_RULE_CHANGED,
    )


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
    return ledger.line_bases(lines, guide_selectors.rule_set())


def _first_earners(
    order: Order, lines: list[OrderLine], _settings: DistributionSettings
) -> list[ledger.Earner]:
    return [(order.guide_id, basis) for basis in first_bases(order, lines)]  # type: ignore[misc]


def sync_order_guide_commission(order_id: int, *, cause: str) -> int:
    """Bring the guide ledger of ``order_id`` to what its lines earn now; the fen appended.

    The first call after payment writes the pending entries (basis fixed then); later calls
    append a reversal for every line whose refunds took some back, keyed by ``cause`` (the
    refund's reference). Idempotent (:func:`siyu.distribution.ledger.sync_order`). An order
    without a guide is answered before any lock (its ``guide_id`` is set at checkout and
    never changes)."""
    return ledger.sync_order(GUIDES, order_id, cause=cause, first=_first_earners)


def settle_guides_of(merchant: Merchant, now: datetime | None = None) -> int:
    """Settle the merchant's guide commission of orders completed more than the settlement
    delay before ``now``: one ``settled`` entry per order line, in one statement; how many."""
    return ledger.settle_book(GUIDES, merchant, now)


def settle_guides_due(now: datetime | None = None) -> int:
    """Settle every merchant's due guide commission (the hourly job); the entries written."""
    return ledger.settle_book_due(GUIDES, now)
