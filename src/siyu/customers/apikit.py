"""Authentication of the storefront (customer) API: the customer session, CSRF-checked on writes.

Imported only by API modules, never by services.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja.errors import HttpError
from ninja.security import APIKeyCookie

from siyu.customers.models import Customer

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(request: HttpRequest) -> None:
    """Refuse a write without the CSRF token of this browser (403), like Django's forms."""
    if request.method in SAFE_METHODS:
        return
    reason = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(
        request, lambda r: HttpResponse(), (), {}
    )
    if reason is not None:
        raise HttpError(403, "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken.")


class CustomerSessionAuth(APIKeyCookie):
    """The session of a customer logged in at this storefront (phone + one-time code)."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = (
        "The session cookie of a customer logged in at this merchant's storefront "
        "(`POST …/account/verify-code`); writes need the CSRF token as `X-CSRFToken`."
    )

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Customer:
        customer: Customer | None = getattr(request, "siyu_customer", None)
        if customer is None:
            raise HttpError(401, "Log in to the shop with your phone number first.")
        check_csrf(request)
        return customer

    def __call__(self, request: HttpRequest) -> Customer:
        return self.authenticate(request, self._get_key(request))


CUSTOMER_AUTH = CustomerSessionAuth()


def customer_of(request: HttpRequest) -> Customer:
    """The authenticated customer of a storefront API operation."""
    return request.auth  # type: ignore[attr-defined]
