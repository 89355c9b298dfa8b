"""Payments and refunds: every change goes through these functions.

The rules they keep:

* **Idempotent notifications.** ``handle_notification`` verifies the provider's
  signature, then in one transaction records the notification — unique per
  (gateway, notification id), so a repeat finds it and answers success without
  doing anything — locks the payment, checks amount and currency, and moves the
  payment and the order. Ten deliveries of one notification move the order once.
* **No provider call under a lock.** ``start_payment`` commits its ``Payment``
  before asking the provider; refunds are written ``processing`` in one
  transaction and sent to the provider after it commits (``execute_refund``),
  then recorded in another. A refund is asked of the provider under its own
  number, so asking again after a crash or a failure refunds once.
* **Never more than paid.** Refunds in flight and done count against the
  payment's amount and each line's units and money (``allocation``), under the
  payment's row lock.
* **Late money goes back.** A payment that arrives for an order cancelled
  meanwhile (or already paid by another payment) is refunded automatically.

Lock order: payment → refund → order (the orders app locks the order itself).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events, ids
from siyu.core.actors import Actor
from siyu.core.backoff import backoff_seconds
from siyu.core.errors import Conflict, DomainError, InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.money import format_amount
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant, merchant_context
from siyu.customers.models import Customer
from siyu.orders import services as order_services
from siyu.orders.errors import OrderAlreadyPaid, OrderCancelled, PaymentNotApplied
from siyu.orders.models import Order, OrderLine
from siyu.payments import allocation
from siyu.payments import events as payment_events
from siyu.payments.gateways import UnknownGateway
from siyu.payments.gateways import gateway as get_gateway
from siyu.payments.gateways.base import (
    Acknowledgement,
    GatewayError,
    InvalidNotification,
    Notification,
    NotificationKind,
    RefundResult,
)
from siyu.payments.models import Payment, PaymentNotification, Refund, RefundLine

logger = logging.getLogger(__name__)

NOTIFY_PATH = "/api/v1/payments/notify/{gateway}"
SYSTEM_LABEL = "Siyu payments"
REASON_MAX = 200
REFUND_CLAIM = timedelta(minutes=2)  # an attempt holds its refund this long
MAX_REFUND_ATTEMPTS = 8
REFUND_RETRY_BASE_SECONDS = 60.0
REFUND_RETRY_CAP_SECONDS = 6 * 3600.0
PROVIDER_PROCESSING_RECHECK = timedelta(minutes=10)

PaymentStatus = Payment.Status
RefundStatus = Refund.Status
HELD = (RefundStatus.PROCESSING, RefundStatus.SUCCEEDED)  # refunds that count against the payment


# --- errors ---------------------------------------------------------------------------


class NotificationRefused(DomainError):
    """A notification that is not signed right or cannot be read (HTTP 400, no details)."""

    code = "invalid_notification"
    status = 400


class UnknownPayment(NotFound):
    """A verified notification about a payment Siyu does not know."""

    code = "unknown_payment"


class AmountMismatch(Conflict):
    """A notification whose amount or currency differs from the payment's: refused."""

    code = "amount_mismatch"


class ProviderUnavailable(DomainError):
    """The payment provider could not be reached or refused the request (HTTP 502)."""

    code = "provider_unavailable"
    status = 502


# --- small helpers --------------------------------------------------------------------


def _system(merchant: Merchant, label: str = SYSTEM_LABEL) -> Actor:
    return Actor.system(merchant, label=label)


def notify_url(gateway_code: str) -> str:
    """Where a gateway sends its notifications: built from ``settings.PUBLIC_URL``."""
    return settings.PUBLIC_URL + NOTIFY_PATH.format(gateway=gateway_code)


def _return_url(raw: str) -> str:
    """A path on this site, or an absolute URL under ``PUBLIC_URL`` (never another site)."""
    value = (raw or "").strip()
    if len(value) <= 400:
        if value.startswith("/") and not value.startswith("//") and "\\" not in value:
            return value
        public = urlsplit(settings.PUBLIC_URL)
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and (parts.scheme, parts.netloc) == (
            public.scheme,
            public.netloc,
        ):
            return value
    raise InvalidInput(
        _("The return address is not valid."),
        fields={"return_url": _("Give a path on this site, such as /s/shop/orders/1/.")},
    )


def _reason(raw: str, field: str = "reason") -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(_("Give a reason."), fields={field: _("Give a reason.")})
    if len(value) > REASON_MAX:
        raise InvalidInput(
            _("The reason is too long."),
            fields={field: _("At most %(n)d characters.") % {"n": REASON_MAX}},
        )
    return value


def _new_number(prefix: str) -> str:
    return f"{prefix}{clock.now():%Y%m%d}{ids.short_code(12)}"


def _payment_snapshot(payment: Payment) -> dict[str, Any]:
    return audit.snapshot(
        payment, ["status", "amount", "refunded_total", "provider_reference", "paid_order"]
    )


def _refund_snapshot(refund: Refund) -> dict[str, Any]:
    data = audit.snapshot(
        refund, ["number", "status", "amount", "reason", "restock", "full", "failure_reason"]
    )
    data["lines"] = [
        [line.order_line_id, line.quantity, line.amount] for line in refund.lines.order_by("id")
    ]
    return data


# --- starting a payment -------------------------------------------------------------


def start_payment(order: Order, *, gateway: str = "sandbox", return_url: str) -> Payment:
    """Open (or reuse) the payment of ``order`` through ``gateway``; the answer has its pay URL.

    The order must wait for payment and be within its deadline. An open payment of
    the same gateway is reused (one per order and gateway, a unique constraint).
    The provider is asked only after the ``Payment`` row is written, with no row
    lock held; call this outside a transaction so the row is committed first.
    """
    adapter = get_gateway(gateway)
    back = _return_url(return_url)
    now = clock.now()
    with transaction.atomic():
        current = Order.objects.filter(pk=order.pk).first()
        if current is None:
            raise NotFound(_("Order not found."))
        if current.status != Order.Status.PENDING_PAYMENT:
            raise Conflict(
                _("This order is not waiting for payment."),
                fields={"order": _("This order is not waiting for payment.")},
                code="not_payable",
            )
        if current.payment_deadline is not None and current.payment_deadline <= now:
            raise Conflict(
                _("The time to pay this order has passed."),
                fields={"order": _("The time to pay this order has passed.")},
                code="payment_deadline_passed",
            )
        payment = Payment.objects.filter(
            order=current, gateway=gateway, status=PaymentStatus.PENDING
        ).first()
        if payment is None:
            try:
                with transaction.atomic():
                    payment = Payment.objects.create(
                        order=current,
                        gateway=gateway,
                        out_trade_no=_new_number("P"),
                        amount=current.total,
                        currency=current.currency,
                        expires_at=current.payment_deadline,
                    )
            except IntegrityError:  # another request opened it a moment ago
                payment = Payment.objects.get(
                    order=current, gateway=gateway, status=PaymentStatus.PENDING
                )
    if payment.pay_url:
        return payment
    absolute_back = settings.PUBLIC_URL + back if back.startswith("/") else back
    try:
        intent = adapter.create_payment(
            payment, notify_url=notify_url(gateway), return_url=absolute_back
        )
    except GatewayError as exc:
        logger.warning("payments: %s could not open %s: %s", gateway, payment.out_trade_no, exc)
        raise ProviderUnavailable(_("The payment provider is not available; try again.")) from exc
    opened = Payment.objects.filter(pk=payment.pk, pay_url="").update(
        pay_url=intent.pay_url, provider_reference=intent.provider_reference
    )
    if opened:
        payment.pay_url = intent.pay_url
        payment.provider_reference = intent.provider_reference
    else:  # a concurrent request opened it first: answer what it stored
        payment.refresh_from_db()
    return payment


# --- notifications --------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationOutcome:
    gateway: str
    kind: str
    notification_id: str
    result: str  # "processed", "duplicate" or "ignored"
    message: str
    payment_id: int | None
    refund_id: int | None
    acknowledgement: Acknowledgement

    @property
    def duplicate(self) -> bool:
        return self.result == "duplicate"


def handle_notification(
    gateway_code: str, headers: Mapping[str, str], body: bytes
) -> NotificationOutcome:
    """Verify, record once and apply a provider's notification.

    Raises NotificationRefused (bad signature, stale timestamp, unreadable body),
    UnknownPayment, AmountMismatch: each leaves nothing changed and is logged.
    A notification seen before answers success and changes nothing.
    """
    try:
        adapter = get_gateway(gateway_code)
    except UnknownGateway as exc:
        logger.warning("payments: notification for unknown gateway %r refused", gateway_code)
        raise NotFound(_("Unknown gateway.")) from exc
    try:
        note = adapter.parse_notification(headers, body)
    except InvalidNotification as exc:
        logger.warning("payments: refused a %s notification: %s", gateway_code, exc.reason)
        if exc.signature:
            raise NotificationRefused(
                _("The signature is missing, wrong or too old."), code="invalid_signature"
            ) from exc
        raise NotificationRefused(_("The notification cannot be read.")) from exc
    payment = (
        Payment.unscoped.select_related("merchant")
        .filter(gateway=gateway_code, out_trade_no=note.out_trade_no)
        .first()
    )
    if payment is None:
        logger.warning(
            "payments: %s notification %s names unknown out_trade_no %r",
            gateway_code,
            note.notification_id,
            note.out_trade_no,
        )
        raise UnknownPayment(_("No payment has this number."))
    with merchant_context(payment.merchant):
        return _apply_notification(adapter.code, adapter.acknowledgement, payment.pk, note)


def _apply_notification(
    gateway_code: str, ack: Acknowledgement, payment_pk: int, note: Notification
) -> NotificationOutcome:
    def outcome(result: str, message: str, refund_id: int | None = None) -> NotificationOutcome:
        return NotificationOutcome(
            gateway_code,
            note.kind,
            note.notification_id,
            result,
            message,
            payment_pk,
            refund_id,
            ack,
        )

    with transaction.atomic():
        try:
            with transaction.atomic():
                record = PaymentNotification.objects.create(
                    gateway=gateway_code,
                    notification_id=note.notification_id,
                    payment_id=payment_pk,
                    kind=note.kind,
                    payload=dict(note.raw),
                )
        except IntegrityError:
            return outcome("duplicate", "seen before: nothing changed")
        payment = Payment.objects.select_for_update().get(pk=payment_pk)
        payment.merchant = current_merchant()  # bound by the caller: saves reading it again
        refund_id: int | None = None
        if note.kind == NotificationKind.PAYMENT_SUCCEEDED:
            result, message, refund_id = _payment_succeeded(payment, note)
        elif note.kind == NotificationKind.PAYMENT_FAILED:
            result, message = _payment_failed(payment, note)
        else:
            result, message, refund_id = _refund_succeeded(payment, note)
        record.outcome = message[:200]
        record.refund_id = refund_id
        record.save(update_fields=["outcome", "refund"])
    return outcome(result, message, refund_id)


def _check_amount(payment: Payment, note: Notification, expected: int) -> None:
    if note.amount != expected or note.currency != payment.currency:
        logger.error(
            "payments: %s notification %s for %s says %d %s, expected %d %s: refused",
            payment.gateway,
            note.notification_id,
            payment.out_trade_no,
            note.amount,
            note.currency,
            expected,
            payment.currency,
        )
        raise AmountMismatch(_("The amount does not match the payment."))


def _payment_succeeded(payment: Payment, note: Notification) -> tuple[str, str, int | None]:
    _check_amount(payment, note, payment.amount)
    if payment.status == PaymentStatus.SUCCEEDED:
        return "ignored", "already paid", None
    before = _payment_snapshot(payment)
    payment.status = PaymentStatus.SUCCEEDED
    payment.provider_reference = note.provider_reference or payment.provider_reference
    payment.paid_at = note.occurred_at
    payment.failure_reason = ""
    late_reason = ""
    try:
        with transaction.atomic():
            order = order_services.mark_paid(
                payment.order_id, payment_reference=payment.out_trade_no, paid_at=note.occurred_at
            )
    except PaymentNotApplied as exc:
        order = Order.objects.get(pk=payment.order_id)
        if isinstance(exc, OrderCancelled):
            late_reason = _("The order was cancelled before the payment arrived.")
        elif isinstance(exc, OrderAlreadyPaid):
            late_reason = _("The order was already paid by another payment.")
        else:
            late_reason = _("The order could not take the payment: its stock was sold.")
    payment.paid_order = not late_reason
    payment.save(
        update_fields=[
            "status",
            "provider_reference",
            "paid_at",
            "failure_reason",
            "paid_order",
            "updated_at",
        ]
    )
    system = _system(payment.merchant)
    audit.record(
        system,
        "payments.payment.succeeded",
        payment,
        before=before,
        after=_payment_snapshot(payment),
    )
    events.emit(
        payment.merchant,
        payment_events.PAYMENT_SUCCEEDED,
        {
            "payment": payment.out_trade_no,
            "order": order.number,
            "order_id": order.pk,
            "gateway": payment.gateway,
            "amount": payment.amount,
            "currency": payment.currency,
            "paid_order": payment.paid_order,
        },
        aggregate=payment,
    )
    if not late_reason:
        return "processed", "paid: the order is paid", None
    refund = _automatic_refund(payment, late_reason)
    logger.warning(
        "payments: %s arrived for order %s which does not take it (%s): refunding automatically",
        payment.out_trade_no,
        order.number,
        late_reason,
    )
    return "processed", f"paid, refunding automatically: {late_reason}", refund.pk


def _automatic_refund(payment: Payment, reason: str) -> Refund:
    """Give back a payment the order cannot take; sent to the provider after commit."""
    refund = Refund.objects.create(
        order_id=payment.order_id,
        payment=payment,
        number=_new_number("R"),
        amount=payment.amount - payment.refunded_total,
        currency=payment.currency,
        reason=reason[:REASON_MAX],
        status=RefundStatus.PROCESSING,
        restock=False,
        full=True,
        automatic=True,
        actor_label=SYSTEM_LABEL,
        next_attempt_at=clock.now(),
    )
    audit.record(
        _system(payment.merchant),
        "payments.refund.automatic",
        refund,
        after=_refund_snapshot(refund),
    )
    refund_pk = refund.pk
    transaction.on_commit(lambda: _enqueue_refund(refund_pk), robust=True)
    return refund


def _enqueue_refund(refund_pk: int) -> None:
    from siyu.payments.tasks import process_refund

    process_refund.enqueue(refund_pk)


def _payment_failed(payment: Payment, note: Notification) -> tuple[str, str]:
    if payment.status != PaymentStatus.PENDING:
        return "ignored", f"the payment is already {payment.status}"
    before = _payment_snapshot(payment)
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = (note.failure_reason or "failed at the provider")[:200]
    payment.save(update_fields=["status", "failure_reason", "updated_at"])
    audit.record(
        _system(payment.merchant),
        "payments.payment.failed",
        payment,
        before=before,
        after=_payment_snapshot(payment),
    )
    events.emit(
        payment.merchant,
        payment_events.PAYMENT_FAILED,
        {
            "payment": payment.out_trade_no,
            "order_id": payment.order_id,
            "gateway": payment.gateway,
            "reason": payment.failure_reason,
        },
        aggregate=payment,
    )
    return "processed", "failed: the order still waits for payment"


def _refund_succeeded(payment: Payment, note: Notification) -> tuple[str, str, int | None]:
    refund = (
        Refund.objects.select_for_update()
        .filter(payment=payment, number=note.refund_number)
        .first()
    )
    if refund is None:
        logger.warning(
            "payments: %s reports refund %r of %s that Siyu did not ask for",
            payment.gateway,
            note.refund_number,
            payment.out_trade_no,
        )
        return "ignored", "unknown refund number", None
    _check_amount(payment, note, refund.amount)
    message = _complete_refund(payment, refund, note.refund_reference)
    return ("ignored" if message == "already refunded" else "processed"), message, refund.pk


# --- refunds ------------------------------------------------------------------------


def _paying_payment(order: Order) -> Payment:
    """The payment that paid ``order``, locked; Conflict when the order was not paid."""
    found = Payment.objects.filter(order_id=order.pk, paid_order=True).values_list("pk", flat=True)
    payment_pk = found.first()
    if payment_pk is None:
        raise Conflict(
            _("This order has not been paid."),
            fields={"order": _("This order has not been paid.")},
            code="not_paid",
        )
    return Payment.objects.select_for_update().get(pk=payment_pk)


@dataclass(frozen=True)
class Refundable:
    """What is left to refund of an order's payment: per line, and in money."""

    lines: dict[int, allocation.LineState]
    amount: int


def refundable(order: Order, payment: Payment, *, exclude: Refund | None = None) -> Refundable:
    """Units and money not yet refunded nor being refunded (``exclude``: a request being decided)."""
    held_lines = RefundLine.objects.filter(refund__order_id=order.pk, refund__status__in=HELD)
    held_refunds = Refund.objects.filter(payment=payment, status__in=HELD)
    if exclude is not None:
        held_lines = held_lines.exclude(refund_id=exclude.pk)
        held_refunds = held_refunds.exclude(pk=exclude.pk)
    held = {
        row["order_line_id"]: (row["units"], row["money"])
        for row in held_lines.values("order_line_id").annotate(
            units=Sum("quantity"), money=Sum("amount")
        )
    }
    lines: dict[int, allocation.LineState] = {}
    for line in OrderLine.objects.filter(order_id=order.pk).order_by("id"):
        units, money = held.get(line.pk, (0, 0))
        lines[line.pk] = allocation.LineState(
            line.pk,
            line.quantity,
            line.line_total,
            max(units, line.refunded_quantity),
            max(money, line.refunded_amount),
        )
    taken = held_refunds.aggregate(total=Sum("amount"))["total"] or 0
    return Refundable(lines, max(0, payment.amount - max(taken, payment.refunded_total)))


def _plan(
    left: Refundable,
    *,
    lines: Sequence[tuple[int, int]] | None,
    amount: int | None,
) -> tuple[list[allocation.LineRefund], int, bool]:
    """The line refunds, the amount and whether it is a full refund; InvalidInput if too much."""
    if lines is not None and amount is not None:
        raise InvalidInput(
            _("Refund either lines or an amount, not both."),
            fields={"amount": _("Refund either lines or an amount, not both.")},
        )
    if left.amount <= 0:
        raise Conflict(
            _("Nothing is left to refund on this order."),
            fields={"order": _("Nothing is left to refund on this order.")},
            code="fully_refunded",
        )
    most = format_amount(left.amount)
    if amount is not None:
        if amount < 1:
            raise InvalidInput(
                _("The amount must be at least ¥0.01."),
                fields={"amount": _("The amount must be at least ¥0.01.")},
            )
        if amount > left.amount:
            raise InvalidInput(
                _("That is more than was paid."),
                fields={"amount": _("At most %(amount)s is left to refund.") % {"amount": most}},
            )
        return [], amount, False
    if lines is None:
        everything = allocation.cap(allocation.everything_left(left.lines.values()), left.amount)
        return everything, left.amount, True
    chosen = allocation.allocate(left.lines, lines)
    total = allocation.total(chosen)
    if total > left.amount:
        raise InvalidInput(
            _("That is more than was paid."),
            fields={"lines": _("At most %(amount)s is left to refund.") % {"amount": most}},
        )
    return chosen, total, False


def _write_refund(
    order: Order,
    payment: Payment,
    *,
    plan: tuple[list[allocation.LineRefund], int, bool],
    reason: str,
    restock: bool,
    status: str,
    actor_label: str,
    requested_by_customer: bool = False,
) -> Refund:
    line_refunds, amount, full = plan
    refund = Refund.objects.create(
        order_id=order.pk,
        payment=payment,
        number=_new_number("R"),
        amount=amount,
        currency=payment.currency,
        reason=reason,
        status=status,
        restock=restock and bool(line_refunds),
        full=full,
        requested_by_customer=requested_by_customer,
        actor_label=actor_label[:150],
        next_attempt_at=clock.now() if status == RefundStatus.PROCESSING else None,
    )
    RefundLine.objects.bulk_create(
        [
            RefundLine(
                merchant_id=refund.merchant_id,
                refund=refund,
                order_line_id=item.line_id,
                quantity=item.quantity,
                amount=item.amount,
            )
            for item in line_refunds
        ]
    )
    return refund


def _send_after_commit(refund_pk: int) -> None:
    """Ask the provider once the refund is committed (at once when no transaction is open)."""
    transaction.on_commit(lambda: execute_refund(refund_pk), robust=True)


def refund(
    actor: Actor,
    order: Order,
    *,
    lines: Sequence[tuple[int, int]] | None = None,
    amount: int | None = None,
    reason: str,
    restock: bool = True,
) -> Refund:
    """Refund ``order``: everything left (no lines, no amount), some lines, or an amount.

    Lines are (order line id, quantity); their money is the paid price of those
    units (``allocation``). An amount-only refund never restocks. The provider
    is asked after commit; the answer is the refund as it stands then
    (``succeeded`` when the provider answered at once, else ``processing``).
    """
    actor.require(Perm.ORDERS_REFUND)
    text = _reason(reason)
    with transaction.atomic():
        payment = _paying_payment(order)
        plan = _plan(refundable(order, payment), lines=lines, amount=amount)
        made = _write_refund(
            order,
            payment,
            plan=plan,
            reason=text,
            restock=restock and amount is None,
            status=RefundStatus.PROCESSING,
            actor_label=actor.label,
        )
        audit.record(actor, "payments.refund.created", made, after=_refund_snapshot(made))
        _send_after_commit(made.pk)
    made.refresh_from_db()
    return made


def request_refund(
    customer: Customer,
    order: Order,
    *,
    lines: Sequence[tuple[int, int]] | None,
    reason: str,
) -> Refund:
    """A customer asks for a refund of a paid order (some lines, or everything: ``lines=None``).

    The request waits for staff (``approve_refund`` / ``reject_refund``); one
    open request per order at a time.
    """
    if order.customer_id != customer.pk or order.merchant_id != customer.merchant_id:
        raise NotFound(_("Order not found."))
    text = _reason(reason)
    with transaction.atomic():
        payment = _paying_payment(order)
        if Refund.objects.filter(order_id=order.pk, status=RefundStatus.REQUESTED).exists():
            raise Conflict(
                _("A refund request for this order is already waiting for an answer."),
                fields={"order": _("A refund request for this order is already waiting.")},
                code="refund_already_requested",
            )
        plan = _plan(refundable(order, payment), lines=lines, amount=None)
        label = f"customer {customer.phone}"
        made = _write_refund(
            order,
            payment,
            plan=plan,
            reason=text,
            restock=True,
            status=RefundStatus.REQUESTED,
            actor_label=label,
            requested_by_customer=True,
        )
        audit.record(
            _system(order.merchant, label),
            "payments.refund.requested",
            made,
            after=_refund_snapshot(made),
        )
        events.emit(
            order.merchant,
            payment_events.REFUND_REQUESTED,
            {
                "refund": made.number,
                "order": order.number,
                "order_id": order.pk,
                "amount": made.amount,
                "currency": made.currency,
                "reason": made.reason,
            },
            aggregate=made,
        )
    return made


def _locked_request(refund_obj: Refund) -> tuple[Payment, Refund]:
    current = Refund.objects.filter(pk=refund_obj.pk).values_list("payment_id", flat=True).first()
    if current is None:
        raise NotFound(_("Refund not found."))
    payment = Payment.objects.select_for_update().get(pk=current)
    locked = Refund.objects.select_for_update().get(pk=refund_obj.pk)
    if locked.status != RefundStatus.REQUESTED:
        raise Conflict(
            _("This refund is not waiting for a decision."),
            fields={"refund": _("This refund is not waiting for a decision.")},
            code="not_requested",
        )
    return payment, locked


def approve_refund(actor: Actor, refund: Refund, *, restock: bool | None = None) -> Refund:
    """Accept a customer's request: its lines are checked again, then refunded through the gateway."""
    actor.require(Perm.ORDERS_REFUND)
    with transaction.atomic():
        payment, locked = _locked_request(refund)
        order = Order.objects.get(pk=locked.order_id)
        before = _refund_snapshot(locked)
        requested = [(line.order_line_id, line.quantity) for line in locked.lines.order_by("id")]
        left = refundable(order, payment, exclude=locked)
        line_refunds, amount, full = _plan(
            left, lines=None if locked.full else requested, amount=None
        )
        locked.lines.all().delete()
        RefundLine.objects.bulk_create(
            [
                RefundLine(
                    merchant_id=locked.merchant_id,
                    refund=locked,
                    order_line_id=item.line_id,
                    quantity=item.quantity,
                    amount=item.amount,
                )
                for item in line_refunds
            ]
        )
        locked.amount = amount
        locked.full = full
        if restock is not None:
            locked.restock = restock and bool(line_refunds)
        locked.status = RefundStatus.PROCESSING
        locked.decided_by = actor.label[:150]
        locked.next_attempt_at = clock.now()
        locked.save()
        audit.record(
            actor, "payments.refund.approved", locked, before=before, after=_refund_snapshot(locked)
        )
        _send_after_commit(locked.pk)
    locked.refresh_from_db()
    return locked


def reject_refund(actor: Actor, refund: Refund, reason: str) -> Refund:
    """Turn down a customer's request, saying why (the customer sees the reason)."""
    actor.require(Perm.ORDERS_REFUND)
    text = _reason(reason)
    with transaction.atomic():
        _payment, locked = _locked_request(refund)
        before = _refund_snapshot(locked)
        locked.status = RefundStatus.REJECTED
        locked.decided_by = actor.label[:150]
        locked.decision_note = text
        locked.completed_at = clock.now()
        locked.save(
            update_fields=["status", "decided_by", "decision_note", "completed_at", "updated_at"]
        )
        audit.record(
            actor, "payments.refund.rejected", locked, before=before, after=_refund_snapshot(locked)
        )
        events.emit(
            locked.merchant,
            payment_events.REFUND_REJECTED,
            {"refund": locked.number, "order_id": locked.order_id, "reason": text},
            aggregate=locked,
        )
    return locked


def retry_refund(actor: Actor, refund: Refund) -> Refund:
    """Ask the provider again for a failed refund (under the same number: it refunds once)."""
    actor.require(Perm.ORDERS_REFUND)
    with transaction.atomic():
        payment_pk = (
            Refund.objects.filter(pk=refund.pk).values_list("payment_id", flat=True).first()
        )
        if payment_pk is None:
            raise NotFound(_("Refund not found."))
        payment = Payment.objects.select_for_update().get(pk=payment_pk)
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.FAILED:
            raise Conflict(
                _("Only a failed refund can be retried."),
                fields={"refund": _("Only a failed refund can be retried.")},
                code="not_failed",
            )
        order = Order.objects.get(pk=locked.order_id)
        if locked.amount > refundable(order, payment, exclude=locked).amount:
            raise Conflict(
                _("Less than this refund is left to refund; issue a new one."),
                fields={"refund": _("Less than this refund is left to refund.")},
                code="fully_refunded",
            )
        before = _refund_snapshot(locked)
        locked.status = RefundStatus.PROCESSING
        locked.next_attempt_at = clock.now()
        locked.attempts = 0
        locked.save(update_fields=["status", "next_attempt_at", "attempts", "updated_at"])
        audit.record(
            actor, "payments.refund.retried", locked, before=before, after=_refund_snapshot(locked)
        )
        _send_after_commit(locked.pk)
    locked.refresh_from_db()
    return locked


def execute_refund(refund_pk: int) -> str | None:
    """Claim a processing refund, ask its provider, record the answer. Runs with no lock held.

    None when the refund is not due or another worker has it. Safe to repeat:
    the provider refunds at most once per refund number.
    """
    now = clock.now()
    claimed = Refund.unscoped.filter(
        pk=refund_pk, status=RefundStatus.PROCESSING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + REFUND_CLAIM, attempts=F("attempts") + 1)
    if not claimed:
        return None
    found = Refund.unscoped.select_related("merchant", "payment").get(pk=refund_pk)
    payment_pk = found.payment_id
    if found.payment is None or payment_pk is None:  # only a customer's request lacks one
        Refund.unscoped.filter(pk=refund_pk).update(
            status=RefundStatus.FAILED, failure_reason="no payment to refund", next_attempt_at=None
        )
        return RefundStatus.FAILED
    with merchant_context(found.merchant):
        try:
            adapter = get_gateway(found.payment.gateway)
            result = adapter.refund(found)
        except (GatewayError, UnknownGateway) as exc:
            result = RefundResult(
                RefundResult.FAILED, failure_reason=str(exc) or type(exc).__name__, retryable=True
            )
        with transaction.atomic():
            payment = Payment.objects.select_for_update().get(pk=payment_pk)
            locked = Refund.objects.select_for_update().get(pk=refund_pk)
            if result.status == RefundResult.SUCCEEDED:
                _complete_refund(payment, locked, result.provider_reference)
            elif result.status == RefundResult.PROCESSING:
                _still_processing(locked, result)
            else:
                _refund_failed(locked, result)
            return locked.status


def _complete_refund(payment: Payment, refund_obj: Refund, provider_reference: str) -> str:
    """Record a refund the provider made (payment and refund locked by the caller)."""
    if refund_obj.status == RefundStatus.SUCCEEDED:
        return "already refunded"
    if refund_obj.status not in (RefundStatus.PROCESSING, RefundStatus.FAILED):
        logger.error(
            "payments: provider refunded %s in state %s", refund_obj.number, refund_obj.status
        )
    before = _refund_snapshot(refund_obj)
    refund_obj.status = RefundStatus.SUCCEEDED
    refund_obj.provider_reference = provider_reference or refund_obj.provider_reference
    refund_obj.failure_reason = ""
    refund_obj.next_attempt_at = None
    refund_obj.completed_at = clock.now()
    refund_obj.save(
        update_fields=[
            "status",
            "provider_reference",
            "failure_reason",
            "next_attempt_at",
            "completed_at",
            "updated_at",
        ]
    )
    payment.refunded_total = F("refunded_total") + refund_obj.amount
    payment.save(update_fields=["refunded_total", "updated_at"])
    payment.refresh_from_db(fields=["refunded_total"])
    lines = [
        (line.order_line_id, line.quantity, line.amount) for line in refund_obj.lines.order_by("id")
    ]
    order = Order.objects.get(pk=refund_obj.order_id)
    if payment.paid_order:
        order_services.apply_refund(
            order,
            lines=lines,
            amount=refund_obj.amount,
            restock=refund_obj.restock,
            reference=f"refund:{refund_obj.number}",
        )
    audit.record(
        _system(payment.merchant),
        "payments.refund.succeeded",
        refund_obj,
        before=before,
        after=_refund_snapshot(refund_obj),
    )
    events.emit(
        payment.merchant,
        payment_events.REFUND_SUCCEEDED,
        {
            "refund": refund_obj.number,
            "order": order.number,
            "order_id": order.pk,
            "payment": payment.out_trade_no,
            "amount": refund_obj.amount,
            "currency": refund_obj.currency,
            "lines": [
                {"order_line_id": line_id, "quantity": quantity, "amount": money}
                for line_id, quantity, money in lines
            ],
            "restock": refund_obj.restock,
            "automatic": refund_obj.automatic,
            "requested_by_customer": refund_obj.requested_by_customer,
        },
        aggregate=refund_obj,
    )
    return "refunded"


def _still_processing(refund_obj: Refund, result: RefundResult) -> None:
    """The provider accepted the refund and will confirm it; ask again later if it does not."""
    if refund_obj.status != RefundStatus.PROCESSING:
        return
    refund_obj.provider_reference = result.provider_reference or refund_obj.provider_reference
    refund_obj.next_attempt_at = clock.now() + PROVIDER_PROCESSING_RECHECK
    refund_obj.save(update_fields=["provider_reference", "next_attempt_at", "updated_at"])


def _refund_failed(refund_obj: Refund, result: RefundResult) -> None:
    """Record why; a retryable failure is asked again later, up to MAX_REFUND_ATTEMPTS."""
    if refund_obj.status != RefundStatus.PROCESSING:
        return
    reason = (result.failure_reason or "refused by the provider")[:200]
    refund_obj.failure_reason = reason
    if result.retryable and refund_obj.attempts < MAX_REFUND_ATTEMPTS:
        delay = backoff_seconds(
            refund_obj.attempts, base=REFUND_RETRY_BASE_SECONDS, cap=REFUND_RETRY_CAP_SECONDS
        )
        refund_obj.next_attempt_at = clock.now() + timedelta(seconds=delay)
        refund_obj.save(update_fields=["failure_reason", "next_attempt_at", "updated_at"])
        logger.warning("payments: refund %s failed (%s); retrying", refund_obj.number, reason)
        return
    before = _refund_snapshot(refund_obj)
    refund_obj.status = RefundStatus.FAILED
    refund_obj.next_attempt_at = None
    refund_obj.save(update_fields=["status", "failure_reason", "next_attempt_at", "updated_at"])
    logger.warning("payments: refund %s failed for good: %s", refund_obj.number, reason)
    audit.record(
        _system(refund_obj.merchant),
        "payments.refund.failed",
        refund_obj,
        before=before,
        after=_refund_snapshot(refund_obj),
    )
    events.emit(
        refund_obj.merchant,
        payment_events.REFUND_FAILED,
        {
            "refund": refund_obj.number,
            "order_id": refund_obj.order_id,
            "amount": refund_obj.amount,
            "reason": reason,
        },
        aggregate=refund_obj,
    )


def due_refunds(limit: int = 100) -> list[int]:
    """Processing refunds whose provider call is due (new, retrying, or left by a dead worker)."""
    return list(
        Refund.unscoped.filter(status=RefundStatus.PROCESSING, next_attempt_at__lte=clock.now())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


# --- asking the provider --------------------------------------------------------------


def refresh_payment(actor: Actor, payment: Payment) -> Payment:
    """Ask the provider for a pending payment's state and catch up (a lost notification)."""
    actor.require(Perm.ORDERS_VIEW)
    adapter = get_gateway(payment.gateway)
    try:
        result = adapter.query(payment)  # no transaction open: no lock held during the call
    except GatewayError as exc:
        raise ProviderUnavailable(_("The payment provider is not available; try again.")) from exc
    if result.status == PaymentStatus.SUCCEEDED and payment.status != PaymentStatus.SUCCEEDED:
        note = Notification(
            kind=NotificationKind.PAYMENT_SUCCEEDED,
            notification_id=f"query:{payment.out_trade_no}",
            out_trade_no=payment.out_trade_no,
            provider_reference=result.provider_reference,
            amount=result.amount,
            currency=result.currency,
            occurred_at=result.paid_at or clock.now(),
            raw={"source": "query", "status": result.status, "amount": result.amount},
        )
        _apply_notification(adapter.code, adapter.acknowledgement, payment.pk, note)
    elif result.status in (PaymentStatus.FAILED, PaymentStatus.CLOSED):
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if locked.status == PaymentStatus.PENDING:
                before = _payment_snapshot(locked)
                locked.status = result.status
                locked.failure_reason = _("Reported by the provider on query.")
                locked.save(update_fields=["status", "failure_reason", "updated_at"])
                audit.record(
                    actor,
                    "payments.payment.refreshed",
                    locked,
                    before=before,
                    after=_payment_snapshot(locked),
                )
    payment.refresh_from_db()
    return payment
