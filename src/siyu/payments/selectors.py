"""Reads of payments and refunds shared by the console pages and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from siyu.orders.models import Order, OrderLine
from siyu.payments import gateways
from siyu.payments.models import Payment, PaymentNotification, Refund, RefundLine

REFUND_SOURCES = ("staff", "customer", "automatic")


def _start_of(day: date) -> datetime:
    """Midnight of ``day`` in the current time zone (the merchant's, in a request)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def payments(
    *,
    status: str = "",
    gateway: str = "",
    since: date | None = None,
    until: date | None = None,
    order_id: int | None = None,
) -> QuerySet[Payment]:
    qs = Payment.objects.select_related("order").order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if gateway:
        qs = qs.filter(gateway=gateway)
    if since is not None:
        qs = qs.filter(created_at__gte=_start_of(since))
    if until is not None:
        qs = qs.filter(created_at__lt=_start_of(until + timedelta(days=1)))
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    return qs


def refund_lines() -> Prefetch:
    return Prefetch(
        "lines",
        queryset=RefundLine.objects.select_related("order_line").order_by("id"),
    )


def refunds(
    *,
    status: str = "",
    source: str = "",
    since: date | None = None,
    until: date | None = None,
    order_id: int | None = None,
) -> QuerySet[Refund]:
    qs = (
        Refund.objects.select_related("order", "payment")
        .prefetch_related(refund_lines())
        .order_by("-created_at", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    if source == "customer":
        qs = qs.filter(requested_by_customer=True)
    elif source == "automatic":
        qs = qs.filter(automatic=True)
    elif source == "staff":
        qs = qs.filter(requested_by_customer=False, automatic=False)
    if since is not None:
        qs = qs.filter(created_at__gte=_start_of(since))
    if until is not None:
        qs = qs.filter(created_at__lt=_start_of(until + timedelta(days=1)))
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    return qs


def payment_with_history(payment_id: int) -> Payment | None:
    return (
        Payment.objects.select_related("order")
        .prefetch_related(
            Prefetch(
                "notifications",
                queryset=PaymentNotification.objects.order_by("received_at", "id"),
            ),
            Prefetch(
                "refunds",
                queryset=Refund.objects.prefetch_related(refund_lines()).order_by(
                    "created_at", "id"
                ),
            ),
        )
        .filter(pk=payment_id)
        .first()
    )


def refund_with_lines(refund_id: int) -> Refund | None:
    return refunds().filter(pk=refund_id).first()


@dataclass
class RefundableLine:
    line: OrderLine
    refundable_quantity: int
    unit_amount: int


@dataclass
class OrderPanel:
    """What the order page's payments panel shows."""

    order: Order
    payments: list[Payment]
    refunds: list[Refund]
    lines: list[RefundableLine] = field(default_factory=list)
    refundable_amount: int = 0
    can_refund: bool = False
    has_sandbox: bool = False
    pending_request: Refund | None = None

    @property
    def refundable(self) -> bool:
        return self.can_refund and self.refundable_amount > 0


def order_panel(order: Order, actor: Any) -> OrderPanel:
    from siyu.core.permissions import Perm
    from siyu.payments.services import refundable

    payments_ = list(Payment.objects.filter(order_id=order.pk).order_by("created_at", "id"))
    refunds_ = list(refunds(order_id=order.pk).order_by("created_at", "id"))
    panel = OrderPanel(
        order=order,
        payments=payments_,
        refunds=refunds_,
        can_refund=actor is not None and actor.can(Perm.ORDERS_REFUND),
        has_sandbox=any(gateways.is_sandbox(p.gateway) for p in payments_),
        pending_request=next((r for r in refunds_ if r.status == Refund.Status.REQUESTED), None),
    )
    paying = next((p for p in payments_ if p.paid_order), None)
    if paying is not None:
        left = refundable(order, paying)
        panel.refundable_amount = left.amount
        by_id = {line.pk: line for line in OrderLine.objects.filter(order_id=order.pk)}
        panel.lines = [
            RefundableLine(by_id[state.line_id], state.refundable_quantity, state.unit_amount)
            for state in left.lines.values()
            if state.line_id in by_id
        ]
    return panel
