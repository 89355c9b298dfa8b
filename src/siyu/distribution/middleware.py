"""Binds a storefront visitor to a distributor from a share link ``?d=<share code>``.

Runs after ``StorefrontMiddleware`` (``request.siyu_storefront_merchant`` and
``request.siyu_customer`` set), like the ``?via=`` attribution of
:mod:`siyu.marketing.middleware`: a logged-in customer is bound at once by the merchant's
binding policy (:func:`siyu.distribution.services.bind`); before login the code waits in
the session and the first request after the login binds. Unknown codes, unapproved
distributors and a distributor's own link bind nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from siyu.customers import pending_links

PENDING_KEY = "siyu_distributor"  # {str(merchant id): [share code, ISO time of the tap]}
MAX_CODE = 16


class ShareLinkMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        merchant = getattr(request, "siyu_storefront_merchant", None)
        if merchant is not None:
            self.bind(request, merchant)
        return self.get_response(request)

    def bind(self, request: HttpRequest, merchant: object) -> None:
        from siyu.core.tenancy import merchant_context
        from siyu.distribution.services import bind

        customer = getattr(request, "siyu_customer", None)
        code = request.GET.get("d", "").strip()[:MAX_CODE]
        merchant_id = merchant.pk  # type: ignore[attr-defined]
        if code:
            if customer is None:
                pending_links.remember(request, PENDING_KEY, merchant_id, code)
                return
            with merchant_context(merchant):  # type: ignore[arg-type]
                bind(customer, code, source="link")
            return
        if customer is None:
            return
        waiting = pending_links.take(request, PENDING_KEY, merchant_id)
        if waiting is not None:
            code, tapped_at = waiting
            with merchant_context(merchant):  # type: ignore[arg-type]
                bind(customer, code, source="link", at=tapped_at)
