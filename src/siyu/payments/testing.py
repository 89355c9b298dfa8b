"""Factories for payment tests, benchmarks and demo data: real services, the real sandbox.

``pay(order)`` opens the order's sandbox payment, pays it on the provider's
side and hands the provider's signed notification to ``handle_notification`` —
the same bytes and signature the provider POSTs, without the HTTP hop (tests
that need the hop run against ``live_server``).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from django.conf import settings

from siyu.core import clock, ids
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.orders.models import Order
from siyu.orders.testing import make_order
from siyu.payments import services
from siyu.payments.gateways.base import NotificationKind
from siyu.payments.models import Payment, SandboxNotification
from siyu.payments.sandbox import provider, signing

__all__ = [
    "deliver_pending",
    "make_paid_order",
    "pay",
    "sandbox_notification",
    "start",
    "token_of",
]

RETURN_URL = "/s/shop/orders/return/"


def _merchant_of(obj: Any) -> Merchant:
    return Merchant.objects.get(pk=obj.merchant_id)


def start(order: Order, *, return_url: str = RETURN_URL) -> Payment:
    """The order's sandbox payment, opened through ``start_payment``."""
    with merchant_context(_merchant_of(order)):
        return services.start_payment(order, gateway="sandbox", return_url=return_url)


def token_of(payment: Payment) -> str:
    """The secret token of the sandbox pay page (the last part of the pay URL)."""
    return payment.pay_url.rstrip("/").rsplit("/", 1)[-1]


def sandbox_notification(
    payment: Payment,
    kind: str = NotificationKind.PAYMENT_SUCCEEDED,
    *,
    amount: int | None = None,
    currency: str | None = None,
    notification_id: str | None = None,
    occurred_at: datetime | str | None = None,
    timestamp: int | None = None,
    key: str | None = None,
    **extra: Any,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a notification as the sandbox provider signs it."""
    document: dict[str, Any] = {
        "id": f"evt_{ids.token(24)}" if notification_id is None else notification_id,
        "type": kind,
        "out_trade_no": payment.out_trade_no,
        "transaction_id": payment.provider_reference or "sbx_unknown",
        "amount": payment.amount if amount is None else amount,
        "currency": currency or payment.currency,
        "occurred_at": occurred_at
        if isinstance(occurred_at, str)
        else (occurred_at or clock.now()).isoformat(),
    }
    document.update(extra)
    body = json.dumps(document, separators=(",", ":")).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    header = signing.sign(body, key or settings.SANDBOX_GATEWAY_KEY, stamp)
    return {"Content-Type": "application/json", signing.SIGNATURE_HEADER: header}, body


def deliver_pending() -> list[services.NotificationOutcome]:
    """Hand every undelivered sandbox notification to the merchant side, as the provider would."""
    outcomes = []
    for note in SandboxNotification.unscoped.filter(
        status=SandboxNotification.Status.PENDING
    ).order_by("id"):
        outcomes.append(
            services.handle_notification(
                "sandbox", provider.signed_headers(note), note.body.encode("utf-8")
            )
        )
        SandboxNotification.unscoped.filter(pk=note.pk).update(
            status=SandboxNotification.Status.DELIVERED, delivered_at=clock.now()
        )
    return outcomes


def pay(order: Order) -> Payment:
    """Pay ``order`` in the sandbox: start, confirm on the pay page, deliver the notification."""
    payment = start(order)
    with merchant_context(_merchant_of(order)):
        provider.pay(token_of(payment))
    deliver_pending()
    payment.refresh_from_db()
    return payment


def make_paid_order(merchant: Merchant, **fields: Any) -> Order:
    """An order paid through the sandbox (``make_order`` arguments pass through)."""
    order = make_order(merchant, status="pending_payment", **fields)
    pay(order)
    with merchant_context(merchant):
        return Order.objects.get(pk=order.pk)
