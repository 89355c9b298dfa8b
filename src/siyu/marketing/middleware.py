"""Records attribution touches from storefront requests that carry ``?via=<token>``.

Runs after ``StorefrontMiddleware`` (the merchant is bound, ``request.siyu_customer`` set).
A valid token (signed, :func:`siyu.community.cards.read_via`) records a touch for the
logged-in customer at once; before login it waits in the session with the time of the
tap, and the first request after the login records it. Forged, expired or malformed
tokens are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest, HttpResponse

from siyu.core import clock

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
        key = str(merchant_id)
        if token:
            via = read_via(token)
            if via is None:
                return
            if customer is not None:
                record_touch(customer, via)
                return
            pending = request.session.get(PENDING_KEY)
            pending = dict(pending) if isinstance(pending, dict) else {}
            pending[key] = [token, clock.now().isoformat()]
            request.session[PENDING_KEY] = pending
            return
        if customer is None:
            return
        pending = request.session.get(PENDING_KEY)
        if not isinstance(pending, dict) or key not in pending:
            return
        waiting = dict(pending)
        entry = waiting.pop(key)
        request.session[PENDING_KEY] = waiting
        if not isinstance(entry, list) or len(entry) != 2:
            return
        via = read_via(str(entry[0]))
        try:
            tapped_at = datetime.fromisoformat(str(entry[1]))
        except ValueError:
            tapped_at = clock.now()
        if via is not None:
            record_touch(customer, via, at=tapped_at)
