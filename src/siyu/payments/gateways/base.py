"""The payment-gateway adapter interface: what Siyu asks of a payment provider.

A gateway adapter translates between Siyu's ``Payment`` / ``Refund`` rows and
one provider's API. It is small on purpose: open a payment, read and verify a
notification, ask for a payment's state, refund. Everything else — idempotency,
locking, amounts, the order's state — is the services' job, the same for every
provider. Adapters never touch orders and never open transactions of their own
on Siyu's tables; their provider calls run with no database lock held.

Adapters are chosen by code from a fixed mapping (``siyu.payments.gateways``),
enabled by ``settings.PAYMENT_GATEWAYS``; nothing is loaded from a dotted path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.functional import Promise

if TYPE_CHECKING:
    from siyu.payments.models import Payment, Refund


class NotificationKind:
    """The kinds of notification a provider sends (provider names are mapped onto these)."""

    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    REFUND_SUCCEEDED = "refund.succeeded"

    ALL = frozenset({PAYMENT_SUCCEEDED, PAYMENT_FAILED, REFUND_SUCCEEDED})


class InvalidNotification(Exception):
    """A notification that cannot be trusted or read: bad or stale signature, malformed body.

    ``reason`` is for Siyu's log only; callers answer the provider without it, so
    nothing tells an attacker which check failed.
    """

    def __init__(self, reason: str, *, signature: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signature = signature  # True: the signature (or its timestamp) failed


class GatewayError(Exception):
    """The provider could not be reached or answered with an error (a call may be retried)."""


@dataclass(frozen=True)
class PaymentIntent:
    """What the provider answered when a payment was opened: where the customer pays."""

    pay_url: str
    provider_reference: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Notification:
    """A verified notification, in Siyu's terms whatever the provider's format."""

    kind: str  # one of NotificationKind
    notification_id: str  # unique per notification at this provider: repeats carry the same id
    out_trade_no: str  # our Payment.out_trade_no
    provider_reference: str  # the provider's transaction id
    amount: int  # minor units: the payment's amount, or the refund's for refund.succeeded
    occurred_at: datetime
    raw: Mapping[str, Any]
    currency: str = "CNY"
    refund_number: str = ""  # our Refund.number, for refund.succeeded
    refund_reference: str = ""  # the provider's refund id
    failure_reason: str = ""  # for payment.failed


@dataclass(frozen=True)
class QueryResult:
    """A payment as the provider sees it now."""

    status: str  # "pending", "succeeded", "failed" or "closed" (Payment.Status values)
    provider_reference: str
    amount: int
    refunded: int = 0
    currency: str = "CNY"
    paid_at: datetime | None = None


@dataclass(frozen=True)
class RefundResult:
    """What the provider answered to a refund request.

    ``status`` is "succeeded", "processing" (accepted; a refund.succeeded
    notification follows) or "failed". A failed result with ``retryable`` may
    be asked again with the same refund number; the provider refunds at most once
    per refund number.
    """

    status: str
    provider_reference: str = ""
    failure_reason: str = ""
    retryable: bool = False

    SUCCEEDED = "succeeded"
    PROCESSING = "processing"
    FAILED = "failed"


@dataclass(frozen=True)
class Acknowledgement:
    """The answer a provider expects when a notification was received."""

    body: bytes = b""
    content_type: str = "application/json"
    status: int = 200


@dataclass(frozen=True)
class GatewayInfo:
    code: str
    label: str | Promise
    is_sandbox: bool = False
    signature_headers: tuple[str, ...] = field(default_factory=tuple)


class PaymentGateway(Protocol):
    """One payment provider. Implementations live in ``siyu.payments.gateways.<code>``."""

    code: str
    info: GatewayInfo
    acknowledgement: Acknowledgement

    def create_payment(
        self, payment: Payment, *, notify_url: str, return_url: str
    ) -> PaymentIntent:
        """Open the payment at the provider (idempotent per ``payment.out_trade_no``)."""
        ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify the signature over the raw ``body`` and read it; raise InvalidNotification."""
        ...

    def query(self, payment: Payment) -> QueryResult:
        """Ask the provider for the payment's current state."""
        ...

    def refund(self, refund: Refund) -> RefundResult:
        """Refund ``refund.amount`` of ``refund.payment`` (idempotent per ``refund.number``)."""
        ...
