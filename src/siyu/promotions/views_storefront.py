"""Storefront pages of coupons: the claim page of a template and "my coupons".

* ``claim`` (``/s/<slug>/coupons/<template id>/``): what the coupon gives, its validity and
  whether I can claim it; anyone may look, claiming needs a login (the login comes back here).
  A claim is a form POST carrying a ``client_key`` made when the page was rendered, so a
  double tap or a resubmitted form claims once.
* ``my_coupons``: my coupons, usable ones first, each with what it gives and until when.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from siyu.core.errors import DomainError
from siyu.customers import session
from siyu.customers.models import Customer
from siyu.promotions import selectors, services
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.storefront.views_account import customer_required


def _template(pk: int) -> CouponTemplate:
    template = CouponTemplate.objects.filter(pk=pk).first()
    if template is None or template.status == CouponTemplate.Status.DRAFT:
        raise Http404
    return template


def claim(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    template = _template(pk)
    customer = session.customer_of(request)
    if request.method == "POST":
        if customer is None:
            return customer_required(claim)(request, merchant_slug, pk)
        try:
            services.claim(
                template.pk,
                customer,
                source=Coupon.Source.CLAIM_PAGE,
                client_key=request.POST.get("client_key", "")[:64],
            )
        except DomainError as exc:
            messages.error(request, exc.fields.get("template_id") or exc.message)
        else:
            messages.success(request, _("The coupon is yours: use it at checkout."))
            return redirect("shop_promotions:my_coupons", merchant_slug=merchant_slug)
        return redirect(request.path)
    if request.method not in ("GET", "HEAD"):
        raise Http404
    merchant = request.siyu_storefront_merchant  # type: ignore[attr-defined]
    view = selectors.claim_view(template, customer, merchant.currency)
    return render(
        request,
        "promotions/shop/claim.html",
        {
            "tab": "home",
            "view": view,
            "template_row": template,
            "customer": customer,
            "client_key": secrets.token_urlsafe(16),
        },
    )


@require_safe
@customer_required
def my_coupons(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = session.customer_of(request)
    assert isinstance(customer, Customer)
    merchant = request.siyu_storefront_merchant  # type: ignore[attr-defined]
    rows = [
        {
            "coupon": coupon,
            "summary": selectors.summary(coupon.template, merchant.currency),
            "status": selectors.shown_status(coupon),
        }
        for coupon in selectors.customer_coupons(customer)[:100]
    ]
    return render(request, "promotions/shop/my_coupons.html", {"tab": "account", "rows": rows})
