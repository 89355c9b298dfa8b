"""Storefront pages of group-buys, mounted at ``/s/<slug>/groupbuy/``.

* ``activity_list`` — running group-buys;
* ``activity`` (``<id>/``) — group price vs price, open teams to join (members' initials and
  time left), "start a team";
* ``team`` (``teams/<id>/``) — the share link: members, seats left, countdown, "join". Anyone may
  look; a distributor looking gets the link with their ``?d=`` code to share (the share-link
  middleware binds whoever opens it, as with product links);
* ``buy`` (``<id>/buy/``) — a compact checkout (SKU, quantity, pickup store or delivery address)
  priced by the same offer as the order; placing it opens the payment at once;
* ``mine`` — my group-buys with their team's state.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from siyu.core import clock
from siyu.core.errors import DomainError
from siyu.customers import selectors as customer_selectors
from siyu.customers import session
from siyu.groupbuy import selectors, services
from siyu.groupbuy.models import GroupBuy, GroupBuySku
from siyu.storefront import selectors as shop_selectors
from siyu.storefront.views import as_int
from siyu.storefront.views_account import customer_required


def _activity(pk: int) -> GroupBuy:
    activity = selectors.shown(pk)
    if activity is None:
        raise Http404
    return activity


def _url(name: str, request: HttpRequest, **kwargs: Any) -> str:
    slug = request.siyu_storefront_merchant.slug  # type: ignore[attr-defined]
    return reverse(f"shop_groupbuy:{name}", kwargs={"merchant_slug": slug, **kwargs})


def _share_code(request: HttpRequest) -> str:
    """The viewer's distributor share code when they are an approved distributor."""
    from siyu.distribution.centre import active_distributor

    distributor = active_distributor(session.customer_of(request))
    return distributor.share_code if distributor is not None else ""


def _thumb(activity: GroupBuy) -> str | None:
    return shop_selectors.cover_thumbnails([activity.product_id]).get(activity.product_id)


@require_safe
def activity_list(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    found = list(selectors.running()[:50])
    thumbs = shop_selectors.cover_thumbnails(a.product_id for a in found)
    lowest = {
        row["activity_id"]: row["low"]
        for row in GroupBuySku.objects.filter(activity__in=found)
        .values("activity_id")
        .annotate(low=Min("group_price"))
    }
    rows = [(a, thumbs.get(a.product_id), lowest.get(a.pk, 0)) for a in found]
    return render(request, "groupbuy/shop/list.html", {"tab": "home", "rows": rows})


@require_safe
def activity(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    found = _activity(pk)
    now = clock.now()
    customer = session.customer_of(request)
    return render(
        request,
        "groupbuy/shop/activity.html",
        {
            "tab": "home",
            "activity": found,
            "phase": selectors.phase(found, now),
            "items": selectors.items(found),
            "teams": selectors.team_views(selectors.open_teams(found, now), customer, now),
            "thumb": _thumb(found),
            "d": request.GET.get("d", "")[:16],
        },
    )


@require_safe
def team(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    found = selectors.team(pk)
    if found is None:
        raise Http404
    now = clock.now()
    customer = session.customer_of(request)
    view = selectors.team_views([found], customer, now)[0]
    problem = services.joinable_problem(found, customer, now)
    if problem is None and selectors.phase(found.activity, now) != "running":
        problem = str(GroupBuy.Status(selectors.phase(found.activity, now)).label)
    # a distributor shares with their own code; anyone else passes on the team's distributor
    code = _share_code(request) or selectors.team_share_code(found)
    share = request.build_absolute_uri(_url("team", request, pk=found.pk))
    if code:
        share += "?" + urlencode({"d": code})
    return render(
        request,
        "groupbuy/shop/team.html",
        {
            "tab": "home",
            "view": view,
            "activity": found.activity,
            "items": selectors.items(found.activity),
            "problem": problem,
            "share_url": share,
            "thumb": _thumb(found.activity),
            "groups": _my_groups(customer) if view.mine and view.seats_left else [],
        },
    )


def _my_groups(customer: Any) -> list[Any]:
    """The community groups the customer is an active member of (to post the card in)."""
    from siyu.community.shop_selectors import my_chats

    if customer is None:
        return []
    return [row.group for row in my_chats(customer).groups if row.group is not None]


@require_POST
@customer_required
def share(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    """Post the "join my team" card of my team in one of my groups (a form POST)."""
    from siyu.community import chat
    from siyu.community.models import CommunityGroup

    found = selectors.team(pk)
    customer = session.customer_of(request)
    if found is None or customer is None:
        raise Http404
    if not found.members.filter(customer_id=customer.pk, status="seated").exists():
        raise Http404
    raw = request.POST.get("group_id", "")
    group = next((g for g in _my_groups(customer) if raw.isdigit() and g.pk == int(raw)), None)
    if group is None:
        messages.error(request, _("Choose one of your groups."))
        return redirect(_url("team", request, pk=pk))
    try:
        chat.post_message(
            chat.group_conversation(CommunityGroup.objects.get(pk=group.pk)),
            card={"type": "groupbuy", "id": found.pk},
            sender_customer=customer,
        )
    except DomainError as exc:
        messages.error(request, next(iter(exc.fields.values()), exc.message))
        return redirect(_url("team", request, pk=pk))
    messages.success(request, _("Shared in %(group)s.") % {"group": group.name})
    return redirect("shop_community:group_chat", merchant_slug=merchant_slug, pk=group.pk)


def _fulfilment(raw: object) -> str:
    return "delivery" if raw == "delivery" and shop_selectors.delivers() else "pickup"


@customer_required
def buy(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    from siyu.marketing.attribution import checkout_attribution
    from siyu.storefront.views_cart import start_payment

    found = _activity(pk)
    customer = session.customer_of(request)
    assert customer is not None
    merchant = request.siyu_storefront_merchant  # type: ignore[attr-defined]
    data = request.POST if request.method == "POST" else request.GET
    items = selectors.items(found)
    sku_id = as_int(data.get("sku")) or (items[0].sku_id if items else None)
    quantity = as_int(data.get("quantity")) or 1
    team_id = as_int(data.get("team"))
    fulfilment = _fulfilment(data.get("fulfilment"))
    store_id = as_int(data.get("store_id"))
    addresses = list(customer_selectors.addresses(customer))
    address_id = as_int(data.get("address_id")) or next(
        (a.pk for a in addresses if a.is_default), None
    )
    stores = shop_selectors.listed_pickup_stores(limit=30) if fulfilment == "pickup" else []
    if store_id is None and stores:
        store_id = _default_store(request, found, [c.store for c in stores])
    placing: dict[str, Any] = {
        "sku_id": sku_id,
        "quantity": quantity,
        "team_id": team_id,
        "fulfilment": fulfilment,
        "store_id": store_id if fulfilment == "pickup" else None,
        "address_id": address_id if fulfilment == "delivery" else None,
    }
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        try:
            order = services.buy(
                customer,
                found.pk,
                attribution=checkout_attribution(customer, at=clock.now()),
                **placing,
            )
        except DomainError as exc:
            errors, message, status = dict(exc.fields), exc.message, exc.status
        else:
            return start_payment(request, merchant, order)
    preview = None
    try:
        preview = services.preview(customer, found.pk, **placing)
    except DomainError as exc:
        for name, reason in exc.fields.items():
            errors.setdefault(name, reason)
        if not exc.fields:
            message = message or exc.message
    query = {"sku": sku_id or "", "quantity": quantity, "team": team_id or ""}
    here = f"{_url('buy', request, pk=found.pk)}?"
    return render(
        request,
        "groupbuy/shop/buy.html",
        {
            "tab": "home",
            "activity": found,
            "items": items,
            "sku_id": sku_id,
            "quantity": quantity,
            "team_id": team_id,
            "fulfilment": fulfilment,
            "delivers": shop_selectors.delivers(),
            "stores": stores,
            "store_id": store_id,
            "addresses": addresses,
            "address_id": address_id,
            "preview": preview,
            "priced": preview.priced if preview is not None else None,
            "figures": shop_selectors.priced_figures(preview.priced) if preview else [],
            "errors": errors,
            "problems": [
                reason
                for name, reason in errors.items()
                if name.startswith("items") or name in ("fulfilment", "note", "attribution")
            ],
            "message": message,
            "pickup_url": here + urlencode({**query, "fulfilment": "pickup"}),
            "delivery_url": here + urlencode({**query, "fulfilment": "delivery"}),
        },
        status=status,
    )


def _default_store(request: HttpRequest, activity: GroupBuy, stores: list[Any]) -> int | None:
    """The store the customer chose in the shop when it sells the product, else the first
    listed store that does."""
    from siyu.catalog.models import ProductStore
    from siyu.storefront.views import chosen_store

    merchant = request.siyu_storefront_merchant  # type: ignore[attr-defined]
    chosen = chosen_store(request, merchant)
    if activity.product.sold_in_all_stores:
        selling = {s.pk for s in stores}
    else:
        selling = set(
            ProductStore.objects.filter(
                product_id=activity.product_id, store__in=stores
            ).values_list("store_id", flat=True)
        )
    if chosen is not None and chosen.pk in selling:
        return int(chosen.pk)
    return next((s.pk for s in stores if s.pk in selling), stores[0].pk if stores else None)


@require_safe
@customer_required
def mine(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = session.customer_of(request)
    assert customer is not None
    rows = list(selectors.my_members(customer)[:100])
    return render(request, "groupbuy/shop/mine.html", {"tab": "account", "rows": rows})
