"""What a refund may take back from an order. Pure: no database.

The payments app refunds money through the gateway; the orders app then
records, per line, how many units and how much money went back
(:func:`plan_refund` checks it first). How much a number of units returns is
the payments app's rule (:mod:`siyu.payments.allocation`), the only one. The rules: a line never gives back more
units than were bought nor more money than was paid for it, and the order
never more than its total (shipping included). An amount beyond the lines'
amounts (shipping, goodwill) is allowed up to the order's remaining total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from siyu.core.errors import InvalidInput

NONE = "none"
PARTIAL = "partial"
FULL = "full"


@dataclass(frozen=True)
class RefundableLine:
    id: int
    quantity: int
    line_total: int
    refunded_quantity: int = 0
    refunded_amount: int = 0

    @property
    def quantity_left(self) -> int:
        return self.quantity - self.refunded_quantity

    @property
    def amount_left(self) -> int:
        return self.line_total - self.refunded_amount


@dataclass(frozen=True)
class LineRefund:
    line_id: int
    quantity: int
    amount: int


@dataclass(frozen=True)
class RefundPlan:
    lines: tuple[LineRefund, ...]
    amount: int
    refunded_total: int  # the order's refunded total after this refund
    state: str  # none / partial / full after this refund


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def refund_state(
    order_total: int, refunded_total: int, all_units_back: bool, any_units_back: bool = False
) -> str:
    """Full: the whole total went back (a free order: every unit). Partial: money or units."""
    if refunded_total >= order_total and (order_total > 0 or all_units_back):
        return FULL
    if refunded_total > 0 or any_units_back or all_units_back:
        return PARTIAL
    return NONE


def plan_refund(
    *,
    order_total: int,
    refunded_total: int,
    lines: Sequence[RefundableLine],
    requested: Sequence[tuple[int, int, int]],
    amount: int,
) -> RefundPlan:
    """Check a refund of ``amount`` with ``requested`` (line id, quantity, amount) per line."""
    errors: dict[str, str] = {}
    by_id = {line.id: line for line in lines}
    seen: set[int] = set()
    chosen: list[LineRefund] = []
    for n, item in enumerate(requested):
        line_id, quantity, line_amount = item
        line = by_id.get(line_id) if _is_int(line_id) else None
        if line is None:
            errors[f"lines.{n}.order_line_id"] = _("Not a line of this order.")
            continue
        if line_id in seen:
            errors[f"lines.{n}.order_line_id"] = _("This line is listed twice.")
            continue
        seen.add(line_id)
        if not _is_int(quantity) or not 0 <= quantity <= line.quantity_left:
            errors[f"lines.{n}.quantity"] = _("From 0 to %(n)d (not yet refunded).") % {
                "n": line.quantity_left
            }
        if not _is_int(line_amount) or not 0 <= line_amount <= line.amount_left:
            errors[f"lines.{n}.amount"] = _("From 0 to %(n)d fen (not yet refunded).") % {
                "n": line.amount_left
            }
        if not errors:
            chosen.append(LineRefund(line_id, quantity, line_amount))
    left = order_total - refunded_total
    if not _is_int(amount) or not 0 <= amount <= left:
        errors["amount"] = _("From 0 to %(n)d fen (what is left of the order's total).") % {
            "n": max(left, 0)
        }
    elif not errors:
        if sum(c.amount for c in chosen) > amount:
            errors["amount"] = _("Less than the lines' amounts together.")
        elif amount == 0 and not any(c.quantity for c in chosen):
            errors["amount"] = _("Nothing to refund.")
    if errors:
        raise InvalidInput(_("The refund does not fit the order."), fields=errors)
    after = refunded_total + amount
    returned = {c.line_id: c.quantity for c in chosen}
    all_back = bool(lines) and all(
        line.refunded_quantity + returned.get(line.id, 0) >= line.quantity for line in lines
    )
    any_back = any(line.refunded_quantity + returned.get(line.id, 0) > 0 for line in lines)
    return RefundPlan(
        tuple(chosen), amount, after, refund_state(order_total, after, all_back, any_back)
    )
