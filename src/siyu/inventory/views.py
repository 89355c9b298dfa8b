"""Console pages of inventory: parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.catalog.models import Sku
from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.inventory import selectors, services
from siyu.inventory.forms import (
    ADJUST_REASONS,
    AdjustForm,
    LocationForm,
    MovementFilterForm,
    ReceiveForm,
    StockFilterForm,
)
from siyu.inventory.models import Location, StockLevel
from siyu.stores.models import Store
from siyu.web.console import console_view, paginate, query_without_page, show_errors


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "console/forbidden.html", status=403)


def _stock_url(location: Location, **params: str) -> str:
    query = urlencode({"location": location.pk, **params})
    return f"{reverse('inventory:stock_list')}?{query}"


# --- stock ----------------------------------------------------------------------------------


@console_view(Perm.INVENTORY_VIEW)
def stock_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    locations = list(selectors.visible_locations(actor))
    chosen = request.GET.get("location")
    location = (
        selectors.visible_location(actor, chosen) if chosen else selectors.default_location(actor)
    )
    if chosen and location is None:
        raise Http404
    form = StockFilterForm(
        request.GET or None,
        locations=locations,
        initial={"location": location.pk if location else ""},
    )
    filters = form.cleaned_data if form.is_valid() else {}
    page = None
    if location is not None:
        rows = selectors.stock_table(
            location, q=filters.get("q") or "", low=bool(filters.get("low"))
        )
        page = paginate(request, rows, 50)
    return render(
        request,
        "inventory/stock_list.html",
        {
            "form": form,
            "location": location,
            "page": page,
            "query": query_without_page(request),
            "filtered": bool(filters.get("q") or filters.get("low")),
            "can_change": location is not None
            and actor.can(Perm.INVENTORY_MANAGE)
            and services.can_work_at(actor, location),
            "can_manage_locations": services.can_manage_locations(actor),
        },
    )


# The service names its fields after its arguments; the form has one "quantity".
_FIELD_OF = {"counted": "quantity", "delta": "quantity", "reference": "token"}


def _show(form: Any, error: DomainError) -> None:
    error.fields = {_FIELD_OF.get(name, name): reason for name, reason in error.fields.items()}
    show_errors(form, error)


def _change_initial(actor: Actor, request: HttpRequest) -> tuple[dict[str, Any], StockLevel | None]:
    """Prefill from ``?location=&sku=`` (a SKU id), and that level's counts if it exists."""
    initial: dict[str, Any] = {}
    location = selectors.visible_location(actor, request.GET.get("location"))
    location = location or selectors.default_location(actor)
    if location is not None:
        initial["location"] = location.pk
    sku = None
    sku_id = request.GET.get("sku", "")
    if sku_id.isdigit():
        sku = Sku.objects.filter(pk=int(sku_id)).first()
    if sku is not None:
        initial["sku"] = sku.code
    level = (
        StockLevel.objects.select_related("sku__product").filter(location=location, sku=sku).first()
        if location is not None and sku is not None
        else None
    )
    return initial, level


def _stock_change(request: HttpRequest, *, adjusting: bool) -> HttpResponse:
    actor = _actor(request)
    locations = list(selectors.visible_locations(actor, include_inactive=False))
    initial, level = _change_initial(actor, request)
    form_class = AdjustForm if adjusting else ReceiveForm
    if adjusting:
        initial.setdefault("mode", "counted")
    form = form_class(request.POST or None, locations=locations, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        location = selectors.visible_location(actor, data["location"])
        sku = selectors.find_sku(data["sku"])
        if location is None:
            form.add_error("location", _("Choose one of your locations."))
        if sku is None:
            form.add_error("sku", _("No SKU has this code or barcode."))
        if location is not None and sku is not None:
            reference = f"form:{data['token']}" if data.get("token") else ""
            try:
                if adjusting:
                    amount = {"counted" if data["mode"] == "counted" else "delta": data["quantity"]}
                    movement = services.adjust(
                        actor,
                        location=location,
                        sku=sku,
                        reason=data["reason"],
                        reference=reference,
                        **amount,
                    )
                else:
                    movement = services.receive(
                        actor,
                        location=location,
                        sku=sku,
                        quantity=data["quantity"],
                        note=data["note"],
                        reference=reference,
                    )
            except DomainError as exc:
                _show(form, exc)
            else:
                values = {
                    "sku": sku.code,
                    "name": sku.product.name,
                    "location": location.name,
                    "on_hand": movement.on_hand_after,
                }
                messages.success(
                    request,
                    (
                        _(
                            "%(sku)s %(name)s at %(location)s: %(on_hand)d on hand after the adjustment."
                        )
                        if adjusting
                        else _(
                            "%(sku)s %(name)s at %(location)s: %(on_hand)d on hand after the receipt."
                        )
                    )
                    % values,
                )
                return redirect(_stock_url(location, q=sku.code))
    return render(
        request,
        "inventory/stock_change.html",
        {
            "form": form,
            "adjusting": adjusting,
            "level": level,
            "reasons": ADJUST_REASONS,
            "has_locations": bool(locations),
        },
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.INVENTORY_MANAGE)
def receive(request: HttpRequest) -> HttpResponse:
    return _stock_change(request, adjusting=False)


@console_view(Perm.INVENTORY_MANAGE)
def adjust(request: HttpRequest) -> HttpResponse:
    return _stock_change(request, adjusting=True)


# --- movements -----------------------------------------------------------------------------


@console_view(Perm.INVENTORY_VIEW)
def movement_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    locations = list(selectors.visible_locations(actor))
    form = MovementFilterForm(request.GET or None, locations=locations, blank=_("All locations"))
    filters = form.cleaned_data if form.is_valid() else {}
    sku = selectors.find_sku(filters.get("sku") or "")
    unknown_sku = bool(filters.get("sku")) and sku is None
    since, until = selectors.day_range(
        filters.get("date_from"), filters.get("date_to"), actor.merchant.time_zone
    )
    location_id = filters.get("location")
    rows = selectors.movements(
        actor,
        location_id=int(location_id) if location_id else None,
        sku_id=-1 if unknown_sku else (sku.pk if sku else None),
        kind=filters.get("kind") or "",
        reference=filters.get("reference") or "",
        since=since,
        until=until,
    )
    return render(
        request,
        "inventory/movement_list.html",
        {
            "form": form,
            "page": paginate(request, rows, 50),
            "query": query_without_page(request),
            "sku": sku,
            "unknown_sku": unknown_sku,
            "filtered": any(filters.values()),
        },
        status=422 if request.GET and not form.is_valid() else 200,
    )


# --- locations -----------------------------------------------------------------------------


@console_view(Perm.INVENTORY_VIEW)
def location_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    locations = selectors.visible_locations(actor).annotate(
        units=Sum("levels__on_hand"),
        stocked=Count("levels", filter=Q(levels__on_hand__gt=0)),
    )
    can_manage = services.can_manage_locations(actor)
    stores_without = (
        Store.objects.filter(stock_location__isnull=True)
        .exclude(status=Store.Status.CLOSED)
        .count()
        if can_manage
        else 0
    )
    return render(
        request,
        "inventory/location_list.html",
        {"locations": locations, "can_manage": can_manage, "stores_without": stores_without},
    )


def _location_or_404(actor: Actor, pk: int) -> Location:
    location = selectors.visible_location(actor, pk)
    if location is None:
        raise Http404
    return location


@console_view(Perm.INVENTORY_MANAGE)
def location_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not services.can_manage_locations(actor):
        return _forbidden(request)
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = services.create_warehouse(actor, **form.cleaned_data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Warehouse %(name)s added.") % {"name": location.name})
            return redirect("inventory:location_list")
    return render(
        request,
        "inventory/location_form.html",
        {"form": form, "location": None},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.INVENTORY_MANAGE)
def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    location = _location_or_404(actor, pk)
    if not services.can_manage_locations(actor):
        return _forbidden(request)
    is_store = location.kind == Location.Kind.STORE
    form = LocationForm(
        request.POST or None,
        store_location=is_store,
        initial={
            "code": location.code,
            "name": location.name,
            "low_stock_threshold": location.low_stock_threshold,
            "ships_delivery": location.ships_delivery,
            "active": location.active,
        },
    )
    if location.ships_delivery:
        form.fields["ships_delivery"].disabled = True  # moved by choosing another location
    if request.method == "POST" and form.is_valid():
        try:
            services.update_location(actor, location, form.cleaned_data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("inventory:location_list")
    return render(
        request,
        "inventory/location_form.html",
        {"form": form, "location": location},
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@console_view(Perm.INVENTORY_MANAGE)
def location_ship(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    location = _location_or_404(actor, pk)
    if not services.can_manage_locations(actor):
        return _forbidden(request)
    try:
        services.set_delivery_location(actor, location)
    except DomainError as exc:
        messages.error(request, "; ".join(exc.fields.values()) or exc.message)
    else:
        messages.success(
            request,
            _("Delivery orders now ship from %(name)s.") % {"name": location.name},
        )
    return redirect("inventory:location_list")


@require_POST
@console_view(Perm.INVENTORY_MANAGE)
def location_stores(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not services.can_manage_locations(actor):
        return _forbidden(request)
    made = services.create_store_locations(actor)
    messages.success(request, _("Stock locations created for %(n)d stores.") % {"n": made})
    return redirect("inventory:location_list")
