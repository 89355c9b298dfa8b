"""The storefront's device cookie, devices recorded at login, and invite links replayed after it.

Runs after ``StorefrontMiddleware`` (the merchant bound, ``request.siyu_customer`` set), like
the ``?d=`` share links of :mod:`siyu.distribution.middleware`:

* every storefront visitor gets a long-lived random device cookie (``siyu_device``, two
  years, HTTP only); ``request.siyu_device`` holds its hash and a hash of the user agent —
  the raw cookie is never stored;
* the first request after a login records the device for the customer (the session notes
  which customer it was recorded for, so it is one write per login, not per request);
* an invite link opened before login (the landing page keeps its code in the session with the
  time of the tap, :mod:`siyu.customers.pending_links`) is registered on the first request
  after the login; what came of it is shown as a message on the next page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from siyu.core import ids
from siyu.customers import pending_links

DEVICE_COOKIE = "siyu_device"
DEVICE_MAX_AGE = 2 * 365 * 24 * 3600
PENDING_KEY = "siyu_invite"  # {str(merchant id): [invite code, ISO time of the tap]}
SEEN_KEY = "siyu_device_seen"  # {str(merchant id): customer id whose device is recorded}
TOKEN = re.compile(r"^[A-Za-z0-9]{32}$")


def device_of(request: HttpRequest) -> object:
    """The ``Device`` of this storefront request (set by the middleware), or None."""
    return getattr(request, "siyu_device", None)


class InviteMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        merchant = getattr(request, "siyu_storefront_merchant", None)
        if merchant is None:
            return self.get_response(request)
        from siyu.referrals.services import Device

        token = request.COOKIES.get(DEVICE_COOKIE, "")
        fresh = not TOKEN.match(token)
        if fresh:
            token = ids.token(32)
        agent = request.headers.get("User-Agent", "")[:500]
        request.siyu_device = Device(  # type: ignore[attr-defined]
            device_hash=ids.sha256_hex(f"device:{token}"),
            ua_hash=ids.sha256_hex(f"ua:{agent}") if agent else "",
        )
        customer = getattr(request, "siyu_customer", None)
        if customer is not None:
            self.after_login(request, merchant.pk, customer)
        response = self.get_response(request)
        if fresh:
            response.set_cookie(
                DEVICE_COOKIE,
                token,
                max_age=DEVICE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    def after_login(self, request: HttpRequest, merchant_id: int, customer: object) -> None:
        from siyu.core.errors import DomainError
        from siyu.referrals import services

        device = request.siyu_device  # type: ignore[attr-defined]
        seen = request.session.get(SEEN_KEY)
        seen = dict(seen) if isinstance(seen, dict) else {}
        if seen.get(str(merchant_id)) != customer.pk:  # type: ignore[attr-defined]
            services.record_device(customer, device)  # type: ignore[arg-type]
            seen[str(merchant_id)] = customer.pk  # type: ignore[attr-defined]
            request.session[SEEN_KEY] = seen
        waiting = pending_links.take(request, PENDING_KEY, merchant_id)
        if waiting is None:
            return
        code, tapped_at = waiting
        try:
            referral = services.register(
                customer,  # type: ignore[arg-type]
                code,
                source="link",
                tapped_at=tapped_at,
                device=device,
            )
        except DomainError as exc:
            messages.info(request, exc.message)
            return
        from siyu.referrals.selectors import arrival_message

        messages.success(request, arrival_message(referral))
