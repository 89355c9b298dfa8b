"""Console pages of customers and the SMS outbox: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.customers import crm_selectors, phones, selectors, services
from siyu.customers.crm_forms import CrmFilterForm
from siyu.customers.forms import SmsFilterForm
from siyu.customers.models import Customer
from siyu.customers.rules import rfm_and_value_labels
from siyu.web.console import console_view, paginate, query_without_page

PER_PAGE = 25
SMS_PER_PAGE = 50


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _customer_or_404(actor: Actor, pk: int) -> Customer:
    """The customer, if ``actor`` may see them (a guide: only their own), else 404."""
    try:
        return crm_selectors.customer_for(actor, pk)
    except NotFound as exc:
        raise Http404 from exc


def _phone_for(actor: Actor, e164: str) -> str:
    """The number as this staff member may see it: in full, or with the middle starred."""
    return phones.display(e164) if actor.can(Perm.CUSTOMERS_MANAGE) else phones.mask(e164)


@console_view(Perm.CUSTOMERS_VIEW)
def customer_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = CrmFilterForm(
        request.GET or None,
        channels=selectors.join_channels(),
        stores=crm_selectors.store_choices(),
        guides=crm_selectors.guide_choices(actor.merchant.pk),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    rows = crm_selectors.customers_for(
        actor,
        q=filters.get("q") or "",
        status=filters.get("status") or "",
        join_channel=filters.get("join_channel") or "",
        home_store=filters.get("home_store"),
        owner_guide=filters.get("owner_guide"),
        has_ordered=crm_selectors.HAS_ORDERED.get(filters.get("has_ordered") or ""),
        refused=filters.get("refused") or "",
    )
    page = paginate(request, rows, PER_PAGE)
    return render(
        request,
        "customers/customer_list.html",
        {
            "form": form,
            "page": page,
            "rows": [
                {
                    "customer": c,
                    "phone": _phone_for(actor, c.phone),
                    "channel": selectors.join_channel_label(c.join_channel),
                    "guide": crm_selectors.guide_label(c.owner_guide),
                }
                for c in page
            ],
            "query": query_without_page(request),
            "filtered": any(v not in (None, "") for v in filters.values()),
            "can_manage": actor.can(Perm.CUSTOMERS_MANAGE),
            "can_import": actor.can(Perm.SEGMENTS_MANAGE),
        },
    )


@console_view(Perm.CUSTOMERS_VIEW)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from siyu.customers.views_crm import detail_context

    actor = _actor(request)
    customer = _customer_or_404(actor, pk)
    context = detail_context(request, actor, customer)
    labels = rfm_and_value_labels()
    context.update(
        {
            "customer": customer,
            "phone": _phone_for(actor, customer.phone),
            "channel": selectors.join_channel_label(customer.join_channel),
            "addresses": [
                {"address": a, "phone": _phone_for(actor, a.phone)}
                for a in selectors.addresses(customer)
            ],
            "orders": selectors.recent_orders(customer),
            "order_count": selectors.order_count(customer),
            "can_manage": actor.can(Perm.CUSTOMERS_MANAGE),
            "can_see_audit": actor.can(Perm.AUDIT_VIEW),
            "value_segment": labels.get(customer.clv_segment, ""),
            "rfm_cell": labels.get(customer.rfm_cell, ""),
        }
    )
    return render(request, "customers/customer_detail.html", context)


@require_POST
@console_view(Perm.CUSTOMERS_MANAGE)
def customer_set_status(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    customer = _customer_or_404(actor, pk)
    wanted = request.POST.get("status", "")
    try:
        services.update_customer(actor, customer, status=wanted)
    except DomainError as exc:
        messages.error(request, " ".join(exc.fields.values()) or exc.message)
    else:
        if wanted == Customer.Status.BLOCKED:
            messages.success(request, _("Blocked: this customer can no longer log in to the shop."))
        else:
            messages.success(request, _("Unblocked: this customer can log in to the shop again."))
    return redirect("customers:customer_detail", pk=customer.pk)


@console_view(Perm.CUSTOMERS_MANAGE)
def sms_outbox(request: HttpRequest) -> HttpResponse:
    form = SmsFilterForm(request.GET or None)
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    page = paginate(request, selectors.sms_messages(q), SMS_PER_PAGE)
    return render(
        request,
        "customers/sms_outbox.html",
        {
            "form": form,
            "page": page,
            "rows": [{"message": m, "to": phones.mask(m.to)} for m in page],
            "query": query_without_page(request),
            "filtered": bool(q),
        },
    )


@console_view(Perm.CUSTOMERS_MANAGE)
def sms_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        message = selectors.sms_message(pk)
    except NotFound as exc:
        raise Http404 from exc
    customer = Customer.objects.filter(phone=message.to).first()
    return render(
        request,
        "customers/sms_detail.html",
        {"message": message, "to": phones.display(message.to), "customer": customer},
    )
