"""The sandbox provider's pay page: where the customer pays or fails a sandbox payment.

This is the provider's page, not Siyu's shop: it is reached by its secret token
only, binds the transaction's merchant for its own records, and sends the
customer back to the merchant's return URL afterwards.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from siyu.core.tenancy import merchant_context
from siyu.payments.models import SandboxTransaction
from siyu.payments.sandbox import provider

ACTIONS = {"pay", "fail", "close"}


def _page(
    request: HttpRequest, tx: SandboxTransaction, error: str = "", status: int = 200
) -> HttpResponse:
    response = render(
        request,
        "sandbox/pay.html",
        {
            "tx": tx,
            "merchant": tx.merchant,
            "expired": provider.is_expired(tx),
            "error": error,
        },
        status=status,
    )
    # The token never leaves this site. Not "no-referrer": with it a browser sends
    # "Origin: null" on the page's own form, and Django's CSRF check refuses the payment.
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
def pay_page(request: HttpRequest, token: str) -> HttpResponse:
    tx = provider.by_token(token)
    if tx is None:
        raise Http404
    if request.method != "POST":
        return _page(request, tx)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _page(request, tx, _("Choose to pay or to fail the payment."), status=422)
    with merchant_context(tx.merchant):
        try:
            if action == "pay":
                tx = provider.pay(token)
            elif action == "fail":
                tx = provider.fail(token)
            else:
                tx = provider.close(token)
        except provider.SandboxRefusal:
            tx = provider.by_token(token) or tx
            return _page(request, tx, _("This payment can no longer be paid."), status=409)
    if tx.return_url:
        response = HttpResponseRedirect(tx.return_url)
        response["Referrer-Policy"] = "same-origin"
        return response
    return _page(request, tx)
