"""The customer session, on top of Django's sessions.

One browser may be logged in at several merchants' storefronts at once: the
session keeps ``{merchant id: customer id}``. Logging in rotates the session
key and the CSRF token (no session fixation); logging out forgets only this merchant's customer.
``StorefrontMiddleware`` reads it on every storefront request and puts the
customer on ``request.siyu_customer`` (None when not logged in, or blocked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.middleware.csrf import rotate_token

from siyu.customers.models import Customer

if TYPE_CHECKING:
    from siyu.core.models import Merchant

CUSTOMERS_KEY = "siyu_customers"  # {str(merchant id): customer id}
LOGIN_PHONES_KEY = "siyu_login_phones"  # {str(merchant id): E.164 the last code went to}


def _entries(request: HttpRequest, key: str) -> dict[str, object]:
    value = request.session.get(key)
    return dict(value) if isinstance(value, dict) else {}


def login_customer(request: HttpRequest, customer: Customer) -> None:
    """Log ``customer`` in at their merchant's storefront in this browser."""
    request.session.cycle_key()
    rotate_token(request)  # a CSRF token planted before the login is worthless after it
    logged_in = _entries(request, CUSTOMERS_KEY)
    logged_in[str(customer.merchant_id)] = customer.pk
    request.session[CUSTOMERS_KEY] = logged_in
    request.siyu_customer = customer  # type: ignore[attr-defined]


def logout_customer(request: HttpRequest) -> None:
    """Log out of the storefront this request is for (other merchants' logins stay)."""
    customer = customer_of(request)
    merchant = getattr(request, "siyu_storefront_merchant", None)
    merchant_id = merchant.pk if merchant is not None else getattr(customer, "merchant_id", None)
    logged_in = _entries(request, CUSTOMERS_KEY)
    if merchant_id is not None and logged_in.pop(str(merchant_id), None) is not None:
        request.session[CUSTOMERS_KEY] = logged_in
        request.session.cycle_key()
    request.siyu_customer = None  # type: ignore[attr-defined]


def customer_of(request: HttpRequest) -> Customer | None:
    """The customer logged in at this request's storefront, or None."""
    return getattr(request, "siyu_customer", None)


def customer_in_session(request: HttpRequest, merchant: Merchant) -> Customer | None:
    """The active customer this browser is logged in as at ``merchant`` (one query)."""
    customer_id = _entries(request, CUSTOMERS_KEY).get(str(merchant.pk))
    if not isinstance(customer_id, int):
        return None
    customer = Customer.unscoped.filter(
        pk=customer_id, merchant_id=merchant.pk, status=Customer.Status.ACTIVE
    ).first()
    if customer is not None:
        customer.merchant = merchant
    return customer


def remember_login_phone(request: HttpRequest, merchant: Merchant, phone: str) -> None:
    """The number this browser last asked a code for (the login page's second step)."""
    phones = _entries(request, LOGIN_PHONES_KEY)
    phones[str(merchant.pk)] = phone
    request.session[LOGIN_PHONES_KEY] = phones


def login_phone(request: HttpRequest, merchant: Merchant) -> str:
    value = _entries(request, LOGIN_PHONES_KEY).get(str(merchant.pk))
    return value if isinstance(value, str) else ""


def forget_login_phone(request: HttpRequest, merchant: Merchant) -> None:
    phones = _entries(request, LOGIN_PHONES_KEY)
    if phones.pop(str(merchant.pk), None) is not None:
        request.session[LOGIN_PHONES_KEY] = phones
