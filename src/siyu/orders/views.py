"""Console pages of orders, mounted at /console/orders/: parse, call a selector or service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.orders import checkout as checkout_context
from siyu.orders import selectors, services
from siyu.orders.exports import csv_response
from siyu.orders.forms import (
    CARRIERS,
    CancelForm,
    OrderFilterForm,
    PickupCodeForm,
    PickupCounterForm,
    ShipForm,
    ShippingRuleForm,
)
from siyu.orders.models import Order
from siyu.stores.models import Store
from siyu.web.console import console_view, paginate, query_without_page, show_errors


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _store_choices(actor: Actor) -> list[tuple[int, str]]:
    return [
        (pk, f"{code} · {name}")
        for pk, code, name in selectors.visible_stores(actor).values_list("pk", "code", "name")
    ]


def _filter_form(request: HttpRequest) -> OrderFilterForm:
    actor = _actor(request)
    return OrderFilterForm(
        request.GET or None,
        stores=_store_choices(actor),
        channels=selectors.channels(actor),
    )


@console_view(Perm.ORDERS_VIEW)
def order_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = _filter_form(request)
    filters = form.filters()
    page = paginate(request, selectors.orders(actor, filters), 25)
    query = query_without_page(request)
    return render(
        request,
        "orders/order_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "filtered": filters.active,
            "can_verify": actor.can(Perm.ORDERS_FULFIL),
            "can_set_shipping": actor.can(Perm.MERCHANT_MANAGE),
        },
    )


@console_view(Perm.ORDERS_VIEW)
def order_export(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = _filter_form(request)
    # a streamed answer; console_view is typed for plain HttpResponse views
    return csv_response(actor, form.filters())  # type: ignore[return-value]


def _order_or_404(actor: Actor, pk: int) -> Order:
    order = selectors.order_for(actor, pk)
    if order is None:
        raise Http404
    return order


def _detail(
    request: HttpRequest,
    order: Order,
    *,
    ship_form: ShipForm | None = None,
    cancel_form: CancelForm | None = None,
    code_form: PickupCodeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = _actor(request)
    actions = selectors.staff_actions(actor, order)
    events = [{"event": e, "label": selectors.event_label(e.kind)} for e in order.events.all()]
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "figures": selectors.explain(order),
            "events": events,
            "actions": actions,
            "ship_form": ship_form or ShipForm(),
            "cancel_form": cancel_form or CancelForm(),
            "code_form": code_form or PickupCodeForm(),
            "carriers": [str(c) for c in CARRIERS],
            "attribution": {
                name: getattr(order, name)
                for name in checkout_context.ATTRIBUTION_IDS
                if getattr(order, name) is not None
            },
        },
        status=status,
    )


@console_view(Perm.ORDERS_VIEW)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _order_or_404(_actor(request), pk))


def _act(
    request: HttpRequest, pk: int, change: Callable[[Actor, Order], Order], done: str
) -> HttpResponse:
    actor = _actor(request)
    order = _order_or_404(actor, pk)
    try:
        change(actor, order)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("orders:order_detail", pk=pk)


@require_POST
@console_view(Perm.ORDERS_FULFIL)
def order_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.start_preparing, _("Preparing started."))


@require_POST
@console_view(Perm.ORDERS_FULFIL)
def order_ready(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        services.mark_ready_for_pickup,
        _("Ready for pickup: the customer can come with the code."),
    )


@require_POST
@console_view(Perm.ORDERS_FULFIL)
def order_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.complete, _("The order is completed."))


@require_POST
@console_view(Perm.ORDERS_FULFIL)
def order_ship(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    order = _order_or_404(actor, pk)
    form = ShipForm(request.POST)
    if form.is_valid():
        try:
            services.mark_shipped(
                actor, order, form.cleaned_data["carrier"], form.cleaned_data["tracking_number"]
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Marked shipped."))
            return redirect("orders:order_detail", pk=pk)
    return _detail(request, _order_or_404(actor, pk), ship_form=form, status=422)


@require_POST
@console_view(Perm.ORDERS_FULFIL)
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    order = _order_or_404(actor, pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.cancel(order, actor=actor, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("The order is cancelled and its stock released."))
            return redirect("orders:order_detail", pk=pk)
    return _detail(request, _order_or_404(actor, pk), cancel_form=form, status=422)


@require_POST
@console_view(Perm.ORDERS_FULFIL)
def order_collect(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer is at the counter: check the code they show against this order."""
    actor = _actor(request)
    order = _order_or_404(actor, pk)
    form = PickupCodeForm(request.POST)
    if form.is_valid():
        try:
            services.verify_pickup(actor, order, form.cleaned_data["code"])
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Collected: the order is completed."))
            return redirect("orders:order_detail", pk=pk)
    return _detail(request, _order_or_404(actor, pk), code_form=form, status=422)


def _pickup_stores(actor: Actor) -> list[tuple[int, str]]:
    stores = (
        selectors.visible_stores(actor)
        .filter(pickup_enabled=True)
        .exclude(status=Store.Status.CLOSED)
    )
    return [(pk, f"{code} · {name}") for pk, code, name in stores.values_list("pk", "code", "name")]


@console_view(Perm.ORDERS_FULFIL)
def pickup_verify(request: HttpRequest) -> HttpResponse:
    """The pickup counter: choose the store, type the customer's code, see the order, confirm."""
    actor = _actor(request)
    stores = _pickup_stores(actor)
    initial: dict[str, Any] = {"store": stores[0][0]} if len(stores) == 1 else {}
    form = PickupCounterForm(request.POST or None, stores=stores, initial=initial)
    found: Order | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            store = selectors.visible_stores(actor).filter(pk=form.cleaned_data["store"]).first()
            if store is None:
                raise Http404
            try:
                if request.POST.get("confirm"):
                    order = services.verify_pickup(actor, store, form.cleaned_data["code"])
                    messages.success(
                        request,
                        _("Order %(number)s is collected.") % {"number": order.number},
                    )
                    return redirect(f"{request.path}?store={store.pk}")
                found = services.find_pickup(actor, store, form.cleaned_data["code"])
                found = selectors.order_for(actor, found.pk)
            except DomainError as exc:
                show_errors(form, exc)
                status = 422
        else:
            status = 422
    elif request.GET.get("store"):
        form = PickupCounterForm(stores=stores, initial={"store": request.GET.get("store")})
    return render(
        request,
        "orders/pickup_verify.html",
        {"form": form, "found": found, "has_stores": bool(stores)},
        status=status,
    )


@console_view(Perm.MERCHANT_MANAGE)
def shipping_settings(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    rule = checkout_context.shipping_rule(actor.merchant)
    initial = {
        "flat_fee": selectors.yuan(rule.flat_fee) if rule.flat_fee else "",
        "free_over": selectors.yuan(rule.free_over) if rule.free_over is not None else "",
    }
    form = ShippingRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_shipping_rule(
                actor,
                flat_fee=form.cleaned_data["flat_fee"] or 0,
                free_over=form.cleaned_data["free_over"],
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("orders:shipping_settings")
    return render(
        request,
        "orders/shipping_settings.html",
        {"form": form, "rule": rule},
        status=422 if request.method == "POST" else 200,
    )
