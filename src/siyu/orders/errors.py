"""Errors of orders that other apps catch by type.

``mark_paid`` raises a :class:`PaymentNotApplied` (409) when a payment that the
gateway confirmed cannot be applied to the order; it changes nothing, and the
payments app catches the base class and refunds the payment automatically.
"""

from __future__ import annotations

from siyu.core.errors import Conflict


class PaymentNotApplied(Conflict):
    """The payment cannot be applied to the order: refund it."""

    code = "payment_not_applied"


class OrderCancelled(PaymentNotApplied):
    """The order was cancelled (unpaid in time, or by the customer) before the payment arrived."""

    code = "order_cancelled"


class OrderAlreadyPaid(PaymentNotApplied):
    """Another payment already paid the order (the same payment again is a no-op instead)."""

    code = "order_already_paid"


class OrderSoldOut(PaymentNotApplied):
    """The order's reservation expired and its stock was sold to others before the payment."""

    code = "order_sold_out"
