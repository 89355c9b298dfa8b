"""Console pages of payments: the payment and refund lists, and the order panel's actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.money import format_amount
from siyu.core.permissions import Perm
from siyu.orders.models import Order
from siyu.payments import selectors, services
from siyu.payments.forms import PaymentFilterForm, RefundFilterForm, RefundForm, RejectForm
from siyu.payments.models import Payment, Refund
from siyu.web.console import console_view, paginate, query_without_page


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _back(request: HttpRequest, order_id: int | None = None) -> HttpResponseRedirect:
    """Back where the form was, else to the order's page (its payments panel)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    if order_id:
        try:
            return HttpResponseRedirect(
                reverse("orders:order_detail", args=[order_id]) + "#payments"
            )
        except NoReverseMatch:
            return HttpResponseRedirect(f"{reverse('payments:refund_list')}?order={order_id}")
    return HttpResponseRedirect(reverse("payments:refund_list"))


def _explain(request: HttpRequest, exc: DomainError) -> None:
    """A service's refusal as a message: the reason and each field's reason."""
    details = [reason for reason in exc.fields.values() if reason and reason != exc.message]
    text = " ".join([exc.message or exc.code, *details])
    messages.error(request, text)


@console_view(Perm.ORDERS_VIEW)
def payment_list(request: HttpRequest) -> HttpResponse:
    form = PaymentFilterForm(request.GET or None)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    payments = selectors.payments(
        status=filters.get("status") or "",
        gateway=filters.get("gateway") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    )
    return render(
        request,
        "payments/payment_list.html",
        {
            "form": form,
            "page": paginate(request, payments, 30),
            "query": query_without_page(request),
        },
    )


@console_view(Perm.ORDERS_VIEW)
def refund_list(request: HttpRequest) -> HttpResponse:
    form = RefundFilterForm(request.GET or None)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    refunds = selectors.refunds(
        status=filters.get("status") or "",
        source=filters.get("source") or "",
        since=filters.get("since"),
        until=filters.get("until"),
        order_id=filters.get("order"),
    )
    return render(
        request,
        "payments/refund_list.html",
        {
            "form": form,
            "page": paginate(request, refunds, 30),
            "query": query_without_page(request),
            "can_refund": _actor(request).can(Perm.ORDERS_REFUND),
            "reject_form": RejectForm(),
        },
    )


@require_POST
@console_view(Perm.ORDERS_REFUND)
def order_refund(request: HttpRequest, order_pk: int) -> HttpResponse:
    order = Order.objects.filter(pk=order_pk).first()
    if order is None:
        raise Http404
    form = RefundForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
        return _back(request, order.pk)
    mode = form.cleaned_data["mode"]
    lines = form.chosen_lines() if mode == "lines" else None
    if form.non_field_errors():
        messages.error(request, " ".join(str(error) for error in form.non_field_errors()))
        return _back(request, order.pk)
    if mode == "lines" and not lines:
        messages.error(request, _("Enter how many of each line to refund."))
        return _back(request, order.pk)
    try:
        made = services.refund(
            _actor(request),
            order,
            lines=lines,
            amount=form.cleaned_data["amount"] if mode == "amount" else None,
            reason=form.cleaned_data["reason"],
            restock=form.cleaned_data["restock"],
        )
    except DomainError as exc:
        _explain(request, exc)
        return _back(request, order.pk)
    _report(request, made)
    return _back(request, order.pk)


def _report(request: HttpRequest, made: Refund) -> None:
    amount = format_amount(made.amount, made.currency)
    if made.status == Refund.Status.SUCCEEDED:
        messages.success(request, _("Refunded %(amount)s.") % {"amount": amount})
    elif made.status == Refund.Status.FAILED:
        messages.error(
            request,
            _("The refund of %(amount)s failed: %(reason)s")
            % {"amount": amount, "reason": made.failure_reason},
        )
    else:
        messages.warning(
            request,
            _("The refund of %(amount)s is being processed by the payment provider.")
            % {"amount": amount},
        )


def _refund_or_404(pk: int) -> Refund:
    found = Refund.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@require_POST
@console_view(Perm.ORDERS_REFUND)
def refund_approve(request: HttpRequest, pk: int) -> HttpResponse:
    refund = _refund_or_404(pk)
    try:
        made = services.approve_refund(_actor(request), refund)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        _explain(request, exc)
    else:
        _report(request, made)
    return _back(request, refund.order_id)


@require_POST
@console_view(Perm.ORDERS_REFUND)
def refund_reject(request: HttpRequest, pk: int) -> HttpResponse:
    refund = _refund_or_404(pk)
    form = RejectForm(request.POST)
    try:
        services.reject_refund(
            _actor(request), refund, form.data.get("reason", "") if form.is_bound else ""
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        _explain(request, exc)
    else:
        messages.success(request, _("The refund request was rejected."))
    return _back(request, refund.order_id)


@require_POST
@console_view(Perm.ORDERS_REFUND)
def refund_retry(request: HttpRequest, pk: int) -> HttpResponse:
    refund = _refund_or_404(pk)
    try:
        made = services.retry_refund(_actor(request), refund)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        _explain(request, exc)
    else:
        _report(request, made)
    return _back(request, refund.order_id)


@require_POST
@console_view(Perm.ORDERS_VIEW)
def payment_query(request: HttpRequest, pk: int) -> HttpResponse:
    payment = Payment.objects.filter(pk=pk).first()
    if payment is None:
        raise Http404
    try:
        payment = services.refresh_payment(_actor(request), payment)
    except DomainError as exc:
        _explain(request, exc)
    else:
        messages.info(
            request,
            _("The provider says: %(status)s.") % {"status": payment.get_status_display()},
        )
    return _back(request, payment.order_id)
