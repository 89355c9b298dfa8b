"""The sandbox gateway adapter: the merchant side of the built-in sandbox provider.

It talks to ``siyu.payments.sandbox.provider`` the way an adapter of a real
provider talks to its API: open a transaction, read its state, refund; and it
verifies the provider's signed notifications (``Siyu-Sandbox-Signature``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from siyu.payments.gateways.base import (
    Acknowledgement,
    GatewayError,
    GatewayInfo,
    InvalidNotification,
    Notification,
    NotificationKind,
    PaymentIntent,
    QueryResult,
    RefundResult,
)
from siyu.payments.sandbox import provider, signing

if TYPE_CHECKING:
    from siyu.payments.models import Payment, Refund

_CURRENCY = re.compile(r"[A-Z]{3}")
_STATUS = {"open": "pending", "paid": "succeeded", "failed": "failed", "closed": "closed"}


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case (Django's ``request.headers`` or a plain dict)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _text(data: Mapping[str, Any], name: str, max_length: int, *, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > max_length or (required and not value):
        raise InvalidNotification(f"{name} must be a string of 1–{max_length} characters")
    return value


class SandboxGateway:
    code = "sandbox"
    info = GatewayInfo(
        code="sandbox",
        label=_("Sandbox (no real money)"),
        is_sandbox=True,
        signature_headers=(signing.SIGNATURE_HEADER,),
    )
    acknowledgement = Acknowledgement(body=b'{"code":"SUCCESS"}')

    def create_payment(
        self, payment: Payment, *, notify_url: str, return_url: str
    ) -> PaymentIntent:
        try:
            tx = provider.open_transaction(
                payment.merchant,
                out_trade_no=payment.out_trade_no,
                amount=payment.amount,
                currency=payment.currency,
                description=str(_("Order %(number)s") % {"number": payment.order.number}),
                notify_url=notify_url,
                return_url=return_url,
                expires_at=payment.expires_at,
            )
        except provider.SandboxRefusal as exc:
            raise GatewayError(str(exc)) from exc
        return PaymentIntent(
            pay_url=reverse("sandbox:pay", args=[tx.token]),
            provider_reference=tx.transaction_id,
            expires_at=tx.expires_at,
        )

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        try:
            signing.verify(
                header(headers, signing.SIGNATURE_HEADER), body, settings.SANDBOX_GATEWAY_KEY
            )
        except signing.SignatureError as exc:
            raise InvalidNotification(str(exc), signature=True) from exc
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidNotification("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise InvalidNotification("the body is not a JSON object")
        kind = data.get("type")
        if kind not in NotificationKind.ALL:
            raise InvalidNotification(f"unknown notification type {kind!r}")
        amount = data.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise InvalidNotification("amount must be a non-negative integer")
        currency = data.get("currency", "CNY")
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise InvalidNotification("currency must be three capital letters")
        try:
            occurred_at = datetime.fromisoformat(_text(data, "occurred_at", 40))
        except ValueError as exc:
            raise InvalidNotification("occurred_at is not an ISO 8601 time") from exc
        if occurred_at.tzinfo is None:
            raise InvalidNotification("occurred_at has no time zone")
        refund = kind == NotificationKind.REFUND_SUCCEEDED
        return Notification(
            kind=kind,
            notification_id=_text(data, "id", 80),
            out_trade_no=_text(data, "out_trade_no", 40),
            provider_reference=_text(data, "transaction_id", 64),
            amount=amount,
            currency=currency,
            occurred_at=occurred_at,
            raw=data,
            refund_number=_text(data, "out_refund_no", 40, required=refund),
            refund_reference=_text(data, "refund_id", 64, required=refund),
            failure_reason=_text(data, "failure_reason", 200, required=False),
        )

    def query(self, payment: Payment) -> QueryResult:
        tx = provider.by_out_trade_no(payment.out_trade_no)
        if tx is None:
            raise GatewayError("the provider does not know this payment")
        return QueryResult(
            status=_STATUS[tx.status],
            provider_reference=tx.transaction_id,
            amount=tx.amount,
            refunded=tx.refunded,
            currency=tx.currency,
            paid_at=tx.completed_at if tx.status == "paid" else None,
        )

    def refund(self, refund: Refund) -> RefundResult:
        payment = refund.payment
        if payment is None:
            return RefundResult(RefundResult.FAILED, failure_reason="the refund has no payment")
        try:
            made = provider.refund(
                out_trade_no=payment.out_trade_no,
                out_refund_no=refund.number,
                amount=refund.amount,
            )
        except provider.SandboxRefusal as exc:
            return RefundResult(RefundResult.FAILED, failure_reason=str(exc))
        return RefundResult(RefundResult.SUCCEEDED, provider_reference=made.refund_id)
