"""The storefront points page (``/s/<slug>/points/``): my balance and what it is worth, what
expires when, my tier and the way to the next, the daily sign-in button, and my history."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from siyu.core.errors import DomainError
from siyu.customers import session
from siyu.customers.models import Customer
from siyu.loyalty import selectors, services
from siyu.storefront.views_account import customer_required

HISTORY_PAGE = 20


def _customer(request: HttpRequest) -> Customer:
    customer = session.customer_of(request)
    assert isinstance(customer, Customer)
    return customer


@require_safe
@customer_required
def points(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = _customer(request)
    merchant = request.siyu_storefront_merchant  # type: ignore[attr-defined]
    view = selectors.points_overview(customer)
    page = Paginator(selectors.history(customer), HISTORY_PAGE).get_page(request.GET.get("page"))
    rows = [{"entry": e, "label": selectors.entry_label(e)} for e in page.object_list]
    progress = view.tier.next
    return render(
        request,
        "loyalty/shop/points.html",
        {
            "tab": "account",
            "view": view,
            "currency": merchant.currency,
            "tier": view.tier.tier,
            "benefits": selectors.benefits_text(view.tier.tier) if view.tier.tier else [],
            "progress": progress,
            "next_tier": view.tier.next_tier,
            "need_text": selectors.basis_text(progress.basis, progress.need, merchant.currency)
            if progress is not None
            else "",
            "page": page,
            "rows": rows,
        },
    )


@require_POST
@customer_required
def sign_in(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    try:
        done = services.sign_in(_customer(request))
    except DomainError as exc:
        messages.error(request, exc.fields.get("sign_in") or exc.message)
    else:
        if done.created:
            messages.success(
                request,
                ngettext(
                    "Signed in: +%(n)d point.", "Signed in: +%(n)d points.", done.sign_in.points
                )
                % {"n": done.sign_in.points},
            )
        else:
            messages.info(request, _("You have already signed in today."))
    return redirect("shop_loyalty:points", merchant_slug=merchant_slug)


@require_POST
@customer_required
def review(request: HttpRequest, merchant_slug: str, line_id: int) -> HttpResponse:
    """Post a review of one line of my completed order; back to the order."""
    from django.http import Http404

    from siyu.orders.models import OrderLine

    customer = _customer(request)
    line = OrderLine.objects.filter(pk=line_id, order__customer=customer).first()
    if line is None:
        raise Http404
    raw = request.POST.get("rating", "")
    rating: object = int(raw) if raw.isdigit() else raw
    try:
        services.review(customer, line.pk, rating, request.POST.get("text", ""))
    except DomainError as exc:
        messages.error(request, next(iter(exc.fields.values()), exc.message))
    else:
        messages.success(request, _("Thank you for your review."))
    target = redirect("storefront:order_detail", merchant_slug=merchant_slug, pk=line.order_id)
    target["Location"] += "#reviews"
    return target
