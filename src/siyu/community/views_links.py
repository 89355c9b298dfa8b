"""The landing page of a join code's short link: ``/j/<token>`` (and, inside the storefront,
``/s/<slug>/community/join/<token>/``, where the login sends the customer back).

* GET shows the merchant, the code's poster message and store, and a "Join" button. A visitor
  who is not logged in at this merchant (a login at another merchant does not count: the
  customer session is per merchant) is counted as a visit (``services.record_visit``) and the
  button leads through the storefront login, whose ``next`` is the storefront join page with
  ``?go=1``: that page submits the join form by itself (a normal POST carrying the CSRF token
  of the now logged-in session; without JavaScript the customer taps "Join").
* POST scans the code (``services.scan``) and redirects: joined or already a member → the
  group's chat (where the welcome message waits), a guide's code → the 1:1 chat with the guide,
  all groups full → a page that says so. A store-finder code takes ``latitude``/``longitude``
  (the browser's position, filled by ``join.js``) or ``store_id`` (the store chooser); with
  neither the page shows the chooser.
* An unknown token is a 404 page, an inactive code a 410 page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.community import selectors, services, shop_selectors
from siyu.community.models import JoinCode, JoinCodeScan
from siyu.core.clock import zone
from siyu.core.errors import DomainError
from siyu.core.models import Merchant
from siyu.core.selectors import storefront_merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.session import customer_in_session, customer_of


def _code(token: str) -> JoinCode | None:
    code = selectors.code_by_token(token)
    if code is None or storefront_merchant(code.merchant.slug) is None:
        return None
    return code


def _not_found(request: HttpRequest) -> HttpResponse:
    context = {
        "heading": _("This code does not exist"),
        "text": _("Check the link, or scan the code on the poster again."),
    }
    return render(request, "community/shop/link_problem.html", context, status=404)


def _gone(request: HttpRequest, merchant: Merchant) -> HttpResponse:
    context = {
        "heading": _("This code is no longer in use"),
        "text": _("Ask the staff in the store for the current code."),
        "merchant": merchant,
    }
    return render(request, "community/shop/link_problem.html", context, status=410)


def landing(request: HttpRequest, token: str) -> HttpResponse:
    """``/j/<token>``: bind the code's merchant and its customer session, then :func:`_join`."""
    code = _code(token)
    if code is None:
        return _not_found(request)
    merchant = code.merchant
    request.siyu_storefront_merchant = merchant  # type: ignore[attr-defined]
    with merchant_context(merchant), timezone.override(zone(merchant.time_zone)):
        request.siyu_customer = customer_in_session(request, merchant)  # type: ignore[attr-defined]
        return _join(request, code, merchant)


def join(request: HttpRequest, merchant_slug: str, token: str) -> HttpResponse:
    """The same page inside the storefront (``StorefrontMiddleware`` bound the merchant)."""
    merchant: Merchant | None = getattr(request, "siyu_storefront_merchant", None)
    code = _code(token)
    if merchant is None:
        raise Http404
    if code is None or code.merchant_id != merchant.pk:
        return _not_found(request)
    return _join(request, code, merchant)


def _join_url(code: JoinCode, merchant: Merchant) -> str:
    return reverse(
        "shop_community:join", kwargs={"merchant_slug": merchant.slug, "token": code.token}
    )


def _login_url(code: JoinCode, merchant: Merchant) -> str:
    login = reverse("storefront:login", kwargs={"merchant_slug": merchant.slug})
    return f"{login}?{urlencode({'next': _join_url(code, merchant) + '?go=1'})}"


def _page(
    request: HttpRequest,
    code: JoinCode,
    merchant: Merchant,
    *,
    status: int = 200,
    choose_store: bool = False,
    error: str = "",
    fields: dict[str, str] | None = None,
) -> HttpResponse:
    customer = customer_of(request)
    context: dict[str, Any] = {
        "tab": "account",
        "code": code,
        "merchant": merchant,
        "customer": customer,
        "join_url": _join_url(code, merchant),
        "login_url": _login_url(code, merchant),
        "store_finder": code.kind == JoinCode.Kind.STORE_FINDER,
        "guide_code": code.kind == JoinCode.Kind.GUIDE,
        "choose_store": choose_store,
        "stores": (
            shop_selectors.group_stores(merchant.pk)
            if code.kind == JoinCode.Kind.STORE_FINDER
            else []
        ),
        "auto": customer is not None and request.GET.get("go") == "1" and not error,
        "error": error,
        "fields": fields or {},
    }
    return render(request, "community/shop/join.html", context, status=status)


def _join(request: HttpRequest, code: JoinCode, merchant: Merchant) -> HttpResponse:
    if not code.is_active:
        return _gone(request, merchant)
    customer = customer_of(request)
    if request.method != "POST":
        if customer is None:
            services.record_visit(code)
        return _page(request, code, merchant)
    if customer is None:
        return redirect(_login_url(code, merchant))
    raw_store = request.POST.get("store_id", "").strip()
    if raw_store and not raw_store.isdigit():
        message = _("Choose a store from the list.")
        return _page(
            request,
            code,
            merchant,
            status=422,
            choose_store=True,
            error=message,
            fields={"store_id": message},
        )
    try:
        result = services.scan(
            code,
            customer,
            latitude=request.POST.get("latitude") or None,
            longitude=request.POST.get("longitude") or None,
            store=int(raw_store) if raw_store else None,
        )
    except DomainError as exc:
        return _page(
            request,
            code,
            merchant,
            status=exc.status,
            choose_store=code.kind == JoinCode.Kind.STORE_FINDER,
            error=next(iter(exc.fields.values()), exc.message),
            fields=exc.fields,
        )
    outcome = result.outcome
    slug = merchant.slug
    if outcome == services.CHOOSE_STORE:
        return _page(request, code, merchant, choose_store=True)
    if outcome in (JoinCodeScan.Outcome.JOINED, JoinCodeScan.Outcome.ALREADY_MEMBER):
        assert result.group is not None
        return redirect("shop_community:group_chat", merchant_slug=slug, pk=result.group.pk)
    if outcome == JoinCodeScan.Outcome.BOUND:
        assert result.conversation is not None
        return redirect("shop_community:direct_chat", merchant_slug=slug, pk=result.conversation.pk)
    if outcome == JoinCodeScan.Outcome.FULL:
        return render(request, "community/shop/join_full.html", {"tab": "account", "code": code})
    return _gone(request, merchant)
