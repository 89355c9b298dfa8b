"""Storefront pages of bargains (mobile-first), mounted at ``/s/<slug>/bargain/``.

* ``activity`` (``<activity id>/``): the product, its price and floor, the rules, and "start
  my bargain" (a login first; the login comes back here);
* ``bargain`` (``b/<code>/``): the share link — the progress from the original price to the
  floor, the helpers with their cuts, the time left; "help cut" for a visitor, "buy now at
  ¥x" for the starter. A visitor who is not logged in taps "help cut", logs in by phone and
  comes back: the tap waits in the session (:mod:`siyu.customers.pending_links`) and is
  replayed once after the login, so the cut happens without a second tap;
* ``buy`` (``b/<code>/buy/``): pickup store or delivery address, the price explained line by
  line (the same figures the order will charge), then the payment;
* ``my_bargains`` (``""``): the running activities, and my bargains once logged in.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from siyu.bargain import selectors, services
from siyu.bargain.models import Bargain, BargainActivity
from siyu.core import clock
from siyu.core.errors import DomainError
from siyu.customers import pending_links, session
from siyu.customers.models import Customer
from siyu.storefront.views_account import customer_required

MAX_STORES = 30
PENDING_KEY = "siyu_bargain_cut"  # {str(merchant id): [bargain code, ISO time of the tap]}


def _merchant(request: HttpRequest) -> Any:
    return request.siyu_storefront_merchant  # type: ignore[attr-defined]


def _bargain_url(merchant_slug: str, code: str) -> str:
    return reverse("shop_bargain:bargain", kwargs={"merchant_slug": merchant_slug, "code": code})


def _login_url(merchant_slug: str, next_url: str) -> str:
    from urllib.parse import urlencode

    login = reverse("storefront:login", kwargs={"merchant_slug": merchant_slug})
    return f"{login}?{urlencode({'next': next_url})}"


def activity(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    row = (
        BargainActivity.objects.select_related("sku__product")
        .filter(pk=pk)
        .exclude(status=BargainActivity.Status.DRAFT)
        .first()
    )
    if row is None:
        raise Http404
    customer = session.customer_of(request)
    if request.method == "POST":
        if customer is None:
            return redirect(_login_url(merchant_slug, request.path))
        try:
            bargain = services.start(customer, row.pk)
        except DomainError as exc:
            messages.error(request, exc.fields.get("activity_id") or exc.message)
            return redirect(request.path)
        return redirect(_bargain_url(merchant_slug, bargain.code))
    if request.method not in ("GET", "HEAD"):
        raise Http404
    now = clock.now()
    mine: Bargain | None = None
    if customer is not None:
        mine = Bargain.objects.filter(
            activity=row, customer=customer, status__in=services.LIVE, expires_at__gt=now
        ).first()
    problem = services.activity_problem(row, now)
    reason = problem[1] if problem else ""
    if not reason and row.stock_left <= 0:
        reason = services.sold_out_reason()
    return render(
        request,
        "bargain/shop/activity.html",
        {
            "tab": "home",
            "activity": row,
            "product": row.sku.product,
            "cover": selectors.cover_of(row.sku.product),
            "status": selectors.shown_status(row, now),
            "mine": mine,
            "problem": reason,
            "customer": customer,
        },
    )


def _replay_pending_cut(request: HttpRequest, customer: Customer, bargain: Bargain) -> None:
    """A "help cut" tapped before the login is done now, once."""
    waiting = pending_links.take(request, PENDING_KEY, bargain.merchant_id)
    if waiting is None or waiting[0] != bargain.code:
        return
    _cut(request, customer, bargain)


def _cut(request: HttpRequest, customer: Customer, bargain: Bargain) -> None:
    try:
        made = services.help_cut(customer, bargain.pk)
    except DomainError as exc:
        messages.error(request, exc.fields.get("bargain") or exc.message)
    else:
        from siyu.core.money import format_amount

        messages.success(
            request,
            _("You cut %(amount)s off. Thank you for helping!")
            % {"amount": format_amount(made.amount, _merchant(request).currency)},
        )


def bargain(request: HttpRequest, merchant_slug: str, code: str) -> HttpResponse:
    row = selectors.bargain_by_code(code)
    if row is None:
        raise Http404
    customer = session.customer_of(request)
    if request.method == "POST":
        if customer is None:
            pending_links.remember(request, PENDING_KEY, row.merchant_id, row.code)
            return redirect(_login_url(merchant_slug, request.path))
        _cut(request, customer, row)
        return redirect(request.path)
    if request.method not in ("GET", "HEAD"):
        raise Http404
    if customer is not None:
        _replay_pending_cut(request, customer, row)
        row = selectors.bargain_by_code(code) or row
    view = selectors.bargain_view(row, customer)
    groups = _my_groups(customer) if view.is_starter and view.status == Bargain.Status.OPEN else []
    return render(
        request,
        "bargain/shop/bargain.html",
        {
            "tab": "home",
            "view": view,
            "row": row,
            "product": row.activity.sku.product,
            "cover": selectors.cover_of(row.activity.sku.product),
            "customer": customer,
            "share_url": request.build_absolute_uri(request.path),
            "groups": groups,
        },
    )


def _my_groups(customer: Customer | None) -> list[Any]:
    """The community groups the customer is an active member of (to post the card in)."""
    from siyu.community.shop_selectors import my_chats

    if customer is None:
        return []
    return [row.group for row in my_chats(customer).groups if row.group is not None]


@customer_required
def share(request: HttpRequest, merchant_slug: str, code: str) -> HttpResponse:
    """Post the "help me cut" card of my bargain in one of my groups (a form POST)."""
    from siyu.community import chat
    from siyu.community.models import CommunityGroup

    row = selectors.bargain_by_code(code)
    customer = session.customer_of(request)
    if request.method != "POST" or row is None or customer is None:
        raise Http404
    if row.customer_id != customer.pk:
        raise Http404
    group_id = _int(request.POST.get("group_id"))
    group = next((g for g in _my_groups(customer) if g.pk == group_id), None)
    if group is None:
        messages.error(request, _("Choose one of your groups."))
        return redirect(_bargain_url(merchant_slug, row.code))
    try:
        chat.post_message(
            chat.group_conversation(CommunityGroup.objects.get(pk=group.pk)),
            card={"type": "bargain", "id": row.pk},
            sender_customer=customer,
        )
    except DomainError as exc:
        messages.error(request, next(iter(exc.fields.values()), exc.message))
        return redirect(_bargain_url(merchant_slug, row.code))
    messages.success(request, _("Shared in %(group)s.") % {"group": group.name})
    return redirect("shop_community:group_chat", merchant_slug=merchant_slug, pk=group.pk)


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


@customer_required
def buy(request: HttpRequest, merchant_slug: str, code: str) -> HttpResponse:
    from siyu.customers import selectors as customer_selectors
    from siyu.marketing.attribution import checkout_attribution
    from siyu.storefront.selectors import delivers, figures, pickup_stores
    from siyu.storefront.views_cart import start_payment

    row = selectors.bargain_by_code(code)
    customer = session.customer_of(request)
    if row is None or customer is None or row.customer_id != customer.pk:
        raise Http404
    merchant = _merchant(request)
    data = request.POST if request.method == "POST" else request.GET
    can_deliver = delivers()
    fulfilment = "delivery" if data.get("fulfilment") == "delivery" and can_deliver else "pickup"
    stores = list(pickup_stores()[:MAX_STORES])
    addresses = list(customer_selectors.addresses(customer))
    store_id = _int(data.get("store_id")) or (stores[0].pk if stores else None)
    address_id = _int(data.get("address_id")) or next(
        (a.pk for a in addresses if a.is_default), None
    )
    placing = {
        "fulfilment": fulfilment,
        "store_id": store_id if fulfilment == "pickup" else None,
        "address_id": address_id if fulfilment == "delivery" else None,
    }
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST" and "place" in request.POST:
        try:
            order = services.buy(
                customer,
                row.pk,
                attribution=checkout_attribution(customer, at=clock.now()),
                **placing,
            )
        except DomainError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            return start_payment(request, merchant, order)
    shown: list[Any] = []
    total: int | None = None
    try:
        preview = services.preview(customer, row.pk, **placing)
    except DomainError as exc:
        errors = errors or dict(exc.fields)
        message = message or exc.message
        status = status if status != 200 else exc.status
    else:
        shown = figures(preview.priced.explanation(), merchant.currency)
        total = preview.priced.total
        errors.update(preview.shortages)
    return render(
        request,
        "bargain/shop/buy.html",
        {
            "tab": "home",
            "row": row,
            "product": row.activity.sku.product,
            "fulfilment": fulfilment,
            "can_deliver": can_deliver,
            "stores": stores,
            "addresses": addresses,
            "store_id": store_id,
            "address_id": address_id,
            "figures": shown,
            "total": total,
            "errors": errors,
            "message": message,
        },
        status=status,
    )


@require_safe
def my_bargains(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    """The running activities (anyone) and my bargains (once logged in)."""
    customer = session.customer_of(request)
    now = clock.now()
    running = [
        a
        for a in selectors.activities("running").filter(stock_left__gt=0)[:20]
        if selectors.shown_status(a, now) == "running"
    ]
    rows = []
    if customer is not None:
        for b in selectors.customer_bargains(customer)[:100]:
            status = selectors.bargain_status(b, now)
            rows.append(
                {
                    "bargain": b,
                    "status": status,
                    "status_label": selectors.bargain_status_label(status),
                }
            )
    return render(
        request,
        "bargain/shop/my_bargains.html",
        {
            "tab": "account" if customer else "home",
            "rows": rows,
            "running": running,
            "customer": customer,
        },
    )
