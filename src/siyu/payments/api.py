"""API: payments, refunds, and the endpoint payment providers send notifications to.

No ``from __future__ import annotations`` here: django-ninja resolves the
``Query[...]`` of paginated handlers at run time.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from ninja.security import APIKeyHeader

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of, get_or_404
from siyu.core.permissions import Perm
from siyu.orders.models import Order
from siyu.payments import gateways, selectors, services
from siyu.payments.models import Payment, Refund
from siyu.payments.sandbox.signing import SIGNATURE_HEADER


class ProviderSignature(APIKeyHeader):
    """The provider's signature header: checked against the raw body by the gateway adapter."""

    param_name = SIGNATURE_HEADER
    openapi_description = (
        "The payment provider signs every notification; there is no API key. The sandbox sends "
        '`Siyu-Sandbox-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`; '
        "other gateways their own header. A notification without a signature header is 401; "
        "a wrong or stale signature is 400."
    )

    def authenticate(self, request: HttpRequest, key: str | None) -> str | None:
        present = {name.lower() for name in request.headers}
        return "provider" if present & gateways.signature_headers() else None


router = Router(tags=["payments"])
notify_router = Router(tags=["payments"], auth=None)

PaymentStatus = Literal["pending", "succeeded", "failed", "closed"]
RefundStatus = Literal["requested", "processing", "succeeded", "failed", "rejected"]


class PaymentOut(Schema):
    id: int
    order_id: int
    order_number: str
    gateway: str
    out_trade_no: str = Field(description="Siyu's payment number, known to the provider.")
    provider_reference: str = Field(description="The provider's transaction id.")
    amount: int = Field(description="Fen.")
    currency: str
    status: PaymentStatus
    paid_order: bool = Field(
        description="This payment paid the order. A payment that arrived after the order was "
        "cancelled or paid otherwise is false and refunded automatically."
    )
    refunded_total: int = Field(description="Fen refunded so far.")
    failure_reason: str
    created_at: datetime
    expires_at: datetime | None
    paid_at: datetime | None

    @staticmethod
    def resolve_order_number(obj: Payment) -> str:
        return obj.order.number


class RefundLineOut(Schema):
    order_line_id: int
    product_name: str
    sku_code: str
    quantity: int
    amount: int = Field(description="Fen: this line's share of the refund.")

    @staticmethod
    def resolve_product_name(obj: Any) -> str:
        return str(obj.order_line.product_name)

    @staticmethod
    def resolve_sku_code(obj: Any) -> str:
        return str(obj.order_line.sku_code)


class RefundOut(Schema):
    id: int
    number: str = Field(description="Siyu's refund number, known to the provider.")
    order_id: int
    order_number: str
    payment_id: int | None
    amount: int = Field(description="Fen.")
    currency: str
    status: RefundStatus
    reason: str
    restock: bool
    full: bool = Field(description="Everything left of the payment, shipping included.")
    requested_by_customer: bool
    automatic: bool = Field(description="Issued by Siyu for a payment the order could not take.")
    actor_label: str
    decided_by: str
    decision_note: str = Field(description="Why a customer's request was rejected.")
    provider_reference: str
    failure_reason: str
    attempts: int
    created_at: datetime
    completed_at: datetime | None
    lines: list[RefundLineOut]

    @staticmethod
    def resolve_order_number(obj: Refund) -> str:
        return obj.order.number

    @staticmethod
    def resolve_lines(obj: Refund) -> list[Any]:
        return list(obj.lines.all())


class NotificationOut(Schema):
    notification_id: str
    kind: str
    outcome: str
    received_at: datetime


class PaymentDetailOut(PaymentOut):
    refunds: list[RefundOut]
    notifications: list[NotificationOut]

    @staticmethod
    def resolve_refunds(obj: Payment) -> list[Any]:
        return list(obj.refunds.all())

    @staticmethod
    def resolve_notifications(obj: Payment) -> list[Any]:
        return list(obj.notifications.all())


class PaymentFilter(Schema):
    status: PaymentStatus | None = None
    gateway: str = ""
    order_id: int | None = None
    since: date | None = Field(None, description="Created on or after this day.")
    until: date | None = Field(None, description="Created on or before this day.")


class RefundFilter(Schema):
    status: RefundStatus | None = None
    source: Literal["staff", "customer", "automatic"] | None = Field(
        None, description="Who started it: staff, a customer's request, or Siyu automatically."
    )
    order_id: int | None = None
    since: date | None = Field(None, description="Created on or after this day.")
    until: date | None = Field(None, description="Created on or before this day.")


class RefundLineIn(Schema):
    order_line_id: int
    quantity: int = Field(ge=1, le=100000)


class RefundIn(Schema):
    order_id: int
    lines: list[RefundLineIn] | None = Field(
        None,
        description="Units to refund per order line (restocked when `restock`). Leave out "
        "both `lines` and `amount` to refund everything left, shipping included.",
    )
    amount: int | None = Field(
        None, ge=1, description="Fen, instead of lines: an amount without restocking."
    )
    reason: str = Field(min_length=1, max_length=200)
    restock: bool = Field(True, description="Put the refunded units back in stock.")


class ApproveIn(Schema):
    restock: bool | None = Field(None, description="Override the request's restock choice.")


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class AckOut(Schema):
    code: str = Field(description="The body the provider expects, e.g. `SUCCESS`.")


def _refund(refund_id: int) -> Refund:
    found = selectors.refund_with_lines(refund_id)
    if found is None:
        raise Http404
    return found


@router.get(
    "",
    response={200: list[PaymentOut], **ERROR_RESPONSES},
    summary="Payments, newest first",
)
@paginate(Page)
def list_payments(request: HttpRequest, filters: Query[PaymentFilter]) -> Any:
    actor_of(request, Perm.ORDERS_VIEW)
    return selectors.payments(
        status=filters.status or "",
        gateway=filters.gateway,
        since=filters.since,
        until=filters.until,
        order_id=filters.order_id,
    )


@router.get(
    "/refunds",
    response={200: list[RefundOut], **ERROR_RESPONSES},
    summary="Refunds, newest first",
)
@paginate(Page)
def list_refunds(request: HttpRequest, filters: Query[RefundFilter]) -> Any:
    actor_of(request, Perm.ORDERS_VIEW)
    return selectors.refunds(
        status=filters.status or "",
        source=filters.source or "",
        since=filters.since,
        until=filters.until,
        order_id=filters.order_id,
    )


@router.post(
    "/refunds",
    response={201: RefundOut, **ERROR_RESPONSES},
    summary="Refund an order: everything, lines and quantities, or an amount",
)
def create_refund(request: HttpRequest, payload: RefundIn) -> Status:
    actor = actor_of(request, Perm.ORDERS_REFUND)
    order = get_or_404(Order.objects, pk=payload.order_id)
    made = services.refund(
        actor,
        order,
        lines=None
        if payload.lines is None
        else [(line.order_line_id, line.quantity) for line in payload.lines],
        amount=payload.amount,
        reason=payload.reason,
        restock=payload.restock,
    )
    return Status(201, _refund(made.pk))


@router.get(
    "/refunds/{refund_id}",
    response={200: RefundOut, **ERROR_RESPONSES},
    summary="One refund with its lines",
)
def get_refund(request: HttpRequest, refund_id: int) -> Refund:
    actor_of(request, Perm.ORDERS_VIEW)
    return _refund(refund_id)


@router.post(
    "/refunds/{refund_id}/approve",
    response={200: RefundOut, **ERROR_RESPONSES},
    summary="Approve a customer's refund request (refunded through the gateway)",
)
def approve_refund(
    request: HttpRequest, refund_id: int, payload: ApproveIn | None = None
) -> Refund:
    actor = actor_of(request, Perm.ORDERS_REFUND)
    restock = payload.restock if payload is not None else None
    services.approve_refund(actor, _refund(refund_id), restock=restock)
    return _refund(refund_id)


@router.post(
    "/refunds/{refund_id}/reject",
    response={200: RefundOut, **ERROR_RESPONSES},
    summary="Reject a customer's refund request, with a reason",
)
def reject_refund(request: HttpRequest, refund_id: int, payload: RejectIn) -> Refund:
    actor = actor_of(request, Perm.ORDERS_REFUND)
    services.reject_refund(actor, _refund(refund_id), payload.reason)
    return _refund(refund_id)


@router.post(
    "/refunds/{refund_id}/retry",
    response={200: RefundOut, **ERROR_RESPONSES},
    summary="Ask the gateway again for a failed refund (it refunds at most once)",
)
def retry_refund(request: HttpRequest, refund_id: int) -> Refund:
    actor = actor_of(request, Perm.ORDERS_REFUND)
    services.retry_refund(actor, _refund(refund_id))
    return _refund(refund_id)


@router.get(
    "/{payment_id}",
    response={200: PaymentDetailOut, **ERROR_RESPONSES},
    summary="One payment with its refunds and the notifications received",
)
def get_payment(request: HttpRequest, payment_id: int) -> Payment:
    actor_of(request, Perm.ORDERS_VIEW)
    payment = selectors.payment_with_history(payment_id)
    if payment is None:
        raise Http404
    return payment


@router.post(
    "/{payment_id}/query",
    response={200: PaymentOut, **ERROR_RESPONSES},
    summary="Ask the gateway for the payment's state and catch up (a lost notification)",
)
def query_payment(request: HttpRequest, payment_id: int) -> Payment:
    actor = actor_of(request, Perm.ORDERS_VIEW)
    payment = get_or_404(Payment.objects.select_related("order"), pk=payment_id)
    return services.refresh_payment(actor, payment)


@notify_router.post(
    "/{gateway}",
    auth=ProviderSignature(),
    response={200: AckOut, **ERROR_RESPONSES},
    summary="A payment provider's notification (signed by the provider, not an API key)",
    description=(
        "Payment providers POST payment and refund results here. The signature over the raw "
        "body authenticates the request; a notification seen before answers success again "
        "and changes nothing. See docs/payments.md for the sandbox's format."
    ),
)
def notify(request: HttpRequest, gateway: str) -> HttpResponse:
    outcome = services.handle_notification(gateway, request.headers, request.body)
    ack = outcome.acknowledgement
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)
