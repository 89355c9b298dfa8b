"""Storefront pages of the customer's orders: list, detail (pickup code and QR once paid),
payment and its result page, cancelling before payment, asking for a refund.

Another customer's order is 404. The payment result page polls the order's status through
the customer API every two seconds (a small fetch loop in ``storefront.js``) until the
gateway's notification has arrived.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError, InvalidInput
from siyu.customers.models import Customer
from siyu.orders import selectors as order_selectors
from siyu.orders import services as order_services
from siyu.orders.models import Order
from siyu.payments import gateways
from siyu.payments import selectors as payment_selectors
from siyu.payments import services as payment_services
from siyu.payments.models import Payment, Refund
from siyu.storefront import selectors
from siyu.storefront.views_account import _customer, _merchant, _url, customer_required
from siyu.storefront.views_cart import start_payment

ORDERS_PER_PAGE = 10
POLL_SECONDS = 2
POLL_TRIES = 90  # three minutes; then the page asks the customer to refresh

REFUND_REASONS = (
    ("changed_mind", gettext_lazy("I changed my mind")),
    ("wrong_item", gettext_lazy("Wrong size, flavour or item")),
    ("damaged", gettext_lazy("Something is missing or damaged")),
    ("too_slow", gettext_lazy("It took too long")),
    ("other", gettext_lazy("Another reason")),
)


def _own_order(customer: Customer, pk: int) -> Order:
    order = order_selectors.customer_order(customer, pk)
    if order is None:
        raise Http404
    return order


@customer_required
def order_list(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = _customer(request)
    tab = request.GET.get("tab", "all")
    if tab not in selectors.ORDER_TABS:
        tab = "all"
    found = order_selectors.customer_orders(customer)
    if selectors.ORDER_TABS[tab]:
        found = found.filter(status__in=selectors.ORDER_TABS[tab])
    page = Paginator(found, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    orders = list(page.object_list)
    thumbs = selectors.cover_thumbnails(
        line.product_id_snapshot for order in orders for line in order.lines.all()
    )
    return render(
        request,
        "storefront/orders/list.html",
        {
            "tab": "orders",
            "current": tab,
            "tabs": [(name, selectors.ORDER_TAB_LABELS[name]) for name in selectors.ORDER_TABS],
            "page": page,
            "rows": [
                {
                    "order": order,
                    "label": selectors.status_label(order),
                    "lines": list(order.lines.all()),
                    "thumbs": [
                        thumbs.get(line.product_id_snapshot) for line in order.lines.all()[:4]
                    ],
                    "units": sum(line.quantity for line in order.lines.all()),
                    "actions": selectors.customer_actions(order),
                }
                for order in orders
            ],
        },
    )


@customer_required
def order_detail(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    order = _own_order(_customer(request), pk)
    lines = list(order.lines.all())
    thumbs = selectors.cover_thumbnails(line.product_id_snapshot for line in lines)
    refunds = list(payment_selectors.refunds(order_id=order.pk).order_by("created_at", "id"))
    shows_code = selectors.shows_pickup_code(order)
    return render(
        request,
        "storefront/orders/detail.html",
        {
            "tab": "orders",
            "order": order,
            "label": selectors.status_label(order),
            "hint": selectors.status_hint(order),
            "rows": [(line, thumbs.get(line.product_id_snapshot)) for line in lines],
            "figures": selectors.figures(order.pricing or {}, order.currency),
            "actions": selectors.customer_actions(order),
            "refunds": refunds,
            "open_request": any(r.status == Refund.Status.REQUESTED for r in refunds),
            "shows_code": shows_code,
            "qr": selectors.pickup_qr_svg(order.pickup_code) if shows_code else "",
            "timeline": [
                (event, order_selectors.event_label(event.kind)) for event in order.events.all()
            ],
        },
    )


@require_POST
@customer_required
def order_pay(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    order = _own_order(_customer(request), pk)
    return start_payment(request, _merchant(request), order)


@customer_required
def order_return(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    """Where the gateway sends the customer back: paid, failed, or still waiting (polls)."""
    merchant = _merchant(request)
    order = _own_order(_customer(request), pk)
    latest = payment_selectors.payments(order_id=order.pk).first()
    if order.paid_at is not None:
        state = "paid"
    elif order.status == Order.Status.CANCELLED:
        state = "cancelled"
    elif latest is not None and latest.status in (Payment.Status.FAILED, Payment.Status.CLOSED):
        state = "failed"
    else:
        state = "waiting"
    return render(
        request,
        "storefront/orders/return.html",
        {
            "tab": "orders",
            "order": order,
            "state": state,
            "payment": latest,
            "sandbox": latest is not None and gateways.is_sandbox(latest.gateway),
            "payable": selectors.payable(order),
            "poll_url": f"/api/v1/storefront/{merchant.slug}/orders/{order.pk}",
            "poll_seconds": POLL_SECONDS,
            "poll_tries": POLL_TRIES,
        },
    )


@require_POST
@customer_required
def order_cancel(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    customer = _customer(request)
    order = _own_order(customer, pk)
    try:
        order_services.cancel(order, actor=customer, reason=_("Cancelled by the customer"))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your order is cancelled."))
    return redirect(_url("order_detail", _merchant(request), pk=order.pk))


def _refund_reason(request: HttpRequest) -> str:
    code = request.POST.get("reason", "")
    label = dict(REFUND_REASONS).get(code)
    details = " ".join(request.POST.get("details", "").split())
    if label is None:
        return details
    return f"{label}: {details}" if details else str(label)


@customer_required
def order_refund(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    """Ask for a refund of some items (or everything left) with a reason."""
    merchant = _merchant(request)
    customer = _customer(request)
    order = _own_order(customer, pk)
    detail_url = _url("order_detail", merchant, pk=order.pk)
    if not selectors.can_request_refund(order):
        messages.error(request, _("This order cannot be refunded."))
        return redirect(detail_url)
    panel = payment_selectors.order_panel(order, None)
    refundable = [row for row in panel.lines if row.refundable_quantity > 0]
    if panel.pending_request is not None:
        messages.info(request, _("Your refund request is waiting for the shop's answer."))
        return redirect(detail_url)
    errors: dict[str, str] = {}
    asked: list[int] = []
    chosen: dict[int, int] = {row.line.pk: row.refundable_quantity for row in refundable}
    reason_code = request.POST.get("reason", "")
    details = request.POST.get("details", "")
    status = 200
    if request.method == "POST":
        for row in refundable:
            value = request.POST.get(f"qty_{row.line.pk}", "0").strip()
            chosen[row.line.pk] = int(value) if value.isdigit() else -1
        requested = [(line_id, n) for line_id, n in chosen.items() if n != 0]
        asked = [line_id for line_id, _n in requested]
        everything = all(chosen[row.line.pk] == row.refundable_quantity for row in refundable)
        try:
            if not requested:
                reason = _("Choose at least one item to refund.")
                raise InvalidInput(reason, fields={"lines": reason})
            payment_services.request_refund(
                customer,
                order,
                lines=None if everything else requested,
                reason=_refund_reason(request),
            )
        except DomainError as exc:
            errors, status = dict(exc.fields), exc.status
            errors.setdefault("form", exc.message)
        else:
            messages.success(
                request, _("Your refund request is sent: the shop will answer it soon.")
            )
            return redirect(detail_url)
    thumbs = selectors.cover_thumbnails(row.line.product_id_snapshot for row in refundable)
    return render(
        request,
        "storefront/orders/refund.html",
        {
            "tab": "orders",
            "order": order,
            "rows": [
                {
                    "line": row.line,
                    "max": row.refundable_quantity,
                    "unit_amount": row.unit_amount,
                    "value": chosen.get(row.line.pk, 0),
                    "thumb": thumbs.get(row.line.product_id_snapshot),
                    "error": next(
                        (
                            reason
                            for name, reason in errors.items()
                            if row.line.pk in asked
                            and name.startswith(f"lines.{asked.index(row.line.pk)}.")
                        ),
                        "",
                    ),
                }
                for row in refundable
            ],
            "reasons": REFUND_REASONS,
            "reason_code": reason_code,
            "details": details,
            "errors": errors,
            "refundable_amount": panel.refundable_amount,
        },
        status=status,
    )
