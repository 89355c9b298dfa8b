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

from siyu.core import clock

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
        from datetime import datetime

        from siyu.core.tenancy import merchant_context
        from siyu.distribution.services import bind

        customer = getattr(request, "siyu_customer", None)
        code = request.GET.get("d", "").strip()[:MAX_CODE]
        key = str(merchant.pk)  # type: ignore[attr-defined]
        if code:
            if customer is not None:
                with merchant_context(merchant):  # type: ignore[arg-type]
                    bind(customer, code, source="link")
                return
            pending = request.session.get(PENDING_KEY)
            pending = dict(pending) if isinstance(pending, dict) else {}
            pending[key] = [code, clock.now().isoformat()]
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
        try:
            tapped_at = datetime.fromisoformat(str(entry[1]))
        except ValueError:
            tapped_at = clock.now()
        with merchant_context(merchant):  # type: ignore[arg-type]
            bind(customer, str(entry[0]), source="link", at=tapped_at)
