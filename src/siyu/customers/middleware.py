"""Binds storefront requests (/s/<slug>/ and /api/v1/storefront/<slug>/) to a merchant and customer."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class StorefrontMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.siyu_customer = None  # type: ignore[attr-defined]
        return self.get_response(request)
