"""Records attribution touches from storefront requests that carry ``?via=<token>``.

Runs after ``StorefrontMiddleware`` (the merchant is bound, ``request.siyu_customer`` set).
A valid token (signed, :func:`siyu.community.cards.read_via`) records a touch for the
logged-in customer at once; before login it waits in the session with the time of the
tap, and the first request after the login records it. Forged, expired or malformed
tokens are ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from siyu.customers import pending_links

PENDING_KEY = "siyu_via"  # {str(merchant id): [token, ISO time of the tap]}


class AttributionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        merchant = getattr(request, "siyu_storefront_merchant", None)
        if merchant is not None:
            self.touch(request, merchant.pk)
        return self.get_response(request)

    def touch(self, request: HttpRequest, merchant_id: int) -> None:
        from siyu.community.cards import read_via
        from siyu.marketing.attribution import record_touch

        customer = getattr(request, "siyu_customer", None)
        token = request.GET.get("via", "")
        if token:
            via = read_via(token)
            if via is None:
                return
            if customer is None:
                pending_links.remember(request, PENDING_KEY, merchant_id, token)
                return
            record_touch(customer, via)
            return
        if customer is None:
            return
        waiting = pending_links.take(request, PENDING_KEY, merchant_id)
        if waiting is not None:
            token, tapped_at = waiting
            via = read_via(token)
            if via is not None:
                record_touch(customer, via, at=tapped_at)
