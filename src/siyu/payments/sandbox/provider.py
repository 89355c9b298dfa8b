"""The sandbox provider's side: its transactions, refunds and the notifications it sends.

This module plays the payment provider. It keeps its own tables and reaches the
merchant side only the way a real provider does: the customer's browser on
the pay page, and signed HTTP notifications to the notify URL. A notification is
written with the change that causes it and POSTed from a background task after
commit; until the merchant answers 2xx it is retried with growing delays
(``sweep``), as real providers retry.

Transactions and refunds are idempotent per the merchant's numbers
(``out_trade_no``, ``out_refund_no``), again like a real provider.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from siyu.core import clock, ids
from siyu.core.backoff import backoff_seconds
from siyu.core.models import Merchant
from siyu.payments.gateways.base import NotificationKind
from siyu.payments.models import SandboxNotification, SandboxRefund, SandboxTransaction
from siyu.payments.sandbox import signing

logger = logging.getLogger(__name__)

USER_AGENT = "Siyu-Sandbox/1"
NOTIFICATION_HEADER = "Siyu-Sandbox-Notification"
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 12  # 15 s, 30 s, 1 min ... capped at an hour: about four hours in all
RETRY_BASE_SECONDS = 15.0
RETRY_CAP_SECONDS = 3600.0
CLAIM_SECONDS = 60  # an attempt holds its notification this long (the request's timeout and more)
SWEEP_BATCH = 100

TxStatus = SandboxTransaction.Status
NoteStatus = SandboxNotification.Status


class SandboxRefusal(Exception):
    """The provider refuses the operation (already paid, expired, refund too large...)."""


# --- transactions -------------------------------------------------------------------


def open_transaction(
    merchant: Merchant,
    *,
    out_trade_no: str,
    amount: int,
    currency: str,
    description: str,
    notify_url: str,
    return_url: str,
    expires_at: datetime | None,
) -> SandboxTransaction:
    """Open a transaction for the merchant's ``out_trade_no`` (the same one again if it exists)."""
    existing = SandboxTransaction.unscoped.filter(out_trade_no=out_trade_no).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = SandboxTransaction.unscoped.create(
                    merchant=merchant,
                    token=ids.token(32),
                    transaction_id=f"sbx_{ids.token(24)}",
                    out_trade_no=out_trade_no,
                    amount=amount,
                    currency=currency,
                    description=description[:200],
                    notify_url=notify_url,
                    return_url=return_url,
                    expires_at=expires_at,
                )
        except IntegrityError:
            existing = SandboxTransaction.unscoped.get(out_trade_no=out_trade_no)
    if existing.merchant_id != merchant.pk or existing.amount != amount:
        raise SandboxRefusal("out_trade_no was used before with another merchant or amount")
    return existing


def by_token(token: str) -> SandboxTransaction | None:
    return SandboxTransaction.unscoped.select_related("merchant").filter(token=token).first()


def by_out_trade_no(out_trade_no: str) -> SandboxTransaction | None:
    return SandboxTransaction.unscoped.filter(out_trade_no=out_trade_no).first()


def is_expired(tx: SandboxTransaction, now: datetime | None = None) -> bool:
    return tx.expires_at is not None and tx.expires_at <= (now or clock.now())


def _locked(token: str) -> SandboxTransaction:
    tx = SandboxTransaction.unscoped.select_for_update().filter(token=token).first()
    if tx is None:
        raise SandboxRefusal("unknown transaction")
    return tx


def pay(token: str) -> SandboxTransaction:
    """The customer confirms: the transaction is paid and a payment.succeeded notification sent.

    Paying an already paid transaction again (a double click) changes nothing.
    """
    with transaction.atomic():
        tx = _locked(token)
        if tx.status == TxStatus.PAID:
            return tx
        if tx.status != TxStatus.OPEN:
            raise SandboxRefusal(f"the transaction is {tx.status}")
        now = clock.now()
        if is_expired(tx, now):
            raise SandboxRefusal("the transaction has expired")
        tx.status = TxStatus.PAID
        tx.completed_at = now
        tx.save(update_fields=["status", "completed_at"])
        notify(tx, NotificationKind.PAYMENT_SUCCEEDED, amount=tx.amount)
    return tx


def fail(token: str, reason: str = "declined by the customer") -> SandboxTransaction:
    """The customer declines: the transaction fails and a payment.failed notification is sent."""
    with transaction.atomic():
        tx = _locked(token)
        if tx.status == TxStatus.FAILED:
            return tx
        if tx.status != TxStatus.OPEN:
            raise SandboxRefusal(f"the transaction is {tx.status}")
        tx.status = TxStatus.FAILED
        tx.failure_reason = reason[:200]
        tx.completed_at = clock.now()
        tx.save(update_fields=["status", "failure_reason", "completed_at"])
        notify(tx, NotificationKind.PAYMENT_FAILED, amount=tx.amount, failure_reason=reason)
    return tx


def close(token: str) -> SandboxTransaction:
    """Close an unpaid transaction (after its expiry): it can no longer be paid."""
    with transaction.atomic():
        tx = _locked(token)
        if tx.status == TxStatus.OPEN:
            tx.status = TxStatus.CLOSED
            tx.completed_at = clock.now()
            tx.save(update_fields=["status", "completed_at"])
    return tx


def refund(*, out_trade_no: str, out_refund_no: str, amount: int) -> SandboxRefund:
    """Refund ``amount`` of a paid transaction, once per ``out_refund_no``.

    Asking again with the same refund number returns the first refund; never
    more than was paid is refunded. A refund.succeeded notification follows.
    """
    if amount < 1:
        raise SandboxRefusal("the refund amount must be positive")
    with transaction.atomic():
        tx = (
            SandboxTransaction.unscoped.select_for_update()
            .filter(out_trade_no=out_trade_no)
            .first()
        )
        if tx is None:
            raise SandboxRefusal("unknown transaction")
        done = SandboxRefund.unscoped.filter(out_refund_no=out_refund_no).first()
        if done is not None:
            if done.transaction_id != tx.pk or done.amount != amount:
                raise SandboxRefusal("out_refund_no was used before with another payment or amount")
            return done
        if tx.status != TxStatus.PAID:
            raise SandboxRefusal(f"the transaction is {tx.status}, not paid")
        if tx.refunded + amount > tx.amount:
            raise SandboxRefusal(
                f"the refund exceeds what is left of the payment ({tx.amount - tx.refunded})"
            )
        made = SandboxRefund.unscoped.create(
            merchant_id=tx.merchant_id,
            transaction=tx,
            out_refund_no=out_refund_no,
            refund_id=f"sbr_{ids.token(24)}",
            amount=amount,
        )
        SandboxTransaction.unscoped.filter(pk=tx.pk).update(refunded=F("refunded") + amount)
        notify(
            tx,
            NotificationKind.REFUND_SUCCEEDED,
            amount=amount,
            out_refund_no=out_refund_no,
            refund_id=made.refund_id,
        )
    return made


# --- notifications ------------------------------------------------------------------


def notification_body(
    tx: SandboxTransaction, kind: str, *, notification_id: str, occurred_at: datetime, **extra: Any
) -> str:
    """The JSON body of a notification, serialised once (its bytes are what gets signed)."""
    document: dict[str, Any] = {
        "id": notification_id,
        "type": kind,
        "out_trade_no": tx.out_trade_no,
        "transaction_id": tx.transaction_id,
        "amount": extra.pop("amount"),
        "currency": tx.currency,
        "occurred_at": occurred_at.isoformat(),
    }
    document.update({key: value for key, value in extra.items() if value not in (None, "")})
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def notify(tx: SandboxTransaction, kind: str, **extra: Any) -> SandboxNotification:
    """Write a notification in the caller's transaction; send its first attempt after commit."""
    now = clock.now()
    notification_id = f"evt_{ids.token(24)}"
    note = SandboxNotification.unscoped.create(
        merchant_id=tx.merchant_id,
        transaction=tx,
        notification_id=notification_id,
        kind=kind,
        url=tx.notify_url,
        body=notification_body(tx, kind, notification_id=notification_id, occurred_at=now, **extra),
        next_attempt_at=now,
    )
    transaction.on_commit(lambda: _enqueue(note.pk))
    return note


def _enqueue(notification_pk: int) -> None:
    from siyu.payments.tasks import send_sandbox_notification

    try:
        send_sandbox_notification.enqueue(notification_pk)
    except Exception:  # the sweep sends it anyway
        logger.exception("sandbox: could not enqueue notification %s", notification_pk)


def signed_headers(note: SandboxNotification, timestamp: int | None = None) -> dict[str, str]:
    """The request headers of one attempt: each attempt is signed afresh (a new ``t``)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        NOTIFICATION_HEADER: note.notification_id,
        signing.SIGNATURE_HEADER: signing.sign(
            note.body.encode("utf-8"), settings.SANDBOX_GATEWAY_KEY, stamp
        ),
    }


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST once, without following redirects; a timeout or refused connection is an error."""
    try:
        with httpx.Client(follow_redirects=False, timeout=TIMEOUT_SECONDS, trust_env=False) as c:
            response = c.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:300])
    return Answer(response.status_code, "" if response.is_success else response.text[:300])


def claim(notification_pk: int, now: datetime | None = None) -> bool:
    """Take a due notification for one attempt (one conditional UPDATE: one sender wins)."""
    now = now or clock.now()
    return bool(
        SandboxNotification.unscoped.filter(
            pk=notification_pk, status=NoteStatus.PENDING, next_attempt_at__lte=now
        ).update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
        )
    )


def send(notification_pk: int) -> str | None:
    """Claim and send one attempt; record the answer. None when it was not due or not ours."""
    if not claim(notification_pk):
        return None
    note = SandboxNotification.unscoped.get(pk=notification_pk)
    # no transaction is open here: the merchant's handler may take as long as it needs
    answer = post(note.url, note.body.encode("utf-8"), signed_headers(note))
    now = clock.now()
    changes: dict[str, Any] = {"last_status_code": answer.status, "last_error": answer.error}
    if answer.ok:
        changes.update(status=NoteStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif note.attempts >= MAX_ATTEMPTS:
        changes.update(status=NoteStatus.FAILED, next_attempt_at=None)
        logger.warning("sandbox: gave up notification %s after %d attempts", note.pk, note.attempts)
    else:
        delay = backoff_seconds(note.attempts, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS)
        changes["next_attempt_at"] = now + timedelta(seconds=delay)
    SandboxNotification.unscoped.filter(pk=note.pk, status=NoteStatus.PENDING).update(**changes)
    return str(changes.get("status", NoteStatus.PENDING))


def due(limit: int = SWEEP_BATCH, now: datetime | None = None) -> list[int]:
    """Notifications whose next attempt is due, oldest first."""
    return list(
        SandboxNotification.unscoped.filter(
            status=NoteStatus.PENDING, next_attempt_at__lte=now or clock.now()
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
