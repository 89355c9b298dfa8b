"""Event types the payments app emits (registered from ``PaymentsConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

PAYMENT_SUCCEEDED = "payments.payment.succeeded"
PAYMENT_FAILED = "payments.payment.failed"
REFUND_REQUESTED = "payments.refund.requested"
REFUND_SUCCEEDED = "payments.refund.succeeded"
REFUND_FAILED = "payments.refund.failed"
REFUND_REJECTED = "payments.refund.rejected"

register_event_type(
    PAYMENT_SUCCEEDED,
    _("Payment received"),
    _("A gateway confirmed a payment (verified notification or query)."),
)
register_event_type(
    PAYMENT_FAILED,
    _("Payment failed"),
    _("A gateway reported a failed payment; the order still waits for payment."),
)
register_event_type(
    REFUND_REQUESTED,
    _("Refund requested"),
    _("A customer asked for a refund; staff approve or reject it."),
)
register_event_type(
    REFUND_SUCCEEDED,
    _("Refund completed"),
    _("Money went back to the customer through the gateway."),
)
register_event_type(
    REFUND_FAILED,
    _("Refund failed"),
    _("The gateway refused a refund; staff may retry it."),
)
register_event_type(
    REFUND_REJECTED, _("Refund request rejected"), _("Staff rejected a customer's refund request.")
)
