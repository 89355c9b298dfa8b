"""Binds storefront requests (/s/<slug>/ and /api/v1/storefront/<slug>/) to a merchant and customer.

For those paths the merchant is looked up by its slug (an unknown or
suspended merchant answers 404: a page, or JSON for the API), bound with
``merchant_context`` and its time zone activated; ``request.siyu_storefront_merchant``
and ``request.siyu_customer`` (the customer logged in there, or None) are set.
Every other request gets both attributes as None.

It also keeps wrong login-code tries counted when the API rolls the request
back (see :mod:`siyu.customers.attempts`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from siyu.core.clock import zone
from siyu.core.middleware import API_PREFIX, UNSAFE_METHODS
from siyu.core.selectors import storefront_merchant
from siyu.core.tenancy import merchant_context
from siyu.customers import attempts
from siyu.customers.session import customer_in_session

PAGE_PATH = re.compile(r"^/s/(?P<slug>[-a-zA-Z0-9_]+)/")
API_PATH = re.compile(r"^/api/v1/storefront/(?P<slug>[-a-zA-Z0-9_]+)/")


def storefront_slug(path: str) -> tuple[str | None, bool]:
    """``(merchant slug, is an API path)`` of a storefront path; ``(None, False)`` otherwise."""
    for pattern, is_api in ((PAGE_PATH, False), (API_PATH, True)):
        match = pattern.match(path)
        if match:
            return match["slug"], is_api
    return None, False


def rolled_back(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether ``IdempotencyMiddleware`` rolled this request's writes back (an API write
    answered with an error)."""
    return (
        request.method in UNSAFE_METHODS
        and request.path_info.startswith(API_PREFIX)
        and response.status_code >= 400
    )


class StorefrontMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.siyu_customer = None  # type: ignore[attr-defined]
        request.siyu_storefront_merchant = None  # type: ignore[attr-defined]
        slug, is_api = storefront_slug(request.path_info)
        if slug is None:
            return self.get_response(request)
        merchant = storefront_merchant(slug)
        if merchant is None:
            if is_api:
                return JsonResponse(
                    {
                        "error": "not_found",
                        "message": "There is no shop at this address.",
                        "fields": {},
                    },
                    status=404,
                    json_dumps_params={"ensure_ascii": False},
                )
            raise Http404("unknown storefront")
        request.siyu_storefront_merchant = merchant  # type: ignore[attr-defined]
        with merchant_context(merchant), timezone.override(zone(merchant.time_zone)):
            request.siyu_customer = customer_in_session(request, merchant)  # type: ignore[attr-defined]
            with attempts.tracking() as counted:
                response = self.get_response(request)
            if counted and rolled_back(request, response):
                attempts.restore(counted)
            return response
