"""How much a refund of some units of an order line returns (pure: no database).

A line paid ``paid`` fen for ``quantity`` units — its ``line_total``, after the
discounts allocated to it, so a refund returns the discount-weighted price.
Each unit returns ``paid // quantity`` fen; the last unit of the line returns
whatever is left, so refunding every unit, in any number of refunds, returns
exactly ``paid`` and never more.

``refunded_quantity`` and ``refunded_amount`` count the units and money already
refunded *or being refunded* (refunds in flight hold their share too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from siyu.core.errors import InvalidInput


@dataclass(frozen=True)
class LineState:
    line_id: int
    quantity: int
    paid: int
    refunded_quantity: int = 0
    refunded_amount: int = 0

    @property
    def refundable_quantity(self) -> int:
        return max(0, self.quantity - self.refunded_quantity)

    @property
    def refundable_amount(self) -> int:
        return max(0, self.paid - self.refunded_amount)

    @property
    def unit_amount(self) -> int:
        """What one unit returns (every unit but the line's last one)."""
        return self.paid // self.quantity


@dataclass(frozen=True)
class LineRefund:
    line_id: int
    quantity: int
    amount: int


def refund_amount(line: LineState, quantity: int) -> int:
    """What refunding ``quantity`` more units of ``line`` returns, to the fen."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    if quantity > line.refundable_quantity:
        raise ValueError("more units than are left to refund")
    if line.refunded_quantity + quantity == line.quantity:
        return line.refundable_amount  # the last unit takes the remainder
    return min(line.unit_amount * quantity, line.refundable_amount)


def after(line: LineState, refunded: LineRefund) -> LineState:
    """The line once ``refunded`` is counted."""
    return LineState(
        line.line_id,
        line.quantity,
        line.paid,
        line.refunded_quantity + refunded.quantity,
        line.refunded_amount + refunded.amount,
    )


def allocate(
    lines: Mapping[int, LineState], requested: Sequence[tuple[int, int]]
) -> list[LineRefund]:
    """The refund of ``requested`` (order line id, quantity) pairs; InvalidInput naming the item."""
    if not requested:
        raise InvalidInput(
            _("Choose at least one line to refund."),
            fields={"lines": _("Choose at least one line to refund.")},
        )
    errors: dict[str, str] = {}
    seen: set[int] = set()
    result: list[LineRefund] = []
    for index, (line_id, quantity) in enumerate(requested):
        line = lines.get(line_id)
        if line is None:
            errors[f"lines.{index}.order_line_id"] = _("This is not a line of the order.")
            continue
        if line_id in seen:
            errors[f"lines.{index}.order_line_id"] = _("This line is listed twice.")
            continue
        seen.add(line_id)
        if quantity < 1:
            errors[f"lines.{index}.quantity"] = _("Refund at least one unit.")
        elif quantity > line.refundable_quantity:
            errors[f"lines.{index}.quantity"] = (
                _("Nothing of this line is left to refund.")
                if line.refundable_quantity == 0
                else _("At most %(count)d can be refunded.") % {"count": line.refundable_quantity}
            )
        else:
            result.append(LineRefund(line_id, quantity, refund_amount(line, quantity)))
    if errors:
        raise InvalidInput(_("Some lines cannot be refunded."), fields=errors)
    return result


def everything_left(lines: Iterable[LineState]) -> list[LineRefund]:
    """Every unit not yet refunded, line by line (a full refund)."""
    return [
        LineRefund(line.line_id, line.refundable_quantity, line.refundable_amount)
        for line in lines
        if line.refundable_quantity > 0
    ]


def total(refunds: Iterable[LineRefund]) -> int:
    return sum(r.amount for r in refunds)


def cap(refunds: Sequence[LineRefund], limit: int) -> list[LineRefund]:
    """The same refunds with their amounts cut, from the last line back, to total at most ``limit``.

    A full refund after an amount-only refund has less money left than its lines
    paid; the lines then carry what is left, never more.
    """
    excess = total(refunds) - max(0, limit)
    if excess <= 0:
        return list(refunds)
    kept: list[LineRefund] = []
    for item in reversed(refunds):
        cut = min(excess, item.amount)
        excess -= cut
        kept.append(LineRefund(item.line_id, item.quantity, item.amount - cut))
    return list(reversed(kept))
